package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/fenqi/fenqi/calc"
	"github.com/fenqi/fenqi/frontdoor"
	"github.com/fenqi/fenqi/plan"
)

// demoPlan is one plan of the demo: the scenario it plays, and where it is.
type demoPlan struct {
	scenario string
	customer string // file under --customers
	// act moves the scenario on, given the plan's latest status; stage
	// counts the steps it took, steps says what they were; problem is the
	// last failed status query (tried again on the next tick).
	act     func(ctx context.Context, d *frontdoor.Door, p *demoPlan) error
	id      string
	st      plan.Status
	stage   int
	steps   string
	problem string
}

// demoScenarios are the demo's plans. Each acts through the front door
// like a customer would: top up the funding account, pay by hand.
func demoScenarios() []*demoPlan {
	return []*demoPlan{
		{scenario: "happy path", customer: "strong.json", act: func(ctx context.Context, d *frontdoor.Door, p *demoPlan) error {
			if p.stage == 0 { // enough money for every auto-debit
				return p.fund(ctx, d, p.st.TotalAmount)
			}
			return nil
		}},
		{scenario: "failed debit, recovers", customer: "average.json", act: func(ctx context.Context, d *frontdoor.Door, p *demoPlan) error {
			first := p.st.Schedule[0]
			// The first debit failed on the empty account: top it up, and
			// a retry inside grace (D+1, D+3) or the next debit collects.
			// One instalment more covers the late charges should grace end
			// before the top-up (what is left stays on the account).
			if p.stage == 0 && p.st.FailedDebits > 0 {
				p.did("debit of " + first.DueDate.String() + " failed")
				return p.fund(ctx, d, p.st.TotalAmount.Add(first.Payment))
			}
			return nil
		}},
		{scenario: "partial payment", customer: "strong.json", act: func(ctx context.Context, d *frontdoor.Door, p *demoPlan) error {
			switch p.stage {
			case 0: // pay 40% of the first instalment by hand ...
				return p.pay(ctx, d, p.st.Schedule[0].Payment.Mul(decimal.NewFromFloat(0.4)).Round(2))
			case 1: // ... and auto-debit collects the rest
				return p.fund(ctx, d, p.st.TotalAmount.Sub(p.st.PaidAmount))
			}
			return nil
		}},
		{scenario: "early payoff", customer: "average.json", act: func(ctx context.Context, d *frontdoor.Door, p *demoPlan) error {
			switch {
			case p.stage == 0: // money for the first instalment only
				return p.fund(ctx, d, p.st.Schedule[0].Payment)
			case p.stage == 1 && p.st.PaidInstallments >= 1: // then pay off the rest by hand
				return p.pay(ctx, d, p.st.TotalAmount.Sub(p.st.PaidAmount))
			}
			return nil
		}},
	}
}

// fund tops up the plan's funding account and moves the scenario on.
func (p *demoPlan) fund(ctx context.Context, d *frontdoor.Door, amount decimal.Decimal) error {
	if _, err := d.Fund(ctx, p.id, amount, fmt.Sprintf("demo-%s-%d", p.id, p.stage)); err != nil {
		return fmt.Errorf("%s: fund %s: %w", p.scenario, groupMoney(amount), err)
	}
	p.stage++
	p.did("funded " + groupMoney(amount))
	return nil
}

// pay pays amount by hand and moves the scenario on.
func (p *demoPlan) pay(ctx context.Context, d *frontdoor.Door, amount decimal.Decimal) error {
	req := plan.PaymentRequest{RequestID: fmt.Sprintf("demo-%s-%d", p.id, p.stage), Amount: amount, Source: "manual"}
	reply, err := d.Pay(ctx, p.id, req)
	if err == nil && !reply.Accepted {
		err = &refusedError{reply: reply}
	}
	if err != nil {
		return fmt.Errorf("%s: pay %s: %w", p.scenario, groupMoney(amount), err)
	}
	p.stage++
	p.did("paid " + groupMoney(amount) + " by hand")
	return nil
}

// did adds what the script just did to the plan's steps.
func (p *demoPlan) did(step string) {
	if p.steps != "" {
		step = p.steps + ", " + step
	}
	p.steps = step
}

// demoAmount and demoTerms are what every demo plan borrows.
var (
	demoAmount = decimal.NewFromInt(3000)
	demoTerms  = 6
)

func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("demo")
	daySeconds := fs.Float64("day-seconds", 0.2, "real seconds a business day lasts")
	timeout := fs.Duration("timeout", 5*time.Minute, "give up (exit 1) when the plans are not all closed by then")
	dir := fs.String("customers", "examples/customers", "the folder of strong.json and average.json")
	if err := fs.Parse(args); err != nil {
		return parseFailure(stdout, stderr, fs, err)
	}
	if fs.NArg() > 0 {
		return usageFailure(stderr, fs, "unexpected argument %q", fs.Arg(0))
	}
	if err := validDaySeconds(*daySeconds, false); err != nil {
		return usageFailure(stderr, fs, "--day-seconds: %v", err)
	}
	if *timeout <= 0 {
		return usageFailure(stderr, fs, "--timeout: must be positive, got %v", *timeout)
	}
	plans := demoScenarios()
	customers := map[string]plan.Customer{}
	for _, p := range plans {
		c, err := loadCustomer(filepath.Join(*dir, p.customer))
		if err != nil {
			return usageFailure(stderr, fs, "--customers: %v", err)
		}
		customers[p.customer] = c
	}
	return withStoreDoor(ctx, "demo", stderr, func(d *frontdoor.Door) error {
		if err := demo(ctx, d, plans, customers, *daySeconds, *timeout, stdout); err != nil {
			return runFailure{err}
		}
		return nil
	})
}

// demo starts the plans and watches them.
func demo(ctx context.Context, d *frontdoor.Door, plans []*demoPlan, customers map[string]plan.Customer, daySeconds float64, timeout time.Duration, stdout io.Writer) error {
	run := uuid.NewString()[:8]
	fmt.Fprintf(stdout, "fenqi demo %s: %d plans of %s over %d months; a business day lasts %gs\n", run, len(plans), groupMoney(demoAmount), demoTerms, daySeconds)
	for i, p := range plans {
		// A customer of its own per plan and run: the funding account
		// is the customer's, and must start empty.
		cust := customers[p.customer]
		cust.Ref = fmt.Sprintf("%s-demo-%s-%d", cust.Ref, run, i+1)
		if err := startDemoPlan(ctx, d, p, cust, run, daySeconds); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "  %-24s plan %s (%s) active\n", p.scenario, p.id, p.customer)
	}
	fmt.Fprintln(stdout)
	return watchDemo(ctx, d, plans, daySeconds, timeout, stdout)
}

// runFailure hides err's kind from exitFor: whatever goes wrong once the
// demo runs is a run-time failure (exit 1), not bad input.
type runFailure struct{ err error }

func (e runFailure) Error() string { return e.err.Error() }

// startDemoPlan applies, chooses an annuity offer, signs and takes the
// scenario's first step.
func startDemoPlan(ctx context.Context, d *frontdoor.Door, p *demoPlan, cust plan.Customer, run string, daySeconds float64) error {
	app := plan.Application{
		RequestID: fmt.Sprintf("demo-%s-%s", run, strings.ReplaceAll(p.scenario, " ", "-")),
		Customer:  cust, Amount: demoAmount, Terms: demoTerms, Settings: compressedSettings(daySeconds),
	}
	res, err := d.Apply(ctx, app)
	if err != nil {
		return fmt.Errorf("%s: apply: %w", p.scenario, err)
	}
	p.id = res.PlanID
	if res.State != plan.StateOffered {
		return fmt.Errorf("%s: plan %s is %s, not offered: %s", p.scenario, p.id, res.State, res.Reason)
	}
	if p.st, err = d.Status(ctx, p.id); err != nil {
		return err
	}
	offer := p.st.Offers[0].No
	for _, o := range p.st.Offers {
		if o.Method == calc.MethodAnnuity && o.Terms == demoTerms {
			offer = o.No
			break
		}
	}
	reply, err := d.Choose(ctx, p.id, plan.ChooseRequest{RequestID: "demo-choose", OfferSet: p.st.OfferSet, Offer: offer})
	if err == nil && reply.Accepted {
		reply, err = d.Sign(ctx, p.id, plan.SignRequest{RequestID: "demo-sign", DocumentHash: reply.AgreementHash, Name: cust.Name, Consent: true})
	}
	if err == nil && !reply.Accepted {
		err = &refusedError{reply: reply}
	}
	if err != nil {
		return fmt.Errorf("%s: choose and sign plan %s: %w", p.scenario, p.id, err)
	}
	return refreshDemoPlan(ctx, d, p)
}

// refreshDemoPlan reads the plan's status and lets its scenario act on it.
func refreshDemoPlan(ctx context.Context, d *frontdoor.Door, p *demoPlan) error {
	st, err := d.Status(ctx, p.id)
	if err != nil {
		p.problem = "status: " + err.Error()
		return nil
	}
	p.st, p.problem = st, ""
	if st.State != plan.StateActive {
		return nil
	}
	return p.act(ctx, d, p)
}

// watchDemo moves the scenarios on and redraws their table every second
// until every plan has ended or timeout passes.
func watchDemo(ctx context.Context, d *frontdoor.Door, plans []*demoPlan, daySeconds float64, timeout time.Duration, stdout io.Writer) error {
	start := time.Now()
	// Look often enough not to miss a business day, and not too often.
	poll := min(max(time.Duration(daySeconds*float64(time.Second)/2), 100*time.Millisecond), time.Second)
	ticker := time.NewTicker(poll)
	defer ticker.Stop()
	screen := &demoScreen{w: stdout, tty: isTerminal(stdout)}
	var lastDraw time.Time
	for {
		ended, closed := 0, 0
		for _, p := range plans {
			if !p.st.State.Final() {
				if err := refreshDemoPlan(ctx, d, p); err != nil {
					screen.draw(plans, time.Since(start))
					return err
				}
			}
			if p.st.State.Final() {
				ended++
			}
			if p.st.State == plan.StateClosed {
				closed++
			}
		}
		elapsed := time.Since(start)
		if ended == len(plans) || elapsed >= timeout || time.Since(lastDraw) >= time.Second {
			screen.draw(plans, elapsed)
			lastDraw = time.Now()
		}
		switch {
		case closed == len(plans):
			fmt.Fprintf(stdout, "\nall %d plans closed in %s. See them in the Temporal Web UI:\n", len(plans), elapsed.Round(time.Second))
			printUILinks(stdout, plans)
			return nil
		case ended == len(plans):
			printUILinks(stdout, plans)
			return fmt.Errorf("%d of %d plans ended without being paid off", len(plans)-closed, len(plans))
		case elapsed >= timeout:
			fmt.Fprintf(stdout, "\ntimed out; the plans go on in Temporal:\n")
			printUILinks(stdout, plans)
			return fmt.Errorf("timed out after %s with %d of %d plans closed", timeout, closed, len(plans))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ticker.C:
		}
	}
}

// printUILinks lists where each plan is in the Temporal Web UI.
func printUILinks(w io.Writer, plans []*demoPlan) {
	port, ns := os.Getenv("FENQI_UI_PORT"), os.Getenv("TEMPORAL_NAMESPACE")
	if port == "" {
		port = "8233"
	}
	if ns == "" {
		ns = "default"
	}
	for _, p := range plans {
		fmt.Fprintf(w, "  %-24s http://localhost:%s/namespaces/%s/workflows/plan-%s\n", p.scenario, port, ns, p.id)
	}
}

// demoScreen draws the table: in place on a terminal, else appended when
// it changed.
type demoScreen struct {
	w     io.Writer
	tty   bool
	lines int
	last  string
}

func (s *demoScreen) draw(plans []*demoPlan, elapsed time.Duration) {
	var b bytes.Buffer
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "plan\tscenario\tstate\tprogress\tpaid / total\tnext due\tbucket\tbusiness date\tsteps")
	for _, p := range plans {
		steps := p.steps
		if p.problem != "" {
			steps = p.problem
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s / %s\t%s\t%s\t%s\t%s\n", p.id[:8], p.scenario, p.st.State,
			progressBar(p.st.PaidAmount, p.st.TotalAmount), groupMoney(p.st.PaidAmount), groupMoney(p.st.TotalAmount),
			nextDue(p.st), orDash(p.st.Bucket), orDash(p.st.BusinessDate.String()), orDash(steps))
	}
	tw.Flush()
	table := b.String()
	if !s.tty && table == s.last {
		return
	}
	if s.tty && s.lines > 0 {
		fmt.Fprintf(s.w, "\033[%dA\033[J", s.lines) // back to the table's first line, clear below
	}
	header := fmt.Sprintf("after %s:\n", elapsed.Round(time.Second))
	fmt.Fprint(s.w, header+table)
	s.last, s.lines = table, strings.Count(header+table, "\n")
}

func orDash(s string) string {
	if s == "" || s == "0000-00-00" {
		return "-"
	}
	return s
}

// isTerminal reports whether w is a terminal, where the table is redrawn
// in place.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
