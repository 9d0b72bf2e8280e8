package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"go.temporal.io/sdk/client"

	"github.com/fenqi/fenqi/frontdoor"
	"github.com/fenqi/fenqi/plan"
)

// dialDoor connects to Temporal (TEMPORAL_ADDRESS, default
// 127.0.0.1:7233, namespace TEMPORAL_NAMESPACE) and returns the front
// door; tests point it at their own server.
var dialDoor = func(ctx context.Context) (*frontdoor.Door, func(), error) {
	addr := os.Getenv("TEMPORAL_ADDRESS")
	if addr == "" {
		addr = "127.0.0.1:7233"
	}
	ns := os.Getenv("TEMPORAL_NAMESPACE")
	c, err := client.DialContext(ctx, client.Options{HostPort: addr, Namespace: ns, Logger: quietLogger{}})
	if err != nil {
		return nil, nil, fmt.Errorf("cannot reach Temporal at %s (is `make run` running?): %w", addr, err)
	}
	return frontdoor.New(c, os.Getenv("FENQI_TASK_QUEUE")), c.Close, nil
}

// withDoor runs f with a connected front door and turns its error into an
// exit status: bad input, an unknown plan or a request the plan rejected
// is a usage error (2), anything else a failure (1).
func withDoor(ctx context.Context, name string, stderr io.Writer, f func(*frontdoor.Door) error) int {
	door, closeDoor, err := dialDoor(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "starter %s: %v\n", name, err)
		return exitError
	}
	defer closeDoor()
	return exitFor(name, stderr, f(door))
}

// refusedError is a reply whose request the plan refused.
type refusedError struct{ reply plan.Reply }

func (e *refusedError) Error() string { return "refused: " + e.reply.Reason }

func exitFor(name string, stderr io.Writer, err error) int {
	if err == nil {
		return exitOK
	}
	fmt.Fprintf(stderr, "starter %s: %v\n", name, err)
	var invalid *plan.ValidationError
	var rejected *frontdoor.RejectedError
	switch {
	case errors.As(err, &invalid), errors.As(err, &rejected), errors.Is(err, frontdoor.ErrNotFound):
		return exitUsage
	}
	return exitError
}

// printJSON writes v as one JSON object on a line.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	return enc.Encode(v)
}

// quietLogger keeps the Temporal client's own logs off the terminal.
type quietLogger struct{}

func (quietLogger) Debug(string, ...any) {}
func (quietLogger) Info(string, ...any)  {}
func (quietLogger) Warn(string, ...any)  {}
func (quietLogger) Error(string, ...any) {}
