package collection

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/fenqi/fenqi/contact"
)

// sim drives the collection of one plan the way the workflow will: at
// every wake-up it asks Next, carries out a round (appending each contact
// step to the history as an attempt) and records it, and it looks again
// every day at 09:00 local and whenever Next asks to.
type sim struct {
	t         testing.TB
	r         Rules
	cr        contact.Rules
	loc       *time.Location
	rows      []Instalment
	state     State
	now       time.Time
	history   []contact.Attempt
	collected []contact.Attempt // the attempts of collection steps, in order
	preferred contact.Channel
	addresses contact.Addresses
	complaint time.Time // end of a complaint pause
	paid      decimal.Decimal
	calls     int // calls made; every second one connects
	rounds    []simRound
	waits     []simWait
	outcomes  []PromiseOutcome
}

// simRound is a round carried out.
type simRound struct {
	now    time.Time
	action Action
	owed   Breakdown
}

// simWait is one wait answered by Next.
type simWait struct {
	now    time.Time
	action Action
}

// newSim starts a simulation at start, local time.
func newSim(t testing.TB, rows []Instalment, start string) *sim {
	loc := zone(t, "Asia/Shanghai")
	return &sim{
		t: t, r: DefaultRules(), cr: contact.DefaultRules(), loc: loc, rows: rows,
		now: at(t, loc, start), preferred: contact.SMS, addresses: everywhere, paid: decimal.Zero,
	}
}

// inputs computes the inputs at now.
func (s *sim) inputs(now time.Time) Inputs {
	s.t.Helper()
	owed, err := s.r.Owed(s.rows, localDate(now, s.loc), rate)
	if err != nil {
		s.t.Fatal(err)
	}
	return Inputs{
		Owed: owed, History: slices.Clone(s.history), Preferred: s.preferred, Addresses: s.addresses,
		ComplaintPausedUntil: s.complaint, Location: s.loc,
	}
}

// step asks Next once at now and carries out its answer; it returns it.
func (s *sim) step() Action {
	s.t.Helper()
	in := s.inputs(s.now)
	a, err := s.r.Next(s.state, s.now, in)
	if err != nil {
		s.t.Fatal(err)
	}
	if !a.IsRound() {
		s.waits = append(s.waits, simWait{s.now, a})
		if !a.At.IsZero() && a.At.Before(s.now) {
			s.t.Errorf("at %s: wait %s until %s, in the past", s.now, a.Wait, a.At)
		}
		if a.Wait == WaitPromiseDue {
			st, out, err := s.r.PromiseDue(s.state, s.now, s.paid, in)
			if err != nil {
				s.t.Fatal(err)
			}
			s.state = st
			s.outcomes = append(s.outcomes, out)
		}
		return a
	}
	checkRound(s.t, s.cr, a, s.now, s.history, s.loc)
	for _, st := range a.Steps {
		if st.Kind.Operator() {
			continue
		}
		o := contact.Sent
		if st.Channel == contact.Phone {
			s.calls++
			o = contact.NoAnswer
			if s.calls%2 == 0 {
				o = contact.Connected
			}
		}
		at := contact.Attempt{At: st.At, Channel: st.Channel, Outcome: o}
		s.history = append(s.history, at)
		s.collected = append(s.collected, at)
	}
	st, err := s.r.Record(s.state, a)
	if err != nil {
		s.t.Fatal(err)
	}
	s.state = st
	s.rounds = append(s.rounds, simRound{s.now, a, in.Owed})
	return a
}

// until runs the simulation up to (not including) the local time end.
func (s *sim) until(end string) {
	s.t.Helper()
	stop := at(s.t, s.loc, end)
	for s.now.Before(stop) {
		a := s.step()
		if a.IsRound() || a.Wait == WaitPromiseDue {
			continue // ask again at the same instant
		}
		y, m, dd := s.now.In(s.loc).Date()
		tick := time.Date(y, m, dd, 9, 0, 0, 0, s.loc)
		if !tick.After(s.now) {
			tick = time.Date(y, m, dd+1, 9, 0, 0, 0, s.loc)
		}
		if !a.At.IsZero() && a.At.After(s.now) && a.At.Before(tick) {
			tick = a.At
		}
		s.now = tick
	}
	s.now = stop
}

// roundsOf returns the rounds of stage, in order.
func (s *sim) roundsOf(stage string) []simRound {
	var out []simRound
	for _, r := range s.rounds {
		if r.action.Stage == stage {
			out = append(out, r)
		}
	}
	return out
}

// since returns the rounds carried out at or after the local time from.
func (s *sim) since(from string) []simRound {
	f := at(s.t, s.loc, from)
	var out []simRound
	for _, r := range s.rounds {
		if !r.now.Before(f) {
			out = append(out, r)
		}
	}
	return out
}

// payAll settles every instalment and tells the ladder.
func (s *sim) payAll() {
	for i := range s.rows {
		s.rows[i] = Instalment{No: s.rows[i].No, DueDate: s.rows[i].DueDate, Principal: decimal.Zero, Interest: decimal.Zero, Fee: decimal.Zero,
			PenaltyAccrued: decimal.Zero, PenaltySettled: decimal.Zero}
	}
	s.state = s.r.Paid(s.state)
}

// must fails the test on an error.
func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// refused fails the test unless err wraps ErrRefused.
func refused(t testing.TB, err error) {
	t.Helper()
	if !errors.Is(err, ErrRefused) {
		t.Fatalf("got %v, want a refusal", err)
	}
}
