package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/fenqi/fenqi/activities"
	"github.com/fenqi/fenqi/plan"
)

// assess scores the application, records it with the decision (and the
// offers, when approved), and waits for an operator when it is borderline.
func (w *planWorkflow) assess(ctx workflow.Context) error {
	if w.localSteps() {
		return w.assessStep(ctx)
	}
	var d activities.Decision
	if err := workflow.ExecuteLocalActivity(withCalc(ctx), act.Decide, activities.DecideInput{App: w.App}).Get(ctx, &d); err != nil {
		return fmt.Errorf("assess application %s: %w", w.App.RequestID, err)
	}
	w.Assessment = d.Assessment
	next := activities.StateAfter(d.Assessment)
	switch next {
	case plan.StateDeclined:
		w.Reasons = d.Assessment.Reasons
	case plan.StateOffered:
		w.setOffers(ctx, d.Offers)
	}
	rec := activities.RecordApplicationInput{
		PlanID: w.PlanID, CustomerID: w.CustomerID, App: w.App, Assessment: d.Assessment,
		State: next, Offers: w.Offers, OffersExpireAt: w.OffersExpireAt, At: workflow.Now(ctx), Calendar: w.Calendar,
	}
	if err := workflow.ExecuteActivity(withStore(ctx), act.RecordApplication, rec).Get(ctx, nil); err != nil {
		return fmt.Errorf("record application %s: %w", w.App.RequestID, err)
	}
	return w.setState(ctx, next)
}

// review waits for an operator's decision; without one in time the
// application is declined with that reason.
func (w *planWorkflow) review(ctx workflow.Context) error {
	timerCtx, cancel := workflow.WithCancel(ctx)
	defer cancel()
	deadline := workflow.NewTimer(timerCtx, w.realDuration(w.App.Settings.ReviewTimeout))
	for w.State == plan.StateReview {
		m, ok, err := w.next(ctx, deadline)
		if err != nil {
			return err
		}
		if !ok {
			return w.finish(ctx, plan.StateDeclined, fmt.Sprintf("No credit decision was made within %s of the manual review; please apply again.", w.App.Settings.ReviewTimeout))
		}
		switch m.Kind {
		case plan.MsgWithdraw:
			if err := w.withdraw(ctx, m); err != nil {
				return err
			}
		case plan.MsgReviewDecision:
			if err := w.decide(ctx, m); err != nil {
				return err
			}
		default:
			w.reply(m, false, fmt.Sprintf("the plan is in manual review; %s is not possible now", m.Kind))
		}
	}
	return nil
}

// decide applies an operator's review decision.
func (w *planWorkflow) decide(ctx workflow.Context, m Message) error {
	d := *m.Decision
	if !d.Approve {
		if err := w.finishFor(ctx, plan.StateDeclined, m, "Declined after manual review: "+d.Reason); err != nil {
			return err
		}
		w.reply(m, true, "")
		return nil
	}
	var offers activities.OffersResult
	in := activities.OffersInput{App: w.App, Assessment: w.Assessment}
	if err := workflow.ExecuteLocalActivity(withCalc(ctx), act.MakeOffers, in).Get(ctx, &offers); err != nil {
		return fmt.Errorf("make offers after review for %s: %w", w.PlanID, err)
	}
	if offers.Refusal != "" {
		if err := w.finishFor(ctx, plan.StateDeclined, m, offers.Refusal); err != nil {
			return err
		}
		w.reply(m, true, "")
		return nil
	}
	w.setOffers(ctx, offers.Offers)
	rec := activities.RecordOffersInput{
		PlanID: w.PlanID, Set: w.OfferSet, Offers: w.Offers, ExpireAt: w.OffersExpireAt,
		RequestID: d.RequestID, Actor: "operator", Note: "approved after manual review by " + d.Operator, State: plan.StateOffered,
		At: workflow.Now(ctx), Calendar: w.Calendar,
	}
	if err := workflow.ExecuteActivity(withStore(ctx), act.RecordOffers, rec).Get(ctx, nil); err != nil {
		return fmt.Errorf("record offers for %s: %w", w.PlanID, err)
	}
	if err := w.setState(ctx, plan.StateOffered); err != nil {
		return err
	}
	w.reply(m, true, "")
	return nil
}

// setOffers makes offers the current (next numbered) set, open for the
// offer TTL.
func (w *planWorkflow) setOffers(ctx workflow.Context, offers []plan.Offer) {
	w.OfferSet++
	w.Offers = offers
	w.OffersExpireAt = workflow.Now(ctx).Add(w.realDuration(w.App.Settings.OfferTTL))
}

// negotiate waits for the customer to choose an offer or ask for others,
// until the offer set expires.
func (w *planWorkflow) negotiate(ctx workflow.Context) error {
	for w.State == plan.StateOffered {
		timerCtx, cancel := workflow.WithCancel(ctx)
		expiry := workflow.NewTimer(timerCtx, w.OffersExpireAt.Sub(workflow.Now(ctx)))
		set := w.OfferSet
		for w.State == plan.StateOffered && w.OfferSet == set {
			m, ok, err := w.next(ctx, expiry)
			if err != nil {
				cancel()
				return err
			}
			if !ok {
				late, stored, err := w.committedLate(ctx, plan.MsgChoose)
				if err != nil || !stored {
					cancel()
					if err != nil {
						return err
					}
					return w.finish(ctx, plan.StateExpired, fmt.Sprintf("The offers expired at %s without a choice.", w.OffersExpireAt.UTC().Format("2006-01-02 15:04 MST")))
				}
				m = late
			}
			if err := w.negotiateMessage(ctx, m); err != nil {
				cancel()
				return err
			}
		}
		cancel()
	}
	return nil
}

func (w *planWorkflow) negotiateMessage(ctx workflow.Context, m Message) error {
	switch m.Kind {
	case plan.MsgWithdraw:
		return w.withdraw(ctx, m)
	case plan.MsgChoose:
		if err := w.checkChoose(*m.Choose); err != nil {
			w.reply(m, false, err.Error())
			return nil
		}
		return w.choose(ctx, m)
	case plan.MsgCounterOffer:
		if err := w.checkCounter(*m.Counter); err != nil {
			w.reply(m, false, err.Error())
			return nil
		}
		return w.counter(ctx, m)
	default:
		w.reply(m, false, fmt.Sprintf("the plan is offered; %s is not possible now", m.Kind))
		return nil
	}
}

// counter answers a counter-offer with new offers within policy, or a
// refusal with the reason. Each counter-offer uses one round.
func (w *planWorkflow) counter(ctx workflow.Context, m Message) error {
	c := *m.Counter
	var offers activities.OffersResult
	in := activities.OffersInput{App: w.App, Assessment: w.Assessment, Current: w.Offers, Counter: &c}
	if err := workflow.ExecuteLocalActivity(withCalc(ctx), act.MakeOffers, in).Get(ctx, &offers); err != nil {
		return fmt.Errorf("make counter-offers for %s: %w", w.PlanID, err)
	}
	w.OfferRound++
	rec := activities.RecordOffersInput{PlanID: w.PlanID, Round: w.OfferRound, RequestID: c.RequestID, Actor: "customer", State: plan.StateOffered, Counter: &c, At: workflow.Now(ctx), Calendar: w.Calendar}
	if offers.Refusal != "" {
		rec.Note = offers.Refusal
	} else {
		w.setOffers(ctx, offers.Offers)
		rec.Offers, rec.ExpireAt, rec.Set = w.Offers, w.OffersExpireAt, w.OfferSet
	}
	if err := workflow.ExecuteActivity(withStore(ctx), act.RecordOffers, rec).Get(ctx, nil); err != nil {
		return fmt.Errorf("record counter-offers for %s: %w", w.PlanID, err)
	}
	w.reply(m, offers.Refusal == "", offers.Refusal)
	return nil
}

// choose renders the agreement for the chosen offer, with the schedule
// starting today, and waits for the signature. The plan is activated with
// exactly the schedule the agreement shows.
func (w *planWorkflow) choose(ctx workflow.Context, m Message) error {
	c := *m.Choose
	w.Chosen = c.Offer
	w.AgreementVersion++
	if w.localSteps() {
		return w.chooseStep(ctx, m)
	}
	var rendered activities.RenderedAgreement
	in := activities.AgreementInput{
		PlanID: w.PlanID, App: w.App, Offer: w.Offers[c.Offer-1], Version: w.AgreementVersion,
		StartAt: w.businessNow(ctx), TimeZone: w.App.Customer.TimeZone,
	}
	if err := workflow.ExecuteLocalActivity(withCalc(ctx), act.RenderAgreement, in).Get(ctx, &rendered); err != nil {
		return fmt.Errorf("render agreement for %s: %w", w.PlanID, err)
	}
	doc := rendered.Document
	w.Agreement, w.AgreementStart = doc, rendered.Start
	w.AgreementExpireAt = workflow.Now(ctx).Add(w.realDuration(w.App.Settings.SignTTL))
	rec := activities.RecordAgreementInput{
		PlanID: w.PlanID, Version: w.AgreementVersion, Offer: w.Offers[c.Offer-1], OfferSet: w.OfferSet,
		Document: doc, Start: w.AgreementStart, ExpireAt: w.AgreementExpireAt, RequestID: c.RequestID, At: workflow.Now(ctx),
		Calendar: w.Calendar,
	}
	if err := workflow.ExecuteActivity(withStore(ctx), act.RecordAgreement, rec).Get(ctx, nil); err != nil {
		return fmt.Errorf("record agreement for %s: %w", w.PlanID, err)
	}
	if err := w.setState(ctx, plan.StateSigning); err != nil {
		return err
	}
	w.reply(m, true, "")
	return nil
}

// sign waits for the customer's signature on the agreement until it
// expires.
func (w *planWorkflow) sign(ctx workflow.Context) error {
	timerCtx, cancel := workflow.WithCancel(ctx)
	defer cancel()
	expiry := workflow.NewTimer(timerCtx, w.AgreementExpireAt.Sub(workflow.Now(ctx)))
	for w.State == plan.StateSigning {
		m, ok, err := w.next(ctx, expiry)
		if err != nil {
			return err
		}
		if !ok {
			late, stored, err := w.committedLate(ctx, plan.MsgSign)
			if err != nil {
				return err
			}
			if !stored {
				return w.finish(ctx, plan.StateExpired, fmt.Sprintf("The agreement was not signed by %s.", w.AgreementExpireAt.UTC().Format("2006-01-02 15:04 MST")))
			}
			m = late
		}
		switch m.Kind {
		case plan.MsgWithdraw:
			if err := w.withdraw(ctx, m); err != nil {
				return err
			}
		case plan.MsgSign:
			if err := w.checkSign(*m.Sign); err != nil {
				w.reply(m, false, err.Error())
				continue
			}
			return w.activate(ctx, m)
		default:
			w.reply(m, false, fmt.Sprintf("the agreement is waiting for a signature; %s is not possible now", m.Kind))
		}
	}
	return nil
}

// activate records the signature, reserves the credit line, persists the
// schedule and makes the plan active, all in one activity; a credit line
// that cannot cover the plan declines it.
func (w *planWorkflow) activate(ctx workflow.Context, m Message) error {
	if w.localSteps() {
		return w.activateStep(ctx, m)
	}
	sig := *m.Sign
	offer := w.Offers[w.Chosen-1]
	var sched activities.ScheduleResult
	req := activities.ScheduleRequest{Terms: offer.CalcTerms(w.AgreementStart), TimeZone: w.Calendar.TimeZone}
	if err := workflow.ExecuteLocalActivity(withCalc(ctx), act.BuildSchedule, req).Get(ctx, &sched); err != nil {
		return fmt.Errorf("build schedule for %s: %w", w.PlanID, err)
	}
	in := activities.ActivateInput{
		PlanID: w.PlanID, CustomerID: w.CustomerID, Offer: offer, Schedule: sched.Schedule,
		CreditLimit: w.Assessment.CreditLimit, AgreementVersion: w.AgreementVersion, Signature: sig,
		SignedAt: workflow.Now(ctx), Start: w.AgreementStart, Calendar: w.Calendar, Reminders: w.App.Settings.ReminderOffsets(),
	}
	var res activities.ActivateResult
	if err := workflow.ExecuteActivity(withStore(ctx), act.Activate, in).Get(ctx, &res); err != nil {
		return fmt.Errorf("activate %s: %w", w.PlanID, err)
	}
	return w.activated(ctx, m, res, sched, in.SignedAt)
}

// activated takes the outcome of an activation: the plan active with
// schedule sched, signed at signedAt, or declined when its credit line
// could not take it.
func (w *planWorkflow) activated(ctx workflow.Context, m Message, res activities.ActivateResult, sched activities.ScheduleResult, signedAt time.Time) error {
	if !res.Activated {
		if err := w.finishFor(ctx, plan.StateDeclined, m, res.Reason); err != nil {
			return err
		}
		w.reply(m, false, res.Reason)
		return nil
	}
	w.SignedAt = signedAt
	w.ScheduleVersion = 1
	w.Instalments = newInstalments(sched)
	w.Calendar.Offset = sched.ZoneOffset
	w.Contacts = res.Contacts
	if err := w.setState(ctx, plan.StateActive); err != nil {
		return err
	}
	w.reply(m, true, "")
	return nil
}

// withdraw ends the plan at the customer's request before activation.
func (w *planWorkflow) withdraw(ctx workflow.Context, m Message) error {
	if err := w.checkWithdraw(*m.Withdraw); err != nil {
		w.reply(m, false, err.Error())
		return nil
	}
	reason := "Withdrawn by the customer."
	if m.Withdraw.Reason != "" {
		reason = "Withdrawn by the customer: " + m.Withdraw.Reason
	}
	if err := w.finishFor(ctx, plan.StateWithdrawn, m, reason); err != nil {
		return err
	}
	w.reply(m, true, "")
	return nil
}

// finish records a final outcome that no request caused (a timeout),
// tells the customer, and moves the plan there.
func (w *planWorkflow) finish(ctx workflow.Context, s plan.State, reason string) error {
	return w.finishFor(ctx, s, Message{}, reason)
}

// finishFor records a final outcome (declined, expired, withdrawn) and the
// request m that caused it, if any; a pending agreement expires with it.
func (w *planWorkflow) finishFor(ctx workflow.Context, s plan.State, m Message, reason string) error {
	in := activities.RecordOutcomeInput{PlanID: w.PlanID, State: s, Reasons: []string{reason}, Request: requestRecord(m, s), At: workflow.Now(ctx), Calendar: w.Calendar}
	if w.State == plan.StateSigning {
		in.ExpireAgreement = w.AgreementVersion
	}
	if err := workflow.ExecuteActivity(withStore(ctx), act.RecordOutcome, in).Get(ctx, nil); err != nil {
		return fmt.Errorf("record %s for %s: %w", s, w.PlanID, err)
	}
	return w.setState(ctx, s, in.Reasons...)
}

// requestRecord describes how the request in m is kept in the requests
// table when it ends the plan in state s.
func requestRecord(m Message, s plan.State) *activities.RequestRecord {
	switch {
	case m.Withdraw != nil:
		return &activities.RequestRecord{ID: m.Withdraw.RequestID, Kind: "withdraw", Actor: "customer", Payload: m.Withdraw, Status: "completed"}
	case m.Decision != nil:
		return &activities.RequestRecord{ID: m.Decision.RequestID, Kind: "review_decision", Actor: "operator", Payload: m.Decision, Status: "completed"}
	case m.Sign != nil:
		// The signature was refused: the plan could not be activated.
		return &activities.RequestRecord{ID: m.Sign.RequestID, Kind: "sign_agreement", Actor: "customer", Payload: m.Sign, Status: "rejected"}
	}
	return nil
}

// next waits for a queued message or for deadline to fire; ok is false
// when the deadline has fired.
func (w *planWorkflow) next(ctx workflow.Context, deadline workflow.Future) (m Message, ok bool, err error) {
	if err := workflow.Await(ctx, func() bool { return len(w.Inbox) > 0 || deadline.IsReady() }); err != nil {
		return Message{}, false, err
	}
	// A deadline is strict: a message that arrives with it is too late.
	if deadline.IsReady() {
		return Message{}, false, nil
	}
	return w.pop(), true, nil
}
