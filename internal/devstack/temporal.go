package devstack

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"

	"github.com/fenqi/fenqi/searchattrs"
)

// TemporalOptions configures a Temporal dev server.
type TemporalOptions struct {
	// CLI is the path of the pinned temporal binary (see TemporalCLI).
	CLI string
	// Port is the frontend gRPC port on 127.0.0.1; 0 picks a free one.
	Port int
	// UIPort serves the Web UI; 0 disables the UI.
	UIPort int
	// DBFile keeps the server's state across restarts; empty is in-memory.
	DBFile string
	// Namespace is registered on start; default "default".
	Namespace string
	// Log receives the server's output; nil discards it.
	Log io.Writer
	// DataConverter and FailureConverter are those of Client (fenqi's
	// payload codec, see package codec); nil is the SDK's default.
	DataConverter    converter.DataConverter
	FailureConverter converter.FailureConverter
	// UICodecEndpoint is the codec server the Web UI decodes payloads
	// with (`--ui-codec-endpoint`); empty for none.
	UICodecEndpoint string
}

// Temporal is a running dev server started by StartTemporal.
type Temporal struct {
	server   *testsuite.DevServer
	hostPort string
}

// StartTemporal starts the dev server with fenqi's search attributes
// registered and waits until it answers.
func StartTemporal(ctx context.Context, opts TemporalOptions) (*Temporal, error) {
	if opts.Namespace == "" {
		opts.Namespace = "default"
	}
	if opts.Port == 0 {
		p, err := FreePort()
		if err != nil {
			return nil, err
		}
		opts.Port = p
	}
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	hostPort := "127.0.0.1:" + strconv.Itoa(opts.Port)
	devOpts := testsuite.DevServerOptions{
		ExistingPath: opts.CLI,
		ClientOptions: &client.Options{
			HostPort: hostPort, Namespace: opts.Namespace,
			DataConverter: opts.DataConverter, FailureConverter: opts.FailureConverter,
			// As temporalclient.Options: payloads are encrypted, gzip only costs CPU.
			ConnectionOptions: client.ConnectionOptions{GrpcCompression: &client.GrpcCompressionNone{}},
		},
		DBFilename:       opts.DBFile,
		LogLevel:         "warn",
		SearchAttributes: searchattrs.All(),
		Stdout:           opts.Log,
		Stderr:           opts.Log,
	}
	if opts.UIPort != 0 {
		devOpts.EnableUI = true
		devOpts.UIPort = strconv.Itoa(opts.UIPort)
		if opts.UICodecEndpoint != "" {
			devOpts.ExtraArgs = append(devOpts.ExtraArgs, "--ui-codec-endpoint", opts.UICodecEndpoint)
		}
	}
	srv, err := testsuite.StartDevServer(ctx, devOpts)
	if err != nil {
		return nil, fmt.Errorf("start temporal dev server %s on %s: %w", opts.CLI, hostPort, err)
	}
	return &Temporal{server: srv, hostPort: hostPort}, nil
}

// HostPort is the frontend address clients and workers dial.
func (t *Temporal) HostPort() string { return t.hostPort }

// Client is a client connected to the server's namespace, with the
// options' data and failure converters.
func (t *Temporal) Client() client.Client { return t.server.Client() }

// Stop interrupts the server and waits for it to exit.
func (t *Temporal) Stop() error {
	if err := t.server.Stop(); err != nil {
		return fmt.Errorf("stop temporal dev server on %s: %w", t.hostPort, err)
	}
	return nil
}

// RepoRoot walks up from the working directory to the folder holding
// fenqi's go.mod.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find repo root: %w", err)
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && isFenqiMod(b) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("find repo root: no fenqi go.mod above the working directory")
		}
		dir = parent
	}
}

func isFenqiMod(b []byte) bool {
	const want = "module github.com/fenqi/fenqi\n"
	return len(b) >= len(want) && string(b[:len(want)]) == want
}
