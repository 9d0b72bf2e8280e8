package activities

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"github.com/fenqi/fenqi/contact"
	"github.com/fenqi/fenqi/plan"
	"github.com/fenqi/fenqi/store"
)

// notify queues a notice to the customer (purpose "notice").
func (a *Activities) notify(ctx context.Context, planID uuid.UUID, cust store.Customer, key, body string, cal Calendar, at time.Time) error {
	return a.notifyPurpose(ctx, planID, cust, "notice", key, body, cal, at)
}

// notifyPurpose queues a message to the customer for the instant at (real
// time, the event's), moved by the contact rules to the first instant they
// allow (a receipt at night goes out at 08:00; a day's cap holds) on the
// preferred channel or its fallback. A notice already queued under key is
// kept as it was, so a retry never plans it twice.
func (a *Activities) notifyPurpose(ctx context.Context, planID uuid.UUID, cust store.Customer, purpose, key, body string, cal Calendar, at time.Time) error {
	contactKey := planID.String() + ":" + key
	contacts, err := a.Store.Contacts(ctx, planID, time.Time{}, time.Time{})
	if err != nil {
		return classify(fmt.Errorf("load contacts of plan %s: %w", planID, err))
	}
	var history []contact.Attempt
	for _, c := range contacts {
		if c.ContactKey == contactKey {
			return nil
		}
		if a, ok := attemptOf(c, cal); ok {
			history = append(history, a)
		}
	}
	req := contact.Request{
		Earliest:  cal.Clock.Business(at),
		Preferred: contact.Channel(cust.PreferredChannel),
		Purpose:   purpose + " " + key,
		Addresses: contact.Addresses{HasPhone: cust.Phone != "", HasEmail: cust.Email != "", HasPush: cust.PushID != ""},
	}
	if req.Preferred == "" {
		req.Preferred = contact.Channel(plan.ChannelSMS)
	}
	dec, err := contact.DefaultRules().Plan(req, history, cal.loc())
	if errors.Is(err, contact.ErrNoChannel) {
		slog.WarnContext(ctx, "customer has no channel to be told on", "plan_id", planID, "key", key)
		return nil
	}
	if err != nil {
		return typed("InvalidInput", fmt.Errorf("plan %s %s of plan %s: %w", purpose, key, planID, err))
	}
	c := store.Contact{
		PlanID: planID, ContactKey: contactKey, Purpose: purpose, Channel: string(dec.Channel),
		ScheduledFor: cal.real(dec.At), Body: body,
		Details: mustJSON(map[string]any{"business_time": dec.At, "deferred": dec.Deferred, "reason": dec.Reason, "channel_reason": dec.ChannelReason}),
	}
	if _, _, err := a.Store.QueueContact(ctx, c, mustJSON(map[string]string{"body": body})); err != nil {
		return classify(fmt.Errorf("queue %s %s of plan %s: %w", dec.Channel, key, planID, err))
	}
	slog.InfoContext(ctx, "customer notice queued", "plan_id", planID, "purpose", purpose, "key", key, "channel", dec.Channel, "deferred", dec.Deferred)
	return nil
}

// attemptOf is a contact as the contact rules count it: business time,
// queued contacts at their planned time; agent tasks, cancelled and
// deferred contacts do not count.
func attemptOf(c store.Contact, cal Calendar) (contact.Attempt, bool) {
	if c.Purpose == "alert" || c.Outcome == "cancelled" || c.Outcome == "deferred" {
		return contact.Attempt{}, false
	}
	at, outcome := c.ScheduledFor, contact.Outcome(c.Outcome)
	if !c.SentAt.IsZero() {
		at = c.SentAt
	}
	if outcome == "" {
		outcome = contact.Sent
	}
	return contact.Attempt{At: cal.Clock.Business(at), Channel: contact.Channel(c.Channel), Outcome: outcome}, true
}
