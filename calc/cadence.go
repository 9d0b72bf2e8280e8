package calc

import (
	"errors"
	"fmt"
)

// Cadence gives the due dates of a schedule: row k (k >= 1) is due Start + k
// periods (Frequency.DueDate(Start, k)), so month-end clamping is always
// computed from Start and a clamped date (Feb 28 of a 31st cadence) never
// drifts into the following rows.
type Cadence struct {
	// Start is the date the periods are counted from; it is not itself a
	// due date.
	Start Date
	// Frequency is Monthly or Quarterly; empty means Monthly.
	Frequency Frequency
}

// frequency returns c.Frequency with the default filled in.
func (c Cadence) frequency() Frequency {
	if c.Frequency == "" {
		return Monthly
	}
	return c.Frequency
}

// Due returns the due date of row k: Start + k periods.
func (c Cadence) Due(k int) Date {
	return c.frequency().DueDate(c.Start, k)
}

// IndexOf returns the k >= 1 with Due(k) == d, and false when d is not a
// due date of the cadence. It is computed from the months between Start and
// d, so it costs the same for any k.
func (c Cadence) IndexOf(d Date) (int, bool) {
	m := c.frequency().MonthsPerPeriod()
	if m == 0 || c.Start.IsZero() || d.IsZero() {
		return 0, false
	}
	months := (d.Year()-c.Start.Year())*12 + int(d.Month()) - int(c.Start.Month())
	if months < m || months%m != 0 {
		return 0, false
	}
	k := months / m
	if c.Due(k) != d {
		return 0, false
	}
	return k, true
}

// validate reports a cadence without a start date or with an unknown
// frequency.
func (c Cadence) validate() error {
	if err := c.frequency().Validate(); err != nil {
		return fmt.Errorf("cadence starting %s: %w", c.Start, err)
	}
	if c.Start.IsZero() {
		return errors.New("cadence: the start date is required")
	}
	return nil
}

// cadenceThrough returns a cadence of frequency f and the index j >= 1 of
// its row due anchor.AddMonths(months). The cadence's Start lies on anchor's
// day of the month (never on a clamped day), so row j+i is due
// anchor.AddMonths(months + i periods): a 31st anchor keeps falling on the
// 31st or the month end.
func cadenceThrough(anchor Date, months int, f Frequency) (Cadence, int) {
	m := max(f.MonthsPerPeriod(), 1)
	for j := 1; ; j++ {
		// Every residue of the months modulo 1 or 3 holds a 31-day month, so
		// a start on anchor's day exists within a year.
		start := anchor.AddMonths(months - j*m)
		if start.Day() == anchor.Day() || j*m >= 12 {
			return Cadence{Start: start, Frequency: f}, j
		}
	}
}
