package metrics

import (
	"context"
	"errors"
	"testing"
	"time"
)

// Scrapes within the ttl share one count; a failure is not cached.
func TestCached(t *testing.T) {
	calls, fail := 0, false
	count := Cached(func(context.Context) (map[string]int64, error) {
		calls++
		if fail {
			return nil, errors.New("database away")
		}
		return map[string]int64{"active": int64(calls)}, nil
	}, time.Hour)
	for range 5 {
		got, err := count(context.Background())
		if err != nil || got["active"] != 1 {
			t.Fatalf("%v %v, want the first count", got, err)
		}
	}
	if calls != 1 {
		t.Fatalf("%d counts for 5 scrapes within the ttl, want 1", calls)
	}
	short := Cached(func(context.Context) (map[string]int64, error) {
		calls++
		if fail {
			return nil, errors.New("database away")
		}
		return map[string]int64{"active": 1}, nil
	}, 0)
	fail = true
	if _, err := short(context.Background()); err == nil {
		t.Fatal("a failed count answered without an error")
	}
	fail = false
	if got, err := short(context.Background()); err != nil || got["active"] != 1 {
		t.Fatalf("after a failure: %v %v, want a fresh count", got, err)
	}
}
