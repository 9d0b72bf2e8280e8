package web_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/fenqi/fenqi/calc"
	"github.com/fenqi/fenqi/frontdoor"
	"github.com/fenqi/fenqi/plan"
	"github.com/fenqi/fenqi/web"
)

// The customers of the tests and their tokens.
const (
	aliceToken = "alice-customer-token-0123"
	bobToken   = "bob-customer-token-456789"
)

var (
	aliceID = plan.CustomerIDFromRef("alice")
	bobID   = plan.CustomerIDFromRef("bob")
)

func newWeb(door *fakeDoor) *web.Handler {
	return web.New(door, auth, slog.New(slog.DiscardHandler))
}

// sameRefusal reports whether two refusal pages say the same, but for the
// path in the language switch.
func sameRefusal(a, b string) bool {
	strip := regexp.MustCompile(`href="/app/plans/[^"?]*\?lang`)
	return strip.ReplaceAllString(a, "") == strip.ReplaceAllString(b, "")
}

func auth(token string) (web.Customer, bool) {
	switch token {
	case aliceToken:
		return web.Customer{Ref: "alice", ID: aliceID}, true
	case bobToken:
		return web.Customer{Ref: "bob", ID: bobID}, true
	}
	return web.Customer{}, false
}

// fakeDoor is a front door over plans held in memory. It records the
// requests it is sent, answers each with reply (accepted by default) and
// keeps the answer among the plan's recent replies, as a plan does.
type fakeDoor struct {
	mu        sync.Mutex
	plans     map[string]*plan.Status
	coll      map[string]plan.CollectionStatus
	agreement plan.Agreement
	calls     []call
	// reply answers a request (nil: accepted).
	reply func(method string, r plan.Request) plan.Reply
	// err, when set, is every request's answer.
	err error
	// profiles are the customers' last applications, by ref;
	// applications those received.
	profiles     map[string]plan.Customer
	applications []plan.Application
}

type call struct {
	method, planID string
	req            plan.Request
}

func newFakeDoor() *fakeDoor {
	return &fakeDoor{plans: map[string]*plan.Status{}, coll: map[string]plan.CollectionStatus{}}
}

func (d *fakeDoor) add(st plan.Status) string {
	if st.PlanID == "" {
		st.PlanID = uuid.NewString()
	}
	d.plans[st.PlanID] = &st
	return st.PlanID
}

func (d *fakeDoor) Status(_ context.Context, id string) (plan.Status, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	st, ok := d.plans[id]
	if !ok {
		return plan.Status{}, fmt.Errorf("status plan %s: %w", id, frontdoor.ErrNotFound)
	}
	return *st, nil
}

func (d *fakeDoor) Agreement(context.Context, string) (plan.Agreement, error) {
	return d.agreement, nil
}

func (d *fakeDoor) Collection(_ context.Context, id string) (plan.CollectionStatus, error) {
	cs, ok := d.coll[id]
	if !ok {
		return plan.CollectionStatus{}, &frontdoor.RejectedError{Reason: "no collection"}
	}
	return cs, nil
}

func (d *fakeDoor) CustomerPlans(_ context.Context, customer uuid.UUID) ([]string, error) {
	var ids []string
	for id, st := range d.plans {
		if st.CustomerID == customer.String() {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

func (d *fakeDoor) send(method, id string, r plan.Request) (plan.Reply, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.calls = append(d.calls, call{method: method, planID: id, req: r})
	if d.err != nil {
		return plan.Reply{}, d.err
	}
	rp := plan.Reply{Accepted: true}
	if d.reply != nil {
		rp = d.reply(method, r)
	}
	rp.RequestID = r.ID()
	if st, ok := d.plans[id]; ok {
		st.RecentReplies = append(st.RecentReplies, rp)
	}
	return rp, nil
}

func (d *fakeDoor) Choose(_ context.Context, id string, r plan.ChooseRequest) (plan.Reply, error) {
	return d.send("Choose", id, r)
}
func (d *fakeDoor) Sign(_ context.Context, id string, r plan.SignRequest) (plan.Reply, error) {
	return d.send("Sign", id, r)
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
func (d *fakeDoor) Complain(_ context.Context, id string, r plan.ComplaintRequest) (plan.Reply, error) {
	return d.send("Complain", id, r)
}

func (d *fakeDoor) Apply(_ context.Context, app plan.Application) (frontdoor.Applied, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.err != nil {
		return frontdoor.Applied{}, d.err
	}
	if err := app.Validate(); err != nil {
		return frontdoor.Applied{}, err
	}
	d.applications = append(d.applications, app)
	id := plan.IDFromRequest(app.RequestID).String()
	if _, ok := d.plans[id]; !ok {
		d.plans[id] = &plan.Status{PlanID: id, State: plan.StateOffered, CustomerID: plan.CustomerIDFromRef(app.Customer.Ref).String()}
	}
	return frontdoor.Applied{PlanID: id, State: plan.StateOffered}, nil
}

func (d *fakeDoor) CustomerProfile(_ context.Context, ref string) (plan.Customer, error) {
	c, ok := d.profiles[ref]
	if !ok {
		return plan.Customer{}, fmt.Errorf("profile of %s: %w", ref, frontdoor.ErrNoProfile)
	}
	return c, nil
}

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func date(s string) calc.Date {
	d, err := calc.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

// activePlan is an active plan of customer: 5 of 12 instalments paid, the
// 6th overdue.
func activePlan(customer uuid.UUID) plan.Status {
	row := func(no int, due string, status plan.InstalmentStatus) plan.ScheduleRow {
		return plan.ScheduleRow{Row: calc.Row{No: no, DueDate: date(due), Principal: dec("900"), Interest: dec("118.81"),
			Fee: dec("10"), Payment: dec("1028.81")}, Status: status}
	}
	return plan.Status{
		PlanID: uuid.NewString(), State: plan.StateActive, CustomerID: customer.String(),
		PaidInstallments: 5, TotalInstallments: 12, PaidAmount: dec("5123.45"), TotalAmount: dec("12345.67"),
		NextDueDate: date("2026-09-04"), NextDueAmount: dec("1028.81"), BusinessDate: date("2026-08-12"),
		Schedule: []plan.ScheduleRow{
			row(5, "2026-07-04", plan.InstalmentPaid), row(6, "2026-08-04", plan.InstalmentOverdue), row(7, "2026-09-04", plan.InstalmentPending),
		},
	}
}

// client is a browser: it keeps cookies and does not follow redirects.
type client struct {
	t   *testing.T
	srv *httptest.Server
	c   *http.Client
}

func newClient(t *testing.T, h http.Handler) *client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &client{t: t, srv: srv, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

// page is a response read in full.
type page struct {
	status   int
	location string
	body     string
	header   http.Header
}

func (c *client) do(method, path string, form url.Values) page {
	c.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, c.srv.URL+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := c.c.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return page{status: res.StatusCode, location: res.Header.Get("Location"), body: string(b), header: res.Header}
}

func (c *client) get(path string) page { return c.do("GET", path, nil) }

func (c *client) post(path string, form url.Values) page { return c.do("POST", path, form) }

// login signs in with token through the sign-in form.
func (c *client) login(token string) page {
	c.t.Helper()
	p := c.get("/app/login")
	if p.status != http.StatusOK {
		c.t.Fatalf("GET /app/login: %d", p.status)
	}
	return c.post("/app/login", url.Values{"csrf": {field(c.t, p.body, "login-form", "csrf")}, "token": {token}})
}

// field is the value of the input name in the form with id formID.
func field(t *testing.T, body, formID, name string) string {
	t.Helper()
	i := strings.Index(body, `id="`+formID+`"`)
	if i < 0 {
		t.Fatalf("no form %s in the page:\n%s", formID, body)
	}
	start := strings.LastIndex(body[:i], "<form")
	end := strings.Index(body[i:], "</form>")
	m := regexp.MustCompile(`name="` + regexp.QuoteMeta(name) + `" value="([^"]*)"`).FindStringSubmatch(body[start : i+end])
	if m == nil {
		t.Fatalf("form %s has no field %s", formID, name)
	}
	return m[1]
}

func wantStatus(t *testing.T, what string, p page, status int) {
	t.Helper()
	if p.status != status {
		t.Fatalf("%s: status %d, want %d; body:\n%s", what, p.status, status, p.body)
	}
}

func wantIn(t *testing.T, what, body string, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if !strings.Contains(body, s) {
			t.Errorf("%s: the page lacks %q", what, s)
		}
	}
}

func TestLoginLogout(t *testing.T) {
	door := newFakeDoor()
	id := door.add(activePlan(aliceID))
	c := newClient(t, newWeb(door))

	p := c.get("/app/login")
	wantStatus(t, "login page", p, http.StatusOK)
	wantIn(t, "login page", p.body, `id="login-form"`, `name="token"`)

	if p := c.post("/app/login", url.Values{"token": {aliceToken}}); p.status != http.StatusForbidden {
		t.Errorf("sign-in without the form's CSRF value: %d, want 403", p.status)
	}
	bad := c.login("not-a-token-at-all-xx")
	wantStatus(t, "bad token", bad, http.StatusUnauthorized)
	wantIn(t, "bad token", bad.body, "访问令牌无效")
	if strings.Contains(bad.body, "not-a-token-at-all-xx") {
		t.Error("the page echoes the token")
	}

	ok := c.login(aliceToken)
	wantStatus(t, "sign-in", ok, http.StatusSeeOther)
	if ok.location != "/app" {
		t.Errorf("sign-in redirects to %q, want /app", ok.location)
	}
	var session *http.Cookie
	for _, ck := range (&http.Response{Header: ok.header}).Cookies() {
		if ck.Name == "fenqi_session" {
			session = ck
		}
	}
	if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteStrictMode || session.Secure {
		t.Fatalf("session cookie %+v: want HttpOnly, SameSite=Strict, not Secure over plain HTTP", session)
	}
	list := c.get("/app")
	wantStatus(t, "list", list, http.StatusOK)
	wantIn(t, "list", list.body, id)
	if strings.Contains(list.body, aliceToken) {
		t.Error("the page shows the token")
	}

	// Signing out needs the session's CSRF token.
	if p := c.post("/app/logout", url.Values{}); p.status != http.StatusForbidden {
		t.Errorf("sign-out without CSRF token: %d, want 403", p.status)
	}
	out := c.post("/app/logout", url.Values{"csrf": {field(t, list.body, "logout", "csrf")}})
	wantStatus(t, "sign-out", out, http.StatusSeeOther)
	if out.location != "/app/login" {
		t.Errorf("sign-out redirects to %q", out.location)
	}
	if p := c.get("/app"); p.status != http.StatusSeeOther || p.location != "/app/login" {
		t.Errorf("after sign-out GET /app: %d %q, want a redirect to /app/login", p.status, p.location)
	}
}

// TestSecureCookieOverTLS: the session cookie is Secure when the request
// came over TLS.
func TestSecureCookieOverTLS(t *testing.T) {
	h := newWeb(newFakeDoor())
	srv := httptest.NewTLSServer(h)
	defer srv.Close()
	cl := srv.Client()
	cl.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	res, err := cl.Get(srv.URL + "/app/login")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	var nonce *http.Cookie
	for _, ck := range res.Cookies() {
		if ck.Name == "fenqi_login" {
			nonce = ck
		}
	}
	if nonce == nil || !nonce.Secure {
		t.Fatalf("login cookie %+v: want Secure over TLS", nonce)
	}
	form := url.Values{"csrf": {field(t, string(b), "login-form", "csrf")}, "token": {aliceToken}}
	req, _ := http.NewRequest("POST", srv.URL+"/app/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(nonce)
	res, err = cl.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	for _, ck := range res.Cookies() {
		if ck.Name == "fenqi_session" {
			if !ck.Secure || !ck.HttpOnly {
				t.Errorf("session cookie over TLS %+v: want Secure and HttpOnly", ck)
			}
			return
		}
	}
	t.Fatalf("no session cookie (status %d)", res.StatusCode)
}

func TestSignedOutRedirectsToLogin(t *testing.T) {
	door := newFakeDoor()
	id := door.add(activePlan(aliceID))
	c := newClient(t, newWeb(door))
	for _, tt := range []struct{ method, path string }{
		{"GET", "/app"}, {"GET", "/app/plans/" + id}, {"GET", "/app/plans/" + id + "/agreement.txt"},
		{"POST", "/app/plans/" + id + "/cancel"},
	} {
		var form url.Values
		if tt.method == "POST" {
			form = url.Values{"mode": {"lump-sum"}}
		}
		p := c.do(tt.method, tt.path, form)
		if p.status != http.StatusSeeOther || p.location != "/app/login" {
			t.Errorf("%s %s signed out: %d %q, want 303 to /app/login", tt.method, tt.path, p.status, p.location)
		}
	}
	// A cookie with a token that is not valid is no better.
	u, _ := url.Parse(c.srv.URL + "/app")
	c.c.Jar.SetCookies(u, []*http.Cookie{{Name: "fenqi_session", Value: "forged-token-0123456789", Path: "/app"}})
	if p := c.get("/app"); p.status != http.StatusSeeOther || p.location != "/app/login" {
		t.Errorf("forged session: %d %q", p.status, p.location)
	}
	if len(door.calls) != 0 {
		t.Errorf("requests reached the door signed out: %+v", door.calls)
	}
}

// TestOtherCustomersPlan: a customer sees only their own plans: another
// customer's plan and one that does not exist get the same refusal.
func TestOtherCustomersPlan(t *testing.T) {
	door := newFakeDoor()
	mine := door.add(activePlan(aliceID))
	theirs := door.add(activePlan(bobID))
	c := newClient(t, newWeb(door))
	c.login(aliceToken)

	list := c.get("/app")
	wantIn(t, "list", list.body, mine)
	if strings.Contains(list.body, theirs) {
		t.Error("the list shows another customer's plan")
	}
	other := c.get("/app/plans/" + theirs)
	wantStatus(t, "another customer's plan", other, http.StatusForbidden)
	missing := c.get("/app/plans/" + uuid.NewString())
	wantStatus(t, "a plan that does not exist", missing, http.StatusForbidden)
	if !sameRefusal(other.body, missing.body) {
		t.Error("another customer's plan and a missing one are answered differently")
	}
	if p := c.get("/app/plans/" + theirs + "/agreement.txt"); p.status != http.StatusForbidden {
		t.Errorf("another customer's agreement: %d", p.status)
	}
	// A form for one's own plan posted to another's is refused before
	// anything is sent.
	mp := c.get("/app/plans/" + mine)
	form := url.Values{"csrf": {field(t, mp.body, "cancel-form", "csrf")}, "request_id": {"web-x1"}, "mode": {"lump-sum"}}
	if p := c.post("/app/plans/"+theirs+"/cancel", form); p.status != http.StatusForbidden {
		t.Errorf("cancel another customer's plan: %d", p.status)
	}
	if len(door.calls) != 0 {
		t.Errorf("a request about another customer's plan reached the door: %+v", door.calls)
	}
}

func TestListShowsProgress(t *testing.T) {
	door := newFakeDoor()
	id := door.add(activePlan(aliceID))
	c := newClient(t, newWeb(door))
	c.login(aliceToken)
	p := c.get("/app")
	wantStatus(t, "list", p, http.StatusOK)
	wantIn(t, "list", p.body,
		`data-plan-id="`+id+`"`, `data-paid-instalments="5"`, `data-total-instalments="12"`,
		`data-paid-amount="5123.45"`, `data-total-amount="12345.67"`, `data-percent="41"`,
		"已还 5/12 期", "已还 5,123.45 / 12,345.67", "下次还款 2026-09-04：1,028.81", "还款中")
}

func TestPlanPageScheduleAndOverdue(t *testing.T) {
	door := newFakeDoor()
	st := activePlan(aliceID)
	st.AgreementHash = strings.Repeat("ab", 32)
	id := door.add(st)
	door.agreement = plan.Agreement{PlanID: id, Version: 1, Text: "借款协议 <第一条>", SHA256: st.AgreementHash}
	door.coll[id] = plan.CollectionStatus{PlanID: id, State: plan.StateActive, DaysPastDue: 8, PayBy: date("2026-08-20"),
		Overdue:   calc.Amounts{Principal: dec("900"), Interest: dec("118.81"), Fee: dec("10"), Penalty: dec("3.21")},
		OwedTotal: dec("1032.02")}
	c := newClient(t, newWeb(door))
	c.login(aliceToken)
	p := c.get("/app/plans/" + id)
	wantStatus(t, "plan page", p, http.StatusOK)
	if n := strings.Count(p.body, `data-test="instalment"`); n != 3 {
		t.Errorf("the schedule shows %d rows, want 3", n)
	}
	wantIn(t, "plan page", p.body,
		`data-no="5" data-status="paid"`, `data-no="6" data-status="overdue"`, `data-no="7" data-status="pending"`,
		"逾期", "已还", "未到期", "1,028.81",
		`data-test="overdue-principal">900.00<`, `data-test="overdue-interest">118.81<`, `data-test="overdue-fee">10.00<`,
		`data-test="overdue-penalty">3.21<`, `data-test="overdue-total">1,032.02<`, "逾期 8 天", "2026-08-20",
		`data-paid-instalments="5"`, "借款协议 &lt;第一条&gt;", st.AgreementHash, "/app/plans/"+id+"/agreement.txt")

	a := c.get("/app/plans/" + id + "/agreement.txt")
	wantStatus(t, "agreement download", a, http.StatusOK)
	if a.body != door.agreement.Text || !strings.Contains(a.header.Get("Content-Disposition"), "attachment") {
		t.Errorf("agreement download: %q, %q", a.body, a.header.Get("Content-Disposition"))
	}

	// A plan with nothing overdue shows no overdue section.
	delete(door.coll, id)
	if p := c.get("/app/plans/" + id); strings.Contains(p.body, `id="overdue"`) {
		t.Error("an overdue section without anything overdue")
	}
}

// TestCancelQuoteThenConfirm: the cancel form asks for a quote with the
// request id the page made, the quote is shown with a form that confirms
// it, and the confirmation quotes the quote's id under a new request id.
// The same form posted twice sends the same request id.
func TestCancelQuoteThenConfirm(t *testing.T) {
	door := newFakeDoor()
	id := door.add(activePlan(aliceID))
	door.reply = func(method string, r plan.Request) plan.Reply {
		c := r.(plan.CancelRequest)
		q := &plan.Quote{ID: "q-1", Kind: plan.MsgCancel, RequestID: "quote-request", Eligible: true, Summary: "settle in one payment",
			DueNow: dec("7300.12"), Fee: dec("50"), Before: plan.Figures{Instalments: 7, Remaining: dec("7201.67")}}
		if c.QuoteID == "" {
			q.RequestID = c.RequestID
		}
		return plan.Reply{Accepted: true, State: plan.StateActive, Quote: q}
	}
	c := newClient(t, newWeb(door))
	c.login(aliceToken)
	pp := c.get("/app/plans/" + id)
	form := url.Values{
		"csrf": {field(t, pp.body, "cancel-form", "csrf")}, "request_id": {field(t, pp.body, "cancel-form", "request_id")},
		"mode": {"lump-sum"}, "terms": {""},
	}
	rid := form.Get("request_id")
	if !strings.HasPrefix(rid, "web-") {
		t.Fatalf("the form's request id %q is not the server's", rid)
	}
	res := c.post("/app/plans/"+id+"/cancel", form)
	wantStatus(t, "ask for the quote", res, http.StatusSeeOther)
	if want := "/app/plans/" + id + "/requests/" + rid; res.location != want {
		t.Fatalf("redirect to %q, want %q", res.location, want)
	}
	if len(door.calls) != 1 || door.calls[0].method != "Cancel" {
		t.Fatalf("calls %+v", door.calls)
	}
	if got := door.calls[0].req.(plan.CancelRequest); got != (plan.CancelRequest{RequestID: rid, Mode: plan.CancelLumpSum}) {
		t.Errorf("quote request %+v", got)
	}

	// Submitted twice, the form sends the same request (the plan answers
	// a repeat with its first answer).
	again := c.post("/app/plans/"+id+"/cancel", form)
	if again.location != res.location || door.calls[1].req.ID() != rid {
		t.Errorf("a double submit: redirect %q, request id %q", again.location, door.calls[1].req.ID())
	}

	qp := c.get(res.location)
	wantStatus(t, "quote page", qp, http.StatusOK)
	wantIn(t, "quote page", qp.body, `data-quote-id="q-1"`, "7,300.12", "50.00", "settle in one payment", "确认")
	if got := field(t, qp.body, "confirm-form", "quote_id"); got != "q-1" {
		t.Errorf("the confirmation quotes %q", got)
	}
	confirmID := field(t, qp.body, "confirm-form", "request_id")
	if confirmID == rid {
		t.Error("the confirmation reuses the quote's request id")
	}
	done := c.post("/app/plans/"+id+"/cancel", url.Values{
		"csrf": {field(t, qp.body, "confirm-form", "csrf")}, "request_id": {confirmID}, "quote_id": {"q-1"},
	})
	wantStatus(t, "confirm", done, http.StatusSeeOther)
	last := door.calls[len(door.calls)-1].req.(plan.CancelRequest)
	if last != (plan.CancelRequest{RequestID: confirmID, QuoteID: "q-1"}) {
		t.Errorf("confirmation %+v", last)
	}
	dp := c.get(done.location)
	wantIn(t, "confirmed", dp.body, `data-test="request-done"`, "已确认")
}

func TestFormsNeedCSRF(t *testing.T) {
	door := newFakeDoor()
	id := door.add(activePlan(aliceID))
	c := newClient(t, newWeb(door))
	c.login(aliceToken)
	pp := c.get("/app/plans/" + id)
	base := url.Values{"request_id": {"web-csrf-1"}, "mode": {"lump-sum"}}

	for name, token := range map[string]string{
		"none":              "",
		"another form's":    field(t, pp.body, "prepay-form", "csrf"),
		"made up":           "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"the logout form's": field(t, pp.body, "logout", "csrf"),
	} {
		form := url.Values{}
		for k, v := range base {
			form[k] = v
		}
		if token != "" {
			form.Set("csrf", token)
		}
		if p := c.post("/app/plans/"+id+"/cancel", form); p.status != http.StatusForbidden {
			t.Errorf("CSRF token %s: %d, want 403", name, p.status)
		}
	}
	// Another session's token for the same form is refused too.
	bobPlan := door.add(activePlan(bobID))
	cb := newClient(t, c.srv.Config.Handler)
	cb.login(bobToken)
	bp := cb.get("/app/plans/" + bobPlan)
	form := url.Values{"csrf": {field(t, bp.body, "cancel-form", "csrf")}, "request_id": {"web-csrf-2"}, "mode": {"lump-sum"}}
	if p := c.post("/app/plans/"+bobPlan+"/cancel", form); p.status != http.StatusForbidden {
		t.Errorf("another session's token: %d", p.status)
	}
	if len(door.calls) != 0 {
		t.Errorf("requests without a valid CSRF token reached the door: %+v", door.calls)
	}
	// With it, the same request goes through.
	ok := url.Values{"csrf": {field(t, pp.body, "cancel-form", "csrf")}, "request_id": {"web-csrf-3"}, "mode": {"lump-sum"}}
	if p := c.post("/app/plans/"+id+"/cancel", ok); p.status != http.StatusSeeOther {
		t.Errorf("with the CSRF token: %d", p.status)
	}
}

func TestLanguage(t *testing.T) {
	door := newFakeDoor()
	door.add(activePlan(aliceID))
	c := newClient(t, newWeb(door))
	c.login(aliceToken)
	zh := c.get("/app")
	wantIn(t, "default", zh.body, `lang="zh-CN"`, "我的分期", "已还 5/12 期", "退出")
	en := c.get("/app?lang=en")
	wantIn(t, "?lang=en", en.body, `lang="en"`, "My plans", "5/12 instalments paid", "5,123.45 of 12,345.67 paid", "Next due 2026-09-04: 1,028.81", "Sign out")
	if strings.Contains(en.body, "我的分期") {
		t.Error("the English page shows Chinese")
	}
	kept := c.get("/app")
	wantIn(t, "the cookie keeps English", kept.body, "My plans")
	back := c.get("/app?lang=zh")
	wantIn(t, "?lang=zh", back.body, "我的分期")
	if p := newClient(t, c.srv.Config.Handler).get("/app/login?lang=en"); !strings.Contains(p.body, "Access token") {
		t.Error("the sign-in page in English lacks its label")
	}
}

// TestErrorsInPlainWords: the front door's errors are shown in words,
// never as Go error text.
func TestErrorsInPlainWords(t *testing.T) {
	door := newFakeDoor()
	id := door.add(activePlan(aliceID))
	c := newClient(t, newWeb(door))
	c.login(aliceToken)
	post := func(form url.Values) page {
		pp := c.get("/app/plans/" + id)
		form.Set("csrf", field(t, pp.body, "cancel-form", "csrf"))
		form.Set("request_id", field(t, pp.body, "cancel-form", "request_id"))
		return c.post("/app/plans/"+id+"/cancel", form)
	}

	p := post(url.Values{"mode": {"fewer-terms"}, "terms": {"abc"}})
	wantStatus(t, "terms not a number", p, http.StatusBadRequest)
	wantIn(t, "terms not a number", p.body, "请检查输入", "新期数")

	p = post(url.Values{"mode": {"fewer-terms"}, "terms": {"0"}})
	wantStatus(t, "no terms", p, http.StatusBadRequest)
	wantIn(t, "no terms", p.body, "请检查输入")

	door.err = &frontdoor.RejectedError{Reason: "the plan is closed; cancel is not possible any more"}
	p = post(url.Values{"mode": {"lump-sum"}})
	wantStatus(t, "rejected", p, http.StatusConflict)
	wantIn(t, "rejected", p.body, "目前无法办理", "cancel is not possible any more", `data-test="schedule"`)

	door.err = errors.New("update workflow plan-x: dial tcp 10.1.2.3:7233: connection refused")
	p = post(url.Values{"mode": {"lump-sum"}})
	wantStatus(t, "internal", p, http.StatusInternalServerError)
	wantIn(t, "internal", p.body, "系统出错")
	if strings.Contains(p.body, "dial tcp") || strings.Contains(p.body, "plan-x") {
		t.Error("the page shows the Go error")
	}

	// A refused quote shows the plan's reason.
	door.err = nil
	door.reply = func(_ string, r plan.Request) plan.Reply {
		return plan.Reply{Accepted: false, Reason: "not eligible: arrears", Quote: &plan.Quote{ID: "q-9", Kind: plan.MsgCancel, RequestID: r.ID(), Refusal: "not eligible: arrears"}}
	}
	p = post(url.Values{"mode": {"lump-sum"}})
	q := c.get(p.location)
	wantIn(t, "refused quote", q.body, "无法办理：not eligible: arrears")
	if strings.Contains(q.body, `id="confirm-form"`) {
		t.Error("a refused quote offers to confirm")
	}
}

// TestChooseAndSign: during origination the customer chooses an offer and
// signs the agreement, quoting its hash.
func TestChooseAndSign(t *testing.T) {
	door := newFakeDoor()
	id := door.add(plan.Status{State: plan.StateOffered, CustomerID: aliceID.String(), OfferSet: 2, Offers: []plan.Offer{
		{No: 1, Label: "12 x 1,028.81", Amount: dec("12000"), Terms: 12, Instalment: dec("1028.81"), TotalCost: dec("345.72"), APRNominal: dec("5.4")},
		{No: 2, Label: "24 x 540.00", Amount: dec("12000"), Terms: 24, Instalment: dec("540"), TotalCost: dec("960"), APRNominal: dec("7.2")},
	}})
	c := newClient(t, newWeb(door))
	c.login(aliceToken)
	p := c.get("/app/plans/" + id)
	wantIn(t, "offers", p.body, `data-offer="1"`, `data-offer="2"`, "1,028.81", "选择此方案")
	// The second offer's form.
	i := strings.Index(p.body, `data-offer="2"`)
	start := strings.LastIndex(p.body[:i], "<form")
	sub := p.body[start:]
	val := func(name string) string {
		m := regexp.MustCompile(`name="` + name + `" value="([^"]*)"`).FindStringSubmatch(sub)
		if m == nil {
			t.Fatalf("no %s", name)
		}
		return m[1]
	}
	res := c.post("/app/plans/"+id+"/choose", url.Values{"csrf": {val("csrf")}, "request_id": {val("request_id")}, "offer_set": {val("offer_set")}, "offer": {val("offer")}})
	wantStatus(t, "choose", res, http.StatusSeeOther)
	if got := door.calls[0].req.(plan.ChooseRequest); got.OfferSet != 2 || got.Offer != 2 || got.RequestID != val("request_id") {
		t.Errorf("choose %+v", got)
	}
	after := c.get(res.location)
	wantIn(t, "after choosing", after.body, `data-test="request-done"`)

	hash := strings.Repeat("0f", 32)
	st := door.plans[id]
	st.State, st.AgreementHash = plan.StateSigning, hash
	door.agreement = plan.Agreement{PlanID: id, Version: 1, Text: "agreement text", SHA256: hash}
	p = c.get("/app/plans/" + id)
	wantIn(t, "signing", p.body, `id="sign-form"`, "agreement text", hash)
	if got := field(t, p.body, "sign-form", "document_hash"); got != hash {
		t.Errorf("the sign form quotes %q", got)
	}
	form := url.Values{"csrf": {field(t, p.body, "sign-form", "csrf")}, "request_id": {field(t, p.body, "sign-form", "request_id")},
		"document_hash": {hash}, "name": {"张三"}}
	// Without consent the page says so and sends nothing.
	n := len(door.calls)
	r := c.post("/app/plans/"+id+"/sign", form)
	wantStatus(t, "sign without consent", r, http.StatusBadRequest)
	if len(door.calls) != n {
		t.Error("a signature without consent was sent")
	}
	form.Set("consent", "on")
	r = c.post("/app/plans/"+id+"/sign", form)
	wantStatus(t, "sign", r, http.StatusSeeOther)
	if got := door.calls[len(door.calls)-1].req.(plan.SignRequest); got.DocumentHash != hash || got.Name != "张三" || !got.Consent {
		t.Errorf("sign %+v", got)
	}
}

func TestUnknownPageAndAction(t *testing.T) {
	door := newFakeDoor()
	id := door.add(activePlan(aliceID))
	c := newClient(t, newWeb(door))
	c.login(aliceToken)
	if p := c.get("/app/nothing/here"); p.status != http.StatusNotFound || !strings.Contains(p.header.Get("Content-Type"), "text/html") {
		t.Errorf("unknown page: %d %s", p.status, p.header.Get("Content-Type"))
	}
	if p := c.post("/app/plans/"+id+"/waive", url.Values{"request_id": {"web-1"}}); p.status != http.StatusForbidden && p.status != http.StatusNotFound {
		t.Errorf("an operator's action: %d", p.status)
	}
	if len(door.calls) != 0 {
		t.Errorf("calls %+v", door.calls)
	}
	if p := c.get("/app/static/app.css"); p.status != http.StatusOK || !strings.Contains(p.body, "progress") {
		t.Errorf("stylesheet: %d", p.status)
	}
}

// TestApply: the customer applies with the form, prefilled from their last
// application; bad input is named in plain words and nothing is sent; a
// second submission of the same form reaches the same plan.
func TestApply(t *testing.T) {
	door := newFakeDoor()
	door.profiles = map[string]plan.Customer{"alice": {
		Ref: "alice", Name: "李四", Age: 41, Occupation: "Teacher", MonthlyIncome: dec("18000"), MonthlyDebtPayments: dec("1200"),
		Assets: dec("300000"), Liabilities: dec("50000"), MonthlySpend: dec("6000"), Phone: "+86 139 0000 0002",
		PreferredChannel: plan.ChannelEmail, CreditHistory: plan.CreditHistory{OnTimePayments: 40, LatePayments: 1},
		TimeZone: "Asia/Shanghai", PushID: "push-a",
	}}
	c := newClient(t, newWeb(door))
	c.login(aliceToken)
	list := c.get("/app")
	wantIn(t, "the list", list.body, `href="/app/apply"`)

	p := c.get("/app/apply")
	wantStatus(t, "the form", p, http.StatusOK)
	wantIn(t, "the prefilled form", p.body, `value="李四"`, `value="41"`, `value="18000.00"`, `<option value="email" selected>`)
	form := url.Values{}
	for _, name := range []string{"csrf", "request_id", "name", "age", "occupation", "phone", "monthly_income",
		"monthly_debt_payments", "assets", "liabilities", "monthly_spend"} {
		form.Set(name, field(t, p.body, "apply-form", name))
	}
	form.Set("preferred_channel", "email")
	form.Set("terms", "12")

	for _, tt := range []struct {
		name, field, value string
		status             int
		want               []string
	}{
		{"no amount", "amount", "", http.StatusBadRequest, []string{"金额（元）", "must be greater than 0"}},
		{"amount not a number", "amount", "lots", http.StatusBadRequest, []string{"金额（元） 应为数字"}},
		{"a negative amount", "amount", "-5", http.StatusBadRequest, []string{"金额（元）"}},
		{"too young", "age", "16", http.StatusBadRequest, []string{"年龄", "between 18 and 100"}},
		{"no consent", "consent", "", http.StatusBadRequest, []string{"我同意", "请勾选同意"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := url.Values{}
			for k, v := range form {
				f[k] = v
			}
			f.Set("amount", "8000")
			f.Set("consent", "on")
			if tt.value == "" {
				f.Del(tt.field)
			} else {
				f.Set(tt.field, tt.value)
			}
			n := len(door.applications)
			r := c.post("/app/apply", f)
			wantStatus(t, tt.name, r, tt.status)
			wantIn(t, tt.name, r.body, tt.want...)
			// What was typed is kept.
			wantIn(t, tt.name, r.body, `value="李四"`)
			if len(door.applications) != n {
				t.Error("an application was sent")
			}
		})
	}

	form.Set("amount", "8,000")
	form.Set("consent", "on")
	r := c.post("/app/apply", form)
	wantStatus(t, "apply", r, http.StatusSeeOther)
	if len(door.applications) != 1 {
		t.Fatalf("%d applications sent, want 1", len(door.applications))
	}
	app := door.applications[0]
	if app.Customer.Ref != "alice" || !app.Amount.Equal(dec("8000")) || app.Terms != 12 || app.Origin.Kind != "own" ||
		app.Customer.CreditHistory.OnTimePayments != 40 || app.Customer.PushID != "push-a" || app.Customer.Age != 41 {
		t.Errorf("the application sent: %+v", app)
	}
	id := plan.IDFromRequest(app.RequestID).String()
	if r.location != "/app/plans/"+id {
		t.Errorf("redirect to %q, want the plan %s", r.location, id)
	}
	// The same form again: the same plan.
	again := c.post("/app/apply", form)
	if again.location != r.location {
		t.Errorf("a second submission went to %q, want %q", again.location, r.location)
	}

	// Another customer's form cannot be replayed by alice: the CSRF token
	// is the session's.
	bob := newClient(t, newWeb(door))
	bob.login(bobToken)
	bp := bob.get("/app/apply")
	wantIn(t, "a customer who never applied", bp.body, `id="apply-form"`, `name="name" value="" id="apply-name"`)
	form.Set("csrf", field(t, bp.body, "apply-form", "csrf"))
	wantStatus(t, "another session's CSRF token", c.post("/app/apply", form), http.StatusForbidden)
}
