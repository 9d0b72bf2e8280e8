package integration

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/fenqi/fenqi/activities"
	"github.com/fenqi/fenqi/internal/testenv"
	"github.com/fenqi/fenqi/plan"
	"github.com/fenqi/fenqi/workflows"
)

// A worker with worker versioning on (as FENQI_DEPLOYMENT_NAME and
// FENQI_BUILD_ID set it up) takes plans once its version is made current:
// the procedure of docs/upgrades.md works on the real server.
func TestVersionedWorkerTakesPlans(t *testing.T) {
	ctx := context.Background()
	s := newSystem(t)
	name, build := "fenqi-"+uuid.NewString()[:8], "b1"
	w := worker.New(testenv.TemporalClient(t), s.queue, worker.Options{DeploymentOptions: worker.DeploymentOptions{
		UseVersioning:             true,
		Version:                   worker.WorkerDeploymentVersion{DeploymentName: name, BuildID: build},
		DefaultVersioningBehavior: workflow.VersioningBehaviorAutoUpgrade,
	}})
	workflows.Register(w, activities.New(s.st))
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	h := testenv.TemporalClient(t).WorkerDeploymentClient().GetHandle(name)
	deadline := time.Now().Add(30 * time.Second)
	for {
		// The version exists once the worker has polled.
		_, err := h.SetCurrentVersion(ctx, client.WorkerDeploymentSetCurrentVersionOptions{BuildID: build})
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("set %s.%s current: %v", name, build, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	app := plan.Application{RequestID: "it-" + uuid.NewString(), Customer: customer(t, "strong"), Amount: decimal.RequireFromString("6000"), Terms: 6}
	applied, err := s.door.Apply(ctx, app)
	if err != nil || applied.State != plan.StateOffered {
		t.Fatalf("apply through the versioned worker: %+v %v", applied, err)
	}
	d, err := h.Describe(ctx, client.WorkerDeploymentDescribeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if cur := d.Info.RoutingConfig.CurrentVersion; cur == nil || cur.BuildID != build {
		t.Fatalf("current version %+v, want build %s", cur, build)
	}
}
