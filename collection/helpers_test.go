package collection

import (
	"slices"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the same zones on every machine

	"github.com/shopspring/decimal"

	"github.com/fenqi/fenqi/calc"
	"github.com/fenqi/fenqi/contact"
)

// zone loads a time zone or stops the test.
func zone(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// d parses a decimal.
func d(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// day parses a date or stops the test.
func day(t testing.TB, s string) calc.Date {
	t.Helper()
	v, err := calc.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// at parses "2006-01-02 15:04" in loc.
func at(t testing.TB, loc *time.Location, s string) time.Time {
	t.Helper()
	v, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// everywhere is a customer reachable on every channel.
var everywhere = contact.Addresses{HasPhone: true, HasEmail: true, HasPush: true, HasPostal: true}

// rate is the contract annual rate of the test plans: penalty 18% a year.
var rate = d("0.12")

// schedule is n monthly instalments of principal 1000.00, interest 60.00
// and fee 5.00 from first on, none paid.
func schedule(t testing.TB, first string, n int) []Instalment {
	t.Helper()
	start := day(t, first)
	rows := make([]Instalment, n)
	for i := range rows {
		rows[i] = Instalment{No: i + 1, DueDate: start.AddMonths(i), Principal: d("1000.00"), Interest: d("60.00"), Fee: d("5.00")}
	}
	return rows
}

// thirdParties are words a message to the debtor must never contain.
var thirdParties = []string{"family", "relative", "friend", "employer", "colleague", "neighbour", "guarantor", "reference", "spouse", "parent"}

// checkBody fails unless body states each component of o, the total, the
// pay-by date and names no third party.
func checkBody(t testing.TB, what, body string, o Breakdown) {
	t.Helper()
	for _, want := range []string{
		"principal " + calc.FormatMoney(o.Due.Principal),
		"interest " + calc.FormatMoney(o.Due.Interest),
		"fees " + calc.FormatMoney(o.Due.Fee),
		"late charges (penalty interest) " + calc.FormatMoney(o.Due.Penalty),
		calc.FormatMoney(o.Due.Total()),
		o.PayBy.String(),
	} {
		if !strings.Contains(body, want) {
			t.Errorf("%s: body does not state %q:\n%s", what, want, body)
		}
	}
	lower := strings.ToLower(body)
	for _, w := range thirdParties {
		if strings.Contains(lower, w) {
			t.Errorf("%s: body mentions %q:\n%s", what, w, body)
		}
	}
}

// checkRound checks the invariants of a round planned at now on history:
// steps in order, none before now, every contact inside the window and
// allowed by the contact rules given the history and the earlier steps,
// operator tasks without a channel.
func checkRound(t testing.TB, cr contact.Rules, a Action, now time.Time, history []contact.Attempt, loc *time.Location) {
	t.Helper()
	h := slices.Clone(history)
	prev := now
	for i, st := range a.Steps {
		if st.At.Before(prev) {
			t.Errorf("round at %s step %d (%s) at %s: before %s", now, i, st.Kind, st.At, prev)
		}
		prev = st.At
		if st.Kind.Operator() {
			if st.Channel != "" {
				t.Errorf("operator step %s has channel %s", st.Kind, st.Channel)
			}
			continue
		}
		lt := st.At.In(loc)
		if m := lt.Hour()*60 + lt.Minute(); m < cr.WindowOpen.Hour*60+cr.WindowOpen.Minute || m >= cr.WindowClose.Hour*60+cr.WindowClose.Minute {
			t.Errorf("step %s by %s at %s local: outside the window", st.Kind, st.Channel, lt.Format(time.DateTime))
		}
		if err := cr.Check(st.At, st.Channel, h, loc); err != nil {
			t.Errorf("step %s planned at %s breaks the contact rules: %v", st.Kind, lt.Format(time.DateTime), err)
		}
		o := contact.Sent
		if st.Channel == contact.Phone {
			o = contact.NoAnswer
		}
		h = append(h, contact.Attempt{At: st.At, Channel: st.Channel, Outcome: o})
	}
}
