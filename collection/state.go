package collection

import (
	"errors"
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"github.com/fenqi/fenqi/calc"
)

// ErrRefused is wrapped by the errors of a transition the rules refuse (a
// promise too far ahead, a decision with nothing to decide): a business
// answer, not a failure.
var ErrRefused = errors.New("refused")

// State is the collection state of one plan. It is plain JSON and is
// carried across Continue-As-New; the zero State is a plan that is current.
type State struct {
	// Stage is the ladder stage (a StageRule's From) of the last round;
	// empty before the first round and after the arrears are cleared.
	Stage string `json:"stage,omitempty"`
	// Rounds counts the rounds carried out in Stage.
	Rounds int `json:"rounds,omitempty"`
	// LastAt is when the last round went out (its first step).
	LastAt time.Time `json:"last_at,omitzero"`
	// Since anchors the cadence: the next round of the stage is due
	// EveryDays after it. A round sets it to its first step's instant; a
	// kept promise to the instant it was kept.
	Since time.Time `json:"since,omitzero"`
	// Floor is the lowest ladder stage after a broken promise escalated the
	// ladder; empty for none. The ladder applies the higher of the bucket
	// and Floor.
	Floor string `json:"floor,omitempty"`
	// Urgent makes the next round due at once (after a broken promise).
	Urgent bool `json:"urgent,omitempty"`
	// Promise is the promise to pay pending, if any.
	Promise *Promise `json:"promise,omitempty"`
	// Referral is the legal referral raised in an operator stage, if any.
	Referral *Referral `json:"referral,omitempty"`
	// WriteOff is the write-off decision raised at M7, if any.
	WriteOff *WriteOff `json:"write_off,omitempty"`
	// PausedUntil is the end of a hardship pause granted by an operator;
	// nothing is planned before it.
	PausedUntil time.Time `json:"paused_until,omitzero"`
	// PromisesKept and PromisesBroken count the promises so far.
	PromisesKept   int `json:"promises_kept,omitempty"`
	PromisesBroken int `json:"promises_broken,omitempty"`
}

// WrittenOff reports whether an operator wrote the plan off: collection is
// over.
func (s State) WrittenOff() bool { return s.WriteOff != nil && s.WriteOff.Status == WriteOffApproved }

// clone copies s and the records it points to, so that a transition never
// changes the caller's State.
func (s State) clone() State {
	if s.Promise != nil {
		p := *s.Promise
		s.Promise = &p
	}
	if s.Referral != nil {
		r := *s.Referral
		s.Referral = &r
	}
	if s.WriteOff != nil {
		w := *s.WriteOff
		s.WriteOff = &w
	}
	return s
}

// Promise is a debtor's promise to pay Amount by the end of Date (in the
// customer's time zone).
type Promise struct {
	Date   calc.Date       `json:"date"`
	Amount decimal.Decimal `json:"amount"`
	MadeAt time.Time       `json:"made_at"`
}

// ReferralStatus is where a legal referral stands.
type ReferralStatus string

// The referral statuses.
const (
	// ReferralPending: raised, waiting for an operator's decision.
	ReferralPending ReferralStatus = "pending"
	// Referred: the operator referred the debt for legal action; the
	// ladder makes no more contact until the next stage (write-off).
	Referred ReferralStatus = "referred"
	// ReferralHold: the operator put it on hold; it is raised again every
	// EveryDays days of the stage.
	ReferralHold ReferralStatus = "hold"
	// ReferralNegotiate: the operator chose to negotiate; the Negotiate
	// rounds run instead of the referral.
	ReferralNegotiate ReferralStatus = "negotiate"
)

// Referral is a legal referral and the operator's decision on it.
type Referral struct {
	Status    ReferralStatus `json:"status"`
	RaisedAt  time.Time      `json:"raised_at"`
	DecidedAt time.Time      `json:"decided_at,omitzero"`
}

// Decision is an operator's decision on a legal referral.
type Decision string

// The decisions.
const (
	Refer     Decision = "refer"     // refer the debt for legal action
	Hold      Decision = "hold"      // not now: raise the referral again later
	Negotiate Decision = "negotiate" // negotiate: run the Negotiate rounds
)

// WriteOffStatus is where a write-off decision stands.
type WriteOffStatus string

// The write-off statuses.
const (
	WriteOffPending  WriteOffStatus = "pending"  // raised, waiting for an operator
	WriteOffApproved WriteOffStatus = "approved" // written off: collection is over
	WriteOffDeclined WriteOffStatus = "declined" // keep collecting; raised again later
)

// WriteOff is the write-off task raised at M7 and its outcome.
type WriteOff struct {
	Status    WriteOffStatus `json:"status"`
	RaisedAt  time.Time      `json:"raised_at"`
	DecidedAt time.Time      `json:"decided_at,omitzero"`
	// Balance is the remaining balance written off (Breakdown.Remaining).
	Balance decimal.Decimal `json:"balance,omitzero"`
}

// WriteOffDecision is an operator's decision on a write-off task.
type WriteOffDecision string

// The write-off decisions: write the plan off, or keep collecting (the
// task is raised again EveryDays later).
const (
	ApproveWriteOff WriteOffDecision = "approve" // write the plan off
	DeclineWriteOff WriteOffDecision = "decline" // keep collecting
)

// PromiseOutcome is what became of a promise.
type PromiseOutcome string

// The promise outcomes.
const (
	PromisePending PromiseOutcome = "pending" // not yet decided; the state is unchanged
	PromiseKept    PromiseOutcome = "kept"    // paid: the cadence restarts
	PromiseBroken  PromiseOutcome = "broken"  // not paid by the date: the ladder escalates
)

// Paid returns the state once a payment cleared the arrears: back to M0,
// the ladder stopped, any escalation, referral, write-off task and pause
// dropped; a pending promise counts as kept. A written-off plan stays
// written off.
func (r Rules) Paid(s State) State {
	if s.WrittenOff() {
		return s.clone()
	}
	out := State{LastAt: s.LastAt, PromisesKept: s.PromisesKept, PromisesBroken: s.PromisesBroken}
	if s.Promise != nil {
		out.PromisesKept++
	}
	return out
}

// Promise records the debtor's promise to pay amount by the end of date,
// made at now, given what is owed (in.Owed) in the customer's time zone
// (in.Location). Contact pauses until the promise date is over. It refuses
// (ErrRefused) a promise on a written-off plan, with nothing owed, while
// another is pending, dated before today or more than MaxDaysAhead days
// after it, of an amount not above zero, above what is due or below
// MinShare of it.
func (r Rules) Promise(s State, date calc.Date, amount decimal.Decimal, now time.Time, in Inputs) (State, error) {
	fail := func(err error) (State, error) {
		return s, fmt.Errorf("promise to pay %s by %s: %w", amount, date, err)
	}
	refuse := func(format string, args ...any) (State, error) {
		return fail(fmt.Errorf("%w: %s", ErrRefused, fmt.Sprintf(format, args...)))
	}
	if err := r.Validate(); err != nil {
		return fail(err)
	}
	if err := checkNow(now, in); err != nil {
		return fail(err)
	}
	today := localDate(now, in.Location)
	due := in.Owed.Due.Total()
	switch {
	case date.IsZero():
		return fail(fmt.Errorf("%w: no date", ErrInvalidInput))
	case !amount.Equal(amount.Round(calc.MoneyPlaces)):
		return fail(fmt.Errorf("%w: amount %s has more than 2 decimals", ErrInvalidInput, amount))
	case s.WrittenOff():
		return refuse("the plan is written off")
	case !due.IsPositive():
		return refuse("nothing is owed")
	case s.Promise != nil:
		return refuse("a promise of %s by %s is pending", calc.FormatMoney(s.Promise.Amount), s.Promise.Date)
	case date.Before(today):
		return refuse("the date is in the past (today is %s)", today)
	case date.After(today.AddDays(r.Promises.MaxDaysAhead)):
		return refuse("the date is more than %d days ahead (latest %s)", r.Promises.MaxDaysAhead, today.AddDays(r.Promises.MaxDaysAhead))
	case !amount.IsPositive():
		return refuse("the amount must be above zero")
	case amount.GreaterThan(due):
		return refuse("the amount is more than the %s owed", calc.FormatMoney(due))
	}
	if least := calc.RoundMoney(due.Mul(r.Promises.MinShare)); amount.LessThan(least) {
		return refuse("the amount is less than %s, the least that may be promised", calc.FormatMoney(least))
	}
	out := s.clone()
	out.Promise = &Promise{Date: date, Amount: amount, MadeAt: now}
	return out, nil
}

// PromiseDue settles the pending promise at now given the amount paid
// since it was made: kept when paid reaches the promised amount or nothing
// due is left unpaid (in.Owed.Due), at any time; broken when the
// promise date is over and neither holds; otherwise still pending, and the
// state is unchanged.
//
// A kept promise restarts the stage's cadence from now. A broken promise
// escalates the ladder one step: the next round is due at once (Urgent),
// at the next contact stage of the ladder (M1 -> M2 -> M3, kept as Floor
// while the arrears last) or, from the last contact stage on, at the stage
// the days past due give; operator stages are reached only by days past
// due.
func (r Rules) PromiseDue(s State, now time.Time, paid decimal.Decimal, in Inputs) (State, PromiseOutcome, error) {
	fail := func(err error) (State, PromiseOutcome, error) {
		return s, "", fmt.Errorf("settle promise with %s paid at %s: %w", paid, now.Format(time.RFC3339), err)
	}
	if err := r.Validate(); err != nil {
		return fail(err)
	}
	if err := checkNow(now, in); err != nil {
		return fail(err)
	}
	if paid.IsNegative() {
		return fail(fmt.Errorf("%w: paid %s is negative", ErrInvalidInput, paid))
	}
	if s.Promise == nil {
		return fail(fmt.Errorf("%w: no promise is pending", ErrRefused))
	}
	out := s.clone()
	if !paid.LessThan(s.Promise.Amount) || !in.Owed.Due.Total().IsPositive() {
		out.Promise = nil
		out.PromisesKept++
		out.Since = now
		out.Urgent = false
		return out, PromiseKept, nil
	}
	if now.Before(promiseEnd(*s.Promise, in.Location)) {
		return out, PromisePending, nil
	}
	out.Promise = nil
	out.PromisesBroken++
	out.Urgent = true
	k := max(rank(calc.Bucket(in.Owed.daysPastDue(localDate(now, in.Location)))), rank(s.Floor))
	if i, top := r.stageAt(k), r.topContactStage(); i >= 0 && i < top {
		out.Floor = r.Ladder[i+1].From
	}
	return out, PromiseBroken, nil
}

// Decide records an operator's decision on the legal referral at now. It
// refuses (ErrRefused) a decision when no referral was raised or the plan
// is written off; a later decision replaces an earlier one.
func (r Rules) Decide(s State, d Decision, now time.Time) (State, error) {
	fail := func(err error) (State, error) {
		return s, fmt.Errorf("decide %q on the legal referral at %s: %w", d, now.Format(time.RFC3339), err)
	}
	var status ReferralStatus
	switch d {
	case Refer:
		status = Referred
	case Hold:
		status = ReferralHold
	case Negotiate:
		status = ReferralNegotiate
	default:
		return fail(fmt.Errorf("%w: unknown decision, want %s, %s or %s", ErrInvalidInput, Refer, Hold, Negotiate))
	}
	switch {
	case now.IsZero():
		return fail(fmt.Errorf("%w: no time", ErrInvalidInput))
	case s.WrittenOff():
		return fail(fmt.Errorf("%w: the plan is written off", ErrRefused))
	case s.Referral == nil:
		return fail(fmt.Errorf("%w: no legal referral was raised", ErrRefused))
	}
	out := s.clone()
	out.Referral.Status = status
	out.Referral.DecidedAt = now
	return out, nil
}

// WriteOff records an operator's write-off decision at now. A plan is
// eligible only in the write-off stage (the last ladder stage, M7 by
// default, by its days past due at now) with the write-off task raised;
// otherwise it refuses (ErrRefused). Approving records the remaining
// balance (in.Owed.Remaining) and ends collection; declining keeps
// collecting and raises the task again EveryDays later.
func (r Rules) WriteOff(s State, d WriteOffDecision, now time.Time, in Inputs) (State, error) {
	fail := func(err error) (State, error) {
		return s, fmt.Errorf("write-off decision %q at %s: %w", d, now.Format(time.RFC3339), err)
	}
	if d != ApproveWriteOff && d != DeclineWriteOff {
		return fail(fmt.Errorf("%w: unknown decision, want %s or %s", ErrInvalidInput, ApproveWriteOff, DeclineWriteOff))
	}
	if err := r.Validate(); err != nil {
		return fail(err)
	}
	if err := checkNow(now, in); err != nil {
		return fail(err)
	}
	if err := r.WriteOffEligible(s, now, in); err != nil {
		return fail(err)
	}
	out := s.clone()
	out.WriteOff.DecidedAt = now
	if d == ApproveWriteOff {
		out.WriteOff.Status = WriteOffApproved
		out.WriteOff.Balance = in.Owed.Remaining.Total()
		out.Promise = nil
	} else {
		out.WriteOff.Status = WriteOffDeclined
	}
	return out, nil
}

// WriteOffEligible returns nil when an operator may decide on writing the
// plan off at now, and an error wrapping ErrRefused saying why not: the
// plan must be in the last ladder stage by its days past due (M7), with
// the write-off task raised and not yet decided.
func (r Rules) WriteOffEligible(s State, now time.Time, in Inputs) error {
	if err := checkNow(now, in); err != nil {
		return err
	}
	last := r.Ladder[len(r.Ladder)-1]
	dpd := in.Owed.daysPastDue(localDate(now, in.Location))
	switch {
	case s.WrittenOff():
		return fmt.Errorf("%w: the plan is already written off", ErrRefused)
	case r.operatorKind(len(r.Ladder)-1) != WriteOffTask:
		return fmt.Errorf("%w: the ladder has no write-off stage", ErrRefused)
	case rank(calc.Bucket(dpd)) < rank(last.From):
		return fmt.Errorf("%w: %d days past due (%s); write-off starts at %s", ErrRefused, dpd, calc.Bucket(dpd), last.From)
	case s.WriteOff == nil || s.WriteOff.Status != WriteOffPending:
		return fmt.Errorf("%w: no write-off task is pending", ErrRefused)
	}
	return nil
}

// Pause grants a hardship pause until the instant until, at now: nothing
// is planned before it. It refuses (ErrRefused) an instant not after now
// or more than HardshipMaxDays days after it; a later pause replaces an
// earlier one.
func (r Rules) Pause(s State, until, now time.Time) (State, error) {
	fail := func(err error) (State, error) {
		return s, fmt.Errorf("hardship pause until %s: %w", until.Format(time.RFC3339), err)
	}
	switch {
	case now.IsZero() || until.IsZero():
		return fail(fmt.Errorf("%w: no time", ErrInvalidInput))
	case s.WrittenOff():
		return fail(fmt.Errorf("%w: the plan is written off", ErrRefused))
	case !until.After(now):
		return fail(fmt.Errorf("%w: the end must be after now (%s)", ErrRefused, now.Format(time.RFC3339)))
	case until.After(now.AddDate(0, 0, r.HardshipMaxDays)):
		return fail(fmt.Errorf("%w: at most %d days", ErrRefused, r.HardshipMaxDays))
	}
	out := s.clone()
	out.PausedUntil = until
	return out, nil
}

// promiseEnd is the instant the promise date is over: the next local
// midnight.
func promiseEnd(p Promise, loc *time.Location) time.Time {
	return p.Date.AddDays(1).At(loc, 0, 0, 0)
}

// localDate is the calendar date of t in loc.
func localDate(t time.Time, loc *time.Location) calc.Date { return calc.DateOf(t.In(loc)) }

// checkNow refuses a zero instant, a missing time zone and a breakdown
// computed after now's date.
func checkNow(now time.Time, in Inputs) error {
	switch {
	case now.IsZero():
		return fmt.Errorf("%w: no time", ErrInvalidInput)
	case in.Location == nil:
		return fmt.Errorf("%w: no time zone", ErrInvalidInput)
	case !in.Owed.AsOf.IsZero() && in.Owed.AsOf.After(localDate(now, in.Location)):
		return fmt.Errorf("%w: the amounts owed are as of %s, after today %s", ErrInvalidInput, in.Owed.AsOf, localDate(now, in.Location))
	}
	return nil
}
