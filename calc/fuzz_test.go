package calc

import (
	"testing"

	"github.com/shopspring/decimal"
)

// fuzzTerms maps raw fuzz input onto valid Terms: the fuzzer explores
// amounts, terms, rates and dates; validation is tested elsewhere.
func fuzzTerms(method uint8, cents int64, terms uint16, rateBP uint16, feeBP uint16, upfront bool, quarterly bool, startDay uint16) Terms {
	m := Methods[int(method)%len(Methods)]
	t := Terms{
		Method:    m,
		Principal: decimal.New(1+abs64(cents)%(MaxPrincipal.IntPart()*100), -2), // 0.01 .. MaxPrincipal
		Terms:     1 + int(terms)%MaxTerms,
		Frequency: Monthly,
		Start:     mustDate("2024-01-01").AddDays(int(startDay) % 1500),
	}
	if quarterly {
		t.Frequency = Quarterly
	}
	switch {
	case m.chargesInterest():
		t.AnnualRate = decimal.New(int64(rateBP)%20001, -4) // 0 .. 200%
	case m == MethodFee:
		t.MonthlyFeeRate = decimal.New(int64(feeBP)%501, -4) // 0 .. 5% a month
		t.FeeUpfront = upfront
	}
	return t
}

// abs64 returns |n|, mapping the minimum int64 to 0.
func abs64(n int64) int64 {
	if n < 0 {
		if n == -n {
			return 0
		}
		return -n
	}
	return n
}

func FuzzBuildSchedule(f *testing.F) {
	f.Add(uint8(0), int64(1000000), uint16(12), uint16(2400), uint16(0), false, false, uint16(14))
	f.Add(uint8(1), int64(5), uint16(10), uint16(1200), uint16(0), false, true, uint16(30))
	f.Add(uint8(2), int64(100), uint16(359), uint16(20000), uint16(0), false, false, uint16(59))
	f.Add(uint8(3), int64(600000), uint16(12), uint16(0), uint16(60), true, false, uint16(0))
	f.Add(uint8(4), int64(1), uint16(359), uint16(0), uint16(0), false, true, uint16(789))
	f.Add(uint8(0), int64(100), uint16(179), uint16(1), uint16(0), false, false, uint16(1))
	f.Fuzz(func(t *testing.T, method uint8, cents int64, terms uint16, rateBP uint16, feeBP uint16, upfront bool, quarterly bool, startDay uint16) {
		tr := fuzzTerms(method, cents, terms, rateBP, feeBP, upfront, quarterly, startDay)
		s, err := BuildSchedule(tr)
		if err != nil {
			t.Fatalf("%+v: %v", tr, err)
		}
		if !s.Principal.Equal(tr.Principal) || len(s.Rows) != tr.Terms {
			t.Fatalf("%+v: principal %s, %d rows", tr, s.Principal, len(s.Rows))
		}
		if err := checkInvariants(s); err != nil {
			t.Fatalf("%+v: %v", tr, err)
		}
		for k, r := range s.Rows {
			if want := tr.normalised().Frequency.DueDate(tr.Start, k+1); r.DueDate != want || r.No != k+1 {
				t.Fatalf("%+v: row %d due %s, want %s", tr, r.No, r.DueDate, want)
			}
		}
		if s.APRNominal.IsNegative() || s.APREffective.LessThan(s.APRNominal) {
			t.Fatalf("%+v: nominal %s effective %s", tr, s.APRNominal, s.APREffective)
		}
	})
}

func FuzzAllocate(f *testing.F) {
	f.Add(int64(100000), []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, uint8(0), false)
	f.Add(int64(0), []byte{255, 0, 0, 0}, uint8(5), true)
	f.Add(int64(99999999), []byte{}, uint8(23), false)
	f.Add(int64(12345), []byte{9, 9, 9, 9, 0, 0, 0, 1, 3, 3, 3, 3}, uint8(7), true)
	f.Fuzz(func(t *testing.T, paidCents int64, owedBytes []byte, orderIdx uint8, componentFirst bool) {
		paid := decimal.New(abs64(paidCents)%1_000_000_00, -2)
		var open []OpenInstalment
		for i := 0; i+3 < len(owedBytes) && len(open) < 24; i += 4 {
			c := func(b byte) decimal.Decimal { return decimal.New(int64(b)*137, -2) }
			open = append(open, OpenInstalment{
				No:      len(open) + 1,
				DueDate: mustDate("2026-01-15").AddMonths(int(owedBytes[i]) % 7),
				Owed:    Amounts{Penalty: c(owedBytes[i]), Fee: c(owedBytes[i+1]), Interest: c(owedBytes[i+2]), Principal: c(owedBytes[i+3])},
			})
		}
		w := Waterfall{Order: permutation(int(orderIdx)), Mode: InstalmentFirst}
		if componentFirst {
			w.Mode = ComponentFirst
		}
		got, err := w.Allocate(paid, open)
		if err != nil {
			t.Fatal(err)
		}
		if err := checkAllocation(paid, open, got); err != nil {
			t.Fatal(err)
		}
	})
}

// permutation returns the n-th (mod 24) ordering of the four components.
func permutation(n int) []Component {
	pool := append([]Component(nil), Components...)
	out := make([]Component, 0, len(pool))
	for f := 6; len(pool) > 0; {
		i := (n / f) % len(pool)
		out = append(out, pool[i])
		pool = append(pool[:i], pool[i+1:]...)
		if len(pool) > 0 {
			f /= len(pool)
		}
	}
	return out
}

func FuzzReamortise(f *testing.F) {
	f.Add(uint8(0), int64(771817), uint16(3), uint16(2400), uint16(0), false, false, uint16(120))
	f.Add(uint8(1), int64(7), uint16(200), uint16(999), uint16(0), false, true, uint16(30))
	f.Add(uint8(3), int64(300000), uint16(6), uint16(0), uint16(60), true, false, uint16(59))
	f.Fuzz(func(t *testing.T, method uint8, cents int64, terms uint16, rateBP uint16, feeBP uint16, upfront bool, quarterly bool, startDay uint16) {
		plan := fuzzTerms(method, cents, terms, rateBP, feeBP, upfront, quarterly, startDay)
		req := ReamortiseRequest{Plan: plan, Balance: plan.Principal, Terms: plan.Terms, FirstDue: plan.Start, FirstNo: int(startDay % 50)}
		s, err := Reamortise(req)
		if err != nil {
			t.Fatalf("%+v: %v", req, err)
		}
		if !s.Principal.Equal(req.Balance) || len(s.Rows) != req.Terms || s.Rows[0].DueDate != req.FirstDue {
			t.Fatalf("%+v: principal %s, %d rows, first due %s", req, s.Principal, len(s.Rows), s.Rows[0].DueDate)
		}
		if err := checkInvariants(s); err != nil {
			t.Fatalf("%+v: %v", req, err)
		}
	})
}

func FuzzHoliday(f *testing.F) {
	f.Add(uint8(0), int64(1000000), uint16(12), uint16(2400), uint16(0), false, false, uint16(30), uint16(3), uint8(2), true)
	f.Add(uint8(1), int64(5), uint16(10), uint16(1200), uint16(0), false, true, uint16(0), uint16(9), uint8(1), false)
	f.Add(uint8(2), int64(100), uint16(359), uint16(20000), uint16(0), false, false, uint16(59), uint16(0), uint8(255), true)
	f.Add(uint8(3), int64(600000), uint16(12), uint16(0), uint16(60), true, false, uint16(400), uint16(4), uint8(3), true)
	f.Fuzz(func(t *testing.T, method uint8, cents int64, terms uint16, rateBP uint16, feeBP uint16, upfront bool, quarterly bool, startDay uint16, paid uint16, periods uint8, capitalise bool) {
		plan := fuzzTerms(method, cents, terms, rateBP, feeBP, upfront, quarterly, startDay)
		orig, err := BuildSchedule(plan)
		if err != nil {
			t.Fatal(err)
		}
		req := HolidayRequest{Plan: plan, Paid: int(paid) % plan.Terms, Periods: 1 + int(periods)%24, Policy: HolidayWaive}
		if capitalise {
			req.Policy = HolidayCapitalise
		}
		req.Balance = plan.Principal
		if req.Paid > 0 {
			req.Balance = orig.Rows[req.Paid-1].Balance
		}
		if req.Balance.IsZero() {
			return // an earlier row already repaid everything: nothing to pause
		}
		res, err := ApplyHoliday(req)
		if err != nil {
			t.Fatalf("%+v: %v", req, err)
		}
		s := res.Schedule
		if err := checkInvariants(s); err != nil {
			t.Fatalf("%+v: %v", req, err)
		}
		if len(s.Rows) != req.Periods+plan.Terms-req.Paid || !s.Principal.Equal(req.Balance.Add(res.Capitalised)) || res.Capitalised.IsNegative() {
			t.Fatalf("%+v: %d rows, principal %s, capitalised %s", req, len(s.Rows), s.Principal, res.Capitalised)
		}
		if !capitalise && !res.Capitalised.IsZero() {
			t.Fatalf("%+v: waived holiday capitalised %s", req, res.Capitalised)
		}
		for j, r := range s.Rows {
			if r.Holiday != (j < req.Periods) {
				t.Fatalf("%+v: row %d holiday %v", req, r.No, r.Holiday)
			}
		}
	})
}
