package calc

import (
	"errors"
	"fmt"
	"math/big"

	"github.com/shopspring/decimal"
)

// This file holds the second, independent computation the tests compare
// calc against: schedules re-derived from the rules of domain.md §7 with
// exact rational arithmetic (math/big.Rat), and the schedule invariants.

// ratOf converts a decimal to an exact rational.
func ratOf(d decimal.Decimal) *big.Rat { return d.Rat() }

// ratInt returns n as a rational.
func ratInt(n int64) *big.Rat { return new(big.Rat).SetInt64(n) }

// ratCents rounds a non-negative rational half-up to cents and returns it as
// a rational with denominator 100.
func ratCents(x *big.Rat) *big.Rat {
	// floor((x*100*2 + 1) / 2) computed as floor((2*num*100 + den) / (2*den))
	num := new(big.Int).Mul(x.Num(), big.NewInt(200))
	num.Add(num, x.Denom())
	den := new(big.Int).Mul(x.Denom(), big.NewInt(2))
	q := new(big.Int).Div(num, den) // Euclidean division == floor for den > 0
	return new(big.Rat).SetFrac(q, big.NewInt(100))
}

// ratPow returns x^n by repeated multiplication.
func ratPow(x *big.Rat, n int) *big.Rat {
	out := ratInt(1)
	for range n {
		out.Mul(out, x)
	}
	return out
}

// ratMin returns the smaller of a and b.
func ratMin(a, b *big.Rat) *big.Rat {
	if a.Cmp(b) <= 0 {
		return a
	}
	return b
}

// ratString formats a rational with two decimals (exact for cents).
func ratString(x *big.Rat) string { return x.FloatString(2) }

// refRow is one row of the reference computation, as two-decimal strings.
type refRow struct {
	due                                        Date
	principal, interest, fee, payment, balance string
}

// refPlan are the inputs of the reference schedule.
type refPlan struct {
	method     Method
	principal  decimal.Decimal
	n          int
	annual     decimal.Decimal // fraction
	monthlyFee decimal.Decimal // fraction
	upfront    bool
	months     int // months per period
	due        func(k int) Date
}

// refSchedule re-derives the rows of p with big.Rat.
func refSchedule(p refPlan) []refRow {
	P := ratOf(p.principal)
	ppy := ratInt(int64(12 / p.months))
	r := new(big.Rat).Quo(ratOf(p.annual), ppy)
	n := ratInt(int64(p.n))

	var level *big.Rat
	switch p.method {
	case MethodAnnuity:
		if r.Sign() == 0 {
			level = ratCents(new(big.Rat).Quo(P, n))
		} else {
			g := ratPow(new(big.Rat).Add(ratInt(1), r), p.n)
			num := new(big.Rat).Mul(P, r)
			num.Mul(num, g)
			den := new(big.Rat).Sub(g, ratInt(1))
			level = ratCents(num.Quo(num, den))
		}
	case MethodEqualPrincipal, MethodFee, MethodZero:
		level = ratCents(new(big.Rat).Quo(P, n))
	}
	fee := ratCents(new(big.Rat).Mul(new(big.Rat).Mul(P, ratOf(p.monthlyFee)), ratInt(int64(p.months))))

	rows := make([]refRow, 0, p.n)
	bal := new(big.Rat).Set(P)
	for k := 1; k <= p.n; k++ {
		interest := ratCents(new(big.Rat).Mul(bal, r))
		var prin *big.Rat
		switch {
		case k == p.n:
			prin = new(big.Rat).Set(bal)
		case p.method == MethodAnnuity:
			prin = ratMin(new(big.Rat).Sub(level, interest), bal)
		case p.method == MethodInterestOnly:
			prin = ratInt(0)
		default:
			prin = ratMin(level, bal)
		}
		f := fee
		if p.upfront {
			if k == 1 {
				f = new(big.Rat).Mul(fee, n)
			} else {
				f = ratInt(0)
			}
		}
		bal = new(big.Rat).Sub(bal, prin)
		pay := new(big.Rat).Add(prin, interest)
		pay.Add(pay, f)
		rows = append(rows, refRow{
			due:       p.due(k),
			principal: ratString(prin), interest: ratString(interest), fee: ratString(f),
			payment: ratString(pay), balance: ratString(bal),
		})
	}
	return rows
}

// refFromTerms is the reference plan of t.
func refFromTerms(t Terms) refPlan {
	months := 1
	if t.Frequency == Quarterly {
		months = 3
	}
	return refPlan{
		method: t.Method, principal: t.Principal, n: t.Terms, annual: t.AnnualRate,
		monthlyFee: t.MonthlyFeeRate, upfront: t.FeeUpfront, months: months,
		due: func(k int) Date { return t.Start.AddMonths(k * months) },
	}
}

// compareRows reports the first difference between rows and want.
func compareRows(rows []Row, want []refRow) error {
	if len(rows) != len(want) {
		return fmt.Errorf("got %d rows, want %d", len(rows), len(want))
	}
	for i, r := range rows {
		w := want[i]
		got := [...]string{FormatMoney(r.Principal), FormatMoney(r.Interest), FormatMoney(r.Fee), FormatMoney(r.Payment), FormatMoney(r.Balance)}
		exp := [...]string{w.principal, w.interest, w.fee, w.payment, w.balance}
		if got != exp || r.DueDate != w.due {
			return fmt.Errorf("row %d: got %s %v, want %s %v", r.No, r.DueDate, got, w.due, exp)
		}
	}
	return nil
}

// checkInvariants verifies the schedule invariants: every amount in cents
// and non-negative, payment = principal + interest + fee, the balance falls
// by the principal from s.Principal to exactly 0.00, the principal column
// sums to s.Principal, the totals sum the columns and holiday rows are empty.
func checkInvariants(s Schedule) error {
	if len(s.Rows) == 0 {
		return errors.New("no rows")
	}
	bal := s.Principal
	var sumP, sumI, sumF, sumPay decimal.Decimal
	for _, r := range s.Rows {
		for name, v := range map[string]decimal.Decimal{"principal": r.Principal, "interest": r.Interest, "fee": r.Fee, "payment": r.Payment, "balance": r.Balance} {
			if v.IsNegative() {
				return fmt.Errorf("row %d: %s %s is negative", r.No, name, v)
			}
			if !v.Equal(v.Round(2)) {
				return fmt.Errorf("row %d: %s %s is not in cents", r.No, name, v)
			}
		}
		if !r.Payment.Equal(r.Principal.Add(r.Interest).Add(r.Fee)) {
			return fmt.Errorf("row %d: payment %s != principal %s + interest %s + fee %s", r.No, r.Payment, r.Principal, r.Interest, r.Fee)
		}
		if r.Holiday && !r.Payment.IsZero() {
			return fmt.Errorf("row %d: holiday row with payment %s", r.No, r.Payment)
		}
		bal = bal.Sub(r.Principal)
		if !r.Balance.Equal(bal) {
			return fmt.Errorf("row %d: balance %s, want %s", r.No, r.Balance, bal)
		}
		sumP, sumI, sumF, sumPay = sumP.Add(r.Principal), sumI.Add(r.Interest), sumF.Add(r.Fee), sumPay.Add(r.Payment)
	}
	if !bal.IsZero() {
		return fmt.Errorf("final balance %s, want 0.00", bal)
	}
	if !sumP.Equal(s.Principal) {
		return fmt.Errorf("principal column sums to %s, want %s", sumP, s.Principal)
	}
	for _, c := range []struct {
		name     string
		got, sum decimal.Decimal
	}{{"principal", s.TotalPrincipal, sumP}, {"interest", s.TotalInterest, sumI}, {"fee", s.TotalFee, sumF}, {"payment", s.TotalPayment, sumPay}} {
		if !c.got.Equal(c.sum) {
			return fmt.Errorf("total %s %s, column sums to %s", c.name, c.got, c.sum)
		}
	}
	return nil
}

// mustDate parses a date for tests, panicking on a typo in the test itself.
func mustDate(s string) Date {
	d, err := ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

// dec parses a decimal for tests, panicking on a typo in the test itself.
func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }
