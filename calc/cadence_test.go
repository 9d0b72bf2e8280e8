package calc

import (
	"testing"
)

func TestCadence(t *testing.T) {
	tests := []struct {
		name    string
		c       Cadence
		due     map[int]string // k -> Due(k)
		notOn   []string       // dates IndexOf must refuse
		indexOf map[string]int // extra dates IndexOf must find
	}{
		{
			name: "month end clamps from the start",
			c:    Cadence{Start: mustDate("2026-01-31"), Frequency: Monthly},
			due:  map[int]string{1: "2026-02-28", 2: "2026-03-31", 3: "2026-04-30", 25: "2028-02-29", 26: "2028-03-31"},
			// the start itself is row 0, not a due date; Feb 27 and Mar 28
			// are days a drifting cadence would produce
			notOn: []string{"2026-01-31", "2026-02-27", "2026-03-28", "2025-12-31", "2026-04-29"},
		},
		{
			name:  "empty frequency is monthly",
			c:     Cadence{Start: mustDate("2026-01-15")},
			due:   map[int]string{1: "2026-02-15", 12: "2027-01-15", 360: "2056-01-15"},
			notOn: []string{"2026-02-16", "2026-01-15"},
		},
		{
			name:  "quarterly month end",
			c:     Cadence{Start: mustDate("2026-01-31"), Frequency: Quarterly},
			due:   map[int]string{1: "2026-04-30", 2: "2026-07-31", 3: "2026-10-31", 4: "2027-01-31", 9: "2028-04-30"},
			notOn: []string{"2026-02-28", "2026-03-31", "2026-05-31", "2026-04-29"},
		},
		{
			name:    "leap day start",
			c:       Cadence{Start: mustDate("2028-02-29"), Frequency: Monthly},
			due:     map[int]string{1: "2028-03-29", 12: "2029-02-28", 48: "2032-02-29"},
			notOn:   []string{"2029-03-01", "2028-03-31"},
			indexOf: map[string]int{"2029-03-29": 13},
		},
		{
			name:  "no start",
			c:     Cadence{Frequency: Monthly},
			notOn: []string{"0001-02-01"},
		},
		{
			name:  "unknown frequency",
			c:     Cadence{Start: mustDate("2026-01-15"), Frequency: "weekly"},
			notOn: []string{"2026-01-22", "2026-02-15"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for k, want := range tc.due {
				if got := tc.c.Due(k).String(); got != want {
					t.Errorf("Due(%d) = %s, want %s", k, got, want)
				}
				if got, ok := tc.c.IndexOf(mustDate(want)); !ok || got != k {
					t.Errorf("IndexOf(%s) = %d, %v, want %d", want, got, ok, k)
				}
			}
			for d, want := range tc.indexOf {
				if got, ok := tc.c.IndexOf(mustDate(d)); !ok || got != want {
					t.Errorf("IndexOf(%s) = %d, %v, want %d", d, got, ok, want)
				}
			}
			for _, d := range tc.notOn {
				if k, ok := tc.c.IndexOf(mustDate(d)); ok {
					t.Errorf("IndexOf(%s) = %d, want not on the cadence", d, k)
				}
			}
			if _, ok := tc.c.IndexOf(Date{}); ok {
				t.Error("IndexOf(zero date) found a row")
			}
		})
	}
}

// TestCadenceIndexOfRoundTrip: IndexOf inverts Due for every row of long
// cadences starting on every day that clamps.
func TestCadenceIndexOfRoundTrip(t *testing.T) {
	for _, start := range []string{"2026-01-28", "2026-01-29", "2026-01-30", "2026-01-31", "2027-08-31", "2028-02-29", "2026-03-01"} {
		for _, f := range Frequencies {
			c := Cadence{Start: mustDate(start), Frequency: f}
			prev := c.Start
			for k := 1; k <= 2*MaxTerms; k++ {
				d := c.Due(k)
				if !d.After(prev) {
					t.Fatalf("%s %s: Due(%d) = %s, not after %s", start, f, k, d, prev)
				}
				prev = d
				if got, ok := c.IndexOf(d); !ok || got != k {
					t.Fatalf("%s %s: IndexOf(Due(%d) = %s) = %d, %v", start, f, k, d, got, ok)
				}
				if got, ok := c.IndexOf(d.AddDays(1)); ok && c.Due(got) != d.AddDays(1) {
					t.Fatalf("%s %s: IndexOf(%s) = %d, whose date is %s", start, f, d.AddDays(1), got, c.Due(got))
				}
			}
		}
	}
}

func TestCadenceThrough(t *testing.T) {
	tests := []struct {
		name   string
		anchor string
		months int
		f      Frequency
		start  string   // the cadence's start, on the anchor's day
		due    []string // rows j, j+1, ...
	}{
		{"day 15 is one period back", "2026-01-15", 2, Quarterly, "2025-12-15", []string{"2026-03-15", "2026-06-15", "2026-09-15"}},
		{"month end to quarterly from February", "2026-01-31", 1, Quarterly, "2025-08-31", []string{"2026-02-28", "2026-05-31", "2026-08-31", "2026-11-30", "2027-02-28"}},
		{"month end to quarterly from March", "2026-01-31", 2, Quarterly, "2025-12-31", []string{"2026-03-31", "2026-06-30", "2026-09-30", "2026-12-31"}},
		{"month end monthly from a 30-day month", "2026-01-31", 3, Monthly, "2026-03-31", []string{"2026-04-30", "2026-05-31", "2026-06-30"}},
		{"quarterly month end to monthly", "2025-10-31", 6, Monthly, "2026-03-31", []string{"2026-04-30", "2026-05-31"}},
		{"anchor itself", "2026-05-31", 0, Monthly, "2026-03-31", []string{"2026-05-31", "2026-06-30", "2026-07-31"}},
		{"leap day", "2028-02-29", 0, Quarterly, "2027-11-29", []string{"2028-02-29", "2028-05-29"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, j := cadenceThrough(mustDate(tc.anchor), tc.months, tc.f)
			if c.Start.String() != tc.start || c.Frequency != tc.f || j < 1 {
				t.Errorf("cadence %s %s, row %d; want start %s", c.Start, c.Frequency, j, tc.start)
			}
			for i, want := range tc.due {
				if got := c.Due(j + i).String(); got != want {
					t.Errorf("row %d due %s, want %s", j+i, got, want)
				}
				if got := mustDate(tc.anchor).AddMonths(tc.months + i*tc.f.MonthsPerPeriod()).String(); got != want {
					t.Errorf("test table: anchor + %d months is %s, not %s", tc.months+i*tc.f.MonthsPerPeriod(), got, want)
				}
			}
		})
	}
}
