package calc

import (
	"fmt"
	"math/big"
	"testing"
)

func TestApplyHoliday(t *testing.T) {
	plan := Terms{Method: MethodAnnuity, Principal: dec("10000"), Terms: 12, AnnualRate: dec("0.24"), Start: mustDate("2026-01-31")}
	tests := []struct {
		name        string
		req         HolidayRequest
		capitalised string
		firstDue    string // first resumed instalment
	}{
		// 7718.17 x (1.02^2 - 1) = 7718.17 x 0.0404 = 311.814068
		{"capitalise 2 after 3", HolidayRequest{Plan: plan, Paid: 3, Balance: dec("7718.17"), Periods: 2, Policy: HolidayCapitalise}, "311.81", "2026-07-31"},
		{"waive 2 after 3", HolidayRequest{Plan: plan, Paid: 3, Balance: dec("7718.17"), Periods: 2, Policy: HolidayWaive}, "0.00", "2026-07-31"},
		{"capitalise 1 before the first", HolidayRequest{Plan: plan, Paid: 0, Balance: dec("10000"), Periods: 1, Policy: HolidayCapitalise}, "200.00", "2026-03-31"},
		{"pause the last instalment", HolidayRequest{Plan: plan, Paid: 11, Balance: dec("927.01"), Periods: 3, Policy: HolidayCapitalise}, "56.74", "2027-04-30"},
		// 6000 x (1.025^2 - 1) = 6000 x 0.050625 = 303.75
		{"quarterly equal principal", HolidayRequest{Plan: Terms{Method: MethodEqualPrincipal, Principal: dec("8000"), Terms: 8, AnnualRate: dec("0.1"), Frequency: Quarterly, Start: mustDate("2026-01-15")}, Paid: 2, Balance: dec("6000"), Periods: 2, Policy: HolidayCapitalise}, "303.75", "2027-04-15"},
		{"interest only", HolidayRequest{Plan: Terms{Method: MethodInterestOnly, Principal: dec("5000"), Terms: 6, AnnualRate: dec("0.18"), Start: mustDate("2026-01-15")}, Paid: 1, Balance: dec("5000"), Periods: 1, Policy: HolidayCapitalise}, "75.00", "2026-04-15"},
		{"fee plan has nothing to capitalise", HolidayRequest{Plan: Terms{Method: MethodFee, Principal: dec("6000"), Terms: 12, MonthlyFeeRate: dec("0.006"), Start: mustDate("2026-01-15")}, Paid: 4, Balance: dec("4000"), Periods: 2, Policy: HolidayCapitalise}, "0.00", "2026-08-15"},
		{"zero plan", HolidayRequest{Plan: Terms{Method: MethodZero, Principal: dec("1200"), Terms: 12, Start: mustDate("2026-01-15")}, Paid: 6, Balance: dec("600"), Periods: 3, Policy: HolidayWaive}, "0.00", "2026-11-15"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := ApplyHoliday(tc.req)
			if err != nil {
				t.Fatal(err)
			}
			s := res.Schedule
			if err := checkInvariants(s); err != nil {
				t.Fatal(err)
			}
			if FormatMoney(res.Capitalised) != tc.capitalised {
				t.Errorf("capitalised %s, want %s", res.Capitalised, tc.capitalised)
			}
			// big.Rat: B ((1 + a/ppy)^K - 1), rounded; zero when waived or interest-free
			plan := tc.req.Plan.normalised()
			want := ratInt(0)
			if tc.req.Policy == HolidayCapitalise {
				r := new(big.Rat).Quo(ratOf(plan.AnnualRate), ratInt(int64(plan.Frequency.PeriodsPerYear())))
				g := ratPow(new(big.Rat).Add(ratInt(1), r), tc.req.Periods)
				want = ratCents(new(big.Rat).Mul(ratOf(tc.req.Balance), g.Sub(g, ratInt(1))))
			}
			if ratString(want) != FormatMoney(res.Capitalised) {
				t.Errorf("capitalised %s, big.Rat gives %s", res.Capitalised, ratString(want))
			}
			remaining := plan.Terms - tc.req.Paid
			if len(s.Rows) != tc.req.Periods+remaining {
				t.Fatalf("%d rows, want %d", len(s.Rows), tc.req.Periods+remaining)
			}
			carried := tc.req.Balance.Add(res.Capitalised)
			if !s.Principal.Equal(carried) {
				t.Errorf("schedule principal %s, want %s", s.Principal, carried)
			}
			for j, r := range s.Rows {
				if r.No != tc.req.Paid+1+j {
					t.Errorf("row %d numbered %d", j, r.No)
				}
				if want := plan.Start.AddMonths((tc.req.Paid + 1 + j) * plan.Frequency.MonthsPerPeriod()); r.DueDate != want {
					t.Errorf("row %d due %s, want %s", r.No, r.DueDate, want)
				}
				if holiday := j < tc.req.Periods; r.Holiday != holiday || (holiday && (!r.Payment.IsZero() || !r.Balance.Equal(carried))) {
					t.Errorf("row %d: holiday %v payment %s balance %s", r.No, r.Holiday, r.Payment, r.Balance)
				}
			}
			if got := s.Rows[tc.req.Periods].DueDate.String(); got != tc.firstDue {
				t.Errorf("first resumed due %s, want %s", got, tc.firstDue)
			}
			months := plan.Frequency.MonthsPerPeriod()
			skip := tc.req.Paid + tc.req.Periods
			ref := refSchedule(refPlan{
				method: plan.Method, principal: carried, n: remaining, annual: plan.AnnualRate,
				monthlyFee: plan.MonthlyFeeRate, upfront: plan.FeeUpfront, months: months,
				due: func(k int) Date { return plan.Start.AddMonths((skip + k) * months) },
			})
			if err := compareRows(s.Rows[tc.req.Periods:], ref); err != nil {
				t.Errorf("against big.Rat reference: %v", err)
			}
		})
	}
}

// TestHolidayRateIsTheContractRate: capitalising at the contract rate keeps
// the IRR of an annuity at its rate (up to cent rounding), waiving lowers it.
func TestHolidayRateIsTheContractRate(t *testing.T) {
	plan := Terms{Method: MethodAnnuity, Principal: dec("10000"), Terms: 12, AnnualRate: dec("0.24"), Start: mustDate("2026-01-31")}
	capRes, err := ApplyHoliday(HolidayRequest{Plan: plan, Paid: 3, Balance: dec("7718.17"), Periods: 2, Policy: HolidayCapitalise})
	if err != nil {
		t.Fatal(err)
	}
	if d := capRes.Schedule.APRNominal.Sub(dec("24")).Abs(); d.GreaterThan(dec("0.01")) {
		t.Errorf("capitalised holiday nominal %s, want about 24", capRes.Schedule.APRNominal)
	}
	waived, err := ApplyHoliday(HolidayRequest{Plan: plan, Paid: 3, Balance: dec("7718.17"), Periods: 2, Policy: HolidayWaive})
	if err != nil {
		t.Fatal(err)
	}
	if !waived.Schedule.APRNominal.LessThan(dec("23")) {
		t.Errorf("waived holiday nominal %s, want well below 24", waived.Schedule.APRNominal)
	}
}

func TestApplyHolidayRejects(t *testing.T) {
	plan := Terms{Method: MethodAnnuity, Principal: dec("1000"), Terms: 6, AnnualRate: dec("0.1"), Start: mustDate("2026-01-01")}
	ok := HolidayRequest{Plan: plan, Paid: 1, Balance: dec("800"), Periods: 1, Policy: HolidayWaive}
	tests := []func(*HolidayRequest){
		func(r *HolidayRequest) { r.Paid = -1 },
		func(r *HolidayRequest) { r.Paid = 6 },
		func(r *HolidayRequest) { r.Balance = dec("0") },
		func(r *HolidayRequest) { r.Periods = 0 },
		func(r *HolidayRequest) { r.Periods = 361 },
		func(r *HolidayRequest) { r.Policy = "" },
		func(r *HolidayRequest) { r.Plan.Start = Date{} },
	}
	for i, edit := range tests {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			req := ok
			edit(&req)
			if _, err := ApplyHoliday(req); err == nil {
				t.Error("want an error")
			}
		})
	}
}
