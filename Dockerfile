# syntax=docker/dockerfile:1.7
#
# One image with every fenqi binary; a container picks its command:
#   worker        the Temporal worker (plan workflows, activities, outbox dispatcher)
#   api           the HTTP API
#   codec-server  the payload codec server for the Temporal Web UI
#   migrate       applies the database migrations and exits
#   starter       the command-line client (and `starter demo`)
#
#   docker build -t fenqi:dev .
#   docker run --rm fenqi:dev migrate -status
#
# docker-compose.yml builds it and runs each service from it; see
# docs/deployment.md. deploy/compose_test.go checks that this file builds
# every binary the compose file runs.

ARG GO_VERSION=1.26.8

FROM golang:${GO_VERSION} AS build
WORKDIR /src
# Static binaries: no libc in the final image. timetzdata embeds the time
# zone database, so due dates in the customer's zone are computed the same
# way on every replica, whatever the base image carries.
ENV CGO_ENABLED=0 GOFLAGS=-trimpath
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod \
    go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    go build -tags timetzdata -ldflags="-s -w" -o /out/ \
      ./worker ./cmd/api ./cmd/codec-server ./cmd/migrate ./starter

# distroless static: CA certificates, /etc/passwd with the nonroot user
# (65532), no shell, no package manager.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/ /usr/local/bin/
# The example customers, for `starter apply --customer examples/customers/...`
# and `starter demo` run from the working directory.
COPY examples/ /fenqi/examples/
WORKDIR /fenqi
ENV PATH=/usr/local/bin:/usr/bin:/bin
USER nonroot:nonroot
# api (FENQI_API_ADDR) and codec-server (FENQI_CODEC_ADDR) in docker-compose.yml
EXPOSE 8080 8081
CMD ["worker"]
