package api_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/fenqi/fenqi/plan"
)

// webDoor is an ownerDoor that lists a customer's plans, as the front
// door does from the database.
type webDoor struct{ *ownerDoor }

func (d webDoor) CustomerPlans(_ context.Context, customer uuid.UUID) ([]string, error) {
	var ids []string
	for id, ref := range d.owners {
		if plan.CustomerIDFromRef(ref) == customer {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

var loginCSRF = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// webLogin signs in to the web page with token and returns the session
// cookie, nil when the sign-in is refused (with the answer's status).
func webLogin(t *testing.T, h http.Handler, token string) (*http.Cookie, int) {
	t.Helper()
	rec := serve(t, h, "GET", "/app/login", "", "", nil)
	if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
		t.Fatalf("GET /app/login without a bearer token: %d %s", rec.Code, rec.Header().Get("Content-Type"))
	}
	m := loginCSRF.FindStringSubmatch(rec.Body.String())
	if m == nil {
		t.Fatal("no CSRF value in the sign-in form")
	}
	var nonce *http.Cookie
	for _, c := range rec.Result().Cookies() {
		if c.Name == "fenqi_login" {
			nonce = c
		}
	}
	form := url.Values{"csrf": {m[1]}, "token": {token}}
	req := httptest.NewRequest("POST", "/app/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(nonce)
	out := httptest.NewRecorder()
	h.ServeHTTP(out, req)
	for _, c := range out.Result().Cookies() {
		if c.Name == "fenqi_session" && c.Value != "" {
			return c, out.Code
		}
	}
	return nil, out.Code
}

func webGet(h http.Handler, path string, session *http.Cookie) *httptest.ResponseRecorder {
	req := httptest.NewRequest("GET", path, nil)
	if session != nil {
		req.AddCookie(session)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// TestWebPageMounted: the API serves the customer's web page under /app
// without a bearer token; a customer token signs in, and sees only its own
// plans; an operator token does not sign in; the JSON routes still need
// their bearer token.
func TestWebPageMounted(t *testing.T) {
	strongPlan, averagePlan := uuid.NewString(), uuid.NewString()
	door := webDoor{newOwnerDoor(map[string]string{strongPlan: strongRef, averagePlan: averageRef})}
	srv := newServer(t, door)

	if rec := webGet(srv, "/app", nil); rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/app/login" {
		t.Errorf("GET /app signed out: %d %q, want a redirect to the sign-in page", rec.Code, rec.Header().Get("Location"))
	}
	if c, code := webLogin(t, srv, aliceToken); c != nil || code != http.StatusUnauthorized {
		t.Errorf("an operator token signs in to the customer's page: %d", code)
	}
	session, code := webLogin(t, srv, strongToken)
	if session == nil || code != http.StatusSeeOther {
		t.Fatalf("a customer token does not sign in: %d", code)
	}
	if session.Value == "" || !session.HttpOnly || session.SameSite != http.SameSiteStrictMode {
		t.Errorf("session cookie %+v", session)
	}

	list := webGet(srv, "/app", session)
	if list.Code != http.StatusOK || !strings.Contains(list.Body.String(), strongPlan) || strings.Contains(list.Body.String(), averagePlan) {
		t.Errorf("the list: %d, want the customer's plan %s and not %s:\n%s", list.Code, strongPlan, averagePlan, list.Body)
	}
	if rec := webGet(srv, "/app/plans/"+strongPlan, session); rec.Code != http.StatusOK {
		t.Errorf("own plan: %d", rec.Code)
	}
	if rec := webGet(srv, "/app/plans/"+averagePlan, session); rec.Code != http.StatusForbidden || strings.Contains(rec.Body.String(), averageRef) {
		t.Errorf("another customer's plan: %d", rec.Code)
	}
	if rec := webGet(srv, "/app/nothing", session); rec.Code != http.StatusNotFound || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
		t.Errorf("an unknown page: %d %s", rec.Code, rec.Header().Get("Content-Type"))
	}

	// The session cookie is no bearer token for the JSON API.
	req := httptest.NewRequest("GET", "/v1/plans/"+strongPlan, nil)
	req.AddCookie(session)
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	wantError(t, rec, http.StatusUnauthorized, "unauthorized")
	if rec := serve(t, srv, "GET", "/v1/plans/"+strongPlan, bearer(strongToken), "", nil); rec.Code != http.StatusOK {
		t.Errorf("the JSON API with the bearer token: %d", rec.Code)
	}
}
