package collection

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/fenqi/fenqi/contact"
)

// TestNextWaits: every reason Next plans nothing, and until when.
func TestNextWaits(t *testing.T) {
	loc := zone(t, "Asia/Shanghai")
	m7 := at(t, loc, "2026-07-15 00:00") // 2026-01-15 + 181 days
	raisedAt := at(t, loc, "2026-04-16 00:00")
	for _, c := range []struct {
		name    string
		now     string
		state   State
		pause   string
		want    Wait
		until   time.Time
		reason  string
		stage   string
		dpd     int
		hasNone bool // At zero
	}{
		{"in grace", "2026-01-17 10:00", State{}, "", WaitCurrent, time.Time{}, "nothing is overdue", "M0", 0, true},
		{"cadence", "2026-01-20 10:00", State{Stage: "M1", Rounds: 1, Since: at(t, loc, "2026-01-19 09:00")}, "", WaitCadence, at(t, loc, "2026-01-26 09:00"), "next M1 round", "M1", 5, false},
		{"cadence bounded by M2", "2026-02-10 10:00", State{Stage: "M1", Rounds: 4, Since: at(t, loc, "2026-02-09 09:00")}, "", WaitCadence, at(t, loc, "2026-02-15 00:00"), "next M1 round", "M1", 26, false},
		{"complaint", "2026-01-20 10:00", State{}, "2026-01-27 10:00", WaitPaused, at(t, loc, "2026-01-27 10:00"), "open complaint", "M1", 5, false},
		{"hardship", "2026-01-20 10:00", State{PausedUntil: at(t, loc, "2026-01-29 00:00")}, "", WaitPaused, at(t, loc, "2026-01-29 00:00"), "hardship", "M1", 5, false},
		{"promise", "2026-01-20 10:00", State{Promise: &Promise{Date: day(t, "2026-01-24"), Amount: d("1.00")}}, "", WaitPromise, at(t, loc, "2026-01-25 00:00"), "promise to pay 1.00 by 2026-01-24 is pending", "M1", 5, false},
		{"promise due", "2026-01-25 00:00", State{Promise: &Promise{Date: day(t, "2026-01-24"), Amount: d("1.00")}}, "", WaitPromiseDue, at(t, loc, "2026-01-25 00:00"), "PromiseDue", "M1", 10, false},
		{"referral pending", "2026-04-20 10:00", State{Stage: "M4", Rounds: 1, Referral: &Referral{Status: ReferralPending, RaisedAt: raisedAt}}, "", WaitOperator, m7, "waits for an operator", "M4", 95, false},
		{"referred", "2026-05-20 10:00", State{Stage: "M4", Rounds: 1, Referral: &Referral{Status: Referred, RaisedAt: raisedAt, DecidedAt: raisedAt}}, "", WaitReferred, m7, "referred for legal action", "M4", 125, false},
		{"hold", "2026-04-20 10:00", State{Stage: "M4", Rounds: 1, Referral: &Referral{Status: ReferralHold, RaisedAt: raisedAt, DecidedAt: at(t, loc, "2026-04-18 10:00")}}, "", WaitCadence, at(t, loc, "2026-05-18 10:00"), "next M4 round", "M4", 95, false},
		{"hold bounded by M7", "2026-07-01 10:00", State{Stage: "M4", Rounds: 1, Referral: &Referral{Status: ReferralHold, RaisedAt: raisedAt, DecidedAt: at(t, loc, "2026-06-30 10:00")}}, "", WaitCadence, m7, "next M4 round", "M4", 167, false},
		{"write-off pending", "2026-07-20 10:00", State{Stage: "M7", Rounds: 1, WriteOff: &WriteOff{Status: WriteOffPending, RaisedAt: m7}}, "", WaitOperator, time.Time{}, "write-off decision", "M7", 186, true},
		{"written off", "2026-07-20 10:00", State{Stage: "M7", WriteOff: &WriteOff{Status: WriteOffApproved, RaisedAt: m7, DecidedAt: m7}}, "", WaitClosed, time.Time{}, "written off on 2026-07-15", "M7", 186, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, now, in := fixture(t, c.now)
			if c.pause != "" {
				in.ComplaintPausedUntil = at(t, loc, c.pause)
			}
			a, err := r.Next(c.state, now, in)
			must(t, err)
			if a.IsRound() || a.Wait != c.want || !a.At.Equal(c.until) || a.At.IsZero() != c.hasNone || !strings.Contains(a.Reason, c.reason) || a.Stage != c.stage || a.DaysPastDue != c.dpd {
				t.Errorf("got %+v\nwant %s until %s (%q), stage %s, %d days", a, c.want, c.until, c.reason, c.stage, c.dpd)
			}
			if _, err := r.Record(c.state, a); !errors.Is(err, ErrInvalidInput) {
				t.Errorf("recording a wait: %v", err)
			}
		})
	}
}

func TestNextErrors(t *testing.T) {
	r, now, in := fixture(t, "2026-01-20 10:00")
	noZone := in
	noZone.Location = nil
	ahead := in
	ahead.Owed.AsOf = ahead.Owed.AsOf.AddDays(1)
	badContact := in
	cr := contact.DefaultRules()
	cr.RollingDays = 0
	badContact.Contact = &cr
	badRules := r
	badRules.Ladder = nil
	for _, c := range []struct {
		name  string
		rules Rules
		now   time.Time
		in    Inputs
		want  error
	}{
		{"no zone", r, now, noZone, ErrInvalidInput},
		{"no time", r, time.Time{}, in, ErrInvalidInput},
		{"owed ahead", r, now, ahead, ErrInvalidInput},
		{"contact rules", r, now, badContact, contact.ErrInvalidRules},
		{"rules", badRules, now, in, ErrInvalidRules},
	} {
		if _, err := c.rules.Next(State{}, c.now, c.in); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	if _, err := r.Record(State{}, Action{Stage: "M5"}); !errors.Is(err, ErrInvalidInput) {
		t.Errorf("record of an unknown stage: %v", err)
	}
}

// TestBodies: every written contact of every stage states each component,
// the total and the pay-by date, and names nobody but the debtor.
func TestBodies(t *testing.T) {
	r, now, in := fixture(t, "2026-01-25 10:00")
	for _, k := range []Kind{Message, Notice, DemandLetter, RestructureOffer, CallTask} {
		for _, ch := range []contact.Channel{contact.SMS, contact.Push, contact.Email, contact.Letter} {
			checkBody(t, string(k)+" by "+string(ch), contactBody(k, ch, 10, in.Owed), in.Owed)
		}
	}
	a, err := r.Next(State{}, now, in)
	must(t, err)
	for _, k := range []Kind{LegalReferral, WriteOffTask} {
		body := operatorBody(k, a, in.Owed)
		for _, want := range []string{"10 days past due", "principal 1000.00", "late charges (penalty interest) 5.00"} {
			if !strings.Contains(body, want) {
				t.Errorf("%s body does not state %q: %s", k, want, body)
			}
		}
	}
	if body := contactBody(DemandLetter, contact.Letter, 10, in.Owed); !strings.HasPrefix(body, "Formal demand for payment.") || !strings.Contains(body, "arrears plan") {
		t.Errorf("demand letter: %s", body)
	}
}
