// Package deploy holds no code: its tests check the container deployment
// (docker-compose.yml and the Dockerfile at the repository root) the way a
// user would meet it with `docker compose up`, since no Docker engine runs
// where the tests do. They parse both files and check the services, the
// images and their tags, the published ports, each service's environment
// against what the fenqi binaries read (key ring and token formats with
// the real parsers), that the secrets have no defaults in the compose file
// and that deploy/dev.env (the published development values the checks
// interpolate with) gives them values those parsers accept, the start order set by depends_on, Temporal's schema
// and search attributes (against package searchattrs), and that the
// Dockerfile builds every binary the compose file runs. See
// docs/deployment.md.
package deploy
