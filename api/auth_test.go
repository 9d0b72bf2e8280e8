package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/fenqi/fenqi/api"
	"github.com/fenqi/fenqi/frontdoor"
	"github.com/fenqi/fenqi/plan"
)

// The tokens of the tests: two operators and the customers of
// examples/customers/strong.json and average.json.
const (
	aliceToken   = "alice-token-0123456789"
	bobToken     = "bob-token-0123456789ab"
	strongToken  = "strong-customer-0123456789"
	averageToken = "average-customer-0123456789"
	strongRef    = "demo-strong-001"
	averageRef   = "demo-average-002"
)

// testTokens are the tokens the tests' servers accept.
func testTokens(t testing.TB) *api.Tokens {
	t.Helper()
	tokens, err := api.NewTokens("alice:"+aliceToken+", bob:"+bobToken, strongRef+":"+strongToken+","+averageRef+":"+averageToken)
	if err != nil {
		t.Fatal(err)
	}
	return tokens
}

// newServer is the API over door, accepting the test tokens.
func newServer(t testing.TB, door api.Door) *api.Server {
	return api.New(door, nil, api.WithTokens(testTokens(t)))
}

func bearer(token string) string { return "Bearer " + token }

// serve sends a request to h with the Authorization header auth (none
// when empty); body is a string as is, anything else as JSON.
func serve(t testing.TB, h http.Handler, method, path, auth, idemKey string, body any) *httptest.ResponseRecorder {
	t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		r = strings.NewReader(string(j))
	}
	req := httptest.NewRequest(method, path, r)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if idemKey != "" {
		req.Header.Set("Idempotency-Key", idemKey)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// ownerDoor is a fake front door whose plans belong to customers: plan id
// -> customer ref. It records the applications it is sent and counts the
// status queries.
type ownerDoor struct {
	*fakeDoor
	owners   map[string]string
	applied  []plan.Application
	statuses int
}

func (d *ownerDoor) Status(_ context.Context, id string) (plan.Status, error) {
	d.statuses++
	ref, ok := d.owners[id]
	if !ok {
		return plan.Status{}, fmt.Errorf("status plan %s: %w", id, frontdoor.ErrNotFound)
	}
	return plan.Status{PlanID: id, State: plan.StateActive, CustomerID: plan.CustomerIDFromRef(ref).String()}, nil
}

func (d *ownerDoor) Apply(_ context.Context, app plan.Application) (frontdoor.Applied, error) {
	d.applied = append(d.applied, app)
	return frontdoor.Applied{PlanID: uuid.NewString(), State: plan.StateOffered}, nil
}

// routeCase is a good request to one route of a plan.
type routeCase struct {
	method, path, body string
	// operator: the route is an operator's.
	operator bool
	// door is the front door's method the request reaches (empty for the
	// reads).
	door string
}

func (c routeCase) String() string { return c.method + " " + c.path }

// planRoutes is a good request to every route of plan id.
func planRoutes(id string) []routeCase {
	base := "/v1/plans/" + id
	hash := strings.Repeat("a", 64)
	return []routeCase{
		{"GET", base, "", false, ""},
		{"GET", base + "/agreement", "", false, ""},
		{"GET", base + "/contacts", "", false, ""},
		{"GET", base + "/collection", "", false, ""},
		{"POST", base + "/choose", `{"offer_set": 1, "offer": 1}`, false, "Choose"},
		{"POST", base + "/counter-offer", `{"terms": 24}`, false, "CounterOffer"},
		{"POST", base + "/sign", `{"document_hash": "` + hash + `", "name": "张三", "consent": true}`, false, "Sign"},
		{"POST", base + "/withdraw", `{"reason": "changed my mind"}`, false, "Withdraw"},
		{"POST", base + "/cancel", `{"mode": "lump-sum"}`, false, "Cancel"},
		{"POST", base + "/restructure", `{"terms": 18}`, false, "Restructure"},
		{"POST", base + "/holiday", `{"periods": 2}`, false, "Holiday"},
		{"POST", base + "/prepay", `{}`, false, "Prepay"},
		{"POST", base + "/complaints", `{"text": "I was called three times today"}`, false, "Complain"},
		{"POST", base + "/promises", `{"date": "2026-12-05", "amount": "100.00"}`, false, "Promise"},
		{"POST", base + "/arrears-plan", `{"instalments": 3}`, false, "ArrearsPlan"},
		{"POST", base + "/review-decision", `{"approve": true}`, true, "Decide"},
		{"POST", base + "/payments", `{"amount": "10.00"}`, true, "Pay"},
		{"POST", base + "/waive", `{"component": "fee", "amount": "5.00", "reason": "goodwill"}`, true, "Waive"},
		{"POST", base + "/approvals", `{"quote_id": "q-1", "approve": true}`, true, "Approve"},
		{"POST", base + "/complaints/cp-1/resolve", `{"resolution": "one call a day"}`, true, "Resolve"},
		{"POST", base + "/referral", `{"decision": "refer", "reason": "no contact"}`, true, "Refer"},
		{"POST", base + "/write-off", `{"decision": "approve", "reason": "uncollectable"}`, true, "WriteOff"},
		{"POST", base + "/grace", `{"until": "2026-12-20", "reason": "hospitalised"}`, true, "ExtendGrace"},
	}
}

// sendRoute sends c with token and returns the recorder.
func sendRoute(t *testing.T, h http.Handler, c routeCase, auth string) *httptest.ResponseRecorder {
	t.Helper()
	var body any
	if c.body != "" {
		body = c.body
	}
	return serve(t, h, c.method, c.path, auth, "k-1", body)
}

// wantError checks rec is the API's error shape with status and code, and
// returns its message.
func wantError(t *testing.T, rec *httptest.ResponseRecorder, status int, code string) string {
	t.Helper()
	var e errorBody
	if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil {
		t.Fatalf("status %d, body %q is not JSON: %v", rec.Code, rec.Body, err)
	}
	if rec.Code != status || e.Error.Code != code || e.Error.Message == "" {
		t.Fatalf("status %d code %q message %q; want %d %q with a message", rec.Code, e.Error.Code, e.Error.Message, status, code)
	}
	return e.Error.Message
}

func newOwnerDoor(owners map[string]string) *ownerDoor {
	return &ownerDoor{fakeDoor: &fakeDoor{reply: plan.Reply{Accepted: true, State: plan.StateActive}}, owners: owners}
}

// TestUnauthenticated: every route but /healthz answers 401 with a
// WWW-Authenticate: Bearer header when the request has no valid bearer
// token, before anything reaches the plan.
func TestUnauthenticated(t *testing.T) {
	id := uuid.NewString()
	cases := append(planRoutes(id),
		routeCase{"POST", "/v1/applications", `{"request_id": "a-1", "customer": {"ref": "` + strongRef + `"}, "amount": "1000"}`, false, ""},
		routeCase{"GET", "/v1/plans/" + uuid.NewString(), "", false, ""},
		routeCase{"GET", "/v1/plans/not-a-plan", "", false, ""},
		routeCase{"DELETE", "/v1/plans/" + id, "", false, ""},
		routeCase{"GET", "/nowhere", "", false, ""},
	)
	for _, auth := range []struct {
		name   string
		header string
		tokens bool
	}{
		{"no Authorization header", "", true},
		{"unknown token", bearer("not-a-token-0123456789"), true},
		{"a valid token but one character", bearer(aliceToken[:len(aliceToken)-1]), true},
		{"a valid token with one character more", bearer(aliceToken + "x"), true},
		{"Bearer without a token", "Bearer ", true},
		{"a token without the scheme", aliceToken, true},
		{"Basic scheme", "Basic " + aliceToken, true},
		{"a valid token, but the server has none configured", bearer(aliceToken), false},
	} {
		t.Run(auth.name, func(t *testing.T) {
			for _, c := range cases {
				t.Run(c.String(), func(t *testing.T) {
					door := newOwnerDoor(map[string]string{id: strongRef})
					srv := api.New(door, nil)
					if auth.tokens {
						srv = newServer(t, door)
					}
					rec := sendRoute(t, srv, c, auth.header)
					wantError(t, rec, http.StatusUnauthorized, "unauthorized")
					if h := rec.Header().Get("WWW-Authenticate"); !strings.HasPrefix(h, "Bearer") {
						t.Errorf("WWW-Authenticate %q, want Bearer", h)
					}
					if strings.Contains(rec.Body.String(), aliceToken[:8]) {
						t.Errorf("the answer %s repeats the token", rec.Body)
					}
					if len(door.calls) != 0 || len(door.applied) != 0 || door.statuses != 0 {
						t.Errorf("an unauthenticated request reached the plan: calls %+v, applied %d, statuses %d", door.calls, len(door.applied), door.statuses)
					}
				})
			}
		})
	}
	t.Run("health needs no token", func(t *testing.T) {
		for _, srv := range []*api.Server{newServer(t, &fakeDoor{}), api.New(&fakeDoor{}, nil), api.New(&fakeDoor{}, nil, api.WithoutAuth())} {
			if rec := serve(t, srv, "GET", "/healthz", "", "", nil); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "ok") {
				t.Errorf("GET /healthz: %d %s, want 200 ok", rec.Code, rec.Body)
			}
		}
	})
}

// TestOperatorToken: an operator token may do everything: every route of
// an existing plan reaches the plan; a plan that does not exist is 404.
func TestOperatorToken(t *testing.T) {
	id := uuid.NewString()
	for _, c := range planRoutes(id) {
		t.Run(c.String(), func(t *testing.T) {
			for _, auth := range []string{bearer(aliceToken), "bearer " + bobToken, "  Bearer   " + aliceToken + "  "} {
				door := newOwnerDoor(map[string]string{id: strongRef})
				rec := sendRoute(t, newServer(t, door), c, auth)
				if rec.Code != http.StatusOK {
					t.Fatalf("with %q: %d %s, want 200", auth[:8], rec.Code, rec.Body)
				}
				if c.door != "" && (len(door.calls) != 1 || door.calls[0].method != c.door || door.calls[0].planID != id) {
					t.Fatalf("calls %+v, want one %s to %s", door.calls, c.door, id)
				}
			}
		})
	}
	t.Run("apply for any customer", func(t *testing.T) {
		door := newOwnerDoor(nil)
		for _, ref := range []string{strongRef, averageRef, "someone-else"} {
			rec := serve(t, newServer(t, door), "POST", "/v1/applications", bearer(aliceToken), "", map[string]any{"request_id": "a-" + ref, "customer": map[string]any{"ref": ref}, "amount": "1000"})
			if rec.Code != http.StatusCreated {
				t.Fatalf("apply for %s: %d %s, want 201", ref, rec.Code, rec.Body)
			}
		}
		if len(door.applied) != 3 {
			t.Errorf("%d applications reached the front door, want 3", len(door.applied))
		}
	})
	t.Run("unknown plan", func(t *testing.T) {
		rec := serve(t, newServer(t, newOwnerDoor(nil)), "GET", "/v1/plans/"+uuid.NewString(), bearer(aliceToken), "", nil)
		wantError(t, rec, http.StatusNotFound, "not_found")
	})
}

// TestCustomerToken: a customer token acts on its own plans only, never
// on an operator's action, and applies only for itself; another
// customer's plan and a plan that does not exist are the same 403.
func TestCustomerToken(t *testing.T) {
	own, other, missing := uuid.NewString(), uuid.NewString(), uuid.NewString()
	owners := map[string]string{own: strongRef, other: averageRef}
	otherRoutes, missingRoutes := planRoutes(other), planRoutes(missing)
	for i, c := range planRoutes(own) {
		t.Run(c.String(), func(t *testing.T) {
			door := newOwnerDoor(owners)
			srv := newServer(t, door)
			rec := sendRoute(t, srv, c, bearer(strongToken))
			switch {
			case c.operator:
				if msg := wantError(t, rec, http.StatusForbidden, "forbidden"); !strings.Contains(msg, "operator") {
					t.Errorf("message %q does not say the action is an operator's", msg)
				}
				if len(door.calls) != 0 {
					t.Errorf("a customer's operator action reached the plan: %+v", door.calls)
				}
			case rec.Code != http.StatusOK:
				t.Fatalf("own plan: %d %s, want 200", rec.Code, rec.Body)
			case c.door != "" && (len(door.calls) != 1 || door.calls[0].method != c.door || door.calls[0].planID != own):
				t.Fatalf("own plan: calls %+v, want one %s to %s", door.calls, c.door, own)
			}

			// Another customer's plan, and one that does not exist:
			// the same 403, nothing sent.
			door.calls = nil
			otherMsg := wantError(t, sendRoute(t, srv, otherRoutes[i], bearer(strongToken)), http.StatusForbidden, "forbidden")
			missingMsg := wantError(t, sendRoute(t, srv, missingRoutes[i], bearer(strongToken)), http.StatusForbidden, "forbidden")
			if c.operator {
				return
			}
			if strings.ReplaceAll(otherMsg, other, "ID") != strings.ReplaceAll(missingMsg, missing, "ID") {
				t.Errorf("another customer's plan: %q; a plan that does not exist: %q; want the same answer", otherMsg, missingMsg)
			}
			if len(door.calls) != 0 {
				t.Errorf("a request to another customer's plan reached it: %+v", door.calls)
			}
			// The other customer may.
			if rec := sendRoute(t, srv, otherRoutes[i], bearer(averageToken)); rec.Code != http.StatusOK {
				t.Errorf("the plan's own customer: %d %s, want 200", rec.Code, rec.Body)
			}
		})
	}

	t.Run("malformed plan id", func(t *testing.T) {
		rec := serve(t, newServer(t, newOwnerDoor(owners)), "POST", "/v1/plans/not-a-plan/cancel", bearer(strongToken), "k", `{"mode": "lump-sum"}`)
		wantError(t, rec, http.StatusBadRequest, "invalid")
	})

	t.Run("the plan's customer is looked up once", func(t *testing.T) {
		door := newOwnerDoor(owners)
		srv := newServer(t, door)
		for i := range 3 {
			if rec := serve(t, srv, "POST", "/v1/plans/"+own+"/complaints", bearer(strongToken), fmt.Sprint("cp-", i), `{"text": "again"}`); rec.Code != http.StatusOK {
				t.Fatalf("complaint %d: %d %s", i, rec.Code, rec.Body)
			}
		}
		if door.statuses != 1 {
			t.Errorf("%d status queries for 3 requests, want 1", door.statuses)
		}
	})

	t.Run("applications", func(t *testing.T) {
		for _, tt := range []struct {
			name   string
			token  string
			ref    string
			status int
			origin map[string]any
		}{
			{"for itself", strongToken, strongRef, http.StatusCreated, nil},
			{"through its own channel", strongToken, strongRef, http.StatusCreated, map[string]any{"kind": "own"}},
			{"naming a partner", strongToken, strongRef, http.StatusForbidden, map[string]any{"kind": "partner", "partner": "shop-a", "partner_fee_rate": "0.5"}},
			{"with a partner fee", strongToken, strongRef, http.StatusForbidden, map[string]any{"partner_fee_rate": "0.01"}},
			{"the other customer for itself", averageToken, averageRef, http.StatusCreated, nil},
			{"for another customer", strongToken, averageRef, http.StatusForbidden, nil},
			{"for a customer without a token", strongToken, "someone-else", http.StatusForbidden, nil},
			{"without a ref", strongToken, "", http.StatusForbidden, nil},
			{"for a ref that differs in case", strongToken, strings.ToUpper(strongRef), http.StatusForbidden, nil},
		} {
			t.Run(tt.name, func(t *testing.T) {
				door := newOwnerDoor(nil)
				app := map[string]any{"request_id": "a-1", "customer": map[string]any{"ref": tt.ref}, "amount": "1000"}
				if tt.origin != nil {
					app["origin"] = tt.origin
				}
				rec := serve(t, newServer(t, door), "POST", "/v1/applications", bearer(tt.token), "", app)
				if tt.status == http.StatusForbidden {
					wantError(t, rec, http.StatusForbidden, "forbidden")
					if len(door.applied) != 0 {
						t.Errorf("a forbidden application reached the front door")
					}
					return
				}
				if rec.Code != tt.status || len(door.applied) != 1 || door.applied[0].Customer.Ref != tt.ref {
					t.Fatalf("%d %s, applied %+v; want %d and the application sent", rec.Code, rec.Body, door.applied, tt.status)
				}
			})
		}
	})
}

// operatorOf is the operator an operator's request names.
func operatorOf(r plan.Request) string {
	switch p := r.(type) {
	case plan.ReviewDecision:
		return p.Operator
	case plan.WaiveRequest:
		return p.Operator
	case plan.ApprovalDecision:
		return p.Operator
	case plan.ResolveRequest:
		return p.Operator
	case plan.ReferralRequest:
		return p.Operator
	case plan.WriteOffRequest:
		return p.Operator
	case plan.GraceRequest:
		return p.Operator
	}
	return "(none)"
}

// TestOperatorName: an operator's action without an operator in the body
// is recorded under the token's operator; naming the token's operator is
// fine; naming another is 403. Without access control the body's operator
// stands, and is required as before.
func TestOperatorName(t *testing.T) {
	id := uuid.NewString()
	for _, c := range planRoutes(id) {
		if !c.operator || c.door == "Pay" {
			continue
		}
		withOperator := func(name string) string {
			var body map[string]any
			if err := json.Unmarshal([]byte(c.body), &body); err != nil {
				t.Fatal(err)
			}
			body["operator"] = name
			b, _ := json.Marshal(body)
			return string(b)
		}
		t.Run(c.path[strings.LastIndex(c.path, "/")+1:], func(t *testing.T) {
			for _, tt := range []struct {
				name   string
				token  string
				body   string
				status int
				want   string
			}{
				{"alice, none named", aliceToken, c.body, http.StatusOK, "alice"},
				{"bob, none named", bobToken, c.body, http.StatusOK, "bob"},
				{"alice naming herself", aliceToken, withOperator("alice"), http.StatusOK, "alice"},
				{"alice naming bob", aliceToken, withOperator("bob"), http.StatusForbidden, ""},
				{"bob naming alice", bobToken, withOperator("alice"), http.StatusForbidden, ""},
				{"alice naming herself in capitals", aliceToken, withOperator("ALICE"), http.StatusForbidden, ""},
			} {
				t.Run(tt.name, func(t *testing.T) {
					door := newOwnerDoor(map[string]string{id: strongRef})
					rec := sendRoute(t, newServer(t, door), routeCase{c.method, c.path, tt.body, true, c.door}, bearer(tt.token))
					if tt.status == http.StatusForbidden {
						if msg := wantError(t, rec, http.StatusForbidden, "forbidden"); !strings.Contains(msg, "operator") {
							t.Errorf("message %q does not name the operator", msg)
						}
						if len(door.calls) != 0 {
							t.Errorf("an action as another operator reached the plan: %+v", door.calls)
						}
						return
					}
					if rec.Code != tt.status || len(door.calls) != 1 || operatorOf(door.calls[0].req) != tt.want {
						t.Fatalf("%d %s, calls %+v; want %d and operator %q sent", rec.Code, rec.Body, door.calls, tt.status, tt.want)
					}
				})
			}
			t.Run("without access control", func(t *testing.T) {
				door := newOwnerDoor(nil)
				srv := api.New(door, nil, api.WithoutAuth())
				rec := sendRoute(t, srv, routeCase{c.method, c.path, withOperator("carol"), true, c.door}, "")
				if rec.Code != http.StatusOK || len(door.calls) != 1 || operatorOf(door.calls[0].req) != "carol" {
					t.Fatalf("naming carol: %d %s, calls %+v; want 200 and carol sent", rec.Code, rec.Body, door.calls)
				}
				if c.door == "Decide" { // a review decision may leave the operator out
					return
				}
				door.calls = nil
				if msg := wantError(t, sendRoute(t, srv, c, ""), http.StatusBadRequest, "invalid"); !strings.Contains(msg, "operator") {
					t.Errorf("naming no operator: %q, want it to name the operator field", msg)
				}
				if len(door.calls) != 0 {
					t.Errorf("an action without an operator reached the plan: %+v", door.calls)
				}
			})
		})
	}
}

// TestNewTokens parses the token lists: entries with spaces around them,
// names and refs that hold colons; errors name the variable and the entry
// and never repeat the token.
func TestNewTokens(t *testing.T) {
	tokens, err := api.NewTokens(" alice:"+aliceToken+" ,bob : "+bobToken, "urn:bank:42:"+strongToken)
	if err != nil {
		t.Fatal(err)
	}
	if tokens.Len() != 3 || tokens.Operators() != 2 || tokens.Customers() != 1 {
		t.Fatalf("%d tokens, %d operators, %d customers; want 3, 2, 1", tokens.Len(), tokens.Operators(), tokens.Customers())
	}
	for _, tt := range []struct {
		token string
		want  api.Caller
	}{
		{aliceToken, api.Caller{Role: api.RoleOperator, Operator: "alice"}},
		{bobToken, api.Caller{Role: api.RoleOperator, Operator: "bob"}},
		{strongToken, api.Caller{Role: api.RoleCustomer, CustomerRef: "urn:bank:42", CustomerID: plan.CustomerIDFromRef("urn:bank:42")}},
	} {
		if got, ok := tokens.Lookup(tt.token); !ok || got != tt.want {
			t.Errorf("token of %+v: %+v %v", tt.want, got, ok)
		}
	}
	for _, bad := range []string{"", " ", aliceToken[:len(aliceToken)-1], aliceToken + " ", "alice:" + aliceToken, "Bearer " + aliceToken} {
		if c, ok := tokens.Lookup(bad); ok {
			t.Errorf("%q: found %+v, want nothing", bad, c)
		}
	}
	for _, blank := range []string{"", "  ", "\t"} {
		if tokens, err := api.NewTokens(blank, blank); err != nil || tokens.Len() != 0 {
			t.Errorf("blank lists %q: %d tokens, %v; want none and no error", blank, tokens.Len(), err)
		}
	}

	const secret = "s3cret-token-0123456789"
	for _, tt := range []struct {
		name      string
		operators string
		customers string
		says      []string
	}{
		{"empty token", "alice:" + aliceToken + ",bob:", "", []string{"FENQI_OPERATOR_TOKENS entry 2", "token is empty"}},
		{"empty token with spaces", "alice:  ", "", []string{"FENQI_OPERATOR_TOKENS entry 1", "token is empty"}},
		{"no colon", "alice:" + aliceToken + "," + secret, "", []string{"FENQI_OPERATOR_TOKENS entry 2", "name:token"}},
		{"customer entry without a colon", "", secret, []string{"FENQI_CUSTOMER_TOKENS entry 1", "ref:token"}},
		{"empty entry", "alice:" + aliceToken + ",,bob:" + bobToken, "", []string{"FENQI_OPERATOR_TOKENS entry 2"}},
		{"trailing comma", "alice:" + aliceToken + ",", "", []string{"FENQI_OPERATOR_TOKENS entry 2"}},
		{"empty operator name", ":" + secret, "", []string{"FENQI_OPERATOR_TOKENS entry 1", "operator name is empty"}},
		{"empty customer ref", "", strongRef + ":" + strongToken + ", :" + secret, []string{"FENQI_CUSTOMER_TOKENS entry 2", "customer ref is empty"}},
		{"duplicate token", "alice:" + secret + ",bob:" + secret, "", []string{"FENQI_OPERATOR_TOKENS entry 2", "FENQI_OPERATOR_TOKENS entry 1", "same token"}},
		{"an operator's token given to a customer", "alice:" + aliceToken + ",bob:" + secret, strongRef + ":" + secret, []string{"FENQI_CUSTOMER_TOKENS entry 1", "FENQI_OPERATOR_TOKENS entry 2", "same token"}},
		{"token too short", "alice:short-" + "tok", "", []string{"FENQI_OPERATOR_TOKENS entry 1", "shorter than 16"}},
		{"token with a space", "alice:" + "s3cret token-0123456789", "", []string{"FENQI_OPERATOR_TOKENS entry 1", "characters"}},
		{"token with a quote", "", strongRef + `:s3cret"token-0123456789`, []string{"FENQI_CUSTOMER_TOKENS entry 1", "characters"}},
		{"token of padding only", "alice:" + strings.Repeat("=", 20), "", []string{"FENQI_OPERATOR_TOKENS entry 1", "characters"}},
		{"name too long", strings.Repeat("n", 201) + ":" + secret, "", []string{"FENQI_OPERATOR_TOKENS entry 1", "longer than 200"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tokens, err := api.NewTokens(tt.operators, tt.customers)
			if err == nil {
				t.Fatalf("%d tokens, no error; want an error", tokens.Len())
			}
			for _, s := range tt.says {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not say %q", err, s)
				}
			}
			for _, tok := range []string{secret, "s3cret", aliceToken, bobToken, strongToken, "short-tok"} {
				if strings.Contains(err.Error(), tok) {
					t.Errorf("error %q repeats a token", err)
				}
			}
		})
	}
}
