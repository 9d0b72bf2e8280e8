package bench

import (
	"math"
	"testing"
	"time"
)

func msList(v ...int) []time.Duration {
	out := make([]time.Duration, len(v))
	for i, x := range v {
		out[i] = time.Duration(x) * time.Millisecond
	}
	return out
}

func oneTo(n int) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = time.Duration(i+1) * time.Millisecond
	}
	return out
}

func TestPercentile(t *testing.T) {
	for _, c := range []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"no samples", nil, 50, 0},
		{"one sample p50", msList(7), 50, 7 * time.Millisecond},
		{"one sample p99", msList(7), 99, 7 * time.Millisecond},
		{"1..100 p50 is the 50th", oneTo(100), 50, 50 * time.Millisecond},
		{"1..100 p95", oneTo(100), 95, 95 * time.Millisecond},
		{"1..100 p99", oneTo(100), 99, 99 * time.Millisecond},
		{"1..100 p100 is the max", oneTo(100), 100, 100 * time.Millisecond},
		{"1..1000 p99", oneTo(1000), 99, 990 * time.Millisecond},
		{"1..1000 p99.9", oneTo(1000), 99.9, 999 * time.Millisecond},
		{"p99 of 50 samples is the max", oneTo(50), 99, 50 * time.Millisecond},
		{"p95 of 50 samples is the 48th", oneTo(50), 95, 48 * time.Millisecond},
		{"p50 of 4 samples is the 2nd", msList(1, 2, 3, 4), 50, 2 * time.Millisecond},
		{"p51 of 4 samples is the 3rd", msList(1, 2, 3, 4), 51, 3 * time.Millisecond},
		{"p50 of 5 samples is the median", msList(1, 2, 3, 4, 5), 50, 3 * time.Millisecond},
		{"a tiny p is the min", msList(3, 4, 5), 0.0001, 3 * time.Millisecond},
		{"p 0 is the min", msList(3, 4, 5), 0, 3 * time.Millisecond},
		{"negative p is the min", msList(3, 4, 5), -5, 3 * time.Millisecond},
		{"NaN p is the min", msList(3, 4, 5), math.NaN(), 3 * time.Millisecond},
		{"p over 100 is the max", msList(3, 4, 5), 250, 5 * time.Millisecond},
		{"ties", msList(2, 2, 2, 9), 75, 2 * time.Millisecond},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := Percentile(c.sorted, c.p); got != c.want {
				t.Errorf("Percentile(%v, %g) = %v, want %v", c.sorted, c.p, got, c.want)
			}
		})
	}
}

func TestSummarize(t *testing.T) {
	for _, c := range []struct {
		name    string
		samples []time.Duration
		want    Summary
	}{
		{"none", nil, Summary{}},
		{"unsorted, left as given", msList(30, 10, 20), Summary{N: 3, Min: 10 * time.Millisecond, Mean: 20 * time.Millisecond,
			P50: 20 * time.Millisecond, P95: 30 * time.Millisecond, P99: 30 * time.Millisecond, Max: 30 * time.Millisecond}},
		{"1..100 reversed", reverse(oneTo(100)), Summary{N: 100, Min: time.Millisecond, Mean: 50500 * time.Microsecond,
			P50: 50 * time.Millisecond, P95: 95 * time.Millisecond, P99: 99 * time.Millisecond, Max: 100 * time.Millisecond}},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := append([]time.Duration(nil), c.samples...)
			if got := Summarize(c.samples); got != c.want {
				t.Errorf("Summarize = %+v, want %+v", got, c.want)
			}
			for i := range in {
				if in[i] != c.samples[i] {
					t.Fatalf("Summarize reordered its input")
				}
			}
		})
	}
}

func reverse(d []time.Duration) []time.Duration {
	for i, j := 0, len(d)-1; i < j; i, j = i+1, j-1 {
		d[i], d[j] = d[j], d[i]
	}
	return d
}

func TestRate(t *testing.T) {
	for _, c := range []struct {
		n    int
		d    time.Duration
		want float64
	}{{100, 4 * time.Second, 25}, {0, time.Second, 0}, {5, 0, 0}, {3, -time.Second, 0}} {
		if got := rate(c.n, c.d); got != c.want {
			t.Errorf("rate(%d, %v) = %g, want %g", c.n, c.d, got, c.want)
		}
	}
}

func TestProject(t *testing.T) {
	for _, c := range []struct {
		name                string
		fromKB              int64
		fromPlans           int
		rssKB               int64
		plans               int
		wantPerPlanKB, want float64
	}{
		{"from idle, 1,000 plans at 20 kB", 40 * 1024, 0, 40*1024 + 20*1000, 1000, 20, (40*1024 + 20*10000) / 1024.0},
		{"slope between two points", 50 * 1024, 100, 50*1024 + 30*900, 1000, 30, round((50*1024+30*900+30*9000)/1024.0, 1)},
		{"at 10,000 plans the measured RSS", 40 * 1024, 0, 250 * 1024, 10000, round((250*1024-40*1024)/10000.0, 1), 250},
		{"beyond 10,000 the measured RSS", 40 * 1024, 0, 400 * 1024, 20000, round((400*1024-40*1024)/20000.0, 1), 400},
		{"memory that shrank counts as none", 60 * 1024, 0, 50 * 1024, 100, 0, 50},
		{"no plans", 40 * 1024, 0, 40 * 1024, 0, 0, 0},
		{"no new plans", 40 * 1024, 10, 41 * 1024, 10, 0, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			perPlan, projected := project(c.fromKB, c.fromPlans, c.rssKB, c.plans)
			if perPlan != c.wantPerPlanKB || projected != round(c.want, 1) {
				t.Errorf("project = %g kB a plan, %g MB; want %g, %g", perPlan, projected, c.wantPerPlanKB, round(c.want, 1))
			}
		})
	}
}
