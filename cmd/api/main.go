// Command api serves fenqi's HTTP API for front-ends.
//
// Configuration (environment): FENQI_API_ADDR (default 127.0.0.1:8080),
// TEMPORAL_ADDRESS (default 127.0.0.1:7233), TEMPORAL_NAMESPACE (default
// "default"), FENQI_TASK_QUEUE (default "fenqi"), DATABASE_URL (default the
// `make run` cluster; read by GET /v1/plans/{id}/contacts). The database is
// connected lazily: the API starts while it is away, and the routes that
// read it answer once it is back.
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
	"github.com/fenqi/fenqi/frontdoor"
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

func run(logger *slog.Logger) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	addr := envOr("TEMPORAL_ADDRESS", "127.0.0.1:7233")
	c, err := client.Dial(client.Options{
		HostPort:  addr,
		Namespace: envOr("TEMPORAL_NAMESPACE", "default"),
		Logger:    tlog.NewStructuredLogger(logger),
	})
	if err != nil {
		return fmt.Errorf("connect to temporal at %s: %w", addr, err)
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
		Handler:           api.New(door, logger),
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
