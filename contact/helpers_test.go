package contact

import (
	"testing"
	"time"
	_ "time/tzdata" // the same zones on every machine

	"github.com/fenqi/fenqi/clock"
)

// zone loads a time zone or stops the test.
func zone(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := clock.LoadZone(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// local parses "2006-01-02 15:04" in loc.
func local(t testing.TB, loc *time.Location, s string) time.Time {
	t.Helper()
	v, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// utc parses an RFC 3339 instant.
func utc(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// attempts builds a history of one channel and outcome at the given local
// times.
func attempts(t testing.TB, loc *time.Location, ch Channel, o Outcome, times ...string) []Attempt {
	t.Helper()
	h := make([]Attempt, len(times))
	for i, s := range times {
		h[i] = Attempt{At: local(t, loc, s), Channel: ch, Outcome: o}
	}
	return h
}

// all concatenates histories.
func all(hs ...[]Attempt) []Attempt {
	var out []Attempt
	for _, h := range hs {
		out = append(out, h...)
	}
	return out
}

// everywhere is a customer reachable on every channel.
var everywhere = Addresses{HasPhone: true, HasEmail: true, HasPush: true, HasPostal: true}
