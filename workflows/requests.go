package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/fenqi/fenqi/activities"
	"github.com/fenqi/fenqi/calc"
	"github.com/fenqi/fenqi/plan"
)

// HeldQuote is a quote the plan keeps until it is confirmed, goes stale or
// expires; ConfirmedBy is the request that confirmed it.
type HeldQuote struct {
	Quote       plan.Quote `json:"quote"`
	ConfirmedBy string     `json:"confirmed_by,omitempty"`
}

// Awaiting is a confirmed request that waits for an operator's approval.
type Awaiting struct {
	Quote     plan.Quote               `json:"quote"`
	RequestID string                   `json:"request_id"`
	Request   activities.ChangeMessage `json:"request"`
}

// heldQuotes bounds Plan.Quotes.
const heldQuotes = 10

// registerRequestHandlers accepts the requests of an active plan, each as
// a Signal and as an Update.
func (w *planWorkflow) registerRequestHandlers(ctx workflow.Context) error {
	if err := handle(ctx, w, plan.MsgCancel, func(r plan.CancelRequest) Message {
		return Message{Kind: plan.MsgCancel, ChangeMessage: activities.ChangeMessage{Cancel: &r}}
	}, w.checkChange); err != nil {
		return err
	}
	if err := handle(ctx, w, plan.MsgRestructure, func(r plan.RestructureRequest) Message {
		return Message{Kind: plan.MsgRestructure, ChangeMessage: activities.ChangeMessage{Restructure: &r}}
	}, w.checkChange); err != nil {
		return err
	}
	if err := handle(ctx, w, plan.MsgHoliday, func(r plan.HolidayRequest) Message {
		return Message{Kind: plan.MsgHoliday, ChangeMessage: activities.ChangeMessage{Holiday: &r}}
	}, w.checkChange); err != nil {
		return err
	}
	if err := handle(ctx, w, plan.MsgPrepay, func(r plan.PrepayRequest) Message {
		return Message{Kind: plan.MsgPrepay, ChangeMessage: activities.ChangeMessage{Prepay: &r}}
	}, w.checkChange); err != nil {
		return err
	}
	if err := handle(ctx, w, plan.MsgWaive, func(r plan.WaiveRequest) Message {
		return Message{Kind: plan.MsgWaive, ChangeMessage: activities.ChangeMessage{Waive: &r}}
	}, w.checkChange); err != nil {
		return err
	}
	if err := handle(ctx, w, plan.MsgArrearsPlan, func(r plan.ArrearsPlanRequest) Message {
		return Message{Kind: plan.MsgArrearsPlan, ChangeMessage: activities.ChangeMessage{Arrears: &r}}
	}, w.checkChange); err != nil {
		return err
	}
	if err := handle(ctx, w, plan.MsgApprove, func(r plan.ApprovalDecision) Message { return Message{Kind: plan.MsgApprove, Approve: &r} }, w.checkApprove); err != nil {
		return err
	}
	if err := handle(ctx, w, plan.MsgComplain, func(r plan.ComplaintRequest) Message { return Message{Kind: plan.MsgComplain, Complain: &r} }, w.checkActive); err != nil {
		return err
	}
	return handle(ctx, w, plan.MsgResolve, func(r plan.ResolveRequest) Message { return Message{Kind: plan.MsgResolve, Resolve: &r} }, w.checkResolve)
}

// checkActive refuses a request unless the plan is active.
func (w *planWorkflow) checkActive(r plan.Request) error {
	if w.State != plan.StateActive {
		return fmt.Errorf("this request is possible only while the plan is active; it is %s", w.State)
	}
	return nil
}

// checkChange refuses a change request on a plan that is not active, or
// a confirmation of a quote the plan does not hold.
func (w *planWorkflow) checkChange(r plan.Request) error {
	if err := w.checkActive(r); err != nil {
		return err
	}
	req := r.(plan.ChangeRequest)
	if id := req.Quote(); id != "" && w.heldQuote(id) == nil {
		return fmt.Errorf("there is no quote %s on this plan: ask for a new quote", id)
	}
	return nil
}

func (w *planWorkflow) checkApprove(r plan.Request) error {
	if err := w.checkActive(r); err != nil {
		return err
	}
	d := r.(plan.ApprovalDecision)
	if w.Awaiting == nil || w.Awaiting.Quote.ID != d.QuoteID {
		return fmt.Errorf("no request awaits approval under quote %s", d.QuoteID)
	}
	return nil
}

func (w *planWorkflow) checkResolve(r plan.Request) error {
	if err := w.checkActive(r); err != nil {
		return err
	}
	if w.openComplaint(r.(plan.ResolveRequest).Complaint) < 0 {
		return fmt.Errorf("there is no open complaint %s on this plan", r.(plan.ResolveRequest).Complaint)
	}
	return nil
}

func (w *planWorkflow) heldQuote(id string) *HeldQuote {
	for i := range w.Quotes {
		if w.Quotes[i].Quote.ID == id {
			return &w.Quotes[i]
		}
	}
	return nil
}

func (w *planWorkflow) openComplaint(requestID string) int {
	for i, c := range w.Complaints {
		if c.RequestID == requestID {
			return i
		}
	}
	return -1
}

// bump records a change to the plan: every quote made before is stale.
func (w *planWorkflow) bump(what string) {
	w.Revision++
	w.LastChange = what
}

// requestMessage answers a request of an active plan; false when m is not
// one.
func (w *planWorkflow) requestMessage(ctx workflow.Context, m Message) (bool, error) {
	switch {
	case m.ChangeMessage.Request() != nil:
		return true, w.change(ctx, m)
	case m.Approve != nil:
		return true, w.approve(ctx, m)
	case m.Complain != nil:
		return true, w.complain(ctx, m)
	case m.Resolve != nil:
		return true, w.resolve(ctx, m)
	case m.Promise != nil || m.Referral != nil || m.WriteOff != nil || m.Grace != nil:
		return true, w.collectionMessage(ctx, m)
	}
	return false, nil
}

// change quotes a change request or confirms its quote.
func (w *planWorkflow) change(ctx workflow.Context, m Message) error {
	req := m.ChangeMessage.Request()
	if err := w.checkChange(req); err != nil {
		w.reply(m, false, err.Error())
		return nil
	}
	if req.Kind() == plan.MsgArrearsPlan && !w.ladderMessagesOn() {
		w.reply(m, false, oldRun)
		return nil
	}
	if req.Quote() == "" {
		return w.makeQuote(ctx, m, req)
	}
	held := w.heldQuote(req.Quote())
	if reason := w.stale(ctx, held, req); reason != "" {
		w.replyQuote(m, false, reason, &held.Quote)
		return nil
	}
	if held.Quote.NeedsApproval {
		return w.awaitApproval(ctx, m, held)
	}
	return w.apply(ctx, m, held, req.ID(), m.ChangeMessage, "customer", nil)
}

// makeQuote asks the calculator what the request would do.
func (w *planWorkflow) makeQuote(ctx workflow.Context, m Message, req plan.ChangeRequest) error {
	in := activities.QuoteInput{
		PlanID: w.PlanID, Version: w.ScheduleVersion, Revision: w.Revision, Request: m.ChangeMessage,
		Calendar: w.Calendar, At: w.businessNow(ctx), Bucket: w.currentBucket(ctx), Cadence: w.Cadence,
		Changes: w.Changes, MonthlyIncome: w.App.Customer.MonthlyIncome, Params: w.Params,
	}
	var q plan.Quote
	if err := workflow.ExecuteLocalActivity(withCalc(ctx), act.QuoteChange, in).Get(ctx, &q); err != nil {
		// A quote changes nothing, so a failure to make one is answered
		// rather than failing or holding up the plan.
		workflow.GetLogger(ctx).Error("quote failed", "plan_id", w.PlanID, "kind", req.Kind(), "request_id", req.ID(), "error", err)
		w.reply(m, false, "we could not make the quote just now; please try again later")
		return nil
	}
	if q.Eligible {
		w.Quotes = append(w.Quotes, HeldQuote{Quote: q})
		if len(w.Quotes) > heldQuotes {
			w.Quotes = w.Quotes[len(w.Quotes)-heldQuotes:]
		}
	}
	w.replyQuote(m, q.Eligible, q.Refusal, &q)
	return nil
}

// stale says why a held quote cannot be confirmed by req, "" when it can.
func (w *planWorkflow) stale(ctx workflow.Context, held *HeldQuote, req plan.ChangeRequest) string {
	q := held.Quote
	switch {
	case q.Kind != req.Kind():
		return fmt.Sprintf("quote %s is for %s, not %s", q.ID, q.Kind, req.Kind())
	case req.TermsKey() != "" && req.TermsKey() != q.TermsKey:
		return fmt.Sprintf("quote %s was made for other terms: confirm it with the terms quoted, or ask for a new quote", q.ID)
	case held.ConfirmedBy != "":
		return fmt.Sprintf("quote %s was already confirmed by request %s", q.ID, held.ConfirmedBy)
	case w.Awaiting != nil:
		return fmt.Sprintf("request %s is waiting for an operator's approval; confirm again once it is decided", w.Awaiting.RequestID)
	case q.Revision != w.Revision:
		return fmt.Sprintf("quote %s is stale: the plan changed since it was made (%s); ask for a new quote", q.ID, w.LastChange)
	case w.businessNow(ctx).After(q.ExpiresAt):
		return fmt.Sprintf("quote %s expired at %s; ask for a new quote", q.ID, q.ExpiresAt.Format(time.RFC3339))
	}
	return ""
}

// awaitApproval records a confirmed request that needs an operator.
func (w *planWorkflow) awaitApproval(ctx workflow.Context, m Message, held *HeldQuote) error {
	in := activities.AwaitApprovalInput{
		PlanID: w.PlanID, Quote: held.Quote, RequestID: m.RequestID(), Request: m.ChangeMessage,
		Calendar: w.Calendar, At: w.businessNow(ctx),
	}
	if err := workflow.ExecuteActivity(withStore(ctx), act.AwaitApproval, in).Get(ctx, nil); err != nil {
		return fmt.Errorf("record %s awaiting approval on %s: %w", held.Quote.ID, w.PlanID, err)
	}
	held.ConfirmedBy = m.RequestID()
	w.Awaiting = &Awaiting{Quote: held.Quote, RequestID: m.RequestID(), Request: m.ChangeMessage}
	w.UpdatedAt = workflow.Now(ctx)
	w.replyQuote(m, true, "confirmed; an operator must approve it before it applies", &held.Quote)
	return nil
}

// approve applies or refuses the request awaiting an operator.
func (w *planWorkflow) approve(ctx workflow.Context, m Message) error {
	d := *m.Approve
	if err := w.checkApprove(d); err != nil {
		w.reply(m, false, err.Error())
		return nil
	}
	aw := *w.Awaiting
	refusal := ""
	switch {
	case !d.Approve:
		refusal = d.Reason
	case aw.Quote.Revision != w.Revision:
		refusal = fmt.Sprintf("the plan changed after the request was confirmed (%s); please ask for a new quote", w.LastChange)
	case w.businessNow(ctx).After(aw.Quote.ExpiresAt):
		refusal = fmt.Sprintf("the quote expired at %s before it was approved; please ask for a new quote", aw.Quote.ExpiresAt.Format(time.RFC3339))
	}
	w.Awaiting = nil
	if refusal != "" {
		in := activities.AwaitApprovalInput{
			PlanID: w.PlanID, Quote: aw.Quote, RequestID: aw.RequestID, Request: aw.Request,
			Calendar: w.Calendar, At: w.businessNow(ctx), Refusal: refusal, Operator: d.Operator, Approval: &d,
		}
		if err := workflow.ExecuteActivity(withStore(ctx), act.AwaitApproval, in).Get(ctx, nil); err != nil {
			return fmt.Errorf("refuse %s on %s: %w", aw.Quote.ID, w.PlanID, err)
		}
		w.replyQuote(m, !d.Approve, "refused: "+refusal, &aw.Quote)
		return nil
	}
	held := &HeldQuote{Quote: aw.Quote}
	return w.apply(ctx, m, held, aw.RequestID, aw.Request, "operator:"+d.Operator, &d)
}

// apply applies a confirmed quote and replies to m.
func (w *planWorkflow) apply(ctx workflow.Context, m Message, held *HeldQuote, requestID string, req activities.ChangeMessage, actor string, approval *plan.ApprovalDecision) error {
	q := held.Quote
	in := activities.ApplyInput{
		PlanID: w.PlanID, Quote: q, RequestID: requestID, Request: req, Actor: actor, Calendar: w.Calendar,
		At: w.businessNow(ctx), Reminders: w.App.Settings.ReminderOffsets(), Approval: approval,
	}
	if approval != nil {
		in.ApprovalTask = activities.ApprovalTaskKey(w.PlanID, q.ID)
	}
	var res activities.ApplyResult
	if err := workflow.ExecuteActivity(withStore(ctx), act.ApplyChange, in).Get(ctx, &res); err != nil {
		return fmt.Errorf("apply %s %s to %s: %w", q.Kind, q.ID, w.PlanID, err)
	}
	w.UpdatedAt = workflow.Now(ctx)
	if res.Outcome != "applied" {
		w.replyQuote(m, false, res.Reason, &q)
		return nil
	}
	if h := w.heldQuote(q.ID); h != nil {
		h.ConfirmedBy = requestID
	}
	if q.Kind == plan.MsgWaive {
		w.applyStates(res.Instalments)
	} else {
		w.replaceSchedule(res)
		w.Changes = append(w.Changes, activities.ChangeRecord{Kind: q.Kind, AsOf: q.AsOf, Periods: q.Params.Paused})
		w.Cadence = calc.Cadence{Start: q.Params.CadenceStart, Frequency: q.Params.Frequency}
		params := q.Params
		w.Params = &params
		switch {
		case q.Params.Cancels:
			w.CloseReason = "cancelled and settled"
		case q.Params.Closes:
			w.CloseReason = "repaid early"
		}
	}
	w.bump(fmt.Sprintf("%s confirmed by request %s", q.Kind, requestID))
	w.replyQuote(m, true, "", &q)
	return nil
}

// replaceSchedule makes the new schedule version current: the settled
// instalments before it stay for the record, the rest is replaced.
func (w *planWorkflow) replaceSchedule(res activities.ApplyResult) {
	first := 0
	if len(res.Rows) > 0 {
		first = res.Rows[0].No
	}
	var kept []Instalment
	for _, in := range w.Instalments {
		if in.Row.No < first && in.settled() {
			kept = append(kept, in)
		}
	}
	fresh := newInstalments(activities.ScheduleResult{Schedule: calc.Schedule{Rows: res.Rows}, Events: res.Events})
	w.Instalments = append(kept, fresh...)
	w.ScheduleVersion = res.Version
	w.applyStates(res.Instalments)
}

// complain files a complaint: a ticket, and collection contact paused.
func (w *planWorkflow) complain(ctx workflow.Context, m Message) error {
	if err := w.checkActive(*m.Complain); err != nil {
		w.reply(m, false, err.Error())
		return nil
	}
	now := w.businessNow(ctx)
	in := activities.ComplaintInput{PlanID: w.PlanID, Complaint: *m.Complain, Calendar: w.Calendar, At: now}
	var res activities.ComplaintResult
	if err := workflow.ExecuteActivity(withStore(ctx), act.OpenComplaint, in).Get(ctx, &res); err != nil {
		return fmt.Errorf("open complaint %s on %s: %w", m.Complain.RequestID, w.PlanID, err)
	}
	w.Complaints = append(w.Complaints, plan.Complaint{RequestID: m.Complain.RequestID, Text: m.Complain.Text, OpenedAt: now, PauseUntil: res.PauseUntil})
	w.UpdatedAt = workflow.Now(ctx)
	if w.ladderMessagesOn() && w.collecting() {
		// The ladder pauses: it looks again now and waits.
		w.wakeCollection(ctx)
	}
	w.reply(m, true, fmt.Sprintf("complaint %s is open; collection contact is paused until it is resolved or %s", m.Complain.RequestID, res.PauseUntil.Format("2006-01-02")))
	return nil
}

// resolve closes a complaint with the operator's resolution.
func (w *planWorkflow) resolve(ctx workflow.Context, m Message) error {
	if err := w.checkResolve(*m.Resolve); err != nil {
		w.reply(m, false, err.Error())
		return nil
	}
	in := activities.ResolveInput{PlanID: w.PlanID, Resolve: *m.Resolve, Calendar: w.Calendar, At: w.businessNow(ctx)}
	if err := workflow.ExecuteActivity(withStore(ctx), act.ResolveComplaint, in).Get(ctx, nil); err != nil {
		return fmt.Errorf("resolve complaint %s on %s: %w", m.Resolve.Complaint, w.PlanID, err)
	}
	i := w.openComplaint(m.Resolve.Complaint)
	w.Complaints = append(w.Complaints[:i:i], w.Complaints[i+1:]...)
	w.UpdatedAt = workflow.Now(ctx)
	if w.ladderMessagesOn() && w.collecting() {
		// Contact resumes: the ladder looks again now.
		w.wakeCollection(ctx)
	}
	w.reply(m, true, "")
	return nil
}

// replyQuote answers a change request with its quote. The plan's state
// is carried for years, so only the latest heldQuotes replies keep their
// quote's schedule (a repeat of an older request gets the quote without
// it), and the recent replies in the status never do.
func (w *planWorkflow) replyQuote(m Message, accepted bool, reason string, q *plan.Quote) {
	w.reply(m, accepted, reason)
	id := m.RequestID()
	r := w.Replies[id]
	r.Quote, r.ScheduleVersion = q, w.ScheduleVersion
	w.Replies[id] = r
	w.Recent[len(w.Recent)-1] = withoutSchedule(r)
	w.QuoteReplies = append(w.QuoteReplies, id)
	if len(w.QuoteReplies) > heldQuotes {
		old := w.QuoteReplies[0]
		w.QuoteReplies = w.QuoteReplies[1:]
		w.Replies[old] = withoutSchedule(w.Replies[old])
	}
}

// withoutSchedule is r with its quote's schedule left out.
func withoutSchedule(r plan.Reply) plan.Reply {
	if r.Quote != nil && r.Quote.Schedule != nil {
		q := *r.Quote
		q.Schedule = nil
		r.Quote = &q
	}
	return r
}

// currentBucket is the plan's days-past-due bucket now.
func (w *planWorkflow) currentBucket(ctx workflow.Context) string {
	_, dpd := w.progress(w.businessNow(ctx))
	return calc.Bucket(dpd)
}

// contactPausedUntil is when collection contact resumes, zero when it is
// not paused.
func (w *planWorkflow) contactPausedUntil(now time.Time) time.Time {
	var until time.Time
	for _, c := range w.Complaints {
		if c.PauseUntil.After(now) && c.PauseUntil.After(until) {
			until = c.PauseUntil
		}
	}
	return until
}
