package activities

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/fenqi/fenqi/plan"
	"github.com/fenqi/fenqi/store"
)

// A worker that crashes after the gateway charged a confirmed repayment
// but before the new schedule was saved is retried: the retry finds the
// debit already made (same key) and saves the change once; a retry after
// it succeeded changes nothing. The account is charged exactly once and
// the payment is allocated in full.
func TestApplyChangeRetriedAfterACrashChargesOnce(t *testing.T) {
	ctx := context.Background()
	c := newCollectionPlan(t, "annuity", "0.12")
	st := c.a.Store
	acct, err := st.CreateAccount(ctx, store.Account{CustomerID: c.p.CustomerID, Label: "card"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.SetFundingAccount(ctx, c.p.ID, acct.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Fund(ctx, acct.ID, decimal.RequireFromString("10000"), "fund-1"); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 4, 20, 2, 0, 0, 0, time.UTC) // 10:00 in Shanghai, instalment 1 overdue
	req := plan.PrepayRequest{RequestID: "prepay-q"}
	q, err := c.a.QuoteChange(ctx, QuoteInput{PlanID: c.p.ID.String(), Version: 1, Request: ChangeMessage{Prepay: &req},
		Calendar: c.cal, At: at, Bucket: "M1"})
	if err != nil || !q.Eligible || !q.DueNow.IsPositive() {
		t.Fatalf("quote %+v, %v: want an eligible repayment with money due now", q, err)
	}
	confirm := plan.PrepayRequest{RequestID: "prepay-c", QuoteID: q.ID}
	in := ApplyInput{PlanID: c.p.ID.String(), Quote: q, RequestID: confirm.RequestID, Request: ChangeMessage{Prepay: &confirm},
		Calendar: c.cal, At: at.Add(time.Minute)}

	// The first attempt charged the account, then the worker died.
	key := fmt.Sprintf("change:%s:%s:%s", c.p.ID, q.ID, confirm.RequestID)
	if _, err := st.Debit(ctx, acct.ID, q.DueNow, key); err != nil {
		t.Fatal(err)
	}
	for attempt := 1; attempt <= 2; attempt++ {
		res, err := c.a.ApplyChange(ctx, in)
		if err != nil || res.Outcome != "applied" || res.Version != 2 {
			t.Fatalf("attempt %d: %+v, %v; want applied as version 2", attempt, res, err)
		}
	}
	entries, err := st.Entries(ctx, acct.ID)
	if err != nil {
		t.Fatal(err)
	}
	debits := decimal.Zero
	for _, e := range entries {
		if e.Kind == "debit" {
			debits = debits.Add(e.Amount)
		}
	}
	if !debits.Equal(q.DueNow) {
		t.Errorf("the account was charged %s, want the quote's %s once", debits, q.DueNow)
	}
	pay, err := st.GetPayment(ctx, c.p.ID, key)
	if err != nil {
		t.Fatal(err)
	}
	if !pay.Amount.Equal(q.DueNow) || !pay.Unallocated().IsZero() {
		t.Errorf("payment %s with %s unallocated, want %s allocated in full", pay.Amount, pay.Unallocated(), q.DueNow)
	}
	versions, err := st.ScheduleVersions(ctx, c.p.ID)
	if err != nil || len(versions) != 2 {
		t.Errorf("%d schedule versions (%v), want 2", len(versions), err)
	}
	rows, err := st.Schedule(ctx, c.p.ID, 2)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.Status != store.InstalmentPaid {
			t.Errorf("instalment %d of the settlement is %s, want paid", r.No, r.Status)
		}
	}
}
