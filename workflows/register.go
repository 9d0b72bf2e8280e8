// Package workflows holds fenqi's Temporal workflows. Each instalment plan
// is one durable workflow; the workflow code decides and waits, and the
// activities (package activities) compute and persist.
package workflows

import (
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/fenqi/fenqi/activities"
	"github.com/fenqi/fenqi/frontdoor"
	"github.com/fenqi/fenqi/plan"
)

// TaskQueue is the task queue fenqi's workers poll.
const TaskQueue = frontdoor.DefaultTaskQueue

// Register adds fenqi's workflows and activities to w.
func Register(w worker.Registry, a *activities.Activities) {
	w.RegisterWorkflowWithOptions(PlanWorkflow, workflow.RegisterOptions{Name: plan.WorkflowName})
	w.RegisterActivityWithOptions(a, activity.RegisterOptions{})
}
