package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/fenqi/fenqi/activities"
	"github.com/fenqi/fenqi/frontdoor"
	"github.com/fenqi/fenqi/internal/testenv"
	"github.com/fenqi/fenqi/internal/testsystem"
	"github.com/fenqi/fenqi/store"
)

func TestMain(m *testing.M) { testenv.Main(m) }

const strongCustomer = "../examples/customers/strong.json"

var (
	moneyRE = regexp.MustCompile(`^-?[0-9]+\.[0-9]{2}$`)
	rateRE  = regexp.MustCompile(`^-?[0-9]+\.[0-9]{4}$`)
	hashRE  = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

// startCLI wires fenqi as `make run` does, on throwaway servers (a real
// PostgreSQL database, the test Temporal dev server, a worker on a queue of
// its own), and points the starter's dialDoor and DATABASE_URL at it. It
// returns a counter of the dials the starter made.
func startCLI(t *testing.T) *atomic.Int64 {
	t.Helper()
	return startSystem(t).dials
}

// cliSystem is what startSystem wired: the database the starter's
// DATABASE_URL points at and the dial counter.
type cliSystem struct {
	st    *store.Store
	dials *atomic.Int64
}

func startSystem(t *testing.T) *cliSystem {
	t.Helper()
	st, url := testsystem.StoreAndURL(t)
	queue, _ := testsystem.Worker(t, activities.New(st))
	c := testenv.TemporalClient(t)
	var dials atomic.Int64
	setDialDoor(t, func(_ context.Context, opts ...frontdoor.Option) (*frontdoor.Door, func(), error) {
		dials.Add(1)
		return frontdoor.New(c, queue, opts...), func() {}, nil
	})
	t.Setenv("DATABASE_URL", url)
	return &cliSystem{st: st, dials: &dials}
}

// setDialDoor replaces dialDoor for the rest of the test.
func setDialDoor(t *testing.T, f func(context.Context, ...frontdoor.Option) (*frontdoor.Door, func(), error)) {
	t.Helper()
	saved := dialDoor
	dialDoor = f
	t.Cleanup(func() { dialDoor = saved })
}

// cli runs the starter in-process and returns its exit status, stdout and
// stderr.
func cli(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var stdout, stderr bytes.Buffer
	code := dispatch(ctx, args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// mustCLI runs the starter and fails the test unless it exits 0 with
// nothing on stderr; it returns stdout.
func mustCLI(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errOut := cli(t, args...)
	if code != exitOK || errOut != "" {
		t.Fatalf("starter %s: exit %d, stderr %q, stdout %q; want exit 0 and no stderr", strings.Join(args, " "), code, errOut, out)
	}
	return out
}

// oneJSON decodes stdout as exactly one JSON value on one line into v.
func oneJSON(t *testing.T, what, stdout string, v any) {
	t.Helper()
	if strings.Count(stdout, "\n") != 1 || !strings.HasSuffix(stdout, "\n") {
		t.Fatalf("%s: stdout %q is not one line", what, stdout)
	}
	dec := json.NewDecoder(strings.NewReader(stdout))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: decode %q: %v", what, stdout, err)
	}
	var extra json.RawMessage
	if err := dec.Decode(&extra); err == nil {
		t.Fatalf("%s: stdout %q holds more than one JSON value", what, stdout)
	}
}

// applied is what `starter apply --json` prints.
type applied struct {
	PlanID string `json:"plan_id"`
	State  string `json:"state"`
	Reason string `json:"reason"`
}

// apply runs `starter apply ... --json`, checks it prints one JSON object
// and returns it.
func apply(t *testing.T, args ...string) applied {
	t.Helper()
	out := mustCLI(t, append(append([]string{"apply"}, args...), "--json")...)
	var a applied
	oneJSON(t, "apply", out, &a)
	if _, err := uuid.Parse(a.PlanID); err != nil {
		t.Fatalf("apply: plan_id %q is not a uuid", a.PlanID)
	}
	return a
}

// statusJSON runs `starter status PLAN --json` and decodes it.
func statusJSON(t *testing.T, id string) map[string]any {
	t.Helper()
	var st map[string]any
	oneJSON(t, "status", mustCLI(t, "status", id, "--json"), &st)
	return st
}

func hasKeys(t *testing.T, what string, m map[string]any, keys ...string) {
	t.Helper()
	for _, k := range keys {
		if _, ok := m[k]; !ok {
			t.Errorf("%s: key %q missing (keys %v)", what, k, sortedKeys(m))
		}
	}
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// str returns m[key] as a string, failing the test when it is not one.
func str(t *testing.T, what string, m map[string]any, key string) string {
	t.Helper()
	s, ok := m[key].(string)
	if !ok {
		t.Fatalf("%s: %s is %T %v, want a string", what, key, m[key], m[key])
	}
	return s
}

// num returns m[key] as an int, failing the test when it is not one.
func num(t *testing.T, what string, m map[string]any, key string) int64 {
	t.Helper()
	n, ok := m[key].(json.Number)
	if !ok {
		t.Fatalf("%s: %s is %T %v, want a number", what, key, m[key], m[key])
	}
	i, err := n.Int64()
	if err != nil {
		t.Fatalf("%s: %s = %s: %v", what, key, n, err)
	}
	return i
}

// money checks m[key] is a money string with exactly 2 decimals.
func money(t *testing.T, what string, m map[string]any, key string) decimal.Decimal {
	t.Helper()
	s := str(t, what, m, key)
	if !moneyRE.MatchString(s) {
		t.Errorf("%s: %s = %q, want a money string with 2 decimals", what, key, s)
	}
	d, err := decimal.NewFromString(s)
	if err != nil {
		t.Fatalf("%s: %s = %q: %v", what, key, s, err)
	}
	return d
}

func objects(t *testing.T, what string, v any) []map[string]any {
	t.Helper()
	list, ok := v.([]any)
	if !ok {
		t.Fatalf("%s is %T, want a list", what, v)
	}
	out := make([]map[string]any, len(list))
	for i, e := range list {
		o, ok := e.(map[string]any)
		if !ok {
			t.Fatalf("%s[%d] is %T, want an object", what, i, e)
		}
		out[i] = o
	}
	return out
}

var offerKeys = []string{"no", "method", "amount", "terms", "frequency", "instalment", "total_cost", "apr_nominal", "apr_effective"}

// checkOffers checks the wire shape of a list of offers and returns them.
func checkOffers(t *testing.T, what string, v any) []map[string]any {
	t.Helper()
	offers := objects(t, what, v)
	for i, o := range offers {
		w := what + "[" + fmtInt(i) + "]"
		hasKeys(t, w, o, offerKeys...)
		if no := num(t, w, o, "no"); no != int64(i+1) {
			t.Errorf("%s: no %d, want %d", w, no, i+1)
		}
		for _, k := range []string{"amount", "instalment", "total_cost"} {
			money(t, w, o, k)
		}
		for _, k := range []string{"apr_nominal", "apr_effective"} {
			if s := str(t, w, o, k); !rateRE.MatchString(s) {
				t.Errorf("%s: %s = %q, want a rate with 4 decimals", w, k, s)
			}
		}
	}
	return offers
}

// offerRows returns the data rows of the table `starter offers` prints.
func offerRows(t *testing.T, out string) []string {
	t.Helper()
	lines := strings.Split(out, "\n")
	for i, l := range lines {
		if strings.HasPrefix(strings.TrimSpace(l), "No") && strings.Contains(l, "Method") && strings.Contains(l, "APR effective") {
			var rows []string
			for _, r := range lines[i+1:] {
				if strings.TrimSpace(r) == "" {
					break
				}
				rows = append(rows, r)
			}
			return rows
		}
	}
	t.Fatalf("offers: no table header in %q", out)
	return nil
}

var chooseRE = regexp.MustCompile(`^accepted: the plan is signing\nagreement sha256 ([0-9a-f]{64})\n$`)

// TestCLIOrigination drives issue 3's happy path from the command line:
// apply, list the offers, choose, sign (electronically or on paper) and read
// the active plan's status.
func TestCLIOrigination(t *testing.T) {
	tests := []struct {
		name  string
		offer string
		sign  []string
	}{
		{"electronic signature", "1", []string{"--name", "张三"}},
		{"paper signature", "3", []string{"--paper-ref", "SCAN-001"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			startCLI(t)
			out := mustCLI(t, "apply", "--customer", strongCustomer, "--amount", "20000", "--terms", "12", "--json")
			var obj map[string]any
			oneJSON(t, "apply", out, &obj)
			if offers, _ := obj["offers"].([]any); obj["state"] != "offered" || len(offers) < 3 || fmt.Sprint(obj["offer_set"]) != "1" || obj["offers_expire_at"] == nil {
				t.Fatalf("apply printed %q, want the plan offered with its first offer set", out)
			}
			id := str(t, "apply", obj, "plan_id")
			if _, err := uuid.Parse(id); err != nil {
				t.Fatalf("apply: plan_id %q is not a uuid", id)
			}

			table := mustCLI(t, "offers", id)
			rows := offerRows(t, table)
			if len(rows) < 3 {
				t.Fatalf("offers: %d rows, want at least 3:\n%s", len(rows), table)
			}
			if !strings.Contains(table, "starter choose "+id+" --offer-set 1 --offer N") {
				t.Errorf("offers: no hint how to choose:\n%s", table)
			}
			var list any
			oneJSON(t, "offers --json", mustCLI(t, "offers", id, "--json"), &list)
			offers := checkOffers(t, "offers --json", list)
			if len(offers) != len(rows) {
				t.Errorf("offers --json lists %d offers, the table %d", len(offers), len(rows))
			}
			for i, r := range rows {
				f := strings.Fields(r)
				if len(f) < 3 || f[0] != fmtInt(i+1) || f[2] != str(t, "offer", offers[i], "amount") {
					t.Errorf("offers: row %q does not show offer %d of amount %s", r, i+1, offers[i]["amount"])
				}
			}

			out = mustCLI(t, "choose", id, "--offer", tt.offer)
			m := chooseRE.FindStringSubmatch(out)
			if m == nil {
				t.Fatalf("choose printed %q, want the signing state and the agreement's sha256", out)
			}
			hash := m[1]

			if out := mustCLI(t, append([]string{"sign", id}, tt.sign...)...); out != "accepted: the plan is active\n" {
				t.Fatalf("sign printed %q, want %q", out, "accepted: the plan is active\n")
			}

			st := statusJSON(t, id)
			hasKeys(t, "status", st, "plan_id", "state", "customer_id", "offers", "chosen_offer", "agreement_hash", "schedule",
				"paid_installments", "total_installments", "outstanding_principal", "days_past_due", "bucket")
			if st["plan_id"] != id || st["state"] != "active" || st["agreement_hash"] != hash || str(t, "status", st, "customer_id") == "" {
				t.Errorf("status: plan %v state %v hash %v customer %v; want %s active %s and a customer",
					st["plan_id"], st["state"], st["agreement_hash"], st["customer_id"], id, hash)
			}
			offers = checkOffers(t, "status offers", st["offers"])
			chosenNo := num(t, "status", st, "chosen_offer")
			if fmtInt(int(chosenNo)) != tt.offer {
				t.Fatalf("status: chosen_offer %d, want %s", chosenNo, tt.offer)
			}
			chosen := offers[chosenNo-1]
			amount := money(t, "chosen offer", chosen, "amount")
			terms := num(t, "chosen offer", chosen, "terms")

			schedule := objects(t, "schedule", st["schedule"])
			if int64(len(schedule)) != terms || num(t, "status", st, "total_installments") != terms {
				t.Errorf("schedule: %d rows, total_installments %v; want the offer's %d terms", len(schedule), st["total_installments"], terms)
			}
			sum := decimal.Zero
			for i, r := range schedule {
				w := "schedule row " + fmtInt(i+1)
				hasKeys(t, w, r, "no", "due_date", "principal", "interest", "fee", "payment", "balance", "status")
				if num(t, w, r, "no") != int64(i+1) || r["status"] != "pending" {
					t.Errorf("%s: no %v status %v, want %d pending", w, r["no"], r["status"], i+1)
				}
				if _, err := time.Parse("2006-01-02", str(t, w, r, "due_date")); err != nil {
					t.Errorf("%s: due_date %v: %v", w, r["due_date"], err)
				}
				sum = sum.Add(money(t, w, r, "principal"))
				for _, k := range []string{"interest", "fee", "payment", "balance"} {
					money(t, w, r, k)
				}
			}
			if !sum.Equal(amount) {
				t.Errorf("schedule principal sums to %s, want the chosen offer's amount %s", sum, amount)
			}
			if last := schedule[len(schedule)-1]; last["balance"] != "0.00" {
				t.Errorf("last balance %v, want 0.00", last["balance"])
			}
			if op := money(t, "status", st, "outstanding_principal"); !op.Equal(amount) {
				t.Errorf("outstanding_principal %s, want %s", op, amount)
			}
			if num(t, "status", st, "paid_installments") != 0 || num(t, "status", st, "days_past_due") != 0 || st["bucket"] != "M0" {
				t.Errorf("status: paid %v, %v days past due, bucket %v; want 0, 0, M0", st["paid_installments"], st["days_past_due"], st["bucket"])
			}

			// The human-readable status shows the same plan.
			text := mustCLI(t, "status", id)
			for _, want := range []string{"plan " + id, "state active", "paid 0 of " + fmtInt(int(terms)) + " instalments"} {
				if !strings.Contains(text, want) {
					t.Errorf("status: %q missing in\n%s", want, text)
				}
			}
		})
	}
}

func fmtInt(i int) string { return decimal.NewFromInt(int64(i)).String() }

// TestCLIApplyIsIdempotent checks that repeating an application under its
// request id answers with the same plan.
func TestCLIApplyIsIdempotent(t *testing.T) {
	startCLI(t)
	rid := "cli-" + uuid.NewString()
	first := apply(t, "--customer", strongCustomer, "--amount", "20000", "--terms", "12", "--request-id", rid)
	again := apply(t, "--customer", strongCustomer, "--amount", "20000", "--terms", "12", "--request-id", rid)
	if first.State != "offered" || again != first {
		t.Fatalf("apply twice with request id %s: %+v then %+v; want the same offered plan", rid, first, again)
	}
	other := apply(t, "--customer", strongCustomer, "--amount", "20000", "--terms", "12")
	if other.PlanID == first.PlanID {
		t.Fatalf("a new request id gave the same plan %s", other.PlanID)
	}
	// The text output names the same plan too.
	out := mustCLI(t, "apply", "--customer", strongCustomer, "--amount", "20000", "--terms", "12", "--request-id", rid)
	if want := "plan " + first.PlanID + ": offered\nnext: starter offers " + first.PlanID + "\n"; out != want {
		t.Fatalf("apply (text) printed %q, want %q", out, want)
	}
}

// oneLine checks a failed command printed exactly one line on stderr,
// naming what, and nothing on stdout.
func oneLine(t *testing.T, what string, code, wantCode int, out, errOut string, mentions ...string) {
	t.Helper()
	if code != wantCode || out != "" || strings.Count(errOut, "\n") != 1 || !strings.HasSuffix(errOut, "\n") {
		t.Fatalf("%s: exit %d, stdout %q, stderr %q; want exit %d, no stdout and one line on stderr", what, code, out, errOut, wantCode)
	}
	for _, m := range mentions {
		if !strings.Contains(errOut, m) {
			t.Errorf("%s: stderr %q does not mention %q", what, errOut, m)
		}
	}
}

// TestCLICounterAndWithdraw asks for other offers, is refused, withdraws,
// and tries to withdraw again.
func TestCLICounterAndWithdraw(t *testing.T) {
	startCLI(t)
	rid := "cli-" + uuid.NewString()
	a := apply(t, "--customer", strongCustomer, "--amount", "20000", "--terms", "12", "--request-id", rid)
	if a.State != "offered" {
		t.Fatalf("apply: %+v, want offered", a)
	}
	id := a.PlanID

	if out := mustCLI(t, "counter", id, "--terms", "24"); out != "accepted: the plan is offered\n" {
		t.Fatalf("counter --terms 24 printed %q", out)
	}
	st := statusJSON(t, id)
	if num(t, "status", st, "offer_set") != 2 || num(t, "status", st, "offer_round") != 1 {
		t.Errorf("after a counter-offer: offer set %v round %v, want 2 and 1", st["offer_set"], st["offer_round"])
	}
	offers := checkOffers(t, "counter offers", st["offers"])
	if len(offers) < 3 {
		t.Errorf("counter-offer gave %d offers, want at least 3", len(offers))
	}
	longer := false
	for _, o := range offers {
		if num(t, "offer", o, "terms") == 24 {
			longer = true
		}
	}
	if !longer {
		t.Errorf("counter --terms 24: no offer over 24 terms in %v", offers)
	}

	// Above what any application may ask: refused before it reaches the
	// plan, as bad input.
	code, out, errOut := cli(t, "counter", id, "--amount", "9999999")
	oneLine(t, "counter --amount 9999999", code, exitUsage, out, errOut, "starter counter: ", "--amount", "at most 1000000")

	// Above the customer's credit limit: the plan refuses it with the
	// reason (a run-time refusal, exit 1).
	code, out, errOut = cli(t, "counter", id, "--amount", "900000")
	oneLine(t, "counter --amount 900000", code, exitError, out, errOut, "starter counter: ", "refused", "900000.00", "credit limit")

	if out := mustCLI(t, "withdraw", id, "--reason", "changed my mind"); out != "accepted: the plan is withdrawn\n" {
		t.Fatalf("withdraw printed %q", out)
	}
	st = statusJSON(t, id)
	if st["state"] != "withdrawn" || !strings.Contains(string(mustJSON(t, st["reasons"])), "changed my mind") {
		t.Errorf("after withdraw: state %v reasons %v, want withdrawn with the customer's reason", st["state"], st["reasons"])
	}

	// Applying again under the same request id names the ended plan.
	again := apply(t, "--customer", strongCustomer, "--amount", "20000", "--terms", "12", "--request-id", rid)
	if again.PlanID != id || again.State != "withdrawn" {
		t.Errorf("apply again after withdrawing: %+v, want plan %s withdrawn", again, id)
	}

	t.Run("withdraw again", func(t *testing.T) {
		code, out, errOut := cli(t, "withdraw", id)
		oneLine(t, "withdraw on a withdrawn plan", code, exitUsage, out, errOut, "starter withdraw: ", "withdrawn")
		if strings.Contains(errOut, "not found") {
			t.Errorf("withdraw on a withdrawn plan: stderr %q says the plan is not found, but `starter status %s` shows it", errOut, id)
		}
	})
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// borderline is a profile in the default policy's manual review band (the
// underwriting tests' borderlineCustomer).
const borderline = `{
  "ref": "border-cli-1",
  "name": "赵六 (demo)",
  "age": 30,
  "occupation": "self-employed shop owner",
  "monthly_income": "6000",
  "monthly_debt_payments": "1000",
  "assets": "10000",
  "liabilities": "5000",
  "monthly_spend": "3500",
  "credit_history": {"on_time_payments": 10, "late_payments": 1, "defaults": 0}
}`

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestCLIManualReview takes borderline applications through an operator's
// decision.
func TestCLIManualReview(t *testing.T) {
	startCLI(t)
	file := writeFile(t, "borderline.json", borderline)
	applyReview := func(t *testing.T) string {
		t.Helper()
		a := apply(t, "--customer", file, "--amount", "5000", "--terms", "12")
		if a.State != "review" {
			t.Fatalf("borderline apply: %+v, want review", a)
		}
		return a.PlanID
	}

	t.Run("approve", func(t *testing.T) {
		id := applyReview(t)
		text := mustCLI(t, "status", id)
		if !strings.Contains(text, "plan "+id+"  state review") {
			t.Errorf("status of a plan in review:\n%s", text)
		}
		if out := mustCLI(t, "decide", id, "--approve", "--operator", "alice"); out != "accepted: the plan is offered\n" {
			t.Fatalf("decide --approve printed %q", out)
		}
		if rows := offerRows(t, mustCLI(t, "offers", id)); len(rows) < 3 {
			t.Errorf("after approval: %d offers, want at least 3", len(rows))
		}
		// A second decision finds no review to decide.
		code, out, errOut := cli(t, "decide", id, "--approve", "--operator", "alice")
		oneLine(t, "decide on an offered plan", code, exitUsage, out, errOut, "starter decide: ", "review")
	})

	t.Run("decline", func(t *testing.T) {
		id := applyReview(t)
		code, out, errOut := cli(t, "decide", id, "--decline")
		oneLine(t, "decide --decline without --reason", code, exitUsage, out, errOut, "starter decide: ", "--reason")
		if st := statusJSON(t, id); st["state"] != "review" {
			t.Fatalf("a refused decision changed the plan to %v", st["state"])
		}
		if out := mustCLI(t, "decide", id, "--decline", "--reason", "income not verified", "--operator", "alice"); out != "accepted: the plan is declined\n" {
			t.Fatalf("decide --decline printed %q", out)
		}
		st := statusJSON(t, id)
		if st["state"] != "declined" || !strings.Contains(string(mustJSON(t, st["reasons"])), "income not verified") {
			t.Errorf("after decline: state %v reasons %v, want declined with the operator's reason", st["state"], st["reasons"])
		}
	})
}

// TestCLIBadInput checks every kind of bad input exits 2 with one line on
// stderr naming the flag or argument, and nothing on stdout; only the
// unknown plan reaches Temporal.
func TestCLIBadInput(t *testing.T) {
	dials := startCLI(t)
	notCustomer := writeFile(t, "order.json", `{"ref": "x-1", "name": "x", "age": 30, "order_id": "A-1"}`)
	notJSON := writeFile(t, "notes.txt", "just some notes\n")
	badIncome := writeFile(t, "bad-income.json", strings.Replace(borderline, `"monthly_income": "6000"`, `"monthly_income": "-6000"`, 1))
	missing := filepath.Join(t.TempDir(), "missing.json")
	planID := uuid.NewString() // well formed; no such plan
	app := func(extra ...string) []string {
		return append([]string{"apply", "--customer", strongCustomer, "--amount", "20000"}, extra...)
	}
	tests := []struct {
		name     string
		args     []string
		mentions []string
		dials    bool
	}{
		{"apply without --customer", []string{"apply", "--amount", "20000"}, []string{"--customer"}, false},
		{"apply with a missing customer file", []string{"apply", "--customer", missing, "--amount", "20000"}, []string{"--customer", "missing.json"}, false},
		{"apply with a file that is not a customer", []string{"apply", "--customer", notCustomer, "--amount", "20000"}, []string{"--customer", "order_id"}, false},
		{"apply with a file that is not JSON", []string{"apply", "--customer", notJSON, "--amount", "20000"}, []string{"--customer", "notes.txt"}, false},
		{"apply without --amount", []string{"apply", "--customer", strongCustomer}, []string{"--amount"}, false},
		{"negative amount", app("--amount", "-5"), []string{"--amount", "-5"}, false},
		{"zero amount", app("--amount", "0"), []string{"--amount"}, false},
		{"non-numeric amount", app("--amount", "abc"), []string{"--amount", "abc"}, false},
		{"sub-cent amount", app("--amount", "10.001"), []string{"--amount"}, false},
		{"amount above the maximum", app("--amount", "2000000"), []string{"--amount"}, false},
		{"1000 terms", app("--terms", "1000"), []string{"--terms", "1000"}, false},
		{"non-numeric terms", app("--terms", "twelve"), []string{"-terms", "twelve"}, false},
		{"weekly", app("--frequency", "weekly"), []string{"--frequency", "weekly"}, false},
		// The message names the flag and the values it takes as typed.
		{"unknown priority", app("--priority", "cheapest"), []string{"--priority", "lowest_cost", "lowest_instalment"}, false},
		{"customer with a negative income", []string{"apply", "--customer", badIncome, "--amount", "20000"}, []string{"--customer", "monthly_income"}, false},
		{"apply with a stray argument", app("now"), []string{`"now"`}, false},
		{"unknown flag", app("--bogus"), []string{"-bogus"}, false},
		{"choose without PLAN", []string{"choose", "--offer", "1"}, []string{"PLAN"}, false},
		{"choose a malformed plan id", []string{"choose", "not-a-plan", "--offer", "1"}, []string{"PLAN", "not-a-plan"}, false},
		{"choose without --offer", []string{"choose", planID}, []string{"--offer"}, false},
		{"choose offer 0", []string{"choose", planID, "--offer", "0"}, []string{"--offer"}, false},
		{"sign with --name and --paper-ref", []string{"sign", planID, "--name", "张三", "--paper-ref", "SCAN-001"}, []string{"--name", "--paper-ref"}, false},
		{"sign with neither", []string{"sign", planID}, []string{"--name", "--paper-ref"}, false},
		{"counter asking nothing", []string{"counter", planID}, []string{"asks for nothing"}, false},
		{"counter with a bad --max-instalment", []string{"counter", planID, "--max-instalment", "lots"}, []string{"--max-instalment", "lots"}, false},
		{"decide both ways", []string{"decide", planID, "--approve", "--decline", "--reason", "x"}, []string{"--approve", "--decline"}, false},
		{"status with two plans", []string{"status", planID, uuid.NewString()}, []string{"unexpected argument"}, false},
		{"status with an unknown flag", []string{"status", planID, "--verbose"}, []string{"-verbose"}, false},
		{"unknown command", []string{"frobnicate"}, []string{`"frobnicate"`}, false},
		{"status of an unknown plan", []string{"status", planID}, []string{"starter status: ", planID, "not found"}, true},
		{"offers of an unknown plan", []string{"offers", planID, "--json"}, []string{"starter offers: ", planID, "not found"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := dials.Load()
			code, out, errOut := cli(t, tt.args...)
			oneLine(t, strings.Join(tt.args, " "), code, exitUsage, out, errOut, tt.mentions...)
			if !strings.HasPrefix(errOut, "starter") {
				t.Errorf("stderr %q does not start with the command's name", errOut)
			}
			if dialed := dials.Load() > before; dialed != tt.dials {
				t.Errorf("dialed Temporal: %v, want %v", dialed, tt.dials)
			}
		})
	}
}
