package contact

import (
	"fmt"
	"time"

	"github.com/fenqi/fenqi/calc"
)

// TimeOfDay is a local clock time, hour and minute. 24:00 is the end of the
// day and only valid as a window's closing time.
type TimeOfDay struct {
	Hour   int `json:"hour"`
	Minute int `json:"minute"`
}

// String formats t as HH:MM.
func (t TimeOfDay) String() string { return fmt.Sprintf("%02d:%02d", t.Hour, t.Minute) }

// minutes is t in minutes since midnight.
func (t TimeOfDay) minutes() int { return t.Hour*60 + t.Minute }

// valid reports whether t is 00:00..23:59, or 24:00 when endOfDay is allowed.
func (t TimeOfDay) valid(endOfDay bool) bool {
	if endOfDay && t.Hour == 24 && t.Minute == 0 {
		return true
	}
	return t.Hour >= 0 && t.Hour <= 23 && t.Minute >= 0 && t.Minute <= 59
}

// on returns the instant of t on the calendar date d in loc; 24:00 is the
// next day's midnight.
func (t TimeOfDay) on(d calc.Date, loc *time.Location) time.Time {
	if t.Hour == 24 {
		return d.AddDays(1).At(loc, 0, 0, 0)
	}
	return d.At(loc, t.Hour, t.Minute, 0)
}
