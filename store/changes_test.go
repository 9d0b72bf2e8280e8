package store

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
)

// activateWithCredit gives the fixture plan terms and activates it with
// ActivatePlan (schedule v1 = threeRows, 3,000.00 reserved on a 5,000.00
// credit line).
func (f *fixture) activateWithCredit(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	var err error
	if f.plan, err = f.s.SetPlanTerms(ctx, f.plan.ID, uuid.Nil, PlanTerms{Principal: dec("3000"), Method: "annuity",
		Terms: 3, AnnualRate: dec("0.12"), StartDate: day(2025, 1, 1)}); err != nil {
		t.Fatalf("terms: %v", err)
	}
	if f.plan, err = f.s.SetFundingAccount(ctx, f.plan.ID, f.account.ID); err != nil {
		t.Fatalf("funding account: %v", err)
	}
	if f.plan, err = f.s.SetPlanState(ctx, f.plan.ID, StateChange{From: StateAssessing, To: StateSigning}); err != nil {
		t.Fatalf("signing: %v", err)
	}
	if _, err := f.s.ActivatePlan(ctx, Activation{PlanID: f.plan.ID, CreditLimit: dec("5000"), Principal: dec("3000"),
		StartDate: day(2025, 1, 1), Version: ScheduleVersion{Version: 1, Reason: "initial"}, Rows: threeRows()}); err != nil {
		t.Fatalf("activate: %v", err)
	}
}

// payManual records a manual payment with its allocations on v1.
func (f *fixture) payManual(t *testing.T, id, amount string, at time.Time, allocs ...Allocation) Payment {
	t.Helper()
	return must(f.s.RecordPayment(context.Background(), Payment{PlanID: f.plan.ID, PaymentID: id, Source: SourceManual,
		Amount: dec(amount), ReceivedAt: at, Allocations: allocs}))(t)
}

func alloc(version, no int, component, amount string) Allocation {
	return Allocation{ScheduleVersion: version, InstalmentNo: no, Component: component, Amount: dec(amount)}
}

// used returns the customer's credit line used.
func (f *fixture) used(t *testing.T) decimal.Decimal {
	t.Helper()
	_, used, err := f.s.CreditLine(context.Background(), f.customer.ID)
	if err != nil {
		t.Fatal(err)
	}
	return used
}

// rowNo returns instalment no of rows.
func rowNo(t *testing.T, rows []Instalment, no int) Instalment {
	t.Helper()
	for _, r := range rows {
		if r.No == no {
			return r
		}
	}
	t.Fatalf("no instalment %d in %+v", no, rows)
	return Instalment{}
}

// wantBooks checks that the plan's payments equal their allocations plus
// unallocated, and that every instalment's paid columns equal its
// allocations.
func wantBooks(t *testing.T, s *Store, planID uuid.UUID, unallocated string) {
	t.Helper()
	ctx := context.Background()
	var paid, allocated decimal.Decimal
	if err := s.Pool().QueryRow(ctx, `SELECT COALESCE(sum(amount), 0),
			(SELECT COALESCE(sum(amount), 0) FROM payment_allocations WHERE plan_id = $1)
		FROM payments WHERE plan_id = $1`, planID).Scan(&paid, &allocated); err != nil {
		t.Fatal(err)
	}
	if !paid.Equal(allocated.Add(dec(unallocated))) {
		t.Fatalf("payments %s != allocations %s + unallocated %s", paid, allocated, unallocated)
	}
	if n := count(t, s, `SELECT count(*) FROM payments p WHERE plan_id = $1
		AND amount < (SELECT COALESCE(sum(amount), 0) FROM payment_allocations a WHERE a.payment_id = p.id)`, planID); n != 0 {
		t.Fatalf("%d payments allocated beyond their amount", n)
	}
	if n := count(t, s, `SELECT count(*) FROM instalments i, LATERAL (SELECT
			COALESCE(sum(amount) FILTER (WHERE component = 'penalty'), 0) AS penalty,
			COALESCE(sum(amount) FILTER (WHERE component = 'fee'), 0) AS fee,
			COALESCE(sum(amount) FILTER (WHERE component = 'interest'), 0) AS interest,
			COALESCE(sum(amount) FILTER (WHERE component = 'principal'), 0) AS principal
			FROM payment_allocations a
			WHERE a.plan_id = i.plan_id AND a.schedule_version = i.schedule_version AND a.instalment_no = i.no) a
		WHERE i.plan_id = $1 AND (i.paid_penalty, i.paid_fee, i.paid_interest, i.paid_principal)
			IS DISTINCT FROM (a.penalty, a.fee, a.interest, a.principal)`, planID); n != 0 {
		t.Fatalf("%d instalments whose paid columns differ from their allocations", n)
	}
}

// restructureRows are 2,000.00 over 4 months (numbered 2 to 5).
func restructureRows() []Instalment {
	return []Instalment{
		{No: 2, DueDate: day(2025, 3, 1), Principal: dec("500"), Interest: dec("20"), Payment: dec("520"), BalanceAfter: dec("1500")},
		{No: 3, DueDate: day(2025, 4, 1), Principal: dec("500"), Interest: dec("15"), Payment: dec("515"), BalanceAfter: dec("1000")},
		{No: 4, DueDate: day(2025, 5, 1), Principal: dec("500"), Interest: dec("10"), Payment: dec("510"), BalanceAfter: dec("500")},
		{No: 5, DueDate: day(2025, 6, 1), Principal: dec("500"), Interest: dec("5"), Payment: dec("505"), BalanceAfter: dec("0")},
	}
}

// payAhead pays instalment 1 of v1 and 470.00 of instalment 2 (due after
// the change's as-of date).
func (f *fixture) payAhead(t *testing.T) {
	f.payManual(t, "pay-1", "1500", time.Date(2025, 2, 1, 8, 0, 0, 0, time.UTC),
		alloc(1, 1, ComponentPrincipal, "1000"), alloc(1, 1, ComponentInterest, "30"),
		alloc(1, 2, ComponentInterest, "20"), alloc(1, 2, ComponentPrincipal, "450"))
}

// TestScheduleChangeMovesPaidAhead restructures a plan with money paid
// ahead on instalment 2: the money moves to the new rows, the old rows keep
// only what was paid on past-due instalments, the books balance, and a
// repeat changes nothing.
func TestScheduleChangeMovesPaidAhead(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	f := newFixture(t, s)
	f.activateWithCredit(t)
	f.payAhead(t)
	asOf := day(2025, 2, 15)
	for _, tc := range []struct {
		asOf time.Time
		want string
	}{{asOf, "470"}, {day(2025, 3, 1), "470"}, {day(2025, 3, 2), "0"}, {day(2025, 1, 1), "1500"}} {
		if got := must(s.PaidAhead(ctx, f.plan.ID, tc.asOf))(t); !got.Equal(dec(tc.want)) {
			t.Fatalf("PaidAhead as of %s = %s, want %s (instalment 2, due 2025-03-01, is ahead on its due date; instalment 1, paid in full, is ahead before 2025-02-01)",
				tc.asOf.Format(time.DateOnly), got, tc.want)
		}
	}
	if got := must(s.CreditInUse(ctx, f.plan.ID))(t); !got.Equal(dec("3000")) {
		t.Fatalf("credit in use after activation %s, want 3000", got)
	}
	change := ScheduleChange{PlanID: f.plan.ID, Version: 2, Reason: ChangeRestructure, RequestID: "r-1",
		Params: []byte(`{"terms": 4}`), AsOf: asOf, Rows: restructureRows(), CreditInUse: dec("2000"), Actor: "customer:li"}
	res := must(s.ApplyScheduleChange(ctx, change))(t)
	if !res.Reallocated.Equal(dec("470")) || !res.Unallocated.IsZero() || len(res.Rows) != 4 {
		t.Fatalf("result %+v, want 470 reallocated, nothing unallocated, 4 rows", res)
	}
	r2 := rowNo(t, res.Rows, 2)
	if r2.ScheduleVersion != 2 || r2.Status != InstalmentPartiallyPaid || !r2.PaidInterest.Equal(dec("20")) ||
		!r2.PaidPrincipal.Equal(dec("450")) || !r2.Outstanding().Equal(dec("50")) {
		t.Fatalf("new instalment 2 %+v", r2)
	}
	for _, no := range []int{3, 4, 5} {
		if r := rowNo(t, res.Rows, no); r.Status != InstalmentPending || !r.Outstanding().Equal(r.Payment) {
			t.Fatalf("new instalment %d %+v, want untouched", no, r)
		}
	}
	old := must(s.Schedule(ctx, f.plan.ID, 1))(t)
	wantOld := []struct {
		status          string
		principal, intr string
	}{{InstalmentPaid, "1000", "30"}, {InstalmentSuperseded, "0", "0"}, {InstalmentSuperseded, "0", "0"}}
	for i, w := range wantOld {
		if old[i].Status != w.status || !old[i].PaidPrincipal.Equal(dec(w.principal)) || !old[i].PaidInterest.Equal(dec(w.intr)) {
			t.Errorf("v1 #%d %+v, want %s paid %s/%s", old[i].No, old[i], w.status, w.principal, w.intr)
		}
	}
	p := must(s.GetPayment(ctx, f.plan.ID, "pay-1"))(t)
	wantAllocs := []Allocation{alloc(1, 1, ComponentInterest, "30"), alloc(1, 1, ComponentPrincipal, "1000"),
		alloc(2, 2, ComponentInterest, "20"), alloc(2, 2, ComponentPrincipal, "450")}
	if len(p.Allocations) != len(wantAllocs) {
		t.Fatalf("pay-1 allocations %+v, want %+v", p.Allocations, wantAllocs)
	}
	for i, a := range wantAllocs {
		g := p.Allocations[i]
		if g.ScheduleVersion != a.ScheduleVersion || g.InstalmentNo != a.InstalmentNo || g.Component != a.Component || !g.Amount.Equal(a.Amount) {
			t.Fatalf("pay-1 allocation %d %+v, want %+v", i, g, a)
		}
	}
	wantBooks(t, s, f.plan.ID, "0")
	if got := f.used(t); !got.Equal(dec("2000")) {
		t.Fatalf("credit line used %s, want 2000 (3000 moved by -1000)", got)
	}
	if got := must(s.CreditInUse(ctx, f.plan.ID))(t); !got.Equal(dec("2000")) {
		t.Fatalf("credit in use %s, want 2000", got)
	}
	if n := count(t, s, `SELECT count(*) FROM audit_log WHERE plan_id = $1 AND action = 'schedule.changed'
		AND actor = 'customer:li' AND details->>'reallocated' = '470' AND details->>'request_id' = 'r-1'`, f.plan.ID); n != 1 {
		t.Fatalf("%d schedule.changed audit entries, want 1", n)
	}
	if n := count(t, s, `SELECT count(*) FROM audit_log WHERE plan_id = $1 AND action = 'allocations.released'`, f.plan.ID); n != 1 {
		t.Fatalf("%d allocations.released audit entries, want 1", n)
	}

	// A repeat is a no-op answering the same.
	before := auditCount(t, s)
	again := must(s.ApplyScheduleChange(ctx, change))(t)
	if !again.Reallocated.Equal(res.Reallocated) || !again.Unallocated.Equal(res.Unallocated) || len(again.Rows) != 4 ||
		!rowNo(t, again.Rows, 2).PaidPrincipal.Equal(dec("450")) {
		t.Fatalf("repeat answered %+v, want %+v", again, res)
	}
	if auditCount(t, s) != before || !f.used(t).Equal(dec("2000")) {
		t.Fatal("a repeated change wrote something")
	}
	wantBooks(t, s, f.plan.ID, "0")

	// Anything else is refused.
	for _, tc := range []struct {
		name   string
		change func(c ScheduleChange) ScheduleChange
		want   error
	}{
		{"other params", func(c ScheduleChange) ScheduleChange { c.Params = []byte(`{"terms": 5}`); return c }, ErrConflict},
		{"other request", func(c ScheduleChange) ScheduleChange { c.RequestID = "r-2"; return c }, ErrConflict},
		{"other rows", func(c ScheduleChange) ScheduleChange { c.Rows = c.Rows[:3]; return c }, ErrConflict},
		{"other as-of", func(c ScheduleChange) ScheduleChange { c.AsOf = day(2025, 2, 16); return c }, ErrConflict},
		{"other credit", func(c ScheduleChange) ScheduleChange { c.CreditInUse = dec("2100"); return c }, ErrConflict},
		{"a penalty", func(c ScheduleChange) ScheduleChange {
			c.Rows = restructureRows()
			c.Rows[0].PenaltyAccrued = dec("1")
			return c
		}, ErrConflict},
		{"version out of sequence", func(c ScheduleChange) ScheduleChange { c.Version = 4; return c }, ErrStateChanged},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.ApplyScheduleChange(ctx, tc.change(change))
			wantIs(t, err, tc.want)
		})
	}
	if auditCount(t, s) != before {
		t.Fatal("a refused change wrote something")
	}
}

// TestScheduleChangeDebitRecordedOnce cancels a plan with a lump sum
// collected at confirmation: the debit is recorded once however often the
// change is applied, what the new row cannot take is unallocated, and the
// plan closes with the cancellation as its reason.
func TestScheduleChangeDebitRecordedOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	f := newFixture(t, s)
	f.activateWithCredit(t)
	f.payAhead(t)
	must(s.Fund(ctx, f.account.ID, dec("2000"), "top-up-"+f.plan.ID.String()))(t)
	key := "change-debit-" + f.plan.ID.String()
	entry := must(s.Debit(ctx, f.account.ID, dec("1600"), key))(t)
	at := time.Date(2025, 2, 15, 10, 0, 0, 0, time.UTC)
	asOf := day(2025, 2, 15)
	change := ScheduleChange{PlanID: f.plan.ID, Version: 2, Reason: ChangeCancel, RequestID: "c-1",
		Params: []byte(`{"mode": "lump-sum"}`), AsOf: asOf, CreditInUse: decimal.Zero,
		Rows:  []Instalment{{No: 2, DueDate: asOf, Principal: dec("2000"), Interest: dec("20"), Payment: dec("2020"), BalanceAfter: dec("0")}},
		Debit: &ChangeDebit{Key: key, AccountID: f.account.ID, AccountEntryID: entry.ID, Amount: dec("1600"), ReceivedAt: at}}

	for call := range 2 {
		res := must(s.ApplyScheduleChange(ctx, change))(t)
		if !res.Reallocated.Equal(dec("470")) || !res.Unallocated.Equal(dec("50")) {
			t.Fatalf("call %d: reallocated %s, unallocated %s; want 470 and 50", call, res.Reallocated, res.Unallocated)
		}
		r := rowNo(t, res.Rows, 2)
		if r.Status != InstalmentPaid || !r.PaidAt.Equal(at) || !r.Outstanding().IsZero() {
			t.Fatalf("call %d: row %+v, want paid at %s", call, r, at)
		}
	}
	if n := count(t, s, `SELECT count(*) FROM debit_attempts WHERE idempotency_key = $1 AND plan_id = $2
		AND schedule_version = 2 AND instalment_no = 2 AND attempt = 1 AND outcome = 'succeeded' AND account_entry_id = $3`,
		key, f.plan.ID, entry.ID); n != 1 {
		t.Fatalf("%d debit attempts, want 1", n)
	}
	p := must(s.GetPayment(ctx, f.plan.ID, key))(t)
	if p.Source != SourceAutoDebit || p.DebitAttemptID == uuid.Nil || !p.Unallocated().Equal(dec("50")) {
		t.Fatalf("debit payment %+v, want auto_debit with 50.00 unallocated", p)
	}
	if n := count(t, s, `SELECT count(*) FROM payments WHERE plan_id = $1`, f.plan.ID); n != 2 {
		t.Fatalf("%d payments, want 2", n)
	}
	if n := count(t, s, `SELECT count(*) FROM account_entries WHERE account_id = $1 AND kind = 'debit'`, f.account.ID); n != 1 {
		t.Fatalf("%d gateway debits, want 1", n)
	}
	wantBooks(t, s, f.plan.ID, "50")
	if got := f.used(t); !got.IsZero() {
		t.Fatalf("credit line used %s, want 0", got)
	}

	// A repeat with another debit is refused.
	for _, tc := range []struct {
		name  string
		debit *ChangeDebit
	}{
		{"no debit", nil},
		{"other amount", &ChangeDebit{Key: key, AccountID: f.account.ID, AccountEntryID: entry.ID, Amount: dec("1601"), ReceivedAt: at}},
		{"other key", &ChangeDebit{Key: key + "x", AccountID: f.account.ID, AccountEntryID: entry.ID, Amount: dec("1600"), ReceivedAt: at}},
		{"other time", &ChangeDebit{Key: key, AccountID: f.account.ID, AccountEntryID: entry.ID, Amount: dec("1600"), ReceivedAt: at.Add(time.Second)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := change
			c.Debit = tc.debit
			_, err := s.ApplyScheduleChange(ctx, c)
			wantIs(t, err, ErrConflict)
		})
	}

	before := auditCount(t, s)
	if err := s.ClosePlan(ctx, f.plan.ID, "cancelled"); err != nil {
		t.Fatalf("close: %v", err)
	}
	if err := s.ClosePlan(ctx, f.plan.ID, "cancelled"); err != nil {
		t.Fatalf("close again: %v", err)
	}
	closed := must(s.GetPlan(ctx, f.plan.ID))(t)
	if closed.State != StateClosed || closed.StateReason != "cancelled" || closed.ClosedAt.IsZero() {
		t.Fatalf("closed plan %+v", closed)
	}
	if auditCount(t, s) != before+1 || !f.used(t).IsZero() {
		t.Fatal("closing wrote more than one audit entry or moved the credit line")
	}
	// The change is still answered after the plan closed.
	if res := must(s.ApplyScheduleChange(ctx, change))(t); !res.Unallocated.Equal(dec("50")) {
		t.Fatalf("repeat after closing %+v", res)
	}
}

// TestScheduleChangeHolidayAndPenalty pauses two instalments with a
// penalty carried onto a later one: paid-ahead money skips the holiday
// rows and pays the penalty first, the credit line grows by the
// capitalised interest, and holiday rows do not keep the plan open.
func TestScheduleChangeHolidayAndPenalty(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	f := newFixture(t, s)
	f.activateWithCredit(t)
	f.payManual(t, "pay-1", "1130", time.Date(2025, 2, 1, 8, 0, 0, 0, time.UTC),
		alloc(1, 1, ComponentPrincipal, "1000"), alloc(1, 1, ComponentInterest, "30"),
		alloc(1, 2, ComponentInterest, "20"), alloc(1, 2, ComponentPrincipal, "80"))
	rows := []Instalment{
		{No: 2, DueDate: day(2025, 3, 1), Holiday: true, Principal: decimal.Zero, Payment: decimal.Zero, BalanceAfter: dec("2000")},
		{No: 3, DueDate: day(2025, 4, 1), Holiday: true, Principal: decimal.Zero, Payment: decimal.Zero, BalanceAfter: dec("2000")},
		{No: 4, DueDate: day(2025, 5, 1), Principal: dec("1000"), Interest: dec("60"), Payment: dec("1060"), BalanceAfter: dec("1000"),
			PenaltyAccrued: dec("5")},
		{No: 5, DueDate: day(2025, 6, 1), Principal: dec("1000"), Interest: dec("50"), Payment: dec("1050"), BalanceAfter: dec("0")},
	}
	res := must(s.ApplyScheduleChange(ctx, ScheduleChange{PlanID: f.plan.ID, Version: 2, Reason: ChangeHoliday,
		RequestID: "h-1", Params: []byte(`{"periods": 2}`), AsOf: day(2025, 2, 20), Rows: rows, CreditInUse: dec("3100")}))(t)
	if !res.Reallocated.Equal(dec("100")) || !res.Unallocated.IsZero() {
		t.Fatalf("result %+v, want 100 reallocated", res)
	}
	for _, no := range []int{2, 3} {
		if r := rowNo(t, res.Rows, no); !r.Holiday || r.Status != InstalmentPending || !r.Outstanding().IsZero() ||
			!r.PaidPrincipal.Add(r.PaidInterest).Add(r.PaidPenalty).IsZero() {
			t.Fatalf("holiday row %+v", r)
		}
	}
	r4 := rowNo(t, res.Rows, 4)
	if !r4.PenaltyAccrued.Equal(dec("5")) || !r4.PaidPenalty.Equal(dec("5")) || !r4.PaidInterest.Equal(dec("60")) ||
		!r4.PaidPrincipal.Equal(dec("35")) || r4.Status != InstalmentPartiallyPaid {
		t.Fatalf("row 4 %+v, want the carried penalty 5 stored and 5/60/35 paid", r4)
	}
	wantBooks(t, s, f.plan.ID, "0")
	if got := f.used(t); !got.Equal(dec("3100")) {
		t.Fatalf("credit line used %s, want 3100 (moved by +100)", got)
	}
	wantIs(t, s.ClosePlan(ctx, f.plan.ID, ""), ErrStateChanged)

	must(s.RecordPayment(ctx, Payment{PlanID: f.plan.ID, PaymentID: "pay-2", Source: SourceManual, Amount: dec("2015"),
		ReceivedAt: time.Date(2025, 6, 1, 8, 0, 0, 0, time.UTC), Allocations: []Allocation{
			alloc(2, 4, ComponentPrincipal, "965"), alloc(2, 5, ComponentInterest, "50"), alloc(2, 5, ComponentPrincipal, "1000"),
		}}))(t)
	if err := s.ClosePlan(ctx, f.plan.ID, ""); err != nil {
		t.Fatalf("close with holiday rows pending: %v", err)
	}
	closed := must(s.GetPlan(ctx, f.plan.ID))(t)
	if closed.State != StateClosed || closed.StateReason != ClosePaidOff {
		t.Fatalf("closed plan %+v", closed)
	}
	if got := f.used(t); !got.IsZero() {
		t.Fatalf("credit line used %s after closing, want 0 (3100 released)", got)
	}
	if n := count(t, s, `SELECT count(*) FROM audit_log WHERE plan_id = $1 AND action = 'plan.closed'
		AND details->>'released' = '3100' AND details->>'reason' = 'paid off'`, f.plan.ID); n != 1 {
		t.Fatalf("%d plan.closed audit entries releasing 3100, want 1", n)
	}
}

// TestClosePlanReleasesPrincipalWithoutCreditInUse closes a plan activated
// before credit in use was recorded: its principal is released.
func TestClosePlanReleasesPrincipalWithoutCreditInUse(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	f := newFixture(t, s)
	f.activateWithCredit(t)
	if _, err := s.Pool().Exec(ctx, `UPDATE plans SET credit_in_use = NULL WHERE id = $1`, f.plan.ID); err != nil {
		t.Fatal(err)
	}
	if got := must(s.CreditInUse(ctx, f.plan.ID))(t); !got.Equal(dec("3000")) {
		t.Fatalf("credit in use %s, want the principal", got)
	}
	f.payManual(t, "all", "3060", time.Date(2025, 4, 1, 8, 0, 0, 0, time.UTC),
		alloc(1, 1, ComponentPrincipal, "1000"), alloc(1, 1, ComponentInterest, "30"),
		alloc(1, 2, ComponentPrincipal, "1000"), alloc(1, 2, ComponentInterest, "20"),
		alloc(1, 3, ComponentPrincipal, "1000"), alloc(1, 3, ComponentInterest, "10"))
	if err := s.ClosePlan(ctx, f.plan.ID, ""); err != nil {
		t.Fatal(err)
	}
	if got := f.used(t); !got.IsZero() {
		t.Fatalf("credit line used %s, want 0", got)
	}
}

// TestScheduleChangeRejects covers refused changes: nothing is written.
func TestScheduleChangeRejects(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	f := newFixture(t, s)
	f.activateWithCredit(t)
	f.payAhead(t)
	must(s.Fund(ctx, f.account.ID, dec("100"), "top-up-"+f.plan.ID.String()))(t)
	entry := must(s.Debit(ctx, f.account.ID, dec("50"), "d-"+f.plan.ID.String()))(t)
	inactive := newFixture(t, s)
	base := func() ScheduleChange {
		return ScheduleChange{PlanID: f.plan.ID, Version: 2, Reason: ChangeRestructure, RequestID: "r-1",
			AsOf: day(2025, 2, 15), Rows: restructureRows(), CreditInUse: dec("2000")}
	}
	debit := func(amount string, entryID uuid.UUID) *ChangeDebit {
		return &ChangeDebit{Key: "d-" + f.plan.ID.String(), AccountID: f.account.ID, AccountEntryID: entryID, Amount: dec(amount),
			ReceivedAt: time.Date(2025, 2, 15, 9, 0, 0, 0, time.UTC)}
	}
	before := auditCount(t, s)
	for _, tc := range []struct {
		name string
		edit func(c *ScheduleChange)
		want error
	}{
		{"no request id", func(c *ScheduleChange) { c.RequestID = "" }, ErrInvalid},
		{"version 1", func(c *ScheduleChange) { c.Version = 1 }, ErrInvalid},
		{"no as-of date", func(c *ScheduleChange) { c.AsOf = time.Time{} }, ErrInvalid},
		{"no reason", func(c *ScheduleChange) { c.Reason = "" }, ErrInvalid},
		{"no rows", func(c *ScheduleChange) { c.Rows = nil }, ErrInvalid},
		{"params not an object", func(c *ScheduleChange) { c.Params = []byte(`[1]`) }, ErrInvalid},
		{"negative credit", func(c *ScheduleChange) { c.CreditInUse = dec("-1") }, ErrInvalid},
		{"negative penalty", func(c *ScheduleChange) { c.Rows[0].PenaltyAccrued = dec("-1") }, ErrInvalid},
		{"holiday with a penalty", func(c *ScheduleChange) {
			c.Rows[0] = Instalment{No: 2, DueDate: day(2025, 3, 1), Holiday: true, Principal: decimal.Zero,
				Payment: decimal.Zero, BalanceAfter: dec("2000"), PenaltyAccrued: dec("1")}
		}, ErrInvalid},
		{"payment not the sum", func(c *ScheduleChange) { c.Rows[0].Payment = dec("521") }, ErrInvalid},
		{"debit without key", func(c *ScheduleChange) { c.Debit = debit("50", entry.ID); c.Debit.Key = "" }, ErrInvalid},
		{"debit of another amount than its entry", func(c *ScheduleChange) { c.Debit = debit("40", entry.ID) }, ErrInvalid},
		{"debit of an unknown entry", func(c *ScheduleChange) { c.Debit = debit("50", uuid.New()) }, ErrNotFound},
		{"version out of sequence", func(c *ScheduleChange) { c.Version = 3 }, ErrStateChanged},
		{"plan not active", func(c *ScheduleChange) { c.PlanID = inactive.plan.ID }, ErrStateChanged},
		{"unknown plan", func(c *ScheduleChange) { c.PlanID = uuid.New() }, ErrNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := base()
			tc.edit(&c)
			_, err := s.ApplyScheduleChange(ctx, c)
			wantIs(t, err, tc.want)
		})
	}
	if auditCount(t, s) != before {
		t.Fatal("a refused change wrote to the audit log")
	}
	if p := must(s.GetPlan(ctx, f.plan.ID))(t); p.ScheduleVersion != 1 {
		t.Fatalf("plan at version %d after refused changes", p.ScheduleVersion)
	}
	if n := count(t, s, `SELECT count(*) FROM debit_attempts WHERE plan_id = $1`, f.plan.ID); n != 0 {
		t.Fatalf("%d debit attempts after refused changes", n)
	}
	wantBooks(t, s, f.plan.ID, "0")
	if r := must(s.GetInstalment(ctx, f.plan.ID, 1, 2))(t); !r.PaidPrincipal.Equal(dec("450")) {
		t.Fatalf("v1 #2 %+v after refused changes, want its paid-ahead money kept", r)
	}
}

// waiverRows is a schedule whose first instalment owes no principal.
func waiverRows() []Instalment {
	return []Instalment{
		{No: 1, DueDate: day(2025, 2, 1), Principal: decimal.Zero, Interest: dec("30"), Fee: dec("10"), Payment: dec("40"), BalanceAfter: dec("3000")},
		{No: 2, DueDate: day(2025, 3, 1), Principal: dec("1000"), Interest: dec("30"), Fee: dec("10"), Payment: dec("1040"), BalanceAfter: dec("2000")},
		{No: 3, DueDate: day(2025, 4, 1), Principal: dec("2000"), Interest: dec("20"), Fee: dec("10"), Payment: dec("2030"), BalanceAfter: dec("0")},
	}
}

// TestWaive grants waivers step by step on one plan.
func TestWaive(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	f := newFixture(t, s)
	if _, err := s.SetPlanTerms(ctx, f.plan.ID, uuid.Nil, PlanTerms{Principal: dec("3000"), Method: "fee", Terms: 3,
		AnnualRate: dec("0.12"), FeeRate: dec("0.003"), StartDate: day(2025, 1, 1)}); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveSchedule(ctx, ScheduleVersion{PlanID: f.plan.ID, Version: 1, Reason: "initial"}, waiverRows()); err != nil {
		t.Fatal(err)
	}
	must(s.SetPlanState(ctx, f.plan.ID, StateChange{From: StateAssessing, To: StateActive}))(t)
	f.payManual(t, "pay-2", "1030", time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC),
		alloc(1, 2, ComponentFee, "10"), alloc(1, 2, ComponentInterest, "20"), alloc(1, 2, ComponentPrincipal, "1000"))

	waiver := func(req, component string, version int, parts ...WaiverPart) Waiver {
		return Waiver{PlanID: f.plan.ID, Version: version, RequestID: req, Operator: "alice", Reason: "goodwill",
			Component: component, Parts: parts}
	}
	part := func(no int, amount string) WaiverPart { return WaiverPart{No: no, Amount: dec(amount)} }
	type want struct {
		no                int
		status            string
		waivedInterest    string
		waivedFee         string
		paidAtSet, writes bool
	}
	for _, tc := range []struct {
		name string
		w    Waiver
		err  error
		want want
	}{
		{"interest of #1, fee still owed", waiver("w-1", ComponentInterest, 1, part(1, "30")), nil,
			want{no: 1, status: InstalmentPending, waivedInterest: "30", waivedFee: "0", writes: true}},
		{"repeat", waiver("w-1", ComponentInterest, 1, part(1, "30")), nil,
			want{no: 1, status: InstalmentPending, waivedInterest: "30", waivedFee: "0"}},
		{"same request, other amount", waiver("w-1", ComponentInterest, 1, part(1, "20")), ErrConflict, want{}},
		{"same request, other component", waiver("w-1", ComponentFee, 1, part(1, "30")), ErrConflict, want{}},
		{"same request, another part", waiver("w-1", ComponentInterest, 1, part(1, "30"), part(3, "1")), ErrConflict, want{}},
		{"same request, other operator", func() Waiver { w := waiver("w-1", ComponentInterest, 1, part(1, "30")); w.Operator = "bob"; return w }(),
			ErrConflict, want{}},
		{"fee of #1: nothing paid, waived", waiver("w-2", ComponentFee, 1, part(1, "10")), nil,
			want{no: 1, status: InstalmentWaived, waivedInterest: "30", waivedFee: "10", writes: true}},
		{"more than owed", waiver("w-3", ComponentInterest, 1, part(2, "10.01")), ErrInvalid, want{}},
		{"the rest of #2: paid", waiver("w-4", ComponentInterest, 0, part(2, "10")), nil,
			want{no: 2, status: InstalmentPaid, waivedInterest: "10", waivedFee: "0", paidAtSet: true, writes: true}},
		{"a waived instalment", waiver("w-5", ComponentInterest, 1, part(1, "1")), ErrStateChanged, want{}},
		{"principal", waiver("w-6", ComponentPrincipal, 1, part(3, "1")), ErrInvalid, want{}},
		{"unknown instalment", waiver("w-7", ComponentInterest, 1, part(9, "1")), ErrNotFound, want{}},
		{"no parts", waiver("w-8", ComponentInterest, 1), ErrInvalid, want{}},
		{"an instalment twice", waiver("w-9", ComponentInterest, 1, part(3, "1"), part(3, "2")), ErrInvalid, want{}},
		{"no reason", func() Waiver { w := waiver("w-10", ComponentFee, 1, part(3, "1")); w.Reason = ""; return w }(), ErrInvalid, want{}},
		{"sub-cent", waiver("w-11", ComponentFee, 1, part(3, "0.001")), ErrInvalid, want{}},
		{"two parts, the second unknown: nothing kept", waiver("w-12", ComponentFee, 1, part(3, "5"), part(9, "1")), ErrNotFound, want{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := auditCount(t, s)
			rows, err := s.Waive(ctx, tc.w)
			if tc.err != nil {
				wantIs(t, err, tc.err)
				if auditCount(t, s) != before {
					t.Fatal("a refused waiver wrote to the audit log")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			r := rowNo(t, rows, tc.want.no)
			if r.Status != tc.want.status || !r.WaivedInterest.Equal(dec(tc.want.waivedInterest)) ||
				!r.WaivedFee.Equal(dec(tc.want.waivedFee)) || r.PaidAt.IsZero() == tc.want.paidAtSet {
				t.Fatalf("instalment %+v, want %+v", r, tc.want)
			}
			if wrote := auditCount(t, s) != before; wrote != tc.want.writes {
				t.Fatalf("audit written %t, want %t", wrote, tc.want.writes)
			}
		})
	}
	if n := count(t, s, `SELECT count(*) FROM waivers WHERE plan_id = $1`, f.plan.ID); n != 3 {
		t.Fatalf("%d waivers rows, want 3", n)
	}
	if n := count(t, s, `SELECT count(*) FROM audit_log WHERE plan_id = $1 AND action = 'waiver.applied' AND actor = 'operator:alice'`,
		f.plan.ID); n != 3 {
		t.Fatalf("%d waiver.applied audit entries by operator:alice, want 3", n)
	}
	if r := must(s.GetInstalment(ctx, f.plan.ID, 1, 3))(t); !r.WaivedFee.IsZero() {
		t.Fatalf("#3 %+v: a refused waiver kept a part", r)
	}
	// The table refuses what the store would not write.
	_, err := s.Pool().Exec(ctx, `INSERT INTO waivers (plan_id, request_id, schedule_version, instalment_no, component, amount,
		reason, operator) VALUES ($1, 'x', 1, 3, 'principal', 1, 'r', 'o')`, f.plan.ID)
	wantPg(t, err, "23514", "waivers_component_check")
}

// TestContactPausedUntil opens complaints with and without a pause.
func TestContactPausedUntil(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	f := newFixture(t, s)
	t0 := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	for i, pause := range []time.Time{t0.Add(72 * time.Hour), t0.Add(7 * 24 * time.Hour), {}} {
		id := keyf("c-%d", i+1)
		if _, _, err := s.SaveRequest(ctx, Request{PlanID: f.plan.ID, RequestID: id, Kind: "complaint", Actor: "customer",
			Payload: json.RawMessage(`{}`)}); err != nil {
			t.Fatal(err)
		}
		c := must(s.OpenComplaint(ctx, Complaint{PlanID: f.plan.ID, RequestID: id, Text: "too many calls", PauseUntil: pause}))(t)
		if !c.PauseUntil.Equal(pause) {
			t.Fatalf("complaint %s pause %s, want %s", id, c.PauseUntil, pause)
		}
	}
	_, err := s.OpenComplaint(ctx, Complaint{PlanID: f.plan.ID, RequestID: "c-1", Text: "too many calls", PauseUntil: t0})
	wantIs(t, err, ErrConflict)
	check := func(step string, cases []struct {
		at, want time.Time
	}) {
		t.Helper()
		for _, tc := range cases {
			got := must(s.ContactPausedUntil(ctx, f.plan.ID, tc.at))(t)
			if !got.Equal(tc.want) {
				t.Errorf("%s: paused until %s at %s, want %s", step, got, tc.at, tc.want)
			}
		}
	}
	check("all open", []struct{ at, want time.Time }{
		{t0, t0.Add(7 * 24 * time.Hour)},
		{t0.Add(96 * time.Hour), t0.Add(7 * 24 * time.Hour)},
		{t0.Add(7 * 24 * time.Hour), time.Time{}},
	})
	must(s.CloseComplaint(ctx, f.plan.ID, "c-2", ComplaintResolved, "calls limited", "operator:3"))(t)
	check("c-2 resolved", []struct{ at, want time.Time }{
		{t0, t0.Add(72 * time.Hour)},
		{t0.Add(96 * time.Hour), time.Time{}},
	})
	if got := must(s.ContactPausedUntil(ctx, uuid.New(), t0))(t); !got.IsZero() {
		t.Fatalf("unknown plan paused until %s", got)
	}
}

// TestRequestApprovalTask creates and closes an approval task.
func TestRequestApprovalTask(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	f := newFixture(t, s)
	if _, _, err := s.SaveRequest(ctx, Request{PlanID: f.plan.ID, RequestID: "a-1", Kind: RequestApproval, Actor: "operator",
		ActorID: "alice", Payload: json.RawMessage(`{"approve": true}`)}); err != nil {
		t.Fatalf("save an approval request: %v", err)
	}
	key := "approve:" + f.plan.ID.String() + ":r-1"
	task := must(s.CreateTask(ctx, Task{TaskKey: key, PlanID: f.plan.ID, Kind: TaskRequestApproval,
		Details: json.RawMessage(`{"request_id": "r-1"}`)}))(t)
	if task.Status != TaskOpen {
		t.Fatalf("task %+v", task)
	}
	for _, tc := range []struct {
		name, key, outcome string
		want               error
	}{
		{"close", key, "approved", nil},
		{"again", key, "approved", nil},
		{"other outcome", key, "refused", ErrConflict},
		{"no outcome", key, "", ErrInvalid},
		{"unknown", "nope", "approved", ErrNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := s.CloseTask(ctx, tc.key, tc.outcome)
			if tc.want != nil {
				wantIs(t, err, tc.want)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tasks := must(s.Tasks(ctx, f.plan.ID))(t)
			if len(tasks) != 1 || tasks[0].Status != TaskDone || tasks[0].Outcome != "approved" || tasks[0].ClosedAt.IsZero() {
				t.Fatalf("closed tasks %+v", tasks)
			}
		})
	}
	if n := count(t, s, `SELECT count(*) FROM audit_log WHERE plan_id = $1 AND action = 'task.closed'`, f.plan.ID); n != 1 {
		t.Fatalf("%d task.closed audit entries, want 1", n)
	}
}
