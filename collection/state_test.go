package collection

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/fenqi/fenqi/contact"
)

// fixture returns the default rules and the inputs at the local time now
// of one missed instalment of 1065.00 due 2026-01-15.
func fixture(t *testing.T, now string) (Rules, time.Time, Inputs) {
	t.Helper()
	loc := zone(t, "Asia/Shanghai")
	r := DefaultRules()
	n := at(t, loc, now)
	owed, err := r.Owed(schedule(t, "2026-01-15", 1), localDate(n, loc), rate)
	must(t, err)
	return r, n, Inputs{Owed: owed, Preferred: contact.SMS, Addresses: everywhere, Location: loc}
}

func TestPromise(t *testing.T) {
	r, now, in := fixture(t, "2026-01-20 10:00") // owes 1067.50
	pending := State{Promise: &Promise{Date: day(t, "2026-01-25"), Amount: d("10.00")}}
	share := r
	share.Promises.MinShare = d("0.5")
	for _, c := range []struct {
		name   string
		rules  Rules
		state  State
		date   string
		amount string
		want   string // "" for accepted
	}{
		{"today", r, State{}, "2026-01-20", "100.00", ""},
		{"30 days ahead", r, State{}, "2026-02-19", "1067.50", ""},
		{"in the past", r, State{}, "2026-01-19", "100.00", "the date is in the past"},
		{"too far", r, State{}, "2026-02-20", "100.00", "more than 30 days ahead"},
		{"zero", r, State{}, "2026-01-25", "0", "must be above zero"},
		{"negative", r, State{}, "2026-01-25", "-5.00", "must be above zero"},
		{"more than owed", r, State{}, "2026-01-25", "1067.51", "more than the 1067.50 owed"},
		{"below the share", share, State{}, "2026-01-25", "500.00", "less than 533.75"},
		{"at the share", share, State{}, "2026-01-25", "533.75", ""},
		{"pending", r, pending, "2026-01-26", "100.00", "a promise of 10.00 by 2026-01-25 is pending"},
		{"written off", r, State{WriteOff: &WriteOff{Status: WriteOffApproved}}, "2026-01-26", "100.00", "written off"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := c.rules.Promise(c.state, day(t, c.date), d(c.amount), now, in)
			if c.want != "" {
				if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), c.want) {
					t.Errorf("got %v, want refused: %q", err, c.want)
				}
				return
			}
			must(t, err)
			if s.Promise == nil || s.Promise.Date != day(t, c.date) || !s.Promise.Amount.Equal(d(c.amount)) || !s.Promise.MadeAt.Equal(now) {
				t.Errorf("promise %+v", s.Promise)
			}
		})
	}
	if _, err := r.Promise(State{}, day(t, "2026-01-25"), d("1.001"), now, in); !errors.Is(err, ErrInvalidInput) {
		t.Errorf("sub-cent amount: %v", err)
	}
	current, now2, in2 := fixture(t, "2026-01-10 10:00")
	if _, err := current.Promise(State{}, day(t, "2026-01-25"), d("1.00"), now2, in2); !errors.Is(err, ErrRefused) {
		t.Errorf("nothing owed: %v", err)
	}
}

func TestPromiseDue(t *testing.T) {
	promise := &Promise{Date: day(t, "2026-01-25"), Amount: d("500.00")}
	for _, c := range []struct {
		name    string
		now     string
		state   State
		paid    string
		cleared bool
		want    PromiseOutcome
		floor   string
	}{
		{"not yet", "2026-01-25 20:00", State{Promise: promise}, "100.00", false, PromisePending, ""},
		{"in grace, not yet", "2026-01-16 10:00", State{Promise: promise}, "0", false, PromisePending, ""},
		{"kept early", "2026-01-22 10:00", State{Promise: promise}, "500.00", false, PromiseKept, ""},
		{"kept by clearing", "2026-01-28 10:00", State{Promise: promise}, "0", true, PromiseKept, ""},
		{"broken in M1", "2026-01-26 00:00", State{Promise: promise}, "499.99", false, PromiseBroken, "M2"},
		{"broken in M2", "2026-02-20 10:00", State{Promise: promise}, "0", false, PromiseBroken, "M3"},
		{"broken at M2 by floor", "2026-01-26 10:00", State{Promise: promise, Floor: "M2"}, "0", false, PromiseBroken, "M3"},
		{"broken in M3: no further", "2026-03-20 10:00", State{Promise: promise}, "0", false, PromiseBroken, ""},
		{"broken in M4: no further", "2026-04-20 10:00", State{Promise: promise, Floor: "M3"}, "0", false, PromiseBroken, "M3"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, now, in := fixture(t, c.now)
			if c.cleared {
				in.Owed.Overdue, in.Owed.Due = zeroAmounts(), zeroAmounts()
			}
			s, out, err := r.PromiseDue(c.state, now, d(c.paid), in)
			must(t, err)
			if out != c.want || s.Floor != c.floor {
				t.Fatalf("outcome %s floor %q, want %s %q", out, s.Floor, c.want, c.floor)
			}
			switch out {
			case PromisePending:
				if !reflect.DeepEqual(s, c.state) {
					t.Errorf("pending changed the state: %+v", s)
				}
			case PromiseKept:
				if s.Promise != nil || s.PromisesKept != 1 || !s.Since.Equal(now) || s.Urgent {
					t.Errorf("kept: %+v", s)
				}
			case PromiseBroken:
				if s.Promise != nil || s.PromisesBroken != 1 || !s.Urgent {
					t.Errorf("broken: %+v", s)
				}
			}
			if c.state.Promise == nil {
				t.Errorf("the caller's state changed")
			}
		})
	}
	r, now, in := fixture(t, "2026-01-26 10:00")
	if _, _, err := r.PromiseDue(State{}, now, decimal.Zero, in); !errors.Is(err, ErrRefused) {
		t.Errorf("no promise: %v", err)
	}
	if _, _, err := r.PromiseDue(State{Promise: promise}, now, d("-1"), in); !errors.Is(err, ErrInvalidInput) {
		t.Errorf("negative paid: %v", err)
	}
}

// TestBrokenPromiseRoundAtOnce: after a broken promise the escalated
// round is due at once, not at the old cadence.
func TestBrokenPromiseRoundAtOnce(t *testing.T) {
	r, now, in := fixture(t, "2026-01-26 10:00")
	s := State{Stage: "M1", Rounds: 1, Since: now.Add(-24 * time.Hour), Promise: &Promise{Date: day(t, "2026-01-25"), Amount: d("500.00")}}
	a, err := r.Next(s, now, in)
	must(t, err)
	if a.Wait != WaitPromiseDue {
		t.Fatalf("%+v, want the promise due", a)
	}
	s, _, err = r.PromiseDue(s, now, decimal.Zero, in)
	must(t, err)
	a, err = r.Next(s, now, in)
	must(t, err)
	if !a.IsRound() || a.Stage != "M2" || a.Round != 1 || !reflect.DeepEqual(kinds(a), []Kind{CallTask, Notice}) || !a.At.Equal(now) {
		t.Errorf("%+v, want the M2 round now", a)
	}
}

func TestDecide(t *testing.T) {
	raised := State{Referral: &Referral{Status: ReferralPending, RaisedAt: time.Unix(1, 0)}}
	now := time.Unix(100, 0)
	for _, c := range []struct {
		d    Decision
		want ReferralStatus
	}{{Refer, Referred}, {Hold, ReferralHold}, {Negotiate, ReferralNegotiate}} {
		s, err := DefaultRules().Decide(raised, c.d, now)
		must(t, err)
		if s.Referral.Status != c.want || !s.Referral.DecidedAt.Equal(now) || !s.Referral.RaisedAt.Equal(time.Unix(1, 0)) {
			t.Errorf("%s: %+v", c.d, s.Referral)
		}
	}
	if raised.Referral.Status != ReferralPending {
		t.Errorf("the caller's state changed: %+v", raised.Referral)
	}
	if _, err := DefaultRules().Decide(State{}, Refer, now); !errors.Is(err, ErrRefused) {
		t.Errorf("nothing raised: %v", err)
	}
	if _, err := DefaultRules().Decide(raised, "sue", now); !errors.Is(err, ErrInvalidInput) {
		t.Errorf("unknown decision: %v", err)
	}
}

func TestWriteOff(t *testing.T) {
	pending := State{Stage: "M7", Rounds: 1, WriteOff: &WriteOff{Status: WriteOffPending, RaisedAt: time.Unix(1, 0)}}
	r, now, in := fixture(t, "2026-07-20 10:00")
	s, err := r.WriteOff(pending, ApproveWriteOff, now, in)
	must(t, err)
	if !s.WrittenOff() || !s.WriteOff.Balance.Equal(in.Owed.Remaining.Total()) {
		t.Errorf("approved: %+v", s.WriteOff)
	}
	if a, err := r.Next(s, now, in); err != nil || a.Wait != WaitClosed {
		t.Errorf("after write-off: %+v %v", a, err)
	}
	if _, err := r.Promise(s, day(t, "2026-07-25"), d("1.00"), now, in); !errors.Is(err, ErrRefused) {
		t.Errorf("promise after write-off: %v", err)
	}
	if got := r.Paid(s); !got.WrittenOff() {
		t.Errorf("paid after write-off: %+v", got)
	}

	// Declined: raised again 30 days after the decision.
	s, err = r.WriteOff(pending, DeclineWriteOff, now, in)
	must(t, err)
	a, err := r.Next(s, now, in)
	must(t, err)
	if a.Wait != WaitCadence || !a.At.Equal(now.AddDate(0, 0, 30)) {
		t.Errorf("declined: %+v, want the task again in 30 days", a)
	}
	later := now.AddDate(0, 0, 30)
	_, _, in2 := fixture(t, "2026-08-19 10:00")
	if a, err = r.Next(s, later, in2); err != nil || !reflect.DeepEqual(kinds(a), []Kind{WriteOffTask}) {
		t.Errorf("30 days after declining: %+v %v", a, err)
	}

	// Eligibility: M7 only, with the task pending.
	_, m4, in4 := fixture(t, "2026-04-20 10:00")
	for _, c := range []struct {
		name  string
		state State
		now   time.Time
		in    Inputs
		want  string
	}{
		{"M4", pending, m4, in4, "write-off starts at M7"},
		{"no task", State{}, now, in, "no write-off task is pending"},
		{"decided", s, now, in, "no write-off task is pending"},
	} {
		if _, err := r.WriteOff(c.state, ApproveWriteOff, c.now, c.in); !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
	if _, err := r.WriteOff(pending, "maybe", now, in); !errors.Is(err, ErrInvalidInput) {
		t.Errorf("unknown decision: %v", err)
	}
}

func TestPauseAndPaid(t *testing.T) {
	r, now, in := fixture(t, "2026-01-25 10:00")
	for _, c := range []struct {
		name  string
		until time.Time
		want  string
	}{
		{"now", now, "must be after now"},
		{"too long", now.AddDate(0, 0, 31), "at most 30 days"},
	} {
		if _, err := r.Pause(State{}, c.until, now); !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v", c.name, err)
		}
	}
	s, err := r.Pause(State{}, now.AddDate(0, 0, 10), now)
	must(t, err)
	if a, err := r.Next(s, now, in); err != nil || a.Wait != WaitPaused || !a.At.Equal(now.AddDate(0, 0, 10)) || !strings.Contains(a.Reason, "hardship") {
		t.Errorf("paused: %+v %v", a, err)
	}

	full := State{Stage: "M2", Rounds: 3, LastAt: now, Since: now, Floor: "M2", Urgent: true,
		Promise: &Promise{Date: day(t, "2026-01-30"), Amount: d("1")}, Referral: &Referral{Status: ReferralHold},
		PausedUntil: now.Add(time.Hour), PromisesBroken: 1}
	got := r.Paid(full)
	want := State{LastAt: now, PromisesKept: 1, PromisesBroken: 1}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("paid: %+v, want %+v", got, want)
	}
}

// TestStateJSON: the state survives Continue-As-New as JSON.
func TestStateJSON(t *testing.T) {
	loc := zone(t, "Asia/Shanghai")
	now := at(t, loc, "2026-05-01 10:00").UTC()
	s := State{Stage: "M4", Rounds: 2, LastAt: now, Since: now, Floor: "M3", Urgent: true,
		Promise:     &Promise{Date: day(t, "2026-05-10"), Amount: d("123.45"), MadeAt: now},
		Referral:    &Referral{Status: ReferralHold, RaisedAt: now, DecidedAt: now},
		WriteOff:    &WriteOff{Status: WriteOffApproved, RaisedAt: now, DecidedAt: now, Balance: d("9876.54")},
		PausedUntil: now, PromisesKept: 1, PromisesBroken: 2}
	b, err := json.Marshal(s)
	must(t, err)
	var back State
	must(t, json.Unmarshal(b, &back))
	b2, err := json.Marshal(back)
	must(t, err)
	if string(b) != string(b2) || !back.Promise.Amount.Equal(s.Promise.Amount) || !back.LastAt.Equal(now) {
		t.Errorf("round trip:\n%s\n%s", b, b2)
	}
	zero, err := json.Marshal(State{})
	must(t, err)
	if string(zero) != "{}" {
		t.Errorf("the zero state is %s, want {}", zero)
	}
}
