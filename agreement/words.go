package agreement

import (
	"fmt"

	"github.com/fenqi/fenqi/calc"
)

// methodWords describes a repayment method with its Chinese product term.
func methodWords(m calc.Method) string {
	switch m {
	case calc.MethodAnnuity:
		return "equal instalments (等额本息): the same instalment every period, interest on the outstanding principal"
	case calc.MethodEqualPrincipal:
		return "equal principal (等额本金): the same principal every period plus interest on the outstanding principal"
	case calc.MethodInterestOnly:
		return "interest only (先息后本): interest every period, the principal with the last instalment"
	case calc.MethodFee:
		return "instalments with a fee (分期手续费): the same principal every period plus a fee, no interest"
	case calc.MethodZero:
		return "zero interest (免息): the same principal every period, no interest and no fee"
	}
	return string(m)
}

// periodWords names a period: "month" or "quarter".
func periodWords(f calc.Frequency) string {
	if f == calc.Quarterly {
		return "quarter"
	}
	return "month"
}

// instalmentCount says how many instalments and how often, e.g.
// "12 monthly instalments, one a month".
func instalmentCount(n int, f calc.Frequency) string {
	if n == 1 {
		return fmt.Sprintf("1 %s instalment", f)
	}
	return fmt.Sprintf("%d %s instalments, one a %s", n, f, periodWords(f))
}

// instalmentWords summarises the instalments: one level amount, a level
// amount with a different last one, or the first and the last.
func instalmentWords(s calc.Schedule, currency string) string {
	first, last := s.Rows[0].Payment, s.Rows[len(s.Rows)-1].Payment
	level := true
	for _, r := range s.Rows[:len(s.Rows)-1] {
		if !r.Payment.Equal(first) {
			level = false
			break
		}
	}
	switch {
	case len(s.Rows) == 1:
		return fmt.Sprintf("one payment of %s %s", calc.FormatMoney(first), currency)
	case level && last.Equal(first):
		return fmt.Sprintf("%s %s every period", calc.FormatMoney(first), currency)
	case level:
		return fmt.Sprintf("%s %s every period, the last one %s %s", calc.FormatMoney(first), currency, calc.FormatMoney(last), currency)
	}
	return fmt.Sprintf("from %s %s (first) to %s %s (last)", calc.FormatMoney(first), currency, calc.FormatMoney(last), currency)
}
