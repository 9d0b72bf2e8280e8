package activities

import (
	"context"
	"fmt"
	"time"

	"github.com/fenqi/fenqi/calc"
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
	return ScheduleResult{Schedule: s, Flagged: flagged}, nil
}
