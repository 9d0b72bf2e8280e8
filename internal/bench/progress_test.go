package bench

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fenqi/fenqi/frontdoor"
	"github.com/fenqi/fenqi/plan"
)

// fakeClock advances by step on every reading.
type fakeClock struct {
	t    time.Time
	step time.Duration
}

func (c *fakeClock) now() time.Time {
	c.t = c.t.Add(c.step)
	return c.t
}

func TestProgressNotATerminal(t *testing.T) {
	var b bytes.Buffer
	p := NewProgress(&b, false)
	p.now = (&fakeClock{t: time.Unix(0, 0), step: 100 * time.Millisecond}).now
	p.Start("onboarding", 20, "plans")
	for range 20 {
		p.Add(1)
	}
	p.Finish()
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	// The start, each tenth but the last, and the end.
	if len(lines) != 11 {
		t.Fatalf("%d lines, want 11:\n%s", len(lines), b.String())
	}
	if !strings.HasPrefix(lines[0], "[--------------------] 0/20 onboarding 0.0 plans/s") {
		t.Errorf("first line %q", lines[0])
	}
	if !strings.HasPrefix(lines[1], "[##------------------] 2/20 onboarding ") {
		t.Errorf("second line %q", lines[1])
	}
	if !strings.HasPrefix(lines[10], "[####################] 20/20 onboarding ") || !strings.Contains(lines[10], " plans/s ") {
		t.Errorf("last line %q", lines[10])
	}
	if strings.Contains(b.String(), "\r") || strings.Contains(b.String(), "\033") {
		t.Errorf("terminal controls in a file:\n%q", b.String())
	}
}

func TestProgressTerminal(t *testing.T) {
	var b bytes.Buffer
	p := NewProgress(&b, true)
	clock := &fakeClock{t: time.Unix(0, 0), step: 10 * time.Millisecond}
	p.now = clock.now
	p.Start("scale", 100, "plans")
	for range 100 {
		p.Add(1)
	}
	out := b.String()
	redraws := strings.Count(out, "\r\033[K")
	// Redrawn at most every 100 ms of the fake clock (each step reads it
	// twice), not at every step, and always at the end.
	if redraws < 3 || redraws > 60 {
		t.Errorf("%d redraws for 100 steps", redraws)
	}
	if !strings.HasSuffix(out, "[####################] 100/100 scale "+strings.SplitAfter(out, "100/100 scale ")[1]) {
		t.Errorf("the bar does not end full: %q", out[max(len(out)-80, 0):])
	}
	b.Reset()
	if _, err := p.Write([]byte("level=INFO msg=hello\n")); err != nil {
		t.Fatal(err)
	}
	// The log line replaces the bar, which is drawn again below it.
	if !strings.HasPrefix(b.String(), "\r\033[Klevel=INFO msg=hello\n\r\033[K[####################] 100/100 scale") {
		t.Errorf("log line over the bar: %q", b.String())
	}
	b.Reset()
	p.Finish()
	if !strings.HasPrefix(b.String(), "\r\033[K[####################] 100/100 scale") || !strings.HasSuffix(b.String(), "\n") {
		t.Errorf("finish: %q", b.String())
	}
	b.Reset()
	p.Finish()
	if _, err := p.Write([]byte("after\n")); err != nil {
		t.Fatal(err)
	}
	if b.String() != "after\n" {
		t.Errorf("after the bar ended, a log line is written as it is: %q", b.String())
	}
}

func TestProgressSet(t *testing.T) {
	var b bytes.Buffer
	p := NewProgress(&b, false)
	p.Start("12-instalment plan to payoff", 12, "instalments")
	p.Set(6)
	p.Set(6)
	p.Set(12)
	p.Finish()
	if got := strings.Count(b.String(), "\n"); got != 3 {
		t.Errorf("%d lines, want the start, half way and the end:\n%s", got, b.String())
	}
	if !strings.Contains(b.String(), "[##########----------] 6/12 ") {
		t.Errorf("no half-way line:\n%s", b.String())
	}
}

func TestForEach(t *testing.T) {
	t.Run("every index once, at most conc at a time", func(t *testing.T) {
		var running, peak, ticks atomic.Int64
		seen := make([]atomic.Int64, 50)
		err := forEach(context.Background(), 50, 4, func() { ticks.Add(1) }, func(_ context.Context, i int) error {
			n := running.Add(1)
			for {
				p := peak.Load()
				if n <= p || peak.CompareAndSwap(p, n) {
					break
				}
			}
			time.Sleep(time.Millisecond)
			seen[i].Add(1)
			running.Add(-1)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for i := range seen {
			if seen[i].Load() != 1 {
				t.Errorf("index %d ran %d times", i, seen[i].Load())
			}
		}
		if ticks.Load() != 50 {
			t.Errorf("%d ticks, want 50", ticks.Load())
		}
		if peak.Load() > 4 || peak.Load() < 2 {
			t.Errorf("peak concurrency %d, want 2..4", peak.Load())
		}
	})
	t.Run("the first error stops the rest", func(t *testing.T) {
		boom := errors.New("boom")
		var ran atomic.Int64
		err := forEach(context.Background(), 1000, 2, func() {}, func(ctx context.Context, i int) error {
			ran.Add(1)
			if i == 3 {
				return boom
			}
			select {
			case <-ctx.Done():
			case <-time.After(time.Millisecond):
			}
			return nil
		})
		if !errors.Is(err, boom) {
			t.Fatalf("forEach = %v, want boom", err)
		}
		if ran.Load() > 20 {
			t.Errorf("%d ran after the error", ran.Load())
		}
	})
	t.Run("nothing to do", func(t *testing.T) {
		if err := forEach(context.Background(), 0, 8, func() {}, func(context.Context, int) error { return errors.New("called") }); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("a cancelled context", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		var mu sync.Mutex
		n := 0
		err := forEach(ctx, 100, 1, func() {}, func(context.Context, int) error {
			mu.Lock()
			defer mu.Unlock()
			if n++; n == 5 {
				cancel()
			}
			return nil
		})
		if !errors.Is(err, context.Canceled) || n > 7 {
			t.Fatalf("forEach after cancel = %v after %d", err, n)
		}
	})
}

func TestRetryable(t *testing.T) {
	for _, c := range []struct {
		name string
		err  error
		want bool
	}{
		{"a timeout", context.DeadlineExceeded, true},
		{"a server error", errors.New("unavailable"), true},
		{"a refusal", refusal{errors.New("declined")}, false},
		{"a wrapped refusal", errors.Join(errors.New("onboard"), refusal{errors.New("declined")}), false},
		{"rejected by the plan", &frontdoor.RejectedError{Reason: "wrong state"}, false},
		{"bad input", &plan.ValidationError{Field: "amount", Reason: "negative"}, false},
	} {
		if got := retryable(c.err); got != c.want {
			t.Errorf("%s: retryable = %v, want %v", c.name, got, c.want)
		}
	}
}
