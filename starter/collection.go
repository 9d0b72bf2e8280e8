package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"github.com/shopspring/decimal"

	"github.com/fenqi/fenqi/calc"
	"github.com/fenqi/fenqi/collection"
	"github.com/fenqi/fenqi/frontdoor"
	"github.com/fenqi/fenqi/plan"
)

// The commands of a plan in collection: `collection` shows where it
// stands; promise records the debtor's promise to pay; refer, writeoff
// and grace are the operator's decisions; arrears-plan is a change request
// (--quote, then --confirm QUOTE_ID) splitting the arrears over the next
// instalments.

func runCollection(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("collection")
	asJSON := fs.Bool("json", false, "print one JSON object")
	id, err := planFlags(fs, args)
	if err != nil {
		return parseFailure(stdout, stderr, fs, err)
	}
	note := ""
	show := func(d *frontdoor.Door) error {
		cs, err := d.Collection(ctx, id)
		if err != nil {
			return err
		}
		if note != "" {
			fmt.Fprintln(stderr, note)
		}
		if *asJSON {
			if cs.Actions == nil {
				cs.Actions = []plan.CollectionAction{}
			}
			if cs.Contacts == nil {
				cs.Contacts = []plan.ContactEvent{}
			}
			return printJSON(stdout, cs)
		}
		printCollection(stdout, cs)
		return nil
	}
	// The amounts are brought to today from the database; without it they
	// are as of the ladder's last step, and the command says so.
	st, err := openStore(ctx)
	if err != nil {
		note = fmt.Sprintf("starter collection: amounts as of the last collection step: %v", err)
		return withDoor(ctx, "collection", stderr, show)
	}
	defer st.Close()
	door, closeDoor, err := dialDoor(ctx, frontdoor.WithStore(st))
	if err != nil {
		fmt.Fprintf(stderr, "starter collection: %v\n", err)
		return exitError
	}
	defer closeDoor()
	return exitFor("collection", stderr, show(door))
}

// printCollection writes a plan's collection status: the stage and
// delinquency, the next action, what is owed by component, the promise,
// referral, write-off and pause, and the recent actions and contacts.
func printCollection(w io.Writer, cs plan.CollectionStatus) {
	collecting := "not collecting"
	if cs.Collecting {
		collecting = "collecting"
	}
	fmt.Fprintf(w, "plan %s  state %s  %s\n", cs.PlanID, cs.State, collecting)
	stage := cs.Stage
	if stage == "" {
		stage = "-"
	}
	fmt.Fprintf(w, "stage %s, bucket %s, %d days past due", stage, orDash(cs.Bucket), cs.DaysPastDue)
	if cs.Rounds > 0 {
		fmt.Fprintf(w, "; %d round(s) in the stage", cs.Rounds)
		if !cs.LastRoundAt.IsZero() {
			fmt.Fprintf(w, ", the last %s", businessTime(cs.LastRoundAt))
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "next: %s\n", nextAction(cs.Next))

	fmt.Fprintln(w)
	owed := "owed"
	if !cs.AsOf.IsZero() {
		owed += " as of " + cs.AsOf.String()
	}
	if !cs.PayBy.IsZero() {
		owed += ", to pay by " + cs.PayBy.String()
	}
	fmt.Fprintln(w, owed+":")
	fmt.Fprintf(w, "  %-10s %14s %14s\n", "", "owed", "past due")
	for _, c := range []struct {
		name        string
		owed, overd decimal.Decimal
	}{
		{"principal", cs.Owed.Principal, cs.Overdue.Principal},
		{"interest", cs.Owed.Interest, cs.Overdue.Interest},
		{"fee", cs.Owed.Fee, cs.Overdue.Fee},
		{"penalty", cs.Owed.Penalty, cs.Overdue.Penalty},
	} {
		fmt.Fprintf(w, "  %-10s %14s %14s\n", c.name, groupMoney(c.owed), groupMoney(c.overd))
	}
	total := cs.OwedTotal
	if total.IsZero() {
		total = cs.Owed.Total()
	}
	fmt.Fprintf(w, "  %-10s %14s %14s\n", "total", groupMoney(total), groupMoney(cs.Overdue.Total()))

	var lines []string
	if cs.Floor != "" {
		lines = append(lines, fmt.Sprintf("floor after a broken promise: %s", cs.Floor))
	}
	if p := cs.Promise; p != nil {
		l := fmt.Sprintf("promise: %s by %s", groupMoney(p.Amount), p.Date)
		if !p.MadeAt.IsZero() {
			l += fmt.Sprintf(" (made %s)", businessTime(p.MadeAt))
		}
		lines = append(lines, l)
	}
	if r := cs.Referral; r != nil {
		l := fmt.Sprintf("legal referral: %s, raised %s", r.Status, businessTime(r.RaisedAt))
		if !r.DecidedAt.IsZero() {
			l += fmt.Sprintf(", decided %s", businessTime(r.DecidedAt))
		}
		lines = append(lines, l)
		if r.Status == collection.ReferralPending {
			lines = append(lines, fmt.Sprintf("  decide: starter refer %s --decision refer|hold|negotiate --operator NAME --reason TEXT", cs.PlanID))
		}
	}
	if wo := cs.WriteOff; wo != nil {
		l := fmt.Sprintf("write-off: %s, raised %s", wo.Status, businessTime(wo.RaisedAt))
		if !wo.DecidedAt.IsZero() {
			l += fmt.Sprintf(", decided %s", businessTime(wo.DecidedAt))
		}
		if wo.Balance.IsPositive() {
			l += fmt.Sprintf("; balance written off %s", groupMoney(wo.Balance))
		}
		lines = append(lines, l)
		if wo.Status == collection.WriteOffPending {
			lines = append(lines, fmt.Sprintf("  decide: starter writeoff %s --decision approve|decline --operator NAME --reason TEXT", cs.PlanID))
		}
	}
	if !cs.PausedUntil.IsZero() {
		lines = append(lines, fmt.Sprintf("collection paused until %s", businessTime(cs.PausedUntil)))
	}
	if cs.PromisesKept > 0 || cs.PromisesBroken > 0 || cs.Promise != nil {
		lines = append(lines, fmt.Sprintf("promises kept %d, broken %d", cs.PromisesKept, cs.PromisesBroken))
	}
	if len(lines) > 0 {
		fmt.Fprintln(w)
		for _, l := range lines {
			fmt.Fprintln(w, l)
		}
	}

	fmt.Fprintln(w)
	if len(cs.Actions) == 0 {
		fmt.Fprintln(w, "no collection actions yet")
	} else {
		fmt.Fprintln(w, "recent collection actions:")
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "Time (UTC)\tStage\tRound\tKind\tChannel\tOwed")
		for _, a := range cs.Actions {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\n", a.At.UTC().Format("2006-01-02 15:04"), a.Stage, a.Round, a.Kind, orDash(a.Channel), groupMoney(a.Owed))
		}
		tw.Flush()
	}
	if len(cs.Contacts) == 0 {
		fmt.Fprintln(w, "no recent contacts")
	} else {
		fmt.Fprintln(w, "recent contacts:")
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "Time (UTC)\tChannel\tOutcome")
		for _, c := range cs.Contacts {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", c.At.UTC().Format("2006-01-02 15:04"), orDash(c.Channel), orDash(c.Outcome))
		}
		tw.Flush()
	}
}

// nextAction says what the ladder does next: a round (now or at a time),
// or what it waits for, until when, and why.
func nextAction(n plan.CollectionNext) string {
	var s string
	switch {
	case n.Action == "round" && n.At.IsZero():
		s = "collection round now"
	case n.Action == "round":
		s = "collection round at " + businessTime(n.At)
	case n.Action == "":
		s = "-"
	case n.At.IsZero():
		s = "wait (" + n.Action + ")"
	default:
		s = "wait (" + n.Action + ") until " + businessTime(n.At)
	}
	if n.Reason != "" {
		s += ": " + n.Reason
	}
	return s
}

// parseDateFlag reads a date flag (YYYY-MM-DD); empty is the zero date,
// refused by the request's own check.
func parseDateFlag(flagName, s string) (calc.Date, error) {
	if s == "" {
		return calc.Date{}, nil
	}
	d, err := calc.ParseDate(s)
	if err != nil {
		return calc.Date{}, fmt.Errorf("--%s: must be a date YYYY-MM-DD, got %q", flagName, s)
	}
	return d, nil
}

func runPromise(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("promise")
	date := fs.String("date", "", "the date the debtor promises to pay by, YYYY-MM-DD (the customer's time zone)")
	amount := fs.String("amount", "", "the amount promised, e.g. 1200")
	rid := requestIDFlag(fs)
	asJSON := fs.Bool("json", false, "print the plan's reply as JSON")
	id, err := planFlags(fs, args)
	if err != nil {
		return parseFailure(stdout, stderr, fs, err)
	}
	day, err := parseDateFlag("date", *date)
	if err != nil {
		return usageFailure(stderr, fs, "%v", err)
	}
	amt, err := parseAmount("amount", *amount)
	if err != nil {
		return usageFailure(stderr, fs, "%v", err)
	}
	req := plan.PromiseRequest{RequestID: requestID(*rid), Date: day, Amount: amt}
	if err := req.Validate(); err != nil {
		return usageFailure(stderr, fs, "%s", problem(err, "", map[string]string{"date": "--date", "amount": "--amount"}))
	}
	return sendOne(ctx, "promise", stdout, stderr, *asJSON, func(d *frontdoor.Door) (plan.Reply, error) { return d.Promise(ctx, id, req) },
		func(w io.Writer, reply plan.Reply) {
			fmt.Fprintf(w, "promise to pay %s by %s recorded: the plan is %s; collection contact waits until then\nrequest %s\n",
				groupMoney(req.Amount), req.Date, reply.State, req.RequestID)
		})
}

// decisionFlags are the flags of an operator's decision.
var decisionFlags = map[string]string{"decision": "--decision", "operator": "--operator", "reason": "--reason"}

// decision is what every operator decision command reads: the plan, the
// decision, who decides and why, the request id and --json.
type decision struct {
	plan, decision, operator, reason, requestID string
	asJSON                                      bool
}

// parseDecision parses the flags of operator decision command name, whose
// --decision takes the values help lists; ok is false with the exit code
// when the flags are wrong.
func parseDecision(name, help string, args []string, stdout, stderr io.Writer) (d decision, fs *flag.FlagSet, code int, ok bool) {
	fs = newFlagSet(name)
	dec := fs.String("decision", "", help)
	operator := fs.String("operator", os.Getenv("USER"), "who decides")
	reason := fs.String("reason", "", "why")
	rid := requestIDFlag(fs)
	asJSON := fs.Bool("json", false, "print the plan's reply as JSON")
	id, err := planFlags(fs, args)
	if err != nil {
		return decision{}, fs, parseFailure(stdout, stderr, fs, err), false
	}
	return decision{plan: id, decision: *dec, operator: *operator, reason: *reason, requestID: requestID(*rid), asJSON: *asJSON}, fs, 0, true
}

func runRefer(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	d, fs, code, ok := parseDecision("refer", "refer (for legal action), hold (raise it again later) or negotiate", args, stdout, stderr)
	if !ok {
		return code
	}
	req := plan.ReferralRequest{RequestID: d.requestID, Decision: collection.Decision(d.decision), Operator: d.operator, Reason: d.reason}
	if err := req.Validate(); err != nil {
		return usageFailure(stderr, fs, "%s", problem(err, "", decisionFlags))
	}
	return sendOne(ctx, "refer", stdout, stderr, d.asJSON, func(door *frontdoor.Door) (plan.Reply, error) { return door.Refer(ctx, d.plan, req) },
		func(w io.Writer, reply plan.Reply) {
			fmt.Fprintf(w, "legal referral: %s, decided by %s: the plan is %s\nrequest %s\n", req.Decision, req.Operator, reply.State, req.RequestID)
		})
}

func runWriteOff(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	d, fs, code, ok := parseDecision("writeoff", "approve (write the plan off) or decline (keep collecting)", args, stdout, stderr)
	if !ok {
		return code
	}
	req := plan.WriteOffRequest{RequestID: d.requestID, Decision: collection.WriteOffDecision(d.decision), Operator: d.operator, Reason: d.reason}
	if err := req.Validate(); err != nil {
		return usageFailure(stderr, fs, "%s", problem(err, "", decisionFlags))
	}
	return sendOne(ctx, "writeoff", stdout, stderr, d.asJSON, func(door *frontdoor.Door) (plan.Reply, error) { return door.WriteOff(ctx, d.plan, req) },
		func(w io.Writer, reply plan.Reply) {
			if req.Decision == collection.ApproveWriteOff {
				fmt.Fprintf(w, "write-off approved by %s: the plan is %s\n", req.Operator, reply.State)
			} else {
				fmt.Fprintf(w, "write-off declined by %s: collection goes on; the plan is %s\n", req.Operator, reply.State)
			}
			fmt.Fprintf(w, "request %s\n", req.RequestID)
		})
}

func runGrace(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("grace")
	until := fs.String("until", "", "the last day of the hardship grace, YYYY-MM-DD (the customer's time zone)")
	operator := fs.String("operator", os.Getenv("USER"), "who grants it")
	reason := fs.String("reason", "", "why, e.g. a hospital stay")
	rid := requestIDFlag(fs)
	asJSON := fs.Bool("json", false, "print the plan's reply as JSON")
	id, err := planFlags(fs, args)
	if err != nil {
		return parseFailure(stdout, stderr, fs, err)
	}
	day, err := parseDateFlag("until", *until)
	if err != nil {
		return usageFailure(stderr, fs, "%v", err)
	}
	req := plan.GraceRequest{RequestID: requestID(*rid), Until: day, Operator: *operator, Reason: *reason}
	if err := req.Validate(); err != nil {
		return usageFailure(stderr, fs, "%s", problem(err, "", map[string]string{"until": "--until", "operator": "--operator", "reason": "--reason"}))
	}
	return sendOne(ctx, "grace", stdout, stderr, *asJSON, func(d *frontdoor.Door) (plan.Reply, error) { return d.ExtendGrace(ctx, id, req) },
		func(w io.Writer, reply plan.Reply) {
			fmt.Fprintf(w, "hardship grace until %s granted by %s: no collection contact and no late charge until then; the plan is %s\nrequest %s\n",
				req.Until, req.Operator, reply.State, req.RequestID)
		})
}

func runArrearsPlan(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("arrears-plan")
	instalments := fs.Int("instalments", 0, "the number of parts the past-due amount is split into, added to the next due dates (at least 2)")
	return runChange(ctx, fs, changeCommand{
		name: "arrears-plan",
		build: func(rid, quoteID string) (plan.ChangeRequest, error) {
			return plan.ArrearsPlanRequest{RequestID: rid, Instalments: *instalments, QuoteID: quoteID}, nil
		},
		send: func(ctx context.Context, d *frontdoor.Door, id string, r plan.ChangeRequest) (plan.Reply, error) {
			return d.ArrearsPlan(ctx, id, r.(plan.ArrearsPlanRequest))
		},
	}, args, stdout, stderr)
}
