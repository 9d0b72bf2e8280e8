package plan

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/fenqi/fenqi/calc"
	"github.com/fenqi/fenqi/collection"
)

// Money in the collection status is written with two decimals, and the
// status decodes back to the same figures.
func TestCollectionStatusJSON(t *testing.T) {
	at := time.Date(2026, 5, 1, 1, 0, 0, 0, time.UTC)
	s := CollectionStatus{
		PlanID: "p", State: StateActive, Stage: "M1", OwedTotal: decimal.RequireFromString("2028.2"),
		Owed:     calc.Amounts{Penalty: decimal.RequireFromString("1.5"), Fee: decimal.Zero, Interest: decimal.Zero, Principal: decimal.RequireFromString("2026.7")},
		Promise:  &collection.Promise{Date: calc.DateOf(time.Date(2026, 5, 8, 0, 0, 0, 0, time.UTC)), Amount: decimal.RequireFromString("100"), MadeAt: at},
		WriteOff: &collection.WriteOff{Status: collection.WriteOffPending, RaisedAt: at},
		Actions:  []CollectionAction{{At: at, Stage: "M1", Round: 1, Kind: "message", Channel: "sms", Owed: decimal.RequireFromString("0")}},
	}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"owed_total":"2028.20"`, `"amount":"100.00"`, `"owed":"0.00"`, `"penalty":"1.50"`, `"principal":"2026.70"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("%s: no %s", b, want)
		}
	}
	if strings.Contains(string(b), `"balance"`) {
		t.Errorf("%s: a pending write-off shows a balance", b)
	}
	var back CollectionStatus
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !back.OwedTotal.Equal(s.OwedTotal) || !back.Promise.Amount.Equal(s.Promise.Amount) || !back.Owed.Total().Equal(s.Owed.Total()) || len(back.Actions) != 1 {
		t.Errorf("round trip: %+v, want %+v", back, s)
	}
}
