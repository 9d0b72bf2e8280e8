package contact

import (
	"errors"
	"fmt"
	"time"

	"github.com/fenqi/fenqi/calc"
)

// MaxSearchDays bounds Rules.SearchDays.
const MaxSearchDays = 366

// ErrInvalidRules is wrapped by every error Rules.Validate returns.
var ErrInvalidRules = errors.New("invalid contact rules")

// Rules are the contact rules of domain.md §8. Start from DefaultRules and
// change fields: the zero Rules is invalid. A cap of 0 switches that cap
// off, as does QuietDaysAfterConversation 0.
//
// Days are calendar days in the customer's time zone. A rolling cap counts
// the attempts of the RollingDays consecutive local days that end with the
// day of the contact (Regulation F's "seven consecutive days"). The
// conversation rule forbids calls on the day of the conversation and the
// QuietDaysAfterConversation-1 days after it, so after a conversation on
// 2026-03-04 the next call may be placed on 2026-03-11. With that rule on,
// the connected-call cap can never bind; it matters when the rule is off.
type Rules struct {
	// WindowOpen and WindowClose bound the contact window: a contact at
	// local time t is allowed when WindowOpen <= t < WindowClose, so 08:00
	// is inside the default window and 21:00 is not.
	WindowOpen  TimeOfDay `json:"window_open"`
	WindowClose TimeOfDay `json:"window_close"`

	// MaxConnectedCallsPerDay caps the calls answered per local day (3).
	MaxConnectedCallsPerDay int `json:"max_connected_calls_per_day"`
	// MaxCallAttemptsPerDay caps the calls placed per local day (6).
	MaxCallAttemptsPerDay int `json:"max_call_attempts_per_day"`
	// MaxCallAttemptsRolling caps the calls placed per RollingDays local
	// days (7).
	MaxCallAttemptsRolling int `json:"max_call_attempts_rolling"`
	// QuietDaysAfterConversation is the number of local days, the day of a
	// conversation (a connected call) included, with no call (7).
	QuietDaysAfterConversation int `json:"quiet_days_after_conversation"`

	// MaxMessagesPerDay caps the written messages (sms, email, push, letter
	// together) per local day (2). The source articles only say "not too
	// often"; 2 a day and 6 a week are fenqi's defaults.
	MaxMessagesPerDay int `json:"max_messages_per_day"`
	// MaxMessagesRolling caps the written messages per RollingDays local
	// days (6), see MaxMessagesPerDay.
	MaxMessagesRolling int `json:"max_messages_rolling"`

	// RollingDays is the length of the rolling caps' run of days (7).
	RollingDays int `json:"rolling_days"`

	// Fallback is the order channels are tried in after the customer's
	// preferred one when a request names none (push, sms, email).
	Fallback []Channel `json:"fallback"`

	// SearchDays bounds how many local days after the earliest instant
	// Plan and NextAllowed look at before giving up (60).
	SearchDays int `json:"search_days"`
}

// DefaultRules returns the defaults of domain.md §8.
func DefaultRules() Rules {
	return Rules{
		WindowOpen:                 TimeOfDay{Hour: 8},
		WindowClose:                TimeOfDay{Hour: 21},
		MaxConnectedCallsPerDay:    3,
		MaxCallAttemptsPerDay:      6,
		MaxCallAttemptsRolling:     7,
		QuietDaysAfterConversation: 7,
		MaxMessagesPerDay:          2,
		MaxMessagesRolling:         6,
		RollingDays:                7,
		Fallback:                   []Channel{Push, SMS, Email},
		SearchDays:                 60,
	}
}

// Validate reports the first field of r that is out of range. Errors wrap
// ErrInvalidRules.
func (r Rules) Validate() error {
	switch {
	case !r.WindowOpen.valid(false):
		return fmt.Errorf("%w: window opening %s: want 00:00 to 23:59", ErrInvalidRules, r.WindowOpen)
	case !r.WindowClose.valid(true):
		return fmt.Errorf("%w: window closing %s: want 00:00 to 24:00", ErrInvalidRules, r.WindowClose)
	case r.WindowOpen.minutes() >= r.WindowClose.minutes():
		return fmt.Errorf("%w: window %s-%s: the opening must come before the closing", ErrInvalidRules, r.WindowOpen, r.WindowClose)
	}
	for _, f := range []struct {
		name string
		v    int
	}{
		{"max connected calls per day", r.MaxConnectedCallsPerDay},
		{"max call attempts per day", r.MaxCallAttemptsPerDay},
		{"max call attempts rolling", r.MaxCallAttemptsRolling},
		{"quiet days after conversation", r.QuietDaysAfterConversation},
		{"max messages per day", r.MaxMessagesPerDay},
		{"max messages rolling", r.MaxMessagesRolling},
	} {
		if f.v < 0 {
			return fmt.Errorf("%w: %s %d: want 0 (off) or more", ErrInvalidRules, f.name, f.v)
		}
	}
	if r.RollingDays < 1 {
		return fmt.Errorf("%w: rolling days %d: want 1 or more", ErrInvalidRules, r.RollingDays)
	}
	if r.SearchDays < 1 || r.SearchDays > MaxSearchDays {
		return fmt.Errorf("%w: search days %d: want 1 to %d", ErrInvalidRules, r.SearchDays, MaxSearchDays)
	}
	for i, ch := range r.Fallback {
		if !ch.Valid() {
			return fmt.Errorf("%w: fallback[%d] %q: unknown channel", ErrInvalidRules, i, ch)
		}
	}
	return nil
}

// window returns the contact window of the local date d in loc.
func (r Rules) window(d calc.Date, loc *time.Location) (open, close time.Time) {
	return r.WindowOpen.on(d, loc), r.WindowClose.on(d, loc)
}
