package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/fenqi/fenqi/calc"
	"github.com/fenqi/fenqi/frontdoor"
	"github.com/fenqi/fenqi/plan"
)

// planFlags parses a command of the form `starter NAME PLAN [flags]` (the
// plan id may also come after the flags) and returns the plan id.
func planFlags(fs *flag.FlagSet, args []string) (string, error) {
	var id string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		id, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return "", err
	}
	if id == "" && fs.NArg() > 0 {
		id = fs.Arg(0)
		if err := fs.Parse(fs.Args()[1:]); err != nil {
			return "", err
		}
	}
	if fs.NArg() > 0 {
		return "", fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if id == "" {
		return "", fmt.Errorf("PLAN: the plan id is required")
	}
	if _, err := plan.ParseID(id); err != nil {
		return "", fmt.Errorf("PLAN: %q is not a plan id", id)
	}
	return id, nil
}

// problem names the flag (or the customer file's field) behind a
// validation error, keeping the reason as the user must read it.
func problem(err error, customerFile string, flags map[string]string) string {
	var v *plan.ValidationError
	if !errors.As(err, &v) {
		return err.Error()
	}
	if f, ok := flags[v.Field]; ok {
		return f + ": " + v.Reason
	}
	if v.Field == "request_id" {
		return "--request-id: " + v.Reason
	}
	if field, ok := strings.CutPrefix(v.Field, "customer."); ok && customerFile != "" {
		return fmt.Sprintf("--customer: %s: field %s %s", customerFile, field, v.Reason)
	}
	return v.Field + ": " + v.Reason
}

func requestIDFlag(fs *flag.FlagSet) *string {
	return fs.String("request-id", "", "the request's id (default: a new one); repeating an id repeats the answer")
}

func requestID(s string) string {
	if s == "" {
		return uuid.NewString()
	}
	return s
}

func runApply(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("apply")
	customerFile := fs.String("customer", "", "JSON file with the customer's profile (see examples/customers)")
	amount := fs.String("amount", "", "amount requested, e.g. 10000")
	terms := fs.Int("terms", 0, "number of instalments wanted (optional)")
	frequency := fs.String("frequency", "", "monthly or quarterly (optional)")
	priority := fs.String("priority", "", "lowest_cost or lowest_instalment (optional)")
	partner := fs.String("partner", "", "the partner platform the application came through (optional)")
	daySeconds := fs.Float64("day-seconds", 0, "run the plan on a compressed calendar: a business day lasts this many real seconds (0: the real calendar); the offer and signing windows then last an hour of real time")
	rid := requestIDFlag(fs)
	asJSON := fs.Bool("json", false, "print one JSON object")
	if err := fs.Parse(args); err != nil {
		return parseFailure(stdout, stderr, fs, err)
	}
	if fs.NArg() > 0 {
		return usageFailure(stderr, fs, "unexpected argument %q", fs.Arg(0))
	}
	if *customerFile == "" {
		return usageFailure(stderr, fs, "--customer: a customer file is required")
	}
	cust, err := loadCustomer(*customerFile)
	if err != nil {
		return usageFailure(stderr, fs, "--customer: %v", err)
	}
	if *amount == "" {
		return usageFailure(stderr, fs, "--amount: an amount is required")
	}
	amt, err := decimal.NewFromString(*amount)
	if err != nil {
		return usageFailure(stderr, fs, "--amount: must be a number, got %q", *amount)
	}
	if err := validDaySeconds(*daySeconds, true); err != nil {
		return usageFailure(stderr, fs, "--day-seconds: %v", err)
	}
	app := plan.Application{
		RequestID: requestID(*rid), Customer: cust, Amount: amt, Terms: *terms,
		Frequency: calc.Frequency(*frequency), Preferences: plan.Preferences{Priority: *priority},
		Settings: compressedSettings(*daySeconds),
	}
	if *partner != "" {
		app.Origin = plan.Origin{Kind: "partner", Partner: *partner}
	}
	if err := app.Validate(); err != nil {
		return usageFailure(stderr, fs, "%s", problem(err, *customerFile, map[string]string{
			"amount": "--amount", "terms": "--terms", "frequency": "--frequency",
			"preferences.priority": "--priority", "origin.partner": "--partner", "settings.day_seconds": "--day-seconds",
		}))
	}
	return withDoor(ctx, "apply", stderr, func(d *frontdoor.Door) error {
		res, err := d.Apply(ctx, app)
		if err != nil {
			return err
		}
		if *asJSON {
			return printJSON(stdout, res)
		}
		fmt.Fprintf(stdout, "plan %s: %s\n", res.PlanID, res.State)
		if res.Reason != "" {
			fmt.Fprintf(stdout, "  %s\n", res.Reason)
		}
		if res.State == plan.StateOffered {
			fmt.Fprintf(stdout, "next: starter offers %s\n", res.PlanID)
		}
		return nil
	})
}

// loadCustomer reads a customer profile (see examples/customers),
// refusing unknown fields.
func loadCustomer(path string) (plan.Customer, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return plan.Customer{}, err
	}
	if !utf8.Valid(b) {
		// JSON decoding would turn the bytes into U+FFFD unnoticed.
		return plan.Customer{}, fmt.Errorf("%s is not valid UTF-8", path)
	}
	var cust plan.Customer
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cust); err != nil {
		return plan.Customer{}, fmt.Errorf("%s is not a customer profile: %v", path, err)
	}
	return cust, nil
}

func runOffers(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("offers")
	asJSON := fs.Bool("json", false, "print the offers as JSON")
	id, err := planFlags(fs, args)
	if err != nil {
		return parseFailure(stdout, stderr, fs, err)
	}
	return withDoor(ctx, "offers", stderr, func(d *frontdoor.Door) error {
		st, err := d.Status(ctx, id)
		if err != nil {
			return err
		}
		if *asJSON {
			return printJSON(stdout, st.Offers)
		}
		printOffers(stdout, st)
		return nil
	})
}

func printOffers(w io.Writer, st plan.Status) {
	if len(st.Offers) == 0 {
		fmt.Fprintf(w, "plan %s is %s and has no offers\n", st.PlanID, st.State)
		return
	}
	fmt.Fprintf(w, "plan %s: %s, offer set %d (%d of %d counter-offer rounds used), open until %s\n\n", st.PlanID, st.State, st.OfferSet, st.OfferRound, st.CounterRoundsMax, st.OffersExpireAt.UTC().Format("2006-01-02 15:04 MST"))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "No\tMethod\tAmount\tTerms\tFrequency\tInstalment\tTotal cost\tAPR nominal\tAPR effective\t")
	for _, o := range st.Offers {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%s\t%s\t%s\t%s%%\t%s%%\t\n", o.No, o.Method, calc.FormatMoney(o.Amount), o.Terms, o.Frequency,
			calc.FormatMoney(o.Instalment), calc.FormatMoney(o.TotalCost), o.APRNominal.StringFixed(4), o.APREffective.StringFixed(4))
	}
	tw.Flush()
	fmt.Fprintf(w, "\nchoose one: starter choose %s --offer-set %d --offer N\n", st.PlanID, st.OfferSet)
}

func runChoose(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("choose")
	offer := fs.Int("offer", 0, "the number of the offer to take")
	offerSet := fs.Int("offer-set", 0, "the offer set the offer belongs to (default: the current one)")
	rid := requestIDFlag(fs)
	asJSON := fs.Bool("json", false, "print the reply as JSON")
	id, err := planFlags(fs, args)
	if err != nil {
		return parseFailure(stdout, stderr, fs, err)
	}
	if *offer < 1 {
		return usageFailure(stderr, fs, "--offer: an offer number from 1 is required")
	}
	if *offerSet < 0 {
		return usageFailure(stderr, fs, "--offer-set: must be an offer set number from 1, got %d", *offerSet)
	}
	return sendReply(ctx, "choose", stdout, stderr, *asJSON, func(d *frontdoor.Door) (plan.Reply, error) {
		set := *offerSet
		if set == 0 {
			st, err := d.Status(ctx, id)
			if err != nil {
				return plan.Reply{}, err
			}
			set = st.OfferSet
		}
		return d.Choose(ctx, id, plan.ChooseRequest{RequestID: requestID(*rid), OfferSet: set, Offer: *offer})
	})
}

func runCounter(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("counter")
	amount := fs.String("amount", "", "amount wanted instead")
	terms := fs.Int("terms", 0, "number of instalments wanted instead")
	frequency := fs.String("frequency", "", "monthly or quarterly")
	maxInst := fs.String("max-instalment", "", "the highest instalment the customer can pay")
	rid := requestIDFlag(fs)
	asJSON := fs.Bool("json", false, "print the reply as JSON")
	id, err := planFlags(fs, args)
	if err != nil {
		return parseFailure(stdout, stderr, fs, err)
	}
	req := plan.CounterOfferRequest{RequestID: requestID(*rid), Terms: *terms, Frequency: calc.Frequency(*frequency)}
	for _, f := range []struct {
		flag string
		text string
		dst  *decimal.Decimal
	}{{"amount", *amount, &req.Amount}, {"max-instalment", *maxInst, &req.MaxInstalment}} {
		if f.text == "" {
			continue
		}
		v, err := decimal.NewFromString(f.text)
		if err != nil {
			return usageFailure(stderr, fs, "--%s: must be a number, got %q", f.flag, f.text)
		}
		*f.dst = v
	}
	if err := req.Validate(); err != nil {
		return usageFailure(stderr, fs, "%s", problem(err, "", map[string]string{
			"amount": "--amount", "terms": "--terms", "frequency": "--frequency", "max_instalment": "--max-instalment",
			"counter-offer": "--amount, --terms, --frequency or --max-instalment",
		}))
	}
	return sendReply(ctx, "counter", stdout, stderr, *asJSON, func(d *frontdoor.Door) (plan.Reply, error) {
		return d.CounterOffer(ctx, id, req)
	})
}

func runSign(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("sign")
	name := fs.String("name", "", "sign electronically as NAME (the customer consents)")
	paperRef := fs.String("paper-ref", "", "record a paper signature by the scanned form's reference")
	rid := requestIDFlag(fs)
	asJSON := fs.Bool("json", false, "print the reply as JSON")
	id, err := planFlags(fs, args)
	if err != nil {
		return parseFailure(stdout, stderr, fs, err)
	}
	if (*name == "") == (*paperRef == "") {
		return usageFailure(stderr, fs, "--name or --paper-ref: give exactly one")
	}
	req := plan.SignRequest{RequestID: requestID(*rid), Name: *name, Consent: *name != "", PaperRef: *paperRef}
	// The request's shape, but for the hash read from the plan below.
	probe := req
	probe.DocumentHash = strings.Repeat("0", 64)
	if err := probe.Validate(); err != nil {
		return usageFailure(stderr, fs, "%s", problem(err, "", map[string]string{"name": "--name", "paper_ref": "--paper-ref"}))
	}
	return sendReply(ctx, "sign", stdout, stderr, *asJSON, func(d *frontdoor.Door) (plan.Reply, error) {
		st, err := d.Status(ctx, id)
		if err != nil {
			return plan.Reply{}, err
		}
		if st.AgreementHash == "" {
			return plan.Reply{}, &frontdoor.RejectedError{Reason: fmt.Sprintf("plan %s is %s and has no agreement to sign", id, st.State)}
		}
		req.DocumentHash = st.AgreementHash
		return d.Sign(ctx, id, req)
	})
}

func runWithdraw(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("withdraw")
	reason := fs.String("reason", "", "why (optional)")
	rid := requestIDFlag(fs)
	asJSON := fs.Bool("json", false, "print the reply as JSON")
	id, err := planFlags(fs, args)
	if err != nil {
		return parseFailure(stdout, stderr, fs, err)
	}
	return sendReply(ctx, "withdraw", stdout, stderr, *asJSON, func(d *frontdoor.Door) (plan.Reply, error) {
		return d.Withdraw(ctx, id, plan.WithdrawRequest{RequestID: requestID(*rid), Reason: *reason})
	})
}

func runDecide(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("decide")
	approve := fs.Bool("approve", false, "approve the application")
	decline := fs.Bool("decline", false, "decline the application")
	reason := fs.String("reason", "", "the reason (required to decline)")
	operator := fs.String("operator", os.Getenv("USER"), "who decides")
	rid := requestIDFlag(fs)
	asJSON := fs.Bool("json", false, "print the reply as JSON")
	id, err := planFlags(fs, args)
	if err != nil {
		return parseFailure(stdout, stderr, fs, err)
	}
	if *approve == *decline {
		return usageFailure(stderr, fs, "--approve or --decline: give exactly one")
	}
	req := plan.ReviewDecision{RequestID: requestID(*rid), Approve: *approve, Reason: *reason, Operator: *operator}
	if err := req.Validate(); err != nil {
		return usageFailure(stderr, fs, "%s", problem(err, "", map[string]string{"reason": "--reason", "operator": "--operator"}))
	}
	return sendReply(ctx, "decide", stdout, stderr, *asJSON, func(d *frontdoor.Door) (plan.Reply, error) {
		return d.Decide(ctx, id, req)
	})
}

// sendReply sends one request and prints the plan's reply; a refused
// request exits 1 with the reason.
func sendReply(ctx context.Context, name string, stdout, stderr io.Writer, asJSON bool, send func(*frontdoor.Door) (plan.Reply, error)) int {
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
			fmt.Fprintf(stdout, "accepted: the plan is %s\n", reply.State)
			if reply.AgreementHash != "" && reply.State == plan.StateSigning {
				fmt.Fprintf(stdout, "agreement sha256 %s\n", reply.AgreementHash)
			}
		}
		if !reply.Accepted {
			return &refusedError{reply: reply}
		}
		return nil
	})
}

func runAgreement(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("agreement")
	asJSON := fs.Bool("json", false, "print the document and its hash as JSON")
	id, err := planFlags(fs, args)
	if err != nil {
		return parseFailure(stdout, stderr, fs, err)
	}
	return withDoor(ctx, "agreement", stderr, func(d *frontdoor.Door) error {
		a, err := d.Agreement(ctx, id)
		if err != nil {
			return err
		}
		if *asJSON {
			return printJSON(stdout, a)
		}
		fmt.Fprintln(stdout, a.Text)
		fmt.Fprintf(stdout, "\nsha256 %s (version %d)\n", a.SHA256, a.Version)
		return nil
	})
}

func runStatus(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("status")
	asJSON := fs.Bool("json", false, "print one JSON object")
	id, err := planFlags(fs, args)
	if err != nil {
		return parseFailure(stdout, stderr, fs, err)
	}
	return withDoor(ctx, "status", stderr, func(d *frontdoor.Door) error {
		st, err := d.Status(ctx, id)
		if err != nil {
			return err
		}
		if *asJSON {
			return printJSON(stdout, st)
		}
		printStatus(stdout, st)
		return nil
	})
}

func printStatus(w io.Writer, st plan.Status) {
	fmt.Fprintf(w, "plan %s  state %s  customer %s\n", st.PlanID, st.State, st.CustomerID)
	for _, r := range st.Reasons {
		fmt.Fprintf(w, "  %s\n", r)
	}
	if st.Tier != "" {
		fmt.Fprintf(w, "score %d, tier %s, credit limit %s\n", st.Score, st.Tier, calc.FormatMoney(st.CreditLimit))
	}
	switch st.State {
	case plan.StateOffered:
		fmt.Fprintln(w)
		printOffers(w, st)
	case plan.StateSigning:
		fmt.Fprintf(w, "offer %d chosen; agreement sha256 %s, to sign by %s\n", st.ChosenOffer, st.AgreementHash, st.AgreementExpireAt.UTC().Format("2006-01-02 15:04 MST"))
	}
	printRequests(w, st)
	if len(st.Schedule) == 0 {
		return
	}
	fmt.Fprintf(w, "paid %d of %d instalments, outstanding principal %s, %d days past due (%s)\n",
		st.PaidInstallments, st.TotalInstallments, calc.FormatMoney(st.OutstandingPrincipal), st.DaysPastDue, st.Bucket)
	printProgress(w, st)
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "No\tDue date\tPrincipal\tInterest\tFee\tPayment\tBalance\tStatus\t")
	for _, r := range st.Schedule {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", r.No, r.DueDate, calc.FormatMoney(r.Principal), calc.FormatMoney(r.Interest),
			calc.FormatMoney(r.Fee), calc.FormatMoney(r.Payment), calc.FormatMoney(r.Balance), r.Status)
	}
	tw.Flush()
}
