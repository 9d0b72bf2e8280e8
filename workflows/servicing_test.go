package workflows_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/fenqi/fenqi/calc"
	"github.com/fenqi/fenqi/clock"
	"github.com/fenqi/fenqi/contact"
	"github.com/fenqi/fenqi/plan"
)

// fundAt tops up the customer's funding account (the simulated gateway)
// at d with amount.
func (r *planRun) fundAt(d time.Duration, amount string) {
	r.at(d, func() {
		var acct uuid.UUID
		if err := r.db.st.Pool().QueryRow(context.Background(), `SELECT funding_account_id FROM plans WHERE id = $1`, r.id).Scan(&acct); err != nil {
			r.t.Errorf("funding account of %s: %v", r.id, err)
			return
		}
		if _, err := r.db.st.Fund(context.Background(), acct, dec(amount), "fund-"+uuid.NewString()); err != nil {
			r.t.Errorf("fund %s: %v", acct, err)
		}
	})
}

// activeAt takes the plan to active: at 1h choose the annuity offer over
// the application's terms, sign at 2h.
func (r *planRun) activeAt() {
	o := &outcome{name: plan.MsgChoose}
	r.at(time.Hour, func() {
		st := r.status()
		for _, of := range st.Offers {
			if of.Method == "annuity" && of.Terms == r.app.Terms {
				r.send(o, plan.MsgChoose, plan.ChooseRequest{RequestID: "choose-1", OfferSet: st.OfferSet, Offer: of.No})
				return
			}
		}
		r.t.Errorf("no annuity offer over %d terms among %+v", r.app.Terms, st.Offers)
	})
	r.signAt(2*time.Hour, "sign-1")
}

// A 12-instalment plan with enough money in the account is debited on
// each due date and closes paid off: every instalment paid, the ledger
// charged exactly the schedule's total, the credit line released.
func TestTwelveInstalmentsPaidByAutoDebit(t *testing.T) {
	d := newDB(t)
	r := d.newRun(application(t, "app-life-12", customer(t, "strong"), "12000.00", 12))
	r.activeAt()
	r.fundAt(3*time.Hour, "100000.00")
	r.execute()
	res := r.result()

	if res.State != plan.StateClosed || res.PaidInstallments != 12 || res.TotalInstallments != 12 {
		t.Fatalf("result %s, %d of %d paid; want closed, 12 of 12", res.State, res.PaidInstallments, res.TotalInstallments)
	}
	if !res.PaidAmount.Equal(res.TotalAmount) || !res.OutstandingPrincipal.IsZero() {
		t.Fatalf("paid %s of %s, outstanding principal %s; want all paid", res.PaidAmount, res.TotalAmount, res.OutstandingPrincipal)
	}
	total := decimal.Zero
	for _, row := range res.Schedule {
		total = total.Add(row.Payment)
		if row.Status != plan.InstalmentPaid {
			t.Errorf("instalment %d is %s, want paid", row.No, row.Status)
		}
	}
	var debited decimal.Decimal
	if err := d.st.Pool().QueryRow(context.Background(), `SELECT coalesce(sum(amount), 0) FROM account_entries WHERE kind = 'debit'`).Scan(&debited); err != nil {
		t.Fatal(err)
	}
	if !debited.Equal(total) {
		t.Fatalf("the gateway debited %s, the schedule totals %s", debited, total)
	}
	if n := d.count(`SELECT count(*) FROM debit_attempts WHERE plan_id = $1 AND outcome = 'succeeded'`, r.id); n != 12 {
		t.Errorf("%d successful debits, want 12", n)
	}
	if n := d.count(`SELECT count(*) FROM credit_lines WHERE used = 0`); n != 1 {
		t.Errorf("the credit line was not released")
	}
	if n := d.count(`SELECT count(*) FROM contacts WHERE plan_id = $1 AND purpose = 'reminder'`, r.id); n != 12 {
		t.Errorf("%d reminders queued, want one per instalment (12)", n)
	}
	if s := d.planState(r.id); s != "closed" {
		t.Errorf("plan row is %s, want closed", s)
	}
}

// penalty is the penalty accrued on instalment no of the plan's first
// schedule.
func (d *db) penalty(planID uuid.UUID, no int) decimal.Decimal {
	d.t.Helper()
	var p decimal.Decimal
	if err := d.st.Pool().QueryRow(context.Background(), `SELECT penalty_accrued FROM instalments
		WHERE plan_id = $1 AND schedule_version = 1 AND no = $2`, planID, no).Scan(&p); err != nil {
		d.t.Errorf("penalty of instalment %d: %v", no, err)
	}
	return p
}

// ---- payments and debits: helpers ----

// payAt sends a payment by hand (an Update) at d; amount computes the
// amount from the plan's status then.
func (r *planRun) payAt(d time.Duration, id string, amount func(plan.Status) decimal.Decimal) *outcome {
	o := &outcome{name: plan.MsgPay}
	r.at(d, func() {
		r.send(o, plan.MsgPay, plan.PaymentRequest{RequestID: id, Amount: amount(r.status()), Source: "manual"})
	})
	return o
}

// fundWith tops up the funding account at d with an amount computed from
// the plan's status then.
func (r *planRun) fundWith(d time.Duration, amount func(plan.Status) decimal.Decimal) {
	r.at(d, func() {
		var acct uuid.UUID
		if err := r.db.st.Pool().QueryRow(context.Background(), `SELECT funding_account_id FROM plans WHERE id = $1`, r.id).Scan(&acct); err != nil {
			r.t.Errorf("funding account of %s: %v", r.id, err)
			return
		}
		if _, err := r.db.st.Fund(context.Background(), acct, amount(r.status()), "fund-"+uuid.NewString()); err != nil {
			r.t.Errorf("fund %s: %v", acct, err)
		}
	})
}

// amount is a fixed amount.
func amount(s string) func(plan.Status) decimal.Decimal {
	return func(plan.Status) decimal.Decimal { return dec(s) }
}

// instalmentAmount is instalment k's amount, plus extra.
func instalmentAmount(k int, extra string) func(plan.Status) decimal.Decimal {
	return func(st plan.Status) decimal.Decimal { return st.Schedule[k-1].Payment.Add(dec(extra)) }
}

// instalmentRow is an instalment as the instalments table has it.
type instalmentRow struct {
	status        string
	payment, paid decimal.Decimal
	// paidAt is the local time it was paid in Shanghai ("" if not).
	paidAt string
}

func (d *db) instalment(planID uuid.UUID, no int) instalmentRow {
	d.t.Helper()
	var r instalmentRow
	var paidAt *string
	if err := d.st.Pool().QueryRow(context.Background(), `SELECT status, payment, paid_principal + paid_interest + paid_fee + paid_penalty,
			to_char(paid_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI')
		FROM instalments WHERE plan_id = $1 AND schedule_version = 1 AND no = $2`, planID, no).
		Scan(&r.status, &r.payment, &r.paid, &paidAt); err != nil {
		d.t.Errorf("instalment %d: %v", no, err)
	}
	if paidAt != nil {
		r.paidAt = *paidAt
	}
	return r
}

// debits lists instalment no's debit attempts as "attempt outcome amount".
func (d *db) debits(planID uuid.UUID, no int) []string {
	d.t.Helper()
	return d.texts(`SELECT attempt || ' ' || outcome || ' ' || amount FROM debit_attempts
		WHERE plan_id = $1 AND instalment_no = $2 ORDER BY attempt`, planID, no)
}

// allocated is what was allocated to instalment no.
func (d *db) allocated(planID uuid.UUID, no int) decimal.Decimal {
	d.t.Helper()
	return d.money(`SELECT coalesce(sum(amount), 0) FROM payment_allocations WHERE plan_id = $1 AND instalment_no = $2`, planID, no)
}

// local is a due date's business time h:m in Shanghai as the tables show it.
func local(d calc.Date, h, m int) string { return fmt.Sprintf("%s %02d:%02d", d, h, m) }

const day = 24 * time.Hour

// ---- debits ----

// A debit declined on the due date and paid on the retry of D+1 (the
// customer topped the account up in between): the instalment is paid on
// attempt 2 for exactly its amount, never overdue, the bucket stays M0; the
// customer was told both results, and the failure raised an early warning
// before the next due date.
func TestDebitFailingThenSucceeding(t *testing.T) {
	d := newDB(t)
	r := d.newRun(application(t, "app-retry", customer(t, "strong"), "12000.00", 12))
	r.activeAt()
	declined := r.snapshot(dueAt(1, 10, 0))
	r.fundAt(dueAt(1, 15, 0), "100000.00")
	recovered := r.snapshot(dueAt(1, 0, 0) + 4*day) // after D+3, the end of grace
	r.stopAt(dueAt(1, 0, 0) + 5*day)
	r.execute()
	r.wantCanceled()

	p1 := declined.Schedule[0].Payment.StringFixed(2)
	if declined.Schedule[0].Status == plan.InstalmentOverdue || declined.Bucket != "M0" {
		t.Errorf("after the declined debit: instalment 1 %s, bucket %s; want not overdue, M0", declined.Schedule[0].Status, declined.Bucket)
	}
	if got, want := strings.Join(d.debits(r.id, 1), "; "), "1 insufficient_funds "+p1+"; 2 succeeded "+p1; got != want {
		t.Errorf("debits of instalment 1: %s, want %s", got, want)
	}
	if row := d.instalment(r.id, 1); row.status != "paid" || !row.paid.Equal(row.payment) || row.paidAt != local(dueDate(1).AddDays(1), 9, 0) {
		t.Errorf("instalment 1 row %+v, want paid in full at D+1 09:00", row)
	}
	if n := d.count(`SELECT count(*) FROM instalments WHERE plan_id = $1 AND status = 'overdue'`, r.id); n != 0 {
		t.Errorf("%d instalments overdue, want none", n)
	}
	if s := recovered.Schedule[0].Status; s != plan.InstalmentPaid || recovered.Bucket != "M0" || recovered.DaysPastDue != 0 {
		t.Errorf("after grace: instalment 1 %s, bucket %s, %d days past due; want paid, M0, 0", s, recovered.Bucket, recovered.DaysPastDue)
	}
	if !recovered.PaidAmount.Equal(recovered.Schedule[0].Payment) {
		t.Errorf("paid %s, want instalment 1's %s", recovered.PaidAmount, p1)
	}
	if body := d.wantNotice(r.id, "due:v1:1:1", "notice", "push"); !strings.Contains(body, "could not collect "+p1) {
		t.Errorf("notice of the declined debit: %q", body)
	}
	if body := d.wantNotice(r.id, "due:v1:1:2", "notice", "push"); !strings.Contains(body, "We collected "+p1) {
		t.Errorf("notice of the retry: %q", body)
	}
	alerts := d.texts(`SELECT instalment_no || ' ' || channel || ' ' || to_char(scheduled_for AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI')
		FROM contacts WHERE plan_id = $1 AND purpose = 'alert'`, r.id)
	if want := "2 phone " + local(dueDate(2).AddDays(-5), 9, 0); len(alerts) != 1 || alerts[0] != want {
		t.Errorf("early warnings %v, want [%s] (instalment 2, an agent task at D-5 09:00)", alerts, want)
	}
	d.wantBooksBalance(r.id)
}

// An account without money: every debit inside grace fails and the
// instalment becomes overdue (M1); a payment from outside then clears the
// arrears to the cent and the plan is current again (M0).
func TestInsufficientFundsThroughGrace(t *testing.T) {
	d := newDB(t)
	r := d.newRun(application(t, "app-grace", customer(t, "strong"), "12000.00", 12))
	r.activeAt()
	// The first due date is a month after activation; grace ends 3 days later.
	overdue := r.snapshot(dueAt(1, 0, 0) + 3*day + 12*time.Hour)
	// The arrears are the instalment and the penalty accrued on it since
	// the due date, through the day of the payment: the customer pays what
	// was last stated plus 1.00 for the day since, and the rest of the
	// 1.00 goes to the next instalment.
	var sent decimal.Decimal
	paid := r.payAt(dueAt(1, 0, 0)+4*day+10*time.Hour, "arrears-1", func(st plan.Status) decimal.Decimal {
		sent = instalmentAmount(1, "1.00")(st).Add(d.penalty(r.id, 1))
		return sent
	})
	current := r.snapshot(dueAt(1, 0, 0) + 4*day + 11*time.Hour)
	r.stopAt(dueAt(1, 0, 0) + 5*day)
	r.execute()
	r.wantCanceled()

	if overdue.Schedule[0].Status != plan.InstalmentOverdue {
		t.Fatalf("instalment 1 is %s after grace, want overdue", overdue.Schedule[0].Status)
	}
	if overdue.Bucket != "M1" || overdue.DaysPastDue < 1 {
		t.Errorf("bucket %s, %d days past due; want M1", overdue.Bucket, overdue.DaysPastDue)
	}
	if n := d.count(`SELECT count(*) FROM debit_attempts WHERE plan_id = $1 AND instalment_no = 1 AND outcome = 'insufficient_funds'`, r.id); n != 3 {
		t.Errorf("%d declined attempts for instalment 1, want 3 (due date, D+1, D+3)", n)
	}
	if n := d.count(`SELECT count(*) FROM contacts WHERE plan_id = $1 AND purpose = 'alert'`, r.id); n != 1 {
		t.Errorf("%d early warnings, want 1", n)
	}
	if body := d.wantNotice(r.id, "due:v1:1:3", "notice", "push"); !strings.Contains(body, "now overdue") {
		t.Errorf("notice at the end of grace: %q", body)
	}

	if rp := paid.wantReply(t); !rp.Accepted || rp.Reason != "" {
		t.Errorf("payment of the arrears answered %+v, want accepted", rp)
	}
	pen := d.penalty(r.id, 1)
	if !pen.IsPositive() {
		t.Errorf("no penalty accrued on the overdue instalment")
	}
	p1 := overdue.Schedule[0].Payment.Add(pen)
	if row := d.instalment(r.id, 1); row.status != "paid" || !row.paid.Equal(p1) || row.paidAt != local(dueDate(1).AddDays(4), 10, 0) {
		t.Errorf("instalment 1 row %+v, want paid %s at %s", row, p1, local(dueDate(1).AddDays(4), 10, 0))
	}
	if got := d.money(`SELECT amount FROM payments WHERE plan_id = $1 AND payment_id = 'arrears-1' AND source = 'manual'`, r.id); !got.Equal(sent) {
		t.Errorf("payments row of the arrears: %s, want %s", got, sent)
	}
	if got := d.allocated(r.id, 2); !got.Equal(sent.Sub(p1)) {
		t.Errorf("allocated to instalment 2: %s, want the rest of the payment %s", got, sent.Sub(p1))
	}
	if got := d.allocated(r.id, 1); !got.Equal(p1) {
		t.Errorf("allocated to instalment 1: %s, want %s", got, p1)
	}
	if current.Schedule[0].Status != plan.InstalmentPaid || current.Bucket != "M0" || current.DaysPastDue != 0 {
		t.Errorf("after the payment: instalment 1 %s, bucket %s, %d days past due; want paid, M0, 0",
			current.Schedule[0].Status, current.Bucket, current.DaysPastDue)
	}
	if !current.NextDueDate.Equal(dueDate(2)) {
		t.Errorf("next due date %s, want instalment 2's %s", current.NextDueDate, dueDate(2))
	}
	d.wantBooksBalance(r.id)
}

// A shortfall of at most 10.00 left after grace is carried forward to the
// next instalment, not overdue; 10.01 is overdue.
func TestShortfallAfterGrace(t *testing.T) {
	for _, c := range []struct {
		short   string
		carried bool
	}{{"10.00", true}, {"10.01", false}} {
		t.Run(c.short, func(t *testing.T) {
			d := newDB(t)
			r := d.newRun(application(t, "app-short-"+c.short, customer(t, "strong"), "12000.00", 12))
			r.activeAt()
			// The customer pays instalment 1 by hand but for the shortfall;
			// the account is empty until the day after grace.
			r.payAt(dueAt(1, 14, 0)-2*day, "part-1", instalmentAmount(1, "-"+c.short))
			afterGrace := r.snapshot(dueAt(1, 12, 0) + 3*day)
			r.fundAt(dueAt(1, 12, 0)+4*day, "100000.00")
			next := r.snapshot(dueAt(2, 10, 0))
			r.stopAt(dueAt(2, 0, 0) + day)
			r.execute()
			r.wantCanceled()

			short := dec(c.short)
			if got := strings.Join(d.debits(r.id, 1), "; "); got != "1 insufficient_funds "+c.short+"; 2 insufficient_funds "+c.short+"; 3 insufficient_funds "+c.short {
				t.Errorf("debits of instalment 1: %s, want three declined attempts of %s", got, c.short)
			}
			st := afterGrace.Schedule[0].Status
			p2 := afterGrace.Schedule[1].Payment
			if c.carried {
				if st != plan.InstalmentPartiallyPaid || afterGrace.Bucket != "M0" || afterGrace.DaysPastDue != 0 {
					t.Errorf("after grace: instalment 1 %s, bucket %s, %d days past due; want partially_paid (carried), M0, 0", st, afterGrace.Bucket, afterGrace.DaysPastDue)
				}
				// Instalment 2's debit collects the shortfall with it.
				if got := strings.Join(d.debits(r.id, 2), "; "); got != "1 succeeded "+p2.Add(short).StringFixed(2) {
					t.Errorf("debits of instalment 2: %s, want one of %s + %s", got, p2.StringFixed(2), c.short)
				}
				for k := 1; k <= 2; k++ {
					if row := d.instalment(r.id, k); row.status != "paid" || row.paidAt != local(dueDate(2), 9, 0) {
						t.Errorf("instalment %d row %+v, want paid on instalment 2's due date", k, row)
					}
				}
				if next.Schedule[0].Status != plan.InstalmentPaid || next.Schedule[1].Status != plan.InstalmentPaid || next.Bucket != "M0" {
					t.Errorf("after instalment 2's debit: %s, %s, bucket %s; want both paid, M0", next.Schedule[0].Status, next.Schedule[1].Status, next.Bucket)
				}
			} else {
				if st != plan.InstalmentOverdue || afterGrace.Bucket != "M1" {
					t.Errorf("after grace: instalment 1 %s, bucket %s; want overdue, M1", st, afterGrace.Bucket)
				}
				if row := d.instalment(r.id, 1); row.status != "paid" {
					t.Errorf("instalment 1 row %+v, want paid by instalment 2's debit", row)
				}
			}
			// An overdue shortfall also pays the penalty accrued on it.
			if want := afterGrace.Schedule[0].Payment.Add(d.penalty(r.id, 1)); !d.allocated(r.id, 1).Equal(want) {
				t.Errorf("allocated to instalment 1: %s, want %s", d.allocated(r.id, 1), want)
			}
			if c.carried && d.penalty(r.id, 1).IsPositive() {
				t.Errorf("penalty accrued on a carried shortfall")
			}
			d.wantBooksBalance(r.id)
		})
	}
}

// BUG probe: a shortfall (at most 10.00) on the LAST instalment has no
// next instalment to be carried to. It must not be left behind: once the
// customer has the money the plan collects it and closes, or else the
// instalment becomes overdue.
func TestShortfallOnTheLastInstalmentIsNotLeftBehind(t *testing.T) {
	d := newDB(t)
	r := d.newRun(application(t, "app-short-last", customer(t, "strong"), "3000.00", 3))
	r.activeAt()
	// Exactly enough for instalments 1 and 2; instalment 3 is paid by hand
	// but for 5.00, and the account is topped up after grace.
	r.fundWith(3*time.Hour, func(st plan.Status) decimal.Decimal { return st.Schedule[0].Payment.Add(st.Schedule[1].Payment) })
	r.payAt(dueAt(3, 14, 0)-2*day, "part-3", instalmentAmount(3, "-5.00"))
	r.fundAt(dueAt(3, 12, 0)+5*day, "100.00")
	r.stopAt(dueAt(3, 0, 0) + 70*day)
	r.execute()

	row := d.instalment(r.id, 3)
	state := d.planState(r.id)
	if (row.status == "paid" && state == "closed") || row.status == "overdue" {
		return
	}
	t.Errorf("70 days after the last due date: instalment 3 is %s (paid %s of %s), the plan %s, debits %v; "+
		"want it collected once the account holds the money (and the plan closed), or overdue",
		row.status, row.paid, row.payment, state, d.debits(r.id, 3))
}

// ---- payments from outside ----

// A payment from outside of exactly the instalment's amount before its due
// date: the instalment is paid, nothing is debited for it.
func TestExternalPaymentBeforeTheDueDate(t *testing.T) {
	d := newDB(t)
	r := d.newRun(application(t, "app-ext", customer(t, "strong"), "12000.00", 12))
	r.activeAt()
	r.fundAt(3*time.Hour, "100000.00")
	paid := r.sendAt(dueAt(1, 11, 0)-5*day, plan.MsgPay, plan.PaymentRequest{RequestID: "gw-1", Amount: dec("1039.43"), Source: "external"})
	after := r.snapshot(dueAt(1, 12, 0))
	r.stopAt(dueAt(1, 12, 0) + time.Hour)
	r.execute()
	r.wantCanceled()

	if p := after.Schedule[0].Payment; !p.Equal(dec("1039.43")) {
		t.Fatalf("instalment 1 is %s; the test pays 1039.43", p)
	}
	if rp := paid.wantReply(t); !rp.Accepted {
		t.Errorf("payment answered %+v", rp)
	}
	if row := d.instalment(r.id, 1); row.status != "paid" || row.paidAt != local(dueDate(1).AddDays(-5), 11, 0) {
		t.Errorf("instalment 1 row %+v, want paid 5 days before its due date", row)
	}
	if n := d.count(`SELECT count(*) FROM debit_attempts WHERE plan_id = $1`, r.id); n != 0 {
		t.Errorf("%d debit attempts, want none: instalment 1 was paid", n)
	}
	if got := d.money(`SELECT amount FROM payments WHERE plan_id = $1 AND payment_id = 'gw-1' AND source = 'external'`, r.id); !got.Equal(dec("1039.43")) {
		t.Errorf("payments row gw-1: %s", got)
	}
	if body := d.wantNotice(r.id, "payment:gw-1", "notice", "push"); !strings.Contains(body, "We received your payment of 1039.43.") {
		t.Errorf("receipt %q", body)
	}
	if after.Schedule[0].Status != plan.InstalmentPaid || after.PaidInstallments != 1 || !after.NextDueDate.Equal(dueDate(2)) {
		t.Errorf("status: instalment 1 %s, %d paid, next due %s", after.Schedule[0].Status, after.PaidInstallments, after.NextDueDate)
	}
	d.wantBooksBalance(r.id)
}

// A partial payment before the due date leaves the instalment partially
// paid; the due date's debit takes exactly the rest.
func TestPartialPaymentThenDebitOfTheRest(t *testing.T) {
	d := newDB(t)
	r := d.newRun(application(t, "app-part", customer(t, "strong"), "12000.00", 12))
	r.activeAt()
	r.fundAt(3*time.Hour, "100000.00")
	r.payAt(dueAt(1, 11, 0)-5*day, "part-1", amount("500.00"))
	partial := r.snapshot(dueAt(1, 12, 0) - 5*day)
	paid := r.snapshot(dueAt(1, 10, 0))
	r.stopAt(dueAt(1, 12, 0))
	r.execute()
	r.wantCanceled()

	p1 := partial.Schedule[0].Payment
	rest := p1.Sub(dec("500.00"))
	if partial.Schedule[0].Status != plan.InstalmentPartiallyPaid || !partial.PaidAmount.Equal(dec("500.00")) || !partial.NextDueAmount.Equal(rest) {
		t.Errorf("after 500.00: instalment 1 %s, paid %s, next due amount %s; want partially_paid, 500.00, %s",
			partial.Schedule[0].Status, partial.PaidAmount, partial.NextDueAmount, rest)
	}
	if got := strings.Join(d.debits(r.id, 1), "; "); got != "1 succeeded "+rest.StringFixed(2) {
		t.Errorf("debits of instalment 1: %s, want one of the rest %s", got, rest)
	}
	if row := d.instalment(r.id, 1); row.status != "paid" || !row.paid.Equal(p1) || row.paidAt != local(dueDate(1), 9, 0) {
		t.Errorf("instalment 1 row %+v, want paid %s on its due date", row, p1)
	}
	if paid.Schedule[0].Status != plan.InstalmentPaid || !paid.PaidAmount.Equal(p1) {
		t.Errorf("after the debit: instalment 1 %s, paid %s", paid.Schedule[0].Status, paid.PaidAmount)
	}
	if body := d.wantNotice(r.id, "due:v1:1:1", "notice", "push"); !strings.Contains(body, "We collected "+rest.StringFixed(2)) {
		t.Errorf("debit notice %q", body)
	}
	d.wantBooksBalance(r.id)
}

// The same payment id sent again, as an Update or a Signal, is applied
// once and answered with the first reply; the id reused for another amount
// is refused.
func TestDuplicatePaymentIDAppliedOnce(t *testing.T) {
	d := newDB(t)
	r := d.newRun(application(t, "app-dup", customer(t, "strong"), "12000.00", 12))
	r.activeAt()
	req := plan.PaymentRequest{RequestID: "pay-dup", Amount: dec("300.00"), Source: "manual"}
	first := r.sendAt(dueAt(1, 10, 0)-10*day, plan.MsgPay, req)
	again := r.sendAt(dueAt(1, 11, 0)-10*day, plan.MsgPay, req)
	r.signalAt(dueAt(1, 12, 0)-10*day, plan.MsgPay, req)
	other := r.sendAt(dueAt(1, 13, 0)-10*day, plan.MsgPay, plan.PaymentRequest{RequestID: "pay-dup", Amount: dec("400.00"), Source: "manual"})
	after := r.snapshot(dueAt(1, 14, 0) - 10*day)
	r.stopAt(dueAt(1, 15, 0) - 10*day)
	r.execute()
	r.wantCanceled()

	r1, r2 := first.wantReply(t), again.wantReply(t)
	if !r1.Accepted || r1 != r2 {
		t.Errorf("replies %+v and %+v, want the same acceptance", r1, r2)
	}
	other.wantRejected(t, "already used for a different request")
	if n := d.count(`SELECT count(*) FROM payments WHERE plan_id = $1`, r.id); n != 1 {
		t.Errorf("%d payments rows, want 1", n)
	}
	if row := d.instalment(r.id, 1); !row.paid.Equal(dec("300.00")) || row.status != "partially_paid" {
		t.Errorf("instalment 1 row %+v, want 300.00 paid once", row)
	}
	if !after.PaidAmount.Equal(dec("300.00")) {
		t.Errorf("status: paid %s, want 300.00", after.PaidAmount)
	}
	if n := d.count(`SELECT count(*) FROM contacts WHERE plan_id = $1 AND contact_key LIKE '%:payment:pay-dup'`, r.id); n != 1 {
		t.Errorf("%d receipts, want 1", n)
	}
	d.wantBooksBalance(r.id)
}

// An overpayment goes to the next instalments by the waterfall: instalment
// 2 is partially paid and its debit takes the rest.
func TestOverpaymentGoesToTheNextInstalment(t *testing.T) {
	d := newDB(t)
	r := d.newRun(application(t, "app-over", customer(t, "strong"), "12000.00", 12))
	r.activeAt()
	r.fundAt(3*time.Hour, "100000.00")
	r.payAt(dueAt(1, 11, 0)-5*day, "over-1", instalmentAmount(1, "200.00"))
	after := r.snapshot(dueAt(1, 12, 0) - 5*day)
	r.stopAt(dueAt(2, 12, 0))
	r.execute()
	r.wantCanceled()

	p1, p2 := after.Schedule[0].Payment, after.Schedule[1].Payment
	if after.Schedule[0].Status != plan.InstalmentPaid || after.Schedule[1].Status != plan.InstalmentPartiallyPaid {
		t.Errorf("after paying %s + 200.00: instalments %s, %s; want paid, partially_paid", p1, after.Schedule[0].Status, after.Schedule[1].Status)
	}
	if got := d.money(`SELECT coalesce(sum(a.amount), 0) FROM payment_allocations a JOIN payments p ON p.id = a.payment_id
		WHERE p.plan_id = $1 AND p.payment_id = 'over-1' AND a.instalment_no = 2`, r.id); !got.Equal(dec("200.00")) {
		t.Errorf("the overpayment allocated %s to instalment 2, want 200.00", got)
	}
	if n := d.count(`SELECT count(*) FROM debit_attempts WHERE plan_id = $1 AND instalment_no = 1`, r.id); n != 0 {
		t.Errorf("%d debits of instalment 1, want none", n)
	}
	if got, want := strings.Join(d.debits(r.id, 2), "; "), "1 succeeded "+p2.Sub(dec("200.00")).StringFixed(2); got != want {
		t.Errorf("debits of instalment 2: %s, want %s", got, want)
	}
	if row := d.instalment(r.id, 2); row.status != "paid" || !row.paid.Equal(p2) {
		t.Errorf("instalment 2 row %+v, want paid %s", row, p2)
	}
	if got := d.money(`SELECT p.amount - coalesce((SELECT sum(a.amount) FROM payment_allocations a WHERE a.payment_id = p.id), 0)
		FROM payments p WHERE p.plan_id = $1 AND p.payment_id = 'over-1'`, r.id); !got.IsZero() {
		t.Errorf("%s of the overpayment unallocated, want 0", got)
	}
	d.wantBooksBalance(r.id)
}

// A payment of more than the whole plan owes pays it off: the plan closes
// at once, the excess is recorded unallocated and both the reply and the
// receipt say it will be refunded.
func TestOverpaymentBeyondThePlan(t *testing.T) {
	d := newDB(t)
	r := d.newRun(application(t, "app-beyond", customer(t, "strong"), "12000.00", 12))
	r.activeAt()
	paid := r.payAt(3*time.Hour, "all-and-more", func(st plan.Status) decimal.Decimal { return st.TotalAmount.Add(dec("100.00")) })
	r.execute()
	res := r.result()

	r.wantPaidOff(res, 12)
	total := res.TotalAmount
	if rp := paid.wantReply(t); !rp.Accepted || rp.Reason != "100.00 is more than the plan owes and will be refunded" {
		t.Errorf("reply %+v, want accepted, saying 100.00 will be refunded", rp)
	}
	var amt, alloc decimal.Decimal
	if err := d.st.Pool().QueryRow(context.Background(), `SELECT p.amount, (SELECT sum(a.amount) FROM payment_allocations a WHERE a.payment_id = p.id)
		FROM payments p WHERE p.plan_id = $1 AND p.payment_id = 'all-and-more'`, r.id).Scan(&amt, &alloc); err != nil {
		t.Fatal(err)
	}
	if !amt.Equal(total.Add(dec("100.00"))) || !alloc.Equal(total) {
		t.Errorf("payment %s allocated %s; want %s + 100.00 with %s allocated, 100.00 unallocated", amt, alloc, total, total)
	}
	if body := d.wantNotice(r.id, "payment:all-and-more", "notice", "push"); !strings.Contains(body, "100.00 is more than your plan owes and will be refunded") {
		t.Errorf("receipt %q", body)
	}
	if n := d.count(`SELECT count(*) FROM debit_attempts WHERE plan_id = $1`, r.id); n != 0 {
		t.Errorf("%d debit attempts, want none", n)
	}
	if ended := r.env.Now().Sub(t0); ended > 4*time.Hour {
		t.Errorf("the plan closed %s after the start, want right after the payment at 3h", ended)
	}
}

// Paying off by hand after two instalments were debited: the payment of
// exactly what is left closes the plan at once, before the last due date.
func TestEarlyPayoffByHand(t *testing.T) {
	d := newDB(t)
	r := d.newRun(application(t, "app-payoff", customer(t, "strong"), "12000.00", 12))
	r.activeAt()
	r.fundAt(3*time.Hour, "100000.00")
	var rest decimal.Decimal
	paid := r.payAt(dueAt(2, 14, 0), "payoff", func(st plan.Status) decimal.Decimal {
		rest = st.TotalAmount.Sub(st.PaidAmount)
		return rest
	})
	r.execute()
	res := r.result()

	r.wantPaidOff(res, 12)
	if rp := paid.wantReply(t); !rp.Accepted || rp.Reason != "" {
		t.Errorf("reply %+v, want accepted without a refund", rp)
	}
	if want := res.TotalAmount.Sub(res.Schedule[0].Payment).Sub(res.Schedule[1].Payment); !rest.Equal(want) {
		t.Errorf("paid off with %s, want the total less two instalments %s", rest, want)
	}
	if n := d.count(`SELECT count(*) FROM debit_attempts WHERE plan_id = $1`, r.id); n != 2 {
		t.Errorf("%d debits, want 2", n)
	}
	if got := d.money(`SELECT p.amount - coalesce((SELECT sum(a.amount) FROM payment_allocations a WHERE a.payment_id = p.id), 0)
		FROM payments p WHERE p.plan_id = $1 AND p.payment_id = 'payoff'`, r.id); !got.IsZero() {
		t.Errorf("%s unallocated, want 0", got)
	}
	for k := 3; k <= 12; k++ {
		if row := d.instalment(r.id, k); row.paidAt != local(dueDate(2), 14, 0) {
			t.Errorf("instalment %d paid at %q, want with the payoff at %s", k, row.paidAt, local(dueDate(2), 14, 0))
		}
	}
	if ended := r.env.Now().Sub(t0); ended > dueAt(2, 15, 0) {
		t.Errorf("the plan ended %s after the start, want right after the payoff (before the last due date)", ended)
	}
	var closedAt time.Time
	if err := d.st.Pool().QueryRow(context.Background(), `SELECT closed_at FROM plans WHERE id = $1`, r.id).Scan(&closedAt); err != nil {
		t.Fatal(err)
	}
	if last := dueDate(12).At(shanghai(), 0, 0, 0); !closedAt.Before(last) {
		t.Errorf("closed at %s, want before the last due date %s", closedAt, last)
	}
}

// ---- the contact rules over a plan ----

// wantContactRules checks every contact of the plan with the customer (an
// agent's task is not one) against the contact rules, in business time via
// the plan's clock, given the contacts before it: nothing at night, no cap
// exceeded.
func (d *db) wantContactRules(planID uuid.UUID, clk clock.Clock) int {
	d.t.Helper()
	rows, err := d.st.Pool().Query(context.Background(), `SELECT contact_key, purpose, channel, scheduled_for, sent_at
		FROM contacts WHERE plan_id = $1 AND purpose <> 'alert' ORDER BY scheduled_for, created_at`, planID)
	if err != nil {
		d.t.Fatal(err)
	}
	defer rows.Close()
	var history []contact.Attempt
	for rows.Next() {
		var key, purpose, channel string
		var scheduled time.Time
		var sent *time.Time
		if err := rows.Scan(&key, &purpose, &channel, &scheduled, &sent); err != nil {
			d.t.Fatal(err)
		}
		at := scheduled
		if sent != nil {
			at = *sent
		}
		b := clk.Business(at)
		if err := contact.DefaultRules().Check(b, contact.Channel(channel), history, shanghai()); err != nil {
			d.t.Errorf("%s %s by %s at %s: %v", purpose, strings.TrimPrefix(key, planID.String()+":"), channel,
				b.In(shanghai()).Format("2006-01-02 15:04"), err)
		}
		history = append(history, contact.Attempt{At: b, Channel: contact.Channel(channel), Outcome: contact.Sent})
	}
	if err := rows.Err(); err != nil {
		d.t.Fatal(err)
	}
	return len(history)
}

// activeOn is activeAt on a compressed calendar: choose 1 business hour
// and sign 2 business hours after the start.
func (r *planRun) activeOn(clk clock.Clock) {
	o := &outcome{name: plan.MsgChoose}
	r.at(clk.RealDuration(time.Hour), func() {
		st := r.status()
		for _, of := range st.Offers {
			if of.Method == "annuity" && of.Terms == r.app.Terms {
				r.send(o, plan.MsgChoose, plan.ChooseRequest{RequestID: "choose-1", OfferSet: st.OfferSet, Offer: of.No})
				return
			}
		}
		r.t.Errorf("no annuity offer over %d terms among %+v", r.app.Terms, st.Offers)
	})
	r.signAt(clk.RealDuration(2*time.Hour), "sign-1")
}

// A whole plan on a compressed calendar (a business day lasts an hour):
// activation, a debit declined and recovered on D+1, a partial payment by
// hand in the afternoon, the payoff. Every contact with the customer,
// converted to business time by the plan's clock, passes the contact
// rules given the ones before it: nothing at night, no cap exceeded.
func TestContactRulesHoldOverAWholePlan(t *testing.T) {
	d := newDB(t)
	clk := clock.Clock{Origin: t0, DaySeconds: 3600}
	app := application(t, "app-rules", customer(t, "strong"), "6000.00", 6, withSettings(plan.Settings{DaySeconds: clk.DaySeconds}))
	r := d.newRun(app)
	in := func(b time.Duration) time.Duration { return clk.RealDuration(b) }
	r.activeOn(clk)
	r.fundWith(in(3*time.Hour), instalmentAmount(1, "0"))
	r.fundAt(in(dueAt(2, 15, 0)), "100000.00")
	r.payAt(in(dueAt(3, 14, 0)-10*day), "part-3", amount("100.00"))
	r.execute()
	res := r.result()
	r.wantPaidOff(res, 6)

	if got := strings.Join(d.debits(r.id, 2), "; "); !strings.HasPrefix(got, "1 insufficient_funds") || !strings.Contains(got, "2 succeeded") {
		t.Errorf("debits of instalment 2: %s, want declined then paid on D+1", got)
	}
	n := d.wantContactRules(r.id, clk)
	t.Logf("%d contacts checked", n)
}

// BUG probe: a payment made at night is answered by a receipt; like every
// outgoing contact it must wait for the window (08:00) instead of going
// out at 23:30.
func TestPaymentReceiptAtNightWaitsForTheWindow(t *testing.T) {
	d := newDB(t)
	r := d.newRun(application(t, "app-night-pay", customer(t, "strong"), "12000.00", 12))
	r.activeAt()
	r.payAt(dueAt(1, 23, 30)-5*day, "night-pay", amount("200.00"))
	r.stopAt(dueAt(1, 12, 0) - 4*day)
	r.execute()
	r.wantCanceled()

	at := d.text(`SELECT to_char(scheduled_for AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI') FROM contacts
		WHERE plan_id = $1 AND contact_key LIKE '%:payment:night-pay'`, r.id)
	if want := local(dueDate(1).AddDays(-4), 8, 0); at != want {
		t.Errorf("the receipt of a payment at 23:30 goes out at %s, want %s when the window opens", at, want)
	}
}

// BUG probe: on the day of a declined debit the customer pays twice by
// hand: the debit notice and two receipts are three messages on one day,
// over the daily cap of two; the rules must hold (the third waits).
func TestReceiptsKeepTheDailyCap(t *testing.T) {
	d := newDB(t)
	r := d.newRun(application(t, "app-cap", customer(t, "strong"), "12000.00", 12))
	r.activeAt()
	r.payAt(dueAt(1, 10, 0), "cap-1", amount("200.00"))
	r.payAt(dueAt(1, 11, 0), "cap-2", amount("300.00"))
	r.stopAt(dueAt(1, 12, 0))
	r.execute()
	r.wantCanceled()

	due := dueDate(1)
	got := d.texts(`SELECT split_part(contact_key, ':', 2) || ' ' || to_char(scheduled_for AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI')
		FROM contacts WHERE plan_id = $1 AND purpose <> 'alert' AND (scheduled_for AT TIME ZONE 'Asia/Shanghai')::date = $2::date
		ORDER BY scheduled_for`, r.id, due.String())
	if len(got) > contact.DefaultRules().MaxMessagesPerDay {
		t.Errorf("%d messages on %s: %v; the daily cap is %d", len(got), due, got, contact.DefaultRules().MaxMessagesPerDay)
	}
}
