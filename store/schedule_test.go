package store

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestNewScheduleVersionKeepsOldRows pays instalment 1 of v1, saves v2
// (a restructure of the remaining principal) and checks that v1 is kept:
// the paid row stays paid, the open rows are superseded, and v2 is current.
func TestNewScheduleVersionKeepsOldRows(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	f := newFixture(t, s)
	f.activate(t)
	must(s.RecordPayment(ctx, Payment{PlanID: f.plan.ID, PaymentID: "pay-1", Source: SourceManual, Amount: dec("1030"),
		ReceivedAt: time.Date(2025, 2, 1, 8, 0, 0, 0, time.UTC), Allocations: []Allocation{
			{ScheduleVersion: 1, InstalmentNo: 1, Component: ComponentPrincipal, Amount: dec("1000")},
			{ScheduleVersion: 1, InstalmentNo: 1, Component: ComponentInterest, Amount: dec("30")},
		}}))(t)

	v2 := []Instalment{
		{No: 2, DueDate: day(2025, 3, 1), Principal: dec("500"), Interest: dec("20"), Payment: dec("520"), BalanceAfter: dec("1500")},
		{No: 3, DueDate: day(2025, 4, 1), Principal: dec("500"), Interest: dec("15"), Payment: dec("515"), BalanceAfter: dec("1000")},
		{No: 4, DueDate: day(2025, 5, 1), Principal: dec("500"), Interest: dec("10"), Payment: dec("510"), BalanceAfter: dec("500")},
		{No: 5, DueDate: day(2025, 6, 1), Principal: dec("500"), Interest: dec("5"), Payment: dec("505"), BalanceAfter: dec("0")},
	}
	sv := ScheduleVersion{PlanID: f.plan.ID, Version: 2, Reason: "restructure", RequestID: "req-restructure",
		Params: []byte(`{"terms":4}`)}

	// Out of sequence: version 3 before 2.
	err := s.SaveSchedule(ctx, ScheduleVersion{PlanID: f.plan.ID, Version: 3, Reason: "restructure"}, v2)
	wantIs(t, err, ErrStateChanged)
	if !strings.Contains(err.Error(), "save schedule plan "+f.plan.ID.String()+" v3") {
		t.Fatalf("error %q does not name the plan and version", err)
	}

	if err := s.SaveSchedule(ctx, sv, v2); err != nil {
		t.Fatalf("save v2: %v", err)
	}
	if err := s.SaveSchedule(ctx, sv, v2); err != nil {
		t.Fatalf("repeat v2: %v", err)
	}

	old := must(s.Schedule(ctx, f.plan.ID, 1))(t)
	if len(old) != 3 {
		t.Fatalf("v1 has %d rows after v2, want 3 kept", len(old))
	}
	wantStatus := []string{InstalmentPaid, InstalmentSuperseded, InstalmentSuperseded}
	for i, r := range old {
		if r.Status != wantStatus[i] {
			t.Errorf("v1 #%d status %s, want %s", r.No, r.Status, wantStatus[i])
		}
		if !r.Payment.Equal(threeRows()[i].Payment) || !r.DueDate.Equal(threeRows()[i].DueDate) {
			t.Errorf("v1 #%d changed: %+v", r.No, r)
		}
	}
	cur := must(s.Schedule(ctx, f.plan.ID, 0))(t)
	if len(cur) != 4 || cur[0].ScheduleVersion != 2 || cur[0].No != 2 || cur[0].Status != InstalmentPending || cur[0].Currency != "CNY" {
		t.Fatalf("current schedule %+v", cur)
	}
	plan := must(s.GetPlan(ctx, f.plan.ID))(t)
	if plan.ScheduleVersion != 2 {
		t.Fatalf("plan at schedule version %d, want 2", plan.ScheduleVersion)
	}
	versions := must(s.ScheduleVersions(ctx, f.plan.ID))(t)
	if len(versions) != 2 || versions[0].Reason != "initial" || versions[1].RequestID != "req-restructure" {
		t.Fatalf("versions %+v", versions)
	}
	// A payment cannot go to a superseded row.
	_, err = s.RecordPayment(ctx, Payment{PlanID: f.plan.ID, PaymentID: "pay-2", Source: SourceManual, Amount: dec("10"),
		ReceivedAt: time.Now(), Allocations: []Allocation{
			{ScheduleVersion: 1, InstalmentNo: 2, Component: ComponentInterest, Amount: dec("10")}}})
	wantIs(t, err, ErrStateChanged)
	if n := count(t, s, `SELECT count(*) FROM payments WHERE payment_id = 'pay-2'`); n != 0 {
		t.Fatal("a refused payment was stored")
	}
}

// TestSaveScheduleRejectsBadRows checks validation before the database.
func TestSaveScheduleRejectsBadRows(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	f := newFixture(t, s)
	sv := ScheduleVersion{PlanID: f.plan.ID, Version: 1, Reason: "initial"}
	cases := []struct {
		name   string
		mutate func(rows []Instalment) []Instalment
	}{
		{"no rows", func([]Instalment) []Instalment { return nil }},
		{"payment is not the sum", func(r []Instalment) []Instalment { r[1].Payment = dec("1021"); return r }},
		{"negative interest", func(r []Instalment) []Instalment {
			r[0].Interest, r[0].Payment = dec("-1"), dec("999")
			return r
		}},
		{"three decimal places", func(r []Instalment) []Instalment {
			r[0].Interest, r[0].Payment = dec("30.001"), dec("1030.001")
			return r
		}},
		{"duplicate number", func(r []Instalment) []Instalment { r[2].No = 2; return r }},
		{"no due date", func(r []Instalment) []Instalment { r[0].DueDate = time.Time{}; return r }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantIs(t, s.SaveSchedule(ctx, sv, c.mutate(threeRows())), ErrInvalid)
		})
	}
	if n := count(t, s, `SELECT count(*) FROM schedule_versions WHERE plan_id = $1`, f.plan.ID); n != 0 {
		t.Fatalf("%d schedule versions stored by refused saves", n)
	}
	_, err := s.Schedule(ctx, f.plan.ID, 0)
	wantIs(t, err, ErrNotFound)
}

// TestPaymentAllocationUpdatesInstalments covers partial and full payment
// of an instalment, overpayment of a component and over-allocation.
func TestPaymentAllocationUpdatesInstalments(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	f := newFixture(t, s)
	f.activate(t)
	at := time.Date(2025, 3, 1, 9, 30, 0, 0, time.UTC)

	// 500 towards #2: interest 20 then principal 480; 30 left unallocated.
	p := must(s.RecordPayment(ctx, Payment{PlanID: f.plan.ID, PaymentID: "part", Source: SourceExternal, Amount: dec("530"),
		ReceivedAt: at, Details: []byte(`{"bank":"ICBC"}`), Allocations: []Allocation{
			{ScheduleVersion: 1, InstalmentNo: 2, Component: ComponentPrincipal, Amount: dec("480")},
			{ScheduleVersion: 1, InstalmentNo: 2, Component: ComponentInterest, Amount: dec("20")},
		}}))(t)
	if !p.Unallocated().Equal(dec("30")) || len(p.Allocations) != 2 || p.Allocations[0].Component != ComponentInterest {
		t.Fatalf("payment %+v, unallocated %s", p, p.Unallocated())
	}
	i2 := must(s.GetInstalment(ctx, f.plan.ID, 1, 2))(t)
	if i2.Status != InstalmentPartiallyPaid || !i2.PaidPrincipal.Equal(dec("480")) || !i2.Outstanding().Equal(dec("520")) || !i2.PaidAt.IsZero() {
		t.Fatalf("instalment 2 after a part payment %+v", i2)
	}
	// The rest of #2.
	must(s.RecordPayment(ctx, Payment{PlanID: f.plan.ID, PaymentID: "rest", Source: SourceExternal, Amount: dec("520"),
		ReceivedAt: at.Add(time.Hour), Allocations: []Allocation{
			{ScheduleVersion: 1, InstalmentNo: 2, Component: ComponentPrincipal, Amount: dec("520")},
		}}))(t)
	i2 = must(s.GetInstalment(ctx, f.plan.ID, 1, 2))(t)
	if i2.Status != InstalmentPaid || !i2.PaidAt.Equal(at.Add(time.Hour)) || !i2.Outstanding().IsZero() {
		t.Fatalf("instalment 2 after the rest %+v", i2)
	}

	cases := []struct {
		name  string
		p     Payment
		want  error
		inMsg string
	}{
		{"more principal than due", Payment{PaymentID: "over", Amount: dec("1001"), Allocations: []Allocation{
			{ScheduleVersion: 1, InstalmentNo: 3, Component: ComponentPrincipal, Amount: dec("1001")}}}, ErrInvalid, "instalments_paid_check"},
		{"penalty never accrued", Payment{PaymentID: "pen", Amount: dec("1"), Allocations: []Allocation{
			{ScheduleVersion: 1, InstalmentNo: 3, Component: ComponentPenalty, Amount: dec("1")}}}, ErrInvalid, ""},
		{"allocations above the amount", Payment{PaymentID: "big", Amount: dec("10"), Allocations: []Allocation{
			{ScheduleVersion: 1, InstalmentNo: 3, Component: ComponentInterest, Amount: dec("10.01")}}}, ErrInvalid, ""},
		{"an instalment already paid", Payment{PaymentID: "again", Amount: dec("1"), Allocations: []Allocation{
			{ScheduleVersion: 1, InstalmentNo: 2, Component: ComponentInterest, Amount: dec("1")}}}, ErrStateChanged, ""},
		{"an instalment that does not exist", Payment{PaymentID: "ghost", Amount: dec("1"), Allocations: []Allocation{
			{ScheduleVersion: 1, InstalmentNo: 9, Component: ComponentInterest, Amount: dec("1")}}}, ErrNotFound, ""},
		{"an unknown component", Payment{PaymentID: "tip", Amount: dec("1"), Allocations: []Allocation{
			{ScheduleVersion: 1, InstalmentNo: 3, Component: "tip", Amount: dec("1")}}}, ErrInvalid, ""},
		{"a zero amount", Payment{PaymentID: "zero", Amount: dec("0")}, ErrInvalid, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.p.PlanID, c.p.Source, c.p.ReceivedAt = f.plan.ID, SourceExternal, at
			_, err := s.RecordPayment(ctx, c.p)
			wantIs(t, err, c.want)
			if c.inMsg != "" && !strings.Contains(err.Error(), c.inMsg) {
				t.Fatalf("error %q does not name %s", err, c.inMsg)
			}
			if n := count(t, s, `SELECT count(*) FROM payments WHERE payment_id = $1`, c.p.PaymentID); n != 0 {
				t.Fatal("the refused payment was stored")
			}
		})
	}
	i3 := must(s.GetInstalment(ctx, f.plan.ID, 1, 3))(t)
	if i3.Status != InstalmentPending || !i3.Outstanding().Equal(dec("1010")) {
		t.Fatalf("instalment 3 touched by refused payments: %+v", i3)
	}
	got := must(s.GetPayment(ctx, f.plan.ID, "part"))(t)
	if !got.Amount.Equal(dec("530")) || len(got.Allocations) != 2 || !jsonEqual(got.Details, []byte(`{"bank":"ICBC"}`)) {
		t.Fatalf("GetPayment = %+v", got)
	}
}

// TestInstalmentStatusGuard moves an instalment pending -> due -> overdue.
func TestInstalmentStatusGuard(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	f := newFixture(t, s)
	f.activate(t)
	must(s.SetInstalmentStatus(ctx, f.plan.ID, 1, 1, InstalmentPending, InstalmentDue))(t)
	must(s.SetInstalmentStatus(ctx, f.plan.ID, 1, 1, InstalmentPending, InstalmentDue))(t) // repeat
	_, err := s.SetInstalmentStatus(ctx, f.plan.ID, 1, 1, InstalmentPending, InstalmentOverdue)
	wantIs(t, err, ErrStateChanged)
	i := must(s.SetInstalmentStatus(ctx, f.plan.ID, 1, 1, InstalmentDue, InstalmentOverdue))(t)
	if i.Status != InstalmentOverdue {
		t.Fatalf("status %s", i.Status)
	}
	_, err = s.SetInstalmentStatus(ctx, f.plan.ID, 1, 1, InstalmentOverdue, "lost")
	wantIs(t, err, ErrInvalid)
	_, err = s.SetInstalmentStatus(ctx, f.plan.ID, 1, 7, InstalmentPending, InstalmentDue)
	wantIs(t, err, ErrNotFound)
}
