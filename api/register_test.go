package api_test

import (
	"go.temporal.io/sdk/worker"

	"github.com/fenqi/fenqi/activities"
	"github.com/fenqi/fenqi/workflows"
)

func registerAll(w worker.Worker, a *activities.Activities) { workflows.Register(w, a) }
