package underwriting

// A Policy is data, not code: market conditions tighten or loosen credit by
// editing the JSON file (default_policy.json is embedded and returned by
// DefaultPolicy; LoadPolicy reads another). Money is a decimal string
// ("25000.00"), ratios and rates are fractions ("0.50" = 50%), except the
// rate cap, which is in percent like calc.RateCap. The fields:
//
//	name, version           identify the policy in the record.
//	score.base              points everyone starts with.
//	score.age               bands {from, points}: an age gets the points of
//	                        the last band whose from <= age (below the first
//	                        band: the first band's points).
//	score.occupation        ordered categories {name, points, keywords}: the
//	                        first whose name equals the occupation or whose
//	                        keyword it contains (case-insensitive) wins;
//	                        unknown_points otherwise.
//	score.income            bands {from, points} on the monthly income.
//	score.debt_to_income    bands {up_to, points}: the first band whose up_to
//	                        >= DTI; above_points beyond the last. DTI is
//	                        (existing monthly debt payments + the estimated
//	                        monthly instalment of the amount applied for, an
//	                        annuity at estimate_annual_rate over the terms
//	                        asked for or estimate_months) / monthly income.
//	score.credit_history    on_time_points each (at most on_time_max_points
//	                        in all), late_points and default_points each
//	                        (negative).
//	score.net_assets        bands {from, points} on assets - liabilities.
//	decline                 hard rules: min_age, max_age,
//	                        min_monthly_income, max_debt_to_income,
//	                        max_defaults, max_late_payments.
//	review_min, approve_min a score below review_min is declined; from
//	                        review_min up to approve_min (excluded) goes to
//	                        manual review; from approve_min it is approved.
//	credit_limit_step       limits are rounded down to a multiple of it.
//	tiers                   best first, {name, min_score, limit_multiple (x
//	                        monthly income), max_limit, annual_rate (interest
//	                        plans), monthly_fee_rate (fee plans), fee_upfront,
//	                        max_months, products (calc methods the tier may be
//	                        offered), zero_terms (monthly terms of the 免息
//	                        promotion)}. A score gets the first tier whose
//	                        min_score it reaches; a review gets the lowest
//	                        tier, which an operator's approval grants.
//	offers                  min_amount, min_months, default_months (the
//	                        centre of the terms offered when nothing is asked),
//	                        interest_only_max_months (先息后本 is for short
//	                        plans only), monthly_terms and quarterly_terms
//	                        (the term options, in instalments), min_offers,
//	                        max_offers.
//	rate_cap                calc.RateCap in percent: max (hard, 24), flag
//	                        (4 x LPR, 12), places (2); an option above max is
//	                        never offered.
//	requests                the rules of customer requests on an active
//	                        plan: see RequestRules.

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"os"

	"github.com/shopspring/decimal"

	"github.com/fenqi/fenqi/calc"
)

//go:embed default_policy.json
var defaultPolicyJSON []byte

// Policy is the credit policy: the score model, the decline rules, the
// review band, the tiers and the offer rules. See the comment at the top of
// this file for the meaning of every field.
type Policy struct {
	// Name and Version identify the policy in the records of a decision.
	Name    string `json:"name"`
	Version int    `json:"version"`
	// Score is the score model.
	Score ScoreModel `json:"score"`
	// Decline holds the hard decline rules.
	Decline DeclineRules `json:"decline"`
	// ReviewMin is the lowest score not declined; scores from ReviewMin up
	// to ApproveMin (excluded) go to manual review.
	ReviewMin int `json:"review_min"`
	// ApproveMin is the lowest score approved automatically.
	ApproveMin int `json:"approve_min"`
	// CreditLimitStep rounds credit limits down to a multiple of it.
	CreditLimitStep decimal.Decimal `json:"credit_limit_step"`
	// Tiers are the risk tiers, best (highest MinScore) first.
	Tiers []Tier `json:"tiers"`
	// Offers are the rules that shape the offers.
	Offers OfferRules `json:"offers"`
	// RateCap is the regulatory cap on the nominal annualised rate (percent).
	RateCap calc.RateCap `json:"rate_cap"`
	// Requests are the rules for customer requests on an active plan.
	Requests RequestRules `json:"requests"`
}

// ScoreModel gives the points of every factor of the score.
type ScoreModel struct {
	Base          int                `json:"base"`
	Age           []AgeBand          `json:"age"`
	Occupation    OccupationModel    `json:"occupation"`
	Income        []AmountBand       `json:"income"`
	DebtToIncome  DebtToIncomeModel  `json:"debt_to_income"`
	CreditHistory CreditHistoryModel `json:"credit_history"`
	NetAssets     []AmountBand       `json:"net_assets"`
}

// AgeBand gives Points to the ages from From up to the next band.
type AgeBand struct {
	From   int `json:"from"`
	Points int `json:"points"`
}

// AmountBand gives Points to the amounts from From up to the next band.
type AmountBand struct {
	From   decimal.Decimal `json:"from"`
	Points int             `json:"points"`
}

// OccupationModel maps occupations to categories and points.
type OccupationModel struct {
	// Categories are tried in order; the first match wins.
	Categories []OccupationCategory `json:"categories"`
	// UnknownPoints score an occupation no category matches.
	UnknownPoints int `json:"unknown_points"`
}

// OccupationCategory is a group of occupations of similar income
// stability.
type OccupationCategory struct {
	Name   string `json:"name"`
	Points int    `json:"points"`
	// Keywords match when the occupation contains one (case-insensitive).
	Keywords []string `json:"keywords"`
}

// DebtToIncomeModel scores the debt-to-income ratio.
type DebtToIncomeModel struct {
	// Bands in ascending UpTo order: the first whose UpTo >= DTI applies.
	Bands []RatioBand `json:"bands"`
	// AbovePoints score a DTI above the last band.
	AbovePoints int `json:"above_points"`
	// EstimateAnnualRate prices the estimated instalment of the new plan.
	EstimateAnnualRate decimal.Decimal `json:"estimate_annual_rate"`
	// EstimateMonths is the term of the estimate when none is asked for.
	EstimateMonths int `json:"estimate_months"`
}

// RatioBand gives Points to the ratios up to UpTo (inclusive).
type RatioBand struct {
	UpTo   decimal.Decimal `json:"up_to"`
	Points int             `json:"points"`
}

// CreditHistoryModel scores the repayment record.
type CreditHistoryModel struct {
	OnTimePoints    int `json:"on_time_points"`
	OnTimeMaxPoints int `json:"on_time_max_points"`
	LatePoints      int `json:"late_points"`
	DefaultPoints   int `json:"default_points"`
}

// DeclineRules are the hard rules: breaking any one declines, whatever the
// score.
type DeclineRules struct {
	MinAge           int             `json:"min_age"`
	MaxAge           int             `json:"max_age"`
	MinMonthlyIncome decimal.Decimal `json:"min_monthly_income"`
	MaxDebtToIncome  decimal.Decimal `json:"max_debt_to_income"`
	MaxDefaults      int             `json:"max_defaults"`
	MaxLatePayments  int             `json:"max_late_payments"`
}

// Tier is a risk tier: it sets the credit limit, the price and the products.
type Tier struct {
	Name     string `json:"name"`
	MinScore int    `json:"min_score"`
	// LimitMultiple x monthly income is the credit limit, at most MaxLimit.
	LimitMultiple decimal.Decimal `json:"limit_multiple"`
	MaxLimit      decimal.Decimal `json:"max_limit"`
	// AnnualRate is the contract rate of interest-bearing plans (fraction).
	AnnualRate decimal.Decimal `json:"annual_rate"`
	// MonthlyFeeRate is the fee rate of fee plans (fraction per month).
	MonthlyFeeRate decimal.Decimal `json:"monthly_fee_rate"`
	// FeeUpfront charges a fee plan's whole fee with the first instalment.
	FeeUpfront bool `json:"fee_upfront,omitempty"`
	// MaxMonths is the longest plan, in months.
	MaxMonths int `json:"max_months"`
	// Products are the methods the tier may be offered.
	Products []calc.Method `json:"products"`
	// ZeroTerms are the monthly terms of the zero-interest promotion
	// (needs MethodZero in Products).
	ZeroTerms []int `json:"zero_terms,omitempty"`
}

// OfferRules shape the offers.
type OfferRules struct {
	MinAmount             decimal.Decimal `json:"min_amount"`
	MinMonths             int             `json:"min_months"`
	DefaultMonths         int             `json:"default_months"`
	InterestOnlyMaxMonths int             `json:"interest_only_max_months"`
	MonthlyTerms          []int           `json:"monthly_terms"`
	QuarterlyTerms        []int           `json:"quarterly_terms"`
	MinOffers             int             `json:"min_offers"`
	MaxOffers             int             `json:"max_offers"`
}

// DefaultPolicy returns the embedded default policy.
func DefaultPolicy() Policy {
	p, err := parsePolicy(defaultPolicyJSON)
	if err != nil {
		panic(fmt.Sprintf("underwriting: embedded default_policy.json: %v", err))
	}
	return p
}

// LoadPolicy reads and validates the policy file at path; an empty path
// returns DefaultPolicy. Unknown fields are refused, so a misspelt
// parameter cannot be silently ignored.
func LoadPolicy(path string) (Policy, error) {
	if path == "" {
		return DefaultPolicy(), nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return Policy{}, fmt.Errorf("load policy %s: %w", path, err)
	}
	p, err := parsePolicy(b)
	if err != nil {
		return Policy{}, fmt.Errorf("load policy %s: %w", path, err)
	}
	return p, nil
}

// parsePolicy decodes strictly and validates.
func parsePolicy(b []byte) (Policy, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var p Policy
	if err := dec.Decode(&p); err != nil {
		return Policy{}, fmt.Errorf("decode: %w", err)
	}
	if dec.More() {
		return Policy{}, fmt.Errorf("decode: trailing data after the policy object")
	}
	if err := p.Validate(); err != nil {
		return Policy{}, err
	}
	return p, nil
}

// Tier returns the tier named name.
func (p Policy) Tier(name string) (Tier, bool) {
	for _, t := range p.Tiers {
		if t.Name == name {
			return t, true
		}
	}
	return Tier{}, false
}

// Allows reports whether the tier may be offered method m.
func (t Tier) Allows(m calc.Method) bool {
	for _, x := range t.Products {
		if x == m {
			return true
		}
	}
	return false
}
