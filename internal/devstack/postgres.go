// Package devstack starts the local services fenqi needs without Docker: a
// private PostgreSQL cluster and the Temporal dev server. `make run` uses it
// for a persistent stack and the integration tests use it for throwaway ones.
package devstack

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// ErrPostgresMissing is returned when no PostgreSQL server binaries are found.
var ErrPostgresMissing = errors.New("PostgreSQL server binaries (initdb, pg_ctl, postgres) not found; " +
	"install them with `sudo apt-get install -y postgresql` (Debian/Ubuntu) or set PG_BIN to their folder, " +
	"or set DATABASE_URL to use an existing server")

// PostgresBinDir finds the folder holding initdb and pg_ctl: $PG_BIN, then
// PATH, then the newest /usr/lib/postgresql/<version>/bin.
func PostgresBinDir() (string, error) {
	if dir := os.Getenv("PG_BIN"); dir != "" {
		if _, err := os.Stat(filepath.Join(dir, "initdb")); err != nil {
			return "", fmt.Errorf("PG_BIN=%s: %w", dir, ErrPostgresMissing)
		}
		return dir, nil
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		if _, err := exec.LookPath("pg_ctl"); err == nil {
			return filepath.Dir(p), nil
		}
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	sort.Slice(matches, func(i, j int) bool { return pgVersion(matches[i]) > pgVersion(matches[j]) })
	for _, m := range matches {
		dir := filepath.Dir(m)
		if _, err := os.Stat(filepath.Join(dir, "pg_ctl")); err == nil {
			return dir, nil
		}
	}
	return "", ErrPostgresMissing
}

func pgVersion(initdbPath string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(initdbPath))))
	return v
}

// PostgresOptions configures a private cluster.
type PostgresOptions struct {
	// Dir holds the cluster's data (Dir/data) and log (Dir/postgres.log).
	Dir string
	// Port is the TCP port on 127.0.0.1; 0 picks a free one.
	Port int
	// Database is created if missing; default "fenqi".
	Database string
	// Fsync off makes throwaway test clusters faster; keep it on for make run.
	NoFsync bool
}

// Postgres is a running private cluster started by StartPostgres.
type Postgres struct {
	bin      string
	dataDir  string
	logFile  string
	port     int
	database string
	noFsync  bool
}

// StartPostgres initialises the cluster in opts.Dir if it is new (reusing it
// otherwise), starts it on 127.0.0.1 and creates the database.
func StartPostgres(ctx context.Context, opts PostgresOptions) (*Postgres, error) {
	bin, err := PostgresBinDir()
	if err != nil {
		return nil, err
	}
	if opts.Database == "" {
		opts.Database = "fenqi"
	}
	if opts.Port == 0 {
		if opts.Port, err = FreePort(); err != nil {
			return nil, err
		}
	}
	p := &Postgres{
		bin:      bin,
		dataDir:  filepath.Join(opts.Dir, "data"),
		logFile:  filepath.Join(opts.Dir, "postgres.log"),
		port:     opts.Port,
		database: opts.Database,
		noFsync:  opts.NoFsync,
	}
	if err := os.MkdirAll(opts.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("create postgres folder %s: %w", opts.Dir, err)
	}
	if err := chownForServer(opts.Dir); err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(p.dataDir, "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		if err := p.initdb(ctx); err != nil {
			return nil, err
		}
	}
	if err := p.start(ctx); err != nil {
		return nil, err
	}
	if err := p.createDatabase(ctx, p.database); err != nil {
		_ = p.Stop(context.Background())
		return nil, err
	}
	return p, nil
}

func (p *Postgres) run(ctx context.Context, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, filepath.Join(p.bin, name), args...)
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	if err := dropRoot(cmd); err != nil {
		return err
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

func (p *Postgres) initdb(ctx context.Context) error {
	args := []string{"-D", p.dataDir, "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--no-locale"}
	return p.run(ctx, "initdb", args...)
}

// StopIfRunning stops a cluster left running in dir by an earlier process
// that did not shut down cleanly. It is a no-op when none is running.
func StopIfRunning(ctx context.Context, dir string) error {
	bin, err := PostgresBinDir()
	if err != nil {
		return err
	}
	p := &Postgres{bin: bin, dataDir: filepath.Join(dir, "data")}
	if _, err := os.Stat(filepath.Join(p.dataDir, "postmaster.pid")); err != nil {
		return nil
	}
	return p.ctl(ctx, "stop", "-m", "fast", "-w")
}

func (p *Postgres) start(ctx context.Context) error {
	opts := fmt.Sprintf("-c listen_addresses=127.0.0.1 -p %d -k %s -c max_connections=200", p.port, p.socketDir())
	if p.noFsync {
		opts += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
	}
	if err := os.MkdirAll(p.socketDir(), 0o777); err != nil {
		return fmt.Errorf("create socket folder: %w", err)
	}
	_ = os.Chmod(p.socketDir(), 0o777)
	// A stale postmaster.pid from a killed run is handled by pg_ctl itself
	// when the process is gone.
	if err := p.ctl(ctx, "start", "-w", "-t", "60", "-l", p.logFile, "-o", opts); err != nil {
		return fmt.Errorf("start postgres on port %d (log %s): %w", p.port, p.logFile, err)
	}
	return nil
}

func (p *Postgres) socketDir() string { return filepath.Join(filepath.Dir(p.dataDir), "sock") }

// Stop shuts the cluster down (fast mode: open sessions are rolled back).
func (p *Postgres) Stop(ctx context.Context) error {
	if err := p.ctl(ctx, "stop", "-m", "fast", "-w", "-t", "60"); err != nil {
		return fmt.Errorf("stop postgres in %s: %w", p.dataDir, err)
	}
	return nil
}

// Restart stops and starts the server again with the same data, for tests
// that check behaviour across a database restart.
func (p *Postgres) Restart(ctx context.Context) error {
	if err := p.Stop(ctx); err != nil {
		return err
	}
	return p.start(ctx)
}

// Port is the TCP port the server listens on.
func (p *Postgres) Port() int { return p.port }

// URL is the connection string for database db (the default database when
// empty).
func (p *Postgres) URL(db string) string {
	if db == "" {
		db = p.database
	}
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", p.port, db)
}

// CreateDatabase creates database name if it does not exist yet.
func (p *Postgres) CreateDatabase(ctx context.Context, name string) error {
	return p.createDatabase(ctx, name)
}

// DropDatabase removes database name and any sessions still open on it.
func (p *Postgres) DropDatabase(ctx context.Context, name string) error {
	conn, err := pgx.Connect(ctx, p.URL("postgres"))
	if err != nil {
		return fmt.Errorf("connect to postgres on port %d: %w", p.port, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("drop database %s: %w", name, err)
	}
	return nil
}

func (p *Postgres) createDatabase(ctx context.Context, name string) error {
	var conn *pgx.Conn
	var err error
	deadline := time.Now().Add(30 * time.Second)
	for {
		conn, err = pgx.Connect(ctx, p.URL("postgres"))
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err != nil {
		return fmt.Errorf("connect to postgres on port %d: %w", p.port, err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return fmt.Errorf("look up database %s: %w", name, err)
	}
	if exists {
		return nil
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	return nil
}

// FreePort asks the kernel for a free TCP port on 127.0.0.1 and keeps the
// kernel from handing it out again for a while: it connects to the port
// and closes that connection from the listening side, which leaves it in
// TIME_WAIT, so a later bind(:0) (the dev server's own internal services
// pick ports that way) does not get it, while an explicit bind still does.
// This is the Temporal CLI's technique.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	client, err := net.DialTCP("tcp", nil, l.Addr().(*net.TCPAddr))
	if err != nil {
		return 0, fmt.Errorf("find a free port: reserve %d: %w", port, err)
	}
	server, err := l.Accept()
	if err != nil {
		client.Close()
		return 0, fmt.Errorf("find a free port: reserve %d: %w", port, err)
	}
	// The server side closes first, so its end stays in TIME_WAIT.
	server.Close()
	client.Close()
	return port, nil
}

func (p *Postgres) ctl(ctx context.Context, args ...string) error {
	return p.run(ctx, "pg_ctl", append([]string{"-D", p.dataDir}, args...)...)
}

// PortFree reports an error when something already listens on port of
// 127.0.0.1.
func PortFree(port int) error {
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return fmt.Errorf("port %d is in use", port)
	}
	return l.Close()
}
