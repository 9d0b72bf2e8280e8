package underwriting

import (
	"errors"
	"fmt"
	"sort"

	"github.com/shopspring/decimal"

	"github.com/fenqi/fenqi/calc"
	"github.com/fenqi/fenqi/plan"
)

// ReferenceStart is the start date of the schedules the offers' figures are
// computed on. An offer has no start date (its schedule starts at
// activation); the amounts and the annualised rates of monthly and
// quarterly plans do not depend on the start, so a neutral date is used:
// 2000-01-01.
var ReferenceStart = func() calc.Date {
	d, err := calc.NewDate(2000, 1, 1)
	if err != nil {
		panic(err)
	}
	return d
}()

// The priorities of plan.Preferences.Priority.
const (
	PriorityLowestCost       = "lowest_cost"
	PriorityLowestInstalment = "lowest_instalment"
)

// The term preferences of plan.Preferences.Term.
const (
	TermShorter = "shorter"
	TermLonger  = "longer"
)

// Offers returns the options put to the customer: at least
// p.Offers.MinOffers (three by default) whenever that many plans within
// policy meet the request, at most p.Offers.MaxOffers, numbered from 1.
//
// Every option lends the amount asked for, capped at the credit limit (the
// label says so; a counter-offer above the limit is refused instead), uses
// a product, price and term of the assessment's tier, is within the rate
// cap and, when req.MaxInstalment is set, has no instalment above it. Its
// figures come from calc.BuildSchedule started on ReferenceStart.
//
// The preferences shape the set: the frequency asked for (or else the
// preferred one) and terms around the terms asked for, the shortest terms
// for "shorter", the longest for "longer", and around
// p.Offers.DefaultMonths otherwise; the options are sorted by total cost
// for "lowest_cost", by instalment for "lowest_instalment", and by length
// otherwise.
//
// An assessment in review is offered on its (lowest) tier: call Offers once
// an operator has approved it. A declined assessment, and a request that no
// plan within policy can meet, return a *Refusal whose reason the customer
// can read; an assessment or request that makes no sense (a tier not in the
// policy, a negative amount) returns a plain error.
func Offers(p Policy, app plan.Application, a Assessment, req OfferRequest) ([]plan.Offer, error) {
	if a.Decision == DecisionDeclined {
		return nil, refuse("We cannot make you an offer: your application was declined.")
	}
	tier, ok := p.Tier(a.Tier)
	if !ok {
		return nil, fmt.Errorf("offers for application %q: tier %q is not in policy %s", app.RequestID, a.Tier, p.Name)
	}
	if err := checkRequest(req); err != nil {
		return nil, fmt.Errorf("offers for application %q: %w", app.RequestID, err)
	}

	amount := req.Amount
	if !amount.IsPositive() {
		amount = a.CreditLimit
	}
	cappedAt := decimal.Zero
	if amount.GreaterThan(a.CreditLimit) {
		if req.Counter {
			return nil, refuse("We cannot lend %s: your credit limit is %s.", calc.FormatMoney(amount), calc.FormatMoney(a.CreditLimit))
		}
		amount, cappedAt = a.CreditLimit, a.CreditLimit
	}
	if amount.LessThan(p.Offers.MinAmount) {
		return nil, refuse("We cannot lend %s: the smallest plan we offer is %s.", calc.FormatMoney(amount), calc.FormatMoney(p.Offers.MinAmount))
	}

	prefFreq, strict := req.Frequency, req.Frequency != ""
	if !strict {
		prefFreq = app.Preferences.Frequency
		if prefFreq == "" {
			prefFreq = calc.Monthly
		}
	}
	terms := req.Terms
	if terms > 0 {
		m := terms * prefFreq.MonthsPerPeriod()
		switch {
		case m > tier.MaxMonths && req.Counter:
			return nil, refuse("We cannot spread the plan over %s: the longest plan we can offer you is %s.", months(m), months(tier.MaxMonths))
		case m < p.Offers.MinMonths && req.Counter:
			return nil, refuse("We cannot spread the plan over %s: the shortest plan we offer is %s.", months(m), months(p.Offers.MinMonths))
		case m > tier.MaxMonths || m < p.Offers.MinMonths:
			terms = 0 // the application's terms are outside policy: offer ours
		}
	}

	freqs := []calc.Frequency{prefFreq}
	if !strict {
		for _, f := range calc.Frequencies {
			if f != prefFreq {
				freqs = append(freqs, f)
			}
		}
	}
	b := builder{p: p, tier: tier, amount: amount, prefFreq: prefFreq, terms: terms}
	pool, err := b.pool(freqs)
	if err != nil {
		return nil, fmt.Errorf("offers for application %q: %w", app.RequestID, err)
	}
	if len(pool) == 0 {
		return nil, refuse("No plan within our policy can lend %s as asked.", calc.FormatMoney(amount))
	}
	affordable := pool
	if req.MaxInstalment.IsPositive() {
		affordable = nil
		lowest := pool[0]
		for _, c := range pool {
			if c.highest.LessThanOrEqual(req.MaxInstalment) {
				affordable = append(affordable, c)
			}
			if c.highest.LessThan(lowest.highest) || (c.highest.Equal(lowest.highest) && c.months < lowest.months) {
				lowest = c
			}
		}
		if len(affordable) == 0 {
			return nil, refuse("No plan within policy has an instalment at or below %s: the lowest we can offer is %s over %s.",
				calc.FormatMoney(req.MaxInstalment), calc.FormatMoney(lowest.highest), months(lowest.months))
		}
	}

	chosen := b.choose(affordable, app.Preferences.Term)
	sortOffers(chosen, app.Preferences.Priority)
	out := make([]plan.Offer, len(chosen))
	for i, c := range chosen {
		c.offer.No = i + 1
		c.offer.Label = label(c.offer, cappedAt)
		out[i] = c.offer
	}
	return out, nil
}

func checkRequest(req OfferRequest) error {
	switch {
	case req.Amount.IsNegative():
		return fmt.Errorf("amount must not be negative, got %s", req.Amount)
	case req.MaxInstalment.IsNegative():
		return fmt.Errorf("max instalment must not be negative, got %s", req.MaxInstalment)
	case req.Terms < 0 || req.Terms > calc.MaxTerms:
		return fmt.Errorf("terms must be between 0 and %d, got %d", calc.MaxTerms, req.Terms)
	}
	if req.Frequency != "" {
		if err := req.Frequency.Validate(); err != nil {
			return fmt.Errorf("frequency: %w", err)
		}
	}
	return nil
}

// candidate is one plan within policy with its computed figures.
type candidate struct {
	offer plan.Offer
	// months is the plan's length; highest its largest instalment.
	months  int
	highest decimal.Decimal
	// method is the method's index in calc.Methods, for stable ordering.
	method int
}

func (c candidate) key() string {
	return fmt.Sprintf("%s/%d/%s", c.offer.Frequency, c.offer.Terms, c.offer.Method)
}

// sortOffers orders the options by the customer's priority; ties (and no
// priority) by length, then method.
func sortOffers(cs []candidate, priority string) {
	byLength := func(a, b candidate) bool {
		if a.months != b.months {
			return a.months < b.months
		}
		if a.offer.Frequency != b.offer.Frequency {
			return a.offer.Frequency < b.offer.Frequency
		}
		return a.method < b.method
	}
	sort.SliceStable(cs, func(i, j int) bool {
		a, b := cs[i].offer, cs[j].offer
		switch priority {
		case PriorityLowestCost:
			if !a.TotalCost.Equal(b.TotalCost) {
				return a.TotalCost.LessThan(b.TotalCost)
			}
			if !a.Instalment.Equal(b.Instalment) {
				return a.Instalment.LessThan(b.Instalment)
			}
		case PriorityLowestInstalment:
			if !a.Instalment.Equal(b.Instalment) {
				return a.Instalment.LessThan(b.Instalment)
			}
			if !a.TotalCost.Equal(b.TotalCost) {
				return a.TotalCost.LessThan(b.TotalCost)
			}
		}
		return byLength(cs[i], cs[j])
	})
}

// isRateCap reports whether err is the rate cap refusing a plan.
func isRateCap(err error) bool {
	var rc *calc.RateCapError
	return errors.As(err, &rc)
}
