package plan

import (
	"encoding/json"
	"time"

	"github.com/shopspring/decimal"

	"github.com/fenqi/fenqi/calc"
)

// Offer is one option put to the customer, with its cost disclosed.
type Offer struct {
	No        int             `json:"no"`
	Method    calc.Method     `json:"method"`
	Amount    decimal.Decimal `json:"amount"`
	Terms     int             `json:"terms"`
	Frequency calc.Frequency  `json:"frequency"`
	// AnnualRate is the contract interest rate (fraction, 0.12 = 12%).
	AnnualRate decimal.Decimal `json:"annual_rate"`
	// MonthlyFeeRate is the fee plan's rate (fraction of the principal).
	MonthlyFeeRate decimal.Decimal `json:"monthly_fee_rate"`
	FeeUpfront     bool            `json:"fee_upfront,omitempty"`
	// Instalment is the first (for level plans: every) instalment.
	Instalment decimal.Decimal `json:"instalment"`
	// TotalCost is interest plus fees over the whole plan.
	TotalCost    decimal.Decimal `json:"total_cost"`
	TotalPayment decimal.Decimal `json:"total_payment"`
	// APRNominal and APREffective are the annualised rates in percent.
	APRNominal   decimal.Decimal `json:"apr_nominal"`
	APREffective decimal.Decimal `json:"apr_effective"`
	// Label is a short description for the customer.
	Label string `json:"label"`
}

// CalcTerms returns the calculator's terms for o starting on start.
func (o Offer) CalcTerms(start calc.Date) calc.Terms {
	return calc.Terms{
		Method: o.Method, Principal: o.Amount, Terms: o.Terms, AnnualRate: o.AnnualRate,
		MonthlyFeeRate: o.MonthlyFeeRate, FeeUpfront: o.FeeUpfront, Frequency: o.Frequency, Start: start,
	}
}

// InstalmentStatus is where one instalment stands.
type InstalmentStatus string

// The statuses of an instalment.
const (
	InstalmentPending       InstalmentStatus = "pending"
	InstalmentDue           InstalmentStatus = "due"
	InstalmentPaid          InstalmentStatus = "paid"
	InstalmentPartiallyPaid InstalmentStatus = "partially_paid"
	InstalmentOverdue       InstalmentStatus = "overdue"
	InstalmentWaived        InstalmentStatus = "waived"
)

// ScheduleRow is a schedule row (as `starter schedule --json` prints it)
// with its status.
type ScheduleRow struct {
	calc.Row
	Status InstalmentStatus `json:"status"`
}

// MarshalJSON writes the row's schedule fields and its status.
func (r ScheduleRow) MarshalJSON() ([]byte, error) {
	type wire struct {
		calc.RowJSON
		Status InstalmentStatus `json:"status"`
	}
	return json.Marshal(wire{RowJSON: r.Row.JSON(), Status: r.Status})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (r *ScheduleRow) UnmarshalJSON(b []byte) error {
	var w struct {
		calc.RowJSON
		Status InstalmentStatus `json:"status"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	row, err := w.RowJSON.Row()
	if err != nil {
		return err
	}
	*r = ScheduleRow{Row: row, Status: w.Status}
	return nil
}

// Status is what a plan reports to a Query: enough for the customer's page
// and the operator's view. Keys that do not apply yet are present with
// zero values.
type Status struct {
	PlanID     string `json:"plan_id"`
	State      State  `json:"state"`
	CustomerID string `json:"customer_id"`
	// ApplicationFingerprint identifies the application's content.
	ApplicationFingerprint string `json:"application_fingerprint"`
	// Reasons explain a decline, an expiry or a withdrawal.
	Reasons []string `json:"reasons"`
	// Assessment outcome.
	Score       int             `json:"score"`
	Tier        string          `json:"tier"`
	CreditLimit decimal.Decimal `json:"credit_limit"`
	// Offers is the current offer set, numbered OfferSet (from 1);
	// OfferRound counts the counter-offer rounds used.
	Offers           []Offer   `json:"offers"`
	OfferSet         int       `json:"offer_set"`
	OfferRound       int       `json:"offer_round"`
	CounterRoundsMax int       `json:"counter_rounds_max"`
	OffersExpireAt   time.Time `json:"offers_expire_at"`
	ChosenOffer      int       `json:"chosen_offer"`
	// The agreement to sign (its text: the "agreement" query).
	AgreementHash     string    `json:"agreement_hash"`
	AgreementExpireAt time.Time `json:"agreement_expire_at"`
	SignedAt          time.Time `json:"signed_at"`
	// The schedule and progress.
	Schedule             []ScheduleRow   `json:"schedule"`
	PaidInstallments     int             `json:"paid_installments"`
	TotalInstallments    int             `json:"total_installments"`
	OutstandingPrincipal decimal.Decimal `json:"outstanding_principal"`
	DaysPastDue          int             `json:"days_past_due"`
	Bucket               string          `json:"bucket"`
	// Progress: what is paid of the total to pay, and what comes next.
	PaidAmount    decimal.Decimal `json:"paid_amount"`
	TotalAmount   decimal.Decimal `json:"total_amount"`
	NextDueDate   calc.Date       `json:"next_due_date"`
	NextDueAmount decimal.Decimal `json:"next_due_amount"`
	// FailedDebits counts the auto-debits declined so far (insufficient
	// funds), a sign of risk.
	FailedDebits int `json:"failed_debits"`
	// BusinessDate is the plan's calendar date now (on a compressed
	// calendar, far ahead of the wall clock).
	BusinessDate calc.Date `json:"business_date"`
	UpdatedAt    time.Time `json:"updated_at"`
	// RecentReplies answers the latest requests (Signals included),
	// newest last, refusals with their reason.
	RecentReplies []Reply `json:"recent_replies"`
	// ScheduleVersion is the current schedule (1 at activation; every
	// confirmed change adds one); Revision counts every change to the plan,
	// which makes earlier quotes stale.
	ScheduleVersion int `json:"schedule_version"`
	Revision        int `json:"revision"`
	// AwaitingApproval is a confirmed request waiting for an operator.
	AwaitingApproval *Quote `json:"awaiting_approval,omitempty"`
	// Complaints are the plan's open complaints; while one is open,
	// collection contact is paused until ContactPausedUntil (business time).
	Complaints         []Complaint `json:"complaints"`
	ContactPausedUntil time.Time   `json:"contact_paused_until"`
	// CloseReason says how a closed plan ended (paid off, cancelled and
	// settled, repaid early).
	CloseReason string `json:"close_reason,omitempty"`
}

// Complaint is an open complaint on a plan.
type Complaint struct {
	RequestID string    `json:"request_id"`
	Text      string    `json:"text"`
	OpenedAt  time.Time `json:"opened_at"`
	// PauseUntil is when collection contact resumes unless resolved first.
	PauseUntil time.Time `json:"pause_until"`
}

// Agreement is the document a customer reads and signs.
type Agreement struct {
	PlanID  string `json:"plan_id"`
	Version int    `json:"version"`
	Text    string `json:"text"`
	SHA256  string `json:"sha256"`
	// Start is the plan's start date the schedule in the text runs from.
	Start calc.Date `json:"start"`
}

func money(d decimal.Decimal) string { return calc.FormatMoney(d) }

func rate(d decimal.Decimal) string { return d.StringFixed(calc.RatePlaces) }

// MarshalJSON writes money with exactly 2 decimals and annualised rates
// with 4, as everywhere in fenqi's output.
func (o Offer) MarshalJSON() ([]byte, error) {
	type plain Offer
	return json.Marshal(struct {
		plain
		Amount       string `json:"amount"`
		Instalment   string `json:"instalment"`
		TotalCost    string `json:"total_cost"`
		TotalPayment string `json:"total_payment"`
		APRNominal   string `json:"apr_nominal"`
		APREffective string `json:"apr_effective"`
	}{plain(o), money(o.Amount), money(o.Instalment), money(o.TotalCost), money(o.TotalPayment), rate(o.APRNominal), rate(o.APREffective)})
}

// MarshalJSON writes money with exactly 2 decimals and lists as [] rather
// than null.
func (s Status) MarshalJSON() ([]byte, error) {
	type plain Status
	p := plain(s)
	if p.Reasons == nil {
		p.Reasons = []string{}
	}
	if p.Offers == nil {
		p.Offers = []Offer{}
	}
	if p.Schedule == nil {
		p.Schedule = []ScheduleRow{}
	}
	if p.RecentReplies == nil {
		p.RecentReplies = []Reply{}
	}
	if p.Complaints == nil {
		p.Complaints = []Complaint{}
	}
	return json.Marshal(struct {
		plain
		CreditLimit          string `json:"credit_limit"`
		OutstandingPrincipal string `json:"outstanding_principal"`
		PaidAmount           string `json:"paid_amount"`
		TotalAmount          string `json:"total_amount"`
		NextDueAmount        string `json:"next_due_amount"`
	}{p, money(s.CreditLimit), money(s.OutstandingPrincipal), money(s.PaidAmount), money(s.TotalAmount), money(s.NextDueAmount)})
}

// ContactStatus says when the customer may next be contacted under the
// contact rules (business time), on which channel, and why not earlier.
type ContactStatus struct {
	PlanID      string    `json:"plan_id"`
	Now         time.Time `json:"now"`
	NextAllowed time.Time `json:"next_allowed"`
	Channel     Channel   `json:"channel"`
	// Reason is empty when a contact is allowed now.
	Reason string `json:"reason"`
	// RecentContacts is the contact history the rules look at.
	RecentContacts []ContactEvent `json:"recent_contacts"`
}

// ContactEvent is one contact with the customer (business time).
type ContactEvent struct {
	At      time.Time `json:"at"`
	Channel string    `json:"channel"`
	Outcome string    `json:"outcome"`
}
