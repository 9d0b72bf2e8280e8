package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fenqi/fenqi/activities"
	"github.com/fenqi/fenqi/internal/bench"
	"github.com/fenqi/fenqi/internal/testenv"
	"github.com/fenqi/fenqi/internal/testsystem"
)

func TestParseBenchFlags(t *testing.T) {
	def := bench.DefaultConfig()
	for _, c := range []struct {
		name  string
		args  []string
		check func(t *testing.T, f benchFlags)
	}{
		{"defaults", nil, func(t *testing.T, f benchFlags) {
			c := f.cfg
			if c.N != 100 || c.Concurrency != 8 || c.Rounds != 2 || c.Baseline != "door" || c.LatencyPlans != 50 || c.LatencyRounds != 4 ||
				c.CostDaySeconds != 0.05 || c.DaySeconds360 != 0.02 || c.Scale != 0 || c.Settle != 10*time.Second ||
				c.SkipThroughput || c.SkipLatency || c.SkipCost || c.Skip360 {
				t.Errorf("defaults %+v", c)
			}
			if c.N != def.N || f.local || f.asJSON || f.strict || f.keep || f.workerPID != 0 || f.workerBin != "" || f.taskQueue != "" || f.customerFile != "" {
				t.Errorf("defaults %+v", f)
			}
		}},
		{"everything", []string{"--n", "10", "--concurrency", "3", "--rounds", "5", "--latency-plans", "7", "--latency-rounds", "2",
			"--cost-day-seconds", "0.1", "--day-seconds-360", "0.01", "--scale", "10000", "--settle", "30s", "--skip-360", "--baseline", "signal",
			"--customer", "c.json", "--worker-bin", "/w", "--local", "--keep", "--json", "--strict"}, func(t *testing.T, f benchFlags) {
			c := f.cfg
			if c.N != 10 || c.Concurrency != 3 || c.Rounds != 5 || c.LatencyPlans != 7 || c.LatencyRounds != 2 || c.CostDaySeconds != 0.1 ||
				c.DaySeconds360 != 0.01 || c.Scale != 10000 || c.Settle != 30*time.Second || !c.Skip360 || c.SkipCost || c.Baseline != "signal" {
				t.Errorf("config %+v", c)
			}
			if f.customerFile != "c.json" || f.workerBin != "/w" || !f.local || !f.keep || !f.asJSON || !f.strict {
				t.Errorf("flags %+v", f)
			}
		}},
		{"a running worker", []string{"--worker-pid", "42", "--task-queue", "fenqi"}, func(t *testing.T, f benchFlags) {
			if f.workerPID != 42 || f.taskQueue != "fenqi" {
				t.Errorf("flags %+v", f)
			}
		}},
		{"scale alone", []string{"--skip-throughput", "--skip-latency", "--skip-cost", "--scale", "5"}, func(t *testing.T, f benchFlags) {
			if !f.cfg.SkipThroughput || !f.cfg.SkipLatency || !f.cfg.SkipCost || f.cfg.Scale != 5 {
				t.Errorf("config %+v", f.cfg)
			}
		}},
		{"settle none", []string{"--settle", "0s"}, func(t *testing.T, f benchFlags) {
			if f.cfg.Settle != 0 {
				t.Errorf("settle %v", f.cfg.Settle)
			}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			f, _, err := parseBenchFlags(c.args)
			if err != nil {
				t.Fatal(err)
			}
			c.check(t, f)
		})
	}
}

// TestBenchBadFlags: bad input exits 2 with one line naming the flag,
// nothing on stdout, and no server is reached.
func TestBenchBadFlags(t *testing.T) {
	var connects atomic.Int64
	saved := benchServers
	benchServers = func(context.Context, bool, *slog.Logger) (*bench.Servers, error) {
		connects.Add(1)
		return nil, os.ErrInvalid
	}
	t.Cleanup(func() { benchServers = saved })
	for _, c := range []struct {
		args     []string
		mentions []string
	}{
		{[]string{"--n", "0"}, []string{"--n", "between 1 and 100000", "got 0"}},
		{[]string{"--n", "-3"}, []string{"--n", "got -3"}},
		{[]string{"--n", "many"}, []string{"-n", "invalid value"}},
		{[]string{"--n", "100001"}, []string{"--n", "got 100001"}},
		{[]string{"--concurrency", "0"}, []string{"--concurrency", "between 1 and 1000"}},
		{[]string{"--concurrency", "5000"}, []string{"--concurrency", "got 5000"}},
		{[]string{"--n", "4", "--rounds", "5"}, []string{"--rounds", "between 1 and 4", "got 5"}},
		{[]string{"--rounds", "0"}, []string{"--rounds", "got 0"}},
		{[]string{"--latency-plans", "0"}, []string{"--latency-plans", "got 0"}},
		{[]string{"--latency-rounds", "0"}, []string{"--latency-rounds", "got 0"}},
		{[]string{"--cost-day-seconds", "0"}, []string{"--cost-day-seconds", "between 0.001 and 86400", "got 0"}},
		{[]string{"--cost-day-seconds", "NaN"}, []string{"--cost-day-seconds", "got NaN"}},
		{[]string{"--day-seconds-360", "-1"}, []string{"--day-seconds-360", "got -1"}},
		{[]string{"--day-seconds-360", "1e9"}, []string{"--day-seconds-360", "got 1e+09"}},
		{[]string{"--scale", "-1"}, []string{"--scale", "between 0 and 1000000"}},
		{[]string{"--scale", "2000000"}, []string{"--scale", "got 2000000"}},
		{[]string{"--baseline", "bare"}, []string{"--baseline", "door or signal", `"bare"`}},
		{[]string{"--settle", "-1s"}, []string{"--settle", "between 0s and 10m0s", "-1s"}},
		{[]string{"--settle", "1h"}, []string{"--settle", "got 1h0m0s"}},
		{[]string{"--settle", "soon"}, []string{"-settle", "invalid value"}},
		{[]string{"--worker-pid", "-5"}, []string{"--worker-pid", "process id"}},
		{[]string{"--worker-pid", "0"}, []string{"--worker-pid", "got 0"}},
		{[]string{"--worker-pid", "42", "--worker-bin", "/w"}, []string{"--worker-bin or --worker-pid", "at most one"}},
		{[]string{"--task-queue", "fenqi"}, []string{"--task-queue", "only with --worker-pid"}},
		{[]string{"--worker-pid", "42", "--task-queue", " "}, []string{"--task-queue", "empty"}},
		{[]string{"--local", "--worker-pid", "42"}, []string{"--local or --worker-pid"}},
		{[]string{"--worker-bin", ""}, []string{"--worker-bin", "empty"}},
		{[]string{"--customer", ""}, []string{"--customer", "empty"}},
		{[]string{"--skip-throughput", "--skip-latency", "--skip-cost"}, []string{"nothing to measure"}},
		{[]string{"--skip-cost", "--skip-360"}, []string{"--skip-360", "already"}},
		{[]string{"--fast"}, []string{"flag provided but not defined", "-fast"}},
		{[]string{"extra"}, []string{`unexpected argument "extra"`}},
		{[]string{"--customer", "/no/such/customer.json"}, []string{"--customer", "/no/such/customer.json"}},
		{[]string{"--customer", "bench.go"}, []string{"--customer", "not a customer profile"}},
		{[]string{"--worker-pid", "1073741824"}, []string{"--worker-pid", "process 1073741824"}},
	} {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			code, out, errOut := cli(t, append([]string{"bench"}, c.args...)...)
			oneLine(t, "bench "+strings.Join(c.args, " "), code, exitUsage, out, errOut, append([]string{"starter bench: "}, c.mentions...)...)
		})
	}
	if n := connects.Load(); n != 0 {
		t.Errorf("bad flags reached the servers %d times", n)
	}
}

func TestBenchHelp(t *testing.T) {
	code, out, errOut := cli(t, "bench", "-h")
	if code != exitOK || errOut != "" || !strings.HasPrefix(out, "starter bench: measure throughput") {
		t.Fatalf("bench -h: exit %d, stderr %q, stdout %q", code, errOut, out)
	}
	for _, f := range []string{"-n ", "-concurrency", "-rounds", "-baseline", "-latency-plans", "-latency-rounds", "-cost-day-seconds", "-day-seconds-360",
		"-scale", "-settle", "-skip-throughput", "-skip-latency", "-skip-cost", "-skip-360", "-customer", "-worker-bin", "-worker-pid",
		"-task-queue", "-local", "-keep", "-json", "-strict"} {
		if !strings.Contains(out, f) {
			t.Errorf("bench -h lacks %s:\n%s", f, out)
		}
	}
	code, out, _ = cli(t, "help")
	if code != exitOK || !strings.Contains(out, "\n  bench ") {
		t.Errorf("help does not list bench:\n%s", out)
	}
}

// TestBenchEndToEnd runs every part of the bench but the 360-instalment
// plan, tiny, against the test servers, with the test's own worker (an
// already running worker: this process), and checks the JSON report.
func TestBenchEndToEnd(t *testing.T) {
	st, url := testsystem.StoreAndURL(t)
	queue, _ := testsystem.Worker(t, activities.New(st))
	tm := testenv.Temporal(t)
	saved := benchServers
	var connects atomic.Int64
	benchServers = func(_ context.Context, local bool, _ *slog.Logger) (*bench.Servers, error) {
		connects.Add(1)
		if local {
			t.Errorf("the bench asked for local servers")
		}
		s := &bench.Servers{Client: testenv.TemporalClient(t), TemporalAddress: tm.HostPort(), Namespace: "default", DatabaseURL: url, Ring: testenv.Codec(t).KeyRing()}
		return s, s.NewDir()
	}
	t.Cleanup(func() { benchServers = saved })

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	start := time.Now()
	code := dispatch(ctx, []string{"bench", "--json", "--n", "4", "--concurrency", "2", "--rounds", "2",
		"--latency-plans", "3", "--latency-rounds", "2", "--cost-day-seconds", "0.02", "--skip-360",
		"--scale", "12", "--settle", "0s", "--customer", strongCustomer,
		"--worker-pid", strconv.Itoa(os.Getpid()), "--task-queue", queue}, &stdout, &stderr)
	t.Logf("bench ran in %s; stderr:\n%s", time.Since(start).Round(time.Millisecond), stderr.String())
	if code != exitOK {
		t.Fatalf("bench: exit %d, stdout %q", code, stdout.String())
	}
	if connects.Load() != 1 {
		t.Errorf("%d connections, want 1", connects.Load())
	}
	var r bench.Report
	oneJSON(t, "bench --json", stdout.String(), &r)
	var raw map[string]any
	if err := json.Unmarshal(stdout.Bytes(), &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"run", "setup", "baseline", "onboarding", "latency", "cost_12", "scale", "checks"} {
		if raw[k] == nil {
			t.Errorf("the report lacks %s", k)
		}
	}
	if raw["cost_360"] != nil || len(r.Errors) != 0 {
		t.Errorf("cost_360 %v (skipped), errors %v", raw["cost_360"], r.Errors)
	}
	if s := r.Setup; s.WorkerPID != os.Getpid() || s.TaskQueue != queue || s.Concurrency != 2 || s.CPUs < 1 || s.Local || s.Baseline != "door" {
		t.Errorf("setup %+v", s)
	}
	if b := r.Baseline; b.Count != 4 || b.Rate <= 0 || b.Seconds <= 0 || len(b.RoundRates) != 2 || b.Error != "" {
		t.Errorf("baseline %+v", b)
	}
	if o := r.Onboarding; o.Count != 4 || o.Rate <= 0 || len(o.RoundRates) != 2 || o.ActiveInDB != 4 || o.SchedulesInDB != 4 || o.Ratio <= 0 || o.Error != "" {
		t.Errorf("onboarding %+v", o)
	}
	if o := r.Onboarding; r.Baseline.Rate > 0 && (o.Ratio < o.Rate/r.Baseline.Rate-0.01 || o.Ratio > o.Rate/r.Baseline.Rate+0.01) {
		t.Errorf("ratio %g, want %g / %g", o.Ratio, o.Rate, r.Baseline.Rate)
	}
	if l := r.Latency; l.Plans != 3 || l.Samples != 6 || l.Eligible != 6 || l.P50Ms <= 0 || l.P50Ms > l.P95Ms || l.P95Ms > l.P99Ms || l.P99Ms > l.MaxMs || l.MinMs > l.P50Ms {
		t.Errorf("latency %+v", l)
	}
	// At 0.02 s a day a due date may pass before its timer starts (the
	// action count is then a floor): plausible bounds only.
	if c := r.Cost12; c.Instalments != 12 || c.Runs != 1 || c.Actions < 20 || c.Actions > 200 || c.Events < c.Actions || c.MaxRunEvents != c.Events || c.Error != "" {
		t.Errorf("cost 12 %+v", c)
	}
	by, sum := r.Cost12.ActionsByKind, 0
	for _, n := range by {
		sum += n
	}
	if sum != r.Cost12.Actions || by["start"] != 1 || by["update"] != 3 || by["activity"] < 3 || by["timer"] < 1 {
		t.Errorf("cost 12 actions by kind %v, want the %d actions: one start, 3 updates, activities and timers", by, r.Cost12.Actions)
	}
	// 4 measured plans, up to 2 warm-up ones, the scale plans make 12.
	if s := r.Scale; s.Plans != 12 || s.ActiveInDB != 12 || s.Started < 6 || s.RSSMB <= 0 || s.PeakRSSMB < s.RSSMB || s.IdleRSSMB <= 0 || s.ProjectedRSSMB <= 0 {
		t.Errorf("scale %+v", s)
	}
	// 7 targets, of which the memory at 10,000 plans is not judged
	// on 12.
	if len(r.Checks) != 6 {
		t.Errorf("%d checks, want 6: %+v", len(r.Checks), r.Checks)
	}
	// What the report says is in PostgreSQL: 12 active plans, the cost
	// plan closed.
	if n := (&cliSystem{st: st}).count(t, `SELECT count(*) FROM plans WHERE state = 'active'`); n != 12 {
		t.Errorf("%d active plans in PostgreSQL, want 12", n)
	}
	if n := (&cliSystem{st: st}).count(t, `SELECT count(*) FROM plans WHERE state = 'closed' AND id = $1`, uuid.MustParse(r.Cost12.PlanID)); n != 1 {
		t.Errorf("the cost plan is not closed in PostgreSQL")
	}
	if !strings.Contains(stderr.String(), "onboarding 2/2") || !strings.Contains(stderr.String(), "level=INFO") {
		t.Errorf("stderr lacks the progress bar or the log:\n%s", stderr.String())
	}
}
