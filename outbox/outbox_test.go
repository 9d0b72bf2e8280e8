package outbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fenqi/fenqi/channels"
	"github.com/fenqi/fenqi/store"
)

// A due message is delivered once and its contact marked; one not yet due
// waits for its time.
func TestDeliversDueMessageOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.queue(t, queued{key: "n-1", purpose: "notice", channel: "sms", at: t0})
	e.queue(t, queued{key: "n-2", purpose: "schedule_notice", channel: "email", at: t0.Add(time.Hour)})
	clk := newClock(t0)
	rec := &recorder{}
	d := &Dispatcher{Store: e.s, Sender: rec, Now: clk.Now, Log: quiet()}

	mustDeliver(t, d, 1)
	msgs := rec.got()
	if len(msgs) != 1 {
		t.Fatalf("sent %d messages, want 1: %+v", len(msgs), msgs)
	}
	m := msgs[0]
	var payload map[string]string
	if err := json.Unmarshal(m.Payload, &payload); err != nil {
		t.Fatalf("payload %s: %v", m.Payload, err)
	}
	if m.ContactKey != "n-1" || m.PlanID != e.plan.ID.String() || m.Channel != "sms" || m.Purpose != "notice" ||
		m.Body != "Message n-1" || payload["body"] != "Message n-1" {
		t.Fatalf("message %+v", m)
	}
	c := e.contact(t, "n-1")
	if c.Outcome != "sent" || !c.SentAt.Equal(t0) {
		t.Fatalf("contact after delivery: outcome %q sent at %s", c.Outcome, c.SentAt)
	}
	r := e.outbox(t, "n-1")
	if r.deliveredAt == nil || !r.deliveredAt.Equal(t0) || r.attempts != 1 || r.lastError != "" {
		t.Fatalf("outbox row after delivery %+v", r)
	}
	if c := e.contact(t, "n-2"); c.Outcome != "" || !c.SentAt.IsZero() {
		t.Fatalf("contact not yet due was marked: %+v", c)
	}
	if r := e.outbox(t, "n-2"); r.deliveredAt != nil || r.attempts != 0 {
		t.Fatalf("message not yet due was touched: %+v", r)
	}

	// Nothing more is due: no message goes out again.
	mustDeliver(t, d, 0)
	clk.Set(t0.Add(59 * time.Minute))
	mustDeliver(t, d, 0)
	if n := len(rec.got()); n != 1 {
		t.Fatalf("%d sends after repeated passes, want 1", n)
	}

	clk.Set(t0.Add(time.Hour))
	mustDeliver(t, d, 1)
	if c := e.contact(t, "n-2"); c.Outcome != "sent" || !c.SentAt.Equal(t0.Add(time.Hour)) {
		t.Fatalf("second contact %+v", c)
	}
	if rec.count["n-1"] != 1 || rec.count["n-2"] != 1 {
		t.Fatalf("send counts %v", rec.count)
	}
}

// A reminder whose instalment is paid, waived or superseded by its time is
// not sent but recorded cancelled; other messages about it still go out.
func TestStaleRemindersAreCancelled(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	s := e.s
	e.queue(t, queued{key: "rem-v1-1", purpose: "reminder", channel: "sms", version: 1, no: 1, stage: "M0", at: t0})
	e.queue(t, queued{key: "rem-v1-2", purpose: "reminder", channel: "push", version: 1, no: 2, at: t0})
	e.queue(t, queued{key: "rem-v1-3", purpose: "reminder", channel: "email", version: 1, no: 3, at: t0})
	e.queue(t, queued{key: "debit-v1-1", purpose: "notice", channel: "sms", version: 1, no: 1, at: t0})

	if _, err := s.RecordPayment(ctx, store.Payment{PlanID: e.plan.ID, PaymentID: "pay-1", Source: store.SourceExternal,
		Amount: dec("1030"), ReceivedAt: t0.Add(-24 * time.Hour), Allocations: []store.Allocation{
			{ScheduleVersion: 1, InstalmentNo: 1, Component: store.ComponentInterest, Amount: dec("30")},
			{ScheduleVersion: 1, InstalmentNo: 1, Component: store.ComponentPrincipal, Amount: dec("1000")},
		}}); err != nil {
		t.Fatalf("pay instalment 1: %v", err)
	}
	if _, err := s.SetInstalmentStatus(ctx, e.plan.ID, 1, 2, store.InstalmentPending, store.InstalmentWaived); err != nil {
		t.Fatalf("waive instalment 2: %v", err)
	}
	if err := s.SaveSchedule(ctx, store.ScheduleVersion{PlanID: e.plan.ID, Version: 2, Reason: "restructure"}, threeRows()); err != nil {
		t.Fatalf("schedule v2: %v", err)
	}
	e.queue(t, queued{key: "rem-v2-3", purpose: "reminder", channel: "sms", version: 2, no: 3, at: t0})

	rec := &recorder{}
	d := &Dispatcher{Store: s, Sender: rec, Now: func() time.Time { return t0 }, Log: quiet()}
	mustDeliver(t, d, 5)
	if rec.count["debit-v1-1"] != 1 || rec.count["rem-v2-3"] != 1 || len(rec.got()) != 2 {
		t.Fatalf("sent %v, want only the notice and the reminder of v2", rec.count)
	}
	for key, status := range map[string]string{"rem-v1-1": "paid", "rem-v1-2": "waived", "rem-v1-3": "superseded"} {
		c := e.contact(t, key)
		if c.Outcome != store.OutcomeCancelled || !c.SentAt.IsZero() {
			t.Errorf("%s: outcome %q sent at %s, want cancelled and never sent", key, c.Outcome, c.SentAt)
		}
		r := e.outbox(t, key)
		if r.deliveredAt == nil || !strings.Contains(r.lastError, "is "+status) {
			t.Errorf("%s: outbox row %+v, want it finished with the reason %q", key, r, status)
		}
	}
	var audited int
	if err := s.Pool().QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE plan_id = $1 AND action = 'contact.outcome'
		AND details->>'outcome' = 'cancelled'`, e.plan.ID).Scan(&audited); err != nil || audited != 3 {
		t.Fatalf("cancellations audited %d (%v), want 3", audited, err)
	}
	mustDeliver(t, d, 0)
}

// Two dispatchers on one database (two pools, as two worker processes
// would) deliver each of 50 messages exactly once.
func TestConcurrentDispatchersSendEachOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	chans := []string{"sms", "email", "push", "letter"}
	for i := range 50 {
		e.queue(t, queued{key: fmt.Sprintf("bulk-%02d", i), purpose: "notice", channel: chans[i%len(chans)],
			at: t0.Add(time.Duration(i) * time.Second)})
	}
	rec := &recorder{delay: 2 * time.Millisecond}
	// Each dispatcher's first send waits until the other one is sending
	// too: both hold a claimed batch at the same time.
	var both sync.WaitGroup
	both.Add(2)
	gated := func() channels.Sender {
		var once sync.Once
		return senderFunc(func(ctx context.Context, m channels.Message) (channels.Outcome, error) {
			once.Do(func() {
				both.Done()
				waited := make(chan struct{})
				go func() { both.Wait(); close(waited) }()
				select {
				case <-waited:
				case <-time.After(10 * time.Second):
					t.Error("the dispatchers never sent at the same time")
				}
			})
			return rec.Send(ctx, m)
		})
	}
	now := func() time.Time { return t0.Add(time.Minute) }
	ds := []*Dispatcher{
		{Store: e.s, Sender: gated(), Now: now, Batch: 4, Log: quiet()},
		{Store: openStore(t, e.url), Sender: gated(), Now: now, Batch: 4, Log: quiet()},
	}
	var (
		wg    sync.WaitGroup
		start = make(chan struct{})
		done  [2]int
	)
	for i, d := range ds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for {
				n, err := d.DeliverDue(context.Background())
				if err != nil {
					t.Errorf("dispatcher %d: %v", i, err)
					return
				}
				if n == 0 {
					return
				}
				done[i] += n
			}
		}()
	}
	close(start)
	wg.Wait()
	for i := range 50 {
		if key := fmt.Sprintf("bulk-%02d", i); rec.count[key] != 1 {
			t.Errorf("%s sent %d times", key, rec.count[key])
		}
	}
	if n := len(rec.got()); n != 50 {
		t.Fatalf("%d sends for 50 messages", n)
	}
	if done[0]+done[1] != 50 || done[0] == 0 || done[1] == 0 {
		t.Fatalf("dispatchers finished %v messages, want 50 shared by both", done)
	}
	var sent, delivered int
	if err := e.s.Pool().QueryRow(context.Background(), `SELECT
			(SELECT count(*) FROM contacts WHERE outcome = 'sent' AND sent_at IS NOT NULL),
			(SELECT count(*) FROM outbox WHERE delivered_at IS NOT NULL AND attempts = 1)`).Scan(&sent, &delivered); err != nil {
		t.Fatal(err)
	}
	if sent != 50 || delivered != 50 {
		t.Fatalf("%d contacts sent, %d messages delivered on the first attempt, want 50 and 50", sent, delivered)
	}
}

// webhook is a receiver that answers with the codes given, one per request
// (the last one from then on).
type webhook struct {
	srv   *httptest.Server
	mu    sync.Mutex
	codes []int
	keys  []string
}

func newWebhook(t *testing.T, codes ...int) *webhook {
	w := &webhook{codes: codes}
	w.srv = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.mu.Lock()
		code := w.codes[min(len(w.keys), len(w.codes)-1)]
		w.keys = append(w.keys, r.Header.Get("Idempotency-Key"))
		w.mu.Unlock()
		rw.WriteHeader(code)
		_, _ = fmt.Fprintf(rw, "status %d", code)
	}))
	t.Cleanup(w.srv.Close)
	return w
}

func (w *webhook) requests() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.keys...)
}

// A 5xx is retried on a later pass, after the backoff, and then delivered.
func TestServerErrorIsRetriedThenDelivered(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.queue(t, queued{key: "n-1", purpose: "notice", channel: "sms", at: t0})
	hook := newWebhook(t, http.StatusServiceUnavailable, http.StatusOK)
	clk := newClock(t0)
	d := &Dispatcher{Store: e.s, Sender: channels.WebhookSender{URL: hook.srv.URL, Token: "secret"}, Now: clk.Now,
		RetryBase: 30 * time.Second, Log: quiet()}

	mustDeliver(t, d, 0)
	r := e.outbox(t, "n-1")
	if r.deliveredAt != nil || r.attempts != 1 || !strings.Contains(r.lastError, "503") || !r.availableAt.Equal(t0.Add(30*time.Second)) {
		t.Fatalf("outbox row after a 503: %+v (available at %s)", r, r.availableAt)
	}
	if c := e.contact(t, "n-1"); c.Outcome != "" {
		t.Fatalf("contact marked %q after a retryable error", c.Outcome)
	}

	clk.Set(t0.Add(10 * time.Second)) // still backing off
	mustDeliver(t, d, 0)
	if n := len(hook.requests()); n != 1 {
		t.Fatalf("%d requests during the backoff, want 1", n)
	}

	clk.Set(t0.Add(31 * time.Second))
	mustDeliver(t, d, 1)
	if keys := hook.requests(); len(keys) != 2 || keys[0] != "n-1" || keys[1] != "n-1" {
		t.Fatalf("requests %v, want two with Idempotency-Key n-1", keys)
	}
	c := e.contact(t, "n-1")
	if c.Outcome != "delivered" || !c.SentAt.Equal(t0.Add(31*time.Second)) {
		t.Fatalf("contact %+v", c)
	}
	if r := e.outbox(t, "n-1"); r.deliveredAt == nil || r.attempts != 2 || r.lastError != "" {
		t.Fatalf("outbox row after delivery %+v", r)
	}
	clk.Set(t0.Add(time.Hour))
	mustDeliver(t, d, 0)
	if n := len(hook.requests()); n != 2 {
		t.Fatalf("%d requests after delivery, want 2", n)
	}
}

// A 4xx is a failure for good: recorded, never retried.
func TestClientErrorFailsForGood(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.queue(t, queued{key: "n-1", purpose: "notice", channel: "email", at: t0})
	hook := newWebhook(t, http.StatusUnprocessableEntity)
	clk := newClock(t0)
	d := &Dispatcher{Store: e.s, Sender: channels.WebhookSender{URL: hook.srv.URL}, Now: clk.Now, Log: quiet()}
	mustDeliver(t, d, 1)
	c := e.contact(t, "n-1")
	if c.Outcome != "failed" || !c.SentAt.Equal(t0) {
		t.Fatalf("contact %+v", c)
	}
	if r := e.outbox(t, "n-1"); r.deliveredAt == nil || !strings.Contains(r.lastError, "422") {
		t.Fatalf("outbox row %+v", r)
	}
	clk.Set(t0.Add(24 * time.Hour))
	mustDeliver(t, d, 0)
	if n := len(hook.requests()); n != 1 {
		t.Fatalf("%d requests, want 1", n)
	}
}

// A message that keeps failing is recorded failed once it is too late to
// send; the backoff doubles up to its bound until then.
func TestGivesUpWhenTooLate(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.queue(t, queued{key: "n-1", purpose: "notice", channel: "sms", at: t0})
	rec := &recorder{err: errors.New("provider down")}
	clk := newClock(t0)
	d := &Dispatcher{Store: e.s, Sender: rec, Now: clk.Now, RetryBase: time.Minute, RetryMax: 4 * time.Minute,
		GiveUpAfter: time.Hour, Log: quiet()}
	at := t0
	for i, wait := range []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 4 * time.Minute} {
		mustDeliver(t, d, 0)
		r := e.outbox(t, "n-1")
		if at = at.Add(wait); !r.availableAt.Equal(at) || r.attempts != i+1 || r.lastError != "provider down" {
			t.Fatalf("after attempt %d: %+v (available at %s), want a retry at %s", i+1, r, r.availableAt, at)
		}
		clk.Set(at)
	}
	clk.Set(t0.Add(time.Hour))
	mustDeliver(t, d, 1)
	c := e.contact(t, "n-1")
	if c.Outcome != "failed" || !c.SentAt.Equal(t0.Add(time.Hour)) {
		t.Fatalf("contact %+v", c)
	}
	if r := e.outbox(t, "n-1"); r.deliveredAt == nil || !strings.Contains(r.lastError, "gave up after 5 attempts") {
		t.Fatalf("outbox row %+v", r)
	}
}

// A claimed message stays with its dispatcher for the lease, then goes back
// to anyone; only the first to finish it records an outcome.
func TestLease(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	e.queue(t, queued{key: "n-1", purpose: "notice", channel: "sms", at: t0})
	s := e.s
	a, err := s.ClaimOutboxLease(ctx, t0, 10, time.Minute)
	if err != nil || len(a) != 1 || a[0].Contact.ContactKey != "n-1" || !a[0].DueAt.Equal(t0) ||
		a[0].Message.Attempts != 1 || !a[0].Message.AvailableAt.Equal(t0.Add(time.Minute)) {
		t.Fatalf("first claim %+v, %v", a, err)
	}
	if b, err := s.ClaimOutboxLease(ctx, t0.Add(59*time.Second), 10, time.Minute); err != nil || len(b) != 0 {
		t.Fatalf("claim during the lease got %+v, %v", b, err)
	}
	b, err := s.ClaimOutboxLease(ctx, t0.Add(time.Minute), 10, time.Minute)
	if err != nil || len(b) != 1 || b[0].Message.Attempts != 2 {
		t.Fatalf("claim after the lease %+v, %v", b, err)
	}
	if done, err := s.FinishOutbox(ctx, b[0].Message.ID, "delivered", t0.Add(time.Minute), ""); !done || err != nil {
		t.Fatalf("finish by the second claimer: %t, %v", done, err)
	}
	if done, err := s.FinishOutbox(ctx, a[0].Message.ID, "failed", t0.Add(2*time.Minute), "late"); done || err != nil {
		t.Fatalf("finish by the first claimer: %t, %v; want a no-op", done, err)
	}
	if c := e.contact(t, "n-1"); c.Outcome != "delivered" {
		t.Fatalf("contact %+v", c)
	}
	if err := s.RetryOutbox(ctx, a[0].Message.ID, t0.Add(time.Hour), "x"); err != nil {
		t.Fatalf("retry of a finished message: %v", err)
	}
	if r := e.outbox(t, "n-1"); r.deliveredAt == nil || r.lastError != "" {
		t.Fatalf("a finished message changed: %+v", r)
	}
	if _, err := s.FinishOutbox(ctx, a[0].Message.ID, "lost", t0, ""); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("unknown outcome: %v", err)
	}
	if _, err := s.ClaimOutboxLease(ctx, t0, 0, time.Minute); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("claim of 0 messages: %v", err)
	}
}

// A phone contact becomes a call task for an agent, once however often it
// is sent.
func TestPhoneContactBecomesTask(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	t.Setenv("FENQI_WEBHOOK_URL", "")
	router, err := channels.FromEnv(e.s)
	if err != nil {
		t.Fatal(err)
	}
	e.queue(t, queued{key: "call-1", purpose: "collection", channel: "phone", stage: "M1", at: t0})
	e.queue(t, queued{key: "warn-1", purpose: "alert", channel: "phone", version: 1, no: 2, at: t0})
	e.queue(t, queued{key: "n-1", purpose: "notice", channel: "sms", at: t0})
	d := &Dispatcher{Store: e.s, Sender: router, Now: func() time.Time { return t0 }, Log: quiet()}
	mustDeliver(t, d, 3)
	tasks, err := e.s.Tasks(ctx, e.plan.ID)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]string{}
	for _, task := range tasks {
		kinds[task.TaskKey] = task.Kind
		if task.Status != "open" {
			t.Errorf("task %+v is not open", task)
		}
	}
	if len(tasks) != 2 || kinds["call:call-1"] != store.TaskCollectionCall || kinds["call:warn-1"] != store.TaskEarlyWarning {
		t.Fatalf("tasks %+v", tasks)
	}
	for _, key := range []string{"call-1", "warn-1", "n-1"} {
		if c := e.contact(t, key); c.Outcome != "sent" {
			t.Errorf("contact %s outcome %q, want sent", key, c.Outcome)
		}
	}

	// A resend (a message whose first send was not recorded) writes no
	// second task; the same key with other content is a conflict.
	m := channels.Message{ContactKey: "call-1", PlanID: e.plan.ID.String(), Channel: "phone", Purpose: "collection",
		Body: "Message call-1"}
	if out, err := router.Send(ctx, m); out != channels.Sent || err != nil {
		t.Fatalf("resend: %s, %v", out, err)
	}
	if again, err := e.s.Tasks(ctx, e.plan.ID); err != nil || len(again) != 2 {
		t.Fatalf("tasks after a resend: %d, %v", len(again), err)
	}
	_, err = e.s.CreateTask(ctx, store.Task{TaskKey: "call:call-1", PlanID: e.plan.ID, Kind: store.TaskLegalReferral})
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("task key reused for another kind: %v", err)
	}
	_, err = e.s.CreateTask(ctx, store.Task{TaskKey: "t-x", PlanID: e.plan.ID, Kind: "coffee"})
	if !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("unknown task kind: %v", err)
	}
}

// Run delivers messages as they fall due and returns when its context ends.
func TestRun(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.queue(t, queued{key: "n-1", purpose: "notice", channel: "sms", at: t0})
	clk := newClock(t0.Add(-time.Minute))
	var sends atomic.Int32
	sender := senderFunc(func(ctx context.Context, m channels.Message) (channels.Outcome, error) {
		sends.Add(1)
		return channels.Delivered, nil
	})
	d := &Dispatcher{Store: e.s, Sender: sender, Now: clk.Now, Interval: 10 * time.Millisecond, Log: quiet()}
	ctx, cancel := context.WithCancel(context.Background())
	result := make(chan error, 1)
	go func() { result <- d.Run(ctx) }()

	time.Sleep(50 * time.Millisecond)
	if n := sends.Load(); n != 0 {
		t.Fatalf("%d sends before the message was due", n)
	}
	clk.Set(t0)
	deadline := time.Now().Add(10 * time.Second)
	for e.contact(t, "n-1").Outcome != "delivered" {
		if time.Now().After(deadline) {
			t.Fatal("Run did not deliver the due message")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-result:
		if err != nil {
			t.Fatalf("Run returned %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
	if n := sends.Load(); n != 1 {
		t.Fatalf("%d sends, want 1", n)
	}
	if err := (&Dispatcher{}).Run(context.Background()); err == nil {
		t.Fatal("Run without a store and sender did not fail")
	}
}

type senderFunc func(ctx context.Context, m channels.Message) (channels.Outcome, error)

func (f senderFunc) Send(ctx context.Context, m channels.Message) (channels.Outcome, error) {
	return f(ctx, m)
}
