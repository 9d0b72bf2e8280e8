package api_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/fenqi/fenqi/frontdoor"
	"github.com/fenqi/fenqi/plan"
)

// applyOffered applies through the API and returns the offered plan's id.
func (s *system) applyOffered(customerName string) string {
	s.t.Helper()
	var applied frontdoor.Applied
	app := map[string]any{"customer": customer(s.t, customerName), "amount": "6000", "terms": 6}
	if code := s.call("POST", "/v1/applications", "app-"+uuid.NewString(), app, &applied); code != http.StatusCreated || applied.State != plan.StateOffered {
		s.t.Fatalf("apply: status %d, %+v; want 201 offered", code, applied)
	}
	return applied.PlanID
}

// activate chooses the first offer of an offered plan and signs it.
func (s *system) activate(id string) {
	s.t.Helper()
	var st plan.Status
	s.call("GET", "/v1/plans/"+id, "", nil, &st)
	var reply plan.Reply
	if code := s.call("POST", "/v1/plans/"+id+"/choose", "choose-"+uuid.NewString(), map[string]any{"offer_set": st.OfferSet, "offer": 1}, &reply); code != http.StatusOK {
		s.t.Fatalf("choose: status %d", code)
	}
	if code := s.call("POST", "/v1/plans/"+id+"/sign", "sign-"+uuid.NewString(), map[string]any{"document_hash": reply.AgreementHash, "name": "张三", "consent": true}, &reply); code != http.StatusOK || reply.State != plan.StateActive {
		s.t.Fatalf("sign: status %d, %+v; want 200 active", code, reply)
	}
}

// TestPaymentsThroughTheAPI posts payments to an active plan: accepted,
// answered once per payment id however often it is posted, refused with
// the right status otherwise.
func TestPaymentsThroughTheAPI(t *testing.T) {
	s := startSystem(t)
	offered := s.applyOffered("average")
	id := s.applyOffered("strong")
	s.activate(id)
	pid := uuid.MustParse(id)
	path := "/v1/plans/" + id + "/payments"

	var first plan.Reply
	pay1 := map[string]any{"payment_id": "pay-1", "amount": "100.00", "source": "manual"}
	if code := s.call("POST", path, "", pay1, &first); code != http.StatusOK || !first.Accepted || first.State != plan.StateActive || first.RequestID != "pay-1" {
		t.Fatalf("pay: status %d, %+v; want 200, accepted, active, request id pay-1", code, first)
	}
	var again plan.Reply
	if code := s.call("POST", path, "", pay1, &again); code != http.StatusOK || again != first {
		t.Fatalf("the same payment again: status %d, %+v; want 200 and the first reply %+v", code, again, first)
	}
	// The payment id may come as request_id, or from the Idempotency-Key.
	var reply plan.Reply
	if code := s.call("POST", path, "", map[string]any{"request_id": "pay-2", "amount": 20}, &reply); code != http.StatusOK || reply.RequestID != "pay-2" {
		t.Fatalf("pay with request_id: status %d, %+v", code, reply)
	}
	for range 2 {
		if code := s.call("POST", path, "idem-pay-3", map[string]any{"amount": "30.50", "source": "external"}, &reply); code != http.StatusOK || reply.RequestID != "idem-pay-3" {
			t.Fatalf("pay with an Idempotency-Key: status %d, %+v", code, reply)
		}
	}
	for _, p := range []string{"pay-1", "pay-2", "idem-pay-3"} {
		if n := s.count(`SELECT count(*) FROM payments WHERE plan_id = $1 AND payment_id = $2`, pid, p); n != 1 {
			t.Errorf("payment %s: %d rows in payments, want 1", p, n)
		}
	}
	if n := s.count(`SELECT count(*) FROM payments WHERE plan_id = $1 AND payment_id = 'idem-pay-3' AND source = 'external' AND amount = 30.50`, pid); n != 1 {
		t.Errorf("payment idem-pay-3 is not stored as an external payment of 30.50")
	}
	var st plan.Status
	s.call("GET", "/v1/plans/"+id, "", nil, &st)
	if !st.PaidAmount.Equal(decimal.RequireFromString("150.50")) {
		t.Errorf("status: paid %s, want 150.50", st.PaidAmount)
	}

	tests := []struct {
		name   string
		path   string
		key    string
		body   any
		status int
		code   string
		says   string
	}{
		{"payment id reused for another amount", path, "", map[string]any{"payment_id": "pay-1", "amount": "999.00"}, 409, "conflict", "already used"},
		{"amount not a number", path, "", `{"payment_id": "bad-1", "amount": "abc"}`, 400, "invalid", "amount"},
		{"amount not a number nor a string", path, "", `{"payment_id": "bad-7", "amount": true}`, 400, "invalid", "amount"},
		{"negative amount", path, "", map[string]any{"payment_id": "bad-2", "amount": "-5"}, 400, "invalid", "amount"},
		{"amount with 3 decimals", path, "", map[string]any{"payment_id": "bad-3", "amount": "1.001"}, 400, "invalid", "amount"},
		{"no amount", path, "", map[string]any{"payment_id": "bad-4"}, 400, "invalid", "amount"},
		{"unknown source", path, "", map[string]any{"payment_id": "bad-5", "amount": "1", "source": "bank"}, 400, "invalid", "source"},
		{"no payment id", path, "", map[string]any{"amount": "1"}, 400, "invalid", "payment_id"},
		{"two different ids", path, "", map[string]any{"payment_id": "a", "request_id": "b", "amount": "1"}, 400, "invalid", "payment_id"},
		{"unknown field", path, "", `{"payment_id": "bad-6", "amount": "1", "payer": "x"}`, 400, "bad_json", "payer"},
		{"plan not active", "/v1/plans/" + offered + "/payments", "", map[string]any{"payment_id": "early", "amount": "1"}, 409, "conflict", "offered"},
		{"unknown plan", "/v1/plans/" + uuid.NewString() + "/payments", "", map[string]any{"payment_id": "nobody", "amount": "1"}, 404, "not_found", "no plan"},
		{"malformed plan id", "/v1/plans/not-a-plan/payments", "", map[string]any{"payment_id": "x", "amount": "1"}, 400, "invalid", "plan"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e errorBody
			if code := s.call("POST", tt.path, tt.key, tt.body, &e); code != tt.status || e.Error.Code != tt.code || !strings.Contains(e.Error.Message, tt.says) {
				t.Fatalf("status %d code %q message %q; want %d %q mentioning %q", code, e.Error.Code, e.Error.Message, tt.status, tt.code, tt.says)
			}
		})
	}
	if n := s.count(`SELECT count(*) FROM payments WHERE plan_id = $1`, pid); n != 3 {
		t.Errorf("%d payments stored, want the 3 accepted", n)
	}
	if n := s.count(`SELECT count(*) FROM payments p JOIN plans pl ON pl.id = p.plan_id WHERE pl.id = $1`, uuid.MustParse(offered)); n != 0 {
		t.Errorf("the plan that is not active has %d payments", n)
	}
}

// TestContactsThroughTheAPI lists a plan's contacts: after activation the
// schedule notice and the first instalment's reminder, then the receipt of
// a payment.
func TestContactsThroughTheAPI(t *testing.T) {
	s := startSystem(t)
	id := s.applyOffered("strong")
	s.activate(id)
	var raw []map[string]any
	if code := s.call("GET", "/v1/plans/"+id+"/contacts", "", nil, &raw); code != http.StatusOK {
		t.Fatalf("contacts: status %d", code)
	}
	var contacts []frontdoor.Contact
	b, _ := json.Marshal(raw)
	if err := json.Unmarshal(b, &contacts); err != nil {
		t.Fatal(err)
	}
	purposes := map[string]frontdoor.Contact{}
	for i, c := range contacts {
		purposes[c.Purpose] = c
		for _, k := range []string{"time", "purpose", "channel", "status", "outcome", "scheduled_for", "body"} {
			if _, ok := raw[i][k]; !ok {
				t.Errorf("contact %d: key %q missing in %v", i, k, raw[i])
			}
		}
		for _, k := range []string{"details", "contact_key", "phone", "email", "push_id"} {
			if _, ok := raw[i][k]; ok {
				t.Errorf("contact %d: key %q should not be there", i, k)
			}
		}
		if c.Channel == "" || c.Body == "" || c.Time.IsZero() || (c.Status != frontdoor.ContactScheduled && c.Status != frontdoor.ContactSent) {
			t.Errorf("contact %d: %+v; want the customer's push channel, a body, a time and a status", i, c)
		}
	}
	notice, ok := purposes["schedule_notice"]
	if !ok || !strings.Contains(notice.Body, "Your plan is active") {
		t.Errorf("no schedule notice among %+v", contacts)
	}
	reminder, ok := purposes["reminder"]
	if !ok || reminder.Instalment != 1 || !strings.Contains(reminder.Body, "instalment 1") || reminder.Status != frontdoor.ContactScheduled || reminder.SentAt != nil {
		t.Errorf("no scheduled reminder of instalment 1 among %+v", contacts)
	}
	before := len(contacts)

	var reply plan.Reply
	if code := s.call("POST", "/v1/plans/"+id+"/payments", "", map[string]any{"payment_id": "p-1", "amount": "12.34"}, &reply); code != http.StatusOK {
		t.Fatalf("pay: %d", code)
	}
	if code := s.call("GET", "/v1/plans/"+id+"/contacts", "", nil, &contacts); code != http.StatusOK || len(contacts) != before+1 {
		t.Fatalf("contacts after a payment: %d, %d contacts; want %d", code, len(contacts), before+1)
	}
	receipt := false
	for _, c := range contacts {
		receipt = receipt || strings.Contains(c.Body, "We received your payment of 12.34")
	}
	if !receipt {
		t.Errorf("no receipt of the payment among %+v", contacts)
	}

	for _, tt := range []struct {
		path   string
		status int
		code   string
	}{
		{"/v1/plans/" + uuid.NewString() + "/contacts", 404, "not_found"},
		{"/v1/plans/not-a-plan/contacts", 400, "invalid"},
	} {
		var e errorBody
		if code := s.call("GET", tt.path, "", nil, &e); code != tt.status || e.Error.Code != tt.code {
			t.Errorf("GET %s: %d %q, want %d %q", tt.path, code, e.Error.Code, tt.status, tt.code)
		}
	}

	// An API without its database says so.
	bare := httptest.NewServer(newServer(t, frontdoor.New(s.client, s.queue)))
	defer bare.Close()
	req, err := http.NewRequest(http.MethodGet, bare.URL+"/v1/plans/"+id+"/contacts", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", bearer(aliceToken))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var e errorBody
	_ = json.NewDecoder(resp.Body).Decode(&e)
	if resp.StatusCode != http.StatusServiceUnavailable || e.Error.Code != "unavailable" {
		t.Errorf("contacts without a database: %d %+v, want 503 unavailable", resp.StatusCode, e)
	}
}
