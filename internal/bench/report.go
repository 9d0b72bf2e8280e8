package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// The targets of issue 9, on a 2-core machine with the in-memory dev server.
const (
	// TargetRatio is the least onboarding rate as a fraction of the
	// baseline's.
	TargetRatio = 0.5
	// TargetP99 is the most a cancel-quote round trip may take at p99.
	TargetP99 = 50 * time.Millisecond
	// TargetActions12 is the most billable actions of a 12-instalment plan
	// from application to payoff with the default reminders.
	TargetActions12 = 60
	// TargetRunEvents is the most history events of any one run of a plan,
	// whatever its term.
	TargetRunEvents = 2000
	// TargetScalePlans active plans must fit in a worker of less than
	// TargetScaleRSSMB resident memory.
	TargetScalePlans = 10000
	TargetScaleRSSMB = 300
)

// Report is what one bench run measured. A part not run is nil; a part
// that failed has its Error set.
type Report struct {
	Run       string    `json:"run"`
	StartedAt time.Time `json:"started_at"`
	Seconds   float64   `json:"seconds"`
	Setup     Setup     `json:"setup"`

	Baseline   *Throughput `json:"baseline,omitempty"`
	Onboarding *Onboarding `json:"onboarding,omitempty"`
	Latency    *Latency    `json:"latency,omitempty"`
	Cost12     *PlanCost   `json:"cost_12,omitempty"`
	Cost360    *PlanCost   `json:"cost_360,omitempty"`
	Scale      *Scale      `json:"scale,omitempty"`

	// Checks are the figures that have a target, with the verdict.
	Checks []Check `json:"checks"`
	// Errors are the parts that failed to run, "part: error".
	Errors []string `json:"errors,omitempty"`
}

// Setup says what the run ran against.
type Setup struct {
	CPUs        int    `json:"cpus"`
	Concurrency int    `json:"concurrency"`
	Rounds      int    `json:"rounds"`
	Baseline    string `json:"baseline"`
	Temporal    string `json:"temporal"`
	Local       bool   `json:"local"`
	TaskQueue   string `json:"task_queue"`
	WorkerPID   int    `json:"worker_pid"`
	Worker      string `json:"worker"`
	WorkerLog   string `json:"worker_log,omitempty"`
}

// Throughput is a number of workflows brought to the same point and the
// wall time they took together.
type Throughput struct {
	Count   int     `json:"count"`
	Seconds float64 `json:"seconds"`
	Rate    float64 `json:"rate_per_s"`
	// RoundRates is the rate of each round, in order: how steady it was.
	RoundRates []float64 `json:"round_rates,omitempty"`
	Error      string    `json:"error,omitempty"`
}

// Onboarding is the throughput of plans from application to active.
type Onboarding struct {
	Throughput
	// ActiveInDB and SchedulesInDB count the measured plans that are
	// active in PostgreSQL and have their schedule stored.
	ActiveInDB    int `json:"active_in_db"`
	SchedulesInDB int `json:"schedules_in_db"`
	// Retries counts onboardings tried again after a transient error.
	Retries int `json:"retries"`
	// Ratio is the onboarding rate over the baseline rate (0 without a
	// baseline).
	Ratio float64 `json:"ratio_to_baseline"`
}

// Latency is the round trip of cancel-quote Updates.
type Latency struct {
	Plans    int     `json:"plans"`
	Samples  int     `json:"samples"`
	Eligible int     `json:"eligible"`
	MinMs    float64 `json:"min_ms"`
	MeanMs   float64 `json:"mean_ms"`
	P50Ms    float64 `json:"p50_ms"`
	P95Ms    float64 `json:"p95_ms"`
	P99Ms    float64 `json:"p99_ms"`
	MaxMs    float64 `json:"max_ms"`
	Error    string  `json:"error,omitempty"`
}

// PlanCost is what one plan run to payoff cost on Temporal, from its
// histories across Continue-As-New runs.
type PlanCost struct {
	Instalments  int     `json:"instalments"`
	DaySeconds   float64 `json:"day_seconds"`
	PlanID       string  `json:"plan_id,omitempty"`
	Seconds      float64 `json:"seconds"`
	Runs         int     `json:"runs"`
	Actions      int     `json:"actions"`
	Events       int     `json:"events"`
	MaxRunEvents int     `json:"max_run_events"`
	// ActionsByKind breaks Actions down: start, signal, update, activity,
	// local_activities (one per workflow task that ran any), timer,
	// upsert, child_workflow.
	ActionsByKind map[string]int `json:"actions_by_kind,omitempty"`
	Error         string         `json:"error,omitempty"`
}

// Scale is the worker's memory with many active plans waiting on timers.
type Scale struct {
	// Plans is the number of active plans of this run when memory was
	// read; Started of them were started by the scale part, at Rate.
	Plans      int     `json:"plans"`
	Started    int     `json:"started"`
	Seconds    float64 `json:"seconds"`
	Rate       float64 `json:"rate_per_s"`
	ActiveInDB int     `json:"active_in_db"`
	Retries    int     `json:"retries"`
	// Memory of the worker process (MB = 2^20 bytes): before any plan, with
	// the plans waiting, and its peak.
	IdleRSSMB float64 `json:"idle_rss_mb"`
	RSSMB     float64 `json:"rss_mb"`
	PeakRSSMB float64 `json:"peak_rss_mb"`
	// PerPlanKB is the memory a plan takes: the growth of the worker's
	// RSS over the plans the scale part started (from the idle worker
	// when it started fewer than half of them); ProjectedRSSMB the RSS at
	// TargetScalePlans plans at that rate (the measured RSS when Plans is
	// at least TargetScalePlans).
	PerPlanKB      float64 `json:"per_plan_kb"`
	ProjectedRSSMB float64 `json:"projected_rss_mb"`
	Error          string  `json:"error,omitempty"`
}

// Check is one figure against its target.
type Check struct {
	Figure string  `json:"figure"`
	Value  float64 `json:"value"`
	Target string  `json:"target"`
	Pass   bool    `json:"pass"`
	Note   string  `json:"note,omitempty"`
}

// Evaluate fills r.Checks from the figures: every target of a part that
// ran, failed when the part failed.
func (r *Report) Evaluate() {
	r.Checks = nil
	add := func(figure string, v float64, target string, pass bool, note string) {
		r.Checks = append(r.Checks, Check{Figure: figure, Value: v, Target: target, Pass: pass, Note: note})
	}
	if o := r.Onboarding; o != nil {
		ok := o.Error == "" && r.Baseline != nil && r.Baseline.Error == ""
		add("onboarding/baseline ratio", round(o.Ratio, 3), fmt.Sprintf(">= %.2f", TargetRatio), ok && o.Ratio >= TargetRatio, "")
		add("onboarded plans active in PostgreSQL", float64(o.ActiveInDB), fmt.Sprintf("= %d", o.Count), ok && o.Count > 0 && o.ActiveInDB == o.Count && o.SchedulesInDB == o.Count, "")
	}
	if l := r.Latency; l != nil {
		add("cancel-quote p99 ms", round(l.P99Ms, 2), fmt.Sprintf("<= %d", TargetP99.Milliseconds()), l.Error == "" && l.Samples > 0 && l.P99Ms <= ms(TargetP99), "")
	}
	if c := r.Cost12; c != nil {
		add("12-instalment plan billable actions", float64(c.Actions), fmt.Sprintf("<= %d", TargetActions12), c.Error == "" && c.Actions > 0 && c.Actions <= TargetActions12, "")
		add("12-instalment plan largest run events", float64(c.MaxRunEvents), fmt.Sprintf("<= %d", TargetRunEvents), c.Error == "" && c.MaxRunEvents > 0 && c.MaxRunEvents <= TargetRunEvents, "")
	}
	if c := r.Cost360; c != nil {
		add("360-instalment plan largest run events", float64(c.MaxRunEvents), fmt.Sprintf("<= %d", TargetRunEvents), c.Error == "" && c.MaxRunEvents > 0 && c.MaxRunEvents <= TargetRunEvents, "")
	}
	if s := r.Scale; s != nil {
		// Below the target's count the target is not judged: the worker
		// keeps at most its cache of plans in memory, so a projection
		// on the slope of a smaller run overstates it.
		if s.Plans >= TargetScalePlans {
			add(fmt.Sprintf("worker RSS MB at %d plans", TargetScalePlans), round(s.ProjectedRSSMB, 1), fmt.Sprintf("< %d", TargetScaleRSSMB),
				s.Error == "" && s.ProjectedRSSMB > 0 && s.ProjectedRSSMB < TargetScaleRSSMB, "")
		}
		add("scale plans active in PostgreSQL", float64(s.ActiveInDB), fmt.Sprintf("= %d", s.Plans), s.Error == "" && s.Plans > 0 && s.ActiveInDB == s.Plans, "")
	}
}

// Passed reports whether every check passed and no part failed.
func (r *Report) Passed() bool {
	for _, c := range r.Checks {
		if !c.Pass {
			return false
		}
	}
	return len(r.Errors) == 0
}

func round(v float64, places int) float64 {
	s := strconv.FormatFloat(v, 'f', places, 64)
	f, _ := strconv.ParseFloat(s, 64)
	return f
}

// WriteJSON writes r as one JSON object on one line.
func WriteJSON(w io.Writer, r Report) error {
	if err := json.NewEncoder(w).Encode(r); err != nil {
		return fmt.Errorf("write the report as JSON: %w", err)
	}
	return nil
}

// row is one line of the human table.
type row struct{ part, figure, measured, target, result string }

// rows lays r out for people: each figure, what was measured, its target
// and the verdict.
func rows(r Report) []row {
	var out []row
	verdict := func(pass bool) string {
		if pass {
			return "PASS"
		}
		return "FAIL"
	}
	failed := func(part, err string) {
		out = append(out, row{part, "error", oneLine(err), "", "ERROR"})
	}
	if b := r.Baseline; b != nil {
		if b.Error != "" {
			failed("baseline", b.Error)
		} else {
			out = append(out, row{"baseline", "bare workflows " + baselineShape(r.Setup.Baseline), fmt.Sprintf("%d in %.2f s: %.1f/s%s", b.Count, b.Seconds, b.Rate, roundRates(b.RoundRates)), "", ""})
		}
	}
	if o := r.Onboarding; o != nil {
		if o.Error != "" {
			failed("onboarding", o.Error)
		} else {
			retries := ""
			if o.Retries > 0 {
				retries = fmt.Sprintf(", %d retried", o.Retries)
			}
			out = append(out, row{"onboarding", "plans application to active", fmt.Sprintf("%d in %.2f s: %.1f/s%s%s", o.Count, o.Seconds, o.Rate, roundRates(o.RoundRates), retries), "", ""})
			if r.Baseline != nil && r.Baseline.Error == "" {
				out = append(out, row{"onboarding", "onboarding / baseline", fmt.Sprintf("%.2f", o.Ratio), fmt.Sprintf(">= %.2f", TargetRatio), verdict(o.Ratio >= TargetRatio)})
			}
			all := o.Count > 0 && o.ActiveInDB == o.Count && o.SchedulesInDB == o.Count
			out = append(out, row{"onboarding", "active with schedule in PostgreSQL", fmt.Sprintf("%d, %d of %d", o.ActiveInDB, o.SchedulesInDB, o.Count), "all", verdict(all)})
		}
	}
	if l := r.Latency; l != nil {
		if l.Error != "" {
			failed("latency", l.Error)
		} else {
			out = append(out,
				row{"latency", "cancel-quote p50 / p95", fmt.Sprintf("%.1f / %.1f ms (%d over %d plans)", l.P50Ms, l.P95Ms, l.Samples, l.Plans), "", ""},
				row{"latency", "cancel-quote p99", fmt.Sprintf("%.1f ms (max %.1f)", l.P99Ms, l.MaxMs), fmt.Sprintf("<= %d ms", TargetP99.Milliseconds()), verdict(l.Samples > 0 && l.P99Ms <= ms(TargetP99))})
		}
	}
	for _, c := range []*PlanCost{r.Cost12, r.Cost360} {
		if c == nil {
			continue
		}
		part := fmt.Sprintf("cost %d", c.Instalments)
		if c.Error != "" {
			failed(part, c.Error)
			continue
		}
		if c.Instalments == 12 {
			out = append(out, row{part, "billable actions, onboarding to payoff", fmt.Sprintf("%d (%.1f per instalment)", c.Actions, float64(c.Actions)/float64(c.Instalments)), fmt.Sprintf("<= %d", TargetActions12), verdict(c.Actions > 0 && c.Actions <= TargetActions12)})
		} else {
			out = append(out, row{part, "billable actions, onboarding to payoff", fmt.Sprintf("%d (%.1f per instalment)", c.Actions, float64(c.Actions)/float64(c.Instalments)), "", ""})
		}
		if len(c.ActionsByKind) > 0 {
			out = append(out, row{part, "actions by kind", kinds(c.ActionsByKind), "", ""})
		}
		out = append(out,
			row{part, "history events, all runs", fmt.Sprintf("%d in %d run(s), %.0f s at %gs a day", c.Events, c.Runs, c.Seconds, c.DaySeconds), "", ""},
			row{part, "largest run", fmt.Sprintf("%d events", c.MaxRunEvents), fmt.Sprintf("<= %s", group(TargetRunEvents)), verdict(c.MaxRunEvents > 0 && c.MaxRunEvents <= TargetRunEvents)})
	}
	if s := r.Scale; s != nil {
		if s.Error != "" {
			failed("scale", s.Error)
		} else {
			out = append(out,
				row{"scale", "active plans waiting on timers", fmt.Sprintf("%s (%s started at %.1f/s)", group(s.Plans), group(s.Started), s.Rate), "", ""},
				row{"scale", "active in PostgreSQL", group(s.ActiveInDB), group(s.Plans), verdict(s.Plans > 0 && s.ActiveInDB == s.Plans)},
				row{"scale", "worker resident memory", fmt.Sprintf("%.1f MB (idle %.1f, peak %.1f; %.1f KB a plan)", s.RSSMB, s.IdleRSSMB, s.PeakRSSMB, s.PerPlanKB), "", ""})
			if s.Plans >= TargetScalePlans {
				out = append(out, row{"scale", fmt.Sprintf("worker memory at %s plans", group(TargetScalePlans)), fmt.Sprintf("%.1f MB", s.ProjectedRSSMB), fmt.Sprintf("< %d MB", TargetScaleRSSMB), verdict(s.ProjectedRSSMB > 0 && s.ProjectedRSSMB < TargetScaleRSSMB)})
			} else {
				out = append(out, row{"scale", fmt.Sprintf("worker memory at %s plans", group(TargetScalePlans)), fmt.Sprintf("not measured: --scale %d (%.1f MB if every plan stayed in memory)", TargetScalePlans, s.ProjectedRSSMB), fmt.Sprintf("< %d MB", TargetScaleRSSMB), "-"})
			}
		}
	}
	return out
}

// roundRates is " (rounds 54.6, 27.2)" for more than one round.
func roundRates(r []float64) string {
	if len(r) < 2 {
		return ""
	}
	parts := make([]string, len(r))
	for i, v := range r {
		parts[i] = fmt.Sprintf("%.1f", v)
	}
	return " (rounds " + strings.Join(parts, ", ") + ")"
}

// kinds is "timer 15, activity 14, ...", the largest first.
func kinds(by map[string]int) string {
	names := make([]string, 0, len(by))
	for k := range by {
		names = append(names, k)
	}
	sort.Slice(names, func(i, j int) bool {
		if by[names[i]] != by[names[j]] {
			return by[names[i]] > by[names[j]]
		}
		return names[i] < names[j]
	})
	parts := make([]string, len(names))
	for i, k := range names {
		parts[i] = fmt.Sprintf("%s %d", k, by[k])
	}
	return strings.Join(parts, ", ")
}

// baselineShape says what messages the baseline workflows got.
func baselineShape(shape string) string {
	switch shape {
	case BaselineSignal:
		return "(start, signal, update)"
	case BaselineDoor:
		return "(as the front door: update-with-start, 1 query, 2 updates)"
	}
	return "(" + shape + ")"
}

// WriteTable writes r for people: a heading with the setup, then one line
// per figure with its target and PASS or FAIL.
func WriteTable(w io.Writer, r Report) error {
	s := r.Setup
	where := s.Temporal
	if s.Local {
		where += " (local, in-memory)"
	}
	fmt.Fprintf(w, "fenqi bench %s: %d CPUs, concurrency %d, %d round(s); Temporal %s; worker pid %d (%s) on task queue %s; %.0f s\n\n",
		r.Run, s.CPUs, s.Concurrency, s.Rounds, where, s.WorkerPID, s.Worker, s.TaskQueue, r.Seconds)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "part\tfigure\tmeasured\ttarget\tresult")
	for _, x := range rows(r) {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", x.part, x.figure, x.measured, orDash(x.target), orDash(x.result))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write the report: %w", err)
	}
	passed, total := 0, len(r.Checks)
	for _, c := range r.Checks {
		if c.Pass {
			passed++
		}
	}
	_, err := fmt.Fprintf(w, "\n%d of %d targets met\n", passed, total)
	return err
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// oneLine keeps the first line of s.
func oneLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

// group writes n with thousands separators: 10,000.
func group(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
