package calc

import (
	"encoding/json"
	"testing"

	"github.com/shopspring/decimal"
)

func TestAmountsJSON(t *testing.T) {
	a := Amounts{Penalty: decimal.RequireFromString("2.9"), Fee: decimal.Zero, Interest: decimal.RequireFromString("72"), Principal: decimal.RequireFromString("967.43")}
	b, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"fee":"0.00","interest":"72.00","penalty":"2.90","principal":"967.43"}`; string(b) != want {
		t.Errorf("marshal: %s, want %s", b, want)
	}
	for _, in := range []string{string(b), `{"Penalty":"2.9","Fee":"0","Interest":"72","Principal":"967.43"}`} {
		var got Amounts
		if err := json.Unmarshal([]byte(in), &got); err != nil {
			t.Fatalf("unmarshal %s: %v", in, err)
		}
		if !got.Total().Equal(a.Total()) || !got.Penalty.Equal(a.Penalty) || !got.Principal.Equal(a.Principal) {
			t.Errorf("unmarshal %s: %+v, want %+v", in, got, a)
		}
	}
	var bad Amounts
	if err := json.Unmarshal([]byte(`{"penalty":"x"}`), &bad); err == nil {
		t.Errorf("unmarshal of a non-number: no error")
	}
}
