package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/shopspring/decimal"

	"github.com/fenqi/fenqi/calc"
	"github.com/fenqi/fenqi/frontdoor"
	"github.com/fenqi/fenqi/plan"
)

// The customer requests of an active plan (domain.md §4). The change
// requests (cancel, restructure, holiday, prepay, waive, and arrears-plan
// in collection.go) take two steps:
// --quote asks the plan what the change would do (nothing changes), and
// --confirm QUOTE_ID applies that quote. approve, complain and resolve are
// single requests.

// changeFlags are the flags every change request has.
type changeFlags struct {
	quote   *bool
	confirm *string
	rid     *string
	asJSON  *bool
}

func addChangeFlags(fs *flag.FlagSet) changeFlags {
	return changeFlags{
		quote:   fs.Bool("quote", false, "ask for a quote: what the change would do (nothing changes)"),
		confirm: fs.String("confirm", "", "apply the quote with this id (the request's terms may be left out)"),
		rid:     requestIDFlag(fs),
		asJSON:  fs.Bool("json", false, "print the plan's reply as JSON"),
	}
}

// quoteID checks exactly one of --quote and --confirm is given and returns
// the quote id to confirm ("" for a quote).
func (c changeFlags) quoteID() (string, error) {
	if *c.quote == (*c.confirm != "") {
		return "", fmt.Errorf("--quote or --confirm QUOTE_ID: give exactly one")
	}
	return *c.confirm, nil
}

// changeFieldFlags names the flag behind each field of a change request.
var changeFieldFlags = map[string]string{
	"quote_id": "--confirm", "mode": "--mode", "terms": "--terms", "at_next_due": "--at-next-due",
	"max_instalment": "--max-instalment", "frequency": "--frequency", "reason": "--reason",
	"restructure": "--terms, --max-instalment or --frequency", "periods": "--periods", "amount": "--amount",
	"reduce": "--reduce", "component": "--component", "operator": "--operator",
	"instalments": "--instalments",
}

// change is one change request ready to send, with what its output needs.
type change struct {
	name   string // the command and the message (cancel ...)
	planID string
	req    plan.ChangeRequest
	// confirmFlags are the flags a confirmation must repeat besides
	// --confirm (the operator of a waiver).
	confirmFlags string
	asJSON       bool
}

// changeCommand is what one change command adds to the flags every change
// has: build makes its request from its own flags, the request id and the
// quote id to confirm ("" for a quote), or returns a usage error; send
// sends it through the front door.
type changeCommand struct {
	name  string
	build func(rid, quoteID string) (plan.ChangeRequest, error)
	send  func(ctx context.Context, d *frontdoor.Door, planID string, r plan.ChangeRequest) (plan.Reply, error)
	// confirmFlags are the flags a confirmation must repeat (see change).
	confirmFlags func() string
}

// runChange parses a change command's flags and plan id, checks the
// request, sends it and prints the answer.
func runChange(ctx context.Context, fs *flag.FlagSet, cmd changeCommand, args []string, stdout, stderr io.Writer) int {
	cf := addChangeFlags(fs)
	id, err := planFlags(fs, args)
	if err != nil {
		return parseFailure(stdout, stderr, fs, err)
	}
	quoteID, err := cf.quoteID()
	if err != nil {
		return usageFailure(stderr, fs, "%v", err)
	}
	req, err := cmd.build(requestID(*cf.rid), quoteID)
	if err != nil {
		return usageFailure(stderr, fs, "%v", err)
	}
	if err := req.Validate(); err != nil {
		return usageFailure(stderr, fs, "%s", problem(err, "", changeFieldFlags))
	}
	c := change{name: cmd.name, planID: id, req: req, asJSON: *cf.asJSON}
	if cmd.confirmFlags != nil {
		c.confirmFlags = cmd.confirmFlags()
	}
	return sendChange(ctx, c, stdout, stderr, func(d *frontdoor.Door) (plan.Reply, error) { return cmd.send(ctx, d, id, req) })
}

// optionalAmount parses an amount flag that may be left out.
func optionalAmount(flagName, v string) (decimal.Decimal, error) {
	if v == "" {
		return decimal.Zero, nil
	}
	return parseAmount(flagName, v)
}

func runCancel(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("cancel")
	mode := fs.String("mode", "", "lump-sum (repay everything at once) or fewer-terms (spread the settlement over fewer instalments)")
	terms := fs.Int("terms", 0, "the new number of instalments (fewer-terms)")
	atNextDue := fs.Bool("at-next-due", false, "a lump sum falls due on the next due date instead of now")
	return runChange(ctx, fs, changeCommand{
		name: "cancel",
		build: func(rid, quoteID string) (plan.ChangeRequest, error) {
			return plan.CancelRequest{RequestID: rid, Mode: plan.CancelMode(*mode), Terms: *terms, AtNextDue: *atNextDue, QuoteID: quoteID}, nil
		},
		send: func(ctx context.Context, d *frontdoor.Door, id string, r plan.ChangeRequest) (plan.Reply, error) {
			return d.Cancel(ctx, id, r.(plan.CancelRequest))
		},
	}, args, stdout, stderr)
}

func runRestructure(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("restructure")
	terms := fs.Int("terms", 0, "the new number of remaining instalments")
	maxInst := fs.String("max-instalment", "", "the highest instalment the customer can pay (the fewest instalments under it)")
	frequency := fs.String("frequency", "", "monthly or quarterly")
	reason := fs.String("reason", "", "the customer's circumstances (optional)")
	return runChange(ctx, fs, changeCommand{
		name: "restructure",
		build: func(rid, quoteID string) (plan.ChangeRequest, error) {
			if *terms != 0 && *maxInst != "" {
				return nil, fmt.Errorf("--terms or --max-instalment: give at most one")
			}
			maxInstalment, err := optionalAmount("max-instalment", *maxInst)
			return plan.RestructureRequest{RequestID: rid, Terms: *terms, MaxInstalment: maxInstalment, Frequency: calc.Frequency(*frequency), Reason: *reason, QuoteID: quoteID}, err
		},
		send: func(ctx context.Context, d *frontdoor.Door, id string, r plan.ChangeRequest) (plan.Reply, error) {
			return d.Restructure(ctx, id, r.(plan.RestructureRequest))
		},
	}, args, stdout, stderr)
}

func runHoliday(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("holiday")
	periods := fs.Int("periods", 0, "the number of instalments to pause")
	reason := fs.String("reason", "", "why, e.g. a hospital stay (optional)")
	return runChange(ctx, fs, changeCommand{
		name: "holiday",
		build: func(rid, quoteID string) (plan.ChangeRequest, error) {
			return plan.HolidayRequest{RequestID: rid, Periods: *periods, Reason: *reason, QuoteID: quoteID}, nil
		},
		send: func(ctx context.Context, d *frontdoor.Door, id string, r plan.ChangeRequest) (plan.Reply, error) {
			return d.Holiday(ctx, id, r.(plan.HolidayRequest))
		},
	}, args, stdout, stderr)
}

func runPrepay(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("prepay")
	amount := fs.String("amount", "", "the principal to repay early (default: everything; the plan closes)")
	reduce := fs.String("reduce", "", "what a partial repayment lowers: instalment or term")
	return runChange(ctx, fs, changeCommand{
		name: "prepay",
		build: func(rid, quoteID string) (plan.ChangeRequest, error) {
			amt, err := optionalAmount("amount", *amount)
			return plan.PrepayRequest{RequestID: rid, Amount: amt, Reduce: plan.Reduce(*reduce), QuoteID: quoteID}, err
		},
		send: func(ctx context.Context, d *frontdoor.Door, id string, r plan.ChangeRequest) (plan.Reply, error) {
			return d.Prepay(ctx, id, r.(plan.PrepayRequest))
		},
	}, args, stdout, stderr)
}

func runWaive(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("waive")
	component := fs.String("component", "", "what to forgive: penalty, fee or interest")
	amount := fs.String("amount", "", "the amount to forgive, oldest instalment first")
	reason := fs.String("reason", "", "why (required for a quote)")
	operator := fs.String("operator", os.Getenv("USER"), "who waives")
	return runChange(ctx, fs, changeCommand{
		name: "waive",
		build: func(rid, quoteID string) (plan.ChangeRequest, error) {
			amt, err := optionalAmount("amount", *amount)
			return plan.WaiveRequest{RequestID: rid, Component: calc.Component(*component), Amount: amt, Reason: *reason, Operator: *operator, QuoteID: quoteID}, err
		},
		send: func(ctx context.Context, d *frontdoor.Door, id string, r plan.ChangeRequest) (plan.Reply, error) {
			return d.Waive(ctx, id, r.(plan.WaiveRequest))
		},
		confirmFlags: func() string { return " --operator " + shellQuote(*operator) },
	}, args, stdout, stderr)
}

// sendChange sends a change request and prints the plan's answer: a
// quote, or what the confirmation changed. A refusal (a quote that is not
// eligible, a confirmation refused) exits 1 with the reason; the quote is
// printed all the same, so that the customer sees why.
func sendChange(ctx context.Context, c change, stdout, stderr io.Writer, send func(*frontdoor.Door) (plan.Reply, error)) int {
	return withDoor(ctx, c.name, stderr, func(d *frontdoor.Door) error {
		reply, err := send(d)
		if err != nil {
			return err
		}
		return reportChange(stdout, c, reply)
	})
}

// reportChange prints the reply to a change request and returns a
// *refusedError when the plan refused it.
func reportChange(w io.Writer, c change, reply plan.Reply) error {
	switch {
	case c.asJSON:
		if err := printJSON(w, reply); err != nil {
			return err
		}
	case c.req.Quote() == "" && reply.Quote != nil:
		printQuote(w, c, reply)
	case c.req.Quote() != "" && reply.Accepted:
		printConfirmed(w, c, reply)
	case reply.Accepted:
		fmt.Fprintf(w, "accepted: the plan is %s\nrequest %s\n", reply.State, c.req.ID())
	}
	if !reply.Accepted {
		return &refusedError{reply: reply}
	}
	return nil
}

// printQuote writes a quote: what confirming would do, the new schedule,
// the figures before and after, and how to confirm it.
func printQuote(w io.Writer, c change, reply plan.Reply) {
	q := reply.Quote
	if q.Eligible && reply.Accepted {
		fmt.Fprintf(w, "quote %s: %s on plan %s\n", q.ID, c.name, c.planID)
	} else {
		fmt.Fprintf(w, "quote %s: %s on plan %s is not possible: %s\n", q.ID, c.name, c.planID, refusal(reply))
	}
	if q.Summary != "" {
		fmt.Fprintf(w, "  %s\n", q.Summary)
	}
	if len(q.Schedule) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "new schedule:")
		printRows(w, q.Schedule)
	}
	if len(q.Waived) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "waived:")
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "No\tComponent\tAmount\t")
		total := decimal.Zero
		for _, wv := range q.Waived {
			fmt.Fprintf(tw, "%d\t%s\t%s\t\n", wv.No, wv.Component, calc.FormatMoney(wv.Amount))
			total = total.Add(wv.Amount)
		}
		fmt.Fprintf(tw, "\ttotal\t%s\t\n", calc.FormatMoney(total))
		tw.Flush()
	}
	fmt.Fprintln(w)
	lines := []struct{ label, value string }{
		{"due now", groupMoney(q.DueNow)},
		{"fee", groupMoney(q.Fee)},
		{"capitalised", groupMoney(q.Capitalised)},
		{"paid ahead", groupMoney(q.PaidAhead)},
		{"penalty", groupMoney(q.Penalty)},
	}
	if len(q.Schedule) > 0 {
		lines = append(lines, []struct{ label, value string }{
			{"new instalment", groupMoney(q.Instalment)},
			{"total payable", groupMoney(q.TotalPayable)},
		}...)
	}
	for _, l := range lines {
		fmt.Fprintf(w, "%-14s %14s\n", l.label, l.value)
	}
	if s := q.Settlement; s != nil {
		fmt.Fprintf(w, "settlement (%s): principal %s, interest %s, fee %s, penalty %s, charge %s, past due %s; total %s\n", s.Policy,
			groupMoney(s.Principal), groupMoney(s.Interest), groupMoney(s.Fee), groupMoney(s.Penalty), groupMoney(s.Charge), groupMoney(s.PastDue), groupMoney(s.Total))
	}
	if q.Before.Instalments > 0 || q.After.Instalments > 0 {
		fmt.Fprintln(w)
		printFigures(w, q.Before, q.After)
	}
	fmt.Fprintln(w)
	if !q.AsOf.IsZero() {
		fmt.Fprintf(w, "quoted on %s on schedule version %d", q.AsOf, q.ScheduleVersion)
		if !q.ExpiresAt.IsZero() {
			fmt.Fprintf(w, "; valid until %s", businessTime(q.ExpiresAt))
		}
		fmt.Fprintln(w)
	} else if !q.ExpiresAt.IsZero() {
		fmt.Fprintf(w, "valid until %s\n", businessTime(q.ExpiresAt))
	}
	if q.NeedsApproval {
		fmt.Fprintln(w, "once confirmed, the change waits for an operator's approval")
	}
	fmt.Fprintf(w, "request %s\n", c.req.ID())
	if q.Eligible && reply.Accepted {
		fmt.Fprintf(w, "confirm: starter %s %s --confirm %s%s\n", c.name, c.planID, shellQuote(q.ID), c.confirmFlags)
	}
}

// printConfirmed writes what a confirmed change did.
func printConfirmed(w io.Writer, c change, reply plan.Reply) {
	q := reply.Quote
	fmt.Fprintf(w, "confirmed quote %s (%s): the plan is %s", c.req.Quote(), c.name, reply.State)
	if reply.ScheduleVersion > 0 {
		fmt.Fprintf(w, ", schedule version %d", reply.ScheduleVersion)
	}
	fmt.Fprintln(w)
	if q != nil {
		if q.Summary != "" {
			fmt.Fprintf(w, "  %s\n", q.Summary)
		}
		if q.DueNow.IsPositive() {
			fmt.Fprintf(w, "due now: %s\n", groupMoney(q.DueNow))
		}
		if len(q.Schedule) > 0 {
			fmt.Fprintf(w, "instalments %d -> %d, instalment %s -> %s, remaining %s -> %s\n",
				q.Before.Instalments, q.After.Instalments, groupMoney(q.Before.Instalment), groupMoney(q.After.Instalment),
				groupMoney(q.Before.Remaining), groupMoney(q.After.Remaining))
		}
		if len(q.Waived) > 0 {
			total := decimal.Zero
			parts := make([]string, 0, len(q.Waived))
			for _, wv := range q.Waived {
				total = total.Add(wv.Amount)
				parts = append(parts, fmt.Sprintf("%s %s on instalment %d", groupMoney(wv.Amount), wv.Component, wv.No))
			}
			fmt.Fprintf(w, "waived %s: %s\n", groupMoney(total), strings.Join(parts, ", "))
		}
		if q.NeedsApproval {
			fmt.Fprintf(w, "waiting for an operator's approval: starter approve %s --quote-id %s --approve | --refuse --reason TEXT\n", c.planID, shellQuote(q.ID))
		}
	}
	fmt.Fprintf(w, "request %s\n", c.req.ID())
}

// printRows writes schedule rows as `starter status` does; a paused
// instalment (a payment holiday) is marked in a last column.
func printRows(w io.Writer, rows []calc.Row) {
	holidays := false
	for _, r := range rows {
		holidays = holidays || r.Holiday
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	head := "No\tDue date\tPrincipal\tInterest\tFee\tPayment\tBalance\t"
	if holidays {
		head += "\t"
	}
	fmt.Fprintln(tw, head)
	for _, r := range rows {
		line := fmt.Sprintf("%d\t%s\t%s\t%s\t%s\t%s\t%s\t", r.No, r.DueDate, calc.FormatMoney(r.Principal), calc.FormatMoney(r.Interest),
			calc.FormatMoney(r.Fee), calc.FormatMoney(r.Payment), calc.FormatMoney(r.Balance))
		switch {
		case r.Holiday:
			line += "holiday\t"
		case holidays:
			line += "\t"
		}
		fmt.Fprintln(tw, line)
	}
	tw.Flush()
}

// printFigures writes the remaining plan's figures before and after a
// change, side by side.
func printFigures(w io.Writer, before, after plan.Figures) {
	for _, l := range [][3]string{
		{"", "before", "after"},
		{"instalments", fmt.Sprint(before.Instalments), fmt.Sprint(after.Instalments)},
		{"instalment", groupMoney(before.Instalment), groupMoney(after.Instalment)},
		{"remaining", groupMoney(before.Remaining), groupMoney(after.Remaining)},
		{"APR nominal", percent(before.APRNominal), percent(after.APRNominal)},
		{"APR effective", percent(before.APREffective), percent(after.APREffective)},
	} {
		fmt.Fprintf(w, "%-14s %14s %14s\n", l[0], l[1], l[2])
	}
}

// percent writes an annualised rate: 12.8000%.
func percent(r decimal.Decimal) string { return r.StringFixed(calc.RatePlaces) + "%" }

// refusal is why the plan refused a request.
func refusal(reply plan.Reply) string {
	switch {
	case reply.Reason != "":
		return reply.Reason
	case reply.Quote != nil && reply.Quote.Refusal != "":
		return reply.Quote.Refusal
	}
	return "no reason given"
}

// businessTime writes a plan's business time.
func businessTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 MST") }

// shellQuote quotes s for a shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_.:/@+=,", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func runApprove(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("approve")
	quoteID := fs.String("quote-id", "", "the confirmed quote waiting for approval")
	approve := fs.Bool("approve", false, "approve the change")
	refuse := fs.Bool("refuse", false, "refuse the change (with --reason)")
	reason := fs.String("reason", "", "the reason (required to refuse)")
	operator := fs.String("operator", os.Getenv("USER"), "who decides")
	rid := requestIDFlag(fs)
	asJSON := fs.Bool("json", false, "print the plan's reply as JSON")
	id, err := planFlags(fs, args)
	if err != nil {
		return parseFailure(stdout, stderr, fs, err)
	}
	if *approve == *refuse {
		return usageFailure(stderr, fs, "--approve or --refuse: give exactly one")
	}
	req := plan.ApprovalDecision{RequestID: requestID(*rid), QuoteID: *quoteID, Approve: *approve, Reason: *reason, Operator: *operator}
	if err := req.Validate(); err != nil {
		return usageFailure(stderr, fs, "%s", problem(err, "", map[string]string{"quote_id": "--quote-id", "reason": "--reason", "operator": "--operator"}))
	}
	return sendOne(ctx, "approve", stdout, stderr, *asJSON, func(d *frontdoor.Door) (plan.Reply, error) { return d.Approve(ctx, id, req) },
		func(w io.Writer, reply plan.Reply) { printApproval(w, req, reply) })
}

func printApproval(w io.Writer, req plan.ApprovalDecision, reply plan.Reply) {
	if req.Approve {
		fmt.Fprintf(w, "approved quote %s: the plan is %s", req.QuoteID, reply.State)
		if reply.ScheduleVersion > 0 {
			fmt.Fprintf(w, ", schedule version %d", reply.ScheduleVersion)
		}
		fmt.Fprintln(w)
		if reply.Quote != nil && reply.Quote.Summary != "" {
			fmt.Fprintf(w, "  %s\n", reply.Quote.Summary)
		}
	} else {
		fmt.Fprintf(w, "refused quote %s (%s): the plan is %s, unchanged\n", req.QuoteID, req.Reason, reply.State)
	}
	fmt.Fprintf(w, "request %s\n", req.RequestID)
}

func runComplain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("complain")
	text := fs.String("text", "", "the complaint, in the customer's words")
	rid := requestIDFlag(fs)
	asJSON := fs.Bool("json", false, "print the plan's reply as JSON")
	id, err := planFlags(fs, args)
	if err != nil {
		return parseFailure(stdout, stderr, fs, err)
	}
	req := plan.ComplaintRequest{RequestID: requestID(*rid), Text: *text}
	if err := req.Validate(); err != nil {
		return usageFailure(stderr, fs, "%s", problem(err, "", map[string]string{"text": "--text"}))
	}
	return sendOne(ctx, "complain", stdout, stderr, *asJSON, func(d *frontdoor.Door) (plan.Reply, error) { return d.Complain(ctx, id, req) },
		func(w io.Writer, reply plan.Reply) { printComplaint(w, id, req, reply) })
}

func printComplaint(w io.Writer, planID string, req plan.ComplaintRequest, reply plan.Reply) {
	fmt.Fprintf(w, "complaint %s filed: the plan is %s; collection contact is paused until it is resolved\n", req.RequestID, reply.State)
	fmt.Fprintf(w, "resolve it: starter resolve %s --complaint %s --resolution TEXT --operator NAME\n", planID, shellQuote(req.RequestID))
}

func runResolve(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("resolve")
	complaint := fs.String("complaint", "", "the complaint's request id")
	resolution := fs.String("resolution", "", "the resolution, sent to the customer")
	operator := fs.String("operator", os.Getenv("USER"), "who resolves")
	rid := requestIDFlag(fs)
	asJSON := fs.Bool("json", false, "print the plan's reply as JSON")
	id, err := planFlags(fs, args)
	if err != nil {
		return parseFailure(stdout, stderr, fs, err)
	}
	req := plan.ResolveRequest{RequestID: requestID(*rid), Complaint: *complaint, Resolution: *resolution, Operator: *operator}
	if err := req.Validate(); err != nil {
		return usageFailure(stderr, fs, "%s", problem(err, "", map[string]string{"complaint": "--complaint", "resolution": "--resolution", "operator": "--operator"}))
	}
	return sendOne(ctx, "resolve", stdout, stderr, *asJSON, func(d *frontdoor.Door) (plan.Reply, error) { return d.Resolve(ctx, id, req) },
		func(w io.Writer, reply plan.Reply) {
			fmt.Fprintf(w, "complaint %s resolved: the plan is %s\nrequest %s\n", req.Complaint, reply.State, req.RequestID)
		})
}

// sendOne sends a request and prints the reply with print (or as JSON); a
// refused request exits 1 with the reason.
func sendOne(ctx context.Context, name string, stdout, stderr io.Writer, asJSON bool, send func(*frontdoor.Door) (plan.Reply, error), print func(io.Writer, plan.Reply)) int {
	return withDoor(ctx, name, stderr, func(d *frontdoor.Door) error {
		reply, err := send(d)
		if err != nil {
			return err
		}
		if asJSON {
			if err := printJSON(stdout, reply); err != nil {
				return err
			}
		} else if reply.Accepted {
			print(stdout, reply)
		}
		if !reply.Accepted {
			return &refusedError{reply: reply}
		}
		return nil
	})
}

// printRequests writes what `starter status` shows of the customer
// requests: the schedule version, a change waiting for approval, open
// complaints and the pause of collection contact, and how a closed plan
// ended.
func printRequests(w io.Writer, st plan.Status) {
	if st.CloseReason != "" {
		fmt.Fprintf(w, "closed: %s\n", st.CloseReason)
	}
	if st.ScheduleVersion > 0 {
		fmt.Fprintf(w, "schedule version %d (revision %d)\n", st.ScheduleVersion, st.Revision)
	}
	if q := st.AwaitingApproval; q != nil {
		fmt.Fprintf(w, "awaiting approval: %s quote %s", q.Kind, q.ID)
		if q.Summary != "" {
			fmt.Fprintf(w, ": %s", q.Summary)
		}
		fmt.Fprintln(w)
		fmt.Fprintf(w, "  decide: starter approve %s --quote-id %s --approve | --refuse --reason TEXT\n", st.PlanID, shellQuote(q.ID))
	}
	paused := !st.ContactPausedUntil.IsZero() && (len(st.Complaints) > 0 || st.BusinessDate.IsZero() ||
		!st.ContactPausedUntil.UTC().Before(st.BusinessDate.At(time.UTC, 0, 0, 0)))
	switch {
	case len(st.Complaints) > 0:
		fmt.Fprintf(w, "open complaints: %d", len(st.Complaints))
		if paused {
			fmt.Fprintf(w, "; collection contact paused until %s", businessTime(st.ContactPausedUntil))
		}
		fmt.Fprintln(w)
		for _, c := range st.Complaints {
			fmt.Fprintf(w, "  %s opened %s: %s\n", c.RequestID, businessTime(c.OpenedAt), c.Text)
		}
	case paused:
		fmt.Fprintf(w, "collection contact paused until %s\n", businessTime(st.ContactPausedUntil))
	}
}
