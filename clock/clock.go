package clock

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"time"
)

// Bounds of Clock.DaySeconds when the clock is scaled.
const (
	// MinDaySeconds is the shortest real length of a business day: one
	// millisecond, the resolution of the mapping.
	MinDaySeconds = 0.001
	// MaxDaySeconds is the longest real length of a business day: a real
	// day, at which the scaled clock runs at real speed.
	MaxDaySeconds = 86400
)

// ErrInvalid is wrapped by every error Validate returns.
var ErrInvalid = errors.New("invalid business clock")

// Clock maps real instants to business instants and back.
//
// The zero Clock is the real calendar. A scaled Clock must have an Origin;
// its methods clamp a DaySeconds outside [MinDaySeconds, MaxDaySeconds]
// (NaN included) into that range so that they never panic, but only
// Validate reports such a clock as wrong. The arithmetic is exact for every
// pair of instants; a business instant more than about 35 million years from
// Origin saturates.
type Clock struct {
	// Origin is the real instant the plan started (the workflow's start
	// time). Origin is its own business instant: Business(Origin) equals Origin.
	Origin time.Time `json:"origin"`
	// DaySeconds is the real length of one business day in seconds; 0 means
	// real time (scale off). It is taken to the nanosecond: 0.05 is exactly
	// 50 ms of real time per business day.
	DaySeconds float64 `json:"day_seconds"`
}

// Scaled reports whether the clock runs a compressed calendar (DaySeconds
// is not 0).
func (c Clock) Scaled() bool { return c.DaySeconds != 0 }

// Validate reports whether DaySeconds is 0 or within [MinDaySeconds,
// MaxDaySeconds], and that a scaled clock has an Origin. Errors wrap
// ErrInvalid.
func (c Clock) Validate() error {
	if !c.Scaled() {
		return nil
	}
	if math.IsNaN(c.DaySeconds) || c.DaySeconds < MinDaySeconds || c.DaySeconds > MaxDaySeconds {
		return fmt.Errorf("%w: day seconds %v: want 0 (real time) or between %v and %v", ErrInvalid, c.DaySeconds, MinDaySeconds, MaxDaySeconds)
	}
	if c.Origin.IsZero() {
		return fmt.Errorf("%w: day seconds %v without an origin: a scaled clock needs the plan's start instant", ErrInvalid, c.DaySeconds)
	}
	return nil
}

// Business returns the business instant of the real instant real:
// Origin + (real - Origin) x 86400 / DaySeconds, the offset rounded to the
// millisecond (half away from zero), in real's location. When the clock is
// not scaled it returns real unchanged.
//
// A real millisecond spans BusinessDuration(time.Millisecond) of business
// time (28.8 business minutes at 0.05 s a day), so a workflow that sleeps
// until a business instant it computed should act on that instant, not on
// Business of the instant its timer fired.
func (c Clock) Business(real time.Time) time.Time {
	if !c.Scaled() {
		return real
	}
	ms := scaleRound(sinceNanos(real, c.Origin), businessMillisNum, big.NewInt(c.dayNanos()))
	return addMillis(c.Origin, ms).In(real.Location())
}

// Real returns the real instant of the business instant business, the
// inverse of Business: Origin + (business - Origin) x DaySeconds / 86400,
// the offset rounded to the millisecond (half away from zero), in
// business's location. When the clock is not scaled it returns business
// unchanged.
//
// Real(Business(t)) is t whenever t is a whole number of milliseconds from
// Origin, and Real(Business(x)) is a fixed point of Real∘Business for every
// x, so replayed workflow code computes the same timers.
func (c Clock) Real(business time.Time) time.Time {
	if !c.Scaled() {
		return business
	}
	ms := scaleRound(sinceNanos(business, c.Origin), c.dayNanos(), realMillisDen)
	return addMillis(c.Origin, ms).In(business.Location())
}

// RealDuration returns the real length of the business duration business,
// rounded to the millisecond (half away from zero): the duration of a
// workflow timer that waits that long in business time. When the clock is
// not scaled it returns business unchanged.
func (c Clock) RealDuration(business time.Duration) time.Duration {
	if !c.Scaled() {
		return business
	}
	return millisDuration(scaleRound(big.NewInt(int64(business)), c.dayNanos(), realMillisDen))
}

// BusinessDuration returns the business length of the real duration real,
// rounded to the millisecond (half away from zero) and saturated at the
// largest time.Duration (about 292 years) either way. When the clock is not
// scaled it returns real unchanged.
func (c Clock) BusinessDuration(real time.Duration) time.Duration {
	if !c.Scaled() {
		return real
	}
	return millisDuration(scaleRound(big.NewInt(int64(real)), businessMillisNum, big.NewInt(c.dayNanos())))
}

// dayNanos is DaySeconds in whole nanoseconds, clamped into the valid range.
func (c Clock) dayNanos() int64 {
	ns := math.Round(c.DaySeconds * 1e9)
	switch {
	case !(ns >= MinDaySeconds*1e9): // NaN too
		return MinDaySeconds * 1e9
	case ns > MaxDaySeconds*1e9:
		return MaxDaySeconds * 1e9
	}
	return int64(ns)
}
