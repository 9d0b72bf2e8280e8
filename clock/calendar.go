package clock

import (
	"time"

	"github.com/fenqi/fenqi/calc"
)

// At returns the business instant of the local clock time hour:minute on the
// calendar date d in loc (a reminder "on the due date at 10:00 in the
// customer's time zone"). A clock time that does not exist on d, because a
// daylight-saving change skips it, is normalised by time.Date with one of
// the two offsets around the change (02:30 on a spring-forward night in
// America/New_York comes out as 01:30 or 03:30). loc must not be nil.
func At(d calc.Date, loc *time.Location, hour, minute int) time.Time {
	return d.At(loc, hour, minute, 0)
}

// LocalDate returns the calendar date of the business instant business in
// loc: the customer's day, which starts at 16:00 UTC of the previous UTC day
// in Asia/Shanghai. loc must not be nil.
func LocalDate(business time.Time, loc *time.Location) calc.Date {
	return calc.DateOf(business.In(loc))
}
