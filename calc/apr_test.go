package calc

import (
	"math/big"
	"testing"

	"github.com/shopspring/decimal"
)

// repeat returns n copies of amount.
func repeat(amount string, n int) []decimal.Decimal {
	out := make([]decimal.Decimal, n)
	for i := range out {
		out[i] = dec(amount)
	}
	return out
}

// npvBig is -net + sum payments[k-1] / (1+i)^k in 256-bit floating point.
func npvBig(net decimal.Decimal, payments []decimal.Decimal, i *big.Float) *big.Float {
	const prec = 256
	one := new(big.Float).SetPrec(prec).SetInt64(1)
	v := new(big.Float).SetPrec(prec).Quo(one, new(big.Float).SetPrec(prec).Add(one, i))
	disc := new(big.Float).SetPrec(prec).Set(one)
	sum := new(big.Float).SetPrec(prec).Neg(net.BigFloat())
	for _, p := range payments {
		disc.Mul(disc, v)
		sum.Add(sum, new(big.Float).SetPrec(prec).Mul(p.BigFloat(), disc))
	}
	return sum
}

func TestAnnualisedIRR(t *testing.T) {
	tests := []struct {
		name                         string
		net                          string
		payments                     []decimal.Decimal
		ppy                          int
		periodic, nominal, effective string
	}{
		{
			// PBoC 〔2021〕 No. 3 example: 12.80% nominal, 13.58% effective.
			name: "public example", net: "99000", payments: repeat("8833.30", 12), ppy: 12,
			periodic: "1.0669835", nominal: "12.8038", effective: "13.5826",
		},
		{
			// closed form: one payment of 1.1 x net after one year -> 10%.
			name: "single annual payment", net: "1000", payments: repeat("1100", 1), ppy: 1,
			periodic: "10", nominal: "10", effective: "10",
		},
		{
			// closed form: 100 then 100 + 2 quarterly: i = 2%.
			name: "quarterly interest only", net: "100", payments: []decimal.Decimal{dec("2"), dec("102")}, ppy: 4,
			periodic: "2", nominal: "8", effective: "8.2432",
		},
		{
			name: "zero interest", net: "1200", payments: repeat("100", 12), ppy: 12,
			periodic: "0", nominal: "0", effective: "0",
		},
		{
			// solved independently (mpmath, 40 digits)
			name: "payments below the amount received", net: "1200", payments: repeat("99", 12), ppy: 12,
			periodic: "-0.1542829", nominal: "-1.8514", effective: "-1.8358",
		},
		{
			name: "zero rows in the middle", net: "1000", payments: []decimal.Decimal{dec("0"), dec("0"), dec("1030.301")}, ppy: 12,
			periodic: "1", nominal: "12", effective: "12.6825",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := AnnualisedIRR(dec(tc.net), tc.payments, tc.ppy)
			if err != nil {
				t.Fatal(err)
			}
			if !got.Periodic.Equal(dec(tc.periodic)) || !got.Nominal.Equal(dec(tc.nominal)) || !got.Effective.Equal(dec(tc.effective)) {
				t.Errorf("got periodic %s nominal %s effective %s, want %s %s %s", got.Periodic, got.Nominal, got.Effective, tc.periodic, tc.nominal, tc.effective)
			}
			// Second computation: the NPV at the periodic rate is ~0 and
			// changes sign across the rate's rounding interval.
			i := new(big.Float).SetPrec(256).Quo(got.Periodic.BigFloat(), big.NewFloat(100))
			half := new(big.Float).SetPrec(256).Quo(big.NewFloat(0.5e-7), big.NewFloat(100))
			lo := npvBig(dec(tc.net), tc.payments, new(big.Float).SetPrec(256).Sub(i, half))
			hi := npvBig(dec(tc.net), tc.payments, new(big.Float).SetPrec(256).Add(i, half))
			if !got.Periodic.IsZero() && (lo.Sign() < 0 || hi.Sign() > 0) {
				t.Errorf("NPV does not cross zero within ±0.5e-7%% of %s%%: %s, %s", got.Periodic, lo.Text('g', 8), hi.Text('g', 8))
			}
		})
	}
}

// TestScheduleIRRRootsAgainstBigFloat solves the IRR of schedules and checks
// with big.Float that the NPV changes sign within the rounding of the
// nominal rate (±0.00005 percentage points).
func TestScheduleIRRRootsAgainstBigFloat(t *testing.T) {
	plans := []Terms{
		{Method: MethodAnnuity, Principal: dec("10000"), Terms: 12, AnnualRate: dec("0.24")},
		{Method: MethodAnnuity, Principal: dec("1000000"), Terms: 360, AnnualRate: dec("0.049")},
		{Method: MethodEqualPrincipal, Principal: dec("50000"), Terms: 36, AnnualRate: dec("0.0999"), Frequency: Quarterly},
		{Method: MethodFee, Principal: dec("6000"), Terms: 12, MonthlyFeeRate: dec("0.006")},
		{Method: MethodFee, Principal: dec("6000"), Terms: 24, MonthlyFeeRate: dec("0.0075"), FeeUpfront: true},
		{Method: MethodInterestOnly, Principal: dec("20000"), Terms: 8, AnnualRate: dec("0.15"), Frequency: Quarterly},
	}
	for _, p := range plans {
		p.Start = mustDate("2026-01-31")
		s, err := BuildSchedule(p)
		if err != nil {
			t.Fatal(err)
		}
		ppy := p.normalised().Frequency.PeriodsPerYear()
		payments := make([]decimal.Decimal, len(s.Rows))
		for k, r := range s.Rows {
			payments[k] = r.Payment
		}
		// periodic rate bounds from the nominal percent ± half a unit of the
		// 4th decimal: i = nominal / 100 / ppy
		at := func(delta string) *big.Float {
			n := s.APRNominal.Add(dec(delta))
			i := new(big.Float).SetPrec(256).Quo(n.BigFloat(), big.NewFloat(float64(100*ppy)))
			return npvBig(p.Principal, payments, i)
		}
		if lo, hi := at("-0.00005"), at("0.00005"); lo.Sign() < 0 || hi.Sign() > 0 {
			t.Errorf("%s %s x %d: nominal %s%% is not the rounded root (NPV %s, %s)", p.Method, p.Principal, p.Terms, s.APRNominal, lo.Text('g', 6), hi.Text('g', 6))
		}
		// effective = (1 + nominal/ppy)^ppy - 1 up to the rounding of both
		i := new(big.Float).SetPrec(256).Quo(s.APRNominal.BigFloat(), big.NewFloat(float64(100*ppy)))
		g := new(big.Float).SetPrec(256).SetInt64(1)
		for range ppy {
			g.Mul(g, new(big.Float).SetPrec(256).Add(big.NewFloat(1), i))
		}
		eff, _ := g.Sub(g, big.NewFloat(1)).Mul(g, big.NewFloat(100)).Float64()
		if d := eff - s.APREffective.InexactFloat64(); d > 0.001 || d < -0.001 {
			t.Errorf("%s: effective %s, from nominal %.6f", p.Method, s.APREffective, eff)
		}
	}
}

func TestAnnualisedIRRRejects(t *testing.T) {
	tests := []struct {
		name     string
		net      string
		payments []decimal.Decimal
		ppy      int
	}{
		{"zero net", "0", repeat("1", 3), 12},
		{"negative net", "-1", repeat("1", 3), 12},
		{"no payments", "100", nil, 12},
		{"negative payment", "100", []decimal.Decimal{dec("101"), dec("-1")}, 12},
		{"all zero", "100", repeat("0", 3), 12},
		{"no periods", "100", repeat("50", 3), 0},
	}
	for _, tc := range tests {
		if _, err := AnnualisedIRR(dec(tc.net), tc.payments, tc.ppy); err == nil {
			t.Errorf("%s: want an error", tc.name)
		}
	}
}
