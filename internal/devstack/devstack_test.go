package devstack_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"

	"github.com/fenqi/fenqi/internal/devstack"
	"github.com/fenqi/fenqi/internal/testenv"
	"github.com/fenqi/fenqi/searchattrs"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func TestTemporalRegistersSearchAttributes(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := testenv.TemporalClient(t)
	resp, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: "default"})
	if err != nil {
		t.Fatalf("list search attributes: %v", err)
	}
	want := map[string]enums.IndexedValueType{
		"PlanState":   enums.INDEXED_VALUE_TYPE_KEYWORD,
		"NextDueDate": enums.INDEXED_VALUE_TYPE_DATETIME,
		"DaysPastDue": enums.INDEXED_VALUE_TYPE_INT,
		"Bucket":      enums.INDEXED_VALUE_TYPE_KEYWORD,
		"CustomerId":  enums.INDEXED_VALUE_TYPE_KEYWORD,
	}
	if n := len(searchattrs.All().GetUntypedValues()); n != len(want) {
		t.Fatalf("searchattrs.All() has %d attributes, want %d", n, len(want))
	}
	for name, typ := range want {
		got, ok := resp.GetCustomAttributes()[name]
		if !ok {
			t.Errorf("search attribute %s not registered", name)
			continue
		}
		if got != typ {
			t.Errorf("search attribute %s has type %v, want %v", name, got, typ)
		}
	}
}

// TestPostgresKeepsDataAcrossRestartAndReuse checks what make run relies
// on: a cluster keeps its rows across a restart and across a second start
// in the same folder.
func TestPostgresKeepsDataAcrossRestartAndReuse(t *testing.T) {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "fenqi-devstack-pg-")
	if err != nil {
		t.Fatal(err)
	}
	_ = os.Chmod(dir, 0o755)
	t.Cleanup(func() { _ = os.RemoveAll(dir) })

	pg, err := devstack.StartPostgres(ctx, devstack.PostgresOptions{Dir: dir, NoFsync: true})
	if err != nil {
		t.Fatalf("first start: %v", err)
	}
	t.Cleanup(func() { _ = devstack.StopIfRunning(context.Background(), dir) })
	exec(t, pg.URL(""), "CREATE TABLE kept (v int); INSERT INTO kept VALUES (42)")

	if err := pg.Restart(ctx); err != nil {
		t.Fatalf("restart: %v", err)
	}
	if v := queryInt(t, pg.URL(""), "SELECT v FROM kept"); v != 42 {
		t.Fatalf("after restart: v=%d, want 42", v)
	}
	if err := pg.Stop(ctx); err != nil {
		t.Fatalf("stop: %v", err)
	}

	again, err := devstack.StartPostgres(ctx, devstack.PostgresOptions{Dir: dir, NoFsync: true})
	if err != nil {
		t.Fatalf("second start in the same folder: %v", err)
	}
	if v := queryInt(t, again.URL(""), "SELECT v FROM kept"); v != 42 {
		t.Fatalf("after reuse: v=%d, want 42", v)
	}
	if err := again.Stop(ctx); err != nil {
		t.Fatalf("stop: %v", err)
	}
}

func exec(t *testing.T, url, sql string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connect %s: %v", url, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatalf("exec %q: %v", sql, err)
	}
}

func queryInt(t *testing.T, url, sql string) int {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connect %s: %v", url, err)
	}
	defer conn.Close(ctx)
	var v int
	if err := conn.QueryRow(ctx, sql).Scan(&v); err != nil {
		t.Fatalf("query %q: %v", sql, err)
	}
	return v
}
