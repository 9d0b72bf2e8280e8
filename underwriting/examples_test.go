package underwriting

import (
	"strings"
	"testing"

	"github.com/shopspring/decimal"
)

// The three example customers come out as documented: strong approved in
// tier A with a high limit, average approved in B or C, risky declined with
// readable reasons.
func TestExampleCustomers(t *testing.T) {
	p := DefaultPolicy()
	tests := []struct {
		file     string
		amount   string
		decision string
		tiers    []string
		minLimit string
	}{
		{"strong", "50000.00", DecisionApproved, []string{"A"}, "50000"},
		{"average", "15000.00", DecisionApproved, []string{"B", "C"}, "5000"},
		{"risky", "20000.00", DecisionDeclined, []string{""}, "0"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			app := application(t, loadCustomer(t, tt.file), tt.amount, 12)
			a := Assess(p, app)
			t.Logf("%s: score %d tier %q limit %s decision %s reasons %q", tt.file, a.Score, a.Tier, a.CreditLimit, a.Decision, a.Reasons)
			if a.Decision != tt.decision {
				t.Fatalf("decision %s, want %s (score %d, reasons %q)", a.Decision, tt.decision, a.Score, a.Reasons)
			}
			okTier := false
			for _, tier := range tt.tiers {
				okTier = okTier || a.Tier == tier
			}
			if !okTier {
				t.Errorf("tier %q, want one of %q", a.Tier, tt.tiers)
			}
			if a.CreditLimit.LessThan(dec(tt.minLimit)) {
				t.Errorf("limit %s, want at least %s", a.CreditLimit, tt.minLimit)
			}
			sum := 0
			for _, f := range a.Factors {
				sum += f.Points
			}
			if sum != a.Score {
				t.Errorf("factors sum to %d, score %d", sum, a.Score)
			}
			switch a.Decision {
			case DecisionApproved:
				if len(a.Reasons) != 0 {
					t.Errorf("approved with reasons %q", a.Reasons)
				}
				offers, err := Offers(p, app, a, InitialRequest(app))
				if err != nil {
					t.Fatalf("offers: %v", err)
				}
				checkOffers(t, p, a, offers)
			default:
				if len(a.Reasons) == 0 {
					t.Fatal("declined without reasons")
				}
				for _, r := range a.Reasons {
					if !strings.HasSuffix(r, ".") || !strings.HasPrefix(r, "Your") {
						t.Errorf("reason %q is not a sentence addressed to the customer", r)
					}
				}
				if !a.CreditLimit.Equal(decimal.Zero) {
					t.Errorf("declined with a limit of %s", a.CreditLimit)
				}
			}
		})
	}
}

func TestRiskyReasonsNameTheRules(t *testing.T) {
	a := Assess(DefaultPolicy(), application(t, loadCustomer(t, "risky"), "20000.00", 12))
	all := strings.Join(a.Reasons, "\n")
	for _, want := range []string{"of your income; the most we can accept is 50%.", "1 defaulted loan", "credit score of"} {
		if !strings.Contains(all, want) {
			t.Errorf("reasons %q lack %q", a.Reasons, want)
		}
	}
}

func TestStrongLimitWellAbove20000(t *testing.T) {
	a := Assess(DefaultPolicy(), application(t, loadCustomer(t, "strong"), "50000.00", 12))
	if !a.CreditLimit.GreaterThanOrEqual(dec("100000")) {
		t.Errorf("strong limit %s, want well above 20000", a.CreditLimit)
	}
}
