package web

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/fenqi/fenqi/calc"
	"github.com/fenqi/fenqi/plan"
)

// numberError is a form field that should hold a number and does not.
type numberError struct{ field string }

func (e *numberError) Error() string { return e.field + ": not a number" }

// form reads a posted form's fields.
type form struct {
	r   *http.Request
	err error
}

func (f *form) str(name string) string { return strings.TrimSpace(f.r.PostFormValue(name)) }

func (f *form) int(name string) int {
	s := f.str(name)
	if s == "" || f.err != nil {
		return 0
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		f.err = &numberError{field: name}
	}
	return n
}

func (f *form) money(name string) decimal.Decimal {
	s := strings.ReplaceAll(f.str(name), ",", "")
	if s == "" || f.err != nil {
		return decimal.Zero
	}
	d, err := decimal.NewFromString(s)
	if err != nil {
		f.err = &numberError{field: name}
	}
	return d
}

func (f *form) bool(name string) bool {
	switch f.str(name) {
	case "on", "true", "1", "yes":
		return true
	}
	return false
}

// act takes a posted form on a plan: it checks the CSRF token and the
// request id the form carries, sends the request, and redirects to its
// answer; an error re-renders the plan's page with it in plain words.
func (h *Handler) act(w http.ResponseWriter, r *http.Request, st plan.Status) {
	s, _ := sessionFrom(r.Context())
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		h.errorPage(w, r, http.StatusBadRequest, "err.form")
		return
	}
	if !h.checkCSRF(r, s.token) {
		h.log.Warn("web: a form without a valid CSRF token", "path", r.URL.Path, "customer", s.ID.String())
		h.errorPage(w, r, http.StatusForbidden, "err.csrf")
		return
	}
	id := r.PathValue("id")
	f := &form{r: r}
	rid := f.str("request_id")
	if err := plan.ValidateRequestID(rid); err != nil {
		h.errorPage(w, r, http.StatusBadRequest, "err.form")
		return
	}
	ctx := r.Context()
	quote := f.str("quote_id")
	var (
		reply  plan.Reply
		err    error
		change = true
	)
	switch action := r.PathValue("action"); action {
	case "choose":
		change = false
		req := plan.ChooseRequest{RequestID: rid, OfferSet: f.int("offer_set"), Offer: f.int("offer")}
		reply, err = send(ctx, f, req, id, h.door.Choose)
	case "sign":
		change = false
		req := plan.SignRequest{RequestID: rid, DocumentHash: f.str("document_hash"), Name: f.str("name"), Consent: f.bool("consent")}
		reply, err = send(ctx, f, req, id, h.door.Sign)
	case "complaint":
		change = false
		reply, err = send(ctx, f, plan.ComplaintRequest{RequestID: rid, Text: f.str("text")}, id, h.door.Complain)
	case plan.MsgCancel:
		req := plan.CancelRequest{RequestID: rid, QuoteID: quote}
		if quote == "" {
			req.Mode, req.Terms, req.AtNextDue = plan.CancelMode(f.str("mode")), f.int("terms"), f.bool("at_next_due")
			if req.Mode != plan.CancelFewerTerms {
				req.Terms = 0
			} else {
				req.AtNextDue = false
			}
		}
		reply, err = send(ctx, f, req, id, h.door.Cancel)
	case plan.MsgRestructure:
		req := plan.RestructureRequest{RequestID: rid, QuoteID: quote}
		if quote == "" {
			req.Terms, req.MaxInstalment = f.int("terms"), f.money("max_instalment")
			req.Frequency, req.Reason = calc.Frequency(f.str("frequency")), f.str("reason")
		}
		reply, err = send(ctx, f, req, id, h.door.Restructure)
	case plan.MsgHoliday:
		req := plan.HolidayRequest{RequestID: rid, QuoteID: quote}
		if quote == "" {
			req.Periods, req.Reason = f.int("periods"), f.str("reason")
		}
		reply, err = send(ctx, f, req, id, h.door.Holiday)
	case plan.MsgPrepay:
		req := plan.PrepayRequest{RequestID: rid, QuoteID: quote}
		if quote == "" {
			req.Amount = f.money("amount")
			if req.Amount.IsPositive() {
				req.Reduce = plan.Reduce(f.str("reduce"))
			}
		}
		reply, err = send(ctx, f, req, id, h.door.Prepay)
	default:
		h.errorPage(w, r, http.StatusNotFound, "err.action")
		return
	}
	if err != nil {
		lang := h.lang(w, r)
		status, text := h.explain(r, lang, err)
		if fresh, serr := h.door.Status(ctx, id); serr == nil {
			st = fresh
		}
		h.renderPlan(w, r, st, status, &flash{Kind: "error", Text: text})
		return
	}
	_ = reply
	target := "/app/plans/" + url.PathEscape(id)
	if change {
		target += "/requests/" + url.PathEscape(rid)
	} else {
		target += "?r=" + url.QueryEscape(rid) + "#result"
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// send checks the form's numbers and the request's shape, then sends it.
func send[R plan.Request](ctx context.Context, f *form, req R, id string, do func(context.Context, string, R) (plan.Reply, error)) (plan.Reply, error) {
	if f.err != nil {
		return plan.Reply{}, f.err
	}
	if err := req.Validate(); err != nil {
		return plan.Reply{}, err
	}
	return do(ctx, id, req)
}
