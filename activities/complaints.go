package activities

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/fenqi/fenqi/plan"
	"github.com/fenqi/fenqi/store"
)

// ComplaintInput files a customer's complaint.
type ComplaintInput struct {
	PlanID    string
	Complaint plan.ComplaintRequest
	Calendar  Calendar
	// At is the business instant the complaint arrived.
	At time.Time
}

// ComplaintResult is the filed complaint: collection contact pauses until
// PauseUntil (business time) unless it is resolved first.
type ComplaintResult struct {
	PauseUntil time.Time
}

// ComplaintTaskKey is the key of the operator task of a complaint.
func ComplaintTaskKey(planID, requestID string) string {
	return "complaint:" + planID + ":" + requestID
}

// OpenComplaint records the complaint, opens a task for an operator,
// pauses collection contact for the policy's days and acknowledges it to
// the customer. Retried, it files nothing twice.
func (a *Activities) OpenComplaint(ctx context.Context, in ComplaintInput) (ComplaintResult, error) {
	planID, _, _, cust, err := a.load(ctx, in.PlanID)
	if err != nil {
		return ComplaintResult{}, err
	}
	days := a.policy().Requests.ComplaintPauseDays
	pause := in.At.AddDate(0, 0, days)
	r := in.Complaint
	if _, _, err := a.Store.SaveRequest(ctx, store.Request{
		PlanID: planID, RequestID: r.RequestID, Kind: "complaint", Actor: "customer", Payload: mustJSON(r),
	}); err != nil {
		return ComplaintResult{}, classify(fmt.Errorf("record complaint %s of plan %s: %w", r.RequestID, planID, err))
	}
	if _, err := a.Store.OpenComplaint(ctx, store.Complaint{
		PlanID: planID, RequestID: r.RequestID, Text: r.Text, PauseUntil: in.Calendar.real(pause),
	}); err != nil {
		return ComplaintResult{}, classify(fmt.Errorf("open complaint %s of plan %s: %w", r.RequestID, planID, err))
	}
	at := in.Calendar.real(in.At)
	key := ComplaintTaskKey(in.PlanID, r.RequestID)
	if _, err := a.Store.CreateTask(ctx, store.Task{
		PlanID: planID, TaskKey: key, Kind: "complaint", DueAt: in.Calendar.real(in.At.Add(48 * time.Hour)),
		Details: mustJSON(map[string]any{"request_id": r.RequestID, "text": r.Text}),
	}); err != nil {
		return ComplaintResult{}, classify(fmt.Errorf("open complaint task %s: %w", key, err))
	}
	if _, err := a.Store.AnswerRequest(ctx, planID, r.RequestID, store.RequestAccepted, mustJSON(map[string]any{"pause_until": pause})); err != nil {
		return ComplaintResult{}, classify(fmt.Errorf("answer complaint %s of plan %s: %w", r.RequestID, planID, err))
	}
	if err := a.pauseCollection(ctx, planID, "complaint "+r.RequestID); err != nil {
		return ComplaintResult{}, err
	}
	body := fmt.Sprintf("We have received your complaint (reference %s). An agent will answer it; until then, or for %d days, we will not contact you about payments.", r.RequestID, days)
	if err := a.notify(ctx, planID, cust, "complaint:"+r.RequestID, body, in.Calendar, at); err != nil {
		return ComplaintResult{}, err
	}
	slog.InfoContext(ctx, "complaint opened", "plan_id", planID, "request_id", r.RequestID, "pause_days", days)
	return ComplaintResult{PauseUntil: pause}, nil
}

// ResolveInput is an operator's resolution of a complaint.
type ResolveInput struct {
	PlanID   string
	Resolve  plan.ResolveRequest
	Calendar Calendar
	At       time.Time
}

// ResolveComplaint closes the complaint with the operator's resolution,
// closes its task, records the request and sends the resolution text to
// the customer. Retried, it changes nothing twice.
func (a *Activities) ResolveComplaint(ctx context.Context, in ResolveInput) error {
	planID, _, _, cust, err := a.load(ctx, in.PlanID)
	if err != nil {
		return err
	}
	r := in.Resolve
	actor := "operator:" + r.Operator
	if _, err := a.Store.CloseComplaint(ctx, planID, r.Complaint, store.ComplaintResolved, r.Resolution, actor); err != nil {
		return classify(fmt.Errorf("resolve complaint %s of plan %s: %w", r.Complaint, planID, err))
	}
	if err := a.Store.CloseTask(ctx, ComplaintTaskKey(in.PlanID, r.Complaint), "resolved"); err != nil {
		return classify(fmt.Errorf("close complaint task of %s: %w", r.Complaint, err))
	}
	if _, err := a.Store.AnswerRequest(ctx, planID, r.Complaint, store.RequestCompleted, mustJSON(map[string]string{"resolution": r.Resolution})); err != nil {
		return classify(fmt.Errorf("answer complaint %s of plan %s: %w", r.Complaint, planID, err))
	}
	if err := a.answer(ctx, planID, r.RequestID, "complaint_resolution", "operator", r, store.RequestCompleted, map[string]string{"complaint": r.Complaint}); err != nil {
		return err
	}
	body := fmt.Sprintf("About your complaint %s: %s", r.Complaint, r.Resolution)
	return a.notify(ctx, planID, cust, "resolved:"+r.Complaint, body, in.Calendar, in.Calendar.real(in.At))
}

// contactPaused reports whether collection contact of a plan is paused at
// the real instant at by an open complaint.
func (a *Activities) contactPaused(ctx context.Context, p store.Plan, at time.Time) (bool, error) {
	until, err := a.Store.ContactPausedUntil(ctx, p.ID, at)
	if err != nil {
		return false, classify(fmt.Errorf("contact pause of plan %s: %w", p.ID, err))
	}
	return !until.IsZero(), nil
}
