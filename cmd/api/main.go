// Command api serves fenqi's HTTP API for front-ends.
//
// Configuration (environment): FENQI_API_ADDR (default 127.0.0.1:8080),
// TEMPORAL_ADDRESS (default 127.0.0.1:7233), TEMPORAL_NAMESPACE (default
// "default"), FENQI_TASK_QUEUE (default "fenqi"), DATABASE_URL (default the
// `make run` cluster; read by GET /v1/plans/{id}/contacts). The database is
// connected lazily: the API starts while it is away, and the routes that
// read it answer once it is back. FENQI_CODEC_KEYS or FENQI_CODEC_KEYS_FILE:
// the key ring of the payload codec (package codec), the worker's.
// FENQI_METRICS_ADDR: where Prometheus scrapes /metrics (the Temporal
// SDK's client metrics and the API's requests by route and status;
// default 127.0.0.1:9465; see package metrics).
//
// Access (see package api): FENQI_OPERATOR_TOKENS, comma-separated
// name:token (the name is the operator recorded on decisions), and
// FENQI_CUSTOMER_TOKENS, comma-separated customerRef:token (the ref is the
// customer's, as in an application's customer.ref). Every route but
// GET /healthz needs one of these tokens as "Authorization: Bearer
// <token>". With neither set the API refuses to start, unless
// FENQI_API_INSECURE_DEV=1 (a development machine): then every request is
// allowed as an operator's. Tokens are never logged.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"

	"github.com/fenqi/fenqi/api"
	"github.com/fenqi/fenqi/codec"
	"github.com/fenqi/fenqi/frontdoor"
	"github.com/fenqi/fenqi/internal/temporalclient"
	"github.com/fenqi/fenqi/metrics"
	"github.com/fenqi/fenqi/store"
)

func main() {
	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	slog.SetDefault(logger)
	if err := run(logger); err != nil {
		logger.Error("api stopped", "err", err)
		os.Exit(1)
	}
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// defaultDatabaseURL is the database `make run` starts.
const defaultDatabaseURL = "postgres://postgres@127.0.0.1:15432/fenqi?sslmode=disable"

// openStore connects a pool to DATABASE_URL without waiting for the
// server: a malformed URL is an error, a server that does not answer yet
// only a warning (the pool connects when a request needs it).
func openStore(ctx context.Context, logger *slog.Logger) (*store.Store, error) {
	raw := envOr("DATABASE_URL", defaultDatabaseURL)
	shown := "DATABASE_URL"
	if u, err := url.Parse(raw); err == nil {
		shown = u.Redacted()
	}
	pool, err := pgxpool.New(ctx, raw)
	if err != nil {
		return nil, fmt.Errorf("database %s: %w", shown, err)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := pool.Ping(pingCtx); err != nil {
		logger.Warn("database not reachable yet; contacts answer once it is", "database", shown, "err", err)
	}
	return store.New(pool), nil
}

// envInsecureDev turns access control off when no token is configured.
const envInsecureDev = "FENQI_API_INSECURE_DEV"

// access reads the API's tokens from the environment. A malformed list is
// an error (naming the variable and the entry, never the token); no token
// at all is an error unless FENQI_API_INSECURE_DEV=1.
func access(logger *slog.Logger) (api.Option, error) {
	tokens, err := api.NewTokens(os.Getenv(api.EnvOperatorTokens), os.Getenv(api.EnvCustomerTokens))
	if err != nil {
		return nil, err
	}
	insecure := os.Getenv(envInsecureDev) == "1"
	if tokens.Len() == 0 {
		if !insecure {
			return nil, fmt.Errorf("no API tokens configured: set %s (name:token,...) and/or %s (customerRef:token,...); "+
				"on a development machine %s=1 serves without access control", api.EnvOperatorTokens, api.EnvCustomerTokens, envInsecureDev)
		}
		logger.Warn("INSECURE: the API runs WITHOUT ACCESS CONTROL: no tokens are configured and " + envInsecureDev +
			"=1, so anyone who can reach it may do anything as an operator. Never run it like this outside a development machine.")
		return api.WithoutAuth(), nil
	}
	if insecure {
		logger.Warn(envInsecureDev + "=1 is ignored: tokens are configured, and every request needs one")
	}
	logger.Info("api access control on", "operator_tokens", tokens.Operators(), "customer_tokens", tokens.Customers())
	return api.WithTokens(tokens), nil
}

func run(logger *slog.Logger) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	auth, err := access(logger)
	if err != nil {
		return err
	}
	// Plans' payloads are encrypted: the API reads and writes them with the
	// same key ring as the worker.
	cdc, err := codec.FromEnv()
	if err != nil {
		return err
	}
	m, err := metrics.New("api")
	if err != nil {
		return err
	}
	defer func() { _ = m.Shutdown(context.Background()) }()
	metricsAddr, err := m.Serve(ctx, envOr(metrics.EnvAddr, metrics.DefaultAPIAddr))
	if err != nil {
		return err
	}
	logger.Info("metrics listening", "addr", metricsAddr.String(), "path", "/metrics")
	opts := temporalclient.Options(cdc)
	opts.Logger, opts.MetricsHandler = tlog.NewStructuredLogger(logger), m.Temporal
	c, err := client.Dial(opts)
	if err != nil {
		return fmt.Errorf("connect to temporal at %s: %w", opts.HostPort, err)
	}
	defer c.Close()
	st, err := openStore(ctx, logger)
	if err != nil {
		return err
	}
	defer st.Close()
	door := frontdoor.New(c, os.Getenv("FENQI_TASK_QUEUE"), frontdoor.WithStore(st))
	srv := &http.Server{
		Addr:              envOr("FENQI_API_ADDR", "127.0.0.1:8080"),
		Handler:           api.New(door, logger, auth, api.WithRecorder(m)),
		ReadHeaderTimeout: 10 * time.Second,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	logger.Info("api listening", "addr", srv.Addr)
	select {
	case err := <-errc:
		return fmt.Errorf("serve api on %s: %w", srv.Addr, err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shut down api: %w", err)
	}
	return nil
}
