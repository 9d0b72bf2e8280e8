package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/fenqi/fenqi/codec"
	"github.com/fenqi/fenqi/frontdoor"
	"github.com/fenqi/fenqi/internal/temporalclient"
	"github.com/fenqi/fenqi/plan"
	"github.com/fenqi/fenqi/store"
)

// dialDoor connects to Temporal (TEMPORAL_ADDRESS, default
// 127.0.0.1:7233, namespace TEMPORAL_NAMESPACE) with the payload codec
// (FENQI_CODEC_KEYS or FENQI_CODEC_KEYS_FILE, by default the dev key ring
// of `make run`) and returns the front door with opts; tests point it at
// their own server.
var dialDoor = func(ctx context.Context, opts ...frontdoor.Option) (*frontdoor.Door, func(), error) {
	c, _, err := dialTemporal(ctx, "is `make run` running?")
	if err != nil {
		return nil, nil, err
	}
	return frontdoor.New(c, os.Getenv("FENQI_TASK_QUEUE"), opts...), c.Close, nil
}

// dialTemporal connects to the Temporal of the environment
// (temporalclient.Options) with the key ring of FENQI_CODEC_KEYS(_FILE),
// by default that of `make run`: plans' payloads are encrypted on the
// server. It returns the codec with the client. hint ends the error when
// Temporal cannot be reached.
func dialTemporal(ctx context.Context, hint string) (client.Client, *codec.Codec, error) {
	cdc, err := codec.FromEnvOrDevKeys()
	if err != nil {
		return nil, nil, err
	}
	o := temporalclient.Options(cdc)
	o.Logger = quietLogger{}
	c, err := client.DialContext(ctx, o)
	if err != nil {
		return nil, nil, fmt.Errorf("cannot reach Temporal at %s (%s): %w", o.HostPort, hint, err)
	}
	return c, cdc, nil
}

// defaultDatabaseURL is the database `make run` starts.
const defaultDatabaseURL = "postgres://postgres@127.0.0.1:15432/fenqi?sslmode=disable"

// openStore connects to the database at DATABASE_URL (default: the one
// `make run` starts), for the commands that read or write what lives
// there rather than in the workflow (contacts, fund, demo).
func openStore(ctx context.Context) (*store.Store, error) {
	raw := os.Getenv("DATABASE_URL")
	if raw == "" {
		raw = defaultDatabaseURL
	}
	shown := "DATABASE_URL"
	if u, err := url.Parse(raw); err == nil {
		shown = u.Redacted()
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	st, err := store.Open(pingCtx, raw)
	if err != nil {
		// pgx lists every address tried on a line of its own: one line here.
		return nil, fmt.Errorf("cannot reach the database at %s (is `make run` running? set DATABASE_URL otherwise): %s", shown, strings.Join(strings.Fields(err.Error()), " "))
	}
	return st, nil
}

// withStoreDoor is withDoor for a front door that also reads and writes
// the database.
func withStoreDoor(ctx context.Context, name string, stderr io.Writer, f func(*frontdoor.Door) error) int {
	st, err := openStore(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "starter %s: %v\n", name, err)
		return exitError
	}
	defer st.Close()
	door, closeDoor, err := dialDoor(ctx, frontdoor.WithStore(st))
	if err != nil {
		fmt.Fprintf(stderr, "starter %s: %v\n", name, err)
		return exitError
	}
	defer closeDoor()
	return exitFor(name, stderr, f(door))
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

// Error says why; a quote that is not eligible says so in the quote.
func (e *refusedError) Error() string { return "refused: " + refusal(e.reply) }

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
