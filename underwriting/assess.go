package underwriting

import (
	"fmt"
	"sort"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/fenqi/fenqi/calc"
	"github.com/fenqi/fenqi/plan"
)

// The decisions of an assessment.
const (
	DecisionApproved = "approved"
	DecisionDeclined = "declined"
	DecisionReview   = "review"
)

// Assessment is the outcome of a credit assessment.
type Assessment struct {
	// Score is the sum of the Factors' points.
	Score int `json:"score"`
	// Tier is the risk tier: the score's tier when approved, the lowest
	// tier (granted by an operator's approval) in review, "" when declined.
	Tier string `json:"tier"`
	// CreditLimit is the most the customer may borrow (0 when declined).
	CreditLimit decimal.Decimal `json:"credit_limit"`
	// Decision is DecisionApproved, DecisionDeclined or DecisionReview.
	Decision string `json:"decision"`
	// Reasons explain a decline or a review in words for the customer.
	Reasons []string `json:"reasons"`
	// Factors explain the score.
	Factors []Factor `json:"factors"`
	// DebtToIncome is the monthly debt payments, the new plan's estimated
	// instalment included, over the monthly income (fraction, 4 places;
	// zero when there is no income).
	DebtToIncome decimal.Decimal `json:"debt_to_income"`
	// EstimatedInstalment is the monthly instalment assumed for the new
	// plan in DebtToIncome.
	EstimatedInstalment decimal.Decimal `json:"estimated_instalment"`
	// Policy names the policy and its version, for the record.
	Policy string `json:"policy"`
}

// Assess scores the application under policy p and decides. Breaking any
// hard decline rule or scoring below ReviewMin declines, with every rule
// broken and the low score given as reasons; a score below ApproveMin goes
// to review, and the rest is approved in the tier of the score. A
// credit limit below the smallest plan offered declines. Assess is
// deterministic and does not validate the application (plan.Application
// does that); p should be valid (Policy.Validate).
func Assess(p Policy, app plan.Application) Assessment {
	s := score(p, app)
	a := Assessment{
		Score:               s.total(),
		Factors:             s.factors,
		DebtToIncome:        s.dti,
		EstimatedInstalment: s.estimate,
		CreditLimit:         decimal.Zero,
		Policy:              fmt.Sprintf("%s v%d", p.Name, p.Version),
	}
	reasons := declineReasons(p, app, s)
	if a.Score < p.ReviewMin {
		reasons = append(reasons, lowScoreReason(p, a.Score, s))
	}
	if len(reasons) > 0 {
		return declined(a, reasons...)
	}
	tier, ok := tierFor(p, a.Score)
	if !ok {
		return declined(a, "We cannot offer credit at the moment: no credit tier applies to your application.")
	}
	a.Tier = tier.Name
	a.CreditLimit = creditLimit(p, tier, app.Customer.MonthlyIncome)
	if a.CreditLimit.LessThan(p.Offers.MinAmount) {
		return declined(a, fmt.Sprintf("Your income supports a credit limit of %s, below the smallest plan we offer (%s).",
			calc.FormatMoney(a.CreditLimit), calc.FormatMoney(p.Offers.MinAmount)))
	}
	if a.Score < p.ApproveMin {
		a.Decision = DecisionReview
		a.Reasons = []string{fmt.Sprintf(
			"Your application needs a manual review by our credit team: your credit score of %d is between %d and %d, where we do not decide automatically.",
			a.Score, p.ReviewMin, p.ApproveMin)}
		if weak := weakestFactors(s, 2); weak != "" {
			a.Reasons = append(a.Reasons, "What lowered your score most: "+weak+".")
		}
		return a
	}
	a.Decision = DecisionApproved
	return a
}

func declined(a Assessment, reasons ...string) Assessment {
	a.Decision = DecisionDeclined
	a.Tier = ""
	a.CreditLimit = decimal.Zero
	a.Reasons = reasons
	return a
}

// declineReasons checks the hard rules in a fixed order.
func declineReasons(p Policy, app plan.Application, s scoring) []string {
	d := p.Decline
	c := app.Customer
	var r []string
	if c.Age < d.MinAge {
		r = append(r, fmt.Sprintf("You must be at least %d years old for this credit; you are %d.", d.MinAge, c.Age))
	}
	if c.Age > d.MaxAge {
		r = append(r, fmt.Sprintf("This credit is available up to the age of %d; you are %d.", d.MaxAge, c.Age))
	}
	if c.MonthlyIncome.LessThan(d.MinMonthlyIncome) {
		r = append(r, fmt.Sprintf("Your monthly income of %s is below the minimum of %s we need.",
			calc.FormatMoney(c.MonthlyIncome), calc.FormatMoney(d.MinMonthlyIncome)))
	}
	switch {
	case s.dtiDefined && s.dti.GreaterThan(d.MaxDebtToIncome):
		r = append(r, fmt.Sprintf("Your monthly debt payments, including about %s for this plan, would take %s of your income; the most we can accept is %s.",
			calc.FormatMoney(s.estimate), percent(s.dti), percent(d.MaxDebtToIncome)))
	case !s.dtiDefined && c.MonthlyDebtPayments.Add(s.estimate).IsPositive():
		r = append(r, "You have no monthly income to repay this plan from.")
	}
	if h := c.CreditHistory; h.Defaults > d.MaxDefaults {
		r = append(r, "Your credit record shows "+count(h.Defaults, "defaulted loan")+"; "+mostAccepted(d.MaxDefaults, "defaulted loan")+".")
	}
	if h := c.CreditHistory; h.LatePayments > d.MaxLatePayments {
		r = append(r, "Your credit record shows "+count(h.LatePayments, "late payment")+"; "+mostAccepted(d.MaxLatePayments, "late payment")+".")
	}
	return r
}

// lowScoreReason explains a score below the review band.
func lowScoreReason(p Policy, sc int, s scoring) string {
	msg := fmt.Sprintf("Your credit score of %d is below the %d we need.", sc, p.ReviewMin)
	if weak := weakestFactors(s, 2); weak != "" {
		msg += " What lowered it most: " + weak + "."
	}
	return msg
}

// factorWords names a factor for the customer.
var factorWords = map[string]string{
	FactorAge:           "your age",
	FactorOccupation:    "your occupation",
	FactorIncome:        "your monthly income",
	FactorDebtToIncome:  "your debts compared with your income",
	FactorCreditHistory: "your credit history",
	FactorNetAssets:     "your assets compared with your liabilities",
}

// weakestFactors lists the n factors furthest below their best, worst
// first (ties in factor order), e.g. "your credit history (1 late
// payment...) and your monthly income".
func weakestFactors(s scoring, n int) string {
	type gap struct {
		i   int
		gap int
	}
	var gaps []gap
	for i, f := range s.factors {
		if f.Name == FactorBase {
			continue
		}
		if g := s.maxPoints[f.Name] - f.Points; g > 0 {
			gaps = append(gaps, gap{i, g})
		}
	}
	sort.SliceStable(gaps, func(a, b int) bool { return gaps[a].gap > gaps[b].gap })
	var parts []string
	for _, g := range gaps[:min(n, len(gaps))] {
		f := s.factors[g.i]
		parts = append(parts, fmt.Sprintf("%s (%s; %d points below the best)", factorWords[f.Name], f.Detail, g.gap))
	}
	return strings.Join(parts, " and ")
}

// tierFor returns the first tier whose MinScore the score reaches, or the
// lowest tier for a score below every tier (the review band).
func tierFor(p Policy, sc int) (Tier, bool) {
	if len(p.Tiers) == 0 {
		return Tier{}, false
	}
	for _, t := range p.Tiers {
		if sc >= t.MinScore {
			return t, true
		}
	}
	return p.Tiers[len(p.Tiers)-1], true
}

// creditLimit is income x the tier's multiple, at most its maximum, rounded
// down to the policy's step.
func creditLimit(p Policy, t Tier, income decimal.Decimal) decimal.Decimal {
	l := income.Mul(t.LimitMultiple)
	if l.GreaterThan(t.MaxLimit) {
		l = t.MaxLimit
	}
	if l.IsNegative() {
		return decimal.Zero
	}
	if p.CreditLimitStep.IsPositive() {
		l = l.Div(p.CreditLimitStep).Floor().Mul(p.CreditLimitStep)
	}
	return l.Round(calc.MoneyPlaces)
}

// mostAccepted says the limit of a record rule, e.g. "we cannot accept
// any defaulted loan" or "the most we can accept is 6".
func mostAccepted(n int, noun string) string {
	if n == 0 {
		return "we cannot accept any " + noun
	}
	return fmt.Sprintf("the most we can accept is %d", n)
}

// count says n nouns, e.g. "1 default", "4 late payments".
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
