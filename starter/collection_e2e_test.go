package main

import (
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/fenqi/fenqi/calc"
)

// A plan in collection from the command line, against the real stack (the
// test Temporal dev server, a worker, a fresh database), on a compressed
// calendar.

// collectionDaySeconds is the business day of the collection scenario in
// real seconds. The first instalment falls due a month after activation
// and is overdue once grace (3 days) is over: about 34 business days, 17 s.
// A day must be long enough for the steps taken once the plan is overdue:
// a quote is valid for one business day (its confirmation must reach the
// plan within 0.5 s), a promise made for 5 days ahead must still be
// pending when it is read back.
const collectionDaySeconds = "0.5"

// cliCollection runs `starter collection PLAN --json` and decodes it.
func cliCollection(t *testing.T, id string) map[string]any {
	t.Helper()
	var cs map[string]any
	oneJSON(t, "collection --json", mustCLI(t, "collection", id, "--json"), &cs)
	return cs
}

// waitCLICollection polls `starter collection PLAN --json` until ok holds,
// and returns the status.
func waitCLICollection(t *testing.T, id, what string, within time.Duration, ok func(map[string]any) bool) map[string]any {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		cs := cliCollection(t, id)
		if ok(cs) {
			return cs
		}
		if time.Now().After(deadline) {
			t.Fatalf("plan %s: %s not reached within %s: stage %v, bucket %v, collecting %v, next %v", id, what, within, cs["stage"], cs["bucket"], cs["collecting"], cs["next"])
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitOverdue polls `starter status PLAN --json` until the plan is past
// due (bucket M1), and returns the status.
func waitOverdue(t *testing.T, id string, within time.Duration) map[string]any {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		st := statusJSON(t, id)
		if st["bucket"] == "M1" {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("plan %s is %v, bucket %v, business date %v after %s; want overdue (M1)", id, st["state"], st["bucket"], st["business_date"], within)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// decimalOf reads m[key] as a decimal given as a JSON string.
func decimalOf(t *testing.T, what string, m map[string]any, key string) decimal.Decimal {
	t.Helper()
	d, err := decimal.NewFromString(str(t, what, m, key))
	if err != nil {
		t.Fatalf("%s: %s = %v: %v", what, key, m[key], err)
	}
	return d
}

// nextOf is the next action of a collection status.
func nextOf(m map[string]any) string {
	n, _ := m["next"].(map[string]any)
	s, _ := n["action"].(string)
	return s
}

// TestCLICollectionPromiseThenArrearsPlan leaves a plan's account empty:
// the first instalment is missed and the plan goes into collection (M1).
// `collection` shows the stage and what is owed; the debtor promises to pay
// it within 5 days (collection waits for the promise), then agrees an
// arrears plan of 3 instalments (quote, then confirm): the plan is current
// again on schedule version 2 and collection stops.
func TestCLICollectionPromiseThenArrearsPlan(t *testing.T) {
	sys := startSystem(t)
	start := time.Now()
	id := activeCLIPlan(t, "--day-seconds", collectionDaySeconds)
	st := waitOverdue(t, id, 40*time.Second)
	if st["state"] != "active" || num(t, "status", st, "days_past_due") < 1 {
		t.Fatalf("overdue plan: %v, %v days past due; want active and past due", st["state"], st["days_past_due"])
	}
	t.Logf("overdue (%v days past due) %s after the application", st["days_past_due"], time.Since(start).Round(time.Millisecond))

	cs := waitCLICollection(t, id, "stage M1 with late charges", 10*time.Second, func(cs map[string]any) bool {
		owed, _ := cs["owed"].(map[string]any)
		p, _ := owed["penalty"].(string)
		return cs["stage"] == "M1" && p != "" && p != "0.00"
	})
	hasKeys(t, "collection", cs, "plan_id", "state", "collecting", "stage", "bucket", "days_past_due", "next", "today", "as_of", "owed", "owed_total", "overdue", "pay_by", "rounds", "promises_kept", "promises_broken", "actions", "contacts")
	if cs["plan_id"] != id || cs["state"] != "active" || cs["collecting"] != true || cs["bucket"] != "M1" || num(t, "collection", cs, "days_past_due") < 1 {
		t.Fatalf("collection of the overdue plan: plan %v, %v, collecting %v, bucket %v, %v days past due; want active, collecting, M1", cs["plan_id"], cs["state"], cs["collecting"], cs["bucket"], cs["days_past_due"])
	}
	owed, _ := cs["owed"].(map[string]any)
	if owed == nil {
		t.Fatalf("collection: owed is %v, want an object", cs["owed"])
	}
	principal, interest, fee, penalty := money(t, "owed", owed, "principal"), money(t, "owed", owed, "interest"), money(t, "owed", owed, "fee"), money(t, "owed", owed, "penalty")
	total := decimalOf(t, "collection", cs, "owed_total")
	if !principal.IsPositive() || !interest.IsPositive() || !penalty.IsPositive() || !total.Equal(principal.Add(interest).Add(fee).Add(penalty)) {
		t.Fatalf("owed principal %s, interest %s, fee %s, penalty %s, total %s; want principal, interest and penalty owed, the total their sum", principal, interest, fee, penalty, total)
	}
	if n := len(objects(t, "actions", cs["actions"])); n == 0 {
		t.Errorf("collection: no actions after an M1 round")
	}

	// The human form states the stage and what is owed. (A ladder step
	// between the two reads may change the figures: read until two JSON
	// reads around it agree.)
	for try := 0; ; try++ {
		before := cliCollection(t, id)
		text := mustCLI(t, "collection", id)
		after := cliCollection(t, id)
		if before["owed_total"] != after["owed_total"] || before["stage"] != after["stage"] {
			if try < 3 {
				continue
			}
			t.Fatalf("the collection status keeps changing: %v then %v", before["owed_total"], after["owed_total"])
		}
		o := after["owed"].(map[string]any)
		for _, want := range []string{
			"plan " + id + "  state active  collecting\n",
			"stage M1, bucket M1, ",
			"owed as of ",
			"principal", groupMoney(money(t, "owed", o, "principal")),
			"interest", groupMoney(money(t, "owed", o, "interest")),
			"penalty", groupMoney(money(t, "owed", o, "penalty")),
			"total", groupMoney(decimalOf(t, "collection", after, "owed_total")),
			"recent collection actions:",
		} {
			if !strings.Contains(text, want) {
				t.Errorf("collection: %q missing in\n%s", want, text)
			}
		}
		break
	}

	// A promise to pay everything owed within 5 days: collection waits for
	// it.
	cs = cliCollection(t, id)
	today, err := calc.ParseDate(str(t, "collection", cs, "today"))
	if err != nil {
		t.Fatalf("collection today %v: %v", cs["today"], err)
	}
	promised := today.AddDays(5)
	amount := decimalOf(t, "collection", cs, "owed_total")
	promisedAt := time.Now()
	out := mustCLI(t, "promise", id, "--date", promised.String(), "--amount", amount.StringFixed(2), "--request-id", "pr-1")
	if want := "promise to pay " + groupMoney(amount) + " by " + promised.String() + " recorded: the plan is active; collection contact waits until then\nrequest pr-1\n"; out != want {
		t.Fatalf("promise printed %q, want %q", out, want)
	}
	// The ladder looks again once the promise is accepted (a step of its
	// own, moments later): until then the next action is the one before.
	cs = waitCLICollection(t, id, "waiting for the promise", 2*time.Second, func(cs map[string]any) bool { return nextOf(cs) == "promise" })
	p, _ := cs["promise"].(map[string]any)
	if p == nil || p["date"] != promised.String() || !decimalOf(t, "promise", p, "amount").Equal(amount) || cs["collecting"] != true {
		t.Fatalf("collection after the promise: promise %v, collecting %v; want %s by %s pending", cs["promise"], cs["collecting"], amount.StringFixed(2), promised)
	}
	if text := mustCLI(t, "collection", id); !strings.Contains(text, "promise: "+groupMoney(amount)+" by "+promised.String()) || !strings.Contains(text, "next: wait (promise)") {
		t.Errorf("collection with a pending promise:\n%s", text)
	}

	// An arrears plan of 3 instalments: quoted (eligible, no operator in
	// M1), then confirmed.
	quotedAt := time.Now()
	var reply map[string]any
	oneJSON(t, "arrears-plan --quote --json", mustCLI(t, "arrears-plan", id, "--instalments", "3", "--quote", "--json", "--request-id", "ap-q"), &reply)
	q, _ := reply["quote"].(map[string]any)
	if reply["accepted"] != true || q == nil || q["eligible"] != true || q["kind"] != "arrears-plan" || q["request_id"] != "ap-q" || q["needs_approval"] == true {
		t.Fatalf("arrears-plan --quote --json: %v, want an eligible arrears-plan quote needing no approval", reply)
	}
	quoteID := str(t, "quote", q, "id")
	out = mustCLI(t, "arrears-plan", id, "--confirm", quoteID, "--request-id", "ap-c")
	if !strings.HasPrefix(out, "confirmed quote "+quoteID+" (arrears-plan): the plan is active, schedule version 2\n") {
		t.Fatalf("arrears-plan --confirm printed %q", out)
	}
	t.Logf("arrears plan confirmed %s after the quote was asked for, %s after the promise", time.Since(quotedAt).Round(time.Millisecond), time.Since(promisedAt).Round(time.Millisecond))

	cs = waitCLICollection(t, id, "collection stopped", 5*time.Second, func(cs map[string]any) bool { return cs["collecting"] == false && cs["stage"] == "M0" })
	if cs["bucket"] != "M0" || num(t, "collection", cs, "days_past_due") != 0 || nextOf(cs) != "current" || cs["promise"] != nil || num(t, "collection", cs, "promises_kept") != 1 {
		t.Errorf("after the arrears plan: bucket %v, %v days past due, next %v, promise %v, %v kept; want M0, current, the promise kept (nothing is past due)",
			cs["bucket"], cs["days_past_due"], cs["next"], cs["promise"], cs["promises_kept"])
	}
	if text := mustCLI(t, "collection", id); !strings.Contains(text, "state active  not collecting\n") || !strings.Contains(text, "stage M0, bucket M0, 0 days past due") {
		t.Errorf("collection after the arrears plan:\n%s", text)
	}
	st = statusJSON(t, id)
	if st["state"] != "active" || num(t, "status", st, "schedule_version") != 2 || st["bucket"] != "M0" {
		t.Errorf("status after the arrears plan: %v, schedule v%v, bucket %v; want active, v2, M0", st["state"], st["schedule_version"], st["bucket"])
	}

	pid := uuid.MustParse(id)
	for _, c := range []struct {
		what string
		sql  string
		want int
	}{
		{"schedule versions", `SELECT count(*) FROM schedule_versions WHERE plan_id = $1`, 2},
		{"v2 made by the arrears plan", `SELECT count(*) FROM schedule_versions WHERE plan_id = $1 AND version = 2 AND request_id = 'ap-c'`, 1},
		{"promise, quote and confirmation completed", `SELECT count(*) FROM requests WHERE plan_id = $1 AND request_id IN ('pr-1', 'ap-q', 'ap-c') AND status = 'completed'`, 3},
		{"promise kept (nothing is past due any more)", `SELECT count(*) FROM promises WHERE plan_id = $1 AND request_id = 'pr-1' AND status = 'kept'`, 1},
	} {
		if got := sys.count(t, c.sql, pid); got != c.want {
			t.Errorf("%s: got %d, want %d", c.what, got, c.want)
		}
	}
	if n := sys.count(t, `SELECT count(*) FROM collection_actions WHERE plan_id = $1 AND stage = 'M1'`, pid); n == 0 {
		t.Errorf("no M1 collection action stored")
	}
	t.Logf("scenario took %s", time.Since(start).Round(time.Millisecond))
}
