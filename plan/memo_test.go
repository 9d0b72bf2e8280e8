package plan

import (
	"strings"
	"testing"

	"github.com/shopspring/decimal"
)

// The memo summary names the amount, terms, frequency and channel and
// nothing personal.
func TestMemoSummary(t *testing.T) {
	a := Application{
		RequestID: "r-1", Amount: decimal.RequireFromString("6000"), Terms: 6, Frequency: "monthly",
		Customer: Customer{Ref: "c-secret-ref", Name: "张三", Phone: "13800000000", Email: "z@example.com", IDNumber: "110101199001011234"},
		Origin:   Origin{Kind: "partner", Partner: "shop-a"},
	}
	got := a.MemoSummary()
	if want := "CNY 6000.00, 6 instalments, monthly, via partner shop-a"; got != want {
		t.Errorf("summary %q, want %q", got, want)
	}
	for _, secret := range []string{"张三", "13800000000", "z@example.com", "110101199001011234", "c-secret-ref"} {
		if strings.Contains(got, secret) {
			t.Errorf("summary %q shows %q", got, secret)
		}
	}
}
