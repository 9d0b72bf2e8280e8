package bench

import (
	"context"
	"fmt"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/fenqi/fenqi/internal/temporalclient"
	"github.com/fenqi/fenqi/plan"
)

// BaselineWorkflowName is the baseline workflow's type.
const BaselineWorkflowName = "fenqi-bench-baseline"

// BaselineWorkflow is the floor an onboarding is measured against: it
// takes the same input as a plan and answers the same messages (the
// decision Update a plan starts with, the status query, the choice as a
// Signal or an Update, the signature as an Update), then completes, with
// no activity, no timer and no search attribute. Its payloads go through
// the same codec as the plans'.
func BaselineWorkflow(ctx workflow.Context, in plan.Input) (plan.Reply, error) {
	state := plan.StateOffered
	chosen := false
	if err := workflow.SetQueryHandler(ctx, plan.QueryStatus, func() (plan.Status, error) {
		return plan.Status{PlanID: in.PlanID, State: state, OfferSet: 1}, nil
	}); err != nil {
		return plan.Reply{}, err
	}
	if err := workflow.SetUpdateHandler(ctx, plan.UpdateAwaitDecision, func(ctx workflow.Context, fingerprint string) (plan.Reply, error) {
		return plan.Reply{RequestID: in.Application.RequestID, Accepted: true, State: state}, nil
	}); err != nil {
		return plan.Reply{}, err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, plan.MsgChoose, func(ctx workflow.Context, r plan.ChooseRequest) (plan.Reply, error) {
		chosen, state = true, plan.StateSigning
		return plan.Reply{RequestID: r.RequestID, Accepted: true, State: state, AgreementHash: zeroHash}, nil
	}, workflow.UpdateHandlerOptions{Validator: func(r plan.ChooseRequest) error { return r.Validate() }}); err != nil {
		return plan.Reply{}, err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, plan.MsgSign, func(ctx workflow.Context, r plan.SignRequest) (plan.Reply, error) {
		// A Signal's choice may come after the signature's Update.
		if err := workflow.Await(ctx, func() bool { return chosen }); err != nil {
			return plan.Reply{}, err
		}
		state = plan.StateActive
		return plan.Reply{RequestID: r.RequestID, Accepted: true, State: state}, nil
	}, workflow.UpdateHandlerOptions{Validator: func(r plan.SignRequest) error { return r.Validate() }}); err != nil {
		return plan.Reply{}, err
	}
	// The choice as a Signal (one coroutine; left waiting when the choice
	// comes as an Update).
	choices := workflow.GetSignalChannel(ctx, plan.MsgChoose)
	workflow.Go(ctx, func(ctx workflow.Context) {
		var c plan.ChooseRequest
		choices.Receive(ctx, &c)
		chosen = true
	})
	if err := workflow.Await(ctx, func() bool { return state == plan.StateActive && workflow.AllHandlersFinished(ctx) }); err != nil {
		return plan.Reply{}, err
	}
	return plan.Reply{RequestID: in.Application.RequestID, Accepted: true, State: state}, nil
}

// zeroHash stands for an agreement's SHA-256.
var zeroHash = fmt.Sprintf("%064x", 0)

// startBaselineWorker runs the baseline workflow on queue in this
// process, with the pollers fenqi's worker has (temporalclient.Pollers).
func startBaselineWorker(c client.Client, queue string) (stop func(), err error) {
	// The same pollers as fenqi's worker (worker/main.go), so that the
	// ratio compares the workflows and not the polling.
	wfPollers, actPollers := temporalclient.Pollers()
	w := worker.New(c, queue, worker.Options{WorkflowTaskPollerBehavior: wfPollers, ActivityTaskPollerBehavior: actPollers})
	w.RegisterWorkflowWithOptions(BaselineWorkflow, workflow.RegisterOptions{Name: BaselineWorkflowName})
	if err := w.Start(); err != nil {
		return nil, fmt.Errorf("start the baseline worker on %s: %w", queue, err)
	}
	return w.Stop, nil
}

// Baseline message shapes.
const (
	// BaselineDoor sends what the front door sends for an onboarding:
	// update-with-start (the decision), the status query Apply makes (its
	// answer carries the offers), the choice as an Update, the signature
	// as an Update.
	BaselineDoor = "door"
	// BaselineSignal sends a start, the choice as a Signal and the
	// signature as an Update, back to back, as issue 9 words it.
	BaselineSignal = "signal"
)

// baseline sends one baseline workflow the messages of shape; the reply to
// the signature ends the measured part. The workflow's completion is
// checked by the caller, apart from the timing.
func baseline(ctx context.Context, c client.Client, queue, shape, id string, app plan.Application) (client.WorkflowRun, error) {
	in := plan.Input{PlanID: id, Application: app, Fingerprint: app.Fingerprint()}
	opts := client.StartWorkflowOptions{ID: id, TaskQueue: queue, WorkflowIDConflictPolicy: enums.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING}
	choose := plan.ChooseRequest{RequestID: id + "-choose", OfferSet: 1, Offer: 1}
	sign := plan.SignRequest{RequestID: id + "-sign", DocumentHash: zeroHash, Name: app.Customer.Name, Consent: true}
	update := func(name, updateID string, arg any) error {
		h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
			WorkflowID: id, UpdateName: name, UpdateID: updateID, Args: []any{arg}, WaitForStage: client.WorkflowUpdateStageCompleted,
		})
		var reply plan.Reply
		if err == nil {
			err = h.Get(ctx, &reply)
		}
		if err != nil {
			return fmt.Errorf("update %s of baseline %s: %w", name, id, err)
		}
		if !reply.Accepted {
			return fmt.Errorf("update %s of baseline %s: refused: %s", name, id, reply.Reason)
		}
		return nil
	}
	query := func() error {
		v, err := c.QueryWorkflow(ctx, id, "", plan.QueryStatus)
		var st plan.Status
		if err == nil {
			err = v.Get(&st)
		}
		if err != nil {
			return fmt.Errorf("query baseline %s: %w", id, err)
		}
		return nil
	}
	switch shape {
	case BaselineSignal:
		if _, err := c.ExecuteWorkflow(ctx, opts, BaselineWorkflowName, in); err != nil {
			return nil, fmt.Errorf("start baseline %s: %w", id, err)
		}
		if err := c.SignalWorkflow(ctx, id, "", plan.MsgChoose, choose); err != nil {
			return nil, fmt.Errorf("signal baseline %s: %w", id, err)
		}
	case BaselineDoor:
		start := c.NewWithStartWorkflowOperation(opts, BaselineWorkflowName, in)
		h, err := c.UpdateWithStartWorkflow(ctx, client.UpdateWithStartWorkflowOptions{
			StartWorkflowOperation: start,
			UpdateOptions: client.UpdateWorkflowOptions{
				UpdateName: plan.UpdateAwaitDecision, UpdateID: id + "-apply", Args: []any{in.Fingerprint},
				WaitForStage: client.WorkflowUpdateStageCompleted,
			},
		})
		var reply plan.Reply
		if err == nil {
			err = h.Get(ctx, &reply)
		}
		if err != nil {
			return nil, fmt.Errorf("update-with-start baseline %s: %w", id, err)
		}
		// Apply reads the status, which carries the offers.
		if err := query(); err != nil {
			return nil, err
		}
		if err := update(plan.MsgChoose, choose.RequestID, choose); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("baseline %s: unknown message shape %q", id, shape)
	}
	if err := update(plan.MsgSign, sign.RequestID, sign); err != nil {
		return nil, err
	}
	return c.GetWorkflow(ctx, id, ""), nil
}
