package integration

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/fenqi/fenqi/activities"
	"github.com/fenqi/fenqi/collection"
	"github.com/fenqi/fenqi/frontdoor"
	"github.com/fenqi/fenqi/internal/histories"
	"github.com/fenqi/fenqi/internal/testenv"
	"github.com/fenqi/fenqi/plan"
)

// collectionDay is the business day of the collection scenarios, in real
// seconds: fast enough to reach M7 in seconds. A timer or an activity can
// start up to a second late on the dev server, which is 20 business days
// at this speed: the scenarios wait for stages, not for rounds.
// recoveryDay is slower, so that the plan measured for its cost gets every
// round of M1 to M3 on time and a quote (valid one business day) can be
// confirmed.
const (
	collectionDay = 0.05
	recoveryDay   = 0.2
)

// inCollection reports whether the ladder has gone out in one of stages.
func inCollection(stages ...string) func(plan.CollectionStatus) bool {
	return func(cs plan.CollectionStatus) bool { return cs.Collecting && slices.Contains(stages, cs.Stage) }
}

// storeDoor is the front door with the database, as the API and the CLI
// run it: its collection status states what is owed today.
func (s *system) storeDoor() *frontdoor.Door {
	return frontdoor.New(testenv.TemporalClient(s.t), s.queue, frontdoor.WithStore(s.st))
}

// waitCollection polls the plan's collection status until ok holds or the
// deadline passes.
func (s *system) waitCollection(ctx context.Context, door *frontdoor.Door, id, what string, within time.Duration, ok func(plan.CollectionStatus) bool) plan.CollectionStatus {
	s.t.Helper()
	deadline := time.Now().Add(within)
	for {
		cs, err := door.Collection(ctx, id)
		if err == nil && ok(cs) {
			return cs
		}
		if time.Now().After(deadline) {
			rows, _ := s.st.Pool().Query(ctx, `SELECT schedule_version || ' #' || no || ' ' || due_date || ' ' || status || ' pay ' || payment || ' pen ' || penalty_accrued || ' paid ' || (paid_principal+paid_interest+paid_fee+paid_penalty) FROM instalments WHERE plan_id = $1 ORDER BY schedule_version, no`, id)
			for rows.Next() {
				var x string
				_ = rows.Scan(&x)
				s.t.Log(x)
			}
			rows.Close()
			s.t.Fatalf("plan %s: %s not reached within %s: stage %s, bucket %s, next %+v (%v)", id, what, within, cs.Stage, cs.Bucket, cs.Next, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// accepted fails the test unless the plan accepted the request:
// accepted(t, "pay")(door.Pay(...)).
func accepted(t *testing.T, what string) func(plan.Reply, error) plan.Reply {
	return func(rp plan.Reply, err error) plan.Reply {
		t.Helper()
		if err != nil || !rp.Accepted {
			t.Fatalf("%s: %+v %v", what, rp, err)
		}
		return rp
	}
}

// fund tops up the plan's funding account.
func (s *system) fund(ctx context.Context, id, amount string) {
	s.t.Helper()
	var acct uuid.UUID
	if err := s.st.Pool().QueryRow(ctx, `SELECT funding_account_id FROM plans WHERE id = $1`, id).Scan(&acct); err != nil {
		s.t.Fatal(err)
	}
	if _, err := s.st.Fund(ctx, acct, decimal.RequireFromString(amount), "fund-"+uuid.NewString()); err != nil {
		s.t.Fatal(err)
	}
}

// wantBooks checks a plan's books: every payment allocated in full, the
// gateway debited what auto-debit collected.
func (s *system) wantBooks(id string) {
	s.t.Helper()
	paid := s.sum(`SELECT coalesce(sum(amount), 0) FROM payments WHERE plan_id = $1`, id)
	allocated := s.sum(`SELECT coalesce(sum(amount), 0) FROM payment_allocations WHERE plan_id = $1`, id)
	debits := s.sum(`SELECT coalesce(sum(e.amount), 0) FROM account_entries e JOIN plans p ON p.funding_account_id = e.account_id WHERE p.id = $1 AND e.kind = 'debit'`, id)
	autoPaid := s.sum(`SELECT coalesce(sum(amount), 0) FROM payments WHERE plan_id = $1 AND source = 'auto_debit'`, id)
	if !allocated.Equal(paid) || !debits.Equal(autoPaid) {
		s.t.Errorf("books: payments %s, allocated %s; debited %s, auto-debit payments %s", paid, allocated, debits, autoPaid)
	}
}

// A plan nobody pays goes through M1 and M2 into M3; the debtor then pays
// what the collection status says is owed today, the plan is current again
// and, with the account funded, runs to payoff. The closing figures are
// the billable actions and history events of the whole plan.
func TestPlanRecoversFromM3(t *testing.T) {
	ctx := context.Background()
	s := newSystem(t)
	s.startWorker(activities.New(s.st))
	door := s.storeDoor()
	id := s.activePlan(ctx, recoveryDay, "6000", 6, "0.01")
	// The same plan paid on time, side by side, for the cost of collection.
	other := customer(t, "strong")
	other.Ref += "-on-time"
	onTime := s.activePlanOf(ctx, other, recoveryDay, "6000", 6, "100000")
	m3 := s.waitCollection(ctx, door, id, "stage M3", time.Minute, inCollection("M3"))
	if !m3.Owed.Penalty.IsPositive() || m3.AsOf != m3.Today {
		t.Errorf("at M3: penalty %s, owed as of %s on %s; want late charges as of today", m3.Owed.Penalty, m3.AsOf, m3.Today)
	}
	t.Logf("at M3: today %s as of %s owed %s %+v", m3.Today, m3.AsOf, m3.OwedTotal, m3.Owed)
	// The debtor pays the arrears and, ahead, the next instalment: a
	// business day is 0.2 s, so that one may fall due before the account
	// is funded right after.
	st0, err := door.Status(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	payment := "arrears-" + uuid.NewString()
	accepted(t, "pay the arrears")(door.Pay(ctx, id, plan.PaymentRequest{RequestID: payment,
		Amount: m3.OwedTotal.Add(st0.NextDueAmount).Add(decimal.RequireFromString("5.00")), Source: "manual"}))
	s.fund(ctx, id, "100000")
	s.waitCollection(ctx, door, id, "back to M0", 10*time.Second, func(cs plan.CollectionStatus) bool { return !cs.Collecting && cs.Stage == "M0" })
	st := s.waitFor(ctx, id, plan.StateClosed, 2*time.Minute)
	if st.PaidInstallments != 6 {
		t.Errorf("%d of 6 instalments paid", st.PaidInstallments)
	}
	s.wantBooks(id)
	// A round under way when the payment came may have queued contacts
	// just before it was recorded (then cancelled); none after it.
	if n := s.sum(`SELECT count(*) FROM contacts WHERE plan_id = $1 AND purpose = 'collection'
		AND created_at > (SELECT created_at FROM payments WHERE plan_id = $1 AND payment_id = $2)`, id, payment); n.IsPositive() {
		t.Errorf("%s collection contacts queued after the arrears were paid", n)
	}
	kinds := s.sum(`SELECT count(DISTINCT kind) FROM collection_actions WHERE plan_id = $1`, id)
	if kinds.LessThan(decimal.NewFromInt(5)) {
		t.Errorf("%s kinds of collection action, want M1-M3's 5 (message, call, notice, demand letter, restructure offer)", kinds)
	}
	s.waitFor(ctx, onTime, plan.StateClosed, 10*time.Second)
	costOf := func(id string) histories.Cost {
		pid, _ := plan.ParseID(id)
		cost, err := histories.ChainCost(ctx, testenv.TemporalClient(t), plan.WorkflowID(pid))
		if err != nil {
			t.Fatal(err)
		}
		return cost
	}
	cost, base := costOf(id), costOf(onTime)
	t.Logf("6-instalment plan through M3 and back to payoff: %d runs, %d history events (largest run %d), %d billable actions; "+
		"the same plan paid on time: %d events, %d actions (collection: +%d actions, x%.2f)",
		cost.Runs, cost.Events, cost.MaxRunEvents, cost.Actions, base.Events, base.Actions, cost.Actions-base.Actions, float64(cost.Actions)/float64(base.Actions))
	if cost.Actions <= base.Actions {
		t.Errorf("collection cost %d actions, the plan paid on time %d: the ladder did not run", cost.Actions, base.Actions)
	}
	pid, _ := plan.ParseID(id)
	histories.Record(t, testenv.TemporalClient(t), plan.WorkflowID(pid), "collection-m3-recovered")
}

// A plan nobody pays: a promise to pay early in collection is broken, the legal referral
// at M4 is held and then referred, and at M7 an operator writes the plan
// off.
func TestPlanPromiseBrokenReferredWrittenOff(t *testing.T) {
	ctx := context.Background()
	s := newSystem(t)
	s.startWorker(activities.New(s.st))
	door := s.storeDoor()
	// At 0.1 s a business day the promise dated 10 days ahead has a
	// second to reach the plan, under load too.
	id := s.activePlan(ctx, 2*collectionDay, "6000", 6, "0.01")
	m1 := s.waitCollection(ctx, door, id, "collection", time.Minute, inCollection("M1", "M2", "M3"))
	half := m1.OwedTotal.Div(decimal.NewFromInt(2)).Round(2)
	accepted(t, "promise")(door.Promise(ctx, id, plan.PromiseRequest{RequestID: "pr-" + uuid.NewString(), Date: m1.Today.AddDays(10), Amount: half}))
	s.waitCollection(ctx, door, id, "promise broken", 30*time.Second, func(cs plan.CollectionStatus) bool { return cs.PromisesBroken == 1 })
	pending := func(cs plan.CollectionStatus) bool {
		return cs.Referral != nil && cs.Referral.Status == collection.ReferralPending
	}
	s.waitCollection(ctx, door, id, "referral raised", time.Minute, pending)
	accepted(t, "hold")(door.Refer(ctx, id, plan.ReferralRequest{RequestID: "rf-" + uuid.NewString(), Decision: collection.Hold, Operator: "alice", Reason: "customer says a salary is due"}))
	s.waitCollection(ctx, door, id, "referral raised again", 20*time.Second, pending)
	accepted(t, "refer")(door.Refer(ctx, id, plan.ReferralRequest{RequestID: "rf-" + uuid.NewString(), Decision: collection.Refer, Operator: "bob", Reason: "no payment after the hold"}))
	m7 := s.waitCollection(ctx, door, id, "write-off raised", time.Minute, func(cs plan.CollectionStatus) bool {
		return cs.WriteOff != nil && cs.WriteOff.Status == collection.WriteOffPending
	})
	rp := accepted(t, "write off")(door.WriteOff(ctx, id, plan.WriteOffRequest{RequestID: "wo-" + uuid.NewString(), Decision: collection.ApproveWriteOff, Operator: "carol", Reason: "uncollectable"}))
	if rp.State != plan.StateWrittenOff {
		t.Errorf("after the write-off the plan is %s", rp.State)
	}
	s.waitFor(ctx, id, plan.StateWrittenOff, 10*time.Second)
	total := s.sum(`SELECT total FROM write_offs WHERE plan_id = $1`, id)
	if total.LessThan(decimal.RequireFromString("6000")) {
		t.Errorf("written off %s, want at least the 6000.00 principal", total)
	}
	s.wantBooks(id)
	t.Logf("written off at %s (%d days past due): %s", m7.Stage, m7.DaysPastDue, total)
	pid, _ := plan.ParseID(id)
	histories.Record(t, testenv.TemporalClient(t), plan.WorkflowID(pid), "collection-promise-referral-written-off")
}

// Early in collection (M1 to M3) the debtor agrees an arrears plan (quote, then confirm): the
// arrears go onto the next three due dates, the plan is current again and,
// funded, runs to payoff.
func TestArrearsPlanRunsToPayoff(t *testing.T) {
	ctx := context.Background()
	s := newSystem(t)
	s.startWorker(activities.New(s.st))
	door := s.storeDoor()
	// A quote holds for one business day: at recoveryDay, 200 ms to confirm.
	id := s.activePlan(ctx, recoveryDay, "6000", 6, "0.01")
	s.waitCollection(ctx, door, id, "collection", time.Minute, inCollection("M1", "M2", "M3"))
	s.fund(ctx, id, "100000")
	// A quote holds one business day (200 ms here) and goes stale when a
	// debit or a ladder step changes the plan: as a client would, ask
	// again when that happens.
	var q, rp plan.Reply
	for try := 1; ; try++ {
		q = accepted(t, "arrears plan quote")(door.ArrearsPlan(ctx, id, plan.ArrearsPlanRequest{RequestID: "ap-" + uuid.NewString(), Instalments: 3}))
		if q.Quote == nil {
			t.Fatal("no quote")
		}
		var err error
		rp, err = door.ArrearsPlan(ctx, id, plan.ArrearsPlanRequest{RequestID: "ap-" + uuid.NewString(), QuoteID: q.Quote.ID})
		if err == nil && rp.Accepted {
			break
		}
		if try == 5 || err != nil || !(strings.Contains(rp.Reason, "expired") || strings.Contains(rp.Reason, "stale")) {
			t.Fatalf("arrears plan confirmation (try %d): %+v %v", try, rp, err)
		}
	}
	if rp.ScheduleVersion != 2 {
		t.Errorf("schedule v%d after the arrears plan, want v2", rp.ScheduleVersion)
	}
	s.waitCollection(ctx, door, id, "back to M0", 10*time.Second, func(cs plan.CollectionStatus) bool { return !cs.Collecting && cs.Stage == "M0" })
	st := s.waitFor(ctx, id, plan.StateClosed, 2*time.Minute)
	s.wantBooks(id)
	paid := s.sum(`SELECT coalesce(sum(amount), 0) FROM payments WHERE plan_id = $1`, id)
	if want := q.Quote.TotalPayable; !paid.Equal(want) {
		t.Errorf("paid %s, want the arrears plan's total payable %s", paid, want)
	}
	t.Log(fmt.Sprintf("arrears plan: %s", q.Quote.Summary), st.ScheduleVersion)
	pid, _ := plan.ParseID(id)
	histories.Record(t, testenv.TemporalClient(t), plan.WorkflowID(pid), "collection-arrears-plan")
}
