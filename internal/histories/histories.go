// Package histories records workflow histories from a real Temporal server
// into testdata, so that `make test` can replay them against the current
// workflow code and catch a change that would break running plans.
//
// Recording happens only when FENQI_RECORD_HISTORIES=1 (`make
// record-histories`); otherwise Record checks nothing and writes nothing.
//
// The server holds payloads encrypted (package codec); Record writes them
// decoded with the test binary's codec (testenv.Codec), so that a recorded
// history is plaintext JSON that replays with no key: the test keys are
// random per run and never stored.
package histories

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/proxy"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/fenqi/fenqi/internal/devstack"
	"github.com/fenqi/fenqi/internal/testenv"
)

// Dir is where recorded histories live, relative to the repo root.
const Dir = "workflows/testdata/histories"

// Recording reports whether this test run records histories.
func Recording() bool { return os.Getenv("FENQI_RECORD_HISTORIES") == "1" }

// Record writes the full history of workflowID (all its runs' events of the
// latest run) to <repo>/workflows/testdata/histories/<name>.json when
// recording is on.
func Record(t testing.TB, c client.Client, workflowID, name string) {
	t.Helper()
	if !Recording() {
		return
	}
	if err := write(context.Background(), c, testenv.Codec(t), workflowID, name); err != nil {
		t.Fatalf("record history %s of %s: %v", name, workflowID, err)
	}
	t.Logf("recorded history %s of %s", name, workflowID)
}

func write(ctx context.Context, c client.Client, cdc converter.PayloadCodec, workflowID, name string) error {
	root, err := devstack.RepoRoot()
	if err != nil {
		return err
	}
	it := c.GetWorkflowHistory(ctx, workflowID, "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	h := &historypb.History{}
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			return fmt.Errorf("read history: %w", err)
		}
		h.Events = append(h.Events, ev)
	}
	if err := Decode(ctx, h, cdc); err != nil {
		return err
	}
	b, err := protojson.MarshalOptions{Multiline: true, Indent: "  "}.Marshal(h)
	if err != nil {
		return fmt.Errorf("encode history: %w", err)
	}
	dir := filepath.Join(root, Dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	return os.WriteFile(filepath.Join(dir, name+".json"), b, 0o644)
}

// Decode replaces every payload of h (but search attributes, which are
// never encoded) with its decoding by cdc; payloads that are not encoded
// stay as they are.
func Decode(ctx context.Context, h *historypb.History, cdc converter.PayloadCodec) error {
	err := proxy.VisitPayloads(ctx, h, proxy.VisitPayloadsOptions{
		SkipSearchAttributes: true,
		Visitor: func(_ *proxy.VisitPayloadsContext, ps []*commonpb.Payload) ([]*commonpb.Payload, error) {
			return cdc.Decode(ps)
		},
	})
	if err != nil {
		return fmt.Errorf("decode history payloads: %w", err)
	}
	return nil
}
