package collection

import (
	"fmt"
	"slices"
	"time"

	"github.com/shopspring/decimal"

	"github.com/fenqi/fenqi/calc"
	"github.com/fenqi/fenqi/contact"
)

// RecentContacts is how many contact attempts Status reports.
const RecentContacts = 10

// Status is the collection status of a plan, the answer to a query: the
// stage, the next action and when, what is owed by component, the pending
// promise, referral and write-off, and the recent contacts.
type Status struct {
	// Stage is the ladder stage, Bucket and DaysPastDue the delinquency.
	Stage       string `json:"stage"`
	Bucket      string `json:"bucket"`
	DaysPastDue int    `json:"days_past_due"`
	// AsOf is the date of the amounts; Owed is everything due and unpaid,
	// by component, OwedTotal its sum, Overdue the arrears part, PayBy the
	// date messages ask payment by.
	AsOf      calc.Date       `json:"as_of"`
	Owed      calc.Amounts    `json:"owed"`
	OwedTotal decimal.Decimal `json:"owed_total"`
	Overdue   calc.Amounts    `json:"overdue"`
	PayBy     calc.Date       `json:"pay_by"`
	// Next is what Next answers now: a round (its steps and their
	// instants) or a wait and until when.
	Next Action `json:"next"`
	// Rounds is the number of rounds in the state's stage, LastAt when the
	// last went out.
	Rounds int       `json:"rounds"`
	LastAt time.Time `json:"last_at,omitzero"`
	// Floor is the escalation after a broken promise, if any.
	Floor string `json:"floor,omitempty"`
	// Promise, Referral and WriteOff are the pending or decided records.
	Promise  *Promise  `json:"promise,omitempty"`
	Referral *Referral `json:"referral,omitempty"`
	WriteOff *WriteOff `json:"write_off,omitempty"`
	// PausedUntil is the end of a complaint or hardship pause still on.
	PausedUntil time.Time `json:"paused_until,omitzero"`
	// PromisesKept and PromisesBroken count the promises so far.
	PromisesKept   int `json:"promises_kept"`
	PromisesBroken int `json:"promises_broken"`
	// Recent are the latest RecentContacts contact attempts, oldest first.
	Recent []contact.Attempt `json:"recent"`
}

// Status returns the collection status of the plan at now.
func (r Rules) Status(s State, now time.Time, in Inputs) (Status, error) {
	a, err := r.Next(s, now, in)
	if err != nil {
		return Status{}, fmt.Errorf("collection status: %w", err)
	}
	st := Status{
		Stage: a.Stage, Bucket: a.Bucket, DaysPastDue: a.DaysPastDue,
		AsOf: in.Owed.AsOf, Owed: in.Owed.Due, OwedTotal: in.Owed.Due.Total(), Overdue: in.Owed.Overdue, PayBy: in.Owed.PayBy,
		Next: a, Rounds: s.Rounds, LastAt: s.LastAt, Floor: s.Floor,
		PromisesKept: s.PromisesKept, PromisesBroken: s.PromisesBroken,
	}
	s = s.clone()
	st.Promise, st.Referral, st.WriteOff = s.Promise, s.Referral, s.WriteOff
	if until := later(in.ComplaintPausedUntil, s.PausedUntil); now.Before(until) {
		st.PausedUntil = until
	}
	recent := slices.Clone(in.History)
	slices.SortStableFunc(recent, func(a, b contact.Attempt) int { return a.At.Compare(b.At) })
	st.Recent = recent[max(len(recent)-RecentContacts, 0):]
	return st, nil
}
