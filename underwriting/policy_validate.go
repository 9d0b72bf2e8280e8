package underwriting

import (
	"errors"
	"fmt"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/fenqi/fenqi/calc"
)

// Validate reports every inconsistency of the policy, each naming the
// field, joined into one error.
func (p Policy) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("policy %s: %s", field, fmt.Sprintf(format, args...)))
	}
	p.validateScore(bad)
	d := p.Decline
	if d.MinAge < 18 {
		bad("decline.min_age", "must be at least 18, got %d", d.MinAge)
	}
	if d.MaxAge < d.MinAge {
		bad("decline.max_age", "must be at least min_age %d, got %d", d.MinAge, d.MaxAge)
	}
	if d.MinMonthlyIncome.IsNegative() {
		bad("decline.min_monthly_income", "must not be negative, got %s", d.MinMonthlyIncome)
	}
	if !d.MaxDebtToIncome.IsPositive() {
		bad("decline.max_debt_to_income", "must be greater than 0, got %s", d.MaxDebtToIncome)
	}
	if d.MaxDefaults < 0 || d.MaxLatePayments < 0 {
		bad("decline", "max_defaults and max_late_payments must not be negative")
	}
	if p.ReviewMin > p.ApproveMin {
		bad("review_min", "must not exceed approve_min %d, got %d", p.ApproveMin, p.ReviewMin)
	}
	if !p.CreditLimitStep.IsPositive() {
		bad("credit_limit_step", "must be greater than 0, got %s", p.CreditLimitStep)
	}
	p.validateTiers(bad)
	p.validateOffers(bad)
	if err := p.RateCap.Validate(); err != nil {
		bad("rate_cap", "%v", err)
	}
	p.Requests.validate(bad)
	return errors.Join(errs...)
}

func (p Policy) validateScore(bad func(field, format string, args ...any)) {
	s := p.Score
	if len(s.Age) == 0 {
		bad("score.age", "needs at least one band")
	}
	for i := 1; i < len(s.Age); i++ {
		if s.Age[i].From <= s.Age[i-1].From {
			bad("score.age", "bands must be in ascending from order (band %d)", i+1)
		}
	}
	for _, b := range []struct {
		name  string
		bands []AmountBand
	}{{"score.income", s.Income}, {"score.net_assets", s.NetAssets}} {
		if len(b.bands) == 0 {
			bad(b.name, "needs at least one band")
		}
		for i := 1; i < len(b.bands); i++ {
			if !b.bands[i].From.GreaterThan(b.bands[i-1].From) {
				bad(b.name, "bands must be in ascending from order (band %d)", i+1)
			}
		}
	}
	seen := map[string]bool{}
	for i, c := range s.Occupation.Categories {
		name := strings.ToLower(strings.TrimSpace(c.Name))
		if name == "" {
			bad("score.occupation.categories", "category %d has no name", i+1)
		}
		if seen[name] {
			bad("score.occupation.categories", "category %q appears twice", c.Name)
		}
		seen[name] = true
		for _, k := range c.Keywords {
			if strings.TrimSpace(k) == "" {
				bad("score.occupation.categories", "category %q has an empty keyword", c.Name)
			}
		}
	}
	dti := s.DebtToIncome
	if len(dti.Bands) == 0 {
		bad("score.debt_to_income.bands", "needs at least one band")
	}
	for i, b := range dti.Bands {
		if !b.UpTo.IsPositive() || (i > 0 && !b.UpTo.GreaterThan(dti.Bands[i-1].UpTo)) {
			bad("score.debt_to_income.bands", "up_to must be positive and ascending (band %d)", i+1)
		}
	}
	if dti.EstimateAnnualRate.IsNegative() || dti.EstimateAnnualRate.GreaterThanOrEqual(decimal.NewFromInt(1)) {
		bad("score.debt_to_income.estimate_annual_rate", "must be a fraction in [0, 1), got %s", dti.EstimateAnnualRate)
	}
	if dti.EstimateMonths < 1 || dti.EstimateMonths > calc.MaxTerms {
		bad("score.debt_to_income.estimate_months", "must be between 1 and %d, got %d", calc.MaxTerms, dti.EstimateMonths)
	}
	h := s.CreditHistory
	if h.OnTimePoints < 0 || h.OnTimeMaxPoints < 0 {
		bad("score.credit_history", "on-time points must not be negative")
	}
	if h.LatePoints > 0 || h.DefaultPoints > 0 {
		bad("score.credit_history", "late and default points must not be positive")
	}
}

func (p Policy) validateTiers(bad func(field, format string, args ...any)) {
	if len(p.Tiers) == 0 {
		bad("tiers", "needs at least one tier")
		return
	}
	names := map[string]bool{}
	for i, t := range p.Tiers {
		f := fmt.Sprintf("tiers[%d] (%s)", i, t.Name)
		switch {
		case strings.TrimSpace(t.Name) == "":
			bad(f, "has no name")
		case names[t.Name]:
			bad(f, "name appears twice")
		}
		names[t.Name] = true
		if i > 0 && t.MinScore >= p.Tiers[i-1].MinScore {
			bad(f, "min_score must be below the previous tier's (tiers are best first)")
		}
		if !t.LimitMultiple.IsPositive() {
			bad(f+".limit_multiple", "must be greater than 0, got %s", t.LimitMultiple)
		}
		if !t.MaxLimit.IsPositive() {
			bad(f+".max_limit", "must be greater than 0, got %s", t.MaxLimit)
		}
		if t.AnnualRate.IsNegative() || t.AnnualRate.GreaterThanOrEqual(decimal.NewFromInt(1)) {
			bad(f+".annual_rate", "must be a fraction in [0, 1), got %s", t.AnnualRate)
		}
		if t.MonthlyFeeRate.IsNegative() || t.MonthlyFeeRate.GreaterThanOrEqual(decimal.NewFromFloat(0.1)) {
			bad(f+".monthly_fee_rate", "must be a fraction in [0, 0.1), got %s", t.MonthlyFeeRate)
		}
		if t.MaxMonths < p.Offers.MinMonths || t.MaxMonths > calc.MaxTerms {
			bad(f+".max_months", "must be between offers.min_months %d and %d, got %d", p.Offers.MinMonths, calc.MaxTerms, t.MaxMonths)
		}
		if len(t.Products) == 0 {
			bad(f+".products", "needs at least one product")
		}
		for _, m := range t.Products {
			if err := m.Validate(); err != nil {
				bad(f+".products", "%v", err)
			}
		}
		if t.Allows(calc.MethodFee) && !t.MonthlyFeeRate.IsPositive() {
			bad(f+".monthly_fee_rate", "must be greater than 0 for a tier offering fee plans")
		}
		if len(t.ZeroTerms) > 0 && !t.Allows(calc.MethodZero) {
			bad(f+".zero_terms", "needs the zero product in products")
		}
		for _, n := range t.ZeroTerms {
			if n < p.Offers.MinMonths || n > t.MaxMonths {
				bad(f+".zero_terms", "term %d is outside min_months..max_months", n)
			}
		}
	}
	if low := p.Tiers[len(p.Tiers)-1].MinScore; low > p.ApproveMin {
		bad("tiers", "the lowest tier's min_score %d is above approve_min %d: some approved scores would have no tier", low, p.ApproveMin)
	}
}

func (p Policy) validateOffers(bad func(field, format string, args ...any)) {
	o := p.Offers
	if !o.MinAmount.IsPositive() {
		bad("offers.min_amount", "must be greater than 0, got %s", o.MinAmount)
	}
	if o.MinMonths < 1 {
		bad("offers.min_months", "must be at least 1, got %d", o.MinMonths)
	}
	if o.DefaultMonths < o.MinMonths {
		bad("offers.default_months", "must be at least min_months, got %d", o.DefaultMonths)
	}
	if o.InterestOnlyMaxMonths < 0 {
		bad("offers.interest_only_max_months", "must not be negative, got %d", o.InterestOnlyMaxMonths)
	}
	for _, t := range []struct {
		name  string
		terms []int
	}{{"offers.monthly_terms", o.MonthlyTerms}, {"offers.quarterly_terms", o.QuarterlyTerms}} {
		if len(t.terms) == 0 {
			bad(t.name, "needs at least one term")
		}
		for i, n := range t.terms {
			if n < 1 || n > calc.MaxTerms || (i > 0 && n <= t.terms[i-1]) {
				bad(t.name, "terms must be ascending and between 1 and %d, got %v", calc.MaxTerms, t.terms)
				break
			}
		}
	}
	if o.MinOffers < 1 {
		bad("offers.min_offers", "must be at least 1, got %d", o.MinOffers)
	}
	if o.MaxOffers < o.MinOffers {
		bad("offers.max_offers", "must be at least min_offers %d, got %d", o.MinOffers, o.MaxOffers)
	}
}
