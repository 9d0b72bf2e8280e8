package plan

import (
	"strconv"
	"time"

	"github.com/shopspring/decimal"

	"github.com/fenqi/fenqi/calc"
)

// Messages of an active plan: customer requests (quote, then confirm) and
// operator actions. Each is accepted as a Signal and as an Update.
const (
	// MsgCancel carries a CancelRequest.
	MsgCancel = "cancel"
	// MsgRestructure carries a RestructureRequest.
	MsgRestructure = "restructure"
	// MsgHoliday carries a HolidayRequest.
	MsgHoliday = "holiday"
	// MsgPrepay carries a PrepayRequest.
	MsgPrepay = "prepay"
	// MsgWaive carries an operator's WaiveRequest.
	MsgWaive = "waive"
	// MsgApprove carries an operator's ApprovalDecision on a confirmed
	// request that needs one.
	MsgApprove = "approve-request"
	// MsgComplain carries a ComplaintRequest.
	MsgComplain = "complain"
	// MsgResolve carries an operator's ResolveRequest closing a complaint.
	MsgResolve = "resolve-complaint"
)

// ChangeKinds lists the requests that are quoted, then confirmed.
var ChangeKinds = []string{MsgCancel, MsgRestructure, MsgHoliday, MsgPrepay, MsgWaive, MsgArrearsPlan}

// ChangeRequest is a request that is quoted first and then confirmed by
// quoting the quote's id: without QuoteID it asks for a quote (nothing
// changes); with it, it confirms that quote. A confirmation may repeat the
// request's terms (they must be the quote's) or leave them out.
type ChangeRequest interface {
	Request
	// Kind is the message name (MsgCancel ...).
	Kind() string
	// Quote is the quote id being confirmed, "" for a quote.
	Quote() string
	// TermsKey identifies the terms asked for ("" when none are given).
	TermsKey() string
}

// CancelMode is how a cancelled instalment arrangement is settled.
type CancelMode string

// The cancellation modes.
const (
	// CancelLumpSum settles everything in one payment, now or on the next
	// due date.
	CancelLumpSum CancelMode = "lump-sum"
	// CancelFewerTerms spreads the settlement amount over fewer instalments,
	// with no further interest.
	CancelFewerTerms CancelMode = "fewer-terms"
)

// CancelRequest cancels the instalment arrangement after purchase
// (domain.md §4): the customer repays in one lump sum or over fewer terms,
// with the product's cancellation fee.
//
//	{"request_id": "c-1", "mode": "lump-sum"}
//	{"request_id": "c-2", "quote_id": "<from the quote>"}
type CancelRequest struct {
	RequestID string     `json:"request_id"`
	Mode      CancelMode `json:"mode,omitempty"`
	// Terms is the new number of instalments (fewer-terms).
	Terms int `json:"terms,omitempty"`
	// AtNextDue makes a lump sum due on the next due date instead of now.
	AtNextDue bool   `json:"at_next_due,omitempty"`
	QuoteID   string `json:"quote_id,omitempty"`
}

// ID is the request id.
func (r CancelRequest) ID() string { return r.RequestID }

// Kind is MsgCancel.
func (r CancelRequest) Kind() string { return MsgCancel }

// Quote is the quote confirmed.
func (r CancelRequest) Quote() string { return r.QuoteID }

// TermsKey identifies the terms asked for.
func (r CancelRequest) TermsKey() string {
	if r.Mode == "" && r.Terms == 0 && !r.AtNextDue {
		return ""
	}
	return hashOf(string(r.Mode), strconv.Itoa(r.Terms), strconv.FormatBool(r.AtNextDue))
}

// Validate checks the request's shape.
func (r CancelRequest) Validate() error {
	if err := validateChange(r.RequestID, r.QuoteID, r.TermsKey()); err != nil {
		return err
	}
	switch r.Mode {
	case "":
		if r.QuoteID == "" {
			return invalid("mode", "must be %s or %s", CancelLumpSum, CancelFewerTerms)
		}
	case CancelLumpSum:
		if r.Terms != 0 {
			return invalid("terms", "applies to mode %s only", CancelFewerTerms)
		}
	case CancelFewerTerms:
		if r.Terms < 1 || r.Terms > calc.MaxTerms {
			return invalid("terms", "must be the new number of instalments, 1 to %d, got %d", calc.MaxTerms, r.Terms)
		}
		if r.AtNextDue {
			return invalid("at_next_due", "applies to mode %s only", CancelLumpSum)
		}
	default:
		return invalid("mode", "must be %s or %s, got %q", CancelLumpSum, CancelFewerTerms, r.Mode)
	}
	if r.Mode == "" && (r.Terms != 0 || r.AtNextDue) {
		return invalid("mode", "is required with terms or at_next_due")
	}
	return nil
}

// Fingerprint identifies the request's content.
func (r CancelRequest) Fingerprint() string {
	return hashOf(MsgCancel, r.TermsKey(), r.QuoteID)
}

// RestructureRequest adjusts the plan of a customer in temporary
// difficulty: more terms, a lower instalment, or another frequency.
//
//	{"request_id": "r-1", "terms": 18}
//	{"request_id": "r-2", "max_instalment": "500.00"}
//	{"request_id": "r-3", "frequency": "quarterly", "terms": 4}
type RestructureRequest struct {
	RequestID string `json:"request_id"`
	// Terms is the new number of remaining instalments.
	Terms int `json:"terms,omitempty"`
	// MaxInstalment asks for the fewest instalments whose instalment is at
	// most this.
	MaxInstalment decimal.Decimal `json:"max_instalment"`
	// Frequency changes how often instalments fall due.
	Frequency calc.Frequency `json:"frequency,omitempty"`
	// Reason is the customer's circumstances, in their words.
	Reason  string `json:"reason,omitempty"`
	QuoteID string `json:"quote_id,omitempty"`
}

// ID is the request id.
func (r RestructureRequest) ID() string { return r.RequestID }

// Kind is MsgRestructure.
func (r RestructureRequest) Kind() string { return MsgRestructure }

// Quote is the quote confirmed.
func (r RestructureRequest) Quote() string { return r.QuoteID }

// TermsKey identifies the terms asked for.
func (r RestructureRequest) TermsKey() string {
	if r.Terms == 0 && r.MaxInstalment.IsZero() && r.Frequency == "" {
		return ""
	}
	return hashOf(strconv.Itoa(r.Terms), r.MaxInstalment.String(), string(r.Frequency))
}

// Validate checks the request's shape.
func (r RestructureRequest) Validate() error {
	if err := validateChange(r.RequestID, r.QuoteID, r.TermsKey()); err != nil {
		return err
	}
	if r.Terms < 0 || r.Terms > calc.MaxTerms {
		return invalid("terms", "must be between 1 and %d, got %d", calc.MaxTerms, r.Terms)
	}
	if err := validateMoney("max_instalment", r.MaxInstalment, false); err != nil {
		return err
	}
	if r.MaxInstalment.GreaterThan(MaxAmount) {
		return invalid("max_instalment", "must be at most %s, got %s", MaxAmount, r.MaxInstalment)
	}
	if r.Frequency != "" {
		if err := r.Frequency.Validate(); err != nil {
			return invalid("frequency", "%v", err)
		}
	}
	if r.Terms > 0 && r.MaxInstalment.IsPositive() {
		return invalid("terms", "give either terms or max_instalment, not both")
	}
	if r.QuoteID == "" && r.TermsKey() == "" {
		return invalid("restructure", "asks for nothing: give terms, max_instalment or a frequency")
	}
	return validateText("reason", r.Reason, false)
}

// Fingerprint identifies the request's content.
func (r RestructureRequest) Fingerprint() string {
	return hashOf(MsgRestructure, r.TermsKey(), r.Reason, r.QuoteID)
}

// HolidayRequest pauses the next Periods instalments (a payment holiday);
// the schedule resumes after them.
//
//	{"request_id": "h-1", "periods": 2, "reason": "hospital stay"}
type HolidayRequest struct {
	RequestID string `json:"request_id"`
	Periods   int    `json:"periods,omitempty"`
	Reason    string `json:"reason,omitempty"`
	QuoteID   string `json:"quote_id,omitempty"`
}

// ID is the request id.
func (r HolidayRequest) ID() string { return r.RequestID }

// Kind is MsgHoliday.
func (r HolidayRequest) Kind() string { return MsgHoliday }

// Quote is the quote confirmed.
func (r HolidayRequest) Quote() string { return r.QuoteID }

// TermsKey identifies the terms asked for.
func (r HolidayRequest) TermsKey() string {
	if r.Periods == 0 {
		return ""
	}
	return strconv.Itoa(r.Periods)
}

// Validate checks the request's shape.
func (r HolidayRequest) Validate() error {
	if err := validateChange(r.RequestID, r.QuoteID, r.TermsKey()); err != nil {
		return err
	}
	if r.Periods < 0 || r.Periods > calc.MaxTerms || (r.QuoteID == "" && r.Periods == 0) {
		return invalid("periods", "must be the number of instalments to pause, from 1, got %d", r.Periods)
	}
	return validateText("reason", r.Reason, false)
}

// Fingerprint identifies the request's content.
func (r HolidayRequest) Fingerprint() string {
	return hashOf(MsgHoliday, r.TermsKey(), r.Reason, r.QuoteID)
}

// Reduce is what a partial early repayment lowers.
type Reduce string

// What a partial early repayment lowers.
const (
	// ReduceInstalment keeps the number of instalments and lowers each.
	ReduceInstalment Reduce = "instalment"
	// ReduceTerm keeps the instalment and ends the plan sooner.
	ReduceTerm Reduce = "term"
)

// PrepayRequest repays early: in full (no Amount; the plan closes) or in
// part (Amount of principal, plus anything past due and the product's
// early settlement charge), lowering the instalment or the term.
//
//	{"request_id": "p-1"}
//	{"request_id": "p-2", "amount": "2000.00", "reduce": "term"}
type PrepayRequest struct {
	RequestID string          `json:"request_id"`
	Amount    decimal.Decimal `json:"amount"`
	Reduce    Reduce          `json:"reduce,omitempty"`
	QuoteID   string          `json:"quote_id,omitempty"`
}

// ID is the request id.
func (r PrepayRequest) ID() string { return r.RequestID }

// Kind is MsgPrepay.
func (r PrepayRequest) Kind() string { return MsgPrepay }

// Quote is the quote confirmed.
func (r PrepayRequest) Quote() string { return r.QuoteID }

// Full reports whether the request repays everything.
func (r PrepayRequest) Full() bool { return r.Amount.IsZero() }

// TermsKey identifies the terms asked for. A quote with no amount asks to
// repay in full, so only a confirmation can leave its terms out.
func (r PrepayRequest) TermsKey() string {
	if r.QuoteID != "" && r.Amount.IsZero() && r.Reduce == "" {
		return ""
	}
	return hashOf(r.Amount.String(), string(r.Reduce))
}

// Validate checks the request's shape.
func (r PrepayRequest) Validate() error {
	if err := validateChange(r.RequestID, r.QuoteID, r.TermsKey()); err != nil {
		return err
	}
	if err := validateMoney("amount", r.Amount, false); err != nil {
		return err
	}
	if r.Amount.GreaterThan(MaxAmount) {
		return invalid("amount", "must be at most %s, got %s", MaxAmount, r.Amount)
	}
	switch r.Reduce {
	case "", ReduceInstalment, ReduceTerm:
	default:
		return invalid("reduce", "must be %s or %s, got %q", ReduceInstalment, ReduceTerm, r.Reduce)
	}
	if r.Reduce != "" && r.Amount.IsZero() {
		return invalid("reduce", "applies to a partial repayment: give an amount")
	}
	return nil
}

// Fingerprint identifies the request's content.
func (r PrepayRequest) Fingerprint() string {
	return hashOf(MsgPrepay, r.TermsKey(), r.QuoteID)
}

// WaiveRequest (operator only) forgives an amount of penalty, fee or
// interest, oldest instalment first, with a reason.
//
//	{"request_id": "w-1", "component": "interest", "amount": "50.00", "reason": "goodwill", "operator": "alice"}
type WaiveRequest struct {
	RequestID string          `json:"request_id"`
	Component calc.Component  `json:"component,omitempty"`
	Amount    decimal.Decimal `json:"amount"`
	Reason    string          `json:"reason,omitempty"`
	Operator  string          `json:"operator"`
	QuoteID   string          `json:"quote_id,omitempty"`
}

// ID is the request id.
func (r WaiveRequest) ID() string { return r.RequestID }

// Kind is MsgWaive.
func (r WaiveRequest) Kind() string { return MsgWaive }

// Quote is the quote confirmed.
func (r WaiveRequest) Quote() string { return r.QuoteID }

// TermsKey identifies the terms asked for.
func (r WaiveRequest) TermsKey() string {
	if r.Component == "" && r.Amount.IsZero() {
		return ""
	}
	return hashOf(string(r.Component), r.Amount.String())
}

// Validate checks the request's shape.
func (r WaiveRequest) Validate() error {
	if err := validateChange(r.RequestID, r.QuoteID, r.TermsKey()); err != nil {
		return err
	}
	if err := validateText("operator", r.Operator, true); err != nil {
		return err
	}
	if r.QuoteID != "" && r.TermsKey() == "" {
		return validateText("reason", r.Reason, false)
	}
	switch r.Component {
	case calc.ComponentPenalty, calc.ComponentFee, calc.ComponentInterest:
	default:
		return invalid("component", "must be penalty, fee or interest, got %q", r.Component)
	}
	if err := validateMoney("amount", r.Amount, true); err != nil {
		return err
	}
	if r.Amount.GreaterThan(MaxAmount) {
		return invalid("amount", "must be at most %s, got %s", MaxAmount, r.Amount)
	}
	return validateText("reason", r.Reason, true)
}

// Fingerprint identifies the request's content.
func (r WaiveRequest) Fingerprint() string {
	return hashOf(MsgWaive, r.TermsKey(), r.Reason, r.Operator, r.QuoteID)
}

// validateChange checks what every change request has: a request id, and
// a quote id that is well formed when given.
func validateChange(requestID, quoteID, termsKey string) error {
	if err := ValidateRequestID(requestID); err != nil {
		return err
	}
	if quoteID != "" {
		if err := ValidateRequestID(quoteID); err != nil {
			return invalid("quote_id", "%v", err)
		}
	}
	return nil
}

// ApprovalDecision is an operator's decision on a confirmed request that
// waits for one (some restructures). Simple enough for the Web UI's signal
// dialog:
//
//	{"request_id": "ap-1", "quote_id": "<quote>", "approve": true, "operator": "alice"}
type ApprovalDecision struct {
	RequestID string `json:"request_id"`
	QuoteID   string `json:"quote_id"`
	Approve   bool   `json:"approve"`
	Reason    string `json:"reason,omitempty"`
	Operator  string `json:"operator"`
}

// ID is the request id.
func (r ApprovalDecision) ID() string { return r.RequestID }

// Validate checks the decision's shape: a refusal needs a reason.
func (r ApprovalDecision) Validate() error {
	if err := ValidateRequestID(r.RequestID); err != nil {
		return err
	}
	if err := ValidateRequestID(r.QuoteID); err != nil {
		return invalid("quote_id", "%v", err)
	}
	if err := validateText("reason", r.Reason, !r.Approve); err != nil {
		return err
	}
	return validateText("operator", r.Operator, true)
}

// Fingerprint identifies the decision's content.
func (r ApprovalDecision) Fingerprint() string {
	return hashOf(MsgApprove, r.QuoteID, strconv.FormatBool(r.Approve), r.Reason, r.Operator)
}

// ComplaintRequest files a complaint. It opens a ticket for an operator
// and pauses collection contact (not the schedule) until it is resolved or
// the product's pause ends.
//
//	{"request_id": "cp-1", "text": "I was called three times today"}
type ComplaintRequest struct {
	RequestID string `json:"request_id"`
	Text      string `json:"text"`
}

// ID is the request id.
func (r ComplaintRequest) ID() string { return r.RequestID }

// Validate checks the complaint's shape.
func (r ComplaintRequest) Validate() error {
	if err := ValidateRequestID(r.RequestID); err != nil {
		return err
	}
	return validateText("text", r.Text, true)
}

// Fingerprint identifies the complaint's content.
func (r ComplaintRequest) Fingerprint() string { return hashOf(MsgComplain, r.Text) }

// ResolveRequest (operator only) resolves a complaint; the resolution text
// is sent to the customer.
//
//	{"request_id": "rs-1", "complaint": "cp-1", "resolution": "calls limited to one a day", "operator": "alice"}
type ResolveRequest struct {
	RequestID string `json:"request_id"`
	// Complaint is the request id of the complaint.
	Complaint  string `json:"complaint"`
	Resolution string `json:"resolution"`
	Operator   string `json:"operator"`
}

// ID is the request id.
func (r ResolveRequest) ID() string { return r.RequestID }

// Validate checks the resolution's shape.
func (r ResolveRequest) Validate() error {
	if err := ValidateRequestID(r.RequestID); err != nil {
		return err
	}
	if err := ValidateRequestID(r.Complaint); err != nil {
		return invalid("complaint", "%v", err)
	}
	if err := validateText("resolution", r.Resolution, true); err != nil {
		return err
	}
	return validateText("operator", r.Operator, true)
}

// Fingerprint identifies the resolution's content.
func (r ResolveRequest) Fingerprint() string {
	return hashOf(MsgResolve, r.Complaint, r.Resolution, r.Operator)
}

// Quote is what a change request would do, returned with the reply to a
// quote and kept by the plan until it is confirmed, goes stale or expires.
// Amounts are in the plan's currency; rates in percent.
type Quote struct {
	// ID is quoted back to confirm.
	ID string `json:"id"`
	// Kind is the request (MsgCancel ...); RequestID the quote's request.
	Kind      string `json:"kind"`
	RequestID string `json:"request_id"`
	// TermsKey identifies the terms quoted (ChangeRequest.TermsKey).
	TermsKey string `json:"terms_key"`
	// Summary says in words what confirming does; Reason is the reason
	// given with the request (a waiver's applies even when the
	// confirmation leaves it out).
	Summary string `json:"summary"`
	Reason  string `json:"reason,omitempty"`
	// Eligible is false when the request is refused; Refusal says why.
	Eligible bool   `json:"eligible"`
	Refusal  string `json:"refusal,omitempty"`
	// NeedsApproval is true when an operator must approve after the
	// customer confirms.
	NeedsApproval bool `json:"needs_approval,omitempty"`
	// Revision is the plan's revision the quote was made on: any change to
	// the plan makes the quote stale.
	Revision int `json:"revision"`
	// AsOf is the business date of the quote; ExpiresAt (business time)
	// when it lapses.
	AsOf      calc.Date `json:"as_of"`
	ExpiresAt time.Time `json:"expires_at"`
	// ScheduleVersion is the schedule the quote replaces.
	ScheduleVersion int `json:"schedule_version"`

	// DueNow is collected from the customer's account when confirmed.
	DueNow decimal.Decimal `json:"due_now"`
	// Settlement itemises what settles the plan (cancel, prepay).
	Settlement *Settlement `json:"settlement,omitempty"`
	// Fee is the charge of the change: cancellation fee, early settlement
	// charge.
	Fee decimal.Decimal `json:"fee"`
	// Capitalised is interest or arrears added to the principal.
	Capitalised decimal.Decimal `json:"capitalised"`
	// PaidAhead is money already paid on instalments not yet due, applied to
	// the new schedule.
	PaidAhead decimal.Decimal `json:"paid_ahead"`
	// Penalty is the penalty carried onto the new schedule's first row.
	Penalty decimal.Decimal `json:"penalty"`
	// Waived lists what a waiver forgives, by instalment.
	Waived []Waived `json:"waived,omitempty"`
	// Schedule is the new schedule's instalments (empty for a waiver).
	Schedule []calc.Row `json:"schedule,omitempty"`
	// Instalment is the new regular instalment; TotalPayable what the new
	// schedule collects in all (penalty included).
	Instalment   decimal.Decimal `json:"instalment"`
	TotalPayable decimal.Decimal `json:"total_payable"`
	// Before and After are the remaining plan's figures before and after.
	Before Figures `json:"before"`
	After  Figures `json:"after"`
	// Params are the calculator's inputs of the new schedule (method, rates,
	// frequency, cadence), kept with the schedule version.
	Params ChangeParams `json:"params"`
}

// Figures describe the remaining plan: instalments, regular instalment,
// what is left to pay, and the annualised rates (percent, IRR).
type Figures struct {
	Instalments  int             `json:"instalments"`
	Instalment   decimal.Decimal `json:"instalment"`
	Remaining    decimal.Decimal `json:"remaining"`
	APRNominal   decimal.Decimal `json:"apr_nominal"`
	APREffective decimal.Decimal `json:"apr_effective"`
}

// Settlement itemises a settlement amount (calc.SettlementQuote).
type Settlement struct {
	Policy    calc.SettlementPolicy `json:"policy"`
	Principal decimal.Decimal       `json:"principal"`
	Interest  decimal.Decimal       `json:"interest"`
	Fee       decimal.Decimal       `json:"fee"`
	Penalty   decimal.Decimal       `json:"penalty"`
	Charge    decimal.Decimal       `json:"charge"`
	Total     decimal.Decimal       `json:"total"`
	PastDue   decimal.Decimal       `json:"past_due"`
}

// Waived is the part of a waiver applied to one instalment.
type Waived struct {
	No        int             `json:"no"`
	Component calc.Component  `json:"component"`
	Amount    decimal.Decimal `json:"amount"`
}

// ChangeParams are the terms of a changed schedule.
type ChangeParams struct {
	Method         calc.Method     `json:"method"`
	AnnualRate     decimal.Decimal `json:"annual_rate"`
	MonthlyFeeRate decimal.Decimal `json:"monthly_fee_rate"`
	Frequency      calc.Frequency  `json:"frequency"`
	// CadenceStart anchors the due dates: row k of the cadence is due
	// CadenceStart + k periods.
	CadenceStart calc.Date `json:"cadence_start"`
	// Closes is true when confirming settles the plan (it closes once paid).
	Closes bool `json:"closes,omitempty"`
	// Cancels is true for a cancellation (the plan's end is recorded as
	// cancelled and settled).
	Cancels bool `json:"cancels,omitempty"`
	// Paused is the number of instalments a payment holiday pauses.
	Paused int `json:"paused,omitempty"`
}
