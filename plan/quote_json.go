package plan

import (
	"encoding/json"
	"fmt"
)

// The wire shape of a quote: money as strings with exactly 2 decimals,
// annualised rates (percent) with 4, as everywhere in fenqi's output (see
// Offer and Status). Schedule rows write themselves (calc.Row); the
// contract rates of ChangeParams are fractions and are left as they are.
// UnmarshalJSON reads what MarshalJSON writes, and plain JSON numbers too.

// MarshalJSON writes the quote's money with exactly 2 decimals.
func (q Quote) MarshalJSON() ([]byte, error) {
	type plain Quote
	return json.Marshal(struct {
		plain
		DueNow       string `json:"due_now"`
		Fee          string `json:"fee"`
		Capitalised  string `json:"capitalised"`
		PaidAhead    string `json:"paid_ahead"`
		Penalty      string `json:"penalty"`
		Instalment   string `json:"instalment"`
		TotalPayable string `json:"total_payable"`
	}{plain(q), money(q.DueNow), money(q.Fee), money(q.Capitalised), money(q.PaidAhead), money(q.Penalty), money(q.Instalment), money(q.TotalPayable)})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (q *Quote) UnmarshalJSON(b []byte) error {
	type plain Quote
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return fmt.Errorf("decode quote: %w", err)
	}
	*q = Quote(p)
	return nil
}

// MarshalJSON writes money with 2 decimals and the annualised rates with 4.
func (f Figures) MarshalJSON() ([]byte, error) {
	type plain Figures
	return json.Marshal(struct {
		plain
		Instalment   string `json:"instalment"`
		Remaining    string `json:"remaining"`
		APRNominal   string `json:"apr_nominal"`
		APREffective string `json:"apr_effective"`
	}{plain(f), money(f.Instalment), money(f.Remaining), rate(f.APRNominal), rate(f.APREffective)})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (f *Figures) UnmarshalJSON(b []byte) error {
	type plain Figures
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return fmt.Errorf("decode figures: %w", err)
	}
	*f = Figures(p)
	return nil
}

// MarshalJSON writes every amount with exactly 2 decimals.
func (s Settlement) MarshalJSON() ([]byte, error) {
	type plain Settlement
	return json.Marshal(struct {
		plain
		Principal string `json:"principal"`
		Interest  string `json:"interest"`
		Fee       string `json:"fee"`
		Penalty   string `json:"penalty"`
		Charge    string `json:"charge"`
		Total     string `json:"total"`
		PastDue   string `json:"past_due"`
	}{plain(s), money(s.Principal), money(s.Interest), money(s.Fee), money(s.Penalty), money(s.Charge), money(s.Total), money(s.PastDue)})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (s *Settlement) UnmarshalJSON(b []byte) error {
	type plain Settlement
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return fmt.Errorf("decode settlement: %w", err)
	}
	*s = Settlement(p)
	return nil
}

// MarshalJSON writes the amount with exactly 2 decimals.
func (w Waived) MarshalJSON() ([]byte, error) {
	type plain Waived
	return json.Marshal(struct {
		plain
		Amount string `json:"amount"`
	}{plain(w), money(w.Amount)})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (w *Waived) UnmarshalJSON(b []byte) error {
	type plain Waived
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return fmt.Errorf("decode waived: %w", err)
	}
	*w = Waived(p)
	return nil
}
