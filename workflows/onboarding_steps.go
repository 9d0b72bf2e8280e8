package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/fenqi/fenqi/activities"
	"github.com/fenqi/fenqi/plan"
)

// From versionLocalWrites on, each onboarding step is one local activity
// that computes the step and stores it in one transaction (assessment,
// agreement, activation), instead of a local activity for the calculation
// and an activity for the write: no activity task round trip through the
// server. A local activity's input is not kept in history, so if the
// workflow task is lost after the commit the step runs again from a later
// workflow time; the step then answers with what the first attempt stored
// (activities.Repeatable), and the plan adopts the answer.

// localSteps says this run's onboarding steps are local activities.
func (w *planWorkflow) localSteps() bool { return w.version >= versionLocalWrites }

// withLocalStore runs an onboarding step as a local activity: retried as
// withStore's activities are, then every 10 minutes (see withCalc).
func withLocalStore(ctx workflow.Context) workflow.Context {
	return workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		StartToCloseTimeout:    30 * time.Second,
		ScheduleToCloseTimeout: retryForever,
		RetryPolicy:            &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 10 * time.Minute},
	})
}

// assessStep decides the application and records it with its offers.
func (w *planWorkflow) assessStep(ctx workflow.Context) error {
	now := workflow.Now(ctx)
	in := activities.AssessInput{
		PlanID: w.PlanID, CustomerID: w.CustomerID, App: w.App,
		OffersExpireAt: now.Add(w.realDuration(w.App.Settings.OfferTTL)), At: now, Calendar: w.Calendar,
	}
	var res activities.Assessed
	if err := workflow.ExecuteLocalActivity(withLocalStore(ctx), act.Assess, in).Get(ctx, &res); err != nil {
		return fmt.Errorf("assess application %s: %w", w.App.RequestID, err)
	}
	w.Assessment = res.Decision.Assessment
	switch res.State {
	case plan.StateDeclined:
		w.Reasons = res.Decision.Assessment.Reasons
	case plan.StateOffered:
		w.OfferSet++
		w.Offers, w.OffersExpireAt = res.Decision.Offers, res.OffersExpireAt
	}
	return w.setState(ctx, res.State)
}

// chooseStep renders and records the agreement of the offer m chose
// (choose has numbered it) and waits for the signature.
func (w *planWorkflow) chooseStep(ctx workflow.Context, m Message) error {
	c := *m.Choose
	now := workflow.Now(ctx)
	in := activities.PrepareAgreementInput{
		AgreementInput: activities.AgreementInput{
			PlanID: w.PlanID, App: w.App, Offer: w.Offers[c.Offer-1], Version: w.AgreementVersion,
			StartAt: w.businessNow(ctx), TimeZone: w.App.Customer.TimeZone,
		},
		OfferSet: w.OfferSet, ExpireAt: now.Add(w.realDuration(w.App.Settings.SignTTL)), RequestID: c.RequestID, At: now,
		Calendar: w.Calendar,
	}
	var res activities.RecordedAgreement
	if err := workflow.ExecuteLocalActivity(withLocalStore(ctx), act.PrepareAgreement, in).Get(ctx, &res); err != nil {
		return fmt.Errorf("prepare agreement for %s: %w", w.PlanID, err)
	}
	w.Agreement, w.AgreementStart, w.AgreementExpireAt = res.Document, res.Start, res.ExpireAt
	if err := w.setState(ctx, plan.StateSigning); err != nil {
		return err
	}
	if res.Offer != c.Offer {
		// A lost workflow task had recorded another choice, under a
		// request this run never saw: that choice stands.
		w.Chosen = res.Offer
		w.reply(m, false, fmt.Sprintf("offer %d was chosen already; its agreement waits for your signature (or withdraw)", res.Offer))
		return nil
	}
	w.reply(m, true, "")
	return nil
}

// committedLate answers, from versionLocalWrites on, a deadline that fired
// together with a queued message of kind (choose or sign): if a lost
// workflow task had already stored that message's step, the step stands
// and the message is returned to be processed (its step answers with what
// is stored); otherwise the deadline wins, as it does before version 2.
func (w *planWorkflow) committedLate(ctx workflow.Context, kind string) (Message, bool, error) {
	i := -1
	for j, m := range w.Inbox {
		if m.Kind == kind {
			i = j
			break
		}
	}
	if !w.localSteps() || i < 0 {
		return Message{}, false, nil
	}
	in := activities.StepStoredInput{PlanID: w.PlanID, AgreementVersion: w.AgreementVersion + 1}
	if kind == plan.MsgSign {
		in = activities.StepStoredInput{PlanID: w.PlanID, AgreementVersion: w.AgreementVersion, Signed: true}
	}
	var stored bool
	if err := workflow.ExecuteLocalActivity(withLocalStore(ctx), act.StepStored, in).Get(ctx, &stored); err != nil {
		return Message{}, false, fmt.Errorf("look for the %s step of %s: %w", kind, w.PlanID, err)
	}
	if !stored {
		return Message{}, false, nil
	}
	m := w.Inbox[i]
	w.Inbox = append(w.Inbox[:i:i], w.Inbox[i+1:]...)
	return m, true, nil
}

// activateStep records the signature in m and activates the plan with the
// agreement's schedule.
func (w *planWorkflow) activateStep(ctx workflow.Context, m Message) error {
	in := activities.ActivateInput{
		PlanID: w.PlanID, CustomerID: w.CustomerID, Offer: w.Offers[w.Chosen-1], CreditLimit: w.Assessment.CreditLimit,
		AgreementVersion: w.AgreementVersion, Signature: *m.Sign, SignedAt: workflow.Now(ctx), Start: w.AgreementStart,
		Calendar: w.Calendar, Reminders: w.App.Settings.ReminderOffsets(),
	}
	var res activities.Activated
	if err := workflow.ExecuteLocalActivity(withLocalStore(ctx), act.SignAndActivate, in).Get(ctx, &res); err != nil {
		return fmt.Errorf("activate %s: %w", w.PlanID, err)
	}
	return w.activated(ctx, m, res.ActivateResult, res.Schedule, res.SignedAt)
}
