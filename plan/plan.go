// Package plan is the contract of a plan workflow, shared by the workflow,
// the front door, the starter CLI and the HTTP API: the plan's states, the
// names and payloads of the messages front-ends and operators send, and the
// status a plan reports. It has no Temporal or database dependencies.
package plan

import (
	"crypto/sha1"
	"fmt"
	"strings"

	"github.com/google/uuid"
)

// State is where a plan is in its life.
type State string

// The states of a plan. The last five are final.
const (
	StateAssessing  State = "assessing"
	StateReview     State = "review"
	StateOffered    State = "offered"
	StateSigning    State = "signing"
	StateActive     State = "active"
	StateClosed     State = "closed"
	StateDeclined   State = "declined"
	StateExpired    State = "expired"
	StateWithdrawn  State = "withdrawn"
	StateWrittenOff State = "written_off"
)

// Final reports whether no further change can happen to a plan in s.
func (s State) Final() bool {
	switch s {
	case StateClosed, StateDeclined, StateExpired, StateWithdrawn, StateWrittenOff:
		return true
	}
	return false
}

// BeforeActivation reports whether s is one of the origination states, in
// which the customer may still withdraw.
func (s State) BeforeActivation() bool {
	switch s {
	case StateAssessing, StateReview, StateOffered, StateSigning:
		return true
	}
	return false
}

// Names of the workflow and of its messages. Every customer action is
// accepted both as a Signal and as an Update under the same name.
const (
	// WorkflowName is the registered name of the plan workflow.
	WorkflowName = "Plan"
	// QueryStatus returns a Status.
	QueryStatus = "status"
	// MsgChoose carries a ChooseRequest.
	MsgChoose = "choose"
	// MsgCounterOffer carries a CounterOfferRequest.
	MsgCounterOffer = "counter-offer"
	// MsgSign carries a SignRequest.
	MsgSign = "sign"
	// MsgWithdraw carries a WithdrawRequest.
	MsgWithdraw = "withdraw"
	// MsgReviewDecision carries an operator's ReviewDecision.
	MsgReviewDecision = "review-decision"
	// MsgPay carries a PaymentRequest (a payment from outside auto-debit).
	MsgPay = "pay"
	// UpdateAwaitDecision (Update only) returns once the credit decision is
	// made: offers, review or decline. The front door sends it with the
	// start of the workflow, with the application's fingerprint.
	UpdateAwaitDecision = "await-decision"
	// QueryAgreement returns the agreement document (text and SHA-256).
	QueryAgreement = "agreement"
	// QueryContact returns a ContactStatus: when the customer may next be
	// contacted, on which channel, and why not earlier.
	QueryContact = "contact"
)

// fenqiNamespace roots the name-based uuids fenqi derives from business keys.
var fenqiNamespace = uuid.NewSHA1(uuid.NameSpaceURL, []byte("https://fenqi.dev/ids"))

// IDFromRequest derives a plan's id from its application request id, so
// that applying twice with the same request id names the same plan.
func IDFromRequest(requestID string) uuid.UUID {
	return uuid.NewSHA1(fenqiNamespace, []byte("plan:"+requestID))
}

// CustomerIDFromRef derives the opaque customer id (used in search
// attributes and tables) from the customer's external reference.
func CustomerIDFromRef(ref string) uuid.UUID {
	return uuid.NewSHA1(fenqiNamespace, []byte("customer:"+ref))
}

// WorkflowID is the workflow id of plan id: "plan-<uuid>".
func WorkflowID(id uuid.UUID) string { return "plan-" + id.String() }

// ParseID accepts a plan id with or without the "plan-" prefix.
func ParseID(s string) (uuid.UUID, error) {
	id, err := uuid.Parse(strings.TrimPrefix(strings.TrimSpace(s), "plan-"))
	if err != nil {
		return uuid.Nil, fmt.Errorf("plan id %q: %w", s, err)
	}
	return id, nil
}

// hashOf is a short, stable fingerprint of a request's content, used to
// tell a repeated request from a different one under the same id.
func hashOf(parts ...string) string {
	h := sha1.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}

// Input starts a plan workflow.
type Input struct {
	PlanID      string      `json:"plan_id"`
	Application Application `json:"application"`
	// Fingerprint is Application.Fingerprint(), computed by the caller
	// (encoding JSON is not for workflow code).
	Fingerprint string `json:"fingerprint"`
}
