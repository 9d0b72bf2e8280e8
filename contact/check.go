package contact

import (
	"fmt"
	"time"

	"github.com/fenqi/fenqi/clock"
)

// Check reports whether a contact by ch at the instant at is allowed, given
// the plan's history, in the customer's time zone loc: nil when it is, a
// *Violation naming the first rule it breaks when it is not (the window,
// then the call rules or the message caps), and another error, wrapping
// ErrInvalidRules or ErrInvalidInput, when the inputs are unusable.
//
// Only attempts at or before at count. To check every recorded contact of a
// plan, check history[i] against history[:i], the attempts recorded before
// it.
func (r Rules) Check(at time.Time, ch Channel, history []Attempt, loc *time.Location) error {
	if err := r.Validate(); err != nil {
		return fmt.Errorf("check contact by %s at %s: %w", ch, at.Format(time.RFC3339), err)
	}
	if err := checkInputs(ch, loc); err != nil {
		return fmt.Errorf("check contact by %s at %s: %w", ch, at.Format(time.RFC3339), err)
	}
	l, err := newLedger(history, loc)
	if err != nil {
		return fmt.Errorf("check contact by %s at %s: %w", ch, at.Format(time.RFC3339), err)
	}
	if v := r.violation(at, ch, l, loc); v != nil {
		return v
	}
	return nil
}

// checkInputs refuses an unknown channel and a nil time zone.
func checkInputs(ch Channel, loc *time.Location) error {
	if !ch.Valid() {
		return fmt.Errorf("%w: unknown channel %q", ErrInvalidInput, ch)
	}
	if loc == nil {
		return fmt.Errorf("%w: no time zone", ErrInvalidInput)
	}
	return nil
}

// violation returns the first rule a contact by ch at t breaks, or nil.
func (r Rules) violation(t time.Time, ch Channel, l ledger, loc *time.Location) *Violation {
	day := clock.LocalDate(t, loc)
	v := func(rule Rule, format string, args ...any) *Violation {
		return &Violation{Rule: rule, Detail: fmt.Sprintf(format, args...), At: t, Channel: ch}
	}
	if open, close := r.window(day, loc); t.Before(open) || !t.Before(close) {
		return v(RuleWindow, "%s", r.windowDetail(loc))
	}
	s := l.tally(t, day, r)
	if ch == Phone {
		switch {
		case r.QuietDaysAfterConversation > 0 && !s.conversation.IsZero():
			return v(RuleConversation, "no call within %s after the conversation on %s", count(r.QuietDaysAfterConversation, "day"), s.conversation)
		case capped(s.connectedDay, r.MaxConnectedCallsPerDay):
			return v(RuleConnectedCallsDaily, "the daily cap of %s is reached", count(r.MaxConnectedCallsPerDay, "connected call"))
		case capped(s.callsDay, r.MaxCallAttemptsPerDay):
			return v(RuleCallAttemptsDaily, "the daily cap of %s is reached", count(r.MaxCallAttemptsPerDay, "call attempt"))
		case capped(s.callsRolling, r.MaxCallAttemptsRolling):
			return v(RuleCallAttemptsRolling, "the cap of %s in %s is reached", count(r.MaxCallAttemptsRolling, "call attempt"), count(r.RollingDays, "day"))
		}
		return nil
	}
	switch {
	case capped(s.messagesDay, r.MaxMessagesPerDay):
		return v(RuleMessagesDaily, "the daily cap of %s is reached", count(r.MaxMessagesPerDay, "message"))
	case capped(s.messagesRolling, r.MaxMessagesRolling):
		return v(RuleMessagesRolling, "the cap of %s in %s is reached", count(r.MaxMessagesRolling, "message"), count(r.RollingDays, "day"))
	}
	return nil
}

// windowDetail describes the window rule in loc.
func (r Rules) windowDetail(loc *time.Location) string {
	return fmt.Sprintf("outside the %s-%s window in %s", r.WindowOpen, r.WindowClose, loc)
}

// inWindow reports whether t is inside the contact window of its local day.
func (r Rules) inWindow(t time.Time, loc *time.Location) bool {
	open, close := r.window(clock.LocalDate(t, loc), loc)
	return !t.Before(open) && t.Before(close)
}

// capped reports whether n attempts reach the cap max (0: no cap).
func capped(n, max int) bool { return max > 0 && n >= max }

// count formats n things, "1 day", "7 days".
func count(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}
