package web

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"

	"github.com/shopspring/decimal"

	"github.com/fenqi/fenqi/frontdoor"
	"github.com/fenqi/fenqi/plan"
)

// progressView is a plan's progress: instalments and amount paid of the
// total (as `starter status` prints it).
type progressView struct {
	PaidN, TotalN int
	// Paid and Total are formatted; PaidValue and TotalValue are plain
	// decimals for the <progress> element and the tests.
	Paid, Total           string
	PaidValue, TotalValue string
	Percent               int
}

// planSummary is one plan of the list.
type planSummary struct {
	ID         string
	State      string
	StateLabel string
	Progress   *progressView
	Next       string
}

// rowView is one row of the schedule.
type rowView struct {
	No                                int
	Due                               string
	Principal, Interest, Fee, Payment string
	Status, StatusLabel               string
	Holiday                           bool
}

// overdueView is what is overdue, by component.
type overdueView struct {
	DaysPastDue                       int
	Principal, Interest, Fee, Penalty string
	Total, OwedTotal, PayBy           string
}

type offerView struct {
	No                                   int
	Label, Amount, Instalment, Cost, APR string
	Terms                                int
}

type agreementView struct {
	Text, Hash string
	Version    int
}

// planView is one plan's page.
type planView struct {
	ID, State, StateLabel string
	Progress              *progressView
	Next                  string
	BusinessDate          string
	Reasons               []string
	CloseReason           string
	Offers                []offerView
	OfferSet              int
	OffersExpire          string
	Agreement             *agreementView
	AgreementMissing      bool
	Schedule              []rowView
	Overdue               *overdueView
	Active, Signing       bool
	Offered, Waiting      bool
	AwaitingApproval      bool
	Complaints            []plan.Complaint
	// Result is the answer to the request named by ?r=.
	Result *requestView
}

// requestView is the answer to one request.
type requestView struct {
	ID       string
	Found    bool
	Accepted bool
	Reason   string
	// Quote is the quote to confirm (IsQuote) or the quote confirmed.
	Quote   *quoteView
	IsQuote bool
	// Action is where the confirmation is posted.
	Action string
}

type quoteView struct {
	ID, Kind, KindLabel, Summary   string
	Eligible, NeedsApproval        bool
	Refusal                        string
	DueNow, Fee, Instalment, Total string
	Before, After                  figuresView
	Expires                        string
}

type figuresView struct {
	Instalments           int
	Instalment, Remaining string
	APR                   string
}

func progressOf(st plan.Status) *progressView {
	if st.TotalInstallments == 0 {
		return nil
	}
	p := &progressView{
		PaidN: st.PaidInstallments, TotalN: st.TotalInstallments,
		Paid: money(st.PaidAmount), Total: money(st.TotalAmount),
		PaidValue: st.PaidAmount.StringFixed(2), TotalValue: st.TotalAmount.StringFixed(2),
	}
	if st.TotalAmount.IsPositive() {
		p.Percent = int(st.PaidAmount.Mul(decimal.NewFromInt(100)).Div(st.TotalAmount).IntPart())
	}
	p.Percent = max(0, min(p.Percent, 100))
	return p
}

// nextText says what is due next, as `starter status` does.
func nextText(lang string, st plan.Status) string {
	if st.TotalInstallments == 0 {
		return ""
	}
	switch left := st.TotalAmount.Sub(st.PaidAmount); {
	case !st.NextDueDate.IsZero():
		return translate(lang, "next.due", st.NextDueDate.String(), money(st.NextDueAmount))
	case st.PaidInstallments < st.TotalInstallments && left.IsPositive():
		return translate(lang, "next.overdue", money(left))
	}
	return translate(lang, "next.none")
}

func stateLabel(lang string, s plan.State) string { return translate(lang, "state."+string(s)) }

// listPage lists the customer's plans.
func (h *Handler) listPage(w http.ResponseWriter, r *http.Request) {
	lang := h.lang(w, r)
	s, _ := sessionFrom(r.Context())
	p := h.newPage(r, lang, "list", "list.title")
	if h.lister == nil {
		p.Unlisted = true
		h.render(w, http.StatusOK, p)
		return
	}
	ids, err := h.lister.CustomerPlans(r.Context(), s.ID)
	if errors.Is(err, frontdoor.ErrNoStore) {
		p.Unlisted = true
		h.render(w, http.StatusOK, p)
		return
	}
	if err != nil {
		h.failPage(w, r, err)
		return
	}
	for _, id := range ids {
		st, err := h.door.Status(r.Context(), id)
		if err != nil {
			// A plan whose workflow cannot be read right now is listed by
			// its id alone.
			h.log.Warn("web: a plan of the list could not be read", "plan", id, "err", err)
			p.Plans = append(p.Plans, planSummary{ID: id})
			continue
		}
		if st.CustomerID != s.ID.String() {
			continue
		}
		p.Plans = append(p.Plans, planSummary{
			ID: id, State: string(st.State), StateLabel: stateLabel(lang, st.State),
			Progress: progressOf(st), Next: nextText(lang, st),
		})
	}
	h.render(w, http.StatusOK, p)
}

// planPage shows one plan.
func (h *Handler) planPage(w http.ResponseWriter, r *http.Request, st plan.Status) {
	h.renderPlan(w, r, st, http.StatusOK, nil)
}

// renderPlan shows the plan's page with status and a flash message.
func (h *Handler) renderPlan(w http.ResponseWriter, r *http.Request, st plan.Status, status int, f *flash) {
	lang := h.lang(w, r)
	p := h.newPage(r, lang, "plan", "plan.title")
	p.Flash = f
	// After a form's error the path is the form's action: the language
	// switch goes to the plan's page.
	p.Path = "/app/plans/" + r.PathValue("id")
	v := &planView{
		ID: st.PlanID, State: string(st.State), StateLabel: stateLabel(lang, st.State),
		Progress: progressOf(st), Next: nextText(lang, st), Reasons: st.Reasons, CloseReason: st.CloseReason,
		Active: st.State == plan.StateActive, Signing: st.State == plan.StateSigning, Offered: st.State == plan.StateOffered,
		Waiting:          st.State == plan.StateAssessing || st.State == plan.StateReview,
		AwaitingApproval: st.AwaitingApproval != nil, Complaints: st.Complaints, OfferSet: st.OfferSet,
	}
	if v.ID == "" {
		v.ID = r.PathValue("id")
	}
	if !st.BusinessDate.IsZero() {
		v.BusinessDate = translate(lang, "plan.business_date", st.BusinessDate.String())
	}
	if v.Offered {
		for _, o := range st.Offers {
			v.Offers = append(v.Offers, offerView{No: o.No, Label: o.Label, Amount: money(o.Amount), Instalment: money(o.Instalment),
				Cost: money(o.TotalCost), APR: o.APRNominal.StringFixed(2) + "%", Terms: o.Terms})
		}
		if !st.OffersExpireAt.IsZero() {
			v.OffersExpire = translate(lang, "offers.expire", st.OffersExpireAt.Format("2006-01-02 15:04"))
		}
	}
	for _, row := range st.Schedule {
		v.Schedule = append(v.Schedule, rowView{
			No: row.No, Due: row.DueDate.String(), Principal: money(row.Principal), Interest: money(row.Interest),
			Fee: money(row.Fee), Payment: money(row.Payment), Status: string(row.Status),
			StatusLabel: translate(lang, "inst."+string(row.Status)), Holiday: row.Holiday,
		})
	}
	if st.AgreementHash != "" {
		a, err := h.door.Agreement(r.Context(), v.ID)
		if err != nil {
			h.log.Warn("web: agreement not read", "plan", v.ID, "err", err)
			v.AgreementMissing = true
		} else {
			v.Agreement = &agreementView{Text: a.Text, Hash: a.SHA256, Version: a.Version}
		}
	}
	if v.Active {
		cs, err := h.door.Collection(r.Context(), v.ID)
		switch {
		case err != nil:
			h.log.Warn("web: collection status not read", "plan", v.ID, "err", err)
		case cs.Overdue.Total().IsPositive() || cs.DaysPastDue > 0:
			o := &overdueView{
				DaysPastDue: cs.DaysPastDue, Principal: money(cs.Overdue.Principal), Interest: money(cs.Overdue.Interest),
				Fee: money(cs.Overdue.Fee), Penalty: money(cs.Overdue.Penalty), Total: money(cs.Overdue.Total()),
				OwedTotal: money(cs.OwedTotal),
			}
			if !cs.PayBy.IsZero() {
				o.PayBy = cs.PayBy.String()
			}
			v.Overdue = o
		}
	}
	if rid := r.URL.Query().Get("r"); rid != "" {
		v.Result = h.answerOf(lang, st, rid)
	}
	p.Plan = v
	h.render(w, status, p)
}

// answerOf finds the plan's answer to request rid among its recent
// replies.
func (h *Handler) answerOf(lang string, st plan.Status, rid string) *requestView {
	rv := &requestView{ID: rid}
	i := slices.IndexFunc(st.RecentReplies, func(rp plan.Reply) bool { return rp.RequestID == rid })
	if i < 0 {
		return rv
	}
	rp := st.RecentReplies[i]
	rv.Found, rv.Accepted, rv.Reason = true, rp.Accepted, rp.Reason
	if q := rp.Quote; q != nil {
		rv.IsQuote = q.RequestID == rid
		if rv.Reason == "" && !rv.Accepted {
			rv.Reason = q.Refusal
		}
		qv := &quoteView{
			ID: q.ID, Kind: q.Kind, KindLabel: translate(lang, "kind."+q.Kind), Summary: q.Summary,
			Eligible: q.Eligible, NeedsApproval: q.NeedsApproval, Refusal: q.Refusal,
			DueNow: money(q.DueNow), Fee: money(q.Fee), Instalment: money(q.Instalment), Total: money(q.TotalPayable),
			Before: figuresOf(q.Before), After: figuresOf(q.After),
		}
		if !q.ExpiresAt.IsZero() {
			qv.Expires = translate(lang, "quote.expires", q.ExpiresAt.Format("2006-01-02 15:04"))
		}
		rv.Quote = qv
		rv.Action = fmt.Sprintf("/app/plans/%s/%s", st.PlanID, q.Kind)
	}
	return rv
}

func figuresOf(f plan.Figures) figuresView {
	return figuresView{Instalments: f.Instalments, Instalment: money(f.Instalment), Remaining: money(f.Remaining),
		APR: f.APRNominal.StringFixed(2) + "%"}
}

// requestPage shows the answer to a request: a quote with the form that
// confirms it, or the outcome.
func (h *Handler) requestPage(w http.ResponseWriter, r *http.Request, st plan.Status) {
	lang := h.lang(w, r)
	p := h.newPage(r, lang, "request", "request.title")
	if st.PlanID == "" {
		st.PlanID = r.PathValue("id")
	}
	p.Plan = &planView{ID: st.PlanID, State: string(st.State), StateLabel: stateLabel(lang, st.State)}
	p.Request = h.answerOf(lang, st, r.PathValue("rid"))
	h.render(w, http.StatusOK, p)
}

// agreementText downloads the agreement as text.
func (h *Handler) agreementText(w http.ResponseWriter, r *http.Request, st plan.Status) {
	a, err := h.door.Agreement(r.Context(), r.PathValue("id"))
	if err != nil {
		h.failPage(w, r, err)
		return
	}
	if a.PlanID == "" {
		a.PlanID = st.PlanID
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="agreement-%s-v%d.txt"`, a.PlanID, a.Version))
	w.Header().Set("X-Agreement-SHA256", a.SHA256)
	_, _ = io.WriteString(w, a.Text)
}
