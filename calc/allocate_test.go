package calc

import (
	"fmt"
	"testing"

	"github.com/shopspring/decimal"
)

// owed builds Amounts from penalty, fee, interest, principal strings.
func owed(penalty, fee, interest, principal string) Amounts {
	return Amounts{Penalty: dec(penalty), Fee: dec(fee), Interest: dec(interest), Principal: dec(principal)}
}

// amountsString formats Amounts as "penalty/fee/interest/principal".
func amountsString(a Amounts) string {
	return FormatMoney(a.Penalty) + "/" + FormatMoney(a.Fee) + "/" + FormatMoney(a.Interest) + "/" + FormatMoney(a.Principal)
}

func TestAllocate(t *testing.T) {
	// Given out of order on purpose: no 2 is older than no 3.
	open := []OpenInstalment{
		{No: 3, DueDate: mustDate("2026-04-15"), Owed: owed("0", "10", "50", "900")},
		{No: 2, DueDate: mustDate("2026-03-15"), Owed: owed("5.25", "10", "60", "890")},
	}
	tests := []struct {
		name        string
		w           Waterfall
		paid        string
		want        map[int]string // no -> allocated penalty/fee/interest/principal
		unallocated string
	}{
		{"nothing paid", DefaultWaterfall(), "0", map[int]string{2: "0.00/0.00/0.00/0.00", 3: "0.00/0.00/0.00/0.00"}, "0.00"},
		{"penalty only", DefaultWaterfall(), "5", map[int]string{2: "5.00/0.00/0.00/0.00", 3: "0.00/0.00/0.00/0.00"}, "0.00"},
		{"into interest", DefaultWaterfall(), "50.25", map[int]string{2: "5.25/10.00/35.00/0.00", 3: "0.00/0.00/0.00/0.00"}, "0.00"},
		{"oldest settled, next started", DefaultWaterfall(), "1000", map[int]string{2: "5.25/10.00/60.00/890.00", 3: "0.00/10.00/24.75/0.00"}, "0.00"},
		{"everything plus overpayment", DefaultWaterfall(), "2000", map[int]string{2: "5.25/10.00/60.00/890.00", 3: "0.00/10.00/50.00/900.00"}, "74.75"},
		{"component first", Waterfall{Mode: ComponentFirst}, "100", map[int]string{2: "5.25/10.00/60.00/0.00", 3: "0.00/10.00/14.75/0.00"}, "0.00"},
		{"principal first order", Waterfall{Order: []Component{ComponentPrincipal, ComponentInterest, ComponentFee, ComponentPenalty}}, "900", map[int]string{2: "0.00/0.00/10.00/890.00", 3: "0.00/0.00/0.00/0.00"}, "0.00"},
		{"interest first, component first", Waterfall{Order: []Component{ComponentInterest, ComponentPenalty, ComponentFee, ComponentPrincipal}, Mode: ComponentFirst}, "120", map[int]string{2: "5.25/4.75/60.00/0.00", 3: "0.00/0.00/50.00/0.00"}, "0.00"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.w.Allocate(dec(tc.paid), open)
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Instalments) != 2 || got.Instalments[0].No != 2 || got.Instalments[1].No != 3 {
				t.Fatalf("instalments not oldest first: %+v", got.Instalments)
			}
			for _, it := range got.Instalments {
				if s := amountsString(it.Allocated); s != tc.want[it.No] {
					t.Errorf("instalment %d: allocated %s, want %s", it.No, s, tc.want[it.No])
				}
			}
			if FormatMoney(got.Unallocated) != tc.unallocated {
				t.Errorf("unallocated %s, want %s", got.Unallocated, tc.unallocated)
			}
			if err := checkAllocation(dec(tc.paid), open, got); err != nil {
				t.Error(err)
			}
		})
	}
}

// checkAllocation verifies that an allocation never exceeds the amount paid
// nor any amount owed, that allocated + remaining = owed per component, and
// that allocated + unallocated = paid.
func checkAllocation(paid decimal.Decimal, open []OpenInstalment, got Allocation) error {
	byNo := map[int]OpenInstalment{}
	for _, o := range open {
		byNo[o.No] = o
	}
	total := zeroAmounts().Total()
	for _, it := range got.Instalments {
		o := byNo[it.No]
		for _, c := range Components {
			a, r, w := it.Allocated.Get(c), it.Remaining.Get(c), o.Owed.Get(c)
			if a.IsNegative() || r.IsNegative() {
				return fmt.Errorf("instalment %d %s: negative allocated %s or remaining %s", it.No, c, a, r)
			}
			if a.GreaterThan(w) || !a.Add(r).Equal(w) {
				return fmt.Errorf("instalment %d %s: allocated %s + remaining %s vs owed %s", it.No, c, a, r, w)
			}
		}
		total = total.Add(it.Allocated.Total())
	}
	if total.GreaterThan(paid) || !total.Equal(got.Allocated) || !got.Allocated.Add(got.Unallocated).Equal(paid) {
		return fmt.Errorf("allocated %s (sum %s) + unallocated %s vs paid %s", got.Allocated, total, got.Unallocated, paid)
	}
	if got.Unallocated.IsPositive() {
		for _, it := range got.Instalments {
			if it.Remaining.Total().IsPositive() {
				return fmt.Errorf("overpayment %s left while instalment %d still owes %s", got.Unallocated, it.No, it.Remaining.Total())
			}
		}
	}
	return nil
}

func TestAllocateRejects(t *testing.T) {
	open := []OpenInstalment{{No: 1, DueDate: mustDate("2026-01-01"), Owed: owed("0", "0", "1", "10")}}
	tests := []struct {
		name string
		w    Waterfall
		paid string
		open []OpenInstalment
	}{
		{"negative paid", DefaultWaterfall(), "-1", open},
		{"sub-cent paid", DefaultWaterfall(), "1.001", open},
		{"unknown mode", Waterfall{Mode: "newest-first"}, "1", open},
		{"short order", Waterfall{Order: []Component{ComponentFee}}, "1", open},
		{"duplicate order", Waterfall{Order: []Component{ComponentFee, ComponentFee, ComponentInterest, ComponentPrincipal}}, "1", open},
		{"negative owed", DefaultWaterfall(), "1", []OpenInstalment{{No: 1, Owed: owed("0", "0", "-1", "10")}}},
	}
	for _, tc := range tests {
		if _, err := tc.w.Allocate(dec(tc.paid), tc.open); err == nil {
			t.Errorf("%s: want an error", tc.name)
		}
	}
}

func TestOpenFromRows(t *testing.T) {
	s, err := BuildSchedule(Terms{Method: MethodFee, Principal: dec("1200"), Terms: 3, MonthlyFeeRate: dec("0.01"), Start: mustDate("2026-01-15")})
	if err != nil {
		t.Fatal(err)
	}
	open := OpenFromRows(s.Rows[1:])
	if len(open) != 2 || open[0].No != 2 || amountsString(open[0].Owed) != "0.00/12.00/0.00/400.00" || open[1].DueDate.String() != "2026-04-15" {
		t.Errorf("OpenFromRows = %+v", open)
	}
	if got := OpenFromRows([]Row{{No: 1, Holiday: true}}); len(got) != 0 {
		t.Errorf("holiday rows must be skipped, got %+v", got)
	}
}
