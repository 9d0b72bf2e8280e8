package calc

import (
	"fmt"

	"github.com/shopspring/decimal"
)

// AnnuityPayment returns the level instalment of an annuity (等额本息),
// A = P r (1+r)^n / ((1+r)^n - 1) with r = annualRate/periodsPerYear,
// rounded half-up to cents; P/n rounded when the rate is zero. annualRate is
// a fraction (0.24 = 24%). The division is done exactly, as
// A = P a (m+a)^n / (m ((m+a)^n - m^n)) with a the annual rate and m the
// periods per year, so no intermediate rounding can move a cent.
func AnnuityPayment(principal, annualRate decimal.Decimal, terms, periodsPerYear int) (decimal.Decimal, error) {
	if err := validPrincipal(FieldPrincipal, principal); err != nil {
		return decimal.Decimal{}, fmt.Errorf("annuity payment of %s over %d terms: %w", principal, terms, err)
	}
	if err := validTerms(FieldTerms, terms); err != nil {
		return decimal.Decimal{}, fmt.Errorf("annuity payment of %s over %d terms: %w", principal, terms, err)
	}
	if annualRate.IsNegative() {
		return decimal.Decimal{}, fmt.Errorf("annuity payment of %s over %d terms: %w", principal, terms,
			&InputError{Field: FieldAnnualRate, Value: annualRate.String(), Reason: "must not be negative"})
	}
	if periodsPerYear < 1 {
		return decimal.Decimal{}, fmt.Errorf("annuity payment of %s over %d terms: periods per year must be at least 1, got %d", principal, terms, periodsPerYear)
	}
	return annuityPayment(principal, annualRate, terms, periodsPerYear), nil
}

// annuityPayment is AnnuityPayment on validated input.
func annuityPayment(p, a decimal.Decimal, n, ppy int) decimal.Decimal {
	if a.IsZero() {
		return divRoundCents(p, decimal.NewFromInt(int64(n)))
	}
	m := decimal.NewFromInt(int64(ppy))
	grown := powInt(m.Add(a), n)
	num := p.Mul(a).Mul(grown)
	den := m.Mul(grown.Sub(powInt(m, n)))
	return divRoundCents(num, den)
}
