package calc

import (
	"fmt"

	"github.com/shopspring/decimal"
)

// HolidayPolicy is what happens to the interest of a payment holiday.
type HolidayPolicy string

// The holiday policies.
const (
	// HolidayCapitalise adds the interest of the pause to the balance:
	// round(balance x ((1+r)^K - 1)).
	HolidayCapitalise HolidayPolicy = "capitalise"
	// HolidayWaive charges no interest for the pause.
	HolidayWaive HolidayPolicy = "waive"
)

// HolidayRequest asks to pause the next Periods instalments of a plan.
type HolidayRequest struct {
	// Plan is the plan as agreed: its method, rates and frequency apply to
	// the resumed instalments, and Start and Terms give the due-date cadence
	// and the number of instalments.
	Plan Terms
	// Paid is the number of instalments already settled (0 <= Paid <
	// Plan.Terms); the pause starts with instalment Paid+1.
	Paid int
	// Balance is the principal outstanding after instalment Paid.
	Balance decimal.Decimal
	// Periods is the number of instalments paused, K >= 1.
	Periods int
	// Policy is HolidayCapitalise or HolidayWaive.
	Policy HolidayPolicy
}

// HolidayResult is the plan after a payment holiday.
type HolidayResult struct {
	// Schedule replaces instalments Paid+1 onwards. Its first Periods rows
	// are holiday rows (Holiday = true, every amount 0.00, Balance the
	// balance carried through the pause); the remaining Plan.Terms - Paid
	// instalments follow, re-amortised. Rows are numbered from Paid+1 and
	// keep the plan's cadence: row Paid+j is due Plan.Start + (Paid+j)
	// periods, so the plan ends Periods periods later than agreed.
	// Schedule.Principal is Balance + Capitalised; the annualised rates treat
	// Balance as received one period before the first holiday row.
	Schedule Schedule
	// Capitalised is the interest of the pause added to the balance (zero
	// when waived or for interest-free methods).
	Capitalised decimal.Decimal
}

// ApplyHoliday pauses the next req.Periods instalments and re-amortises the
// balance (plus the capitalised interest, by policy) over the remaining
// instalments, which resume after the pause. The fee method's fee is charged
// on the balance as in Reamortise.
func ApplyHoliday(req HolidayRequest) (HolidayResult, error) {
	fail := func(err error) (HolidayResult, error) {
		return HolidayResult{}, fmt.Errorf("payment holiday of %d periods after instalment %d on balance %s: %w", req.Periods, req.Paid, req.Balance, err)
	}
	plan := req.Plan.normalised()
	if err := plan.Validate(); err != nil {
		return fail(err)
	}
	if req.Paid < 0 || req.Paid >= plan.Terms {
		return fail(fmt.Errorf("instalments paid must be between 0 and %d, got %d", plan.Terms-1, req.Paid))
	}
	if err := validPrincipal("balance", req.Balance); err != nil {
		return fail(err)
	}
	if req.Periods < 1 || req.Periods > MaxTerms {
		return fail(fmt.Errorf("periods paused must be between 1 and %d, got %d", MaxTerms, req.Periods))
	}
	if req.Policy != HolidayCapitalise && req.Policy != HolidayWaive {
		return fail(fmt.Errorf("policy must be %s or %s, got %q", HolidayCapitalise, HolidayWaive, req.Policy))
	}
	capitalised := decimal.Zero
	if req.Policy == HolidayCapitalise && !plan.AnnualRate.IsZero() {
		m := decimal.NewFromInt(int64(plan.Frequency.PeriodsPerYear()))
		grown, base := powInt(m.Add(plan.AnnualRate), req.Periods), powInt(m, req.Periods)
		capitalised = divRoundCents(req.Balance.Mul(grown.Sub(base)), base)
	}
	carried := req.Balance.Add(capitalised)
	rows := make([]Row, 0, req.Periods+plan.Terms-req.Paid)
	for j := 1; j <= req.Periods; j++ {
		rows = append(rows, Row{
			No:        req.Paid + j,
			DueDate:   plan.Frequency.DueDate(plan.Start, req.Paid+j),
			Principal: decimal.Zero,
			Interest:  decimal.Zero,
			Fee:       decimal.Zero,
			Payment:   decimal.Zero,
			Balance:   carried,
			Holiday:   true,
		})
	}
	skip := req.Paid + req.Periods
	am := newAmortisation(plan, carried, plan.Terms-req.Paid, func(k int) Date { return plan.Frequency.DueDate(plan.Start, skip+k) })
	am.firstNo = skip + 1
	rows = append(rows, am.rows()...)
	s, err := newSchedule(carried, req.Balance, rows, plan.Frequency.PeriodsPerYear())
	if err != nil {
		return fail(err)
	}
	return HolidayResult{Schedule: s, Capitalised: capitalised}, nil
}
