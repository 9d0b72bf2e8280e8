package calc

import (
	"errors"
	"testing"
)

func TestRateCapCheck(t *testing.T) {
	tests := []struct {
		name    string
		cap     RateCap
		nominal string
		flagged bool
		errMsg  string
	}{
		{"well below", DefaultRateCap(), "8.5", false, ""},
		{"at the flag", DefaultRateCap(), "12.0000", false, ""},
		{"just above the flag", DefaultRateCap(), "12.0100", true, ""},
		{"24% annuity rounding artefact", DefaultRateCap(), "24.0001", true, ""},
		{"at the cap", DefaultRateCap(), "24.0000", true, ""},
		{"above the cap", DefaultRateCap(), "26.8243", true, "annualised rate 26.8243% exceeds the cap of 24.0000%"},
		{"just above at 2 places", DefaultRateCap(), "24.0050", true, "annualised rate 24.0050% exceeds the cap of 24.0000%"},
		{"strict at 4 places", RateCap{Max: dec("24"), Flag: dec("12"), Places: 4}, "24.0001", true, "annualised rate 24.0001% exceeds the cap of 24.0000%"},
		{"custom cap", RateCap{Max: dec("36"), Flag: dec("24"), Places: 2}, "26.8243", true, ""},
		{"no flag", RateCap{Max: dec("36"), Places: 2}, "0", false, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			flagged, err := tc.cap.Check(dec(tc.nominal))
			if tc.errMsg == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
			} else {
				var rc *RateCapError
				if !errors.As(err, &rc) {
					t.Fatalf("got %v, want a *RateCapError", err)
				}
				if err.Error() != tc.errMsg {
					t.Errorf("message %q, want %q", err.Error(), tc.errMsg)
				}
			}
			if flagged != tc.flagged {
				t.Errorf("flagged = %v, want %v", flagged, tc.flagged)
			}
		})
	}
}

func TestRateCapValidate(t *testing.T) {
	for _, c := range []RateCap{{}, {Max: dec("24"), Flag: dec("-1")}, {Max: dec("24"), Places: 5}, {Max: dec("24"), Places: -1}} {
		if _, err := c.Check(dec("1")); err == nil {
			t.Errorf("%+v: want an error", c)
		}
	}
}

// TestRateCapOnSchedules runs the default cap over built schedules.
func TestRateCapOnSchedules(t *testing.T) {
	tests := []struct {
		terms   Terms
		flagged bool
		refused bool
	}{
		{Terms{Method: MethodAnnuity, Principal: dec("10000"), Terms: 12, AnnualRate: dec("0.24")}, true, false},
		{Terms{Method: MethodAnnuity, Principal: dec("10000"), Terms: 12, AnnualRate: dec("0.10")}, false, false},
		{Terms{Method: MethodFee, Principal: dec("10000"), Terms: 12, MonthlyFeeRate: dec("0.006")}, true, false},
		{Terms{Method: MethodFee, Principal: dec("10000"), Terms: 12, MonthlyFeeRate: dec("0.015")}, true, true},
		{Terms{Method: MethodAnnuity, Principal: dec("10000"), Terms: 12, AnnualRate: dec("0.25")}, true, true},
		{Terms{Method: MethodZero, Principal: dec("10000"), Terms: 12}, false, false},
	}
	for _, tc := range tests {
		tc.terms.Start = mustDate("2026-01-15")
		s, err := BuildSchedule(tc.terms)
		if err != nil {
			t.Fatal(err)
		}
		flagged, err := DefaultRateCap().Check(s.APRNominal)
		if flagged != tc.flagged || (err != nil) != tc.refused {
			t.Errorf("%s %s: nominal %s: flagged %v err %v; want flagged %v refused %v", tc.terms.Method, tc.terms.AnnualRate, s.APRNominal, flagged, err, tc.flagged, tc.refused)
		}
	}
}
