package web

import (
	"bytes"
	"context"
	"errors"
	"html/template"
	"net/http"

	"github.com/shopspring/decimal"

	"github.com/fenqi/fenqi/calc"
	"github.com/fenqi/fenqi/frontdoor"
	"github.com/fenqi/fenqi/plan"
)

// page is what every template gets.
type page struct {
	Name  string
	Title string
	Lang  string
	// Path is the page's path, for the language switch.
	Path     string
	Customer *Customer
	Flash    *flash

	LoginCSRF string
	Plans     []planSummary
	// Unlisted: the door cannot list plans (no database); the page offers
	// a form to open a plan by id.
	Unlisted bool
	Plan     *planView
	Request  *requestView
	Apply    *applyView
	// CanApply: the page offers the application form.
	CanApply bool

	h       *Handler
	session string
}

// flash is a message at the top of a page: kind "error", "ok" or "info".
type flash struct {
	Kind string
	Text string
}

// T translates a message key.
func (p *page) T(key string, args ...any) string { return translate(p.Lang, key, args...) }

// CSRF is the CSRF token of a form posted to action.
func (p *page) CSRF(action string) string { return p.h.csrfToken(p.session, action) }

// NewRequestID is a fresh request id for a form.
func (p *page) NewRequestID() string { return newRequestID() }

// HTMLLang is the lang attribute of the page.
func (p *page) HTMLLang() string {
	if p.Lang == langEN {
		return "en"
	}
	return "zh-CN"
}

// OtherLang is the language the switch offers.
func (p *page) OtherLang() string {
	if p.Lang == langEN {
		return langZH
	}
	return langEN
}

func (h *Handler) newPage(r *http.Request, lang, name, titleKey string) *page {
	p := &page{Name: name, Lang: lang, Path: r.URL.Path, h: h, CanApply: h.applier != nil}
	p.Title = p.T(titleKey)
	if s, ok := sessionFrom(r.Context()); ok {
		c := s.Customer
		p.Customer, p.session = &c, s.token
	}
	return p
}

// parsePages parses each page's template with the layout.
func parsePages() map[string]*template.Template {
	names := []string{"login", "list", "plan", "request", "error", "apply"}
	out := make(map[string]*template.Template, len(names))
	for _, n := range names {
		out[n] = template.Must(template.New("layout.html").ParseFS(templateFS, "templates/layout.html", "templates/"+n+".html"))
	}
	return out
}

// render writes p with its template; a template failure is a plain 500.
func (h *Handler) render(w http.ResponseWriter, status int, p *page) {
	var buf bytes.Buffer
	if err := h.pages[p.Name].ExecuteTemplate(&buf, "layout", p); err != nil {
		h.log.Error("web: render failed", "page", p.Name, "err", err)
		http.Error(w, translate(p.Lang, "err.internal"), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// errorPage answers status with the message key.
func (h *Handler) errorPage(w http.ResponseWriter, r *http.Request, status int, key string, args ...any) {
	secureHeaders(w)
	p := h.newPage(r, h.lang(w, r), "error", "err.title")
	p.Flash = &flash{Kind: "error", Text: p.T(key, args...)}
	h.render(w, status, p)
}

func (h *Handler) notFound(w http.ResponseWriter, r *http.Request) {
	h.errorPage(w, r, http.StatusNotFound, "err.not_found")
}

// failPage answers a front door's error in plain words.
func (h *Handler) failPage(w http.ResponseWriter, r *http.Request, err error) {
	lang := h.lang(w, r)
	status, text := h.explain(r, lang, err)
	secureHeaders(w)
	p := h.newPage(r, lang, "error", "err.title")
	p.Flash = &flash{Kind: "error", Text: text}
	h.render(w, status, p)
}

// explain maps a front door's error to a status and a message in plain
// words: bad input names the field, a refusal gives the plan's reason, and
// anything else is a generic message (the error itself is logged, never
// shown).
func (h *Handler) explain(r *http.Request, lang string, err error) (int, string) {
	var invalid *plan.ValidationError
	var rejected *frontdoor.RejectedError
	var num *numberError
	switch {
	case errors.As(err, &num):
		return http.StatusBadRequest, translate(lang, "err.number", fieldLabel(lang, num.field))
	case errors.As(err, &invalid):
		return http.StatusBadRequest, translate(lang, "err.invalid", fieldLabel(lang, invalid.Field), invalid.Reason)
	case errors.As(err, &rejected):
		return http.StatusConflict, translate(lang, "err.rejected", rejected.Reason)
	case isNotFound(err):
		return http.StatusNotFound, translate(lang, "err.not_yours")
	case errors.Is(err, frontdoor.ErrNoStore):
		return http.StatusServiceUnavailable, translate(lang, "err.unavailable")
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled), r.Context().Err() != nil:
		return http.StatusGatewayTimeout, translate(lang, "err.timeout")
	}
	h.log.Error("web request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	return http.StatusInternalServerError, translate(lang, "err.internal")
}

func isNotFound(err error) bool { return errors.Is(err, frontdoor.ErrNotFound) }

func fieldLabel(lang, field string) string {
	if k, ok := fieldLabels[field]; ok {
		return translate(lang, k)
	}
	return field
}

// money formats an amount as people read it (calc.GroupMoney).
func money(d decimal.Decimal) string { return calc.GroupMoney(d) }
