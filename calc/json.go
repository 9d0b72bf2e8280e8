package calc

import (
	"encoding/json"
	"fmt"

	"github.com/shopspring/decimal"
)

// RowJSON is the wire shape of a Row: money as strings with exactly two
// decimals, the due date as "YYYY-MM-DD".
type RowJSON struct {
	No        int    `json:"no"`
	DueDate   Date   `json:"due_date"`
	Principal string `json:"principal"`
	Interest  string `json:"interest"`
	Fee       string `json:"fee"`
	Payment   string `json:"payment"`
	Balance   string `json:"balance"`
	Holiday   bool   `json:"holiday,omitempty"`
}

// ScheduleJSON is the wire shape of a Schedule: rows, column totals as money
// strings and the annualised rates as percent strings with four decimals.
type ScheduleJSON struct {
	Rows           []Row  `json:"rows"`
	TotalPrincipal string `json:"total_principal"`
	TotalInterest  string `json:"total_interest"`
	TotalFee       string `json:"total_fee"`
	TotalPayment   string `json:"total_payment"`
	APRNominal     string `json:"apr_nominal"`
	APREffective   string `json:"apr_effective"`
}

// JSON returns the wire shape of r.
func (r Row) JSON() RowJSON {
	return RowJSON{
		No:        r.No,
		DueDate:   r.DueDate,
		Principal: FormatMoney(r.Principal),
		Interest:  FormatMoney(r.Interest),
		Fee:       FormatMoney(r.Fee),
		Payment:   FormatMoney(r.Payment),
		Balance:   FormatMoney(r.Balance),
		Holiday:   r.Holiday,
	}
}

// Row decodes the wire shape back into a Row.
func (j RowJSON) Row() (Row, error) {
	r := Row{No: j.No, DueDate: j.DueDate, Holiday: j.Holiday}
	for _, f := range []struct {
		name string
		text string
		dst  *decimal.Decimal
	}{
		{"principal", j.Principal, &r.Principal},
		{"interest", j.Interest, &r.Interest},
		{"fee", j.Fee, &r.Fee},
		{"payment", j.Payment, &r.Payment},
		{"balance", j.Balance, &r.Balance},
	} {
		v, err := decimal.NewFromString(f.text)
		if err != nil {
			return Row{}, fmt.Errorf("row %d: %s %q: %w", j.No, f.name, f.text, err)
		}
		*f.dst = v
	}
	return r, nil
}

// MarshalJSON encodes r in its wire shape, RowJSON.
func (r Row) MarshalJSON() ([]byte, error) {
	return json.Marshal(r.JSON())
}

// UnmarshalJSON decodes r from its wire shape, RowJSON.
func (r *Row) UnmarshalJSON(b []byte) error {
	var j RowJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return fmt.Errorf("decode schedule row: %w", err)
	}
	v, err := j.Row()
	if err != nil {
		return fmt.Errorf("decode schedule row: %w", err)
	}
	*r = v
	return nil
}

// JSON returns the wire shape of s.
func (s Schedule) JSON() ScheduleJSON {
	rows := s.Rows
	if rows == nil {
		rows = []Row{}
	}
	return ScheduleJSON{
		Rows:           rows,
		TotalPrincipal: FormatMoney(s.TotalPrincipal),
		TotalInterest:  FormatMoney(s.TotalInterest),
		TotalFee:       FormatMoney(s.TotalFee),
		TotalPayment:   FormatMoney(s.TotalPayment),
		APRNominal:     s.APRNominal.StringFixed(RatePlaces),
		APREffective:   s.APREffective.StringFixed(RatePlaces),
	}
}

// Schedule decodes the wire shape back into a Schedule; Principal is taken
// from the principal total.
func (j ScheduleJSON) Schedule() (Schedule, error) {
	s := Schedule{Rows: j.Rows}
	for _, f := range []struct {
		name string
		text string
		dst  *decimal.Decimal
	}{
		{"total_principal", j.TotalPrincipal, &s.TotalPrincipal},
		{"total_interest", j.TotalInterest, &s.TotalInterest},
		{"total_fee", j.TotalFee, &s.TotalFee},
		{"total_payment", j.TotalPayment, &s.TotalPayment},
		{"apr_nominal", j.APRNominal, &s.APRNominal},
		{"apr_effective", j.APREffective, &s.APREffective},
	} {
		v, err := decimal.NewFromString(f.text)
		if err != nil {
			return Schedule{}, fmt.Errorf("schedule %s %q: %w", f.name, f.text, err)
		}
		*f.dst = v
	}
	s.Principal = s.TotalPrincipal
	return s, nil
}

// MarshalJSON encodes s in its wire shape, ScheduleJSON.
func (s Schedule) MarshalJSON() ([]byte, error) {
	return json.Marshal(s.JSON())
}

// UnmarshalJSON decodes s from its wire shape, ScheduleJSON.
func (s *Schedule) UnmarshalJSON(b []byte) error {
	var j ScheduleJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return fmt.Errorf("decode schedule: %w", err)
	}
	v, err := j.Schedule()
	if err != nil {
		return fmt.Errorf("decode schedule: %w", err)
	}
	*s = v
	return nil
}

// amountsJSON is the wire shape of Amounts: each component a string with
// two decimals.
type amountsJSON struct {
	Penalty   decimal.Decimal `json:"penalty"`
	Fee       decimal.Decimal `json:"fee"`
	Interest  decimal.Decimal `json:"interest"`
	Principal decimal.Decimal `json:"principal"`
}

// MarshalJSON encodes a as {"penalty": "0.00", "fee": ..., "interest":
// ..., "principal": ...}, money with two decimals.
func (a Amounts) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]string{
		"penalty": FormatMoney(a.Penalty), "fee": FormatMoney(a.Fee),
		"interest": FormatMoney(a.Interest), "principal": FormatMoney(a.Principal),
	})
}

// UnmarshalJSON decodes the wire shape; keys match case-insensitively, so
// the older shape with capitalised keys decodes too.
func (a *Amounts) UnmarshalJSON(b []byte) error {
	var w amountsJSON
	if err := json.Unmarshal(b, &w); err != nil {
		return fmt.Errorf("decode amounts: %w", err)
	}
	*a = Amounts(w)
	return nil
}
