package bench

import (
	"context"
	"testing"

	"go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"

	"github.com/fenqi/fenqi/internal/histories"
)

// historyClient serves the histories of a chain of runs by run id ("" is
// the latest run).
type historyClient struct {
	client.Client
	runs map[string][]*historypb.HistoryEvent
}

func (c *historyClient) GetWorkflowHistory(_ context.Context, _, runID string, _ bool, _ enums.HistoryEventFilterType) client.HistoryEventIterator {
	return &events{list: c.runs[runID]}
}

type events struct{ list []*historypb.HistoryEvent }

func (e *events) HasNext() bool { return len(e.list) > 0 }
func (e *events) Next() (*historypb.HistoryEvent, error) {
	ev := e.list[0]
	e.list = e.list[1:]
	return ev, nil
}

func ev(t enums.EventType) *historypb.HistoryEvent { return &historypb.HistoryEvent{EventType: t} }

func started(prevRun string) *historypb.HistoryEvent {
	return &historypb.HistoryEvent{EventType: enums.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
		Attributes: &historypb.HistoryEvent_WorkflowExecutionStartedEventAttributes{WorkflowExecutionStartedEventAttributes: &historypb.WorkflowExecutionStartedEventAttributes{ContinuedExecutionRunId: prevRun}}}
}

func marker(name string) *historypb.HistoryEvent {
	return &historypb.HistoryEvent{EventType: enums.EVENT_TYPE_MARKER_RECORDED,
		Attributes: &historypb.HistoryEvent_MarkerRecordedEventAttributes{MarkerRecordedEventAttributes: &historypb.MarkerRecordedEventAttributes{MarkerName: name}}}
}

func TestBreakdown(t *testing.T) {
	done := ev(enums.EVENT_TYPE_WORKFLOW_TASK_COMPLETED)
	first := []*historypb.HistoryEvent{
		started(""), done, ev(enums.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED),
		marker(localActivityName), marker(localActivityName), // one task: one action
		ev(enums.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED), done,
		marker(localActivityName), marker("Version"), ev(enums.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES),
		ev(enums.EVENT_TYPE_TIMER_STARTED), done, ev(enums.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED),
		ev(enums.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW),
	}
	second := []*historypb.HistoryEvent{
		started("run-1"), done, ev(enums.EVENT_TYPE_TIMER_STARTED), ev(enums.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED),
		ev(enums.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED), ev(enums.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED),
	}
	c := &historyClient{runs: map[string][]*historypb.HistoryEvent{"": second, "run-1": first}}
	got, err := breakdown(context.Background(), c, "plan-x")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{ActionStart: 2, ActionSignal: 1, ActionUpdate: 1, ActionActivity: 1, ActionLocal: 2, ActionTimer: 2, ActionUpsert: 2, ActionChild: 1}
	if len(got) != len(want) {
		t.Errorf("breakdown %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %d, want %d (%v)", k, got[k], v, got)
		}
	}
	// The same rules as internal/histories.
	if n := histories.RunCost(first).Actions + histories.RunCost(second).Actions; total(got) != n {
		t.Errorf("breakdown sums to %d, histories count %d", total(got), n)
	}
}

func TestBreakdownEmptyHistory(t *testing.T) {
	if _, err := breakdown(context.Background(), &historyClient{runs: map[string][]*historypb.HistoryEvent{}}, "plan-x"); err == nil {
		t.Fatal("an empty history has no breakdown")
	}
}
