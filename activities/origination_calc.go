package activities

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/fenqi/fenqi/agreement"
	"github.com/fenqi/fenqi/calc"
	"github.com/fenqi/fenqi/plan"
	"github.com/fenqi/fenqi/underwriting"
)

// Assessment is the credit decision on an application.
type Assessment = underwriting.Assessment

// Document is a rendered agreement with its SHA-256.
type Document = agreement.Document

// The decisions of an assessment.
const (
	DecisionApproved = underwriting.DecisionApproved
	DecisionDeclined = underwriting.DecisionDeclined
	DecisionReview   = underwriting.DecisionReview
)

// DecideInput is the application to assess.
type DecideInput struct {
	App plan.Application
}

// Decision is the assessment and, when approved, the first offers.
type Decision struct {
	Assessment Assessment
	Offers     []plan.Offer
}

// Decide scores the application under the credit policy and, when it is
// approved, makes the first offer set. Pure: run it as a local activity.
func (a *Activities) Decide(_ context.Context, in DecideInput) (Decision, error) {
	as := underwriting.Assess(a.policy(), in.App)
	d := Decision{Assessment: as}
	if as.Decision != DecisionApproved {
		return d, nil
	}
	offers, err := underwriting.Offers(a.policy(), in.App, as, underwriting.InitialRequest(in.App))
	var refusal *underwriting.Refusal
	switch {
	case errors.As(err, &refusal):
		d.Assessment.Decision = DecisionDeclined
		d.Assessment.Reasons = append(d.Assessment.Reasons, refusal.Reason)
	case err != nil:
		return Decision{}, fmt.Errorf("decide application %s: %w", in.App.RequestID, err)
	default:
		d.Offers = offers
	}
	return d, nil
}

// OffersInput asks for an offer set: after a review (Counter nil) or for
// a counter-offer.
type OffersInput struct {
	App        plan.Application
	Assessment Assessment
	Current    []plan.Offer
	Counter    *plan.CounterOfferRequest
}

// OffersResult is a new offer set, or the reason none can be made.
type OffersResult struct {
	Offers  []plan.Offer
	Refusal string
}

// MakeOffers makes an offer set within policy, or says why it cannot.
// Pure: run it as a local activity.
func (a *Activities) MakeOffers(_ context.Context, in OffersInput) (OffersResult, error) {
	req := underwriting.InitialRequest(in.App)
	if in.Counter != nil {
		req = underwriting.CounterRequest(in.App, in.Current, *in.Counter)
	}
	offers, err := underwriting.Offers(a.policy(), in.App, in.Assessment, req)
	var refusal *underwriting.Refusal
	if errors.As(err, &refusal) {
		return OffersResult{Refusal: refusal.Reason}, nil
	}
	if err != nil {
		return OffersResult{}, fmt.Errorf("make offers for %s: %w", in.App.RequestID, err)
	}
	return OffersResult{Offers: offers}, nil
}

// AgreementInput is what the agreement is rendered from.
type AgreementInput struct {
	PlanID  string
	App     plan.Application
	Offer   plan.Offer
	Version int
	// StartAt is when the agreement is made: the plan starts on its
	// calendar date in TimeZone, and the schedule in the text runs from it.
	StartAt  time.Time
	TimeZone string
}

// RenderedAgreement is the agreement with the start date its schedule
// runs from; the plan is activated with exactly that schedule.
type RenderedAgreement struct {
	Document Document
	Start    calc.Date
}

// RenderAgreement renders the agreement for the chosen offer, with its
// SHA-256 and the schedule from the plan's start. Pure: run it as a local
// activity.
func (a *Activities) RenderAgreement(_ context.Context, in AgreementInput) (RenderedAgreement, error) {
	start := StartDate(in.StartAt, in.TimeZone)
	sched, err := calc.BuildSchedule(in.Offer.CalcTerms(start))
	if err != nil {
		return RenderedAgreement{}, fmt.Errorf("render agreement for plan %s: %w", in.PlanID, err)
	}
	doc, err := agreement.Render(agreement.Input{
		PlanID: in.PlanID, CustomerName: in.App.Customer.Name, Offer: in.Offer, Schedule: sched,
		Origin: in.App.Origin, Penalty: calc.DefaultPenaltyRule(), Settlement: a.policy().Requests.Settlement.Terms(),
		GraceDays: GraceDays, Currency: in.App.Currency, Version: in.Version,
	})
	if err != nil {
		return RenderedAgreement{}, fmt.Errorf("render agreement for plan %s: %w", in.PlanID, err)
	}
	return RenderedAgreement{Document: doc, Start: start}, nil
}

// GraceDays is the grace period after a due date (domain.md §7).
const GraceDays = 3

// StartDate is the plan's start: the calendar date of now in the
// customer's time zone (Asia/Shanghai when tz is empty or unknown).
func StartDate(now time.Time, tz string) calc.Date {
	loc, err := time.LoadLocation(tz)
	if err != nil || tz == "" {
		loc = shanghai
	}
	return calc.DateOf(now.In(loc))
}

var shanghai = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		return time.FixedZone("CST", 8*3600)
	}
	return loc
}()
