package underwriting

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/fenqi/fenqi/calc"
	"github.com/fenqi/fenqi/plan"
)

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// loadCustomer reads examples/customers/<name>.json strictly, so that a
// misspelt field in an example fails the test.
func loadCustomer(t *testing.T, name string) plan.Customer {
	t.Helper()
	path := filepath.Join("..", "examples", "customers", name+".json")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	var c plan.Customer
	if err := d.Decode(&c); err != nil {
		t.Fatalf("decode %s: %v", path, err)
	}
	return c
}

// application builds a valid application for c.
func application(t *testing.T, c plan.Customer, amount string, terms int) plan.Application {
	t.Helper()
	app := plan.Application{RequestID: "req-" + c.Ref, Customer: c, Amount: dec(amount), Terms: terms}.Normalized()
	if err := app.Validate(); err != nil {
		t.Fatalf("application for %s: %v", c.Ref, err)
	}
	return app
}

// midCustomer is a plain mid-range profile the factor tests vary.
func midCustomer() plan.Customer {
	return plan.Customer{
		Ref: "mid-1", Name: "测试 (demo)", Age: 40, Occupation: "office clerk",
		MonthlyIncome: dec("8000"), MonthlyDebtPayments: dec("800"),
		Assets: dec("60000"), Liabilities: dec("20000"), MonthlySpend: dec("4000"),
		CreditHistory: plan.CreditHistory{OnTimePayments: 20, LatePayments: 1},
	}
}

// borderlineCustomer lands in the review band of the default policy.
func borderlineCustomer() plan.Customer {
	return plan.Customer{
		Ref: "border-1", Name: "赵六 (demo)", Age: 30, Occupation: "self-employed shop owner",
		MonthlyIncome: dec("6000"), MonthlyDebtPayments: dec("1000"),
		Assets: dec("10000"), Liabilities: dec("5000"), MonthlySpend: dec("3500"),
		CreditHistory: plan.CreditHistory{OnTimePayments: 10, LatePayments: 1},
	}
}

func factor(t *testing.T, a Assessment, name string) int {
	t.Helper()
	for _, f := range a.Factors {
		if f.Name == name {
			return f.Points
		}
	}
	t.Fatalf("assessment has no factor %q: %+v", name, a.Factors)
	return 0
}

// checkOffers asserts what every offer set must satisfy: at least three,
// numbered from 1, within the limit, the tier, the rate cap, and every
// disclosed figure equal to calc's to the cent on any start date.
func checkOffers(t *testing.T, p Policy, a Assessment, offers []plan.Offer) {
	t.Helper()
	if len(offers) < 3 || len(offers) > p.Offers.MaxOffers {
		t.Fatalf("got %d offers, want 3..%d", len(offers), p.Offers.MaxOffers)
	}
	tier, ok := p.Tier(a.Tier)
	if !ok {
		t.Fatalf("assessment tier %q not in policy", a.Tier)
	}
	other, _ := calc.NewDate(2026, 3, 31)
	seen := map[string]bool{}
	for i, o := range offers {
		if o.No != i+1 {
			t.Errorf("offer %d numbered %d", i+1, o.No)
		}
		key := string(o.Method) + string(o.Frequency) + decimal.NewFromInt(int64(o.Terms)).String()
		if seen[key] {
			t.Errorf("offer %d repeats %s", o.No, key)
		}
		seen[key] = true
		if o.Amount.GreaterThan(a.CreditLimit) {
			t.Errorf("offer %d lends %s above the limit %s", o.No, o.Amount, a.CreditLimit)
		}
		if o.Amount.LessThan(p.Offers.MinAmount) {
			t.Errorf("offer %d lends %s below the minimum", o.No, o.Amount)
		}
		if !tier.Allows(o.Method) {
			t.Errorf("offer %d: method %s not a product of tier %s", o.No, o.Method, tier.Name)
		}
		months := o.Terms * o.Frequency.MonthsPerPeriod()
		if months > tier.MaxMonths || months < p.Offers.MinMonths {
			t.Errorf("offer %d runs %d months, outside %d..%d", o.No, months, p.Offers.MinMonths, tier.MaxMonths)
		}
		if o.Method == calc.MethodInterestOnly && months > p.Offers.InterestOnlyMaxMonths {
			t.Errorf("offer %d: interest-only over %d months", o.No, months)
		}
		switch o.Method {
		case calc.MethodFee:
			if !o.MonthlyFeeRate.Equal(tier.MonthlyFeeRate) || !o.AnnualRate.IsZero() {
				t.Errorf("offer %d: fee plan rates %s/%s, want tier fee %s", o.No, o.AnnualRate, o.MonthlyFeeRate, tier.MonthlyFeeRate)
			}
		case calc.MethodZero:
			if !o.MonthlyFeeRate.IsZero() || !o.AnnualRate.IsZero() || !o.TotalCost.IsZero() {
				t.Errorf("offer %d: zero-interest plan costs %s", o.No, o.TotalCost)
			}
		default:
			if !o.AnnualRate.Equal(tier.AnnualRate) {
				t.Errorf("offer %d: annual rate %s, want tier %s", o.No, o.AnnualRate, tier.AnnualRate)
			}
		}
		if o.Label == "" {
			t.Errorf("offer %d has no label", o.No)
		}
		if _, err := p.RateCap.Check(o.APRNominal); err != nil {
			t.Errorf("offer %d above the cap: %v", o.No, err)
		}
		for _, start := range []calc.Date{ReferenceStart, other} {
			s, err := calc.BuildSchedule(o.CalcTerms(start))
			if err != nil {
				t.Fatalf("offer %d: recompute: %v", o.No, err)
			}
			for _, c := range []struct {
				name       string
				got, wants decimal.Decimal
			}{
				{"instalment", o.Instalment, s.Rows[0].Payment},
				{"total cost", o.TotalCost, s.TotalInterest.Add(s.TotalFee)},
				{"total payment", o.TotalPayment, s.TotalPayment},
				{"nominal rate", o.APRNominal, s.APRNominal},
				{"effective rate", o.APREffective, s.APREffective},
			} {
				if !c.got.Equal(c.wants) {
					t.Errorf("offer %d (start %s): %s %s, calc says %s", o.No, start, c.name, c.got, c.wants)
				}
			}
			if !o.TotalPayment.Equal(o.Amount.Add(o.TotalCost)) {
				t.Errorf("offer %d: total payment %s != amount %s + cost %s", o.No, o.TotalPayment, o.Amount, o.TotalCost)
			}
		}
	}
}

// highestInstalment is the largest payment of the offer's schedule.
func highestInstalment(t *testing.T, o plan.Offer) decimal.Decimal {
	t.Helper()
	s, err := calc.BuildSchedule(o.CalcTerms(ReferenceStart))
	if err != nil {
		t.Fatal(err)
	}
	h := decimal.Zero
	for _, r := range s.Rows {
		h = decimal.Max(h, r.Payment)
	}
	return h
}
