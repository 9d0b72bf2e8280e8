package workflows_test

import (
	"context"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/fenqi/fenqi/plan"
)

// A missed instalment goes through grace into M1: the ladder contacts the
// debtor weekly, inside the contact window, stating what is owed, and
// penalty accrues on the overdue principal. A payment that clears the
// arrears stops the ladder: no collection contact after it.
func TestMissedInstalmentLadderStopsWhenPaid(t *testing.T) {
	d := newDB(t)
	r := d.newRun(application(t, "app-ladder", customer(t, "strong"), "12000.00", 12))
	r.activeAt()
	during := r.snapshot(50 * day)
	r.fundAt(52*day, "100000.00")
	pay := r.payAt(52*day+time.Hour, "arrears-1", func(st plan.Status) decimal.Decimal {
		total := decimal.Zero
		for _, row := range st.Schedule {
			if row.Status == plan.InstalmentOverdue {
				total = total.Add(row.Payment)
			}
		}
		return total.Add(dec("50.00")) // the penalty accrued, with room to spare
	})
	r.stopAt(58 * day)
	r.execute()
	r.wantCanceled()

	if during.Bucket != "M1" {
		t.Errorf("at day 50 the plan is %s, want M1", during.Bucket)
	}
	if !pay.wantReply(t).Accepted {
		t.Fatalf("payment refused: %s", pay.reply.Reason)
	}
	// Every collection contact: its local time, and none after the payment.
	rows, err := d.st.Pool().Query(context.Background(), `SELECT scheduled_for, body FROM contacts
		WHERE plan_id = $1 AND purpose = 'collection' ORDER BY scheduled_for`, r.id)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	shanghai := time.FixedZone("CST", 8*3600)
	n := 0
	paidAt := t0.Add(52*day + time.Hour)
	for rows.Next() {
		var at time.Time
		var body string
		if err := rows.Scan(&at, &body); err != nil {
			t.Fatal(err)
		}
		n++
		if h := at.In(shanghai).Hour(); h < 8 || h >= 21 {
			t.Errorf("collection contact at %s local: outside 08:00-21:00", at.In(shanghai))
		}
		if at.After(paidAt) {
			t.Errorf("collection contact planned at %s, after the arrears were paid at %s", at, paidAt)
		}
	}
	if n < 2 {
		t.Errorf("%d collection contacts between the grace period and day 52, want at least 2 (weekly in M1)", n)
	}
	if got := d.count(`SELECT count(*) FROM collection_actions WHERE plan_id = $1`, r.id); got < n {
		t.Errorf("%d collection actions recorded for %d contacts", got, n)
	}
	var penalty decimal.Decimal
	if err := d.st.Pool().QueryRow(context.Background(), `SELECT coalesce(sum(penalty_accrued), 0) FROM instalments WHERE plan_id = $1`, r.id).Scan(&penalty); err != nil {
		t.Fatal(err)
	}
	if !penalty.IsPositive() {
		t.Errorf("no penalty accrued on the overdue instalment")
	}
}
