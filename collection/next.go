package collection

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/fenqi/fenqi/calc"
	"github.com/fenqi/fenqi/contact"
)

// Inputs is what the ladder needs to know at an instant besides its State.
type Inputs struct {
	// Owed is what the plan owes, computed by Rules.Owed for today (the
	// local date of the instant); the days past due and the bucket follow
	// from its OldestDue and the instant.
	Owed Breakdown `json:"owed"`
	// History is every recorded contact attempt of the plan (reminders
	// and notices included), the history the contact caps count.
	History []contact.Attempt `json:"history"`
	// Preferred is the customer's preferred channel; empty for none.
	Preferred contact.Channel `json:"preferred,omitempty"`
	// Addresses says which channels the customer can be reached on.
	Addresses contact.Addresses `json:"addresses"`
	// ComplaintPausedUntil is the end of the pause of an open complaint;
	// zero when none is open. Nothing is planned before it.
	ComplaintPausedUntil time.Time `json:"complaint_paused_until,omitzero"`
	// Location is the customer's time zone; required.
	Location *time.Location `json:"-"`
	// Contact are the plan's contact rules; nil means
	// contact.DefaultRules().
	Contact *contact.Rules `json:"contact,omitempty"`
}

// contactRules returns the contact rules in force.
func (in Inputs) contactRules() contact.Rules {
	if in.Contact != nil {
		return *in.Contact
	}
	return contact.DefaultRules()
}

// Wait says why Next planned nothing now.
type Wait string

// The reasons to wait. The empty Wait is a round to carry out.
const (
	// WaitCurrent: nothing is overdue; At is zero (a missed instalment
	// starts the ladder).
	WaitCurrent Wait = "current"
	// WaitCadence: the next round is due at At.
	WaitCadence Wait = "cadence"
	// WaitPaused: an open complaint or a hardship pause lasts until At.
	WaitPaused Wait = "paused"
	// WaitPromise: a promise to pay is pending until At, the end of its
	// date; then call PromiseDue.
	WaitPromise Wait = "promise"
	// WaitPromiseDue: the promise date is over; call PromiseDue (At is
	// now).
	WaitPromiseDue Wait = "promise_due"
	// WaitOperator: a legal referral or write-off decision is pending; At
	// is when the next stage starts, zero for none.
	WaitOperator Wait = "operator"
	// WaitReferred: the debt is referred for legal action; no contact
	// until the next stage starts at At (zero for none).
	WaitReferred Wait = "referred"
	// WaitClosed: the plan is written off; nothing more, ever.
	WaitClosed Wait = "written_off"
)

// Step is one action of a round: a contact planned by the contact rules or
// an operator task.
type Step struct {
	// Kind is what the step does.
	Kind Kind `json:"kind"`
	// Channel is the channel of a contact; empty for an operator task.
	Channel contact.Channel `json:"channel,omitempty"`
	// At is when the step goes out: for a contact, the earliest instant
	// the contact rules allow (inside the window, within the caps), never
	// before the previous step of the round; for an operator task, when it
	// is raised.
	At time.Time `json:"at"`
	// Body is the text: to the debtor for a written contact (what is owed
	// by component and the pay-by date), the agent's brief for a call
	// task, the operator's brief for an operator task.
	Body string `json:"body"`
	// Reason says why At is later than asked or a fallback channel was
	// used; empty when neither.
	Reason string `json:"reason,omitempty"`
}

// Action is the outcome of Next: a round of steps to carry out now, or
// nothing until At.
type Action struct {
	// Wait is empty for a round, otherwise why nothing is planned.
	Wait Wait `json:"wait,omitempty"`
	// At is, for a round, the instant of its first step (now when it has
	// none); for a wait, when to call Next again (zero: only after an
	// event such as a payment or a decision).
	At time.Time `json:"at,omitzero"`
	// Stage is the ladder stage (a StageRule's From, M0 when current) and
	// Bucket and DaysPastDue the delinquency at the instant.
	Stage       string `json:"stage"`
	Bucket      string `json:"bucket"`
	DaysPastDue int    `json:"days_past_due"`
	// Round numbers the round within Stage, from 1; 0 for a wait.
	Round int `json:"round,omitempty"`
	// Negotiation marks a round of the Negotiate cadence.
	Negotiation bool `json:"negotiation,omitempty"`
	// Steps are the round's steps in order.
	Steps []Step `json:"steps,omitempty"`
	// Skipped lists the actions of the round that could not be planned (no
	// address for any of their channels, no allowed instant), and why.
	Skipped []string `json:"skipped,omitempty"`
	// Reason says in words why the plan waits.
	Reason string `json:"reason,omitempty"`
}

// IsRound reports whether a is a round to carry out now.
func (a Action) IsRound() bool { return a.Wait == "" }

// Next is one step of the collection state machine: what to do for the
// plan at now, given its state and inputs. It returns a round to carry
// out (queue its steps, then Record it) or a wait with the instant to ask
// again. Its decisions, in order:
//
//   - written off: nothing ever (WaitClosed); nothing overdue: nothing
//     (WaitCurrent).
//   - an open complaint or a hardship pause: nothing until it ends
//     (WaitPaused); a pending promise: nothing until its date is over
//     (WaitPromise), then PromiseDue must settle it (WaitPromiseDue).
//     Operator tasks wait too.
//   - the ladder stage is the stage of the higher of the bucket (by days
//     past due at now) and Floor. In a contact stage a round is due on
//     entering the stage, then EveryDays after the last round (Since), at
//     once when Urgent.
//   - in the legal referral stage (M4-M6) the referral is raised once on
//     entering it and waits for the operator (WaitOperator): refer stops
//     contact until the next stage (WaitReferred); hold raises it again
//     EveryDays after the decision; negotiate runs the Negotiate rounds
//     at once and every Negotiate.EveryDays.
//   - in the write-off stage (M7) the write-off task is raised once and
//     waits for the operator; declined, it is raised again EveryDays after
//     the decision.
//
// Every wait for a cadence or an operator ends no later than the start of
// the next stage. Each contact step is planned by the contact rules
// (in.Contact) on the plan's history with the round's earlier steps
// added, so the round itself keeps the window and the caps. Next never
// reads the clock and its result depends only on its arguments.
func (r Rules) Next(s State, now time.Time, in Inputs) (Action, error) {
	fail := func(err error) (Action, error) {
		return Action{}, fmt.Errorf("next collection action at %s: %w", now.Format(time.RFC3339), err)
	}
	if err := r.Validate(); err != nil {
		return fail(err)
	}
	if err := checkNow(now, in); err != nil {
		return fail(err)
	}
	cr := in.contactRules()
	if err := cr.Validate(); err != nil {
		return fail(err)
	}
	loc := in.Location
	dpd := in.Owed.daysPastDue(localDate(now, loc))
	a := Action{Stage: "M0", Bucket: calc.Bucket(dpd), DaysPastDue: dpd}
	wait := func(w Wait, until time.Time, format string, args ...any) (Action, error) {
		a.Wait, a.At, a.Reason = w, until, fmt.Sprintf(format, args...)
		return a, nil
	}
	if s.WrittenOff() {
		a.Stage = s.Stage
		return wait(WaitClosed, time.Time{}, "written off on %s", s.WriteOff.DecidedAt.In(loc).Format(time.DateOnly))
	}
	if dpd == 0 {
		return wait(WaitCurrent, time.Time{}, "nothing is overdue")
	}
	i := r.stageAt(max(rank(a.Bucket), rank(s.Floor)))
	rule := r.Ladder[i]
	a.Stage = rule.From
	next := r.nextStageAt(i, in.Owed.OldestDue, loc)
	bounded := func(t time.Time) time.Time {
		if t.IsZero() || (!next.IsZero() && next.Before(t)) {
			return next
		}
		return t
	}
	if until := later(in.ComplaintPausedUntil, s.PausedUntil); now.Before(until) {
		what := "a hardship pause"
		if until.Equal(in.ComplaintPausedUntil) {
			what = "an open complaint"
		}
		return wait(WaitPaused, until, "collection contact is paused for %s until %s", what, until.In(loc).Format(time.RFC3339))
	}
	if p := s.Promise; p != nil {
		if end := promiseEnd(*p, loc); now.Before(end) {
			return wait(WaitPromise, end, "a promise to pay %s by %s is pending", calc.FormatMoney(p.Amount), p.Date)
		}
		return wait(WaitPromiseDue, now, "the promise to pay %s by %s is due: settle it with PromiseDue", calc.FormatMoney(p.Amount), p.Date)
	}
	actions, every := rule.Actions, rule.EveryDays
	due := now // a new stage, or urgent: at once
	switch r.operatorKind(i) {
	case "":
		if !s.Urgent && s.Stage == rule.From && s.Rounds > 0 {
			due = s.Since.AddDate(0, 0, every)
		}
	case LegalReferral:
		ref := s.Referral
		switch {
		case ref == nil:
		case ref.Status == ReferralPending:
			return wait(WaitOperator, next, "the legal referral raised on %s waits for an operator's decision", ref.RaisedAt.In(loc).Format(time.DateOnly))
		case ref.Status == Referred:
			return wait(WaitReferred, next, "referred for legal action on %s: no collection contact", ref.DecidedAt.In(loc).Format(time.DateOnly))
		case ref.Status == ReferralHold && !s.Urgent:
			due = ref.DecidedAt.AddDate(0, 0, every)
		case ref.Status == ReferralNegotiate:
			actions, every, a.Negotiation = r.Negotiate.Actions, r.Negotiate.EveryDays, true
			if !s.Urgent && !s.Since.Before(ref.DecidedAt) {
				due = s.Since.AddDate(0, 0, every)
			}
		}
	case WriteOffTask:
		wo := s.WriteOff
		switch {
		case wo == nil:
		case wo.Status == WriteOffPending:
			return wait(WaitOperator, time.Time{}, "the write-off decision raised on %s waits for an operator", wo.RaisedAt.In(loc).Format(time.DateOnly))
		case !s.Urgent:
			due = wo.DecidedAt.AddDate(0, 0, every)
		}
	}
	if now.Before(due) {
		return wait(WaitCadence, bounded(due), "the next %s round is due at %s", rule.From, due.In(loc).Format(time.RFC3339))
	}
	a.Round = 1
	if s.Stage == rule.From {
		a.Round = s.Rounds + 1
	}
	return r.round(a, actions, now, in, cr)
}

// round plans the steps of a round at now.
func (r Rules) round(a Action, actions []ActionSpec, now time.Time, in Inputs, cr contact.Rules) (Action, error) {
	history := slices.Clone(in.History)
	earliest := now
	for _, spec := range actions {
		if spec.Kind.Operator() {
			a.Steps = append(a.Steps, Step{Kind: spec.Kind, At: earliest, Body: operatorBody(spec.Kind, a, in.Owed)})
			continue
		}
		req := contact.Request{
			Earliest:  earliest,
			Fallback:  spec.Channels,
			Purpose:   fmt.Sprintf("collection %s round %d: %s", a.Stage, a.Round, spec.Kind),
			Addresses: in.Addresses,
		}
		if spec.PreferCustomer && slices.Contains(spec.Channels, in.Preferred) {
			req.Preferred = in.Preferred
		}
		d, err := cr.Plan(req, history, in.Location)
		if errors.Is(err, contact.ErrNoChannel) || errors.Is(err, contact.ErrNoSlot) {
			a.Skipped = append(a.Skipped, fmt.Sprintf("%s: %v", spec.Kind, err))
			continue
		}
		if err != nil {
			return Action{}, fmt.Errorf("next collection action at %s: %w", now.Format(time.RFC3339), err)
		}
		outcome := contact.Sent
		if d.Channel == contact.Phone {
			outcome = contact.NoAnswer
		}
		history = append(history, contact.Attempt{At: d.At, Channel: d.Channel, Outcome: outcome})
		reason := d.Reason
		if d.ChannelReason != "" {
			reason = strings.TrimPrefix(reason+"; "+d.ChannelReason, "; ")
		}
		a.Steps = append(a.Steps, Step{Kind: spec.Kind, Channel: d.Channel, At: d.At, Body: contactBody(spec.Kind, d.Channel, a.DaysPastDue, in.Owed), Reason: reason})
		earliest = d.At
	}
	a.At = now
	if len(a.Steps) > 0 {
		a.At = a.Steps[0].At
	}
	return a, nil
}

// Record returns the state once the round a (from Next) is carried out:
// the round counted in its stage, the cadence restarted from its first
// step, Urgent cleared, a legal referral or write-off task it raises
// recorded as pending. A referral or write-off task of a stage above the
// round's (the days past due fell after a partial payment) is dropped.
func (r Rules) Record(s State, a Action) (State, error) {
	if !a.IsRound() {
		return s, fmt.Errorf("record collection action: %w: a wait (%s), not a round", ErrInvalidInput, a.Wait)
	}
	i := r.stageOf(a.Stage)
	if i < 0 {
		return s, fmt.Errorf("record collection round of stage %q: %w: no such ladder stage", a.Stage, ErrInvalidInput)
	}
	out := s.clone()
	if out.Stage != a.Stage {
		out.Stage, out.Rounds = a.Stage, 0
	}
	out.Rounds++
	out.LastAt, out.Since, out.Urgent = a.At, a.At, false
	for _, st := range a.Steps {
		switch st.Kind {
		case LegalReferral:
			out.Referral = &Referral{Status: ReferralPending, RaisedAt: st.At}
		case WriteOffTask:
			out.WriteOff = &WriteOff{Status: WriteOffPending, RaisedAt: st.At}
		}
	}
	for j := i + 1; j < len(r.Ladder); j++ {
		switch r.operatorKind(j) {
		case LegalReferral:
			out.Referral = nil
		case WriteOffTask:
			out.WriteOff = nil
		}
	}
	return out, nil
}

// nextStageAt returns the local midnight at which the days past due of an
// arrears whose oldest instalment fell due on oldest reach the stage after
// stage i; zero when i is the last stage.
func (r Rules) nextStageAt(i int, oldest calc.Date, loc *time.Location) time.Time {
	if i+1 >= len(r.Ladder) || oldest.IsZero() {
		return time.Time{}
	}
	return oldest.AddDays(firstDay(rank(r.Ladder[i+1].From))).At(loc, 0, 0, 0)
}

// later returns the later of two instants.
func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
