package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/fenqi/fenqi/calc"
	"github.com/fenqi/fenqi/frontdoor"
	"github.com/fenqi/fenqi/plan"
)

// fakeTemporal is a Temporal client without a server: it answers every
// Update with answer (through JSON, as the data converter does) and
// records what was sent. Any other call panics (the embedded nil client).
type fakeTemporal struct {
	client.Client
	sent   []client.UpdateWorkflowOptions
	answer func(client.UpdateWorkflowOptions) (plan.Reply, error)
}

func (c *fakeTemporal) UpdateWorkflow(_ context.Context, o client.UpdateWorkflowOptions) (client.WorkflowUpdateHandle, error) {
	c.sent = append(c.sent, o)
	reply, err := c.answer(o)
	if err != nil {
		return nil, err
	}
	return fakeUpdate{o: o, reply: reply}, nil
}

type fakeUpdate struct {
	o     client.UpdateWorkflowOptions
	reply plan.Reply
}

func (h fakeUpdate) WorkflowID() string { return h.o.WorkflowID }
func (h fakeUpdate) RunID() string      { return "" }
func (h fakeUpdate) UpdateID() string   { return h.o.UpdateID }
func (h fakeUpdate) Get(_ context.Context, v any) error {
	b, err := json.Marshal(h.reply)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// withFakeTemporal points the starter at a fake Temporal answering with
// answer, for the rest of the test; it returns the client (what was sent)
// and a counter of dials.
func withFakeTemporal(t *testing.T, answer func(client.UpdateWorkflowOptions) (plan.Reply, error)) (*fakeTemporal, *int) {
	t.Helper()
	c := &fakeTemporal{answer: answer}
	dials := 0
	saved := dialDoor
	dialDoor = func(_ context.Context, opts ...frontdoor.Option) (*frontdoor.Door, func(), error) {
		dials++
		return frontdoor.New(c, "", opts...), func() {}, nil
	}
	t.Cleanup(func() { dialDoor = saved })
	return c, &dials
}

var amt = decimal.RequireFromString

func bizDate(t *testing.T, s string) calc.Date {
	t.Helper()
	v, err := calc.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// cancelQuote is an eligible quote to cancel over 2 fewer terms.
func cancelQuote(t *testing.T) *plan.Quote {
	return &plan.Quote{
		ID: "q-1", Kind: plan.MsgCancel, RequestID: "c-1", Summary: "repay the rest over 2 instalments, no further interest", Eligible: true,
		Revision: 4, AsOf: bizDate(t, "2026-03-04"), ExpiresAt: time.Date(2026, 3, 11, 16, 0, 0, 0, time.UTC), ScheduleVersion: 1,
		DueNow: amt("28.25"), Fee: amt("28.25"), Capitalised: amt("0"), PaidAhead: amt("10.1"), Penalty: amt("1.25"),
		Settlement: &plan.Settlement{Policy: calc.SettleCurrentPeriod, Principal: amt("2000"), Interest: amt("21.75"), Charge: amt("28.25"), Total: amt("2050")},
		Schedule: []calc.Row{
			{No: 1, DueDate: bizDate(t, "2026-04-04"), Principal: amt("1000"), Interest: amt("0"), Fee: amt("0"), Payment: amt("1001.25"), Balance: amt("1000")},
			{No: 2, DueDate: bizDate(t, "2026-05-04"), Principal: amt("1000"), Interest: amt("0"), Fee: amt("0"), Payment: amt("1000"), Balance: amt("0")},
		},
		Instalment: amt("1000"), TotalPayable: amt("2001.25"),
		Before: plan.Figures{Instalments: 4, Instalment: amt("515.3"), Remaining: amt("2061.2"), APRNominal: amt("12.8"), APREffective: amt("13.5803")},
		After:  plan.Figures{Instalments: 2, Instalment: amt("1000"), Remaining: amt("2001.25"), APRNominal: amt("1.2"), APREffective: amt("1.2066")},
	}
}

// TestRequestCommandsBadInput checks every kind of bad input to the
// request commands exits 2 with one line on stderr naming the flag, prints
// nothing and never reaches Temporal.
func TestRequestCommandsBadInput(t *testing.T) {
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
		{"cancel without PLAN", []string{"cancel", "--mode", "lump-sum", "--quote"}, []string{"PLAN"}},
		{"cancel a malformed plan id", []string{"cancel", "not-a-plan", "--mode", "lump-sum", "--quote"}, []string{"PLAN", "not-a-plan"}},
		{"cancel with neither --quote nor --confirm", []string{"cancel", id, "--mode", "lump-sum"}, []string{"--quote or --confirm", "exactly one"}},
		{"cancel with --quote and --confirm", []string{"cancel", id, "--mode", "lump-sum", "--quote", "--confirm", "q-1"}, []string{"--quote or --confirm", "exactly one"}},
		{"cancel quote without --mode", []string{"cancel", id, "--quote"}, []string{"--mode", "lump-sum", "fewer-terms"}},
		{"cancel in an unknown mode", []string{"cancel", id, "--mode", "sometimes", "--quote"}, []string{"--mode", "sometimes"}},
		{"cancel over fewer terms without --terms", []string{"cancel", id, "--mode", "fewer-terms", "--quote"}, []string{"--terms"}},
		{"lump sum with --terms", []string{"cancel", id, "--mode", "lump-sum", "--terms", "3", "--quote"}, []string{"--terms", "fewer-terms"}},
		{"fewer terms at the next due date", []string{"cancel", id, "--mode", "fewer-terms", "--terms", "3", "--at-next-due", "--quote"}, []string{"--at-next-due"}},
		{"cancel with non-numeric --terms", []string{"cancel", id, "--mode", "fewer-terms", "--terms", "three", "--quote"}, []string{"-terms", "three"}},
		{"cancel with too long a quote id", []string{"cancel", id, "--confirm", long}, []string{"--confirm", "longer"}},
		{"cancel with too long a --request-id", []string{"cancel", id, "--mode", "lump-sum", "--quote", "--request-id", long}, []string{"--request-id", "longer"}},
		{"cancel with a stray argument", []string{"cancel", id, "--mode", "lump-sum", "--quote", "now"}, []string{`"now"`}},
		{"cancel with an unknown flag", []string{"cancel", id, "--bogus"}, []string{"-bogus"}},
		{"restructure asking nothing", []string{"restructure", id, "--quote"}, []string{"--terms, --max-instalment or --frequency", "asks for nothing"}},
		{"restructure with --terms and --max-instalment", []string{"restructure", id, "--terms", "12", "--max-instalment", "500", "--quote"}, []string{"--terms or --max-instalment"}},
		{"restructure with a non-numeric --max-instalment", []string{"restructure", id, "--max-instalment", "lots", "--quote"}, []string{"--max-instalment", "lots"}},
		{"restructure with a negative --max-instalment", []string{"restructure", id, "--max-instalment", "-5", "--quote"}, []string{"--max-instalment", "positive"}},
		{"restructure weekly", []string{"restructure", id, "--frequency", "weekly", "--quote"}, []string{"--frequency", "weekly"}},
		{"restructure to 1000 terms", []string{"restructure", id, "--terms", "1000", "--quote"}, []string{"--terms", "1000"}},
		{"restructure with too long a --reason", []string{"restructure", id, "--terms", "18", "--reason", long, "--quote"}, []string{"--reason", "longer"}},
		{"holiday without --periods", []string{"holiday", id, "--quote"}, []string{"--periods"}},
		{"holiday of negative periods", []string{"holiday", id, "--periods", "-1", "--quote"}, []string{"--periods", "-1"}},
		{"holiday without --quote or --confirm", []string{"holiday", id, "--periods", "2"}, []string{"--quote or --confirm"}},
		{"prepay zero", []string{"prepay", id, "--amount", "0", "--quote"}, []string{"--amount", "positive"}},
		{"prepay with 3 decimals", []string{"prepay", id, "--amount", "1.001", "--quote"}, []string{"--amount", "2 decimals"}},
		{"prepay above the maximum", []string{"prepay", id, "--amount", "2000000", "--quote"}, []string{"--amount", "at most"}},
		{"prepay reducing both", []string{"prepay", id, "--amount", "100", "--reduce", "both", "--quote"}, []string{"--reduce", "both"}},
		{"prepay in full reducing the term", []string{"prepay", id, "--reduce", "term", "--quote"}, []string{"--reduce", "amount"}},
		{"waive without --component", []string{"waive", id, "--amount", "5", "--reason", "goodwill", "--operator", "alice", "--quote"}, []string{"--component"}},
		{"waive principal", []string{"waive", id, "--component", "principal", "--amount", "5", "--reason", "goodwill", "--operator", "alice", "--quote"}, []string{"--component", "principal"}},
		{"waive without --amount", []string{"waive", id, "--component", "fee", "--reason", "goodwill", "--operator", "alice", "--quote"}, []string{"--amount"}},
		{"waive without --reason", []string{"waive", id, "--component", "fee", "--amount", "5", "--operator", "alice", "--quote"}, []string{"--reason"}},
		{"waive without --operator", []string{"waive", id, "--component", "fee", "--amount", "5", "--reason", "goodwill", "--quote"}, []string{"--operator"}},
		{"approve without a decision", []string{"approve", id, "--quote-id", "q-1", "--operator", "alice"}, []string{"--approve or --refuse"}},
		{"approve and refuse", []string{"approve", id, "--quote-id", "q-1", "--approve", "--refuse", "--reason", "x", "--operator", "alice"}, []string{"--approve or --refuse"}},
		{"refuse without --reason", []string{"approve", id, "--quote-id", "q-1", "--refuse", "--operator", "alice"}, []string{"--reason"}},
		{"approve without --quote-id", []string{"approve", id, "--approve", "--operator", "alice"}, []string{"--quote-id"}},
		{"approve without --operator", []string{"approve", id, "--quote-id", "q-1", "--approve"}, []string{"--operator"}},
		{"complain without --text", []string{"complain", id}, []string{"--text"}},
		{"complain at length", []string{"complain", id, "--text", long}, []string{"--text", "longer"}},
		{"complain without PLAN", []string{"complain", "--text", "x"}, []string{"PLAN"}},
		{"resolve without --complaint", []string{"resolve", id, "--resolution", "done", "--operator", "alice"}, []string{"--complaint"}},
		{"resolve without --resolution", []string{"resolve", id, "--complaint", "cp-1", "--operator", "alice"}, []string{"--resolution"}},
		{"resolve without --operator", []string{"resolve", id, "--complaint", "cp-1", "--resolution", "done"}, []string{"--operator"}},
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

// TestRequestCommandsHelp checks -h lists each command's flags.
func TestRequestCommandsHelp(t *testing.T) {
	for _, tt := range []struct {
		name  string
		flags []string
	}{
		{"cancel", []string{"-mode", "-terms", "-at-next-due", "-quote", "-confirm", "-request-id", "-json"}},
		{"restructure", []string{"-terms", "-max-instalment", "-frequency", "-reason", "-quote", "-confirm"}},
		{"holiday", []string{"-periods", "-reason", "-quote", "-confirm"}},
		{"prepay", []string{"-amount", "-reduce", "-quote", "-confirm"}},
		{"waive", []string{"-component", "-amount", "-reason", "-operator", "-quote", "-confirm"}},
		{"approve", []string{"-quote-id", "-approve", "-refuse", "-reason", "-operator", "-request-id", "-json"}},
		{"complain", []string{"-text", "-request-id", "-json"}},
		{"resolve", []string{"-complaint", "-resolution", "-operator", "-request-id", "-json"}},
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
	for _, name := range []string{"cancel", "restructure", "holiday", "prepay", "waive", "approve", "complain", "resolve"} {
		if !strings.Contains(help, "\n  "+name+" ") {
			t.Errorf("help does not list %s:\n%s", name, help)
		}
	}
}

// TestRequestCommandsSend runs each command against a fake Temporal: the
// update it sends, what it prints and its exit status.
func TestRequestCommandsSend(t *testing.T) {
	id := uuid.NewString()
	quote := cancelQuote(t)
	refused := *quote
	refused.Eligible, refused.Refusal = false, "the plan is 45 days past due: settle the arrears first"
	approval := *quote
	approval.NeedsApproval = true
	waiver := plan.Quote{ID: "q-w", Kind: plan.MsgWaive, Eligible: true, Summary: "waive 7.50 of penalty",
		Waived: []plan.Waived{{No: 2, Component: calc.ComponentPenalty, Amount: amt("5")}, {No: 3, Component: calc.ComponentPenalty, Amount: amt("2.5")}}}
	active := func(q *plan.Quote, version int) func(client.UpdateWorkflowOptions) (plan.Reply, error) {
		return func(o client.UpdateWorkflowOptions) (plan.Reply, error) {
			r := o.Args[0].(plan.Request)
			return plan.Reply{RequestID: r.ID(), Accepted: q == nil || q.Eligible, Reason: "", State: plan.StateActive, Quote: q, ScheduleVersion: version}, nil
		}
	}
	tests := []struct {
		name     string
		args     []string
		answer   func(client.UpdateWorkflowOptions) (plan.Reply, error)
		update   string
		check    func(plan.Request) bool
		code     int
		stdout   []string // lines or parts of stdout, in order
		absent   []string
		stderr   string
		isJSON   bool
		noStdout bool
	}{
		{
			name: "cancel quote", args: []string{"cancel", id, "--mode", "fewer-terms", "--terms", "2", "--quote", "--request-id", "c-1"},
			answer: active(quote, 1), update: plan.MsgCancel,
			check: func(r plan.Request) bool {
				c := r.(plan.CancelRequest)
				return c.Mode == plan.CancelFewerTerms && c.Terms == 2 && c.QuoteID == "" && c.RequestID == "c-1"
			},
			stdout: []string{"quote q-1: cancel on plan " + id + "\n", "  repay the rest over 2 instalments", "new schedule:", "Due date", "2026-04-04", "1001.25",
				"due now", "28.25", "capitalised", "0.00", "paid ahead", "10.10", "penalty", "1.25", "settlement (current-period): principal 2,000.00",
				"before", "after", "APR nominal", "12.8000%", "1.2000%", "APR effective", "13.5803%",
				"quoted on 2026-03-04 on schedule version 1; valid until 2026-03-11 16:00 UTC\n", "request c-1\n",
				"confirm: starter cancel " + id + " --confirm q-1\n"},
			absent: []string{"approval"},
		},
		{
			name: "cancel quote as JSON", args: []string{"cancel", id, "--mode", "lump-sum", "--quote", "--json"},
			answer: active(quote, 1), update: plan.MsgCancel,
			check:  func(r plan.Request) bool { return r.(plan.CancelRequest).Mode == plan.CancelLumpSum },
			isJSON: true, stdout: []string{`"due_now":"28.25"`, `"apr_nominal":"12.8000"`, `"id":"q-1"`, `"accepted":true`},
		},
		{
			name: "quote that is not eligible", args: []string{"restructure", id, "--terms", "24", "--quote", "--request-id", "r-1"},
			answer: active(&refused, 1), update: plan.MsgRestructure,
			check: func(r plan.Request) bool { return r.(plan.RestructureRequest).Terms == 24 },
			code:  exitError, stdout: []string{"quote q-1: restructure on plan " + id + " is not possible: the plan is 45 days past due", "due now", "request r-1\n"},
			absent: []string{"confirm:"}, stderr: "starter restructure: refused: the plan is 45 days past due: settle the arrears first\n",
		},
		{
			name: "quote that is not eligible, as JSON", args: []string{"holiday", id, "--periods", "2", "--quote", "--json"},
			answer: active(&refused, 1), update: plan.MsgHoliday,
			check: func(r plan.Request) bool { return r.(plan.HolidayRequest).Periods == 2 },
			code:  exitError, isJSON: true, stdout: []string{`"accepted":false`, `"refusal":"the plan is 45 days past due`},
			stderr: "starter holiday: refused: the plan is 45 days past due: settle the arrears first\n",
		},
		{
			name: "quote that needs approval", args: []string{"restructure", id, "--max-instalment", "500", "--frequency", "quarterly", "--reason", "lost my job", "--quote"},
			answer: active(&approval, 1), update: plan.MsgRestructure,
			check: func(r plan.Request) bool {
				c := r.(plan.RestructureRequest)
				return c.MaxInstalment.Equal(amt("500")) && c.Frequency == calc.Quarterly && c.Reason == "lost my job"
			},
			stdout: []string{"once confirmed, the change waits for an operator's approval\n", "confirm: starter restructure " + id + " --confirm q-1\n"},
		},
		{
			name: "confirm a cancellation", args: []string{"cancel", id, "--confirm", "q-1", "--request-id", "c-2"},
			answer: active(quote, 2), update: plan.MsgCancel,
			check: func(r plan.Request) bool { c := r.(plan.CancelRequest); return c.QuoteID == "q-1" && c.Mode == "" },
			stdout: []string{"confirmed quote q-1 (cancel): the plan is active, schedule version 2\n", "  repay the rest over 2 instalments",
				"due now: 28.25\n", "instalments 4 -> 2, instalment 515.30 -> 1,000.00, remaining 2,061.20 -> 2,001.25\n", "request c-2\n"},
			absent: []string{"approval", "confirm:"},
		},
		{
			name: "confirm a change that needs approval", args: []string{"restructure", id, "--confirm", "q-1"},
			answer: active(&approval, 1), update: plan.MsgRestructure,
			check:  func(r plan.Request) bool { return r.(plan.RestructureRequest).QuoteID == "q-1" },
			stdout: []string{"confirmed quote q-1 (restructure)", "waiting for an operator's approval: starter approve " + id + " --quote-id q-1 --approve | --refuse --reason TEXT\n"},
		},
		{
			name: "confirm refused", args: []string{"prepay", id, "--confirm", "q-9"},
			answer: func(o client.UpdateWorkflowOptions) (plan.Reply, error) {
				return plan.Reply{RequestID: "x", Accepted: false, Reason: "quote q-9 has expired", State: plan.StateActive}, nil
			},
			update: plan.MsgPrepay, check: func(r plan.Request) bool { return r.(plan.PrepayRequest).QuoteID == "q-9" },
			code: exitError, noStdout: true, stderr: "starter prepay: refused: quote q-9 has expired\n",
		},
		{
			name: "confirm a stale quote", args: []string{"holiday", id, "--confirm", "q-1"},
			answer: func(client.UpdateWorkflowOptions) (plan.Reply, error) {
				return plan.Reply{}, temporal.NewApplicationError("quote q-1 is stale: the plan changed since", "rejected")
			},
			update: plan.MsgHoliday, check: func(r plan.Request) bool { return r.(plan.HolidayRequest).QuoteID == "q-1" },
			code: exitUsage, noStdout: true, stderr: "starter holiday: quote q-1 is stale: the plan changed since\n",
		},
		{
			name: "prepay in full", args: []string{"prepay", id, "--quote"},
			answer: active(quote, 1), update: plan.MsgPrepay,
			check:  func(r plan.Request) bool { return r.(plan.PrepayRequest).Full() },
			stdout: []string{"quote q-1: prepay on plan", "confirm: starter prepay " + id + " --confirm q-1\n"},
		},
		{
			name: "prepay in part", args: []string{"prepay", id, "--amount", "2000", "--reduce", "term", "--quote"},
			answer: active(quote, 1), update: plan.MsgPrepay,
			check: func(r plan.Request) bool {
				p := r.(plan.PrepayRequest)
				return p.Amount.Equal(amt("2000")) && p.Reduce == plan.ReduceTerm
			},
			stdout: []string{"quote q-1: prepay on plan"},
		},
		{
			name: "waiver quote", args: []string{"waive", id, "--component", "penalty", "--amount", "7.50", "--reason", "goodwill", "--operator", "Alice Li", "--quote"},
			answer: active(&waiver, 1), update: plan.MsgWaive,
			check: func(r plan.Request) bool {
				w := r.(plan.WaiveRequest)
				return w.Component == calc.ComponentPenalty && w.Amount.Equal(amt("7.5")) && w.Operator == "Alice Li" && w.Reason == "goodwill"
			},
			stdout: []string{"quote q-w: waive on plan", "waived:", "Component", "penalty", "5.00", "2.50", "total", "7.50",
				"confirm: starter waive " + id + " --confirm q-w --operator 'Alice Li'\n"},
			absent: []string{"new schedule:", "new instalment", "APR nominal"},
		},
		{
			name: "confirm a waiver", args: []string{"waive", id, "--confirm", "q-w", "--operator", "alice"},
			answer: active(&waiver, 1), update: plan.MsgWaive,
			check: func(r plan.Request) bool {
				w := r.(plan.WaiveRequest)
				return w.QuoteID == "q-w" && w.Operator == "alice"
			},
			stdout: []string{"confirmed quote q-w (waive): the plan is active, schedule version 1\n", "waived 7.50: 5.00 penalty on instalment 2, 2.50 penalty on instalment 3\n"},
		},
		{
			name: "approve", args: []string{"approve", id, "--quote-id", "q-1", "--approve", "--operator", "alice", "--request-id", "ap-1"},
			answer: active(quote, 2), update: plan.MsgApprove,
			check: func(r plan.Request) bool {
				a := r.(plan.ApprovalDecision)
				return a.QuoteID == "q-1" && a.Approve && a.Operator == "alice" && a.RequestID == "ap-1"
			},
			stdout: []string{"approved quote q-1: the plan is active, schedule version 2\n", "request ap-1\n"},
		},
		{
			name: "refuse", args: []string{"approve", id, "--quote-id", "q-1", "--refuse", "--reason", "income too low", "--operator", "alice"},
			answer: active(nil, 1), update: plan.MsgApprove,
			check: func(r plan.Request) bool {
				a := r.(plan.ApprovalDecision)
				return !a.Approve && a.Reason == "income too low"
			},
			stdout: []string{"refused quote q-1 (income too low): the plan is active, unchanged\n"},
		},
		{
			name: "approve as JSON", args: []string{"approve", id, "--quote-id", "q-1", "--approve", "--operator", "alice", "--json"},
			answer: active(nil, 2), update: plan.MsgApprove, check: func(plan.Request) bool { return true },
			isJSON: true, stdout: []string{`"accepted":true`, `"schedule_version":2`},
		},
		{
			name: "complain", args: []string{"complain", id, "--text", "I was called three times today", "--request-id", "cp-1"},
			answer: active(nil, 0), update: plan.MsgComplain,
			check: func(r plan.Request) bool { return r.(plan.ComplaintRequest).Text == "I was called three times today" },
			stdout: []string{"complaint cp-1 filed: the plan is active; collection contact is paused until it is resolved\n",
				"resolve it: starter resolve " + id + " --complaint cp-1 --resolution TEXT --operator NAME\n"},
		},
		{
			name: "resolve", args: []string{"resolve", id, "--complaint", "cp-1", "--resolution", "one call a day", "--operator", "alice", "--request-id", "rs-1"},
			answer: active(nil, 0), update: plan.MsgResolve,
			check: func(r plan.Request) bool {
				c := r.(plan.ResolveRequest)
				return c.Complaint == "cp-1" && c.Resolution == "one call a day" && c.Operator == "alice"
			},
			stdout: []string{"complaint cp-1 resolved: the plan is active\nrequest rs-1\n"},
		},
		{
			name: "resolve refused", args: []string{"resolve", id, "--complaint", "cp-9", "--resolution", "done", "--operator", "alice"},
			answer: func(client.UpdateWorkflowOptions) (plan.Reply, error) {
				return plan.Reply{Accepted: false, Reason: "no open complaint cp-9", State: plan.StateActive}, nil
			},
			update: plan.MsgResolve, check: func(plan.Request) bool { return true },
			code: exitError, noStdout: true, stderr: "starter resolve: refused: no open complaint cp-9\n",
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
				var reply plan.Reply
				if err := json.Unmarshal([]byte(out), &reply); err != nil {
					t.Fatal(err)
				}
			}
			rest := out
			for _, s := range tt.stdout {
				i := strings.Index(rest, s)
				if i < 0 {
					t.Fatalf("stdout does not have %q (in order):\n%s", s, out)
				}
				if !tt.isJSON { // JSON keys come in any order
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

// TestRequestIDDefault checks a command without --request-id sends a
// fresh uuid, and prints it.
func TestRequestIDDefault(t *testing.T) {
	c, _ := withFakeTemporal(t, func(o client.UpdateWorkflowOptions) (plan.Reply, error) {
		return plan.Reply{RequestID: o.Args[0].(plan.Request).ID(), Accepted: true, State: plan.StateActive}, nil
	})
	id := uuid.NewString()
	var ids []string
	for range 2 {
		code, out, errOut := runStarter("complain", id, "--text", "rude agent")
		if code != exitOK || errOut != "" {
			t.Fatalf("exit %d, stderr %q", code, errOut)
		}
		rid := c.sent[len(c.sent)-1].Args[0].(plan.Request).ID()
		if _, err := uuid.Parse(rid); err != nil {
			t.Fatalf("request id %q is not a uuid", rid)
		}
		if !strings.Contains(out, "complaint "+rid+" filed") {
			t.Errorf("stdout does not print the request id %s:\n%s", rid, out)
		}
		ids = append(ids, rid)
	}
	if ids[0] == ids[1] {
		t.Errorf("two commands sent the same request id %s", ids[0])
	}
}

// TestPrintQuoteTable pins the layout of a quote.
func TestPrintQuoteTable(t *testing.T) {
	var b bytes.Buffer
	req := plan.CancelRequest{RequestID: "c-1", Mode: plan.CancelFewerTerms, Terms: 2}
	printQuote(&b, change{name: "cancel", planID: "P", req: req}, plan.Reply{Accepted: true, State: plan.StateActive, Quote: cancelQuote(t)})
	want := `quote q-1: cancel on plan P
  repay the rest over 2 instalments, no further interest

new schedule:
  No    Due date  Principal  Interest   Fee  Payment  Balance
   1  2026-04-04    1000.00      0.00  0.00  1001.25  1000.00
   2  2026-05-04    1000.00      0.00  0.00  1000.00     0.00

due now                 28.25
fee                     28.25
capitalised              0.00
paid ahead              10.10
penalty                  1.25
new instalment       1,000.00
total payable        2,001.25
settlement (current-period): principal 2,000.00, interest 21.75, fee 0.00, penalty 0.00, charge 28.25, past due 0.00; total 2,050.00

                       before          after
instalments                 4              2
instalment             515.30       1,000.00
remaining            2,061.20       2,001.25
APR nominal          12.8000%        1.2000%
APR effective        13.5803%        1.2066%

quoted on 2026-03-04 on schedule version 1; valid until 2026-03-11 16:00 UTC
request c-1
confirm: starter cancel P --confirm q-1
`
	if got := b.String(); got != want {
		t.Errorf("printQuote wrote\n%s\nwant\n%s", got, want)
	}
}

// TestPrintStatusRequests checks `starter status` shows the schedule
// version, a change awaiting approval, open complaints with the pause of
// collection contact, and how a closed plan ended.
func TestPrintStatusRequests(t *testing.T) {
	pause := time.Date(2026, 3, 18, 9, 0, 0, 0, time.UTC)
	q := cancelQuote(t)
	tests := []struct {
		name   string
		st     plan.Status
		want   []string
		absent []string
	}{
		{"active, changed twice, waiting for approval, complaint open", plan.Status{
			PlanID: "P", State: plan.StateActive, ScheduleVersion: 3, Revision: 5, AwaitingApproval: q,
			Complaints:         []plan.Complaint{{RequestID: "cp-1", Text: "called at night", OpenedAt: time.Date(2026, 3, 4, 10, 30, 0, 0, time.UTC), PauseUntil: pause}},
			ContactPausedUntil: pause, BusinessDate: bizDate(t, "2026-03-05"),
		}, []string{
			"schedule version 3 (revision 5)\n",
			"awaiting approval: cancel quote q-1: repay the rest over 2 instalments, no further interest\n",
			"  decide: starter approve P --quote-id q-1 --approve | --refuse --reason TEXT\n",
			"open complaints: 1; collection contact paused until 2026-03-18 09:00 UTC\n",
			"  cp-1 opened 2026-03-04 10:30 UTC: called at night\n",
		}, []string{"closed:"}},
		{"paused after the complaint was resolved", plan.Status{
			PlanID: "P", State: plan.StateActive, ScheduleVersion: 1, ContactPausedUntil: pause, BusinessDate: bizDate(t, "2026-03-10"),
		}, []string{"schedule version 1 (revision 0)\n", "collection contact paused until 2026-03-18 09:00 UTC\n"}, []string{"open complaints", "awaiting approval"}},
		{"pause over", plan.Status{
			PlanID: "P", State: plan.StateActive, ScheduleVersion: 1, ContactPausedUntil: pause, BusinessDate: bizDate(t, "2026-04-10"),
		}, nil, []string{"paused", "open complaints"}},
		{"closed by cancellation", plan.Status{
			PlanID: "P", State: plan.StateClosed, ScheduleVersion: 2, Revision: 3, CloseReason: "cancelled and settled",
		}, []string{"plan P  state closed", "closed: cancelled and settled\n", "schedule version 2 (revision 3)\n"}, []string{"awaiting approval", "paused"}},
		{"offered", plan.Status{PlanID: "P", State: plan.StateOffered}, nil, []string{"schedule version", "closed:", "complaints", "approval"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			printStatus(&b, tt.st)
			out := b.String()
			for _, s := range tt.want {
				if !strings.Contains(out, s) {
					t.Errorf("status does not have %q:\n%s", s, out)
				}
			}
			for _, s := range tt.absent {
				if strings.Contains(out, s) {
					t.Errorf("status has %q:\n%s", s, out)
				}
			}
		})
	}
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{"alice": "alice", "q-1": "q-1", "Alice Li": "'Alice Li'", "it's": `'it'\''s'`, "": "''", "张三": "'张三'"} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}
