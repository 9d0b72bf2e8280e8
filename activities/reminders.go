package activities

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/fenqi/fenqi/calc"
	"github.com/fenqi/fenqi/clock"
	"github.com/fenqi/fenqi/contact"
	"github.com/fenqi/fenqi/store"
)

// ReminderDaysBefore is the default pre-due reminder offset (D-3).
const ReminderDaysBefore = 3

// reminderHour and alertHour are the business local times a reminder and
// an early-warning task are planned for, before the contact rules.
const (
	reminderHour = 8
	alertHour    = 9
	alertDays    = 5
)

// queueNextReminder plans the reminder of the next instalment due after
// today under the contact rules and queues it in the outbox (with its
// delivery time). When risky (a debit just failed), it also queues an
// early-warning task for an agent before that due date. It returns the
// reminder's business time (zero when there is none).
func (a *Activities) queueNextReminder(ctx context.Context, p store.Plan, cust store.Customer, version int, today calc.Date, cal Calendar, risky bool) (time.Time, error) {
	rows, err := a.Store.Schedule(ctx, p.ID, version)
	if err != nil {
		return time.Time{}, classify(fmt.Errorf("load schedule of plan %s: %w", p.ID, err))
	}
	var next *openRow
	for _, r := range openRows(rows, calc.Date{}) {
		if calc.DateOf(r.DueDate).After(today) {
			r := r
			next = &r
			break
		}
	}
	if next == nil {
		return time.Time{}, nil
	}
	loc := cal.loc()
	due := calc.DateOf(next.DueDate)
	earliest := clock.At(due.AddDays(-ReminderDaysBefore), loc, reminderHour, 0)
	if start := clock.At(today, loc, reminderHour, 0); earliest.Before(start) {
		earliest = start
	}
	history, err := a.contactHistory(ctx, p, cal)
	if err != nil {
		return time.Time{}, err
	}
	req := contact.Request{
		Earliest:  earliest,
		Preferred: contact.Channel(cust.PreferredChannel),
		Purpose:   fmt.Sprintf("reminder of instalment %d", next.No),
		Addresses: contact.Addresses{HasPhone: cust.Phone != "", HasEmail: cust.Email != "", HasPush: cust.PushID != ""},
	}
	dec, err := contact.DefaultRules().Plan(req, history, loc)
	if err != nil {
		return time.Time{}, typed("InvalidInput", fmt.Errorf("plan reminder of instalment %d of plan %s: %w", next.No, p.ID, err))
	}
	if !dec.At.Before(clock.At(due, loc, 0, 0).AddDate(0, 0, 1)) {
		// No slot before the due date: the due-date notice will do.
		return time.Time{}, nil
	}
	amount := next.Owed.Total()
	body := fmt.Sprintf("Reminder: your instalment %d of %s is due on %s and will be debited from your account. Please make sure it holds enough.",
		next.No, calc.FormatMoney(amount), due)
	c := store.Contact{
		PlanID: p.ID, ContactKey: fmt.Sprintf("%s:reminder:v%d:%d", p.ID, version, next.No), Purpose: "reminder",
		Channel: string(dec.Channel), ScheduleVersion: version, InstalmentNo: next.No,
		ScheduledFor: cal.real(dec.At), Body: body,
		Details: mustJSON(map[string]any{"business_time": dec.At, "deferred": dec.Deferred, "reason": dec.Reason, "channel_reason": dec.ChannelReason}),
	}
	if _, _, err := a.Store.QueueContact(ctx, c, mustJSON(map[string]string{"body": body})); err != nil {
		return time.Time{}, classify(fmt.Errorf("queue reminder of instalment %d of plan %s: %w", next.No, p.ID, err))
	}
	if risky {
		at := clock.At(due.AddDays(-alertDays), loc, alertHour, 0)
		if at.Before(earliest) {
			at = earliest
		}
		alert := fmt.Sprintf("Early warning: a debit of plan %s failed; instalment %d of %s is due on %s. Call the customer before the due date.",
			p.ID, next.No, calc.FormatMoney(amount), due)
		ac := store.Contact{
			PlanID: p.ID, ContactKey: fmt.Sprintf("%s:alert:v%d:%d", p.ID, version, next.No), Purpose: "alert",
			Channel: "phone", ScheduleVersion: version, InstalmentNo: next.No, ScheduledFor: cal.real(at), Body: alert,
		}
		if _, _, err := a.Store.QueueContact(ctx, ac, mustJSON(map[string]string{"body": alert})); err != nil {
			return time.Time{}, classify(fmt.Errorf("queue early warning for plan %s: %w", p.ID, err))
		}
		slog.WarnContext(ctx, "early warning raised", "plan_id", p.ID, "instalment", next.No, "due", due.String())
	}
	return dec.At, nil
}

// contactHistory is the plan's contacts of the last weeks as the contact
// rules see them: business times, queued contacts counted at their planned
// time, cancelled and deferred ones left out.
func (a *Activities) contactHistory(ctx context.Context, p store.Plan, cal Calendar) ([]contact.Attempt, error) {
	contacts, err := a.Store.Contacts(ctx, p.ID, time.Time{}, time.Time{})
	if err != nil {
		return nil, classify(fmt.Errorf("load contacts of plan %s: %w", p.ID, err))
	}
	var out []contact.Attempt
	for _, c := range contacts {
		if c.Purpose == "alert" {
			continue // an agent task, not a contact with the customer
		}
		outcome := contact.Outcome(c.Outcome)
		switch c.Outcome {
		case "cancelled", "deferred":
			continue
		case "":
			outcome = contact.Sent // queued: it will go out then
		}
		at := c.ScheduledFor
		if !c.SentAt.IsZero() {
			at = c.SentAt
		}
		out = append(out, contact.Attempt{At: cal.Clock.Business(at), Channel: contact.Channel(c.Channel), Outcome: outcome})
	}
	return out, nil
}
