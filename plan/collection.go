package plan

import (
	"strconv"
	"time"

	"github.com/shopspring/decimal"

	"github.com/fenqi/fenqi/calc"
	"github.com/fenqi/fenqi/clock"
	"github.com/fenqi/fenqi/collection"
)

// Messages of a plan in collection: the debtor's promise to pay, the
// operator's decisions (legal referral, write-off, hardship grace) and the
// negotiated arrears plan (quoted, then confirmed, like the other change
// requests). Each is accepted as a Signal and as an Update, with JSON
// simple enough for the Web UI's signal dialog.
const (
	// MsgPromise carries the debtor's PromiseRequest.
	MsgPromise = "promise"
	// MsgRefer carries an operator's ReferralRequest.
	MsgRefer = "refer"
	// MsgWriteOff carries an operator's WriteOffRequest.
	MsgWriteOff = "write-off"
	// MsgExtendGrace carries an operator's GraceRequest.
	MsgExtendGrace = "extend-grace"
	// MsgArrearsPlan carries an ArrearsPlanRequest.
	MsgArrearsPlan = "arrears-plan"
	// QueryCollection returns a CollectionStatus.
	QueryCollection = "collection"
)

// PromiseRequest is the debtor's promise to pay Amount by the end of Date
// (the customer's time zone). Collection contact pauses until then; a
// broken promise resumes the ladder one step up.
//
//	{"request_id": "pr-1", "date": "2026-12-05", "amount": "1200.00"}
type PromiseRequest struct {
	RequestID string          `json:"request_id"`
	Date      calc.Date       `json:"date"`
	Amount    decimal.Decimal `json:"amount"`
}

// ID is the request id.
func (r PromiseRequest) ID() string { return r.RequestID }

// Validate checks the promise's shape; the rules (how far ahead, how much)
// are checked by the plan against what it owes.
func (r PromiseRequest) Validate() error {
	if err := ValidateRequestID(r.RequestID); err != nil {
		return err
	}
	if r.Date.IsZero() {
		return invalid("date", "is required (YYYY-MM-DD)")
	}
	if err := validateMoney("amount", r.Amount, true); err != nil {
		return err
	}
	if r.Amount.GreaterThan(MaxAmount) {
		return invalid("amount", "must be at most %s, got %s", MaxAmount, r.Amount)
	}
	return nil
}

// Fingerprint identifies the promise's content.
func (r PromiseRequest) Fingerprint() string {
	return hashOf(MsgPromise, r.Date.String(), r.Amount.String())
}

// ReferralRequest is an operator's decision on the legal referral raised
// at M4 and later: refer the debt for legal action, hold, or negotiate.
//
//	{"request_id": "rf-1", "decision": "refer", "operator": "alice", "reason": "no contact for 90 days"}
type ReferralRequest struct {
	RequestID string              `json:"request_id"`
	Decision  collection.Decision `json:"decision"`
	Operator  string              `json:"operator"`
	Reason    string              `json:"reason"`
}

// ID is the request id.
func (r ReferralRequest) ID() string { return r.RequestID }

// Validate checks the decision's shape.
func (r ReferralRequest) Validate() error {
	if err := ValidateRequestID(r.RequestID); err != nil {
		return err
	}
	switch r.Decision {
	case collection.Refer, collection.Hold, collection.Negotiate:
	default:
		return invalid("decision", "must be %s, %s or %s, got %q", collection.Refer, collection.Hold, collection.Negotiate, r.Decision)
	}
	if err := validateText("operator", r.Operator, true); err != nil {
		return err
	}
	return validateText("reason", r.Reason, true)
}

// Fingerprint identifies the decision's content.
func (r ReferralRequest) Fingerprint() string {
	return hashOf(MsgRefer, string(r.Decision), r.Operator, r.Reason)
}

// WriteOffRequest is an operator's decision on the write-off task raised
// at M7: approve writes the plan off (the remaining balance is recorded and
// the plan ends written_off); decline keeps collecting.
//
//	{"request_id": "wo-1", "decision": "approve", "operator": "alice", "reason": "uncollectable"}
type WriteOffRequest struct {
	RequestID string                      `json:"request_id"`
	Decision  collection.WriteOffDecision `json:"decision"`
	Operator  string                      `json:"operator"`
	Reason    string                      `json:"reason"`
}

// ID is the request id.
func (r WriteOffRequest) ID() string { return r.RequestID }

// Validate checks the decision's shape.
func (r WriteOffRequest) Validate() error {
	if err := ValidateRequestID(r.RequestID); err != nil {
		return err
	}
	switch r.Decision {
	case collection.ApproveWriteOff, collection.DeclineWriteOff:
	default:
		return invalid("decision", "must be %s or %s, got %q", collection.ApproveWriteOff, collection.DeclineWriteOff, r.Decision)
	}
	if err := validateText("operator", r.Operator, true); err != nil {
		return err
	}
	return validateText("reason", r.Reason, true)
}

// Fingerprint identifies the decision's content.
func (r WriteOffRequest) Fingerprint() string {
	return hashOf(MsgWriteOff, string(r.Decision), r.Operator, r.Reason)
}

// GraceRequest is an operator's hardship grace extension: no collection
// contact and no late charge until the end of Until (the customer's time
// zone).
//
//	{"request_id": "gx-1", "until": "2026-12-20", "operator": "alice", "reason": "hospitalised"}
type GraceRequest struct {
	RequestID string    `json:"request_id"`
	Until     calc.Date `json:"until"`
	Operator  string    `json:"operator"`
	Reason    string    `json:"reason"`
}

// ID is the request id.
func (r GraceRequest) ID() string { return r.RequestID }

// Validate checks the extension's shape.
func (r GraceRequest) Validate() error {
	if err := ValidateRequestID(r.RequestID); err != nil {
		return err
	}
	if r.Until.IsZero() {
		return invalid("until", "is required (YYYY-MM-DD)")
	}
	if err := validateText("operator", r.Operator, true); err != nil {
		return err
	}
	return validateText("reason", r.Reason, true)
}

// Fingerprint identifies the extension's content.
func (r GraceRequest) Fingerprint() string {
	return hashOf(MsgExtendGrace, r.Until.String(), r.Operator, r.Reason)
}

// ArrearsPlanRequest asks to split what is past due into Instalments
// parts, added to the next due dates: quoted first, then confirmed with
// the quote's id, as the other change requests.
//
//	{"request_id": "ap-1", "instalments": 3}
//	{"request_id": "ap-2", "quote_id": "<from the quote>"}
type ArrearsPlanRequest struct {
	RequestID   string `json:"request_id"`
	Instalments int    `json:"instalments,omitempty"`
	QuoteID     string `json:"quote_id,omitempty"`
}

// ID is the request id.
func (r ArrearsPlanRequest) ID() string { return r.RequestID }

// Kind is MsgArrearsPlan.
func (r ArrearsPlanRequest) Kind() string { return MsgArrearsPlan }

// Quote is the quote confirmed.
func (r ArrearsPlanRequest) Quote() string { return r.QuoteID }

// TermsKey identifies the terms asked for.
func (r ArrearsPlanRequest) TermsKey() string {
	if r.Instalments == 0 {
		return ""
	}
	return hashOf(strconv.Itoa(r.Instalments))
}

// Validate checks the request's shape.
func (r ArrearsPlanRequest) Validate() error {
	if err := validateChange(r.RequestID, r.QuoteID, r.TermsKey()); err != nil {
		return err
	}
	if r.Instalments < 0 || r.Instalments > calc.MaxTerms {
		return invalid("instalments", "must be between 2 and %d, got %d", calc.MaxTerms, r.Instalments)
	}
	if r.QuoteID == "" && r.Instalments < 2 {
		return invalid("instalments", "must be at least 2 (one part is paying the arrears), got %d", r.Instalments)
	}
	return nil
}

// Fingerprint identifies the request's content.
func (r ArrearsPlanRequest) Fingerprint() string {
	return hashOf(MsgArrearsPlan, r.TermsKey(), r.QuoteID)
}

// CollectionStatus is the collection status of a plan, the answer to
// QueryCollection: the stage, the next action and when, what is owed by
// component, the promise, referral and write-off, and the contact history.
type CollectionStatus struct {
	PlanID string `json:"plan_id"`
	State  State  `json:"state"`
	// Collecting reports whether the ladder runs (something is overdue or
	// a round went out and the arrears are not yet cleared).
	Collecting bool `json:"collecting"`
	// Stage is the ladder stage of the last round (M0 when none), Bucket
	// and DaysPastDue the delinquency now.
	Stage       string `json:"stage"`
	Bucket      string `json:"bucket"`
	DaysPastDue int    `json:"days_past_due"`
	// Next is what the ladder does next and when (business time): "round"
	// or why it waits (collection.Wait), with the reason in words.
	Next CollectionNext `json:"next"`
	// Today is the plan's business date (zero once it is no longer
	// active). The workflow answers as of its last step; the front door
	// sets it from the plan's Clock and TimeZone and the real time.
	Today calc.Date `json:"today,omitzero"`
	// Clock and TimeZone are the plan's business calendar.
	Clock    clock.Clock `json:"clock"`
	TimeZone string      `json:"time_zone"`
	// AsOf is the date of the amounts (the ladder's last step; the front
	// door brings them to Today from the database when it can); Owed is
	// everything due and unpaid
	// by component (principal, interest, fee, penalty), OwedTotal its sum,
	// Overdue the arrears part, PayBy the date messages ask payment by.
	AsOf      calc.Date       `json:"as_of"`
	Owed      calc.Amounts    `json:"owed"`
	OwedTotal decimal.Decimal `json:"owed_total"`
	Overdue   calc.Amounts    `json:"overdue"`
	PayBy     calc.Date       `json:"pay_by"`
	// Rounds counts the rounds in the stage, LastRoundAt the latest.
	Rounds      int       `json:"rounds"`
	LastRoundAt time.Time `json:"last_round_at,omitzero"`
	// Floor is the lowest stage after a broken promise, if any.
	Floor    string               `json:"floor,omitempty"`
	Promise  *collection.Promise  `json:"promise,omitempty"`
	Referral *collection.Referral `json:"referral,omitempty"`
	WriteOff *collection.WriteOff `json:"write_off,omitempty"`
	// PausedUntil is the end of a hardship grace or complaint pause still
	// on.
	PausedUntil    time.Time `json:"paused_until,omitzero"`
	PromisesKept   int       `json:"promises_kept"`
	PromisesBroken int       `json:"promises_broken"`
	// Actions are the latest collection steps carried out (contacts and
	// operator tasks), oldest first, each stating what was owed.
	Actions []CollectionAction `json:"actions"`
	// Contacts are the recent contact attempts with the customer (all
	// purposes), oldest first.
	Contacts []ContactEvent `json:"contacts"`
}

// CollectionNext is the ladder's next action.
type CollectionNext struct {
	// Action is "round" when a round is due, else the reason to wait
	// (current, cadence, paused, promise, operator, referred, written_off).
	Action string `json:"action"`
	// At is when (business time); zero when only an event (a payment, a
	// decision) moves the ladder on.
	At     time.Time `json:"at,omitzero"`
	Reason string    `json:"reason,omitempty"`
}

// CollectionAction is one step of a collection round as carried out.
type CollectionAction struct {
	At      time.Time `json:"at"`
	Stage   string    `json:"stage"`
	Round   int       `json:"round"`
	Kind    string    `json:"kind"`
	Channel string    `json:"channel,omitempty"`
	// Owed is what was owed in all when the step was planned.
	Owed decimal.Decimal `json:"owed"`
}
