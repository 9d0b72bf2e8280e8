package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/fenqi/fenqi/calc"
	"github.com/fenqi/fenqi/frontdoor"
	"github.com/fenqi/fenqi/plan"
)

// activeCLIPlan applies with args (the strong customer by default),
// chooses the annuity offer over 6 months and signs; it returns the id.
func activeCLIPlan(t *testing.T, args ...string) string {
	t.Helper()
	a := apply(t, append([]string{"--customer", strongCustomer, "--amount", "3000", "--terms", "6"}, args...)...)
	if a.State != "offered" {
		t.Fatalf("apply: %+v, want offered", a)
	}
	var offers any
	oneJSON(t, "offers", mustCLI(t, "offers", a.PlanID, "--json"), &offers)
	no := "1"
	for _, o := range checkOffers(t, "offers", offers) {
		if o["method"] == "annuity" && num(t, "offer", o, "terms") == 6 {
			no = fmtInt(int(num(t, "offer", o, "no")))
			break
		}
	}
	mustCLI(t, "choose", a.PlanID, "--offer", no)
	if out := mustCLI(t, "sign", a.PlanID, "--name", "张三"); out != "accepted: the plan is active\n" {
		t.Fatalf("sign printed %q", out)
	}
	return a.PlanID
}

var (
	barRE     = regexp.MustCompile(`(?m)^\[([#-]{20})\] (\d+)/(\d+) instalments, ([0-9,]+\.\d\d) of ([0-9,]+\.\d\d) paid$`)
	nextDueRE = regexp.MustCompile(`(?m)^next due (\d{4}-\d\d-\d\d): ([0-9,]+\.\d\d); business date (\d{4}-\d\d-\d\d)$`)
)

// TestCLIServicing funds a plan on the real calendar, pays part of an
// instalment by hand (twice under one payment id) and reads the progress
// and the contacts.
func TestCLIServicing(t *testing.T) {
	sys := startSystem(t)
	offered := apply(t, "--customer", strongCustomer, "--amount", "3000", "--terms", "6")

	// Before activation there is no account to fund and nothing to pay.
	code, out, errOut := cli(t, "fund", offered.PlanID, "--amount", "100")
	oneLine(t, "fund before activation", code, exitUsage, out, errOut, "starter fund: ", "offered", "no funding account")
	code, out, errOut = cli(t, "pay", offered.PlanID, "--amount", "100")
	oneLine(t, "pay before activation", code, exitUsage, out, errOut, "starter pay: ", "active", "offered")

	id := activeCLIPlan(t)
	if out := mustCLI(t, "fund", id, "--amount", "1000", "--request-id", "top-1"); out != "funded 1,000.00; the funding account's balance is 1,000.00\n" {
		t.Fatalf("fund printed %q", out)
	}
	// The same top-up again is applied once.
	if out := mustCLI(t, "fund", id, "--amount", "1000", "--request-id", "top-1"); out != "funded 1,000.00; the funding account's balance is 1,000.00\n" {
		t.Fatalf("fund again printed %q", out)
	}
	var funded map[string]any
	oneJSON(t, "fund --json", mustCLI(t, "fund", id, "--amount", "234.5", "--json"), &funded)
	if funded["plan_id"] != id || funded["amount"] != "234.50" || funded["balance"] != "1234.50" {
		t.Fatalf("fund --json: %v, want amount 234.50 and balance 1234.50", funded)
	}
	var balance decimal.Decimal
	if err := sys.st.Pool().QueryRow(context.Background(), `SELECT a.balance FROM funding_accounts a JOIN plans p ON p.funding_account_id = a.id WHERE p.id = $1`, uuid.MustParse(id)).Scan(&balance); err != nil || !balance.Equal(decimal.RequireFromString("1234.50")) {
		t.Fatalf("the plan's funding account holds %s (%v), want 1234.50", balance, err)
	}
	code, out, errOut = cli(t, "fund", id, "--amount", "5", "--request-id", "top-1")
	oneLine(t, "fund with a used key and another amount", code, exitUsage, out, errOut, "starter fund: ", "top-1", "already used")

	before := statusJSON(t, id)
	total := money(t, "status", before, "total_amount")
	out = mustCLI(t, "pay", id, "--amount", "100", "--payment-id", "pay-1")
	if !strings.HasPrefix(out, "accepted payment pay-1: the plan is active\n") || !barRE.MatchString(out) {
		t.Fatalf("pay printed %q, want the acceptance and the progress bar", out)
	}
	if again := mustCLI(t, "pay", id, "--amount", "100", "--payment-id", "pay-1"); !strings.HasPrefix(again, "accepted payment pay-1: the plan is active\n") {
		t.Fatalf("pay again printed %q", again)
	}
	var n int
	if err := sys.st.Pool().QueryRow(context.Background(), `SELECT count(*) FROM payments WHERE plan_id = $1 AND payment_id = 'pay-1' AND source = 'manual'`, uuid.MustParse(id)).Scan(&n); err != nil || n != 1 {
		t.Fatalf("payment pay-1: %d manual rows (%v), want 1", n, err)
	}
	code, out, errOut = cli(t, "pay", id, "--amount", "7", "--payment-id", "pay-1")
	oneLine(t, "pay under a used payment id", code, exitUsage, out, errOut, "starter pay: ", "pay-1", "already used")
	var reply map[string]any
	oneJSON(t, "pay --json", mustCLI(t, "pay", id, "--amount", "0.50", "--source", "external", "--json"), &reply)
	if reply["accepted"] != true || reply["state"] != "active" {
		t.Fatalf("pay --json: %v", reply)
	}

	// status: 100.50 of the total paid, the rest of instalment 1 next.
	text := mustCLI(t, "status", id)
	m := barRE.FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("status has no progress bar line:\n%s", text)
	}
	if m[1] != strings.Repeat("-", 20) || m[2] != "0" || m[3] != "6" || m[4] != "100.50" || m[5] != groupMoney(total) {
		t.Errorf("progress %q, want an empty bar, 0/6 instalments, 100.50 of %s paid", m[0], groupMoney(total))
	}
	after := statusJSON(t, id)
	next := nextDueRE.FindStringSubmatch(text)
	if next == nil || next[1] != after["next_due_date"] || next[2] != groupMoney(money(t, "status", after, "next_due_amount")) || next[3] != after["business_date"] {
		t.Errorf("status: next due line %q, want %v %v and business date %v", next, after["next_due_date"], after["next_due_amount"], after["business_date"])
	}
	first := objects(t, "schedule", after["schedule"])[0]
	if want := money(t, "row", first, "payment").Sub(decimal.RequireFromString("100.50")); !money(t, "status", after, "next_due_amount").Equal(want) {
		t.Errorf("next due amount %v, want the first instalment less the payments, %s", after["next_due_amount"], want)
	}

	// contacts: the schedule notice, the first reminder, the receipts.
	table := mustCLI(t, "contacts", id)
	for _, want := range []string{"Scheduled (UTC)", "Sent", "Purpose", "schedule_notice", "reminder", "We received your payment of 100.00.", "scheduled"} {
		if !strings.Contains(table, want) {
			t.Errorf("contacts: %q missing in\n%s", want, table)
		}
	}
	var list any
	oneJSON(t, "contacts --json", mustCLI(t, "contacts", id, "--json"), &list)
	purposes := map[string]int{}
	for _, c := range objects(t, "contacts", list) {
		hasKeys(t, "contact", c, "time", "purpose", "channel", "status", "outcome", "scheduled_for", "body")
		purposes[str(t, "contact", c, "purpose")]++
	}
	if purposes["schedule_notice"] != 1 || purposes["reminder"] != 1 || purposes["notice"] < 2 {
		t.Errorf("contacts by purpose %v, want the schedule notice, one reminder and the receipts", purposes)
	}
	if out := mustCLI(t, "contacts", offered.PlanID); !strings.Contains(out, "Your application is approved") {
		t.Errorf("contacts of the offered plan:\n%s", out)
	}
}

// TestCLICompressedCalendar runs a plan applied with --day-seconds to its
// end: funded once, debited on each due date, closed.
func TestCLICompressedCalendar(t *testing.T) {
	startSystem(t)
	// 0.05 s a day: a business month is 1.5 s, ample for apply to sign
	// under load (until the schedule starts on the business date, a slow
	// signature moves the first due date into the business past).
	id := activeCLIPlan(t, "--day-seconds", "0.05")
	st := statusJSON(t, id)
	total := money(t, "status", st, "total_amount")
	mustCLI(t, "fund", id, "--amount", total.StringFixed(2))
	deadline := time.Now().Add(40 * time.Second)
	for st["state"] != "closed" {
		if time.Now().After(deadline) {
			t.Fatalf("the plan is %v after 40s: %v paid of %v", st["state"], st["paid_amount"], st["total_amount"])
		}
		time.Sleep(200 * time.Millisecond)
		st = statusJSON(t, id)
	}
	text := mustCLI(t, "status", id)
	want := "[" + strings.Repeat("#", 20) + "] 6/6 instalments, " + groupMoney(total) + " of " + groupMoney(total) + " paid\nnothing more due; business date "
	if !strings.Contains(text, want) {
		t.Errorf("status of the closed plan: %q missing in\n%s", want, text)
	}
	table := mustCLI(t, "contacts", id)
	if n := strings.Count(table, "We collected"); n != 6 {
		t.Errorf("%d due-date notices of a successful debit, want 6:\n%s", n, table)
	}
	if strings.Contains(table, "could not collect") {
		t.Errorf("a debit failed on a funded account:\n%s", table)
	}
}

// TestCLIDemo runs `starter demo` on a fast calendar against the test
// servers: every plan closes and it exits 0, with where to see them.
func TestCLIDemo(t *testing.T) {
	sys := startSystem(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var stdout, stderr bytes.Buffer
	start := time.Now()
	// 0.05 s a day: the 6-month plans run in about 9 s, and a business
	// month (1.5 s) is ample for each plan's apply to sign under load (see
	// TestCLICompressedCalendar).
	code := dispatch(ctx, []string{"demo", "--day-seconds", "0.05", "--customers", "../examples/customers", "--timeout", "60s"}, &stdout, &stderr)
	out := stdout.String()
	t.Logf("demo took %s:\n%s", time.Since(start).Round(time.Millisecond), out)
	if code != exitOK || stderr.Len() != 0 {
		t.Fatalf("demo: exit %d, stderr %q; want 0 and nothing\n%s", code, stderr.String(), out)
	}
	if !strings.Contains(out, "all 4 plans closed in") {
		t.Fatalf("demo output does not say the plans closed:\n%s", out)
	}
	links := regexp.MustCompile(`(?m)^  (.+?)\s+http://localhost:8233/namespaces/default/workflows/plan-([0-9a-f-]{36})$`).FindAllStringSubmatch(out, -1)
	if len(links) != 4 {
		t.Fatalf("demo printed %d Web UI links, want 4:\n%s", len(links), out)
	}
	if strings.Count(out, "["+strings.Repeat("#", 20)+"]") < 4 {
		t.Errorf("the last table does not show 4 full progress bars:\n%s", out)
	}
	count := func(sql string, id uuid.UUID) int {
		t.Helper()
		var n int
		if err := sys.st.Pool().QueryRow(context.Background(), sql, id).Scan(&n); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		return n
	}
	for _, l := range links {
		scenario, id := strings.TrimSpace(l[1]), uuid.MustParse(l[2])
		if n := count(`SELECT count(*) FROM plans WHERE id = $1 AND state = 'closed'`, id); n != 1 {
			t.Errorf("%s: plan %s is not closed in the database", scenario, id)
		}
		manual := count(`SELECT count(*) FROM payments WHERE plan_id = $1 AND source = 'manual'`, id)
		declined := count(`SELECT count(*) FROM debit_attempts WHERE plan_id = $1 AND outcome = 'insufficient_funds'`, id)
		debits := count(`SELECT count(*) FROM payments WHERE plan_id = $1 AND source = 'auto_debit'`, id)
		switch scenario {
		case "happy path":
			if manual != 0 || debits == 0 {
				t.Errorf("%s: %d manual payments, %d debits; want none by hand", scenario, manual, debits)
			}
		case "failed debit, recovers":
			if declined == 0 || manual != 0 {
				t.Errorf("%s: %d declined debits, %d manual payments; want a declined debit and none by hand", scenario, declined, manual)
			}
		case "partial payment":
			if manual != 1 || debits == 0 {
				t.Errorf("%s: %d manual payments, %d debits; want one by hand and debits", scenario, manual, debits)
			}
		case "early payoff":
			if manual != 1 || debits < 1 || debits >= 6 {
				t.Errorf("%s: %d manual payments, %d debits; want the payoff by hand after 1 to 5 debits", scenario, manual, debits)
			}
		default:
			t.Errorf("unknown scenario %q", scenario)
		}
	}
}

// TestCLIDemoTimeout checks a demo whose plans are not closed in time
// exits 1 with one line saying so, and still tells where the plans are.
func TestCLIDemoTimeout(t *testing.T) {
	startSystem(t)
	code, out, errOut := cli(t, "demo", "--day-seconds", "5", "--customers", "../examples/customers", "--timeout", "1s")
	if code != exitError || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, "starter demo: timed out after 1s with 0 of 4 plans closed") {
		t.Fatalf("demo --timeout 1s: exit %d, stderr %q; want exit 1 and one line saying it timed out", code, errOut)
	}
	if n := strings.Count(out, "http://localhost:8233/namespaces/default/workflows/plan-"); n != 4 {
		t.Errorf("demo timed out: %d Web UI links, want 4:\n%s", n, out)
	}
}

// TestCLIServicingBadInput checks the new commands' and flags' bad input:
// exit 2, one line on stderr naming the flag, nothing on stdout, and no
// call to Temporal.
func TestCLIServicingBadInput(t *testing.T) {
	dials := startCLI(t)
	planID := uuid.NewString()
	long := strings.Repeat("x", 200)
	app := func(extra ...string) []string {
		return append([]string{"apply", "--customer", strongCustomer, "--amount", "20000"}, extra...)
	}
	tests := []struct {
		name     string
		args     []string
		mentions []string
		dials    bool
	}{
		{"apply with a non-numeric --day-seconds", app("--day-seconds", "fast"), []string{"-day-seconds", "fast"}, false},
		{"apply with a negative --day-seconds", app("--day-seconds", "-1"), []string{"--day-seconds", "-1"}, false},
		{"apply with too small a --day-seconds", app("--day-seconds", "0.0001"), []string{"--day-seconds", "0.001"}, false},
		{"apply with too large a --day-seconds", app("--day-seconds", "100000"), []string{"--day-seconds", "86400"}, false},
		{"apply with a NaN --day-seconds", app("--day-seconds", "NaN"), []string{"--day-seconds", "NaN"}, false},
		{"fund without PLAN", []string{"fund", "--amount", "10"}, []string{"PLAN"}, false},
		{"fund without --amount", []string{"fund", planID}, []string{"--amount", "required"}, false},
		{"fund with a non-numeric --amount", []string{"fund", planID, "--amount", "lots"}, []string{"--amount", "lots"}, false},
		{"fund with a negative --amount", []string{"fund", planID, "--amount", "-5"}, []string{"--amount", "positive"}, false},
		{"fund with a sub-cent --amount", []string{"fund", planID, "--amount", "1.001"}, []string{"--amount", "2 decimals"}, false},
		{"fund with too much", []string{"fund", planID, "--amount", "2000000"}, []string{"--amount", "at most"}, false},
		{"fund with too long a --request-id", []string{"fund", planID, "--amount", "1", "--request-id", long}, []string{"--request-id", "longer"}, false},
		{"fund with a stray argument", []string{"fund", planID, "--amount", "1", "now"}, []string{`"now"`}, false},
		{"pay without --amount", []string{"pay", planID}, []string{"--amount", "required"}, false},
		{"pay zero", []string{"pay", planID, "--amount", "0"}, []string{"--amount", "positive"}, false},
		{"pay a non-numeric --amount", []string{"pay", planID, "--amount", "ten"}, []string{"--amount", "ten"}, false},
		{"pay above the maximum", []string{"pay", planID, "--amount", "2000000"}, []string{"--amount", "at most"}, false},
		{"pay from an unknown --source", []string{"pay", planID, "--amount", "1", "--source", "bank"}, []string{"--source", "bank"}, false},
		{"pay with too long a --payment-id", []string{"pay", planID, "--amount", "1", "--payment-id", long}, []string{"--payment-id", "longer"}, false},
		{"pay a malformed plan id", []string{"pay", "not-a-plan", "--amount", "1"}, []string{"PLAN", "not-a-plan"}, false},
		{"contacts without PLAN", []string{"contacts"}, []string{"PLAN"}, false},
		{"contacts with an unknown flag", []string{"contacts", planID, "--all"}, []string{"-all"}, false},
		{"demo with --day-seconds 0", []string{"demo", "--day-seconds", "0"}, []string{"--day-seconds", "0.001"}, false},
		{"demo with a non-numeric --day-seconds", []string{"demo", "--day-seconds", "slow"}, []string{"-day-seconds", "slow"}, false},
		{"demo with a zero --timeout", []string{"demo", "--timeout", "0s"}, []string{"--timeout", "positive"}, false},
		{"demo with a --timeout without unit", []string{"demo", "--timeout", "5"}, []string{"-timeout", "5"}, false},
		{"demo without customers", []string{"demo", "--customers", t.TempDir()}, []string{"--customers", "strong.json"}, false},
		{"demo with a stray argument", []string{"demo", "now"}, []string{`"now"`}, false},
		{"fund an unknown plan", []string{"fund", planID, "--amount", "1"}, []string{"starter fund: ", planID, "not found"}, true},
		{"pay to an unknown plan", []string{"pay", planID, "--amount", "1"}, []string{"starter pay: ", planID, "not found"}, true},
		{"contacts of an unknown plan", []string{"contacts", planID}, []string{"starter contacts: ", planID, "not found"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := dials.Load()
			code, out, errOut := cli(t, tt.args...)
			oneLine(t, strings.Join(tt.args, " "), code, exitUsage, out, errOut, tt.mentions...)
			if !strings.HasPrefix(errOut, "starter "+tt.args[0]+": ") {
				t.Errorf("stderr %q does not start with the command's name", errOut)
			}
			if dialed := dials.Load() > before; dialed != tt.dials {
				t.Errorf("dialed Temporal: %v, want %v", dialed, tt.dials)
			}
		})
	}
}

// TestProgressBar checks the bar's cells and the grouping of amounts.
func TestProgressBar(t *testing.T) {
	d := decimal.RequireFromString
	for _, tt := range []struct {
		paid, total, want string
	}{
		{"0", "100", "[--------------------]"},
		{"4.99", "100", "[--------------------]"},
		{"5", "100", "[#-------------------]"},
		{"99.99", "100", "[###################-]"},
		{"100", "100", "[####################]"},
		{"120", "100", "[####################]"},
		{"0", "0", "[--------------------]"},
	} {
		if got := progressBar(d(tt.paid), d(tt.total)); got != tt.want {
			t.Errorf("progressBar(%s, %s) = %s, want %s", tt.paid, tt.total, got, tt.want)
		}
	}
	for in, want := range map[string]string{"0": "0.00", "999.5": "999.50", "1000": "1,000.00", "12345.67": "12,345.67", "1234567.8": "1,234,567.80", "-1234": "-1,234.00"} {
		if got := groupMoney(d(in)); got != want {
			t.Errorf("groupMoney(%s) = %s, want %s", in, got, want)
		}
	}
	st := plan.Status{PaidInstallments: 5, TotalInstallments: 12, PaidAmount: d("5123.45"), TotalAmount: d("12345.67")}
	if got, want := progressLine(st), "[########------------] 5/12 instalments, 5,123.45 of 12,345.67 paid"; got != want {
		t.Errorf("progressLine = %q, want %q", got, want)
	}
	date := func(s string) calc.Date {
		d, err := calc.ParseDate(s)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	for _, tt := range []struct {
		name string
		st   plan.Status
		want string
	}{
		{"on track", plan.Status{TotalInstallments: 3, PaidInstallments: 1, PaidAmount: d("1000"), TotalAmount: d("3000"), NextDueDate: date("2027-01-22"), NextDueAmount: d("1000"), BusinessDate: date("2027-01-05"), Bucket: "M0"},
			"[######--------------] 1/3 instalments, 1,000.00 of 3,000.00 paid\nnext due 2027-01-22: 1,000.00; business date 2027-01-05\n"},
		{"only overdue left", plan.Status{TotalInstallments: 3, PaidAmount: d("0"), TotalAmount: d("3036.08"), DaysPastDue: 136, Bucket: "M5", BusinessDate: date("2027-05-07")},
			"[--------------------] 0/3 instalments, 0.00 of 3,036.08 paid\nnothing ahead, 3,036.08 overdue; 136 days past due (M5); business date 2027-05-07\n"},
		{"paid off", plan.Status{TotalInstallments: 3, PaidInstallments: 3, PaidAmount: d("3000"), TotalAmount: d("3000"), BusinessDate: date("2027-02-22")},
			"[####################] 3/3 instalments, 3,000.00 of 3,000.00 paid\nnothing more due; business date 2027-02-22\n"},
		{"no schedule", plan.Status{State: plan.StateOffered}, ""},
	} {
		var b bytes.Buffer
		printProgress(&b, tt.st)
		if b.String() != tt.want {
			t.Errorf("%s: printProgress wrote %q, want %q", tt.name, b.String(), tt.want)
		}
	}
}

// TestCLINoDatabase checks the commands that need the database say so in
// one line, and exit 1, when it does not answer.
func TestCLINoDatabase(t *testing.T) {
	setDialDoor(t, func(context.Context, ...frontdoor.Option) (*frontdoor.Door, func(), error) {
		t.Error("dialed Temporal without a database")
		return nil, nil, context.Canceled
	})
	t.Setenv("DATABASE_URL", "postgres://fenqi:secret@127.0.0.1:1/none?sslmode=disable&connect_timeout=2")
	id := uuid.NewString()
	for _, args := range [][]string{
		{"fund", id, "--amount", "1"},
		{"contacts", id},
		{"demo", "--customers", "../examples/customers"},
	} {
		code, out, errOut := cli(t, args...)
		oneLine(t, strings.Join(args, " "), code, exitError, out, errOut, "starter "+args[0]+": ", "cannot reach the database", "127.0.0.1:1")
		if strings.Contains(errOut, "secret") {
			t.Errorf("%s: stderr %q shows the database password", args[0], errOut)
		}
	}
}
