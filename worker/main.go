// Command worker runs fenqi's Temporal worker: it polls the plan task queue
// and executes the plan workflows and their activities.
//
// Configuration (environment): TEMPORAL_ADDRESS (default 127.0.0.1:7233),
// TEMPORAL_NAMESPACE (default "default"), FENQI_TASK_QUEUE (default
// "fenqi"), DATABASE_URL (default the `make run` cluster),
// FENQI_POLICY_FILE (the credit policy; default the embedded
// underwriting/default_policy.json), FENQI_WEBHOOK_URL and
// FENQI_WEBHOOK_TOKEN (deliver customer contacts to a webhook; default:
// the log), FENQI_CODEC_KEYS or FENQI_CODEC_KEYS_FILE (the key ring that
// encrypts every payload sent to Temporal; required, see package codec;
// `make run` passes its dev key ring), FENQI_METRICS_ADDR (where
// Prometheus scrapes /metrics: the Temporal SDK's metrics and fenqi's;
// default 127.0.0.1:9464; see package metrics), FENQI_METRICS_PLANS_TTL
// (how long the count of plans by state is reused between scrapes;
// default 30s), FENQI_DEPLOYMENT_NAME and FENQI_BUILD_ID (both, for
// Temporal worker versioning; see docs/upgrades.md),
// FENQI_WORKFLOW_CACHE_SIZE (how many plans the worker keeps in memory
// between their tasks; default 500, see docs/benchmarks.md: a plan that
// is not kept replays its history on its next task), FENQI_PPROF=1 (Go
// profiles at /debug/pprof/ beside /metrics; off by default).
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"time"

	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"

	"github.com/fenqi/fenqi/activities"
	"github.com/fenqi/fenqi/channels"
	"github.com/fenqi/fenqi/codec"
	"github.com/fenqi/fenqi/internal/temporalclient"
	"github.com/fenqi/fenqi/metrics"
	"github.com/fenqi/fenqi/outbox"
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
	// Personal data reaches Temporal only encrypted: the codec of the key
	// ring in the environment is under every payload and failure message.
	cdc, err := codec.FromEnv()
	if err != nil {
		return err
	}
	dbURL := envOr("DATABASE_URL", "postgres://postgres@127.0.0.1:15432/fenqi?sslmode=disable")
	st, err := store.Open(ctx, dbURL)
	if err != nil {
		return err
	}
	defer st.Close()

	// Prometheus: the SDK's metrics, plans by state (counted in the
	// database when scraped), debits, money collected and contacts.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	m, err := metrics.New("worker")
	if err != nil {
		return err
	}
	defer func() { _ = m.Shutdown(context.Background()) }()
	ttl, err := metrics.PlansTTL()
	if err != nil {
		return err
	}
	if err := m.WatchPlans(metrics.Cached(metrics.PlansByState(st.Pool()), ttl)); err != nil {
		return err
	}
	metricsAddr, err := m.Serve(ctx, envOr(metrics.EnvAddr, metrics.DefaultWorkerAddr))
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

	acts := activities.New(st)
	acts.Observe = m
	if path := os.Getenv("FENQI_POLICY_FILE"); path != "" {
		p, err := underwriting.LoadPolicy(path)
		if err != nil {
			return err
		}
		acts.Policy = &p
		logger.Info("credit policy loaded", "file", path, "policy", p.Name)
	}
	deployment, err := deploymentOptions()
	if err != nil {
		return err
	}
	// A plan waits a month between due dates: keeping every plan's
	// workflow in memory (the SDK's default, 10,000) costs 180-290 KB
	// each; a plan evicted replays its history (at most about 1,000 events
	// a run) on its next task.
	cacheSize, err := strconv.Atoi(envOr("FENQI_WORKFLOW_CACHE_SIZE", "500"))
	if err != nil || cacheSize < 1 {
		return fmt.Errorf("FENQI_WORKFLOW_CACHE_SIZE=%q: want a number of workflows from 1", os.Getenv("FENQI_WORKFLOW_CACHE_SIZE"))
	}
	worker.SetStickyWorkflowCacheSize(cacheSize)
	// The outbox dispatcher delivers the customer contacts the activities
	// queue (to FENQI_WEBHOOK_URL when set, else to the log).
	router, err := channels.FromEnv(st)
	if err != nil {
		return err
	}
	dispatchCtx, stopDispatch := context.WithCancel(ctx)
	dispatched := make(chan error, 1)
	go func() {
		// A short poll keeps reminders on time on compressed calendars too.
		d := &outbox.Dispatcher{Store: st, Sender: router, Log: logger, Interval: time.Second, Observe: m}
		dispatched <- d.Run(dispatchCtx)
	}()

	queue := envOr("FENQI_TASK_QUEUE", workflows.TaskQueue)
	wfPollers, actPollers := temporalclient.Pollers()
	w := worker.New(c, queue, worker.Options{
		DeploymentOptions: deployment,
		// See temporalclient.Pollers.
		WorkflowTaskPollerBehavior: wfPollers,
		ActivityTaskPollerBehavior: actPollers,
	})
	if deployment.UseVersioning {
		logger.Info("worker versioning on", "deployment", deployment.Version.DeploymentName, "build_id", deployment.Version.BuildID)
	}
	workflows.Register(w, acts)
	logger.Info("worker started", "temporal", opts.HostPort, "task_queue", queue, "codec_keys", cdc.KeyRing().IDs())
	runErr := w.Run(worker.InterruptCh())
	stopDispatch()
	if err := <-dispatched; err != nil {
		logger.Error("outbox dispatcher stopped", "err", err)
	}
	if runErr != nil {
		return fmt.Errorf("run worker on %s: %w", queue, runErr)
	}
	return nil
}
