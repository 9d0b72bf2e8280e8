package clock

import (
	"testing"
	"time"
	_ "time/tzdata" // the tests need the same zones on every machine

	"github.com/fenqi/fenqi/calc"
)

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := LoadZone(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func mustDate(t *testing.T, s string) calc.Date {
	t.Helper()
	d, err := calc.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestAt(t *testing.T) {
	sh, ny := mustZone(t, "Asia/Shanghai"), mustZone(t, "America/New_York")
	tests := []struct {
		date         string
		loc          *time.Location
		hour, minute int
		want         string // UTC
	}{
		{"2026-03-04", sh, 8, 0, "2026-03-04T00:00:00Z"},
		{"2026-03-04", sh, 21, 0, "2026-03-04T13:00:00Z"},
		{"2026-03-04", sh, 0, 0, "2026-03-03T16:00:00Z"},
		{"2026-03-07", ny, 8, 0, "2026-03-07T13:00:00Z"}, // EST, UTC-5
		{"2026-03-08", ny, 8, 0, "2026-03-08T12:00:00Z"}, // EDT, UTC-4
		{"2026-11-01", ny, 8, 0, "2026-11-01T13:00:00Z"}, // back to EST
	}
	skipped := At(mustDate(t, "2026-03-08"), ny, 2, 30) // does not exist
	if lo, hi := time.Date(2026, 3, 8, 6, 30, 0, 0, time.UTC), time.Date(2026, 3, 8, 7, 30, 0, 0, time.UTC); skipped.Before(lo) || skipped.After(hi) {
		t.Errorf("At(2026-03-08, New York, 02:30) = %v, want 01:30 EST or 03:30 EDT", skipped.UTC())
	}
	for _, tt := range tests {
		got := At(mustDate(t, tt.date), tt.loc, tt.hour, tt.minute)
		if want, _ := time.Parse(time.RFC3339, tt.want); !got.Equal(want) {
			t.Errorf("At(%s, %v, %02d:%02d) = %v, want %s", tt.date, tt.loc, tt.hour, tt.minute, got.UTC(), tt.want)
		}
	}
}

func TestLocalDate(t *testing.T) {
	sh, ny := mustZone(t, "Asia/Shanghai"), mustZone(t, "America/New_York")
	tests := []struct {
		utc  string
		loc  *time.Location
		want string
	}{
		{"2026-03-03T15:59:59Z", sh, "2026-03-03"},
		{"2026-03-03T16:00:00Z", sh, "2026-03-04"}, // the Shanghai day starts at 16:00 UTC
		{"2026-03-04T03:00:00Z", ny, "2026-03-03"},
		{"2026-03-08T04:59:59Z", ny, "2026-03-07"},
		{"2026-03-08T05:00:00Z", ny, "2026-03-08"},
		{"2026-03-09T03:59:59Z", ny, "2026-03-08"}, // the spring-forward day is 23 hours long
		{"2026-03-09T04:00:00Z", ny, "2026-03-09"},
	}
	for _, tt := range tests {
		b, _ := time.Parse(time.RFC3339, tt.utc)
		if got := LocalDate(b, tt.loc); got.String() != tt.want {
			t.Errorf("LocalDate(%s, %v) = %s, want %s", tt.utc, tt.loc, got, tt.want)
		}
	}
	// At and LocalDate agree on every clock time of a year of days.
	d := mustDate(t, "2026-01-01")
	for i := 0; i < 366; i++ {
		for _, hm := range [][2]int{{0, 0}, {8, 0}, {12, 30}, {20, 59}, {23, 59}} {
			for _, loc := range []*time.Location{sh, ny} {
				at := At(d, loc, hm[0], hm[1])
				if got := LocalDate(at, loc); got != d && !(loc == ny && hm[0] == 2) {
					t.Fatalf("LocalDate(At(%s, %v, %02d:%02d)) = %s", d, loc, hm[0], hm[1], got)
				}
			}
		}
		d = d.AddDays(1)
	}
}

func TestLoadZone(t *testing.T) {
	loc := mustZone(t, "")
	if loc.String() != DefaultZone {
		t.Errorf("LoadZone(\"\") = %v, want %s", loc, DefaultZone)
	}
	if _, err := LoadZone("Mars/Olympus_Mons"); err == nil {
		t.Error("LoadZone(Mars/Olympus_Mons) = nil error")
	}
}
