package channels

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fenqi/fenqi/store"
)

var msg = Message{ContactKey: "reminder:p1:v1:#3:D-3", PlanID: "0b6e1e9e-0000-4000-8000-000000000001", Channel: SMS,
	Purpose: "reminder", Body: "Instalment 3 of 1,020.00 is due on 2025-03-01.", Payload: json.RawMessage(`{"body":"x","n":3}`)}

// received is one request the test receiver got.
type received struct {
	method, contentType, key, auth string
	body                           []byte
}

// receiver answers every request with code and keeps what it got.
func receiver(t *testing.T, code int) (*httptest.Server, func() []received) {
	t.Helper()
	var (
		mu  sync.Mutex
		got []received
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, received{r.Method, r.Header.Get("Content-Type"), r.Header.Get("Idempotency-Key"),
			r.Header.Get("Authorization"), b})
		mu.Unlock()
		w.WriteHeader(code)
		_, _ = w.Write([]byte("  nope  "))
	}))
	t.Cleanup(srv.Close)
	return srv, func() []received {
		mu.Lock()
		defer mu.Unlock()
		return append([]received(nil), got...)
	}
}

func TestWebhookPostsTheMessage(t *testing.T) {
	t.Parallel()
	srv, got := receiver(t, http.StatusAccepted)
	out, err := WebhookSender{URL: srv.URL + "/hook", Token: "s3cret"}.Send(context.Background(), msg)
	if out != Delivered || err != nil {
		t.Fatalf("Send = %q, %v; want delivered", out, err)
	}
	reqs := got()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if r.method != http.MethodPost || r.contentType != "application/json" || r.key != msg.ContactKey || r.auth != "Bearer s3cret" {
		t.Fatalf("request %+v", r)
	}
	var body map[string]any
	if err := json.Unmarshal(r.body, &body); err != nil {
		t.Fatalf("body %s: %v", r.body, err)
	}
	payload, _ := body["payload"].(map[string]any)
	if body["contact_key"] != msg.ContactKey || body["plan_id"] != msg.PlanID || body["channel"] != "sms" ||
		body["purpose"] != "reminder" || body["body"] != msg.Body || payload["n"] != 3.0 {
		t.Fatalf("body %s", r.body)
	}

	// No token, no Authorization header.
	if out, err := (WebhookSender{URL: srv.URL}).Send(context.Background(), msg); out != Delivered || err != nil {
		t.Fatalf("Send without token = %q, %v", out, err)
	}
	if r := got()[1]; r.auth != "" {
		t.Fatalf("Authorization %q sent without a token", r.auth)
	}
}

func TestWebhookAnswers(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		code  int
		want  Outcome
		retry bool
	}{
		{200, Delivered, false},
		{204, Delivered, false},
		{400, Failed, false},
		{404, Failed, false},
		{422, Failed, false},
		{408, "", true},
		{429, "", true},
		{500, "", true},
		{502, "", true},
		{503, "", true},
	} {
		srv, _ := receiver(t, tc.code)
		out, err := WebhookSender{URL: srv.URL}.Send(context.Background(), msg)
		if out != tc.want {
			t.Errorf("%d: outcome %q, want %q (err %v)", tc.code, out, tc.want, err)
		}
		if tc.want != Delivered && (err == nil || !strings.Contains(err.Error(), http.StatusText(tc.code)) ||
			!strings.HasSuffix(err.Error(), ": nope")) {
			t.Errorf("%d: error %v, want one naming the status and the answer", tc.code, err)
		}
		if tc.want == Delivered && err != nil {
			t.Errorf("%d: error %v", tc.code, err)
		}
	}
}

func TestWebhookNetworkErrorAndTimeout(t *testing.T) {
	t.Parallel()
	srv, _ := receiver(t, 200)
	url := srv.URL + "/?token=hidden"
	srv.Close()
	out, err := WebhookSender{URL: url}.Send(context.Background(), msg)
	if out != "" || err == nil {
		t.Fatalf("closed receiver: %q, %v; want an error to retry", out, err)
	}
	if strings.Contains(err.Error(), "hidden") {
		t.Fatalf("error %q shows the URL", err)
	}

	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	defer close(release)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	out, err = WebhookSender{URL: slow.URL}.Send(ctx, msg)
	if out != "" || !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
		t.Fatalf("slow receiver: %q, %v after %s; want a timeout to retry", out, err, time.Since(start))
	}
	if defaultClient.Timeout != 10*time.Second || WebhookTimeout != 10*time.Second {
		t.Fatalf("webhook timeout %s / %s, want 10s", defaultClient.Timeout, WebhookTimeout)
	}
}

func TestLogSender(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	out, err := LogSender{Log: slog.New(slog.NewTextHandler(&buf, nil))}.Send(context.Background(), msg)
	if out != Sent || err != nil {
		t.Fatalf("Send = %q, %v", out, err)
	}
	for _, want := range []string{"message sent", "contact_key=" + msg.ContactKey, "channel=sms", "purpose=reminder", "Instalment 3"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("log %q lacks %q", buf.String(), want)
		}
	}
}

// fixed is a Sender answering with its name.
type fixed string

func (f fixed) Send(context.Context, Message) (Outcome, error) { return Outcome(f), nil }

func TestRouter(t *testing.T) {
	t.Parallel()
	r := &Router{Senders: map[string]Sender{Email: fixed("email-sender")}, Default: fixed("default")}
	for ch, want := range map[string]Outcome{Email: "email-sender", SMS: "default", Letter: "default"} {
		m := msg
		m.Channel = ch
		if out, err := r.Send(context.Background(), m); out != want || err != nil {
			t.Errorf("%s: %q, %v; want %q", ch, out, err, want)
		}
	}
	r.Default = nil
	if out, err := r.Send(context.Background(), msg); out != "" || err == nil {
		t.Fatalf("channel without a sender: %q, %v; want an error to retry", out, err)
	}
}

// tasks is an in-memory TaskCreator.
type tasks struct {
	got []store.Task
	err error
}

func (ts *tasks) CreateTask(_ context.Context, t store.Task) (store.Task, error) {
	if ts.err != nil {
		return store.Task{}, ts.err
	}
	ts.got = append(ts.got, t)
	t.Status = "open"
	return t, nil
}

func TestPhoneSender(t *testing.T) {
	t.Parallel()
	ts := &tasks{}
	p := PhoneSender{Tasks: ts, Log: slog.New(slog.DiscardHandler)}
	m := msg
	m.Channel, m.Purpose = Phone, "collection"
	if out, err := p.Send(context.Background(), m); out != Sent || err != nil {
		t.Fatalf("Send = %q, %v", out, err)
	}
	m.ContactKey, m.Purpose = "alert-1", "alert"
	if out, err := p.Send(context.Background(), m); out != Sent || err != nil {
		t.Fatalf("Send alert = %q, %v", out, err)
	}
	if len(ts.got) != 2 {
		t.Fatalf("tasks %+v", ts.got)
	}
	call, alert := ts.got[0], ts.got[1]
	var details map[string]string
	if err := json.Unmarshal(call.Details, &details); err != nil {
		t.Fatal(err)
	}
	if call.TaskKey != "call:"+msg.ContactKey || call.PlanID != uuid.MustParse(msg.PlanID) || call.Kind != store.TaskCollectionCall ||
		details["script"] != msg.Body || details["purpose"] != "collection" || details["contact_key"] != msg.ContactKey {
		t.Fatalf("call task %+v (%s)", call, call.Details)
	}
	if alert.TaskKey != "call:alert-1" || alert.Kind != store.TaskEarlyWarning {
		t.Fatalf("alert task %+v", alert)
	}

	m.PlanID = "not-a-uuid"
	if out, err := p.Send(context.Background(), m); out != Failed || err == nil {
		t.Fatalf("bad plan id: %q, %v; want failed", out, err)
	}
	ts.err = errors.New("database away")
	m.PlanID = msg.PlanID
	if out, err := p.Send(context.Background(), m); out != "" || err == nil {
		t.Fatalf("store error: %q, %v; want an error to retry", out, err)
	}
}

func TestFromEnv(t *testing.T) {
	t.Setenv("FENQI_WEBHOOK_URL", "")
	t.Setenv("FENQI_WEBHOOK_TOKEN", "")
	r, err := FromEnv(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, ch := range []string{SMS, Email, Push, Letter, Phone} {
		if _, ok := r.Senders[ch].(LogSender); !ok {
			t.Errorf("%s: %T, want LogSender", ch, r.Senders[ch])
		}
	}
	ts := &tasks{}
	if r, err = FromEnv(ts); err != nil {
		t.Fatal(err)
	}
	if p, ok := r.Senders[Phone].(PhoneSender); !ok || p.Tasks != ts {
		t.Fatalf("phone: %#v, want a PhoneSender on the tasks", r.Senders[Phone])
	}

	t.Setenv("FENQI_WEBHOOK_URL", "https://hooks.example.com/fenqi")
	t.Setenv("FENQI_WEBHOOK_TOKEN", "tok")
	if r, err = FromEnv(ts); err != nil {
		t.Fatal(err)
	}
	for _, ch := range []string{SMS, Email, Push, Letter} {
		w, ok := r.Senders[ch].(WebhookSender)
		if !ok || w.URL != "https://hooks.example.com/fenqi" || w.Token != "tok" {
			t.Errorf("%s: %#v, want the webhook", ch, r.Senders[ch])
		}
	}
	if _, ok := r.Default.(WebhookSender); !ok {
		t.Errorf("default %T, want the webhook", r.Default)
	}
	if _, ok := r.Senders[Phone].(PhoneSender); !ok {
		t.Errorf("phone %T, want PhoneSender", r.Senders[Phone])
	}

	for _, bad := range []string{"hooks.example.com", "ftp://hooks.example.com", "http://", "://x"} {
		t.Setenv("FENQI_WEBHOOK_URL", bad)
		if _, err := FromEnv(nil); err == nil {
			t.Errorf("FENQI_WEBHOOK_URL=%q accepted", bad)
		}
	}
}
