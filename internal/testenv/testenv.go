// Package testenv gives integration tests a real PostgreSQL and a real
// Temporal dev server. Each test binary starts at most one of each, lazily,
// in a throwaway folder, and removes them when its tests end (call Main from
// TestMain). Every test gets a database of its own.
//
// TEST_DATABASE_URL, when set, points the tests at an existing server
// instead of a throwaway cluster (each test still gets its own database).
//
// Payloads are encrypted as in production: TemporalClient (and so every
// worker and front door the tests build on it) uses the payload codec of
// a key ring made for the test binary (Codec). Main also puts that ring in
// FENQI_CODEC_KEYS (unless FENQI_CODEC_KEYS or FENQI_CODEC_KEYS_FILE is
// set), so that every store the tests open seals personal data with it
// (store.DefaultKeyRing).
package testenv

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"go.temporal.io/sdk/client"

	"github.com/fenqi/fenqi/codec"
	"github.com/fenqi/fenqi/internal/devstack"
)

var (
	pgOnce  sync.Once
	pg      *devstack.Postgres
	pgDir   string
	pgErr   error
	baseURL string

	tmOnce sync.Once
	tm     *devstack.Temporal
	tmErr  error
	tmLog  string

	codecOnce sync.Once
	cdc       *codec.Codec
	codecErr  error

	dbCount atomic.Int64
)

// Main runs the tests of a package and then stops and removes the servers
// they started. Use it as `func TestMain(m *testing.M) { testenv.Main(m) }`.
func Main(m *testing.M) {
	if os.Getenv(codec.EnvKeys) == "" && os.Getenv(codec.EnvKeysFile) == "" {
		c, err := testCodec()
		if err != nil {
			fmt.Fprintf(os.Stderr, "testenv: test codec: %v\n", err)
			os.Exit(1)
		}
		os.Setenv(codec.EnvKeys, c.KeyRing().Format())
	}
	code := m.Run()
	shutdown()
	os.Exit(code)
}

func shutdown() {
	if tm != nil {
		_ = tm.Stop()
	}
	if tmLog != "" && tmErr == nil {
		_ = os.Remove(tmLog)
	}
	if pg != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_ = pg.Stop(ctx)
	}
	if pgDir != "" {
		_ = os.RemoveAll(pgDir)
	}
}

func startPostgres() {
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		baseURL = u
		return
	}
	reapStaleClusters()
	dir, err := os.MkdirTemp("", "fenqi-test-pg-")
	if err != nil {
		pgErr = fmt.Errorf("create throwaway postgres folder: %w", err)
		return
	}
	if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		pgErr = fmt.Errorf("record owner of %s: %w", dir, err)
		return
	}
	// The server may run as an unprivileged user: let it reach the folder.
	_ = os.Chmod(dir, 0o755)
	pgDir = dir
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	pg, pgErr = devstack.StartPostgres(ctx, devstack.PostgresOptions{Dir: dir, NoFsync: true, Database: "postgres"})
	if pgErr == nil {
		baseURL = pg.URL("postgres")
	}
}

// ownerFile holds the pid of the test binary that made a throwaway cluster.
const ownerFile = "owner.pid"

// reapStaleClusters stops and removes throwaway clusters whose test binary
// is gone (killed by a timeout or a signal before it could clean up).
// Clusters of test binaries still running are left alone.
func reapStaleClusters() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), "fenqi-test-pg-*"))
	for _, dir := range dirs {
		b, err := os.ReadFile(filepath.Join(dir, ownerFile))
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(string(b))
		if err != nil || processAlive(pid) {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		_ = devstack.StopIfRunning(ctx, dir)
		cancel()
		_ = os.RemoveAll(dir)
	}
}

func processAlive(pid int) bool {
	return syscall.Kill(pid, 0) == nil
}

// Postgres returns the throwaway cluster, or nil when TEST_DATABASE_URL
// points at an existing server (a test that restarts the server skips
// itself then).
func Postgres(t testing.TB) *devstack.Postgres {
	t.Helper()
	pgOnce.Do(startPostgres)
	if pgErr != nil {
		t.Fatalf("start test postgres: %v", pgErr)
	}
	return pg
}

// Database creates an empty database for this test and returns its URL; it
// is dropped when the test ends.
func Database(t testing.TB) string {
	t.Helper()
	Postgres(t)
	name := fmt.Sprintf("t%d_%s", dbCount.Add(1), strings.ReplaceAll(uuid.NewString()[:8], "-", ""))
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, baseURL)
	if err != nil {
		t.Fatalf("connect to test postgres: %v", err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("create test database %s: %v", name, err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(ctx, baseURL)
		if err != nil {
			return
		}
		defer c.Close(ctx)
		_, _ = c.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	})
	u, err := url.Parse(baseURL)
	if err != nil {
		t.Fatalf("parse test database url: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}

func startTemporal() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cli, err := devstack.TemporalCLI(ctx)
	if err != nil {
		tmErr = err
		return
	}
	// Keep the server's output so that a failed start says why.
	logFile, err := os.CreateTemp("", "fenqi-test-temporal-*.log")
	if err != nil {
		tmErr = fmt.Errorf("create temporal log: %w", err)
		return
	}
	tmLog = logFile.Name()
	c, err := testCodec()
	if err != nil {
		tmErr = err
		return
	}
	tm, tmErr = devstack.StartTemporal(ctx, devstack.TemporalOptions{
		CLI: cli, Log: logFile,
		DataConverter: codec.DataConverter(c), FailureConverter: codec.FailureConverter(c),
	})
	if tmErr != nil {
		b, _ := os.ReadFile(tmLog)
		if len(b) > 4000 {
			b = b[len(b)-4000:]
		}
		tmErr = fmt.Errorf("%w; server output (%s):\n%s", tmErr, tmLog, b)
	}
}

// Temporal returns the test binary's dev server (in memory, no UI),
// starting it on first use.
func Temporal(t testing.TB) *devstack.Temporal {
	t.Helper()
	tmOnce.Do(startTemporal)
	if tmErr != nil {
		t.Fatalf("start test temporal dev server: %v", tmErr)
	}
	return tm
}

// TemporalClient is a client of the test dev server's default namespace,
// with fenqi's payload codec (Codec) under its data and failure
// converters, as the worker, the API and the CLI have.
func TemporalClient(t testing.TB) client.Client {
	t.Helper()
	return Temporal(t).Client()
}

// Codec is the payload codec of the test binary: one random key, made on
// first use, that TemporalClient encrypts with. A test reading raw
// histories decodes them with it.
func Codec(t testing.TB) *codec.Codec {
	t.Helper()
	c, err := testCodec()
	if err != nil {
		t.Fatalf("test codec: %v", err)
	}
	return c
}

func testCodec() (*codec.Codec, error) {
	codecOnce.Do(func() {
		var k codec.Key
		if k, codecErr = codec.GenerateKey(codec.NewKeyID("test-")); codecErr != nil {
			return
		}
		var ring codec.KeyRing
		if ring, codecErr = codec.NewKeyRing(k); codecErr != nil {
			return
		}
		cdc, codecErr = codec.New(ring)
	})
	return cdc, codecErr
}
