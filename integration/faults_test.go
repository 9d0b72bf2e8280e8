package integration

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"go.temporal.io/sdk/client"

	"github.com/fenqi/fenqi/codec"
	"github.com/fenqi/fenqi/frontdoor"
	"github.com/fenqi/fenqi/internal/testenv"
	"github.com/fenqi/fenqi/internal/testsystem"
	"github.com/fenqi/fenqi/metrics"
	"github.com/fenqi/fenqi/migrations"
	"github.com/fenqi/fenqi/plan"
	"github.com/fenqi/fenqi/store"
)

// The fault test's knobs. A business day lasts faultsDaySeconds, so a
// 3-instalment plan runs its due dates and grace retries in about 47 s;
// faults are injected during faultsWindow from the first worker start.
const (
	faultsDefaultPlans = 100
	faultsDaySeconds   = 0.5
	faultsTerms        = 3
	faultsWindow       = 85 * time.Second
	faultsOnboarding   = 8 // applications in flight at once
	// Bounds: the plans' scripts (onboarding, funding, payments,
	// changes), then every plan in its end state.
	faultsPlayBound = 5 * time.Minute
	faultsEndBound  = 4 * time.Minute
)

var faultsSeedFlag = flag.Uint64("faults.seed", 0, "seed of TestFaults (default $FENQI_FAULTS_SEED, else 1)")

// faultsSeed is the seed of the run: -faults.seed, else
// $FENQI_FAULTS_SEED, else 1.
func faultsSeed(t *testing.T) uint64 {
	if *faultsSeedFlag != 0 {
		return *faultsSeedFlag
	}
	if s := os.Getenv("FENQI_FAULTS_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("FENQI_FAULTS_SEED=%q: %v", s, err)
		}
		return v
	}
	return 1
}

// The scenarios a plan of the fault test plays, and their share of the
// plans.
const (
	scPayer    = "payer"     // funded up front: every debit on its due date
	scLate     = "late"      // empty account, funded once a debit was declined
	scExternal = "external"  // part of the first instalment paid from outside, the rest debited
	scPrepay   = "prepay"    // repaid early in full: quote, then confirm
	scCancel   = "cancel"    // cancelled, settled in one lump sum: quote, then confirm
	scDefault  = "defaulter" // never funded: every debit declined, every instalment overdue; complains, an operator resolves it
	scDeclined = "declined"  // a risky applicant, declined by underwriting
)

var faultsMix = []struct {
	scenario string
	percent  int
}{{scLate, 15}, {scExternal, 12}, {scPrepay, 10}, {scCancel, 5}, {scDefault, 10}, {scDeclined, 8}} // payers: the rest

// faultPlan is one plan of the run and what its script did.
type faultPlan struct {
	n        int
	scenario string
	customer plan.Customer
	amount   decimal.Decimal
	rng      *rand.Rand

	id      string
	account uuid.UUID
	terms   int
	total   decimal.Decimal // the schedule's total at activation
	first   decimal.Decimal // the first instalment

	external   decimal.Decimal // paid from outside (scExternal)
	externalID string
	changed    bool            // the prepayment or cancellation was applied
	dueNow     decimal.Decimal // what its quote said it collects
	changeTry  int             // quotes asked for
	// changeMissed: the plan was paid off by its debits before the
	// change could be confirmed.
	changeMissed bool
	refusals     []string
	complaint    string // filed and resolved (scDefault)
	lateFunded   atomic.Bool
	// ready is closed once the plan is active and id, account, terms,
	// total and first are set (the late payers' watcher reads them).
	ready chan struct{}
	// When (since the start) the plan became active and its account was
	// first funded.
	activated, funded time.Duration
}

func (p *faultPlan) tag() string { return fmt.Sprintf("%03d", p.n) }

// closeReason is how a plan of the scenario ends (its status's
// close_reason): "" for one that does not close.
func (p *faultPlan) closeReason() string {
	switch {
	case p.scenario == scDeclined || p.scenario == scDefault:
		return ""
	case p.changeMissed:
		return "paid off"
	case p.scenario == scPrepay:
		return "repaid early"
	case p.scenario == scCancel:
		return "cancelled and settled"
	}
	return "paid off"
}

// faultRun is the fault test's system and what happened to it.
type faultRun struct {
	t      *testing.T
	seed   uint64
	start  time.Time
	pg     *testenv.Cluster
	st     *store.Store
	tc     client.Client
	door   *frontdoor.Door
	worker *workerProcess
	plans  []*faultPlan

	duplicates, retries, pgRestarts, aimed atomic.Int64

	mu       sync.Mutex
	events   []string
	problems []string
}

func (r *faultRun) since() string { return time.Since(r.start).Truncate(time.Millisecond).String() }

// event records a fault or a milestone, with the time since the start.
func (r *faultRun) event(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, fmt.Sprintf("%8s  %s", r.since(), fmt.Sprintf(format, args...)))
}

// eventLog is the events so far, one a line.
func (r *faultRun) eventLog() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.events, "\n")
}

// problem records a failure seen by a goroutine; the test fails with it.
func (r *faultRun) problem(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.problems = append(r.problems, fmt.Sprintf("%s: %s", r.since(), fmt.Sprintf(format, args...)))
}

// TestFaults runs 100 plans on a compressed calendar through faults: the
// worker, a separate OS process, is killed with SIGKILL at random moments
// and started again; PostgreSQL is restarted mid-run; every customer
// and operator message (application, choice, signature, payments from
// outside, quotes and confirmations of prepayments and cancellations,
// complaints and their resolutions) is delivered twice under its request
// id. At the end every plan is in its expected state,
// no instalment was debited twice, every gateway debit has exactly one
// payment and every payment its debit, and the books balance.
//
// It has a PostgreSQL cluster and a Temporal dev server of its own (the
// package's other tests are not disturbed by the outage), and takes about
// two minutes on two cores; `make test` runs it with the rest, `make
// test-faults` alone. The faults and the scenarios follow a seed
// (-faults.seed or FENQI_FAULTS_SEED, default 1), printed at the start and
// with any failure; FENQI_FAULTS_PLANS changes the number of plans.
func TestFaults(t *testing.T) {
	seed := faultsSeed(t)
	nPlans := faultsDefaultPlans
	if s := os.Getenv("FENQI_FAULTS_PLANS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("FENQI_FAULTS_PLANS=%q: want a positive number", s)
		}
		nPlans = n
	}
	t.Logf("fault test: seed %d (reproduce: FENQI_FAULTS_SEED=%d go test -race -count=1 -run '^TestFaults$' ./integration/), %d plans", seed, seed, nPlans)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("fault test failed with seed %d: FENQI_FAULTS_SEED=%d go test -race -count=1 -run '^TestFaults$' ./integration/", seed, seed)
		}
	})

	r := &faultRun{t: t, seed: seed}
	r.setUp(nPlans)
	r.run()
	if t.Failed() {
		return
	}
	r.check()
	r.summary()
}

// setUp starts the test's own PostgreSQL (migrated) and Temporal dev
// server, builds the worker and makes the plans' scripts.
func (r *faultRun) setUp(nPlans int) {
	t := r.t
	r.pg = testenv.PrivatePostgres(t, "fenqi")
	ctx := context.Background()
	if _, err := migrations.Up(ctx, r.pg.URL()); err != nil {
		t.Fatalf("migrate %s: %v", r.pg, err)
	}
	st, err := store.Open(ctx, r.pg.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	r.st = st
	tm := testenv.PrivateTemporal(t)
	r.tc = tm.Client()
	queue := "faults-" + strconv.FormatUint(r.seed, 10)
	r.door = frontdoor.New(r.tc, queue)

	dir := t.TempDir()
	bin := buildWorker(t, dir)
	r.worker = newWorkerProcess(bin, filepath.Join(dir, "worker.log"), map[string]string{
		"TEMPORAL_ADDRESS":   tm.HostPort(),
		"TEMPORAL_NAMESPACE": "default",
		"FENQI_TASK_QUEUE":   queue,
		"DATABASE_URL":       r.pg.URL(),
		codec.EnvKeys:        testenv.Codec(t).KeyRing().Format(),
		metrics.EnvAddr:      "127.0.0.1:0",
	})
	t.Cleanup(func() {
		r.worker.close(10 * time.Second)
		if t.Failed() {
			t.Logf("workers' log (%s), last lines:\n%s", r.worker.logPath, r.worker.tail(8000))
		}
	})
	r.plans = r.makePlans(nPlans)
}

// makePlans draws the scenarios, customers and amounts from the seed.
func (r *faultRun) makePlans(n int) []*faultPlan {
	rng := rand.New(rand.NewPCG(r.seed, 0))
	var scenarios []string
	for _, m := range faultsMix {
		k := (n*m.percent + 50) / 100
		if k == 0 && n >= len(faultsMix)+1 {
			k = 1
		}
		for range k {
			scenarios = append(scenarios, m.scenario)
		}
	}
	for len(scenarios) < n {
		scenarios = append(scenarios, scPayer)
	}
	scenarios = scenarios[:n]
	rng.Shuffle(len(scenarios), func(i, j int) { scenarios[i], scenarios[j] = scenarios[j], scenarios[i] })
	customers := map[string]plan.Customer{}
	for _, name := range []string{"strong", "average", "risky"} {
		customers[name] = testsystem.Customer(r.t, name)
	}
	plans := make([]*faultPlan, n)
	for i := range plans {
		name := []string{"strong", "average"}[rng.IntN(2)]
		if scenarios[i] == scDeclined {
			name = "risky"
		}
		c := customers[name]
		// A customer of their own: a funding account and credit line of
		// their own.
		c.Ref = fmt.Sprintf("faults-%d-%03d-%s", r.seed, i, name)
		plans[i] = &faultPlan{
			n: i, scenario: scenarios[i], customer: c,
			amount: decimal.NewFromInt(int64(2000 + 100*rng.IntN(41))),
			rng:    rand.New(rand.NewPCG(r.seed, uint64(i)+1)),
			ready:  make(chan struct{}),
		}
	}
	return plans
}

// run starts the worker and the faults, plays every plan's script, and
// waits until every plan is in its expected end state.
func (r *faultRun) run() {
	t := r.t
	r.start = time.Now()
	if err := r.worker.start(); err != nil {
		t.Fatal(err)
	}
	r.event("worker started")
	stopSupervise := make(chan struct{})
	supervised := make(chan struct{})
	go func() {
		defer close(supervised)
		r.worker.supervise(stopSupervise, func(err error) { r.problem("restart the worker: %v", err) })
	}()
	defer func() {
		close(stopSupervise)
		<-supervised
	}()

	ctx, cancel := context.WithTimeout(context.Background(), faultsPlayBound)
	defer cancel()

	// The faults.
	rng := rand.New(rand.NewPCG(r.seed, 1<<40))
	kills := faultTimes(rng, 6+rng.IntN(3), 2*time.Second, faultsWindow, 200*time.Millisecond, 3*time.Second)
	restarts := faultTimes(rng, 2, 8*time.Second, faultsWindow, 500*time.Millisecond, 3*time.Second)
	// One fast shutdown and one crash, in either order.
	restarts[1].aim = !restarts[0].aim
	var faults sync.WaitGroup
	faults.Go(func() { r.killWorkers(ctx, kills) })
	faults.Go(func() { r.restartPostgres(ctx, restarts) })

	// Late payers are funded as soon as the gateway declined them.
	stopWatch := make(chan struct{})
	var watching sync.WaitGroup
	watching.Go(func() { r.fundLatePayers(stopWatch) })

	// The plans' scripts.
	sem := make(chan struct{}, faultsOnboarding)
	var playing sync.WaitGroup
	for _, p := range r.plans {
		playing.Go(func() {
			if err := r.play(ctx, p, sem); err != nil {
				r.problem("plan %s (%s, %s): %v", p.tag(), p.scenario, p.id, err)
			}
		})
	}
	playing.Wait()
	r.event("every script played")
	faults.Wait()
	r.event("faults over")
	if err := r.worker.ensure(); err != nil {
		t.Fatal(err)
	}
	if !r.reportProblems() {
		close(stopWatch)
		watching.Wait()
		return
	}
	ok := r.waitEndStates()
	close(stopWatch)
	watching.Wait()
	if !ok {
		return
	}
	r.event("every plan in its end state")
	r.reportProblems()
}

// reportProblems fails the test with the goroutines' problems; it
// reports whether there were none.
func (r *faultRun) reportProblems() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, p := range r.problems {
		r.t.Error(p)
	}
	if len(r.problems) > 0 {
		r.t.Logf("events:\n%s", strings.Join(r.events, "\n"))
	}
	ok := len(r.problems) == 0
	r.problems = nil
	return ok
}

// fault is one fault: when, from the start, and how long the component
// stays down; aim makes a worker's kill wait (a few seconds at most) for a
// debit in flight, and PostgreSQL's stop a crash.
type fault struct {
	at, down time.Duration
	aim      bool
}

// faultTimes draws n faults at random moments between from and to, each
// down for a random time between downMin and downMax.
func faultTimes(rng *rand.Rand, n int, from, to, downMin, downMax time.Duration) []fault {
	out := make([]fault, n)
	for i := range out {
		out[i] = fault{
			at:   from + time.Duration(rng.Int64N(int64(to-from))),
			down: downMin + time.Duration(rng.Int64N(int64(downMax-downMin))),
			aim:  rng.IntN(2) == 0,
		}
	}
	slices.SortFunc(out, func(a, b fault) int { return int(a.at - b.at) })
	return out
}

// sleepUntil waits until at (from the start) or ctx's end.
func (r *faultRun) sleepUntil(ctx context.Context, at time.Duration) bool {
	select {
	case <-time.After(time.Until(r.start.Add(at))):
		return true
	case <-ctx.Done():
		return false
	}
}

// killWorkers kills the worker with SIGKILL at each fault's moment and
// starts a new one after its down time.
func (r *faultRun) killWorkers(ctx context.Context, kills []fault) {
	var up time.Duration
	for _, f := range kills {
		// A worker started again runs for at least a second before the
		// next kill.
		if !r.sleepUntil(ctx, max(f.at, up+time.Second)) {
			return
		}
		aimed := f.aim && r.debitInFlight(ctx, 5*time.Second)
		if !r.worker.kill() {
			r.event("no worker to kill (it is starting again)")
			continue
		}
		what := ""
		if aimed {
			what = " during a debit"
			r.aimed.Add(1)
		}
		r.event("worker killed (SIGKILL)%s, down %s", what, f.down.Truncate(time.Millisecond))
		time.Sleep(f.down)
		if err := r.worker.ensure(); err != nil {
			r.problem("start the worker again: %v", err)
			return
		}
		up = time.Since(r.start)
		r.event("worker started again")
	}
}

// debitInFlight waits, up to within, until a debit attempt is recorded as
// pending and not yet settled (the worker is between the gateway call's
// bookends), and reports whether it saw one.
func (r *faultRun) debitInFlight(ctx context.Context, within time.Duration) bool {
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		qctx, cancel := context.WithTimeout(ctx, time.Second)
		var n int
		err := r.st.Pool().QueryRow(qctx, `SELECT count(*) FROM debit_attempts WHERE outcome = 'pending'`).Scan(&n)
		cancel()
		if err == nil && n > 0 {
			return true
		}
		time.Sleep(2 * time.Millisecond)
	}
	return false
}

// restartPostgres stops PostgreSQL at each fault's moment and starts it
// again after its down time.
func (r *faultRun) restartPostgres(ctx context.Context, restarts []fault) {
	for _, f := range restarts {
		if !r.sleepUntil(ctx, f.at) {
			return
		}
		rctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		var err error
		if f.aim {
			// A crash: immediate shutdown, recovery at the next start.
			r.event("postgres crashing (SIGQUIT), down %s", f.down.Truncate(time.Millisecond))
			if err = r.pg.Crash(rctx); err == nil {
				time.Sleep(f.down)
				err = r.pg.Start(rctx)
			}
		} else {
			r.event("postgres stopping (fast shutdown), down %s", f.down.Truncate(time.Millisecond))
			err = r.pg.Restart(rctx, f.down)
		}
		cancel()
		if err != nil {
			r.problem("restart postgres: %v", err)
			return
		}
		r.pgRestarts.Add(1)
		r.event("postgres started again")
	}
}

// fundLatePayers tops up the account of each late payer once a debit of
// its plan was declined (the customer tops up after the failed-debit
// notice), until stop is closed.
func (r *faultRun) fundLatePayers(stop <-chan struct{}) {
	late := map[uuid.UUID]*faultPlan{}
	for {
		select {
		case <-stop:
			return
		case <-time.After(50 * time.Millisecond):
		}
		for _, p := range r.plans {
			if p.scenario != scLate || p.lateFunded.Load() {
				continue
			}
			select {
			case <-p.ready:
				late[p.account] = p
			default:
			}
		}
		if len(late) == 0 {
			continue
		}
		ids := make([]uuid.UUID, 0, len(late))
		for id := range late {
			ids = append(ids, id)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		rows, err := r.st.Pool().Query(ctx, `SELECT DISTINCT account_id FROM account_declines WHERE account_id = ANY($1)`, ids)
		var declined []uuid.UUID
		if err == nil {
			for rows.Next() {
				var id uuid.UUID
				if rows.Scan(&id) == nil {
					declined = append(declined, id)
				}
			}
			rows.Close()
		}
		for _, acct := range declined {
			p := late[acct]
			// The same key credits once, whatever the retries.
			if _, err := r.st.Fund(ctx, acct, p.total.Add(decimal.NewFromInt(500)), "fund-late-"+p.tag()); err == nil {
				p.funded = time.Since(r.start)
				p.lateFunded.Store(true)
				delete(late, acct)
			}
		}
		cancel()
	}
}

// permanent reports an error that a retry would not change: the plan
// refused the request, or it is malformed.
func permanent(err error) bool {
	var rej *frontdoor.RejectedError
	var inv *plan.ValidationError
	return errors.As(err, &rej) || errors.As(err, &inv)
}

// retry calls f, each try bounded by per, until it succeeds, fails for
// good, or ctx ends. A worker being killed or the database being down
// shows as a timeout or a transient error: the same request is sent again
// under the same id.
func (r *faultRun) retry(ctx context.Context, per time.Duration, f func(ctx context.Context) error) error {
	for {
		tctx, cancel := context.WithTimeout(ctx, per)
		err := f(tctx)
		cancel()
		if err == nil || permanent(err) {
			return err
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%w (last error: %v)", ctx.Err(), err)
		}
		r.retries.Add(1)
		select {
		case <-time.After(250 * time.Millisecond):
		case <-ctx.Done():
		}
	}
}

// status reads the plan's status, retrying while no worker answers.
func (r *faultRun) status(ctx context.Context, id string) (plan.Status, error) {
	var st plan.Status
	err := r.retry(ctx, 15*time.Second, func(ctx context.Context) error {
		var err error
		st, err = r.door.Status(ctx, id)
		return err
	})
	return st, err
}

// update sends req to the plan as an Update and waits for its reply.
func (r *faultRun) update(ctx context.Context, id string, req plan.Request) (plan.Reply, error) {
	var reply plan.Reply
	err := r.retry(ctx, 90*time.Second, func(ctx context.Context) error {
		var err error
		switch q := req.(type) {
		case plan.ChooseRequest:
			reply, err = r.door.Choose(ctx, id, q)
		case plan.SignRequest:
			reply, err = r.door.Sign(ctx, id, q)
		case plan.PaymentRequest:
			reply, err = r.door.Pay(ctx, id, q)
		case plan.PrepayRequest:
			reply, err = r.door.Prepay(ctx, id, q)
		case plan.CancelRequest:
			reply, err = r.door.Cancel(ctx, id, q)
		case plan.ComplaintRequest:
			reply, err = r.door.Complain(ctx, id, q)
		case plan.ResolveRequest:
			reply, err = r.door.Resolve(ctx, id, q)
		default:
			err = &plan.ValidationError{Field: "request", Reason: fmt.Sprintf("no update for %T", req)}
		}
		return err
	})
	return reply, err
}

// signal sends req to the plan as a Signal (no reply).
func (r *faultRun) signal(ctx context.Context, id string, req plan.Request) error {
	name := map[string]string{
		"plan.ChooseRequest": plan.MsgChoose, "plan.SignRequest": plan.MsgSign, "plan.PaymentRequest": plan.MsgPay,
		"plan.PrepayRequest": plan.MsgPrepay, "plan.CancelRequest": plan.MsgCancel,
		"plan.ComplaintRequest": plan.MsgComplain, "plan.ResolveRequest": plan.MsgResolve,
	}[fmt.Sprintf("%T", req)]
	return r.retry(ctx, 15*time.Second, func(ctx context.Context) error {
		return r.door.Signal(ctx, id, name, req)
	})
}

// twice delivers req to the plan twice under its request id, as a
// client's retry or a duplicated gateway notice does: two Updates at once,
// two Updates back to back, an Update and a Signal at once, or a Signal
// then an Update. It returns the Update's reply (two Updates must get the
// same one).
func (r *faultRun) twice(ctx context.Context, p *faultPlan, req plan.Request) (plan.Reply, error) {
	r.duplicates.Add(1)
	var (
		a, b       plan.Reply
		errA, errB error
		wg         sync.WaitGroup
	)
	switch mode := p.rng.IntN(4); mode {
	case 0:
		wg.Go(func() { a, errA = r.update(ctx, p.id, req) })
		wg.Go(func() { b, errB = r.update(ctx, p.id, req) })
		wg.Wait()
	case 1:
		a, errA = r.update(ctx, p.id, req)
		b, errB = r.update(ctx, p.id, req)
	case 2:
		wg.Go(func() { a, errA = r.update(ctx, p.id, req) })
		wg.Go(func() { errB = r.signal(ctx, p.id, req) })
		wg.Wait()
		b = a
	default:
		errB = r.signal(ctx, p.id, req)
		a, errA = r.update(ctx, p.id, req)
		b = a
	}
	if err := errors.Join(errA, errB); err != nil {
		return plan.Reply{}, fmt.Errorf("%T %s: %w", req, req.ID(), err)
	}
	if a.Accepted != b.Accepted || a.Reason != b.Reason || a.State != b.State || quoteID(a) != quoteID(b) {
		return plan.Reply{}, fmt.Errorf("%T %s delivered twice got two replies: %+v and %+v", req, req.ID(), a, b)
	}
	return a, nil
}

func quoteID(r plan.Reply) string {
	if r.Quote == nil {
		return ""
	}
	return r.Quote.ID
}

// fund tops up the plan's account under key (a repeat credits once).
func (r *faultRun) fund(ctx context.Context, p *faultPlan, amount decimal.Decimal, key string) error {
	err := r.retry(ctx, 10*time.Second, func(ctx context.Context) error {
		_, err := r.st.Fund(ctx, p.account, amount, key)
		return err
	})
	if err == nil {
		p.funded = time.Since(r.start)
	}
	return err
}

// play runs a plan's script: onboarding through the front door (each
// message twice), then what its scenario does.
func (r *faultRun) play(ctx context.Context, p *faultPlan, sem chan struct{}) error {
	select {
	case sem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	err := r.onboard(ctx, p)
	<-sem
	if err != nil || p.scenario == scDeclined {
		return err
	}
	switch p.scenario {
	case scPayer:
		return r.fund(ctx, p, p.total.Add(decimal.NewFromInt(100)), "fund-"+p.tag())
	case scExternal:
		p.external = p.first.Mul(decimal.RequireFromString("0.4")).Round(2)
		p.externalID = fmt.Sprintf("ext-%d-%s", r.seed, p.tag())
		if err := r.fund(ctx, p, p.total.Sub(p.external).Add(decimal.NewFromInt(100)), "fund-"+p.tag()); err != nil {
			return err
		}
		reply, err := r.twice(ctx, p, plan.PaymentRequest{RequestID: p.externalID, Amount: p.external, Source: "external"})
		if err != nil {
			return err
		}
		if !reply.Accepted || reply.Reason != "" {
			return fmt.Errorf("payment %s of %s: %+v", p.externalID, p.external, reply)
		}
	case scPrepay, scCancel:
		if err := r.fund(ctx, p, p.total.Add(decimal.NewFromInt(500)), "fund-"+p.tag()); err != nil {
			return err
		}
		return r.change(ctx, p)
	case scDefault:
		return r.complain(ctx, p)
	}
	return nil
}

// complain files a complaint (the customer) and resolves it a few
// seconds later (an operator), each message delivered twice.
func (r *faultRun) complain(ctx context.Context, p *faultPlan) error {
	p.complaint = "complaint-" + p.tag()
	reply, err := r.twice(ctx, p, plan.ComplaintRequest{RequestID: p.complaint, Text: "你们打电话太多了 (too many calls)"})
	if err != nil {
		return err
	}
	if !reply.Accepted {
		return fmt.Errorf("complaint: %+v", reply)
	}
	time.Sleep(time.Duration(p.rng.Int64N(int64(10 * time.Second))))
	reply, err = r.twice(ctx, p, plan.ResolveRequest{RequestID: "resolve-" + p.tag(), Complaint: p.complaint,
		Resolution: "one call a day at most", Operator: "faults-operator"})
	if err != nil {
		return err
	}
	if !reply.Accepted {
		return fmt.Errorf("resolve: %+v", reply)
	}
	return nil
}

// onboard applies, chooses the annuity offer and signs, each message
// delivered twice.
func (r *faultRun) onboard(ctx context.Context, p *faultPlan) error {
	app := plan.Application{
		RequestID: fmt.Sprintf("faults-%d-%s", r.seed, p.tag()), Customer: p.customer, Amount: p.amount, Terms: faultsTerms,
		Settings: plan.Settings{DaySeconds: faultsDaySeconds, OfferTTL: 50 * 365 * 24 * time.Hour, SignTTL: 50 * 365 * 24 * time.Hour},
	}
	var (
		applied [2]frontdoor.Applied
		errs    [2]error
		wg      sync.WaitGroup
	)
	r.duplicates.Add(1)
	for i := range applied {
		wg.Go(func() {
			errs[i] = r.retry(ctx, 90*time.Second, func(ctx context.Context) error {
				var err error
				applied[i], err = r.door.Apply(ctx, app)
				return err
			})
		})
	}
	wg.Wait()
	if err := errors.Join(errs[:]...); err != nil {
		return fmt.Errorf("apply: %w", err)
	}
	if applied[0].PlanID != applied[1].PlanID {
		return fmt.Errorf("one application, two plans: %s and %s", applied[0].PlanID, applied[1].PlanID)
	}
	p.id = applied[0].PlanID
	want := plan.StateOffered
	if p.scenario == scDeclined {
		want = plan.StateDeclined
	}
	for _, a := range applied {
		if a.State != want {
			return fmt.Errorf("applied: %+v, want %s", a, want)
		}
	}
	if p.scenario == scDeclined {
		return nil
	}
	st, err := r.status(ctx, p.id)
	if err != nil {
		return err
	}
	offer := 0
	for _, o := range st.Offers {
		if o.Method == "annuity" && o.Terms == faultsTerms {
			offer = o.No
		}
	}
	if offer == 0 {
		return fmt.Errorf("no annuity offer over %d terms: %+v", faultsTerms, st.Offers)
	}
	reply, err := r.twice(ctx, p, plan.ChooseRequest{RequestID: "choose-" + p.tag(), OfferSet: st.OfferSet, Offer: offer})
	if err != nil {
		return err
	}
	if !reply.Accepted || reply.AgreementHash == "" {
		return fmt.Errorf("choose: %+v", reply)
	}
	reply, err = r.twice(ctx, p, plan.SignRequest{RequestID: "sign-" + p.tag(), DocumentHash: reply.AgreementHash, Name: "张三", Consent: true})
	if err != nil {
		return err
	}
	if !reply.Accepted || reply.State != plan.StateActive {
		return fmt.Errorf("sign: %+v", reply)
	}
	p.activated = time.Since(r.start)
	// The schedule and the account from the database, at once: the first
	// due date is a month (15 s) away, and a status query waits for a
	// worker, which may be down.
	if err := r.retry(ctx, 10*time.Second, func(ctx context.Context) error {
		return r.st.Pool().QueryRow(ctx, `SELECT p.funding_account_id, count(i.no), sum(i.payment),
				min(i.payment) FILTER (WHERE i.no = 1)
			FROM plans p JOIN instalments i ON i.plan_id = p.id AND i.schedule_version = p.schedule_version
			WHERE p.id = $1 GROUP BY p.funding_account_id`, p.id).Scan(&p.account, &p.terms, &p.total, &p.first)
	}); err != nil {
		return err
	}
	close(p.ready)
	return nil
}

// change repays early in full (scPrepay) or cancels with a lump sum
// (scCancel): a quote, then its confirmation, each delivered twice; a
// quote that went stale or expired before its confirmation was processed
// (a killed worker holds the plan up for a while) is asked for again.
func (r *faultRun) change(ctx context.Context, p *faultPlan) error {
	for p.changeTry < 30 {
		p.changeTry++
		k := p.changeTry
		var quote, confirm plan.Request
		if p.scenario == scPrepay {
			quote = plan.PrepayRequest{RequestID: fmt.Sprintf("prepay-%s-q%d", p.tag(), k)}
		} else {
			quote = plan.CancelRequest{RequestID: fmt.Sprintf("cancel-%s-q%d", p.tag(), k), Mode: plan.CancelLumpSum}
		}
		qr, err := r.twice(ctx, p, quote)
		if err != nil {
			return err
		}
		if qr.State != plan.StateActive {
			// Paid off by its debits first: a plan whose signature was
			// held up (a worker killed during its activation) starts with
			// its due dates behind it and collects them at once.
			if qr.State == plan.StateClosed {
				p.changeMissed = true
				return nil
			}
			return fmt.Errorf("the plan is %s before its %s was applied (refusals: %q)", qr.State, p.scenario, p.refusals)
		}
		if !qr.Accepted || qr.Quote == nil {
			p.refusals = append(p.refusals, "quote: "+qr.Reason)
			time.Sleep(200 * time.Millisecond)
			continue
		}
		if p.scenario == scPrepay {
			confirm = plan.PrepayRequest{RequestID: fmt.Sprintf("prepay-%s-c%d", p.tag(), k), QuoteID: qr.Quote.ID}
		} else {
			confirm = plan.CancelRequest{RequestID: fmt.Sprintf("cancel-%s-c%d", p.tag(), k), QuoteID: qr.Quote.ID}
		}
		cr, err := r.twice(ctx, p, confirm)
		if err != nil && permanent(err) {
			// Delivered as a Signal first, the confirmation may have
			// closed the plan before its Update arrived: the plan says so.
			if st, serr := r.status(ctx, p.id); serr == nil && st.State == plan.StateClosed && st.CloseReason == p.closeReason() {
				p.changed, p.dueNow = true, qr.Quote.DueNow
				return nil
			}
		}
		if err != nil {
			return err
		}
		if cr.Accepted {
			p.changed, p.dueNow = true, qr.Quote.DueNow
			return nil
		}
		p.refusals = append(p.refusals, "confirm: "+cr.Reason)
	}
	return fmt.Errorf("%s not applied after %d quotes: %q", p.scenario, p.changeTry, p.refusals)
}
