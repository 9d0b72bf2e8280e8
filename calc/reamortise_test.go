package calc

import (
	"fmt"
	"testing"
)

func TestReamortise(t *testing.T) {
	annuity := Terms{Method: MethodAnnuity, AnnualRate: dec("0.24")}
	tests := []struct {
		name     string
		req      ReamortiseRequest
		firstRow string // principal/interest/fee/payment of the first new row
	}{
		// 7718.17 over 3 at 2%: A = 2676.3115 -> 2676.31, interest 154.36
		{"fewer terms", ReamortiseRequest{Plan: annuity, Balance: dec("7718.17"), Terms: 3, FirstDue: mustDate("2026-05-15"), FirstNo: 4}, "2521.95/154.36/0.00/2676.31"},
		// A = 408.0681 -> 408.07
		{"more terms", ReamortiseRequest{Plan: annuity, Balance: dec("7718.17"), Terms: 24, FirstDue: mustDate("2026-05-31")}, "253.71/154.36/0.00/408.07"},
		{"one lump sum", ReamortiseRequest{Plan: annuity, Balance: dec("7718.17"), Terms: 1, FirstDue: mustDate("2026-05-15")}, "7718.17/154.36/0.00/7872.53"},
		{"equal principal quarterly", ReamortiseRequest{Plan: Terms{Method: MethodEqualPrincipal, AnnualRate: dec("0.12"), Frequency: Quarterly}, Balance: dec("9000"), Terms: 4, FirstDue: mustDate("2026-01-31")}, "2250.00/270.00/0.00/2520.00"},
		{"interest only", ReamortiseRequest{Plan: Terms{Method: MethodInterestOnly, AnnualRate: dec("0.18")}, Balance: dec("5000"), Terms: 6, FirstDue: mustDate("2026-02-28")}, "0.00/75.00/0.00/75.00"},
		{"fee plan charges on the balance", ReamortiseRequest{Plan: Terms{Method: MethodFee, MonthlyFeeRate: dec("0.006")}, Balance: dec("3000"), Terms: 6, FirstDue: mustDate("2026-03-15")}, "500.00/0.00/18.00/518.00"},
		{"fee plan up front", ReamortiseRequest{Plan: Terms{Method: MethodFee, MonthlyFeeRate: dec("0.006"), FeeUpfront: true}, Balance: dec("3000"), Terms: 6, FirstDue: mustDate("2026-03-15")}, "500.00/0.00/108.00/608.00"},
		{"fee plan, no new fee", ReamortiseRequest{Plan: Terms{Method: MethodFee}, Balance: dec("3000"), Terms: 6, FirstDue: mustDate("2026-03-15")}, "500.00/0.00/0.00/500.00"},
		{"zero", ReamortiseRequest{Plan: Terms{Method: MethodZero}, Balance: dec("100"), Terms: 3, FirstDue: mustDate("2026-03-15")}, "33.33/0.00/0.00/33.33"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Reamortise(tc.req)
			if err != nil {
				t.Fatal(err)
			}
			if err := checkInvariants(s); err != nil {
				t.Fatal(err)
			}
			r := s.Rows[0]
			if got := FormatMoney(r.Principal) + "/" + FormatMoney(r.Interest) + "/" + FormatMoney(r.Fee) + "/" + FormatMoney(r.Payment); got != tc.firstRow {
				t.Errorf("first row %s, want %s", got, tc.firstRow)
			}
			if r.DueDate != tc.req.FirstDue {
				t.Errorf("first due %s, want %s", r.DueDate, tc.req.FirstDue)
			}
			firstNo := max(tc.req.FirstNo, 1)
			for i, row := range s.Rows {
				if row.No != firstNo+i {
					t.Fatalf("row %d numbered %d", i, row.No)
				}
			}
			if err := compareRows(s.Rows, refReamortise(tc.req)); err != nil {
				t.Errorf("against big.Rat reference: %v", err)
			}
		})
	}
}

// refReamortise is the big.Rat reference of a re-amortisation.
func refReamortise(req ReamortiseRequest) []refRow {
	months := 1
	if req.Plan.Frequency == Quarterly {
		months = 3
	}
	return refSchedule(refPlan{
		method: req.Plan.Method, principal: req.Balance, n: req.Terms, annual: req.Plan.AnnualRate,
		monthlyFee: req.Plan.MonthlyFeeRate, upfront: req.Plan.FeeUpfront, months: months,
		due: func(k int) Date { return req.FirstDue.AddMonths((k - 1) * months) },
	})
}

func TestReamortiseRejects(t *testing.T) {
	ok := ReamortiseRequest{Plan: Terms{Method: MethodAnnuity, AnnualRate: dec("0.1")}, Balance: dec("100"), Terms: 3, FirstDue: mustDate("2026-01-01")}
	tests := []func(*ReamortiseRequest){
		func(r *ReamortiseRequest) { r.Balance = dec("0") },
		func(r *ReamortiseRequest) { r.Balance = dec("1.234") },
		func(r *ReamortiseRequest) { r.Terms = 0 },
		func(r *ReamortiseRequest) { r.Terms = 361 },
		func(r *ReamortiseRequest) { r.FirstDue = Date{} },
		func(r *ReamortiseRequest) { r.Plan.Method = "" },
		func(r *ReamortiseRequest) { r.Plan.Frequency = "yearly" },
	}
	for i, edit := range tests {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			req := ok
			edit(&req)
			if _, err := Reamortise(req); err == nil {
				t.Error("want an error")
			}
		})
	}
}
