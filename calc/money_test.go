package calc

import (
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/shopspring/decimal"
)

func TestDivRoundCents(t *testing.T) {
	tests := []struct{ num, den, want string }{
		{"10000", "3", "3333.33"},
		{"0.05", "2", "0.03"}, // exactly half a cent rounds up
		{"0.01", "2", "0.01"},
		{"0.01", "3", "0.00"},
		{"0.02", "3", "0.01"},
		{"2400", "12", "200.00"},
		{"185.0880", "1", "185.09"},
		{"-0.05", "2", "-0.03"}, // half away from zero
		{"1", "0.003", "333.33"},
		{"1e3", "7", "142.86"},
	}
	for _, tc := range tests {
		if got := FormatMoney(divRoundCents(dec(tc.num), dec(tc.den))); got != tc.want {
			t.Errorf("%s / %s = %s, want %s", tc.num, tc.den, got, tc.want)
		}
	}
}

// TestDivRoundCentsAgainstRat compares with big.Rat rounding on random
// non-negative quotients, including many that land exactly on half a cent.
func TestDivRoundCentsAgainstRat(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		num := decimal.New(rng.Int64N(1e9), -int32(rng.IntN(7)))
		den := decimal.New(1+rng.Int64N(1e4), -int32(rng.IntN(4)))
		want := ratString(ratCents(new(big.Rat).Quo(ratOf(num), ratOf(den))))
		if got := FormatMoney(divRoundCents(num, den)); got != want {
			t.Fatalf("%s / %s = %s, want %s", num, den, got, want)
		}
	}
}

func TestPowInt(t *testing.T) {
	tests := []struct {
		base string
		n    int
		want string
	}{
		{"1.02", 0, "1"}, {"1.02", 1, "1.02"}, {"1.02", 2, "1.0404"}, {"12.24", 3, "1833.767424"}, {"0", 5, "0"},
	}
	for _, tc := range tests {
		if got := powInt(dec(tc.base), tc.n); !got.Equal(dec(tc.want)) {
			t.Errorf("%s^%d = %s, want %s", tc.base, tc.n, got, tc.want)
		}
	}
	base := dec("1.0175")
	for n := range 200 {
		if got, want := powInt(base, n).Rat(), ratPow(ratOf(base), n); got.Cmp(want) != 0 {
			t.Fatalf("1.0175^%d is not exact", n)
		}
	}
}

func TestRoundAndFormatMoney(t *testing.T) {
	tests := []struct{ in, want string }{
		{"1.005", "1.01"}, {"1.004999", "1.00"}, {"2", "2.00"}, {"0", "0.00"}, {"945.5960", "945.60"},
	}
	for _, tc := range tests {
		if got := FormatMoney(RoundMoney(dec(tc.in))); got != tc.want {
			t.Errorf("RoundMoney(%s) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestGroupMoney(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"0", "0.00"}, {"5.5", "5.50"}, {"999.99", "999.99"}, {"1000", "1,000.00"},
		{"12345.678", "12,345.68"}, {"1234567.8", "1,234,567.80"}, {"-1234.5", "-1,234.50"},
	} {
		if got := GroupMoney(decimal.RequireFromString(tt.in)); got != tt.want {
			t.Errorf("GroupMoney(%s) = %s, want %s", tt.in, got, tt.want)
		}
	}
}
