package workflows

import (
	"fmt"
	"time"

	"github.com/shopspring/decimal"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/fenqi/fenqi/activities"
	"github.com/fenqi/fenqi/calc"
	"github.com/fenqi/fenqi/contact"
	"github.com/fenqi/fenqi/plan"
	"github.com/fenqi/fenqi/searchattrs"
)

// Instalment is one row of the current schedule and where it stands.
type Instalment struct {
	Row    calc.Row              `json:"row"`
	Status plan.InstalmentStatus `json:"status"`
	// Outstanding is what the instalment still owes (all components).
	Outstanding decimal.Decimal `json:"outstanding"`
	// Attempts are the business instants of its debit attempts: the due
	// date, then the retries inside grace; Tried counts those made.
	Attempts []time.Time `json:"attempts"`
	Tried    int         `json:"tried"`
}

func newInstalments(s activities.ScheduleResult) []Instalment {
	out := make([]Instalment, len(s.Schedule.Rows))
	for i, r := range s.Schedule.Rows {
		out[i] = Instalment{Row: r, Status: plan.InstalmentPending, Outstanding: r.Payment}
		if i < len(s.Events) {
			out[i].Attempts = s.Events[i].Attempts
		}
	}
	return out
}

// settled reports whether nothing more is owed on the instalment.
func (i Instalment) settled() bool {
	return i.Status == plan.InstalmentPaid || i.Status == plan.InstalmentWaived || !i.Outstanding.IsPositive()
}

// historyBound is the history length after which a plan continues as new
// at the next instalment boundary, so no run's history grows with the term.
const historyBound = 1000

// service runs an active plan until it is paid off: a timer to each debit
// (the due date, then the retries inside grace), payments from outside at
// any time, and Continue-As-New at an instalment boundary once the run's
// history is long.
func (w *planWorkflow) service(ctx workflow.Context) error {
	ladder := w.ladderOn(ctx)
	for w.State == plan.StateActive {
		if w.paidOff() {
			return w.close(ctx)
		}
		if err := w.upsertProgress(ctx); err != nil {
			return err
		}
		if w.shouldContinueAsNew(ctx) {
			return w.continueAsNew(ctx)
		}
		k, attempt := w.nextDebit()
		// The ladder's next step comes first when it is due before the
		// next debit.
		ladderNext := ladder && !w.Collecting.At.IsZero() &&
			(k < 0 || w.Collecting.At.Before(w.Instalments[k].Attempts[attempt]))
		var deadline workflow.Future
		timerCtx, cancel := workflow.WithCancel(ctx)
		switch {
		case ladderNext:
			at := w.Calendar.Clock.Real(w.Collecting.At)
			deadline = workflow.NewTimer(timerCtx, max(at.Sub(workflow.Now(ctx)), 0))
		case k >= 0:
			at := w.Calendar.Clock.Real(w.Instalments[k].Attempts[attempt])
			deadline = workflow.NewTimer(timerCtx, at.Sub(workflow.Now(ctx)))
		default:
			// Nothing left to debit (the rest is overdue): wait for payments.
			deadline = workflow.NewTimer(timerCtx, w.realDuration(30*24*time.Hour))
		}
		m, ok, err := w.next(ctx, deadline)
		cancel()
		if err != nil {
			return err
		}
		revision, stepped := w.Revision, false
		switch {
		case ok:
			if err := w.serviceMessage(ctx, m); err != nil {
				return err
			}
		case ladderNext:
			if err := w.collectionStep(ctx); err != nil {
				return err
			}
			stepped = true
		case k >= 0:
			if err := w.collect(ctx, k, attempt); err != nil {
				return err
			}
		}
		// An instalment that became overdue starts the ladder; money that
		// arrived while it runs makes it look again (back to M0 once the
		// arrears are cleared).
		justStepped := ladderNext
		if w.ladderMessagesOn() {
			justStepped = stepped
		}
		if ladder && !justStepped && w.State == plan.StateActive && w.Revision != revision && (w.collecting() || w.anyOverdue()) {
			w.wakeCollection(ctx)
		}
	}
	return nil
}

// anyOverdue reports whether an instalment is overdue.
func (w *planWorkflow) anyOverdue() bool {
	for _, in := range w.Instalments {
		if in.Status == plan.InstalmentOverdue && !in.settled() {
			return true
		}
	}
	return false
}

// nextDebit is the next debit to make: the first unsettled instalment with
// an attempt left (attempts are due date, D+1, D+3); -1 when none.
func (w *planWorkflow) nextDebit() (int, int) {
	for k, in := range w.Instalments {
		if in.settled() || in.Tried >= len(in.Attempts) {
			continue
		}
		return k, in.Tried
	}
	return -1, 0
}

func (w *planWorkflow) paidOff() bool {
	for _, in := range w.Instalments {
		if !in.settled() {
			return false
		}
	}
	return len(w.Instalments) > 0
}

// collect runs one debit attempt of instalment k.
func (w *planWorkflow) collect(ctx workflow.Context, k, attempt int) error {
	in := &w.Instalments[k]
	req := activities.CollectInput{
		PlanID: w.PlanID, Version: w.ScheduleVersion, No: in.Row.No, Attempt: attempt + 1,
		Final: attempt+1 == len(in.Attempts), Calendar: w.Calendar, At: in.Attempts[attempt],
		Reminders: w.App.Settings.ReminderOffsets(),
	}
	var res activities.CollectResult
	if err := workflow.ExecuteActivity(withStore(ctx), act.Collect, req).Get(ctx, &res); err != nil {
		return fmt.Errorf("collect instalment %d of %s: %w", in.Row.No, w.PlanID, err)
	}
	in.Tried = attempt + 1
	if res.Outcome == "insufficient_funds" {
		w.FailedDebits++
	}
	if res.Outcome == "succeeded" || res.Outcome == "nothing_due" {
		in.Tried = len(in.Attempts)
	}
	if w.applyStates(res.Instalments) {
		w.bump(fmt.Sprintf("the debit of instalment %d on %s", in.Row.No, calc.DateOf(in.Attempts[attempt])))
	}
	w.Contacts = res.Contacts
	w.UpdatedAt = workflow.Now(ctx)
	return nil
}

// contactStatus answers the contact query: when the customer may next be
// contacted on their preferred channel under the contact rules, and why
// not earlier. The zone is the plan's UTC offset (workflow code has no
// zone database).
func (w *planWorkflow) contactStatus(ctx workflow.Context) plan.ContactStatus {
	now := w.businessNow(ctx)
	st := plan.ContactStatus{PlanID: w.PlanID, Now: now, Channel: w.App.Customer.PreferredChannel, RecentContacts: []plan.ContactEvent{}}
	for _, c := range w.Contacts {
		st.RecentContacts = append(st.RecentContacts, plan.ContactEvent{At: c.At, Channel: string(c.Channel), Outcome: string(c.Outcome)})
	}
	loc := time.FixedZone("plan", w.Calendar.Offset)
	if w.Calendar.Offset == 0 {
		loc = time.FixedZone("CST", 8*3600)
	}
	st.NextAllowed, st.Reason = contact.DefaultRules().NextAllowed(now, contact.Channel(st.Channel), w.Contacts, loc)
	return st
}

// applyStates takes the instalments' states from the database's answer
// and reports whether any changed.
func (w *planWorkflow) applyStates(states []activities.InstalmentState) bool {
	byNo := make(map[int]activities.InstalmentState, len(states))
	for _, s := range states {
		byNo[s.No] = s
	}
	changed := false
	for i := range w.Instalments {
		in := &w.Instalments[i]
		if s, ok := byNo[in.Row.No]; ok && s.Status != plan.InstalmentStatus("superseded") {
			changed = changed || s.Status != in.Status || !s.Outstanding.Equal(in.Outstanding)
			in.Status, in.Outstanding = s.Status, s.Outstanding
		}
	}
	return changed
}

// serviceMessage answers a message that arrives while the plan is active.
func (w *planWorkflow) serviceMessage(ctx workflow.Context, m Message) error {
	if ok, err := w.requestMessage(ctx, m); ok || err != nil {
		return err
	}
	if m.Kind != plan.MsgPay {
		w.reply(m, false, fmt.Sprintf("the plan is %s; %s is not possible now", w.State, m.Kind))
		return nil
	}
	req := activities.PaymentInput{PlanID: w.PlanID, Version: w.ScheduleVersion, Payment: *m.Pay, Calendar: w.Calendar, At: w.businessNow(ctx)}
	var res activities.PaymentResult
	if err := workflow.ExecuteActivity(withStore(ctx), act.RecordExternalPayment, req).Get(ctx, &res); err != nil {
		return fmt.Errorf("record payment %s of %s: %w", m.Pay.RequestID, w.PlanID, err)
	}
	if w.applyStates(res.Instalments) {
		w.bump(fmt.Sprintf("a payment of %s", calc.FormatMoney(m.Pay.Amount)))
	}
	w.Contacts = res.Contacts
	w.UpdatedAt = workflow.Now(ctx)
	reason := ""
	if res.Unallocated.IsPositive() {
		reason = fmt.Sprintf("%s is more than the plan owes and will be refunded", calc.FormatMoney(res.Unallocated))
	}
	w.reply(m, true, reason)
	return nil
}

// close ends a paid-off plan: closed, credit line released, customer told.
func (w *planWorkflow) close(ctx workflow.Context) error {
	in := activities.ClosePlanInput{PlanID: w.PlanID, Calendar: w.Calendar, At: w.businessNow(ctx), Reason: w.CloseReason}
	if err := workflow.ExecuteActivity(withStore(ctx), act.ClosePlan, in).Get(ctx, nil); err != nil {
		return fmt.Errorf("close %s: %w", w.PlanID, err)
	}
	if w.CloseReason == "" {
		w.CloseReason = "paid off"
	}
	return w.setState(ctx, plan.StateClosed)
}

// upsertProgress keeps NextDueDate, DaysPastDue and Bucket current in the
// search attributes, upserting only what changed (each upsert is billable):
// NextDueDate at an instalment boundary, the other two when the bucket
// changes.
func (w *planWorkflow) upsertProgress(ctx workflow.Context) error {
	now := w.businessNow(ctx)
	next, dpd := w.progress(now)
	var updates []temporal.SearchAttributeUpdate
	if v := w.searchState(w.State); v != w.savedState {
		// Deferred by setState (versionLeanRuns on).
		w.savedState = v
		updates = append(updates, searchattrs.PlanState.ValueSet(string(v)))
	}
	if !next.Equal(w.NextDue) {
		w.NextDue = next
		updates = append(updates, searchattrs.NextDueDate.ValueSet(next))
	}
	w.DaysPastDue = dpd
	if b := calc.Bucket(dpd); b != w.Bucket {
		w.Bucket = b
		updates = append(updates, searchattrs.Bucket.ValueSet(b), searchattrs.DaysPastDue.ValueSet(int64(dpd)))
	}
	if len(updates) == 0 {
		return nil
	}
	return workflow.UpsertTypedSearchAttributes(ctx, updates...)
}

// progress is the next due instant and the days past due of the oldest
// overdue instalment at now.
func (w *planWorkflow) progress(now time.Time) (time.Time, int) {
	var next time.Time
	dpd := 0
	for _, in := range w.Instalments {
		if in.settled() || len(in.Attempts) == 0 {
			continue
		}
		due := in.Attempts[0]
		if next.IsZero() && !due.Before(now.Add(-24*time.Hour)) {
			next = due
		}
		if in.Status == plan.InstalmentOverdue && dpd == 0 {
			dpd = int(now.Sub(due).Hours() / 24)
		}
	}
	return next, dpd
}

// shouldContinueAsNew is true at an instalment boundary once the run's
// history passed historyBound or the server suggests it.
func (w *planWorkflow) shouldContinueAsNew(ctx workflow.Context) bool {
	info := workflow.GetInfo(ctx)
	return info.GetCurrentHistoryLength() > historyBound || info.GetContinueAsNewSuggested()
}

// continueAsNew answers every queued message, lets the message handlers
// finish, and continues the plan in a new run with its state.
func (w *planWorkflow) continueAsNew(ctx workflow.Context) error {
	for {
		for len(w.Inbox) > 0 {
			if err := w.serviceMessage(ctx, w.pop()); err != nil {
				return err
			}
		}
		if err := workflow.Await(ctx, func() bool { return len(w.Inbox) > 0 || workflow.AllHandlersFinished(ctx) }); err != nil {
			return err
		}
		if len(w.Inbox) == 0 {
			break
		}
	}
	carry := w.Plan
	return workflow.NewContinueAsNewError(ctx, plan.WorkflowName, Input{Input: plan.Input{PlanID: w.PlanID}, Carry: &carry})
}
