package calc

import (
	"encoding/json"
	"testing"
	"time"
)

func TestParseDate(t *testing.T) {
	tests := []struct {
		in   string
		want string
		ok   bool
	}{
		{"2026-01-15", "2026-01-15", true},
		{"2024-02-29", "2024-02-29", true},
		{"0001-01-01", "0001-01-01", true},
		{"2026-02-29", "", false},
		{"2026-13-01", "", false},
		{"2026-1-5", "", false},
		{"15/01/2026", "", false},
		{"", "", false},
		{"2026-01-15T00:00:00Z", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			d, err := ParseDate(tc.in)
			if (err == nil) != tc.ok {
				t.Fatalf("ParseDate(%q) error = %v, want ok=%v", tc.in, err, tc.ok)
			}
			if tc.ok && d.String() != tc.want {
				t.Errorf("ParseDate(%q) = %s, want %s", tc.in, d, tc.want)
			}
		})
	}
}

func TestNewDate(t *testing.T) {
	tests := []struct {
		y, m, d int
		ok      bool
	}{
		{2026, 1, 31, true}, {2024, 2, 29, true}, {2025, 2, 29, false}, {2026, 4, 31, false},
		{2026, 0, 1, false}, {2026, 13, 1, false}, {0, 1, 1, false}, {10000, 1, 1, false}, {2026, 1, 0, false},
	}
	for _, tc := range tests {
		d, err := NewDate(tc.y, time.Month(tc.m), tc.d)
		if (err == nil) != tc.ok {
			t.Errorf("NewDate(%d, %d, %d) = %v, %v; want ok=%v", tc.y, tc.m, tc.d, d, err, tc.ok)
		}
		if tc.ok && (d.Year() != tc.y || int(d.Month()) != tc.m || d.Day() != tc.d) {
			t.Errorf("NewDate(%d, %d, %d) = %v", tc.y, tc.m, tc.d, d)
		}
	}
}

func TestAddMonthsClampsFromTheStart(t *testing.T) {
	tests := []struct {
		start string
		n     int
		want  string
	}{
		{"2026-01-31", 0, "2026-01-31"},
		{"2026-01-31", 1, "2026-02-28"},
		{"2026-01-31", 2, "2026-03-31"},
		{"2026-01-31", 3, "2026-04-30"},
		{"2026-01-31", 13, "2027-02-28"},
		{"2027-01-31", 13, "2028-02-29"},
		{"2024-02-29", 12, "2025-02-28"},
		{"2024-02-29", 48, "2028-02-29"},
		{"2026-03-31", -1, "2026-02-28"},
		{"2026-01-15", -1, "2025-12-15"},
		{"2026-01-15", -13, "2024-12-15"},
		{"2026-11-30", 3, "2027-02-28"},
		{"2026-12-31", 1, "2027-01-31"},
		{"2026-01-31", 360, "2056-01-31"},
	}
	for _, tc := range tests {
		if got := mustDate(tc.start).AddMonths(tc.n).String(); got != tc.want {
			t.Errorf("%s + %d months = %s, want %s", tc.start, tc.n, got, tc.want)
		}
	}
	// Against time.Time: the clamped result equals AddDate unless AddDate
	// overflowed into the next month, in which case it is that month's end.
	start := mustDate("2026-01-31")
	for n := -30; n <= 400; n++ {
		got := start.AddMonths(n)
		y, m := 2026+(n+120*12)/12-120, time.Month((n+120*12)%12+1)
		last := time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
		if got.Year() != y || got.Month() != m || got.Day() != last {
			t.Fatalf("2026-01-31 + %d months = %s, want %04d-%02d-%02d", n, got, y, int(m), last)
		}
	}
}

func TestAddDaysAndDaysSince(t *testing.T) {
	tests := []struct {
		from string
		n    int
		want string
	}{
		{"2026-01-15", 0, "2026-01-15"},
		{"2026-01-31", 1, "2026-02-01"},
		{"2024-02-28", 1, "2024-02-29"},
		{"2026-03-01", -1, "2026-02-28"},
		{"2026-12-31", 365, "2027-12-31"},
		{"1969-12-31", 2, "1970-01-02"},
		{"2026-01-15", -400, "2024-12-11"},
	}
	for _, tc := range tests {
		from := mustDate(tc.from)
		got := from.AddDays(tc.n)
		if got.String() != tc.want {
			t.Errorf("%s + %d days = %s, want %s", tc.from, tc.n, got, tc.want)
		}
		if d := got.DaysSince(from); d != tc.n {
			t.Errorf("%s.DaysSince(%s) = %d, want %d", got, from, d, tc.n)
		}
	}
}

func TestDateCompare(t *testing.T) {
	a, b := mustDate("2026-01-31"), mustDate("2026-02-01")
	if !a.Before(b) || a.After(b) || a.Compare(b) != -1 || b.Compare(a) != 1 || a.Compare(a) != 0 {
		t.Error("2026-01-31 must be before 2026-02-01")
	}
	if !a.Equal(mustDate("2026-01-31")) || a.Equal(b) {
		t.Error("Equal")
	}
	if mustDate("2025-12-31").Compare(mustDate("2026-01-01")) != -1 || mustDate("2026-02-01").Compare(mustDate("2026-01-31")) != 1 {
		t.Error("Compare across years and months")
	}
	if !(Date{}).IsZero() || a.IsZero() {
		t.Error("IsZero")
	}
}

func TestDateAtAndDateOf(t *testing.T) {
	sh, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		sh = time.FixedZone("CST", 8*3600)
	}
	d := mustDate("2026-03-15")
	at := d.At(sh, 8, 30, 0)
	if at.Format(time.RFC3339) != "2026-03-15T08:30:00+08:00" {
		t.Errorf("At = %s", at.Format(time.RFC3339))
	}
	if got := DateOf(at); got != d {
		t.Errorf("DateOf(At) = %s, want %s", got, d)
	}
	// 2026-03-15 02:00 in Shanghai is still 2026-03-14 in UTC.
	if got := DateOf(d.At(sh, 2, 0, 0).UTC()); got.String() != "2026-03-14" {
		t.Errorf("DateOf in UTC = %s, want 2026-03-14", got)
	}
	if Today(sh).IsZero() {
		t.Error("Today is zero")
	}
}

func TestDateJSON(t *testing.T) {
	type wrap struct {
		D Date  `json:"d"`
		P *Date `json:"p,omitempty"`
	}
	b, err := json.Marshal(wrap{D: mustDate("2026-02-28")})
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `{"d":"2026-02-28"}` {
		t.Errorf("marshal = %s", b)
	}
	var w wrap
	if err := json.Unmarshal([]byte(`{"d":"2024-02-29"}`), &w); err != nil || w.D.String() != "2024-02-29" {
		t.Errorf("unmarshal = %v, %v", w.D, err)
	}
	if b, _ := json.Marshal(Date{}); string(b) != "null" {
		t.Errorf("zero date marshals to %s, want null", b)
	}
	for _, in := range []string{`null`, `""`} {
		d := mustDate("2026-01-01")
		if err := json.Unmarshal([]byte(in), &d); err != nil || !d.IsZero() {
			t.Errorf("unmarshal %s = %v, %v; want zero", in, d, err)
		}
	}
	for _, in := range []string{`"2026-02-30"`, `20260101`, `"2026/01/01"`} {
		var d Date
		if err := json.Unmarshal([]byte(in), &d); err == nil {
			t.Errorf("unmarshal %s: want an error, got %v", in, d)
		}
	}
	m := map[Date]int{mustDate("2026-01-15"): 1}
	if b, err := json.Marshal(m); err != nil || string(b) != `{"2026-01-15":1}` {
		t.Errorf("map key marshal = %s, %v", b, err)
	}
}
