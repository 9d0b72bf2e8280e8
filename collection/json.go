package collection

import (
	"encoding/json"

	"github.com/fenqi/fenqi/calc"
)

// MarshalJSON encodes p with its amount as money with two decimals.
func (p Promise) MarshalJSON() ([]byte, error) {
	type wire Promise
	return json.Marshal(struct {
		wire
		Amount string `json:"amount"`
	}{wire(p), calc.FormatMoney(p.Amount)})
}

// MarshalJSON encodes w with its balance as money with two decimals
// (omitted while none is recorded).
func (w WriteOff) MarshalJSON() ([]byte, error) {
	type wire WriteOff
	balance := ""
	if !w.Balance.IsZero() {
		balance = calc.FormatMoney(w.Balance)
	}
	return json.Marshal(struct {
		wire
		Balance string `json:"balance,omitempty"`
	}{wire(w), balance})
}
