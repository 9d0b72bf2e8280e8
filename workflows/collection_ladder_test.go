package workflows_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/fenqi/fenqi/clock"
	"github.com/fenqi/fenqi/collection"
	"github.com/fenqi/fenqi/plan"
)

// collection queries the plan's collection status (Errorf on failure).
func (r *planRun) collection() plan.CollectionStatus {
	r.t.Helper()
	v, err := r.env.QueryWorkflow(plan.QueryCollection)
	if err != nil {
		r.t.Errorf("query collection: %v", err)
		return plan.CollectionStatus{}
	}
	var s plan.CollectionStatus
	if err := v.Get(&s); err != nil {
		r.t.Errorf("decode collection status: %v", err)
	}
	return s
}

// collectionAt queries the collection status at d after the start.
func (r *planRun) collectionAt(d time.Duration) *plan.CollectionStatus {
	s := new(plan.CollectionStatus)
	r.at(d, func() { *s = r.collection() })
	return s
}

// payOwedAt pays by hand at d what the collection status says is owed,
// plus extra (the late charge of the days since it was computed).
func (r *planRun) payOwedAt(d time.Duration, id, extra string) *outcome {
	o := &outcome{name: plan.MsgPay}
	r.at(d, func() {
		owed := r.collection().OwedTotal
		r.send(o, plan.MsgPay, plan.PaymentRequest{RequestID: id, Amount: owed.Add(dec(extra)), Source: "manual"})
	})
	return o
}

// collectionContacts are the plan's collection contacts: when each is
// planned (real time), its channel and its text.
type collectionContact struct {
	at      time.Time
	channel string
	body    string
	outcome string
}

func (d *db) collectionContacts(r *planRun) []collectionContact {
	d.t.Helper()
	rows, err := d.st.Pool().Query(context.Background(), `SELECT scheduled_for, channel, body, coalesce(outcome, '')
		FROM contacts WHERE plan_id = $1 AND purpose = 'collection' ORDER BY scheduled_for`, r.id)
	if err != nil {
		d.t.Fatal(err)
	}
	defer rows.Close()
	var out []collectionContact
	for rows.Next() {
		var c collectionContact
		if err := rows.Scan(&c.at, &c.channel, &c.body, &c.outcome); err != nil {
			d.t.Fatal(err)
		}
		out = append(out, c)
	}
	return out
}

// wantStage checks a collection snapshot's stage and next action.
func wantStage(t *testing.T, when string, st *plan.CollectionStatus, stage, next string) {
	t.Helper()
	if st.Stage != stage || (next != "" && st.Next.Action != next) {
		t.Errorf("%s: stage %s (bucket %s, %d days past due), next %q (%s); want stage %s, next %q",
			when, st.Stage, st.Bucket, st.DaysPastDue, st.Next.Action, st.Next.Reason, stage, next)
	}
}

// A plan nobody pays goes through grace and the whole ladder: weekly M1
// rounds (a message and a call task), M2 (call and written notice), M3 (a
// demand letter and a restructuring offer), a legal referral at M4 that
// the operator first holds (it is raised again 30 days later) and then
// refers (no contact until M7), and at M7 the write-off an operator
// approves. The plan ends written off with what it owed recorded; every
// contact kept the contact rules and stated what was owed; nothing went
// out after the write-off.
func TestDelinquentPlanIsReferredAndWrittenOff(t *testing.T) {
	d := newDB(t)
	r := d.newRun(application(t, "app-writeoff", customer(t, "strong"), "12000.00", 12))
	r.activeAt()
	due := dueAt(1, 12, 0)
	m1 := r.collectionAt(due + 10*day)
	m2 := r.collectionAt(due + 40*day)
	m3 := r.collectionAt(due + 70*day)
	m4 := r.collectionAt(due + 95*day)
	early := r.sendAt(due+96*day, plan.MsgWriteOff, plan.WriteOffRequest{RequestID: "wo-early", Decision: collection.ApproveWriteOff, Operator: "alice", Reason: "too early"})
	hold := r.sendAt(due+96*day+time.Hour, plan.MsgRefer, plan.ReferralRequest{RequestID: "rf-hold", Decision: collection.Hold, Operator: "alice", Reason: "customer in hospital"})
	held := r.collectionAt(due + 110*day)
	again := r.collectionAt(due + 128*day)
	refer := r.sendAt(due+128*day+time.Hour, plan.MsgRefer, plan.ReferralRequest{RequestID: "rf-refer", Decision: collection.Refer, Operator: "bob", Reason: "no response to any contact"})
	referred := r.collectionAt(due + 150*day)
	m7 := r.collectionAt(due + 185*day)
	approve := r.sendAt(due+186*day, plan.MsgWriteOff, plan.WriteOffRequest{RequestID: "wo-1", Decision: collection.ApproveWriteOff, Operator: "carol", Reason: "uncollectable"})
	r.execute()
	res := r.result()

	wantStage(t, "day 10", m1, "M1", "")
	wantStage(t, "day 40", m2, "M2", "")
	wantStage(t, "day 70", m3, "M3", "")
	wantStage(t, "day 95", m4, "M4", string(collection.WaitOperator))
	if m4.Referral == nil || m4.Referral.Status != collection.ReferralPending {
		t.Errorf("day 95: referral %+v, want pending", m4.Referral)
	}
	for _, st := range []*plan.CollectionStatus{m1, m2, m3, m4} {
		if !st.Owed.Principal.IsPositive() || !st.Owed.Penalty.IsPositive() || !st.OwedTotal.Equal(st.Owed.Principal.Add(st.Owed.Interest).Add(st.Owed.Fee).Add(st.Owed.Penalty)) {
			t.Errorf("%s: owed %+v, total %s: want principal and penalty owed, the total their sum", st.Stage, st.Owed, st.OwedTotal)
		}
	}
	if !m2.Owed.Penalty.GreaterThan(m1.Owed.Penalty) || !m3.Owed.Penalty.GreaterThan(m2.Owed.Penalty) {
		t.Errorf("penalty %s at M1, %s at M2, %s at M3: want it growing", m1.Owed.Penalty, m2.Owed.Penalty, m3.Owed.Penalty)
	}
	early.wantRejected(t, "no write-off decision is pending")
	if rp := hold.wantReply(t); !rp.Accepted {
		t.Errorf("hold refused: %s", rp.Reason)
	}
	wantStage(t, "day 110 (held)", held, "M4", string(collection.WaitCadence))
	if again.Referral == nil || again.Referral.Status != collection.ReferralPending {
		t.Errorf("day 128: referral %+v, want raised again (pending) 30 days after the hold", again.Referral)
	}
	if rp := refer.wantReply(t); !rp.Accepted {
		t.Errorf("refer refused: %s", rp.Reason)
	}
	wantStage(t, "day 150 (referred)", referred, "M4", string(collection.WaitReferred))
	wantStage(t, "day 185", m7, "M7", string(collection.WaitOperator))
	if m7.WriteOff == nil || m7.WriteOff.Status != collection.WriteOffPending {
		t.Errorf("day 185: write-off %+v, want pending", m7.WriteOff)
	}
	if rp := approve.wantReply(t); !rp.Accepted || rp.State != plan.StateWrittenOff {
		t.Fatalf("write-off: accepted %v, state %s (%s); want written_off", rp.Accepted, rp.State, rp.Reason)
	}
	if res.State != plan.StateWrittenOff {
		t.Errorf("the plan ended %s, want written_off", res.State)
	}

	// The books: what was written off is what the open instalments owed.
	var principal, total decimal.Decimal
	if err := d.st.Pool().QueryRow(context.Background(), `SELECT principal, total FROM write_offs WHERE plan_id = $1`, r.id).Scan(&principal, &total); err != nil {
		t.Fatalf("write-off record: %v", err)
	}
	if !principal.Equal(dec("12000.00")) {
		t.Errorf("written off principal %s, want the whole 12000.00 (nothing was paid)", principal)
	}
	if n := d.count(`SELECT count(*) FROM instalments WHERE plan_id = $1 AND status <> 'written_off'`, r.id); n != 0 {
		t.Errorf("%d instalments not written off", n)
	}
	if s := d.planState(r.id); s != "written_off" {
		t.Errorf("plan row is %s, want written_off", s)
	}
	if n := d.count(`SELECT count(*) FROM credit_lines WHERE used = 0`); n != 1 {
		t.Errorf("the credit line was not released")
	}
	kinds := d.texts(`SELECT DISTINCT kind FROM collection_actions WHERE plan_id = $1 ORDER BY kind`, r.id)
	for _, k := range []string{"call_task", "demand_letter", "legal_referral", "message", "notice", "restructure_offer", "write_off"} {
		if !slices.Contains(kinds, k) {
			t.Errorf("no %s among the collection actions %v", k, kinds)
		}
	}
	if n := d.count(`SELECT count(*) FROM collection_actions WHERE plan_id = $1 AND kind = 'legal_referral'`, r.id); n != 2 {
		t.Errorf("%d legal referrals raised, want 2 (the first held)", n)
	}
	if n := d.count(`SELECT count(*) FROM referral_decisions WHERE plan_id = $1`, r.id); n != 2 {
		t.Errorf("%d referral decisions stored, want 2", n)
	}
	if n := d.count(`SELECT count(*) FROM tasks WHERE plan_id = $1 AND kind IN ('legal_referral', 'write_off') AND status = 'open'`, r.id); n != 0 {
		t.Errorf("%d referral or write-off tasks left open", n)
	}
	// Every written contact states what is owed, by component, and by when.
	writtenOff := t0.Add(due + 186*day)
	var referredAt = t0.Add(due + 128*day + time.Hour)
	for _, c := range d.collectionContacts(r) {
		if c.channel != "phone" && (!strings.Contains(c.body, "you owe") || !strings.Contains(c.body, "late charges") || !strings.Contains(c.body, "by 2026-")) {
			t.Errorf("collection %s at %s does not state what is owed and by when: %q", c.channel, c.at, c.body)
		}
		if c.at.After(referredAt) && c.outcome != "cancelled" {
			t.Errorf("collection %s at %s after the debt was referred (at %s)", c.channel, c.at, referredAt)
		}
	}
	if n := d.count(`SELECT count(*) FROM contacts WHERE plan_id = $1 AND purpose IN ('collection', 'reminder') AND scheduled_for > $2
		AND coalesce(outcome, '') <> 'cancelled'`, r.id, writtenOff); n != 0 {
		t.Errorf("%d contacts planned after the write-off", n)
	}
	n := d.wantContactRules(r.id, clock.Clock{Origin: t0})
	t.Logf("%d contacts kept the contact rules; written off %s", n, total)
}

// contactsBetween are the collection contacts planned in [from, to) after
// the start, cancelled ones left out.
func contactsBetween(cs []collectionContact, from, to time.Duration) []collectionContact {
	var out []collectionContact
	for _, c := range cs {
		if !c.at.Before(t0.Add(from)) && c.at.Before(t0.Add(to)) && c.outcome != "cancelled" {
			out = append(out, c)
		}
	}
	return out
}

// A payment that clears the arrears returns the plan to M0 from any stage
// of the ladder: the ladder stops, nothing more goes out, an open legal
// referral task is closed.
func TestRecoveryFromEachStage(t *testing.T) {
	for _, tc := range []struct {
		stage string
		days  time.Duration
	}{{"M1", 10}, {"M2", 40}, {"M3", 70}, {"M4", 95}, {"M7", 185}} {
		t.Run(tc.stage, func(t *testing.T) {
			d := newDB(t)
			r := d.newRun(application(t, "app-recover-"+tc.stage, customer(t, "strong"), "12000.00", 12))
			r.activeAt()
			due := dueAt(1, 12, 0)
			before := r.collectionAt(due + tc.days*day)
			pay := r.payOwedAt(due+tc.days*day+time.Hour, "pay-"+tc.stage, "100.00")
			after := r.collectionAt(due + tc.days*day + 2*day)
			status := r.snapshot(due + tc.days*day + 2*day)
			r.stopAt(due + tc.days*day + 20*day)
			r.execute()
			r.wantCanceled()

			wantStage(t, "before the payment", before, tc.stage, "")
			if !pay.wantReply(t).Accepted {
				t.Fatalf("payment refused: %s", pay.reply.Reason)
			}
			if after.Collecting || after.Stage != "M0" || after.Next.Action != string(collection.WaitCurrent) {
				t.Errorf("after the payment: collecting %v, stage %s, next %q; want M0, the ladder stopped", after.Collecting, after.Stage, after.Next.Action)
			}
			if status.Bucket != "M0" || status.DaysPastDue != 0 {
				t.Errorf("after the payment the plan is %s, %d days past due; want M0", status.Bucket, status.DaysPastDue)
			}
			paidAt := due + tc.days*day + time.Hour
			if late := contactsBetween(d.collectionContacts(r), paidAt, 400*day); len(late) > 0 {
				t.Errorf("%d collection contacts after the arrears were paid, first %s by %s", len(late), late[0].at, late[0].channel)
			}
			if n := d.count(`SELECT count(*) FROM tasks WHERE plan_id = $1 AND kind IN ('legal_referral', 'write_off') AND status = 'open'`, r.id); n != 0 {
				t.Errorf("%d referral tasks left open after the arrears were paid", n)
			}
		})
	}
}

// A promise to pay pauses contact until its date; paid, it is kept and the
// ladder stops.
func TestPromiseKept(t *testing.T) {
	d := newDB(t)
	r := d.newRun(application(t, "app-promise-kept", customer(t, "strong"), "12000.00", 12))
	r.activeAt()
	due := dueAt(1, 12, 0)
	promise := &outcome{name: plan.MsgPromise}
	r.at(due+10*day, func() {
		r.send(promise, plan.MsgPromise, plan.PromiseRequest{RequestID: "pr-1", Date: dueDate(1).AddDays(15), Amount: r.collection().OwedTotal})
	})
	during := r.collectionAt(due + 12*day)
	pay := r.payOwedAt(due+14*day, "pay-promised", "50.00")
	after := r.collectionAt(due + 16*day)
	r.stopAt(due + 30*day)
	r.execute()
	r.wantCanceled()

	if rp := promise.wantReply(t); !rp.Accepted {
		t.Fatalf("promise refused: %s", rp.Reason)
	}
	if during.Promise == nil || during.Next.Action != string(collection.WaitPromise) {
		t.Errorf("after the promise: promise %+v, next %q; want it pending and the ladder waiting for it", during.Promise, during.Next.Action)
	}
	if !pay.wantReply(t).Accepted {
		t.Fatalf("payment refused: %s", pay.reply.Reason)
	}
	if after.Collecting || after.PromisesKept != 1 || after.Promise != nil {
		t.Errorf("after the payment: collecting %v, kept %d, promise %+v; want the ladder stopped and the promise kept", after.Collecting, after.PromisesKept, after.Promise)
	}
	if got := d.text(`SELECT status FROM promises WHERE plan_id = $1 AND request_id = 'pr-1'`, r.id); got != "kept" {
		t.Errorf("stored promise is %q, want kept", got)
	}
	if got := contactsBetween(d.collectionContacts(r), due+10*day+time.Minute, 400*day); len(got) > 0 {
		t.Errorf("%d collection contacts after the promise, first %s", len(got), got[0].at)
	}
}

// A broken promise resumes the ladder one step up at once: an M2 round
// while the plan is still in M1 by days past due. Nothing went out while
// the promise was pending.
func TestPromiseBroken(t *testing.T) {
	d := newDB(t)
	r := d.newRun(application(t, "app-promise-broken", customer(t, "strong"), "12000.00", 12))
	r.activeAt()
	due := dueAt(1, 12, 0)
	promise := &outcome{name: plan.MsgPromise}
	r.at(due+10*day, func() {
		half := r.collection().OwedTotal.Div(dec("2")).Round(2)
		r.send(promise, plan.MsgPromise, plan.PromiseRequest{RequestID: "pr-1", Date: dueDate(1).AddDays(13), Amount: half})
	})
	// A second promise while one is pending is refused by the rules.
	second := r.sendAt(due+11*day, plan.MsgPromise, plan.PromiseRequest{RequestID: "pr-2", Date: dueDate(1).AddDays(14), Amount: dec("10.00")})
	after := r.collectionAt(due + 15*day)
	r.stopAt(due + 20*day)
	r.execute()
	r.wantCanceled()

	if rp := promise.wantReply(t); !rp.Accepted {
		t.Fatalf("promise refused: %s", rp.Reason)
	}
	if rp := second.wantReply(t); rp.Accepted || !strings.Contains(rp.Reason, "pending") {
		t.Errorf("second promise: accepted %v (%s); want refused, one is pending", rp.Accepted, rp.Reason)
	}
	if after.PromisesBroken != 1 || after.Floor != "M2" || after.Stage != "M2" || after.Bucket != "M1" {
		t.Errorf("after the promise date: broken %d, floor %q, stage %s, bucket %s; want broken, an M2 round in M1", after.PromisesBroken, after.Floor, after.Stage, after.Bucket)
	}
	if got := d.text(`SELECT status FROM promises WHERE plan_id = $1 AND request_id = 'pr-1'`, r.id); got != "broken" {
		t.Errorf("stored promise is %q, want broken", got)
	}
	promiseEnd := onDay(dueDate(1).AddDays(14), 0, 0)
	if got := contactsBetween(d.collectionContacts(r), due+10*day+time.Minute, promiseEnd); len(got) > 0 {
		t.Errorf("%d collection contacts while the promise was pending, first %s", len(got), got[0].at)
	}
	if got := contactsBetween(d.collectionContacts(r), promiseEnd, promiseEnd+2*day); len(got) == 0 {
		t.Errorf("no collection contact within 2 days after the promise was broken")
	}
	if n := d.count(`SELECT count(*) FROM collection_actions WHERE plan_id = $1 AND stage = 'M2' AND planned_for < $2`, r.id, t0.Add(due+30*day)); n == 0 {
		t.Errorf("no M2 action before 30 days past due")
	}
}

// An open complaint pauses the ladder; once it is resolved the ladder
// resumes at once.
func TestComplaintPausesTheLadder(t *testing.T) {
	d := newDB(t)
	r := d.newRun(application(t, "app-ladder-complaint", customer(t, "strong"), "12000.00", 12))
	r.activeAt()
	due := dueAt(1, 12, 0)
	r.sendAt(due+5*day, plan.MsgComplain, plan.ComplaintRequest{RequestID: "cp-1", Text: "you call me too often"})
	paused := r.collectionAt(due + 8*day)
	r.sendAt(due+15*day, plan.MsgResolve, plan.ResolveRequest{RequestID: "rs-1", Complaint: "cp-1", Resolution: "one call a week at most", Operator: "alice"})
	r.stopAt(due + 18*day)
	r.execute()
	r.wantCanceled()

	if paused.PausedUntil.IsZero() || paused.Next.Action != string(collection.WaitPaused) {
		t.Errorf("during the complaint: paused until %s, next %q; want paused", paused.PausedUntil, paused.Next.Action)
	}
	cs := d.collectionContacts(r)
	if got := contactsBetween(cs, due+5*day+time.Minute, due+15*day); len(got) > 0 {
		t.Errorf("%d collection contacts while the complaint was open, first %s", len(got), got[0].at)
	}
	if got := contactsBetween(cs, due+15*day, due+16*day); len(got) == 0 {
		t.Errorf("no collection contact within a day of the resolution: the ladder did not resume")
	}
}

// A hardship grace extension: no collection contact and no late charge
// until its date, then the ladder resumes.
func TestGraceExtensionPausesContactAndLateCharges(t *testing.T) {
	d := newDB(t)
	r := d.newRun(application(t, "app-grace-ext", customer(t, "strong"), "12000.00", 12))
	r.activeAt()
	due := dueAt(1, 12, 0)
	until := dueDate(1).AddDays(25)
	grace := r.sendAt(due+10*day, plan.MsgExtendGrace, plan.GraceRequest{RequestID: "gx-1", Until: until, Operator: "alice", Reason: "hospitalised"})
	tooLong := r.sendAt(due+10*day+time.Hour, plan.MsgExtendGrace, plan.GraceRequest{RequestID: "gx-2", Until: dueDate(1).AddDays(60), Operator: "alice", Reason: "longer"})
	var atGrant, atEnd decimal.Decimal
	r.at(due+10*day+2*time.Hour, func() { atGrant = d.penalty(r.id, 1) })
	r.at(onDay(until.AddDays(3), 12, 0), func() { atEnd = d.penalty(r.id, 1) })
	r.stopAt(onDay(until.AddDays(5), 12, 0))
	r.execute()
	r.wantCanceled()

	if rp := grace.wantReply(t); !rp.Accepted {
		t.Fatalf("grace extension refused: %s", rp.Reason)
	}
	if rp := tooLong.wantReply(t); rp.Accepted || !strings.Contains(rp.Reason, "at most 30 days") {
		t.Errorf("a 50-day extension: accepted %v (%s); want refused, at most 30 days", rp.Accepted, rp.Reason)
	}
	cs := d.collectionContacts(r)
	graceEnd := onDay(until.AddDays(1), 0, 0)
	if got := contactsBetween(cs, due+10*day+time.Minute, graceEnd); len(got) > 0 {
		t.Errorf("%d collection contacts during the grace extension, first %s", len(got), got[0].at)
	}
	if got := contactsBetween(cs, graceEnd, graceEnd+3*day); len(got) == 0 {
		t.Errorf("no collection contact in the 3 days after the grace extension ended")
	}
	// Charged for 10 days at the grant; 3 days after the extension ended
	// only those 3 days are added (not the 15 of the extension).
	daily := atGrant.Div(dec("10"))
	if added := atEnd.Sub(atGrant); !added.IsPositive() || added.GreaterThan(daily.Mul(dec("4"))) {
		t.Errorf("penalty %s at the grant, %s three days after the extension: added %s, want about 3 days of %s", atGrant, atEnd, added, daily.StringFixed(2))
	}
}

// A willing debtor splits the arrears into three instalments added to the
// next due dates (quote, then confirm): the plan is current again at once,
// the ladder stops, and with the money in the account it runs to closed.
func TestArrearsPlanPaidOff(t *testing.T) {
	d := newDB(t)
	r := d.newRun(application(t, "app-arrears", customer(t, "strong"), "6000.00", 6))
	r.activeAt()
	due := dueAt(1, 12, 0)
	r.fundAt(due+9*day, "100000.00")
	quote := r.sendAt(due+10*day, plan.MsgArrearsPlan, plan.ArrearsPlanRequest{RequestID: "ap-1", Instalments: 3})
	confirm := r.confirmAt(due+10*day+time.Hour, quote, plan.MsgArrearsPlan, func(id string) any {
		return plan.ArrearsPlanRequest{RequestID: "ap-2", QuoteID: id}
	})
	// Before the row carrying the late charges is due, a settlement quote
	// still counts them.
	settle := r.sendAt(due+10*day+2*time.Hour, plan.MsgPrepay, plan.PrepayRequest{RequestID: "pp-1"})
	after := r.collectionAt(due + 12*day)
	r.execute()
	res := r.result()

	q := quote.wantReply(t)
	if sq := settle.wantReply(t).Quote; sq == nil || !sq.Penalty.Equal(q.Quote.Penalty) {
		t.Errorf("settlement quote after the arrears plan: %+v; want the carried late charges %s", sq, q.Quote.Penalty)
	}
	if !q.Accepted || q.Quote == nil {
		t.Fatalf("arrears plan quote refused: %s", q.Reason)
	}
	if q.Quote.NeedsApproval || q.Quote.DueNow.IsPositive() || !q.Quote.Penalty.IsPositive() {
		t.Errorf("quote: approval %v, due now %s, penalty %s; want no approval in M1, nothing due now, the late charges carried", q.Quote.NeedsApproval, q.Quote.DueNow, q.Quote.Penalty)
	}
	if rp := confirm.wantReply(t); !rp.Accepted || rp.ScheduleVersion != 2 {
		t.Fatalf("confirmation: accepted %v, version %d (%s); want schedule v2", rp.Accepted, rp.ScheduleVersion, rp.Reason)
	}
	if after.Collecting || after.Stage != "M0" {
		t.Errorf("after the arrears plan: collecting %v, stage %s; want the ladder stopped", after.Collecting, after.Stage)
	}
	if res.State != plan.StateClosed {
		t.Fatalf("the plan ended %s, want closed", res.State)
	}
	// The books: every payment allocated, the new schedule owes nothing,
	// the gateway debited what was paid.
	var paid, allocated, debited decimal.Decimal
	if err := d.st.Pool().QueryRow(context.Background(), `SELECT
		(SELECT coalesce(sum(amount), 0) FROM payments WHERE plan_id = $1),
		(SELECT coalesce(sum(a.amount), 0) FROM payment_allocations a JOIN payments p ON p.id = a.payment_id WHERE p.plan_id = $1),
		(SELECT coalesce(sum(amount), 0) FROM account_entries WHERE kind = 'debit')`, r.id).Scan(&paid, &allocated, &debited); err != nil {
		t.Fatal(err)
	}
	if !paid.Equal(allocated) || !paid.Equal(debited) {
		t.Errorf("payments %s, allocated %s, debited %s: want equal", paid, allocated, debited)
	}
	if want := q.Quote.TotalPayable; !paid.Equal(want) {
		t.Errorf("paid %s in all, want the arrears plan's total payable %s", paid, want)
	}
	if n := d.count(`SELECT count(*) FROM instalments WHERE plan_id = $1 AND schedule_version = 2 AND status <> 'paid'`, r.id); n != 0 {
		t.Errorf("%d instalments of the arrears plan not paid", n)
	}
}

// A promise made before the ladder's queued round goes out (a new stage
// starts at midnight, its contacts wait for 08:00) cancels that round:
// nothing goes out while the promise holds.
func TestPromiseCancelsAQueuedRound(t *testing.T) {
	d := newDB(t)
	r := d.newRun(application(t, "app-promise-queued", customer(t, "strong"), "12000.00", 12))
	r.activeAt()
	m2 := dueDate(1).AddDays(31) // M2 starts at midnight: its round is queued for the morning
	promise := &outcome{name: plan.MsgPromise}
	r.at(onDay(m2, 3, 0), func() {
		r.send(promise, plan.MsgPromise, plan.PromiseRequest{RequestID: "pr-1", Date: m2.AddDays(5), Amount: dec("100.00")})
	})
	r.stopAt(onDay(m2, 20, 0))
	r.execute()
	r.wantCanceled()

	if rp := promise.wantReply(t); !rp.Accepted {
		t.Fatalf("promise refused: %s", rp.Reason)
	}
	cs := d.collectionContacts(r)
	cancelled := 0
	for _, c := range cs {
		if c.at.After(t0.Add(onDay(m2, 3, 0))) && c.outcome == "cancelled" {
			cancelled++
		}
	}
	if cancelled == 0 {
		t.Errorf("no queued collection contact was cancelled by the promise: %+v", cs)
	}
	if got := contactsBetween(cs, onDay(m2, 3, 0), onDay(m2.AddDays(6), 0, 0)); len(got) > 0 {
		t.Errorf("%d collection contacts while the promise holds, first %s by %s", len(got), got[0].at, got[0].channel)
	}
}

// Paying the whole plan off while it waits for a legal-referral decision
// closes the plan and ends collection: the referral task is closed, no
// queued collection message goes out.
func TestPayoffInCollectionEndsTheLadder(t *testing.T) {
	d := newDB(t)
	r := d.newRun(application(t, "app-payoff-m4", customer(t, "strong"), "12000.00", 12))
	r.activeAt()
	due := dueAt(1, 12, 0)
	m4 := r.collectionAt(due + 95*day)
	pay := r.payAt(due+95*day+time.Hour, "payoff", amount("30000.00"))
	r.execute()
	res := r.result()

	wantStage(t, "day 95", m4, "M4", string(collection.WaitOperator))
	if !pay.wantReply(t).Accepted {
		t.Fatalf("payoff refused: %s", pay.reply.Reason)
	}
	if res.State != plan.StateClosed {
		t.Fatalf("the plan is %s after the payoff, want closed", res.State)
	}
	if n := d.count(`SELECT count(*) FROM tasks WHERE plan_id = $1 AND kind IN ('legal_referral', 'write_off', 'collection_call') AND status = 'open'`, r.id); n != 0 {
		t.Errorf("%d collection tasks left open on the closed plan", n)
	}
	if got := contactsBetween(d.collectionContacts(r), due+95*day+time.Hour, 400*day); len(got) > 0 {
		t.Errorf("%d collection contacts after the payoff, first %s", len(got), got[0].at)
	}
}
