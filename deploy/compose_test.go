package deploy

import (
	"bytes"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	enumspb "go.temporal.io/api/enums/v1"
	"gopkg.in/yaml.v3"

	"github.com/fenqi/fenqi/api"
	"github.com/fenqi/fenqi/codec"
	"github.com/fenqi/fenqi/searchattrs"
)

// repoRoot is where docker-compose.yml and the Dockerfile live.
const repoRoot = ".."

// The services the stack needs, what each runs and what it must be given.
// A fenqi service (bin != "") runs the fenqi image with that binary.
var wantServices = []struct {
	name    string
	image   string // repository of a third-party image
	bin     string // fenqi binary
	oneShot bool   // runs to completion; others are depended on while they run
	ports   []int  // container ports published on the host
	env     []string
}{
	{name: "postgres", image: "postgres", ports: []int{5432}, env: []string{"POSTGRES_PASSWORD", "POSTGRES_DB"}},
	{name: "temporal-schema", image: "temporalio/admin-tools", oneShot: true,
		env: []string{"SQL_PLUGIN", "SQL_HOST", "SQL_USER", "SQL_PASSWORD"}},
	{name: "temporal", image: "temporalio/server", ports: []int{7233},
		env: []string{"DB", "POSTGRES_SEEDS", "POSTGRES_USER", "POSTGRES_PWD", "BIND_ON_IP"}},
	{name: "temporal-setup", image: "temporalio/admin-tools", oneShot: true, env: []string{"TEMPORAL_ADDRESS"}},
	{name: "temporal-ui", image: "temporalio/ui", ports: []int{8080},
		env: []string{"TEMPORAL_ADDRESS", "TEMPORAL_CODEC_ENDPOINT", "TEMPORAL_CORS_ORIGINS"}},
	{name: "codec-server", bin: "codec-server", ports: []int{8081},
		env: []string{"FENQI_CODEC_ADDR", "FENQI_CODEC_KEYS", "FENQI_CODEC_CORS_ORIGINS"}},
	{name: "migrate", bin: "migrate", oneShot: true, env: []string{"DATABASE_URL"}},
	{name: "worker", bin: "worker", ports: []int{9464},
		env: []string{"DATABASE_URL", "TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE", "FENQI_TASK_QUEUE", "FENQI_CODEC_KEYS",
			"FENQI_METRICS_ADDR"}},
	{name: "api", bin: "api", ports: []int{8080, 9465},
		env: []string{"DATABASE_URL", "TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE", "FENQI_TASK_QUEUE", "FENQI_CODEC_KEYS",
			"FENQI_API_ADDR", "FENQI_OPERATOR_TOKENS", "FENQI_CUSTOMER_TOKENS", "FENQI_METRICS_ADDR"}},
}

// The start order: service must wait for after, with that condition ("" is
// any condition).
var wantDependsOn = []struct{ service, after, condition string }{
	{"temporal-schema", "postgres", "service_healthy"},
	{"temporal", "temporal-schema", "service_completed_successfully"},
	{"temporal-setup", "temporal", "service_healthy"},
	{"temporal-ui", "temporal-setup", "service_completed_successfully"},
	{"temporal-ui", "codec-server", ""},
	{"worker", "temporal-setup", "service_completed_successfully"},
	{"api", "temporal-setup", "service_completed_successfully"},
	{"migrate", "postgres", "service_healthy"},
	{"worker", "migrate", "service_completed_successfully"},
	{"api", "migrate", "service_completed_successfully"},
}

// The chains that must hold transitively (each starts after the one before).
var wantOrder = [][]string{
	{"postgres", "temporal-schema", "temporal", "temporal-setup", "temporal-ui"},
	{"temporal-setup", "worker"},
	{"temporal-setup", "api"},
	{"postgres", "migrate", "worker"},
	{"migrate", "api"},
	{"codec-server", "temporal-ui"},
}

func TestComposeStack(t *testing.T) {
	st, err := loadStack(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range st.check() {
		t.Error(p)
	}
}

// TestChecksCatchBreakage breaks the real files in the ways a careless edit
// would, one at a time, and expects the checks to name the break: a check
// that cannot fail proves nothing.
func TestChecksCatchBreakage(t *testing.T) {
	tests := []struct {
		name   string
		breaks func(*stack)
		want   string
	}{
		{"a service is missing", func(s *stack) { delete(s.compose.Services, "temporal-setup") },
			"missing service temporal-setup"},
		{"an image is :latest", func(s *stack) { s.compose.Services["temporal-ui"].Image = "temporalio/ui:latest" },
			"not pinned"},
		{"an image has no tag", func(s *stack) { s.compose.Services["postgres"].Image = "postgres" },
			"not pinned"},
		{"admin-tools and server versions differ", func(s *stack) {
			s.compose.Services["temporal"].Image = "temporalio/server:1.30.0"
		}, "schema"},
		{"a port is not published", func(s *stack) { s.compose.Services["temporal"].Ports = nil },
			"publish container port 7233"},
		{"two services publish one host port", func(s *stack) {
			s.compose.Services["temporal-ui"].Ports = []portMapping{{Host: "8080", Container: 8080}}
		}, "host port 8080"},
		{"the worker lacks the key ring", func(s *stack) { delete(s.compose.Services["worker"].Environment, "FENQI_CODEC_KEYS") },
			"worker: no FENQI_CODEC_KEYS"},
		{"the key rings differ", func(s *stack) {
			s.compose.Services["api"].Environment["FENQI_CODEC_KEYS"] = "other:" + strings.Repeat("A", 43) + "="
		}, "FENQI_CODEC_KEYS differs"},
		{"a malformed key ring", func(s *stack) {
			for _, name := range []string{"worker", "api", "codec-server"} {
				s.compose.Services[name].Environment["FENQI_CODEC_KEYS"] = "dev1:short"
			}
		}, "key ring"},
		{"a malformed operator token", func(s *stack) { s.compose.Services["api"].Environment["FENQI_OPERATOR_TOKENS"] = "alice:short" },
			"tokens"},
		{"a secret has a default again", func(s *stack) {
			s.rawCompose = regexp.MustCompile(`\$\{FENQI_OPERATOR_TOKENS:\?[^}]*\}`).
				ReplaceAll(s.rawCompose, []byte("$${FENQI_OPERATOR_TOKENS:-alice:dev-operator-token-alice}"))
		}, "secret FENQI_OPERATOR_TOKENS has a default"},
		{"one use of a password has a default", func(s *stack) {
			s.rawCompose = regexp.MustCompile(`PASSWORD '\$\{FENQI_DB_PASSWORD:\?[^}]*\}'`).
				ReplaceAll(s.rawCompose, []byte("PASSWORD '$${FENQI_DB_PASSWORD-fenqi-dev-password}'"))
		}, "secret FENQI_DB_PASSWORD has a default"},
		{"the codec token defaults to empty", func(s *stack) {
			s.rawCompose = regexp.MustCompile(`\$\{FENQI_CODEC_TOKEN\?[^}]*\}`).ReplaceAll(s.rawCompose, []byte("$${FENQI_CODEC_TOKEN:-}"))
		}, "secret FENQI_CODEC_TOKEN has a default"},
		{"another secret gets a default", func(s *stack) {
			s.rawCompose = bytes.Replace(s.rawCompose, []byte("${FENQI_WEBHOOK_TOKEN:-}"), []byte("${FENQI_WEBHOOK_TOKEN:-dev-webhook-token}"), 1)
		}, "FENQI_WEBHOOK_TOKEN looks like a secret"},
		{"the example env file lacks a secret", func(s *stack) { delete(s.devEnv, "TEMPORAL_DB_PASSWORD") },
			"deploy/dev.env: no TEMPORAL_DB_PASSWORD"},
		{"the example key ring is malformed", func(s *stack) { s.devEnv["FENQI_CODEC_KEYS"] = "dev1:short" },
			"deploy/dev.env: FENQI_CODEC_KEYS"},
		{"the example tokens are refused", func(s *stack) { s.devEnv["FENQI_CUSTOMER_TOKENS"] = "demo-strong-001:dev-short" },
			"deploy/dev.env: tokens"},
		{"the example file holds a real-looking secret", func(s *stack) { s.devEnv["FENQI_DB_PASSWORD"] = "Xq7LmP2vRt9sKw4n" },
			"does not look like a published development value"},
		{"the API listens on loopback", func(s *stack) { s.compose.Services["api"].Environment["FENQI_API_ADDR"] = "127.0.0.1:8080" },
			"0.0.0.0"},
		{"a database password drifts", func(s *stack) {
			s.compose.Services["worker"].Environment["DATABASE_URL"] = "postgres://fenqi:other@postgres:5432/fenqi?sslmode=disable"
		}, "DATABASE_URL differs"},
		{"temporal's password drifts", func(s *stack) { s.compose.Services["temporal"].Environment["POSTGRES_PWD"] = "other" },
			"password"},
		{"the UI's codec endpoint is not the codec server", func(s *stack) {
			s.compose.Services["temporal-ui"].Environment["TEMPORAL_CODEC_ENDPOINT"] = "http://localhost:9999"
		}, "TEMPORAL_CODEC_ENDPOINT"},
		{"the worker starts before migrations", func(s *stack) { delete(s.compose.Services["worker"].DependsOn, "migrate") },
			"worker must start after migrate"},
		{"a one-shot is awaited as started", func(s *stack) {
			s.compose.Services["api"].DependsOn["migrate"] = "service_started"
		}, "service_completed_successfully"},
		{"a dependency on a service without a healthcheck", func(s *stack) { s.compose.Services["temporal"].Healthcheck = nil },
			"has no healthcheck"},
		{"a cycle", func(s *stack) { s.compose.Services["postgres"].DependsOn = map[string]string{"api": "service_started"} },
			"cycle"},
		{"a one-shot restarts forever", func(s *stack) { s.compose.Services["migrate"].Restart = "unless-stopped" },
			"one-shot"},
		{"a search attribute is not registered", func(s *stack) {
			svc := s.compose.Services["temporal-setup"]
			svc.Command = []string{strings.Replace(strings.Join(svc.Command, " "), "--name DaysPastDue --type Int", "", 1)}
		}, "DaysPastDue"},
		{"a search attribute has the wrong type", func(s *stack) {
			svc := s.compose.Services["temporal-setup"]
			svc.Command = []string{strings.Replace(strings.Join(svc.Command, " "), "--name NextDueDate --type Datetime", "--name NextDueDate --type Keyword", 1)}
		}, "NextDueDate"},
		{"the visibility schema is not updated", func(s *stack) {
			svc := s.compose.Services["temporal-schema"]
			svc.Command = []string{regexp.MustCompile(`(?m)^.*temporal_visibility update-schema.*$`).ReplaceAllString(strings.Join(svc.Command, "\n"), "")}
		}, "temporal_visibility"},
		{"a variable the binary never reads", func(s *stack) { s.compose.Services["worker"].Environment["FENQI_WEBHOOK_ULR"] = "" },
			"FENQI_WEBHOOK_ULR"},
		{"a fenqi service runs a binary the image lacks", func(s *stack) { s.compose.Services["codec-server"].Command = []string{"codec"} },
			"not built by the Dockerfile"},
		{"a fenqi service uses another image", func(s *stack) { s.compose.Services["api"].Image = "fenqi-api:dev" },
			"same image"},
		{"the Dockerfile does not build a binary", func(s *stack) {
			s.docker.packages = slices.DeleteFunc(s.docker.packages, func(p string) bool { return p == "./cmd/migrate" })
		}, "migrate"},
		{"the Dockerfile builds a package that does not exist", func(s *stack) {
			s.docker.packages = append(s.docker.packages, "./cmd/nosuch")
		}, "cmd/nosuch"},
		{"the final image runs as root", func(s *stack) { s.docker.stages[len(s.docker.stages)-1].user = "root" },
			"root"},
		{"cgo is on", func(s *stack) { s.docker.cgoOff = false }, "CGO_ENABLED=0"},
		{"the Go image is older than go.mod", func(s *stack) { s.docker.stages[0].from = "golang:1.21.0" },
			"go.mod"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, err := loadStack(repoRoot)
			if err != nil {
				t.Fatal(err)
			}
			tt.breaks(st)
			problems := st.check()
			for _, p := range problems {
				if strings.Contains(p, tt.want) {
					return
				}
			}
			t.Errorf("no problem mentions %q; got %d:\n%s", tt.want, len(problems), strings.Join(problems, "\n"))
		})
	}
}

// TestOneShotScripts runs the shell scripts of the Temporal one-shots
// (after Compose's interpolation) with /bin/sh and stand-ins for
// temporal-sql-tool and the temporal CLI that record their arguments: the
// scripts must parse, retry a server that is not up yet, create the
// namespace only when it is missing, and call the tools as intended.
func TestOneShotScripts(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Fatalf("the one-shot scripts need a POSIX sh to be checked: %v", err)
	}
	st, err := loadStack(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		service string
		want    []string // the tool calls, in order
	}{
		{"temporal-schema", []string{
			"temporal-sql-tool --db temporal create",
			"temporal-sql-tool --db temporal setup-schema -v 0.0",
			"temporal-sql-tool --db temporal update-schema -d /etc/temporal/schema/postgresql/v12/temporal/versioned",
			"temporal-sql-tool --db temporal_visibility create",
			"temporal-sql-tool --db temporal_visibility setup-schema -v 0.0",
			"temporal-sql-tool --db temporal_visibility update-schema -d /etc/temporal/schema/postgresql/v12/visibility/versioned",
		}},
		{"temporal-setup", []string{
			"temporal operator cluster health --address temporal:7233", // not up yet: retried
			"temporal operator cluster health --address temporal:7233",
			"temporal operator namespace describe --address temporal:7233 --namespace default",
			"temporal operator namespace create --address temporal:7233 --namespace default --retention 720h",
			"temporal operator search-attribute create --address temporal:7233 --namespace default" +
				" --name PlanState --type Keyword --name CustomerId --type Keyword --name Bucket --type Keyword" +
				" --name NextDueDate --type Datetime --name DaysPastDue --type Int",
			"temporal operator search-attribute list --address temporal:7233 --namespace default",
		}},
	}
	// The stand-in fails a cluster health check once, and describes no
	// namespace (so the script creates it).
	const fake = `#!/bin/sh
echo "$(basename "$0") $*" >> "$FAKE_LOG"
case "$*" in
*"cluster health"*) [ -e "$FAKE_LOG.up" ] && exit 0; touch "$FAKE_LOG.up"; exit 1 ;;
*"namespace describe"*) exit 1 ;;
esac
exit 0
`
	for _, tt := range tests {
		t.Run(tt.service, func(t *testing.T) {
			svc := st.svc(tt.service)
			if len(svc.Entrypoint) == 0 || !strings.HasSuffix(svc.Entrypoint[0], "sh") || len(svc.Command) != 1 {
				t.Fatalf("entrypoint %q command %d items: want a shell running one script", svc.Entrypoint, len(svc.Command))
			}
			dir := t.TempDir()
			for _, tool := range []string{"temporal", "temporal-sql-tool"} {
				if err := os.WriteFile(filepath.Join(dir, tool), []byte(fake), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			log := filepath.Join(dir, "calls.log")
			args := append(slices.Clone([]string(svc.Entrypoint[1:])), svc.Command[0])
			cmd := exec.Command(sh, args...)
			cmd.Env = []string{"PATH=" + dir + ":/usr/bin:/bin", "FAKE_LOG=" + log}
			for k, v := range svc.Environment {
				cmd.Env = append(cmd.Env, k+"="+v)
			}
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("script failed: %v\n%s", err, out)
			}
			b, err := os.ReadFile(log)
			if err != nil {
				t.Fatal(err)
			}
			got := strings.Split(strings.TrimSpace(string(b)), "\n")
			if !slices.Equal(got, tt.want) {
				t.Errorf("calls:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// TestInterpolate pins the subset of Compose's variable syntax the
// checks resolve, with the variables of an env file (the environment of
// whoever runs the tests does not count).
func TestInterpolate(t *testing.T) {
	env := map[string]string{"SET": "v", "EMPTY": ""}
	tests := []struct{ in, want, err string }{
		{in: "plain", want: "plain"},
		{in: "${A:-x}", want: "x"},
		{in: "${A-x}", want: "x"},
		{in: "${A:-}", want: ""},
		{in: "${A}", want: ""},
		{in: "$A b", want: " b"},
		{in: "a $$b $${c}", want: "a $b ${c}"},
		{in: `n=$$((n + 1))`, want: "n=$((n + 1))"},
		{in: "${SET:-x} ${SET} $SET", want: "v v v"},
		{in: "${EMPTY:-x}", want: "x"},
		{in: "${EMPTY-x}", want: ""},
		{in: "${SET:?set SET (see docs)}", want: "v"},
		{in: "${EMPTY?set EMPTY}", want: ""},
		{in: "${A:?set A (see docs)}", err: "A is required and not set: set A (see docs)"},
		{in: "${A?set A}", err: "A is required"},
		{in: "${EMPTY:?set EMPTY}", err: "EMPTY is required"},
		{in: "${A:+x}", err: "unsupported"},
		{in: "${A B}", err: "unsupported"},
		{in: "${A:-${B:-x}}", err: "unsupported"},
		{in: "$((1))", err: "unsupported"},
	}
	for _, tt := range tests {
		got, err := interpolate(tt.in, env)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("interpolate(%q) = %q, %v; want an error with %q", tt.in, got, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("interpolate(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

// TestParseEnvFile pins the env file syntax the checks read: the part on
// which Compose's reading cannot differ.
func TestParseEnvFile(t *testing.T) {
	got, err := parseEnvFile([]byte("# comment\n\nA=x:y=z\nB=\n  C = c \n"))
	if err != nil || len(got) != 3 || got["A"] != "x:y=z" || got["B"] != "" || got["C"] != "c" {
		t.Errorf("parseEnvFile = %q, %v", got, err)
	}
	for _, bad := range []string{"A", "A='x'", `A="x"`, "A=x # note", "A=1\nA=2", "1A=x", "export A=x"} {
		if got, err := parseEnvFile([]byte(bad)); err == nil {
			t.Errorf("parseEnvFile(%q) = %q, want an error", bad, got)
		}
	}
}

// ---- the compose file ----

type composeFile struct {
	Name       string                   `yaml:"name"`
	Services   map[string]*service      `yaml:"services"`
	Configs    map[string]composeConfig `yaml:"configs"`
	Volumes    map[string]any           `yaml:"volumes"`
	Extensions map[string]any           `yaml:",inline"`
}

type composeConfig struct {
	Content     string `yaml:"content"`
	File        string `yaml:"file"`
	Environment string `yaml:"environment"`
}

type service struct {
	Image       string        `yaml:"image"`
	Build       *buildSpec    `yaml:"build"`
	Entrypoint  stringList    `yaml:"entrypoint"`
	Command     stringList    `yaml:"command"`
	Environment envMap        `yaml:"environment"`
	Ports       []portMapping `yaml:"ports"`
	DependsOn   dependsOn     `yaml:"depends_on"`
	Healthcheck *healthcheck  `yaml:"healthcheck"`
	Restart     string        `yaml:"restart"`
	Configs     []configMount `yaml:"configs"`
	Volumes     []string      `yaml:"volumes"`
	PullPolicy  string        `yaml:"pull_policy"`
	StopGrace   string        `yaml:"stop_grace_period"`
}

type buildSpec struct {
	Context    string `yaml:"context"`
	Dockerfile string `yaml:"dockerfile"`
}

// UnmarshalYAML takes `build: DIR` or `build: {context, dockerfile}`.
func (b *buildSpec) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		b.Context = n.Value
		return nil
	}
	type plain buildSpec
	return n.Decode((*plain)(b))
}

type healthcheck struct {
	Test        stringList `yaml:"test"`
	Interval    string     `yaml:"interval"`
	Timeout     string     `yaml:"timeout"`
	Retries     int        `yaml:"retries"`
	StartPeriod string     `yaml:"start_period"`
	Disable     bool       `yaml:"disable"`
}

type configMount struct {
	Source string `yaml:"source"`
	Target string `yaml:"target"`
}

// UnmarshalYAML takes the short (`- NAME`) and the long syntax.
func (c *configMount) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		c.Source, c.Target = n.Value, "/"+n.Value
		return nil
	}
	type plain configMount
	return n.Decode((*plain)(c))
}

// stringList is a command, entrypoint or test: a list, or one string
// (split on spaces, as Compose does for a command without a shell).
type stringList []string

func (s *stringList) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*s = strings.Fields(n.Value)
		return nil
	}
	var l []string
	if err := n.Decode(&l); err != nil {
		return err
	}
	*s = l
	return nil
}

// envMap is `environment:` as a map or as a list of NAME=value.
type envMap map[string]string

func (e *envMap) UnmarshalYAML(n *yaml.Node) error {
	m := envMap{}
	switch n.Kind {
	case yaml.SequenceNode:
		var l []string
		if err := n.Decode(&l); err != nil {
			return err
		}
		for _, kv := range l {
			k, v, _ := strings.Cut(kv, "=")
			m[k] = v
		}
	default:
		var raw map[string]*string
		if err := n.Decode(&raw); err != nil {
			return err
		}
		for k, v := range raw {
			if v == nil {
				m[k] = ""
			} else {
				m[k] = *v
			}
		}
	}
	*e = m
	return nil
}

// dependsOn is `depends_on:` as a list (service_started) or a map of
// conditions.
type dependsOn map[string]string

func (d *dependsOn) UnmarshalYAML(n *yaml.Node) error {
	m := dependsOn{}
	if n.Kind == yaml.SequenceNode {
		var l []string
		if err := n.Decode(&l); err != nil {
			return err
		}
		for _, s := range l {
			m[s] = "service_started"
		}
		*d = m
		return nil
	}
	var raw map[string]struct {
		Condition string `yaml:"condition"`
		Restart   bool   `yaml:"restart"`
		Required  *bool  `yaml:"required"`
	}
	if err := n.Decode(&raw); err != nil {
		return err
	}
	for k, v := range raw {
		c := v.Condition
		if c == "" {
			c = "service_started"
		}
		m[k] = c
	}
	*d = m
	return nil
}

// portMapping is one published port: Host is empty when the port is not
// published on the host.
type portMapping struct {
	HostIP    string
	Host      string
	Container int
}

func (p *portMapping) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.MappingNode {
		var long struct {
			Target    int    `yaml:"target"`
			Published string `yaml:"published"`
			HostIP    string `yaml:"host_ip"`
			Protocol  string `yaml:"protocol"`
			Mode      string `yaml:"mode"`
		}
		if err := n.Decode(&long); err != nil {
			return err
		}
		*p = portMapping{HostIP: long.HostIP, Host: long.Published, Container: long.Target}
		return nil
	}
	s, _, _ := strings.Cut(n.Value, "/")
	parts := strings.Split(s, ":")
	c, err := strconv.Atoi(parts[len(parts)-1])
	if err != nil {
		return fmt.Errorf("port %q: container port: %w", n.Value, err)
	}
	p.Container = c
	switch len(parts) {
	case 2:
		p.Host = parts[0]
	case 3:
		p.HostIP, p.Host = parts[0], parts[1]
	}
	return nil
}

// varRef is one ${NAME<op><arg>}, ${NAME} or $NAME in the compose file: op
// is "", ":-", "-", ":?" or "?".
type varRef struct{ name, op, arg string }

// expandVars rewrites each variable reference of s with resolve, and $$ to
// $. What Compose would refuse or this does not handle (nested
// interpolation, ${VAR:+x}, a lone $) is an error.
func expandVars(s string, resolve func(varRef) (string, error)) (string, error) {
	var out strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' {
			out.WriteByte(s[i])
			continue
		}
		rest := s[i+1:]
		var ref varRef
		switch {
		case strings.HasPrefix(rest, "$"):
			out.WriteByte('$')
			i++
			continue
		case strings.HasPrefix(rest, "{"):
			end := strings.IndexByte(rest, '}')
			if end < 0 {
				return "", fmt.Errorf("unterminated ${ at %q", excerpt(s, i))
			}
			expr := rest[1:end]
			if strings.Contains(expr, "$") || strings.Contains(expr, "{") {
				return "", fmt.Errorf("unsupported nested interpolation at %q", excerpt(s, i))
			}
			ref.name = expr
			if j := strings.IndexAny(expr, ":-?+"); j >= 0 {
				ref.name = expr[:j]
				for _, op := range []string{":-", "-", ":?", "?"} {
					if strings.HasPrefix(expr[j:], op) {
						ref.op, ref.arg = op, expr[j+len(op):]
						break
					}
				}
				if ref.op == "" {
					return "", fmt.Errorf("unsupported interpolation %q", expr)
				}
			}
			if varName.FindString(ref.name) != ref.name {
				return "", fmt.Errorf("unsupported variable name %q", ref.name)
			}
			i += 1 + end
		default:
			ref.name = varName.FindString(rest)
			if ref.name == "" {
				return "", fmt.Errorf("unsupported $ at %q (write $$ for a literal $)", excerpt(s, i))
			}
			i += len(ref.name)
		}
		v, err := resolve(ref)
		if err != nil {
			return "", err
		}
		out.WriteString(v)
	}
	return out.String(), nil
}

// interpolate resolves s as Compose would with the variables env (an env
// file; the environment of whoever runs the tests does not count): a
// variable unset or, for :- and :?, empty takes its default or is an error.
func interpolate(s string, env map[string]string) (string, error) {
	return expandVars(s, func(r varRef) (string, error) {
		v, set := env[r.name]
		switch r.op {
		case ":-", "-":
			if set && (v != "" || r.op == "-") {
				return v, nil
			}
			return r.arg, nil
		case ":?", "?":
			if set && (v != "" || r.op == "?") {
				return v, nil
			}
			return "", fmt.Errorf("%s is required and not set: %s", r.name, r.arg)
		}
		return v, nil
	})
}

// excerpt is s from i, cut short for an error message.
func excerpt(s string, i int) string {
	if len(s)-i > 30 {
		return s[i:i+30] + "..."
	}
	return s[i:]
}

var varName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*`)

// interpolateNode interpolates every scalar value in place (mapping keys
// and aliases are left alone: an anchor is interpolated where it is
// defined).
func interpolateNode(n *yaml.Node, env map[string]string) error {
	var errs []error
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		switch n.Kind {
		case yaml.DocumentNode, yaml.SequenceNode:
			for _, c := range n.Content {
				walk(c)
			}
		case yaml.MappingNode:
			for i := 1; i < len(n.Content); i += 2 {
				walk(n.Content[i])
			}
		case yaml.ScalarNode:
			v, err := interpolate(n.Value, env)
			if err != nil {
				errs = append(errs, fmt.Errorf("line %d: %w", n.Line, err))
			}
			n.Value = v
		}
	}
	walk(n)
	return errors.Join(errs...)
}

func parseCompose(b []byte, env map[string]string) (*composeFile, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, err
	}
	if err := interpolateNode(&doc, env); err != nil {
		return nil, err
	}
	// Re-encode and decode strictly, so that a misspelt key (depend_on,
	// enviroment) is an error rather than silently ignored.
	resolved, err := yaml.Marshal(&doc)
	if err != nil {
		return nil, err
	}
	dec := yaml.NewDecoder(bytes.NewReader(resolved))
	dec.KnownFields(true)
	var c composeFile
	if err := dec.Decode(&c); err != nil {
		return nil, err
	}
	return &c, nil
}

// composeVarRefs returns every variable reference in the compose file's
// values (not its comments), unresolved.
func composeVarRefs(b []byte) ([]varRef, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, err
	}
	var refs []varRef
	var errs []error
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		switch n.Kind {
		case yaml.DocumentNode, yaml.SequenceNode:
			for _, c := range n.Content {
				walk(c)
			}
		case yaml.MappingNode:
			for i := 1; i < len(n.Content); i += 2 {
				walk(n.Content[i])
			}
		case yaml.ScalarNode:
			_, err := expandVars(n.Value, func(r varRef) (string, error) {
				refs = append(refs, r)
				return "", nil
			})
			if err != nil {
				errs = append(errs, fmt.Errorf("line %d: %w", n.Line, err))
			}
		}
	}
	walk(&doc)
	return refs, errors.Join(errs...)
}

// ---- the example env file ----

// devEnvFile holds published development values for every variable the
// compose file requires: `docker compose --env-file deploy/dev.env up`.
const devEnvFile = "deploy/dev.env"

// parseEnvFile reads KEY=value lines, # comments and blank lines. Quotes,
// inline comments and `export` (which Compose reads in its own ways) are
// refused, so that this reading and Compose's agree.
func parseEnvFile(b []byte) (map[string]string, error) {
	env := map[string]string{}
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch {
		case !ok || varName.FindString(k) != k:
			return nil, fmt.Errorf("line %d: want NAME=value", i+1)
		case strings.ContainsAny(v, `"'`) || strings.Contains(v, " #"):
			return nil, fmt.Errorf("line %d: %s: no quotes or inline comments", i+1, k)
		}
		if _, dup := env[k]; dup {
			return nil, fmt.Errorf("line %d: %s set twice", i+1, k)
		}
		env[k] = v
	}
	return env, nil
}

// ---- the Dockerfile ----

type dockerfile struct {
	args     map[string]string // ARG defaults before the first FROM
	stages   []dockerStage
	packages []string // what the go build line builds (./worker, ./cmd/api ...)
	cgoOff   bool     // CGO_ENABLED=0 in the build
	cache    bool     // the go build runs with a module cache mount
}

type dockerStage struct {
	from, name, user string
	copiesFrom       []string
}

func parseDockerfile(b []byte) (*dockerfile, error) {
	d := &dockerfile{args: map[string]string{}}
	var lines []string
	var cur strings.Builder
	for _, l := range strings.Split(string(b), "\n") {
		t := strings.TrimSpace(l)
		if strings.HasPrefix(t, "#") || (t == "" && cur.Len() == 0) {
			continue
		}
		if strings.HasSuffix(t, "\\") {
			cur.WriteString(strings.TrimSuffix(t, "\\") + " ")
			continue
		}
		cur.WriteString(t)
		lines = append(lines, cur.String())
		cur.Reset()
	}
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) == 0 {
			continue
		}
		instr, args := strings.ToUpper(f[0]), f[1:]
		var st *dockerStage
		if len(d.stages) > 0 {
			st = &d.stages[len(d.stages)-1]
		}
		switch instr {
		case "ARG":
			if st == nil && len(args) > 0 {
				k, v, _ := strings.Cut(args[0], "=")
				d.args[k] = v
			}
		case "FROM":
			var from, name string
			for i := 0; i < len(args); i++ {
				if strings.HasPrefix(args[i], "--") {
					continue
				}
				if from == "" {
					from = args[i]
				} else if strings.EqualFold(args[i], "AS") && i+1 < len(args) {
					name = args[i+1]
					break
				}
			}
			d.stages = append(d.stages, dockerStage{from: d.expand(from), name: name})
		case "USER":
			if st != nil && len(args) > 0 {
				st.user = args[0]
			}
		case "COPY":
			for _, a := range args {
				if v, ok := strings.CutPrefix(a, "--from="); ok && st != nil {
					st.copiesFrom = append(st.copiesFrom, v)
				}
			}
		case "ENV":
			if strings.Contains(l, "CGO_ENABLED=0") {
				d.cgoOff = true
			}
		case "RUN":
			if !strings.Contains(l, "go build") {
				continue
			}
			if strings.Contains(l, "CGO_ENABLED=0") {
				d.cgoOff = true
			}
			d.cache = strings.Contains(l, "--mount=type=cache,target=/go/pkg/mod")
			after := l[strings.Index(l, "go build"):]
			for _, a := range strings.Fields(after) {
				if strings.HasPrefix(a, "./") && a != "./" {
					d.packages = append(d.packages, a)
				}
			}
		}
	}
	if len(d.stages) == 0 {
		return nil, errors.New("Dockerfile: no FROM")
	}
	return d, nil
}

// expand resolves ${ARG} and $ARG with the ARG defaults.
func (d *dockerfile) expand(s string) string {
	return regexp.MustCompile(`\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?`).ReplaceAllStringFunc(s, func(m string) string {
		return d.args[strings.Trim(m, "${}")]
	})
}

// binaries maps each binary the image holds to its package directory.
func (d *dockerfile) binaries() map[string]string {
	m := map[string]string{}
	for _, p := range d.packages {
		m[path.Base(p)] = path.Clean(p)
	}
	return m
}

// ---- the checks ----

type stack struct {
	root       string
	rawCompose []byte            // docker-compose.yml as written
	devEnv     map[string]string // deploy/dev.env
	compose    *composeFile      // interpolated with devEnv
	docker     *dockerfile
	goMod      string // the go directive of go.mod
}

func loadStack(root string) (*stack, error) {
	b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(devEnvFile)))
	if err != nil {
		return nil, err
	}
	devEnv, err := parseEnvFile(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", devEnvFile, err)
	}
	raw, err := os.ReadFile(filepath.Join(root, "docker-compose.yml"))
	if err != nil {
		return nil, err
	}
	c, err := parseCompose(raw, devEnv)
	if err != nil {
		return nil, fmt.Errorf("docker-compose.yml with %s: %w", devEnvFile, err)
	}
	b, err = os.ReadFile(filepath.Join(root, "Dockerfile"))
	if err != nil {
		return nil, err
	}
	d, err := parseDockerfile(b)
	if err != nil {
		return nil, err
	}
	b, err = os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		return nil, err
	}
	m := regexp.MustCompile(`(?m)^go (\S+)$`).FindSubmatch(b)
	if m == nil {
		return nil, errors.New("go.mod: no go directive")
	}
	return &stack{root: root, rawCompose: raw, devEnv: devEnv, compose: c, docker: d, goMod: string(m[1])}, nil
}

// check returns every problem found, each naming the service or file.
func (s *stack) check() []string {
	var p problems
	s.checkServices(&p)
	s.checkImages(&p)
	s.checkPorts(&p)
	s.checkEnvironment(&p)
	s.checkSecrets(&p)
	s.checkStartOrder(&p)
	s.checkTemporalSetup(&p)
	s.checkDockerfile(&p)
	s.checkEnvIsRead(&p)
	return p
}

type problems []string

func (p *problems) add(format string, args ...any) { *p = append(*p, fmt.Sprintf(format, args...)) }

func (s *stack) svc(name string) *service {
	if v := s.compose.Services[name]; v != nil {
		return v
	}
	return &service{}
}

func (s *stack) checkServices(p *problems) {
	for k := range s.compose.Extensions {
		if !strings.HasPrefix(k, "x-") {
			p.add("docker-compose.yml: unknown top-level key %q", k)
		}
	}
	bins := s.docker.binaries()
	fenqiImage := ""
	for _, w := range wantServices {
		svc, ok := s.compose.Services[w.name]
		if !ok {
			p.add("missing service %s", w.name)
			continue
		}
		restarts := svc.Restart == "always" || svc.Restart == "unless-stopped" || strings.HasPrefix(svc.Restart, "on-failure")
		if w.oneShot && restarts {
			p.add("%s: a one-shot must not restart (restart: %q); its dependants wait for it to complete", w.name, svc.Restart)
		}
		if w.bin == "" {
			if repo, _ := splitImage(svc.Image); repo != w.image {
				p.add("%s: image %q, want %s", w.name, svc.Image, w.image)
			}
			continue
		}
		// A fenqi service: the image built from the Dockerfile, running one
		// of its binaries.
		if fenqiImage == "" {
			fenqiImage = svc.Image
		} else if svc.Image != fenqiImage {
			p.add("%s: image %q, want the same image as the other fenqi services (%q)", w.name, svc.Image, fenqiImage)
		}
		if svc.Build == nil {
			p.add("%s: no build: the fenqi image is built from the Dockerfile", w.name)
		} else {
			df := svc.Build.Dockerfile
			if df == "" {
				df = "Dockerfile"
			}
			if _, err := os.Stat(filepath.Join(s.root, svc.Build.Context, df)); err != nil || filepath.Clean(svc.Build.Context) != "." || df != "Dockerfile" {
				p.add("%s: build %s/%s, want the repository's Dockerfile", w.name, svc.Build.Context, df)
			}
		}
		if len(svc.Entrypoint) > 0 {
			p.add("%s: entrypoint %q: the fenqi image's command is the binary", w.name, svc.Entrypoint)
		}
		if len(svc.Command) == 0 {
			p.add("%s: no command: the service must name its binary (%s)", w.name, w.bin)
			continue
		}
		bin := svc.Command[0]
		if bin != w.bin {
			p.add("%s: runs %q, want %q", w.name, bin, w.bin)
		}
		if _, ok := bins[bin]; !ok {
			p.add("%s: runs %q, which is not built by the Dockerfile (it builds %s)", w.name, bin, strings.Join(s.docker.packages, " "))
		}
	}
}

// splitImage splits repo[:tag][@digest].
func splitImage(img string) (repo, tag string) {
	img, _, _ = strings.Cut(img, "@")
	if i := strings.LastIndexByte(img, ':'); i > strings.LastIndexByte(img, '/') {
		return img[:i], img[i+1:]
	}
	return img, ""
}

func (s *stack) checkImages(p *problems) {
	for _, name := range sortedKeys(s.compose.Services) {
		svc := s.compose.Services[name]
		if svc.Image == "" {
			p.add("%s: no image", name)
			continue
		}
		if _, tag := splitImage(svc.Image); tag == "" || tag == "latest" {
			p.add("%s: image %q is not pinned: give it a version tag", name, svc.Image)
		}
	}
	for _, st := range s.docker.stages {
		if _, tag := splitImage(st.from); tag == "" || tag == "latest" {
			p.add("Dockerfile: FROM %q is not pinned", st.from)
		}
	}
	// Temporal's schema tools must be the server's version.
	_, server := splitImage(s.svc("temporal").Image)
	for _, name := range []string{"temporal-schema", "temporal-setup"} {
		_, tools := splitImage(s.svc(name).Image)
		if v, _, _ := strings.Cut(tools, "-"); v != server {
			p.add("%s: admin-tools %q for server %q: the schema must match the server version", name, tools, server)
		}
	}
	// The UI must know worker versioning (2.34 and later).
	if _, tag := splitImage(s.svc("temporal-ui").Image); versionLess(tag, "2.34") {
		p.add("temporal-ui: %q predates worker versioning in the UI (2.34)", tag)
	}
	if repo, tag := splitImage(s.svc("postgres").Image); repo == "postgres" && !strings.HasPrefix(tag, "16") {
		p.add("postgres: %q, want PostgreSQL 16", tag)
	}
}

func (s *stack) checkPorts(p *problems) {
	hostPorts := map[string]string{}
	for _, name := range sortedKeys(s.compose.Services) {
		for _, m := range s.compose.Services[name].Ports {
			if m.Host == "" {
				continue
			}
			if other, dup := hostPorts[m.Host]; dup {
				p.add("%s: host port %s is already published by %s", name, m.Host, other)
			}
			hostPorts[m.Host] = name
		}
	}
	for _, w := range wantServices {
		for _, port := range w.ports {
			if s.published(w.name, port) == "" {
				p.add("%s: does not publish container port %d on the host", w.name, port)
			}
		}
	}
}

// published is the host port service's container port is published on.
func (s *stack) published(service string, container int) string {
	for _, m := range s.svc(service).Ports {
		if m.Container == container {
			return m.Host
		}
	}
	return ""
}

func (s *stack) checkEnvironment(p *problems) {
	for _, w := range wantServices {
		env := s.svc(w.name).Environment
		for _, k := range w.env {
			if _, ok := env[k]; !ok {
				p.add("%s: no %s in its environment", w.name, k)
			} else if env[k] == "" {
				p.add("%s: %s is empty", w.name, k)
			}
		}
	}

	// One database URL, one key ring, one namespace and task queue for
	// all of fenqi.
	same := func(key string, services ...string) string {
		first, firstSvc := "", ""
		for _, name := range services {
			v, ok := s.svc(name).Environment[key]
			if !ok {
				continue
			}
			if firstSvc == "" {
				first, firstSvc = v, name
			} else if v != first {
				p.add("%s: %s differs from %s's", name, key, firstSvc)
			}
		}
		return first
	}
	dbURL := same("DATABASE_URL", "migrate", "worker", "api")
	keys := same("FENQI_CODEC_KEYS", "worker", "api", "codec-server")
	same("TEMPORAL_NAMESPACE", "worker", "api")
	same("FENQI_TASK_QUEUE", "worker", "api")

	// The database: a service, with the role and password the init script
	// creates.
	roles := s.initRoles(p)
	if u, err := url.Parse(dbURL); err != nil || u.Scheme != "postgres" {
		p.add("DATABASE_URL %q: want postgres://user:password@host:port/db", dbURL)
	} else {
		s.wantService(p, "DATABASE_URL", u.Host, 5432)
		pw, _ := u.User.Password()
		if want, ok := roles[u.User.Username()]; !ok {
			p.add("DATABASE_URL: role %q is not created by the postgres init script", u.User.Username())
		} else if pw != want {
			p.add("DATABASE_URL: the password of %q is not the one the postgres init script sets", u.User.Username())
		}
		if db := strings.TrimPrefix(u.Path, "/"); db != s.svc("postgres").Environment["POSTGRES_DB"] {
			p.add("DATABASE_URL: database %q is not POSTGRES_DB (%q)", db, s.svc("postgres").Environment["POSTGRES_DB"])
		}
	}
	tenv, schema := s.svc("temporal").Environment, s.svc("temporal-schema").Environment
	if roles[tenv["POSTGRES_USER"]] != tenv["POSTGRES_PWD"] {
		p.add("temporal: POSTGRES_USER/POSTGRES_PWD is not a role and password the postgres init script creates")
	}
	if schema["SQL_USER"] != tenv["POSTGRES_USER"] || schema["SQL_PASSWORD"] != tenv["POSTGRES_PWD"] {
		p.add("temporal-schema: SQL_USER/SQL_PASSWORD differ from temporal's POSTGRES_USER/POSTGRES_PWD")
	}
	if schema["SQL_PLUGIN"] != tenv["DB"] || tenv["DB"] != "postgres12" {
		p.add("temporal-schema: SQL_PLUGIN %q and temporal's DB %q, want postgres12", schema["SQL_PLUGIN"], tenv["DB"])
	}
	s.wantService(p, "temporal POSTGRES_SEEDS", net.JoinHostPort(tenv["POSTGRES_SEEDS"], "5432"), 5432)
	s.wantService(p, "temporal-schema SQL_HOST", net.JoinHostPort(schema["SQL_HOST"], "5432"), 5432)
	if path := tenv["DYNAMIC_CONFIG_FILE_PATH"]; path != "" && !s.mounted("temporal", path) {
		p.add("temporal: DYNAMIC_CONFIG_FILE_PATH %s is not a config mounted into the service", path)
	}

	// Temporal's frontend, as every client reaches it.
	for _, name := range []string{"worker", "api", "temporal-ui", "temporal-setup"} {
		if addr, ok := s.svc(name).Environment["TEMPORAL_ADDRESS"]; ok {
			s.wantService(p, name+" TEMPORAL_ADDRESS", addr, 7233)
		}
	}

	// The key ring and the API tokens, read by the parsers the binaries
	// use.
	if keys != "" {
		if _, err := codec.ParseKeyRing(keys); err != nil {
			p.add("FENQI_CODEC_KEYS: not a key ring the binaries accept: %v", err)
		}
	}
	aenv := s.svc("api").Environment
	if _, err := api.NewTokens(aenv["FENQI_OPERATOR_TOKENS"], aenv["FENQI_CUSTOMER_TOKENS"]); err != nil {
		p.add("api: tokens the API refuses: %v", err)
	}

	// Servers listen on every interface of their container, on the port
	// that is published.
	for _, l := range []struct {
		service, key string
		port         int
	}{{"api", "FENQI_API_ADDR", 8080}, {"codec-server", "FENQI_CODEC_ADDR", 8081}} {
		host, port, err := net.SplitHostPort(s.svc(l.service).Environment[l.key])
		if err != nil || (host != "0.0.0.0" && host != "") || port != strconv.Itoa(l.port) {
			p.add("%s: %s=%q, want 0.0.0.0:%d (reachable from outside the container, on the published port)",
				l.service, l.key, s.svc(l.service).Environment[l.key], l.port)
		}
	}

	// The browser reaches the codec server at the UI's codec endpoint, and
	// the codec server lets the UI's origin in.
	uiEnv := s.svc("temporal-ui").Environment
	if u, err := url.Parse(uiEnv["TEMPORAL_CODEC_ENDPOINT"]); err != nil || u.Port() != s.published("codec-server", 8081) {
		p.add("temporal-ui: TEMPORAL_CODEC_ENDPOINT %q is not the codec server's published port %s",
			uiEnv["TEMPORAL_CODEC_ENDPOINT"], s.published("codec-server", 8081))
	}
	uiOrigin := "http://localhost:" + s.published("temporal-ui", 8080)
	origins := strings.Split(s.svc("codec-server").Environment["FENQI_CODEC_CORS_ORIGINS"], ",")
	if !slices.Contains(origins, uiOrigin) {
		p.add("codec-server: FENQI_CODEC_CORS_ORIGINS %q does not allow the Web UI at %s", origins, uiOrigin)
	}
}

// The secrets. The compose file gives them no default (${VAR:?message}),
// so that Compose refuses to start without them rather than fall back to
// a published value; deploy/dev.env gives published dev values. mayBeEmpty
// ones may be set empty (${VAR?message}): the codec token stays empty
// while the Web UI decodes through the codec server.
var secretVars = []struct {
	name       string
	mayBeEmpty bool
}{
	{"POSTGRES_PASSWORD", false},
	{"FENQI_DB_PASSWORD", false},
	{"TEMPORAL_DB_PASSWORD", false},
	{"FENQI_CODEC_KEYS", false},
	{"FENQI_CODEC_TOKEN", true},
	{"FENQI_OPERATOR_TOKENS", false},
	{"FENQI_CUSTOMER_TOKENS", false},
}

// secretLike matches the name of a variable that holds a credential: one
// not in secretVars may default to empty, never to a value.
var secretLike = regexp.MustCompile(`PASSWORD|PASSWD|PWD|TOKEN|SECRET|KEYS?$|CREDENTIAL`)

func (s *stack) checkSecrets(p *problems) {
	refs, err := composeVarRefs(s.rawCompose)
	if err != nil {
		p.add("docker-compose.yml: %v", err)
	}
	secret := map[string]bool{}
	for _, sv := range secretVars {
		secret[sv.name] = sv.mayBeEmpty
	}
	referenced := map[string]bool{}
	for _, r := range refs {
		mayBeEmpty, isSecret := secret[r.name]
		switch {
		case isSecret:
			referenced[r.name] = true
			if r.op != ":?" && (r.op != "?" || !mayBeEmpty) {
				want := "${" + r.name + ":?set " + r.name + " (see docs/deployment.md)}"
				if mayBeEmpty {
					want += " or ${" + r.name + "?...}"
				}
				p.add("docker-compose.yml: secret %s has a default (${%s%s%s}): want %s, so that Compose refuses to start without it",
					r.name, r.name, r.op, r.arg, want)
			}
		case secretLike.MatchString(r.name) && (r.op == ":-" || r.op == "-") && r.arg != "":
			p.add("docker-compose.yml: %s looks like a secret and defaults to %q: give it no default (add it to secretVars) or an empty one",
				r.name, r.arg)
		}
	}

	// The example env file: every secret, with values the binaries'
	// parsers accept, recognisably for development.
	env := s.devEnv
	for _, sv := range secretVars {
		if !referenced[sv.name] {
			p.add("docker-compose.yml: secret %s is never used (renamed? update secretVars)", sv.name)
		}
		v, ok := env[sv.name]
		switch {
		case !ok:
			p.add("%s: no %s: `docker compose --env-file %s up` would refuse to start", devEnvFile, sv.name, devEnvFile)
		case v == "" && !sv.mayBeEmpty:
			p.add("%s: %s is empty", devEnvFile, sv.name)
		case v != "" && !strings.Contains(v, "dev"):
			p.add("%s: %s=%q does not look like a published development value (say \"dev\" in it): real secrets do not belong in the repository",
				devEnvFile, sv.name, v)
		}
		if strings.HasSuffix(sv.name, "_PASSWORD") && !regexp.MustCompile(`^[A-Za-z0-9_-]*$`).MatchString(v) {
			p.add("%s: %s: use letters, digits, - and _ (it goes into SQL and a URL)", devEnvFile, sv.name)
		}
	}
	for _, r := range refs {
		if _, ok := env[r.name]; !ok && (r.op == ":?" || r.op == "?") {
			p.add("%s: no %s, which docker-compose.yml requires", devEnvFile, r.name)
		}
	}
	if _, err := codec.ParseKeyRing(env["FENQI_CODEC_KEYS"]); err != nil {
		p.add("%s: FENQI_CODEC_KEYS: not a key ring the binaries accept: %v", devEnvFile, err)
	}
	if _, err := api.NewTokens(env["FENQI_OPERATOR_TOKENS"], env["FENQI_CUSTOMER_TOKENS"]); err != nil {
		p.add("%s: tokens the API refuses: %v", devEnvFile, err)
	}
}

// wantService checks that addr (host:port) is a service of the stack on
// the given port.
func (s *stack) wantService(p *problems, what, addr string, port int) {
	host, prt, err := net.SplitHostPort(addr)
	if err != nil {
		p.add("%s %q: want host:port", what, addr)
		return
	}
	if _, ok := s.compose.Services[host]; !ok {
		p.add("%s %q: %s is not a service of the stack", what, addr, host)
	}
	if prt != strconv.Itoa(port) {
		p.add("%s %q: want port %d", what, addr, port)
	}
}

// initRoles reads the roles and passwords the postgres init script (a
// config mounted into /docker-entrypoint-initdb.d) creates.
func (s *stack) initRoles(p *problems) map[string]string {
	roles := map[string]string{}
	re := regexp.MustCompile(`(?i)CREATE ROLE (\w+) [^;]*PASSWORD '([^']*)'`)
	found := false
	for _, m := range s.svc("postgres").Configs {
		if !strings.HasPrefix(m.Target, "/docker-entrypoint-initdb.d/") {
			continue
		}
		found = true
		for _, r := range re.FindAllStringSubmatch(s.compose.Configs[m.Source].Content, -1) {
			roles[r[1]] = r[2]
		}
	}
	if !found {
		p.add("postgres: no init script in /docker-entrypoint-initdb.d creates the application roles")
	}
	return roles
}

// mounted reports whether a config is mounted at target in service.
func (s *stack) mounted(service, target string) bool {
	for _, m := range s.svc(service).Configs {
		if m.Target == target {
			if _, ok := s.compose.Configs[m.Source]; ok {
				return true
			}
		}
	}
	return false
}

var conditions = []string{"service_started", "service_healthy", "service_completed_successfully"}

func (s *stack) checkStartOrder(p *problems) {
	oneShot := map[string]bool{}
	for _, w := range wantServices {
		oneShot[w.name] = w.oneShot
	}
	for _, name := range sortedKeys(s.compose.Services) {
		svc := s.compose.Services[name]
		for _, dep := range sortedKeys(svc.DependsOn) {
			cond := svc.DependsOn[dep]
			target, ok := s.compose.Services[dep]
			switch {
			case !ok:
				p.add("%s: depends on %s, which is not a service", name, dep)
				continue
			case !slices.Contains(conditions, cond):
				p.add("%s: depends on %s with unknown condition %q", name, dep, cond)
			case oneShot[dep] && cond != "service_completed_successfully":
				p.add("%s: depends on the one-shot %s with %s, want service_completed_successfully", name, dep, cond)
			case !oneShot[dep] && cond == "service_completed_successfully":
				p.add("%s: waits for %s to complete, but %s keeps running", name, dep, dep)
			case cond == "service_healthy" && (target.Healthcheck == nil || target.Healthcheck.Disable || len(target.Healthcheck.Test) == 0):
				p.add("%s: waits for %s to be healthy, but %s has no healthcheck", name, dep, dep)
			}
		}
	}
	for _, d := range wantDependsOn {
		cond, ok := s.svc(d.service).DependsOn[d.after]
		switch {
		case !ok:
			p.add("%s must start after %s: add it to depends_on", d.service, d.after)
		case d.condition != "" && cond != d.condition:
			p.add("%s: depends on %s with %s, want %s", d.service, d.after, cond, d.condition)
		}
	}
	if cycle := s.cycle(); cycle != nil {
		p.add("depends_on has a cycle: %s", strings.Join(cycle, " -> "))
		return
	}
	for _, chain := range wantOrder {
		for i := 1; i < len(chain); i++ {
			if !s.after(chain[i], chain[i-1]) {
				p.add("%s must start after %s (directly or through another service)", chain[i], chain[i-1])
			}
		}
	}
}

// after reports whether a (transitively) depends on b.
func (s *stack) after(a, b string) bool {
	seen := map[string]bool{}
	var walk func(string) bool
	walk = func(n string) bool {
		if seen[n] {
			return false
		}
		seen[n] = true
		for dep := range s.svc(n).DependsOn {
			if dep == b || walk(dep) {
				return true
			}
		}
		return false
	}
	return walk(a)
}

// cycle returns a depends_on cycle, or nil.
func (s *stack) cycle() []string {
	const (
		unseen = iota
		open
		done
	)
	state := map[string]int{}
	var stackPath []string
	var found []string
	var visit func(string) bool
	visit = func(n string) bool {
		switch state[n] {
		case open:
			i := slices.Index(stackPath, n)
			found = append(slices.Clone(stackPath[i:]), n)
			return true
		case done:
			return false
		}
		state[n] = open
		stackPath = append(stackPath, n)
		for _, dep := range sortedKeys(s.svc(n).DependsOn) {
			if _, ok := s.compose.Services[dep]; ok && visit(dep) {
				return true
			}
		}
		stackPath = stackPath[:len(stackPath)-1]
		state[n] = done
		return false
	}
	for _, name := range sortedKeys(s.compose.Services) {
		if visit(name) {
			return found
		}
	}
	return nil
}

// checkTemporalSetup checks the one-shots against the server's databases
// and fenqi's search attributes.
func (s *stack) checkTemporalSetup(p *problems) {
	// temporal-schema: both databases created, set up and updated from
	// the versioned schema of their kind.
	script := strings.Join(s.svc("temporal-schema").Command, "\n")
	tenv := s.svc("temporal").Environment
	for _, db := range []struct{ env, def, kind string }{
		{"DBNAME", "temporal", "temporal"},
		{"VISIBILITY_DBNAME", "temporal_visibility", "visibility"},
	} {
		name := tenv[db.env]
		if name == "" {
			name = db.def
		}
		for _, step := range []string{
			`--db ` + name + ` setup-schema -v 0\.0`,
			`--db ` + name + ` update-schema -d /etc/temporal/schema/postgresql/v12/` + db.kind + `/versioned`,
		} {
			if !regexp.MustCompile(`(?m)^\s*temporal-sql-tool ` + step + `\s*$`).MatchString(script) {
				p.add("temporal-schema: does not run `temporal-sql-tool %s` for the %s database", strings.ReplaceAll(step, `\`, ""), name)
			}
		}
	}

	// temporal-setup: every search attribute of searchattrs.All, with its
	// type, in the workers' namespace.
	setup := strings.Join(s.svc("temporal-setup").Command, "\n")
	got := map[string]string{}
	for _, m := range regexp.MustCompile(`--name (\w+) --type (\w+)`).FindAllStringSubmatch(setup, -1) {
		got[m[1]] = m[2]
	}
	shorthand := map[enumspb.IndexedValueType]string{}
	for k, v := range enumspb.IndexedValueType_shorthandValue {
		shorthand[enumspb.IndexedValueType(v)] = k
	}
	want := map[string]string{}
	for key := range searchattrs.All().GetUntypedValues() {
		want[key.GetName()] = shorthand[key.GetValueType()]
	}
	for _, name := range sortedKeys(want) {
		if got[name] != want[name] {
			p.add("temporal-setup: search attribute %s registered as %q, want %q (searchattrs)", name, got[name], want[name])
		}
	}
	for _, name := range sortedKeys(got) {
		if _, ok := want[name]; !ok {
			p.add("temporal-setup: registers %s, which is not in searchattrs.All", name)
		}
	}
	if !strings.Contains(setup, "namespace create") {
		p.add("temporal-setup: does not create the namespace")
	}
	if ns := s.svc("temporal-setup").Environment["NAMESPACE"]; ns != s.svc("worker").Environment["TEMPORAL_NAMESPACE"] {
		p.add("temporal-setup: namespace %q, but the worker uses %q", ns, s.svc("worker").Environment["TEMPORAL_NAMESPACE"])
	}
}

func (s *stack) checkDockerfile(p *problems) {
	d := s.docker
	if len(d.stages) < 2 {
		p.add("Dockerfile: want a multi-stage build (a Go builder, then a small runtime image)")
		return
	}
	builder, final := d.stages[0], d.stages[len(d.stages)-1]
	repo, tag := splitImage(builder.from)
	if repo != "golang" {
		p.add("Dockerfile: the first stage builds from %q, want golang", builder.from)
	} else if v, _, _ := strings.Cut(tag, "-"); versionLess(v, s.goMod) {
		p.add("Dockerfile: Go %s is older than go.mod's go %s", v, s.goMod)
	}
	if repo, _ := splitImage(final.from); repo == "golang" {
		p.add("Dockerfile: the final image is %q; want a small runtime image", final.from)
	}
	if u := strings.Split(final.user, ":")[0]; u == "" || u == "root" || u == "0" {
		p.add("Dockerfile: the final image runs as root (USER %q)", final.user)
	}
	if len(final.copiesFrom) == 0 {
		p.add("Dockerfile: the final stage copies nothing from the builder")
	}
	if !d.cgoOff {
		p.add("Dockerfile: build with CGO_ENABLED=0 (static binaries)")
	}
	if !d.cache {
		p.add("Dockerfile: the go build has no module cache mount (--mount=type=cache,target=/go/pkg/mod)")
	}
	if len(d.packages) == 0 {
		p.add("Dockerfile: no `go build ./...` line found")
	}
	// Every package built is a main package of this module, and every
	// fenqi service's binary is among them.
	for _, pkg := range d.packages {
		if !isMainPackage(filepath.Join(s.root, filepath.FromSlash(pkg))) {
			p.add("Dockerfile: builds %s, which is not a main package of the repository", pkg)
		}
	}
	bins := d.binaries()
	for _, w := range wantServices {
		if w.bin != "" {
			if _, ok := bins[w.bin]; !ok {
				p.add("Dockerfile: does not build %s (run by service %s)", w.bin, w.name)
			}
		}
	}
}

// checkEnvIsRead checks that each fenqi binary reads every variable its
// service is given: the name appears as a string literal in its main
// package or a fenqi package it imports. A variable set but never read
// (a binary not yet wired to the codec, a misspelt name) fails here
// rather than at runtime.
func (s *stack) checkEnvIsRead(p *problems) {
	bins := s.docker.binaries()
	for _, w := range wantServices {
		if w.bin == "" {
			continue
		}
		dir, ok := bins[w.bin]
		if !ok {
			continue // reported by checkServices
		}
		lits, err := literalsOf(s.root, "./"+dir)
		if err != nil {
			p.add("%s: read the sources of %s: %v", w.name, dir, err)
			continue
		}
		for _, k := range sortedKeys(s.svc(w.name).Environment) {
			if !lits[k] {
				p.add("%s: is given %s, but %s and the fenqi packages it imports never read it", w.name, k, dir)
			}
		}
	}
}

var literalsCache = map[string]map[string]bool{}

// literalsOf returns the string literals of the non-test Go files of the
// main package pkg (./cmd/api) and of the packages of this module it
// imports.
func literalsOf(root, pkg string) (map[string]bool, error) {
	if lits, ok := literalsCache[pkg]; ok {
		return lits, nil
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(goBin, "list", "-deps", "-f", `{{.ImportPath}}|{{.Dir}}|{{join .GoFiles ","}}`, pkg)
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			err = fmt.Errorf("%v: %s", err, ee.Stderr)
		}
		return nil, err
	}
	lits := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		parts := strings.SplitN(line, "|", 3)
		if len(parts) != 3 || !strings.HasPrefix(parts[0], "github.com/fenqi/fenqi") || parts[2] == "" {
			continue
		}
		for _, f := range strings.Split(parts[2], ",") {
			af, err := parser.ParseFile(token.NewFileSet(), filepath.Join(parts[1], f), nil, 0)
			if err != nil {
				return nil, err
			}
			ast.Inspect(af, func(n ast.Node) bool {
				if bl, ok := n.(*ast.BasicLit); ok && bl.Kind == token.STRING {
					if v, err := strconv.Unquote(bl.Value); err == nil {
						lits[v] = true
					}
				}
				return true
			})
		}
	}
	literalsCache[pkg] = lits
	return lits, nil
}

// isMainPackage reports whether dir holds a non-test Go file of package main.
func isMainPackage(dir string) bool {
	files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.PackageClauseOnly)
		if err == nil && af.Name.Name == "main" {
			return true
		}
	}
	return false
}

// versionLess compares dotted numeric versions (1.26.8 < 1.26.10).
func versionLess(a, b string) bool {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < max(len(pa), len(pb)); i++ {
		var x, y int
		if i < len(pa) {
			x, _ = strconv.Atoi(pa[i])
		}
		if i < len(pb) {
			y, _ = strconv.Atoi(pb[i])
		}
		if x != y {
			return x < y
		}
	}
	return false
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
