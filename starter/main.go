// Command starter is the fenqi command-line client. Each subcommand is one
// entry of the commands table:
//
//	starter schedule --method annuity --amount 10000 --terms 12 --annual-rate 24
//	starter help
//
// Exit status: 0 on success, 1 when a command fails at run time, 2 on bad
// input (one line on stderr naming the flag and the reason, nothing on
// stdout).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Exit statuses shared by every subcommand.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

// command is one subcommand: its name, a one-line summary for the help and
// the function that runs it with the arguments after its name.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) int
}

// commands is the dispatch table, in help order. To add a subcommand, add a
// line here and its run function in a file of its own.
var commands = []command{
	{name: "schedule", summary: "print the repayment schedule of a plan (offline)", run: runSchedule},
	{name: "apply", summary: "apply for a plan: --customer FILE --amount X [--terms N] [--day-seconds S]", run: runApply},
	{name: "offers", summary: "list a plan's current offers", run: runOffers},
	{name: "choose", summary: "choose an offer: PLAN --offer N", run: runChoose},
	{name: "counter", summary: "ask for other offers: PLAN [--amount X] [--terms N] [--max-instalment X]", run: runCounter},
	{name: "agreement", summary: "print the agreement to read before signing: PLAN", run: runAgreement},
	{name: "sign", summary: "sign the agreement: PLAN --name NAME | --paper-ref REF", run: runSign},
	{name: "withdraw", summary: "withdraw an application before activation", run: runWithdraw},
	{name: "decide", summary: "operator: decide a manual review: PLAN --approve|--decline --reason TEXT", run: runDecide},
	{name: "status", summary: "show a plan's status and progress: PLAN [--json]", run: runStatus},
	{name: "fund", summary: "demo/test tool: top up the funding account a plan debits: PLAN --amount X", run: runFund},
	{name: "pay", summary: "pay by hand or from a gateway: PLAN --amount X [--payment-id ID] [--source external|manual]", run: runPay},
	{name: "contacts", summary: "list a plan's contacts with the customer: PLAN [--json]", run: runContacts},
	{name: "cancel", summary: "cancel the instalments: PLAN --mode lump-sum|fewer-terms [--terms N] [--at-next-due] (--quote | --confirm QUOTE_ID)", run: runCancel},
	{name: "restructure", summary: "restructure a plan: PLAN [--terms N | --max-instalment X] [--frequency F] [--reason TEXT] (--quote | --confirm QUOTE_ID)", run: runRestructure},
	{name: "holiday", summary: "pause instalments: PLAN --periods K [--reason TEXT] (--quote | --confirm QUOTE_ID)", run: runHoliday},
	{name: "prepay", summary: "repay early, in full or in part: PLAN [--amount X] [--reduce instalment|term] (--quote | --confirm QUOTE_ID)", run: runPrepay},
	{name: "waive", summary: "operator: waive penalty, fee or interest: PLAN --component C --amount X --reason TEXT --operator NAME (--quote | --confirm QUOTE_ID)", run: runWaive},
	{name: "approve", summary: "operator: decide a change waiting for approval: PLAN --quote-id Q (--approve | --refuse --reason TEXT) --operator NAME", run: runApprove},
	{name: "complain", summary: "file a complaint (pauses collection contact): PLAN --text TEXT", run: runComplain},
	{name: "resolve", summary: "operator: resolve a complaint: PLAN --complaint REQUEST_ID --resolution TEXT --operator NAME", run: runResolve},
	{name: "collection", summary: "show where collection of a plan stands: stage, next action, what is owed, actions: PLAN [--json]", run: runCollection},
	{name: "promise", summary: "record the debtor's promise to pay (pauses collection contact): PLAN --date YYYY-MM-DD --amount X", run: runPromise},
	{name: "refer", summary: "operator: decide a legal referral: PLAN --decision refer|hold|negotiate --operator NAME --reason TEXT", run: runRefer},
	{name: "writeoff", summary: "operator: decide a write-off: PLAN --decision approve|decline --operator NAME --reason TEXT", run: runWriteOff},
	{name: "grace", summary: "operator: grant a hardship grace (no contact, no late charge): PLAN --until YYYY-MM-DD --operator NAME --reason TEXT", run: runGrace},
	{name: "arrears-plan", summary: "split the arrears over the next instalments: PLAN --instalments K (--quote | --confirm QUOTE_ID)", run: runArrearsPlan},
	{name: "bench", summary: benchSummary, run: runBench},
	{name: "demo", summary: "run 4 plans on a compressed calendar and watch them live: [--day-seconds S] [--timeout D]", run: runDemo},
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := dispatch(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// dispatch runs the subcommand named by args[0] and returns the exit status.
func dispatch(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		printHelp(stderr)
		return exitUsage
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		printHelp(stdout)
		return exitOK
	}
	for _, c := range commands {
		if c.name == args[0] {
			return c.run(ctx, args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "starter: unknown command %q; run \"starter help\" for the list\n", args[0])
	return exitUsage
}

// printHelp lists the subcommands.
func printHelp(w io.Writer) {
	fmt.Fprintln(w, "usage: starter <command> [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "commands:")
	width := 0
	for _, c := range commands {
		width = max(width, len(c.name)+1)
	}
	for _, c := range commands {
		fmt.Fprintf(w, "  %-*s %s\n", width, c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, `run "starter <command> -h" for the flags of a command`)
}

// newFlagSet returns a flag set for subcommand name that reports errors to
// its caller instead of printing them, so that a subcommand prints exactly
// one line of its own on bad input.
func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("starter "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// printFlags writes the usage of fs to w.
func printFlags(w io.Writer, fs *flag.FlagSet, synopsis string) {
	fmt.Fprintf(w, "usage: %s %s\n\nflags:\n", fs.Name(), synopsis)
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
}

// synopses holds each command's summary for its -h, by flag set name
// (filled in init: the commands' run functions refer to it).
var synopses = map[string]string{}

func init() {
	for _, c := range commands {
		synopses["starter "+c.name] = c.summary
	}
}

// parseFailure answers a flag parsing error: -h prints the command's
// flags on stdout (exit 0), anything else is a usage failure.
func parseFailure(stdout, stderr io.Writer, fs *flag.FlagSet, err error) int {
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprintf(stdout, "%s: %s\n\nflags:\n", fs.Name(), synopses[fs.Name()])
		fs.SetOutput(stdout)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
		return exitOK
	}
	return usageFailure(stderr, fs, "%v", err)
}

// usageFailure prints one "starter <name>: <message>" line on stderr and
// returns exitUsage.
func usageFailure(stderr io.Writer, fs *flag.FlagSet, format string, args ...any) int {
	fmt.Fprintf(stderr, "%s: %s\n", fs.Name(), fmt.Sprintf(format, args...))
	return exitUsage
}
