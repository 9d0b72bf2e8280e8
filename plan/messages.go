package plan

import (
	"regexp"
	"strconv"

	"github.com/shopspring/decimal"

	"github.com/fenqi/fenqi/calc"
)

// Request is what every customer or operator message has: a request id,
// a shape check, and a fingerprint of its content, so that a repeat is
// answered with the first result and a different message under a used id
// is refused.
type Request interface {
	ID() string
	Validate() error
	Fingerprint() string
}

// ChooseRequest picks one offer of the offer set the customer saw. Naming
// the set makes sure a choice is never applied to a newer set (after a
// counter-offer) than the one the customer read.
type ChooseRequest struct {
	RequestID string `json:"request_id"`
	// OfferSet is the status's offer_set the offer belongs to.
	OfferSet int `json:"offer_set"`
	// Offer is the offer's number ("no") in that set.
	Offer int `json:"offer"`
}

// ID is the request id.
func (r ChooseRequest) ID() string { return r.RequestID }

// Validate checks the request's shape.
func (r ChooseRequest) Validate() error {
	if err := ValidateRequestID(r.RequestID); err != nil {
		return err
	}
	if r.OfferSet < 1 {
		return invalid("offer_set", "must name the offer set the offer belongs to (from 1), got %d", r.OfferSet)
	}
	if r.Offer < 1 {
		return invalid("offer", "must be an offer number from 1, got %d", r.Offer)
	}
	return nil
}

// Fingerprint identifies the request's content.
func (r ChooseRequest) Fingerprint() string {
	return hashOf(MsgChoose, strconv.Itoa(r.OfferSet), strconv.Itoa(r.Offer))
}

// CounterOfferRequest asks for other offers. Zero fields keep the current
// application's value.
type CounterOfferRequest struct {
	RequestID string          `json:"request_id"`
	Amount    decimal.Decimal `json:"amount"`
	Terms     int             `json:"terms,omitempty"`
	Frequency calc.Frequency  `json:"frequency,omitempty"`
	// MaxInstalment is the highest instalment the customer can pay.
	MaxInstalment decimal.Decimal `json:"max_instalment"`
}

// ID is the request id.
func (r CounterOfferRequest) ID() string { return r.RequestID }

// Validate checks the request's shape.
func (r CounterOfferRequest) Validate() error {
	if err := ValidateRequestID(r.RequestID); err != nil {
		return err
	}
	if err := validateMoney("amount", r.Amount, false); err != nil {
		return err
	}
	if r.Amount.GreaterThan(MaxAmount) {
		return invalid("amount", "must be at most %s, got %s", MaxAmount, r.Amount)
	}
	if r.Terms < 0 || r.Terms > calc.MaxTerms {
		return invalid("terms", "must be between 1 and %d, got %d", calc.MaxTerms, r.Terms)
	}
	if r.Frequency != "" {
		if err := r.Frequency.Validate(); err != nil {
			return invalid("frequency", "%v", err)
		}
	}
	if err := validateMoney("max_instalment", r.MaxInstalment, false); err != nil {
		return err
	}
	if r.Amount.IsZero() && r.Terms == 0 && r.Frequency == "" && r.MaxInstalment.IsZero() {
		return invalid("counter-offer", "asks for nothing: give an amount, terms, a frequency or a maximum instalment")
	}
	return nil
}

// Fingerprint identifies the request's content.
func (r CounterOfferRequest) Fingerprint() string {
	return hashOf(MsgCounterOffer, r.Amount.String(), strconv.Itoa(r.Terms), string(r.Frequency), r.MaxInstalment.String())
}

var sha256Hex = regexp.MustCompile(`^[0-9a-f]{64}$`)

// SignRequest signs the agreement: electronically (Name and Consent) or
// on paper (PaperRef, the reference of the scanned form). Either way it
// quotes the SHA-256 of the document signed.
type SignRequest struct {
	RequestID    string `json:"request_id"`
	DocumentHash string `json:"document_hash"`
	Name         string `json:"name,omitempty"`
	Consent      bool   `json:"consent,omitempty"`
	PaperRef     string `json:"paper_ref,omitempty"`
}

// ID is the request id.
func (r SignRequest) ID() string { return r.RequestID }

// Validate checks the request's shape.
func (r SignRequest) Validate() error {
	if err := ValidateRequestID(r.RequestID); err != nil {
		return err
	}
	if !sha256Hex.MatchString(r.DocumentHash) {
		return invalid("document_hash", "must be the 64 lower-case hex digits of the agreement's SHA-256")
	}
	switch {
	case r.PaperRef != "" && r.Name != "":
		return invalid("signature", "give either a name (electronic) or a paper reference, not both")
	case r.PaperRef != "":
		return validateText("paper_ref", r.PaperRef, true)
	default:
		if err := validateText("name", r.Name, true); err != nil {
			return err
		}
		if !r.Consent {
			return invalid("consent", "an electronic signature needs the customer's consent")
		}
	}
	return nil
}

// Fingerprint identifies the request's content.
func (r SignRequest) Fingerprint() string {
	return hashOf(MsgSign, r.DocumentHash, r.Name, strconv.FormatBool(r.Consent), r.PaperRef)
}

// Kind is "electronic" or "paper".
func (r SignRequest) Kind() string {
	if r.PaperRef != "" {
		return "paper"
	}
	return "electronic"
}

// WithdrawRequest withdraws the application before activation.
type WithdrawRequest struct {
	RequestID string `json:"request_id"`
	Reason    string `json:"reason,omitempty"`
}

// ID is the request id.
func (r WithdrawRequest) ID() string { return r.RequestID }

// Validate checks the request's shape.
func (r WithdrawRequest) Validate() error {
	if err := ValidateRequestID(r.RequestID); err != nil {
		return err
	}
	return validateText("reason", r.Reason, false)
}

// Fingerprint identifies the request's content.
func (r WithdrawRequest) Fingerprint() string { return hashOf(MsgWithdraw, r.Reason) }

// ReviewDecision is an operator's decision on a plan in manual review. It
// is simple enough to type into the Web UI's signal dialog:
//
//	{"request_id": "rev-1", "approve": true, "operator": "alice"}
//	{"request_id": "rev-2", "approve": false, "reason": "income not verified", "operator": "alice"}
type ReviewDecision struct {
	RequestID string `json:"request_id"`
	Approve   bool   `json:"approve"`
	Reason    string `json:"reason,omitempty"`
	Operator  string `json:"operator,omitempty"`
}

// ID is the request id.
func (r ReviewDecision) ID() string { return r.RequestID }

// Validate checks the request's shape: a decline needs a reason.
func (r ReviewDecision) Validate() error {
	if err := ValidateRequestID(r.RequestID); err != nil {
		return err
	}
	if err := validateText("reason", r.Reason, !r.Approve); err != nil {
		return err
	}
	return validateText("operator", r.Operator, false)
}

// Fingerprint identifies the request's content.
func (r ReviewDecision) Fingerprint() string {
	return hashOf(MsgReviewDecision, strconv.FormatBool(r.Approve), r.Reason, r.Operator)
}

// Reply answers a message: whether it was accepted, and the plan's state
// after it. A repeated request id gets the first reply again.
type Reply struct {
	RequestID string `json:"request_id"`
	Accepted  bool   `json:"accepted"`
	// Reason says why a request was refused, in words for the customer.
	Reason string `json:"reason,omitempty"`
	State  State  `json:"state"`
	// OfferRound is the current offer set's round (after a counter-offer).
	OfferRound int `json:"offer_round,omitempty"`
	// AgreementHash is the SHA-256 of the agreement to sign, once there is one.
	AgreementHash string `json:"agreement_hash,omitempty"`
	// Quote answers a change request: the quote to confirm, or the one
	// confirmed.
	Quote *Quote `json:"quote,omitempty"`
	// ScheduleVersion is the plan's schedule after an active plan's request.
	ScheduleVersion int `json:"schedule_version,omitempty"`
}

// PaymentRequest is a payment from outside auto-debit: a gateway webhook
// or the customer paying by hand. Its request id is the payment id, so a
// payment delivered twice is applied once.
type PaymentRequest struct {
	RequestID string          `json:"request_id"`
	Amount    decimal.Decimal `json:"amount"`
	// Source is "external" (a gateway) or "manual" (paid by hand).
	Source string `json:"source,omitempty"`
}

// ID is the request id (the payment id).
func (r PaymentRequest) ID() string { return r.RequestID }

// Validate checks the payment's shape.
func (r PaymentRequest) Validate() error {
	if err := ValidateRequestID(r.RequestID); err != nil {
		return err
	}
	if err := validateMoney("amount", r.Amount, true); err != nil {
		return err
	}
	if r.Amount.GreaterThan(MaxAmount) {
		return invalid("amount", "must be at most %s, got %s", MaxAmount, r.Amount)
	}
	switch r.Source {
	case "", "external", "manual":
	default:
		return invalid("source", "must be external or manual, got %q", r.Source)
	}
	return nil
}

// Fingerprint identifies the payment's content.
func (r PaymentRequest) Fingerprint() string { return hashOf(MsgPay, r.Amount.String(), r.Source) }
