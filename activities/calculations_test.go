package activities_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/fenqi/fenqi/activities"
	"github.com/fenqi/fenqi/calc"
)

// TestBuildScheduleSurvivesThePayloadConverter runs the activity through
// Temporal's test environment, so the schedule is encoded and decoded as it
// is between a worker and a workflow, and checks that nothing is lost.
func TestBuildScheduleSurvivesThePayloadConverter(t *testing.T) {
	start, _ := calc.ParseDate("2026-01-31")
	tests := []struct {
		name  string
		terms calc.Terms
	}{
		{"annuity monthly", calc.Terms{Method: calc.MethodAnnuity, Principal: decimal.NewFromInt(10000), Terms: 12, AnnualRate: decimal.RequireFromString("0.24"), Frequency: calc.Monthly, Start: start}},
		{"equal principal quarterly", calc.Terms{Method: calc.MethodEqualPrincipal, Principal: decimal.RequireFromString("12345.67"), Terms: 8, AnnualRate: decimal.RequireFromString("0.12"), Frequency: calc.Quarterly, Start: start}},
		{"fee upfront", calc.Terms{Method: calc.MethodFee, Principal: decimal.NewFromInt(6000), Terms: 6, MonthlyFeeRate: decimal.RequireFromString("0.006"), FeeUpfront: true, Frequency: calc.Monthly, Start: start}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var suite testsuite.WorkflowTestSuite
			env := suite.NewTestActivityEnvironment()
			a := &activities.Activities{}
			env.RegisterActivity(a)
			val, err := env.ExecuteActivity(a.BuildSchedule, activities.ScheduleRequest{Terms: tt.terms})
			if err != nil {
				t.Fatalf("BuildSchedule: %v", err)
			}
			var got activities.ScheduleResult
			if err := val.Get(&got); err != nil {
				t.Fatalf("decode result: %v", err)
			}
			want, err := calc.BuildSchedule(tt.terms)
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Schedule.Rows) != len(want.Rows) {
				t.Fatalf("rows: got %d, want %d", len(got.Schedule.Rows), len(want.Rows))
			}
			for i := range want.Rows {
				g, w := got.Schedule.Rows[i], want.Rows[i]
				if g.No != w.No || g.DueDate != w.DueDate || !g.Principal.Equal(w.Principal) || !g.Interest.Equal(w.Interest) ||
					!g.Fee.Equal(w.Fee) || !g.Payment.Equal(w.Payment) || !g.Balance.Equal(w.Balance) {
					t.Errorf("row %d: got %+v, want %+v", i+1, g, w)
				}
			}
			if !got.Schedule.TotalPayment.Equal(want.TotalPayment) || !got.Schedule.APRNominal.Equal(want.APRNominal) || !got.Schedule.APREffective.Equal(want.APREffective) {
				t.Errorf("totals: got %s / %s / %s, want %s / %s / %s", got.Schedule.TotalPayment, got.Schedule.APRNominal, got.Schedule.APREffective,
					want.TotalPayment, want.APRNominal, want.APREffective)
			}
		})
	}
}

// TestBuildScheduleRefusesAboveTheCap checks the cap error reaches the
// workflow side with the rate and the cap in its message.
func TestBuildScheduleRefusesAboveTheCap(t *testing.T) {
	start, _ := calc.ParseDate("2026-01-15")
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	a := &activities.Activities{}
	env.RegisterActivity(a)
	_, err := env.ExecuteActivity(a.BuildSchedule, activities.ScheduleRequest{Terms: calc.Terms{
		Method: calc.MethodAnnuity, Principal: decimal.NewFromInt(10000), Terms: 12,
		AnnualRate: decimal.RequireFromString("0.30"), Frequency: calc.Monthly, Start: start,
	}})
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) {
		t.Fatalf("want an application error, got %v", err)
	}
	const want = "annualised rate 30.0002% exceeds the cap of 24.0000%"
	if msg := appErr.Error(); !strings.Contains(msg, want) {
		t.Fatalf("error %q does not say %q", msg, want)
	}
}
