package outbox

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/fenqi/fenqi/channels"
	"github.com/fenqi/fenqi/internal/testenv"
	"github.com/fenqi/fenqi/migrations"
	"github.com/fenqi/fenqi/store"
)

func TestMain(m *testing.M) {
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	testenv.Main(m)
}

// t0 is when the test messages fall due: 08:00 in Shanghai.
var t0 = time.Date(2025, 1, 29, 8, 0, 0, 0, time.FixedZone("CST", 8*3600))

// env is a migrated database with an active plan of three monthly
// instalments (schedule version 1).
type env struct {
	url  string
	s    *store.Store
	plan store.Plan
}

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func threeRows() []store.Instalment {
	return []store.Instalment{
		{No: 1, DueDate: day(2025, 2, 1), Principal: dec("1000"), Interest: dec("30"), Payment: dec("1030"), BalanceAfter: dec("2000")},
		{No: 2, DueDate: day(2025, 3, 1), Principal: dec("1000"), Interest: dec("20"), Payment: dec("1020"), BalanceAfter: dec("1000")},
		{No: 3, DueDate: day(2025, 4, 1), Principal: dec("1000"), Interest: dec("10"), Payment: dec("1010"), BalanceAfter: dec("0")},
	}
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	e := &env{url: testenv.Database(t)}
	if _, err := migrations.Up(ctx, e.url); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	e.s = openStore(t, e.url)
	s := e.s
	cust, err := s.UpsertCustomer(ctx, store.Customer{ExternalRef: "cust-1", Name: "Li Lei", Phone: "13800000000"})
	if err != nil {
		t.Fatalf("customer: %v", err)
	}
	app, err := s.CreateApplication(ctx, store.Application{RequestID: "app-1", CustomerID: cust.ID, Amount: dec("3000"), Terms: 3})
	if err != nil {
		t.Fatalf("application: %v", err)
	}
	if e.plan, err = s.CreatePlan(ctx, store.Plan{ApplicationID: app.ID, CustomerID: cust.ID}); err != nil {
		t.Fatalf("plan: %v", err)
	}
	acct, err := s.CreateAccount(ctx, store.Account{CustomerID: cust.ID, Label: "main"})
	if err != nil {
		t.Fatalf("account: %v", err)
	}
	if _, err := s.SetPlanTerms(ctx, e.plan.ID, uuid.Nil, store.PlanTerms{Principal: dec("3000"), Method: "annuity",
		Terms: 3, AnnualRate: dec("0.12"), StartDate: day(2025, 1, 1)}); err != nil {
		t.Fatalf("terms: %v", err)
	}
	if _, err := s.SetFundingAccount(ctx, e.plan.ID, acct.ID); err != nil {
		t.Fatalf("funding account: %v", err)
	}
	if err := s.SaveSchedule(ctx, store.ScheduleVersion{PlanID: e.plan.ID, Version: 1, Reason: "initial"}, threeRows()); err != nil {
		t.Fatalf("schedule: %v", err)
	}
	if e.plan, err = s.SetPlanState(ctx, e.plan.ID, store.StateChange{From: store.StateAssessing, To: store.StateActive}); err != nil {
		t.Fatalf("activate: %v", err)
	}
	return e
}

func openStore(t *testing.T, url string) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), url)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// queued describes a contact to queue.
type queued struct {
	key, purpose, channel string
	version, no           int
	stage                 string
	at                    time.Time
}

// queue puts a contact and its outbox message in the store.
func (e *env) queue(t *testing.T, q queued) store.Contact {
	t.Helper()
	body := "Message " + q.key
	payload, _ := json.Marshal(map[string]string{"body": body})
	c, _, err := e.s.QueueContact(context.Background(), store.Contact{PlanID: e.plan.ID, ContactKey: q.key,
		Purpose: q.purpose, Channel: q.channel, ScheduleVersion: q.version, InstalmentNo: q.no, Stage: q.stage,
		ScheduledFor: q.at, Body: body}, payload)
	if err != nil {
		t.Fatalf("queue %s: %v", q.key, err)
	}
	return c
}

// contact returns the stored contact with the key.
func (e *env) contact(t *testing.T, key string) store.Contact {
	t.Helper()
	all, err := e.s.Contacts(context.Background(), e.plan.ID, time.Time{}, time.Time{})
	if err != nil {
		t.Fatalf("contacts: %v", err)
	}
	for _, c := range all {
		if c.ContactKey == key {
			return c
		}
	}
	t.Fatalf("no contact %s", key)
	return store.Contact{}
}

// row is the outbox row of a contact.
type row struct {
	availableAt, deliveredAt *time.Time
	attempts                 int
	lastError                string
}

func (e *env) outbox(t *testing.T, key string) row {
	t.Helper()
	var r row
	if err := e.s.Pool().QueryRow(context.Background(), `SELECT o.available_at, o.delivered_at, o.attempts, o.last_error
		FROM outbox o JOIN contacts c ON c.id = o.contact_id WHERE c.contact_key = $1`, key).
		Scan(&r.availableAt, &r.deliveredAt, &r.attempts, &r.lastError); err != nil {
		t.Fatalf("outbox row of %s: %v", key, err)
	}
	return r
}

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(t time.Time) *clock { return &clock{t: t} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// recorder is a Sender that counts the messages it gets and answers with
// outcome and err (Sent, nil by default), after delay.
type recorder struct {
	mu      sync.Mutex
	msgs    []channels.Message
	count   map[string]int
	outcome channels.Outcome
	err     error
	delay   time.Duration
}

func (r *recorder) Send(ctx context.Context, m channels.Message) (channels.Outcome, error) {
	if r.delay > 0 {
		time.Sleep(r.delay)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.count == nil {
		r.count = map[string]int{}
	}
	r.msgs = append(r.msgs, m)
	r.count[m.ContactKey]++
	if r.outcome == "" && r.err == nil {
		return channels.Sent, nil
	}
	return r.outcome, r.err
}

func (r *recorder) got() []channels.Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]channels.Message(nil), r.msgs...)
}

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

func mustDeliver(t *testing.T, d *Dispatcher, want int) {
	t.Helper()
	n, err := d.DeliverDue(context.Background())
	if err != nil {
		t.Fatalf("DeliverDue: %v", err)
	}
	if n != want {
		t.Fatalf("DeliverDue finished %d messages, want %d", n, want)
	}
}
