package calc

import (
	"encoding/json"
	"fmt"
	"time"
)

// dateLayout is the only textual form of a Date.
const dateLayout = "2006-01-02"

// Date is a civil calendar date with no time zone and no clock time. The zero
// value is not a valid date; IsZero reports it. Dates are comparable with ==.
type Date struct {
	year  int
	month time.Month
	day   int
}

// NewDate returns the date year-month-day, refusing a day that does not
// exist in that month and years outside 1..9999.
func NewDate(year int, month time.Month, day int) (Date, error) {
	if year < 1 || year > 9999 {
		return Date{}, fmt.Errorf("date %04d-%02d-%02d: year must be between 1 and 9999", year, int(month), day)
	}
	if month < time.January || month > time.December {
		return Date{}, fmt.Errorf("date %04d-%02d-%02d: month must be between 1 and 12", year, int(month), day)
	}
	if day < 1 || day > daysIn(year, month) {
		return Date{}, fmt.Errorf("date %04d-%02d-%02d: day must be between 1 and %d", year, int(month), day, daysIn(year, month))
	}
	return Date{year: year, month: month, day: day}, nil
}

// ParseDate parses a date in the form YYYY-MM-DD.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(dateLayout, s)
	if err != nil {
		return Date{}, fmt.Errorf("parse date %q: want YYYY-MM-DD: %w", s, err)
	}
	return DateOf(t), nil
}

// DateOf returns the calendar date of t in t's own location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{year: y, month: m, day: d}
}

// Today returns the current date in loc, which must not be nil.
func Today(loc *time.Location) Date {
	return DateOf(time.Now().In(loc))
}

// Year returns the year of d.
func (d Date) Year() int { return d.year }

// Month returns the month of d.
func (d Date) Month() time.Month { return d.month }

// Day returns the day of the month of d.
func (d Date) Day() int { return d.day }

// IsZero reports whether d is the zero Date (no date set).
func (d Date) IsZero() bool { return d == Date{} }

// String formats d as YYYY-MM-DD.
func (d Date) String() string {
	return fmt.Sprintf("%04d-%02d-%02d", d.year, int(d.month), d.day)
}

// AddMonths returns d moved by n calendar months (n may be negative). A day
// that does not exist in the target month is clamped to its last day, so
// Jan 31 + 1 month is Feb 28 (or 29). Schedules call it on the start date
// for every row (start.AddMonths(k)), so a clamped date never drifts.
func (d Date) AddMonths(n int) Date {
	total := d.year*12 + int(d.month) - 1 + n
	y, m := total/12, time.Month(total%12+1)
	if total%12 < 0 {
		y, m = (total-11)/12, time.Month(total%12+13)
	}
	return Date{year: y, month: m, day: min(d.day, daysIn(y, m))}
}

// AddDays returns d moved by n days (n may be negative).
func (d Date) AddDays(n int) Date {
	return DateOf(time.Date(d.year, d.month, d.day+n, 0, 0, 0, 0, time.UTC))
}

// DaysSince returns the number of days from other to d: positive when d is
// later than other.
func (d Date) DaysSince(other Date) int {
	return int((d.unixDays() - other.unixDays()))
}

// Compare returns -1 if d is before other, 0 if equal and +1 if after.
func (d Date) Compare(other Date) int {
	switch {
	case d.year != other.year:
		return sign(d.year - other.year)
	case d.month != other.month:
		return sign(int(d.month) - int(other.month))
	default:
		return sign(d.day - other.day)
	}
}

// Before reports whether d is before other.
func (d Date) Before(other Date) bool { return d.Compare(other) < 0 }

// After reports whether d is after other.
func (d Date) After(other Date) bool { return d.Compare(other) > 0 }

// Equal reports whether d and other are the same day.
func (d Date) Equal(other Date) bool { return d == other }

// At returns the instant at the given clock time on d in loc. loc must not
// be nil.
func (d Date) At(loc *time.Location, hour, minute, second int) time.Time {
	return time.Date(d.year, d.month, d.day, hour, minute, second, 0, loc)
}

// MarshalText encodes d as YYYY-MM-DD; the zero Date encodes as empty text.
func (d Date) MarshalText() ([]byte, error) {
	if d.IsZero() {
		return []byte{}, nil
	}
	return []byte(d.String()), nil
}

// UnmarshalText decodes YYYY-MM-DD; empty text decodes to the zero Date.
func (d *Date) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*d = Date{}
		return nil
	}
	v, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// MarshalJSON encodes d as the JSON string "YYYY-MM-DD"; the zero Date
// encodes as null.
func (d Date) MarshalJSON() ([]byte, error) {
	if d.IsZero() {
		return []byte("null"), nil
	}
	return json.Marshal(d.String())
}

// UnmarshalJSON decodes the JSON string "YYYY-MM-DD"; null and "" decode to
// the zero Date.
func (d *Date) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*d = Date{}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("decode date from %s: want a \"YYYY-MM-DD\" string: %w", b, err)
	}
	return d.UnmarshalText([]byte(s))
}

// unixDays is the number of days from 1970-01-01 to d.
func (d Date) unixDays() int64 {
	return time.Date(d.year, d.month, d.day, 0, 0, 0, 0, time.UTC).Unix() / 86400
}

// daysIn returns the number of days in month m of year y.
func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// sign returns -1, 0 or +1 according to the sign of n.
func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}
