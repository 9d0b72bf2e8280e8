package underwriting

import (
	"fmt"
	"slices"
	"sort"

	"github.com/shopspring/decimal"

	"github.com/fenqi/fenqi/calc"
	"github.com/fenqi/fenqi/plan"
)

// builder computes the plans within policy for one amount and tier and
// picks the offer set among them.
type builder struct {
	p        Policy
	tier     Tier
	amount   decimal.Decimal
	prefFreq calc.Frequency
	// terms asked for (in prefFreq instalments), 0 when none.
	terms int
}

// termOptions are the policy's term options of frequency f, plus the terms
// asked for, within the policy's and the tier's lengths, ascending.
func (b builder) termOptions(f calc.Frequency) []int {
	opts := b.p.Offers.MonthlyTerms
	if f == calc.Quarterly {
		opts = b.p.Offers.QuarterlyTerms
	}
	opts = slices.Clone(opts)
	if f == b.prefFreq && b.terms > 0 {
		opts = append(opts, b.terms)
	}
	var out []int
	for _, n := range opts {
		if m := n * f.MonthsPerPeriod(); m >= b.p.Offers.MinMonths && m <= b.tier.MaxMonths {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// pool computes every plan within policy for the frequencies given:
// each term option with each product of the tier (interest-only only up to
// interest_only_max_months, zero-interest only monthly on the tier's zero
// terms), leaving out those above the rate cap.
func (b builder) pool(freqs []calc.Frequency) ([]candidate, error) {
	var out []candidate
	for _, f := range freqs {
		for _, n := range b.termOptions(f) {
			for mi, m := range calc.Methods {
				if !b.tier.Allows(m) {
					continue
				}
				if m == calc.MethodInterestOnly && n*f.MonthsPerPeriod() > b.p.Offers.InterestOnlyMaxMonths {
					continue
				}
				if m == calc.MethodZero && (f != calc.Monthly || !slices.Contains(b.tier.ZeroTerms, n)) {
					continue
				}
				c, ok, err := b.build(m, mi, n, f)
				if err != nil {
					return nil, err
				}
				if ok {
					out = append(out, c)
				}
			}
		}
	}
	return out, nil
}

// build computes one plan; ok is false when the rate cap refuses it.
func (b builder) build(m calc.Method, methodIndex, n int, f calc.Frequency) (candidate, bool, error) {
	t := calc.Terms{Method: m, Principal: b.amount, Terms: n, Frequency: f, Start: ReferenceStart,
		AnnualRate: decimal.Zero, MonthlyFeeRate: decimal.Zero}
	switch m {
	case calc.MethodAnnuity, calc.MethodEqualPrincipal, calc.MethodInterestOnly:
		t.AnnualRate = b.tier.AnnualRate
	case calc.MethodFee:
		t.MonthlyFeeRate = b.tier.MonthlyFeeRate
		t.FeeUpfront = b.tier.FeeUpfront
	}
	s, err := calc.BuildSchedule(t)
	if err != nil {
		return candidate{}, false, fmt.Errorf("%s of %s over %s: %w", m, calc.FormatMoney(b.amount), Instalments(n, f), err)
	}
	if _, err := b.p.RateCap.Check(s.APRNominal); err != nil {
		if isRateCap(err) {
			return candidate{}, false, nil
		}
		return candidate{}, false, fmt.Errorf("%s over %s: %w", m, Instalments(n, f), err)
	}
	highest := decimal.Zero
	for _, r := range s.Rows {
		if r.Payment.GreaterThan(highest) {
			highest = r.Payment
		}
	}
	return candidate{
		offer: plan.Offer{
			Method: m, Amount: b.amount, Terms: n, Frequency: f,
			AnnualRate: t.AnnualRate, MonthlyFeeRate: t.MonthlyFeeRate, FeeUpfront: t.FeeUpfront,
			Instalment:   s.Rows[0].Payment,
			TotalCost:    s.TotalInterest.Add(s.TotalFee),
			TotalPayment: s.TotalPayment,
			APRNominal:   s.APRNominal,
			APREffective: s.APREffective,
		},
		months:  n * f.MonthsPerPeriod(),
		highest: highest,
		method:  methodIndex,
	}, true, nil
}

// choose picks the offer set among the affordable plans. In order of
// priority: the tier's main product (等额本息 when offered) at the anchor
// term and its two neighbours in the preferred frequency, the
// zero-interest promotion nearest the anchor, the tier's other products at
// the anchor; then, to reach MinOffers, the other plans nearest the anchor
// (preferred frequency first). The set is cut at MaxOffers.
func (b builder) choose(affordable []candidate, termPref string) []candidate {
	byKey := make(map[string]candidate, len(affordable))
	var opts []int
	for _, c := range affordable {
		byKey[c.key()] = c
		if c.offer.Frequency == b.prefFreq {
			opts = append(opts, c.offer.Terms)
		}
	}
	slices.Sort(opts)
	opts = slices.Compact(opts)

	var chosen []candidate
	taken := map[string]bool{}
	add := func(f calc.Frequency, n int, m calc.Method) {
		k := candidate{offer: plan.Offer{Frequency: f, Terms: n, Method: m}}.key()
		if c, ok := byKey[k]; ok && !taken[k] {
			chosen = append(chosen, c)
			taken[k] = true
		}
	}

	anchorMonths := b.p.Offers.DefaultMonths
	if len(opts) > 0 {
		i := b.anchorIndex(opts, termPref)
		anchor := opts[i]
		anchorMonths = anchor * b.prefFreq.MonthsPerPeriod()
		main := mainMethod(b.tier)
		for _, n := range neighbours(opts, i, 3) {
			add(b.prefFreq, n, main)
		}
		if b.prefFreq == calc.Monthly && len(b.tier.ZeroTerms) > 0 {
			zt := slices.Clone(b.tier.ZeroTerms)
			sort.SliceStable(zt, func(x, y int) bool {
				dx, dy := abs(zt[x]-anchorMonths), abs(zt[y]-anchorMonths)
				return dx < dy || (dx == dy && zt[x] > zt[y])
			})
			for _, n := range zt {
				if _, ok := byKey[candidate{offer: plan.Offer{Frequency: calc.Monthly, Terms: n, Method: calc.MethodZero}}.key()]; ok {
					add(calc.Monthly, n, calc.MethodZero)
					break
				}
			}
		}
		for _, m := range calc.Methods {
			if m != main && m != calc.MethodZero {
				add(b.prefFreq, anchor, m)
			}
		}
	}

	if len(chosen) < b.p.Offers.MinOffers {
		rest := slices.Clone(affordable)
		sort.SliceStable(rest, func(x, y int) bool {
			a, c := rest[x], rest[y]
			if pa, pc := a.offer.Frequency == b.prefFreq, c.offer.Frequency == b.prefFreq; pa != pc {
				return pa
			}
			if da, dc := abs(a.months-anchorMonths), abs(c.months-anchorMonths); da != dc {
				return da < dc
			}
			if a.months != c.months {
				return a.months < c.months
			}
			return a.method < c.method
		})
		for _, c := range rest {
			if len(chosen) >= b.p.Offers.MinOffers {
				break
			}
			add(c.offer.Frequency, c.offer.Terms, c.offer.Method)
		}
	}
	if len(chosen) > b.p.Offers.MaxOffers {
		chosen = chosen[:b.p.Offers.MaxOffers]
	}
	return chosen
}

// anchorIndex is the index in opts of the term the offers centre on: the
// terms asked for (or the nearest), else the shortest for "shorter", the
// longest for "longer", the nearest to DefaultMonths otherwise.
func (b builder) anchorIndex(opts []int, termPref string) int {
	per := b.prefFreq.MonthsPerPeriod()
	target := b.p.Offers.DefaultMonths
	switch {
	case b.terms > 0:
		target = b.terms * per
	case termPref == TermShorter:
		return 0
	case termPref == TermLonger:
		return len(opts) - 1
	}
	best := 0
	for i, n := range opts {
		if abs(n*per-target) < abs(opts[best]*per-target) {
			best = i
		}
	}
	return best
}

// neighbours returns opts[i] and then the options closest to it in index,
// below first, up to k of them.
func neighbours(opts []int, i, k int) []int {
	out := []int{opts[i]}
	for d := 1; len(out) < k && (i-d >= 0 || i+d < len(opts)); d++ {
		if i-d >= 0 {
			out = append(out, opts[i-d])
		}
		if len(out) < k && i+d < len(opts) {
			out = append(out, opts[i+d])
		}
	}
	return out
}

// mainMethod is the tier's headline product: the first of calc.Methods it
// offers that is neither interest-only nor zero-interest (usually 等额本息).
func mainMethod(t Tier) calc.Method {
	for _, m := range calc.Methods {
		if t.Allows(m) && m != calc.MethodInterestOnly && m != calc.MethodZero {
			return m
		}
	}
	for _, m := range calc.Methods {
		if t.Allows(m) {
			return m
		}
	}
	return calc.MethodAnnuity
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
