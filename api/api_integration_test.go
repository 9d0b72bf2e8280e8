package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"go.temporal.io/sdk/client"

	"github.com/fenqi/fenqi/activities"
	"github.com/fenqi/fenqi/api"
	"github.com/fenqi/fenqi/frontdoor"
	"github.com/fenqi/fenqi/internal/histories"
	"github.com/fenqi/fenqi/internal/testenv"
	"github.com/fenqi/fenqi/internal/testsystem"
	"github.com/fenqi/fenqi/plan"
	"github.com/fenqi/fenqi/store"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// system is fenqi wired as `make run` wires it, on throwaway servers: a
// real PostgreSQL, a real Temporal dev server, a worker and the API, which
// accepts the test tokens (testTokens).
type system struct {
	t      *testing.T
	store  *store.Store
	door   *frontdoor.Door
	http   *httptest.Server
	client client.Client
	queue  string
	// token is the bearer token the requests carry: operator alice's
	// unless as says otherwise; none when empty.
	token string
}

// as is the same system, calling with another bearer token.
func (s *system) as(token string) *system {
	c := *s
	c.token = token
	return &c
}

func startSystem(t *testing.T) *system {
	t.Helper()
	st := testsystem.Store(t)
	queue, _ := testsystem.Worker(t, activities.New(st))
	c := testenv.TemporalClient(t)
	door := frontdoor.New(c, queue, frontdoor.WithStore(st))
	srv := httptest.NewServer(newServer(t, door))
	t.Cleanup(srv.Close)
	return &system{t: t, store: st, door: door, http: srv, client: c, queue: queue, token: aliceToken}
}

// call sends a JSON request and decodes the JSON answer into out (when
// non-nil); it returns the status code.
func (s *system) call(method, path, idemKey string, body any, out any) int {
	s.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			s.t.Fatal(err)
		}
		r = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, s.http.URL+path, r)
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if idemKey != "" {
		req.Header.Set("Idempotency-Key", idemKey)
	}
	if s.token != "" {
		req.Header.Set("Authorization", bearer(s.token))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			s.t.Fatalf("%s %s: decode %q: %v", method, path, raw, err)
		}
	}
	return resp.StatusCode
}

func (s *system) count(sql string, args ...any) int {
	s.t.Helper()
	var n int
	if err := s.store.Pool().QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		s.t.Fatalf("%s: %v", sql, err)
	}
	return n
}

func customer(t *testing.T, name string) plan.Customer { return testsystem.Customer(t, name) }

type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// TestOriginationThroughTheAPI drives the happy path as a front-end would:
// apply, read the offers, choose, sign with the agreement's hash, and
// checks the plan is active with every row written.
func TestOriginationThroughTheAPI(t *testing.T) {
	s := startSystem(t)
	appKey := "app-" + uuid.NewString()
	app := map[string]any{"customer": customer(t, "strong"), "amount": "20000", "terms": 12}

	var applied frontdoor.Applied
	if code := s.call("POST", "/v1/applications", appKey, app, &applied); code != http.StatusCreated {
		t.Fatalf("apply: status %d, want 201", code)
	}
	if applied.State != plan.StateOffered {
		t.Fatalf("apply: state %s, want offered (%s)", applied.State, applied.Reason)
	}
	var again frontdoor.Applied
	if code := s.call("POST", "/v1/applications", appKey, app, &again); code != http.StatusCreated || again.PlanID != applied.PlanID {
		t.Fatalf("repeated apply: status %d plan %s, want 201 and the same plan %s", code, again.PlanID, applied.PlanID)
	}
	id := applied.PlanID

	var st plan.Status
	if code := s.call("GET", "/v1/plans/"+id, "", nil, &st); code != http.StatusOK {
		t.Fatalf("status: %d", code)
	}
	if len(st.Offers) < 3 {
		t.Fatalf("got %d offers, want at least 3", len(st.Offers))
	}
	for _, o := range st.Offers {
		if o.Amount.GreaterThan(st.CreditLimit) || o.APRNominal.GreaterThan(decimal.NewFromInt(24)) {
			t.Errorf("offer %d: amount %s (limit %s), APR %s: outside policy", o.No, o.Amount, st.CreditLimit, o.APRNominal)
		}
	}
	chosen := st.Offers[len(st.Offers)-1]

	var reply plan.Reply
	chooseKey := "choose-" + uuid.NewString()
	if code := s.call("POST", "/v1/plans/"+id+"/choose", chooseKey, map[string]any{"offer_set": st.OfferSet, "offer": chosen.No}, &reply); code != http.StatusOK {
		t.Fatalf("choose: status %d", code)
	}
	if reply.State != plan.StateSigning || len(reply.AgreementHash) != 64 {
		t.Fatalf("choose: reply %+v, want signing with an agreement hash", reply)
	}
	var repeat plan.Reply
	if code := s.call("POST", "/v1/plans/"+id+"/choose", chooseKey, map[string]any{"offer_set": st.OfferSet, "offer": chosen.No}, &repeat); code != http.StatusOK || repeat != reply {
		t.Fatalf("repeated choose: status %d reply %+v, want 200 and %+v", code, repeat, reply)
	}

	// The same key with another body is refused, not answered.
	var reused errorBody
	if code := s.call("POST", "/v1/plans/"+id+"/choose", chooseKey, map[string]any{"offer_set": st.OfferSet, "offer": 1}, &reused); code != http.StatusConflict || !strings.Contains(reused.Error.Message, "already used") {
		t.Fatalf("choose with a reused key and another offer: %d %q, want 409 naming the reused id", code, reused.Error.Message)
	}
	var doc plan.Agreement
	if code := s.call("GET", "/v1/plans/"+id+"/agreement", "", nil, &doc); code != http.StatusOK || doc.SHA256 != reply.AgreementHash || !strings.Contains(doc.Text, doc.Start.AddMonths(1).String()) {
		t.Fatalf("agreement: %d, hash %q (want %q), first due date %s in the text: %v", code, doc.SHA256, reply.AgreementHash, doc.Start.AddMonths(1), strings.Contains(doc.Text, doc.Start.AddMonths(1).String()))
	}
	var conflict errorBody
	wrong := strings.Repeat("0", 64)
	if code := s.call("POST", "/v1/plans/"+id+"/sign", "", map[string]any{"request_id": "sign-wrong", "document_hash": wrong, "name": "张三", "consent": true}, &conflict); code != http.StatusConflict {
		t.Fatalf("sign with a wrong hash: status %d, want 409", code)
	}
	if !strings.Contains(conflict.Error.Message, wrong) {
		t.Errorf("sign with a wrong hash: message %q does not name the hash", conflict.Error.Message)
	}
	if code := s.call("POST", "/v1/plans/"+id+"/sign", "sign-"+uuid.NewString(), map[string]any{"document_hash": reply.AgreementHash, "name": "张三", "consent": true}, &reply); code != http.StatusOK {
		t.Fatalf("sign: status %d", code)
	}
	if reply.State != plan.StateActive {
		t.Fatalf("sign: state %s, want active", reply.State)
	}

	if code := s.call("GET", "/v1/plans/"+id, "", nil, &st); code != http.StatusOK {
		t.Fatalf("status: %d", code)
	}
	if st.State != plan.StateActive || st.TotalInstallments != chosen.Terms || st.ChosenOffer != chosen.No {
		t.Fatalf("status after signing: state %s, %d instalments, offer %d; want active, %d, %d", st.State, st.TotalInstallments, st.ChosenOffer, chosen.Terms, chosen.No)
	}
	if !st.OutstandingPrincipal.Equal(chosen.Amount) {
		t.Errorf("outstanding principal %s, want %s", st.OutstandingPrincipal, chosen.Amount)
	}

	// The rows a back office would look at.
	pid := uuid.MustParse(id)
	checks := []struct {
		what string
		sql  string
		want int
	}{
		{"plan active", `SELECT count(*) FROM plans WHERE id = $1 AND state = 'active' AND start_date IS NOT NULL`, 1},
		{"instalments of v1", `SELECT count(*) FROM instalments WHERE plan_id = $1 AND schedule_version = 1`, chosen.Terms},
		{"principal sums to the amount", `SELECT count(*) FROM plans p WHERE id = $1 AND (SELECT sum(principal) FROM instalments WHERE plan_id = p.id) = p.principal`, 1},
		{"signed agreement", `SELECT count(*) FROM agreements WHERE plan_id = $1 AND signed_hash = sha256`, 1},
		{"requests answered", `SELECT count(*) FROM requests WHERE plan_id = $1 AND kind IN ('choose_offer', 'sign_agreement') AND status = 'completed'`, 2},
		{"credit line used", `SELECT count(*) FROM credit_lines cl JOIN plans p ON p.customer_id = cl.customer_id WHERE p.id = $1 AND cl.used = p.principal`, 1},
		{"activation audited", `SELECT count(*) FROM audit_log WHERE plan_id = $1 AND action = 'plan.activated'`, 1},
		{"schedule notice queued", `SELECT count(*) FROM contacts c JOIN outbox o ON o.contact_id = c.id WHERE c.plan_id = $1 AND c.purpose = 'schedule_notice'`, 1},
	}
	for _, c := range checks {
		if got := s.count(c.sql, pid); got != c.want {
			t.Errorf("%s: got %d, want %d", c.what, got, c.want)
		}
	}
	histories.Record(t, testenv.TemporalClient(t), plan.WorkflowID(pid), "origination-active")
}

// TestAPIErrors checks every error shape a front-end can meet.
func TestAPIErrors(t *testing.T) {
	s := startSystem(t)
	var applied frontdoor.Applied
	appID := "err-" + uuid.NewString()
	if code := s.call("POST", "/v1/applications", "", map[string]any{"request_id": appID, "customer": customer(t, "average"), "amount": "8000"}, &applied); code != http.StatusCreated {
		t.Fatalf("apply: %d", code)
	}
	id := applied.PlanID
	tests := []struct {
		name   string
		method string
		path   string
		body   any
		status int
		code   string
	}{
		{"negative amount", "POST", "/v1/applications", map[string]any{"request_id": "neg", "customer": customer(t, "average"), "amount": "-5"}, 400, "invalid"},
		{"missing request id", "POST", "/v1/applications", map[string]any{"customer": customer(t, "average"), "amount": "500"}, 400, "invalid"},
		{"unknown field", "POST", "/v1/applications", `{"request_id":"x","amount":"100","bogus":1}`, 400, "bad_json"},
		{"malformed JSON", "POST", "/v1/plans/" + id + "/choose", `{"offer":`, 400, "bad_json"},
		{"oversized body", "POST", "/v1/plans/" + id + "/withdraw", `{"request_id":"big","reason":"` + strings.Repeat("x", api.MaxBodyBytes) + `"}`, 413, "too_large"},
		{"unknown plan", "GET", "/v1/plans/" + uuid.NewString(), nil, 404, "not_found"},
		{"malformed plan id", "GET", "/v1/plans/not-a-plan", nil, 400, "invalid"},
		{"offer that does not exist", "POST", "/v1/plans/" + id + "/choose", map[string]any{"request_id": "c99", "offer_set": 1, "offer": 99}, 409, "conflict"},
		{"offer set missing", "POST", "/v1/plans/" + id + "/choose", map[string]any{"request_id": "c98", "offer": 1}, 400, "invalid"},
		{"offer set not current", "POST", "/v1/plans/" + id + "/choose", map[string]any{"request_id": "c97", "offer_set": 7, "offer": 1}, 409, "conflict"},
		{"settings from an applicant", "POST", "/v1/applications", map[string]any{"request_id": "set-1", "customer": customer(t, "average"), "amount": "500", "settings": map[string]any{"offer_ttl": 1e18}}, 400, "invalid"},
		{"agreement before choosing", "GET", "/v1/plans/" + id + "/agreement", nil, 409, "conflict"},
		{"sign before choosing", "POST", "/v1/plans/" + id + "/sign", map[string]any{"request_id": "s1", "document_hash": strings.Repeat("a", 64), "name": "x", "consent": true}, 409, "conflict"},
		{"counter-offer refused", "POST", "/v1/plans/" + id + "/counter-offer", map[string]any{"request_id": "co1", "amount": "900000"}, 422, "refused"},
		{"review decision while offered", "POST", "/v1/plans/" + id + "/review-decision", map[string]any{"request_id": "rd1", "approve": true}, 409, "conflict"},
		{"no such route", "DELETE", "/v1/plans/" + id, nil, 404, "not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e errorBody
			if code := s.call(tt.method, tt.path, "", tt.body, &e); code != tt.status || e.Error.Code != tt.code || e.Error.Message == "" {
				t.Fatalf("status %d code %q message %q; want %d %q with a message", code, e.Error.Code, e.Error.Message, tt.status, tt.code)
			}
		})
	}
	// Nothing above changed the plan.
	var st plan.Status
	s.call("GET", "/v1/plans/"+id, "", nil, &st)
	if st.State != plan.StateOffered || st.ChosenOffer != 0 {
		t.Fatalf("after the bad requests the plan is %s with offer %d chosen; want offered, none", st.State, st.ChosenOffer)
	}
	var reply plan.Reply
	if code := s.call("POST", "/v1/plans/"+id+"/withdraw", "wd-"+uuid.NewString(), map[string]any{"reason": "changed my mind"}, &reply); code != http.StatusOK || reply.State != plan.StateWithdrawn {
		t.Fatalf("withdraw: %d %+v", code, reply)
	}
	// The plan has ended: a request to it is refused with its state.
	var ended errorBody
	if code := s.call("POST", "/v1/plans/"+id+"/choose", "", map[string]any{"request_id": "late", "offer_set": 1, "offer": 1}, &ended); code != http.StatusConflict || !strings.Contains(ended.Error.Message, "withdrawn") {
		t.Fatalf("choose on a withdrawn plan: %d %q, want 409 naming the state", code, ended.Error.Message)
	}
	// Applying again with the request id of another application is refused.
	var again errorBody
	if code := s.call("POST", "/v1/applications", "", map[string]any{"request_id": appID, "customer": customer(t, "average"), "amount": "9000"}, &again); code != http.StatusConflict {
		t.Fatalf("reused application request id with another amount: %d %q, want 409", code, again.Error.Message)
	}
	histories.Record(t, testenv.TemporalClient(t), plan.WorkflowID(uuid.MustParse(id)), "origination-counter-refused-withdrawn")
}

// TestDeclinedApplication checks a risky applicant is declined with
// reasons a customer can read, through the API.
func TestDeclinedApplication(t *testing.T) {
	s := startSystem(t)
	var applied frontdoor.Applied
	if code := s.call("POST", "/v1/applications", "", map[string]any{"request_id": "risky-" + uuid.NewString(), "customer": customer(t, "risky"), "amount": "30000"}, &applied); code != http.StatusCreated {
		t.Fatalf("apply: %d", code)
	}
	if applied.State != plan.StateDeclined && applied.State != plan.StateReview {
		t.Fatalf("risky applicant: state %s, want declined or review", applied.State)
	}
	var st plan.Status
	s.call("GET", "/v1/plans/"+applied.PlanID, "", nil, &st)
	if applied.State == plan.StateDeclined && (len(st.Reasons) == 0 || len(st.Offers) != 0) {
		t.Fatalf("declined plan: reasons %q, %d offers; want reasons and no offers", st.Reasons, len(st.Offers))
	}
	histories.Record(t, testenv.TemporalClient(t), plan.WorkflowID(uuid.MustParse(applied.PlanID)), "origination-declined")
}

// TestAccessThroughTheAPI checks the bearer tokens against the real
// system: no token is 401; a customer applies for itself, reads, signs
// and complains on its own plan, but another customer's plan, a plan that
// does not exist and the operators' actions are 403; an operator's action
// without an operator in the body is recorded under the token's operator.
func TestAccessThroughTheAPI(t *testing.T) {
	s := startSystem(t)
	strong, average, bob, anonymous := s.as(strongToken), s.as(averageToken), s.as(bobToken), s.as("")

	var e errorBody
	if code := anonymous.call("POST", "/v1/applications", "", map[string]any{"request_id": "anon-" + uuid.NewString(), "customer": customer(t, "strong"), "amount": "6000"}, &e); code != http.StatusUnauthorized || e.Error.Code != "unauthorized" {
		t.Fatalf("apply without a token: %d %+v, want 401 unauthorized", code, e)
	}
	resp, err := http.Get(s.http.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /healthz without a token: %d, want 200", resp.StatusCode)
	}

	// The customer applies for itself, and goes on to sign its plan.
	if code := strong.call("POST", "/v1/applications", "", map[string]any{"request_id": "other-" + uuid.NewString(), "customer": customer(t, "average"), "amount": "6000"}, &e); code != http.StatusForbidden || e.Error.Code != "forbidden" {
		t.Fatalf("the strong customer applying for the average one: %d %+v, want 403 forbidden", code, e)
	}
	id := strong.applyOffered("strong")
	strong.activate(id)
	if st := strong.planStatus(id); st.State != plan.StateActive || st.CustomerID != plan.CustomerIDFromRef(strongRef).String() {
		t.Fatalf("the customer's own plan: %s of customer %s; want active, the customer's", st.State, st.CustomerID)
	}
	base := "/v1/plans/" + id

	// Another customer: 403, the same as for a plan that does not exist
	// (operators get 404 for that).
	missing := uuid.NewString()
	for _, tt := range []struct {
		name string
		s    *system
		path string
		body any
	}{
		{"another customer's status", average, base, nil},
		{"another customer's contacts", average, base + "/contacts", nil},
		{"a change to another customer's plan", average, base + "/cancel", map[string]any{"request_id": "x-c", "mode": "lump-sum"}},
		{"a plan that does not exist", strong, "/v1/plans/" + missing, nil},
		{"a waiver", strong, base + "/waive", map[string]any{"request_id": "x-w", "component": "interest", "amount": "20.00", "reason": "goodwill"}},
		{"a payment", strong, base + "/payments", map[string]any{"payment_id": "x-p", "amount": "6000.00"}},
		{"a grace", strong, base + "/grace", map[string]any{"request_id": "x-g", "until": "2099-01-01", "reason": "x"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			method := "GET"
			if tt.body != nil {
				method = "POST"
			}
			var e errorBody
			if code := tt.s.call(method, tt.path, "", tt.body, &e); code != http.StatusForbidden || e.Error.Code != "forbidden" {
				t.Fatalf("%d %+v, want 403 forbidden", code, e)
			}
		})
	}
	if code := s.call("GET", "/v1/plans/"+missing, "", nil, &e); code != http.StatusNotFound {
		t.Errorf("an operator asking for a plan that does not exist: %d, want 404", code)
	}

	// The customer complains; operator bob resolves it and waives some
	// interest without naming himself, and may not act as alice.
	var reply plan.Reply
	if code := strong.call("POST", base+"/complaints", "cp-1", map[string]any{"text": "I was called three times today"}, &reply); code != http.StatusOK || !reply.Accepted {
		t.Fatalf("the customer's complaint: %d %+v", code, reply)
	}
	if code := strong.call("POST", base+"/complaints/cp-1/resolve", "", map[string]any{"request_id": "rs-c", "resolution": "done"}, &e); code != http.StatusForbidden {
		t.Errorf("the customer resolving its complaint: %d, want 403", code)
	}
	if code := bob.call("POST", base+"/complaints/cp-1/resolve", "", map[string]any{"request_id": "rs-a", "resolution": "done", "operator": "alice"}, &e); code != http.StatusForbidden {
		t.Errorf("bob resolving as alice: %d, want 403", code)
	}
	if code := bob.call("POST", base+"/complaints/cp-1/resolve", "", map[string]any{"request_id": "rs-1", "resolution": "one call a day at most"}, &reply); code != http.StatusOK || !reply.Accepted {
		t.Fatalf("bob resolving: %d %+v, want 200", code, reply)
	}
	wq, _ := bob.mustQuote(base+"/waive", "w-q", map[string]any{"component": "interest", "amount": "20.00", "reason": "goodwill"})
	bob.mustConfirm(base+"/waive", "w-c", map[string]any{"quote_id": wq.Quote.ID, "reason": "goodwill"})
	s.wantRows(id, []rowCheck{
		{"complaint resolved", `SELECT count(*) FROM complaints WHERE plan_id = $1 AND request_id = 'cp-1' AND status = 'resolved'`, 1},
		{"waiver by bob", `SELECT count(*) FROM (SELECT sum(amount) s FROM waivers WHERE plan_id = $1 AND operator = 'bob') w WHERE s = 20.00`, 1},
		{"nothing forbidden recorded", `SELECT count(*) FROM requests WHERE plan_id = $1 AND request_id IN ('x-c', 'x-w', 'x-p', 'x-g', 'rs-c', 'rs-a')`, 0},
		{"no payment", `SELECT count(*) FROM payments WHERE plan_id = $1`, 0},
	})
}
