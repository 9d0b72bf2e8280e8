package underwriting

import (
	"fmt"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/fenqi/fenqi/calc"
	"github.com/fenqi/fenqi/plan"
)

// The names of the score factors, in the order Assess reports them.
const (
	FactorBase          = "base"
	FactorAge           = "age"
	FactorOccupation    = "occupation"
	FactorIncome        = "income"
	FactorDebtToIncome  = "debt_to_income"
	FactorCreditHistory = "credit_history"
	FactorNetAssets     = "net_assets"
)

// Factor is one term of the score: its name, its points and what they were
// given for.
type Factor struct {
	Name   string `json:"name"`
	Points int    `json:"points"`
	// Detail says what was scored, e.g. "age 35" or "42.3% of income".
	Detail string `json:"detail,omitempty"`
}

// scoring is the intermediate result of the score model.
type scoring struct {
	factors []Factor
	// maxPoints is the best each factor could give, to explain the gaps.
	maxPoints map[string]int
	// occupationCategory is the matched category ("" when unknown).
	occupationCategory string
	// dti is the debt-to-income ratio with the new plan's estimate;
	// dtiDefined is false when there is no income to divide by.
	dti        decimal.Decimal
	dtiDefined bool
	// estimate is the estimated monthly instalment of the new plan.
	estimate decimal.Decimal
}

func (s scoring) total() int {
	n := 0
	for _, f := range s.factors {
		n += f.Points
	}
	return n
}

// score applies the score model of p to the customer and the amount and
// terms applied for.
func score(p Policy, app plan.Application) scoring {
	m := p.Score
	c := app.Customer
	s := scoring{maxPoints: map[string]int{}}
	add := func(name string, points, best int, detail string) {
		s.factors = append(s.factors, Factor{Name: name, Points: points, Detail: detail})
		s.maxPoints[name] = best
	}
	add(FactorBase, m.Base, m.Base, "")

	add(FactorAge, agePoints(m.Age, c.Age), maxAgePoints(m.Age), fmt.Sprintf("age %d", c.Age))

	cat, occ := occupationPoints(m.Occupation, c.Occupation)
	s.occupationCategory = cat
	detail := "occupation not recognised"
	if cat != "" {
		detail = "category " + cat
	}
	add(FactorOccupation, occ, maxOccupationPoints(m.Occupation), detail)

	add(FactorIncome, amountPoints(m.Income, c.MonthlyIncome), maxAmountPoints(m.Income),
		"monthly income "+calc.FormatMoney(c.MonthlyIncome))

	s.estimate = estimatedInstalment(m.DebtToIncome, app)
	debt := c.MonthlyDebtPayments.Add(s.estimate)
	dtiPoints := m.DebtToIncome.AbovePoints
	if c.MonthlyIncome.IsPositive() {
		s.dti = debt.DivRound(c.MonthlyIncome, 4)
		s.dtiDefined = true
		dtiPoints = ratioPoints(m.DebtToIncome, s.dti)
		detail = fmt.Sprintf("%s of income: %s a month of existing debt plus an estimated %s for this plan",
			percent(s.dti), calc.FormatMoney(c.MonthlyDebtPayments), calc.FormatMoney(s.estimate))
	} else {
		detail = "no income to repay from"
	}
	add(FactorDebtToIncome, dtiPoints, maxRatioPoints(m.DebtToIncome), detail)

	h := c.CreditHistory
	add(FactorCreditHistory, historyPoints(m.CreditHistory, h), m.CreditHistory.OnTimeMaxPoints,
		fmt.Sprintf("%s, %s, %s", count(h.OnTimePayments, "on-time payment"), count(h.LatePayments, "late payment"), count(h.Defaults, "default")))

	net := c.Assets.Sub(c.Liabilities)
	add(FactorNetAssets, amountPoints(m.NetAssets, net), maxAmountPoints(m.NetAssets),
		"net assets "+calc.FormatMoney(net))
	return s
}

// estimatedInstalment is the monthly cost of the amount applied for: an
// annuity at the model's estimate rate over the months asked for (or the
// model's default), spread per month for a quarterly plan.
func estimatedInstalment(m DebtToIncomeModel, app plan.Application) decimal.Decimal {
	if !app.Amount.IsPositive() {
		return decimal.Zero
	}
	months := m.EstimateMonths
	if app.Terms > 0 {
		f := app.Frequency
		if f == "" {
			f = calc.Monthly
		}
		if mpp := f.MonthsPerPeriod(); mpp > 0 {
			months = app.Terms * mpp
		}
	}
	if months > calc.MaxTerms {
		months = calc.MaxTerms
	}
	a, err := calc.AnnuityPayment(app.Amount, m.EstimateAnnualRate, months, 12)
	if err != nil {
		// Only an amount the application's validation refuses gets here;
		// the estimate is then the straight monthly share.
		return app.Amount.DivRound(decimal.NewFromInt(int64(max(months, 1))), calc.MoneyPlaces)
	}
	return a
}

func agePoints(bands []AgeBand, age int) int {
	if len(bands) == 0 {
		return 0
	}
	pts := bands[0].Points
	for _, b := range bands {
		if age >= b.From {
			pts = b.Points
		}
	}
	return pts
}

func maxAgePoints(bands []AgeBand) int {
	best := 0
	for i, b := range bands {
		if i == 0 || b.Points > best {
			best = b.Points
		}
	}
	return best
}

func amountPoints(bands []AmountBand, v decimal.Decimal) int {
	if len(bands) == 0 {
		return 0
	}
	pts := bands[0].Points
	for _, b := range bands {
		if v.GreaterThanOrEqual(b.From) {
			pts = b.Points
		}
	}
	return pts
}

func maxAmountPoints(bands []AmountBand) int {
	best := 0
	for i, b := range bands {
		if i == 0 || b.Points > best {
			best = b.Points
		}
	}
	return best
}

func ratioPoints(m DebtToIncomeModel, dti decimal.Decimal) int {
	for _, b := range m.Bands {
		if dti.LessThanOrEqual(b.UpTo) {
			return b.Points
		}
	}
	return m.AbovePoints
}

func maxRatioPoints(m DebtToIncomeModel) int {
	best := m.AbovePoints
	for _, b := range m.Bands {
		best = max(best, b.Points)
	}
	return best
}

// occupationPoints returns the first category matching the occupation and
// its points, or "" and the unknown points.
func occupationPoints(m OccupationModel, occupation string) (string, int) {
	occ := strings.ToLower(strings.TrimSpace(occupation))
	if occ != "" {
		for _, c := range m.Categories {
			if occ == strings.ToLower(strings.TrimSpace(c.Name)) {
				return c.Name, c.Points
			}
			for _, k := range c.Keywords {
				if strings.Contains(occ, strings.ToLower(strings.TrimSpace(k))) {
					return c.Name, c.Points
				}
			}
		}
	}
	return "", m.UnknownPoints
}

func maxOccupationPoints(m OccupationModel) int {
	best := m.UnknownPoints
	for _, c := range m.Categories {
		best = max(best, c.Points)
	}
	return best
}

func historyPoints(m CreditHistoryModel, h plan.CreditHistory) int {
	onTime := min(h.OnTimePayments*m.OnTimePoints, m.OnTimeMaxPoints)
	return onTime + h.LatePayments*m.LatePoints + h.Defaults*m.DefaultPoints
}

// percent formats a fraction as a percentage with at most one decimal:
// 0.6234 -> "62.3%", 0.5 -> "50%".
func percent(fraction decimal.Decimal) string {
	return fraction.Mul(decimal.NewFromInt(100)).Round(1).String() + "%"
}
