package workflows_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/fenqi/fenqi/activities"
	"github.com/fenqi/fenqi/calc"
	"github.com/fenqi/fenqi/internal/testsystem"
	"github.com/fenqi/fenqi/plan"
	"github.com/fenqi/fenqi/underwriting"
	"github.com/fenqi/fenqi/workflows"
)

// ---- a plan over several runs (Continue-As-New) ----
//
// The time-skipping test environment ends a workflow that continues as new
// with a ContinueAsNewError; it neither runs the next run nor counts
// history events (GetCurrentHistoryLength is whatever the test sets). So a
// chain runs each run in an environment of its own, started at the instant
// the previous run ended with the input it carried, and feeds the workflow
// a modelled history length: the events a Temporal server records for
// what the run did, counted by the environment's listeners:
//
//	start              WorkflowExecutionStarted + the first workflow task (3)
//	timer              TimerStarted; when it fires TimerFired + a workflow task (3);
//	                   TimerCanceled when cancelled
//	activity           ActivityTaskScheduled, Started, Completed + a workflow task (3)
//	local activity     MarkerRecorded
//	search attributes  UpsertWorkflowSearchAttributes
//	Update             UpdateAccepted, UpdateCompleted + a workflow task (3)
//	end                WorkflowExecutionCompleted / ContinuedAsNew
//
// A real server may batch events that arrive together into one workflow
// task, so the model errs on the long side. BenchmarkPlanCost (integration)
// measures the real histories; they agree: 12 instalments 196 events real,
// 194 modelled; 360 instalments 5 runs of 1006/1013/1013/1013/347 events
// real, 1005/1006/1013/1013/371 modelled.

// runStats is what one run did.
type runStats struct {
	events, activities, collects, timers, upserts, updates int
	// carried is the size of the state the run continued as new with.
	carried int
	// firstNo and lastNo are the first and last instalments debited in
	// the run.
	firstNo, lastNo int
}

func (s runStats) String() string {
	out := fmt.Sprintf("%d events (%d activities, %d debits of instalments %d-%d, %d timers, %d upserts, %d updates)",
		s.events, s.activities, s.collects, s.firstNo, s.lastNo, s.timers, s.upserts, s.updates)
	if s.carried > 0 {
		out += fmt.Sprintf(", continued as new with %d bytes of state", s.carried)
	}
	return out
}

// historyModel counts the modelled events of one run and sets them as the
// run's current history length.
type historyModel struct {
	env                                     *testsuite.TestWorkflowEnvironment
	scheduled, completed, local, collects   atomic.Int64
	timers, fired, cancelled, upsert, updts atomic.Int64
	mu                                      sync.Mutex
	firstNo, lastNo                         int
}

func watchHistory(env *testsuite.TestWorkflowEnvironment) *historyModel {
	m := &historyModel{env: env}
	env.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, args converter.EncodedValues) {
		m.scheduled.Add(1)
		if info.ActivityType.Name == "Collect" {
			var in activities.CollectInput
			if err := args.Get(&in); err == nil {
				m.mu.Lock()
				if m.firstNo == 0 {
					m.firstNo = in.No
				}
				m.lastNo = in.No
				m.mu.Unlock()
			}
			m.collects.Add(1)
		}
	})
	env.SetOnActivityCompletedListener(func(*activity.Info, converter.EncodedValue, error) {
		m.completed.Add(1)
		m.env.SetCurrentHistoryLength(m.events())
	})
	env.SetOnLocalActivityCompletedListener(func(*activity.Info, converter.EncodedValue, error) { m.local.Add(1) })
	env.SetOnTimerScheduledListener(func(string, time.Duration) { m.timers.Add(1) })
	env.SetOnTimerFiredListener(func(string) {
		m.fired.Add(1)
		m.env.SetCurrentHistoryLength(m.events())
	})
	env.SetOnTimerCanceledListener(func(string) { m.cancelled.Add(1) })
	env.OnUpsertTypedSearchAttributes(mock.Anything).Return().Run(func(mock.Arguments) { m.upsert.Add(1) }).Maybe()
	return m
}

// update counts an Update sent to the run.
func (m *historyModel) update() { m.updts.Add(1) }

func (m *historyModel) events() int {
	return int(4 + m.timers.Load() + 4*m.fired.Load() + m.cancelled.Load() +
		m.scheduled.Load() + 5*m.completed.Load() + m.local.Load() + m.upsert.Load() + 5*m.updts.Load())
}

func (m *historyModel) stats() runStats {
	m.mu.Lock()
	defer m.mu.Unlock()
	return runStats{
		events: m.events() + 1, activities: int(m.scheduled.Load()), collects: int(m.collects.Load()),
		timers: int(m.timers.Load()), upserts: int(m.upsert.Load()), updates: int(m.updts.Load()),
		firstNo: m.firstNo, lastNo: m.lastNo,
	}
}

// newRunWith is newRun with the activities acts (a custom credit policy).
func (d *db) newRunWith(app plan.Application, acts *activities.Activities) *planRun {
	d.t.Helper()
	var s testsuite.WorkflowTestSuite
	s.SetLogger(envLogger)
	env := s.NewTestWorkflowEnvironment()
	env.SetStartTime(t0)
	workflows.Register(env, acts)
	return &planRun{t: d.t, db: d, env: env, app: app, id: plan.IDFromRequest(app.RequestID)}
}

// chain is a plan's runs.
type chain struct {
	runs []runStats
	// last is the last run; its result is the plan's.
	last *planRun
	// carried is the state the last run started with (nil for the first).
	carried *workflows.Plan
}

// runChain runs the plan of app until it ends without continuing as new:
// first sets up the first run (activation, funding), then(n, r) each later
// run n (from 2), before it starts.
func (d *db) runChain(app plan.Application, acts *activities.Activities, first func(*planRun, *historyModel), then func(int, *planRun, *historyModel)) *chain {
	d.t.Helper()
	c := &chain{}
	r := d.newRunWith(app, acts)
	m := watchHistory(r.env)
	first(r, m)
	r.execute()
	for {
		c.runs = append(c.runs, m.stats())
		c.last = r
		var can *workflow.ContinueAsNewError
		if !errors.As(r.env.GetWorkflowError(), &can) {
			return c
		}
		for _, p := range can.Input.GetPayloads() {
			c.runs[len(c.runs)-1].carried += len(p.GetData())
		}
		var in workflows.Input
		if err := converter.GetDefaultDataConverter().FromPayloads(can.Input, &in); err != nil {
			d.t.Fatalf("decode the input of run %d: %v", len(c.runs)+1, err)
		}
		if in.Carry == nil || in.Carry.State != plan.StateActive {
			d.t.Fatalf("run %d continued as new without an active plan's state: %+v", len(c.runs), in.Carry)
		}
		c.carried = in.Carry
		ended := r.env.Now()
		r = d.newRunWith(app, acts)
		r.env.SetStartTime(ended)
		m = watchHistory(r.env)
		if then != nil {
			then(len(c.runs)+1, r, m)
		}
		r.env.ExecuteWorkflow(plan.WorkflowName, in)
		if !r.env.IsWorkflowCompleted() {
			d.t.Fatalf("run %d did not complete", len(c.runs)+1)
		}
	}
}

// maxEvents is the longest run's modelled history.
func (c *chain) maxEvents() int {
	n := 0
	for _, s := range c.runs {
		n = max(n, s.events)
	}
	return n
}

func (c *chain) log(t *testing.T, terms int) {
	t.Helper()
	total := 0
	for i, s := range c.runs {
		t.Logf("run %d: %s", i+1, s)
		total += s.events
	}
	t.Logf("%d instalments: %d runs, %d modelled events in all (%.1f per instalment), longest run %d",
		terms, len(c.runs), total, float64(total)/float64(terms), c.maxEvents())
}

func longPolicy(t *testing.T) *underwriting.Policy { return testsystem.LongTermPolicy(t) }

// ---- checks a user would make ----

// money sums a query's single numeric column.
func (d *db) money(sql string, args ...any) decimal.Decimal {
	d.t.Helper()
	var v decimal.Decimal
	if err := d.st.Pool().QueryRow(context.Background(), sql, args...).Scan(&v); err != nil {
		d.t.Errorf("query %q: %v", sql, err)
	}
	return v
}

// wantBooksBalance checks the plan's books to the cent: the gateway
// debited exactly what was recorded as auto-debit payments and successful
// debit attempts; no payment is allocated beyond its amount; every
// instalment's paid columns equal what was allocated to it, component by
// component.
func (d *db) wantBooksBalance(planID any) {
	d.t.Helper()
	debited := d.money(`SELECT coalesce(sum(e.amount), 0) FROM account_entries e JOIN plans p ON p.funding_account_id = e.account_id
		WHERE p.id = $1 AND e.kind = 'debit'`, planID)
	auto := d.money(`SELECT coalesce(sum(amount), 0) FROM payments WHERE plan_id = $1 AND source = 'auto_debit'`, planID)
	attempts := d.money(`SELECT coalesce(sum(amount), 0) FROM debit_attempts WHERE plan_id = $1 AND outcome = 'succeeded'`, planID)
	if !debited.Equal(auto) || !auto.Equal(attempts) {
		d.t.Errorf("books: the gateway debited %s, auto-debit payments %s, successful debit attempts %s; want all equal", debited, auto, attempts)
	}
	if n := d.count(`SELECT count(*) FROM payments p WHERE p.plan_id = $1 AND p.amount <
		(SELECT coalesce(sum(a.amount), 0) FROM payment_allocations a WHERE a.payment_id = p.id)`, planID); n != 0 {
		d.t.Errorf("books: %d payments allocated beyond their amount", n)
	}
	if bad := d.texts(`SELECT i.no::text FROM instalments i WHERE i.plan_id = $1 AND (
			i.paid_principal <> (SELECT coalesce(sum(amount), 0) FROM payment_allocations a WHERE a.plan_id = i.plan_id AND a.schedule_version = i.schedule_version AND a.instalment_no = i.no AND a.component = 'principal')
			OR i.paid_interest <> (SELECT coalesce(sum(amount), 0) FROM payment_allocations a WHERE a.plan_id = i.plan_id AND a.schedule_version = i.schedule_version AND a.instalment_no = i.no AND a.component = 'interest')
			OR i.paid_fee <> (SELECT coalesce(sum(amount), 0) FROM payment_allocations a WHERE a.plan_id = i.plan_id AND a.schedule_version = i.schedule_version AND a.instalment_no = i.no AND a.component = 'fee')
			OR i.paid_penalty <> (SELECT coalesce(sum(amount), 0) FROM payment_allocations a WHERE a.plan_id = i.plan_id AND a.schedule_version = i.schedule_version AND a.instalment_no = i.no AND a.component = 'penalty'))
		ORDER BY i.no`, planID); len(bad) > 0 {
		d.t.Errorf("books: the paid columns of instalments %v differ from their allocations", bad)
	}
}

// wantPaidOff checks a plan that ended paid off: the workflow's result,
// the plan and instalment rows, the money and the credit line.
func (r *planRun) wantPaidOff(res plan.Status, terms int) {
	r.t.Helper()
	d := r.db
	if res.State != plan.StateClosed || res.PaidInstallments != terms || res.TotalInstallments != terms {
		r.t.Fatalf("result %s, %d of %d paid; want closed, %d of %d", res.State, res.PaidInstallments, res.TotalInstallments, terms, terms)
	}
	if !res.PaidAmount.Equal(res.TotalAmount) || !res.OutstandingPrincipal.IsZero() {
		r.t.Errorf("paid %s of %s, outstanding principal %s; want all paid", res.PaidAmount, res.TotalAmount, res.OutstandingPrincipal)
	}
	if s := d.planState(r.id); s != "closed" {
		r.t.Errorf("plan row is %s, want closed", s)
	}
	if n := d.count(`SELECT count(*) FROM instalments WHERE plan_id = $1 AND status = 'paid'`, r.id); n != terms {
		r.t.Errorf("%d instalment rows paid, want %d", n, terms)
	}
	scheduled := d.money(`SELECT coalesce(sum(payment), 0) FROM instalments WHERE plan_id = $1`, r.id)
	received := d.money(`SELECT coalesce(sum(amount), 0) FROM payment_allocations WHERE plan_id = $1`, r.id)
	if !scheduled.Equal(res.TotalAmount) || !received.Equal(scheduled) {
		r.t.Errorf("the schedule totals %s (workflow %s), %s was allocated to it", scheduled, res.TotalAmount, received)
	}
	if n := d.count(`SELECT count(*) FROM credit_lines c JOIN plans p ON p.customer_id = c.customer_id WHERE p.id = $1 AND c.used = 0`, r.id); n != 1 {
		r.t.Errorf("the credit line was not released")
	}
	d.wantNotice(r.id, "closed", "notice", string(r.app.Customer.PreferredChannel))
	d.wantBooksBalance(r.id)
}

// ---- lifecycles ----

// Plans of 12 and 36 instalments with enough money in the account are
// debited on each due date at 09:00 and close paid off: every instalment
// paid on its due date for exactly its amount, one reminder at D-3 08:00
// and one debit notice per instalment, the books balanced to the cent, the
// search attributes upserted only when a value changes.
func TestLifecyclePaidOffByAutoDebit(t *testing.T) {
	for _, terms := range []int{12, 36} {
		t.Run(fmt.Sprintf("%d instalments", terms), func(t *testing.T) {
			d := newDB(t)
			app := application(t, fmt.Sprintf("app-life-%d", terms), customer(t, "strong"), fmt.Sprintf("%d.00", terms*1000), terms)
			c := d.runChain(app, activities.New(d.st), func(r *planRun, m *historyModel) {
				r.activeAt()
				m.update()
				m.update()
				r.fundAt(3*time.Hour, "100000.00")
			}, nil)
			c.log(t, terms)
			r := c.last
			res := r.result()
			r.wantPaidOff(res, terms)
			if len(c.runs) != 1 {
				t.Errorf("%d runs, want 1: %d instalments stay far below the history bound", len(c.runs), terms)
			}

			// Each instalment: paid on its due date at 09:00 by one debit of
			// exactly its amount.
			rows := d.texts(`SELECT i.no || ' ' || i.payment || ' ' || to_char(i.paid_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI')
					|| ' ' || (SELECT string_agg(a.amount::text, ',') FROM debit_attempts a WHERE a.plan_id = i.plan_id AND a.instalment_no = i.no)
				FROM instalments i WHERE i.plan_id = $1 ORDER BY i.no`, r.id)
			if len(rows) != terms {
				t.Fatalf("%d instalment rows, want %d", len(rows), terms)
			}
			for k, row := range rows {
				due := dueDate(k + 1)
				p := res.Schedule[k].Payment.StringFixed(2)
				if want := fmt.Sprintf("%d %s %s 09:00 %s", k+1, p, due, p); row != want {
					t.Errorf("instalment row %q, want %q (no, payment, paid at, debits)", row, want)
				}
				if !res.Schedule[k].DueDate.Equal(due) {
					t.Errorf("instalment %d due %s, want %s", k+1, res.Schedule[k].DueDate, due)
				}
			}
			if n := d.count(`SELECT count(*) FROM debit_attempts WHERE plan_id = $1 AND outcome <> 'succeeded'`, r.id); n != 0 {
				t.Errorf("%d debit attempts did not succeed, want none", n)
			}
			// The customer heard: the schedule, a reminder at D-3 08:00 and
			// the debit's result for each instalment, the closing.
			reminders := d.texts(`SELECT instalment_no || ' ' || to_char(scheduled_for AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI')
				FROM contacts WHERE plan_id = $1 AND purpose = 'reminder' ORDER BY instalment_no`, r.id)
			if len(reminders) != terms {
				t.Errorf("%d reminders, want %d", len(reminders), terms)
			}
			for k, rem := range reminders {
				if want := fmt.Sprintf("%d %s 08:00", k+1, dueDate(k+1).AddDays(-3)); rem != want {
					t.Errorf("reminder %q, want %q", rem, want)
				}
			}
			for k := 1; k <= terms; k++ {
				if body := d.wantNotice(r.id, fmt.Sprintf("due:v1:%d:1", k), "notice", "push"); !strings.Contains(body, "We collected "+res.Schedule[k-1].Payment.StringFixed(2)) {
					t.Errorf("debit notice %d: %q", k, body)
				}
			}
			d.wantNotice(r.id, "schedule:1", "schedule_notice", "push")
			if n := d.count(`SELECT count(*) FROM contacts WHERE plan_id = $1`, r.id); n != 2*terms+4 {
				t.Errorf("%d contacts, want %d: the approval, the agreement, the schedule, a reminder and a notice per instalment, the closing",
					n, 2*terms+4)
			}
			// The plan closed on its last due date, right after the debit.
			last := dueAt(terms, 9, 0)
			if ended := r.env.Now().Sub(t0); ended < last || ended > last+time.Hour {
				t.Errorf("the workflow ended %s after the start, want just after the last debit at %s", ended, last)
			}
			// Search attributes: NextDueDate once per instalment, plus the
			// plan states and the first bucket; nothing when nothing changed.
			if up := c.runs[0].upserts; up > terms+8 {
				t.Errorf("%d search-attribute upserts for %d instalments, want at most one per instalment plus the state changes", up, terms)
			}
		})
	}
}

// A 360-instalment plan (30 years, monthly) runs through its whole life,
// continuing as new whenever its history passes the bound, and closes paid
// off: every instalment collected once, the books balanced to the cent, no
// run's (modelled) history beyond 2,000 events. A payment made in the
// first run is recognised by its id in a later one. The default policy
// grants at most 36 months, so the plan is granted by a policy allowing
// 360 (the servicing path is the same).
func TestLifecycleOf360Instalments(t *testing.T) {
	lifecycleOverRuns(t, 360)
}

// The same over 120 instalments: a shorter plan crossing the bound.
func TestLifecycleOf120Instalments(t *testing.T) {
	lifecycleOverRuns(t, 120)
}

func lifecycleOverRuns(t *testing.T, terms int) {
	started := time.Now()
	d := newDB(t)
	acts := activities.New(d.st)
	acts.Policy = longPolicy(t)
	app := application(t, fmt.Sprintf("app-life-%d", terms), customer(t, "strong"), "100000.00", terms)
	var early, again *outcome
	pay := plan.PaymentRequest{RequestID: "pay-early", Amount: dec("100.00"), Source: "manual"}
	c := d.runChain(app, acts, func(r *planRun, m *historyModel) {
		r.activeAt()
		m.update()
		m.update()
		r.fundAt(3*time.Hour, "400000.00")
		early = r.sendAt(4*time.Hour, plan.MsgPay, pay)
		m.update()
	}, func(run int, r *planRun, m *historyModel) {
		if run == 2 {
			again = r.sendAt(time.Hour, plan.MsgPay, pay)
			m.update()
		}
	})
	c.log(t, terms)
	r := c.last
	res := r.result()
	r.wantPaidOff(res, terms)

	if len(c.runs) < 2 {
		t.Fatalf("%d run(s), want the plan to continue as new", len(c.runs))
	}
	if c.carried.Runs != len(c.runs)-1 {
		t.Errorf("the last run was carried as run %d, want %d", c.carried.Runs+1, len(c.runs))
	}
	if m := c.maxEvents(); m > 2000 {
		t.Errorf("the longest run has %d modelled events, over the 2,000 bound", m)
	}
	// Every run ends at an instalment boundary and the next takes over:
	// the instalments are collected once each, in order.
	next := 1
	for i, s := range c.runs {
		if s.collects == 0 {
			continue
		}
		if s.firstNo != next {
			t.Errorf("run %d collected instalments %d-%d, want from %d", i+1, s.firstNo, s.lastNo, next)
		}
		next = s.lastNo + 1
	}
	if next != terms+1 {
		t.Errorf("the runs collected up to instalment %d, want %d", next-1, terms)
	}
	if n := d.count(`SELECT count(*) FROM debit_attempts WHERE plan_id = $1 AND outcome = 'succeeded'`, r.id); n != terms {
		t.Errorf("%d successful debits, want %d", n, terms)
	}
	// The early payment: one row, the same reply in both runs, 100.00 less
	// debited for instalment 1.
	first, second := early.wantReply(t), again.wantReply(t)
	if first != second || !first.Accepted {
		t.Errorf("the repeated payment was answered %+v, first %+v; want the same acceptance", second, first)
	}
	if n := d.count(`SELECT count(*) FROM payments WHERE plan_id = $1 AND source = 'manual'`, r.id); n != 1 {
		t.Errorf("%d manual payments, want 1", n)
	}
	want := res.Schedule[0].Payment.Sub(dec("100.00"))
	if got := d.money(`SELECT amount FROM debit_attempts WHERE plan_id = $1 AND instalment_no = 1`, r.id); !got.Equal(want) {
		t.Errorf("instalment 1 was debited %s, want %s (its amount less the early payment)", got, want)
	}
	if n := d.count(`SELECT count(*) FROM contacts WHERE plan_id = $1 AND purpose = 'reminder'`, r.id); n != terms {
		t.Errorf("%d reminders, want %d", n, terms)
	}
	last := dueAt(terms, 9, 0)
	if ended := r.env.Now().Sub(t0); ended < last || ended > last+time.Hour {
		t.Errorf("the plan ended %s after the start, want just after the last debit at %s", ended, last)
	}
	t.Logf("%d instalments in %s (wall clock)", terms, time.Since(started).Round(time.Millisecond))
}

// dueDate is the due date of instalment k of a monthly plan activated on
// t0's date (2026-03-02): the 2nd of each month from April 2026.
func dueDate(k int) calc.Date {
	return calc.DateOf(time.Date(2026, time.Month(3+k), 2, 0, 0, 0, 0, time.UTC))
}

// dueAt is how long after t0 instalment k's due date at h:m in Shanghai is
// (the tests run on the real calendar).
func dueAt(k, h, m int) time.Duration { return onDay(dueDate(k), h, m) }

// onDay is how long after t0 the date d at h:m in Shanghai is.
func onDay(d calc.Date, h, m int) time.Duration { return d.At(shanghai(), h, m, 0).Sub(t0) }

var shanghaiOnce = sync.OnceValue(func() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		panic(err)
	}
	return loc
})

func shanghai() *time.Location { return shanghaiOnce() }

// ---- measured on a real server (opt-in) ----
