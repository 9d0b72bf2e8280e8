// Package web is the customer's web page: server-rendered HTML over the
// front door, served by the API under /app (see api/web.go). A customer
// signs in with their API token; the page lists their plans with a
// progress bar, shows a plan's schedule, what is overdue by component and
// the agreement, and lets them act with plain HTML forms: choose an offer
// and sign during origination (after applying with a form prefilled
// from their last application); cancel, restructure, a payment holiday or
// early repayment (quoted, then confirmed) and a complaint on an active
// plan.
//
// Sessions: the token is kept in an HttpOnly, SameSite=Strict cookie
// (Secure when the request came over TLS) and is never written into a
// page. Every form carries a CSRF token, an HMAC of the session under a
// per-process key and the form's action, and a request id made by the
// server, so that a form submitted twice is answered twice with the
// plan's first answer, not applied twice. Every POST is answered with a
// redirect (post/redirect/get), but for errors, which re-render the page
// with the error in plain words.
//
// Routes:
//
//	GET  /app/login, POST /app/login, POST /app/logout
//	GET  /app                                 the customer's plans
//	GET  /app/apply, POST /app/apply          a new application
//	GET  /app/plans/{id}                      one plan (?r=<request id>: its answer)
//	GET  /app/plans/{id}/agreement.txt        the agreement, to download
//	POST /app/plans/{id}/{action}             choose, sign, cancel, restructure,
//	                                          holiday, prepay, complaint
//	GET  /app/plans/{id}/requests/{rid}       a request's answer: a quote to confirm
//	GET  /app/static/app.css
//
// Chinese is the default; ?lang=en (or ?lang=zh) switches and is kept in a
// cookie. Every string is in the message table (messages.go).
package web

import (
	"context"
	"crypto/rand"
	"embed"
	"encoding/hex"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"

	"github.com/google/uuid"

	"github.com/fenqi/fenqi/frontdoor"
	"github.com/fenqi/fenqi/plan"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Door is what the page needs of the front door.
type Door interface {
	Status(ctx context.Context, planID string) (plan.Status, error)
	Agreement(ctx context.Context, planID string) (plan.Agreement, error)
	Collection(ctx context.Context, planID string) (plan.CollectionStatus, error)
	Choose(ctx context.Context, planID string, r plan.ChooseRequest) (plan.Reply, error)
	Sign(ctx context.Context, planID string, r plan.SignRequest) (plan.Reply, error)
	Cancel(ctx context.Context, planID string, r plan.CancelRequest) (plan.Reply, error)
	Restructure(ctx context.Context, planID string, r plan.RestructureRequest) (plan.Reply, error)
	Holiday(ctx context.Context, planID string, r plan.HolidayRequest) (plan.Reply, error)
	Prepay(ctx context.Context, planID string, r plan.PrepayRequest) (plan.Reply, error)
	Complain(ctx context.Context, planID string, r plan.ComplaintRequest) (plan.Reply, error)
}

// PlanLister lists a customer's plans (frontdoor.Door.CustomerPlans). A
// door without it shows a form to open a plan by its id instead.
type PlanLister interface {
	CustomerPlans(ctx context.Context, customerID uuid.UUID) ([]string, error)
}

var (
	_ Door       = (*frontdoor.Door)(nil)
	_ PlanLister = (*frontdoor.Door)(nil)
)

// Customer is who is signed in.
type Customer struct {
	Ref string
	ID  uuid.UUID
}

// Authenticate finds the customer of an API token; false for a token that
// is not a customer's.
type Authenticate func(token string) (Customer, bool)

// Route is one route of the page, to mount on a mux.
type Route struct {
	Pattern string
	Handler http.HandlerFunc
}

// Handler serves the page.
type Handler struct {
	door   Door
	lister PlanLister
	// applier is nil when the door cannot start plans: no form.
	applier Applier
	auth    Authenticate
	log     *slog.Logger
	// secret keys the CSRF tokens; new on every start, so that a form
	// rendered before a restart is refused (the customer reloads it).
	secret []byte
	pages  map[string]*template.Template
	mux    *http.ServeMux
}

// New returns the page over door; auth identifies the customer of a
// token. The plan list needs a door that is also a PlanLister.
func New(door Door, auth Authenticate, log *slog.Logger) *Handler {
	if log == nil {
		log = slog.Default()
	}
	h := &Handler{door: door, auth: auth, log: log, secret: make([]byte, 32)}
	if l, ok := door.(PlanLister); ok {
		h.lister = l
	}
	if a, ok := door.(Applier); ok {
		h.applier = a
	}
	if _, err := rand.Read(h.secret); err != nil {
		panic("web: no randomness for the CSRF key: " + err.Error())
	}
	h.pages = parsePages()
	h.mux = http.NewServeMux()
	for _, rt := range h.Routes() {
		h.mux.HandleFunc(rt.Pattern, rt.Handler)
	}
	return h
}

// ServeHTTP serves the page on its own (the API mounts Routes on its mux
// instead).
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// Routes are the page's routes.
func (h *Handler) Routes() []Route {
	static, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic(err)
	}
	files := http.StripPrefix("/app/static/", http.FileServerFS(static))
	return []Route{
		{"GET /app/login", h.loginPage},
		{"POST /app/login", h.login},
		{"POST /app/logout", h.logout},
		{"GET /app", h.signedIn(h.listPage)},
		{"GET /app/{$}", h.signedIn(h.listPage)},
		{"GET /app/apply", h.signedIn(h.applyPage)},
		{"POST /app/apply", h.signedIn(h.apply)},
		{"GET /app/plans", h.signedIn(h.openPlan)},
		{"GET /app/plans/{id}", h.signedIn(h.ownPlan(h.planPage))},
		{"GET /app/plans/{id}/agreement.txt", h.signedIn(h.ownPlan(h.agreementText))},
		{"GET /app/plans/{id}/requests/{rid}", h.signedIn(h.ownPlan(h.requestPage))},
		{"POST /app/plans/{id}/{action}", h.signedIn(h.ownPlan(h.act))},
		{"GET /app/static/", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", "public, max-age=3600")
			files.ServeHTTP(w, r)
		}},
		{"/app/", h.notFound},
	}
}

// IsPath reports whether path is the page's (the API serves it without a
// bearer token).
func IsPath(path string) bool { return path == "/app" || strings.HasPrefix(path, "/app/") }

// The cookies.
const (
	sessionCookie = "fenqi_session"
	langCookie    = "fenqi_lang"
	loginCookie   = "fenqi_login"
)

// customerKey carries the signed-in customer and their token.
type customerKey struct{}

type session struct {
	Customer
	token string
}

func sessionFrom(ctx context.Context) (session, bool) {
	s, ok := ctx.Value(customerKey{}).(session)
	return s, ok
}

// signedIn lets the signed-in customer through, and sends anybody else to
// the sign-in page.
func (h *Handler) signedIn(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		secureHeaders(w)
		c, err := r.Cookie(sessionCookie)
		var cust Customer
		ok := err == nil && c.Value != "" && h.auth != nil
		if ok {
			cust, ok = h.auth(c.Value)
		}
		if !ok {
			if err == nil {
				clearCookie(w, r, sessionCookie)
			}
			http.Redirect(w, r, "/app/login", http.StatusSeeOther)
			return
		}
		next(w, r.WithContext(context.WithValue(r.Context(), customerKey{}, session{Customer: cust, token: c.Value})))
	}
}

// ownPlan lets a request about the customer's own plan through, with its
// status; another customer's plan, or one that does not exist, is refused
// with the same answer.
func (h *Handler) ownPlan(next func(http.ResponseWriter, *http.Request, plan.Status)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s, _ := sessionFrom(r.Context())
		id := r.PathValue("id")
		if _, err := plan.ParseID(id); err != nil {
			h.errorPage(w, r, http.StatusForbidden, "err.not_yours")
			return
		}
		st, err := h.door.Status(r.Context(), id)
		if err != nil && !isNotFound(err) {
			h.failPage(w, r, err)
			return
		}
		if err != nil || st.CustomerID != s.ID.String() {
			h.log.Warn("web: a customer asked for a plan that is not theirs", "plan", id, "customer", s.ID.String())
			h.errorPage(w, r, http.StatusForbidden, "err.not_yours")
			return
		}
		next(w, r, st)
	}
}

// openPlan opens the plan named by ?id= (the list's form when plans
// cannot be listed).
func (h *Handler) openPlan(w http.ResponseWriter, r *http.Request) {
	id, err := plan.ParseID(strings.TrimSpace(r.URL.Query().Get("id")))
	if err != nil {
		h.errorPage(w, r, http.StatusNotFound, "err.not_yours")
		return
	}
	http.Redirect(w, r, "/app/plans/"+id.String(), http.StatusSeeOther)
}

// newRequestID is a fresh request id for a form.
func newRequestID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return "web-" + hex.EncodeToString(b)
}

func secureHeaders(w http.ResponseWriter) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "same-origin")
	hd.Set("Cache-Control", "no-store")
}

func setCookie(w http.ResponseWriter, r *http.Request, name, value string, httpOnly bool, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: value, Path: "/app", HttpOnly: httpOnly, Secure: r.TLS != nil,
		SameSite: http.SameSiteStrictMode, MaxAge: maxAge,
	})
}

func clearCookie(w http.ResponseWriter, r *http.Request, name string) {
	setCookie(w, r, name, "", true, -1)
}
