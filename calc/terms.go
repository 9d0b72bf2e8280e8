package calc

import (
	"fmt"
	"strings"

	"github.com/shopspring/decimal"
)

// Method is how a plan repays its principal and what it charges.
type Method string

// The repayment methods.
const (
	// MethodAnnuity is 等额本息: a level payment A = P r (1+r)^n / ((1+r)^n - 1).
	MethodAnnuity Method = "annuity"
	// MethodEqualPrincipal is 等额本金: principal round(P/n) each period,
	// interest on the balance.
	MethodEqualPrincipal Method = "equal-principal"
	// MethodInterestOnly is 先息后本: interest each period, the principal with
	// the last one.
	MethodInterestOnly Method = "interest-only"
	// MethodFee is 分期手续费 (card style): principal as equal principal, no
	// interest, a fee of round(P x periodic fee rate) every period or, with
	// Terms.FeeUpfront, the whole fee with the first instalment.
	MethodFee Method = "fee"
	// MethodZero is 免息: equal principal, no interest and no fee.
	MethodZero Method = "zero"
)

// Methods lists every method, in the order they are documented.
var Methods = []Method{MethodAnnuity, MethodEqualPrincipal, MethodInterestOnly, MethodFee, MethodZero}

// ParseMethod returns the Method named s.
func ParseMethod(s string) (Method, error) {
	m := Method(s)
	if err := m.Validate(); err != nil {
		return "", err
	}
	return m, nil
}

// Validate reports an *InputError unless m is a known method.
func (m Method) Validate() error {
	for _, known := range Methods {
		if m == known {
			return nil
		}
	}
	return &InputError{Field: FieldMethod, Value: string(m), Reason: "must be one of " + joinNames(Methods)}
}

// chargesInterest reports whether the method uses Terms.AnnualRate.
func (m Method) chargesInterest() bool {
	return m == MethodAnnuity || m == MethodEqualPrincipal || m == MethodInterestOnly
}

// Frequency is how often instalments fall due.
type Frequency string

// The instalment frequencies.
const (
	// Monthly instalments: periodic rate annual/12, due dates one month apart.
	Monthly Frequency = "monthly"
	// Quarterly instalments: periodic rate annual/4, due dates three months
	// apart, periodic fee rate 3 x the monthly fee rate.
	Quarterly Frequency = "quarterly"
)

// Frequencies lists every frequency.
var Frequencies = []Frequency{Monthly, Quarterly}

// ParseFrequency returns the Frequency named s.
func ParseFrequency(s string) (Frequency, error) {
	f := Frequency(s)
	if err := f.Validate(); err != nil {
		return "", err
	}
	return f, nil
}

// Validate reports an *InputError unless f is a known frequency.
func (f Frequency) Validate() error {
	if f == Monthly || f == Quarterly {
		return nil
	}
	return &InputError{Field: FieldFrequency, Value: string(f), Reason: "must be one of " + joinNames(Frequencies)}
}

// MonthsPerPeriod returns 1 for Monthly and 3 for Quarterly (0 if unknown).
func (f Frequency) MonthsPerPeriod() int {
	switch f {
	case Monthly:
		return 1
	case Quarterly:
		return 3
	}
	return 0
}

// PeriodsPerYear returns 12 for Monthly and 4 for Quarterly (0 if unknown).
func (f Frequency) PeriodsPerYear() int {
	if m := f.MonthsPerPeriod(); m > 0 {
		return 12 / m
	}
	return 0
}

// DueDate returns the k-th due date of a plan starting on start: start + k
// periods, clamped to the month end and always computed from start.
func (f Frequency) DueDate(start Date, k int) Date {
	return start.AddMonths(k * f.MonthsPerPeriod())
}

// MaxTerms is the largest number of instalments of one schedule.
const MaxTerms = 360

// MaxPrincipal is the largest amount one schedule amortises (one trillion),
// far above any consumer plan and well inside the range where the float64
// IRR solver is exact to the precision it reports.
var MaxPrincipal = decimal.New(1, 12)

// Terms are the inputs of a schedule.
type Terms struct {
	// Method is the repayment method.
	Method Method
	// Principal is the amount lent, > 0 and <= MaxPrincipal, with at most
	// two decimals.
	Principal decimal.Decimal
	// Terms is the number of instalments, 1..MaxTerms.
	Terms int
	// AnnualRate is the nominal annual interest rate as a fraction
	// (0.24 = 24%). Used by annuity, equal-principal and interest-only; must
	// be zero for fee and zero plans.
	AnnualRate decimal.Decimal
	// MonthlyFeeRate is the fee rate per month as a fraction (0.006 = 0.6%)
	// applied to the principal. Used by the fee method only (quarterly
	// periods charge 3x); must be zero for the other methods.
	MonthlyFeeRate decimal.Decimal
	// FeeUpfront charges the whole fee (per-period fee x Terms) with the
	// first instalment. Fee method only.
	FeeUpfront bool
	// Frequency is Monthly or Quarterly; empty means Monthly.
	Frequency Frequency
	// Start is the plan start date; instalment k is due Start + k periods.
	Start Date
}

// Input field names carried by *InputError.
const (
	FieldMethod         = "method"
	FieldPrincipal      = "principal"
	FieldTerms          = "terms"
	FieldAnnualRate     = "annual_rate"
	FieldMonthlyFeeRate = "monthly_fee_rate"
	FieldFeeUpfront     = "fee_upfront"
	FieldFrequency      = "frequency"
	FieldStart          = "start"
)

// InputError reports one invalid input: the field, the offending value and
// the reason. Callers use Field to point at their own input (a flag, a form
// field).
type InputError struct {
	Field  string
	Value  string
	Reason string
}

// Error returns "field: reason, got value".
func (e *InputError) Error() string {
	return fmt.Sprintf("%s: %s, got %q", e.Field, e.Reason, e.Value)
}

// normalised returns t with the defaults filled in (Monthly frequency).
func (t Terms) normalised() Terms {
	if t.Frequency == "" {
		t.Frequency = Monthly
	}
	return t
}

// Validate reports the first invalid field of t as an *InputError.
func (t Terms) Validate() error {
	t = t.normalised()
	if err := t.Method.Validate(); err != nil {
		return err
	}
	if err := t.Frequency.Validate(); err != nil {
		return err
	}
	if err := validPrincipal(FieldPrincipal, t.Principal); err != nil {
		return err
	}
	if err := validTerms(FieldTerms, t.Terms); err != nil {
		return err
	}
	if t.AnnualRate.IsNegative() {
		return &InputError{Field: FieldAnnualRate, Value: t.AnnualRate.String(), Reason: "must not be negative"}
	}
	if t.MonthlyFeeRate.IsNegative() {
		return &InputError{Field: FieldMonthlyFeeRate, Value: t.MonthlyFeeRate.String(), Reason: "must not be negative"}
	}
	if !t.Method.chargesInterest() && !t.AnnualRate.IsZero() {
		return &InputError{Field: FieldAnnualRate, Value: t.AnnualRate.String(), Reason: fmt.Sprintf("must be 0 for method %s, which charges no interest", t.Method)}
	}
	if t.Method != MethodFee && !t.MonthlyFeeRate.IsZero() {
		return &InputError{Field: FieldMonthlyFeeRate, Value: t.MonthlyFeeRate.String(), Reason: fmt.Sprintf("must be 0 for method %s, which charges no fee", t.Method)}
	}
	if t.Method != MethodFee && t.FeeUpfront {
		return &InputError{Field: FieldFeeUpfront, Value: "true", Reason: fmt.Sprintf("applies to method %s only, not %s", MethodFee, t.Method)}
	}
	if t.Start.IsZero() {
		return &InputError{Field: FieldStart, Value: "", Reason: "is required"}
	}
	return nil
}

// validPrincipal checks an amount to amortise: > 0, at most MaxPrincipal,
// with at most two decimals.
func validPrincipal(field string, p decimal.Decimal) error {
	if !p.IsPositive() {
		return &InputError{Field: field, Value: p.String(), Reason: "must be greater than 0"}
	}
	if p.GreaterThan(MaxPrincipal) {
		return &InputError{Field: field, Value: p.String(), Reason: "must be at most " + MaxPrincipal.String()}
	}
	if !isCents(p) {
		return &InputError{Field: field, Value: p.String(), Reason: "must have at most 2 decimal places"}
	}
	return nil
}

// validTerms checks a number of instalments: 1..MaxTerms.
func validTerms(field string, n int) error {
	if n < 1 || n > MaxTerms {
		return &InputError{Field: field, Value: fmt.Sprint(n), Reason: fmt.Sprintf("must be between 1 and %d", MaxTerms)}
	}
	return nil
}

// joinNames joins string-like names with ", ".
func joinNames[S ~string](names []S) string {
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = string(n)
	}
	return strings.Join(parts, ", ")
}
