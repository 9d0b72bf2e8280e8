package collection

import (
	"errors"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/fenqi/fenqi/calc"
)

// TestAccruePenalty checks penalty figures computed by hand: the daily
// rate is min(annual x 1.5, 24%) / 360 on the overdue principal, per day
// past the due date, never compounded, rounded half-up once.
func TestAccruePenalty(t *testing.T) {
	rule := DefaultRules().Penalty.Calc()
	due := "2026-01-15"
	row := func(principal string) Instalment {
		return Instalment{No: 1, DueDate: day(t, due), Principal: d(principal), Interest: d("60.00"), Fee: d("5.00"), Overdue: true}
	}
	for _, c := range []struct {
		name      string
		row       Instalment
		asOf      string
		annual    string
		days      int
		principal string // the principal the new penalty is charged on
		want      string // Total, by hand
	}{
		// 1000 x 0.18 / 360 = 0.50 a day.
		{"1 day", row("1000.00"), "2026-01-16", "0.12", 1, "1000.00", "0.50"},
		{"4 days: grace counted once overdue", row("1000.00"), "2026-01-19", "0.12", 4, "1000.00", "2.00"},
		{"10 days", row("1000.00"), "2026-01-25", "0.12", 10, "1000.00", "5.00"},
		// 0.20 x 1.5 = 0.30, capped at 0.24: 1000 x 0.24 x 30 / 360 = 20.00.
		{"capped rate", row("1000.00"), "2026-02-14", "0.20", 30, "1000.00", "20.00"},
		// 333.33 x 0.15 x 7 / 360 = 0.97222...
		{"rounded down", row("333.33"), "2026-01-22", "0.10", 7, "333.33", "0.97"},
		// 30 x 0.18 / 360 = 0.015: half a cent rounds up.
		{"half-up", row("30.00"), "2026-01-16", "0.12", 1, "30.00", "0.02"},
		{"on the due date", row("1000.00"), due, "0.12", 0, "1000.00", "0.00"},
		{"no rate", row("1000.00"), "2026-01-25", "0", 10, "1000.00", "0.00"},
		// 5.00 accrued through 01-25 on 1000; then 500 for 10 days: 2.50.
		{"after a payment", Instalment{No: 1, DueDate: day(t, due), Principal: d("500.00"), PenaltyAccrued: d("5.00"), PenaltyThrough: day(t, "2026-01-25"), Overdue: true}, "2026-02-04", "0.12", 10, "500.00", "7.50"},
		{"through after the date", Instalment{No: 1, DueDate: day(t, due), Principal: d("500.00"), PenaltyAccrued: d("5.00"), PenaltyThrough: day(t, "2026-02-10"), Overdue: true}, "2026-02-04", "0.12", 0, "500.00", "5.00"},
		// A penalty carried onto the row, no through date: from the due date.
		{"carried penalty", Instalment{No: 1, DueDate: day(t, due), Principal: d("1000.00"), PenaltyAccrued: d("3.00"), Overdue: true}, "2026-01-25", "0.12", 10, "1000.00", "8.00"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := AccruePenalty([]Instalment{c.row}, day(t, c.asOf), d(c.annual), rule)
			must(t, err)
			if len(got) != 1 || got[0].No != 1 || !got[0].Total.Equal(d(c.want)) || got[0].Days != c.days {
				t.Fatalf("got %+v, want total %s over %d days", got, c.want, c.days)
			}
			byCalc, err := rule.Interest(d(c.principal), d(c.annual), c.days)
			must(t, err)
			if !got[0].New.Equal(byCalc) || !got[0].Total.Equal(c.row.PenaltyAccrued.Add(byCalc)) {
				t.Errorf("new %s, calc.PenaltyRule.Interest %s", got[0].New, byCalc)
			}
		})
	}
}

// TestAccruePenaltyMonotonic: the total never decreases day by day, the
// same inputs give the same figure, and rows not overdue accrue nothing.
func TestAccruePenaltyMonotonic(t *testing.T) {
	rule := DefaultRules().Penalty.Calc()
	rows := schedule(t, "2026-01-15", 3)
	rows[0].Overdue, rows[1].Overdue = true, true
	rows[1].Principal = d("333.33")
	prev := map[int]decimal.Decimal{}
	for asOf := day(t, "2026-02-15"); asOf.Before(day(t, "2026-12-31")); asOf = asOf.AddDays(1) {
		got, err := AccruePenalty(rows, asOf, d("0.2"), rule)
		must(t, err)
		again, err := AccruePenalty(rows, asOf, d("0.2"), rule)
		must(t, err)
		if len(got) != 2 || got[0].No != 1 || got[1].No != 2 {
			t.Fatalf("%s: %+v, want instalments 1 and 2", asOf, got)
		}
		for i, a := range got {
			if !a.Total.Equal(again[i].Total) {
				t.Fatalf("%s: %s then %s", asOf, a.Total, again[i].Total)
			}
			if p, ok := prev[a.No]; ok && a.Total.LessThan(p) {
				t.Fatalf("%s: instalment %d penalty fell from %s to %s", asOf, a.No, p, a.Total)
			}
			prev[a.No] = a.Total
		}
	}
}

func TestAccruePenaltyErrors(t *testing.T) {
	rule := DefaultRules().Penalty.Calc()
	ok := Instalment{No: 1, DueDate: day(t, "2026-01-15"), Principal: d("1.00"), Interest: d("0"), Fee: d("0"), Overdue: true}
	for _, c := range []struct {
		name string
		rows []Instalment
		asOf calc.Date
		rate string
		rule calc.PenaltyRule
		want string
	}{
		{"no date", []Instalment{ok}, calc.Date{}, "0.1", rule, "no date"},
		{"bad rule", []Instalment{ok}, day(t, "2026-02-01"), "0.1", calc.PenaltyRule{}, "multiplier"},
		{"negative rate", []Instalment{ok}, day(t, "2026-02-01"), "-0.1", rule, "annual rate"},
		{"twice", []Instalment{ok, ok}, day(t, "2026-02-01"), "0.1", rule, "instalment 1 is given twice"},
		{"no due date", []Instalment{{No: 2}}, day(t, "2026-02-01"), "0.1", rule, "instalment 2 has no due date"},
		{"negative", []Instalment{{No: 3, DueDate: day(t, "2026-01-15"), Principal: d("-1")}}, day(t, "2026-02-01"), "0.1", rule, "instalment 3 principal -1"},
		{"sub-cent", []Instalment{{No: 3, DueDate: day(t, "2026-01-15"), Fee: d("0.001")}}, day(t, "2026-02-01"), "0.1", rule, "instalment 3 fee 0.001"},
		{"settled", []Instalment{{No: 4, DueDate: day(t, "2026-01-15"), PenaltySettled: d("1")}}, day(t, "2026-02-01"), "0.1", rule, "penalty settled 1 exceeds"},
		{"overdue early", []Instalment{ok}, day(t, "2026-01-10"), "0.1", rule, "marked overdue but falls due on 2026-01-15"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := AccruePenalty(c.rows, c.asOf, d(c.rate), c.rule)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %v, want %q", err, c.want)
			}
		})
	}
}

func TestOwed(t *testing.T) {
	r := DefaultRules()
	z := "0.00"
	for _, c := range []struct {
		name                  string
		rows                  []Instalment
		asOf                  string
		due, overdue          [4]string // principal, interest, fee, penalty
		remaining             string
		dpd                   int
		bucket, oldest, payBy string
	}{
		{"before the due date", schedule(t, "2026-01-15", 2), "2026-01-14",
			[4]string{z, z, z, z}, [4]string{z, z, z, z}, "2130.00", 0, "M0", "", "2026-01-21"},
		{"in grace", schedule(t, "2026-01-15", 2), "2026-01-18",
			[4]string{"1000.00", "60.00", "5.00", z}, [4]string{z, z, z, z}, "2130.00", 0, "M0", "", "2026-01-25"},
		{"overdue after grace: penalty from the due date", schedule(t, "2026-01-15", 2), "2026-01-19",
			[4]string{"1000.00", "60.00", "5.00", "2.00"}, [4]string{"1000.00", "60.00", "5.00", "2.00"}, "2132.00", 4, "M1", "2026-01-15", "2026-01-26"},
		// 2026-01-15 -> 2026-03-17: 61 days x 0.50; 2026-02-15 -> 03-17: 30 x 0.50.
		{"two overdue", schedule(t, "2026-01-15", 3), "2026-03-17",
			[4]string{"3000.00", "180.00", "15.00", "45.50"}, [4]string{"2000.00", "120.00", "10.00", "45.50"}, "3240.50", 61, "M3", "2026-01-15", "2026-03-24"},
		{"a carried shortfall is not overdue", []Instalment{{No: 1, DueDate: day(t, "2026-01-15"), Principal: d("0"), Interest: d("8.00"), Fee: d("2.00")}}, "2026-02-01",
			[4]string{z, "8.00", "2.00", z}, [4]string{z, z, z, z}, "10.00", 0, "M0", "", "2026-02-08"},
		{"the store's mark counts", []Instalment{{No: 1, DueDate: day(t, "2026-01-15"), Principal: d("0"), Interest: d("8.00"), Fee: d("2.00"), Overdue: true}}, "2026-02-01",
			[4]string{z, "8.00", "2.00", z}, [4]string{z, "8.00", "2.00", z}, "10.00", 17, "M1", "2026-01-15", "2026-02-08"},
		// 1.50 accrued through 01-18 and paid; 7 more days x 0.50 = 3.50.
		{"penalty partly paid", []Instalment{{No: 1, DueDate: day(t, "2026-01-15"), Principal: d("1000.00"), Interest: d("0"), Fee: d("0"), PenaltySettled: d("1.50"), PenaltyAccrued: d("1.50"), PenaltyThrough: day(t, "2026-01-18")}}, "2026-01-25",
			[4]string{"1000.00", z, z, "3.50"}, [4]string{"1000.00", z, z, "3.50"}, "1003.50", 10, "M1", "2026-01-15", "2026-02-01"},
	} {
		t.Run(c.name, func(t *testing.T) {
			b, err := r.Owed(c.rows, day(t, c.asOf), rate)
			must(t, err)
			for _, x := range []struct {
				what string
				got  calc.Amounts
				want [4]string
			}{{"due", b.Due, c.due}, {"overdue", b.Overdue, c.overdue}} {
				got := [4]string{calc.FormatMoney(x.got.Principal), calc.FormatMoney(x.got.Interest), calc.FormatMoney(x.got.Fee), calc.FormatMoney(x.got.Penalty)}
				if got != x.want {
					t.Errorf("%s %v, want %v", x.what, got, x.want)
				}
			}
			oldest := ""
			if !b.OldestDue.IsZero() {
				oldest = b.OldestDue.String()
			}
			if calc.FormatMoney(b.Remaining.Total()) != c.remaining || b.DaysPastDue != c.dpd || b.Bucket != c.bucket || oldest != c.oldest || b.PayBy.String() != c.payBy {
				t.Errorf("remaining %s, %d days past due, %s, oldest %q, pay by %s; want %s, %d, %s, %q, %s",
					b.Remaining.Total(), b.DaysPastDue, b.Bucket, oldest, b.PayBy, c.remaining, c.dpd, c.bucket, c.oldest, c.payBy)
			}
		})
	}
	if _, err := r.Owed(nil, calc.Date{}, rate); !errors.Is(err, ErrInvalidInput) {
		t.Errorf("no date: %v", err)
	}
	bad := r
	bad.PayByDays = 0
	if _, err := bad.Owed(nil, day(t, "2026-01-01"), rate); !errors.Is(err, ErrInvalidRules) {
		t.Errorf("bad rules: %v", err)
	}
}
