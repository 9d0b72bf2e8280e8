package integration

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/proxy"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/fenqi/fenqi/activities"
	"github.com/fenqi/fenqi/codec"
	"github.com/fenqi/fenqi/internal/histories"
	"github.com/fenqi/fenqi/internal/testenv"
	"github.com/fenqi/fenqi/plan"
	"github.com/fenqi/fenqi/workflows"
)

// TestPersonalDataIsEncryptedInHistory applies, chooses, signs and funds
// a plan through the front door, then reads the plan's history from the
// server with a client that has no codec: the customer's name, phone,
// email and ID number appear in none of its bytes, every payload is
// encrypted, and decoding with the codec finds them.
func TestPersonalDataIsEncryptedInHistory(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s := newSystem(t)
	s.startWorker(activities.New(s.st))
	cust := customer(t, "strong")
	if cust.IDNumber == "" {
		// examples/customers/strong.json has no ID number: give it one.
		cust.IDNumber = "110101199003078515"
	}
	if cust.Name == "" || cust.Phone == "" || cust.Email == "" {
		t.Fatalf("examples/customers/strong.json lacks personal data to look for: %+v", cust)
	}
	// A real-time calendar: nothing falls due while the test reads.
	id := s.activePlanOf(ctx, cust, 0, "20000", 12, "100")

	// The raw history, as the server keeps it: no codec on this client.
	raw, err := client.Dial(client.Options{HostPort: testenv.Temporal(t).HostPort(), Namespace: "default", Logger: quietLog{}})
	if err != nil {
		t.Fatalf("dial without codec: %v", err)
	}
	defer raw.Close()
	h := &historypb.History{}
	it := raw.GetWorkflowHistory(ctx, plan.WorkflowID(uuid.MustParse(id)), "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatalf("read history: %v", err)
		}
		h.Events = append(h.Events, ev)
	}
	if len(h.Events) < 10 {
		t.Fatalf("history of %s has %d events; want a whole origination", id, len(h.Events))
	}

	personal := map[string]string{
		"name":            cust.Name,
		"signed name":     "张三",
		"name, escaped":   strings.Trim(strconv.QuoteToASCII("张三"), `"`),
		"phone":           cust.Phone,
		"phone digits":    digits(cust.Phone),
		"email":           cust.Email,
		"ID number":       cust.IDNumber,
		"ID number start": cust.IDNumber[:10],
	}
	for _, ev := range h.Events {
		b, err := proto.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		for what, v := range personal {
			if bytes.Contains(b, []byte(v)) {
				t.Errorf("event %d (%s) holds the customer's %s %q in plaintext", ev.GetEventId(), ev.GetEventType(), what, v)
			}
		}
	}

	// Every payload but the search attributes (no personal data) is
	// encrypted, with the key the clients use.
	cdc := testenv.Codec(t)
	payloads, encrypted := 0, 0
	err = proxy.VisitPayloads(ctx, h, proxy.VisitPayloadsOptions{
		SkipSearchAttributes: true,
		Visitor: func(_ *proxy.VisitPayloadsContext, ps []*commonpb.Payload) ([]*commonpb.Payload, error) {
			for _, p := range ps {
				payloads++
				if string(p.GetMetadata()[codec.MetadataEncoding]) == codec.EncodingEncrypted &&
					string(p.GetMetadata()[codec.MetadataKeyID]) == cdc.KeyRing().Active() {
					encrypted++
				} else {
					t.Errorf("payload with metadata %v is not encrypted", p.GetMetadata())
				}
			}
			return ps, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if payloads == 0 || encrypted != payloads {
		t.Fatalf("%d of %d payloads encrypted", encrypted, payloads)
	}

	// Decoded with the codec, the history holds the customer.
	if err := histories.Decode(ctx, h, cdc); err != nil {
		t.Fatalf("decode the history with the codec: %v", err)
	}
	err = proxy.VisitPayloads(ctx, h, proxy.VisitPayloadsOptions{
		Visitor: func(_ *proxy.VisitPayloadsContext, ps []*commonpb.Payload) ([]*commonpb.Payload, error) {
			for _, p := range ps {
				if string(p.GetMetadata()[codec.MetadataEncoding]) == codec.EncodingEncrypted {
					t.Errorf("payload still encrypted after decoding: %v", p.GetMetadata())
				}
			}
			return ps, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	var decoded []byte
	for _, ev := range h.Events {
		b, err := proto.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		decoded = append(decoded, b...)
	}
	for _, what := range []string{"name", "phone", "email", "ID number"} {
		if !bytes.Contains(decoded, []byte(personal[what])) {
			t.Errorf("the decoded history lacks the customer's %s: the test looks in the wrong place", what)
		}
	}

	// Decoded as histories.Record writes it, the history replays without
	// any key, as workflows' replay test does.
	js, err := protojson.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	recorded, err := client.HistoryFromJSON(bytes.NewReader(js), client.HistoryJSONOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r := worker.NewWorkflowReplayer()
	r.RegisterWorkflowWithOptions(workflows.PlanWorkflow, workflow.RegisterOptions{Name: plan.WorkflowName})
	if err := r.ReplayWorkflowHistory(quietLog{}, recorded); err != nil {
		t.Fatalf("replay the decoded history without a codec: %v", err)
	}
	t.Logf("%d events, %d payloads, all encrypted with key %s", len(h.Events), payloads, cdc.KeyRing().Active())
}

func digits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return strings.TrimPrefix(b.String(), "86")
}

type quietLog struct{}

func (quietLog) Debug(string, ...any) {}
func (quietLog) Info(string, ...any)  {}
func (quietLog) Warn(string, ...any)  {}
func (quietLog) Error(string, ...any) {}
