package plan_test

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/fenqi/fenqi/calc"
	"github.com/fenqi/fenqi/plan"
)

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func date(t *testing.T, s string) calc.Date {
	t.Helper()
	d, err := calc.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// sampleQuote is a quote with every part filled, its amounts given with
// fewer and more decimals than the wire's.
func sampleQuote(t *testing.T) plan.Quote {
	t.Helper()
	return plan.Quote{
		ID: "q-1", Kind: plan.MsgCancel, RequestID: "c-1", TermsKey: "abc", Summary: "cancel: repay 2,050.00 now",
		Eligible: true, NeedsApproval: true, Revision: 7,
		AsOf: date(t, "2026-03-04"), ExpiresAt: time.Date(2026, 3, 11, 16, 0, 0, 0, time.UTC), ScheduleVersion: 2,
		DueNow:     dec("2050"),
		Settlement: &plan.Settlement{Policy: calc.SettleCurrentPeriod, Principal: dec("2000"), Interest: dec("20.5"), Fee: dec("0"), Penalty: dec("1.25"), Charge: dec("28.25"), Total: dec("2050"), PastDue: dec("0")},
		Fee:        dec("28.25"), Capitalised: dec("0"), PaidAhead: dec("10.1"), Penalty: dec("1.25"),
		Waived: []plan.Waived{{No: 3, Component: calc.ComponentPenalty, Amount: dec("5.5")}},
		Schedule: []calc.Row{
			{No: 1, DueDate: date(t, "2026-04-04"), Principal: dec("1000"), Interest: dec("10"), Fee: dec("0"), Payment: dec("1010"), Balance: dec("1000")},
			{No: 2, DueDate: date(t, "2026-05-04"), Holiday: true, Principal: dec("0"), Interest: dec("0"), Fee: dec("0"), Payment: dec("0"), Balance: dec("1000")},
		},
		Instalment: dec("1010"), TotalPayable: dec("2030.1"),
		Before: plan.Figures{Instalments: 4, Instalment: dec("515.3"), Remaining: dec("2061.2"), APRNominal: dec("12.8"), APREffective: dec("13.5803")},
		After:  plan.Figures{Instalments: 2, Instalment: dec("1010"), Remaining: dec("2030.1"), APRNominal: dec("11.99999"), APREffective: dec("12.6825")},
		Params: plan.ChangeParams{Method: calc.MethodAnnuity, AnnualRate: dec("0.12"), MonthlyFeeRate: dec("0"), Frequency: calc.Monthly, CadenceStart: date(t, "2026-03-04"), Closes: true, Cancels: true},
	}
}

var (
	wireMoney = regexp.MustCompile(`^-?[0-9]+\.[0-9]{2}$`)
	wireRate  = regexp.MustCompile(`^-?[0-9]+\.[0-9]{4}$`)
)

// TestQuoteJSONShape checks every amount is written with exactly 2
// decimals and every annualised rate with 4.
func TestQuoteJSONShape(t *testing.T) {
	b, err := json.Marshal(sampleQuote(t))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	sub := func(v any) map[string]any {
		t.Helper()
		o, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("%v is not an object in %s", v, b)
		}
		return o
	}
	check := func(what string, o map[string]any, re *regexp.Regexp, want map[string]string) {
		t.Helper()
		for k, w := range want {
			s, ok := o[k].(string)
			if !ok || !re.MatchString(s) || s != w {
				t.Errorf("%s.%s = %#v, want the string %q", what, k, o[k], w)
			}
		}
	}
	check("quote", m, wireMoney, map[string]string{
		"due_now": "2050.00", "fee": "28.25", "capitalised": "0.00", "paid_ahead": "10.10", "penalty": "1.25",
		"instalment": "1010.00", "total_payable": "2030.10",
	})
	check("settlement", sub(m["settlement"]), wireMoney, map[string]string{
		"principal": "2000.00", "interest": "20.50", "fee": "0.00", "penalty": "1.25", "charge": "28.25", "total": "2050.00", "past_due": "0.00",
	})
	check("before", sub(m["before"]), wireMoney, map[string]string{"instalment": "515.30", "remaining": "2061.20"})
	check("before", sub(m["before"]), wireRate, map[string]string{"apr_nominal": "12.8000", "apr_effective": "13.5803"})
	check("after", sub(m["after"]), wireRate, map[string]string{"apr_nominal": "12.0000", "apr_effective": "12.6825"})
	if n := sub(m["before"])["instalments"]; n != float64(4) {
		t.Errorf("before.instalments = %v, want 4", n)
	}
	waived := m["waived"].([]any)
	check("waived[0]", sub(waived[0]), wireMoney, map[string]string{"amount": "5.50"})
	if w := sub(waived[0]); w["no"] != float64(3) || w["component"] != "penalty" {
		t.Errorf("waived[0] = %v", w)
	}
	rows := m["schedule"].([]any)
	check("schedule[0]", sub(rows[0]), wireMoney, map[string]string{"payment": "1010.00", "balance": "1000.00"})
	if r := sub(rows[1]); r["holiday"] != true || r["due_date"] != "2026-05-04" {
		t.Errorf("schedule[1] = %v, want the holiday row of 2026-05-04", r)
	}
	for k, want := range map[string]any{"id": "q-1", "kind": "cancel", "as_of": "2026-03-04", "expires_at": "2026-03-11T16:00:00Z", "eligible": true, "needs_approval": true, "schedule_version": float64(2)} {
		if m[k] != want {
			t.Errorf("quote.%s = %#v, want %#v", k, m[k], want)
		}
	}
	// Every key once: the formatted fields replace the plain ones.
	for _, k := range []string{`"due_now"`, `"apr_nominal"`, `"total"`, `"amount"`} {
		if n := strings.Count(string(b), k); n != map[string]int{`"due_now"`: 1, `"apr_nominal"`: 2, `"total"`: 1, `"amount"`: 1}[k] {
			t.Errorf("%s appears %d times in %s", k, n, b)
		}
	}
}

// TestQuoteJSONRoundTrip decodes what is encoded, and encodes it again to
// the same bytes.
func TestQuoteJSONRoundTrip(t *testing.T) {
	q := sampleQuote(t)
	b, err := json.Marshal(q)
	if err != nil {
		t.Fatal(err)
	}
	var got plan.Quote
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	again, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, again) {
		t.Fatalf("round trip changed the JSON:\n%s\n%s", b, again)
	}
	if got.ID != q.ID || got.Kind != q.Kind || got.Summary != q.Summary || !got.Eligible || !got.NeedsApproval || got.Revision != 7 ||
		got.AsOf != q.AsOf || !got.ExpiresAt.Equal(q.ExpiresAt) || got.ScheduleVersion != 2 {
		t.Errorf("decoded %+v, want %+v", got, q)
	}
	for _, c := range []struct {
		what      string
		got, want decimal.Decimal
	}{
		{"due_now", got.DueNow, q.DueNow}, {"fee", got.Fee, q.Fee}, {"capitalised", got.Capitalised, q.Capitalised},
		{"paid_ahead", got.PaidAhead, q.PaidAhead}, {"penalty", got.Penalty, q.Penalty}, {"instalment", got.Instalment, q.Instalment},
		{"total_payable", got.TotalPayable, q.TotalPayable},
		{"settlement.total", got.Settlement.Total, q.Settlement.Total}, {"settlement.interest", got.Settlement.Interest, q.Settlement.Interest},
		{"before.remaining", got.Before.Remaining, q.Before.Remaining}, {"before.apr_nominal", got.Before.APRNominal, q.Before.APRNominal},
		{"after.apr_effective", got.After.APREffective, q.After.APREffective},
		{"after.apr_nominal (4 decimals)", got.After.APRNominal, dec("12.0000")},
		{"waived[0].amount", got.Waived[0].Amount, q.Waived[0].Amount},
		{"schedule[0].payment", got.Schedule[0].Payment, q.Schedule[0].Payment},
		{"params.annual_rate", got.Params.AnnualRate, q.Params.AnnualRate},
	} {
		if !c.got.Equal(c.want) {
			t.Errorf("%s: decoded %s, want %s", c.what, c.got, c.want)
		}
	}
	if got.Settlement.Policy != calc.SettleCurrentPeriod || got.Waived[0].Component != calc.ComponentPenalty || got.Waived[0].No != 3 ||
		len(got.Schedule) != 2 || !got.Schedule[1].Holiday {
		t.Errorf("decoded %+v", got)
	}
	if !got.Params.Closes || !got.Params.Cancels || got.Params.Method != calc.MethodAnnuity || got.Params.CadenceStart != q.Params.CadenceStart {
		t.Errorf("decoded params %+v, want %+v", got.Params, q.Params)
	}
}

// TestQuoteJSONInReplyAndStatus round-trips a quote inside a reply and a
// status (the awaiting approval), and a zero quote.
func TestQuoteJSONInReplyAndStatus(t *testing.T) {
	q := sampleQuote(t)
	reply := plan.Reply{RequestID: "c-1", Accepted: true, State: plan.StateActive, Quote: &q, ScheduleVersion: 2}
	b, err := json.Marshal(reply)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"due_now":"2050.00"`) || !strings.Contains(string(b), `"apr_nominal":"12.8000"`) {
		t.Errorf("reply JSON does not carry the formatted quote: %s", b)
	}
	var got plan.Reply
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if got.Quote == nil || got.Quote.ID != "q-1" || !got.Quote.DueNow.Equal(q.DueNow) || got.ScheduleVersion != 2 {
		t.Fatalf("decoded reply %+v", got)
	}

	st := plan.Status{PlanID: "p", State: plan.StateActive, AwaitingApproval: &q, ScheduleVersion: 2}
	b, err = json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	var gotSt plan.Status
	if err := json.Unmarshal(b, &gotSt); err != nil {
		t.Fatal(err)
	}
	if gotSt.AwaitingApproval == nil || !gotSt.AwaitingApproval.TotalPayable.Equal(q.TotalPayable) || !gotSt.AwaitingApproval.After.APREffective.Equal(q.After.APREffective) {
		t.Fatalf("decoded status' awaiting approval %+v", gotSt.AwaitingApproval)
	}

	b, err = json.Marshal(plan.Quote{})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"due_now":"0.00"`, `"apr_nominal":"0.0000"`, `"total_payable":"0.00"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("zero quote: %s missing in %s", want, b)
		}
	}
	for _, absent := range []string{`"settlement"`, `"waived"`, `"schedule"`} {
		if strings.Contains(string(b), absent) {
			t.Errorf("zero quote: %s should be left out: %s", absent, b)
		}
	}
}

// TestQuoteJSONDecode accepts JSON numbers for amounts and refuses what
// is not a number.
func TestQuoteJSONDecode(t *testing.T) {
	var q plan.Quote
	if err := json.Unmarshal([]byte(`{"id":"q","due_now":12.5,"before":{"apr_nominal":7,"remaining":"3"},"settlement":{"total":1},"waived":[{"no":1,"component":"fee","amount":2}]}`), &q); err != nil {
		t.Fatal(err)
	}
	if !q.DueNow.Equal(dec("12.5")) || !q.Before.APRNominal.Equal(dec("7")) || !q.Before.Remaining.Equal(dec("3")) || !q.Settlement.Total.Equal(dec("1")) || !q.Waived[0].Amount.Equal(dec("2")) {
		t.Errorf("decoded %+v", q)
	}
	for _, bad := range []string{
		`{"due_now":"lots"}`,
		`{"before":{"apr_effective":"x"}}`,
		`{"settlement":{"charge":"?"}}`,
		`{"waived":[{"amount":"much"}]}`,
		`{"schedule":[{"no":1,"payment":"abc"}]}`,
		`[]`,
	} {
		if err := json.Unmarshal([]byte(bad), &q); err == nil {
			t.Errorf("decoded %s without an error", bad)
		}
	}
}
