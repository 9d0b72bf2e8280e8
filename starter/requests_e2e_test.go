package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

// The customer requests from the command line, against the real stack
// (the test Temporal dev server, a worker, a fresh database).

// waitStatus polls `starter status PLAN --json` until the plan is in
// state, and returns the status.
func waitStatus(t *testing.T, id, state string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		st := statusJSON(t, id)
		if st["state"] == state {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("plan %s is %v after 15s, want %s", id, st["state"], state)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (s *cliSystem) count(t *testing.T, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := s.st.Pool().QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

// TestCLICancelQuoteThenConfirm cancels a plan in one lump sum: the quote
// as JSON, its id confirmed, the plan closed as cancelled and settled.
// Asking for a quote and confirming at once is bad input (exit 2, nothing
// sent); a lump sum the account cannot pay is refused (exit 1, with the
// quote and why).
func TestCLICancelQuoteThenConfirm(t *testing.T) {
	sys := startSystem(t)
	id := activeCLIPlan(t)

	before := sys.dials.Load()
	code, out, errOut := cli(t, "cancel", id, "--mode", "lump-sum", "--quote", "--confirm", "q-000000000000")
	oneLine(t, "cancel with --quote and --confirm", code, exitUsage, out, errOut, "starter cancel: ", "--quote or --confirm", "exactly one")
	if sys.dials.Load() != before {
		t.Errorf("cancel with --quote and --confirm dialed Temporal")
	}

	// The account is empty: the quote is printed, and refused.
	code, out, errOut = cli(t, "cancel", id, "--mode", "lump-sum", "--quote", "--json")
	if code != exitError || !strings.Contains(errOut, "top it up") || strings.Count(errOut, "\n") != 1 {
		t.Fatalf("lump-sum quote on an empty account: exit %d, stderr %q; want exit 1 with one line asking to top up", code, errOut)
	}
	var refused map[string]any
	oneJSON(t, "refused quote", out, &refused)
	if q, _ := refused["quote"].(map[string]any); refused["accepted"] != false || q == nil || q["eligible"] != false || q["refusal"] == "" {
		t.Fatalf("refused quote: %v, want the ineligible quote with its refusal", refused)
	}

	mustCLI(t, "fund", id, "--amount", "5000")
	var reply map[string]any
	oneJSON(t, "cancel --quote --json", mustCLI(t, "cancel", id, "--mode", "lump-sum", "--quote", "--json", "--request-id", "cq-1"), &reply)
	q, _ := reply["quote"].(map[string]any)
	if reply["accepted"] != true || q == nil || q["eligible"] != true || q["kind"] != "cancel" || q["request_id"] != "cq-1" {
		t.Fatalf("cancel --quote --json: %v, want an eligible cancel quote", reply)
	}
	quoteID := str(t, "quote", q, "id")
	dueNow := money(t, "quote", q, "due_now")
	if !dueNow.IsPositive() || !moneyRE.MatchString(q["due_now"].(string)) {
		t.Fatalf("quote due now %v, want a positive amount with 2 decimals", q["due_now"])
	}
	if st := statusJSON(t, id); st["state"] != "active" || num(t, "status", st, "schedule_version") != 1 {
		t.Fatalf("after the quote: %v, schedule v%v; a quote changes nothing", st["state"], st["schedule_version"])
	}

	out = mustCLI(t, "cancel", id, "--confirm", quoteID, "--request-id", "cc-1")
	if !strings.HasPrefix(out, "confirmed quote "+quoteID+" (cancel): the plan is ") || !strings.Contains(out, "schedule version 2") ||
		!strings.Contains(out, "due now: "+groupMoney(dueNow)) || !strings.HasSuffix(out, "request cc-1\n") {
		t.Fatalf("cancel --confirm printed %q", out)
	}
	st := waitStatus(t, id, "closed")
	if st["close_reason"] != "cancelled and settled" {
		t.Errorf("closed plan: close_reason %v, want cancelled and settled", st["close_reason"])
	}
	if text := mustCLI(t, "status", id); !strings.Contains(text, "closed: cancelled and settled") || !strings.Contains(text, "schedule version 2") {
		t.Errorf("status of the cancelled plan:\n%s", text)
	}
	// The same confirmation again is answered as before; another one is
	// refused: the plan has closed.
	if again := mustCLI(t, "cancel", id, "--confirm", quoteID, "--request-id", "cc-1"); again != out {
		t.Errorf("the confirmation repeated printed %q, want %q", again, out)
	}
	code, out, errOut = cli(t, "cancel", id, "--confirm", quoteID, "--request-id", "cc-2")
	oneLine(t, "cancel --confirm on a closed plan", code, exitUsage, out, errOut, "starter cancel: ", "closed")

	pid := uuid.MustParse(id)
	for _, c := range []struct {
		what string
		sql  string
		want int
	}{
		{"plan closed", `SELECT count(*) FROM plans WHERE id = $1 AND state = 'closed'`, 1},
		{"schedule versions", `SELECT count(*) FROM schedule_versions WHERE plan_id = $1`, 2},
		{"quote and confirmation", `SELECT count(*) FROM requests WHERE plan_id = $1 AND kind = 'cancel' AND request_id IN ('cq-1', 'cc-1') AND status = 'completed'`, 2},
		{"one lump-sum debit", `SELECT count(*) FROM account_entries e JOIN plans p ON p.funding_account_id = e.account_id WHERE p.id = $1 AND e.kind = 'debit' AND e.idempotency_key LIKE 'change:%'`, 1},
	} {
		if got := sys.count(t, c.sql, pid); got != c.want {
			t.Errorf("%s: got %d, want %d", c.what, got, c.want)
		}
	}
}

// TestCLIComplainThenResolve files a complaint, sees it in the status,
// resolves it, and cannot resolve it twice.
func TestCLIComplainThenResolve(t *testing.T) {
	sys := startSystem(t)
	id := activeCLIPlan(t)

	out := mustCLI(t, "complain", id, "--text", "I was called three times today", "--request-id", "cp-1")
	want := "complaint cp-1 filed: the plan is active; collection contact is paused until it is resolved\n" +
		"resolve it: starter resolve " + id + " --complaint cp-1 --resolution TEXT --operator NAME\n"
	if out != want {
		t.Fatalf("complain printed %q, want %q", out, want)
	}
	text := mustCLI(t, "status", id)
	if !strings.Contains(text, "open complaints: 1; collection contact paused until ") || !strings.Contains(text, "cp-1 opened ") || !strings.Contains(text, "I was called three times today") {
		t.Errorf("status with an open complaint:\n%s", text)
	}
	if n := len(objects(t, "complaints", statusJSON(t, id)["complaints"])); n != 1 {
		t.Errorf("status --json: %d complaints, want 1", n)
	}

	out = mustCLI(t, "resolve", id, "--complaint", "cp-1", "--resolution", "one call a day at most", "--operator", "alice", "--request-id", "rs-1")
	if out != "complaint cp-1 resolved: the plan is active\nrequest rs-1\n" {
		t.Fatalf("resolve printed %q", out)
	}
	if text := mustCLI(t, "status", id); strings.Contains(text, "open complaints") {
		t.Errorf("status after the resolution still shows open complaints:\n%s", text)
	}
	if n := len(objects(t, "complaints", statusJSON(t, id)["complaints"])); n != 0 {
		t.Errorf("status --json after the resolution: %d complaints, want 0", n)
	}
	code, out, errOut := cli(t, "resolve", id, "--complaint", "cp-1", "--resolution", "again", "--operator", "alice", "--request-id", "rs-2")
	oneLine(t, "resolve twice", code, exitUsage, out, errOut, "starter resolve: ", "no open complaint cp-1")

	pid := uuid.MustParse(id)
	if n := sys.count(t, `SELECT count(*) FROM complaints WHERE plan_id = $1 AND request_id = 'cp-1' AND status = 'resolved' AND resolution = 'one call a day at most'`, pid); n != 1 {
		t.Errorf("complaint cp-1 is not resolved in the database")
	}
	if n := sys.count(t, `SELECT count(*) FROM tasks WHERE plan_id = $1 AND kind = 'complaint' AND status = 'done'`, pid); n != 1 {
		t.Errorf("%d complaint tasks done, want 1", n)
	}
}
