package frontdoor_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/google/uuid"
	"go.temporal.io/sdk/client"

	"github.com/fenqi/fenqi/calc"
	"github.com/fenqi/fenqi/frontdoor"
	"github.com/fenqi/fenqi/plan"
)

// updateClient is a Temporal client that answers every Update with reply
// (through JSON, as the data converter does) and records what was sent.
// Any other call panics (the embedded nil client).
type updateClient struct {
	client.Client
	sent  []client.UpdateWorkflowOptions
	reply plan.Reply
}

func (c *updateClient) UpdateWorkflow(_ context.Context, o client.UpdateWorkflowOptions) (client.WorkflowUpdateHandle, error) {
	c.sent = append(c.sent, o)
	return updateHandle{o: o, reply: c.reply}, nil
}

type updateHandle struct {
	o     client.UpdateWorkflowOptions
	reply plan.Reply
}

func (h updateHandle) WorkflowID() string { return h.o.WorkflowID }
func (h updateHandle) RunID() string      { return "" }
func (h updateHandle) UpdateID() string   { return h.o.UpdateID }
func (h updateHandle) Get(_ context.Context, v any) error {
	b, err := json.Marshal(h.reply)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// TestChangeRequestsAreUpdates checks each request method sends its
// message as an Update named after it, keyed by the request id, and
// returns the plan's reply with its quote.
func TestChangeRequestsAreUpdates(t *testing.T) {
	ctx := context.Background()
	id := uuid.NewString()
	quote := &plan.Quote{ID: "q-1", Kind: plan.MsgCancel, Eligible: true, DueNow: dec("100.5")}
	c := &updateClient{reply: plan.Reply{RequestID: "r", Accepted: true, State: plan.StateActive, Quote: quote, ScheduleVersion: 3}}
	d := frontdoor.New(c, "")
	for _, tt := range []struct {
		name string
		req  plan.Request
		send func() (plan.Reply, error)
	}{
		{plan.MsgCancel, plan.CancelRequest{RequestID: "c-1", Mode: plan.CancelLumpSum}, func() (plan.Reply, error) {
			return d.Cancel(ctx, id, plan.CancelRequest{RequestID: "c-1", Mode: plan.CancelLumpSum})
		}},
		{plan.MsgRestructure, plan.RestructureRequest{RequestID: "r-1", Terms: 18}, func() (plan.Reply, error) {
			return d.Restructure(ctx, id, plan.RestructureRequest{RequestID: "r-1", Terms: 18})
		}},
		{plan.MsgHoliday, plan.HolidayRequest{RequestID: "h-1", Periods: 2}, func() (plan.Reply, error) {
			return d.Holiday(ctx, id, plan.HolidayRequest{RequestID: "h-1", Periods: 2})
		}},
		{plan.MsgPrepay, plan.PrepayRequest{RequestID: "p-1", QuoteID: "q-1"}, func() (plan.Reply, error) {
			return d.Prepay(ctx, id, plan.PrepayRequest{RequestID: "p-1", QuoteID: "q-1"})
		}},
		{plan.MsgWaive, plan.WaiveRequest{RequestID: "w-1", Component: calc.ComponentFee, Amount: dec("5"), Reason: "goodwill", Operator: "alice"}, func() (plan.Reply, error) {
			return d.Waive(ctx, id, plan.WaiveRequest{RequestID: "w-1", Component: calc.ComponentFee, Amount: dec("5"), Reason: "goodwill", Operator: "alice"})
		}},
		{plan.MsgApprove, plan.ApprovalDecision{RequestID: "a-1", QuoteID: "q-1", Approve: true, Operator: "alice"}, func() (plan.Reply, error) {
			return d.Approve(ctx, id, plan.ApprovalDecision{RequestID: "a-1", QuoteID: "q-1", Approve: true, Operator: "alice"})
		}},
		{plan.MsgComplain, plan.ComplaintRequest{RequestID: "cp-1", Text: "too many calls"}, func() (plan.Reply, error) {
			return d.Complain(ctx, id, plan.ComplaintRequest{RequestID: "cp-1", Text: "too many calls"})
		}},
		{plan.MsgResolve, plan.ResolveRequest{RequestID: "rs-1", Complaint: "cp-1", Resolution: "one call a day", Operator: "alice"}, func() (plan.Reply, error) {
			return d.Resolve(ctx, id, plan.ResolveRequest{RequestID: "rs-1", Complaint: "cp-1", Resolution: "one call a day", Operator: "alice"})
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c.sent = nil
			reply, err := tt.send()
			if err != nil {
				t.Fatal(err)
			}
			if len(c.sent) != 1 {
				t.Fatalf("%d updates sent, want 1", len(c.sent))
			}
			o := c.sent[0]
			if o.UpdateName != tt.name || o.WorkflowID != "plan-"+id || o.WaitForStage != client.WorkflowUpdateStageCompleted {
				t.Errorf("sent %q to %q (stage %v), want %q to plan-%s, waiting for completion", o.UpdateName, o.WorkflowID, o.WaitForStage, tt.name, id)
			}
			if want := tt.name + ":" + tt.req.ID() + ":" + tt.req.Fingerprint()[:16]; o.UpdateID != want {
				t.Errorf("update id %q, want %q", o.UpdateID, want)
			}
			if len(o.Args) != 1 {
				t.Fatalf("args %#v, want the request", o.Args)
			}
			if r, ok := o.Args[0].(plan.Request); !ok || fmt.Sprintf("%T", r) != fmt.Sprintf("%T", tt.req) || r.ID() != tt.req.ID() || r.Fingerprint() != tt.req.Fingerprint() {
				t.Errorf("args %#v, want the request %#v", o.Args, tt.req)
			}
			if !reply.Accepted || reply.ScheduleVersion != 3 || reply.Quote == nil || reply.Quote.ID != "q-1" || !reply.Quote.DueNow.Equal(dec("100.50")) {
				t.Errorf("reply %+v (quote %+v), want the plan's", reply, reply.Quote)
			}
		})
	}
}

// TestChangeRequestsValidated checks bad requests are refused before they
// are sent.
func TestChangeRequestsValidated(t *testing.T) {
	ctx := context.Background()
	c := &updateClient{}
	d := frontdoor.New(c, "")
	id := uuid.NewString()
	for _, tt := range []struct {
		name  string
		field string
		send  func() (plan.Reply, error)
	}{
		{"cancel without a mode", "mode", func() (plan.Reply, error) { return d.Cancel(ctx, id, plan.CancelRequest{RequestID: "c"}) }},
		{"restructure asking nothing", "restructure", func() (plan.Reply, error) {
			return d.Restructure(ctx, id, plan.RestructureRequest{RequestID: "r"})
		}},
		{"holiday of 0 periods", "periods", func() (plan.Reply, error) { return d.Holiday(ctx, id, plan.HolidayRequest{RequestID: "h"}) }},
		{"prepay without a request id", "request_id", func() (plan.Reply, error) { return d.Prepay(ctx, id, plan.PrepayRequest{}) }},
		{"waive without an operator", "operator", func() (plan.Reply, error) {
			return d.Waive(ctx, id, plan.WaiveRequest{RequestID: "w", Component: calc.ComponentFee, Amount: dec("1"), Reason: "x"})
		}},
		{"refusal without a reason", "reason", func() (plan.Reply, error) {
			return d.Approve(ctx, id, plan.ApprovalDecision{RequestID: "a", QuoteID: "q", Operator: "alice"})
		}},
		{"empty complaint", "text", func() (plan.Reply, error) { return d.Complain(ctx, id, plan.ComplaintRequest{RequestID: "cp"}) }},
		{"resolution of nothing", "complaint", func() (plan.Reply, error) {
			return d.Resolve(ctx, id, plan.ResolveRequest{RequestID: "rs", Resolution: "done", Operator: "alice"})
		}},
		{"malformed plan id", "plan", func() (plan.Reply, error) {
			return d.Complain(ctx, "nope", plan.ComplaintRequest{RequestID: "cp", Text: "x"})
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.send()
			if !plan.IsValidation(err) || !strings.HasPrefix(err.Error(), tt.field+":") {
				t.Fatalf("error %v (%T), want a validation error of %s", err, err, tt.field)
			}
			if len(c.sent) != 0 {
				t.Fatalf("sent %d updates", len(c.sent))
			}
		})
	}
}
