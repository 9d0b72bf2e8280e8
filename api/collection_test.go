package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/fenqi/fenqi/api"
	"github.com/fenqi/fenqi/calc"
	"github.com/fenqi/fenqi/collection"
	"github.com/fenqi/fenqi/frontdoor"
	"github.com/fenqi/fenqi/plan"
)

func (d *fakeDoor) Collection(context.Context, string) (plan.CollectionStatus, error) {
	return plan.CollectionStatus{}, d.err
}
func (d *fakeDoor) Promise(_ context.Context, id string, r plan.PromiseRequest) (plan.Reply, error) {
	return d.send("Promise", id, r)
}
func (d *fakeDoor) Refer(_ context.Context, id string, r plan.ReferralRequest) (plan.Reply, error) {
	return d.send("Refer", id, r)
}
func (d *fakeDoor) WriteOff(_ context.Context, id string, r plan.WriteOffRequest) (plan.Reply, error) {
	return d.send("WriteOff", id, r)
}
func (d *fakeDoor) ExtendGrace(_ context.Context, id string, r plan.GraceRequest) (plan.Reply, error) {
	return d.send("ExtendGrace", id, r)
}
func (d *fakeDoor) ArrearsPlan(_ context.Context, id string, r plan.ArrearsPlanRequest) (plan.Reply, error) {
	return d.send("ArrearsPlan", id, r)
}

// statusDoor answers the collection query with cs.
type statusDoor struct {
	*fakeDoor
	asked []string
	cs    plan.CollectionStatus
}

func (d *statusDoor) Collection(_ context.Context, id string) (plan.CollectionStatus, error) {
	d.asked = append(d.asked, id)
	return d.cs, d.err
}

func getFake(t *testing.T, door api.Door, path string) (int, []byte) {
	t.Helper()
	rec := serve(t, newServer(t, door), http.MethodGet, path, bearer(aliceToken), "", nil)
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("GET %s: Content-Type %q", path, ct)
	}
	b, _ := io.ReadAll(rec.Result().Body)
	return rec.Code, b
}

// TestCollectionRoutes sends each collection route a good request: it
// reaches the front door's method with the plan id and the request id
// from the Idempotency-Key (the body's wins); the reply comes back with
// 200.
func TestCollectionRoutes(t *testing.T) {
	id := uuid.NewString()
	base := "/v1/plans/" + id
	for _, tt := range []struct {
		path   string
		body   string
		method string
		check  func(plan.Request) bool
	}{
		{"/promises", `{"date": "2026-12-05", "amount": "1200.00"}`, "Promise", func(r plan.Request) bool {
			p := r.(plan.PromiseRequest)
			return p.Date.String() == "2026-12-05" && p.Amount.Equal(decimal.NewFromInt(1200))
		}},
		{"/promises", `{"date": "2026-12-05", "amount": 99.5}`, "Promise", func(r plan.Request) bool {
			return r.(plan.PromiseRequest).Amount.Equal(decimal.RequireFromString("99.5"))
		}},
		{"/referral", `{"decision": "refer", "operator": "alice", "reason": "no contact for 90 days"}`, "Refer", func(r plan.Request) bool {
			c := r.(plan.ReferralRequest)
			return c.Decision == collection.Refer && c.Operator == "alice" && c.Reason == "no contact for 90 days"
		}},
		{"/referral", `{"decision": "negotiate", "operator": "alice", "reason": "offered to pay"}`, "Refer", func(r plan.Request) bool {
			return r.(plan.ReferralRequest).Decision == collection.Negotiate
		}},
		{"/write-off", `{"decision": "approve", "operator": "alice", "reason": "uncollectable"}`, "WriteOff", func(r plan.Request) bool {
			c := r.(plan.WriteOffRequest)
			return c.Decision == collection.ApproveWriteOff && c.Operator == "alice" && c.Reason == "uncollectable"
		}},
		{"/write-off", `{"decision": "decline", "operator": "alice", "reason": "still paying a little"}`, "WriteOff", func(r plan.Request) bool {
			return r.(plan.WriteOffRequest).Decision == collection.DeclineWriteOff
		}},
		{"/grace", `{"until": "2026-12-20", "operator": "alice", "reason": "hospitalised"}`, "ExtendGrace", func(r plan.Request) bool {
			c := r.(plan.GraceRequest)
			return c.Until.String() == "2026-12-20" && c.Operator == "alice" && c.Reason == "hospitalised"
		}},
		{"/arrears-plan", `{"instalments": 3}`, "ArrearsPlan", func(r plan.Request) bool {
			c := r.(plan.ArrearsPlanRequest)
			return c.Instalments == 3 && c.QuoteID == ""
		}},
		{"/arrears-plan", `{"quote_id": "q-1"}`, "ArrearsPlan", func(r plan.Request) bool {
			c := r.(plan.ArrearsPlanRequest)
			return c.QuoteID == "q-1" && c.Instalments == 0
		}},
	} {
		t.Run(tt.method+" "+tt.body, func(t *testing.T) {
			door := &fakeDoor{reply: plan.Reply{Accepted: true, State: plan.StateActive, Quote: fakeQuote(), ScheduleVersion: 2}}
			code, raw := postFake(t, door, base+tt.path, "k-1", tt.body)
			if code != http.StatusOK {
				t.Fatalf("status %d %s, want 200", code, raw)
			}
			if len(door.calls) != 1 || door.calls[0].method != tt.method || door.calls[0].planID != id {
				t.Fatalf("calls %+v, want one %s to %s", door.calls, tt.method, id)
			}
			req := door.calls[0].req
			if req.ID() != "k-1" || !tt.check(req) {
				t.Errorf("sent %#v with request id %q, want the body's request with id k-1", req, req.ID())
			}
			var reply map[string]any
			if err := json.Unmarshal(raw, &reply); err != nil {
				t.Fatal(err)
			}
			if reply["accepted"] != true || reply["request_id"] != "k-1" || reply["schedule_version"] != float64(2) {
				t.Errorf("reply %s, want the plan's reply", raw)
			}

			// The body's request id wins over the header.
			door.calls = nil
			var body map[string]any
			_ = json.Unmarshal([]byte(tt.body), &body)
			body["request_id"] = "body-1"
			if code, raw := postFake(t, door, base+tt.path, "k-1", body); code != http.StatusOK || len(door.calls) != 1 || door.calls[0].req.ID() != "body-1" {
				t.Errorf("with a request id in the body: %d %s, calls %+v; want 200 and request id body-1", code, raw, door.calls)
			}
		})
	}
}

// TestCollectionRefused checks a refused collection request is answered
// 422 as the other refusals: an arrears plan quote that is not eligible
// with the quote in the reply, a refused decision with the plan's reason.
func TestCollectionRefused(t *testing.T) {
	q := fakeQuote()
	q.Kind, q.Eligible, q.Refusal = plan.MsgArrearsPlan, false, "nothing is past due"
	id := uuid.NewString()
	for _, tt := range []struct {
		name  string
		path  string
		body  any
		reply plan.Reply
		want  string
	}{
		{"ineligible arrears plan", "/arrears-plan", map[string]any{"instalments": 3}, plan.Reply{Accepted: false, State: plan.StateActive, Quote: q}, q.Refusal},
		{"promise refused", "/promises", map[string]any{"date": "2026-12-05", "amount": "10"}, plan.Reply{Accepted: false, Reason: "the promise must cover what is past due (1,026.50)", State: plan.StateActive}, "must cover"},
		{"no referral to decide", "/referral", map[string]any{"decision": "hold", "operator": "alice", "reason": "x"}, plan.Reply{Accepted: false, Reason: "no legal referral is pending", State: plan.StateActive}, "no legal referral"},
		{"refused without a reason", "/write-off", map[string]any{"decision": "approve", "operator": "alice", "reason": "x"}, plan.Reply{Accepted: false, State: plan.StateActive}, "refused the request"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			door := &fakeDoor{reply: tt.reply}
			code, raw := postFake(t, door, "/v1/plans/"+id+tt.path, "k-2", tt.body)
			var body struct {
				Error struct {
					Code    string `json:"code"`
					Message string `json:"message"`
				} `json:"error"`
				Reply plan.Reply `json:"reply"`
			}
			if err := json.Unmarshal(raw, &body); err != nil {
				t.Fatal(err)
			}
			if code != http.StatusUnprocessableEntity || body.Error.Code != "refused" || !strings.Contains(body.Error.Message, tt.want) {
				t.Fatalf("%d %s, want 422 refused saying %q", code, raw, tt.want)
			}
			if body.Reply.RequestID != "k-2" || body.Reply.Accepted {
				t.Errorf("reply %+v, want the plan's refusal", body.Reply)
			}
			if tt.reply.Quote != nil && (body.Reply.Quote == nil || body.Reply.Quote.Eligible || body.Reply.Quote.Refusal != q.Refusal) {
				t.Errorf("reply %+v, want the ineligible quote", body.Reply)
			}
		})
	}
}

// TestCollectionBadInput checks bad bodies and paths of the collection
// routes are answered with the API's error shape, naming the field, and
// never reach the plan.
func TestCollectionBadInput(t *testing.T) {
	base := "/v1/plans/" + uuid.NewString()
	long := strings.Repeat("x", 201)
	tests := []struct {
		name   string
		path   string
		key    string
		body   any
		status int
		code   string
		says   string
	}{
		{"promise without a request id", "/promises", "", map[string]any{"date": "2026-12-05", "amount": "10"}, 400, "invalid", "request_id"},
		{"promise without a date", "/promises", "k", map[string]any{"amount": "10"}, 400, "invalid", "date"},
		{"promise on a malformed date", "/promises", "k", map[string]any{"date": "05/12/2026", "amount": "10"}, 400, "bad_json", "05/12/2026"},
		{"promise without an amount", "/promises", "k", map[string]any{"date": "2026-12-05"}, 400, "invalid", "amount"},
		{"promise of a negative amount", "/promises", "k", map[string]any{"date": "2026-12-05", "amount": "-5"}, 400, "invalid", "amount"},
		{"promise with 3 decimals", "/promises", "k", map[string]any{"date": "2026-12-05", "amount": "1.001"}, 400, "invalid", "amount"},
		{"promise above the maximum", "/promises", "k", map[string]any{"date": "2026-12-05", "amount": "100000000"}, 400, "invalid", "amount"},
		{"promise amount not a number", "/promises", "k", `{"date": "2026-12-05", "amount": "lots"}`, 400, "bad_json", "lots"},
		{"referral decision unknown", "/referral", "k", map[string]any{"decision": "sue", "operator": "alice", "reason": "x"}, 400, "invalid", "decision"},
		{"referral without a decision", "/referral", "k", map[string]any{"operator": "alice", "reason": "x"}, 400, "invalid", "decision"},
		{"referral without a reason", "/referral", "k", map[string]any{"decision": "refer", "operator": "alice"}, 400, "invalid", "reason"},
		{"referral with too long a reason", "/referral", "k", map[string]any{"decision": "refer", "operator": "alice", "reason": long}, 400, "invalid", "reason"},
		{"write-off decision unknown", "/write-off", "k", map[string]any{"decision": "refer", "operator": "alice", "reason": "x"}, 400, "invalid", "decision"},
		{"write-off without a reason", "/write-off", "k", map[string]any{"decision": "decline", "operator": "alice"}, 400, "invalid", "reason"},
		{"grace without a date", "/grace", "k", map[string]any{"operator": "alice", "reason": "x"}, 400, "invalid", "until"},
		{"grace on a malformed date", "/grace", "k", map[string]any{"until": "soon", "operator": "alice", "reason": "x"}, 400, "bad_json", "soon"},
		{"grace without a reason", "/grace", "k", map[string]any{"until": "2026-12-20", "operator": "alice"}, 400, "invalid", "reason"},
		{"arrears plan asking nothing", "/arrears-plan", "k", map[string]any{}, 400, "invalid", "instalments"},
		{"arrears plan in one part", "/arrears-plan", "k", map[string]any{"instalments": 1}, 400, "invalid", "instalments"},
		{"arrears plan of negative parts", "/arrears-plan", "k", map[string]any{"instalments": -2}, 400, "invalid", "instalments"},
		{"arrears plan of 1000 parts", "/arrears-plan", "k", map[string]any{"instalments": 1000}, 400, "invalid", "instalments"},
		{"arrears plan with a malformed quote id", "/arrears-plan", "k", map[string]any{"quote_id": long}, 400, "invalid", "quote_id"},
		{"arrears plan instalments not a number", "/arrears-plan", "k", `{"instalments": "three"}`, 400, "bad_json", "instalments"},
		{"unknown field", "/grace", "k", `{"until": "2026-12-20", "operator": "alice", "reason": "x", "days": 3}`, 400, "bad_json", "days"},
		{"two objects", "/promises", "k", `{"amount": "1"} {"amount": "2"}`, 400, "bad_json", "exactly one"},
		{"oversized body", "/referral", "k", `{"reason": "` + strings.Repeat("x", api.MaxBodyBytes) + `"}`, 413, "too_large", "larger"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			door := &fakeDoor{}
			code, raw := postFake(t, door, base+tt.path, tt.key, tt.body)
			checkErrorBody(t, code, raw, tt.status, tt.code, tt.says)
			if len(door.calls) != 0 {
				t.Errorf("bad input reached the plan: %+v", door.calls)
			}
		})
	}
	for _, path := range []string{"/promises", "/referral", "/write-off", "/grace", "/arrears-plan"} {
		t.Run("malformed plan id "+path, func(t *testing.T) {
			door := &fakeDoor{}
			code, raw := postFake(t, door, "/v1/plans/not-a-plan"+path, "k", map[string]any{})
			checkErrorBody(t, code, raw, 400, "invalid", "plan")
			if len(door.calls) != 0 {
				t.Errorf("a malformed plan id reached the plan: %+v", door.calls)
			}
		})
	}
	for _, path := range []string{"/promise", "/referrals", "/writeoff", "/collection/actions"} {
		t.Run("no route "+path, func(t *testing.T) {
			code, raw := postFake(t, &fakeDoor{}, base+path, "k", map[string]any{})
			checkErrorBody(t, code, raw, 404, "not_found", "no route")
		})
	}
	t.Run("POST to the collection status", func(t *testing.T) {
		code, raw := postFake(t, &fakeDoor{}, base+"/collection", "k", map[string]any{})
		if code != http.StatusMethodNotAllowed && code != http.StatusNotFound {
			t.Errorf("POST /collection: %d %s, want it refused", code, raw)
		}
	})
}

// TestCollectionStatusRoute reads a plan's collection status: the plan's
// answer as JSON with empty lists as [], and the front door's errors
// mapped as for the status.
func TestCollectionStatusRoute(t *testing.T) {
	id := uuid.NewString()
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	date, _ := calc.ParseDate("2026-12-05")
	door := &statusDoor{fakeDoor: &fakeDoor{}, cs: plan.CollectionStatus{
		PlanID: id, State: plan.StateActive, Collecting: true, Stage: "M1", Bucket: "M1", DaysPastDue: 12,
		Next:      plan.CollectionNext{Action: "promise", At: at, Reason: "waiting for the promise"},
		OwedTotal: decimal.RequireFromString("1026.5"),
		Promise:   &collection.Promise{Date: date, Amount: decimal.RequireFromString("1026.5"), MadeAt: at},
	}}
	code, raw := getFake(t, door, "/v1/plans/"+id+"/collection")
	if code != http.StatusOK {
		t.Fatalf("status %d %s, want 200", code, raw)
	}
	if len(door.asked) != 1 || door.asked[0] != id {
		t.Errorf("asked %q, want %s", door.asked, id)
	}
	var got map[string]any
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	if got["plan_id"] != id || got["stage"] != "M1" || got["days_past_due"] != float64(12) || got["collecting"] != true {
		t.Errorf("collection status %s, want the plan's", raw)
	}
	if next, _ := got["next"].(map[string]any); next == nil || next["action"] != "promise" {
		t.Errorf("next in %s, want the promise", raw)
	}
	if p, _ := got["promise"].(map[string]any); p == nil || p["date"] != "2026-12-05" {
		t.Errorf("promise in %s, want the plan's", raw)
	}
	for _, k := range []string{"actions", "contacts"} {
		if l, ok := got[k].([]any); !ok || len(l) != 0 {
			t.Errorf("%s in %s, want []", k, raw)
		}
	}
	for _, k := range []string{"referral", "write_off"} {
		if _, ok := got[k]; ok {
			t.Errorf("%s in %s, want it left out", k, raw)
		}
	}

	for _, tt := range []struct {
		name   string
		path   string
		err    error
		status int
		code   string
		says   string
	}{
		{"unknown plan", "/v1/plans/" + id + "/collection", fmt.Errorf("collection plan %s: %w", id, frontdoor.ErrNotFound), 404, "not_found", id},
		{"not answered", "/v1/plans/" + id + "/collection", &frontdoor.RejectedError{Reason: "unknown queryType collection"}, 409, "conflict", "queryType"},
		{"malformed plan id", "/v1/plans/not-a-plan/collection", &plan.ValidationError{Field: "plan", Reason: "invalid UUID"}, 400, "invalid", "plan"},
		{"timeout", "/v1/plans/" + id + "/collection", context.DeadlineExceeded, 504, "timeout", "retry"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, raw := getFake(t, &statusDoor{fakeDoor: &fakeDoor{err: tt.err}}, tt.path)
			checkErrorBody(t, code, raw, tt.status, tt.code, tt.says)
		})
	}
}
