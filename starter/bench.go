package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/fenqi/fenqi/frontdoor"
	"github.com/fenqi/fenqi/internal/bench"
	"github.com/fenqi/fenqi/internal/devstack"
	"github.com/fenqi/fenqi/internal/temporalclient"
	"github.com/fenqi/fenqi/store"
)

// benchSummary is the bench's line in the help.
const benchSummary = "measure throughput, latency, cost and scale against one Temporal and one PostgreSQL: [--n N] [--concurrency C] [--scale N] [--local] [--json] (see docs/benchmarks.md)"

// benchFlags is what `starter bench` was asked.
type benchFlags struct {
	cfg          bench.Config
	customerFile string
	// workerBin is the worker binary to run as a child ("" until
	// resolved); workerPID, when set, is an already running worker polling
	// taskQueue, measured instead.
	workerBin string
	workerPID int
	taskQueue string
	local     bool
	keep      bool
	asJSON    bool
	strict    bool
}

// Bounds of the bench's flags.
const (
	maxBenchN           = 100_000
	maxBenchConcurrency = 1000
	maxBenchScale       = 1_000_000
	maxBenchSettle      = 10 * time.Minute
)

// defaultCustomerFile is the profile approved at once.
const defaultCustomerFile = "examples/customers/strong.json"

// parseBenchFlags parses and checks the flags of `starter bench`. It
// touches nothing outside: files and processes are checked by runBench.
func parseBenchFlags(args []string) (benchFlags, *flag.FlagSet, error) {
	def := bench.DefaultConfig()
	fs := newFlagSet("bench")
	var f benchFlags
	c := &f.cfg
	fs.IntVar(&c.N, "n", def.N, "baseline workflows and plans onboarded, each")
	fs.IntVar(&c.Concurrency, "concurrency", def.Concurrency, "workflows started at a time (baseline, onboarding, scale)")
	fs.IntVar(&c.Rounds, "rounds", def.Rounds, "alternating rounds of baseline and onboarding the n are split into")
	fs.StringVar(&c.Baseline, "baseline", def.Baseline, "the baseline's messages: door (what the front door sends for an onboarding: update-with-start, 2 status queries, 2 updates) or signal (start, a Signal, an Update, as issue 9 words it)")
	fs.IntVar(&c.LatencyPlans, "latency-plans", def.LatencyPlans, "active plans the cancel-quote latency is measured over")
	fs.IntVar(&c.LatencyRounds, "latency-rounds", def.LatencyRounds, "cancel-quotes asked of each latency plan, one at a time")
	fs.Float64Var(&c.CostDaySeconds, "cost-day-seconds", def.CostDaySeconds, "real seconds a business day of the 12-instalment cost plan lasts")
	fs.Float64Var(&c.DaySeconds360, "day-seconds-360", def.DaySeconds360, "real seconds a business day of the 360-instalment cost plan lasts (about 11,000 days)")
	fs.IntVar(&c.Scale, "scale", 0, "active plans waiting on timers for the worker's memory figure (0: no scale part; the target is 10000)")
	fs.DurationVar(&c.Settle, "settle", def.Settle, "how long the worker rests before its memory is read")
	fs.BoolVar(&c.SkipThroughput, "skip-throughput", false, "leave out the baseline and onboarding rates")
	fs.BoolVar(&c.SkipLatency, "skip-latency", false, "leave out the cancel-quote latency")
	fs.BoolVar(&c.SkipCost, "skip-cost", false, "leave out both cost plans")
	fs.BoolVar(&c.Skip360, "skip-360", false, "leave out the 360-instalment cost plan (about 4 minutes at 0.02 s a day)")
	fs.StringVar(&f.customerFile, "customer", "", "the applicant every plan copies, approved at once (default "+defaultCustomerFile+")")
	fs.StringVar(&f.workerBin, "worker-bin", "", "the worker binary the bench runs on a task queue of its own (default: worker beside this binary, else <repo>/.fenqi/bin/worker; run `make build`)")
	fs.IntVar(&f.workerPID, "worker-pid", 0, "measure this already running worker instead of starting one (it must poll --task-queue)")
	fs.StringVar(&f.taskQueue, "task-queue", "", "with --worker-pid: the task queue that worker polls (default $FENQI_TASK_QUEUE, else fenqi)")
	fs.BoolVar(&f.local, "local", false, "start a throwaway PostgreSQL and an in-memory Temporal dev server for this run (ignores DATABASE_URL and TEMPORAL_ADDRESS)")
	fs.BoolVar(&f.keep, "keep", false, "keep the bench's folder (the worker's log) after the run")
	fs.BoolVar(&f.asJSON, "json", false, "print one JSON object instead of the table")
	fs.BoolVar(&f.strict, "strict", false, "exit 1 when a target is missed")
	if err := fs.Parse(args); err != nil {
		return f, fs, err
	}
	if fs.NArg() > 0 {
		return f, fs, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	return f, fs, checkBenchFlags(f, set)
}

// checkBenchFlags checks the values and combinations of the flags; set
// holds the flags given on the command line.
func checkBenchFlags(f benchFlags, set map[string]bool) error {
	c := f.cfg
	between := func(name string, v, lo, hi int) error {
		if v < lo || v > hi {
			return fmt.Errorf("--%s: must be between %d and %d, got %d", name, lo, hi, v)
		}
		return nil
	}
	checks := []error{
		between("n", c.N, 1, maxBenchN),
		between("concurrency", c.Concurrency, 1, maxBenchConcurrency),
		between("rounds", c.Rounds, 1, max(c.N, 1)),
		between("latency-plans", c.LatencyPlans, 1, maxBenchN),
		between("latency-rounds", c.LatencyRounds, 1, 1000),
		between("scale", c.Scale, 0, maxBenchScale),
		daySecondsFlag("cost-day-seconds", c.CostDaySeconds),
		daySecondsFlag("day-seconds-360", c.DaySeconds360),
	}
	for _, err := range checks {
		if err != nil {
			return err
		}
	}
	switch {
	case c.Baseline != bench.BaselineDoor && c.Baseline != bench.BaselineSignal:
		return fmt.Errorf("--baseline: must be %s or %s, got %q", bench.BaselineDoor, bench.BaselineSignal, c.Baseline)
	case c.Settle < 0 || c.Settle > maxBenchSettle:
		return fmt.Errorf("--settle: must be between 0s and %s, got %s", maxBenchSettle, c.Settle)
	case f.workerPID < 0:
		return fmt.Errorf("--worker-pid: must be a process id, got %d", f.workerPID)
	case set["worker-pid"] && f.workerPID == 0:
		return fmt.Errorf("--worker-pid: must be a process id, got 0")
	case f.workerPID > 0 && set["worker-bin"]:
		return fmt.Errorf("--worker-bin or --worker-pid: give at most one (run a worker, or measure one running)")
	case set["task-queue"] && f.workerPID == 0:
		return fmt.Errorf("--task-queue: only with --worker-pid (the worker the bench runs gets a queue of its own)")
	case set["task-queue"] && strings.TrimSpace(f.taskQueue) == "":
		return fmt.Errorf("--task-queue: must not be empty")
	case f.local && f.workerPID > 0:
		return fmt.Errorf("--local or --worker-pid: give at most one (the servers --local starts have no worker yet)")
	case set["worker-bin"] && strings.TrimSpace(f.workerBin) == "":
		return fmt.Errorf("--worker-bin: must not be empty")
	case set["customer"] && strings.TrimSpace(f.customerFile) == "":
		return fmt.Errorf("--customer: must not be empty")
	case c.SkipThroughput && c.SkipLatency && c.SkipCost && c.Scale == 0:
		return fmt.Errorf("--skip-throughput, --skip-latency and --skip-cost without --scale: nothing to measure")
	case c.SkipCost && set["skip-360"]:
		return fmt.Errorf("--skip-360: --skip-cost leaves out both cost plans already")
	}
	return nil
}

// daySecondsFlag checks a compressed calendar's day, as plan settings
// bound it.
func daySecondsFlag(name string, v float64) error {
	if math.IsNaN(v) || v < 0.001 || v > 86400 {
		return fmt.Errorf("--%s: must be between 0.001 and 86400 seconds, got %g", name, v)
	}
	return nil
}

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	f, fs, err := parseBenchFlags(args)
	if err != nil {
		return parseFailure(stdout, stderr, fs, err)
	}
	customerFile, err := resolveCustomerFile(f.customerFile)
	if err != nil {
		return usageFailure(stderr, fs, "--customer: %v", err)
	}
	if f.cfg.Customer, err = loadCustomer(customerFile); err != nil {
		return usageFailure(stderr, fs, "--customer: %v", err)
	}
	if f.workerPID > 0 {
		if _, err := bench.ReadMemory(f.workerPID); err != nil {
			return usageFailure(stderr, fs, "--worker-pid: %v", err)
		}
	}
	bar := bench.NewProgress(stderr, isTerminal(stderr))
	log := slog.New(slog.NewTextHandler(bar, &slog.HandlerOptions{Level: slog.LevelInfo}))
	report, err := benchmark(ctx, f, bar, log)
	if err != nil {
		fmt.Fprintf(stderr, "starter bench: %v\n", err)
		return exitError
	}
	if f.asJSON {
		err = bench.WriteJSON(stdout, report)
	} else {
		err = bench.WriteTable(stdout, report)
	}
	switch {
	case err != nil:
		fmt.Fprintf(stderr, "starter bench: %v\n", err)
		return exitError
	case len(report.Errors) > 0:
		fmt.Fprintf(stderr, "starter bench: %d part(s) failed: %s\n", len(report.Errors), strings.Join(report.Errors, "; "))
		return exitError
	case f.strict && !report.Passed():
		fmt.Fprintln(stderr, "starter bench: a target is missed (--strict)")
		return exitError
	}
	return exitOK
}

// benchmark connects to the servers (or starts them), runs or finds the
// worker, and runs the bench.
func benchmark(ctx context.Context, f benchFlags, bar *bench.Progress, log *slog.Logger) (bench.Report, error) {
	srv, err := benchServers(ctx, f.local, log)
	if err != nil {
		return bench.Report{}, err
	}
	defer srv.Close()
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	st, err := store.Open(pingCtx, srv.DatabaseURL)
	cancel()
	if err != nil {
		return bench.Report{}, fmt.Errorf("cannot reach the database at %s (is `make run` running? set DATABASE_URL, or use --local): %w", redacted(srv.DatabaseURL), err)
	}
	defer st.Close()

	setup := bench.Setup{CPUs: runtime.NumCPU(), Concurrency: f.cfg.Concurrency, Rounds: f.cfg.Rounds, Baseline: f.cfg.Baseline, Temporal: srv.TemporalAddress, Local: srv.Local}
	env := bench.Env{Client: srv.Client, Store: st, Log: log, Progress: bar}
	if env.BaselineClient, err = srv.Dial(ctx); err != nil {
		return bench.Report{}, err
	}
	if f.workerPID > 0 {
		setup.TaskQueue = f.taskQueue
		if setup.TaskQueue == "" {
			setup.TaskQueue = os.Getenv("FENQI_TASK_QUEUE")
		}
		if setup.TaskQueue == "" {
			setup.TaskQueue = frontdoor.DefaultTaskQueue
		}
		env.WorkerPID, setup.Worker = f.workerPID, "already running"
	} else {
		proc, err := startBenchWorker(ctx, f, srv, log, &setup)
		if err != nil {
			srv.Keep = srv.Dir != ""
			return bench.Report{}, err
		}
		defer func() {
			if err := proc.Stop(30 * time.Second); err != nil {
				log.Error("stop the bench's worker", "err", err)
			}
		}()
		env.WorkerPID = proc.PID()
		env.WorkerAlive = func() error {
			if exited, err := proc.Exited(); exited {
				return fmt.Errorf("the worker (pid %d) exited: %v; see its log %s", proc.PID(), err, setup.WorkerLog)
			}
			return nil
		}
	}
	setup.WorkerPID = env.WorkerPID
	if env.IdleMemory, err = bench.ReadMemory(env.WorkerPID); err != nil {
		return bench.Report{}, err
	}
	env.Door = frontdoor.New(srv.Client, setup.TaskQueue, frontdoor.WithStore(st))
	env.Setup = setup
	report := bench.Run(ctx, f.cfg, env)
	if len(report.Errors) > 0 && srv.Dir != "" && !srv.Local {
		// The worker's log says what went wrong.
		srv.Keep = true
	}
	if f.keep || srv.Keep {
		srv.Keep = true
		log.Info("bench folder kept", "dir", srv.Dir)
	}
	return report, nil
}

// startBenchWorker runs the worker binary on a task queue of the bench's
// own, with the long-term credit policy (for the 360-instalment plan).
func startBenchWorker(ctx context.Context, f benchFlags, srv *bench.Servers, log *slog.Logger, setup *bench.Setup) (*bench.Process, error) {
	bin := f.workerBin
	if bin == "" {
		bin = defaultWorkerBin()
	}
	policy, err := bench.LongTermPolicy()
	if err != nil {
		return nil, err
	}
	policyFile := filepath.Join(srv.Dir, "policy.json")
	if err := os.WriteFile(policyFile, policy, 0o644); err != nil {
		return nil, fmt.Errorf("write the bench's credit policy: %w", err)
	}
	setup.TaskQueue = "fenqi-bench-" + uuid.NewString()[:8]
	setup.WorkerLog = filepath.Join(srv.Dir, "worker.log")
	log.Info("starting the worker", "bin", bin, "task_queue", setup.TaskQueue, "log", setup.WorkerLog)
	proc, err := bench.StartWorker(ctx, srv.Client, bench.WorkerOptions{
		Bin: bin, TaskQueue: setup.TaskQueue, TemporalAddress: srv.TemporalAddress, Namespace: srv.Namespace,
		DatabaseURL: srv.DatabaseURL, Ring: srv.Ring, PolicyFile: policyFile, Log: setup.WorkerLog,
	})
	if err != nil {
		return nil, err
	}
	setup.Worker = "started " + bin
	return proc, nil
}

// benchServers connects the bench to its servers: with local, throwaway
// ones it starts; otherwise those of the environment, as the other
// commands (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, DATABASE_URL, the key
// ring of FENQI_CODEC_KEYS(_FILE) or `make run`'s). Tests replace it.
var benchServers = func(ctx context.Context, local bool, log *slog.Logger) (*bench.Servers, error) {
	if local {
		return bench.StartLocal(ctx, log)
	}
	c, cdc, err := dialTemporal(ctx, "is `make run` running? or use --local")
	if err != nil {
		return nil, err
	}
	dbURL := os.Getenv("DATABASE_URL")
	if dbURL == "" {
		dbURL = defaultDatabaseURL
	}
	s := &bench.Servers{Client: c, TemporalAddress: temporalclient.Address(), Namespace: temporalclient.Namespace(), DatabaseURL: dbURL, Ring: cdc.KeyRing()}
	s.OnClose(c.Close)
	if err := s.NewDir(); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// defaultWorkerBin is the worker beside this binary (make build puts both
// in .fenqi/bin), else the repository's .fenqi/bin/worker.
func defaultWorkerBin() string {
	if exe, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(exe), "worker")
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p
		}
	}
	if root, err := devstack.RepoRoot(); err == nil {
		return filepath.Join(root, ".fenqi", "bin", "worker")
	}
	return filepath.Join(".fenqi", "bin", "worker")
}

// resolveCustomerFile is the customer file given, or the default one
// relative to the working directory, else to the repository.
func resolveCustomerFile(given string) (string, error) {
	if given != "" {
		return given, nil
	}
	if _, err := os.Stat(defaultCustomerFile); err == nil {
		return defaultCustomerFile, nil
	}
	root, err := devstack.RepoRoot()
	if err != nil {
		return "", fmt.Errorf("%s not found here and %w", defaultCustomerFile, err)
	}
	return filepath.Join(root, defaultCustomerFile), nil
}

// redacted hides a database URL's password.
func redacted(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.Redacted()
	}
	return "DATABASE_URL"
}
