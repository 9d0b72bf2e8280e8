package underwriting

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestDefaultPolicyIsValid(t *testing.T) {
	p := DefaultPolicy()
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	if got := []string{p.Tiers[0].Name, p.Tiers[1].Name, p.Tiers[2].Name, p.Tiers[3].Name}; !reflect.DeepEqual(got, []string{"A", "B", "C", "D"}) {
		t.Errorf("tiers %v", got)
	}
	if !p.RateCap.Max.Equal(dec("24")) || !p.RateCap.Flag.Equal(dec("12")) || p.RateCap.Places != 2 {
		t.Errorf("rate cap %+v", p.RateCap)
	}
	loaded, err := LoadPolicy("")
	if err != nil || !reflect.DeepEqual(loaded, p) {
		t.Errorf("LoadPolicy(\"\") = %v, want the default", err)
	}
	a, _ := p.Tier("A")
	if len(a.ZeroTerms) == 0 || !a.Allows("zero") {
		t.Error("tier A has no zero-interest promotion")
	}
}

// writePolicy writes the default policy with edit applied to a temp file.
func writePolicy(t *testing.T, edit func(m map[string]any)) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(defaultPolicyJSON, &m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "policy.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// A tighter policy file changes the result: lower limit multiples lower
// the limit (and cap the offers), a lower DTI ceiling declines.
func TestTightenedPolicyFile(t *testing.T) {
	app := application(t, loadCustomer(t, "strong"), "50000.00", 12)
	before := Assess(DefaultPolicy(), app)

	path := writePolicy(t, func(m map[string]any) {
		for _, tier := range m["tiers"].([]any) {
			tier.(map[string]any)["limit_multiple"] = "1"
		}
	})
	tight, err := LoadPolicy(path)
	if err != nil {
		t.Fatal(err)
	}
	after := Assess(tight, app)
	if after.Decision != DecisionApproved || !after.CreditLimit.Equal(dec("30000")) || !after.CreditLimit.LessThan(before.CreditLimit) {
		t.Errorf("limit %s before, %s after tightening (%s)", before.CreditLimit, after.CreditLimit, after.Decision)
	}
	offers, err := Offers(tight, app, after, InitialRequest(app))
	if err != nil {
		t.Fatal(err)
	}
	checkOffers(t, tight, after, offers)
	if !offers[0].Amount.Equal(dec("30000")) || !strings.Contains(offers[0].Label, "credit limit") {
		t.Errorf("offer under the tight policy: %s %q", offers[0].Amount, offers[0].Label)
	}

	path = writePolicy(t, func(m map[string]any) {
		m["decline"].(map[string]any)["max_debt_to_income"] = "0.15"
	})
	tight, err = LoadPolicy(path)
	if err != nil {
		t.Fatal(err)
	}
	if a := Assess(tight, app); a.Decision != DecisionDeclined || !strings.Contains(strings.Join(a.Reasons, " "), "the most we can accept is 15%") {
		t.Errorf("max DTI 15%%: %s %q", a.Decision, a.Reasons)
	}
}

func TestLoadPolicyErrorsNameTheFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	tests := []struct {
		name string
		path string
		want string
	}{
		{"malformed", write("broken.json", `{"name": "x", "tiers": [`), "decode"},
		{"unknown field", write("typo.json", `{"nmae": "x"}`), `unknown field "nmae"`},
		{"trailing data", write("two.json", string(defaultPolicyJSON)+"{}"), "trailing data"},
		{"invalid values", writePolicy(t, func(m map[string]any) { m["review_min"] = 900 }), "review_min"},
		{"tiers out of order", writePolicy(t, func(m map[string]any) {
			tiers := m["tiers"].([]any)
			tiers[0], tiers[1] = tiers[1], tiers[0]
		}), "tiers are best first"},
		{"bad product", writePolicy(t, func(m map[string]any) {
			m["tiers"].([]any)[0].(map[string]any)["products"] = []any{"annuity", "payday"}
		}), "products"},
		{"bad rate cap", writePolicy(t, func(m map[string]any) { m["rate_cap"] = map[string]any{"max": "0", "flag": "12", "places": 2} }), "rate_cap"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadPolicy(tt.path)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tt.path) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q, want the file name and %q", err, tt.want)
			}
		})
	}
	missing := filepath.Join(dir, "missing.json")
	if _, err := LoadPolicy(missing); err == nil || !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), missing) {
		t.Errorf("missing file: %v", err)
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	p := DefaultPolicy()
	p.Decline.MinAge = 16
	p.Offers.MinOffers = 0
	p.Tiers[0].MaxLimit = dec("0")
	err := p.Validate()
	for _, want := range []string{"decline.min_age", "offers.min_offers", "tiers[0] (A).max_limit"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v lacks %q", err, want)
		}
	}
}
