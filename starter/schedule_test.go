package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/fenqi/fenqi/calc"
)

// runStarter runs the CLI with args and returns the exit status, stdout and
// stderr.
func runStarter(args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	code := dispatch(context.Background(), args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestScheduleBadInput(t *testing.T) {
	base := []string{"--method", "annuity", "--amount", "10000", "--terms", "12", "--annual-rate", "10", "--start", "2026-01-15"}
	// with replaces the value of flag name in base (or appends it).
	with := func(name, value string) []string {
		out := append([]string{"schedule"}, base...)
		for i := 1; i < len(out); i += 2 {
			if out[i] == "--"+name {
				out[i+1] = value
				return out
			}
		}
		return append(out, "--"+name, value)
	}
	without := func(name string) []string {
		out := []string{"schedule"}
		for i := 0; i < len(base); i += 2 {
			if base[i] != "--"+name {
				out = append(out, base[i], base[i+1])
			}
		}
		return out
	}
	tests := []struct {
		name    string
		args    []string
		mention string
	}{
		{"missing amount", without("amount"), "--amount"},
		{"zero amount", with("amount", "0"), "--amount"},
		{"negative amount", with("amount", "-5"), `--amount: must be greater than 0, got "-5"`},
		{"non-numeric amount", with("amount", "ten"), "--amount"},
		{"sub-cent amount", with("amount", "10.001"), "--amount"},
		{"huge amount", with("amount", "1e400"), "--amount: must be at most 1000000000000"},
		{"missing terms", without("terms"), "--terms"},
		{"zero terms", with("terms", "0"), "--terms"},
		{"361 terms", with("terms", "361"), "--terms"},
		{"non-numeric terms", with("terms", "twelve"), "--terms"},
		{"fractional terms", with("terms", "1.5"), "--terms"},
		{"missing method", without("method"), "--method"},
		{"unknown method", with("method", "balloon"), "--method"},
		{"unknown frequency", with("frequency", "weekly"), "--frequency"},
		{"negative rate", with("annual-rate", "-1"), "--annual-rate"},
		{"non-numeric rate", with("annual-rate", "high"), "--annual-rate"},
		{"rate above the cap", with("annual-rate", "25"), "--annual-rate: annualised rate 24.9999% exceeds the cap of 24.0000%"},
		{"fee above the cap", []string{"schedule", "--method", "fee", "--amount", "5000", "--terms", "12", "--monthly-fee", "2"}, "--monthly-fee: annualised rate"},
		{"negative fee", []string{"schedule", "--method", "fee", "--amount", "5000", "--terms", "12", "--monthly-fee", "-0.1"}, "--monthly-fee"},
		{"fee on an annuity", with("monthly-fee", "0.6"), "--monthly-fee"},
		{"interest on a fee plan", with("method", "fee"), "--annual-rate"},
		{"upfront on an annuity", append(with("terms", "12"), "--fee-upfront"), "--fee-upfront"},
		{"impossible date", with("start", "2026-02-30"), "--start"},
		{"malformed date", with("start", "15/01/2026"), "--start"},
		{"unknown flag", append(with("terms", "12"), "--colour", "red"), "colour"},
		{"bad boolean", append(with("terms", "12"), "--json=maybe"), "json"},
		{"flag without a value", []string{"schedule", "--method", "annuity", "--amount", "1", "--terms"}, "terms"},
		{"stray argument", append(with("terms", "12"), "extra"), `"extra"`},
		{"stray argument first", []string{"schedule", "now", "--amount", "1"}, `"now"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runStarter(tc.args...)
			if code != 2 {
				t.Errorf("exit status %d, want 2", code)
			}
			if stdout != "" {
				t.Errorf("stdout %q, want nothing", stdout)
			}
			if strings.Count(stderr, "\n") != 1 || !strings.HasSuffix(stderr, "\n") {
				t.Errorf("stderr %q, want exactly one line", stderr)
			}
			if !strings.HasPrefix(stderr, "starter schedule: ") || !strings.Contains(stderr, tc.mention) {
				t.Errorf("stderr %q, want it to start with %q and mention %q", stderr, "starter schedule: ", tc.mention)
			}
		})
	}
}

// wireSchedule decodes the --json output without calc's types, so that the
// test checks the documented wire shape itself.
type wireSchedule struct {
	Rows []struct {
		No        int    `json:"no"`
		DueDate   string `json:"due_date"`
		Principal string `json:"principal"`
		Interest  string `json:"interest"`
		Fee       string `json:"fee"`
		Payment   string `json:"payment"`
		Balance   string `json:"balance"`
	} `json:"rows"`
	TotalPrincipal string `json:"total_principal"`
	TotalInterest  string `json:"total_interest"`
	TotalFee       string `json:"total_fee"`
	TotalPayment   string `json:"total_payment"`
	APRNominal     string `json:"apr_nominal"`
	APREffective   string `json:"apr_effective"`
}

// invocation is one CLI invocation of the reference test.
type invocation struct {
	method     string
	amount     string
	terms      int
	annualPct  string // percent per year
	monthlyPct string // percent per month
	upfront    bool
	quarterly  bool
	start      string
}

// args returns the command line of p.
func (p invocation) args() []string {
	a := []string{"schedule", "--method", p.method, "--amount", p.amount, "--terms", fmt.Sprint(p.terms), "--start", p.start, "--json"}
	if p.annualPct != "" {
		a = append(a, "--annual-rate", p.annualPct)
	}
	if p.monthlyPct != "" {
		a = append(a, "--monthly-fee", p.monthlyPct)
	}
	if p.upfront {
		a = append(a, "--fee-upfront")
	}
	if p.quarterly {
		a = append(a, "--frequency", "quarterly")
	}
	return a
}

// rat parses a decimal string exactly ("" is 0).
func rat(s string) *big.Rat {
	if s == "" {
		return new(big.Rat)
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		panic("bad number in test: " + s)
	}
	return r
}

// cents rounds a non-negative rational half-up to cents.
func cents(x *big.Rat) *big.Rat {
	scaled := new(big.Rat).Mul(x, big.NewRat(100, 1))
	scaled.Add(scaled, big.NewRat(1, 2))
	q := new(big.Int).Quo(scaled.Num(), scaled.Denom()) // floor for non-negative
	return new(big.Rat).SetFrac(q, big.NewInt(100))
}

// expectedRows re-derives the schedule of p from domain.md §7 with exact
// rational arithmetic: [principal, interest, fee, payment, balance] per row.
func expectedRows(p invocation) [][5]string {
	months, ppy := 1, int64(12)
	if p.quarterly {
		months, ppy = 3, 4
	}
	P := rat(p.amount)
	n := big.NewRat(int64(p.terms), 1)
	r := new(big.Rat).Quo(rat(p.annualPct), big.NewRat(100*ppy, 1))
	feeRate := new(big.Rat).Mul(rat(p.monthlyPct), big.NewRat(int64(months), 100)) // per period, as a fraction
	feeEach := cents(new(big.Rat).Mul(P, feeRate))
	var level *big.Rat
	switch p.method {
	case "annuity":
		if r.Sign() == 0 {
			level = cents(new(big.Rat).Quo(P, n))
		} else {
			g := big.NewRat(1, 1)
			for range p.terms {
				g.Mul(g, new(big.Rat).Add(big.NewRat(1, 1), r))
			}
			num := new(big.Rat).Mul(new(big.Rat).Mul(P, r), g)
			level = cents(num.Quo(num, new(big.Rat).Sub(g, big.NewRat(1, 1))))
		}
	case "equal-principal", "fee", "zero":
		level = cents(new(big.Rat).Quo(P, n))
	}
	var rows [][5]string
	bal := new(big.Rat).Set(P)
	for k := 1; k <= p.terms; k++ {
		interest := cents(new(big.Rat).Mul(bal, r))
		var prin *big.Rat
		switch {
		case k == p.terms:
			prin = new(big.Rat).Set(bal)
		case p.method == "annuity":
			prin = new(big.Rat).Sub(level, interest)
		case p.method == "interest-only":
			prin = new(big.Rat)
		default:
			prin = new(big.Rat).Set(level)
		}
		if prin.Cmp(bal) > 0 {
			prin.Set(bal)
		}
		fee := new(big.Rat).Set(feeEach)
		if p.upfront && k == 1 {
			fee.Mul(feeEach, n)
		} else if p.upfront {
			fee.SetInt64(0)
		}
		bal.Sub(bal, prin)
		pay := new(big.Rat).Add(new(big.Rat).Add(prin, interest), fee)
		rows = append(rows, [5]string{prin.FloatString(2), interest.FloatString(2), fee.FloatString(2), pay.FloatString(2), bal.FloatString(2)})
	}
	return rows
}

func TestScheduleJSONAgainstReference(t *testing.T) {
	var plans []invocation
	for _, q := range []bool{false, true} {
		plans = append(plans,
			invocation{method: "annuity", amount: "10000", terms: 12, annualPct: "24", quarterly: q, start: "2026-01-15"},
			invocation{method: "annuity", amount: "123456.78", terms: 60, annualPct: "9.99", quarterly: q, start: "2026-01-31"},
			invocation{method: "annuity", amount: "500", terms: 7, annualPct: "0", quarterly: q, start: "2024-02-29"},
			invocation{method: "equal-principal", amount: "10000", terms: 12, annualPct: "18", quarterly: q, start: "2026-01-31"},
			invocation{method: "equal-principal", amount: "0.05", terms: 10, annualPct: "12", quarterly: q, start: "2026-05-31"},
			invocation{method: "interest-only", amount: "20000", terms: 8, annualPct: "15", quarterly: q, start: "2026-03-31"},
			invocation{method: "fee", amount: "6000", terms: 12, monthlyPct: "0.6", quarterly: q, start: "2026-01-15"},
			invocation{method: "fee", amount: "6000", terms: 12, monthlyPct: "0.6", upfront: true, quarterly: q, start: "2026-01-15"},
			invocation{method: "fee", amount: "3333.33", terms: 24, monthlyPct: "0.45", upfront: true, quarterly: q, start: "2025-12-31"},
			invocation{method: "zero", amount: "1000", terms: 3, quarterly: q, start: "2026-11-30"},
			invocation{method: "zero", amount: "99999.99", terms: 360, quarterly: q, start: "2026-01-31"},
		)
	}
	money := regexp.MustCompile(`^\d+\.\d\d$`)
	rate := regexp.MustCompile(`^\d+\.\d{4}$`)
	for _, p := range plans {
		name := fmt.Sprintf("%s/%s/%d/q=%v/up=%v", p.method, p.amount, p.terms, p.quarterly, p.upfront)
		t.Run(name, func(t *testing.T) {
			code, stdout, stderr := runStarter(p.args()...)
			if code != 0 || stderr != "" {
				t.Fatalf("exit %d, stderr %q", code, stderr)
			}
			if strings.Count(stdout, "\n") != 1 {
				t.Errorf("stdout is not one JSON line: %q", stdout)
			}
			var got wireSchedule
			dec := json.NewDecoder(strings.NewReader(stdout))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&got); err != nil {
				t.Fatalf("decode %q: %v", stdout, err)
			}
			want := expectedRows(p)
			if len(got.Rows) != len(want) {
				t.Fatalf("%d rows, want %d", len(got.Rows), len(want))
			}
			start, err := time.Parse("2006-01-02", p.start)
			if err != nil {
				t.Fatal(err)
			}
			months := 1
			if p.quarterly {
				months = 3
			}
			sums := [4]*big.Rat{new(big.Rat), new(big.Rat), new(big.Rat), new(big.Rat)}
			for i, r := range got.Rows {
				row := [5]string{r.Principal, r.Interest, r.Fee, r.Payment, r.Balance}
				if row != want[i] {
					t.Errorf("row %d: got %v, want %v", i+1, row, want[i])
				}
				for _, v := range row {
					if !money.MatchString(v) {
						t.Errorf("row %d: money %q is not a 2-decimal string", i+1, v)
					}
				}
				if r.No != i+1 {
					t.Errorf("row %d numbered %d", i+1, r.No)
				}
				// due date: start + k periods, clamped to the month end
				k := (i + 1) * months
				first := time.Date(start.Year(), start.Month()+time.Month(k), 1, 0, 0, 0, 0, time.UTC)
				last := first.AddDate(0, 1, -1).Day()
				due := time.Date(first.Year(), first.Month(), min(start.Day(), last), 0, 0, 0, 0, time.UTC)
				if r.DueDate != due.Format("2006-01-02") {
					t.Errorf("row %d due %s, want %s", i+1, r.DueDate, due.Format("2006-01-02"))
				}
				for j := range sums {
					sums[j].Add(sums[j], rat(row[j]))
				}
			}
			totals := [4]string{got.TotalPrincipal, got.TotalInterest, got.TotalFee, got.TotalPayment}
			for j, s := range sums {
				if totals[j] != s.FloatString(2) {
					t.Errorf("total %d: %s, rows sum to %s", j, totals[j], s.FloatString(2))
				}
			}
			if got.TotalPrincipal != rat(p.amount).FloatString(2) {
				t.Errorf("total principal %s, want %s", got.TotalPrincipal, p.amount)
			}
			if !rate.MatchString(got.APRNominal) || !rate.MatchString(got.APREffective) {
				t.Errorf("rates %q %q are not 4-decimal strings", got.APRNominal, got.APREffective)
			}
			if p.method == "zero" && (got.APRNominal != "0.0000" || got.APREffective != "0.0000") {
				t.Errorf("zero plan rates %s %s, want 0.0000", got.APRNominal, got.APREffective)
			}
		})
	}
}

func TestScheduleKnownJSON(t *testing.T) {
	code, stdout, stderr := runStarter("schedule", "--method", "annuity", "--amount", "10000", "--terms", "12", "--annual-rate", "24", "--start", "2026-01-15", "--json")
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	for _, want := range []string{
		`{"rows":[{"no":1,"due_date":"2026-02-15","principal":"745.60","interest":"200.00","fee":"0.00","payment":"945.60","balance":"9254.40"},`,
		`"total_principal":"10000.00","total_interest":"1347.15","total_fee":"0.00","total_payment":"11347.15","apr_nominal":"24.0001","apr_effective":"26.8243"}` + "\n",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout %s\nlacks %s", stdout, want)
		}
	}
}

func TestScheduleTable(t *testing.T) {
	code, stdout, stderr := runStarter("schedule", "--method", "equal-principal", "--amount", "12000", "--terms", "12", "--annual-rate", "12", "--start", "2026-01-31")
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	var header, total string
	rows := 0
	for _, l := range lines {
		f := strings.Fields(l)
		switch {
		case len(f) > 0 && f[0] == "No":
			header = l
		case len(f) > 0 && f[0] == "Total":
			total = l
		case len(f) == 7 && regexp.MustCompile(`^\d+$`).MatchString(f[0]):
			rows++
		}
		if l != strings.TrimRight(l, " ") {
			t.Errorf("trailing spaces in %q", l)
		}
	}
	if rows != 12 || header == "" || total == "" {
		t.Fatalf("got %d rows, header %q, total %q in\n%s", rows, header, total, stdout)
	}
	if f := strings.Fields(total); strings.Join(f, " ") != "Total 12000.00 780.00 0.00 12780.00" {
		t.Errorf("total line %q", total)
	}
	// columns are right-aligned: every row ends where the header ends
	for _, l := range lines {
		if f := strings.Fields(l); len(f) == 7 && regexp.MustCompile(`^\d+$`).MatchString(f[0]) && len(l) != len(header) {
			t.Errorf("row %q is not aligned with header %q", l, header)
		}
	}
	if !strings.Contains(stdout, "nominal 12.0000%, effective 12.6825%") {
		t.Errorf("rates missing from\n%s", stdout)
	}
	if !strings.Contains(stdout, "2026-02-28") || !strings.Contains(stdout, "2026-03-31") {
		t.Errorf("month-end due dates missing from\n%s", stdout)
	}
}

func TestScheduleDefaults(t *testing.T) {
	code, stdout, stderr := runStarter("schedule", "--method", "zero", "--amount", "300", "--terms", "3", "--json")
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	var got wireSchedule
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatal(err)
	}
	today := calc.Today(time.Local)
	if want := today.AddMonths(1).String(); got.Rows[0].DueDate != want {
		t.Errorf("first due %s, want %s (monthly from today)", got.Rows[0].DueDate, want)
	}
	if got.Rows[0].Payment != "100.00" {
		t.Errorf("first payment %s, want 100.00", got.Rows[0].Payment)
	}
}

func TestDispatch(t *testing.T) {
	tests := []struct {
		name               string
		args               []string
		code               int
		stdoutHas, errHas  string
		stdoutEmpty, oneLn bool
	}{
		{name: "no command", args: nil, code: 2, errHas: "schedule", stdoutEmpty: true},
		{name: "help", args: []string{"help"}, code: 0, stdoutHas: "schedule"},
		{name: "--help", args: []string{"--help"}, code: 0, stdoutHas: "schedule"},
		{name: "unknown command", args: []string{"frobnicate"}, code: 2, errHas: `"frobnicate"`, stdoutEmpty: true, oneLn: true},
		{name: "schedule -h", args: []string{"schedule", "-h"}, code: 0, stdoutHas: "-annual-rate"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runStarter(tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d", code, tc.code)
			}
			if !strings.Contains(stdout, tc.stdoutHas) || !strings.Contains(stderr, tc.errHas) {
				t.Errorf("stdout %q stderr %q, want %q and %q", stdout, stderr, tc.stdoutHas, tc.errHas)
			}
			if tc.stdoutEmpty && stdout != "" {
				t.Errorf("stdout %q, want nothing", stdout)
			}
			if tc.oneLn && strings.Count(stderr, "\n") != 1 {
				t.Errorf("stderr %q, want one line", stderr)
			}
		})
	}
	seen := map[string]bool{}
	for _, c := range commands {
		if c.name == "" || c.summary == "" || c.run == nil || seen[c.name] {
			t.Errorf("bad dispatch entry %+v", c)
		}
		seen[c.name] = true
	}
}
