package workflows_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/fenqi/fenqi/calc"
	"github.com/fenqi/fenqi/plan"
)

// Instalment k of the test plans (started 2026-03-02 10:00 Shanghai) is
// debited at 09:00 on 2026-(3+k)-02, about 31 days apart; these instants
// fall between debits.
var (
	afterFirst  = 40 * day // instalment 1 paid, 2 due 2026-05-02
	afterSecond = 70 * day // instalments 1-2 paid, 3 due 2026-06-02
)

// confirmAt confirms at d the quote replied to q, with the request made by
// build from the quote id.
func (r *planRun) confirmAt(d time.Duration, q *outcome, name string, build func(quoteID string) any) *outcome {
	o := &outcome{name: name}
	r.at(d, func() {
		if q.reply.Quote == nil {
			r.t.Errorf("%s: no quote to confirm (reply %+v, rejected %v %v)", name, q.reply, q.rejected, q.rejectErr)
			return
		}
		r.send(o, name, build(q.reply.Quote.ID))
	})
	return o
}

// funded is an active 12-instalment 12000.00 plan with money for every
// debit.
func funded(t *testing.T, d *db, rid string) *planRun {
	r := d.newRun(application(t, rid, customer(t, "strong"), "12000.00", 12))
	r.activeAt()
	r.fundAt(3*time.Hour, "100000.00")
	return r
}

// wantBooks checks that the plan's money adds up: every payment is
// allocated in full, the gateway debited exactly the payments, and the
// current schedule has nothing left to pay (paid off to exactly zero).
func (d *db) wantBooks(planID uuid.UUID) {
	d.t.Helper()
	var payments, allocations, debited, open decimal.Decimal
	q := func(sql string, v *decimal.Decimal) {
		if err := d.st.Pool().QueryRow(context.Background(), sql, planID).Scan(v); err != nil {
			d.t.Fatalf("%s: %v", sql, err)
		}
	}
	q(`SELECT coalesce(sum(amount), 0) FROM payments WHERE plan_id = $1`, &payments)
	q(`SELECT coalesce(sum(amount), 0) FROM payment_allocations WHERE plan_id = $1`, &allocations)
	q(`SELECT coalesce(sum(e.amount), 0) FROM account_entries e JOIN plans p ON p.funding_account_id = e.account_id
		WHERE p.id = $1 AND e.kind = 'debit'`, &debited)
	q(`SELECT coalesce(sum(i.payment + i.penalty_accrued - i.paid_principal - i.paid_interest - i.paid_fee - i.paid_penalty
		- i.waived_interest - i.waived_fee - i.waived_penalty), 0)
		FROM instalments i JOIN plans p ON p.id = i.plan_id AND p.schedule_version = i.schedule_version WHERE p.id = $1`, &open)
	if !payments.Equal(allocations) || !payments.Equal(debited) {
		d.t.Errorf("books: payments %s, allocations %s, debited %s; want all equal", payments, allocations, debited)
	}
	if !open.IsZero() {
		d.t.Errorf("the current schedule still owes %s, want 0.00", open)
	}
}

// openFromStatus is what the status says every unsettled instalment owes,
// as the calculator's open instalments (no penalty: none accrues before
// the collection issue).
func openFromStatus(st plan.Status) []calc.OpenInstalment {
	var open []calc.OpenInstalment
	for _, row := range st.Schedule {
		if row.Status == plan.InstalmentPaid || row.Status == plan.InstalmentWaived || row.Holiday {
			continue
		}
		open = append(open, calc.OpenInstalment{No: row.No, DueDate: row.DueDate, Owed: calc.Amounts{
			Penalty: decimal.Zero, Fee: row.Fee, Interest: row.Interest, Principal: row.Principal}})
	}
	return open
}

// Cancelling to one lump sum now: the quote is the calculator's settlement
// (remaining principal plus the current period's interest), nothing
// changes until it is confirmed, and confirming debits it once, keeps the
// old schedule, and closes the plan as cancelled with the credit line
// released and the books balanced.
func TestCancelLumpSumQuoteThenConfirm(t *testing.T) {
	d := newDB(t)
	r := funded(t, d, "app-cancel-lump")
	before := r.snapshot(afterSecond)
	quote := r.sendAt(afterSecond+time.Minute, plan.MsgCancel, plan.CancelRequest{RequestID: "cancel-q", Mode: plan.CancelLumpSum})
	mid := r.snapshot(afterSecond + 2*time.Minute)
	confirm := r.confirmAt(afterSecond+time.Hour, quote, plan.MsgCancel, func(id string) any {
		return plan.CancelRequest{RequestID: "cancel-c", QuoteID: id}
	})
	repeat := r.confirmAt(afterSecond+time.Hour, quote, plan.MsgCancel, func(id string) any {
		return plan.CancelRequest{RequestID: "cancel-c", QuoteID: id}
	})
	r.execute()
	res := r.result()

	q := quote.wantReply(t)
	if !q.Accepted || q.Quote == nil || !q.Quote.Eligible {
		t.Fatalf("quote reply %+v, want an eligible quote", q)
	}
	asOf := before.BusinessDate
	want, err := calc.QuoteSettlement(openFromStatus(*before), asOf, calc.SettlementTerms{Policy: calc.SettleCurrentPeriod})
	if err != nil {
		t.Fatal(err)
	}
	if !q.Quote.DueNow.Equal(want.Total) || !q.Quote.Settlement.Total.Equal(want.Total) || !q.Quote.Settlement.Interest.Equal(want.Interest) {
		t.Errorf("quote due now %s, settlement %+v; the calculator says %s (interest %s)", q.Quote.DueNow, q.Quote.Settlement, want.Total, want.Interest)
	}
	if !q.Quote.Fee.Equal(want.Interest) {
		t.Errorf("cancellation fee %s, want the current period's interest %s", q.Quote.Fee, want.Interest)
	}
	if mid.ScheduleVersion != 1 || mid.Revision != before.Revision {
		t.Errorf("after the quote: schedule v%d revision %d, want v1 and revision %d: a quote changes nothing", mid.ScheduleVersion, mid.Revision, before.Revision)
	}
	c := confirm.wantReply(t)
	if !c.Accepted {
		t.Fatalf("confirmation refused: %s", c.Reason)
	}
	if rp := repeat.wantReply(t); rp.Accepted != c.Accepted || rp.Quote == nil || rp.Quote.ID != c.Quote.ID {
		t.Errorf("a repeated confirmation got %+v, want the first reply %+v", rp, c)
	}
	if res.State != plan.StateClosed || res.CloseReason != "cancelled and settled" {
		t.Fatalf("plan %s (%s), want closed as cancelled and settled", res.State, res.CloseReason)
	}
	if n := d.count(`SELECT count(*) FROM schedule_versions WHERE plan_id = $1`, r.id); n != 2 {
		t.Errorf("%d schedule versions, want 2 (the first kept)", n)
	}
	if n := d.count(`SELECT count(*) FROM account_entries e JOIN plans p ON p.funding_account_id = e.account_id
		WHERE p.id = $1 AND e.idempotency_key LIKE 'change:%'`, r.id); n != 1 {
		t.Errorf("%d lump-sum debits, want exactly 1", n)
	}
	if n := d.count(`SELECT count(*) FROM credit_lines WHERE used = 0`); n != 1 {
		t.Errorf("the credit line was not released")
	}
	d.wantRequest(r.id, "cancel-q", "cancel", "customer", "completed")
	d.wantRequest(r.id, "cancel-c", "cancel", "customer", "completed")
	d.wantAudit(r.id, "schedule.changed", "plan.closed")
	d.wantBooks(r.id)
}

// Cancelling to fewer terms: the settlement amount spread over 3
// instalments without further interest; the plan then pays off to
// exactly zero on the new schedule.
func TestCancelFewerTermsPaysOffToZero(t *testing.T) {
	d := newDB(t)
	r := funded(t, d, "app-cancel-fewer")
	before := r.snapshot(afterSecond)
	quote := r.sendAt(afterSecond+time.Minute, plan.MsgCancel, plan.CancelRequest{RequestID: "cf-q", Mode: plan.CancelFewerTerms, Terms: 3})
	confirm := r.confirmAt(afterSecond+time.Hour, quote, plan.MsgCancel, func(id string) any {
		return plan.CancelRequest{RequestID: "cf-c", Mode: plan.CancelFewerTerms, Terms: 3, QuoteID: id}
	})
	r.execute()
	res := r.result()

	q := quote.wantReply(t).Quote
	if q == nil || len(q.Schedule) != 3 || !q.DueNow.IsZero() {
		t.Fatalf("quote %+v, want 3 instalments and nothing due now", q)
	}
	want, _ := calc.QuoteSettlement(openFromStatus(*before), before.BusinessDate, calc.SettlementTerms{})
	if !q.TotalPayable.Equal(want.Total) {
		t.Errorf("3 instalments total %s, want the lump sum %s (no further interest)", q.TotalPayable, want.Total)
	}
	for i, row := range q.Schedule {
		if i > 0 && !row.Interest.IsZero() {
			t.Errorf("instalment %d charges interest %s after cancellation", row.No, row.Interest)
		}
		if wantDue := before.Schedule[2+i].DueDate; row.DueDate != wantDue {
			t.Errorf("new instalment %d due %s, want %s (the old cadence)", row.No, row.DueDate, wantDue)
		}
	}
	if !confirm.wantReply(t).Accepted {
		t.Fatalf("confirmation refused: %s", confirm.reply.Reason)
	}
	if res.State != plan.StateClosed || res.CloseReason != "cancelled and settled" || res.TotalInstallments != 5 {
		t.Fatalf("plan %s (%s) with %d instalments, want closed as cancelled with 2 + 3", res.State, res.CloseReason, res.TotalInstallments)
	}
	d.wantBooks(r.id)
}

// A quote goes stale when anything on the plan changes (here a debit) and
// lapses after 24 business hours; confirming either is refused with the
// reason and changes nothing.
func TestStaleAndExpiredQuotesAreRefused(t *testing.T) {
	d := newDB(t)
	r := funded(t, d, "app-stale")
	staleQ := r.sendAt(25*day, plan.MsgPrepay, plan.PrepayRequest{RequestID: "p-q1", Amount: dec("1000.00")})
	stale := r.confirmAt(35*day, staleQ, plan.MsgPrepay, func(id string) any { return plan.PrepayRequest{RequestID: "p-c1", QuoteID: id} })
	oldQ := r.sendAt(40*day, plan.MsgPrepay, plan.PrepayRequest{RequestID: "p-q2", Amount: dec("1000.00")})
	expired := r.confirmAt(41*day+time.Hour, oldQ, plan.MsgPrepay, func(id string) any { return plan.PrepayRequest{RequestID: "p-c2", QuoteID: id} })
	otherTerms := r.confirmAt(40*day+time.Hour, oldQ, plan.MsgPrepay, func(id string) any {
		return plan.PrepayRequest{RequestID: "p-c3", Amount: dec("2000.00"), QuoteID: id}
	})
	unknown := r.sendAt(42*day, plan.MsgPrepay, plan.PrepayRequest{RequestID: "p-c4", QuoteID: "q-000000000000"})
	after := r.snapshot(43 * day)
	r.stopAt(44 * day)
	r.execute()
	r.wantCanceled()

	if rp := stale.wantReply(t); rp.Accepted || !strings.Contains(rp.Reason, "stale") || !strings.Contains(rp.Reason, "debit of instalment 1") {
		t.Errorf("stale confirmation: %+v, want refused as stale by the debit of instalment 1", rp)
	}
	if rp := expired.wantReply(t); rp.Accepted || !strings.Contains(rp.Reason, "expired") {
		t.Errorf("expired confirmation: %+v, want refused as expired", rp)
	}
	if rp := otherTerms.wantReply(t); rp.Accepted || !strings.Contains(rp.Reason, "other terms") {
		t.Errorf("confirmation with other terms: %+v, want refused", rp)
	}
	unknown.wantRejected(t, "no quote q-000000000000")
	if after.ScheduleVersion != 1 {
		t.Errorf("schedule v%d after refused confirmations, want v1", after.ScheduleVersion)
	}
	if n := d.count(`SELECT count(*) FROM schedule_versions WHERE plan_id = $1`, r.id); n != 1 {
		t.Errorf("%d schedule versions, want 1", n)
	}
}

// Repaying in part lowers the term; repaying the rest in full closes the
// plan as repaid early; both quotes agree with the calculator and the
// books balance.
func TestPrepayPartThenFull(t *testing.T) {
	d := newDB(t)
	r := funded(t, d, "app-prepay")
	part := r.sendAt(afterFirst, plan.MsgPrepay, plan.PrepayRequest{RequestID: "pp-q", Amount: dec("3000.00"), Reduce: plan.ReduceTerm})
	partC := r.confirmAt(afterFirst+time.Hour, part, plan.MsgPrepay, func(id string) any { return plan.PrepayRequest{RequestID: "pp-c", QuoteID: id} })
	mid := r.snapshot(afterFirst + 2*time.Hour)
	full := r.sendAt(afterSecond, plan.MsgPrepay, plan.PrepayRequest{RequestID: "pf-q"})
	fullC := r.confirmAt(afterSecond+time.Hour, full, plan.MsgPrepay, func(id string) any { return plan.PrepayRequest{RequestID: "pf-c", QuoteID: id} })
	r.execute()
	res := r.result()

	pq := part.wantReply(t).Quote
	if pq == nil || !pq.Eligible || !pq.DueNow.Equal(dec("3000.00")) {
		t.Fatalf("part quote %+v, want 3000.00 due now", pq)
	}
	if pq.After.Instalments >= pq.Before.Instalments {
		t.Errorf("repaying to a shorter term left %d instalments, had %d", pq.After.Instalments, pq.Before.Instalments)
	}
	if !partC.wantReply(t).Accepted || mid.ScheduleVersion != 2 {
		t.Fatalf("part confirmation %+v, schedule v%d; want applied, v2", partC.reply, mid.ScheduleVersion)
	}
	if !fullC.wantReply(t).Accepted {
		t.Fatalf("full confirmation refused: %s", fullC.reply.Reason)
	}
	if res.State != plan.StateClosed || res.CloseReason != "repaid early" {
		t.Fatalf("plan %s (%s), want closed, repaid early", res.State, res.CloseReason)
	}
	d.wantBooks(r.id)
}

// A restructure that lengthens the plan by more than the policy's 12
// instalments waits for an operator; approved, it applies and the plan
// pays off to zero. A second restructure within 12 months is refused.
func TestRestructureNeedsApprovalThenPaysOff(t *testing.T) {
	d := newDB(t)
	r := funded(t, d, "app-restructure")
	quote := r.sendAt(afterFirst, plan.MsgRestructure, plan.RestructureRequest{RequestID: "rs-q", Terms: 24, Reason: "reduced hours"})
	confirm := r.confirmAt(afterFirst+time.Hour, quote, plan.MsgRestructure, func(id string) any {
		return plan.RestructureRequest{RequestID: "rs-c", QuoteID: id}
	})
	waiting := r.snapshot(afterFirst + 2*time.Hour)
	approve := r.confirmAt(afterFirst+3*time.Hour, quote, plan.MsgApprove, func(id string) any {
		return plan.ApprovalDecision{RequestID: "ap-1", QuoteID: id, Approve: true, Operator: "alice"}
	})
	again := r.sendAt(afterFirst+4*time.Hour, plan.MsgRestructure, plan.RestructureRequest{RequestID: "rs-q2", Terms: 30})
	r.execute()
	res := r.result()

	q := quote.wantReply(t).Quote
	if q == nil || !q.Eligible || !q.NeedsApproval || len(q.Schedule) != 24 {
		t.Fatalf("quote %+v, want 24 instalments needing approval", q)
	}
	if !q.After.Instalment.LessThan(q.Before.Instalment) {
		t.Errorf("restructured instalment %s, was %s: want lower", q.After.Instalment, q.Before.Instalment)
	}
	if rp := confirm.wantReply(t); !rp.Accepted || !strings.Contains(rp.Reason, "operator") {
		t.Errorf("confirmation %+v, want accepted awaiting an operator", rp)
	}
	if waiting.AwaitingApproval == nil || waiting.ScheduleVersion != 1 {
		t.Errorf("while waiting: awaiting %v, schedule v%d; want the quote awaiting and v1", waiting.AwaitingApproval, waiting.ScheduleVersion)
	}
	if rp := approve.wantReply(t); !rp.Accepted {
		t.Fatalf("approval refused: %s", rp.Reason)
	}
	if rp := again.wantReply(t); rp.Accepted || !strings.Contains(rp.Reason, "12 months") {
		t.Errorf("second restructure: %+v, want refused (one in 12 months)", rp)
	}
	if res.State != plan.StateClosed || res.TotalInstallments != 25 {
		t.Fatalf("plan %s with %d instalments, want closed with 1 + 24", res.State, res.TotalInstallments)
	}
	d.wantRequest(r.id, "rs-c", "restructure", "customer", "completed")
	if n := d.count(`SELECT count(*) FROM tasks WHERE plan_id = $1 AND kind = 'request_approval' AND status = 'done'`, r.id); n != 1 {
		t.Errorf("%d approval tasks done, want 1", n)
	}
	d.wantBooks(r.id)
}

// A payment holiday pauses two instalments, capitalises their interest,
// and the plan resumes after them and pays off to zero; pausing more than
// the policy's 3 in all is refused.
func TestHolidayPausesAndResumes(t *testing.T) {
	d := newDB(t)
	r := funded(t, d, "app-holiday")
	quote := r.sendAt(afterFirst, plan.MsgHoliday, plan.HolidayRequest{RequestID: "h-q", Periods: 2, Reason: "hospital"})
	confirm := r.confirmAt(afterFirst+time.Hour, quote, plan.MsgHoliday, func(id string) any { return plan.HolidayRequest{RequestID: "h-c", QuoteID: id} })
	tooMany := r.sendAt(afterFirst+2*time.Hour, plan.MsgHoliday, plan.HolidayRequest{RequestID: "h-q2", Periods: 2})
	r.execute()
	res := r.result()

	q := quote.wantReply(t).Quote
	if q == nil || !q.Eligible || !q.Capitalised.IsPositive() {
		t.Fatalf("quote %+v, want eligible with interest capitalised", q)
	}
	holidays := 0
	for _, row := range q.Schedule {
		if row.Holiday {
			holidays++
		}
	}
	if holidays != 2 || q.After.Instalments != 11 {
		t.Errorf("%d holiday rows and %d instalments after, want 2 and 11", holidays, q.After.Instalments)
	}
	if !confirm.wantReply(t).Accepted {
		t.Fatalf("confirmation refused: %s", confirm.reply.Reason)
	}
	if rp := tooMany.wantReply(t); rp.Accepted || !strings.Contains(rp.Reason, "at most 3") {
		t.Errorf("a second holiday of 2: %+v, want refused (3 in all)", rp)
	}
	if res.State != plan.StateClosed {
		t.Fatalf("plan %s, want closed", res.State)
	}
	d.wantBooks(r.id)
}

// An operator waives interest: the quote spreads it oldest first, the
// confirmation forgives it on the instalments and is audited, and the plan
// pays off to zero having collected that much less.
func TestWaiverByOperator(t *testing.T) {
	d := newDB(t)
	r := funded(t, d, "app-waive")
	quote := r.sendAt(afterFirst, plan.MsgWaive, plan.WaiveRequest{RequestID: "w-q", Component: calc.ComponentInterest, Amount: dec("150.00"), Reason: "goodwill", Operator: "alice"})
	confirm := r.confirmAt(afterFirst+time.Hour, quote, plan.MsgWaive, func(id string) any {
		return plan.WaiveRequest{RequestID: "w-c", QuoteID: id, Operator: "alice", Reason: "goodwill"}
	})
	r.execute()
	res := r.result()

	q := quote.wantReply(t).Quote
	if q == nil || !q.Eligible || len(q.Waived) < 2 {
		t.Fatalf("quote %+v, want 150.00 spread over the oldest instalments' interest", q)
	}
	if !confirm.wantReply(t).Accepted {
		t.Fatalf("confirmation refused: %s", confirm.reply.Reason)
	}
	if res.State != plan.StateClosed {
		t.Fatalf("plan %s, want closed", res.State)
	}
	var waived, scheduled, paid decimal.Decimal
	if err := d.st.Pool().QueryRow(context.Background(), `SELECT sum(waived_interest), sum(payment), sum(paid_principal + paid_interest + paid_fee)
		FROM instalments WHERE plan_id = $1`, r.id).Scan(&waived, &scheduled, &paid); err != nil {
		t.Fatal(err)
	}
	if !waived.Equal(dec("150.00")) || !paid.Equal(scheduled.Sub(waived)) {
		t.Errorf("waived %s, paid %s of %s; want 150.00 waived and the rest paid", waived, paid, scheduled)
	}
	d.wantAudit(r.id, "waiver.applied")
	d.wantBooks(r.id)
}

// A complaint opens a ticket and pauses collection contact: a declined
// debit during the pause sends no demand; the operator's resolution
// reaches the customer.
func TestComplaintPausesCollectionContact(t *testing.T) {
	d := newDB(t)
	r := d.newRun(application(t, "app-complaint", customer(t, "strong"), "12000.00", 12))
	r.activeAt()
	complain := r.sendAt(20*day, plan.MsgComplain, plan.ComplaintRequest{RequestID: "cp-1", Text: "too many calls"})
	paused := r.snapshot(21 * day)
	resolve := r.sendAt(35*day, plan.MsgResolve, plan.ResolveRequest{RequestID: "rs-1", Complaint: "cp-1", Resolution: "we will call at most once a week", Operator: "bob"})
	after := r.snapshot(36 * day)
	r.stopAt(37 * day)
	r.execute()
	r.wantCanceled()

	if !complain.wantReply(t).Accepted {
		t.Fatalf("complaint refused: %s", complain.reply.Reason)
	}
	if len(paused.Complaints) != 1 || paused.ContactPausedUntil.IsZero() {
		t.Errorf("status while open: complaints %+v, paused until %s", paused.Complaints, paused.ContactPausedUntil)
	}
	if n := d.count(`SELECT count(*) FROM contacts WHERE plan_id = $1 AND contact_key LIKE '%:due:v1:1:1'`, r.id); n != 0 {
		t.Errorf("a demand for the declined debit was queued during the complaint's pause")
	}
	if !resolve.wantReply(t).Accepted || len(after.Complaints) != 0 {
		t.Errorf("resolution %+v, open complaints after %+v", resolve.reply, after.Complaints)
	}
	if body := d.wantNotice(r.id, "resolved:cp-1", "notice", string(r.app.Customer.PreferredChannel)); !strings.Contains(body, "at most once a week") {
		t.Errorf("resolution notice %q does not carry the resolution", body)
	}
	if n := d.count(`SELECT count(*) FROM tasks WHERE plan_id = $1 AND kind = 'complaint' AND status = 'done'`, r.id); n != 1 {
		t.Errorf("%d complaint tasks done, want 1", n)
	}
}

// Requests are refused outside an active plan (the Update validator) and
// a cancellation is refused in M2 with the reason; a plan that is M2
// because nothing was paid.
func TestRequestsRefusedByStateAndBucket(t *testing.T) {
	d := newDB(t)
	r := d.newRun(application(t, "app-refused", customer(t, "strong"), "12000.00", 12))
	early := r.sendAt(30*time.Minute, plan.MsgCancel, plan.CancelRequest{RequestID: "c-early", Mode: plan.CancelLumpSum})
	r.activeAt()
	broke := r.sendAt(10*day, plan.MsgCancel, plan.CancelRequest{RequestID: "c-broke", Mode: plan.CancelLumpSum})
	m2 := r.sendAt(70*day, plan.MsgCancel, plan.CancelRequest{RequestID: "c-m2", Mode: plan.CancelLumpSum})
	pause := r.sendAt(70*day, plan.MsgHoliday, plan.HolidayRequest{RequestID: "h-m2", Periods: 1})
	r.stopAt(71 * day)
	r.execute()
	r.wantCanceled()

	early.wantRejected(t, "only while the plan is active")
	if rp := broke.wantReply(t); rp.Accepted || !strings.Contains(rp.Reason, "top it up") {
		t.Errorf("lump sum with an empty account: %+v, want refused (ability to pay)", rp)
	}
	if rp := pause.wantReply(t); rp.Accepted || !strings.Contains(rp.Reason, "past due first") {
		t.Errorf("holiday while past due: %+v, want refused", rp)
	}
	if rp := m2.wantReply(t); rp.Accepted || !strings.Contains(rp.Reason, "M2") {
		t.Errorf("cancellation in M2: %+v, want refused naming M2", rp)
	}
	d.wantRequest(r.id, "c-m2", "cancel", "customer", "rejected")
}

// A confirmation sent as a Signal (as front-ends do) at the very instant
// the first instalment's debit falls due waits its turn: either it applies
// first and the debit collects the new schedule, or the debit goes first
// and the confirmation is refused as stale. Nothing interleaves, nothing
// is charged twice, and the plan pays off to exactly zero.
func TestConfirmationRacingADebit(t *testing.T) {
	d := newDB(t)
	r := funded(t, d, "app-race")
	quote := r.sendAt(25*day, plan.MsgCancel, plan.CancelRequest{RequestID: "race-q", Mode: plan.CancelFewerTerms, Terms: 4})
	due := 31*day - time.Hour // 2026-04-02 09:00 Shanghai
	r.at(due, func() {
		if quote.reply.Quote == nil {
			t.Errorf("no quote: %+v", quote.reply)
			return
		}
		r.env.SignalWorkflow(plan.MsgCancel, plan.CancelRequest{RequestID: "race-c", QuoteID: quote.reply.Quote.ID})
	})
	after := r.snapshot(due + time.Hour)
	r.execute()
	res := r.result()

	var answer *plan.Reply
	for i := range after.RecentReplies {
		if after.RecentReplies[i].RequestID == "race-c" {
			answer = &after.RecentReplies[i]
		}
	}
	if answer == nil {
		t.Fatalf("the signalled confirmation was not answered: %+v", after.RecentReplies)
	}
	switch {
	case answer.Accepted:
		if after.ScheduleVersion != 2 {
			t.Errorf("confirmation applied but schedule v%d", after.ScheduleVersion)
		}
	case !strings.Contains(answer.Reason, "stale"):
		t.Errorf("confirmation refused with %q, want applied or stale", answer.Reason)
	}
	if n := d.count(`SELECT count(*) FROM (SELECT 1 FROM debit_attempts WHERE plan_id = $1 AND outcome = 'succeeded'
		GROUP BY schedule_version, instalment_no HAVING count(*) > 1) twice`, r.id); n != 0 {
		t.Errorf("an instalment was debited more than once")
	}
	if res.State != plan.StateClosed {
		t.Fatalf("plan %s, want closed", res.State)
	}
	d.wantBooks(r.id)
}

// Quotes that the product's rules or the plan's position refuse say why,
// change nothing and leave no quote to confirm. All are asked at once on
// one plan, after its first instalment (11 left, 11000.00 principal).
func TestQuoteRefusals(t *testing.T) {
	cases := []struct {
		name string
		kind string
		req  plan.Request
		want string
	}{
		{"fewer terms not fewer", plan.MsgCancel, plan.CancelRequest{RequestID: "x-1", Mode: plan.CancelFewerTerms, Terms: 11}, "fewer than the 11 instalments left"},
		{"prepay all as part", plan.MsgPrepay, plan.PrepayRequest{RequestID: "x-2", Amount: dec("20000.00")}, "less than the remaining principal"},
		{"restructure shorter", plan.MsgRestructure, plan.RestructureRequest{RequestID: "x-3", Terms: 6}, "lengthens the plan"},
		{"restructure too long", plan.MsgRestructure, plan.RestructureRequest{RequestID: "x-4", Terms: 200}, "at most 60"},
		{"instalment unreachable", plan.MsgRestructure, plan.RestructureRequest{RequestID: "x-5", MaxInstalment: dec("1.00")}, "lowest instalment reachable"},
		{"holiday too long", plan.MsgHoliday, plan.HolidayRequest{RequestID: "x-6", Periods: 4}, "at most 3"},
		{"no penalty owed", plan.MsgWaive, plan.WaiveRequest{RequestID: "x-7", Component: calc.ComponentPenalty, Amount: dec("10.00"), Reason: "r", Operator: "alice"}, "only 0.00 of penalty"},
		{"waive beyond interest", plan.MsgWaive, plan.WaiveRequest{RequestID: "x-8", Component: calc.ComponentInterest, Amount: dec("99999.00"), Reason: "r", Operator: "alice"}, "of interest is owed"},
	}
	d := newDB(t)
	r := funded(t, d, "app-refusals")
	outs := make([]*outcome, len(cases))
	for i, c := range cases {
		outs[i] = r.sendAt(afterFirst, c.kind, c.req)
	}
	after := r.snapshot(afterFirst + time.Minute)
	r.stopAt(afterFirst + 2*time.Minute)
	r.execute()
	r.wantCanceled()

	for i, c := range cases {
		rp := outs[i].wantReply(t)
		if rp.Accepted || rp.Quote == nil || rp.Quote.Eligible || !strings.Contains(rp.Reason, c.want) {
			t.Errorf("%s: reply %+v, want refused with %q and the quote", c.name, rp, c.want)
		}
		d.wantRequest(r.id, c.req.ID(), map[string]string{plan.MsgCancel: "cancel", plan.MsgPrepay: "early_repayment",
			plan.MsgRestructure: "restructure", plan.MsgHoliday: "pause", plan.MsgWaive: "relief"}[c.kind],
			map[bool]string{true: "operator", false: "customer"}[c.kind == plan.MsgWaive], "rejected")
	}
	if after.ScheduleVersion != 1 || after.Revision != 1 {
		t.Errorf("after refused quotes: schedule v%d, revision %d; want v1, revision 1 (the first debit)", after.ScheduleVersion, after.Revision)
	}
}

// Paying the next instalment in full ahead of its due date does not make
// settling dearer: the settlement is the same as without paying ahead,
// less what was paid (the paid instalment is still the current period).
func TestSettlementAfterPayingAheadInFull(t *testing.T) {
	d := newDB(t)
	r := funded(t, d, "app-ahead")
	before := r.snapshot(afterFirst)
	pay := r.payAt(afterFirst+time.Minute, "ahead-1", func(st plan.Status) decimal.Decimal { return st.NextDueAmount })
	quote := r.sendAt(afterFirst+time.Hour, plan.MsgPrepay, plan.PrepayRequest{RequestID: "ahead-q"})
	r.stopAt(afterFirst + 2*time.Hour)
	r.execute()
	r.wantCanceled()

	paid := pay.wantReply(t)
	if !paid.Accepted {
		t.Fatalf("payment refused: %s", paid.Reason)
	}
	want, err := calc.QuoteSettlement(openFromStatus(*before), before.BusinessDate, calc.SettlementTerms{})
	if err != nil {
		t.Fatal(err)
	}
	q := quote.wantReply(t).Quote
	if q == nil || !q.Eligible {
		t.Fatalf("quote %+v, want eligible", q)
	}
	if got := q.DueNow.Add(q.PaidAhead); !got.Equal(want.Total) || !q.PaidAhead.Equal(before.NextDueAmount) {
		t.Errorf("due now %s + paid ahead %s = %s, want the settlement without paying ahead %s (paid ahead %s)",
			q.DueNow, q.PaidAhead, got, want.Total, before.NextDueAmount)
	}
}

// Interest waived on an instalment not yet due is not charged again when
// the plan is settled.
func TestWaivedInterestIsNotChargedAgainAtSettlement(t *testing.T) {
	d := newDB(t)
	r := funded(t, d, "app-waive-settle")
	before := r.snapshot(afterFirst)
	waive := r.sendAt(afterFirst+time.Minute, plan.MsgWaive, plan.WaiveRequest{RequestID: "ws-q", Component: calc.ComponentInterest, Amount: dec("30.00"), Reason: "goodwill", Operator: "alice"})
	r.confirmAt(afterFirst+2*time.Minute, waive, plan.MsgWaive, func(id string) any {
		return plan.WaiveRequest{RequestID: "ws-c", QuoteID: id, Operator: "alice"}
	})
	quote := r.sendAt(afterFirst+time.Hour, plan.MsgPrepay, plan.PrepayRequest{RequestID: "ws-p"})
	r.stopAt(afterFirst + 2*time.Hour)
	r.execute()
	r.wantCanceled()

	want, err := calc.QuoteSettlement(openFromStatus(*before), before.BusinessDate, calc.SettlementTerms{})
	if err != nil {
		t.Fatal(err)
	}
	q := quote.wantReply(t).Quote
	if q == nil || !q.DueNow.Equal(want.Total.Sub(dec("30.00"))) {
		t.Fatalf("settlement after waiving 30.00 of the current interest: %+v, want %s", q, want.Total.Sub(dec("30.00")))
	}
}

// After a restructure to quarterly instalments the plan still takes
// requests: the next quote uses the new schedule's terms.
func TestRequestsAfterAFrequencyChange(t *testing.T) {
	d := newDB(t)
	r := funded(t, d, "app-quarterly")
	quote := r.sendAt(afterFirst, plan.MsgRestructure, plan.RestructureRequest{RequestID: "fq-q", Frequency: calc.Quarterly, Terms: 5})
	r.confirmAt(afterFirst+time.Hour, quote, plan.MsgRestructure, func(id string) any { return plan.RestructureRequest{RequestID: "fq-c", QuoteID: id} })
	prepay := r.sendAt(afterFirst+2*time.Hour, plan.MsgPrepay, plan.PrepayRequest{RequestID: "fq-p", Amount: dec("1000.00")})
	r.execute()
	res := r.result()

	q := quote.wantReply(t).Quote
	if q == nil || !q.Eligible || q.Params.Frequency != calc.Quarterly {
		t.Fatalf("quarterly restructure quote %+v", q)
	}
	if p := prepay.wantReply(t); p.Quote == nil || !p.Quote.Eligible || p.Quote.Params.Frequency != calc.Quarterly {
		t.Errorf("a prepayment quote after the change: %+v, want eligible on the quarterly schedule", p)
	}
	if res.State != plan.StateClosed {
		t.Fatalf("plan %s, want closed", res.State)
	}
	d.wantBooks(r.id)
}
