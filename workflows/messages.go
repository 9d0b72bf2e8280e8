package workflows

import (
	"fmt"

	"go.temporal.io/sdk/workflow"

	"github.com/fenqi/fenqi/activities"
	"github.com/fenqi/fenqi/plan"
)

// Message is a customer or operator message waiting in the plan's inbox.
// Exactly one of the payload fields is set, as named by Kind.
type Message struct {
	Kind     string                    `json:"kind"`
	Choose   *plan.ChooseRequest       `json:"choose,omitempty"`
	Counter  *plan.CounterOfferRequest `json:"counter,omitempty"`
	Sign     *plan.SignRequest         `json:"sign,omitempty"`
	Withdraw *plan.WithdrawRequest     `json:"withdraw,omitempty"`
	Decision *plan.ReviewDecision      `json:"decision,omitempty"`
	Pay      *plan.PaymentRequest      `json:"pay,omitempty"`
	// Change requests of an active plan (quote, then confirm).
	activities.ChangeMessage
	Approve  *plan.ApprovalDecision `json:"approve,omitempty"`
	Complain *plan.ComplaintRequest `json:"complain,omitempty"`
	Resolve  *plan.ResolveRequest   `json:"resolve,omitempty"`
	// Collection messages: the debtor's promise, the operator's decisions.
	Promise  *plan.PromiseRequest  `json:"promise,omitempty"`
	Referral *plan.ReferralRequest `json:"referral,omitempty"`
	WriteOff *plan.WriteOffRequest `json:"write_off,omitempty"`
	Grace    *plan.GraceRequest    `json:"grace,omitempty"`
}

// RequestID is the id of the request the message carries.
func (m Message) RequestID() string {
	switch {
	case m.Choose != nil:
		return m.Choose.RequestID
	case m.Counter != nil:
		return m.Counter.RequestID
	case m.Sign != nil:
		return m.Sign.RequestID
	case m.Withdraw != nil:
		return m.Withdraw.RequestID
	case m.Decision != nil:
		return m.Decision.RequestID
	case m.Pay != nil:
		return m.Pay.RequestID
	case m.Approve != nil:
		return m.Approve.RequestID
	case m.Complain != nil:
		return m.Complain.RequestID
	case m.Resolve != nil:
		return m.Resolve.RequestID
	case m.Promise != nil:
		return m.Promise.RequestID
	case m.Referral != nil:
		return m.Referral.RequestID
	case m.WriteOff != nil:
		return m.WriteOff.RequestID
	case m.Grace != nil:
		return m.Grace.RequestID
	case m.ChangeMessage.Request() != nil:
		return m.ChangeMessage.Request().ID()
	}
	return ""
}

// registerHandlers accepts every customer and operator message both as a
// Signal and as an Update, through one path each: validate, then queue for
// the run loop. An Update waits for the run loop's reply.
func (w *planWorkflow) registerHandlers(ctx workflow.Context) error {
	if err := handle(ctx, w, plan.MsgChoose, func(r plan.ChooseRequest) Message { return Message{Kind: plan.MsgChoose, Choose: &r} }, w.checkChoose); err != nil {
		return err
	}
	if err := handle(ctx, w, plan.MsgCounterOffer, func(r plan.CounterOfferRequest) Message { return Message{Kind: plan.MsgCounterOffer, Counter: &r} }, w.checkCounter); err != nil {
		return err
	}
	if err := handle(ctx, w, plan.MsgSign, func(r plan.SignRequest) Message { return Message{Kind: plan.MsgSign, Sign: &r} }, w.checkSign); err != nil {
		return err
	}
	if err := handle(ctx, w, plan.MsgWithdraw, func(r plan.WithdrawRequest) Message { return Message{Kind: plan.MsgWithdraw, Withdraw: &r} }, w.checkWithdraw); err != nil {
		return err
	}
	if err := handle(ctx, w, plan.MsgPay, func(r plan.PaymentRequest) Message { return Message{Kind: plan.MsgPay, Pay: &r} }, w.checkPay); err != nil {
		return err
	}
	if err := handle(ctx, w, plan.MsgReviewDecision, func(r plan.ReviewDecision) Message { return Message{Kind: plan.MsgReviewDecision, Decision: &r} }, w.checkDecision); err != nil {
		return err
	}
	if err := w.registerRequestHandlers(ctx); err != nil {
		return err
	}
	if err := w.registerCollectionHandlers(ctx); err != nil {
		return err
	}
	w.serveSignals(ctx)
	// The front door sends this with the start of the workflow and gets the
	// credit decision back in the same round trip. The application's
	// fingerprint refuses a request id reused for another application.
	return workflow.SetUpdateHandlerWithOptions(ctx, plan.UpdateAwaitDecision,
		func(ctx workflow.Context, fingerprint string) (plan.Reply, error) {
			if err := workflow.Await(ctx, func() bool { return w.State != plan.StateAssessing }); err != nil {
				return plan.Reply{}, err
			}
			return plan.Reply{RequestID: w.App.RequestID, Accepted: w.State != plan.StateDeclined, State: w.State, OfferRound: w.OfferRound, Reason: firstOf(w.Reasons)}, nil
		},
		workflow.UpdateHandlerOptions{Validator: func(_ workflow.Context, fingerprint string) error {
			if fingerprint != w.AppFingerprint {
				return fmt.Errorf("request id %q was already used for a different application", w.App.RequestID)
			}
			return nil
		}},
	)
}

// serveSignals starts the run's one Signal loop over the channels handle
// registered (none before versionLeanRuns, where each kind has its own).
// A coroutine costs about 5 KB of stack and a stack walk on every workflow
// task, and a worker keeps hundreds of plans.
func (w *planWorkflow) serveSignals(ctx workflow.Context) {
	if len(w.signalers) == 0 {
		return
	}
	sel := workflow.NewSelector(ctx)
	for _, add := range w.signalers {
		add(sel)
	}
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			sel.Select(ctx)
		}
	})
}

func firstOf(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

// handle registers the Signal and the Update named name for requests of
// type R. wrap turns a request into a queued Message; check is the
// state-dependent validation (the request's own shape is checked first).
func handle[R plan.Request](ctx workflow.Context, w *planWorkflow, name string, wrap func(R) Message, check func(plan.Request) error) error {
	signals := workflow.GetSignalChannel(ctx, name)
	if w.version >= versionLeanRuns {
		w.signalers = append(w.signalers, func(sel workflow.Selector) {
			sel.AddReceive(signals, func(c workflow.ReceiveChannel, _ bool) {
				// Not Receive: a payload that does not decode is dropped
				// (and logged by the SDK), and Receive would then block
				// inside the selector.
				var req R
				if c.ReceiveAsync(&req) {
					w.acceptSignal(ctx, req, wrap(req), check)
				}
			})
		})
	} else {
		workflow.Go(ctx, func(ctx workflow.Context) {
			for {
				var req R
				signals.Receive(ctx, &req)
				w.acceptSignal(ctx, req, wrap(req), check)
			}
		})
	}
	return workflow.SetUpdateHandlerWithOptions(ctx, name,
		func(ctx workflow.Context, req R) (plan.Reply, error) {
			id := req.ID()
			if _, seen := w.Seen[id]; !seen {
				w.enqueue(req, wrap(req))
			}
			if err := workflow.Await(ctx, func() bool { _, ok := w.Replies[id]; return ok }); err != nil {
				return plan.Reply{}, err
			}
			return w.Replies[id], nil
		},
		workflow.UpdateHandlerOptions{Validator: func(_ workflow.Context, req R) error {
			return w.validate(req, check)
		}},
	)
}

// validate checks a request before it is accepted: its shape, its request
// id (a repeat with the same content is answered with the first reply; a
// different request under a used id is refused) and the plan's state.
func (w *planWorkflow) validate(req plan.Request, check func(plan.Request) error) error {
	if err := req.Validate(); err != nil {
		return err
	}
	if fp, seen := w.Seen[req.ID()]; seen {
		if fp != req.Fingerprint() {
			return fmt.Errorf("request id %q was already used for a different request", req.ID())
		}
		return nil
	}
	return check(req)
}

// acceptSignal is validate for a Signal, which has no caller to refuse.
// A refused Signal leaves its request id unused (as a refused Update does),
// and its refusal shows in the status's recent replies and the log.
func (w *planWorkflow) acceptSignal(ctx workflow.Context, req plan.Request, m Message, check func(plan.Request) error) {
	if err := w.validate(req, check); err != nil {
		workflow.GetLogger(ctx).Warn("signal refused", "plan_id", w.PlanID, "kind", m.Kind, "request_id", req.ID(), "reason", err.Error())
		w.remember(plan.Reply{RequestID: req.ID(), Accepted: false, Reason: m.Kind + ": " + err.Error(), State: w.State})
		return
	}
	if _, seen := w.Seen[req.ID()]; seen {
		return // a repeat: already queued or answered
	}
	w.enqueue(req, m)
}

func (w *planWorkflow) enqueue(req plan.Request, m Message) {
	w.Seen[req.ID()] = req.Fingerprint()
	w.Inbox = append(w.Inbox, m)
}

// pop takes the oldest queued message.
func (w *planWorkflow) pop() Message {
	m := w.Inbox[0]
	w.Inbox = w.Inbox[1:]
	return m
}

// reply answers a processed message.
func (w *planWorkflow) reply(m Message, accepted bool, reason string) {
	id := m.RequestID()
	r := plan.Reply{
		RequestID: id, Accepted: accepted, Reason: reason, State: w.State,
		OfferRound: w.OfferRound, AgreementHash: w.Agreement.SHA256,
	}
	w.Replies[id] = r
	w.remember(r)
}

// remember keeps r among the recent replies.
func (w *planWorkflow) remember(r plan.Reply) {
	w.Recent = append(w.Recent, r)
	if len(w.Recent) > recentReplies {
		w.Recent = w.Recent[len(w.Recent)-recentReplies:]
	}
}

// refuseInbox answers every message still queued with reason.
func (w *planWorkflow) refuseInbox(reason string) {
	for len(w.Inbox) > 0 {
		w.reply(w.pop(), false, reason)
	}
}

// The state-dependent checks, shared by Update validators, Signal
// acceptance and the run loop (which checks again when it processes a
// message, since the plan may have moved on meanwhile).

func (w *planWorkflow) checkChoose(r plan.Request) error {
	req := r.(plan.ChooseRequest)
	if w.State != plan.StateOffered {
		return fmt.Errorf("an offer can be chosen only while the plan is offered; it is %s", w.State)
	}
	if req.OfferSet != w.OfferSet {
		return fmt.Errorf("offer set %d is no longer on the table: the current offers are set %d", req.OfferSet, w.OfferSet)
	}
	if req.Offer > len(w.Offers) {
		return fmt.Errorf("there is no offer %d: the current offers are numbered 1 to %d", req.Offer, len(w.Offers))
	}
	return nil
}

func (w *planWorkflow) checkCounter(plan.Request) error {
	if w.State != plan.StateOffered {
		return fmt.Errorf("a counter-offer can be asked only while the plan is offered; it is %s", w.State)
	}
	if w.OfferRound >= w.App.Settings.MaxCounterRounds {
		return fmt.Errorf("all %d counter-offer rounds are used: choose one of the current offers", w.App.Settings.MaxCounterRounds)
	}
	return nil
}

func (w *planWorkflow) checkSign(r plan.Request) error {
	req := r.(plan.SignRequest)
	if w.State != plan.StateSigning {
		return fmt.Errorf("the agreement can be signed only while the plan is signing; it is %s", w.State)
	}
	if req.DocumentHash != w.Agreement.SHA256 {
		return fmt.Errorf("the signature quotes document %s, but the agreement to sign is %s", req.DocumentHash, w.Agreement.SHA256)
	}
	return nil
}

func (w *planWorkflow) checkWithdraw(plan.Request) error {
	if !w.State.BeforeActivation() {
		return fmt.Errorf("a plan can be withdrawn only before it is active; it is %s", w.State)
	}
	return nil
}

func (w *planWorkflow) checkPay(plan.Request) error {
	if w.State != plan.StateActive {
		return fmt.Errorf("a payment can be taken only while the plan is active; it is %s", w.State)
	}
	return nil
}

func (w *planWorkflow) checkDecision(plan.Request) error {
	if w.State != plan.StateReview {
		return fmt.Errorf("a review decision applies only to a plan in review; it is %s", w.State)
	}
	return nil
}
