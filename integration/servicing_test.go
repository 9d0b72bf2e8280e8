// Package integration runs whole plans against a real Temporal dev server
// and a real PostgreSQL, on a compressed calendar: what a user of the
// running system would see, including a worker that dies mid-debit.
package integration

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/fenqi/fenqi/activities"
	"github.com/fenqi/fenqi/frontdoor"
	"github.com/fenqi/fenqi/internal/histories"
	"github.com/fenqi/fenqi/internal/testenv"
	"github.com/fenqi/fenqi/internal/testsystem"
	"github.com/fenqi/fenqi/plan"
	"github.com/fenqi/fenqi/store"
)

func TestMain(m *testing.M) { testenv.Main(m) }

type system struct {
	t     testing.TB
	st    *store.Store
	door  *frontdoor.Door
	queue string
}

func newSystem(t testing.TB) *system {
	t.Helper()
	st := testsystem.Store(t)
	queue := "it-" + uuid.NewString()
	return &system{t: t, st: st, door: frontdoor.New(testenv.TemporalClient(t), queue), queue: queue}
}

// startWorker runs a worker with acts; stop it with the returned func.
func (s *system) startWorker(acts *activities.Activities) func() {
	s.t.Helper()
	return testsystem.WorkerOn(s.t, s.queue, acts)
}

func customer(t testing.TB, name string) plan.Customer { return testsystem.Customer(t, name) }

// activePlan applies on a compressed calendar (daySeconds real seconds a
// business day), chooses the annuity offer over terms, signs, and funds the
// account with funding.
func (s *system) activePlan(ctx context.Context, daySeconds float64, amount string, terms int, funding string) string {
	s.t.Helper()
	return s.activePlanOf(ctx, customer(s.t, "strong"), daySeconds, amount, terms, funding)
}

// activePlanOf is activePlan for customer c (a customer of their own has
// a funding account of their own).
func (s *system) activePlanOf(ctx context.Context, c plan.Customer, daySeconds float64, amount string, terms int, funding string) string {
	s.t.Helper()
	app := plan.Application{
		RequestID: "it-" + uuid.NewString(), Customer: c, Amount: decimal.RequireFromString(amount), Terms: terms,
		// On a compressed calendar the offer and signing windows are
		// stretched (as `starter apply --day-seconds` does), so that the
		// test's own steps never outrun them.
		Settings: plan.Settings{DaySeconds: daySeconds, OfferTTL: 50 * 365 * 24 * time.Hour, SignTTL: 50 * 365 * 24 * time.Hour},
	}
	applied, err := s.door.Apply(ctx, app)
	if err != nil || applied.State != plan.StateOffered {
		s.t.Fatalf("apply: %+v %v", applied, err)
	}
	st, err := s.door.Status(ctx, applied.PlanID)
	if err != nil {
		s.t.Fatal(err)
	}
	offer := 0
	for _, o := range st.Offers {
		if o.Method == "annuity" && o.Terms == terms {
			offer = o.No
		}
	}
	if offer == 0 {
		s.t.Fatalf("no annuity offer over %d terms: %+v", terms, st.Offers)
	}
	reply, err := s.door.Choose(ctx, applied.PlanID, plan.ChooseRequest{RequestID: "c-" + uuid.NewString(), OfferSet: st.OfferSet, Offer: offer})
	if err != nil || !reply.Accepted {
		s.t.Fatalf("choose: %+v %v", reply, err)
	}
	reply, err = s.door.Sign(ctx, applied.PlanID, plan.SignRequest{RequestID: "s-" + uuid.NewString(), DocumentHash: reply.AgreementHash, Name: "张三", Consent: true})
	if err != nil || reply.State != plan.StateActive {
		s.t.Fatalf("sign: %+v %v", reply, err)
	}
	var acct uuid.UUID
	if err := s.st.Pool().QueryRow(ctx, `SELECT funding_account_id FROM plans WHERE id = $1`, applied.PlanID).Scan(&acct); err != nil {
		s.t.Fatal(err)
	}
	if _, err := s.st.Fund(ctx, acct, decimal.RequireFromString(funding), "fund-"+uuid.NewString()); err != nil {
		s.t.Fatal(err)
	}
	return applied.PlanID
}

// waitFor polls the plan's status until it reaches state or the deadline.
func (s *system) waitFor(ctx context.Context, id string, state plan.State, within time.Duration) plan.Status {
	s.t.Helper()
	deadline := time.Now().Add(within)
	for {
		st, err := s.door.Status(ctx, id)
		if err == nil && st.State == state {
			return st
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("plan %s is %s after %s, want %s (%v)", id, st.State, within, state, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (s *system) sum(sql string, args ...any) decimal.Decimal {
	s.t.Helper()
	var d decimal.Decimal
	if err := s.st.Pool().QueryRow(context.Background(), sql, args...).Scan(&d); err != nil {
		s.t.Fatalf("%s: %v", sql, err)
	}
	return d
}

// A worker that dies after the gateway charged a debit but before the
// payment was recorded: the debit is retried on another worker with the
// same idempotency key and the customer is charged once; the plan runs on
// to payoff and the books balance.
func TestWorkerRestartedMidDebitChargesOnce(t *testing.T) {
	ctx := context.Background()
	s := newSystem(t)
	hit := make(chan string, 1)
	crashing := activities.New(s.st)
	crashing.AfterDebit = func(ctx context.Context, key string) error {
		select {
		case hit <- key:
		default:
		}
		<-ctx.Done() // the worker is going down with the debit half done
		return ctx.Err()
	}
	stopA := s.startWorker(crashing)
	id := s.activePlan(ctx, 0.02, "12000", 12, "100000")

	var key string
	select {
	case key = <-hit:
	case <-time.After(60 * time.Second):
		t.Fatal("the first debit never reached the gateway")
	}
	stopA()
	s.startWorker(activities.New(s.st))
	st := s.waitFor(ctx, id, plan.StateClosed, 3*time.Minute)

	var charged int
	if err := s.st.Pool().QueryRow(ctx, `SELECT count(*) FROM account_entries WHERE idempotency_key = $1`, key).Scan(&charged); err != nil {
		t.Fatal(err)
	}
	if charged != 1 {
		t.Fatalf("the interrupted debit %s was charged %d times, want once", key, charged)
	}
	debited := s.sum(`SELECT coalesce(sum(e.amount), 0) FROM account_entries e JOIN plans p ON p.funding_account_id = e.account_id WHERE p.id = $1 AND e.kind = 'debit'`, id)
	paid := s.sum(`SELECT coalesce(sum(amount), 0) FROM payments WHERE plan_id = $1`, id)
	allocated := s.sum(`SELECT coalesce(sum(a.amount), 0) FROM payment_allocations a WHERE a.plan_id = $1`, id)
	if !debited.Equal(st.TotalAmount) || !paid.Equal(debited) || !allocated.Equal(paid) {
		t.Fatalf("books: debited %s, payments %s, allocated %s, schedule total %s; want all equal", debited, paid, allocated, st.TotalAmount)
	}
	if st.PaidInstallments != 12 {
		t.Fatalf("%d of 12 instalments paid", st.PaidInstallments)
	}
	pid, _ := plan.ParseID(id)
	histories.Record(t, testenv.TemporalClient(t), plan.WorkflowID(pid), "servicing-worker-restarted-mid-debit")
}

// TestCostOfATwelveInstalmentPlan runs a plan from application to payoff
// on a compressed calendar and reports the history events and billable
// actions it cost, per instalment.
func TestCostOfATwelveInstalmentPlan(t *testing.T) {
	ctx := context.Background()
	s := newSystem(t)
	s.startWorker(activities.New(s.st))
	id := s.activePlan(ctx, 0.02, "12000", 12, "100000")
	s.waitFor(ctx, id, plan.StateClosed, 2*time.Minute)
	pid, err := plan.ParseID(id)
	if err != nil {
		t.Fatal(err)
	}
	cost, err := histories.ChainCost(ctx, testenv.TemporalClient(t), plan.WorkflowID(pid))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("12-instalment plan, application to payoff: %d runs, %d history events (largest run %d), %d billable actions; per instalment %.1f events, %.1f actions",
		cost.Runs, cost.Events, cost.MaxRunEvents, cost.Actions, float64(cost.Events)/12, float64(cost.Actions)/12)
	if cost.MaxRunEvents > 2000 {
		t.Errorf("a run has %d history events, over the 2,000 bound", cost.MaxRunEvents)
	}
	if cost.Actions == 0 || cost.Events == 0 {
		t.Fatal(errors.New("no cost measured"))
	}
	histories.Record(t, testenv.TemporalClient(t), plan.WorkflowID(pid), "servicing-12-paid-off")
}
