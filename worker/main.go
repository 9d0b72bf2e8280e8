// Command worker runs fenqi's Temporal worker: it polls the plan task queue
// and executes the plan workflows and their activities.
//
// Configuration (environment): TEMPORAL_ADDRESS (default 127.0.0.1:7233),
// TEMPORAL_NAMESPACE (default "default"), FENQI_TASK_QUEUE (default
// "fenqi"), DATABASE_URL (default the `make run` cluster),
// FENQI_POLICY_FILE (the credit policy; default the embedded
// underwriting/default_policy.json).
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"

	"github.com/fenqi/fenqi/activities"
	"github.com/fenqi/fenqi/store"
	"github.com/fenqi/fenqi/underwriting"
	"github.com/fenqi/fenqi/workflows"
)

func main() {
	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	slog.SetDefault(logger)
	if err := run(context.Background(), logger); err != nil {
		logger.Error("worker stopped", "err", err)
		os.Exit(1)
	}
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func run(ctx context.Context, logger *slog.Logger) error {
	dbURL := envOr("DATABASE_URL", "postgres://postgres@127.0.0.1:55432/fenqi?sslmode=disable")
	st, err := store.Open(ctx, dbURL)
	if err != nil {
		return err
	}
	defer st.Close()

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

	acts := activities.New(st)
	if path := os.Getenv("FENQI_POLICY_FILE"); path != "" {
		p, err := underwriting.LoadPolicy(path)
		if err != nil {
			return err
		}
		acts.Policy = &p
		logger.Info("credit policy loaded", "file", path, "policy", p.Name)
	}
	queue := envOr("FENQI_TASK_QUEUE", workflows.TaskQueue)
	w := worker.New(c, queue, worker.Options{})
	workflows.Register(w, acts)
	logger.Info("worker started", "temporal", addr, "task_queue", queue)
	if err := w.Run(worker.InterruptCh()); err != nil {
		return fmt.Errorf("run worker on %s: %w", queue, err)
	}
	return nil
}
