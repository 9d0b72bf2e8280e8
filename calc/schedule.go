package calc

import (
	"fmt"

	"github.com/shopspring/decimal"
)

// Row is one instalment of a schedule. Payment = Principal + Interest + Fee;
// Balance is the principal still owed after this instalment.
type Row struct {
	// No is the instalment number, counted from 1 in a fresh schedule.
	No int
	// DueDate is the day the instalment falls due.
	DueDate Date
	// Principal, Interest, Fee and Payment are the amounts due.
	Principal, Interest, Fee, Payment decimal.Decimal
	// Balance is the principal outstanding after this instalment.
	Balance decimal.Decimal
	// Holiday marks a paused instalment (payment holiday): every amount is
	// zero and nothing is collected on its due date.
	Holiday bool
}

// Schedule is a repayment schedule with its totals and annualised rates.
type Schedule struct {
	// Principal is the amount amortised: the opening balance, and the sum of
	// the principal column.
	Principal decimal.Decimal
	// Rows are the instalments in due-date order.
	Rows []Row
	// TotalPrincipal, TotalInterest, TotalFee and TotalPayment sum the
	// columns of Rows.
	TotalPrincipal, TotalInterest, TotalFee, TotalPayment decimal.Decimal
	// APRNominal is the annualised rate by IRR (periodic IRR x periods per
	// year), in percent with 4 decimals (24.0001 = 24.0001%).
	APRNominal decimal.Decimal
	// APREffective is (1 + periodic IRR)^(periods per year) - 1, in percent
	// with 4 decimals.
	APREffective decimal.Decimal
}

// BuildSchedule validates t and returns its schedule. Row k is due
// t.Start + k periods. Every row satisfies Payment = Principal + Interest +
// Fee with no negative amount; the principal column sums exactly to
// t.Principal and the last balance is 0.00. The annualised rates are the IRR
// of t.Principal received at the start against every payment.
func BuildSchedule(t Terms) (Schedule, error) {
	t = t.normalised()
	if err := t.Validate(); err != nil {
		return Schedule{}, fmt.Errorf("build %s schedule of %s over %d terms: %w", t.Method, t.Principal, t.Terms, err)
	}
	am := newAmortisation(t, t.Principal, t.Terms, func(k int) Date { return t.Frequency.DueDate(t.Start, k) })
	s, err := newSchedule(t.Principal, t.Principal, am.rows(), t.Frequency.PeriodsPerYear())
	if err != nil {
		return Schedule{}, fmt.Errorf("build %s schedule of %s over %d terms: %w", t.Method, t.Principal, t.Terms, err)
	}
	return s, nil
}

// amortisation is one run of rows to build from validated inputs.
type amortisation struct {
	method       Method
	principal    decimal.Decimal
	n            int
	annualRate   decimal.Decimal
	ppy          int
	feePerPeriod decimal.Decimal
	feeUpfront   bool
	firstNo      int
	due          func(k int) Date
}

// newAmortisation amortises principal over n rows with the method, rates and
// frequency of t; row k (1-based) is due due(k) and numbered k.
func newAmortisation(t Terms, principal decimal.Decimal, n int, due func(k int) Date) amortisation {
	months := decimal.NewFromInt(int64(t.Frequency.MonthsPerPeriod()))
	return amortisation{
		method:       t.Method,
		principal:    principal,
		n:            n,
		annualRate:   t.AnnualRate,
		ppy:          t.Frequency.PeriodsPerYear(),
		feePerPeriod: RoundMoney(principal.Mul(t.MonthlyFeeRate).Mul(months)),
		feeUpfront:   t.FeeUpfront,
		firstNo:      1,
		due:          due,
	}
}

// rows builds the instalments. Interest is round(balance x annual/ppy) on
// the balance before the row; the principal follows the method and is
// clamped to the balance; the last row takes the whole remaining balance.
func (a amortisation) rows() []Row {
	var level decimal.Decimal
	switch a.method {
	case MethodAnnuity:
		level = annuityPayment(a.principal, a.annualRate, a.n, a.ppy)
	case MethodEqualPrincipal, MethodFee, MethodZero:
		level = divRoundCents(a.principal, decimal.NewFromInt(int64(a.n)))
	}
	ppy := decimal.NewFromInt(int64(a.ppy))
	rows := make([]Row, 0, a.n)
	balance := a.principal
	for k := 1; k <= a.n; k++ {
		interest := divRoundCents(balance.Mul(a.annualRate), ppy)
		var principal decimal.Decimal
		switch {
		case k == a.n:
			principal = balance
		case a.method == MethodAnnuity:
			principal = decimal.Min(level.Sub(interest), balance)
		case a.method == MethodInterestOnly:
			principal = decimal.Zero
		default:
			principal = decimal.Min(level, balance)
		}
		fee := a.fee(k)
		balance = balance.Sub(principal)
		rows = append(rows, Row{
			No:        a.firstNo + k - 1,
			DueDate:   a.due(k),
			Principal: principal,
			Interest:  interest,
			Fee:       fee,
			Payment:   principal.Add(interest).Add(fee),
			Balance:   balance,
		})
	}
	return rows
}

// fee returns the fee of row k (1-based).
func (a amortisation) fee(k int) decimal.Decimal {
	switch {
	case !a.feeUpfront:
		return a.feePerPeriod
	case k == 1:
		return a.feePerPeriod.Mul(decimal.NewFromInt(int64(a.n)))
	default:
		return decimal.Zero
	}
}

// newSchedule totals rows and computes the annualised rates of net received
// at the start against the payments, one period apart.
func newSchedule(principal, net decimal.Decimal, rows []Row, ppy int) (Schedule, error) {
	s := Schedule{
		Principal:      principal,
		Rows:           rows,
		TotalPrincipal: decimal.Zero,
		TotalInterest:  decimal.Zero,
		TotalFee:       decimal.Zero,
		TotalPayment:   decimal.Zero,
	}
	payments := make([]decimal.Decimal, len(rows))
	for i, r := range rows {
		s.TotalPrincipal = s.TotalPrincipal.Add(r.Principal)
		s.TotalInterest = s.TotalInterest.Add(r.Interest)
		s.TotalFee = s.TotalFee.Add(r.Fee)
		s.TotalPayment = s.TotalPayment.Add(r.Payment)
		payments[i] = r.Payment
	}
	rate, err := AnnualisedIRR(net, payments, ppy)
	if err != nil {
		return Schedule{}, fmt.Errorf("annualised rate of the schedule: %w", err)
	}
	s.APRNominal, s.APREffective = rate.Nominal, rate.Effective
	return s, nil
}
