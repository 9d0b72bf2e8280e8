package testenv

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/fenqi/fenqi/codec"
	"github.com/fenqi/fenqi/internal/devstack"
)

// Cluster is a PostgreSQL cluster of one test's own, apart from the
// package's shared one (Postgres, Database): a test may stop and start it
// (a database outage) without disturbing the other tests of its binary.
type Cluster struct {
	opts devstack.PostgresOptions

	mu sync.Mutex
	pg *devstack.Postgres
}

// PrivatePostgres starts a throwaway cluster for this test alone, with
// database db, on a port of its own; it is stopped and removed when the
// test ends (and reaped by a later test binary if this one is killed).
// It needs the PostgreSQL server binaries even when TEST_DATABASE_URL is
// set.
func PrivatePostgres(t testing.TB, db string) *Cluster {
	t.Helper()
	reapStaleClusters()
	dir, err := os.MkdirTemp("", "fenqi-test-pg-")
	if err != nil {
		t.Fatalf("create private postgres folder: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		t.Fatalf("record owner of %s: %v", dir, err)
	}
	_ = os.Chmod(dir, 0o755)
	c := &Cluster{opts: devstack.PostgresOptions{Dir: dir, NoFsync: false, Database: db}}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_ = devstack.StopIfRunning(ctx, dir)
		_ = os.RemoveAll(dir)
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := c.Start(ctx); err != nil {
		t.Fatalf("start private postgres: %v", err)
	}
	return c
}

// Start starts the cluster (again), on the same port and data.
func (c *Cluster) Start(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	pg, err := devstack.StartPostgres(ctx, c.opts)
	if err != nil {
		return err
	}
	c.pg, c.opts.Port = pg, pg.Port()
	return nil
}

// Stop shuts the server down (fast mode: open sessions are cut and their
// transactions rolled back), as an outage does.
func (c *Cluster) Stop(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pg.Stop(ctx)
}

// Crash stops the server as a crash does: SIGQUIT to the postmaster, an
// immediate shutdown without a checkpoint (the next Start recovers from
// the write-ahead log), and waits until it is gone.
func (c *Cluster) Crash(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	b, err := os.ReadFile(filepath.Join(c.opts.Dir, "data", "postmaster.pid"))
	if err != nil {
		return fmt.Errorf("crash postgres: %w", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0]))
	if err != nil || pid <= 0 {
		return fmt.Errorf("crash postgres: postmaster.pid starts with %q", strings.SplitN(string(b), "\n", 2)[0])
	}
	if err := syscall.Kill(pid, syscall.SIGQUIT); err != nil {
		return fmt.Errorf("crash postgres (pid %d): %w", pid, err)
	}
	for serverAlive(pid) {
		select {
		case <-ctx.Done():
			return fmt.Errorf("crash postgres (pid %d): still running: %w", pid, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
	return nil
}

// serverAlive reports whether process pid runs (a zombie does not).
func serverAlive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return processAlive(pid)
	}
	// pid (comm) state ...: the state follows the last ')'.
	i := strings.LastIndexByte(string(b), ')')
	return i < 0 || i+2 >= len(b) || b[i+2] != 'Z'
}

// Restart stops the server, waits down, and starts it again.
func (c *Cluster) Restart(ctx context.Context, down time.Duration) error {
	if err := c.Stop(ctx); err != nil {
		return err
	}
	select {
	case <-time.After(down):
	case <-ctx.Done():
	}
	return c.Start(ctx)
}

// URL is the connection string of the cluster's database.
func (c *Cluster) URL() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pg.URL("")
}

// PrivateTemporal starts a Temporal dev server for this test alone (in
// memory, no UI, fenqi's search attributes, the test binary's payload
// codec on its client, see Codec); it is stopped when the test ends. A
// test that leaves many plans running uses it so that they do not load
// the dev server the package's other tests share.
func PrivateTemporal(t testing.TB) *devstack.Temporal {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cli, err := devstack.TemporalCLI(ctx)
	if err != nil {
		t.Fatalf("temporal CLI: %v", err)
	}
	logFile, err := os.CreateTemp("", "fenqi-test-temporal-*.log")
	if err != nil {
		t.Fatalf("create temporal log: %v", err)
	}
	c := Codec(t)
	tm, err := devstack.StartTemporal(ctx, devstack.TemporalOptions{
		CLI: cli, Log: logFile,
		DataConverter: codec.DataConverter(c), FailureConverter: codec.FailureConverter(c),
	})
	if err != nil {
		logFile.Close()
		b, _ := os.ReadFile(logFile.Name())
		if len(b) > 4000 {
			b = b[len(b)-4000:]
		}
		t.Fatalf("start private temporal dev server: %v; server output (%s):\n%s", err, logFile.Name(), b)
	}
	t.Cleanup(func() {
		if err := tm.Stop(); err != nil {
			t.Logf("%v", err)
		}
		logFile.Close()
		if !t.Failed() {
			_ = os.Remove(logFile.Name())
		} else {
			t.Logf("private temporal dev server log: %s", logFile.Name())
		}
	})
	return tm
}

// String names the cluster for logs.
func (c *Cluster) String() string {
	return fmt.Sprintf("postgres on 127.0.0.1:%d (%s)", c.opts.Port, c.opts.Dir)
}
