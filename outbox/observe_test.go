package outbox

import (
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/fenqi/fenqi/channels"
)

// observed records what an Observer is told.
type observed struct {
	mu  sync.Mutex
	got []string
}

func (o *observed) Contact(channel, outcome string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.got = append(o.got, channel+"/"+outcome)
}

// The observer hears of each retry and each final outcome, once.
func TestObserverHearsOutcomes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.queue(t, queued{key: "n-1", purpose: "notice", channel: "sms", at: t0})
	e.queue(t, queued{key: "n-2", purpose: "notice", channel: "email", at: t0.Add(time.Hour)})
	hook := newWebhook(t, http.StatusServiceUnavailable, http.StatusOK, http.StatusBadRequest)
	clk := newClock(t0)
	obs := &observed{}
	d := &Dispatcher{Store: e.s, Sender: channels.WebhookSender{URL: hook.srv.URL}, Now: clk.Now,
		RetryBase: 30 * time.Second, Log: quiet(), Observe: obs}

	mustDeliver(t, d, 0) // n-1: 503, retried
	clk.Set(t0.Add(31 * time.Second))
	mustDeliver(t, d, 1) // n-1: delivered
	clk.Set(t0.Add(2 * time.Hour))
	mustDeliver(t, d, 1) // n-2: 400, failed for good
	mustDeliver(t, d, 0) // nothing left

	want := []string{"sms/" + Retried, "sms/delivered", "email/failed"}
	if obs.mu.Lock(); !slices.Equal(obs.got, want) {
		t.Errorf("observed %v, want %v", obs.got, want)
	}
	obs.mu.Unlock()
}
