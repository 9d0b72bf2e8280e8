// Package api is fenqi's HTTP API for front-ends: JSON over the front
// door. Errors are {"error":{"code":...,"message":...}} with 400 (bad
// input), 401 (no valid bearer token), 403 (not this token's to do), 404
// (no such plan), 409 (not possible in the plan's state, or a
// request id reused for another request), 413 (body too large), 422 (the
// plan refused it, with the reason, and the plan's reply under "reply")
// or 503 (the API runs without its database, for the routes that read
// it). An Idempotency-Key header gives a request its id when the body has
// none, so a retried POST is answered, not applied twice.
//
// Every route but GET /healthz needs a bearer token (Authorization:
// Bearer <token>): 401 unauthorized without a valid one, 403 forbidden
// for a customer token outside its own plans or on an operator's action
// (see auth.go and WithTokens).
//
// Routes (bodies are the JSON of the plan package's messages):
//
//	POST /v1/applications                    plan.Application (201)
//	GET  /v1/plans/{id}                      plan.Status
//	GET  /v1/plans/{id}/agreement            plan.Agreement (?format=text)
//	POST /v1/plans/{id}/choose               plan.ChooseRequest
//	POST /v1/plans/{id}/counter-offer        plan.CounterOfferRequest
//	POST /v1/plans/{id}/sign                 plan.SignRequest
//	POST /v1/plans/{id}/withdraw             plan.WithdrawRequest
//	POST /v1/plans/{id}/review-decision      plan.ReviewDecision (operator)
//	POST /v1/plans/{id}/payments             a payment (payment_id, amount, source) (operator)
//	GET  /v1/plans/{id}/contacts             []frontdoor.Contact
//	POST /v1/plans/{id}/cancel               plan.CancelRequest
//	POST /v1/plans/{id}/restructure          plan.RestructureRequest
//	POST /v1/plans/{id}/holiday              plan.HolidayRequest
//	POST /v1/plans/{id}/prepay               plan.PrepayRequest
//	POST /v1/plans/{id}/waive                plan.WaiveRequest (operator)
//	POST /v1/plans/{id}/approvals            plan.ApprovalDecision (operator)
//	POST /v1/plans/{id}/complaints           plan.ComplaintRequest
//	POST /v1/plans/{id}/complaints/{complaint}/resolve
//	                                         plan.ResolveRequest (operator; the
//	                                         path names the complaint)
//	GET  /v1/plans/{id}/collection           plan.CollectionStatus
//	POST /v1/plans/{id}/promises             plan.PromiseRequest
//	POST /v1/plans/{id}/referral             plan.ReferralRequest (operator)
//	POST /v1/plans/{id}/write-off            plan.WriteOffRequest (operator)
//	POST /v1/plans/{id}/grace                plan.GraceRequest (operator)
//	POST /v1/plans/{id}/arrears-plan         plan.ArrearsPlanRequest
//	GET  /healthz                            (no token needed)
//
// The change requests (cancel, restructure, holiday, prepay, waive,
// arrears-plan) are quoted, then confirmed: without quote_id the answer is
// a quote (the reply's "quote"; nothing changes), 200 when it is eligible,
// 422 with the quote in the reply when it is not; with the quote's
// quote_id the quote is applied.
package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"

	"github.com/fenqi/fenqi/frontdoor"
	"github.com/fenqi/fenqi/plan"
	"github.com/fenqi/fenqi/web"
)

// Door is what the API needs of the front door.
type Door interface {
	Apply(ctx context.Context, app plan.Application) (frontdoor.Applied, error)
	Status(ctx context.Context, planID string) (plan.Status, error)
	Agreement(ctx context.Context, planID string) (plan.Agreement, error)
	Choose(ctx context.Context, planID string, r plan.ChooseRequest) (plan.Reply, error)
	CounterOffer(ctx context.Context, planID string, r plan.CounterOfferRequest) (plan.Reply, error)
	Sign(ctx context.Context, planID string, r plan.SignRequest) (plan.Reply, error)
	Withdraw(ctx context.Context, planID string, r plan.WithdrawRequest) (plan.Reply, error)
	Decide(ctx context.Context, planID string, r plan.ReviewDecision) (plan.Reply, error)
	Pay(ctx context.Context, planID string, r plan.PaymentRequest) (plan.Reply, error)
	Contacts(ctx context.Context, planID string) ([]frontdoor.Contact, error)
	Cancel(ctx context.Context, planID string, r plan.CancelRequest) (plan.Reply, error)
	Restructure(ctx context.Context, planID string, r plan.RestructureRequest) (plan.Reply, error)
	Holiday(ctx context.Context, planID string, r plan.HolidayRequest) (plan.Reply, error)
	Prepay(ctx context.Context, planID string, r plan.PrepayRequest) (plan.Reply, error)
	Waive(ctx context.Context, planID string, r plan.WaiveRequest) (plan.Reply, error)
	Approve(ctx context.Context, planID string, r plan.ApprovalDecision) (plan.Reply, error)
	Complain(ctx context.Context, planID string, r plan.ComplaintRequest) (plan.Reply, error)
	Resolve(ctx context.Context, planID string, r plan.ResolveRequest) (plan.Reply, error)
	CollectionDoor
}

var _ Door = (*frontdoor.Door)(nil)

// MaxBodyBytes bounds a request body.
const MaxBodyBytes = 64 << 10

// Server serves the API.
type Server struct {
	// Timeout bounds every request (zero: DefaultTimeout).
	Timeout time.Duration
	door    Door
	log     *slog.Logger
	mux     *http.ServeMux
	// tokens are the accepted bearer tokens; insecure turns access
	// control off (WithoutAuth).
	tokens   *Tokens
	insecure bool
	// owners caches the customer of each plan a customer token asked
	// about.
	owners ownerCache
	// recorder, when set, is told of every request (WithRecorder).
	recorder Recorder
}

// New returns the API's handler over door. Without WithTokens (or
// WithoutAuth) it answers every request but GET /healthz 401.
func New(door Door, log *slog.Logger, opts ...Option) *Server {
	if log == nil {
		log = slog.Default()
	}
	s := &Server{door: door, log: log, mux: http.NewServeMux()}
	for _, o := range opts {
		o(s)
	}
	s.route("POST /v1/applications", applicants, s.apply)
	s.route("GET /v1/plans/{id}", ownPlan, s.status)
	s.route("GET /v1/plans/{id}/agreement", ownPlan, s.agreement)
	s.route("POST /v1/plans/{id}/choose", ownPlan, planAction(s, func(ctx context.Context, id string, r plan.ChooseRequest) (plan.Reply, error) {
		return s.door.Choose(ctx, id, r)
	}))
	s.route("POST /v1/plans/{id}/counter-offer", ownPlan, planAction(s, func(ctx context.Context, id string, r plan.CounterOfferRequest) (plan.Reply, error) {
		return s.door.CounterOffer(ctx, id, r)
	}))
	s.route("POST /v1/plans/{id}/sign", ownPlan, planAction(s, func(ctx context.Context, id string, r plan.SignRequest) (plan.Reply, error) {
		return s.door.Sign(ctx, id, r)
	}))
	s.route("POST /v1/plans/{id}/withdraw", ownPlan, planAction(s, func(ctx context.Context, id string, r plan.WithdrawRequest) (plan.Reply, error) {
		return s.door.Withdraw(ctx, id, r)
	}))
	s.route("POST /v1/plans/{id}/review-decision", operatorsOnly, planAction(s, func(ctx context.Context, id string, r plan.ReviewDecision) (plan.Reply, error) {
		return s.door.Decide(ctx, id, r)
	}))
	s.route("POST /v1/plans/{id}/payments", operatorsOnly, s.pay)
	s.route("GET /v1/plans/{id}/contacts", ownPlan, s.contacts)
	s.route("POST /v1/plans/{id}/cancel", ownPlan, planAction(s, func(ctx context.Context, id string, r plan.CancelRequest) (plan.Reply, error) {
		return s.door.Cancel(ctx, id, r)
	}))
	s.route("POST /v1/plans/{id}/restructure", ownPlan, planAction(s, func(ctx context.Context, id string, r plan.RestructureRequest) (plan.Reply, error) {
		return s.door.Restructure(ctx, id, r)
	}))
	s.route("POST /v1/plans/{id}/holiday", ownPlan, planAction(s, func(ctx context.Context, id string, r plan.HolidayRequest) (plan.Reply, error) {
		return s.door.Holiday(ctx, id, r)
	}))
	s.route("POST /v1/plans/{id}/prepay", ownPlan, planAction(s, func(ctx context.Context, id string, r plan.PrepayRequest) (plan.Reply, error) {
		return s.door.Prepay(ctx, id, r)
	}))
	s.route("POST /v1/plans/{id}/waive", operatorsOnly, planAction(s, func(ctx context.Context, id string, r plan.WaiveRequest) (plan.Reply, error) {
		return s.door.Waive(ctx, id, r)
	}))
	s.route("POST /v1/plans/{id}/approvals", operatorsOnly, planAction(s, func(ctx context.Context, id string, r plan.ApprovalDecision) (plan.Reply, error) {
		return s.door.Approve(ctx, id, r)
	}))
	s.route("POST /v1/plans/{id}/complaints", ownPlan, planAction(s, func(ctx context.Context, id string, r plan.ComplaintRequest) (plan.Reply, error) {
		return s.door.Complain(ctx, id, r)
	}))
	s.route("POST /v1/plans/{id}/complaints/{complaint}/resolve", operatorsOnly, s.resolve)
	s.routeCollection()
	s.routeWeb()
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("no route for %s %s", r.Method, r.URL.Path))
	})
	return s
}

// serve answers a request (ServeHTTP, in metrics.go, records and logs
// it). Every request but to /healthz is authenticated first.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/healthz" || web.IsPath(r.URL.Path) { // the web page checks its own cookie (web.go)
		s.mux.ServeHTTP(w, r)
		return
	}
	caller, ok := s.authenticate(w, r)
	if !ok {
		return
	}
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(context.WithValue(r.Context(), callerKey{}, caller), timeout)
	defer cancel()
	s.mux.ServeHTTP(w, r.WithContext(ctx))
}

// DefaultTimeout is how long a request waits for a plan's answer before it
// is answered 504: the request is not lost (the plan still processes it),
// and a retry with the same Idempotency-Key gets its answer.
const DefaultTimeout = 30 * time.Second

func (s *Server) apply(w http.ResponseWriter, r *http.Request) {
	var app plan.Application
	if !s.decode(w, r, &app) {
		return
	}
	if !s.mayApply(w, r, app) {
		return
	}
	if app.RequestID == "" {
		app.RequestID = r.Header.Get("Idempotency-Key")
	}
	if app.Settings != (plan.Settings{}) {
		writeError(w, http.StatusBadRequest, "invalid", "settings: are set by the lender's policy, not by an application")
		return
	}
	res, err := s.door.Apply(r.Context(), app)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, res)
}

// agreement returns the agreement as JSON, or as plain text to read or
// download with ?format=text.
func (s *Server) agreement(w http.ResponseWriter, r *http.Request) {
	a, err := s.door.Agreement(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if r.URL.Query().Get("format") == "text" {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="agreement-%s-v%d.txt"`, a.PlanID, a.Version))
		w.Header().Set("X-Agreement-SHA256", a.SHA256)
		_, _ = io.WriteString(w, a.Text)
		return
	}
	writeJSON(w, http.StatusOK, a)
}

func (s *Server) status(w http.ResponseWriter, r *http.Request) {
	st, err := s.door.Status(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

// planAction decodes a request of type R, takes its request id from the
// Idempotency-Key header when the body has none, sends it, and answers 200
// with the reply, or 422 when the plan refused it.
func planAction[R plan.Request](s *Server, send func(context.Context, string, R) (plan.Reply, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req R
		if !s.decode(w, r, &req) {
			return
		}
		req = setRequestID(req, r.Header.Get("Idempotency-Key"))
		if !actAs(s, w, r, &req) {
			return
		}
		sendChecked(s, w, r, req, send)
	}
}

// sendChecked checks the plan id and the request as the front door does,
// so that bad input is answered 400 before anything is sent, then sends
// the request and writes the answer.
func sendChecked[R plan.Request](s *Server, w http.ResponseWriter, r *http.Request, req R, send func(context.Context, string, R) (plan.Reply, error)) {
	id := r.PathValue("id")
	if _, err := plan.ParseID(id); err != nil {
		s.fail(w, r, &plan.ValidationError{Field: "plan", Reason: err.Error()})
		return
	}
	if err := req.Validate(); err != nil {
		s.fail(w, r, err)
		return
	}
	reply, err := send(r.Context(), id, req)
	s.answer(w, r, reply, err)
}

// resolve closes a complaint; the path names it (the body's complaint,
// when given, must be the same).
func (s *Server) resolve(w http.ResponseWriter, r *http.Request) {
	var req plan.ResolveRequest
	if !s.decode(w, r, &req) {
		return
	}
	complaint := r.PathValue("complaint")
	if req.Complaint != "" && req.Complaint != complaint {
		writeError(w, http.StatusBadRequest, "invalid", fmt.Sprintf("complaint: the body names complaint %q, the path %q; leave it out of the body", req.Complaint, complaint))
		return
	}
	req.Complaint = complaint
	req = setRequestID(req, r.Header.Get("Idempotency-Key"))
	if !actAs(s, w, r, &req) {
		return
	}
	sendChecked(s, w, r, req, s.door.Resolve)
}

// answer writes a plan's reply: 200, or 422 when the plan refused the
// request (with the reply: a quote that is not eligible is in it, with
// why), or the error.
func (s *Server) answer(w http.ResponseWriter, r *http.Request, reply plan.Reply, err error) {
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !reply.Accepted {
		msg := reply.Reason
		if msg == "" && reply.Quote != nil {
			msg = reply.Quote.Refusal
		}
		if msg == "" {
			msg = "the plan refused the request"
		}
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{
			"error": apiError{Code: "refused", Message: msg},
			"reply": reply,
		})
		return
	}
	writeJSON(w, http.StatusOK, reply)
}

// paymentBody is a payment as a gateway or a front-end posts it: the
// payment id (payment_id, or request_id as in the other requests; the
// Idempotency-Key header when both are absent), the amount and the source.
type paymentBody struct {
	PaymentID string `json:"payment_id"`
	RequestID string `json:"request_id"`
	// Amount is a JSON number or a string holding one ("100.00").
	Amount json.RawMessage `json:"amount"`
	Source string          `json:"source"`
}

// amount reads the body's amount; missing, it is zero (and refused as
// not positive).
func (b paymentBody) amount() (decimal.Decimal, error) {
	raw := strings.TrimSpace(string(b.Amount))
	if raw == "" || raw == "null" {
		return decimal.Zero, nil
	}
	if s, err := strconv.Unquote(raw); err == nil {
		raw = s
	}
	d, err := decimal.NewFromString(raw)
	if err != nil {
		return decimal.Zero, &plan.ValidationError{Field: "amount", Reason: fmt.Sprintf("must be a number, got %s", b.Amount)}
	}
	return d, nil
}

// pay takes a payment from outside auto-debit. The payment id is the
// request id, so a payment posted twice is applied once.
func (s *Server) pay(w http.ResponseWriter, r *http.Request) {
	var body paymentBody
	if !s.decode(w, r, &body) {
		return
	}
	id := body.PaymentID
	switch {
	case id == "":
		id = body.RequestID
	case body.RequestID != "" && body.RequestID != id:
		writeError(w, http.StatusBadRequest, "invalid", "payment_id: the payment id is the request id; give one of payment_id and request_id, or both equal")
		return
	}
	if id == "" {
		id = r.Header.Get("Idempotency-Key")
	}
	amount, err := body.amount()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	req := plan.PaymentRequest{RequestID: id, Amount: amount, Source: body.Source}
	if err := req.Validate(); err != nil {
		var v *plan.ValidationError
		if errors.As(err, &v) && v.Field == "request_id" {
			err = &plan.ValidationError{Field: "payment_id", Reason: v.Reason}
		}
		s.fail(w, r, err)
		return
	}
	reply, err := s.door.Pay(r.Context(), r.PathValue("id"), req)
	s.answer(w, r, reply, err)
}

// contacts lists the plan's contacts with the customer, oldest first.
func (s *Server) contacts(w http.ResponseWriter, r *http.Request) {
	list, err := s.door.Contacts(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if list == nil {
		list = []frontdoor.Contact{}
	}
	writeJSON(w, http.StatusOK, list)
}

// setRequestID fills an empty request id with key.
func setRequestID[R plan.Request](req R, key string) R {
	if req.ID() != "" || key == "" {
		return req
	}
	var v any = &req
	switch p := v.(type) {
	case *plan.ChooseRequest:
		p.RequestID = key
	case *plan.CounterOfferRequest:
		p.RequestID = key
	case *plan.SignRequest:
		p.RequestID = key
	case *plan.WithdrawRequest:
		p.RequestID = key
	case *plan.ReviewDecision:
		p.RequestID = key
	case *plan.CancelRequest:
		p.RequestID = key
	case *plan.RestructureRequest:
		p.RequestID = key
	case *plan.HolidayRequest:
		p.RequestID = key
	case *plan.PrepayRequest:
		p.RequestID = key
	case *plan.WaiveRequest:
		p.RequestID = key
	case *plan.ApprovalDecision:
		p.RequestID = key
	case *plan.ComplaintRequest:
		p.RequestID = key
	case *plan.ResolveRequest:
		p.RequestID = key
	case *plan.PromiseRequest:
		p.RequestID = key
	case *plan.ReferralRequest:
		p.RequestID = key
	case *plan.WriteOffRequest:
		p.RequestID = key
	case *plan.GraceRequest:
		p.RequestID = key
	case *plan.ArrearsPlanRequest:
		p.RequestID = key
	}
	return req
}

// decode reads one JSON object into v, refusing unknown fields, trailing
// data, bodies over MaxBodyBytes, empty bodies and bodies that are not
// UTF-8 (which JSON decoding would turn into U+FFFD unnoticed).
func (s *Server) decode(w http.ResponseWriter, r *http.Request, v any) bool {
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		writeError(w, http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("the body is larger than %d bytes", MaxBodyBytes))
		return false
	case err != nil:
		writeError(w, http.StatusBadRequest, "bad_json", "cannot read the body: "+err.Error())
		return false
	case len(bytes.TrimSpace(raw)) == 0:
		writeError(w, http.StatusBadRequest, "bad_json", "the body is empty: send one JSON object")
		return false
	case !utf8.Valid(raw):
		writeError(w, http.StatusBadRequest, "bad_json", "the body is not valid UTF-8")
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	err = dec.Decode(v)
	if err == nil && dec.Decode(&struct{}{}) != io.EOF {
		err = errors.New("the body must hold exactly one JSON object")
	}
	if err == nil {
		return true
	}
	writeError(w, http.StatusBadRequest, "bad_json", "invalid JSON body: "+strings.TrimPrefix(err.Error(), "json: "))
	return false
}

// fail maps the front door's errors to HTTP.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	var invalid *plan.ValidationError
	var rejected *frontdoor.RejectedError
	switch {
	case errors.As(err, &invalid):
		writeError(w, http.StatusBadRequest, "invalid", invalid.Error())
	case errors.Is(err, frontdoor.ErrNoStore):
		writeError(w, http.StatusServiceUnavailable, "unavailable", "this API runs without its database (DATABASE_URL); "+r.URL.Path+" needs it")
	case errors.Is(err, frontdoor.ErrNotFound):
		writeError(w, http.StatusNotFound, "not_found", "no plan "+r.PathValue("id"))
	case errors.As(err, &rejected):
		writeError(w, http.StatusConflict, "conflict", rejected.Reason)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded), r.Context().Err() != nil:
		writeError(w, http.StatusGatewayTimeout, "timeout", "the plan did not answer in time; retry with the same Idempotency-Key")
	default:
		s.log.Error("api request failed", "method", r.Method, "route", r.Pattern, planAttr(r.PathValue("id")), "err", err)
		writeError(w, http.StatusInternalServerError, "internal", "internal error; retry with the same Idempotency-Key")
	}
}

type apiError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]apiError{"error": {Code: code, Message: msg}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
