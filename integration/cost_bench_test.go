package integration

import (
	"context"
	"testing"
	"time"

	"github.com/fenqi/fenqi/activities"
	"github.com/fenqi/fenqi/internal/histories"
	"github.com/fenqi/fenqi/internal/testenv"
	"github.com/fenqi/fenqi/internal/testsystem"
	"github.com/fenqi/fenqi/plan"
)

// costDaySeconds is the compressed business day of each cost run. At 0.05
// s the dev server starts every timer (the 12-instalment plan counts the 53
// actions its commands add up to); faster, some due dates are already past
// when their timer would start, no timer is recorded and actions are
// undercounted. The 360-instalment plan runs at 0.02 s to take about 4
// minutes: its history bound per run is exact, its action count a floor.
var costDaySeconds = map[int]float64{12: 0.05, 360: 0.02}

// BenchmarkPlanCost runs whole plans from application to payoff on a real
// server and reports what they cost on Temporal: billable actions and
// history events in all and per instalment, the number of runs
// (Continue-As-New) and the largest run. `make bench` runs it; the
// 360-instalment plan takes about 4 minutes of real time.
// Run: make bench, or go test -run '^$' -bench PlanCost -benchtime 1x ./integration/
func BenchmarkPlanCost(b *testing.B) {
	for _, terms := range []int{12, 360} {
		b.Run(map[int]string{12: "12-instalments", 360: "360-instalments"}[terms], func(b *testing.B) {
			for range b.N {
				cost := planCost(b, terms)
				b.ReportMetric(float64(cost.Actions), "actions/plan")
				b.ReportMetric(float64(cost.Events), "events/plan")
				b.ReportMetric(float64(cost.Actions)/float64(terms), "actions/instalment")
				b.ReportMetric(float64(cost.Events)/float64(terms), "events/instalment")
				b.ReportMetric(float64(cost.Runs), "runs")
				b.ReportMetric(float64(cost.MaxRunEvents), "max-run-events")
			}
		})
	}
}

func planCost(b *testing.B, terms int) histories.Cost {
	ctx := context.Background()
	s := newSystem(b)
	acts := activities.New(s.st)
	acts.Policy = testsystem.LongTermPolicy(b)
	s.startWorker(acts)
	day := costDaySeconds[terms]
	id := s.activePlan(ctx, day, "12000", terms, "100000")
	s.waitFor(ctx, id, plan.StateClosed, time.Duration(float64(terms)*40*day*float64(time.Second))+time.Minute)
	pid, err := plan.ParseID(id)
	if err != nil {
		b.Fatal(err)
	}
	cost, err := histories.ChainCost(ctx, testenv.TemporalClient(b), plan.WorkflowID(pid))
	if err != nil {
		b.Fatal(err)
	}
	if cost.MaxRunEvents > 2000 {
		b.Fatalf("a run of the %d-instalment plan has %d history events, over the 2,000 bound", terms, cost.MaxRunEvents)
	}
	return cost
}
