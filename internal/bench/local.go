package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/testsuite"

	"github.com/fenqi/fenqi/codec"
	"github.com/fenqi/fenqi/internal/devstack"
	"github.com/fenqi/fenqi/internal/temporalclient"
	"github.com/fenqi/fenqi/migrations"
	"github.com/fenqi/fenqi/searchattrs"
)

// Servers are the Temporal server and the PostgreSQL database a bench
// runs against.
type Servers struct {
	// Client is connected to the namespace with fenqi's payload codec.
	Client          client.Client
	TemporalAddress string
	Namespace       string
	DatabaseURL     string
	// Ring is the key ring of Client's codec, for the bench's worker.
	Ring codec.KeyRing
	// Local is true for servers StartLocal started.
	Local bool
	// Dir holds what the bench writes (the worker's log, its policy file);
	// it is removed by Close unless Keep is set.
	Dir  string
	Keep bool

	stop []func()
}

// Dial opens another connection to the servers' Temporal, as Client's
// (closed by Close): a worker of its own process has one of its own.
func (s *Servers) Dial(ctx context.Context) (client.Client, error) {
	cdc, err := codec.New(s.Ring)
	if err != nil {
		return nil, err
	}
	o := temporalclient.Options(cdc)
	o.HostPort, o.Namespace, o.Logger = s.TemporalAddress, s.Namespace, QuietLogger{}
	c, err := client.DialContext(ctx, o)
	if err != nil {
		return nil, fmt.Errorf("dial Temporal at %s: %w", s.TemporalAddress, err)
	}
	s.OnClose(c.Close)
	return c, nil
}

// OnClose adds f to what Close does (last added, first done).
func (s *Servers) OnClose(f func()) { s.stop = append(s.stop, f) }

// Close stops what the bench started and removes its folder.
func (s *Servers) Close() {
	for i := len(s.stop) - 1; i >= 0; i-- {
		s.stop[i]()
	}
	s.stop = nil
}

// ownerFile in a bench's folder holds the pid of the bench that made it,
// until the folder is kept.
const ownerFile = "owner.pid"

// NewDir makes the bench's folder (worker log, policy file) and has Close
// remove it unless Keep is set by then. Folders of benches that died
// without cleaning up are removed first, their PostgreSQL stopped.
func (s *Servers) NewDir() error {
	reapStale()
	dir, err := os.MkdirTemp("", "fenqi-bench-")
	if err != nil {
		return fmt.Errorf("create the bench folder: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		return fmt.Errorf("record the owner of %s: %w", dir, err)
	}
	s.Dir = dir
	s.OnClose(func() {
		if s.Keep {
			_ = os.Remove(filepath.Join(dir, ownerFile))
			return
		}
		_ = os.RemoveAll(dir)
	})
	return nil
}

// reapStale stops and removes the folders of benches that are gone
// (killed before they could clean up); kept folders have no owner file and
// stay.
func reapStale() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), "fenqi-bench-*"))
	for _, dir := range dirs {
		b, err := os.ReadFile(filepath.Join(dir, ownerFile))
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(string(b))
		if err != nil || pid <= 0 || alive(pid) {
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, "pg")); err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			_ = devstack.StopIfRunning(ctx, filepath.Join(dir, "pg"))
			cancel()
		}
		_ = os.RemoveAll(dir)
	}
}

// StartLocal starts throwaway servers for one bench, as the integration
// tests do: a private PostgreSQL cluster (fsync on, as `make run`) with
// fenqi's schema and the Temporal dev server in memory, both on free
// ports, with a fresh payload key. Close stops both and removes their
// data.
func StartLocal(ctx context.Context, logger interface {
	Info(string, ...any)
}) (_ *Servers, err error) {
	s := &Servers{Local: true, Namespace: "default"}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	if err := s.NewDir(); err != nil {
		return nil, err
	}
	// The server may run as an unprivileged user: let it reach the folder.
	_ = os.Chmod(s.Dir, 0o755)
	pgDir := filepath.Join(s.Dir, "pg")
	logger.Info("starting a throwaway PostgreSQL", "dir", pgDir)
	pgCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	pg, err := devstack.StartPostgres(pgCtx, devstack.PostgresOptions{Dir: pgDir, Database: "fenqi"})
	if err != nil {
		return nil, fmt.Errorf("start a throwaway PostgreSQL: %w", err)
	}
	s.OnClose(func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_ = pg.Stop(stopCtx)
	})
	s.DatabaseURL = pg.URL("fenqi")
	if _, err := migrations.Up(ctx, s.DatabaseURL); err != nil {
		return nil, fmt.Errorf("migrate the throwaway database: %w", err)
	}

	key, err := codec.GenerateKey(codec.NewKeyID("bench-"))
	if err != nil {
		return nil, err
	}
	if s.Ring, err = codec.NewKeyRing(key); err != nil {
		return nil, err
	}
	cdc, err := codec.New(s.Ring)
	if err != nil {
		return nil, err
	}
	cli, err := devstack.TemporalCLI(ctx)
	if err != nil {
		return nil, err
	}
	port, err := devstack.FreePort()
	if err != nil {
		return nil, err
	}
	s.TemporalAddress = "127.0.0.1:" + strconv.Itoa(port)
	tlog, err := os.Create(filepath.Join(s.Dir, "temporal.log"))
	if err != nil {
		return nil, fmt.Errorf("create the dev server's log: %w", err)
	}
	s.OnClose(func() { tlog.Close() })
	logger.Info("starting the Temporal dev server in memory", "address", s.TemporalAddress)
	// As devstack.StartTemporal, with a client that does not log on
	// stdout (which holds the report), dialled as fenqi's processes dial.
	clientOptions := temporalclient.Options(cdc)
	clientOptions.HostPort, clientOptions.Namespace, clientOptions.Logger = s.TemporalAddress, s.Namespace, QuietLogger{}
	srv, err := testsuite.StartDevServer(ctx, testsuite.DevServerOptions{
		ExistingPath:     cli,
		ClientOptions:    &clientOptions,
		LogLevel:         "warn",
		SearchAttributes: searchattrs.All(),
		Stdout:           tlog,
		Stderr:           tlog,
		// One partition per task queue: on one process, partitions only
		// add forwarding. With the default 4, a workflow task of a worker
		// whose pollers had idled (the baseline's, during the onboarding
		// rounds) waited about 2 s, in whole rounds, holding the baseline
		// to 17 to 30 workflows/s against 65 to 75.
		ExtraArgs: []string{"--dynamic-config-value", "matching.numTaskqueueReadPartitions=1",
			"--dynamic-config-value", "matching.numTaskqueueWritePartitions=1"},
	})
	if err != nil {
		return nil, fmt.Errorf("start the Temporal dev server on %s (log %s): %w", s.TemporalAddress, tlog.Name(), err)
	}
	s.OnClose(func() { _ = srv.Stop() })
	s.Client = srv.Client()
	return s, nil
}

// alive reports whether process pid exists (perhaps another user's).
func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// QuietLogger keeps the Temporal SDK's own logs off the terminal.
type QuietLogger struct{}

func (QuietLogger) Debug(string, ...any) {}
func (QuietLogger) Info(string, ...any)  {}
func (QuietLogger) Warn(string, ...any)  {}
func (QuietLogger) Error(string, ...any) {}
