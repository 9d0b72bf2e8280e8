package calc

import (
	"math/big"
	"strings"

	"github.com/shopspring/decimal"
)

// MoneyPlaces is the number of decimal places of every money amount.
const MoneyPlaces = 2

// RoundMoney rounds d to cents, half away from zero (half-up for the
// non-negative amounts calc deals in).
func RoundMoney(d decimal.Decimal) decimal.Decimal {
	return d.Round(MoneyPlaces)
}

// FormatMoney formats d with exactly two decimals, rounding half-up.
func FormatMoney(d decimal.Decimal) string {
	return d.StringFixed(MoneyPlaces)
}

// GroupMoney formats d with two decimals and thousands separators, as
// people read amounts: 12,345.67.
func GroupMoney(d decimal.Decimal) string {
	s := FormatMoney(d)
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	whole, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	for i, r := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return sign + b.String() + "." + frac
}

// isCents reports whether d has no more than two significant decimals.
func isCents(d decimal.Decimal) bool {
	return d.Equal(d.Round(MoneyPlaces))
}

// divRoundCents returns num/den rounded to cents, half away from zero, with
// exact integer arithmetic: no intermediate rounding ever happens, so a
// quotient lying exactly on half a cent always rounds away from zero. den
// must not be zero.
func divRoundCents(num, den decimal.Decimal) decimal.Decimal {
	a, b := num.Coefficient(), den.Coefficient()
	// num/den*100 = a/b * 10^(expNum - expDen + 2)
	if e := int64(num.Exponent()) - int64(den.Exponent()) + MoneyPlaces; e >= 0 {
		a.Mul(a, new(big.Int).Exp(big.NewInt(10), big.NewInt(e), nil))
	} else {
		b.Mul(b, new(big.Int).Exp(big.NewInt(10), big.NewInt(-e), nil))
	}
	neg := a.Sign()*b.Sign() < 0
	a.Abs(a)
	b.Abs(b)
	q, r := new(big.Int).QuoRem(a, b, new(big.Int))
	if r.Lsh(r, 1).Cmp(b) >= 0 {
		q.Add(q, big.NewInt(1))
	}
	if neg {
		q.Neg(q)
	}
	return decimal.NewFromBigInt(q, -MoneyPlaces)
}

// powInt returns d^n for n >= 0 exactly (decimal multiplication is exact).
func powInt(d decimal.Decimal, n int) decimal.Decimal {
	result := decimal.NewFromInt(1)
	for base := d; n > 0; n >>= 1 {
		if n&1 == 1 {
			result = result.Mul(base)
		}
		if n > 1 {
			base = base.Mul(base)
		}
	}
	return result
}
