package calc

import (
	"fmt"

	"github.com/shopspring/decimal"
)

// PenaltyRule is how penalty interest (罚息) on overdue principal accrues:
// overdue principal x min(annual rate x Multiplier, MaxAnnualRate) / DayBasis
// x days overdue, simple (never compounded), rounded to cents.
type PenaltyRule struct {
	// Multiplier scales the contract rate; default 1.5.
	Multiplier decimal.Decimal
	// DayBasis is the number of days of the year for the daily rate;
	// default 360.
	DayBasis int
	// MaxAnnualRate caps the penalty rate (a fraction: 0.24 = 24%) so that
	// overdue charges stay within the legal cap; zero means no cap. Default
	// 0.24.
	MaxAnnualRate decimal.Decimal
}

// DefaultPenaltyRule returns the default rule: 1.5 x the contract daily rate
// on a 360-day year, capped at 24% a year.
func DefaultPenaltyRule() PenaltyRule {
	return PenaltyRule{
		Multiplier:    decimal.RequireFromString("1.5"),
		DayBasis:      360,
		MaxAnnualRate: decimal.RequireFromString("0.24"),
	}
}

// AnnualRate returns the annual penalty rate (a fraction) for a contract
// annual rate: annualRate x Multiplier, capped at MaxAnnualRate when set.
func (p PenaltyRule) AnnualRate(annualRate decimal.Decimal) decimal.Decimal {
	r := annualRate.Mul(p.Multiplier)
	if p.MaxAnnualRate.IsPositive() && r.GreaterThan(p.MaxAnnualRate) {
		return p.MaxAnnualRate
	}
	return r
}

// Interest returns the penalty interest on overduePrincipal for days days
// overdue under a contract annual rate (a fraction), rounded half-up to
// cents. The division by the day basis is exact.
func (p PenaltyRule) Interest(overduePrincipal, annualRate decimal.Decimal, days int) (decimal.Decimal, error) {
	switch {
	case !p.Multiplier.IsPositive():
		return decimal.Decimal{}, fmt.Errorf("penalty interest: multiplier must be greater than 0, got %s", p.Multiplier)
	case p.DayBasis < 1:
		return decimal.Decimal{}, fmt.Errorf("penalty interest: day basis must be at least 1, got %d", p.DayBasis)
	case p.MaxAnnualRate.IsNegative():
		return decimal.Decimal{}, fmt.Errorf("penalty interest: maximum annual rate must not be negative, got %s", p.MaxAnnualRate)
	case overduePrincipal.IsNegative():
		return decimal.Decimal{}, fmt.Errorf("penalty interest: overdue principal must not be negative, got %s", overduePrincipal)
	case annualRate.IsNegative():
		return decimal.Decimal{}, fmt.Errorf("penalty interest on %s: annual rate must not be negative, got %s", overduePrincipal, annualRate)
	case days < 0:
		return decimal.Decimal{}, fmt.Errorf("penalty interest on %s: days overdue must not be negative, got %d", overduePrincipal, days)
	}
	num := overduePrincipal.Mul(p.AnnualRate(annualRate)).Mul(decimal.NewFromInt(int64(days)))
	return divRoundCents(num, decimal.NewFromInt(int64(p.DayBasis))), nil
}
