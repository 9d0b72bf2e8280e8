package calc

import (
	"fmt"

	"github.com/shopspring/decimal"
)

// ReamortiseRequest asks for a remaining balance to be spread over a new
// number of instalments.
type ReamortiseRequest struct {
	// Plan supplies the method, AnnualRate, MonthlyFeeRate, FeeUpfront and
	// Frequency; its Principal, Terms and Start are ignored.
	Plan Terms
	// Balance is the principal to re-amortise, > 0 with at most 2 decimals.
	Balance decimal.Decimal
	// Terms is the new number of instalments, 1..MaxTerms.
	Terms int
	// FirstDue is the due date of the first new instalment; instalment k is
	// due FirstDue + (k-1) periods, clamped to the month end.
	FirstDue Date
	// FirstNo numbers the first new instalment; 0 means 1.
	FirstNo int
}

// Reamortise spreads req.Balance over req.Terms instalments with the plan's
// method, rate and frequency, as a fresh plan on that balance: the fee of a
// fee plan is round(Balance x periodic fee rate) per instalment (all of it on
// the first one when FeeUpfront). A caller that must not charge a new fee
// sets Plan.MonthlyFeeRate to zero. The result keeps every schedule
// invariant with Balance as the amount amortised; its annualised rates treat
// Balance as received one period before the first new due date.
func Reamortise(req ReamortiseRequest) (Schedule, error) {
	t := req.Plan
	t.Principal, t.Terms, t.Start = req.Balance, req.Terms, req.FirstDue
	t = t.normalised()
	if err := t.Validate(); err != nil {
		return Schedule{}, fmt.Errorf("re-amortise %s over %d terms from %s: %w", req.Balance, req.Terms, req.FirstDue, err)
	}
	am := newAmortisation(t, req.Balance, req.Terms, func(k int) Date { return t.Frequency.DueDate(req.FirstDue, k-1) })
	if req.FirstNo != 0 {
		am.firstNo = req.FirstNo
	}
	s, err := newSchedule(req.Balance, req.Balance, am.rows(), t.Frequency.PeriodsPerYear())
	if err != nil {
		return Schedule{}, fmt.Errorf("re-amortise %s over %d terms from %s: %w", req.Balance, req.Terms, req.FirstDue, err)
	}
	return s, nil
}
