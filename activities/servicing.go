package activities

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/fenqi/fenqi/calc"
	"github.com/fenqi/fenqi/clock"
	"github.com/fenqi/fenqi/contact"
	"github.com/fenqi/fenqi/plan"
	"github.com/fenqi/fenqi/store"
)

// CarryTolerance is the shortfall that is carried to the next instalment
// instead of making an instalment overdue (domain.md §7).
var CarryTolerance = decimal.NewFromInt(10)

// Calendar is the plan's business calendar: its clock (compressed for
// demos) and the customer's time zone.
type Calendar struct {
	Clock    clock.Clock
	TimeZone string
	// Offset is the zone's UTC offset in seconds at the plan's start, for
	// showing business dates in workflow code (which has no zone database).
	Offset int
}

func (c Calendar) loc() *time.Location {
	loc, err := time.LoadLocation(c.TimeZone)
	if err != nil || c.TimeZone == "" {
		return shanghai
	}
	return loc
}

// real is the wall-clock instant of a business instant.
func (c Calendar) real(business time.Time) time.Time { return c.Clock.Real(business) }

// InstalmentState is where one instalment stands after a payment.
type InstalmentState struct {
	No          int                   `json:"no"`
	Status      plan.InstalmentStatus `json:"status"`
	Outstanding decimal.Decimal       `json:"outstanding"`
}

// CollectInput is one auto-debit: on an instalment's due date (attempt 1)
// or a retry inside the grace period (attempts 2 and 3).
type CollectInput struct {
	PlanID  string
	Version int
	No      int
	Attempt int
	// Final is the last attempt inside grace: what stays unpaid beyond the
	// carry tolerance becomes overdue.
	Final    bool
	Calendar Calendar
	// At is the business instant of the debit; its local date is the day
	// everything due on or before is collected.
	At time.Time
	// Reminders are the pre-due reminder offsets (default D-3 08:00).
	Reminders plan.Reminders
}

// CollectResult is the debit's outcome and the schedule after it.
type CollectResult struct {
	// Outcome is "succeeded", "insufficient_funds" or "nothing_due".
	Outcome     string
	Amount      decimal.Decimal
	Instalments []InstalmentState
	// Overdue lists the instalments that became overdue.
	Overdue []int
	// Reminder is when the next reminder goes out (business time), if one
	// was queued.
	Reminder time.Time
	// Contacts is the plan's recent contact history (business time), for
	// the workflow's contact query.
	Contacts []contact.Attempt
}

// Collect debits everything due on or before today from the customer's
// funding account through the simulated gateway, with an idempotency key
// per (plan, version, instalment, attempt): a retried or repeated Collect
// charges once. Insufficient funds is an outcome, not an error. It then
// sends the due-date notice with the result and queues the next
// instalment's reminder under the contact rules.
func (a *Activities) Collect(ctx context.Context, in CollectInput) (CollectResult, error) {
	planID, p, _, cust, err := a.load(ctx, in.PlanID)
	if err != nil {
		return CollectResult{}, err
	}
	key := fmt.Sprintf("debit:%s:v%d:%d:%d", planID, in.Version, in.No, in.Attempt)
	res := CollectResult{Outcome: "nothing_due"}
	today := clock.LocalDate(in.At, in.Calendar.loc())

	if paid, err := a.Store.GetPayment(ctx, planID, key); err == nil {
		// A retry after the payment was recorded.
		res.Outcome, res.Amount = "succeeded", paid.Amount
	} else if !errors.Is(err, store.ErrNotFound) {
		return CollectResult{}, classify(fmt.Errorf("look up payment %s: %w", key, err))
	} else {
		// Late charges are brought up to today first, so the debit takes
		// them and the days overdue are charged on the principal they were
		// overdue on.
		_, rows, err := a.accrue(ctx, planID, in.Version, today, annualRate(p))
		if err != nil {
			return CollectResult{}, err
		}
		due := openRows(rows, today)
		amount := decimal.Zero
		for _, r := range due {
			amount = amount.Add(r.Owed.Total())
		}
		if amount.IsPositive() {
			res.Amount = amount
			res.Outcome, err = a.debit(ctx, p, in, key, amount, due)
			if err != nil {
				return CollectResult{}, err
			}
		}
	}

	states, overdue, err := a.settleGrace(ctx, planID, in, today)
	if err != nil {
		return CollectResult{}, err
	}
	res.Instalments, res.Overdue = states, overdue

	at := in.Calendar.real(in.At)
	var body string
	switch res.Outcome {
	case "succeeded":
		body = fmt.Sprintf("We collected %s for your instalment %d. Thank you.", calc.FormatMoney(res.Amount), in.No)
	case "insufficient_funds":
		body = fmt.Sprintf("We could not collect %s for your instalment %d: your account has too little money. We will try again; please top it up.", calc.FormatMoney(res.Amount), in.No)
		if in.Final && len(overdue) > 0 {
			body = fmt.Sprintf("Your instalment %d of %s is now overdue. Please pay it as soon as you can to avoid late charges.", in.No, calc.FormatMoney(res.Amount))
		}
	}
	if res.Outcome == "insufficient_funds" {
		// Asking for money is collection contact, which an open complaint
		// pauses; a receipt is not.
		paused, err := a.contactPaused(ctx, p, at)
		if err != nil {
			return CollectResult{}, err
		}
		if paused {
			body = ""
		}
	}
	if body != "" {
		if err := a.notifyPurpose(ctx, planID, cust, "notice", fmt.Sprintf("due:v%d:%d:%d", in.Version, in.No, in.Attempt), body, in.Calendar, at); err != nil {
			return CollectResult{}, err
		}
	}
	if res.Outcome == "insufficient_funds" {
		slog.WarnContext(ctx, "debit declined", "plan_id", planID, "instalment", in.No, "attempt", in.Attempt, "amount", res.Amount)
	}
	rem, err := a.queueReminders(ctx, p, cust, in.Version, in.At, in.Calendar, res.Outcome == "insufficient_funds", in.Reminders)
	if err != nil {
		return CollectResult{}, err
	}
	res.Reminder = rem
	if res.Contacts, err = a.recentContacts(ctx, p.ID, in.Calendar, in.At); err != nil {
		return CollectResult{}, err
	}
	return res, nil
}

// RecentDays is how far back the contact history given to the workflow
// reaches: the rolling caps look at 7 days.
const RecentDays = 8

// recentContacts is the plan's contact history with the customer from
// RecentDays before now (business time) on, queued contacts at their
// planned time; agent tasks, cancelled and deferred contacts left out.
func (a *Activities) recentContacts(ctx context.Context, planID uuid.UUID, cal Calendar, now time.Time) ([]contact.Attempt, error) {
	contacts, err := a.Store.Contacts(ctx, planID, cal.real(now.AddDate(0, 0, -RecentDays)), time.Time{})
	if err != nil {
		return nil, classify(fmt.Errorf("load contacts of plan %s: %w", planID, err))
	}
	out := []contact.Attempt{}
	for _, c := range contacts {
		if a, ok := attemptOf(c, cal); ok {
			out = append(out, a)
		}
	}
	return out, nil
}

// openRow is an unsettled instalment with what it still owes.
type openRow struct {
	store.Instalment
	Owed calc.Amounts
}

// openRows returns the unsettled instalments due on or before asOf (all of
// them when asOf is zero), oldest first.
func openRows(rows []store.Instalment, asOf calc.Date) []openRow {
	var out []openRow
	for _, r := range rows {
		switch r.Status {
		case "paid", "waived", "superseded":
			continue
		}
		if !asOf.IsZero() && calc.DateOf(r.DueDate).After(asOf) {
			continue
		}
		owed := calc.Amounts{
			Penalty:   r.PenaltyAccrued.Sub(r.PaidPenalty).Sub(r.WaivedPenalty),
			Fee:       r.Fee.Sub(r.PaidFee).Sub(r.WaivedFee),
			Interest:  r.Interest.Sub(r.PaidInterest).Sub(r.WaivedInterest),
			Principal: r.Principal.Sub(r.PaidPrincipal),
		}
		if owed.Total().IsPositive() {
			out = append(out, openRow{Instalment: r, Owed: owed})
		}
	}
	return out
}

// allocate splits amount over rows by the waterfall (oldest instalment
// first; penalty, fee, interest, principal).
func allocate(amount decimal.Decimal, version int, rows []openRow) ([]store.Allocation, decimal.Decimal, error) {
	open := make([]calc.OpenInstalment, len(rows))
	for i, r := range rows {
		open[i] = calc.OpenInstalment{No: r.No, DueDate: calc.DateOf(r.DueDate), Owed: r.Owed}
	}
	alloc, err := calc.DefaultWaterfall().Allocate(amount, open)
	if err != nil {
		return nil, decimal.Zero, fmt.Errorf("allocate %s: %w", amount, err)
	}
	var out []store.Allocation
	for _, ia := range alloc.Instalments {
		for _, c := range calc.Components {
			if v := ia.Allocated.Get(c); v.IsPositive() {
				out = append(out, store.Allocation{ScheduleVersion: version, InstalmentNo: ia.No, Component: string(c), Amount: v})
			}
		}
	}
	return out, alloc.Unallocated, nil
}

// debit charges amount through the gateway once for key and records the
// payment with its allocation.
func (a *Activities) debit(ctx context.Context, p store.Plan, in CollectInput, key string, amount decimal.Decimal, due []openRow) (string, error) {
	attempt := store.DebitAttempt{
		PlanID: p.ID, ScheduleVersion: in.Version, InstalmentNo: in.No, Attempt: in.Attempt,
		IdempotencyKey: key, AccountID: p.FundingAccountID, Amount: amount, Currency: p.Currency,
	}
	stored, err := a.Store.RecordDebitAttempt(ctx, attempt)
	if err != nil {
		return "", classify(fmt.Errorf("record debit attempt %s: %w", key, err))
	}
	if stored.Outcome == store.DebitInsufficientFunds {
		return "insufficient_funds", nil
	}
	entry, err := a.Store.Debit(ctx, p.FundingAccountID, amount, key)
	if errors.Is(err, store.ErrInsufficientFunds) {
		attempt.Outcome, attempt.Error = store.DebitInsufficientFunds, "insufficient funds"
		if _, err := a.Store.RecordDebitAttempt(ctx, attempt); err != nil {
			return "", classify(fmt.Errorf("record declined debit %s: %w", key, err))
		}
		if a.Observe != nil {
			a.Observe.Debit("insufficient_funds", amount)
		}
		return "insufficient_funds", nil
	}
	if err != nil {
		return "", classify(fmt.Errorf("debit %s: %w", key, err))
	}
	if a.AfterDebit != nil {
		if err := a.AfterDebit(ctx, key); err != nil {
			return "", fmt.Errorf("after debit %s: %w", key, err)
		}
	}
	attempt.Outcome, attempt.AccountEntryID = store.DebitSucceeded, entry.ID
	settled, err := a.Store.RecordDebitAttempt(ctx, attempt)
	if err != nil {
		return "", classify(fmt.Errorf("record debit %s: %w", key, err))
	}
	allocs, _, err := allocate(amount, in.Version, due)
	if err != nil {
		return "", typed("InvalidInput", fmt.Errorf("debit %s: %w", key, err))
	}
	if _, err := a.Store.RecordPayment(ctx, store.Payment{
		PlanID: p.ID, PaymentID: key, Source: store.SourceAutoDebit, DebitAttemptID: settled.ID,
		Amount: amount, Currency: p.Currency, ReceivedAt: in.Calendar.real(in.At), Allocations: allocs,
	}); err != nil {
		return "", classify(fmt.Errorf("record payment %s: %w", key, err))
	}
	if a.Observe != nil {
		a.Observe.Debit("succeeded", amount)
	}
	return "succeeded", nil
}

// settleGrace marks the instalments overdue that are still unpaid beyond
// the carry tolerance after the final attempt, and returns every
// instalment's state.
func (a *Activities) settleGrace(ctx context.Context, planID uuid.UUID, in CollectInput, today calc.Date) ([]InstalmentState, []int, error) {
	rows, err := a.Store.Schedule(ctx, planID, in.Version)
	if err != nil {
		return nil, nil, classify(fmt.Errorf("load schedule of plan %s: %w", planID, err))
	}
	var overdue []int
	if in.Final {
		last := 0
		for _, r := range rows {
			if r.Status != "superseded" {
				last = max(last, r.No)
			}
		}
		for _, r := range openRows(rows, today) {
			// A small shortfall is carried to the next instalment; on the
			// last one there is none to carry it to.
			carried := r.Owed.Total().LessThanOrEqual(CarryTolerance) && r.No < last
			if carried || r.Status == "overdue" {
				continue
			}
			if _, err := a.Store.SetInstalmentStatus(ctx, planID, in.Version, r.No, r.Status, "overdue"); err != nil {
				return nil, nil, classify(fmt.Errorf("mark instalment %d of plan %s overdue: %w", r.No, planID, err))
			}
			overdue = append(overdue, r.No)
		}
		if len(overdue) > 0 {
			if rows, err = a.Store.Schedule(ctx, planID, in.Version); err != nil {
				return nil, nil, classify(fmt.Errorf("load schedule of plan %s: %w", planID, err))
			}
		}
	}
	return states(rows), overdue, nil
}

func states(rows []store.Instalment) []InstalmentState {
	out := make([]InstalmentState, len(rows))
	owed := map[int]decimal.Decimal{}
	for _, r := range openRows(rows, calc.Date{}) {
		owed[r.No] = r.Owed.Total()
	}
	for i, r := range rows {
		out[i] = InstalmentState{No: r.No, Status: plan.InstalmentStatus(r.Status), Outstanding: owed[r.No]}
	}
	return out
}

// PaymentInput is a payment from outside auto-debit.
type PaymentInput struct {
	PlanID   string
	Version  int
	Payment  plan.PaymentRequest
	Calendar Calendar
	// At is the business instant the payment arrived.
	At time.Time
}

// PaymentResult is the schedule after a payment.
type PaymentResult struct {
	Allocated   decimal.Decimal
	Unallocated decimal.Decimal
	Instalments []InstalmentState
	Contacts    []contact.Attempt
}

// RecordExternalPayment applies a payment by the waterfall over every open
// instalment, oldest first, so an overpayment goes to the next instalments;
// what is left after the last instalment is recorded unallocated. The
// payment id makes a repeat a no-op.
func (a *Activities) RecordExternalPayment(ctx context.Context, in PaymentInput) (PaymentResult, error) {
	planID, p, _, cust, err := a.load(ctx, in.PlanID)
	if err != nil {
		return PaymentResult{}, err
	}
	source := in.Payment.Source
	if source == "" {
		source = store.SourceExternal
	}
	var recorded store.Payment
	if got, err := a.Store.GetPayment(ctx, planID, in.Payment.RequestID); err == nil {
		recorded = got
	} else if !errors.Is(err, store.ErrNotFound) {
		return PaymentResult{}, classify(fmt.Errorf("look up payment %s: %w", in.Payment.RequestID, err))
	} else {
		// Late charges are brought up to today before the payment reduces
		// the principal they accrue on.
		today := clock.LocalDate(in.At, in.Calendar.loc())
		_, rows, err := a.accrue(ctx, planID, in.Version, today, annualRate(p))
		if err != nil {
			return PaymentResult{}, err
		}
		allocs, _, err := allocate(in.Payment.Amount, in.Version, openRows(rows, calc.Date{}))
		if err != nil {
			return PaymentResult{}, typed("InvalidInput", fmt.Errorf("payment %s: %w", in.Payment.RequestID, err))
		}
		recorded, err = a.Store.RecordPayment(ctx, store.Payment{
			PlanID: planID, PaymentID: in.Payment.RequestID, Source: source, Amount: in.Payment.Amount,
			Currency: p.Currency, ReceivedAt: in.Calendar.real(in.At), Allocations: allocs,
		})
		if err != nil {
			return PaymentResult{}, classify(fmt.Errorf("record payment %s: %w", in.Payment.RequestID, err))
		}
		if a.Observe != nil {
			a.Observe.Payment(recorded.Amount)
		}
	}
	rows, err := a.Store.Schedule(ctx, planID, in.Version)
	if err != nil {
		return PaymentResult{}, classify(fmt.Errorf("load schedule of plan %s: %w", planID, err))
	}
	res := PaymentResult{Unallocated: recorded.Unallocated(), Instalments: states(rows)}
	res.Allocated = recorded.Amount.Sub(res.Unallocated)
	body := fmt.Sprintf("We received your payment of %s.", calc.FormatMoney(recorded.Amount))
	if res.Unallocated.IsPositive() {
		body += fmt.Sprintf(" %s is more than your plan owes and will be refunded.", calc.FormatMoney(res.Unallocated))
	}
	if err := a.notifyPurpose(ctx, planID, cust, "notice", "payment:"+in.Payment.RequestID, body, in.Calendar, in.Calendar.real(in.At)); err != nil {
		return PaymentResult{}, err
	}
	if res.Contacts, err = a.recentContacts(ctx, planID, in.Calendar, in.At); err != nil {
		return PaymentResult{}, err
	}
	return res, nil
}

// ClosePlanInput closes a plan whose every instalment is settled.
type ClosePlanInput struct {
	PlanID   string
	Calendar Calendar
	At       time.Time
	// Reason says how the plan ended: "" (paid off), "cancelled and
	// settled", "repaid early".
	Reason string
}

// ClosePlan moves a paid-off plan to closed, releases its principal on the
// customer's credit line and tells the customer.
func (a *Activities) ClosePlan(ctx context.Context, in ClosePlanInput) error {
	planID, p, _, cust, err := a.load(ctx, in.PlanID)
	if err != nil {
		return err
	}
	// Paid off while in collection: nothing of the ladder goes on.
	if err := a.endCollection(ctx, planID, "plan paid off"); err != nil {
		return err
	}
	if err := a.Store.ClosePlan(ctx, planID, in.Reason); err != nil {
		return classify(err)
	}
	principal := decimal.Zero
	if p.Terms != nil {
		principal = p.Terms.Principal
	}
	how := "paid off"
	if in.Reason != "" {
		how = in.Reason
	}
	return a.notify(ctx, planID, cust, "closed",
		fmt.Sprintf("Your plan of %s is %s and closed. Thank you! Your credit line is available again.", calc.FormatMoney(principal), how),
		in.Calendar, in.Calendar.real(in.At))
}
