package histories

import (
	"context"
	"fmt"

	"go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
)

// Cost is what one workflow run (or a chain of runs) costs on Temporal.
type Cost struct {
	Runs int
	// Events is the number of history events, MaxRunEvents the largest
	// single run's.
	Events       int
	MaxRunEvents int
	// Actions are the billable actions, counted from the history as Temporal
	// Cloud bills them: the workflow start (and each Continue-As-New run),
	// every Signal and accepted Update, every activity scheduled, every
	// timer started, every search-attribute or memo upsert, every child
	// workflow, and the local activities of one workflow task as one.
	// Queries leave no trace in history and are not counted.
	Actions int
}

// Add sums two costs.
func (c Cost) Add(o Cost) Cost {
	return Cost{Runs: c.Runs + o.Runs, Events: c.Events + o.Events, MaxRunEvents: max(c.MaxRunEvents, o.MaxRunEvents), Actions: c.Actions + o.Actions}
}

// RunCost counts the events and billable actions of one run's history.
func RunCost(events []*historypb.HistoryEvent) Cost {
	c := Cost{Runs: 1, Events: len(events), MaxRunEvents: len(events)}
	localInTask := false
	for _, ev := range events {
		switch ev.GetEventType() {
		case enums.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
			enums.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED,
			enums.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED,
			enums.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
			enums.EVENT_TYPE_TIMER_STARTED,
			enums.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES,
			enums.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED,
			enums.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED:
			c.Actions++
		case enums.EVENT_TYPE_MARKER_RECORDED:
			if ev.GetMarkerRecordedEventAttributes().GetMarkerName() == "LocalActivity" && !localInTask {
				c.Actions++
				localInTask = true
			}
		case enums.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
			localInTask = false
		}
	}
	return c
}

// ChainCost reads every run of workflowID, from the first run through
// each Continue-As-New to the latest, and sums their costs.
func ChainCost(ctx context.Context, c client.Client, workflowID string) (Cost, error) {
	var total Cost
	runID := ""
	// Walk back from the latest run to the first through the
	// continued-as-new links, then count every run.
	var runs []string
	for {
		events, err := runEvents(ctx, c, workflowID, runID)
		if err != nil {
			return Cost{}, err
		}
		first := events[0].GetWorkflowExecutionStartedEventAttributes()
		runs = append(runs, runID)
		total = total.Add(RunCost(events))
		prev := first.GetContinuedExecutionRunId()
		if prev == "" {
			break
		}
		runID = prev
		if len(runs) > 10000 {
			return Cost{}, fmt.Errorf("history chain of %s: more than 10000 runs", workflowID)
		}
	}
	return total, nil
}

func runEvents(ctx context.Context, c client.Client, workflowID, runID string) ([]*historypb.HistoryEvent, error) {
	it := c.GetWorkflowHistory(ctx, workflowID, runID, false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	var events []*historypb.HistoryEvent
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			return nil, fmt.Errorf("history of %s run %q: %w", workflowID, runID, err)
		}
		events = append(events, ev)
	}
	if len(events) == 0 {
		return nil, fmt.Errorf("history of %s run %q is empty", workflowID, runID)
	}
	return events, nil
}
