// Command devstack is what `make run` starts: the whole fenqi system on one
// machine without Docker. It starts (or reuses) a private PostgreSQL cluster
// and the Temporal dev server with its Web UI, both keeping their state
// under .fenqi/, applies the migrations, starts the worker, the API and the
// codec server (the Web UI decodes the encrypted payloads through it),
// prints where everything is, and stops it all in order on Ctrl-C.
//
// Payloads are encrypted with the dev key ring in .fenqi/codec-keys,
// generated on the first run and passed to the children as
// FENQI_CODEC_KEYS (a FENQI_CODEC_KEYS or FENQI_CODEC_KEYS_FILE in the
// environment is used instead).
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/fenqi/fenqi/codec"
	"github.com/fenqi/fenqi/internal/devstack"
	"github.com/fenqi/fenqi/migrations"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "fenqi:", err)
		if errors.Is(err, devstack.ErrPostgresMissing) {
			os.Exit(3)
		}
		os.Exit(1)
	}
}

// config is read from the environment, with defaults that work out of the box.
type config struct {
	home         string // state folder, default <repo>/.fenqi
	databaseURL  string // DATABASE_URL: use that server instead of a private cluster
	pgPort       int
	temporalPort int
	uiPort       int
	apiPort      int
	codecPort    int
	// Where the worker and the API serve /metrics (FENQI_METRICS_ADDR).
	workerMetricsPort int
	apiMetricsPort    int
}

func loadConfig() (config, error) {
	root, err := devstack.RepoRoot()
	if err != nil {
		return config{}, err
	}
	c := config{
		home:        envOr("FENQI_HOME", filepath.Join(root, ".fenqi")),
		databaseURL: os.Getenv("DATABASE_URL"),
	}
	for _, p := range []struct {
		name string
		dst  *int
		def  int
	}{
		{"FENQI_PG_PORT", &c.pgPort, 15432},
		{"FENQI_TEMPORAL_PORT", &c.temporalPort, 7233},
		{"FENQI_UI_PORT", &c.uiPort, 8233},
		{"FENQI_API_PORT", &c.apiPort, 8080},
		{"FENQI_CODEC_PORT", &c.codecPort, 8081},
		{"FENQI_WORKER_METRICS_PORT", &c.workerMetricsPort, 9464},
		{"FENQI_API_METRICS_PORT", &c.apiMetricsPort, 9465},
	} {
		v, err := strconv.Atoi(envOr(p.name, strconv.Itoa(p.def)))
		if err != nil || v <= 0 || v > 65535 {
			return config{}, fmt.Errorf("%s=%q: must be a port number", p.name, os.Getenv(p.name))
		}
		*p.dst = v
	}
	return c, nil
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func run() error {
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logDir := filepath.Join(cfg.home, "logs")
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", logDir, err)
	}
	// The state folder must be reachable by the unprivileged postgres user.
	_ = os.Chmod(cfg.home, 0o755)

	var shutdown []func()
	defer func() {
		for i := len(shutdown) - 1; i >= 0; i-- {
			shutdown[i]()
		}
	}()

	// 1. PostgreSQL.
	dbURL := cfg.databaseURL
	if dbURL == "" {
		if _, err := devstack.PostgresBinDir(); err != nil {
			return err
		}
		pgDir := filepath.Join(cfg.home, "pg")
		if err := devstack.StopIfRunning(ctx, pgDir); err != nil {
			return fmt.Errorf("stop a cluster left running in %s: %w", pgDir, err)
		}
		if err := devstack.PortFree(cfg.pgPort); err != nil {
			return fmt.Errorf("%w: another program holds it; stop it or set FENQI_PG_PORT", err)
		}
		step("starting PostgreSQL in %s on port %d", pgDir, cfg.pgPort)
		pg, err := devstack.StartPostgres(ctx, devstack.PostgresOptions{Dir: pgDir, Port: cfg.pgPort})
		if err != nil {
			return err
		}
		shutdown = append(shutdown, func() {
			step("stopping PostgreSQL")
			if err := pg.Stop(context.Background()); err != nil {
				slog.Error("stop postgres", "err", err)
			}
		})
		dbURL = pg.URL("")
	}

	// 2. Temporal dev server with the Web UI, state kept in a file. A port
	// still held (by a stack that was killed) is named before anything
	// starts.
	for _, p := range []struct {
		name string
		port int
	}{{"FENQI_TEMPORAL_PORT", cfg.temporalPort}, {"FENQI_UI_PORT", cfg.uiPort}, {"FENQI_API_PORT", cfg.apiPort}, {"FENQI_CODEC_PORT", cfg.codecPort},
		{"FENQI_WORKER_METRICS_PORT", cfg.workerMetricsPort}, {"FENQI_API_METRICS_PORT", cfg.apiMetricsPort}} {
		if err := devstack.PortFree(p.port); err != nil {
			return fmt.Errorf("%w: is another `make run` (or what it left behind) still running? stop it, or set %s", err, p.name)
		}
	}
	cli, err := devstack.TemporalCLI(ctx)
	if err != nil {
		return err
	}
	// The key ring every child encrypts payloads with.
	ring, codecEnv, keySource, err := devstack.CodecKeys(cfg.home)
	if err != nil {
		return err
	}
	cdc, err := codec.New(ring)
	if err != nil {
		return err
	}
	step("payloads encrypted with key %s (key ring %s)", ring.Active(), keySource)
	codecAddr := "127.0.0.1:" + strconv.Itoa(cfg.codecPort)
	step("starting the Temporal dev server on port %d (UI %d, state %s)", cfg.temporalPort, cfg.uiPort, filepath.Join(cfg.home, "temporal.db"))
	tlog, err := os.OpenFile(filepath.Join(logDir, "temporal.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("open temporal log: %w", err)
	}
	defer tlog.Close()
	tm, err := devstack.StartTemporal(ctx, devstack.TemporalOptions{
		CLI:    cli,
		Port:   cfg.temporalPort,
		UIPort: cfg.uiPort,
		DBFile: filepath.Join(cfg.home, "temporal.db"),
		Log:    tlog,
		// The UI decodes payloads in the browser through the codec server.
		UICodecEndpoint:  "http://" + codecAddr,
		DataConverter:    codec.DataConverter(cdc),
		FailureConverter: codec.FailureConverter(cdc),
	})
	if err != nil {
		return fmt.Errorf("%w (is another `make run` still running? see %s)", err, tlog.Name())
	}
	shutdown = append(shutdown, func() {
		step("stopping the Temporal dev server")
		if err := tm.Stop(); err != nil {
			slog.Error("stop temporal", "err", err)
		}
	})

	// 3. Schema.
	step("applying migrations")
	version, err := migrations.Up(ctx, dbURL)
	if err != nil {
		return err
	}
	step("schema at version %d", version)

	// 4. The worker, the API and the codec server as child processes, from
	// the folder this binary was built into.
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find the worker and api binaries: %w", err)
	}
	binDir := filepath.Dir(self)
	env := []string{"DATABASE_URL=" + dbURL, "TEMPORAL_ADDRESS=" + tm.HostPort(), "FENQI_API_ADDR=127.0.0.1:" + strconv.Itoa(cfg.apiPort),
		"FENQI_CODEC_ADDR=" + codecAddr,
		fmt.Sprintf("FENQI_CODEC_CORS_ORIGINS=http://localhost:%d,http://127.0.0.1:%d", cfg.uiPort, cfg.uiPort)}
	env = append(env, codecEnv...)
	tokenEnv, tokenPath, err := devstack.APITokens(cfg.home)
	if err != nil {
		return err
	}
	env = append(env, tokenEnv...)
	tokenNote := "from FENQI_OPERATOR_TOKENS / FENQI_CUSTOMER_TOKENS"
	if tokenPath != "" {
		tokenNote = fmt.Sprintf("operator %s: curl -H \"Authorization: Bearer $(cat %s)\" ...\n  customer page     http://127.0.0.1:%d/app (sign in with a token from %s)",
			devstack.DevOperator, tokenPath, cfg.apiPort, filepath.Join(cfg.home, devstack.CustomerTokenFile))
	}
	sup := devstack.NewSupervisor(logDir, env)
	// The worker and the API each serve /metrics on a port of their own.
	workerMetrics := "127.0.0.1:" + strconv.Itoa(cfg.workerMetricsPort)
	apiMetrics := "127.0.0.1:" + strconv.Itoa(cfg.apiMetricsPort)
	childEnv := map[string][]string{
		"worker": {"FENQI_METRICS_ADDR=" + workerMetrics},
		"api":    {"FENQI_METRICS_ADDR=" + apiMetrics},
	}
	for _, name := range []string{"worker", "api", "codec-server"} {
		bin := filepath.Join(binDir, name)
		if _, err := os.Stat(bin); err != nil {
			return fmt.Errorf("%s binary missing next to %s (run `make build`): %w", name, self, err)
		}
		if err := sup.StartWith(name, bin, childEnv[name]); err != nil {
			return err
		}
	}
	shutdown = append(shutdown, func() {
		step("stopping the codec server, the API and the worker")
		sup.StopAll(30 * time.Second)
	})

	fmt.Printf(`
fenqi is running.
  Temporal Web UI   http://localhost:%d
  Temporal frontend %s (namespace default)
  HTTP API          http://127.0.0.1:%d
  API token         %s
  codec server      http://%s (the Web UI decodes payloads with it)
  metrics           http://%s/metrics (worker), http://%s/metrics (API)
  PostgreSQL        %s
  logs              %s
Try: %s apply --customer examples/customers/strong.json --amount 20000 --terms 12
Press Ctrl-C to stop; state is kept in %s for the next run.
`, cfg.uiPort, tm.HostPort(), cfg.apiPort, tokenNote, codecAddr, workerMetrics, apiMetrics, dbURL, logDir, filepath.Join(binDir, "starter"), cfg.home)

	select {
	case <-ctx.Done():
		fmt.Println()
		step("Ctrl-C: shutting down")
		return nil
	case exit := <-sup.Exited():
		return fmt.Errorf("%s exited unexpectedly: %v (see %s)", exit.Name, exit.Err, filepath.Join(logDir, exit.Name+".log"))
	}
}

func step(format string, args ...any) {
	fmt.Printf("==> "+format+"\n", args...)
}
