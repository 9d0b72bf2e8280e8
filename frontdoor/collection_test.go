package frontdoor_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/fenqi/fenqi/calc"
	"github.com/fenqi/fenqi/collection"
	"github.com/fenqi/fenqi/frontdoor"
	"github.com/fenqi/fenqi/plan"
)

// TestCollectionRequestsAreUpdates checks each collection request is sent
// as an Update named after its message, keyed by the request id, and
// returns the plan's reply.
func TestCollectionRequestsAreUpdates(t *testing.T) {
	ctx := context.Background()
	id := uuid.NewString()
	quote := &plan.Quote{ID: "q-1", Kind: plan.MsgArrearsPlan, Eligible: true, DueNow: dec("100.5")}
	c := &updateClient{reply: plan.Reply{RequestID: "r", Accepted: true, State: plan.StateActive, Quote: quote, ScheduleVersion: 3}}
	d := frontdoor.New(c, "")
	date := day(t, "2026-12-05")
	promise := plan.PromiseRequest{RequestID: "pr-1", Date: date, Amount: dec("1200")}
	referral := plan.ReferralRequest{RequestID: "rf-1", Decision: collection.Negotiate, Operator: "alice", Reason: "offered to pay"}
	writeOff := plan.WriteOffRequest{RequestID: "wo-1", Decision: collection.ApproveWriteOff, Operator: "alice", Reason: "uncollectable"}
	grace := plan.GraceRequest{RequestID: "gx-1", Until: date, Operator: "alice", Reason: "hospitalised"}
	arrearsQuote := plan.ArrearsPlanRequest{RequestID: "ap-1", Instalments: 3}
	arrearsConfirm := plan.ArrearsPlanRequest{RequestID: "ap-2", QuoteID: "q-1"}
	for _, tt := range []struct {
		name string
		req  plan.Request
		send func() (plan.Reply, error)
	}{
		{plan.MsgPromise, promise, func() (plan.Reply, error) { return d.Promise(ctx, id, promise) }},
		{plan.MsgRefer, referral, func() (plan.Reply, error) { return d.Refer(ctx, id, referral) }},
		{plan.MsgWriteOff, writeOff, func() (plan.Reply, error) { return d.WriteOff(ctx, id, writeOff) }},
		{plan.MsgExtendGrace, grace, func() (plan.Reply, error) { return d.ExtendGrace(ctx, id, grace) }},
		{plan.MsgArrearsPlan, arrearsQuote, func() (plan.Reply, error) { return d.ArrearsPlan(ctx, id, arrearsQuote) }},
		{plan.MsgArrearsPlan, arrearsConfirm, func() (plan.Reply, error) { return d.ArrearsPlan(ctx, id, arrearsConfirm) }},
	} {
		t.Run(tt.name+" "+tt.req.ID(), func(t *testing.T) {
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
			if !reply.Accepted || reply.ScheduleVersion != 3 || reply.Quote == nil || reply.Quote.ID != "q-1" {
				t.Errorf("reply %+v, want the plan's", reply)
			}
		})
	}
}

// TestCollectionRequestsValidated checks bad collection requests are
// refused before they are sent.
func TestCollectionRequestsValidated(t *testing.T) {
	ctx := context.Background()
	c := &updateClient{}
	d := frontdoor.New(c, "")
	id := uuid.NewString()
	date := day(t, "2026-12-05")
	for _, tt := range []struct {
		name  string
		field string
		send  func() (plan.Reply, error)
	}{
		{"promise without a date", "date", func() (plan.Reply, error) {
			return d.Promise(ctx, id, plan.PromiseRequest{RequestID: "p", Amount: dec("10")})
		}},
		{"promise of nothing", "amount", func() (plan.Reply, error) {
			return d.Promise(ctx, id, plan.PromiseRequest{RequestID: "p", Date: date})
		}},
		{"referral decision unknown", "decision", func() (plan.Reply, error) {
			return d.Refer(ctx, id, plan.ReferralRequest{RequestID: "r", Decision: "sue", Operator: "alice", Reason: "x"})
		}},
		{"referral without an operator", "operator", func() (plan.Reply, error) {
			return d.Refer(ctx, id, plan.ReferralRequest{RequestID: "r", Decision: collection.Refer, Reason: "x"})
		}},
		{"write-off without a reason", "reason", func() (plan.Reply, error) {
			return d.WriteOff(ctx, id, plan.WriteOffRequest{RequestID: "w", Decision: collection.DeclineWriteOff, Operator: "alice"})
		}},
		{"grace without a date", "until", func() (plan.Reply, error) {
			return d.ExtendGrace(ctx, id, plan.GraceRequest{RequestID: "g", Operator: "alice", Reason: "x"})
		}},
		{"arrears plan in one part", "instalments", func() (plan.Reply, error) {
			return d.ArrearsPlan(ctx, id, plan.ArrearsPlanRequest{RequestID: "a", Instalments: 1})
		}},
		{"arrears plan without a request id", "request_id", func() (plan.Reply, error) {
			return d.ArrearsPlan(ctx, id, plan.ArrearsPlanRequest{Instalments: 3})
		}},
		{"malformed plan id", "plan", func() (plan.Reply, error) {
			return d.Promise(ctx, "nope", plan.PromiseRequest{RequestID: "p", Date: date, Amount: dec("10")})
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

// queryClient is a Temporal client that answers every Query with answer
// (through JSON, as the data converter does) or err, and records the
// queries. Any other call panics (the embedded nil client).
type queryClient struct {
	client.Client
	asked  []string
	answer any
	err    error
}

func (c *queryClient) QueryWorkflow(_ context.Context, workflowID, _ string, queryType string, _ ...any) (converter.EncodedValue, error) {
	c.asked = append(c.asked, workflowID+" "+queryType)
	if c.err != nil {
		return nil, c.err
	}
	b, err := json.Marshal(c.answer)
	if err != nil {
		return nil, err
	}
	return jsonValue(b), nil
}

type jsonValue []byte

func (v jsonValue) HasValue() bool    { return len(v) > 0 }
func (v jsonValue) Get(ptr any) error { return json.Unmarshal(v, ptr) }

// TestCollectionQuery checks Collection asks the plan's collection query
// and maps its errors as Status does.
func TestCollectionQuery(t *testing.T) {
	ctx := context.Background()
	id := uuid.NewString()
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	want := plan.CollectionStatus{
		PlanID: id, State: plan.StateActive, Collecting: true, Stage: "M1", Bucket: "M1", DaysPastDue: 12,
		Next:      plan.CollectionNext{Action: "promise", At: at, Reason: "waiting for the promise of 2026-12-05"},
		AsOf:      day(t, "2026-12-01"),
		Owed:      calc.Amounts{Principal: dec("1000"), Interest: dec("20"), Fee: dec("5"), Penalty: dec("1.5")},
		OwedTotal: dec("1026.5"),
		Promise:   &collection.Promise{Date: day(t, "2026-12-05"), Amount: dec("1026.5"), MadeAt: at},
		Actions:   []plan.CollectionAction{{At: at, Stage: "M1", Round: 1, Kind: "sms", Channel: "sms", Owed: dec("1026.5")}},
		Contacts:  []plan.ContactEvent{{At: at, Channel: "sms", Outcome: "delivered"}},
	}
	c := &queryClient{answer: want}
	d := frontdoor.New(c, "")
	got, err := d.Collection(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.asked) != 1 || c.asked[0] != "plan-"+id+" "+plan.QueryCollection {
		t.Errorf("asked %q, want the %s query of plan-%s", c.asked, plan.QueryCollection, id)
	}
	if got.PlanID != id || got.Stage != "M1" || got.DaysPastDue != 12 || got.Next.Action != "promise" || !got.Owed.Principal.Equal(dec("1000")) ||
		got.Promise == nil || !got.Promise.Amount.Equal(dec("1026.5")) || len(got.Actions) != 1 || len(got.Contacts) != 1 {
		t.Errorf("collection status %+v, want %+v", got, want)
	}

	for _, tt := range []struct {
		name  string
		plan  string
		err   error
		check func(error) bool
	}{
		{"malformed plan id", "nope", nil, func(err error) bool {
			var v *plan.ValidationError
			return errors.As(err, &v) && v.Field == "plan"
		}},
		{"no such plan", id, serviceerror.NewNotFound("workflow not found"), func(err error) bool { return errors.Is(err, frontdoor.ErrNotFound) }},
		{"query refused", id, serviceerror.NewQueryFailed("unknown queryType collection"), func(err error) bool {
			var r *frontdoor.RejectedError
			return errors.As(err, &r) && strings.Contains(r.Reason, "unknown queryType")
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := &queryClient{err: tt.err}
			_, err := frontdoor.New(c, "").Collection(ctx, tt.plan)
			if !tt.check(err) {
				t.Errorf("error %v (%T)", err, err)
			}
		})
	}
}

func day(t *testing.T, s string) calc.Date {
	t.Helper()
	d, err := calc.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}
