package contact

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/fenqi/fenqi/clock"
)

// Errors of Plan and NextAllowed.
var (
	// ErrNoChannel: the request leaves no channel the customer has an
	// address for.
	ErrNoChannel = errors.New("no channel to contact the customer on")
	// ErrNoSlot: no channel is allowed at any instant of the days searched.
	ErrNoSlot = errors.New("no allowed contact")
)

// Plan returns when and on which channel the requested contact goes out:
// the earliest instant at or after req.Earliest at which one of the request's
// channels, in preference order (Preferred, then the fallback order), that
// the customer has an address for is allowed by every rule in the time zone
// loc, given the plan's contact history. When several channels are allowed
// at that instant the most preferred one is used, so a fallback channel
// today beats the preferred one tomorrow.
//
// The decision passes Check; every instant from req.Earliest up to it fails
// Check for each usable channel. Plan looks at the local day of req.Earliest
// and the SearchDays after it and returns an error wrapping ErrNoSlot if no
// instant in them is allowed, ErrNoChannel if no channel is usable, and
// ErrInvalidRules or ErrInvalidInput for unusable inputs.
func (r Rules) Plan(req Request, history []Attempt, loc *time.Location) (Decision, error) {
	fail := func(err error) (Decision, error) {
		return Decision{}, fmt.Errorf("plan contact %q due %s: %w", req.Purpose, req.Earliest.Format(time.RFC3339), err)
	}
	if err := r.Validate(); err != nil {
		return fail(err)
	}
	if loc == nil {
		return fail(fmt.Errorf("%w: no time zone", ErrInvalidInput))
	}
	if req.Earliest.IsZero() {
		return fail(fmt.Errorf("%w: no earliest instant", ErrInvalidInput))
	}
	order, err := r.order(req)
	if err != nil {
		return fail(err)
	}
	channels := usable(order, req.Addresses)
	if len(channels) == 0 {
		return fail(fmt.Errorf("%w: no address for any of [%s]", ErrNoChannel, join(order)))
	}
	l, err := newLedger(history, loc)
	if err != nil {
		return fail(err)
	}
	s, err := r.search(req.Earliest, channels, l, loc)
	if err != nil {
		return fail(err)
	}
	d := Decision{At: s.at, Channel: s.ch, Deferred: s.at.After(req.Earliest), Reason: s.reason}
	var passed []string
	for _, ch := range order {
		if ch == s.ch {
			break
		}
		if !req.Addresses.Has(ch) {
			passed = append(passed, string(ch)+": no address")
		} else if v := r.violation(s.at, ch, l, loc); v != nil {
			passed = append(passed, string(ch)+": "+v.Detail)
		}
	}
	d.ChannelReason = strings.Join(passed, "; ")
	return d, nil
}

// NextAllowed returns the earliest instant at or after now at which a
// contact by ch is allowed, and why it is later than now (empty when it is
// now): the answer to a status query. When there is none within SearchDays
// days, or the inputs are unusable, it returns the zero time and the error
// in words.
func (r Rules) NextAllowed(now time.Time, ch Channel, history []Attempt, loc *time.Location) (time.Time, string) {
	fail := func(err error) (time.Time, string) {
		return time.Time{}, fmt.Sprintf("next contact by %s from %s: %v", ch, now.Format(time.RFC3339), err)
	}
	if err := r.Validate(); err != nil {
		return fail(err)
	}
	if err := checkInputs(ch, loc); err != nil {
		return fail(err)
	}
	l, err := newLedger(history, loc)
	if err != nil {
		return fail(err)
	}
	s, err := r.search(now, []Channel{ch}, l, loc)
	if err != nil {
		return fail(err)
	}
	return s.at, s.reason
}

// slot is the outcome of a search.
type slot struct {
	at     time.Time
	ch     Channel
	reason string
}

// search finds the earliest instant at or after earliest at which one of
// channels is allowed.
//
// Within one local day every rule is monotone: the window is one interval
// and the caps only count more attempts as the instant moves on (attempts
// are counted when at or before it; days roll over at midnight). So the
// first instant of a day worth trying is the later of earliest and the
// window's opening, and if no channel is allowed then, none is allowed
// later that day. The search tries that one instant on each day, at most
// SearchDays+1 days.
func (r Rules) search(earliest time.Time, channels []Channel, l ledger, loc *time.Location) (slot, error) {
	outside := !r.inWindow(earliest, loc)
	var caps []string // why earlier candidates failed, distinct, first seen first
	start := clock.LocalDate(earliest, loc)
	for i := 0; i <= r.SearchDays; i++ {
		open, close := r.window(start.AddDays(i), loc)
		t := open
		if earliest.After(open) {
			t = earliest
		}
		if !t.Before(close) {
			continue
		}
		var here []*Violation // why each channel is not allowed at t
		for _, ch := range channels {
			v := r.violation(t, ch, l, loc)
			if v == nil {
				return slot{at: t, ch: ch, reason: r.deferral(outside, caps, loc)}, nil
			}
			here = append(here, v)
		}
		// No channel at t: the contact is deferred past t, for these reasons.
		for _, v := range here {
			if v.Rule == RuleWindow {
				outside = true
			} else if !slices.Contains(caps, v.Detail) {
				caps = append(caps, v.Detail)
			}
		}
	}
	return slot{}, fmt.Errorf("%w by %s within %s after the local day of %s: %s",
		ErrNoSlot, join(channels), count(r.SearchDays, "day"), earliest.Format(time.RFC3339), r.deferral(outside, caps, loc))
}

// deferral words why a contact is later than asked: the window, the caps,
// or both; empty when neither.
func (r Rules) deferral(outside bool, caps []string, loc *time.Location) string {
	switch {
	case outside && len(caps) == 0:
		return r.windowDetail(loc) + ": sent when it opens"
	case outside:
		return r.windowDetail(loc) + "; " + strings.Join(caps, "; ")
	}
	return strings.Join(caps, "; ")
}

// join lists channels as "push, sms, email".
func join(channels []Channel) string {
	s := make([]string, len(channels))
	for i, ch := range channels {
		s[i] = string(ch)
	}
	return strings.Join(s, ", ")
}
