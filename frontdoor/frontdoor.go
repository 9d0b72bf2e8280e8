// Package frontdoor is the one typed way into fenqi's plans, shared by the
// starter CLI and the HTTP API: start a plan, send a customer or operator
// request, read a plan's status. Neither caller talks to Temporal on its
// own terms.
//
// An active plan takes change requests (Cancel, Restructure, Holiday,
// Prepay, Waive, ArrearsPlan) in two steps: without a quote id the plan
// answers with a quote (plan.Reply.Quote; Accepted says whether it is
// eligible, Reason why not) and changes nothing; with the quote's id it
// applies the quote.
package frontdoor

import (
	"time"

	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/fenqi/fenqi/plan"
	"github.com/fenqi/fenqi/searchattrs"
	"github.com/fenqi/fenqi/store"
)

// DefaultTaskQueue is the task queue fenqi's workers poll.
const DefaultTaskQueue = "fenqi"

// ErrNotFound means there is no plan with that id.
var ErrNotFound = errors.New("plan not found")

// RejectedError means the plan refused the request before it was applied:
// the plan is in the wrong state, the agreement hash does not match, or
// the request id was used for another request.
type RejectedError struct {
	Reason string
}

func (e *RejectedError) Error() string { return e.Reason }

// Door sends requests to plans and reads what they keep in the database.
type Door struct {
	c     client.Client
	queue string
	// st reads the data that lives in PostgreSQL rather than in the
	// workflow (contacts) and tops up funding accounts; nil without
	// WithStore.
	st *store.Store
}

// Option configures a Door.
type Option func(*Door)

// WithStore gives the door the database, for Contacts and Fund.
func WithStore(st *store.Store) Option {
	return func(d *Door) { d.st = st }
}

// New returns a Door over a connected Temporal client; an empty taskQueue
// means DefaultTaskQueue.
func New(c client.Client, taskQueue string, opts ...Option) *Door {
	if taskQueue == "" {
		taskQueue = DefaultTaskQueue
	}
	d := &Door{c: c, queue: taskQueue}
	for _, o := range opts {
		o(d)
	}
	return d
}

// Applied is the answer to an application.
type Applied struct {
	PlanID string     `json:"plan_id"`
	State  plan.State `json:"state"`
	// Reason explains a decline, an expiry or a withdrawal.
	Reason string `json:"reason,omitempty"`
	// Offers is the current offer set, numbered OfferSet, while the plan
	// is offered: a front-end shows them without asking for the status.
	Offers         []plan.Offer `json:"offers,omitempty"`
	OfferSet       int          `json:"offer_set,omitempty"`
	OffersExpireAt *time.Time   `json:"offers_expire_at,omitempty"`
}

// Apply starts the plan for an application and returns once the credit
// decision is made (offers, manual review or decline). Applying again with
// the same request id returns the same plan.
func (d *Door) Apply(ctx context.Context, app plan.Application) (Applied, error) {
	if err := app.Validate(); err != nil {
		return Applied{}, err
	}
	app = app.Normalized()
	id := plan.IDFromRequest(app.RequestID)
	start := d.c.NewWithStartWorkflowOperation(client.StartWorkflowOptions{
		ID:                       plan.WorkflowID(id),
		TaskQueue:                d.queue,
		WorkflowIDConflictPolicy: enums.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		// A plan that has ended is never started again under its id.
		WorkflowIDReusePolicy: enums.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		// A short summary without personal data, shown in the Web UI.
		Memo: map[string]any{"summary": app.MemoSummary()},
		TypedSearchAttributes: temporal.NewSearchAttributes(
			searchattrs.PlanState.ValueSet(searchattrs.Onboarding),
			searchattrs.CustomerId.ValueSet(plan.CustomerIDFromRef(app.Customer.Ref).String()),
		),
	}, plan.WorkflowName, plan.Input{PlanID: id.String(), Application: app, Fingerprint: app.Fingerprint()})
	fp := app.Fingerprint()
	h, err := d.c.UpdateWithStartWorkflow(ctx, client.UpdateWithStartWorkflowOptions{
		StartWorkflowOperation: start,
		UpdateOptions: client.UpdateWorkflowOptions{
			UpdateName: plan.UpdateAwaitDecision,
			// A repeat of the same application is answered by the server; the
			// same request id with other content reaches the validator, which
			// refuses it.
			UpdateID:     "apply:" + app.RequestID + ":" + fp[:16],
			Args:         []any{fp},
			WaitForStage: client.WorkflowUpdateStageCompleted,
		},
	})
	if err == nil {
		var reply plan.Reply
		err = h.Get(ctx, &reply)
	}
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if err != nil && !errors.As(err, &started) {
		if rej := d.mapErr("apply", id, err); errors.As(rej, new(*RejectedError)) {
			return Applied{}, rej
		}
		return Applied{}, fmt.Errorf("apply %s: %w", app.RequestID, err)
	}
	// A repeated application is answered with the plan as it is now (the
	// update's first answer is kept by the server; the plan may have moved
	// on since, or ended).
	st, err := d.Status(ctx, id.String())
	if err != nil {
		return Applied{}, fmt.Errorf("apply %s: %w", app.RequestID, err)
	}
	if st.ApplicationFingerprint != fp {
		return Applied{}, &RejectedError{Reason: fmt.Sprintf("request id %q was already used for a different application", app.RequestID)}
	}
	res := Applied{PlanID: id.String(), State: st.State, Reason: firstOf(st.Reasons)}
	if st.State == plan.StateOffered {
		res.Offers, res.OfferSet, res.OffersExpireAt = st.Offers, st.OfferSet, &st.OffersExpireAt
	}
	return res, nil
}

func firstOf(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

// Status reads a plan's status.
func (d *Door) Status(ctx context.Context, planID string) (plan.Status, error) {
	id, err := plan.ParseID(planID)
	if err != nil {
		return plan.Status{}, &plan.ValidationError{Field: "plan", Reason: err.Error()}
	}
	v, err := d.c.QueryWorkflow(ctx, plan.WorkflowID(id), "", plan.QueryStatus)
	if err != nil {
		return plan.Status{}, d.mapErr("status", id, err)
	}
	var st plan.Status
	if err := v.Get(&st); err != nil {
		return plan.Status{}, fmt.Errorf("decode status of plan %s: %w", id, err)
	}
	return st, nil
}

// Agreement reads the plan's agreement document.
func (d *Door) Agreement(ctx context.Context, planID string) (plan.Agreement, error) {
	id, err := plan.ParseID(planID)
	if err != nil {
		return plan.Agreement{}, &plan.ValidationError{Field: "plan", Reason: err.Error()}
	}
	v, err := d.c.QueryWorkflow(ctx, plan.WorkflowID(id), "", plan.QueryAgreement)
	if err != nil {
		var qf *serviceerror.QueryFailed
		if errors.As(err, &qf) {
			return plan.Agreement{}, &RejectedError{Reason: qf.Message}
		}
		return plan.Agreement{}, d.mapErr("agreement", id, err)
	}
	var a plan.Agreement
	if err := v.Get(&a); err != nil {
		return plan.Agreement{}, fmt.Errorf("decode agreement of plan %s: %w", id, err)
	}
	return a, nil
}

// Choose picks an offer.
func (d *Door) Choose(ctx context.Context, planID string, r plan.ChooseRequest) (plan.Reply, error) {
	return d.send(ctx, planID, plan.MsgChoose, r)
}

// CounterOffer asks for other offers.
func (d *Door) CounterOffer(ctx context.Context, planID string, r plan.CounterOfferRequest) (plan.Reply, error) {
	return d.send(ctx, planID, plan.MsgCounterOffer, r)
}

// Sign signs the agreement.
func (d *Door) Sign(ctx context.Context, planID string, r plan.SignRequest) (plan.Reply, error) {
	return d.send(ctx, planID, plan.MsgSign, r)
}

// Withdraw withdraws the application.
func (d *Door) Withdraw(ctx context.Context, planID string, r plan.WithdrawRequest) (plan.Reply, error) {
	return d.send(ctx, planID, plan.MsgWithdraw, r)
}

// Decide sends an operator's review decision.
func (d *Door) Decide(ctx context.Context, planID string, r plan.ReviewDecision) (plan.Reply, error) {
	return d.send(ctx, planID, plan.MsgReviewDecision, r)
}

// Pay takes a payment from outside auto-debit (a gateway's notice or the
// customer paying by hand) on an active plan. The request id is the
// payment id: the same payment sent again is applied once and answered
// with the first reply; another payment under a used id is refused.
func (d *Door) Pay(ctx context.Context, planID string, r plan.PaymentRequest) (plan.Reply, error) {
	return d.send(ctx, planID, plan.MsgPay, r)
}

// Cancel asks to cancel the instalment arrangement of an active plan:
// without a quote id for a quote (the reply's Quote; nothing changes),
// with one to confirm that quote.
func (d *Door) Cancel(ctx context.Context, planID string, r plan.CancelRequest) (plan.Reply, error) {
	return d.send(ctx, planID, plan.MsgCancel, r)
}

// Restructure asks to restructure an active plan (more terms, a lower
// instalment, another frequency): a quote, or the confirmation of one.
func (d *Door) Restructure(ctx context.Context, planID string, r plan.RestructureRequest) (plan.Reply, error) {
	return d.send(ctx, planID, plan.MsgRestructure, r)
}

// Holiday asks to pause instalments (a payment holiday): a quote, or the
// confirmation of one.
func (d *Door) Holiday(ctx context.Context, planID string, r plan.HolidayRequest) (plan.Reply, error) {
	return d.send(ctx, planID, plan.MsgHoliday, r)
}

// Prepay asks to repay early, in full or in part: a quote, or the
// confirmation of one.
func (d *Door) Prepay(ctx context.Context, planID string, r plan.PrepayRequest) (plan.Reply, error) {
	return d.send(ctx, planID, plan.MsgPrepay, r)
}

// Waive sends an operator's waiver of penalty, fee or interest: a quote,
// or the confirmation of one.
func (d *Door) Waive(ctx context.Context, planID string, r plan.WaiveRequest) (plan.Reply, error) {
	return d.send(ctx, planID, plan.MsgWaive, r)
}

// Approve sends an operator's decision on a confirmed request that waits
// for one.
func (d *Door) Approve(ctx context.Context, planID string, r plan.ApprovalDecision) (plan.Reply, error) {
	return d.send(ctx, planID, plan.MsgApprove, r)
}

// Complain files a customer's complaint; collection contact pauses until
// it is resolved.
func (d *Door) Complain(ctx context.Context, planID string, r plan.ComplaintRequest) (plan.Reply, error) {
	return d.send(ctx, planID, plan.MsgComplain, r)
}

// Resolve sends an operator's resolution of a complaint.
func (d *Door) Resolve(ctx context.Context, planID string, r plan.ResolveRequest) (plan.Reply, error) {
	return d.send(ctx, planID, plan.MsgResolve, r)
}

// send delivers r as an Update and waits for the plan's reply. The update
// id is the request id, so a retried call is answered, not applied twice.
func (d *Door) send(ctx context.Context, planID, name string, r plan.Request) (plan.Reply, error) {
	id, err := plan.ParseID(planID)
	if err != nil {
		return plan.Reply{}, &plan.ValidationError{Field: "plan", Reason: err.Error()}
	}
	if err := r.Validate(); err != nil {
		return plan.Reply{}, err
	}
	h, err := d.c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: plan.WorkflowID(id),
		UpdateName: name,
		// Only an identical repeat is deduplicated by the server: the same
		// request id with other content reaches the validator and is refused.
		UpdateID:     name + ":" + r.ID() + ":" + r.Fingerprint()[:16],
		Args:         []any{r},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	var reply plan.Reply
	if err == nil {
		err = h.Get(ctx, &reply)
	}
	if err != nil {
		return plan.Reply{}, d.ended(ctx, name, id, d.mapErr(name, id, err))
	}
	return reply, nil
}

// ended explains a request refused because the plan's workflow has
// finished: the server answers "not found", but the plan exists and its
// state says why nothing more can happen.
func (d *Door) ended(ctx context.Context, name string, id uuid.UUID, err error) error {
	if !errors.Is(err, ErrNotFound) {
		return err
	}
	st, qerr := d.Status(ctx, id.String())
	if qerr != nil {
		return err
	}
	return &RejectedError{Reason: fmt.Sprintf("the plan is %s; %s is not possible any more", st.State, name)}
}

// Signal delivers r as a Signal, as front-ends that do not wait for an
// answer send it; the outcome shows in the plan's status.
func (d *Door) Signal(ctx context.Context, planID, name string, r plan.Request) error {
	id, err := plan.ParseID(planID)
	if err != nil {
		return &plan.ValidationError{Field: "plan", Reason: err.Error()}
	}
	if err := r.Validate(); err != nil {
		return err
	}
	if err := d.c.SignalWorkflow(ctx, plan.WorkflowID(id), "", name, r); err != nil {
		return d.ended(ctx, name, id, d.mapErr(name, id, err))
	}
	return nil
}

// mapErr turns Temporal's errors into the front door's.
func (d *Door) mapErr(op string, id uuid.UUID, err error) error {
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		return fmt.Errorf("%s plan %s: %w", op, id, ErrNotFound)
	}
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		return &RejectedError{Reason: appErr.Message()}
	}
	return fmt.Errorf("%s plan %s: %w", op, id, err)
}
