// Package testsystem wires fenqi for integration tests on testenv's real
// servers: a migrated store on a fresh database, a worker with the real
// workflows and activities on a task queue of its own, the example
// customers. (It is apart from testenv, which the store's own tests use.)
package testsystem

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/uuid"
	"go.temporal.io/sdk/worker"

	"github.com/fenqi/fenqi/activities"
	"github.com/fenqi/fenqi/calc"
	"github.com/fenqi/fenqi/internal/devstack"
	"github.com/fenqi/fenqi/internal/testenv"
	"github.com/fenqi/fenqi/migrations"
	"github.com/fenqi/fenqi/plan"
	"github.com/fenqi/fenqi/store"
	"github.com/fenqi/fenqi/underwriting"
	"github.com/fenqi/fenqi/workflows"
)

// Store returns a store over a fresh, migrated database; it is closed when
// the test ends.
func Store(t testing.TB) *store.Store {
	t.Helper()
	st, _ := StoreAndURL(t)
	return st
}

// StoreAndURL is Store with the database's URL, for a test that points a
// program at it.
func StoreAndURL(t testing.TB) (*store.Store, string) {
	t.Helper()
	ctx := context.Background()
	url := testenv.Database(t)
	if _, err := migrations.Up(ctx, url); err != nil {
		t.Fatalf("migrate %s: %v", url, err)
	}
	st, err := store.Open(ctx, url)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(st.Close)
	return st, url
}

// Worker starts a worker with the real workflows and acts on a new task
// queue of the test Temporal server and returns the queue and a stop
// function (also called when the test ends).
func Worker(t testing.TB, acts *activities.Activities) (queue string, stop func()) {
	t.Helper()
	queue = "test-" + uuid.NewString()
	return queue, WorkerOn(t, queue, acts)
}

// WorkerOn starts a worker with the real workflows and acts on queue (a
// second worker on a queue takes over from one stopped) and returns its
// stop function (also called when the test ends).
func WorkerOn(t testing.TB, queue string, acts *activities.Activities) (stop func()) {
	t.Helper()
	w := worker.New(testenv.TemporalClient(t), queue, worker.Options{})
	workflows.Register(w, acts)
	if err := w.Start(); err != nil {
		t.Fatalf("start worker on %s: %v", queue, err)
	}
	stopped := false
	stop = func() {
		if !stopped {
			stopped = true
			w.Stop()
		}
	}
	t.Cleanup(stop)
	return stop
}

// Customer reads examples/customers/<name>.json.
func Customer(t testing.TB, name string) plan.Customer {
	t.Helper()
	root, err := devstack.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(root, "examples", "customers", name+".json")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	var c plan.Customer
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatalf("decode %s: %v", path, err)
	}
	return c
}

// LongTermPolicy is the default credit policy with tier A allowing plans
// up to 360 months, for tests of long plans (servicing does not care how a
// plan was granted).
func LongTermPolicy(t testing.TB) *underwriting.Policy {
	t.Helper()
	p := underwriting.DefaultPolicy()
	for i := range p.Tiers {
		if p.Tiers[i].Name == "A" {
			p.Tiers[i].MaxMonths = calc.MaxTerms
		}
	}
	if err := p.Validate(); err != nil {
		t.Fatalf("long-term policy: %v", err)
	}
	return &p
}
