package activities

import (
	"context"
	"fmt"
	"time"

	"github.com/fenqi/fenqi/calc"
	"github.com/fenqi/fenqi/clock"
)

// ScheduleRequest asks for a schedule and its annualised rates, checked
// against the rate cap (the credit policy's unless Cap is set).
type ScheduleRequest struct {
	Terms calc.Terms
	// StartAt, when set, starts the schedule on its calendar date in
	// TimeZone (the customer's; default Asia/Shanghai).
	StartAt  time.Time
	TimeZone string
	// Cap overrides the credit policy's rate cap.
	Cap *calc.RateCap
}

// ScheduleResult is the schedule with the cap's verdict.
type ScheduleResult struct {
	Schedule calc.Schedule
	// Flagged is true above the cap's flag threshold (4 x LPR by default).
	Flagged bool
	// Events are the business instants of each row's auto-debit (09:00 in
	// TimeZone on the due date) and its retries inside grace (D+1, D+3),
	// when TimeZone is given: workflow code has no time zone database.
	Events []DebitEvents
	// ZoneOffset is TimeZone's UTC offset in seconds on the first due date.
	ZoneOffset int
}

// DebitEvents are the business instants of one instalment's debit
// attempts: the due date, then the retries inside grace.
type DebitEvents struct {
	No       int
	Attempts []time.Time
}

// DebitHour is the business local hour auto-debit runs on a due date.
const DebitHour = 9

// RetryDays are the days after the due date a failed debit is retried on;
// the last is the end of grace (domain.md §7).
var RetryDays = []int{1, 3}

func debitEvents(rows []calc.Row, tz string) []DebitEvents {
	loc := Calendar{TimeZone: tz}.loc()
	out := make([]DebitEvents, len(rows))
	for i, r := range rows {
		ev := DebitEvents{No: r.No, Attempts: []time.Time{clock.At(r.DueDate, loc, DebitHour, 0)}}
		for _, d := range RetryDays {
			ev.Attempts = append(ev.Attempts, clock.At(r.DueDate.AddDays(d), loc, DebitHour, 0))
		}
		out[i] = ev
	}
	return out
}

// BuildSchedule computes the schedule for t and refuses it above the rate
// cap. It is pure and deterministic: run it as a local activity.
func (a *Activities) BuildSchedule(_ context.Context, req ScheduleRequest) (ScheduleResult, error) {
	if !req.StartAt.IsZero() {
		req.Terms.Start = StartDate(req.StartAt, req.TimeZone)
	}
	s, err := calc.BuildSchedule(req.Terms)
	if err != nil {
		return ScheduleResult{}, fmt.Errorf("build schedule: %w", err)
	}
	rc := a.policy().RateCap
	if req.Cap != nil {
		rc = *req.Cap
	}
	flagged, err := rc.Check(s.APRNominal)
	if err != nil {
		return ScheduleResult{}, fmt.Errorf("build schedule: %w", err)
	}
	res := ScheduleResult{Schedule: s, Flagged: flagged}
	if req.TimeZone != "" && len(s.Rows) > 0 {
		res.Events = debitEvents(s.Rows, req.TimeZone)
		_, res.ZoneOffset = res.Events[0].Attempts[0].In(Calendar{TimeZone: req.TimeZone}.loc()).Zone()
	}
	return res, nil
}
