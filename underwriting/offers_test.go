package underwriting

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/fenqi/fenqi/calc"
	"github.com/fenqi/fenqi/plan"
)

// approvedApp returns an approved application of an example customer.
func approvedApp(t *testing.T, p Policy, file, amount string, terms int, prefs plan.Preferences) (plan.Application, Assessment) {
	t.Helper()
	app := application(t, loadCustomer(t, file), amount, terms)
	app.Preferences = prefs
	a := Assess(p, app)
	if a.Decision != DecisionApproved {
		t.Fatalf("%s: %s %q", file, a.Decision, a.Reasons)
	}
	return app, a
}

func TestOffersShapedByPreferences(t *testing.T) {
	p := DefaultPolicy()
	tests := []struct {
		name  string
		file  string
		terms int
		prefs plan.Preferences
		check func(t *testing.T, offers []plan.Offer)
	}{
		{"lowest cost first", "strong", 12, plan.Preferences{Priority: PriorityLowestCost}, func(t *testing.T, o []plan.Offer) {
			for i := 1; i < len(o); i++ {
				if o[i].TotalCost.LessThan(o[i-1].TotalCost) {
					t.Errorf("offer %d costs %s, less than offer %d's %s", o[i].No, o[i].TotalCost, o[i-1].No, o[i-1].TotalCost)
				}
			}
		}},
		{"lowest instalment first", "average", 12, plan.Preferences{Priority: PriorityLowestInstalment}, func(t *testing.T, o []plan.Offer) {
			for i := 1; i < len(o); i++ {
				if o[i].Instalment.LessThan(o[i-1].Instalment) {
					t.Errorf("offer %d instalment %s, less than offer %d's %s", o[i].No, o[i].Instalment, o[i-1].No, o[i-1].Instalment)
				}
			}
		}},
		{"no priority: shortest first", "strong", 12, plan.Preferences{}, func(t *testing.T, o []plan.Offer) {
			for i := 1; i < len(o); i++ {
				if o[i].Terms*o[i].Frequency.MonthsPerPeriod() < o[i-1].Terms*o[i-1].Frequency.MonthsPerPeriod() {
					t.Errorf("offer %d is shorter than offer %d", o[i].No, o[i-1].No)
				}
			}
		}},
		{"quarterly preferred", "strong", 0, plan.Preferences{Frequency: calc.Quarterly}, func(t *testing.T, o []plan.Offer) {
			for _, x := range o {
				if x.Frequency != calc.Quarterly || !strings.Contains(x.Label, "quarterly instalments") {
					t.Errorf("offer %d is %s (%q), want quarterly", x.No, x.Frequency, x.Label)
				}
			}
		}},
		{"quarterly preferred, tier C", "average", 0, plan.Preferences{Frequency: calc.Quarterly}, func(t *testing.T, o []plan.Offer) {
			for _, x := range o {
				if x.Frequency != calc.Quarterly {
					t.Errorf("offer %d is %s, want quarterly", x.No, x.Frequency)
				}
			}
		}},
		{"terms asked for are offered", "strong", 18, plan.Preferences{}, func(t *testing.T, o []plan.Offer) {
			n := 0
			for _, x := range o {
				if x.Terms == 18 && x.Frequency == calc.Monthly {
					n++
				}
			}
			if n < 2 {
				t.Errorf("%d offers over 18 months, want the main product and others", n)
			}
		}},
		{"monthly by default with the 免息 promotion for tier A", "strong", 12, plan.Preferences{}, func(t *testing.T, o []plan.Offer) {
			zero := false
			for _, x := range o {
				if x.Frequency != calc.Monthly {
					t.Errorf("offer %d is %s", x.No, x.Frequency)
				}
				zero = zero || x.Method == calc.MethodZero
			}
			if !zero {
				t.Error("tier A offers no zero-interest plan")
			}
		}},
		{"annuity labelled", "average", 12, plan.Preferences{}, func(t *testing.T, o []plan.Offer) {
			found := false
			for _, x := range o {
				if x.Method == calc.MethodAnnuity && x.Terms == 12 {
					found = x.Label == "12 monthly instalments, equal instalments (等额本息) at 14.40% a year"
					if !found {
						t.Errorf("label %q", x.Label)
					}
				}
			}
			if !found {
				t.Error("no 12-month annuity")
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			amount := "20000.00"
			if tt.file == "average" {
				amount = "12000.00"
			}
			app, a := approvedApp(t, p, tt.file, amount, tt.terms, tt.prefs)
			offers, err := Offers(p, app, a, InitialRequest(app))
			if err != nil {
				t.Fatal(err)
			}
			checkOffers(t, p, a, offers)
			for _, o := range offers {
				if !o.Amount.Equal(app.Amount) {
					t.Errorf("offer %d lends %s, asked %s within the limit", o.No, o.Amount, app.Amount)
				}
			}
			tt.check(t, offers)
		})
	}
}

func TestShorterAndLongerTerms(t *testing.T) {
	p := DefaultPolicy()
	span := func(prefs plan.Preferences) (lo, hi int) {
		app, a := approvedApp(t, p, "strong", "30000.00", 0, prefs)
		offers, err := Offers(p, app, a, InitialRequest(app))
		if err != nil {
			t.Fatal(err)
		}
		checkOffers(t, p, a, offers)
		lo, hi = 1<<30, 0
		for _, o := range offers {
			m := o.Terms * o.Frequency.MonthsPerPeriod()
			lo, hi = min(lo, m), max(hi, m)
		}
		return lo, hi
	}
	sLo, sHi := span(plan.Preferences{Term: TermShorter})
	lLo, lHi := span(plan.Preferences{Term: TermLonger})
	if sLo != p.Offers.MinMonths {
		t.Errorf("shorter: shortest offer %d months, want %d", sLo, p.Offers.MinMonths)
	}
	if tierA, _ := p.Tier("A"); lHi != tierA.MaxMonths {
		t.Errorf("longer: longest offer %d months, want the tier's %d", lHi, tierA.MaxMonths)
	}
	if sHi >= lHi || sLo >= lLo {
		t.Errorf("shorter spans %d..%d months, longer %d..%d", sLo, sHi, lLo, lHi)
	}
}

func TestAmountCappedAtTheLimit(t *testing.T) {
	p := DefaultPolicy()
	app, a := approvedApp(t, p, "average", "12000.00", 12, plan.Preferences{})
	app.Amount = a.CreditLimit.Add(dec("5000"))
	offers, err := Offers(p, app, a, InitialRequest(app))
	if err != nil {
		t.Fatal(err)
	}
	checkOffers(t, p, a, offers)
	for _, o := range offers {
		if !o.Amount.Equal(a.CreditLimit) {
			t.Errorf("offer %d lends %s, want the limit %s", o.No, o.Amount, a.CreditLimit)
		}
		if !strings.Contains(o.Label, "amount reduced to your credit limit of "+calc.FormatMoney(a.CreditLimit)) {
			t.Errorf("offer %d label %q does not say the amount was capped", o.No, o.Label)
		}
	}
}

func TestOffersDropPlansAboveTheRateCap(t *testing.T) {
	p := DefaultPolicy()
	p.RateCap.Max = dec("7") // below tier A's 7.20% contract rate
	p.RateCap.Flag = dec("4")
	app, a := approvedApp(t, p, "strong", "20000.00", 12, plan.Preferences{})
	offers, err := Offers(p, app, a, InitialRequest(app))
	if err != nil {
		t.Fatal(err)
	}
	checkOffers(t, p, a, offers)
	for _, o := range offers {
		if o.AnnualRate.IsPositive() {
			t.Errorf("offer %d (%s at %s) is above the 7%% cap", o.No, o.Method, o.APRNominal)
		}
	}

	// A cap no plan of the tier can meet leaves nothing to offer.
	c := DefaultPolicy()
	c.RateCap.Max, c.RateCap.Flag = dec("5"), dec("4")
	app, a = approvedApp(t, c, "average", "12000.00", 12, plan.Preferences{})
	_, err = Offers(c, app, a, InitialRequest(app))
	var r *Refusal
	if !errors.As(err, &r) {
		t.Fatalf("err %v, want a refusal", err)
	}
}

func TestInterestOnlyOnlyShort(t *testing.T) {
	p := DefaultPolicy()
	app, a := approvedApp(t, p, "strong", "20000.00", 6, plan.Preferences{})
	offers, err := Offers(p, app, a, InitialRequest(app))
	if err != nil {
		t.Fatal(err)
	}
	checkOffers(t, p, a, offers)
	found := false
	for _, o := range offers {
		found = found || (o.Method == calc.MethodInterestOnly && o.Terms == 6)
	}
	if !found {
		t.Errorf("a 6-month request of tier A offers no interest-only plan: %+v", offers)
	}
}

func TestOffersRefusedOrFailing(t *testing.T) {
	p := DefaultPolicy()
	app := application(t, loadCustomer(t, "risky"), "20000.00", 12)
	a := Assess(p, app)
	var r *Refusal
	if _, err := Offers(p, app, a, InitialRequest(app)); !errors.As(err, &r) || !strings.Contains(r.Reason, "declined") {
		t.Errorf("offers on a declined assessment: %v", err)
	}

	app, a = approvedApp(t, p, "strong", "20000.00", 12, plan.Preferences{})
	bad := a
	bad.Tier = "Z"
	_, err := Offers(p, app, bad, InitialRequest(app))
	if err == nil || errors.As(err, &r) || !strings.Contains(err.Error(), `tier "Z"`) {
		t.Errorf("unknown tier: %v, want a plain error naming the tier", err)
	}
	req := InitialRequest(app)
	req.Frequency = "weekly"
	if _, err := Offers(p, app, a, req); err == nil || errors.As(err, &r) {
		t.Errorf("unknown frequency: %v, want a plain error", err)
	}
	req = InitialRequest(app)
	req.Amount = dec("100")
	if _, err := Offers(p, app, a, req); !errors.As(err, &r) || r.Reason != "We cannot lend 100.00: the smallest plan we offer is 500.00." {
		t.Errorf("small amount: %v", err)
	}
}

func TestOffersAreDeterministic(t *testing.T) {
	p := DefaultPolicy()
	app, a := approvedApp(t, p, "strong", "45000.00", 0, plan.Preferences{Priority: PriorityLowestCost})
	x, err1 := Offers(p, app, a, InitialRequest(app))
	y, err2 := Offers(p, app, a, InitialRequest(app))
	if err1 != nil || err2 != nil || !reflect.DeepEqual(x, y) {
		t.Errorf("two offer sets differ: %v %v", err1, err2)
	}
}
