package underwriting

import (
	"fmt"

	"github.com/shopspring/decimal"

	"github.com/fenqi/fenqi/calc"
	"github.com/fenqi/fenqi/plan"
)

// MethodName is the English name of a method with its Chinese product term,
// e.g. "equal instalments (等额本息)".
func MethodName(m calc.Method) string {
	switch m {
	case calc.MethodAnnuity:
		return "equal instalments (等额本息)"
	case calc.MethodEqualPrincipal:
		return "equal principal, decreasing instalments (等额本金)"
	case calc.MethodInterestOnly:
		return "interest only, principal with the last instalment (先息后本)"
	case calc.MethodFee:
		return "equal principal plus a monthly fee (分期手续费)"
	case calc.MethodZero:
		return "zero interest, no fees (免息)"
	}
	return string(m)
}

// Instalments says how many instalments of which frequency, e.g.
// "12 monthly instalments" or "1 quarterly instalment".
func Instalments(n int, f calc.Frequency) string {
	if n == 1 {
		return fmt.Sprintf("1 %s instalment", f)
	}
	return fmt.Sprintf("%d %s instalments", n, f)
}

// months says how long a plan runs, e.g. "36 months".
func months(n int) string {
	if n == 1 {
		return "1 month"
	}
	return fmt.Sprintf("%d months", n)
}

// ratePercent formats a fraction as a percentage with two decimals:
// 0.072 -> "7.20%".
func ratePercent(fraction decimal.Decimal) string {
	return fraction.Mul(decimal.NewFromInt(100)).StringFixed(2) + "%"
}

// label describes an offer in a line, e.g. "12 monthly instalments, equal
// instalments (等额本息) at 7.20% a year".
func label(o plan.Offer, cappedAt decimal.Decimal) string {
	s := Instalments(o.Terms, o.Frequency) + ", "
	switch o.Method {
	case calc.MethodAnnuity, calc.MethodEqualPrincipal, calc.MethodInterestOnly:
		s += MethodName(o.Method) + " at " + ratePercent(o.AnnualRate) + " a year"
	case calc.MethodFee:
		s += "equal principal plus a monthly fee of " + ratePercent(o.MonthlyFeeRate) + " of the amount"
		if o.FeeUpfront {
			s += ", all charged with the first instalment"
		}
		s += " (分期手续费)"
	default:
		s += MethodName(o.Method)
	}
	if cappedAt.IsPositive() {
		s += "; amount reduced to your credit limit of " + calc.FormatMoney(cappedAt)
	}
	return s
}
