// Package agreement renders the instalment agreement a customer signs
// (domain.md §2): a plain-text document stating the parties, the amount, the
// method, the schedule, both annualised rates, the fees, the late charges,
// the early repayment and cancellation terms, the channel and the signature
// section, with the SHA-256 of its text. The package is pure and
// deterministic: the same input always renders the same bytes and hash.
package agreement

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"

	"github.com/shopspring/decimal"

	"github.com/fenqi/fenqi/calc"
	"github.com/fenqi/fenqi/plan"
)

// Lender is the lender named in every agreement.
const Lender = "fenqi"

// Input is everything an agreement states.
type Input struct {
	// PlanID identifies the plan (its uuid or workflow id).
	PlanID string
	// CustomerName is the borrower's name as it will be signed.
	CustomerName string
	// Offer is the option the customer chose.
	Offer plan.Offer
	// Schedule is the offer's schedule as it would start (its due dates
	// are the ones stated).
	Schedule calc.Schedule
	// Origin is the channel of the application, disclosed.
	Origin plan.Origin
	// Penalty is the penalty interest rule; the zero value means
	// calc.DefaultPenaltyRule().
	Penalty calc.PenaltyRule
	// PenaltyBaseRate is the annual rate (fraction) the penalty rule
	// multiplies; zero means the offer's contract rate, Offer.AnnualRate.
	PenaltyBaseRate decimal.Decimal
	// Settlement is the early repayment and cancellation policy; an empty
	// policy means calc.SettleCurrentPeriod.
	Settlement calc.SettlementTerms
	// GraceDays after each due date before late charges start (0: none).
	GraceDays int
	// Currency of every amount; empty means CNY.
	Currency string
	// Version numbers the agreement document of the plan (from 1).
	Version int
}

// Document is a rendered agreement and the SHA-256 of its text.
type Document struct {
	Text string `json:"text"`
	// SHA256 is the lower-case hex SHA-256 of Text.
	SHA256 string `json:"sha256"`
}

// Render writes the agreement for in. It refuses an input that is
// incomplete or inconsistent (a schedule that is not the offer's, an
// unknown settlement policy) with an error naming the field.
func Render(in Input) (Document, error) {
	in, err := normalise(in)
	if err != nil {
		return Document{}, fmt.Errorf("render agreement for plan %q: %w", in.PlanID, err)
	}
	text := render(in)
	return Document{Text: text, SHA256: Hash(text)}, nil
}

// Hash returns the lower-case hex SHA-256 of text.
func Hash(text string) string {
	sum := sha256.Sum256([]byte(text))
	return hex.EncodeToString(sum[:])
}

// Verify reports whether doc.SHA256 is the hash of doc.Text: false for a
// text or hash changed after rendering.
func Verify(doc Document) bool {
	want := Hash(doc.Text)
	return len(doc.SHA256) == len(want) && subtle.ConstantTimeCompare([]byte(doc.SHA256), []byte(want)) == 1
}
