package calc

import (
	"fmt"
	"math/big"
	"testing"
)

// refAnnuity is A = P r (1+r)^n / ((1+r)^n - 1) in big.Rat, rounded half-up.
func refAnnuity(p, annual string, n, ppy int) string {
	P := ratOf(dec(p))
	r := new(big.Rat).Quo(ratOf(dec(annual)), ratInt(int64(ppy)))
	if r.Sign() == 0 {
		return ratString(ratCents(new(big.Rat).Quo(P, ratInt(int64(n)))))
	}
	g := ratPow(new(big.Rat).Add(ratInt(1), r), n)
	num := new(big.Rat).Mul(new(big.Rat).Mul(P, r), g)
	return ratString(ratCents(num.Quo(num, new(big.Rat).Sub(g, ratInt(1)))))
}

func TestAnnuityPayment(t *testing.T) {
	tests := []struct {
		p, annual string
		n, ppy    int
		want      string // hand / published figure
	}{
		{"10000", "0.24", 12, 12, "945.60"},
		{"10000", "0.24", 4, 4, "2885.91"},
		{"100000", "0.0435", 12, 12, "8530.99"},
		{"1000000", "0.049", 360, 12, "5307.27"}, // 30-year mortgage at 4.9%
		{"100", "0", 3, 12, "33.33"},
		{"0.05", "0", 2, 12, "0.03"},
		{"1000", "0.12", 1, 12, "1010.00"},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%s/%s/%d/%d", tc.p, tc.annual, tc.n, tc.ppy), func(t *testing.T) {
			got, err := AnnuityPayment(dec(tc.p), dec(tc.annual), tc.n, tc.ppy)
			if err != nil {
				t.Fatal(err)
			}
			if FormatMoney(got) != tc.want {
				t.Errorf("A = %s, want %s", got, tc.want)
			}
			if ref := refAnnuity(tc.p, tc.annual, tc.n, tc.ppy); FormatMoney(got) != ref {
				t.Errorf("A = %s, big.Rat gives %s", got, ref)
			}
		})
	}
}

func TestAnnuityPaymentAgainstRatGrid(t *testing.T) {
	for _, p := range []string{"0.01", "1.00", "333.33", "10000", "87654.32"} {
		for _, a := range []string{"0.001", "0.0435", "0.1", "0.2", "0.24", "0.3650"} {
			for _, n := range []int{1, 2, 5, 12, 13, 60, 180, 360} {
				for _, ppy := range []int{12, 4} {
					got, err := AnnuityPayment(dec(p), dec(a), n, ppy)
					if err != nil {
						t.Fatal(err)
					}
					if ref := refAnnuity(p, a, n, ppy); FormatMoney(got) != ref {
						t.Fatalf("A(%s, %s, %d, %d) = %s, big.Rat gives %s", p, a, n, ppy, got, ref)
					}
				}
			}
		}
	}
}

func TestAnnuityPaymentRejects(t *testing.T) {
	tests := []struct {
		p, a   string
		n, ppy int
	}{
		{"0", "0.1", 12, 12}, {"-1", "0.1", 12, 12}, {"100", "-0.1", 12, 12}, {"100", "0.1", 0, 12}, {"100", "0.1", 361, 12}, {"100", "0.1", 12, 0},
	}
	for _, tc := range tests {
		if _, err := AnnuityPayment(dec(tc.p), dec(tc.a), tc.n, tc.ppy); err == nil {
			t.Errorf("AnnuityPayment(%s, %s, %d, %d): want an error", tc.p, tc.a, tc.n, tc.ppy)
		}
	}
}
