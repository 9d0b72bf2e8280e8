// Command migrate applies fenqi's database migrations (package migrations,
// the same call `make run` makes) to DATABASE_URL and exits. It is the
// one-shot `migrate` service of docker-compose.yml and the first step of an
// upgrade: migrate, then roll the workers and the API.
//
//	migrate            apply every pending migration; log the version reached
//	migrate -status    print the database's schema version and this build's latest; change nothing
//
// Configuration (environment): DATABASE_URL (default the `make run`
// cluster). -wait (default 60s) is how long to wait for the database to
// accept connections before giving up.
//
// Running it again is a no-op, and several at once are safe: tern holds an
// advisory lock while it migrates. A database already past this build's
// latest migration (a newer release migrated it, and this one is a
// rollback) is left alone: migrate says so and exits 0.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/fenqi/fenqi/migrations"
)

// defaultDatabaseURL is the database `make run` starts.
const defaultDatabaseURL = "postgres://postgres@127.0.0.1:15432/fenqi?sslmode=disable"

func main() {
	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	slog.SetDefault(logger)
	status := flag.Bool("status", false, "print the schema version of the database and of this build, change nothing")
	wait := flag.Duration("wait", time.Minute, "how long to wait for the database to accept connections")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "migrate: unexpected arguments %q\n", flag.Args())
		flag.Usage()
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, logger, *status, *wait); err != nil {
		logger.Error("migrate failed", "err", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, logger *slog.Logger, statusOnly bool, wait time.Duration) error {
	dbURL := os.Getenv("DATABASE_URL")
	if dbURL == "" {
		dbURL = defaultDatabaseURL
	}
	shown := redact(dbURL)
	if err := waitForDatabase(ctx, logger, dbURL, shown, wait); err != nil {
		return err
	}
	current, latest, err := migrations.Status(ctx, dbURL)
	if err != nil {
		return err
	}
	if statusOnly {
		fmt.Printf("database %s: schema version %d; this build's latest %d\n", shown, current, latest)
		return nil
	}
	if current > latest {
		logger.Warn(fmt.Sprintf("schema at version %d, ahead of this build's latest %d: nothing to apply", current, latest),
			"version", current, "latest", latest, "database", shown)
		return nil
	}
	version, err := migrations.Up(ctx, dbURL)
	if err != nil {
		return err
	}
	logger.Info(fmt.Sprintf("schema at version %d", version),
		"version", version, "from", current, "latest", latest, "database", shown)
	return nil
}

// waitForDatabase retries connecting until the server answers or wait has
// passed (a container may start before its database does). A refusal by
// the server itself is returned at once.
func waitForDatabase(ctx context.Context, logger *slog.Logger, dbURL, shown string, wait time.Duration) error {
	if _, err := pgx.ParseConfig(dbURL); err != nil {
		return fmt.Errorf("DATABASE_URL %s: %w", shown, err)
	}
	deadline := time.Now().Add(wait)
	for attempt := 1; ; attempt++ {
		err := ping(ctx, dbURL)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return errors.Join(ctx.Err(), err)
		}
		// The server answered with a refusal (bad password, no such
		// database ...): waiting will not help. Starting up (57P03) and
		// out of connections (class 53) pass.
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code != "57P03" && !strings.HasPrefix(pgErr.Code, "53") {
			return fmt.Errorf("database %s: %w", shown, err)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("database %s did not answer within %s: %w", shown, wait, err)
		}
		if attempt == 1 {
			logger.Info("waiting for the database", "database", shown, "err", err)
		}
		select {
		case <-ctx.Done():
			return errors.Join(ctx.Err(), err)
		case <-time.After(time.Second):
		}
	}
}

func ping(ctx context.Context, dbURL string) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	return conn.Ping(ctx)
}

// redact hides the password of a URL for logs.
func redact(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.Scheme != "" {
		return u.Redacted()
	}
	return "DATABASE_URL"
}
