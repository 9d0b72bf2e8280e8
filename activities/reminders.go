package activities

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/fenqi/fenqi/calc"
	"github.com/fenqi/fenqi/clock"
	"github.com/fenqi/fenqi/contact"
	"github.com/fenqi/fenqi/plan"
	"github.com/fenqi/fenqi/store"
)

// ReminderDaysBefore is the default pre-due reminder offset (D-3).
const ReminderDaysBefore = 3

// reminderHour is the business local time the default reminder is planned
// for, and alertHour and alertDays when an early-warning task is, before
// the contact rules.
const (
	reminderHour = 8
	alertHour    = 9
	alertDays    = 5
)

// queueReminders plans the reminders of the next instalment due after the
// business instant now, one per offset (none: plan.DefaultReminders), and
// queues them in the outbox with their delivery times. Each is planned by
// the contact rules from the later of its nominal time (Days before the
// due date at Hour, local time) and now, so a reminder due at night goes
// out when the window opens and none is planned in the past; a reminder
// that finds no allowed slot before the due date's debit is dropped (the
// due-date notice tells the result). Reminders are planned in the order of
// their nominal times, each counting against the caps of the next.
//
// When risky (a debit just failed), it also queues an early-warning task
// for an agent, alertDays before the due date at alertHour (not before
// now). A reminder or task already queued under its key is kept as it is,
// so a repeated call (the debit retries of the same instalment, or an
// activity retried) neither duplicates nor moves it. It returns the
// business time of the instalment's earliest reminder (zero when none).
func (a *Activities) queueReminders(ctx context.Context, p store.Plan, cust store.Customer, version int, now time.Time, cal Calendar, risky bool, offsets plan.Reminders) (time.Time, error) {
	rows, err := a.Store.Schedule(ctx, p.ID, version)
	if err != nil {
		return time.Time{}, classify(fmt.Errorf("load schedule of plan %s: %w", p.ID, err))
	}
	loc := cal.loc()
	today := clock.LocalDate(now, loc)
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
	due := calc.DateOf(next.DueDate)
	// A reminder after the debit would announce a debit that has happened.
	debitAt := clock.At(due, loc, DebitHour, 0)

	contacts, err := a.Store.Contacts(ctx, p.ID, time.Time{}, time.Time{})
	if err != nil {
		return time.Time{}, classify(fmt.Errorf("load contacts of plan %s: %w", p.ID, err))
	}
	history := attempts(contacts, cal)
	queued := make(map[string]store.Contact, len(contacts))
	for _, c := range contacts {
		queued[c.ContactKey] = c
	}

	if len(offsets) == 0 {
		offsets = plan.DefaultReminders()
	}
	type planned struct {
		offset  plan.ReminderOffset
		nominal time.Time
	}
	var pending []planned
	for _, o := range offsets {
		pending = append(pending, planned{o, clock.At(due.AddDays(-o.Days), loc, o.Hour, 0)})
	}
	slices.SortStableFunc(pending, func(x, y planned) int { return x.nominal.Compare(y.nominal) })

	amount := next.Owed.Total()
	body := fmt.Sprintf("Reminder: your instalment %d of %s is due on %s and will be debited from your account. Please make sure it holds enough.",
		next.No, calc.FormatMoney(amount), due)
	var first time.Time
	keep := func(at time.Time) {
		if first.IsZero() || at.Before(first) {
			first = at
		}
	}
	for _, r := range pending {
		key := reminderKey(p, version, next.No, r.offset)
		if c, ok := queued[key]; ok {
			if c.Outcome != "cancelled" && c.Outcome != "deferred" {
				keep(cal.Clock.Business(c.ScheduledFor))
			}
			continue
		}
		earliest := r.nominal
		if now.After(earliest) {
			earliest = now
		}
		if !earliest.Before(debitAt) {
			continue
		}
		req := contact.Request{
			Earliest:  earliest,
			Preferred: contact.Channel(cust.PreferredChannel),
			Purpose:   fmt.Sprintf("reminder %s of instalment %d", r.offset, next.No),
			Addresses: contact.Addresses{HasPhone: cust.Phone != "", HasEmail: cust.Email != "", HasPush: cust.PushID != ""},
		}
		dec, err := contact.DefaultRules().Plan(req, history, loc)
		if err != nil {
			return time.Time{}, typed("InvalidInput", fmt.Errorf("plan reminder %s of instalment %d of plan %s: %w", r.offset, next.No, p.ID, err))
		}
		if !dec.At.Before(debitAt) {
			// No slot before the debit: the due-date notice will do.
			continue
		}
		c := store.Contact{
			PlanID: p.ID, ContactKey: key, Purpose: "reminder",
			Channel: string(dec.Channel), ScheduleVersion: version, InstalmentNo: next.No,
			ScheduledFor: cal.real(dec.At), Body: body,
			Details: mustJSON(map[string]any{
				"offset": r.offset.String(), "nominal": r.nominal, "business_time": dec.At,
				"deferred": dec.Deferred, "reason": dec.Reason, "channel_reason": dec.ChannelReason,
			}),
		}
		if _, _, err := a.Store.QueueContact(ctx, c, mustJSON(map[string]string{"body": body})); err != nil {
			return time.Time{}, classify(fmt.Errorf("queue reminder %s of instalment %d of plan %s: %w", r.offset, next.No, p.ID, err))
		}
		history = append(history, contact.Attempt{At: dec.At, Channel: dec.Channel, Outcome: contact.Sent})
		keep(dec.At)
	}

	if risky {
		// An agent's call is collection contact, which an open complaint
		// pauses.
		paused, err := a.contactPaused(ctx, p, cal.real(now))
		if err != nil {
			return time.Time{}, err
		}
		risky = !paused
	}
	if risky {
		key := fmt.Sprintf("%s:alert:v%d:%d", p.ID, version, next.No)
		if _, ok := queued[key]; !ok {
			at := clock.At(due.AddDays(-alertDays), loc, alertHour, 0)
			if now.After(at) {
				at = now
			}
			alert := fmt.Sprintf("Early warning: a debit of plan %s failed; instalment %d of %s is due on %s. Call the customer before the due date.",
				p.ID, next.No, calc.FormatMoney(amount), due)
			ac := store.Contact{
				PlanID: p.ID, ContactKey: key, Purpose: "alert",
				Channel: "phone", ScheduleVersion: version, InstalmentNo: next.No, ScheduledFor: cal.real(at), Body: alert,
			}
			if _, _, err := a.Store.QueueContact(ctx, ac, mustJSON(map[string]string{"body": alert})); err != nil {
				return time.Time{}, classify(fmt.Errorf("queue early warning for plan %s: %w", p.ID, err))
			}
			slog.WarnContext(ctx, "early warning raised", "plan_id", p.ID, "instalment", next.No, "due", due.String())
		}
	}
	return first, nil
}

// reminderKey is the contact key of the reminder at offset o of instalment
// no. The default reminder (D-3 at 08:00) keeps the key it has always had,
// so a plan running when offsets became configurable gets no second copy.
func reminderKey(p store.Plan, version, no int, o plan.ReminderOffset) string {
	key := fmt.Sprintf("%s:reminder:v%d:%d", p.ID, version, no)
	if o != (plan.ReminderOffset{Days: ReminderDaysBefore, Hour: reminderHour}) {
		key += fmt.Sprintf(":D-%d@%02d", o.Days, o.Hour)
	}
	return key
}

// contactHistory is the plan's contacts as the contact rules see them (see
// attempts).
func (a *Activities) contactHistory(ctx context.Context, p store.Plan, cal Calendar) ([]contact.Attempt, error) {
	contacts, err := a.Store.Contacts(ctx, p.ID, time.Time{}, time.Time{})
	if err != nil {
		return nil, classify(fmt.Errorf("load contacts of plan %s: %w", p.ID, err))
	}
	return attempts(contacts, cal), nil
}

// attempts are contacts as the contact rules see them: business times,
// queued contacts counted at their planned time, cancelled and deferred
// ones and agent tasks left out.
func attempts(contacts []store.Contact, cal Calendar) []contact.Attempt {
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
	return out
}
