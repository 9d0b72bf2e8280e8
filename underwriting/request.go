package underwriting

import (
	"fmt"

	"github.com/shopspring/decimal"

	"github.com/fenqi/fenqi/calc"
	"github.com/fenqi/fenqi/plan"
)

// OfferRequest is what the customer asks the offers for: from the
// application for the first offer set (InitialRequest), from a
// counter-offer for the later ones (CounterRequest).
type OfferRequest struct {
	// Amount asked for; zero means the credit limit.
	Amount decimal.Decimal `json:"amount"`
	// Terms is the number of instalments asked for (of Frequency, or of the
	// preferred frequency when Frequency is empty); 0 lets the offers choose.
	Terms int `json:"terms,omitempty"`
	// Frequency asked for; empty lets the offers follow the preferences.
	Frequency calc.Frequency `json:"frequency,omitempty"`
	// MaxInstalment is the highest instalment the customer can pay; zero
	// means no limit.
	MaxInstalment decimal.Decimal `json:"max_instalment"`
	// Counter marks a counter-offer: what cannot be granted as asked is
	// refused with a *Refusal instead of being adjusted.
	Counter bool `json:"counter,omitempty"`
}

// InitialRequest is the request of the first offer set: the amount, terms
// and frequency of the application.
func InitialRequest(app plan.Application) OfferRequest {
	return OfferRequest{Amount: app.Amount, Terms: app.Terms, Frequency: app.Frequency, MaxInstalment: decimal.Zero}
}

// CounterRequest merges a counter-offer with what is already on the table:
// a zero amount keeps the amount of the current offers (the application's
// amount when there are none), zero terms and an empty frequency keep the
// application's. When the counter-offer changes only the frequency, the
// application's terms are converted to the new frequency when the months
// divide evenly, and left to the offers otherwise.
func CounterRequest(app plan.Application, current []plan.Offer, c plan.CounterOfferRequest) OfferRequest {
	r := OfferRequest{Amount: c.Amount, Terms: c.Terms, Frequency: c.Frequency, MaxInstalment: c.MaxInstalment, Counter: true}
	if !r.Amount.IsPositive() {
		r.Amount = app.Amount
		if len(current) > 0 {
			r.Amount = current[0].Amount
		}
	}
	if r.Frequency == "" {
		r.Frequency = app.Frequency
	}
	if r.Terms == 0 && app.Terms > 0 {
		from := app.Frequency
		if from == "" {
			from = calc.Monthly
		}
		to := r.Frequency
		if to == "" {
			to = calc.Monthly
		}
		if months, per := app.Terms*from.MonthsPerPeriod(), to.MonthsPerPeriod(); per > 0 && months%per == 0 {
			r.Terms = months / per
		}
	}
	if r.MaxInstalment.IsNegative() {
		r.MaxInstalment = decimal.Zero
	}
	return r
}

// Refusal is the answer to a request that no offer within policy can meet,
// with a reason the customer can read.
type Refusal struct {
	Reason string `json:"reason"`
}

// Error returns the reason.
func (r *Refusal) Error() string { return r.Reason }

func refuse(format string, args ...any) *Refusal {
	return &Refusal{Reason: fmt.Sprintf(format, args...)}
}
