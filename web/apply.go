package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"

	"github.com/fenqi/fenqi/frontdoor"
	"github.com/fenqi/fenqi/plan"
)

// Applier starts a new plan for the signed-in customer
// (frontdoor.Door.Apply) and prefills the form from the details they last
// applied with (frontdoor.Door.CustomerProfile; frontdoor.ErrNoProfile for
// a customer who never applied). A door without it offers no application
// form.
type Applier interface {
	Apply(ctx context.Context, app plan.Application) (frontdoor.Applied, error)
	CustomerProfile(ctx context.Context, ref string) (plan.Customer, error)
}

var _ Applier = (*frontdoor.Door)(nil)

// applyAction is where the application form is posted.
const applyAction = "/app/apply"

// applyView is the application form's values, as shown or as posted.
type applyView struct {
	RequestID                                          string
	Amount, Terms                                      string
	Name, IDNumber, Age, Occupation, Phone, Email      string
	Income, Debts, Assets, Liabilities, Spend, Channel string
	TermChoices                                        []int
	Channels                                           []string
	Consent                                            bool
}

// channels are the ways of contact the form offers.
var channels = []string{"sms", "email", "push", "phone"}

// termChoices are the numbers of instalments the form offers (besides
// letting the offers choose).
var termChoices = []int{3, 6, 12, 24}

// applyFormOf is the form prefilled from the customer's last application.
func applyFormOf(c plan.Customer) *applyView {
	v := &applyView{RequestID: newRequestID(), TermChoices: termChoices, Channels: channels, Channel: string(c.PreferredChannel),
		Name: c.Name, IDNumber: c.IDNumber, Occupation: c.Occupation, Phone: c.Phone, Email: c.Email}
	if c.Age > 0 {
		v.Age = strconv.Itoa(c.Age)
	}
	if c.MonthlyIncome.IsPositive() || c.Age > 0 {
		v.Income, v.Debts = c.MonthlyIncome.StringFixed(2), c.MonthlyDebtPayments.StringFixed(2)
		v.Assets, v.Liabilities, v.Spend = c.Assets.StringFixed(2), c.Liabilities.StringFixed(2), c.MonthlySpend.StringFixed(2)
	}
	if v.Channel == "" {
		v.Channel = string(plan.ChannelSMS)
	}
	return v
}

// applyPage shows the application form.
func (h *Handler) applyPage(w http.ResponseWriter, r *http.Request) {
	if h.applier == nil {
		h.notFound(w, r)
		return
	}
	s, _ := sessionFrom(r.Context())
	prof, err := h.applier.CustomerProfile(r.Context(), s.Ref)
	if err != nil && !errors.Is(err, frontdoor.ErrNoProfile) {
		// The form still works; the customer fills it in.
		h.log.Warn("web: the customer's profile could not be read", "customer", s.ID.String(), "err", err)
	}
	h.renderApply(w, r, http.StatusOK, applyFormOf(prof), nil)
}

func (h *Handler) renderApply(w http.ResponseWriter, r *http.Request, status int, v *applyView, f *flash) {
	p := h.newPage(r, h.lang(w, r), "apply", "apply.title")
	p.Apply, p.Flash = v, f
	h.render(w, status, p)
}

// apply takes the application form: it checks the CSRF token, starts the
// plan (the request id the form carries makes a second submission reach
// the same plan) and shows it once the credit decision is made. Bad input
// re-renders the form with what was typed and the error in plain words.
func (h *Handler) apply(w http.ResponseWriter, r *http.Request) {
	if h.applier == nil {
		h.notFound(w, r)
		return
	}
	s, _ := sessionFrom(r.Context())
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		h.errorPage(w, r, http.StatusBadRequest, "err.form")
		return
	}
	if !h.checkCSRF(r, s.token) {
		h.log.Warn("web: an application without a valid CSRF token", "customer", s.ID.String())
		h.errorPage(w, r, http.StatusForbidden, "err.csrf")
		return
	}
	f := &form{r: r}
	v := &applyView{
		RequestID: f.str("request_id"), Amount: f.str("amount"), Terms: f.str("terms"), Name: f.str("name"),
		IDNumber: f.str("id_number"), Age: f.str("age"), Occupation: f.str("occupation"), Phone: f.str("phone"),
		Email: f.str("email"), Income: f.str("monthly_income"), Debts: f.str("monthly_debt_payments"),
		Assets: f.str("assets"), Liabilities: f.str("liabilities"), Spend: f.str("monthly_spend"),
		Channel: f.str("preferred_channel"), Consent: f.bool("consent"), TermChoices: termChoices, Channels: channels,
	}
	if err := plan.ValidateRequestID(v.RequestID); err != nil {
		h.errorPage(w, r, http.StatusBadRequest, "err.form")
		return
	}
	// What the form does not ask (credit history, push id, time zone) is
	// kept from the customer's last application.
	c, err := h.applier.CustomerProfile(r.Context(), s.Ref)
	if err != nil && !errors.Is(err, frontdoor.ErrNoProfile) {
		h.log.Warn("web: the customer's profile could not be read", "customer", s.ID.String(), "err", err)
	}
	c.Ref, c.Name, c.IDNumber, c.Occupation, c.Phone, c.Email = s.Ref, v.Name, v.IDNumber, v.Occupation, v.Phone, v.Email
	c.Age = f.int("age")
	c.MonthlyIncome, c.MonthlyDebtPayments = f.money("monthly_income"), f.money("monthly_debt_payments")
	c.Assets, c.Liabilities, c.MonthlySpend = f.money("assets"), f.money("liabilities"), f.money("monthly_spend")
	c.PreferredChannel = plan.Channel(v.Channel)
	app := plan.Application{
		RequestID: v.RequestID, Customer: c, Amount: f.money("amount"), Terms: f.int("terms"),
		Origin: plan.Origin{Kind: "own"},
	}
	switch {
	case f.err != nil:
		err = f.err
	case !v.Consent:
		err = &plan.ValidationError{Field: "consent_credit", Reason: translate(h.lang(w, r), "apply.consent_required")}
	default:
		err = app.Validate()
	}
	var applied frontdoor.Applied
	if err == nil {
		applied, err = h.applier.Apply(r.Context(), app)
	}
	if err != nil {
		// The form's own names for the application's amount and terms.
		var inv *plan.ValidationError
		if errors.As(err, &inv) && (inv.Field == "amount" || inv.Field == "terms") {
			err = &plan.ValidationError{Field: inv.Field + "_requested", Reason: inv.Reason}
		}
		var num *numberError
		if errors.As(err, &num) && (num.field == "amount" || num.field == "terms") {
			err = &numberError{field: num.field + "_requested"}
		}
		status, text := h.explain(r, h.lang(w, r), err)
		h.renderApply(w, r, status, v, &flash{Kind: "error", Text: text})
		return
	}
	h.log.Info("web: applied", "customer", s.ID.String(), "plan", applied.PlanID, "state", string(applied.State))
	http.Redirect(w, r, "/app/plans/"+url.PathEscape(applied.PlanID), http.StatusSeeOther)
}
