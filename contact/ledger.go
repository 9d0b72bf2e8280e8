package contact

import (
	"errors"
	"fmt"
	"time"

	"github.com/fenqi/fenqi/calc"
	"github.com/fenqi/fenqi/clock"
)

// ErrInvalidInput is wrapped by the errors about a request, a history or a
// time zone that cannot be used.
var ErrInvalidInput = errors.New("invalid contact input")

// entry is one attempt that counts, with its local date.
type entry struct {
	at        time.Time
	day       calc.Date
	written   bool
	connected bool // a call the customer answered
}

// ledger is the counted part of a history, in the history's order.
type ledger []entry

// newLedger checks history and keeps the attempts that count (every one
// but Deferred) with their local dates in loc.
func newLedger(history []Attempt, loc *time.Location) (ledger, error) {
	l := make(ledger, 0, len(history))
	for i, a := range history {
		switch {
		case !a.Channel.Valid():
			return nil, fmt.Errorf("%w: history[%d] at %s: unknown channel %q", ErrInvalidInput, i, a.At.Format(time.RFC3339), a.Channel)
		case !a.Outcome.Valid():
			return nil, fmt.Errorf("%w: history[%d] at %s: unknown outcome %q", ErrInvalidInput, i, a.At.Format(time.RFC3339), a.Outcome)
		case a.At.IsZero():
			return nil, fmt.Errorf("%w: history[%d] by %s: no time", ErrInvalidInput, i, a.Channel)
		case a.Outcome == Deferred:
			continue
		}
		l = append(l, entry{
			at:        a.At,
			day:       clock.LocalDate(a.At, loc),
			written:   a.Channel.Written(),
			connected: a.Channel == Phone && a.Outcome == Connected,
		})
	}
	return l, nil
}

// tally is what the caps are checked against at one instant.
type tally struct {
	messagesDay, messagesRolling int
	callsDay, callsRolling       int
	connectedDay                 int
	conversation                 calc.Date // latest conversation in the quiet period; zero if none
}

// tally counts the attempts at or before t, t being on the local date day.
// Attempts after t are not counted: to check a recorded sequence, check each
// attempt against the ones recorded before it.
func (l ledger) tally(t time.Time, day calc.Date, r Rules) tally {
	var s tally
	for _, e := range l {
		age := day.DaysSince(e.day)
		if e.at.After(t) || age < 0 {
			continue
		}
		switch {
		case e.written:
			if age == 0 {
				s.messagesDay++
			}
			if age < r.RollingDays {
				s.messagesRolling++
			}
		default:
			if age == 0 {
				s.callsDay++
			}
			if age < r.RollingDays {
				s.callsRolling++
			}
			if e.connected && age == 0 {
				s.connectedDay++
			}
			if e.connected && age < r.QuietDaysAfterConversation && (s.conversation.IsZero() || e.day.After(s.conversation)) {
				s.conversation = e.day
			}
		}
	}
	return s
}
