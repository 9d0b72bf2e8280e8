package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/shopspring/decimal"

	"github.com/fenqi/fenqi/internal/testenv"
	"github.com/fenqi/fenqi/migrations"
)

func TestMain(m *testing.M) {
	// Keep warnings, drop the per-database "applied migration" lines.
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	testenv.Main(m)
}

// newStore opens a store on a fresh, migrated database.
func newStore(t *testing.T) *Store {
	t.Helper()
	ctx := context.Background()
	url := testenv.Database(t)
	if _, err := migrations.Up(ctx, url); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	s, err := Open(ctx, url)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// fixture is a customer with an application, a plan and a funding account.
type fixture struct {
	s        *Store
	customer Customer
	app      Application
	plan     Plan
	account  Account
	// spare is a second application of the customer, without a plan.
	spare Application
}

func newFixture(t *testing.T, s *Store) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{s: s}
	var err error
	ref := uuid.NewString()[:8]
	if f.customer, err = s.UpsertCustomer(ctx, Customer{ExternalRef: "cust-" + ref, Name: "Li Lei", Phone: "13800000000",
		Profile: []byte(`{"occupation":"engineer"}`)}); err != nil {
		t.Fatalf("customer: %v", err)
	}
	if f.app, err = s.CreateApplication(ctx, Application{RequestID: "app-" + ref, CustomerID: f.customer.ID,
		Amount: dec("3000"), Terms: 3}); err != nil {
		t.Fatalf("application: %v", err)
	}
	if f.plan, err = s.CreatePlan(ctx, Plan{ApplicationID: f.app.ID, CustomerID: f.customer.ID}); err != nil {
		t.Fatalf("plan: %v", err)
	}
	if f.account, err = s.CreateAccount(ctx, Account{CustomerID: f.customer.ID, Label: "main"}); err != nil {
		t.Fatalf("account: %v", err)
	}
	if f.spare, err = s.CreateApplication(ctx, Application{RequestID: "spare-" + ref, CustomerID: f.customer.ID,
		Amount: dec("500"), Terms: 6, Frequency: "monthly"}); err != nil {
		t.Fatalf("spare application: %v", err)
	}
	return f
}

// threeRows is a 3,000.00 schedule over 3 months at 1% a month.
func threeRows() []Instalment {
	return []Instalment{
		{No: 1, DueDate: day(2025, 2, 1), Principal: dec("1000"), Interest: dec("30"), Payment: dec("1030"), BalanceAfter: dec("2000")},
		{No: 2, DueDate: day(2025, 3, 1), Principal: dec("1000"), Interest: dec("20"), Payment: dec("1020"), BalanceAfter: dec("1000")},
		{No: 3, DueDate: day(2025, 4, 1), Principal: dec("1000"), Interest: dec("10"), Payment: dec("1010"), BalanceAfter: dec("0")},
	}
}

// activate gives the plan terms and schedule v1 and makes it active.
func (f *fixture) activate(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	var err error
	if f.plan, err = f.s.SetPlanTerms(ctx, f.plan.ID, uuid.Nil, PlanTerms{Principal: dec("3000"), Method: "annuity",
		Terms: 3, AnnualRate: dec("0.12"), StartDate: day(2025, 1, 1)}); err != nil {
		t.Fatalf("terms: %v", err)
	}
	if f.plan, err = f.s.SetFundingAccount(ctx, f.plan.ID, f.account.ID); err != nil {
		t.Fatalf("funding account: %v", err)
	}
	if err := f.s.SaveSchedule(ctx, ScheduleVersion{PlanID: f.plan.ID, Version: 1, Reason: "initial"}, threeRows()); err != nil {
		t.Fatalf("schedule: %v", err)
	}
	if f.plan, err = f.s.SetPlanState(ctx, f.plan.ID, StateChange{From: StateAssessing, To: StateActive}); err != nil {
		t.Fatalf("activate: %v", err)
	}
}

// count runs a count(*) query.
func count(t *testing.T, s *Store, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := s.Pool().QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("count %q: %v", sql, err)
	}
	return n
}

// auditCount returns the number of audit rows.
func auditCount(t *testing.T, s *Store) int {
	return count(t, s, `SELECT count(*) FROM audit_log`)
}

// wantIs fails unless err wraps target.
func wantIs(t *testing.T, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("error %v, want one wrapping %v", err, target)
	}
}

// wantPg fails unless err is a database error with the code (and, when
// given, the constraint).
func wantPg(t *testing.T, err error, code, constraint string) {
	t.Helper()
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		t.Fatalf("error %v, want a database error %s", err, code)
	}
	if pgErr.Code != code || (constraint != "" && pgErr.ConstraintName != constraint) {
		t.Fatalf("database error %s (%s) %q, want %s (%s)", pgErr.Code, pgErr.ConstraintName, pgErr.Message, code, constraint)
	}
}

// must turns a (value, error) result into the value, failing the test on
// an error: must(s.Fund(ctx, ...))(t).
func must[T any](v T, err error) func(t *testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func keyf(format string, args ...any) string { return fmt.Sprintf(format, args...) }
