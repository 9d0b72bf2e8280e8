package activities

import (
	"context"
	"fmt"
	"time"

	"github.com/fenqi/fenqi/plan"
)

// The onboarding's steps as the plan workflow runs them from its version
// 2 on: each is one local activity that computes the step and stores it in
// one transaction, Repeatable (see Repeatable), and answers with what is
// stored. Earlier plans run the calculation and the write as two
// activities (Decide and RecordApplication, RenderAgreement and
// RecordAgreement, BuildSchedule and Activate).

// StateAfter is the plan's state once assessment a is made: offered,
// declined or in manual review.
func StateAfter(a Assessment) plan.State {
	switch a.Decision {
	case DecisionDeclined:
		return plan.StateDeclined
	case DecisionReview:
		return plan.StateReview
	}
	return plan.StateOffered
}

// AssessInput is an application to decide and record.
type AssessInput struct {
	PlanID     string
	CustomerID string
	App        plan.Application
	// OffersExpireAt is when offers made now lapse.
	OffersExpireAt time.Time
	// At is the workflow's time.
	At time.Time
	// Calendar is the plan's business calendar (contact rules, compressed demos).
	Calendar Calendar
}

// Assessed is the credit decision as stored.
type Assessed struct {
	Decision Decision
	// State is the plan's state after the decision.
	State plan.State
	// OffersExpireAt is when the offers lapse (zero: no offers).
	OffersExpireAt time.Time
	// Repeat says an earlier attempt stored the decision.
	Repeat bool
}

// Assess decides the application (Decide) and records it with its offers
// (RecordApplication): one local activity.
func (a *Activities) Assess(ctx context.Context, in AssessInput) (Assessed, error) {
	d, err := a.Decide(ctx, DecideInput{App: in.App})
	if err != nil {
		return Assessed{}, err
	}
	res := Assessed{Decision: d, State: StateAfter(d.Assessment)}
	if res.State == plan.StateOffered {
		res.OffersExpireAt = in.OffersExpireAt
	}
	rec, err := a.RecordApplication(ctx, RecordApplicationInput{
		PlanID: in.PlanID, CustomerID: in.CustomerID, App: in.App, Assessment: d.Assessment, State: res.State,
		Offers: d.Offers, OffersExpireAt: res.OffersExpireAt, At: in.At, Calendar: in.Calendar, Repeatable: true,
	})
	if err != nil {
		return Assessed{}, err
	}
	if rec.Repeat {
		res.Repeat, res.OffersExpireAt = true, rec.OffersExpireAt
	}
	return res, nil
}

// PrepareAgreementInput is the chosen offer whose agreement to render and
// record.
type PrepareAgreementInput struct {
	AgreementInput
	OfferSet  int
	ExpireAt  time.Time
	RequestID string
	// At is when the offer was chosen (the workflow's time).
	At time.Time
	// Calendar is the plan's business calendar (contact rules, compressed demos).
	Calendar Calendar
}

// PrepareAgreement renders the chosen offer's agreement (RenderAgreement)
// and records it (RecordAgreement): one local activity. The answer is the
// agreement in effect.
func (a *Activities) PrepareAgreement(ctx context.Context, in PrepareAgreementInput) (RecordedAgreement, error) {
	r, err := a.RenderAgreement(ctx, in.AgreementInput)
	if err != nil {
		return RecordedAgreement{}, err
	}
	rec, err := a.RecordAgreement(ctx, RecordAgreementInput{
		PlanID: in.PlanID, Version: in.Version, Offer: in.Offer, OfferSet: in.OfferSet, Document: r.Document, Start: r.Start,
		ExpireAt: in.ExpireAt, RequestID: in.RequestID, At: in.At, Calendar: in.Calendar, Repeatable: true,
	})
	if err != nil || rec.Repeat {
		return rec, err
	}
	return RecordedAgreement{Document: r.Document, Start: r.Start, ExpireAt: in.ExpireAt, Offer: in.Offer.No}, nil
}

// Activated is a signed plan's activation with its schedule.
type Activated struct {
	ActivateResult
	Schedule ScheduleResult
}

// SignAndActivate builds the schedule the agreement shows (BuildSchedule)
// and activates the plan with it (Activate): one local activity.
// in.Schedule is ignored.
func (a *Activities) SignAndActivate(ctx context.Context, in ActivateInput) (Activated, error) {
	sched, err := a.BuildSchedule(ctx, ScheduleRequest{Terms: in.Offer.CalcTerms(in.Start), TimeZone: in.Calendar.TimeZone})
	if err != nil {
		return Activated{}, fmt.Errorf("build schedule of plan %s: %w", in.PlanID, err)
	}
	in.Schedule, in.Repeatable = sched.Schedule, true
	res, err := a.Activate(ctx, in)
	if err != nil {
		return Activated{}, err
	}
	return Activated{ActivateResult: res, Schedule: sched}, nil
}
