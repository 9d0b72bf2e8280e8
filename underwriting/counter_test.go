package underwriting

import (
	"errors"
	"fmt"
	"regexp"
	"testing"

	"github.com/fenqi/fenqi/calc"
	"github.com/fenqi/fenqi/plan"
)

func TestCounterRequestMerges(t *testing.T) {
	app := application(t, midCustomer(), "10000.00", 12)
	current := []plan.Offer{{No: 1, Amount: dec("8000"), Terms: 12, Frequency: calc.Monthly}}
	tests := []struct {
		name    string
		current []plan.Offer
		c       plan.CounterOfferRequest
		want    OfferRequest
	}{
		{"amount only", current, plan.CounterOfferRequest{Amount: dec("9000")},
			OfferRequest{Amount: dec("9000"), Terms: 12, Counter: true}},
		{"terms only keeps the amount on the table", current, plan.CounterOfferRequest{Terms: 24},
			OfferRequest{Amount: dec("8000"), Terms: 24, Counter: true}},
		{"no current offers: the application's amount", nil, plan.CounterOfferRequest{Terms: 24},
			OfferRequest{Amount: dec("10000"), Terms: 24, Counter: true}},
		{"max instalment", current, plan.CounterOfferRequest{MaxInstalment: dec("500")},
			OfferRequest{Amount: dec("8000"), Terms: 12, MaxInstalment: dec("500"), Counter: true}},
		{"quarterly converts 12 months to 4 quarters", current, plan.CounterOfferRequest{Frequency: calc.Quarterly},
			OfferRequest{Amount: dec("8000"), Terms: 4, Frequency: calc.Quarterly, Counter: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := CounterRequest(app, tt.current, tt.c)
			if !got.Amount.Equal(tt.want.Amount) || got.Terms != tt.want.Terms || got.Frequency != tt.want.Frequency ||
				!got.MaxInstalment.Equal(tt.want.MaxInstalment) || got.Counter != tt.want.Counter {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
	app.Terms = 7
	if got := CounterRequest(app, nil, plan.CounterOfferRequest{Frequency: calc.Quarterly}); got.Terms != 0 {
		t.Errorf("7 months in quarters: terms %d, want 0 (the offers choose)", got.Terms)
	}
}

func TestCounterOffersWithinPolicy(t *testing.T) {
	p := DefaultPolicy()
	app, a := approvedApp(t, p, "strong", "30000.00", 12, plan.Preferences{})
	current, err := Offers(p, app, a, InitialRequest(app))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		c     plan.CounterOfferRequest
		check func(t *testing.T, o plan.Offer)
	}{
		{"more money", plan.CounterOfferRequest{Amount: dec("100000")}, func(t *testing.T, o plan.Offer) {
			if !o.Amount.Equal(dec("100000")) {
				t.Errorf("offer %d lends %s", o.No, o.Amount)
			}
		}},
		{"longer", plan.CounterOfferRequest{Terms: 24}, func(t *testing.T, o plan.Offer) {}},
		{"quarterly", plan.CounterOfferRequest{Frequency: calc.Quarterly}, func(t *testing.T, o plan.Offer) {
			if o.Frequency != calc.Quarterly {
				t.Errorf("offer %d is %s", o.No, o.Frequency)
			}
		}},
		{"affordable instalment", plan.CounterOfferRequest{MaxInstalment: dec("1500")}, func(t *testing.T, o plan.Offer) {
			if h := highestInstalment(t, o); h.GreaterThan(dec("1500")) {
				t.Errorf("offer %d has an instalment of %s above 1500", o.No, h)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := CounterRequest(app, current, tt.c)
			offers, err := Offers(p, app, a, req)
			if err != nil {
				t.Fatal(err)
			}
			checkOffers(t, p, a, offers)
			if tt.c.Terms > 0 {
				found := false
				for _, o := range offers {
					found = found || o.Terms == tt.c.Terms
				}
				if !found {
					t.Errorf("no offer over the %d terms asked for", tt.c.Terms)
				}
			}
			for _, o := range offers {
				tt.check(t, o)
			}
		})
	}
}

func TestCounterOfferRefusals(t *testing.T) {
	p := DefaultPolicy()
	app, a := approvedApp(t, p, "average", "12000.00", 12, plan.Preferences{})
	tier, _ := p.Tier(a.Tier)
	current, err := Offers(p, app, a, InitialRequest(app))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		c      plan.CounterOfferRequest
		reason string
	}{
		{"above the limit", plan.CounterOfferRequest{Amount: dec("90000")},
			fmt.Sprintf("We cannot lend 90000.00: your credit limit is %s.", calc.FormatMoney(a.CreditLimit))},
		{"below the minimum", plan.CounterOfferRequest{Amount: dec("200")},
			"We cannot lend 200.00: the smallest plan we offer is 500.00."},
		{"too long", plan.CounterOfferRequest{Terms: 48},
			fmt.Sprintf("We cannot spread the plan over 48 months: the longest plan we can offer you is %d months.", tier.MaxMonths)},
		{"too long in quarters", plan.CounterOfferRequest{Terms: 12, Frequency: calc.Quarterly},
			fmt.Sprintf("We cannot spread the plan over 36 months: the longest plan we can offer you is %d months.", tier.MaxMonths)},
		{"too short", plan.CounterOfferRequest{Terms: 2},
			"We cannot spread the plan over 2 months: the shortest plan we offer is 3 months."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Offers(p, app, a, CounterRequest(app, current, tt.c))
			var r *Refusal
			if !errors.As(err, &r) {
				t.Fatalf("err %v, want a *Refusal", err)
			}
			if r.Reason != tt.reason || err.Error() != tt.reason {
				t.Errorf("reason %q, want %q", r.Reason, tt.reason)
			}
		})
	}
}

// An instalment too low is refused with the lowest one possible, and
// asking for exactly that lowest instalment is granted.
func TestCounterOfferInstalmentTooLow(t *testing.T) {
	p := DefaultPolicy()
	app, a := approvedApp(t, p, "average", "12000.00", 12, plan.Preferences{})
	_, err := Offers(p, app, a, CounterRequest(app, nil, plan.CounterOfferRequest{MaxInstalment: dec("100")}))
	var r *Refusal
	if !errors.As(err, &r) {
		t.Fatalf("err %v, want a *Refusal", err)
	}
	m := regexp.MustCompile(`^No plan within policy has an instalment at or below 100\.00: the lowest we can offer is (\d+\.\d\d) over (\d+) months\.$`).FindStringSubmatch(r.Reason)
	if m == nil {
		t.Fatalf("reason %q", r.Reason)
	}
	tier, _ := p.Tier(a.Tier)
	if m[2] != fmt.Sprint(tier.MaxMonths) {
		t.Errorf("the lowest instalment is over %s months, want the longest plan, %d", m[2], tier.MaxMonths)
	}
	offers, err := Offers(p, app, a, CounterRequest(app, nil, plan.CounterOfferRequest{MaxInstalment: dec(m[1])}))
	if err != nil {
		t.Fatalf("asking for the quoted lowest instalment %s: %v", m[1], err)
	}
	for _, o := range offers {
		if h := highestInstalment(t, o); h.GreaterThan(dec(m[1])) {
			t.Errorf("offer %d instalment %s above %s", o.No, h, m[1])
		}
	}
}
