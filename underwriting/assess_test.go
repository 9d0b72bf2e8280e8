package underwriting

import (
	"reflect"
	"strings"
	"testing"

	"github.com/fenqi/fenqi/plan"
)

// Every factor moves its own points and the score in the right direction.
func TestFactorsMoveTheScore(t *testing.T) {
	p := DefaultPolicy()
	const better, worse = +1, -1
	tests := []struct {
		name   string
		factor string
		dir    int
		change func(app *plan.Application)
	}{
		{"younger applicant", FactorAge, worse, func(a *plan.Application) { a.Customer.Age = 23 }},
		{"older applicant", FactorAge, worse, func(a *plan.Application) { a.Customer.Age = 62 }},
		{"professional", FactorOccupation, better, func(a *plan.Application) { a.Customer.Occupation = "Software Engineer" }},
		{"civil servant", FactorOccupation, better, func(a *plan.Application) { a.Customer.Occupation = "公务员" }},
		{"gig worker", FactorOccupation, worse, func(a *plan.Application) { a.Customer.Occupation = "delivery rider" }},
		{"student", FactorOccupation, worse, func(a *plan.Application) { a.Customer.Occupation = "university student" }},
		{"unknown occupation", FactorOccupation, worse, func(a *plan.Application) { a.Customer.Occupation = "" }},
		{"higher income", FactorIncome, better, func(a *plan.Application) { a.Customer.MonthlyIncome = dec("12000") }},
		{"lower income", FactorIncome, worse, func(a *plan.Application) { a.Customer.MonthlyIncome = dec("4000") }},
		{"more existing debt", FactorDebtToIncome, worse, func(a *plan.Application) { a.Customer.MonthlyDebtPayments = dec("2500") }},
		{"no existing debt", FactorDebtToIncome, better, func(a *plan.Application) { a.Customer.MonthlyDebtPayments = dec("0") }},
		{"larger amount applied for", FactorDebtToIncome, worse, func(a *plan.Application) { a.Amount = dec("30000") }},
		{"longer terms applied for", FactorDebtToIncome, better, func(a *plan.Application) { a.Terms = 36 }},
		{"more on-time payments", FactorCreditHistory, better, func(a *plan.Application) { a.Customer.CreditHistory.OnTimePayments = 60 }},
		{"more late payments", FactorCreditHistory, worse, func(a *plan.Application) { a.Customer.CreditHistory.LatePayments = 3 }},
		{"a default", FactorCreditHistory, worse, func(a *plan.Application) { a.Customer.CreditHistory.Defaults = 1 }},
		{"more assets", FactorNetAssets, better, func(a *plan.Application) { a.Customer.Assets = dec("300000") }},
		{"more liabilities", FactorNetAssets, worse, func(a *plan.Application) { a.Customer.Liabilities = dec("100000") }},
	}
	base := application(t, midCustomer(), "10000.00", 12)
	ref := Assess(p, base)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := base
			tt.change(&app)
			got := Assess(p, app)
			df := factor(t, got, tt.factor) - factor(t, ref, tt.factor)
			ds := got.Score - ref.Score
			if df*tt.dir <= 0 {
				t.Errorf("factor %s moved by %d, want direction %+d", tt.factor, df, tt.dir)
			}
			if ds*tt.dir <= 0 {
				t.Errorf("score moved by %d (%d -> %d), want direction %+d", ds, ref.Score, got.Score, tt.dir)
			}
		})
	}
}

func TestHardDeclineRules(t *testing.T) {
	p := DefaultPolicy()
	tests := []struct {
		name   string
		change func(app *plan.Application)
		reason string
	}{
		{"too young", func(a *plan.Application) { a.Customer.Age = 19 }, "You must be at least 20 years old for this credit; you are 19."},
		{"too old", func(a *plan.Application) { a.Customer.Age = 70 }, "This credit is available up to the age of 65; you are 70."},
		{"income too low", func(a *plan.Application) { a.Customer.MonthlyIncome = dec("1800") }, "Your monthly income of 1800.00 is below the minimum of 2000.00 we need."},
		{"no income", func(a *plan.Application) { a.Customer.MonthlyIncome = dec("0") }, "You have no monthly income to repay this plan from."},
		{"debt-to-income too high", func(a *plan.Application) { a.Customer.MonthlyDebtPayments = dec("3500") },
			"Your monthly debt payments, including about 902.58 for this plan, would take 55% of your income; the most we can accept is 50%."},
		{"a default", func(a *plan.Application) { a.Customer.CreditHistory.Defaults = 1 }, "Your credit record shows 1 defaulted loan; we cannot accept any defaulted loan."},
		{"too many late payments", func(a *plan.Application) { a.Customer.CreditHistory.LatePayments = 7 }, "Your credit record shows 7 late payments; the most we can accept is 6."},
	}
	base := application(t, midCustomer(), "10000.00", 12)
	if a := Assess(p, base); a.Decision == DecisionDeclined {
		t.Fatalf("the base profile must not be declined: %q", a.Reasons)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := base
			tt.change(&app)
			a := Assess(p, app)
			if a.Decision != DecisionDeclined {
				t.Fatalf("decision %s, want declined", a.Decision)
			}
			if a.Tier != "" || !a.CreditLimit.IsZero() {
				t.Errorf("declined with tier %q and limit %s", a.Tier, a.CreditLimit)
			}
			found := false
			for _, r := range a.Reasons {
				found = found || r == tt.reason
			}
			if !found {
				t.Errorf("reasons %q lack %q", a.Reasons, tt.reason)
			}
		})
	}
}

// Loosening a rule in the policy lifts its decline.
func TestLoosenedRuleNoLongerDeclines(t *testing.T) {
	p := DefaultPolicy()
	app := application(t, midCustomer(), "10000.00", 12)
	app.Customer.Age = 19
	if a := Assess(p, app); a.Decision != DecisionDeclined {
		t.Fatalf("age 19 under the default policy: %s", a.Decision)
	}
	p.Decline.MinAge = 18
	if a := Assess(p, app); a.Decision == DecisionDeclined {
		t.Errorf("age 19 with min_age 18 still declined: %q", a.Reasons)
	}
}

func TestLowScoreDeclinesWithTheWeakestFactors(t *testing.T) {
	c := midCustomer()
	c.Occupation = "unemployed"
	c.MonthlyIncome = dec("2500")
	c.MonthlyDebtPayments = dec("200")
	c.CreditHistory = plan.CreditHistory{OnTimePayments: 0, LatePayments: 5}
	c.Assets, c.Liabilities = dec("0"), dec("30000")
	a := Assess(DefaultPolicy(), application(t, c, "3000.00", 12))
	if a.Decision != DecisionDeclined || a.Score >= DefaultPolicy().ReviewMin {
		t.Fatalf("decision %s score %d, want declined below %d", a.Decision, a.Score, DefaultPolicy().ReviewMin)
	}
	if len(a.Reasons) != 1 || !strings.HasPrefix(a.Reasons[0], "Your credit score of ") ||
		!strings.Contains(a.Reasons[0], "What lowered it most: your credit history") {
		t.Errorf("reasons %q", a.Reasons)
	}
}

func TestReviewBand(t *testing.T) {
	p := DefaultPolicy()
	app := application(t, borderlineCustomer(), "5000.00", 12)
	a := Assess(p, app)
	t.Logf("borderline: score %d, factors %+v", a.Score, a.Factors)
	if a.Decision != DecisionReview {
		t.Fatalf("decision %s (score %d), want review in %d..%d", a.Decision, a.Score, p.ReviewMin, p.ApproveMin-1)
	}
	if low := p.Tiers[len(p.Tiers)-1]; a.Tier != low.Name || !a.CreditLimit.IsPositive() {
		t.Errorf("review tier %q limit %s, want the lowest tier %s with a limit", a.Tier, a.CreditLimit, low.Name)
	}
	if len(a.Reasons) == 0 || !strings.Contains(a.Reasons[0], "manual review") {
		t.Errorf("reasons %q", a.Reasons)
	}
	// An operator's approval makes offers on the review's tier.
	offers, err := Offers(p, app, a, InitialRequest(app))
	if err != nil {
		t.Fatal(err)
	}
	checkOffers(t, p, a, offers)

	// The band's edges: approve_min is approved, review_min is review,
	// below review_min is declined.
	edges := []struct {
		name             string
		reviewMin, appro int
		want             string
	}{
		{"at approve_min", a.Score - 10, a.Score, DecisionApproved},
		{"at review_min", a.Score, a.Score + 1, DecisionReview},
		{"below review_min", a.Score + 1, a.Score + 10, DecisionDeclined},
	}
	for _, e := range edges {
		t.Run(e.name, func(t *testing.T) {
			q := DefaultPolicy()
			q.ReviewMin, q.ApproveMin = e.reviewMin, e.appro
			q.Tiers[len(q.Tiers)-1].MinScore = min(q.Tiers[len(q.Tiers)-1].MinScore, e.appro)
			if got := Assess(q, app); got.Decision != e.want {
				t.Errorf("score %d with band %d..%d: %s, want %s", got.Score, e.reviewMin, e.appro, got.Decision, e.want)
			}
		})
	}
}

func TestCreditLimit(t *testing.T) {
	p := DefaultPolicy()
	a, _ := p.Tier("A")
	c, _ := p.Tier("C")
	tests := []struct {
		tier   Tier
		income string
		want   string
	}{
		{a, "30000", "120000"},
		{a, "60000", "200000"},    // capped at max_limit
		{c, "9050", "18100"},      // 2 x income
		{c, "9049.99", "18000"},   // rounded down to the 100.00 step
		{c, "100000", "30000.00"}, // capped
	}
	for _, tt := range tests {
		if got := creditLimit(p, tt.tier, dec(tt.income)); !got.Equal(dec(tt.want)) {
			t.Errorf("tier %s income %s: limit %s, want %s", tt.tier.Name, tt.income, got, tt.want)
		}
	}
}

func TestLimitBelowMinimumAmountDeclines(t *testing.T) {
	p := DefaultPolicy()
	p.Offers.MinAmount = dec("500000")
	a := Assess(p, application(t, loadCustomer(t, "strong"), "50000.00", 12))
	if a.Decision != DecisionDeclined || len(a.Reasons) != 1 || !strings.Contains(a.Reasons[0], "below the smallest plan we offer (500000.00)") {
		t.Errorf("decision %s reasons %q", a.Decision, a.Reasons)
	}
}

func TestAssessIsDeterministic(t *testing.T) {
	p := DefaultPolicy()
	for _, name := range []string{"strong", "average", "risky"} {
		app := application(t, loadCustomer(t, name), "20000.00", 12)
		if a, b := Assess(p, app), Assess(p, app); !reflect.DeepEqual(a, b) {
			t.Errorf("%s: two assessments differ:\n%+v\n%+v", name, a, b)
		}
	}
}

func TestOccupationMatching(t *testing.T) {
	m := DefaultPolicy().Score.Occupation
	tests := []struct{ occupation, category string }{
		{"Software engineer", "professional"},
		{"  SALARIED  ", "salaried"},
		{"unemployed", "unemployed"}, // not "employee"
		{"self-employed", "self_employed"},
		{"快递骑手", "gig_worker"},
		{"astronaut", ""},
	}
	for _, tt := range tests {
		if got, _ := occupationPoints(m, tt.occupation); got != tt.category {
			t.Errorf("occupation %q: category %q, want %q", tt.occupation, got, tt.category)
		}
	}
}
