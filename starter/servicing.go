package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/shopspring/decimal"

	"github.com/fenqi/fenqi/calc"
	"github.com/fenqi/fenqi/frontdoor"
	"github.com/fenqi/fenqi/plan"
)

// originationWindow is how long, on the wall clock, a plan on a compressed
// calendar keeps its offers open, waits for a signature and for a manual
// review, so that a person can still choose and sign by hand...
const originationWindow = time.Hour

// ...within what a time.Duration holds of business time.
const maxBusinessWindow = 100 * 365 * 24 * time.Hour

// compressedSettings are the settings of a plan whose business day lasts
// daySeconds real seconds (0: the real calendar, the defaults). On a
// compressed calendar every duration of the plan shrinks, the origination
// windows too (7 business days to choose would be 1.4 s at 0.2 s a day), so
// these are stretched to last originationWindow on the wall clock (at most
// maxBusinessWindow of business time: 36 s at the fastest scale, 0.001).
func compressedSettings(daySeconds float64) plan.Settings {
	s := plan.Settings{DaySeconds: daySeconds}
	if daySeconds == 0 {
		return s
	}
	business := float64(originationWindow) * 86400 / daySeconds
	w := maxBusinessWindow
	if business < float64(maxBusinessWindow) {
		w = time.Duration(business)
	}
	if d := plan.DefaultSettings(); w > d.OfferTTL {
		s.OfferTTL, s.SignTTL, s.ReviewTimeout = w, w, w
	}
	return s
}

// validDaySeconds checks a --day-seconds value: 0 (the real calendar) when
// allowZero, else within the business clock's bounds.
func validDaySeconds(v float64, allowZero bool) error {
	switch {
	case v == 0 && allowZero:
		return nil
	case math.IsNaN(v) || v < 0.001 || v > 86400:
		if allowZero {
			return fmt.Errorf("must be 0 (the real calendar) or between 0.001 and 86400 seconds, got %v", v)
		}
		return fmt.Errorf("must be between 0.001 and 86400 seconds, got %v", v)
	}
	return nil
}

// parseAmount reads a money flag: a number with at most 2 decimals.
func parseAmount(flagName, s string) (decimal.Decimal, error) {
	if s == "" {
		return decimal.Zero, fmt.Errorf("--%s: an amount is required", flagName)
	}
	d, err := decimal.NewFromString(s)
	if err != nil {
		return decimal.Zero, fmt.Errorf("--%s: must be a number, got %q", flagName, s)
	}
	if !d.IsPositive() {
		return decimal.Zero, fmt.Errorf("--%s: must be positive, got %s", flagName, s)
	}
	if !d.Equal(d.Round(2)) {
		return decimal.Zero, fmt.Errorf("--%s: must have at most 2 decimals, got %s", flagName, s)
	}
	return d, nil
}

func runFund(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("fund")
	amount := fs.String("amount", "", "the amount to put on the plan's funding account, e.g. 5000")
	rid := requestIDFlag(fs)
	asJSON := fs.Bool("json", false, "print one JSON object")
	id, err := planFlags(fs, args)
	if err != nil {
		return parseFailure(stdout, stderr, fs, err)
	}
	amt, err := parseAmount("amount", *amount)
	if err != nil {
		return usageFailure(stderr, fs, "%v", err)
	}
	if amt.GreaterThan(frontdoor.MaxFund) {
		return usageFailure(stderr, fs, "--amount: must be at most %s, got %s", frontdoor.MaxFund, amt)
	}
	key := requestID(*rid)
	if err := plan.ValidateRequestID(key); err != nil {
		return usageFailure(stderr, fs, "%s", problem(err, "", nil))
	}
	return withStoreDoor(ctx, "fund", stderr, func(d *frontdoor.Door) error {
		balance, err := d.Fund(ctx, id, amt, key)
		if err != nil {
			return err
		}
		if *asJSON {
			return printJSON(stdout, map[string]string{"plan_id": id, "amount": amt.StringFixed(2), "balance": balance.StringFixed(2)})
		}
		fmt.Fprintf(stdout, "funded %s; the funding account's balance is %s\n", groupMoney(amt), groupMoney(balance))
		return nil
	})
}

func runPay(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("pay")
	amount := fs.String("amount", "", "the amount paid, e.g. 500")
	paymentID := fs.String("payment-id", "", "the payment's id (default: a new one); the same id is applied once")
	source := fs.String("source", "manual", "external (a gateway) or manual (paid by hand)")
	asJSON := fs.Bool("json", false, "print the reply as JSON")
	id, err := planFlags(fs, args)
	if err != nil {
		return parseFailure(stdout, stderr, fs, err)
	}
	amt, err := parseAmount("amount", *amount)
	if err != nil {
		return usageFailure(stderr, fs, "%v", err)
	}
	req := plan.PaymentRequest{RequestID: requestID(*paymentID), Amount: amt, Source: *source}
	if err := req.Validate(); err != nil {
		return usageFailure(stderr, fs, "%s", problem(err, "", map[string]string{
			"request_id": "--payment-id", "amount": "--amount", "source": "--source",
		}))
	}
	return withDoor(ctx, "pay", stderr, func(d *frontdoor.Door) error {
		reply, err := d.Pay(ctx, id, req)
		if err != nil {
			return err
		}
		if *asJSON {
			if err := printJSON(stdout, reply); err != nil {
				return err
			}
		} else if reply.Accepted {
			fmt.Fprintf(stdout, "accepted payment %s: the plan is %s\n", req.RequestID, reply.State)
			if reply.Reason != "" {
				fmt.Fprintf(stdout, "  %s\n", reply.Reason)
			}
			if st, err := d.Status(ctx, id); err == nil {
				printProgress(stdout, st)
			}
		}
		if !reply.Accepted {
			return &refusedError{reply: reply}
		}
		return nil
	})
}

func runContacts(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("contacts")
	asJSON := fs.Bool("json", false, "print the contacts as one JSON list")
	id, err := planFlags(fs, args)
	if err != nil {
		return parseFailure(stdout, stderr, fs, err)
	}
	return withStoreDoor(ctx, "contacts", stderr, func(d *frontdoor.Door) error {
		list, err := d.Contacts(ctx, id)
		if err != nil {
			return err
		}
		if *asJSON {
			if list == nil {
				list = []frontdoor.Contact{}
			}
			return printJSON(stdout, list)
		}
		printContacts(stdout, id, list)
		return nil
	})
}

func printContacts(w io.Writer, id string, list []frontdoor.Contact) {
	if len(list) == 0 {
		fmt.Fprintf(w, "plan %s has no contacts yet\n", id)
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "Scheduled (UTC)\tSent\tPurpose\tChannel\tNo\tStatus\tOutcome\tBody")
	for _, c := range list {
		no, sent, outcome := "", "-", c.Outcome
		if c.Instalment > 0 {
			no = fmt.Sprint(c.Instalment)
		}
		if c.SentAt != nil {
			sent = c.SentAt.UTC().Format("2006-01-02 15:04:05")
			if day := c.ScheduledFor.UTC().Format("2006-01-02 "); strings.HasPrefix(sent, day) {
				sent = strings.TrimPrefix(sent, day) // the same day: the time is enough
			}
		}
		if outcome == "" {
			outcome = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", c.ScheduledFor.UTC().Format("2006-01-02 15:04:05"), sent, c.Purpose, c.Channel, no, c.Status, outcome, c.Body)
	}
	tw.Flush()
}

// barWidth is the number of cells of a progress bar.
const barWidth = 20

// progressBar draws paid of total as [#####---------------]: one cell per
// 1/barWidth of the amount, full only when everything is paid.
func progressBar(paid, total decimal.Decimal) string {
	n := 0
	if total.IsPositive() {
		n = int(paid.Mul(decimal.NewFromInt(barWidth)).Div(total).IntPart())
	}
	n = max(0, min(n, barWidth))
	return "[" + strings.Repeat("#", n) + strings.Repeat("-", barWidth-n) + "]"
}

// progressLine is the bar with the instalments and the amount paid.
func progressLine(st plan.Status) string {
	return fmt.Sprintf("%s %d/%d instalments, %s of %s paid", progressBar(st.PaidAmount, st.TotalAmount),
		st.PaidInstallments, st.TotalInstallments, groupMoney(st.PaidAmount), groupMoney(st.TotalAmount))
}

// nextDue says what is due next: the date and amount, "overdue" when all
// that is left is overdue, "-" when nothing is.
func nextDue(st plan.Status) string {
	switch {
	case !st.NextDueDate.IsZero():
		return fmt.Sprintf("%s %s", st.NextDueDate, groupMoney(st.NextDueAmount))
	case st.PaidAmount.LessThan(st.TotalAmount) && st.PaidInstallments < st.TotalInstallments:
		return "overdue"
	}
	return "-"
}

// printProgress writes the progress bar line and what comes next.
func printProgress(w io.Writer, st plan.Status) {
	if st.TotalInstallments == 0 {
		return
	}
	fmt.Fprintln(w, progressLine(st))
	var parts []string
	switch left := st.TotalAmount.Sub(st.PaidAmount); {
	case !st.NextDueDate.IsZero():
		parts = append(parts, fmt.Sprintf("next due %s: %s", st.NextDueDate, groupMoney(st.NextDueAmount)))
	case st.PaidInstallments < st.TotalInstallments && left.IsPositive():
		// Only overdue instalments are left (the next due date skips them).
		parts = append(parts, fmt.Sprintf("nothing ahead, %s overdue", groupMoney(left)))
	default:
		parts = append(parts, "nothing more due")
	}
	if st.DaysPastDue > 0 {
		parts = append(parts, fmt.Sprintf("%d days past due (%s)", st.DaysPastDue, st.Bucket))
	}
	if !st.BusinessDate.IsZero() {
		parts = append(parts, "business date "+st.BusinessDate.String())
	}
	fmt.Fprintln(w, strings.Join(parts, "; "))
}

// groupMoney formats an amount as people read it (calc.GroupMoney).
func groupMoney(d decimal.Decimal) string { return calc.GroupMoney(d) }
