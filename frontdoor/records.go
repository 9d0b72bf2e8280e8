package frontdoor

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/fenqi/fenqi/plan"
	"github.com/fenqi/fenqi/store"
)

// ErrNoStore means the door was made without WithStore, so it cannot read
// what lives in the database (contacts) or top up an account.
var ErrNoStore = errors.New("no database: this front door was made without a store (frontdoor.WithStore)")

// Contact is one contact with the customer about a plan (a reminder, the
// schedule notice, a due-date notice, an agent's task ...), as kept for
// compliance: what was said, when, on which channel and how it went. It
// carries no personal data beyond the text sent.
type Contact struct {
	// Time is when the contact went out or, while it is only scheduled,
	// when it is due (wall-clock time, UTC).
	Time time.Time `json:"time"`
	// Purpose is reminder, schedule_notice, notice, alert, collection or
	// check_in.
	Purpose string `json:"purpose"`
	// Channel is sms, email, push, phone or letter.
	Channel string `json:"channel"`
	// Instalment is the instalment concerned (0: none).
	Instalment int `json:"instalment,omitempty"`
	// Status is "scheduled" until the contact is attempted, then "sent";
	// "cancelled" when it lost its point before its time (a reminder of an
	// instalment paid meanwhile) and was never sent.
	Status string `json:"status"`
	// Outcome is the attempt's outcome (sent, delivered, failed, connected,
	// no_answer, deferred); "" until known.
	Outcome string `json:"outcome"`
	// ScheduledFor is when the contact is (or was) due; SentAt when it was
	// attempted (absent until then).
	ScheduledFor time.Time  `json:"scheduled_for"`
	SentAt       *time.Time `json:"sent_at,omitempty"`
	// Body is the text sent.
	Body string `json:"body"`
}

// Contact statuses.
const (
	ContactScheduled = "scheduled"
	ContactSent      = "sent"
	ContactCancelled = "cancelled"
)

// Contacts lists every contact of the plan, oldest first. It reads the
// database (the workflow does not keep them): the door needs WithStore.
func (d *Door) Contacts(ctx context.Context, planID string) ([]Contact, error) {
	p, err := d.storedPlan(ctx, "contacts", planID)
	if err != nil {
		return nil, err
	}
	rows, err := d.st.Contacts(ctx, p.ID, time.Time{}, time.Time{})
	if err != nil {
		return nil, fmt.Errorf("contacts of plan %s: %w", p.ID, err)
	}
	out := make([]Contact, 0, len(rows))
	for _, c := range rows {
		k := Contact{
			Time: c.ScheduledFor.UTC(), Purpose: c.Purpose, Channel: c.Channel, Instalment: c.InstalmentNo,
			Status: ContactScheduled, Outcome: c.Outcome, ScheduledFor: c.ScheduledFor.UTC(), Body: c.Body,
		}
		switch {
		case !c.SentAt.IsZero():
			sent := c.SentAt.UTC()
			k.Time, k.SentAt, k.Status = sent, &sent, ContactSent
		case c.Outcome == store.OutcomeCancelled:
			k.Status = ContactCancelled
		}
		out = append(out, k)
	}
	return out, nil
}

// MaxFund bounds one top-up.
var MaxFund = decimal.NewFromInt(1_000_000)

// Fund tops up the funding account the plan's auto-debit draws from (the
// customer's account in the simulated payment gateway) by amount, and
// returns the account's balance right after the top-up. It is a tool for
// demos and tests, standing in for the customer putting money on the
// account: in production money arrives through the gateway, not here.
//
// The key makes it idempotent: the same key tops up once, and a repeat
// returns the balance after the first top-up; the key reused with another
// amount or plan is refused. The account exists from the plan's activation
// on (before it, Fund is refused); it is the customer's, shared by all of
// the customer's plans.
func (d *Door) Fund(ctx context.Context, planID string, amount decimal.Decimal, key string) (decimal.Decimal, error) {
	if err := plan.ValidateRequestID(key); err != nil {
		var v *plan.ValidationError
		if errors.As(err, &v) {
			return decimal.Zero, &plan.ValidationError{Field: "key", Reason: v.Reason}
		}
		return decimal.Zero, err
	}
	switch {
	case !amount.IsPositive():
		return decimal.Zero, &plan.ValidationError{Field: "amount", Reason: fmt.Sprintf("must be positive, got %s", amount)}
	case !amount.Equal(amount.Round(2)):
		return decimal.Zero, &plan.ValidationError{Field: "amount", Reason: fmt.Sprintf("must have at most 2 decimals, got %s", amount)}
	case amount.GreaterThan(MaxFund):
		return decimal.Zero, &plan.ValidationError{Field: "amount", Reason: fmt.Sprintf("must be at most %s, got %s", MaxFund, amount)}
	}
	p, err := d.storedPlan(ctx, "fund", planID)
	if err != nil {
		return decimal.Zero, err
	}
	if p.FundingAccountID == uuid.Nil {
		return decimal.Zero, &RejectedError{Reason: fmt.Sprintf("plan %s is %s and has no funding account: it gets one when it becomes active", p.ID, p.State)}
	}
	// Top-ups have keys of their own, apart from the debits' keys.
	e, err := d.st.Fund(ctx, p.FundingAccountID, amount, "topup:"+key)
	switch {
	case errors.Is(err, store.ErrConflict):
		return decimal.Zero, &RejectedError{Reason: fmt.Sprintf("key %q was already used for another top-up", key)}
	case errors.Is(err, store.ErrInvalid):
		return decimal.Zero, &plan.ValidationError{Field: "amount", Reason: err.Error()}
	case err != nil:
		return decimal.Zero, fmt.Errorf("fund plan %s: %w", p.ID, err)
	}
	return e.BalanceAfter, nil
}

// storedPlan reads the plan's row: ErrNoStore without a store, a
// ValidationError for a malformed id, ErrNotFound when there is none.
func (d *Door) storedPlan(ctx context.Context, op, planID string) (store.Plan, error) {
	id, err := plan.ParseID(planID)
	if err != nil {
		return store.Plan{}, &plan.ValidationError{Field: "plan", Reason: err.Error()}
	}
	if d.st == nil {
		return store.Plan{}, fmt.Errorf("%s plan %s: %w", op, id, ErrNoStore)
	}
	p, err := d.st.GetPlan(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.Plan{}, fmt.Errorf("%s plan %s: %w", op, id, ErrNotFound)
	}
	if err != nil {
		return store.Plan{}, fmt.Errorf("%s plan %s: %w", op, id, err)
	}
	return p, nil
}
