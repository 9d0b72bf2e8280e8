package temporalclient

import "go.temporal.io/sdk/worker"

// Pollers are the poller behaviours of fenqi's worker, and of the bench's
// baseline worker (so that the bench compares the workflows, not the
// polling): autoscaling, since a fixed pair of workflow-task pollers parked
// on the sticky queue left new plans' first tasks waiting about 2 s on the
// dev server, with a floor of 4 workflow-task pollers, since at the
// autoscaler's default floor of 1 a status query now and then waited about
// 5 s for a poller (the worker then answered "query task not found, or
// already expired"; docs/benchmarks.md).
func Pollers() (workflowTasks, activityTasks worker.PollerBehavior) {
	return worker.NewPollerBehaviorAutoscaling(worker.PollerBehaviorAutoscalingOptions{MinimumNumberOfPollers: 4}),
		worker.NewPollerBehaviorAutoscaling(worker.PollerBehaviorAutoscalingOptions{})
}
