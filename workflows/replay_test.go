package workflows_test

import (
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/fenqi/fenqi/plan"
	"github.com/fenqi/fenqi/workflows"
)

func recordedHistories(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("testdata/histories/*.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no recorded histories under workflows/testdata/histories: run `make record-histories`")
	}
	return files
}

var quiet = tlog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))

// TestReplayRecordedHistories replays every history recorded from a real
// server against the current workflow code: a change that would break a
// running plan fails here.
func TestReplayRecordedHistories(t *testing.T) {
	for _, f := range recordedHistories(t) {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".json"), func(t *testing.T) {
			r := worker.NewWorkflowReplayer()
			r.RegisterWorkflowWithOptions(workflows.PlanWorkflow, workflow.RegisterOptions{Name: plan.WorkflowName})
			if err := r.ReplayWorkflowHistoryFromJSONFile(quiet, f); err != nil {
				t.Fatalf("replay %s: %v", f, err)
			}
		})
	}
}

// changedPlan is a different workflow under the Plan name: it skips the
// assessment and waits. Replaying real histories against it must fail,
// which shows the replay test can catch an incompatible change.
func changedPlan(ctx workflow.Context, _ plan.Input) (plan.Status, error) {
	_ = workflow.Sleep(ctx, 1)
	return plan.Status{}, nil
}

func TestReplayCatchesAnIncompatibleChange(t *testing.T) {
	f := recordedHistories(t)[0]
	r := worker.NewWorkflowReplayer()
	r.RegisterWorkflowWithOptions(changedPlan, workflow.RegisterOptions{Name: plan.WorkflowName})
	err := r.ReplayWorkflowHistoryFromJSONFile(quiet, f)
	if err == nil {
		t.Fatalf("replaying %s against a changed workflow succeeded; want a nondeterminism error", f)
	}
	// TMPRL1100 is the SDK's code for a nondeterminism error.
	if msg := err.Error(); !strings.Contains(msg, "TMPRL1100") && !strings.Contains(strings.ToLower(msg), "nondetermin") {
		t.Fatalf("replay error %q does not report nondeterminism", err)
	}
}
