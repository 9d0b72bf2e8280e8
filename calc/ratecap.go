package calc

import (
	"fmt"

	"github.com/shopspring/decimal"
)

// RateCap is the regulatory limit on the annualised rate of a plan. Both
// thresholds are nominal annualised rates in percent (24 = 24%).
type RateCap struct {
	// Max is the hard cap: a plan whose nominal annualised rate exceeds it
	// is refused.
	Max decimal.Decimal
	// Flag is the warning threshold (4 x the one-year LPR): a plan above it
	// is accepted but flagged for review.
	Flag decimal.Decimal
	// Places is the number of decimals (0..4) the nominal rate is rounded to
	// before it is compared: the precision at which the rate is disclosed.
	// With the default 2, an annuity at exactly 24% whose cent-rounded
	// instalment yields an IRR of 24.0001% is within a 24% cap.
	Places int32
}

// DefaultRateCap returns the default limits: a 24% hard cap, a flag above
// 12% (4 x an LPR of 3.0%), compared at 2 decimals.
func DefaultRateCap() RateCap {
	return RateCap{Max: decimal.NewFromInt(24), Flag: decimal.NewFromInt(12), Places: 2}
}

// RateCapError reports a plan refused for its annualised rate.
type RateCapError struct {
	// Rate is the plan's nominal annualised rate in percent.
	Rate decimal.Decimal
	// Cap is the hard cap in percent.
	Cap decimal.Decimal
}

// Error names the rate and the cap, e.g. "annualised rate 26.8243% exceeds
// the cap of 24.0000%".
func (e *RateCapError) Error() string {
	return fmt.Sprintf("annualised rate %s%% exceeds the cap of %s%%", e.Rate.StringFixed(RatePlaces), e.Cap.StringFixed(RatePlaces))
}

// Validate reports whether c is usable: Max > 0, 0 <= Flag, Places 0..4.
func (c RateCap) Validate() error {
	switch {
	case !c.Max.IsPositive():
		return fmt.Errorf("rate cap: the maximum must be greater than 0, got %s", c.Max)
	case c.Flag.IsNegative():
		return fmt.Errorf("rate cap: the flag threshold must not be negative, got %s", c.Flag)
	case c.Places < 0 || c.Places > RatePlaces:
		return fmt.Errorf("rate cap: places must be between 0 and %d, got %d", RatePlaces, c.Places)
	}
	return nil
}

// Check compares a nominal annualised rate (percent) with the cap. It
// returns a *RateCapError (wrapped) when the rate, rounded to c.Places,
// exceeds c.Max, and flagged = true when it exceeds c.Flag.
func (c RateCap) Check(nominal decimal.Decimal) (flagged bool, err error) {
	if err := c.Validate(); err != nil {
		return false, fmt.Errorf("check annualised rate %s%%: %w", nominal, err)
	}
	compared := nominal.Round(c.Places)
	if compared.GreaterThan(c.Max) {
		return true, &RateCapError{Rate: nominal, Cap: c.Max}
	}
	return compared.GreaterThan(c.Flag), nil
}
