package migrations

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/tern/v2/migrate"

	"github.com/fenqi/fenqi/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// wantTables are the tables the schema must provide for the whole lifecycle.
var wantTables = []string{
	"customers", "funding_accounts", "account_entries", "account_declines", "credit_lines",
	"applications", "assessments", "offers", "plans", "agreements",
	"schedule_versions", "instalments", "debit_attempts", "payments", "payment_allocations",
	"requests", "contacts", "outbox", "complaints", "tasks", "audit_log", "waivers",
	"promises", "collection_actions", "referral_decisions", "grace_extensions", "write_offs",
}

func connect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { conn.Close(ctx) })
	return conn
}

func tableExists(t *testing.T, conn *pgx.Conn, name string) bool {
	t.Helper()
	var ok bool
	if err := conn.QueryRow(context.Background(), "SELECT to_regclass($1) IS NOT NULL", "public."+name).Scan(&ok); err != nil {
		t.Fatalf("look up table %s: %v", name, err)
	}
	return ok
}

func latestEmbedded(t *testing.T) int32 {
	t.Helper()
	paths, err := migrate.FindMigrations(FS())
	if err != nil {
		t.Fatalf("find migrations: %v", err)
	}
	if len(paths) == 0 {
		t.Fatal("no embedded migrations")
	}
	return int32(len(paths))
}

// captureLogs sends slog's default logger to a buffer for the test.
func captureLogs(t *testing.T) *syncBuffer {
	t.Helper()
	buf := &syncBuffer{}
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelInfo})))
	t.Cleanup(func() { slog.SetDefault(prev) })
	return buf
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestUpAppliesEverythingOnceAndRecordsVersion(t *testing.T) {
	logs := captureLogs(t)
	ctx := context.Background()
	url := testenv.Database(t)
	latest := latestEmbedded(t)

	cur, lat, err := Status(ctx, url)
	if err != nil {
		t.Fatalf("status of an empty database: %v", err)
	}
	if cur != 0 || lat != latest {
		t.Fatalf("status of an empty database = (%d, %d), want (0, %d)", cur, lat, latest)
	}
	conn := connect(t, url)
	if tableExists(t, conn, "fenqi_schema_version") {
		t.Fatal("Status created the version table; it must change nothing")
	}

	v, err := Up(ctx, url)
	if err != nil {
		t.Fatalf("first Up: %v", err)
	}
	if v != latest {
		t.Fatalf("first Up reached version %d, want %d", v, latest)
	}
	for _, name := range wantTables {
		if !tableExists(t, conn, name) {
			t.Errorf("table %s missing after Up", name)
		}
	}
	for i, p := range mustFind(t) {
		want := fmt.Sprintf("applied migration %d %s", i+1, p)
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q; got:\n%s", want, logs.String())
		}
	}

	before := logs.String()
	v, err = Up(ctx, url)
	if err != nil {
		t.Fatalf("second Up: %v", err)
	}
	if v != latest {
		t.Fatalf("second Up reports version %d, want %d", v, latest)
	}
	if strings.Count(logs.String(), "applied migration") != strings.Count(before, "applied migration") {
		t.Fatalf("second Up applied something again:\n%s", logs.String())
	}

	var rows int
	var recorded int32
	if err := conn.QueryRow(ctx, "SELECT count(*), max(version) FROM fenqi_schema_version").Scan(&rows, &recorded); err != nil {
		t.Fatalf("read version table: %v", err)
	}
	if rows != 1 || recorded != latest {
		t.Fatalf("version table has %d rows with version %d, want 1 row with %d", rows, recorded, latest)
	}
	cur, lat, err = Status(ctx, url)
	if err != nil || cur != latest || lat != latest {
		t.Fatalf("Status after Up = (%d, %d, %v), want (%d, %d, nil)", cur, lat, err, latest, latest)
	}
}

func mustFind(t *testing.T) []string {
	t.Helper()
	paths, err := migrate.FindMigrations(FS())
	if err != nil {
		t.Fatalf("find migrations: %v", err)
	}
	return paths
}

func TestFailingMigrationLeavesNothingHalfApplied(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := testenv.Database(t)
	conn := connect(t, url)

	fsys := fstest.MapFS{
		"001_good.sql": {Data: []byte("CREATE TABLE good (id int PRIMARY KEY);\nINSERT INTO good VALUES (1);\n")},
		// The first statement succeeds, the second fails: the whole
		// migration must roll back.
		"002_bad.sql": {Data: []byte("CREATE TABLE bad (id int PRIMARY KEY);\nINSERT INTO bad VALUES (1);\nINSERT INTO good VALUES (1);\n")},
	}
	v, err := UpFS(ctx, url, fsys)
	if err == nil {
		t.Fatal("UpFS with a broken migration succeeded")
	}
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "23505" {
		t.Fatalf("error %v does not carry the migration's unique violation", err)
	}
	if !strings.Contains(err.Error(), "002_bad.sql") {
		t.Errorf("error %q does not name the failing migration", err)
	}
	if v != 1 {
		t.Fatalf("UpFS returned version %d, want 1", v)
	}
	if !tableExists(t, conn, "good") {
		t.Fatal("the good migration was not kept")
	}
	if tableExists(t, conn, "bad") {
		t.Fatal("the broken migration left table bad behind")
	}
	var recorded int32
	if err := conn.QueryRow(ctx, "SELECT version FROM fenqi_schema_version").Scan(&recorded); err != nil {
		t.Fatalf("read version: %v", err)
	}
	if recorded != 1 {
		t.Fatalf("recorded version %d, want 1", recorded)
	}

	// Fixing the migration and running again applies it.
	fsys["002_bad.sql"] = &fstest.MapFile{Data: []byte("CREATE TABLE bad (id int PRIMARY KEY);\n")}
	v, err = UpFS(ctx, url, fsys)
	if err != nil || v != 2 {
		t.Fatalf("UpFS after the fix = (%d, %v), want (2, nil)", v, err)
	}
	if !tableExists(t, conn, "bad") {
		t.Fatal("the fixed migration was not applied")
	}
}

func TestConcurrentUpAppliesOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := testenv.Database(t)
	latest := latestEmbedded(t)

	const n = 6
	var wg sync.WaitGroup
	versions := make([]int32, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			versions[i], errs[i] = Up(ctx, url)
		}()
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Errorf("Up #%d: %v", i, errs[i])
		} else if versions[i] != latest {
			t.Errorf("Up #%d reached version %d, want %d", i, versions[i], latest)
		}
	}
	conn := connect(t, url)
	var rows int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM fenqi_schema_version").Scan(&rows); err != nil {
		t.Fatalf("read version table: %v", err)
	}
	if rows != 1 {
		t.Fatalf("version table has %d rows, want 1", rows)
	}
}

// TestDownAndUpAgain checks that every migration's drop section undoes it,
// so the migrations can be rolled back one by one and re-applied.
func TestDownAndUpAgain(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := testenv.Database(t)
	latest := latestEmbedded(t)
	if _, err := Up(ctx, url); err != nil {
		t.Fatalf("Up: %v", err)
	}
	conn := connect(t, url)
	m, err := migrate.NewMigrator(ctx, conn, VersionTable)
	if err != nil {
		t.Fatalf("new migrator: %v", err)
	}
	if err := m.LoadMigrations(FS()); err != nil {
		t.Fatalf("load: %v", err)
	}
	for v := latest - 1; v >= 0; v-- {
		if err := m.MigrateTo(ctx, v); err != nil {
			t.Fatalf("migrate down to %d: %v", v, err)
		}
	}
	for _, name := range wantTables {
		if tableExists(t, conn, name) {
			t.Errorf("table %s still exists after migrating down to 0", name)
		}
	}
	if v, err := Up(ctx, url); err != nil || v != latest {
		t.Fatalf("Up after down = (%d, %v), want (%d, nil)", v, err, latest)
	}
}

func TestStatusRejectsBadURL(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	if _, _, err := Status(ctx, "postgres://127.0.0.1:1/none?connect_timeout=2"); err == nil {
		t.Fatal("Status against a closed port succeeded")
	}
	if _, err := Up(ctx, "postgres://127.0.0.1:1/none?connect_timeout=2"); err == nil {
		t.Fatal("Up against a closed port succeeded")
	}
}
