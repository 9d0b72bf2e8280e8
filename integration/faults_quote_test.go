package integration

import (
	"context"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/fenqi/fenqi/activities"
	"github.com/fenqi/fenqi/codec"
	"github.com/fenqi/fenqi/internal/testenv"
	"github.com/fenqi/fenqi/plan"
	"github.com/fenqi/fenqi/workflows"
)

// A worker that dies after a quote was made and recorded, before its
// workflow task completed: the next worker runs the quote's local
// activity again, at a later time of its own, and must answer with the
// quote recorded first. (It used to compute a new quote, which the
// record refused as a conflict: the plan was held up while the local
// activity retried, then answered "we could not make the quote just now"
// for good under that request id, while the requests table said the
// quote was made.) The crash is a panic in the workflow task right after
// the quote's local activity returned, once.
func TestFaultsQuoteRedoneAfterACrash(t *testing.T) {
	ctx := context.Background()
	s := newSystem(t)
	crash := &crashAfterLocalActivity{activity: "QuoteChange"}
	// The SDK logs the panic with its stack: not in this test's output.
	cdc := testenv.Codec(t)
	quiet, err := client.NewClientFromExisting(testenv.TemporalClient(t), client.Options{
		Logger:        tlog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))),
		DataConverter: codec.DataConverter(cdc), FailureConverter: codec.FailureConverter(cdc),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(quiet.Close)
	w := worker.New(quiet, s.queue, worker.Options{
		Interceptors: []interceptor.WorkerInterceptor{crash},
	})
	workflows.Register(w, activities.New(s.st))
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	id := s.activePlan(ctx, 2, "6000", 6, "100000")

	qctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	quote, err := s.door.Prepay(qctx, id, plan.PrepayRequest{RequestID: "pq-" + uuid.NewString()})
	if err != nil || !quote.Accepted || quote.Quote == nil {
		t.Fatalf("a quote made again after the worker crashed: %+v %v (the plan is held up by its own record)", quote, err)
	}
	if !crash.crashed.Load() {
		t.Fatal("the worker did not crash after the quote")
	}
	confirm, err := s.door.Prepay(qctx, id, plan.PrepayRequest{RequestID: "pc-" + uuid.NewString(), QuoteID: quote.Quote.ID})
	if err != nil || !confirm.Accepted {
		t.Fatalf("confirm %s: %+v %v", quote.Quote.ID, confirm, err)
	}
	st := s.waitFor(ctx, id, plan.StateClosed, time.Minute)
	if st.CloseReason != "repaid early" {
		t.Fatalf("closed %q, want repaid early", st.CloseReason)
	}
	s.wantBooks(id)
}

// crashAfterLocalActivity fails the workflow task once, right after the
// local activity named activity returned a result, as a worker killed at
// that moment would: the result is not in the history, and the next
// workflow task runs the local activity again.
type crashAfterLocalActivity struct {
	interceptor.WorkerInterceptorBase
	activity string
	crashed  atomic.Bool
}

func (c *crashAfterLocalActivity) InterceptWorkflow(_ workflow.Context, next interceptor.WorkflowInboundInterceptor) interceptor.WorkflowInboundInterceptor {
	return &crashInbound{WorkflowInboundInterceptorBase: interceptor.WorkflowInboundInterceptorBase{Next: next}, c: c}
}

type crashInbound struct {
	interceptor.WorkflowInboundInterceptorBase
	c *crashAfterLocalActivity
}

func (i *crashInbound) Init(outbound interceptor.WorkflowOutboundInterceptor) error {
	return i.Next.Init(&crashOutbound{WorkflowOutboundInterceptorBase: interceptor.WorkflowOutboundInterceptorBase{Next: outbound}, c: i.c})
}

type crashOutbound struct {
	interceptor.WorkflowOutboundInterceptorBase
	c *crashAfterLocalActivity
}

func (o *crashOutbound) ExecuteLocalActivity(ctx workflow.Context, activityType string, args ...any) workflow.Future {
	f := o.Next.ExecuteLocalActivity(ctx, activityType, args...)
	if activityType != o.c.activity {
		return f
	}
	return crashFuture{Future: f, c: o.c}
}

type crashFuture struct {
	workflow.Future
	c *crashAfterLocalActivity
}

func (f crashFuture) Get(ctx workflow.Context, v any) error {
	err := f.Future.Get(ctx, v)
	if err == nil && f.c.crashed.CompareAndSwap(false, true) {
		panic("the worker dies after " + f.c.activity + " returned")
	}
	return err
}
