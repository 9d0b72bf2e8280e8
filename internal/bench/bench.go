// Package bench is `starter bench`: throughput, latency, cost and scale of
// fenqi's plans measured against one Temporal server and one PostgreSQL,
// side by side in one run (issue 9).
//
//   - baseline: bare workflows (BaselineWorkflow, run by a worker inside
//     the bench on a queue of its own) that get the client messages of an
//     onboarding (start, one Signal, one Update) and complete without any
//     activity; their rate.
//   - onboarding: plans from application to active through the front door
//     (apply, read the offers, choose, sign), the same number at the same
//     concurrency, interleaved with the baseline in rounds so that a
//     change of load on the machine weighs on both; their rate and the
//     ratio to the baseline's, and that they are active in PostgreSQL with
//     their schedule.
//   - latency: the round trip of a cancel-quote Update (the front door's
//     Cancel without a quote id) over active plans, one at a time.
//   - cost: the billable actions and history events of a 12-instalment
//     plan run to payoff on a compressed calendar, and of a
//     360-instalment plan, read from their histories across
//     Continue-As-New runs (internal/histories).
//   - scale: active plans waiting on timers (on the real calendar, the
//     first due date a month away) and the worker's resident memory.
//
// The plans go to fenqi's worker on the bench's task queue: the bench runs
// the worker binary as a child (StartWorker) or measures one already
// running, by its pid.
package bench

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"go.temporal.io/sdk/client"

	"github.com/fenqi/fenqi/frontdoor"
	"github.com/fenqi/fenqi/internal/histories"
	"github.com/fenqi/fenqi/plan"
	"github.com/fenqi/fenqi/store"
)

// Config is what to measure and how much.
type Config struct {
	// N baseline workflows and N plans onboarded, Concurrency at a time,
	// in Rounds alternating rounds.
	N           int
	Concurrency int
	Rounds      int
	// Baseline is the message shape of the baseline workflows:
	// BaselineDoor or BaselineSignal.
	Baseline string
	// LatencyPlans active plans get LatencyRounds cancel-quotes each.
	LatencyPlans  int
	LatencyRounds int
	// The compressed calendars of the cost plans: real seconds a business
	// day lasts.
	CostDaySeconds float64
	DaySeconds360  float64
	// Scale active plans for the memory figure (0: no scale part); Settle
	// is how long the worker rests before its memory is read.
	Scale  int
	Settle time.Duration
	// Parts left out.
	SkipThroughput, SkipLatency, SkipCost, Skip360 bool
	// Customer is the applicant every plan copies (with a ref of its own):
	// a profile approved at once, such as examples/customers/strong.json.
	Customer plan.Customer
}

// DefaultConfig is the bench of docs/benchmarks.md but scale: sizes that
// take a few minutes on a 2-core machine.
func DefaultConfig() Config {
	return Config{
		N: 100, Concurrency: 8, Rounds: 2, Baseline: BaselineDoor, LatencyPlans: 50, LatencyRounds: 4,
		CostDaySeconds: 0.05, DaySeconds360: 0.02, Settle: 10 * time.Second,
	}
}

// Amounts and terms of the plans the bench makes.
var (
	// onboardAmount over onboardTerms is every onboarded plan.
	onboardAmount = decimal.NewFromInt(10000)
	onboardTerms  = 12
	// costAmount is the cost plans' amount (as BenchmarkPlanCost) and
	// costFunding what their account is topped up with: enough for every
	// debit to the end, whatever the term.
	costAmount  = decimal.NewFromInt(12000)
	costFunding = decimal.NewFromInt(100000)
)

// Env is what a bench runs with.
type Env struct {
	// Client is connected with fenqi's payload codec; the baseline's
	// worker and the history reads use it.
	Client client.Client
	// BaselineClient, when set, is the baseline worker's connection (fenqi's
	// worker, another process, has its own); nil: Client.
	BaselineClient client.Client
	// Door sends the plans' requests to the worker's task queue, with
	// Store for the top-ups.
	Door  *frontdoor.Door
	Store *store.Store
	// WorkerPID is the measured worker and IdleMemory its memory before
	// the bench's first plan.
	WorkerPID  int
	IdleMemory Memory
	// WorkerAlive, when set, says whether the worker still runs (a worker
	// the bench started).
	WorkerAlive func() error
	Log         *slog.Logger
	Progress    *Progress
	Setup       Setup
}

// runner is one bench run.
type runner struct {
	cfg Config
	env Env
	run string

	mu     sync.Mutex
	active []string // plans of this run that are active
}

// Run measures what cfg asks for and returns the report with its checks
// evaluated. A part that fails is reported with its error and the next
// part runs; a cancelled ctx ends the run.
func Run(ctx context.Context, cfg Config, env Env) Report {
	b := &runner{cfg: cfg, env: env, run: uuid.NewString()[:8]}
	start := time.Now()
	r := Report{Run: b.run, StartedAt: start.UTC(), Setup: env.Setup}
	fail := func(part string, err error) string {
		r.Errors = append(r.Errors, part+": "+err.Error())
		env.Log.Error("part failed", "part", part, "err", err)
		return err.Error()
	}
	env.Log.Info("bench started", "run", b.run, "task_queue", env.Setup.TaskQueue, "worker_pid", env.WorkerPID, "idle_rss_mb", MB(env.IdleMemory.RSSKB))
	if !cfg.SkipThroughput && ctx.Err() == nil {
		base, onb, err := b.throughput(ctx)
		if err != nil {
			fail("throughput", err)
		}
		r.Baseline, r.Onboarding = &base, &onb
	}
	if !cfg.SkipLatency && ctx.Err() == nil {
		l, err := b.latency(ctx)
		if err != nil {
			l.Error = fail("latency", err)
		}
		r.Latency = &l
	}
	if !cfg.SkipCost && ctx.Err() == nil {
		c, err := b.cost(ctx, 12, cfg.CostDaySeconds)
		if err != nil {
			c.Error = fail("cost 12", err)
		}
		r.Cost12 = &c
		if !cfg.Skip360 && ctx.Err() == nil {
			c, err := b.cost(ctx, 360, cfg.DaySeconds360)
			if err != nil {
				c.Error = fail("cost 360", err)
			}
			r.Cost360 = &c
		}
	}
	if cfg.Scale > 0 && ctx.Err() == nil {
		s, err := b.scale(ctx)
		if err != nil {
			s.Error = fail("scale", err)
		}
		r.Scale = &s
	}
	if err := ctx.Err(); err != nil {
		fail("bench", fmt.Errorf("interrupted: %w", err))
	}
	r.Seconds = round(time.Since(start).Seconds(), 1)
	r.Evaluate()
	return r
}

// addActive records plans of this run that are active.
func (b *runner) addActive(ids ...string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.active = append(b.active, ids...)
}

func (b *runner) activePlans() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.active...)
}

// realCalendar is an onboarded plan's settings: the real calendar, so the
// plan waits a month for its first due date.
var realCalendar = plan.Settings{}

// throughput runs the baseline and the onboarding side by side: a warm-up
// of each, then Rounds rounds of N/Rounds baseline workflows and as many
// onboardings, at the same concurrency, the baseline first in odd rounds
// and the onboarding first in even ones. Each rate is its count over the
// wall time of its own rounds.
func (b *runner) throughput(ctx context.Context) (Throughput, Onboarding, error) {
	var base Throughput
	var onb Onboarding
	// failed marks the parts a failure leaves without a figure.
	failed := func(baseErr, onbErr error) (Throughput, Onboarding, error) {
		if baseErr != nil {
			base.Error = baseErr.Error()
			onb.Error = "not measured: the baseline failed"
		}
		if onbErr != nil {
			onb.Error = onbErr.Error()
		}
		return base, onb, errors.Join(baseErr, onbErr)
	}
	cfg, log, bar := b.cfg, b.env.Log, b.env.Progress
	queue := "fenqi-bench-baseline-" + b.run
	wc := b.env.BaselineClient
	if wc == nil {
		wc = b.env.Client
	}
	stop, err := startBaselineWorker(wc, queue)
	if err != nil {
		return failed(err, nil)
	}
	defer stop()

	var retries atomic.Int64
	baseOne := func(ctx context.Context, name string) (client.WorkflowRun, error) {
		cctx, cancel := context.WithTimeout(ctx, callTimeout)
		defer cancel()
		app := b.application(name, onboardAmount, onboardTerms, realCalendar)
		return baseline(cctx, b.env.Client, queue, b.cfg.Baseline, "bench-"+b.run+"-"+name, app)
	}
	onbOne := func(ctx context.Context, name string) (string, error) {
		return b.onboardRetrying(ctx, onboarding{name: name, amount: onboardAmount, terms: onboardTerms, settings: realCalendar}, &retries)
	}

	// Warm-up: connections, caches and the worker's first tasks, not
	// counted.
	warm := min(cfg.Concurrency, 8)
	log.Info("warm-up", "baseline", warm, "onboarding", warm)
	bar.Start("warm-up", 2*warm, "workflows")
	err = forEach(ctx, warm, cfg.Concurrency, func() { bar.Add(1) }, func(ctx context.Context, i int) error {
		_, err := baseOne(ctx, fmt.Sprintf("warm-base-%d", i))
		return err
	})
	if err == nil {
		err = forEach(ctx, warm, cfg.Concurrency, func() { bar.Add(1) }, func(ctx context.Context, i int) error {
			id, err := onbOne(ctx, fmt.Sprintf("warm-%d", i))
			if err == nil {
				b.addActive(id)
			}
			return err
		})
	}
	bar.Finish()
	if err != nil {
		return failed(fmt.Errorf("warm-up: %w", err), nil)
	}

	runs := make([]client.WorkflowRun, cfg.N)
	ids := make([]string, cfg.N)
	var baseTime, onbTime time.Duration
	done := 0
	for rd := range cfg.Rounds {
		size := cfg.N / cfg.Rounds
		if rd < cfg.N%cfg.Rounds {
			size++
		}
		offset := done
		baseRound := func() error {
			bar.Start(fmt.Sprintf("baseline %d/%d", rd+1, cfg.Rounds), size, "workflows")
			t0 := time.Now()
			err := forEach(ctx, size, cfg.Concurrency, func() { bar.Add(1) }, func(ctx context.Context, i int) error {
				run, err := baseOne(ctx, fmt.Sprintf("base-%d", offset+i))
				runs[offset+i] = run
				return err
			})
			took := time.Since(t0)
			baseTime += took
			bar.Finish()
			if err != nil {
				return err
			}
			base.Count += size
			base.RoundRates = append(base.RoundRates, round(rate(size, took), 2))
			return nil
		}
		onbRound := func() error {
			bar.Start(fmt.Sprintf("onboarding %d/%d", rd+1, cfg.Rounds), size, "plans")
			t0 := time.Now()
			err := forEach(ctx, size, cfg.Concurrency, func() { bar.Add(1) }, func(ctx context.Context, i int) error {
				id, err := onbOne(ctx, fmt.Sprintf("onboard-%d", offset+i))
				ids[offset+i] = id
				return err
			})
			took := time.Since(t0)
			onbTime += took
			bar.Finish()
			if err != nil {
				return err
			}
			onb.Count += size
			onb.RoundRates = append(onb.RoundRates, round(rate(size, took), 2))
			return nil
		}
		// The side that goes first alternates (baseline first in odd
		// rounds, onboarding in even ones): the server slows as it holds
		// more workflows, and a fixed order would give the first side the
		// faster half of every round.
		parts := []struct {
			base bool
			run  func() error
		}{{true, baseRound}, {false, onbRound}}
		if rd%2 == 1 {
			parts[0], parts[1] = parts[1], parts[0]
		}
		for _, p := range parts {
			if err := p.run(); err != nil {
				if p.base {
					return failed(fmt.Errorf("baseline: %w", err), nil)
				}
				return failed(nil, fmt.Errorf("onboarding: %w", err))
			}
		}
		done += size
	}
	b.addActive(ids...)
	base.Seconds, base.Rate = round(baseTime.Seconds(), 3), round(rate(base.Count, baseTime), 2)
	onb.Seconds, onb.Rate = round(onbTime.Seconds(), 3), round(rate(onb.Count, onbTime), 2)
	onb.Retries = int(retries.Load())
	if base.Rate > 0 {
		onb.Ratio = round(onb.Rate/base.Rate, 3)
	}
	log.Info("throughput measured", "baseline_per_s", base.Rate, "onboarding_per_s", onb.Rate, "ratio", onb.Ratio)

	// Untimed checks: every plan is active with its schedule in
	// PostgreSQL, every baseline workflow completed.
	if onb.ActiveInDB, onb.SchedulesInDB, err = b.countActive(ctx, ids); err != nil {
		onb.Error = err.Error()
		return base, onb, err
	}
	err = forEach(ctx, len(runs), cfg.Concurrency, func() {}, func(ctx context.Context, i int) error {
		cctx, cancel := context.WithTimeout(ctx, callTimeout)
		defer cancel()
		var reply plan.Reply
		if err := runs[i].Get(cctx, &reply); err != nil {
			return fmt.Errorf("baseline %s did not complete: %w", runs[i].GetID(), err)
		}
		return nil
	})
	if err != nil {
		base.Error = err.Error()
		return base, onb, err
	}
	return base, onb, nil
}

// application is the application of the plan (or baseline workflow) name.
func (b *runner) application(name string, amount decimal.Decimal, terms int, settings plan.Settings) plan.Application {
	cust := b.cfg.Customer
	cust.Ref = fmt.Sprintf("%s-bench-%s-%s", cust.Ref, b.run, name)
	return plan.Application{RequestID: fmt.Sprintf("bench-%s-%s", b.run, name), Customer: cust, Amount: amount, Terms: terms, Settings: settings}
}

// countActive counts the plans of ids that PostgreSQL has active, and those
// with a stored schedule.
func (b *runner) countActive(ctx context.Context, ids []string) (active, schedules int, err error) {
	err = b.env.Store.Pool().QueryRow(ctx, `SELECT
		(SELECT count(*) FROM plans WHERE id = ANY($1::uuid[]) AND state = 'active'),
		(SELECT count(DISTINCT plan_id) FROM instalments WHERE plan_id = ANY($1::uuid[]))`, ids).Scan(&active, &schedules)
	if err != nil {
		return 0, 0, fmt.Errorf("count the bench's active plans in PostgreSQL: %w", err)
	}
	return active, schedules, nil
}

// latency asks LatencyRounds cancel-quotes of each of LatencyPlans active
// plans (onboarding more when the run has fewer), one at a time, and
// summarises the round trips. The plans' accounts are topped up first so
// that the quotes are eligible, as a customer's would be.
func (b *runner) latency(ctx context.Context) (Latency, error) {
	cfg, bar := b.cfg, b.env.Progress
	l := Latency{Plans: cfg.LatencyPlans}
	ids := b.activePlans()
	if len(ids) > cfg.LatencyPlans {
		ids = ids[:cfg.LatencyPlans]
	}
	if missing := cfg.LatencyPlans - len(ids); missing > 0 {
		var retries atomic.Int64
		more := make([]string, missing)
		bar.Start("latency plans", missing, "plans")
		err := forEach(ctx, missing, cfg.Concurrency, func() { bar.Add(1) }, func(ctx context.Context, i int) error {
			id, err := b.onboardRetrying(ctx, onboarding{name: fmt.Sprintf("latency-%d", i), amount: onboardAmount, terms: onboardTerms, settings: realCalendar}, &retries)
			more[i] = id
			return err
		})
		bar.Finish()
		if err != nil {
			return l, fmt.Errorf("onboard the latency plans: %w", err)
		}
		b.addActive(more...)
		ids = append(ids, more...)
	}
	funding := onboardAmount.Mul(decimal.NewFromInt(2))
	err := forEach(ctx, len(ids), cfg.Concurrency, func() {}, func(ctx context.Context, i int) error {
		cctx, cancel := context.WithTimeout(ctx, callTimeout)
		defer cancel()
		if _, err := b.env.Door.Fund(cctx, ids[i], funding, fmt.Sprintf("bench-%s-latency-%d", b.run, i)); err != nil {
			return fmt.Errorf("top up plan %s: %w", ids[i], err)
		}
		return nil
	})
	if err != nil {
		return l, err
	}
	quote := func(ctx context.Context, id, rid string) (time.Duration, bool, error) {
		cctx, cancel := context.WithTimeout(ctx, callTimeout)
		defer cancel()
		t0 := time.Now()
		reply, err := b.env.Door.Cancel(cctx, id, plan.CancelRequest{RequestID: rid, Mode: plan.CancelLumpSum})
		d := time.Since(t0)
		if err != nil {
			return 0, false, fmt.Errorf("cancel-quote %s on plan %s: %w", rid, id, err)
		}
		if reply.Quote == nil {
			return 0, false, fmt.Errorf("cancel-quote %s on plan %s: no quote in the reply (%s)", rid, id, reply.Reason)
		}
		return d, reply.Quote.Eligible, nil
	}
	// One quote first, not counted: the first local activity of its kind.
	if _, _, err := quote(ctx, ids[0], fmt.Sprintf("bench-%s-quote-warm", b.run)); err != nil {
		return l, err
	}
	samples := make([]time.Duration, 0, len(ids)*cfg.LatencyRounds)
	bar.Start("cancel-quotes", len(ids)*cfg.LatencyRounds, "quotes")
	for rd := range cfg.LatencyRounds {
		for j, id := range ids {
			d, eligible, err := quote(ctx, id, fmt.Sprintf("bench-%s-quote-%d-%d", b.run, rd, j))
			if err != nil {
				bar.Finish()
				return l, err
			}
			samples = append(samples, d)
			if eligible {
				l.Eligible++
			}
			bar.Add(1)
		}
	}
	bar.Finish()
	s := Summarize(samples)
	l.Samples = s.N
	l.MinMs, l.MeanMs, l.P50Ms, l.P95Ms, l.P99Ms, l.MaxMs = round(ms(s.Min), 2), round(ms(s.Mean), 2), round(ms(s.P50), 2), round(ms(s.P95), 2), round(ms(s.P99), 2), round(ms(s.Max), 2)
	b.env.Log.Info("latency measured", "samples", l.Samples, "p50_ms", l.P50Ms, "p95_ms", l.P95Ms, "p99_ms", l.P99Ms)
	return l, nil
}

// cost runs one plan of terms instalments to payoff on a compressed
// calendar (day real seconds a business day; the offer and signing
// windows stretched so the bench never outruns them), its account funded
// for every debit, and counts its histories across Continue-As-New runs.
func (b *runner) cost(ctx context.Context, terms int, day float64) (PlanCost, error) {
	c := PlanCost{Instalments: terms, DaySeconds: day}
	long := 50 * 365 * 24 * time.Hour
	var retries atomic.Int64
	id, err := b.onboardRetrying(ctx, onboarding{
		name: fmt.Sprintf("cost-%d", terms), amount: costAmount, terms: terms,
		settings: plan.Settings{DaySeconds: day, OfferTTL: long, SignTTL: long},
	}, &retries)
	if err != nil {
		return c, err
	}
	c.PlanID = id
	if _, err := b.env.Door.Fund(ctx, id, costFunding, fmt.Sprintf("bench-%s-cost-%d", b.run, terms)); err != nil {
		return c, fmt.Errorf("top up plan %s: %w", id, err)
	}
	// Each instalment is about 30.4 business days; allow three times that
	// and two minutes.
	within := time.Duration(float64(terms)*31*day*3*float64(time.Second)) + 2*time.Minute
	b.env.Log.Info("cost plan running to payoff", "plan", id, "instalments", terms, "day_seconds", day, "expected_s", round(float64(terms)*30.4*day, 0))
	t0 := time.Now()
	st, err := b.waitClosed(ctx, id, terms, within)
	c.Seconds = round(time.Since(t0).Seconds(), 1)
	if err != nil {
		return c, err
	}
	if st.State != plan.StateClosed {
		return c, fmt.Errorf("plan %s ended %s, not closed (paid off): %s", id, st.State, firstOf(st.Reasons))
	}
	pid, err := plan.ParseID(id)
	if err != nil {
		return c, err
	}
	cost, err := histories.ChainCost(ctx, b.env.Client, plan.WorkflowID(pid))
	if err != nil {
		return c, fmt.Errorf("count the histories of plan %s: %w", id, err)
	}
	c.Runs, c.Actions, c.Events, c.MaxRunEvents = cost.Runs, cost.Actions, cost.Events, cost.MaxRunEvents
	by, err := breakdown(ctx, b.env.Client, plan.WorkflowID(pid))
	switch {
	case err != nil:
		b.env.Log.Warn("no breakdown of the actions", "plan", id, "err", err)
	case total(by) != c.Actions:
		b.env.Log.Warn("the breakdown of the actions does not add up; left out", "plan", id, "breakdown", total(by), "actions", c.Actions)
	default:
		c.ActionsByKind = by
	}
	b.env.Log.Info("cost measured", "instalments", terms, "actions", c.Actions, "events", c.Events, "runs", c.Runs, "max_run_events", c.MaxRunEvents)
	return c, nil
}

// waitClosed polls the plan's status (queries leave no trace in history)
// until it has ended, showing the instalments paid.
func (b *runner) waitClosed(ctx context.Context, id string, terms int, within time.Duration) (plan.Status, error) {
	bar := b.env.Progress
	bar.Start(fmt.Sprintf("%d-instalment plan to payoff", terms), terms, "instalments")
	defer bar.Finish()
	deadline := time.Now().Add(within)
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	var last plan.Status
	for {
		cctx, cancel := context.WithTimeout(ctx, callTimeout)
		st, err := b.env.Door.Status(cctx, id)
		cancel()
		if err == nil {
			last = st
			bar.Set(st.PaidInstallments)
			if st.State.Final() {
				return st, nil
			}
		}
		if time.Now().After(deadline) {
			return last, fmt.Errorf("plan %s is %s with %d of %d instalments paid after %s (last error: %v)", id, last.State, last.PaidInstallments, terms, within, err)
		}
		select {
		case <-ctx.Done():
			return last, ctx.Err()
		case <-tick.C:
		}
	}
}

// scale onboards plans until the run has Scale active plans (on the real
// calendar: each waits on the timer of its first due date, a month away),
// lets the worker rest for Settle and reads its resident memory. The
// memory a plan takes is the slope between the worker's memory before the
// scale plans (rested as long) and after them; without enough plans
// started (fewer than half of them), it is measured from the idle worker.
func (b *runner) scale(ctx context.Context) (Scale, error) {
	cfg, bar := b.cfg, b.env.Progress
	s := Scale{IdleRSSMB: round(MB(b.env.IdleMemory.RSSKB), 1)}
	before := len(b.activePlans())
	s.Started = max(cfg.Scale-before, 0)
	from, fromPlans := b.env.IdleMemory, 0
	if s.Started > 0 && s.Started*2 >= cfg.Scale {
		if err := b.settle(ctx); err != nil {
			return s, err
		}
		m, err := ReadMemory(b.env.WorkerPID)
		if err != nil {
			return s, err
		}
		from, fromPlans = m, before
	}
	var retries atomic.Int64
	bar.Start("scale", s.Started, "plans")
	t0 := time.Now()
	err := forEach(ctx, s.Started, cfg.Concurrency, func() { bar.Add(1) }, func(ctx context.Context, i int) error {
		id, err := b.onboardRetrying(ctx, onboarding{name: fmt.Sprintf("scale-%d", i), amount: onboardAmount, terms: onboardTerms, settings: realCalendar}, &retries)
		if err == nil {
			b.addActive(id)
		}
		return err
	})
	elapsed := time.Since(t0)
	bar.Finish()
	s.Retries = int(retries.Load())
	s.Seconds, s.Rate = round(elapsed.Seconds(), 1), round(rate(s.Started, elapsed), 2)
	if err != nil {
		return s, fmt.Errorf("start the scale plans: %w", err)
	}
	ids := b.activePlans()
	s.Plans = len(ids)
	if s.ActiveInDB, _, err = b.countActive(ctx, ids); err != nil {
		return s, err
	}
	if err := b.settle(ctx); err != nil {
		return s, err
	}
	if b.env.WorkerAlive != nil {
		if err := b.env.WorkerAlive(); err != nil {
			return s, err
		}
	}
	m, err := ReadMemory(b.env.WorkerPID)
	if err != nil {
		return s, err
	}
	s.RSSMB, s.PeakRSSMB = round(MB(m.RSSKB), 1), round(MB(m.PeakKB), 1)
	s.PerPlanKB, s.ProjectedRSSMB = project(from.RSSKB, fromPlans, m.RSSKB, s.Plans)
	b.env.Log.Info("scale measured", "plans", s.Plans, "rss_mb", s.RSSMB, "peak_rss_mb", s.PeakRSSMB, "per_plan_kb", s.PerPlanKB, "projected_rss_mb", s.ProjectedRSSMB)
	return s, nil
}

// settle lets the worker rest for Settle.
func (b *runner) settle(ctx context.Context) error {
	if b.cfg.Settle <= 0 {
		return nil
	}
	b.env.Log.Info("letting the worker rest before reading its memory", "settle", b.cfg.Settle)
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(b.cfg.Settle):
		return nil
	}
}

// project returns the memory a plan takes, the slope in kB between
// fromKB with fromPlans plans and rssKB with plans plans, and the RSS in
// MB at TargetScalePlans plans on that slope: the measured RSS when plans
// is at least TargetScalePlans.
func project(fromKB int64, fromPlans int, rssKB int64, plans int) (perPlanKB, projectedMB float64) {
	if plans <= fromPlans {
		return 0, 0
	}
	perPlan := float64(max(rssKB-fromKB, 0)) / float64(plans-fromPlans)
	if plans >= TargetScalePlans {
		return round(perPlan, 1), round(MB(rssKB), 1)
	}
	return round(perPlan, 1), round((float64(rssKB)+perPlan*float64(TargetScalePlans-plans))/1024, 1)
}
