package calc

import (
	"fmt"
	"math/big"
	"testing"
)

func TestPenaltyInterest(t *testing.T) {
	uncapped := DefaultPenaltyRule()
	uncapped.MaxAnnualRate = dec("0")
	tests := []struct {
		name      string
		rule      PenaltyRule
		principal string
		annual    string
		days      int
		want      string
	}{
		// 1000 x 0.12/360 x 1.5 x 10 = 5.00
		{"default", DefaultPenaltyRule(), "1000", "0.12", 10, "5.00"},
		// 945.60 x 0.12 / 360 x 1.5 x 7 = 3.3096
		{"rounds to cents", DefaultPenaltyRule(), "945.60", "0.12", 7, "3.31"},
		// 333.33 x 0.1 / 360 x 1.5 x 1 = 0.138887... -> 0.14
		{"one day", DefaultPenaltyRule(), "333.33", "0.1", 1, "0.14"},
		// 10 x 0.12 / 360 x 1.5 x 1 = 0.005 exactly -> half-up 0.01
		{"half a cent", DefaultPenaltyRule(), "10", "0.12", 1, "0.01"},
		{"no days", DefaultPenaltyRule(), "1000", "0.12", 0, "0.00"},
		// 24% x 1.5 = 36% is capped at 24%: 10000 x 0.24 / 360 x 30 = 200.00
		{"capped at 24%", DefaultPenaltyRule(), "10000", "0.24", 30, "200.00"},
		{"uncapped", uncapped, "10000", "0.24", 30, "300.00"},
		{"365-day basis, x2", PenaltyRule{Multiplier: dec("2"), DayBasis: 365}, "10000", "0.0365", 10, "20.00"},
		// simple, never compounded: 200 days is 200 x one day's amount before rounding
		{"long", DefaultPenaltyRule(), "5000", "0.15", 200, "625.00"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.rule.Interest(dec(tc.principal), dec(tc.annual), tc.days)
			if err != nil {
				t.Fatal(err)
			}
			if FormatMoney(got) != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
			// big.Rat: principal x min(annual x mult, cap) / basis x days
			rate := new(big.Rat).Mul(ratOf(dec(tc.annual)), ratOf(tc.rule.Multiplier))
			if c := ratOf(tc.rule.MaxAnnualRate); c.Sign() > 0 && rate.Cmp(c) > 0 {
				rate = c
			}
			x := new(big.Rat).Mul(ratOf(dec(tc.principal)), rate)
			x.Mul(x, ratInt(int64(tc.days))).Quo(x, ratInt(int64(tc.rule.DayBasis)))
			if ref := ratString(ratCents(x)); ref != FormatMoney(got) {
				t.Errorf("got %s, big.Rat gives %s", got, ref)
			}
		})
	}
}

func TestPenaltyInterestRejects(t *testing.T) {
	tests := []struct {
		rule              PenaltyRule
		principal, annual string
		days              int
	}{
		{DefaultPenaltyRule(), "-1", "0.1", 1},
		{DefaultPenaltyRule(), "1", "-0.1", 1},
		{DefaultPenaltyRule(), "1", "0.1", -1},
		{PenaltyRule{Multiplier: dec("0"), DayBasis: 360}, "1", "0.1", 1},
		{PenaltyRule{Multiplier: dec("1.5"), DayBasis: 0}, "1", "0.1", 1},
		{PenaltyRule{Multiplier: dec("1.5"), DayBasis: 360, MaxAnnualRate: dec("-1")}, "1", "0.1", 1},
	}
	for i, tc := range tests {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			if _, err := tc.rule.Interest(dec(tc.principal), dec(tc.annual), tc.days); err == nil {
				t.Error("want an error")
			}
		})
	}
}
