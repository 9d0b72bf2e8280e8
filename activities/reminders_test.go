package activities

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/fenqi/fenqi/clock"
	"github.com/fenqi/fenqi/contact"
	"github.com/fenqi/fenqi/internal/testenv"
	"github.com/fenqi/fenqi/plan"
	"github.com/fenqi/fenqi/store"
)

// TestMain starts at most one throwaway PostgreSQL for the package's
// tests that need one, and removes it when they end.
func TestMain(m *testing.M) { testenv.Main(m) }

var shanghai8 = time.FixedZone("CST", 8*3600)

// bj is a business instant in Shanghai local time.
func bj(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, shanghai8)
}

// reminderPlan is an active plan of three instalments due on 2 April, May
// and June 2026 in a fresh database, its customer reachable by push, SMS
// and email (push preferred).
type reminderPlan struct {
	t    *testing.T
	a    *Activities
	p    store.Plan
	cust store.Customer
	cal  Calendar
}

func newReminderPlan(t *testing.T) *reminderPlan {
	t.Helper()
	ctx := context.Background()
	st := freshStore(t)
	cust, err := st.UpsertCustomer(ctx, store.Customer{ExternalRef: "rem-1", Name: "Li Lei", Phone: "13800000000",
		Email: "li@example.com", PushID: "push-1", PreferredChannel: "push", TimeZone: "Asia/Shanghai", Profile: []byte(`{}`)})
	if err != nil {
		t.Fatalf("customer: %v", err)
	}
	app, err := st.CreateApplication(ctx, store.Application{RequestID: "rem-app-1", CustomerID: cust.ID, Amount: decimal.RequireFromString("3000"), Terms: 3})
	if err != nil {
		t.Fatalf("application: %v", err)
	}
	p, err := st.CreatePlan(ctx, store.Plan{ApplicationID: app.ID, CustomerID: cust.ID})
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	d := decimal.RequireFromString
	day := func(m time.Month) time.Time { return time.Date(2026, m, 2, 0, 0, 0, 0, time.UTC) }
	rows := []store.Instalment{
		{No: 1, DueDate: day(time.April), Principal: d("1000"), Interest: d("30"), Payment: d("1030"), BalanceAfter: d("2000")},
		{No: 2, DueDate: day(time.May), Principal: d("1000"), Interest: d("20"), Payment: d("1020"), BalanceAfter: d("1000")},
		{No: 3, DueDate: day(time.June), Principal: d("1000"), Interest: d("10"), Payment: d("1010"), BalanceAfter: d("0")},
	}
	if err := st.SaveSchedule(ctx, store.ScheduleVersion{PlanID: p.ID, Version: 1, Reason: "activation"}, rows); err != nil {
		t.Fatalf("schedule: %v", err)
	}
	return &reminderPlan{t: t, a: &Activities{Store: st, Now: time.Now}, p: p, cust: cust, cal: Calendar{TimeZone: "Asia/Shanghai"}}
}

// queue plans the reminders of the next instalment at the business instant
// now with offsets.
func (r *reminderPlan) queue(now time.Time, offsets ...plan.ReminderOffset) time.Time {
	r.t.Helper()
	at, err := r.a.queueReminders(context.Background(), r.p, r.cust, 1, now, r.cal, false, offsets)
	if err != nil {
		r.t.Fatalf("queue reminders at %s: %v", now, err)
	}
	return at
}

// reminder is a queued reminder as the tests look at it.
type reminder struct {
	key      string
	no       int
	channel  string
	business time.Time
	// planned is the business time recorded in the details (exact on a
	// compressed calendar, where business is only as exact as a real
	// millisecond).
	planned  time.Time
	deferred bool
	reason   string
	outbox   time.Time
}

func (r *reminderPlan) reminders() []reminder {
	r.t.Helper()
	contacts, err := r.a.Store.Contacts(context.Background(), r.p.ID, time.Time{}, time.Time{})
	if err != nil {
		r.t.Fatal(err)
	}
	var out []reminder
	for _, c := range contacts {
		if c.Purpose != "reminder" {
			continue
		}
		var details struct {
			Deferred bool      `json:"deferred"`
			Reason   string    `json:"reason"`
			Business time.Time `json:"business_time"`
		}
		if err := json.Unmarshal(c.Details, &details); err != nil {
			r.t.Fatalf("details of %s: %v", c.ContactKey, err)
		}
		var outbox time.Time
		if err := r.a.Store.Pool().QueryRow(context.Background(), `SELECT available_at FROM outbox WHERE contact_id = $1`, c.ID).Scan(&outbox); err != nil {
			r.t.Fatalf("outbox row of %s: %v", c.ContactKey, err)
		}
		out = append(out, reminder{
			key: strings.TrimPrefix(c.ContactKey, r.p.ID.String()+":"), no: c.InstalmentNo, channel: c.Channel,
			business: r.cal.Clock.Business(c.ScheduledFor).In(shanghai8), planned: details.Business, deferred: details.Deferred, reason: details.Reason, outbox: outbox,
		})
	}
	return out
}

// A reminder whose offset falls at night (D-1 at 23:00) is planned by the
// contact rules at 08:00 the next morning, before the debit at 09:00, with
// the reason recorded; the default D-3 at 08:00 goes out as planned, under
// the key it always had.
func TestReminderDueAtNightIsDeferredTo8AM(t *testing.T) {
	r := newReminderPlan(t)
	first := r.queue(bj(2026, 3, 2, 12, 0), plan.ReminderOffset{Days: 1, Hour: 23}, plan.ReminderOffset{Days: 3, Hour: 8})

	got := r.reminders()
	if len(got) != 2 {
		t.Fatalf("%d reminders queued, want 2 (one per offset): %+v", len(got), got)
	}
	d3, d1 := got[0], got[1]
	if d3.key != "reminder:v1:1" || !d3.business.Equal(bj(2026, 3, 30, 8, 0)) || d3.deferred || d3.channel != "push" || d3.no != 1 {
		t.Errorf("D-3 reminder %+v, want reminder:v1:1 by push at 2026-03-30 08:00, not deferred", d3)
	}
	if d1.key != "reminder:v1:1:D-1@23" || !d1.business.Equal(bj(2026, 4, 2, 8, 0)) || !d1.deferred || d1.channel != "push" {
		t.Errorf("D-1 23:00 reminder %+v, want reminder:v1:1:D-1@23 by push at 2026-04-02 08:00, deferred", d1)
	}
	if !strings.Contains(d1.reason, "08:00-21:00 window") {
		t.Errorf("the deferred reminder's reason is %q, want the contact window named", d1.reason)
	}
	for _, x := range got {
		if !x.outbox.Equal(x.business) {
			t.Errorf("%s: outbox delivery at %s, want its planned time %s", x.key, x.outbox, x.business)
		}
	}
	if !first.Equal(bj(2026, 3, 30, 8, 0)) {
		t.Errorf("queueReminders returned %s, want the earliest reminder 2026-03-30 08:00", first)
	}
}

// On a compressed calendar the reminder is planned in business time and
// queued at the matching real instant.
func TestReminderAtNightOnACompressedCalendar(t *testing.T) {
	r := newReminderPlan(t)
	origin := bj(2026, 3, 2, 10, 0)
	r.cal.Clock = clock.Clock{Origin: origin, DaySeconds: 0.05}
	r.queue(bj(2026, 3, 2, 12, 0), plan.ReminderOffset{Days: 1, Hour: 23})
	got := r.reminders()
	if len(got) != 1 || !got[0].planned.Equal(bj(2026, 4, 2, 8, 0)) {
		t.Fatalf("reminders %+v, want one planned at business 2026-04-02 08:00", got)
	}
	// 30 business days and 22 hours after the origin, at 0.05 s a day:
	// 1545.83 ms, rounded to the millisecond.
	if want := origin.Add(1546 * time.Millisecond); !got[0].outbox.Equal(want) {
		t.Errorf("outbox delivery at real %s, want %s", got[0].outbox, want)
	}
	// A real millisecond is 28.8 business minutes at 0.05 s a day: the
	// stored real instant reads back as business time within half of that.
	if d := got[0].business.Sub(got[0].planned); d < -15*time.Minute || d > 15*time.Minute {
		t.Errorf("the stored instant reads back as business %s, %s from the plan", got[0].business, d)
	}
}

// A reminder whose nominal time has passed is planned from now, never in
// the past: in the window, now; at night, when the window opens.
func TestReminderIsNeverPlannedInThePast(t *testing.T) {
	for _, c := range []struct {
		name     string
		now      time.Time
		want     time.Time
		deferred bool
	}{
		{"nominal passed, in the window", bj(2026, 3, 31, 15, 0), bj(2026, 3, 31, 15, 0), false},
		{"nominal passed, at night", bj(2026, 3, 31, 22, 30), bj(2026, 4, 1, 8, 0), true},
		{"nominal passed, early on the day before the due date", bj(2026, 4, 1, 6, 0), bj(2026, 4, 1, 8, 0), true},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newReminderPlan(t)
			r.queue(c.now)
			got := r.reminders()
			if len(got) != 1 {
				t.Fatalf("%d reminders, want 1: %+v", len(got), got)
			}
			if !got[0].business.Equal(c.want) || got[0].deferred != c.deferred {
				t.Errorf("reminder at %s (deferred %v), want %s (deferred %v)", got[0].business, got[0].deferred, c.want, c.deferred)
			}
			if got[0].business.Before(c.now) {
				t.Errorf("reminder planned at %s, before now %s", got[0].business, c.now)
			}
		})
	}
}

// Reminders of one instalment count against the daily cap of each other,
// in the order of their nominal times: the third on the same day goes out
// the next morning; one whose offset is after the debit is dropped.
func TestRemindersKeepTheCaps(t *testing.T) {
	r := newReminderPlan(t)
	r.queue(bj(2026, 3, 2, 12, 0),
		plan.ReminderOffset{Days: 0, Hour: 10}, plan.ReminderOffset{Days: 1, Hour: 10}, plan.ReminderOffset{Days: 1, Hour: 9},
		plan.ReminderOffset{Days: 1, Hour: 8}, plan.ReminderOffset{Days: 0, Hour: 8})
	got := r.reminders()
	planned := map[string]string{}
	for _, x := range got {
		planned[x.key] = x.business.Format("01-02 15:04")
	}
	want := map[string]string{
		"reminder:v1:1:D-1@08": "04-01 08:00",
		"reminder:v1:1:D-1@09": "04-01 09:00",
		"reminder:v1:1:D-1@10": "04-02 08:00", // the day's cap of 2 messages is reached
		"reminder:v1:1:D-0@08": "04-02 08:00",
		// D-0 10:00 is after the debit at 09:00: dropped.
	}
	if fmt.Sprint(planned) != fmt.Sprint(want) {
		t.Fatalf("reminders %v, want %v", planned, want)
	}
	// Every reminder passes the rules given the ones before it.
	var history []contact.Attempt
	loc, _ := time.LoadLocation("Asia/Shanghai")
	for _, x := range got {
		if err := contact.DefaultRules().Check(x.business, contact.Channel(x.channel), history, loc); err != nil {
			t.Errorf("%s: %v", x.key, err)
		}
		history = append(history, contact.Attempt{At: x.business, Channel: contact.Channel(x.channel), Outcome: contact.Sent})
	}
}

// Planning again (the debit retries of the same instalment, or a retried
// activity) keeps the reminders already queued: no duplicate, no
// conflict, even when the contacts since then would move them.
func TestRemindersPlannedTwiceAreKept(t *testing.T) {
	r := newReminderPlan(t)
	offsets := []plan.ReminderOffset{{Days: 1, Hour: 23}, {Days: 3, Hour: 8}}
	r.queue(bj(2026, 3, 2, 12, 0), offsets...)
	before := r.reminders()
	// Two notices on the morning of 2026-04-02 fill that day's cap: the
	// deferred D-1 reminder, planned again now, would find no slot.
	for i, h := range []int{8, 8} {
		if _, _, err := r.a.Store.QueueContact(context.Background(), store.Contact{
			PlanID: r.p.ID, ContactKey: r.p.ID.String() + ":test-notice:" + uuid.NewString(), Purpose: "notice", Channel: "sms",
			ScheduledFor: bj(2026, 4, 2, h, i), Body: "test",
		}, json.RawMessage(`{"body":"test"}`)); err != nil {
			t.Fatal(err)
		}
	}
	first := r.queue(bj(2026, 3, 3, 9, 0), offsets...)
	after := r.reminders()
	if len(after) != len(before) {
		t.Fatalf("%d reminders after planning again, %d before", len(after), len(before))
	}
	for i := range before {
		if after[i] != before[i] {
			t.Errorf("reminder %s changed: %+v, was %+v", before[i].key, after[i], before[i])
		}
	}
	if !first.Equal(bj(2026, 3, 30, 8, 0)) {
		t.Errorf("queueReminders returned %s, want the earliest queued reminder 2026-03-30 08:00", first)
	}
}

// The default (no offsets) is one reminder at D-3 08:00 under the key
// reminder:v<version>:<no>.
func TestDefaultReminderIsDMinus3At8(t *testing.T) {
	r := newReminderPlan(t)
	at, err := r.a.queueReminders(context.Background(), r.p, r.cust, 1, bj(2026, 3, 2, 12, 0), r.cal, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := r.reminders()
	if len(got) != 1 || got[0].key != "reminder:v1:1" || !got[0].business.Equal(bj(2026, 3, 30, 8, 0)) || !at.Equal(got[0].business) {
		t.Fatalf("reminders %+v (returned %s), want reminder:v1:1 at 2026-03-30 08:00", got, at)
	}
}

// An early warning (a debit just failed) is an agent task 5 days before
// the next due date at 09:00, raised once.
func TestEarlyWarningBeforeTheDueDate(t *testing.T) {
	r := newReminderPlan(t)
	for _, now := range []time.Time{bj(2026, 3, 2, 9, 0), bj(2026, 3, 3, 9, 0)} {
		if _, err := r.a.queueReminders(context.Background(), r.p, r.cust, 1, now, r.cal, true, nil); err != nil {
			t.Fatal(err)
		}
	}
	contacts, err := r.a.Store.Contacts(context.Background(), r.p.ID, time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	var alerts []store.Contact
	for _, c := range contacts {
		if c.Purpose == "alert" {
			alerts = append(alerts, c)
		}
	}
	if len(alerts) != 1 || !alerts[0].ScheduledFor.Equal(bj(2026, 3, 28, 9, 0)) || alerts[0].Channel != "phone" || alerts[0].InstalmentNo != 1 {
		t.Fatalf("alerts %+v, want one phone task for instalment 1 at 2026-03-28 09:00 (D-5)", alerts)
	}
}

// The offsets are validated with the application.
func TestReminderSettingsValidation(t *testing.T) {
	for _, c := range []struct {
		r    plan.Reminders
		want string
	}{
		{plan.Reminders{{Days: 7, Hour: 8}, {Days: 1, Hour: 23}}, ""},
		{plan.Reminders{{Days: -1, Hour: 8}}, "settings.reminders[0].days"},
		{plan.Reminders{{Days: 61, Hour: 8}}, "settings.reminders[0].days"},
		{plan.Reminders{{Days: 1, Hour: 24}}, "settings.reminders[0].hour"},
		{plan.Reminders{{Days: 3, Hour: 8}, {Days: 3, Hour: 8}}, "listed twice"},
		{plan.Reminders{{Days: 1, Hour: 8}, {Days: 2, Hour: 8}, {Days: 3, Hour: 8}, {Days: 4, Hour: 8}, {Days: 5, Hour: 8}, {Days: 6, Hour: 8}}, "at most 5"},
	} {
		err := c.r.Validate()
		if (c.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.want)) {
			t.Errorf("Validate(%v) = %v, want %q", c.r, err, c.want)
		}
	}
	if got := (plan.Settings{}).ReminderOffsets(); len(got) != 1 || got[0] != (plan.ReminderOffset{Days: 3, Hour: 8}) {
		t.Errorf("default offsets %v, want [D-3 08:00]", got)
	}
}
