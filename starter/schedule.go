package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/fenqi/fenqi/calc"
	"github.com/shopspring/decimal"
)

// scheduleSynopsis is the one-line usage of the schedule subcommand.
const scheduleSynopsis = "--method annuity|equal-principal|interest-only|fee|zero --amount N --terms N " +
	"[--annual-rate PCT] [--monthly-fee PCT] [--fee-upfront] [--frequency monthly|quarterly] [--start YYYY-MM-DD] [--json]"

// flagByField names the flag that sets each calc input field.
var flagByField = map[string]string{
	calc.FieldMethod:         "method",
	calc.FieldPrincipal:      "amount",
	calc.FieldTerms:          "terms",
	calc.FieldAnnualRate:     "annual-rate",
	calc.FieldMonthlyFeeRate: "monthly-fee",
	calc.FieldFeeUpfront:     "fee-upfront",
	calc.FieldFrequency:      "frequency",
	calc.FieldStart:          "start",
}

// flagError is bad input on one flag.
type flagError struct {
	flag   string
	value  string
	reason string
}

// Error returns "--flag: reason, got "value"".
func (e *flagError) Error() string {
	if e.value == "" {
		return fmt.Sprintf("--%s: %s", e.flag, e.reason)
	}
	return fmt.Sprintf("--%s: %s, got %q", e.flag, e.reason, e.value)
}

// runSchedule prints the schedule of a plan computed offline: an aligned
// table with totals and annualised rates, or with --json one
// calc.ScheduleJSON object. A plan above the default rate cap is refused.
func runSchedule(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("schedule")
	raw := map[string]*string{
		"method":      fs.String("method", "", "repayment method: annuity (等额本息), equal-principal (等额本金), interest-only (先息后本), fee (分期手续费) or zero (免息)"),
		"amount":      fs.String("amount", "", "principal, e.g. 10000 or 9999.99"),
		"terms":       fs.String("terms", "", "number of instalments, 1..360"),
		"annual-rate": fs.String("annual-rate", "0", "annual interest rate in percent, e.g. 24 for 24%/year (annuity, equal-principal, interest-only)"),
		"monthly-fee": fs.String("monthly-fee", "0", "fee rate in percent per month, e.g. 0.6 for 0.6%/month (fee method)"),
		"frequency":   fs.String("frequency", string(calc.Monthly), "instalment frequency: monthly or quarterly"),
		"start":       fs.String("start", "", "plan start date YYYY-MM-DD; instalment k is due start + k periods (default today)"),
	}
	feeUpfront := fs.Bool("fee-upfront", false, "charge the whole fee with the first instalment (fee method)")
	asJSON := fs.Bool("json", false, "print one JSON object instead of a table")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printFlags(stdout, fs, scheduleSynopsis)
			return exitOK
		}
		return usageFailure(stderr, fs, "%v", err)
	}
	if fs.NArg() > 0 {
		return usageFailure(stderr, fs, "unexpected argument %q; every input is a flag", fs.Arg(0))
	}
	terms, err := scheduleTerms(raw, *feeUpfront, calc.Today(time.Local))
	if err != nil {
		return usageFailure(stderr, fs, "%v", err)
	}
	s, err := calc.BuildSchedule(terms)
	if err != nil {
		return usageFailure(stderr, fs, "%v", flagErrorOf(err, raw))
	}
	costFlag := "annual-rate"
	if terms.Method == calc.MethodFee {
		costFlag = "monthly-fee"
	}
	rateCap := calc.DefaultRateCap()
	flagged, err := rateCap.Check(s.APRNominal)
	if err != nil {
		return usageFailure(stderr, fs, "--%s: %v", costFlag, err)
	}

	var out bytes.Buffer
	if *asJSON {
		enc := json.NewEncoder(&out)
		enc.SetEscapeHTML(false)
		err = enc.Encode(s.JSON())
	} else {
		err = writeScheduleTable(&out, terms, s, flagged, rateCap)
	}
	if err == nil {
		_, err = stdout.Write(out.Bytes())
	}
	if err != nil {
		fmt.Fprintf(stderr, "%s: write the schedule: %v\n", fs.Name(), err)
		return exitError
	}
	return exitOK
}

// scheduleTerms turns the raw flag values into calc.Terms, reporting the
// first unparsable or missing value as a *flagError. Range checks are left to
// calc.BuildSchedule.
func scheduleTerms(raw map[string]*string, feeUpfront bool, today calc.Date) (calc.Terms, error) {
	for _, name := range []string{"method", "amount", "terms"} {
		if strings.TrimSpace(*raw[name]) == "" {
			return calc.Terms{}, &flagError{flag: name, reason: "is required"}
		}
	}
	t := calc.Terms{Method: calc.Method(*raw["method"]), Frequency: calc.Frequency(*raw["frequency"]), FeeUpfront: feeUpfront, Start: today}
	var err error
	if t.Principal, err = decimal.NewFromString(*raw["amount"]); err != nil {
		return calc.Terms{}, &flagError{flag: "amount", value: *raw["amount"], reason: "must be a number"}
	}
	if t.Terms, err = strconv.Atoi(*raw["terms"]); err != nil {
		return calc.Terms{}, &flagError{flag: "terms", value: *raw["terms"], reason: fmt.Sprintf("must be a whole number between 1 and %d", calc.MaxTerms)}
	}
	if t.AnnualRate, err = percentFlag("annual-rate", *raw["annual-rate"]); err != nil {
		return calc.Terms{}, err
	}
	if t.MonthlyFeeRate, err = percentFlag("monthly-fee", *raw["monthly-fee"]); err != nil {
		return calc.Terms{}, err
	}
	if s := *raw["start"]; s != "" {
		if t.Start, err = calc.ParseDate(s); err != nil {
			return calc.Terms{}, &flagError{flag: "start", value: s, reason: "must be a date YYYY-MM-DD"}
		}
	}
	return t, nil
}

// percentFlag parses a percentage ("24" or "24%") into a fraction (0.24).
func percentFlag(name, value string) (decimal.Decimal, error) {
	d, err := decimal.NewFromString(strings.TrimSuffix(strings.TrimSpace(value), "%"))
	if err != nil {
		return decimal.Decimal{}, &flagError{flag: name, value: value, reason: "must be a percentage such as 24 or 0.6"}
	}
	return d.Shift(-2), nil
}

// flagErrorOf rewrites a calc input error in terms of the flag that set the
// field, quoting the flag's own text; other errors are returned as they are.
func flagErrorOf(err error, raw map[string]*string) error {
	var ie *calc.InputError
	if !errors.As(err, &ie) {
		return err
	}
	name, ok := flagByField[ie.Field]
	if !ok {
		return err
	}
	value := ie.Value
	if v, ok := raw[name]; ok {
		value = *v
	}
	return &flagError{flag: name, value: value, reason: ie.Reason}
}

// writeScheduleTable writes the human-readable schedule.
func writeScheduleTable(w io.Writer, t calc.Terms, s calc.Schedule, flagged bool, rateCap calc.RateCap) error {
	price := "no interest, no fee"
	switch {
	case t.Method == calc.MethodFee && t.FeeUpfront:
		price = fmt.Sprintf("fee %s%%/month, all with the first instalment", t.MonthlyFeeRate.Shift(2))
	case t.Method == calc.MethodFee:
		price = fmt.Sprintf("fee %s%%/month", t.MonthlyFeeRate.Shift(2))
	case t.Method != calc.MethodZero:
		price = fmt.Sprintf("%s%%/year", t.AnnualRate.Shift(2))
	}
	if _, err := fmt.Fprintf(w, "%s plan: %s over %d %s instalments, %s, start %s\n\n",
		t.Method, calc.FormatMoney(t.Principal), t.Terms, t.Frequency, price, t.Start); err != nil {
		return err
	}
	var table bytes.Buffer
	tw := tabwriter.NewWriter(&table, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "No\tDue date\tPrincipal\tInterest\tFee\tPayment\tBalance\t")
	for _, r := range s.Rows {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t\n", r.No, r.DueDate,
			calc.FormatMoney(r.Principal), calc.FormatMoney(r.Interest), calc.FormatMoney(r.Fee), calc.FormatMoney(r.Payment), calc.FormatMoney(r.Balance))
	}
	fmt.Fprintf(tw, "Total\t\t%s\t%s\t%s\t%s\t\t\n",
		calc.FormatMoney(s.TotalPrincipal), calc.FormatMoney(s.TotalInterest), calc.FormatMoney(s.TotalFee), calc.FormatMoney(s.TotalPayment))
	if err := tw.Flush(); err != nil {
		return err
	}
	for line := range strings.Lines(table.String()) {
		if _, err := fmt.Fprintln(w, strings.TrimRight(line, " \n")); err != nil {
			return err
		}
	}
	if _, err := fmt.Fprintf(w, "\nAnnualised rate (IRR): nominal %s%%, effective %s%%\n",
		s.APRNominal.StringFixed(calc.RatePlaces), s.APREffective.StringFixed(calc.RatePlaces)); err != nil {
		return err
	}
	if flagged {
		if _, err := fmt.Fprintf(w, "Flagged: above the %s%% threshold (cap %s%%)\n",
			rateCap.Flag.StringFixed(calc.RatePlaces), rateCap.Max.StringFixed(calc.RatePlaces)); err != nil {
			return err
		}
	}
	return nil
}
