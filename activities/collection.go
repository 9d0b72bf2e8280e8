package activities

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/fenqi/fenqi/calc"
	"github.com/fenqi/fenqi/clock"
	"github.com/fenqi/fenqi/collection"
	"github.com/fenqi/fenqi/contact"
	"github.com/fenqi/fenqi/plan"
	"github.com/fenqi/fenqi/store"
)

// collectionRules are the collection rules every plan runs on: the
// embedded defaults (collection/default_rules.json). They are not yet
// configurable per worker.
var collectionRules = collection.DefaultRules()

// CollectionInput asks the collection ladder what to do for a plan now.
type CollectionInput struct {
	PlanID   string
	Version  int // the current schedule version
	Calendar Calendar
	At       time.Time        // business now
	State    collection.State // the plan's ladder state, kept by the workflow
}

// CollectionResult is what was done and when to ask again.
type CollectionResult struct {
	// State is the ladder state after Record of the round carried out, or
	// the input state unchanged after a wait.
	State collection.State
	// Action is the round carried out, or the wait.
	Action collection.Action
	// Next is what the ladder does next: the wait after the round carried
	// out, or the wait itself.
	Next collection.Action
	// NextAt is the business instant to call again; zero: only after an
	// event (a payment, an operator's decision, a complaint resolved).
	NextAt time.Time
	// Owed is what the plan owes today, penalty accrued through today and
	// stored.
	Owed collection.Breakdown
	// Instalments are the instalments after the penalty accrual.
	Instalments []InstalmentState
	// Contacts is the plan's recent contact history (business time), as
	// Collect returns it.
	Contacts []contact.Attempt
}

// CollectionStep runs one step of the collection ladder for a plan at the
// business instant in.At. Run it as a regular activity: it is idempotent.
//
//  1. What is owed: the open instalments (pending, due, partially paid,
//     overdue) of schedule in.Version, with penalty interest accrued
//     through today (the local date of in.At) by collection.Rules.Owed on
//     the agreement's annual rate (store.PlanTerms.AnnualRate). The
//     agreement states that rate as the penalty base (agreement.Input's
//     PenaltyBaseRate is never set, so it is the offer's rate): a
//     zero-interest or fee-only product has a zero rate and accrues no
//     penalty interest, as its agreement says. The new penalty totals are
//     stored (store.AccruePenalty, which only moves forward), so a later
//     payment's waterfall takes the penalty first.
//  2. What to do: collection.Rules.Next on in.State with the plan's whole
//     contact history, the customer's preferred channel and addresses, and
//     the pause of an open complaint (store.ContactPausedUntil; an open
//     complaint without an end pauses contact until it is resolved: a
//     wait with no instant).
//  3. A round is carried out: each step under the key
//     <plan>:collection:<oldest due date>:<stage>:<round>[:neg]:<i> (i from
//     1), an operator step (legal referral, write-off) as a task of that
//     kind, every other step as a contact of purpose "collection" queued
//     in the outbox for its time (a phone contact becomes an agent's call
//     task when the outbox sends it), and each recorded in
//     collection_actions with what is owed by component and the pay-by
//     date. Then the state is Recorded and the next wait is asked of Next
//     with the steps in the history; its instant is NextAt. A wait returns
//     its own instant.
//
// Retried after a crash it queues nothing twice: a step already stored
// under its key is kept as it is, and the round is planned without its own
// contacts in the history, so it comes out the same and so does the state.
func (a *Activities) CollectionStep(ctx context.Context, in CollectionInput) (CollectionResult, error) {
	planID, p, _, cust, err := a.load(ctx, in.PlanID)
	if err != nil {
		return CollectionResult{}, err
	}
	if in.At.IsZero() {
		return CollectionResult{}, typed("InvalidInput", fmt.Errorf("collection step of plan %s: no time", planID))
	}
	loc := in.Calendar.loc()
	today := clock.LocalDate(in.At, loc)
	owed, rows, err := a.accrue(ctx, planID, in.Version, today, annualRate(p))
	if err != nil {
		return CollectionResult{}, err
	}

	contacts, err := a.Store.Contacts(ctx, planID, time.Time{}, time.Time{})
	if err != nil {
		return CollectionResult{}, classify(fmt.Errorf("load contacts of plan %s: %w", planID, err))
	}
	inputs := collection.Inputs{
		Owed:      owed,
		History:   collectionHistory(contacts, in.Calendar, ""),
		Preferred: contact.Channel(cust.PreferredChannel),
		Addresses: contact.Addresses{HasPhone: cust.Phone != "", HasEmail: cust.Email != "", HasPush: cust.PushID != ""},
		Location:  loc,
	}
	if inputs.Preferred == "" {
		inputs.Preferred = contact.Channel(plan.ChannelSMS)
	}
	until, err := a.Store.ContactPausedUntil(ctx, planID, in.Calendar.real(in.At))
	if err != nil {
		return CollectionResult{}, classify(fmt.Errorf("contact pause of plan %s: %w", planID, err))
	}
	if !until.IsZero() {
		inputs.ComplaintPausedUntil = in.Calendar.Clock.Business(until)
	}
	indefinite, err := a.pausedIndefinitely(ctx, planID)
	if err != nil {
		return CollectionResult{}, err
	}

	state, err := a.settlePromise(ctx, planID, in, inputs)
	if err != nil {
		return CollectionResult{}, err
	}
	act, err := collectionRules.Next(state, in.At, inputs)
	if err != nil {
		return CollectionResult{}, typed("InvalidInput", fmt.Errorf("collection step of plan %s: %w", planID, err))
	}
	if act.IsRound() && indefinite {
		act = collection.Action{Wait: collection.WaitPaused, Stage: act.Stage, Bucket: act.Bucket, DaysPastDue: act.DaysPastDue,
			Reason: "collection contact is paused by an open complaint until it is resolved"}
	}
	if act.IsRound() && owed.OldestDue.IsZero() {
		return CollectionResult{}, typed("InvalidInput", fmt.Errorf("collection step of plan %s: %w", planID, errNoOldest))
	}
	if act.IsRound() {
		// Plan the round without its own contacts, which a run that crashed
		// part way may have queued: a retry plans the same steps.
		prefix := roundPrefix(planID, owed.OldestDue, act)
		if own := collectionHistory(contacts, in.Calendar, prefix); len(own) != len(inputs.History) {
			inputs.History = own
			if act, err = collectionRules.Next(state, in.At, inputs); err != nil {
				return CollectionResult{}, typed("InvalidInput", fmt.Errorf("collection step of plan %s: %w", planID, err))
			}
		}
	}
	res := CollectionResult{State: state, Action: act, Next: act, NextAt: act.At, Owed: owed, Instalments: states(rows)}
	if act.IsRound() {
		if res.Action, err = a.carryOut(ctx, planID, in, act, owed, contacts); err != nil {
			return CollectionResult{}, err
		}
		if res.State, err = collectionRules.Record(state, res.Action); err != nil {
			return CollectionResult{}, typed("InvalidInput", fmt.Errorf("collection step of plan %s: %w", planID, err))
		}
		// A referral or write-off the round dropped (the plan fell back a
		// stage after a partial payment) no longer waits for an operator.
		if state.Referral != nil && res.State.Referral == nil {
			if err := a.closeTasks(ctx, planID, store.TaskLegalReferral, "dropped: fewer days past due"); err != nil {
				return CollectionResult{}, err
			}
		}
		if state.WriteOff != nil && res.State.WriteOff == nil {
			if err := a.closeTasks(ctx, planID, store.TaskWriteOff, "dropped: fewer days past due"); err != nil {
				return CollectionResult{}, err
			}
		}
		inputs.History = append(inputs.History, stepAttempts(res.Action.Steps)...)
		next, err := collectionRules.Next(res.State, in.At, inputs)
		if err != nil {
			return CollectionResult{}, typed("InvalidInput", fmt.Errorf("collection step of plan %s: %w", planID, err))
		}
		res.Next, res.NextAt = next, next.At
		slog.InfoContext(ctx, "collection round carried out", "plan_id", planID, "stage", res.Action.Stage,
			"round", res.Action.Round, "negotiation", res.Action.Negotiation, "steps", len(res.Action.Steps),
			"skipped", res.Action.Skipped, "days_past_due", res.Action.DaysPastDue, "owed", owed.Due.Total(),
			"next_at", res.NextAt)
	} else {
		if act.Wait == collection.WaitCurrent && state.Stage != "" {
			// The arrears are cleared: back to M0, the ladder stopped, and
			// collection messages still queued are not sent.
			res.State = collectionRules.Paid(state)
			if err := a.endCollection(ctx, planID, "arrears cleared"); err != nil {
				return CollectionResult{}, err
			}
		}
		slog.InfoContext(ctx, "collection waits", "plan_id", planID, "stage", act.Stage, "round", 0, "steps", 0,
			"wait", act.Wait, "until", act.At, "days_past_due", act.DaysPastDue, "owed", owed.Due.Total())
	}
	if res.Contacts, err = a.recentContacts(ctx, planID, in.Calendar, in.At); err != nil {
		return CollectionResult{}, err
	}
	return res, nil
}

// accrue computes what the open instalments of schedule version owe on
// today at the contract annual rate, stores the penalty accrued since it
// was last stored, and returns the breakdown as of the stored figures with
// the schedule's rows. A repeat on the same day stores nothing and returns
// the same breakdown.
func (a *Activities) accrue(ctx context.Context, planID uuid.UUID, version int, today calc.Date, rate decimal.Decimal) (collection.Breakdown, []store.Instalment, error) {
	owed, rows, err := owedOn(ctx, a.Store, planID, version, today, rate)
	if err != nil {
		return collection.Breakdown{}, nil, err
	}
	var totals []store.PenaltyTotal
	for _, p := range owed.Penalties {
		if p.New.IsPositive() {
			totals = append(totals, store.PenaltyTotal{No: p.No, Total: p.Total})
		}
	}
	if len(totals) == 0 {
		return owed, rows, nil
	}
	if _, err := a.Store.AccruePenalty(ctx, planID, version, today.At(time.UTC, 0, 0, 0), totals); err != nil {
		return collection.Breakdown{}, nil, classify(err)
	}
	// Read back what is stored: the breakdown then counts the penalty as
	// accrued through today, as a retry will.
	return owedOn(ctx, a.Store, planID, version, today, rate)
}

// owedOn computes what the open instalments of schedule version (0: the
// current one) owe on day at the contract annual rate, from what is
// stored; it writes nothing. It returns the schedule's rows too.
func owedOn(ctx context.Context, st *store.Store, planID uuid.UUID, version int, day calc.Date, rate decimal.Decimal) (collection.Breakdown, []store.Instalment, error) {
	rows, err := st.Schedule(ctx, planID, version)
	if err != nil {
		return collection.Breakdown{}, nil, classify(fmt.Errorf("load schedule v%d of plan %s: %w", version, planID, err))
	}
	through, err := st.PenaltyAccruedThrough(ctx, planID, version)
	if err != nil {
		return collection.Breakdown{}, nil, classify(err)
	}
	graceUntil, err := st.GraceExtendedUntil(ctx, planID)
	if err != nil {
		return collection.Breakdown{}, nil, classify(err)
	}
	b, err := collectionRules.Owed(withGrace(collectionInstalments(rows, through), calc.DateOf(graceUntil), day), day, rate)
	if err != nil {
		return collection.Breakdown{}, nil, typed("InvalidInput", fmt.Errorf("amounts owed by plan %s: %w", planID, err))
	}
	return b, rows, nil
}

// OwedOn is what an active plan owes on day (its business date) by
// component, late charges counted through that day, from the database
// without writing anything: what a debtor must pay that day to clear the
// arrears. Front-ends show it beside the collection query's figures,
// which are as of the ladder's last step.
func OwedOn(ctx context.Context, st *store.Store, planID uuid.UUID, day calc.Date) (collection.Breakdown, error) {
	p, err := st.GetPlan(ctx, planID)
	if err != nil {
		return collection.Breakdown{}, fmt.Errorf("owed by plan %s on %s: %w", planID, day, err)
	}
	b, _, err := owedOn(ctx, st, planID, 0, day, annualRate(p))
	if err != nil {
		return collection.Breakdown{}, fmt.Errorf("owed by plan %s on %s: %w", planID, day, err)
	}
	return b, nil
}

// collectionInstalments maps the open rows of a schedule (pending, due,
// partially paid, overdue) to the collection package's instalments: what
// each still owes, its penalty accrued and settled, and the date it is
// accrued through.
func collectionInstalments(rows []store.Instalment, through map[int]time.Time) []collection.Instalment {
	var out []collection.Instalment
	for _, r := range rows {
		switch r.Status {
		case store.InstalmentPending, store.InstalmentDue, store.InstalmentPartiallyPaid, store.InstalmentOverdue:
		default:
			continue
		}
		in := collection.Instalment{
			No:             r.No,
			DueDate:        calc.DateOf(r.DueDate),
			Principal:      r.Principal.Sub(r.PaidPrincipal),
			Interest:       r.Interest.Sub(r.PaidInterest).Sub(r.WaivedInterest),
			Fee:            r.Fee.Sub(r.PaidFee).Sub(r.WaivedFee),
			PenaltyAccrued: r.PenaltyAccrued,
			PenaltySettled: r.PaidPenalty.Add(r.WaivedPenalty),
			Overdue:        r.Status == store.InstalmentOverdue,
		}
		if t, ok := through[r.No]; ok {
			in.PenaltyThrough = calc.DateOf(t)
		}
		out = append(out, in)
	}
	return out
}

// withGrace applies a hardship grace extension until the end of until
// (zero: none) to the instalments on day: an instalment due by then
// accrues no penalty before the day after it, as if accrued through it.
// The instalments overdue when the grace was granted are marked so in the
// store (CollectionDecide); this covers those that fall due during it.
func withGrace(rows []collection.Instalment, until, day calc.Date) []collection.Instalment {
	if until.IsZero() {
		return rows
	}
	free := until
	if day.Before(free) {
		free = day
	}
	for i, r := range rows {
		if !r.DueDate.After(until) && r.PenaltyThrough.Before(free) {
			rows[i].PenaltyThrough = free
		}
	}
	return rows
}

// pausedIndefinitely reports whether an open complaint without an end
// (store.Complaint.PauseUntil zero) pauses collection contact until it is
// resolved.
func (a *Activities) pausedIndefinitely(ctx context.Context, planID uuid.UUID) (bool, error) {
	open, err := a.Store.OpenComplaints(ctx, planID)
	if err != nil {
		return false, classify(fmt.Errorf("open complaints of plan %s: %w", planID, err))
	}
	return slices.ContainsFunc(open, func(c store.Complaint) bool { return c.PauseUntil.IsZero() }), nil
}

// collectionHistory is the plan's contact history as the contact rules
// count it (see attemptOf), without the contacts whose key starts with
// skip (none when skip is empty).
func collectionHistory(contacts []store.Contact, cal Calendar, skip string) []contact.Attempt {
	out := []contact.Attempt{}
	for _, c := range contacts {
		if skip != "" && strings.HasPrefix(c.ContactKey, skip) {
			continue
		}
		if at, ok := attemptOf(c, cal); ok {
			out = append(out, at)
		}
	}
	return out
}

// roundPrefix is the key prefix of the steps of round act of the
// delinquency whose oldest overdue instalment fell due on oldest:
// "<plan>:collection:<oldest due>:<stage>:<round>[:neg]:".
func roundPrefix(planID uuid.UUID, oldest calc.Date, act collection.Action) string {
	key := fmt.Sprintf("%s:collection:%s:%s:%d", planID, oldest, act.Stage, act.Round)
	if act.Negotiation {
		key += ":neg"
	}
	return key + ":"
}

// stepAttempts are the contact steps of a round as contact attempts, as
// collection.Rules.Next counts them while it plans a round.
func stepAttempts(steps []collection.Step) []contact.Attempt {
	var out []contact.Attempt
	for _, s := range steps {
		if s.Kind.Operator() {
			continue
		}
		outcome := contact.Sent
		if s.Channel == contact.Phone {
			outcome = contact.NoAnswer
		}
		out = append(out, contact.Attempt{At: s.At, Channel: s.Channel, Outcome: outcome})
	}
	return out
}

// carryOut queues the steps of round act and records each as a
// collection action; it returns the round as carried out. A step already
// stored under its key (by a run that crashed part way) is kept as it is:
// a contact's channel and time are then the stored ones.
func (a *Activities) carryOut(ctx context.Context, planID uuid.UUID, in CollectionInput, act collection.Action, owed collection.Breakdown, contacts []store.Contact) (collection.Action, error) {
	stored := make(map[string]store.Contact, len(contacts))
	for _, c := range contacts {
		stored[c.ContactKey] = c
	}
	tasks, err := a.Store.Tasks(ctx, planID)
	if err != nil {
		return collection.Action{}, classify(fmt.Errorf("load tasks of plan %s: %w", planID, err))
	}
	actions, err := a.Store.CollectionActions(ctx, planID)
	if err != nil {
		return collection.Action{}, classify(fmt.Errorf("load collection actions of plan %s: %w", planID, err))
	}
	recorded := map[string]bool{}
	for _, x := range actions {
		recorded[x.ActionKey] = true
	}
	taskKeys := map[string]bool{}
	for _, t := range tasks {
		taskKeys[t.TaskKey] = true
	}
	// The instalment the contacts are about: the oldest overdue one.
	oldestNo := 0
	for _, i := range owed.Instalments {
		if i.Overdue {
			oldestNo = i.No
			break
		}
	}
	due := owed.Due
	storedOwed := store.Owed{Principal: due.Principal, Interest: due.Interest, Fee: due.Fee, Penalty: due.Penalty,
		Total: due.Total(), PayBy: owed.PayBy.At(time.UTC, 0, 0, 0)}
	prefix := roundPrefix(planID, owed.OldestDue, act)
	act.Steps = slices.Clone(act.Steps)
	for i, st := range act.Steps {
		key := fmt.Sprintf("%s%d", prefix, i+1)
		details := map[string]any{"round": act.Round, "negotiation": act.Negotiation, "bucket": act.Bucket,
			"days_past_due": act.DaysPastDue}
		plannedFor := in.Calendar.real(st.At)
		if st.Kind.Operator() {
			kind := store.TaskLegalReferral
			if st.Kind == collection.WriteOffTask {
				kind = store.TaskWriteOff
			}
			details["task_key"] = key
			if !taskKeys[key] {
				if _, err := a.Store.CreateTask(ctx, store.Task{
					PlanID: planID, TaskKey: key, Kind: kind,
					Details: mustJSON(map[string]any{
						"stage": act.Stage, "round": act.Round, "bucket": act.Bucket, "days_past_due": act.DaysPastDue,
						"raised_at": st.At, "brief": st.Body, "owed": storedOwedJSON(storedOwed),
					}),
				}); err != nil {
					return collection.Action{}, classify(fmt.Errorf("create %s task %s: %w", kind, key, err))
				}
				slog.InfoContext(ctx, "collection task raised", "plan_id", planID, "task_key", key, "kind", kind)
			}
		} else {
			details["contact_key"] = key
			if c, ok := stored[key]; ok {
				// Queued by an earlier run: keep it as it went out.
				if !c.ScheduledFor.Equal(plannedFor.Truncate(time.Microsecond)) || c.Channel != string(st.Channel) {
					st.Channel, st.At = contact.Channel(c.Channel), in.Calendar.Clock.Business(c.ScheduledFor)
					act.Steps[i] = st
				}
				plannedFor = c.ScheduledFor
			} else {
				c := store.Contact{
					PlanID: planID, ContactKey: key, Purpose: "collection", Channel: string(st.Channel),
					ScheduleVersion: in.Version, InstalmentNo: oldestNo, Stage: act.Bucket,
					ScheduledFor: plannedFor, Body: st.Body,
					Details: mustJSON(map[string]any{"kind": st.Kind, "stage": act.Stage, "round": act.Round,
						"negotiation": act.Negotiation, "business_time": st.At, "reason": st.Reason}),
				}
				if oldestNo == 0 {
					c.ScheduleVersion = 0
				}
				if _, _, err := a.Store.QueueContact(ctx, c, mustJSON(map[string]string{"body": st.Body})); err != nil {
					return collection.Action{}, classify(fmt.Errorf("queue collection %s %s: %w", st.Kind, key, err))
				}
				slog.InfoContext(ctx, "collection contact queued", "plan_id", planID, "contact_key", key, "kind", st.Kind,
					"channel", st.Channel, "at", st.At)
			}
		}
		if recorded[key] {
			continue
		}
		if _, err := a.Store.RecordCollectionAction(ctx, store.CollectionAction{
			PlanID: planID, ActionKey: key, Stage: act.Stage, Kind: string(st.Kind), Channel: string(st.Channel),
			Owed: storedOwed, PlannedFor: plannedFor, Details: mustJSON(details),
		}); err != nil {
			return collection.Action{}, classify(fmt.Errorf("record collection action %s: %w", key, err))
		}
	}
	if len(act.Steps) > 0 {
		act.At = act.Steps[0].At
	}
	for _, s := range act.Skipped {
		slog.WarnContext(ctx, "collection step skipped", "plan_id", planID, "stage", act.Stage, "round", act.Round, "why", s)
	}
	return act, nil
}

// storedOwedJSON is what is owed as an operator task states it.
func storedOwedJSON(o store.Owed) map[string]string {
	return map[string]string{
		"principal": calc.FormatMoney(o.Principal), "interest": calc.FormatMoney(o.Interest), "fee": calc.FormatMoney(o.Fee),
		"penalty": calc.FormatMoney(o.Penalty), "total": calc.FormatMoney(o.Total), "pay_by": o.PayBy.Format(time.DateOnly),
	}
}

// errNoOldest: a round is due with nothing overdue, so its steps cannot be
// keyed; collection.Rules.Next never answers that.
var errNoOldest = errors.New("a collection round with no overdue instalment")

// settlePromise settles the pending promise of in.State, if any, on what
// the plan was paid since it was made (collection.Rules.PromiseDue): kept
// or broken, the stored promise is resolved the same way. It returns the
// state to plan on (unchanged while the promise is pending).
func (a *Activities) settlePromise(ctx context.Context, planID uuid.UUID, in CollectionInput, inputs collection.Inputs) (collection.State, error) {
	p := in.State.Promise
	if p == nil {
		return in.State, nil
	}
	paid, err := a.Store.PaidSince(ctx, planID, in.Calendar.real(p.MadeAt))
	if err != nil {
		return collection.State{}, classify(err)
	}
	state, outcome, err := collectionRules.PromiseDue(in.State, in.At, paid, inputs)
	if err != nil {
		return collection.State{}, typed("InvalidInput", fmt.Errorf("settle the promise of plan %s: %w", planID, err))
	}
	if outcome == collection.PromisePending {
		return state, nil
	}
	promises, err := a.Store.Promises(ctx, planID)
	if err != nil {
		return collection.State{}, classify(fmt.Errorf("load promises of plan %s: %w", planID, err))
	}
	for _, sp := range promises {
		if sp.Status != store.PromiseOpen && sp.Status != string(outcome) {
			continue
		}
		if !sp.MadeAt.Equal(in.Calendar.real(p.MadeAt).Truncate(time.Microsecond)) {
			continue
		}
		if _, err := a.Store.ResolvePromise(ctx, planID, sp.RequestID, string(outcome)); err != nil {
			return collection.State{}, classify(err)
		}
	}
	slog.InfoContext(ctx, "promise settled", "plan_id", planID, "outcome", outcome, "paid", paid, "promised", p.Amount, "date", p.Date)
	return state, nil
}

// annualRate is the plan's contract annual rate, the base of its penalty
// interest (zero before terms are set).
func annualRate(p store.Plan) decimal.Decimal {
	if p.Terms == nil {
		return decimal.Zero
	}
	return p.Terms.AnnualRate
}

// endCollection ends a plan's collection (the arrears cleared, the plan
// paid off or written off): queued collection messages are cancelled, the
// open agent calls, legal-referral and write-off tasks closed with why,
// and open promises resolved as kept. Run again it changes nothing.
func (a *Activities) endCollection(ctx context.Context, planID uuid.UUID, why string) error {
	if err := a.pauseCollection(ctx, planID, why); err != nil {
		return err
	}
	for _, kind := range []string{store.TaskLegalReferral, store.TaskWriteOff} {
		if err := a.closeTasks(ctx, planID, kind, why); err != nil {
			return err
		}
	}
	promises, err := a.Store.Promises(ctx, planID)
	if err != nil {
		return classify(fmt.Errorf("load promises of plan %s: %w", planID, err))
	}
	for _, p := range promises {
		if p.Status != store.PromiseOpen {
			continue
		}
		if _, err := a.Store.ResolvePromise(ctx, planID, p.RequestID, store.PromiseKept); err != nil {
			return classify(err)
		}
	}
	return nil
}

// pauseCollection stops what the ladder already set going: queued
// collection messages are cancelled and open agent calls closed with why.
// The ladder plans again when the pause ends.
func (a *Activities) pauseCollection(ctx context.Context, planID uuid.UUID, why string) error {
	n, err := a.Store.CancelCollectionMessages(ctx, planID, why)
	if err != nil {
		return classify(err)
	}
	if n > 0 {
		slog.InfoContext(ctx, "queued collection messages cancelled", "plan_id", planID, "count", n, "why", why)
	}
	return a.closeTasks(ctx, planID, store.TaskCollectionCall, why)
}
