package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/fenqi/fenqi/activities"
	"github.com/fenqi/fenqi/calc"
	"github.com/fenqi/fenqi/collection"
	"github.com/fenqi/fenqi/plan"
)

// ladderVersion is the change that added the collection ladder to
// servicing; plans that started servicing before it keep the old
// behaviour until they continue as new.
const ladderVersion = "collection-ladder"

// Collecting is the collection state of a plan with overdue instalments:
// the ladder's state, when to ask the ladder again, and its last answer.
type Collecting struct {
	State collection.State `json:"state"`
	// At is the business instant of the next ladder step; zero when none
	// is due (nothing overdue, or waiting for an event such as an
	// operator's decision).
	At time.Time `json:"at,omitzero"`
	// Action is the ladder's last answer: the round carried out or why it
	// waits.
	Action collection.Action `json:"action"`
	// Owed is what the plan owed at the last step, by component.
	Owed collection.Breakdown `json:"owed"`
	// Next is what the ladder does next: the wait after the last round,
	// or the wait itself.
	Next collection.Action `json:"next"`
	// Recent are the latest steps carried out (bounded by recentActions),
	// oldest first.
	Recent []plan.CollectionAction `json:"recent,omitempty"`
}

// recentActions bounds Collecting.Recent.
const recentActions = 20

// The versions of the collection ladder:
//   - ladderSteps (1): the ladder's rounds beside the debits;
//   - ladderMessages (2): the collection messages (promise, referral,
//     write-off, grace, arrears plan), a complaint and its resolution
//     waking the ladder, and a message that arrives while the ladder's
//     timer runs waking it too.
const (
	ladderSteps    workflow.Version = 1
	ladderMessages workflow.Version = 2
)

// ladderOn records which version of the collection ladder this run uses
// (once per run, at the start of servicing; from versionLeanRuns on it is
// ladderMessages without a marker) and reports whether it runs the ladder
// at all.
func (w *planWorkflow) ladderOn(ctx workflow.Context) bool {
	if w.version >= versionLeanRuns {
		w.ladder = ladderMessages
	} else {
		w.ladder = workflow.GetVersion(ctx, ladderVersion, workflow.DefaultVersion, ladderMessages)
	}
	return w.ladder >= ladderSteps
}

// ladderMessagesOn reports whether this run takes the collection messages.
func (w *planWorkflow) ladderMessagesOn() bool { return w.ladder >= ladderMessages }

// wakeCollection asks the ladder again now: an instalment became overdue,
// or money arrived while the ladder runs.
func (w *planWorkflow) wakeCollection(ctx workflow.Context) {
	w.Collecting.At = w.businessNow(ctx)
	w.Collecting.Next = collection.Action{} // unknown until the step
}

// collecting reports whether the ladder runs (a round went out, a step is
// due, or a promise waits to be settled).
func (w *planWorkflow) collecting() bool {
	return !w.Collecting.At.IsZero() || w.Collecting.State.Stage != "" ||
		(w.ladderMessagesOn() && w.Collecting.State.Promise != nil)
}

// collectionStep runs one step of the ladder: penalty accrued, a round of
// contacts and tasks under the contact rules, or a wait.
func (w *planWorkflow) collectionStep(ctx workflow.Context) error {
	in := activities.CollectionInput{
		PlanID: w.PlanID, Version: w.ScheduleVersion, Calendar: w.Calendar, At: w.businessNow(ctx),
		State: w.Collecting.State,
	}
	var res activities.CollectionResult
	if err := workflow.ExecuteActivity(withStore(ctx), act.CollectionStep, in).Get(ctx, &res); err != nil {
		return fmt.Errorf("collection step of %s: %w", w.PlanID, err)
	}
	recent := w.Collecting.Recent
	if res.Action.IsRound() {
		for _, st := range res.Action.Steps {
			recent = append(recent, plan.CollectionAction{At: st.At, Stage: res.Action.Stage, Round: res.Action.Round,
				Kind: string(st.Kind), Channel: string(st.Channel), Owed: res.Owed.Due.Total()})
		}
		recent = recent[max(len(recent)-recentActions, 0):]
	}
	w.Collecting = Collecting{State: res.State, At: res.NextAt, Action: res.Action, Owed: res.Owed, Next: res.Next, Recent: recent}
	if w.applyStates(res.Instalments) {
		w.bump("penalty accrued on overdue instalments")
	}
	w.Contacts = res.Contacts
	w.UpdatedAt = workflow.Now(ctx)
	return nil
}

// registerCollectionHandlers accepts the collection messages of an active
// plan, each as a Signal and as an Update, and the collection query.
func (w *planWorkflow) registerCollectionHandlers(ctx workflow.Context) error {
	if err := handle(ctx, w, plan.MsgPromise, func(r plan.PromiseRequest) Message { return Message{Kind: plan.MsgPromise, Promise: &r} }, w.checkActive); err != nil {
		return err
	}
	if err := handle(ctx, w, plan.MsgRefer, func(r plan.ReferralRequest) Message { return Message{Kind: plan.MsgRefer, Referral: &r} }, w.checkReferral); err != nil {
		return err
	}
	if err := handle(ctx, w, plan.MsgWriteOff, func(r plan.WriteOffRequest) Message { return Message{Kind: plan.MsgWriteOff, WriteOff: &r} }, w.checkWriteOff); err != nil {
		return err
	}
	if err := handle(ctx, w, plan.MsgExtendGrace, func(r plan.GraceRequest) Message { return Message{Kind: plan.MsgExtendGrace, Grace: &r} }, w.checkActive); err != nil {
		return err
	}
	return workflow.SetQueryHandler(ctx, plan.QueryCollection, func() (plan.CollectionStatus, error) {
		return w.collectionStatus(ctx), nil
	})
}

// checkReferral refuses a referral decision when no legal referral was
// raised.
func (w *planWorkflow) checkReferral(r plan.Request) error {
	if err := w.checkActive(r); err != nil {
		return err
	}
	if w.Collecting.State.Referral == nil {
		return fmt.Errorf("no legal referral was raised on this plan (it is %s)", w.stage())
	}
	return nil
}

// checkWriteOff refuses a write-off decision when no write-off task is
// pending.
func (w *planWorkflow) checkWriteOff(r plan.Request) error {
	if err := w.checkActive(r); err != nil {
		return err
	}
	if wo := w.Collecting.State.WriteOff; wo == nil || wo.Status != collection.WriteOffPending {
		return fmt.Errorf("no write-off decision is pending on this plan (it is %s); write-off is decided at M7", w.stage())
	}
	return nil
}

// stage is the ladder stage of the last round, M0 when none.
func (w *planWorkflow) stage() string {
	if s := w.Collecting.State.Stage; s != "" {
		return s
	}
	return "M0"
}

// collectionMessage applies the debtor's promise or an operator's
// collection decision, then lets the ladder look again at once. An
// approved write-off ends the plan written off.
func (w *planWorkflow) collectionMessage(ctx workflow.Context, m Message) error {
	var check func(plan.Request) error
	var req plan.Request
	switch {
	case m.Promise != nil:
		check, req = w.checkActive, *m.Promise
	case m.Referral != nil:
		check, req = w.checkReferral, *m.Referral
	case m.WriteOff != nil:
		check, req = w.checkWriteOff, *m.WriteOff
	default:
		check, req = w.checkActive, *m.Grace
	}
	if err := check(req); err != nil {
		w.reply(m, false, err.Error())
		return nil
	}
	if !w.ladderMessagesOn() {
		w.reply(m, false, oldRun)
		return nil
	}
	in := activities.DecisionInput{
		PlanID: w.PlanID, Version: w.ScheduleVersion, Calendar: w.Calendar, At: w.businessNow(ctx),
		State: w.Collecting.State, Promise: m.Promise, Referral: m.Referral, WriteOff: m.WriteOff, Grace: m.Grace,
	}
	var res activities.DecisionResult
	if err := workflow.ExecuteActivity(withStore(ctx), act.CollectionDecide, in).Get(ctx, &res); err != nil {
		return fmt.Errorf("collection %s %s on %s: %w", m.Kind, req.ID(), w.PlanID, err)
	}
	w.UpdatedAt = workflow.Now(ctx)
	if w.applyStates(res.Instalments) {
		w.bump(fmt.Sprintf("%s %s", m.Kind, req.ID()))
	}
	if !res.Accepted {
		w.reply(m, false, res.Reason)
		return nil
	}
	w.Collecting.State, w.Collecting.Owed = res.State, res.Owed
	if res.WrittenOff != nil {
		w.Collecting.At = time.Time{}
		w.Collecting.Next = collection.Action{Wait: collection.WaitClosed, Stage: w.stage(), Reason: res.Reason}
		w.CloseReason = "written off"
		if err := w.setState(ctx, plan.StateWrittenOff, res.Reason); err != nil {
			return err
		}
		w.reply(m, true, res.Reason)
		return nil
	}
	w.wakeCollection(ctx)
	w.reply(m, true, res.Reason)
	return nil
}

// collectionStatus answers the collection query.
func (w *planWorkflow) collectionStatus(ctx workflow.Context) plan.CollectionStatus {
	c := w.Collecting
	st := plan.CollectionStatus{
		PlanID: w.PlanID, State: w.State, Collecting: w.collecting(), Stage: w.stage(),
		Bucket: "M0", AsOf: c.Owed.AsOf, Owed: c.Owed.Due, OwedTotal: c.Owed.Due.Total(), Overdue: c.Owed.Overdue,
		PayBy: c.Owed.PayBy, Rounds: c.State.Rounds, LastRoundAt: c.State.LastAt, Floor: c.State.Floor,
		Promise: c.State.Promise, Referral: c.State.Referral, WriteOff: c.State.WriteOff,
		PromisesKept: c.State.PromisesKept, PromisesBroken: c.State.PromisesBroken,
		Actions: append([]plan.CollectionAction{}, c.Recent...), Contacts: []plan.ContactEvent{},
		Clock: w.Calendar.Clock, TimeZone: w.Calendar.TimeZone,
	}
	if !w.Calendar.Clock.Origin.IsZero() && w.State == plan.StateActive {
		now := w.businessNow(ctx)
		st.Today = calc.DateOf(now.In(time.FixedZone("", w.Calendar.Offset)))
		_, st.DaysPastDue = w.progress(now)
		st.Bucket = calc.Bucket(st.DaysPastDue)
		if until := later(w.contactPausedUntil(now), c.State.PausedUntil); until.After(now) {
			st.PausedUntil = until
		}
	}
	switch {
	case w.State == plan.StateWrittenOff:
		st.Next = plan.CollectionNext{Action: string(collection.WaitClosed), Reason: c.Next.Reason}
	case w.State != plan.StateActive:
		// Paid off (or otherwise ended) while the ladder ran: collection is
		// over (the activity that closed the plan ended it in the store).
		st.Collecting, st.Stage = false, "M0"
		st.Next = plan.CollectionNext{Action: string(collection.WaitCurrent), Reason: fmt.Sprintf("the plan is %s", w.State)}
	case !w.collecting():
		st.Next = plan.CollectionNext{Action: string(collection.WaitCurrent), Reason: "nothing is overdue"}
	case c.Next.IsRound() && c.Next.Stage != "":
		st.Next = plan.CollectionNext{Action: "round", At: c.At, Reason: fmt.Sprintf("a %s round is due", c.Next.Stage)}
	case c.Next.Wait != "":
		st.Next = plan.CollectionNext{Action: string(c.Next.Wait), At: c.At, Reason: c.Next.Reason}
	default:
		st.Next = plan.CollectionNext{Action: "round", At: c.At, Reason: "the ladder looks again"}
	}
	for _, a := range w.Contacts {
		st.Contacts = append(st.Contacts, plan.ContactEvent{At: a.At, Channel: string(a.Channel), Outcome: string(a.Outcome)})
	}
	return st
}

// later returns the later of two instants.
func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// oldRun answers a collection message in a run that started servicing
// before the messages existed; the plan takes them from its next run on.
const oldRun = "this plan runs an earlier version of fenqi that does not take this request yet; try again after its next instalment"
