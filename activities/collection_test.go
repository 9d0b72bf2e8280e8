package activities

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/fenqi/fenqi/calc"
	"github.com/fenqi/fenqi/collection"
	"github.com/fenqi/fenqi/store"
)

// collectionPlan is an active plan of three instalments of 1000.00
// principal due on 2 April, May and June 2026 at an annual rate, the first
// instalment overdue, its customer reachable by SMS, phone, email and
// push (SMS preferred), in a fresh database.
type collectionPlan struct {
	t   *testing.T
	a   *Activities
	p   store.Plan
	cal Calendar
}

func newCollectionPlan(t *testing.T, method, annualRate string) *collectionPlan {
	t.Helper()
	ctx := context.Background()
	st := freshStore(t)
	cust, err := st.UpsertCustomer(ctx, store.Customer{ExternalRef: "col-1", Name: "Han Meimei", Phone: "13900000000",
		Email: "han@example.com", PushID: "push-9", PreferredChannel: "sms", TimeZone: "Asia/Shanghai", Profile: []byte(`{}`)})
	if err != nil {
		t.Fatalf("customer: %v", err)
	}
	app, err := st.CreateApplication(ctx, store.Application{RequestID: "col-app-1", CustomerID: cust.ID, Amount: decimal.RequireFromString("3000"), Terms: 3})
	if err != nil {
		t.Fatalf("application: %v", err)
	}
	d := decimal.RequireFromString
	p, err := st.CreatePlan(ctx, store.Plan{ApplicationID: app.ID, CustomerID: cust.ID, State: store.StateActive,
		Terms: &store.PlanTerms{Principal: d("3000"), Method: method, Terms: 3, AnnualRate: d(annualRate), FeeRate: decimal.Zero,
			StartDate: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)}})
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	day := func(m time.Month) time.Time { return time.Date(2026, m, 2, 0, 0, 0, 0, time.UTC) }
	rows := []store.Instalment{
		{No: 1, DueDate: day(time.April), Principal: d("1000"), Interest: d("30"), Payment: d("1030"), BalanceAfter: d("2000")},
		{No: 2, DueDate: day(time.May), Principal: d("1000"), Interest: d("20"), Payment: d("1020"), BalanceAfter: d("1000")},
		{No: 3, DueDate: day(time.June), Principal: d("1000"), Interest: d("10"), Payment: d("1010"), BalanceAfter: d("0")},
	}
	if err := st.SaveSchedule(ctx, store.ScheduleVersion{PlanID: p.ID, Version: 1, Reason: "activation"}, rows); err != nil {
		t.Fatalf("schedule: %v", err)
	}
	if _, err := st.SetInstalmentStatus(ctx, p.ID, 1, 1, store.InstalmentPending, store.InstalmentOverdue); err != nil {
		t.Fatalf("mark instalment 1 overdue: %v", err)
	}
	return &collectionPlan{t: t, a: &Activities{Store: st, Now: time.Now}, p: p, cal: Calendar{TimeZone: "Asia/Shanghai"}}
}

// step runs CollectionStep at the business instant at on state s.
func (c *collectionPlan) step(at time.Time, s collection.State) CollectionResult {
	c.t.Helper()
	res, err := c.a.CollectionStep(context.Background(), CollectionInput{PlanID: c.p.ID.String(), Version: 1, Calendar: c.cal, At: at, State: s})
	if err != nil {
		c.t.Fatalf("collection step at %s: %v", at, err)
	}
	return res
}

// records are the plan's collection contacts, actions and tasks.
type records struct {
	contacts []store.Contact
	actions  []store.CollectionAction
	tasks    []store.Task
}

func (c *collectionPlan) records() records {
	c.t.Helper()
	ctx := context.Background()
	all, err := c.a.Store.Contacts(ctx, c.p.ID, time.Time{}, time.Time{})
	if err != nil {
		c.t.Fatal(err)
	}
	var r records
	for _, x := range all {
		if x.Purpose == "collection" {
			r.contacts = append(r.contacts, x)
		}
	}
	if r.actions, err = c.a.Store.CollectionActions(ctx, c.p.ID); err != nil {
		c.t.Fatal(err)
	}
	if r.tasks, err = c.a.Store.Tasks(ctx, c.p.ID); err != nil {
		c.t.Fatal(err)
	}
	return r
}

// checkPenalty checks that the penalty stored on each instalment is the
// breakdown's total for it, accrued through the breakdown's date, and
// that the amount owed counts it.
func (c *collectionPlan) checkPenalty(res CollectionResult) {
	c.t.Helper()
	ctx := context.Background()
	rows, err := c.a.Store.Schedule(ctx, c.p.ID, 1)
	if err != nil {
		c.t.Fatal(err)
	}
	through, err := c.a.Store.PenaltyAccruedThrough(ctx, c.p.ID, 1)
	if err != nil {
		c.t.Fatal(err)
	}
	byNo := map[int]store.Instalment{}
	for _, r := range rows {
		byNo[r.No] = r
	}
	stored := decimal.Zero
	for _, p := range res.Owed.Penalties {
		r := byNo[p.No]
		if !r.PenaltyAccrued.Equal(p.Total) {
			c.t.Errorf("instalment %d: penalty stored %s, breakdown %s", p.No, r.PenaltyAccrued, p.Total)
		}
		if p.Total.IsPositive() && !calc.DateOf(through[p.No]).Equal(res.Owed.AsOf) {
			c.t.Errorf("instalment %d: penalty accrued through %s, want %s", p.No, through[p.No].Format(time.DateOnly), res.Owed.AsOf)
		}
		stored = stored.Add(r.PenaltyAccrued)
	}
	if !res.Owed.Due.Penalty.Equal(stored) {
		c.t.Errorf("owed penalty %s, stored %s", res.Owed.Due.Penalty, stored)
	}
}

// checkContacts checks the collection contacts queued by a round: purpose
// collection, inside 08:00-21:00 in Shanghai, each stating every owed
// component and the pay-by date.
func checkContacts(t *testing.T, contacts []store.Contact, owed collection.Breakdown) {
	t.Helper()
	due := owed.Due
	want := []string{
		"principal " + calc.FormatMoney(due.Principal), "interest " + calc.FormatMoney(due.Interest),
		"fees " + calc.FormatMoney(due.Fee), "late charges (penalty interest) " + calc.FormatMoney(due.Penalty),
		owed.PayBy.String(),
	}
	for _, c := range contacts {
		local := c.ScheduledFor.In(shanghai8)
		if c.Purpose != "collection" {
			t.Errorf("%s: purpose %s", c.ContactKey, c.Purpose)
		}
		if h := local.Hour(); h < 8 || h >= 21 {
			t.Errorf("%s: scheduled at %s, outside 08:00-21:00", c.ContactKey, local)
		}
		for _, w := range want {
			if !strings.Contains(c.Body, w) {
				t.Errorf("%s: body %q does not state %q", c.ContactKey, c.Body, w)
			}
		}
	}
}

func asJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestCollectionStepWalksTheLadder walks an overdue plan through M1 (weekly
// rounds of a message and an agent call) and M2 (fortnightly rounds of a
// call and a written notice), a complaint pausing contact, and M4 (a legal
// referral task), checking what is queued and recorded at each step and
// that a repeated step changes nothing.
func TestCollectionStepWalksTheLadder(t *testing.T) {
	t.Parallel()
	c := newCollectionPlan(t, string(calc.MethodAnnuity), "0.12")
	prefix := c.p.ID.String() + ":collection:2026-04-02:"

	// M1, round 1: 4 days past due; penalty 1000 x 0.18 / 360 = 0.50 a day.
	at := bj(2026, time.April, 6, 10, 0)
	res := c.step(at, collection.State{})
	if !res.Action.IsRound() || res.Action.Stage != "M1" || res.Action.Round != 1 || len(res.Action.Steps) != 2 {
		t.Fatalf("at %s: action %+v, want M1 round 1 of two steps", at, res.Action)
	}
	if k := res.Action.Steps; k[0].Kind != collection.Message || k[0].Channel != "sms" || k[1].Kind != collection.CallTask || k[1].Channel != "phone" {
		t.Fatalf("M1 steps %+v, want an sms message then a call", k)
	}
	if d := res.Owed.Due; d.Principal.String() != "1000" || d.Interest.String() != "30" || !d.Penalty.Equal(decimal.RequireFromString("2")) {
		t.Fatalf("owed %+v, want 1000 principal, 30 interest, 2.00 penalty", d)
	}
	if res.Owed.PayBy.String() != "2026-04-13" {
		t.Fatalf("pay by %s, want 2026-04-13", res.Owed.PayBy)
	}
	if want := bj(2026, time.April, 13, 10, 0); !res.NextAt.Equal(want) {
		t.Fatalf("next at %s, want %s (a week on)", res.NextAt, want)
	}
	if res.State.Stage != "M1" || res.State.Rounds != 1 || !res.State.Since.Equal(at) {
		t.Fatalf("state %+v, want M1 with 1 round since %s", res.State, at)
	}
	if len(res.Instalments) != 3 || res.Instalments[0].Status != "overdue" || res.Instalments[0].Outstanding.String() != "1032" {
		t.Fatalf("instalments %+v, want #1 overdue owing 1032.00", res.Instalments)
	}
	if len(res.Contacts) != 2 {
		t.Fatalf("contacts %+v, want the round's two", res.Contacts)
	}
	c.checkPenalty(res)
	r := c.records()
	if len(r.contacts) != 2 || len(r.actions) != 2 || len(r.tasks) != 0 {
		t.Fatalf("after M1 round 1: %d contacts, %d actions, %d tasks; want 2, 2, 0", len(r.contacts), len(r.actions), len(r.tasks))
	}
	checkContacts(t, r.contacts, res.Owed)
	for i, x := range r.actions {
		key := fmt.Sprintf("%sM1:1:%d", prefix, i+1)
		if x.ActionKey != key || x.Stage != "M1" || x.Kind != string(res.Action.Steps[i].Kind) || x.Channel != string(res.Action.Steps[i].Channel) {
			t.Errorf("action %d: %+v, want key %s stage M1 %s by %s", i, x, key, res.Action.Steps[i].Kind, res.Action.Steps[i].Channel)
		}
		if !x.Owed.Total.Equal(decimal.RequireFromString("1032")) || !x.Owed.Penalty.Equal(decimal.RequireFromString("2")) ||
			x.Owed.PayBy.Format(time.DateOnly) != "2026-04-13" || !x.PlannedFor.Equal(res.Action.Steps[i].At) {
			t.Errorf("action %d owed %+v planned %s, want 1032.00 with 2.00 penalty by 2026-04-13 at %s", i, x.Owed, x.PlannedFor, res.Action.Steps[i].At)
		}
	}

	// The same step again (a retry): nothing new, the same result.
	again := c.step(at, collection.State{})
	if a, b := asJSON(t, again), asJSON(t, res); a != b {
		t.Fatalf("repeated step:\n%s\nwant\n%s", a, b)
	}
	if r2 := c.records(); len(r2.contacts) != 2 || len(r2.actions) != 2 || len(r2.tasks) != 0 {
		t.Fatalf("after the repeat: %d contacts, %d actions, %d tasks; want 2, 2, 0", len(r2.contacts), len(r2.actions), len(r2.tasks))
	}

	// M1 rounds 2 to 4, a week apart; the last waits for M2 (31 days past
	// due, from 3 May 00:00).
	s := res.State
	for round := 2; round <= 4; round++ {
		at = res.NextAt
		res = c.step(at, s)
		if !res.Action.IsRound() || res.Action.Stage != "M1" || res.Action.Round != round {
			t.Fatalf("at %s: action %+v, want M1 round %d", at, res.Action, round)
		}
		c.checkPenalty(res)
		s = res.State
	}
	if want := bj(2026, time.May, 3, 0, 0); !res.NextAt.Equal(want) {
		t.Fatalf("after M1 round 4 next at %s, want %s (M2 starts)", res.NextAt, want)
	}
	if n := len(c.records().contacts); n != 8 {
		t.Fatalf("%d collection contacts after four M1 rounds, want 8", n)
	}

	// M2, round 1 at midnight: a call and a notice, both at 08:00.
	at = res.NextAt
	res = c.step(at, s)
	if !res.Action.IsRound() || res.Action.Stage != "M2" || res.Action.Round != 1 || len(res.Action.Steps) != 2 ||
		res.Action.Steps[0].Kind != collection.CallTask || res.Action.Steps[1].Kind != collection.Notice || res.Action.Steps[1].Channel != "email" {
		t.Fatalf("at %s: action %+v, want M2 round 1: a call and an email notice", at, res.Action)
	}
	eight := bj(2026, time.May, 3, 8, 0)
	if !res.Action.At.Equal(eight) || !res.State.Since.Equal(eight) {
		t.Fatalf("M2 round 1 at %s, since %s; want %s (the window opens)", res.Action.At, res.State.Since, eight)
	}
	if want := bj(2026, time.May, 17, 8, 0); !res.NextAt.Equal(want) {
		t.Fatalf("after M2 round 1 next at %s, want %s (two weeks on)", res.NextAt, want)
	}
	c.checkPenalty(res)
	r = c.records()
	checkContacts(t, r.contacts[8:], res.Owed)
	s = res.State

	// An open complaint pauses contact until its end: a wait, nothing sent.
	pauseEnd := bj(2026, time.May, 24, 10, 0)
	if _, _, err := c.a.Store.SaveRequest(context.Background(), store.Request{PlanID: c.p.ID, RequestID: "cmp-1", Kind: "complaint",
		Actor: "customer", Payload: []byte(`{"text":"Too many calls"}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.a.Store.OpenComplaint(context.Background(), store.Complaint{PlanID: c.p.ID, RequestID: "cmp-1",
		Text: "Too many calls", PauseUntil: c.cal.real(pauseEnd)}); err != nil {
		t.Fatal(err)
	}
	at = res.NextAt
	res = c.step(at, s)
	if res.Action.IsRound() || res.Action.Wait != collection.WaitPaused || !res.NextAt.Equal(pauseEnd) {
		t.Fatalf("during the complaint: action %+v next at %s, want a pause until %s", res.Action, res.NextAt, pauseEnd)
	}
	if asJSON(t, res.State) != asJSON(t, s) {
		t.Fatalf("a wait changed the state: %+v, was %+v", res.State, s)
	}
	if n := len(c.records().contacts); n != 10 {
		t.Fatalf("%d collection contacts during the pause, want 10", n)
	}
	c.checkPenalty(res)

	// When the pause ends, M2 round 2; the next round waits for M3 (2 June).
	res = c.step(pauseEnd, s)
	if !res.Action.IsRound() || res.Action.Stage != "M2" || res.Action.Round != 2 {
		t.Fatalf("after the pause: action %+v, want M2 round 2", res.Action)
	}
	if want := bj(2026, time.June, 2, 0, 0); !res.NextAt.Equal(want) {
		t.Fatalf("after M2 round 2 next at %s, want %s (M3 starts)", res.NextAt, want)
	}
	c.checkPenalty(res)
	s = res.State

	// M4 (94 days past due): a legal referral task, then a wait for the
	// operator until M7 (30 September).
	at = bj(2026, time.July, 5, 10, 0)
	res = c.step(at, s)
	if !res.Action.IsRound() || res.Action.Stage != "M4" || len(res.Action.Steps) != 1 || res.Action.Steps[0].Kind != collection.LegalReferral {
		t.Fatalf("at %s: action %+v, want the M4 legal referral", at, res.Action)
	}
	if res.State.Referral == nil || res.State.Referral.Status != collection.ReferralPending {
		t.Fatalf("state %+v, want a pending referral", res.State)
	}
	if want := bj(2026, time.September, 30, 0, 0); !res.NextAt.Equal(want) {
		t.Fatalf("after the referral next at %s, want %s (M7 starts)", res.NextAt, want)
	}
	c.checkPenalty(res)
	if len(res.Owed.Penalties) != 3 {
		t.Fatalf("penalties %+v, want all three instalments overdue", res.Owed.Penalties)
	}
	r = c.records()
	if len(r.tasks) != 1 || r.tasks[0].Kind != store.TaskLegalReferral || r.tasks[0].TaskKey != prefix+"M4:1:1" || r.tasks[0].Status != store.TaskOpen {
		t.Fatalf("tasks %+v, want one open legal_referral task %sM4:1:1", r.tasks, prefix)
	}
	last := r.actions[len(r.actions)-1]
	if last.Kind != store.ActionLegalReferral || last.Stage != "M4" || last.Channel != "" || !last.Owed.Total.Equal(res.Owed.Due.Total()) {
		t.Fatalf("last action %+v, want the M4 legal referral owing %s", last, res.Owed.Due.Total())
	}
	if again := c.step(at, s); asJSON(t, again) != asJSON(t, res) {
		t.Fatalf("repeated M4 step differs:\n%s\nwant\n%s", asJSON(t, again), asJSON(t, res))
	}
	if r2 := c.records(); len(r2.tasks) != 1 || len(r2.actions) != len(r.actions) || len(r2.contacts) != len(r.contacts) {
		t.Fatalf("the repeated M4 step queued more: %d tasks, %d actions, %d contacts", len(r2.tasks), len(r2.actions), len(r2.contacts))
	}
	// Waiting for the operator: nothing more.
	if w := c.step(bj(2026, time.July, 20, 10, 0), res.State); w.Action.Wait != collection.WaitOperator || len(c.records().tasks) != 1 {
		t.Fatalf("while the referral is pending: %+v, want a wait for the operator", w.Action)
	}
}

// TestCollectionStepZeroRate: a product without an interest rate (a fee
// product) accrues no penalty interest, as its agreement says, but the
// ladder runs.
func TestCollectionStepZeroRate(t *testing.T) {
	t.Parallel()
	c := newCollectionPlan(t, string(calc.MethodFee), "0")
	res := c.step(bj(2026, time.April, 20, 9, 0), collection.State{})
	if !res.Action.IsRound() || res.Action.Stage != "M1" {
		t.Fatalf("action %+v, want an M1 round", res.Action)
	}
	if !res.Owed.Due.Penalty.IsZero() || len(res.Owed.Penalties) != 1 || !res.Owed.Penalties[0].Total.IsZero() {
		t.Fatalf("owed %+v, want no penalty", res.Owed)
	}
	c.checkPenalty(res)
	checkContacts(t, c.records().contacts, res.Owed)
}

// TestCollectionStepCurrent: a plan with nothing overdue waits for an
// event and queues nothing.
func TestCollectionStepCurrent(t *testing.T) {
	t.Parallel()
	c := newCollectionPlan(t, string(calc.MethodAnnuity), "0.12")
	if _, err := c.a.Store.SetInstalmentStatus(context.Background(), c.p.ID, 1, 1, store.InstalmentOverdue, store.InstalmentDue); err != nil {
		t.Fatal(err)
	}
	res := c.step(bj(2026, time.April, 3, 10, 0), collection.State{})
	if res.Action.Wait != collection.WaitCurrent || !res.NextAt.IsZero() {
		t.Fatalf("action %+v next at %s, want a wait for an event", res.Action, res.NextAt)
	}
	if r := c.records(); len(r.contacts) != 0 || len(r.actions) != 0 {
		t.Fatalf("a current plan queued %d contacts and %d actions", len(r.contacts), len(r.actions))
	}
}

// TestCollectionStepKeepsWhatARunQueued: a run that crashed after queuing
// the first step of a round leaves it queued; the retry keeps it as it is
// (its time included), queues the rest once and records every step.
func TestCollectionStepKeepsWhatARunQueued(t *testing.T) {
	t.Parallel()
	c := newCollectionPlan(t, string(calc.MethodAnnuity), "0.12")
	key := c.p.ID.String() + ":collection:2026-04-02:M1:1:1"
	earlier := bj(2026, time.April, 6, 11, 0)
	if _, _, err := c.a.Store.QueueContact(context.Background(), store.Contact{PlanID: c.p.ID, ContactKey: key, Purpose: "collection",
		Channel: "sms", ScheduledFor: c.cal.real(earlier), Body: "as queued before the crash"}, []byte(`{"body":"as queued before the crash"}`)); err != nil {
		t.Fatal(err)
	}
	res := c.step(bj(2026, time.April, 6, 10, 0), collection.State{})
	if !res.Action.IsRound() || len(res.Action.Steps) != 2 || !res.Action.Steps[0].At.Equal(earlier) || !res.State.Since.Equal(earlier) {
		t.Fatalf("action %+v state %+v, want the first step kept at %s", res.Action, res.State, earlier)
	}
	r := c.records()
	if len(r.contacts) != 2 || len(r.actions) != 2 || r.contacts[1].Body != "as queued before the crash" {
		t.Fatalf("%d contacts %+v, %d actions; want the stored one kept and one more", len(r.contacts), r.contacts, len(r.actions))
	}
	for _, x := range r.actions {
		if x.ActionKey == key && !x.PlannedFor.Equal(earlier) {
			t.Fatalf("action %s planned for %s, want %s as queued", key, x.PlannedFor, earlier)
		}
	}
}
