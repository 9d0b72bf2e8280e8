package calc

import (
	"testing"
)

func TestQuoteSettlement(t *testing.T) {
	// A 12 x 500 fee plan at 1%/month (fee 60.00 per instalment); the first
	// two instalments are paid, the third is past due with a penalty, and
	// the plan is settled on 2026-04-20: instalment 4 (due 2026-05-15) is
	// the current period.
	s, err := BuildSchedule(Terms{Method: MethodFee, Principal: dec("6000"), Terms: 12, MonthlyFeeRate: dec("0.01"), Start: mustDate("2026-01-15")})
	if err != nil {
		t.Fatal(err)
	}
	open := OpenFromRows(s.Rows[2:])
	open[0].Owed.Penalty = dec("1.25")
	asOf := mustDate("2026-04-20")

	tests := []struct {
		name  string
		terms SettlementTerms
		// principal, interest, fee, penalty, charge, total
		want [6]string
	}{
		// past due 500 + 60 + 1.25; remaining principal 4500 + current fee 60
		{"default current period", SettlementTerms{}, [6]string{"5000.00", "0.00", "120.00", "1.25", "0.00", "5121.25"}},
		// all nine remaining fees: 9 x 60
		{"all remaining", SettlementTerms{Policy: SettleAllRemaining}, [6]string{"5000.00", "0.00", "600.00", "1.25", "0.00", "5601.25"}},
		// 3% of 4500 = 135
		{"percentage", SettlementTerms{Policy: SettlePercentage, Percent: dec("0.03")}, [6]string{"5000.00", "0.00", "60.00", "1.25", "135.00", "5196.25"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q, err := QuoteSettlement(open, asOf, tc.terms)
			if err != nil {
				t.Fatal(err)
			}
			got := [6]string{FormatMoney(q.Principal), FormatMoney(q.Interest), FormatMoney(q.Fee), FormatMoney(q.Penalty), FormatMoney(q.Charge), FormatMoney(q.Total)}
			if got != tc.want {
				t.Errorf("quote %v, want %v", got, tc.want)
			}
			if amountsString(q.PastDue) != "1.25/60.00/0.00/500.00" || FormatMoney(q.RemainingPrincipal) != "4500.00" {
				t.Errorf("past due %s, remaining principal %s", amountsString(q.PastDue), q.RemainingPrincipal)
			}
		})
	}
}

func TestQuoteSettlementInterestPlans(t *testing.T) {
	s, err := BuildSchedule(Terms{Method: MethodAnnuity, Principal: dec("10000"), Terms: 12, AnnualRate: dec("0.24"), Start: mustDate("2026-01-15")})
	if err != nil {
		t.Fatal(err)
	}
	open := OpenFromRows(s.Rows)
	tests := []struct {
		name  string
		asOf  string
		terms SettlementTerms
		want  [3]string // principal, interest, total
	}{
		// before the first due date: 10000 + the first period's 200.00
		{"before the first due date", "2026-01-20", SettlementTerms{}, [3]string{"10000.00", "200.00", "10200.00"}},
		// on a due date, that instalment is current, not past due
		{"on the first due date", "2026-02-15", SettlementTerms{}, [3]string{"10000.00", "200.00", "10200.00"}},
		// the day after: instalment 1 past due in full, instalment 2 current
		{"day after", "2026-02-16", SettlementTerms{}, [3]string{"10000.00", "385.09", "10385.09"}},
		{"all remaining", "2026-01-20", SettlementTerms{Policy: SettleAllRemaining}, [3]string{"10000.00", "1347.15", "11347.15"}},
		{"after the last due date", "2027-02-01", SettlementTerms{}, [3]string{"10000.00", "1347.15", "11347.15"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q, err := QuoteSettlement(open, mustDate(tc.asOf), tc.terms)
			if err != nil {
				t.Fatal(err)
			}
			if got := [3]string{FormatMoney(q.Principal), FormatMoney(q.Interest), FormatMoney(q.Total)}; got != tc.want {
				t.Errorf("quote %v, want %v", got, tc.want)
			}
		})
	}
}

func TestQuoteSettlementRejects(t *testing.T) {
	open := []OpenInstalment{{No: 1, DueDate: mustDate("2026-01-01"), Owed: owed("0", "0", "1", "10")}}
	tests := []struct {
		name  string
		open  []OpenInstalment
		asOf  Date
		terms SettlementTerms
	}{
		{"unknown policy", open, mustDate("2026-01-01"), SettlementTerms{Policy: "free"}},
		{"percent without the percentage policy", open, mustDate("2026-01-01"), SettlementTerms{Percent: dec("0.01")}},
		{"negative percent", open, mustDate("2026-01-01"), SettlementTerms{Policy: SettlePercentage, Percent: dec("-0.01")}},
		{"no date", open, Date{}, SettlementTerms{}},
		{"negative owed", []OpenInstalment{{No: 1, Owed: owed("0", "-1", "0", "0")}}, mustDate("2026-01-01"), SettlementTerms{}},
	}
	for _, tc := range tests {
		if _, err := QuoteSettlement(tc.open, tc.asOf, tc.terms); err == nil {
			t.Errorf("%s: want an error", tc.name)
		}
	}
	for _, p := range SettlementPolicies {
		if got, err := ParseSettlementPolicy(string(p)); err != nil || got != p {
			t.Errorf("ParseSettlementPolicy(%q) = %q, %v", p, got, err)
		}
	}
}
