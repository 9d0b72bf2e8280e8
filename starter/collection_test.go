package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"github.com/fenqi/fenqi/calc"
	"github.com/fenqi/fenqi/collection"
	"github.com/fenqi/fenqi/frontdoor"
	"github.com/fenqi/fenqi/plan"
)

var collectionCommands = []string{"collection", "promise", "refer", "writeoff", "grace", "arrears-plan"}

// TestCollectionCommandsBadInput checks bad input to the collection
// commands exits 2 with one line on stderr naming the flag, prints nothing
// and never reaches Temporal.
func TestCollectionCommandsBadInput(t *testing.T) {
	_, dials := withFakeTemporal(t, func(client.UpdateWorkflowOptions) (plan.Reply, error) {
		t.Error("a bad request reached the plan")
		return plan.Reply{}, nil
	})
	t.Setenv("USER", "")
	id := uuid.NewString()
	long := strings.Repeat("x", 201)
	tests := []struct {
		name     string
		args     []string
		mentions []string
	}{
		{"collection without PLAN", []string{"collection"}, []string{"PLAN"}},
		{"collection of a malformed plan id", []string{"collection", "not-a-plan"}, []string{"PLAN", "not-a-plan"}},
		{"collection with a stray argument", []string{"collection", id, "now"}, []string{`"now"`}},
		{"collection with an unknown flag", []string{"collection", id, "--bogus"}, []string{"-bogus"}},
		{"promise without PLAN", []string{"promise", "--date", "2026-12-05", "--amount", "10"}, []string{"PLAN"}},
		{"promise without --date", []string{"promise", id, "--amount", "10"}, []string{"--date", "required"}},
		{"promise on a malformed --date", []string{"promise", id, "--date", "05/12/2026", "--amount", "10"}, []string{"--date", "YYYY-MM-DD", "05/12/2026"}},
		{"promise on a day that does not exist", []string{"promise", id, "--date", "2026-02-30", "--amount", "10"}, []string{"--date", "2026-02-30"}},
		{"promise without --amount", []string{"promise", id, "--date", "2026-12-05"}, []string{"--amount", "required"}},
		{"promise of a non-numeric --amount", []string{"promise", id, "--date", "2026-12-05", "--amount", "lots"}, []string{"--amount", "lots"}},
		{"promise of zero", []string{"promise", id, "--date", "2026-12-05", "--amount", "0"}, []string{"--amount", "positive"}},
		{"promise with 3 decimals", []string{"promise", id, "--date", "2026-12-05", "--amount", "1.001"}, []string{"--amount", "2 decimals"}},
		{"promise above the maximum", []string{"promise", id, "--date", "2026-12-05", "--amount", "2000000"}, []string{"--amount", "at most"}},
		{"promise with too long a --request-id", []string{"promise", id, "--date", "2026-12-05", "--amount", "10", "--request-id", long}, []string{"--request-id", "longer"}},
		{"refer without --decision", []string{"refer", id, "--operator", "alice", "--reason", "x"}, []string{"--decision", "refer", "hold", "negotiate"}},
		{"refer with an unknown --decision", []string{"refer", id, "--decision", "sue", "--operator", "alice", "--reason", "x"}, []string{"--decision", "sue"}},
		{"refer without --operator", []string{"refer", id, "--decision", "refer", "--reason", "x"}, []string{"--operator"}},
		{"refer without --reason", []string{"refer", id, "--decision", "hold", "--operator", "alice"}, []string{"--reason"}},
		{"refer with too long a --reason", []string{"refer", id, "--decision", "hold", "--operator", "alice", "--reason", long}, []string{"--reason", "longer"}},
		{"writeoff without --decision", []string{"writeoff", id, "--operator", "alice", "--reason", "x"}, []string{"--decision", "approve", "decline"}},
		{"writeoff with a referral's --decision", []string{"writeoff", id, "--decision", "refer", "--operator", "alice", "--reason", "x"}, []string{"--decision", "refer"}},
		{"writeoff without --operator", []string{"writeoff", id, "--decision", "approve", "--reason", "x"}, []string{"--operator"}},
		{"writeoff without --reason", []string{"writeoff", id, "--decision", "decline", "--operator", "alice"}, []string{"--reason"}},
		{"writeoff of a malformed plan id", []string{"writeoff", "nope", "--decision", "decline", "--operator", "alice", "--reason", "x"}, []string{"PLAN", "nope"}},
		{"grace without --until", []string{"grace", id, "--operator", "alice", "--reason", "x"}, []string{"--until", "required"}},
		{"grace on a malformed --until", []string{"grace", id, "--until", "soon", "--operator", "alice", "--reason", "x"}, []string{"--until", "soon"}},
		{"grace without --operator", []string{"grace", id, "--until", "2026-12-20", "--reason", "x"}, []string{"--operator"}},
		{"grace without --reason", []string{"grace", id, "--until", "2026-12-20", "--operator", "alice"}, []string{"--reason"}},
		{"arrears plan without --quote or --confirm", []string{"arrears-plan", id, "--instalments", "3"}, []string{"--quote or --confirm", "exactly one"}},
		{"arrears plan with --quote and --confirm", []string{"arrears-plan", id, "--instalments", "3", "--quote", "--confirm", "q-1"}, []string{"--quote or --confirm"}},
		{"arrears plan quote without --instalments", []string{"arrears-plan", id, "--quote"}, []string{"--instalments", "at least 2"}},
		{"arrears plan in one part", []string{"arrears-plan", id, "--instalments", "1", "--quote"}, []string{"--instalments", "at least 2"}},
		{"arrears plan of negative parts", []string{"arrears-plan", id, "--instalments", "-3", "--quote"}, []string{"--instalments", "-3"}},
		{"arrears plan of 1000 parts", []string{"arrears-plan", id, "--instalments", "1000", "--quote"}, []string{"--instalments", "1000"}},
		{"arrears plan with non-numeric --instalments", []string{"arrears-plan", id, "--instalments", "three", "--quote"}, []string{"-instalments", "three"}},
		{"arrears plan with too long a quote id", []string{"arrears-plan", id, "--confirm", long}, []string{"--confirm", "longer"}},
		{"arrears plan without PLAN", []string{"arrears-plan", "--instalments", "3", "--quote"}, []string{"PLAN"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runStarter(tt.args...)
			if code != exitUsage || out != "" || strings.Count(errOut, "\n") != 1 || !strings.HasPrefix(errOut, "starter "+tt.args[0]+": ") {
				t.Fatalf("exit %d, stdout %q, stderr %q; want exit 2, no stdout and one line on stderr from starter %s", code, out, errOut, tt.args[0])
			}
			for _, m := range tt.mentions {
				if !strings.Contains(errOut, m) {
					t.Errorf("stderr %q does not mention %q", errOut, m)
				}
			}
		})
	}
	if *dials != 0 {
		t.Errorf("bad input dialed Temporal %d times", *dials)
	}
}

// TestCollectionCommandsHelp checks -h lists each command's flags and the
// help lists the commands.
func TestCollectionCommandsHelp(t *testing.T) {
	for _, tt := range []struct {
		name  string
		flags []string
	}{
		{"collection", []string{"-json"}},
		{"promise", []string{"-date", "-amount", "-request-id", "-json"}},
		{"refer", []string{"-decision", "-operator", "-reason", "-request-id", "-json"}},
		{"writeoff", []string{"-decision", "-operator", "-reason", "-request-id", "-json"}},
		{"grace", []string{"-until", "-operator", "-reason", "-request-id", "-json"}},
		{"arrears-plan", []string{"-instalments", "-quote", "-confirm", "-request-id", "-json"}},
	} {
		code, out, errOut := runStarter(tt.name, "-h")
		if code != exitOK || errOut != "" || !strings.HasPrefix(out, "starter "+tt.name+": ") {
			t.Errorf("%s -h: exit %d, stderr %q, stdout %q", tt.name, code, errOut, out)
		}
		for _, f := range tt.flags {
			if !strings.Contains(out, "  "+f+" ") && !strings.Contains(out, "  "+f+"\n") {
				t.Errorf("%s -h does not list %s:\n%s", tt.name, f, out)
			}
		}
	}
	_, help, _ := runStarter("help")
	for _, name := range collectionCommands {
		if !strings.Contains(help, "\n  "+name+"  ") {
			t.Errorf("help does not list %s (with its summary two spaces on):\n%s", name, help)
		}
	}
}

// TestCollectionCommandsSend runs each request command against a fake
// Temporal: the update it sends, what it prints and its exit status.
func TestCollectionCommandsSend(t *testing.T) {
	id := uuid.NewString()
	quote := &plan.Quote{
		ID: "q-a", Kind: plan.MsgArrearsPlan, RequestID: "ap-1", Summary: "1,026.50 past due split over the next 3 instalments", Eligible: true,
		AsOf: bizDate(t, "2026-12-01"), ScheduleVersion: 2, DueNow: amt("0"),
		Schedule: []calc.Row{
			{No: 4, DueDate: bizDate(t, "2027-01-04"), Principal: amt("800"), Interest: amt("20"), Fee: amt("0"), Payment: amt("1162.17"), Balance: amt("1600")},
		},
	}
	refused := *quote
	refused.Eligible, refused.Refusal = false, "nothing is past due"
	active := func(q *plan.Quote) func(client.UpdateWorkflowOptions) (plan.Reply, error) {
		return func(o client.UpdateWorkflowOptions) (plan.Reply, error) {
			r := o.Args[0].(plan.Request)
			return plan.Reply{RequestID: r.ID(), Accepted: q == nil || q.Eligible, State: plan.StateActive, Quote: q, ScheduleVersion: 3}, nil
		}
	}
	tests := []struct {
		name     string
		args     []string
		answer   func(client.UpdateWorkflowOptions) (plan.Reply, error)
		update   string
		check    func(plan.Request) bool
		code     int
		stdout   []string // parts of stdout, in order
		absent   []string
		stderr   string
		isJSON   bool
		noStdout bool
	}{
		{
			name: "promise", args: []string{"promise", id, "--date", "2026-12-05", "--amount", "1026.50", "--request-id", "pr-1"},
			answer: active(nil), update: plan.MsgPromise,
			check: func(r plan.Request) bool {
				p := r.(plan.PromiseRequest)
				return p.Date.String() == "2026-12-05" && p.Amount.Equal(amt("1026.5")) && p.RequestID == "pr-1"
			},
			stdout: []string{"promise to pay 1,026.50 by 2026-12-05 recorded: the plan is active", "request pr-1\n"},
		},
		{
			name: "promise as JSON", args: []string{"promise", id, "--date", "2026-12-05", "--amount", "10", "--json"},
			answer: active(nil), update: plan.MsgPromise, check: func(plan.Request) bool { return true },
			isJSON: true, stdout: []string{`"accepted":true`, `"state":"active"`},
		},
		{
			name: "promise refused", args: []string{"promise", id, "--date", "2026-12-05", "--amount", "10"},
			answer: func(client.UpdateWorkflowOptions) (plan.Reply, error) {
				return plan.Reply{Accepted: false, Reason: "the promise must cover what is past due (1,026.50)", State: plan.StateActive}, nil
			},
			update: plan.MsgPromise, check: func(plan.Request) bool { return true },
			code: exitError, noStdout: true, stderr: "starter promise: refused: the promise must cover what is past due (1,026.50)\n",
		},
		{
			name: "refer", args: []string{"refer", id, "--decision", "negotiate", "--operator", "alice", "--reason", "offered to pay", "--request-id", "rf-1"},
			answer: active(nil), update: plan.MsgRefer,
			check: func(r plan.Request) bool {
				c := r.(plan.ReferralRequest)
				return c.Decision == collection.Negotiate && c.Operator == "alice" && c.Reason == "offered to pay"
			},
			stdout: []string{"legal referral: negotiate, decided by alice: the plan is active\nrequest rf-1\n"},
		},
		{
			name: "no referral to decide", args: []string{"refer", id, "--decision", "refer", "--operator", "alice", "--reason", "x"},
			answer: func(client.UpdateWorkflowOptions) (plan.Reply, error) {
				return plan.Reply{Accepted: false, Reason: "no legal referral is pending", State: plan.StateActive}, nil
			},
			update: plan.MsgRefer, check: func(plan.Request) bool { return true },
			code: exitError, noStdout: true, stderr: "starter refer: refused: no legal referral is pending\n",
		},
		{
			name: "write off", args: []string{"writeoff", id, "--decision", "approve", "--operator", "alice", "--reason", "uncollectable", "--request-id", "wo-1"},
			answer: func(o client.UpdateWorkflowOptions) (plan.Reply, error) {
				return plan.Reply{RequestID: "wo-1", Accepted: true, State: plan.StateWrittenOff}, nil
			},
			update: plan.MsgWriteOff,
			check: func(r plan.Request) bool {
				c := r.(plan.WriteOffRequest)
				return c.Decision == collection.ApproveWriteOff && c.Operator == "alice" && c.Reason == "uncollectable"
			},
			stdout: []string{"write-off approved by alice: the plan is written_off\nrequest wo-1\n"},
		},
		{
			name: "decline a write-off", args: []string{"writeoff", id, "--decision", "decline", "--operator", "alice", "--reason", "still paying"},
			answer: active(nil), update: plan.MsgWriteOff,
			check:  func(r plan.Request) bool { return r.(plan.WriteOffRequest).Decision == collection.DeclineWriteOff },
			stdout: []string{"write-off declined by alice: collection goes on; the plan is active\n"},
		},
		{
			name: "grace", args: []string{"grace", id, "--until", "2026-12-20", "--operator", "Alice Li", "--reason", "hospitalised", "--request-id", "gx-1"},
			answer: active(nil), update: plan.MsgExtendGrace,
			check: func(r plan.Request) bool {
				c := r.(plan.GraceRequest)
				return c.Until.String() == "2026-12-20" && c.Operator == "Alice Li" && c.Reason == "hospitalised"
			},
			stdout: []string{"hardship grace until 2026-12-20 granted by Alice Li: no collection contact and no late charge until then; the plan is active\nrequest gx-1\n"},
		},
		{
			name: "grace on an ended plan", args: []string{"grace", id, "--until", "2026-12-20", "--operator", "alice", "--reason", "x"},
			answer: func(client.UpdateWorkflowOptions) (plan.Reply, error) {
				return plan.Reply{}, temporal.NewApplicationError("the plan is closed; extend-grace is not possible", "rejected")
			},
			update: plan.MsgExtendGrace, check: func(plan.Request) bool { return true },
			code: exitUsage, noStdout: true, stderr: "starter grace: the plan is closed; extend-grace is not possible\n",
		},
		{
			name: "arrears plan quote", args: []string{"arrears-plan", id, "--instalments", "3", "--quote", "--request-id", "ap-1"},
			answer: active(quote), update: plan.MsgArrearsPlan,
			check: func(r plan.Request) bool {
				c := r.(plan.ArrearsPlanRequest)
				return c.Instalments == 3 && c.QuoteID == "" && c.RequestID == "ap-1"
			},
			stdout: []string{"quote q-a: arrears-plan on plan " + id + "\n", "  1,026.50 past due split over the next 3 instalments", "new schedule:", "2027-01-04", "1162.17",
				"request ap-1\n", "confirm: starter arrears-plan " + id + " --confirm q-a\n"},
		},
		{
			name: "arrears plan not possible", args: []string{"arrears-plan", id, "--instalments", "3", "--quote"},
			answer: active(&refused), update: plan.MsgArrearsPlan, check: func(plan.Request) bool { return true },
			code: exitError, stdout: []string{"quote q-a: arrears-plan on plan " + id + " is not possible: nothing is past due"},
			absent: []string{"confirm:"}, stderr: "starter arrears-plan: refused: nothing is past due\n",
		},
		{
			name: "arrears plan quote as JSON", args: []string{"arrears-plan", id, "--instalments", "2", "--quote", "--json"},
			answer: active(quote), update: plan.MsgArrearsPlan, check: func(r plan.Request) bool { return r.(plan.ArrearsPlanRequest).Instalments == 2 },
			isJSON: true, stdout: []string{`"id":"q-a"`, `"accepted":true`},
		},
		{
			name: "confirm an arrears plan", args: []string{"arrears-plan", id, "--confirm", "q-a", "--request-id", "ap-2"},
			answer: active(quote), update: plan.MsgArrearsPlan,
			check: func(r plan.Request) bool {
				c := r.(plan.ArrearsPlanRequest)
				return c.QuoteID == "q-a" && c.Instalments == 0
			},
			stdout: []string{"confirmed quote q-a (arrears-plan): the plan is active, schedule version 3\n", "request ap-2\n"},
			absent: []string{"confirm:"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := withFakeTemporal(t, tt.answer)
			code, out, errOut := runStarter(tt.args...)
			if code != tt.code || errOut != tt.stderr {
				t.Fatalf("exit %d, stderr %q; want %d and %q\nstdout:\n%s", code, errOut, tt.code, tt.stderr, out)
			}
			if len(c.sent) != 1 || c.sent[0].UpdateName != tt.update || c.sent[0].WorkflowID != "plan-"+id {
				t.Fatalf("sent %+v, want one %s update to plan-%s", c.sent, tt.update, id)
			}
			if req := c.sent[0].Args[0].(plan.Request); !tt.check(req) {
				t.Errorf("sent %#v", req)
			}
			if tt.noStdout && out != "" {
				t.Errorf("stdout %q, want nothing", out)
			}
			if tt.isJSON {
				if strings.Count(out, "\n") != 1 || !json.Valid([]byte(out)) {
					t.Fatalf("stdout %q is not one JSON line", out)
				}
			}
			rest := out
			for _, s := range tt.stdout {
				i := strings.Index(rest, s)
				if i < 0 {
					t.Fatalf("stdout does not have %q (in order):\n%s", s, out)
				}
				if !tt.isJSON {
					rest = rest[i+len(s):]
				}
			}
			for _, s := range tt.absent {
				if strings.Contains(out, s) {
					t.Errorf("stdout has %q:\n%s", s, out)
				}
			}
		})
	}
}

// TestCollectionRequestIDDefault checks a decision without --request-id
// sends a fresh uuid and prints it.
func TestCollectionRequestIDDefault(t *testing.T) {
	c, _ := withFakeTemporal(t, func(o client.UpdateWorkflowOptions) (plan.Reply, error) {
		return plan.Reply{RequestID: o.Args[0].(plan.Request).ID(), Accepted: true, State: plan.StateActive}, nil
	})
	id := uuid.NewString()
	var ids []string
	for range 2 {
		code, out, errOut := runStarter("promise", id, "--date", "2026-12-05", "--amount", "100")
		if code != exitOK || errOut != "" {
			t.Fatalf("exit %d, stderr %q", code, errOut)
		}
		rid := c.sent[len(c.sent)-1].Args[0].(plan.Request).ID()
		if _, err := uuid.Parse(rid); err != nil {
			t.Fatalf("request id %q is not a uuid", rid)
		}
		if !strings.Contains(out, "request "+rid+"\n") {
			t.Errorf("stdout does not print the request id %s:\n%s", rid, out)
		}
		ids = append(ids, rid)
	}
	if ids[0] == ids[1] {
		t.Errorf("two commands sent the same request id %s", ids[0])
	}
}

// queryTemporal is a Temporal client without a server that answers every
// Query with answer (through JSON) or err. Any other call panics.
type queryTemporal struct {
	client.Client
	asked  []string
	answer any
	err    error
}

func (c *queryTemporal) QueryWorkflow(_ context.Context, workflowID, _ string, queryType string, _ ...any) (converter.EncodedValue, error) {
	c.asked = append(c.asked, workflowID+" "+queryType)
	if c.err != nil {
		return nil, c.err
	}
	b, err := json.Marshal(c.answer)
	if err != nil {
		return nil, err
	}
	return jsonValue(b), nil
}

type jsonValue []byte

func (v jsonValue) HasValue() bool    { return len(v) > 0 }
func (v jsonValue) Get(ptr any) error { return json.Unmarshal(v, ptr) }

func withFakeQuery(t *testing.T, c *queryTemporal) {
	t.Helper()
	saved := dialDoor
	dialDoor = func(_ context.Context, opts ...frontdoor.Option) (*frontdoor.Door, func(), error) {
		return frontdoor.New(c, "", opts...), func() {}, nil
	}
	t.Cleanup(func() { dialDoor = saved })
}

// inCollection is a plan 45 days past due with a promise pending, a legal
// referral waiting for a decision, a few actions and contacts.
func inCollection(t *testing.T, id string) plan.CollectionStatus {
	at := func(d, hm string) time.Time {
		v, err := time.Parse("2006-01-02 15:04", d+" "+hm)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	return plan.CollectionStatus{
		PlanID: id, State: plan.StateActive, Collecting: true, Stage: "M2", Bucket: "M2", DaysPastDue: 45,
		Next:      plan.CollectionNext{Action: "promise", At: at("2026-12-05", "23:59"), Reason: "the debtor promised to pay 1,026.50 by 2026-12-05"},
		AsOf:      bizDate(t, "2026-12-01"),
		Owed:      calc.Amounts{Principal: amt("2000"), Interest: amt("40"), Fee: amt("5"), Penalty: amt("12.5")},
		OwedTotal: amt("2057.5"),
		Overdue:   calc.Amounts{Principal: amt("1000"), Interest: amt("20"), Fee: amt("5"), Penalty: amt("1.5")},
		PayBy:     bizDate(t, "2026-12-08"),
		Rounds:    2, LastRoundAt: at("2026-11-28", "09:00"),
		Floor:          "M2",
		Promise:        &collection.Promise{Date: bizDate(t, "2026-12-05"), Amount: amt("1026.5"), MadeAt: at("2026-12-01", "10:30")},
		Referral:       &collection.Referral{Status: collection.ReferralPending, RaisedAt: at("2026-11-30", "09:00")},
		PromisesKept:   1,
		PromisesBroken: 2,
		Actions: []plan.CollectionAction{
			{At: at("2026-11-20", "09:00"), Stage: "M1", Round: 1, Kind: "sms", Channel: "sms", Owed: amt("1020")},
			{At: at("2026-11-28", "09:00"), Stage: "M2", Round: 2, Kind: "call", Channel: "phone", Owed: amt("1026.5")},
			{At: at("2026-11-30", "09:00"), Stage: "M2", Round: 2, Kind: "legal_referral", Owed: amt("1026.5")},
		},
		Contacts: []plan.ContactEvent{
			{At: at("2026-11-20", "09:00"), Channel: "sms", Outcome: "delivered"},
			{At: at("2026-11-28", "09:02"), Channel: "phone", Outcome: "no_answer"},
		},
	}
}

// TestCollectionCommand reads the collection status through a fake
// Temporal: the query asked, the human and the JSON output, and the
// errors' exit statuses.
func TestCollectionCommand(t *testing.T) {
	id := uuid.NewString()
	c := &queryTemporal{answer: inCollection(t, id)}
	withFakeQuery(t, c)
	// No database here: the amounts are the query's, and the command says
	// so on stderr.
	const note = "starter collection: amounts as of the last collection step: cannot reach the database"
	code, out, errOut := runStarter("collection", id)
	if code != exitOK || !strings.HasPrefix(errOut, note) {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	if len(c.asked) != 1 || c.asked[0] != "plan-"+id+" "+plan.QueryCollection {
		t.Errorf("asked %q, want the %s query of plan-%s", c.asked, plan.QueryCollection, id)
	}
	for _, s := range []string{"plan " + id + "  state active  collecting\n", "stage M2, bucket M2, 45 days past due", "next: wait (promise)", "2,057.50", "recent collection actions:", "recent contacts:"} {
		if !strings.Contains(out, s) {
			t.Errorf("stdout does not have %q:\n%s", s, out)
		}
	}

	code, out, errOut = runStarter("collection", id, "--json")
	if code != exitOK || !strings.HasPrefix(errOut, note) || strings.Count(out, "\n") != 1 {
		t.Fatalf("--json: exit %d, stderr %q, stdout %q", code, errOut, out)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	if got["plan_id"] != id || got["stage"] != "M2" || got["days_past_due"] != float64(45) {
		t.Errorf("--json: %s", out)
	}

	// Empty lists are [] in JSON.
	withFakeQuery(t, &queryTemporal{answer: plan.CollectionStatus{PlanID: id, State: plan.StateActive}})
	_, out, _ = runStarter("collection", id, "--json")
	if !strings.Contains(out, `"actions":[]`) || !strings.Contains(out, `"contacts":[]`) {
		t.Errorf("--json with no actions: %s, want [] lists", out)
	}

	for _, tt := range []struct {
		name string
		err  error
		code int
		says string
	}{
		{"no such plan", serviceerror.NewNotFound("workflow not found"), exitUsage, "plan not found"},
		{"not answered", serviceerror.NewQueryFailed("unknown queryType collection"), exitUsage, "unknown queryType collection"},
		{"unreachable", serviceerror.NewUnavailable("connection refused"), exitError, "connection refused"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			withFakeQuery(t, &queryTemporal{err: tt.err})
			code, out, errOut := runStarter("collection", id)
			if code != tt.code || out != "" || strings.Count(errOut, "\n") != 1 || !strings.HasPrefix(errOut, "starter collection: ") || !strings.Contains(errOut, tt.says) {
				t.Errorf("exit %d, stdout %q, stderr %q; want %d and one line saying %q", code, out, errOut, tt.code, tt.says)
			}
		})
	}
}

// TestPrintCollection pins the layout of the collection status.
func TestPrintCollection(t *testing.T) {
	var b bytes.Buffer
	printCollection(&b, inCollection(t, "P"))
	want := `plan P  state active  collecting
stage M2, bucket M2, 45 days past due; 2 round(s) in the stage, the last 2026-11-28 09:00 UTC
next: wait (promise) until 2026-12-05 23:59 UTC: the debtor promised to pay 1,026.50 by 2026-12-05

owed as of 2026-12-01, to pay by 2026-12-08:
                       owed       past due
  principal        2,000.00       1,000.00
  interest            40.00          20.00
  fee                  5.00           5.00
  penalty             12.50           1.50
  total            2,057.50       1,026.50

floor after a broken promise: M2
promise: 1,026.50 by 2026-12-05 (made 2026-12-01 10:30 UTC)
legal referral: pending, raised 2026-11-30 09:00 UTC
  decide: starter refer P --decision refer|hold|negotiate --operator NAME --reason TEXT
promises kept 1, broken 2

recent collection actions:
Time (UTC)        Stage  Round  Kind            Channel  Owed
2026-11-20 09:00  M1     1      sms             sms      1,020.00
2026-11-28 09:00  M2     2      call            phone    1,026.50
2026-11-30 09:00  M2     2      legal_referral  -        1,026.50
recent contacts:
Time (UTC)        Channel  Outcome
2026-11-20 09:00  sms      delivered
2026-11-28 09:02  phone    no_answer
`
	if got := b.String(); got != want {
		t.Errorf("printCollection wrote\n%s\nwant\n%s", got, want)
	}

	// A written-off plan, a grace pause, nothing on record.
	b.Reset()
	raised := time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC)
	printCollection(&b, plan.CollectionStatus{
		PlanID: "P", State: plan.StateWrittenOff, Stage: "M7", Bucket: "M6+", DaysPastDue: 200,
		Next:        plan.CollectionNext{Action: "written_off"},
		WriteOff:    &collection.WriteOff{Status: collection.WriteOffApproved, RaisedAt: raised, DecidedAt: raised.Add(24 * time.Hour), Balance: amt("3100")},
		PausedUntil: raised.Add(48 * time.Hour),
	})
	out := b.String()
	for _, s := range []string{"state written_off  not collecting\n", "next: wait (written_off)\n",
		"write-off: approved, raised 2027-03-01 09:00 UTC, decided 2027-03-02 09:00 UTC; balance written off 3,100.00\n",
		"collection paused until 2027-03-03 09:00 UTC\n", "no collection actions yet\n", "no recent contacts\n"} {
		if !strings.Contains(out, s) {
			t.Errorf("stdout does not have %q:\n%s", s, out)
		}
	}
	for _, s := range []string{"decide:", "promises kept", "promise:", "owed as of"} {
		if strings.Contains(out, s) {
			t.Errorf("stdout has %q:\n%s", s, out)
		}
	}
}

// TestNextAction checks how the ladder's next step is said.
func TestNextAction(t *testing.T) {
	at := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		next plan.CollectionNext
		want string
	}{
		{plan.CollectionNext{Action: "round"}, "collection round now"},
		{plan.CollectionNext{Action: "round", At: at, Reason: "M1 round 2"}, "collection round at 2026-12-03 09:00 UTC: M1 round 2"},
		{plan.CollectionNext{Action: "cadence", At: at}, "wait (cadence) until 2026-12-03 09:00 UTC"},
		{plan.CollectionNext{Action: "operator", Reason: "a legal referral waits for a decision"}, "wait (operator): a legal referral waits for a decision"},
		{plan.CollectionNext{}, "-"},
	} {
		if got := nextAction(tt.next); got != tt.want {
			t.Errorf("nextAction(%+v) = %q, want %q", tt.next, got, tt.want)
		}
	}
}
