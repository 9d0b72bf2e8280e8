package calc

import (
	"errors"
	"fmt"
	"math/big"
	"testing"

	"github.com/shopspring/decimal"
)

func TestBuildScheduleKnownFigures(t *testing.T) {
	tests := []struct {
		name                                     string
		terms                                    Terms
		first                                    [5]string // principal, interest, fee, payment, balance
		firstDue, lastDue                        string
		totalInterest, totalFee, nominal, effect string
	}{
		{
			name:  "annuity 10000 x 12 at 24%",
			terms: Terms{Method: MethodAnnuity, Principal: dec("10000"), Terms: 12, AnnualRate: dec("0.24"), Start: mustDate("2026-01-15")},
			first: [5]string{"745.60", "200.00", "0.00", "945.60", "9254.40"}, firstDue: "2026-02-15", lastDue: "2027-01-15",
			totalInterest: "1347.15", totalFee: "0.00", nominal: "24.0001", effect: "26.8243",
		},
		{
			name:  "equal principal 12000 x 12 at 12%",
			terms: Terms{Method: MethodEqualPrincipal, Principal: dec("12000"), Terms: 12, AnnualRate: dec("0.12"), Start: mustDate("2026-01-31")},
			first: [5]string{"1000.00", "120.00", "0.00", "1120.00", "11000.00"}, firstDue: "2026-02-28", lastDue: "2027-01-31",
			// interest = 0.01 x 1000 x (12+11+...+1) = 780
			totalInterest: "780.00", totalFee: "0.00",
		},
		{
			name:  "interest only 10000 x 6 at 18%",
			terms: Terms{Method: MethodInterestOnly, Principal: dec("10000"), Terms: 6, AnnualRate: dec("0.18"), Start: mustDate("2026-03-01")},
			first: [5]string{"0.00", "150.00", "0.00", "150.00", "10000.00"}, firstDue: "2026-04-01", lastDue: "2026-09-01",
			totalInterest: "900.00", totalFee: "0.00", nominal: "18.0000", effect: "19.5618",
		},
		{
			name:  "fee 6000 x 12 at 0.6% a month",
			terms: Terms{Method: MethodFee, Principal: dec("6000"), Terms: 12, MonthlyFeeRate: dec("0.006"), Start: mustDate("2026-01-15")},
			first: [5]string{"500.00", "0.00", "36.00", "536.00", "5500.00"}, firstDue: "2026-02-15", lastDue: "2027-01-15",
			totalInterest: "0.00", totalFee: "432.00",
		},
		{
			name:  "fee upfront 6000 x 12 at 0.6% a month",
			terms: Terms{Method: MethodFee, Principal: dec("6000"), Terms: 12, MonthlyFeeRate: dec("0.006"), FeeUpfront: true, Start: mustDate("2026-01-15")},
			first: [5]string{"500.00", "0.00", "432.00", "932.00", "5500.00"}, firstDue: "2026-02-15", lastDue: "2027-01-15",
			totalInterest: "0.00", totalFee: "432.00",
		},
		{
			name:  "fee quarterly 6000 x 4 at 0.6% a month",
			terms: Terms{Method: MethodFee, Principal: dec("6000"), Terms: 4, MonthlyFeeRate: dec("0.006"), Frequency: Quarterly, Start: mustDate("2025-11-30")},
			first: [5]string{"1500.00", "0.00", "108.00", "1608.00", "4500.00"}, firstDue: "2026-02-28", lastDue: "2026-11-30",
			totalInterest: "0.00", totalFee: "432.00",
		},
		{
			name:  "zero 1000 x 3",
			terms: Terms{Method: MethodZero, Principal: dec("1000"), Terms: 3, Start: mustDate("2026-01-15")},
			first: [5]string{"333.33", "0.00", "0.00", "333.33", "666.67"}, firstDue: "2026-02-15", lastDue: "2026-04-15",
			totalInterest: "0.00", totalFee: "0.00", nominal: "0.0000", effect: "0.0000",
		},
		{
			name:  "annuity at 0% is P/n",
			terms: Terms{Method: MethodAnnuity, Principal: dec("100"), Terms: 3, Start: mustDate("2026-01-15")},
			first: [5]string{"33.33", "0.00", "0.00", "33.33", "66.67"}, firstDue: "2026-02-15", lastDue: "2026-04-15",
			totalInterest: "0.00", totalFee: "0.00", nominal: "0.0000", effect: "0.0000",
		},
		{
			name:  "annuity quarterly 10000 x 4 at 24%",
			terms: Terms{Method: MethodAnnuity, Principal: dec("10000"), Terms: 4, AnnualRate: dec("0.24"), Frequency: Quarterly, Start: mustDate("2026-01-15")},
			// r = 6%: A = 10000 x 0.06 x 1.06^4 / (1.06^4 - 1) = 2885.9149 -> 2885.91;
			// interest 600.00 + 462.85 + 317.46 + 163.35 by hand.
			first: [5]string{"2285.91", "600.00", "0.00", "2885.91", "7714.09"}, firstDue: "2026-04-15", lastDue: "2027-01-15",
			totalInterest: "1543.66", totalFee: "0.00", nominal: "24.0000", effect: "26.2477",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := BuildSchedule(tc.terms)
			if err != nil {
				t.Fatal(err)
			}
			if err := checkInvariants(s); err != nil {
				t.Fatal(err)
			}
			r := s.Rows[0]
			got := [5]string{FormatMoney(r.Principal), FormatMoney(r.Interest), FormatMoney(r.Fee), FormatMoney(r.Payment), FormatMoney(r.Balance)}
			if got != tc.first {
				t.Errorf("first row %v, want %v", got, tc.first)
			}
			if d := r.DueDate.String(); d != tc.firstDue {
				t.Errorf("first due %s, want %s", d, tc.firstDue)
			}
			if d := s.Rows[len(s.Rows)-1].DueDate.String(); d != tc.lastDue {
				t.Errorf("last due %s, want %s", d, tc.lastDue)
			}
			if g := FormatMoney(s.TotalInterest); g != tc.totalInterest {
				t.Errorf("total interest %s, want %s", g, tc.totalInterest)
			}
			if g := FormatMoney(s.TotalFee); g != tc.totalFee {
				t.Errorf("total fee %s, want %s", g, tc.totalFee)
			}
			if tc.nominal != "" {
				if g := s.APRNominal.StringFixed(4); g != tc.nominal {
					t.Errorf("nominal %s, want %s", g, tc.nominal)
				}
				if g := s.APREffective.StringFixed(4); g != tc.effect {
					t.Errorf("effective %s, want %s", g, tc.effect)
				}
			}
			if err := compareRows(s.Rows, refSchedule(refFromTerms(tc.terms.normalised()))); err != nil {
				t.Errorf("against big.Rat reference: %v", err)
			}
		})
	}
}

// TestBuildScheduleAgainstReference builds a grid of plans and compares every
// row to the cent with the big.Rat re-derivation.
func TestBuildScheduleAgainstReference(t *testing.T) {
	principals := []string{"0.01", "0.05", "1.00", "999.99", "10000", "123456.78"}
	termsList := []int{1, 2, 3, 7, 12, 36, 120}
	rates := []string{"0", "0.036", "0.2", "0.24", "0.1799"}
	fees := []string{"0", "0.006", "0.0125"}
	starts := []Date{mustDate("2026-01-31"), mustDate("2024-02-29"), mustDate("2026-08-15")}
	for _, m := range Methods {
		for _, f := range Frequencies {
			for _, ps := range principals {
				for _, n := range termsList {
					for ri, rs := range rates {
						for fi, fs := range fees {
							for _, upfront := range []bool{false, true} {
								tr := Terms{Method: m, Principal: dec(ps), Terms: n, Frequency: f, Start: starts[(ri+fi+n)%len(starts)], FeeUpfront: upfront}
								switch {
								case m.chargesInterest():
									if fi > 0 || upfront {
										continue
									}
									tr.AnnualRate = dec(rs)
								case m == MethodFee:
									if ri > 0 {
										continue
									}
									tr.MonthlyFeeRate = dec(fs)
								default:
									if ri > 0 || fi > 0 || upfront {
										continue
									}
								}
								name := fmt.Sprintf("%s/%s/%s/%d/r%s/f%s/up%v", m, f, ps, n, rs, fs, upfront)
								s, err := BuildSchedule(tr)
								if err != nil {
									t.Fatalf("%s: %v", name, err)
								}
								if err := checkInvariants(s); err != nil {
									t.Fatalf("%s: %v", name, err)
								}
								if err := compareRows(s.Rows, refSchedule(refFromTerms(tr.normalised()))); err != nil {
									t.Fatalf("%s: %v", name, err)
								}
							}
						}
					}
				}
			}
		}
	}
}

// TestEqualPrincipalInterestClosedForm checks the interest total of equal
// principal plans against the closed form r (n P - q n(n-1)/2) (q the rounded
// instalment principal): each row's interest is rounded once, so the sum is
// within n half-cents of it.
func TestEqualPrincipalInterestClosedForm(t *testing.T) {
	tests := []struct {
		principal string
		n         int
		annual    string
	}{
		{"10000", 12, "0.12"}, {"10000", 7, "0.24"}, {"99999.99", 360, "0.0435"}, {"1234.56", 24, "0.18"}, {"500", 3, "0.1"},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%s/%d/%s", tc.principal, tc.n, tc.annual), func(t *testing.T) {
			s, err := BuildSchedule(Terms{Method: MethodEqualPrincipal, Principal: dec(tc.principal), Terms: tc.n, AnnualRate: dec(tc.annual), Start: mustDate("2026-01-01")})
			if err != nil {
				t.Fatal(err)
			}
			P := ratOf(dec(tc.principal))
			q := ratCents(new(big.Rat).Quo(P, ratInt(int64(tc.n))))
			r := new(big.Rat).Quo(ratOf(dec(tc.annual)), ratInt(12))
			n := ratInt(int64(tc.n))
			// sum of balances = n P - q (0 + 1 + ... + n-1)
			sumBal := new(big.Rat).Mul(n, P)
			sumBal.Sub(sumBal, new(big.Rat).Mul(q, ratInt(int64(tc.n*(tc.n-1)/2))))
			closed := new(big.Rat).Mul(r, sumBal)
			diff := new(big.Rat).Sub(ratOf(s.TotalInterest), closed)
			bound := new(big.Rat).Mul(ratInt(int64(tc.n)), big.NewRat(1, 200))
			if diff.Abs(diff).Cmp(bound) > 0 {
				t.Errorf("total interest %s, closed form %s, differ by more than %s", s.TotalInterest, closed.FloatString(6), bound.FloatString(3))
			}
		})
	}
}

func TestBuildScheduleRejectsBadTerms(t *testing.T) {
	good := Terms{Method: MethodAnnuity, Principal: dec("1000"), Terms: 12, AnnualRate: dec("0.1"), Start: mustDate("2026-01-01")}
	tests := []struct {
		name  string
		edit  func(*Terms)
		field string
	}{
		{"unknown method", func(t *Terms) { t.Method = "balloon" }, FieldMethod},
		{"unknown frequency", func(t *Terms) { t.Frequency = "weekly" }, FieldFrequency},
		{"zero principal", func(t *Terms) { t.Principal = decimal.Zero }, FieldPrincipal},
		{"negative principal", func(t *Terms) { t.Principal = dec("-5") }, FieldPrincipal},
		{"sub-cent principal", func(t *Terms) { t.Principal = dec("10.005") }, FieldPrincipal},
		{"principal above the maximum", func(t *Terms) { t.Principal = dec("1000000000000.01") }, FieldPrincipal},
		{"zero terms", func(t *Terms) { t.Terms = 0 }, FieldTerms},
		{"361 terms", func(t *Terms) { t.Terms = 361 }, FieldTerms},
		{"negative rate", func(t *Terms) { t.AnnualRate = dec("-0.01") }, FieldAnnualRate},
		{"negative fee", func(t *Terms) { t.Method, t.AnnualRate, t.MonthlyFeeRate = MethodFee, decimal.Zero, dec("-0.01") }, FieldMonthlyFeeRate},
		{"interest on a fee plan", func(t *Terms) { t.Method = MethodFee }, FieldAnnualRate},
		{"interest on a zero plan", func(t *Terms) { t.Method = MethodZero }, FieldAnnualRate},
		{"fee on an annuity", func(t *Terms) { t.MonthlyFeeRate = dec("0.006") }, FieldMonthlyFeeRate},
		{"upfront on an annuity", func(t *Terms) { t.FeeUpfront = true }, FieldFeeUpfront},
		{"no start", func(t *Terms) { t.Start = Date{} }, FieldStart},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := good
			tc.edit(&tr)
			_, err := BuildSchedule(tr)
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Fatalf("got %v, want an *InputError", err)
			}
			if ie.Field != tc.field {
				t.Errorf("field %q, want %q (%v)", ie.Field, tc.field, err)
			}
		})
	}
}

func TestParseMethodAndFrequency(t *testing.T) {
	for _, m := range Methods {
		if got, err := ParseMethod(string(m)); err != nil || got != m {
			t.Errorf("ParseMethod(%q) = %q, %v", m, got, err)
		}
	}
	for _, f := range Frequencies {
		if got, err := ParseFrequency(string(f)); err != nil || got != f {
			t.Errorf("ParseFrequency(%q) = %q, %v", f, got, err)
		}
	}
	if _, err := ParseMethod("Annuity"); err == nil {
		t.Error("ParseMethod is case sensitive, want an error for Annuity")
	}
	if _, err := ParseFrequency("weekly"); err == nil {
		t.Error("ParseFrequency(weekly): want an error")
	}
	if Monthly.PeriodsPerYear() != 12 || Quarterly.PeriodsPerYear() != 4 || Frequency("x").PeriodsPerYear() != 0 {
		t.Error("PeriodsPerYear: want 12, 4, 0")
	}
}
