package plan

import (
	"encoding/json"

	"github.com/fenqi/fenqi/calc"
)

// MarshalJSON encodes s with money as strings with two decimals.
func (s CollectionStatus) MarshalJSON() ([]byte, error) {
	type wire CollectionStatus
	return json.Marshal(struct {
		wire
		OwedTotal string `json:"owed_total"`
	}{wire(s), calc.FormatMoney(s.OwedTotal)})
}

// MarshalJSON encodes a with what was owed as money with two decimals.
func (a CollectionAction) MarshalJSON() ([]byte, error) {
	type wire CollectionAction
	return json.Marshal(struct {
		wire
		Owed string `json:"owed"`
	}{wire(a), calc.FormatMoney(a.Owed)})
}
