package bench

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// sample is a report of every part, every target met.
func sample() Report {
	return Report{
		Run: "abcd1234", StartedAt: time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC), Seconds: 312.4,
		Setup:      Setup{CPUs: 2, Concurrency: 8, Rounds: 2, Baseline: BaselineDoor, Temporal: "127.0.0.1:40000", Local: true, TaskQueue: "fenqi-bench-x", WorkerPID: 4242, Worker: "started .fenqi/bin/worker"},
		Baseline:   &Throughput{Count: 100, Seconds: 2, Rate: 50, RoundRates: []float64{62.5, 41.67}},
		Onboarding: &Onboarding{Throughput: Throughput{Count: 100, Seconds: 4, Rate: 25, RoundRates: []float64{25}}, ActiveInDB: 100, SchedulesInDB: 100, Ratio: 0.5},
		Latency:    &Latency{Plans: 50, Samples: 200, Eligible: 200, MinMs: 5, MeanMs: 9, P50Ms: 8, P95Ms: 20, P99Ms: 50, MaxMs: 61},
		Cost12: &PlanCost{Instalments: 12, DaySeconds: 0.05, Seconds: 21, Runs: 1, Actions: 53, Events: 196, MaxRunEvents: 196,
			ActionsByKind: map[string]int{"timer": 15, "activity": 14, "local_activities": 12, "upsert": 8, "update": 3, "start": 1}},
		Cost360: &PlanCost{Instalments: 360, DaySeconds: 0.02, Seconds: 240, Runs: 4, Actions: 1500, Events: 3900, MaxRunEvents: 1014},
		Scale:   &Scale{Plans: 10000, Started: 9850, Seconds: 500, Rate: 19.7, ActiveInDB: 10000, IdleRSSMB: 35, RSSMB: 250, PeakRSSMB: 280, PerPlanKB: 22, ProjectedRSSMB: 250},
	}
}

func TestEvaluate(t *testing.T) {
	for _, c := range []struct {
		name string
		edit func(r *Report)
		// want is each check's figure and verdict.
		want map[string]bool
	}{
		{"every target met", func(*Report) {}, map[string]bool{
			"onboarding/baseline ratio": true, "onboarded plans active in PostgreSQL": true, "cancel-quote p99 ms": true,
			"12-instalment plan billable actions": true, "12-instalment plan largest run events": true,
			"360-instalment plan largest run events": true, "worker RSS MB at 10000 plans": true, "scale plans active in PostgreSQL": true,
		}},
		{"every target missed", func(r *Report) {
			r.Onboarding.Ratio = 0.49
			r.Onboarding.ActiveInDB = 99
			r.Latency.P99Ms = 50.01
			r.Cost12.Actions = 61
			r.Cost12.MaxRunEvents = 2001
			r.Cost360.MaxRunEvents = 2500
			r.Scale.ProjectedRSSMB = 300
			r.Scale.ActiveInDB = 9999
		}, map[string]bool{
			"onboarding/baseline ratio": false, "onboarded plans active in PostgreSQL": false, "cancel-quote p99 ms": false,
			"12-instalment plan billable actions": false, "12-instalment plan largest run events": false,
			"360-instalment plan largest run events": false, "worker RSS MB at 10000 plans": false, "scale plans active in PostgreSQL": false,
		}},
		{"a schedule missing in PostgreSQL fails the onboarding check", func(r *Report) { r.Onboarding.SchedulesInDB = 99 },
			map[string]bool{"onboarded plans active in PostgreSQL": false}},
		{"parts not run have no check", func(r *Report) { r.Latency, r.Cost360, r.Scale = nil, nil, nil }, map[string]bool{
			"onboarding/baseline ratio": true, "onboarded plans active in PostgreSQL": true,
			"12-instalment plan billable actions": true, "12-instalment plan largest run events": true,
		}},
		{"a failed part fails its checks", func(r *Report) { r.Latency.Error = "timeout"; r.Cost12.Error = "worker gone" }, map[string]bool{
			"cancel-quote p99 ms": false, "12-instalment plan billable actions": false, "12-instalment plan largest run events": false,
		}},
		{"a failed baseline fails the ratio", func(r *Report) { r.Baseline.Error = "boom" }, map[string]bool{"onboarding/baseline ratio": false}},
		{"nothing measured is no pass", func(r *Report) {
			r.Latency.Samples = 0
			r.Latency.P99Ms = 0
			r.Cost12.Actions, r.Cost12.MaxRunEvents = 0, 0
			r.Onboarding.Count, r.Onboarding.ActiveInDB, r.Onboarding.SchedulesInDB = 0, 0, 0
		}, map[string]bool{
			"cancel-quote p99 ms": false, "12-instalment plan billable actions": false, "12-instalment plan largest run events": false,
			"onboarded plans active in PostgreSQL": false,
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := sample()
			c.edit(&r)
			r.Evaluate()
			got := map[string]bool{}
			for _, ch := range r.Checks {
				got[ch.Figure] = ch.Pass
			}
			for figure, pass := range c.want {
				v, ok := got[figure]
				if !ok {
					t.Errorf("no check %q among %v", figure, got)
					continue
				}
				if v != pass {
					t.Errorf("check %q passed %v, want %v", figure, v, pass)
				}
			}
			if c.name == "every target met" || c.name == "every target missed" || c.name == "parts not run have no check" {
				if len(got) != len(c.want) {
					t.Errorf("checks %v, want exactly %v", got, c.want)
				}
			}
		})
	}
}

// TestEvaluateScaleBelowTarget: below 10,000 plans the memory target is
// not judged (the worker's cache bounds what it keeps, so no projection
// stands for it); at 10,000 it is.
func TestEvaluateScaleBelowTarget(t *testing.T) {
	for _, tt := range []struct {
		plans     int
		rss       float64
		wantCheck bool
		wantPass  bool
	}{
		{1000, 240, false, false},
		{10000, 240, true, true},
		{10000, 320, true, false},
	} {
		r := sample()
		r.Scale.Plans, r.Scale.ActiveInDB, r.Scale.ProjectedRSSMB = tt.plans, tt.plans, tt.rss
		r.Evaluate()
		found := false
		for _, c := range r.Checks {
			if c.Figure == "worker RSS MB at 10000 plans" {
				found = true
				if c.Pass != tt.wantPass || c.Value != tt.rss || c.Target != "< 300" {
					t.Errorf("%d plans, %.0f MB: check %+v, want pass %v", tt.plans, tt.rss, c, tt.wantPass)
				}
			}
		}
		if found != tt.wantCheck {
			t.Errorf("%d plans: a memory check %v, want %v", tt.plans, found, tt.wantCheck)
		}
	}
}

func TestPassed(t *testing.T) {
	r := sample()
	r.Evaluate()
	if !r.Passed() {
		t.Errorf("every target met and no error: Passed is false")
	}
	r.Errors = []string{"latency: boom"}
	if r.Passed() {
		t.Errorf("a part failed: Passed is true")
	}
	r = sample()
	r.Latency.P99Ms = 80
	r.Evaluate()
	if r.Passed() {
		t.Errorf("a target missed: Passed is true")
	}
}

func TestWriteTable(t *testing.T) {
	for _, c := range []struct {
		name    string
		edit    func(r *Report)
		want    []string // each on a line of its own
		notWant []string
	}{
		{"every part", func(*Report) {}, []string{
			"fenqi bench abcd1234: 2 CPUs, concurrency 8, 2 round(s); Temporal 127.0.0.1:40000 (local, in-memory); worker pid 4242 (started .fenqi/bin/worker) on task queue fenqi-bench-x; 312 s",
			"baseline    bare workflows (as the front door: update-with-start, 1 query, 2 updates)  100 in 2.00 s: 50.0/s (rounds 62.5, 41.7)",
			"100 in 4.00 s: 25.0/s  ",
			"onboarding / baseline   ", "0.50", ">= 0.50", "PASS",
			"active with schedule in PostgreSQL", "100, 100 of 100",
			"cancel-quote p50 / p95", "8.0 / 20.0 ms (200 over 50 plans)",
			"cancel-quote p99", "50.0 ms (max 61.0)", "<= 50 ms",
			"billable actions, onboarding to payoff", "53 (4.4 per instalment)", "<= 60",
			"196 in 1 run(s), 21 s at 0.05s a day",
			"actions by kind", "timer 15, activity 14, local_activities 12, upsert 8, update 3, start 1",
			"1014 events", "<= 2,000",
			"10,000 (9,850 started at 19.7/s)",
			"250.0 MB (idle 35.0, peak 280.0; 22.0 KB a plan)",
			"worker memory at 10,000 plans", "250.0 MB", "< 300 MB",
			"8 of 8 targets met",
		}, []string{"FAIL", "ERROR", "projected"}},
		{"misses, projection and errors", func(r *Report) {
			r.Onboarding.Ratio = 0.2
			r.Onboarding.Retries = 3
			r.Scale.Plans, r.Scale.ActiveInDB, r.Scale.ProjectedRSSMB = 1000, 1000, 420.5
			r.Cost360 = &PlanCost{Instalments: 360, Error: "no annuity offer over 360 instalments\nsecond line"}
			r.Latency = nil
			r.Setup.Local = false
			r.Setup.Baseline = BaselineSignal
		}, []string{
			"bare workflows (start, signal, update)",
			"0.20", ">= 0.50", "FAIL",
			", 3 retried",
			"not measured: --scale 10000 (420.5 MB if every plan stayed in memory)",
			"cost 360    error", "no annuity offer over 360 instalments", "ERROR",
			"4 of 6 targets met",
		}, []string{"second line", "cancel-quote", "(local, in-memory)"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := sample()
			c.edit(&r)
			r.Evaluate()
			var b bytes.Buffer
			if err := WriteTable(&b, r); err != nil {
				t.Fatal(err)
			}
			out := b.String()
			for _, w := range c.want {
				if !strings.Contains(out, w) {
					t.Errorf("table lacks %q:\n%s", w, out)
				}
			}
			for _, w := range c.notWant {
				if strings.Contains(out, w) {
					t.Errorf("table has %q:\n%s", w, out)
				}
			}
		})
	}
}

func TestWriteTableLines(t *testing.T) {
	r := sample()
	r.Evaluate()
	var b bytes.Buffer
	if err := WriteTable(&b, r); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	// Heading, blank, header, 17 figures, blank, verdict.
	if len(lines) != 22 {
		t.Fatalf("%d lines, want 22:\n%s", len(lines), b.String())
	}
	header := lines[2]
	for _, col := range []string{"part", "figure", "measured", "target", "result"} {
		if !strings.Contains(header, col) {
			t.Errorf("header %q lacks %s", header, col)
		}
	}
	// The columns line up: every figure's result starts where the header's does.
	at := strings.Index(header, "result")
	for _, l := range lines[3:20] {
		if len(l) < at || (l[at:] != "PASS" && l[at:] != "-") {
			t.Errorf("line %q has no result in the result column (%d)", l, at)
		}
	}
}

func TestWriteJSON(t *testing.T) {
	r := sample()
	r.Evaluate()
	var b bytes.Buffer
	if err := WriteJSON(&b, r); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if strings.Count(out, "\n") != 1 || !strings.HasSuffix(out, "\n") {
		t.Fatalf("JSON is not one line: %q", out)
	}
	var m map[string]any
	if err := json.Unmarshal(b.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	for part, keys := range map[string][]string{
		"":           {"run", "started_at", "seconds", "setup", "baseline", "onboarding", "latency", "cost_12", "cost_360", "scale", "checks"},
		"setup":      {"cpus", "concurrency", "rounds", "baseline", "temporal", "local", "task_queue", "worker_pid", "worker"},
		"baseline":   {"count", "seconds", "rate_per_s", "round_rates"},
		"onboarding": {"count", "seconds", "rate_per_s", "active_in_db", "schedules_in_db", "retries", "ratio_to_baseline"},
		"latency":    {"plans", "samples", "eligible", "min_ms", "mean_ms", "p50_ms", "p95_ms", "p99_ms", "max_ms"},
		"cost_12":    {"instalments", "day_seconds", "seconds", "runs", "actions", "events", "max_run_events"},
		"scale":      {"plans", "started", "seconds", "rate_per_s", "active_in_db", "idle_rss_mb", "rss_mb", "peak_rss_mb", "per_plan_kb", "projected_rss_mb"},
	} {
		obj := m
		if part != "" {
			obj, _ = m[part].(map[string]any)
		}
		for _, k := range keys {
			if _, ok := obj[k]; !ok {
				t.Errorf("%s lacks %q: %v", part, k, obj)
			}
		}
	}
	if _, ok := m["errors"]; ok {
		t.Errorf("errors present without any: %v", m["errors"])
	}
	checks, _ := m["checks"].([]any)
	if len(checks) != 8 {
		t.Errorf("%d checks, want 8", len(checks))
	}
	first, _ := checks[0].(map[string]any)
	if first["figure"] != "onboarding/baseline ratio" || first["value"] != 0.5 || first["target"] != ">= 0.50" || first["pass"] != true {
		t.Errorf("first check %v", first)
	}
	if v := m["onboarding"].(map[string]any)["ratio_to_baseline"]; v != 0.5 {
		t.Errorf("ratio %v, want 0.5", v)
	}
}

func TestWriteJSONParts(t *testing.T) {
	r := sample()
	r.Latency, r.Cost360, r.Scale = nil, nil, nil
	r.Errors = []string{"cost 12: boom"}
	r.Evaluate()
	var b bytes.Buffer
	if err := WriteJSON(&b, r); err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"latency", "cost_360", "scale"} {
		if _, ok := m[k]; ok {
			t.Errorf("part %s not run but present", k)
		}
	}
	if errs, _ := m["errors"].([]any); len(errs) != 1 || errs[0] != "cost 12: boom" {
		t.Errorf("errors %v", m["errors"])
	}
}

func TestGroup(t *testing.T) {
	for n, want := range map[int]string{0: "0", 12: "12", 999: "999", 1000: "1,000", 10000: "10,000", 1234567: "1,234,567", -2000: "-2,000"} {
		if got := group(n); got != want {
			t.Errorf("group(%d) = %q, want %q", n, got, want)
		}
	}
}
