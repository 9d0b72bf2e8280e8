package bench

import (
	"context"
	"fmt"

	"go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
)

// Kinds of billable actions in a breakdown.
const (
	ActionStart       = "start"
	ActionSignal      = "signal"
	ActionUpdate      = "update"
	ActionActivity    = "activity"
	ActionLocal       = "local_activities"
	ActionTimer       = "timer"
	ActionUpsert      = "upsert"
	ActionChild       = "child_workflow"
	maxBreakdownRuns  = 10000
	localActivityName = "LocalActivity"
)

// breakdown counts a plan's billable actions by kind across its runs,
// with the rules of histories.RunCost (the local activities of one
// workflow task are one action). The caller checks that the total agrees
// with histories.ChainCost.
func breakdown(ctx context.Context, c client.Client, workflowID string) (map[string]int, error) {
	out := map[string]int{}
	runID := ""
	for runs := 0; ; runs++ {
		if runs > maxBreakdownRuns {
			return nil, fmt.Errorf("history chain of %s: more than %d runs", workflowID, maxBreakdownRuns)
		}
		it := c.GetWorkflowHistory(ctx, workflowID, runID, false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		var first *historypb.HistoryEvent
		localInTask := false
		for it.HasNext() {
			ev, err := it.Next()
			if err != nil {
				return nil, fmt.Errorf("history of %s run %q: %w", workflowID, runID, err)
			}
			if first == nil {
				first = ev
			}
			switch ev.GetEventType() {
			case enums.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
				out[ActionStart]++
			case enums.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
				out[ActionSignal]++
			case enums.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
				out[ActionUpdate]++
			case enums.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
				out[ActionActivity]++
			case enums.EVENT_TYPE_TIMER_STARTED:
				out[ActionTimer]++
			case enums.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES, enums.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED:
				out[ActionUpsert]++
			case enums.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED:
				out[ActionChild]++
			case enums.EVENT_TYPE_MARKER_RECORDED:
				if ev.GetMarkerRecordedEventAttributes().GetMarkerName() == localActivityName && !localInTask {
					out[ActionLocal]++
					localInTask = true
				}
			case enums.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
				localInTask = false
			}
		}
		if first == nil {
			return nil, fmt.Errorf("history of %s run %q is empty", workflowID, runID)
		}
		prev := first.GetWorkflowExecutionStartedEventAttributes().GetContinuedExecutionRunId()
		if prev == "" {
			return out, nil
		}
		runID = prev
	}
}

// total sums a breakdown.
func total(b map[string]int) int {
	n := 0
	for _, v := range b {
		n += v
	}
	return n
}
