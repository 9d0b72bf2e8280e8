package workflows_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/proxy"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/fenqi/fenqi/codec"
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
//
// The recorded histories are plaintext (internal/histories decodes them
// when it records). Each replays twice with the payload codec, as the
// worker runs: as recorded (the codec passes plaintext payloads through,
// as it does for plans started before encryption) and with every payload
// encrypted, as the server holds it.
func TestReplayRecordedHistories(t *testing.T) {
	cdc := replayCodec(t)
	for _, f := range recordedHistories(t) {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".json"), func(t *testing.T) {
			if err := codecReplayer(cdc).ReplayWorkflowHistoryFromJSONFile(quiet, f); err != nil {
				t.Fatalf("replay %s: %v", f, err)
			}
			h := encryptedHistory(t, f, cdc)
			if err := codecReplayer(cdc).ReplayWorkflowHistory(quiet, h); err != nil {
				t.Fatalf("replay %s with its payloads encrypted: %v", f, err)
			}
		})
	}
}

// TestReplayNeedsTheKeys shows that the encrypted replay above decrypts:
// without the codec, an encrypted history does not replay.
func TestReplayNeedsTheKeys(t *testing.T) {
	f := recordedHistories(t)[0]
	h := encryptedHistory(t, f, replayCodec(t))
	r := worker.NewWorkflowReplayer()
	r.RegisterWorkflowWithOptions(workflows.PlanWorkflow, workflow.RegisterOptions{Name: plan.WorkflowName})
	err := r.ReplayWorkflowHistory(quiet, h)
	if err == nil {
		t.Fatalf("replaying %s with encrypted payloads and no codec succeeded", f)
	}
	t.Logf("without the codec: %v", err)
}

func replayCodec(t *testing.T) *codec.Codec {
	t.Helper()
	k, err := codec.GenerateKey("replay-test")
	if err != nil {
		t.Fatal(err)
	}
	ring, err := codec.NewKeyRing(k)
	if err != nil {
		t.Fatal(err)
	}
	c, err := codec.New(ring)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// codecReplayer replays with cdc under the data and failure converters, as
// the worker runs.
func codecReplayer(cdc *codec.Codec) worker.WorkflowReplayer {
	r, err := worker.NewWorkflowReplayerWithOptions(worker.WorkflowReplayerOptions{
		DataConverter:    codec.DataConverter(cdc),
		FailureConverter: codec.FailureConverter(cdc),
	})
	if err != nil {
		panic(err)
	}
	r.RegisterWorkflowWithOptions(workflows.PlanWorkflow, workflow.RegisterOptions{Name: plan.WorkflowName})
	return r
}

// encryptedHistory is the recorded history in file f with every payload
// (but search attributes) encrypted by cdc.
func encryptedHistory(t *testing.T, f string, cdc *codec.Codec) *historypb.History {
	t.Helper()
	file, err := os.Open(f)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	h, err := client.HistoryFromJSON(file, client.HistoryJSONOptions{})
	if err != nil {
		t.Fatalf("read %s: %v", f, err)
	}
	n := 0
	err = proxy.VisitPayloads(context.Background(), h, proxy.VisitPayloadsOptions{
		SkipSearchAttributes: true,
		Visitor: func(_ *proxy.VisitPayloadsContext, ps []*commonpb.Payload) ([]*commonpb.Payload, error) {
			n += len(ps)
			return cdc.Encode(ps)
		},
	})
	if err != nil || n == 0 {
		t.Fatalf("encrypt the payloads of %s: %d payloads, %v", f, n, err)
	}
	return h
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

// TestRecordedHistoriesCoverEveryVersion makes sure the replay above runs
// both paths of the workflow: histories recorded before version 1 of
// the plan-workflow change (no marker for it) and after it.
func TestRecordedHistoriesCoverEveryVersion(t *testing.T) {
	byVersion := map[workflow.Version][]string{}
	for _, f := range recordedHistories(t) {
		file, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		h, err := client.HistoryFromJSON(file, client.HistoryJSONOptions{})
		file.Close()
		if err != nil {
			t.Fatalf("read %s: %v", f, err)
		}
		v := workflow.DefaultVersion
		for _, e := range h.GetEvents() {
			m := e.GetMarkerRecordedEventAttributes()
			if m.GetMarkerName() != "Version" {
				continue
			}
			var id string
			if err := converter.GetDefaultDataConverter().FromPayloads(m.GetDetails()["change-id"], &id); err != nil {
				t.Fatalf("%s: version marker: %v", f, err)
			}
			if id == workflows.VersionChangeID {
				if err := converter.GetDefaultDataConverter().FromPayloads(m.GetDetails()["version"], &v); err != nil {
					t.Fatalf("%s: version marker: %v", f, err)
				}
			}
		}
		byVersion[v] = append(byVersion[v], filepath.Base(f))
	}
	want := []workflow.Version{workflow.DefaultVersion}
	for v := workflow.Version(1); v <= workflows.LatestVersion; v++ {
		want = append(want, v)
	}
	for _, v := range want {
		if len(byVersion[v]) == 0 {
			t.Errorf("no recorded history runs version %d of %s (have %v): record one", v, workflows.VersionChangeID, byVersion)
		}
	}
	t.Logf("histories by version: %v", byVersion)
}
