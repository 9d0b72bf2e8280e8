package store

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
)

// SaveAnsweredRequest writes in one statement what SaveRequest and
// AnswerRequest write in three: the same row and the same audit entries;
// a repeat is answered from the row, and a different request or answer
// under the same id is refused.
func TestSaveAnsweredRequest(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	f := newFixture(t, s)
	req := func(id, payload string) Request {
		return Request{PlanID: f.plan.ID, RequestID: id, Kind: "choose_offer", Actor: "customer", Payload: json.RawMessage(payload)}
	}
	result := json.RawMessage(`{"agreement_version": 1}`)

	// The same request through the two calls, for comparison.
	if _, _, err := s.SaveRequest(ctx, req("two-calls", `{"offer": 2}`)); err != nil {
		t.Fatal(err)
	}
	twoCalls, err := s.AnswerRequest(ctx, f.plan.ID, "two-calls", RequestCompleted, result)
	if err != nil {
		t.Fatal(err)
	}
	one, err := s.SaveAnsweredRequest(ctx, req("one-call", `{"offer": 2}`), RequestCompleted, result)
	if err != nil {
		t.Fatal(err)
	}
	if one.Status != twoCalls.Status || one.PayloadHash != twoCalls.PayloadHash || !jsonEqual(one.Result, twoCalls.Result) ||
		one.CompletedAt.IsZero() != twoCalls.CompletedAt.IsZero() {
		t.Errorf("one call stored %s %s %s completed %v; two calls %s %s %s completed %v",
			one.Status, one.PayloadHash, one.Result, one.CompletedAt, twoCalls.Status, twoCalls.PayloadHash, twoCalls.Result, twoCalls.CompletedAt)
	}
	actions := func(id string) []string {
		t.Helper()
		entries, err := s.AuditLog(ctx, f.plan.ID)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range entries {
			var d struct {
				RequestID string `json:"request_id"`
			}
			if json.Unmarshal(e.Details, &d) == nil && d.RequestID == id {
				out = append(out, e.Action)
			}
		}
		return out
	}
	if got, want := actions("one-call"), actions("two-calls"); len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("audit of one call %v, of two calls %v; want the same two", got, want)
	}

	for _, tc := range []struct {
		name    string
		payload string
		status  string
		result  string
		want    error
	}{
		{"a repeat is answered", `{"offer": 2}`, RequestCompleted, `{"agreement_version": 1}`, nil},
		{"a repeat in another JSON layout is answered", `{ "offer":2 }`, RequestCompleted, `{"agreement_version":1}`, nil},
		{"another request under the id is refused", `{"offer": 3}`, RequestCompleted, `{"agreement_version": 1}`, ErrConflict},
		{"another answer is refused", `{"offer": 2}`, RequestRejected, `{"reason": "no"}`, ErrConflict},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.SaveAnsweredRequest(ctx, req("one-call", tc.payload), tc.status, json.RawMessage(tc.result))
			if !errors.Is(err, tc.want) {
				t.Fatalf("SaveAnsweredRequest = %+v, %v; want %v", got, err, tc.want)
			}
			if err == nil && (got.ID != one.ID || got.Status != RequestCompleted) {
				t.Errorf("repeat answered with %s %s, want the stored %s %s", got.ID, got.Status, one.ID, one.Status)
			}
			if n := count(t, s, `SELECT count(*) FROM requests WHERE plan_id = $1 AND request_id = 'one-call'`, f.plan.ID); n != 1 {
				t.Errorf("%d rows for the request id, want 1", n)
			}
			if got := actions("one-call"); len(got) != 2 {
				t.Errorf("audit entries of the request after the repeat: %v, want the first two only", got)
			}
		})
	}
}

// PlanContext reads in one round trip what GetPlan, GetApplication and
// GetCustomer read in three.
func TestPlanContext(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	f := newFixture(t, s)
	p, app, cust, err := s.PlanContext(ctx, f.plan.ID)
	if err != nil {
		t.Fatal(err)
	}
	wantPlan, _ := s.GetPlan(ctx, f.plan.ID)
	wantApp, _ := s.GetApplication(ctx, f.plan.ApplicationID)
	wantCust, _ := s.GetCustomer(ctx, f.plan.CustomerID)
	if p.ID != wantPlan.ID || p.State != wantPlan.State || app.ID != wantApp.ID || app.RequestID != wantApp.RequestID ||
		cust.ID != wantCust.ID || cust.Name != wantCust.Name || cust.Phone != wantCust.Phone {
		t.Errorf("PlanContext = %s %s / %s %s / %s %q; want %s %s / %s %s / %s %q", p.ID, p.State, app.ID, app.RequestID, cust.ID, cust.Name,
			wantPlan.ID, wantPlan.State, wantApp.ID, wantApp.RequestID, wantCust.ID, wantCust.Name)
	}
	if cust.Name == "" || isSealed(cust.Name) {
		t.Errorf("customer name %q: want it opened", cust.Name)
	}
	if _, _, _, err := s.PlanContext(ctx, f.spare.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("PlanContext of an id with no plan = %v, want ErrNotFound", err)
	}
}
