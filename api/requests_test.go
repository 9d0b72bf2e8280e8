package api_test

import (
	"context"
	"encoding/json"
	"errors"
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
	"github.com/fenqi/fenqi/frontdoor"
	"github.com/fenqi/fenqi/plan"
)

// fakeDoor is a front door without a plan behind it: it records the
// requests it is sent and answers each with reply or err.
type fakeDoor struct {
	calls []fakeCall
	reply plan.Reply
	err   error
}

type fakeCall struct {
	method string
	planID string
	req    plan.Request
}

func (d *fakeDoor) send(method, planID string, r plan.Request) (plan.Reply, error) {
	d.calls = append(d.calls, fakeCall{method: method, planID: planID, req: r})
	if d.err != nil {
		return plan.Reply{}, d.err
	}
	reply := d.reply
	reply.RequestID = r.ID()
	return reply, nil
}

func (d *fakeDoor) Apply(context.Context, plan.Application) (frontdoor.Applied, error) {
	return frontdoor.Applied{}, d.err
}
func (d *fakeDoor) Status(context.Context, string) (plan.Status, error) { return plan.Status{}, d.err }
func (d *fakeDoor) Agreement(context.Context, string) (plan.Agreement, error) {
	return plan.Agreement{}, d.err
}
func (d *fakeDoor) Contacts(context.Context, string) ([]frontdoor.Contact, error) { return nil, d.err }
func (d *fakeDoor) Choose(_ context.Context, id string, r plan.ChooseRequest) (plan.Reply, error) {
	return d.send("Choose", id, r)
}
func (d *fakeDoor) CounterOffer(_ context.Context, id string, r plan.CounterOfferRequest) (plan.Reply, error) {
	return d.send("CounterOffer", id, r)
}
func (d *fakeDoor) Sign(_ context.Context, id string, r plan.SignRequest) (plan.Reply, error) {
	return d.send("Sign", id, r)
}
func (d *fakeDoor) Withdraw(_ context.Context, id string, r plan.WithdrawRequest) (plan.Reply, error) {
	return d.send("Withdraw", id, r)
}
func (d *fakeDoor) Decide(_ context.Context, id string, r plan.ReviewDecision) (plan.Reply, error) {
	return d.send("Decide", id, r)
}
func (d *fakeDoor) Pay(_ context.Context, id string, r plan.PaymentRequest) (plan.Reply, error) {
	return d.send("Pay", id, r)
}
func (d *fakeDoor) Cancel(_ context.Context, id string, r plan.CancelRequest) (plan.Reply, error) {
	return d.send("Cancel", id, r)
}
func (d *fakeDoor) Restructure(_ context.Context, id string, r plan.RestructureRequest) (plan.Reply, error) {
	return d.send("Restructure", id, r)
}
func (d *fakeDoor) Holiday(_ context.Context, id string, r plan.HolidayRequest) (plan.Reply, error) {
	return d.send("Holiday", id, r)
}
func (d *fakeDoor) Prepay(_ context.Context, id string, r plan.PrepayRequest) (plan.Reply, error) {
	return d.send("Prepay", id, r)
}
func (d *fakeDoor) Waive(_ context.Context, id string, r plan.WaiveRequest) (plan.Reply, error) {
	return d.send("Waive", id, r)
}
func (d *fakeDoor) Approve(_ context.Context, id string, r plan.ApprovalDecision) (plan.Reply, error) {
	return d.send("Approve", id, r)
}
func (d *fakeDoor) Complain(_ context.Context, id string, r plan.ComplaintRequest) (plan.Reply, error) {
	return d.send("Complain", id, r)
}
func (d *fakeDoor) Resolve(_ context.Context, id string, r plan.ResolveRequest) (plan.Reply, error) {
	return d.send("Resolve", id, r)
}

// postFake sends body (a string as is, anything else as JSON) to the API over
// door, with operator alice's token, and returns the status and the raw
// answer.
func postFake(t *testing.T, door api.Door, path, idemKey string, body any) (int, []byte) {
	t.Helper()
	var raw string
	switch b := body.(type) {
	case string:
		raw = b
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		raw = string(j)
	}
	rec := serve(t, newServer(t, door), http.MethodPost, path, bearer(aliceToken), idemKey, raw)
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("POST %s: Content-Type %q", path, ct)
	}
	b, _ := io.ReadAll(rec.Result().Body)
	return rec.Code, b
}

func fakeQuote() *plan.Quote {
	d := decimal.RequireFromString
	return &plan.Quote{
		ID: "q-1", Kind: plan.MsgCancel, RequestID: "k-1", Summary: "repay 2,050.00 now and the plan closes", Eligible: true,
		DueNow: d("2050"), Fee: d("28.25"),
		Settlement: &plan.Settlement{Policy: calc.SettleCurrentPeriod, Principal: d("2000"), Interest: d("21.75"), Charge: d("28.25"), Total: d("2050")},
		Before:     plan.Figures{Instalments: 4, Instalment: d("515.3"), Remaining: d("2061.2"), APRNominal: d("12.8"), APREffective: d("13.58")},
	}
}

// TestChangeRequestRoutes sends each new route a good request: it reaches
// the front door's method with the plan id, the request id from the
// Idempotency-Key (the body's wins) and, for a resolution, the complaint
// from the path; the reply comes back with 200.
func TestChangeRequestRoutes(t *testing.T) {
	id := uuid.NewString()
	base := "/v1/plans/" + id
	for _, tt := range []struct {
		path   string
		body   string
		method string
		check  func(plan.Request) bool
	}{
		{"/cancel", `{"mode": "fewer-terms", "terms": 3}`, "Cancel", func(r plan.Request) bool {
			c := r.(plan.CancelRequest)
			return c.Mode == plan.CancelFewerTerms && c.Terms == 3 && c.QuoteID == ""
		}},
		{"/cancel", `{"quote_id": "q-1"}`, "Cancel", func(r plan.Request) bool { return r.(plan.CancelRequest).QuoteID == "q-1" }},
		{"/restructure", `{"max_instalment": "500.00", "frequency": "quarterly", "reason": "lost my job"}`, "Restructure", func(r plan.Request) bool {
			c := r.(plan.RestructureRequest)
			return c.MaxInstalment.Equal(decimal.NewFromInt(500)) && c.Frequency == calc.Quarterly && c.Reason == "lost my job"
		}},
		{"/restructure", `{"terms": 18}`, "Restructure", func(r plan.Request) bool { return r.(plan.RestructureRequest).Terms == 18 }},
		{"/holiday", `{"periods": 2, "reason": "hospital stay"}`, "Holiday", func(r plan.Request) bool { return r.(plan.HolidayRequest).Periods == 2 }},
		{"/prepay", `{}`, "Prepay", func(r plan.Request) bool { return r.(plan.PrepayRequest).Full() }},
		{"/prepay", `{"amount": 2000, "reduce": "term"}`, "Prepay", func(r plan.Request) bool {
			c := r.(plan.PrepayRequest)
			return c.Amount.Equal(decimal.NewFromInt(2000)) && c.Reduce == plan.ReduceTerm
		}},
		{"/waive", `{"component": "interest", "amount": "50.00", "reason": "goodwill", "operator": "alice"}`, "Waive", func(r plan.Request) bool {
			c := r.(plan.WaiveRequest)
			return c.Component == calc.ComponentInterest && c.Operator == "alice"
		}},
		{"/approvals", `{"quote_id": "q-1", "approve": true, "operator": "alice"}`, "Approve", func(r plan.Request) bool {
			c := r.(plan.ApprovalDecision)
			return c.QuoteID == "q-1" && c.Approve
		}},
		{"/complaints", `{"text": "I was called three times today"}`, "Complain", func(r plan.Request) bool {
			return r.(plan.ComplaintRequest).Text == "I was called three times today"
		}},
		{"/complaints/cp-1/resolve", `{"resolution": "calls limited to one a day", "operator": "alice"}`, "Resolve", func(r plan.Request) bool {
			c := r.(plan.ResolveRequest)
			return c.Complaint == "cp-1" && c.Resolution == "calls limited to one a day" && c.Operator == "alice"
		}},
		{"/complaints/cp-1/resolve", `{"complaint": "cp-1", "resolution": "done", "operator": "alice"}`, "Resolve", func(r plan.Request) bool {
			return r.(plan.ResolveRequest).Complaint == "cp-1"
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
			q, _ := reply["quote"].(map[string]any)
			if reply["accepted"] != true || reply["request_id"] != "k-1" || reply["schedule_version"] != float64(2) || q == nil || q["id"] != "q-1" || q["due_now"] != "2050.00" {
				t.Errorf("reply %s, want the plan's reply with its quote, money with 2 decimals", raw)
			}
			if before, _ := q["before"].(map[string]any); before == nil || before["apr_effective"] != "13.5800" {
				t.Errorf("quote's before figures in %s, want rates with 4 decimals", raw)
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

// TestRefusedQuote checks an ineligible quote is answered 422 as the
// other refusals, with the quote in the reply so the customer sees why.
func TestRefusedQuote(t *testing.T) {
	q := fakeQuote()
	q.Eligible, q.Refusal = false, "the plan is 45 days past due: settle the arrears first"
	for _, tt := range []struct {
		name   string
		reason string
		want   string
	}{
		{"with the reply's reason", "not eligible: the plan is 45 days past due", "not eligible: the plan is 45 days past due"},
		{"with the quote's refusal only", "", q.Refusal},
	} {
		t.Run(tt.name, func(t *testing.T) {
			door := &fakeDoor{reply: plan.Reply{Accepted: false, Reason: tt.reason, State: plan.StateActive, Quote: q}}
			code, raw := postFake(t, door, "/v1/plans/"+uuid.NewString()+"/restructure", "k-2", map[string]any{"terms": 24})
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
			if code != http.StatusUnprocessableEntity || body.Error.Code != "refused" || body.Error.Message != tt.want {
				t.Fatalf("%d %s, want 422 refused saying %q", code, raw, tt.want)
			}
			if body.Reply.Quote == nil || body.Reply.Quote.ID != "q-1" || body.Reply.Quote.Eligible || body.Reply.Quote.Refusal != q.Refusal || !body.Reply.Quote.DueNow.Equal(q.DueNow) {
				t.Errorf("reply %+v, want the ineligible quote", body.Reply)
			}
			if !strings.Contains(string(raw), `"due_now":"2050.00"`) {
				t.Errorf("the quote's amounts in %s are not written with 2 decimals", raw)
			}
		})
	}
}

// TestChangeRequestBadInput checks every bad body or path of the new
// routes is answered with the API's error shape, naming the field, and
// never reaches the plan.
func TestChangeRequestBadInput(t *testing.T) {
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
		{"no request id", "/cancel", "", map[string]any{"mode": "lump-sum"}, 400, "invalid", "request_id"},
		{"cancel without a mode", "/cancel", "k", map[string]any{}, 400, "invalid", "mode"},
		{"cancel in an unknown mode", "/cancel", "k", map[string]any{"mode": "sometimes"}, 400, "invalid", "mode"},
		{"cancel over fewer terms without terms", "/cancel", "k", map[string]any{"mode": "fewer-terms"}, 400, "invalid", "terms"},
		{"lump sum with terms", "/cancel", "k", map[string]any{"mode": "lump-sum", "terms": 3}, 400, "invalid", "terms"},
		{"fewer terms at the next due date", "/cancel", "k", map[string]any{"mode": "fewer-terms", "terms": 3, "at_next_due": true}, 400, "invalid", "at_next_due"},
		{"terms not a number", "/cancel", "k", `{"mode": "fewer-terms", "terms": "three"}`, 400, "bad_json", "terms"},
		{"restructure asking nothing", "/restructure", "k", map[string]any{"reason": "hard times"}, 400, "invalid", "asks for nothing"},
		{"restructure with terms and a maximum instalment", "/restructure", "k", map[string]any{"terms": 18, "max_instalment": "500"}, 400, "invalid", "terms"},
		{"restructure weekly", "/restructure", "k", map[string]any{"frequency": "weekly"}, 400, "invalid", "frequency"},
		{"restructure to 1000 terms", "/restructure", "k", map[string]any{"terms": 1000}, 400, "invalid", "terms"},
		{"maximum instalment not a number", "/restructure", "k", `{"max_instalment": "lots"}`, 400, "bad_json", "lots"},
		{"maximum instalment with 3 decimals", "/restructure", "k", map[string]any{"max_instalment": "500.001"}, 400, "invalid", "max_instalment"},
		{"restructure with too long a reason", "/restructure", "k", map[string]any{"terms": 18, "reason": long}, 400, "invalid", "reason"},
		{"holiday of no periods", "/holiday", "k", map[string]any{"reason": "hospital"}, 400, "invalid", "periods"},
		{"holiday of negative periods", "/holiday", "k", map[string]any{"periods": -1}, 400, "invalid", "periods"},
		{"prepay a negative amount", "/prepay", "k", map[string]any{"amount": "-5"}, 400, "invalid", "amount"},
		{"prepay with 3 decimals", "/prepay", "k", map[string]any{"amount": "1.001"}, 400, "invalid", "amount"},
		{"prepay above the maximum", "/prepay", "k", map[string]any{"amount": "2000000"}, 400, "invalid", "amount"},
		{"prepay reducing both", "/prepay", "k", map[string]any{"amount": "100", "reduce": "both"}, 400, "invalid", "reduce"},
		{"prepay in full reducing the term", "/prepay", "k", map[string]any{"reduce": "term"}, 400, "invalid", "reduce"},
		{"waive principal", "/waive", "k", map[string]any{"component": "principal", "amount": "5", "reason": "goodwill", "operator": "alice"}, 400, "invalid", "component"},
		{"waive nothing", "/waive", "k", map[string]any{"component": "fee", "amount": "0", "reason": "goodwill", "operator": "alice"}, 400, "invalid", "amount"},
		{"waive without a reason", "/waive", "k", map[string]any{"component": "fee", "amount": "5", "operator": "alice"}, 400, "invalid", "reason"},
		{"malformed quote id", "/waive", "k", map[string]any{"quote_id": long, "operator": "alice"}, 400, "invalid", "quote_id"},
		{"approval without a quote", "/approvals", "k", map[string]any{"approve": true, "operator": "alice"}, 400, "invalid", "quote_id"},
		{"refusal without a reason", "/approvals", "k", map[string]any{"quote_id": "q-1", "approve": false, "operator": "alice"}, 400, "invalid", "reason"},
		{"empty complaint", "/complaints", "k", map[string]any{"text": "  "}, 400, "invalid", "text"},
		{"complaint too long", "/complaints", "k", map[string]any{"text": long}, 400, "invalid", "text"},
		{"resolution of another complaint", "/complaints/cp-1/resolve", "k", map[string]any{"complaint": "cp-2", "resolution": "done", "operator": "alice"}, 400, "invalid", "complaint"},
		{"resolution without text", "/complaints/cp-1/resolve", "k", map[string]any{"operator": "alice"}, 400, "invalid", "resolution"},
		{"resolution of too long a complaint id", "/complaints/" + strings.Repeat("c", 129) + "/resolve", "k", map[string]any{"resolution": "done", "operator": "alice"}, 400, "invalid", "complaint"},
		{"unknown field", "/holiday", "k", `{"periods": 1, "weeks": 2}`, 400, "bad_json", "weeks"},
		{"malformed JSON", "/prepay", "k", `{"amount":`, 400, "bad_json", "invalid JSON"},
		{"two objects", "/complaints", "k", `{"text": "a"} {"text": "b"}`, 400, "bad_json", "exactly one"},
		{"oversized body", "/complaints", "k", `{"text": "` + strings.Repeat("x", api.MaxBodyBytes) + `"}`, 413, "too_large", "larger"},
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
	for _, path := range []string{"/cancel", "/restructure", "/holiday", "/prepay", "/waive", "/approvals", "/complaints", "/complaints/cp-1/resolve"} {
		t.Run("malformed plan id "+path, func(t *testing.T) {
			door := &fakeDoor{}
			code, raw := postFake(t, door, "/v1/plans/not-a-plan"+path, "k", map[string]any{})
			checkErrorBody(t, code, raw, 400, "invalid", "plan")
			if len(door.calls) != 0 {
				t.Errorf("a malformed plan id reached the plan: %+v", door.calls)
			}
		})
	}
	for _, path := range []string{"/resolve", "/complaints/cp-1", "/complaints/cp-1/resolve/now", "/approval"} {
		t.Run("no route "+path, func(t *testing.T) {
			code, raw := postFake(t, &fakeDoor{}, base+path, "k", map[string]any{})
			checkErrorBody(t, code, raw, 404, "not_found", "no route")
		})
	}
}

// TestChangeRequestDoorErrors checks the front door's errors map to the
// same statuses as for the other actions.
func TestChangeRequestDoorErrors(t *testing.T) {
	id := uuid.NewString()
	for _, tt := range []struct {
		name   string
		err    error
		status int
		code   string
		says   string
	}{
		{"not active", &frontdoor.RejectedError{Reason: "the plan is offered; cancel needs an active plan"}, 409, "conflict", "offered"},
		{"stale quote", &frontdoor.RejectedError{Reason: "quote q-1 is stale: the plan changed since"}, 409, "conflict", "stale"},
		{"unknown plan", fmt.Errorf("cancel plan %s: %w", id, frontdoor.ErrNotFound), 404, "not_found", id},
		{"invalid", &plan.ValidationError{Field: "quote_id", Reason: "no such quote"}, 400, "invalid", "quote_id"},
		{"timeout", context.DeadlineExceeded, 504, "timeout", "Idempotency-Key"},
		{"internal", io.ErrUnexpectedEOF, 500, "internal", "Idempotency-Key"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			door := &fakeDoor{err: tt.err}
			code, raw := postFake(t, door, "/v1/plans/"+id+"/cancel", "k", map[string]any{"quote_id": "q-1"})
			checkErrorBody(t, code, raw, tt.status, tt.code, tt.says)
		})
	}
}

// checkErrorBody checks an answer is the API's error shape with status, code
// and a message mentioning says.
func checkErrorBody(t *testing.T, code int, raw []byte, status int, errCode, says string) {
	t.Helper()
	var e errorBody
	if err := json.Unmarshal(raw, &e); err != nil {
		t.Fatalf("status %d, body %q is not JSON: %v", code, raw, err)
	}
	if code != status || e.Error.Code != errCode || !strings.Contains(e.Error.Message, says) {
		t.Fatalf("status %d code %q message %q; want %d %q mentioning %q", code, e.Error.Code, e.Error.Message, status, errCode, says)
	}
}

// slowDoor never answers a cancellation: the plan is busy (an activity
// retrying, say).
type slowDoor struct{ *fakeDoor }

func (d slowDoor) Cancel(ctx context.Context, _ string, _ plan.CancelRequest) (plan.Reply, error) {
	<-ctx.Done()
	return plan.Reply{}, errors.New("update did not complete: " + ctx.Err().Error())
}

// A plan that does not answer in time gets a 504 telling the caller to
// retry with the same Idempotency-Key, not a request held open for ever.
func TestRequestTimeout(t *testing.T) {
	srv := newServer(t, slowDoor{&fakeDoor{}})
	srv.Timeout = 50 * time.Millisecond
	rec := serve(t, srv, http.MethodPost, "/v1/plans/"+uuid.NewString()+"/cancel", bearer(aliceToken), "slow-1", `{"mode": "lump-sum"}`)
	if rec.Code != http.StatusGatewayTimeout || !strings.Contains(rec.Body.String(), "same Idempotency-Key") {
		t.Fatalf("status %d body %s, want 504 asking to retry with the same key", rec.Code, rec.Body)
	}
}
