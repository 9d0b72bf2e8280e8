package workflows_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

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

// An account without money: every debit inside grace fails, the
// instalment becomes overdue, and a payment from outside clears it.
func TestInsufficientFundsThroughGrace(t *testing.T) {
	d := newDB(t)
	r := d.newRun(application(t, "app-grace", customer(t, "strong"), "12000.00", 12))
	r.activeAt()
	// The first due date is a month after activation; grace ends 3 days later.
	overdue := r.snapshot(35 * 24 * time.Hour)
	r.stopAt(36 * 24 * time.Hour)
	r.execute()

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
}
