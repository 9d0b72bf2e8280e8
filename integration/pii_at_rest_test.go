package integration

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/fenqi/fenqi/activities"
	"github.com/fenqi/fenqi/plan"
)

// TestPersonalDataIsEncryptedAtRest runs a plan from application to
// payoff (offers, agreement, signature, reminders, debits, notices) and
// then reads every row of every table of fenqi's schema as text: the
// customer's name, phone, email, ID number and push id appear in none of
// them, while the store still reads the customer and the agreement back.
func TestPersonalDataIsEncryptedAtRest(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	s := newSystem(t)
	s.startWorker(activities.New(s.st))
	cust := customer(t, "strong")
	if cust.IDNumber == "" {
		// examples/customers/strong.json has no ID number: give it one.
		cust.IDNumber = "110101199003078515"
	}
	if cust.Name == "" || cust.Phone == "" || cust.Email == "" || cust.PushID == "" {
		t.Fatalf("examples/customers/strong.json lacks personal data to look for: %+v", cust)
	}
	// A compressed calendar (0.05 s a business day): the plan runs its
	// 3 instalments, with their reminders and debits, to payoff.
	id := s.activePlanOf(ctx, cust, 0.05, "3000", 3, "100000")
	s.waitFor(ctx, id, plan.StateClosed, 2*time.Minute)

	personal := map[string]string{
		"name":            strings.TrimSuffix(cust.Name, " (demo)"),
		"signed name":     "张三",
		"name, escaped":   strings.Trim(strconv.QuoteToASCII("张三"), `"`),
		"phone":           cust.Phone,
		"phone digits":    digits(cust.Phone),
		"email":           cust.Email,
		"email local":     cust.Email[:strings.IndexByte(cust.Email, '@')],
		"ID number":       cust.IDNumber,
		"ID number start": cust.IDNumber[:10],
		"push id":         cust.PushID,
	}
	found := scanTables(ctx, t, s.st.Pool(), personal, cust.Ref)
	for table, hits := range found.hits {
		for _, h := range hits {
			t.Errorf("table %s holds the customer's %s in plaintext: %s", table, h.what, h.row)
		}
	}
	// The scan saw the rows it should have: the customer (by its ref, in
	// the clear), the agreement, contacts, payments.
	for _, table := range []string{"customers", "agreements", "contacts", "payments", "requests", "audit_log"} {
		if found.rows[table] == 0 {
			t.Errorf("table %s has no rows: the scan looks in the wrong place", table)
		}
	}
	if !found.ref {
		t.Errorf("no row holds the customer's ref %q: the scan does not read the customers table", cust.Ref)
	}

	// The store still reads the customer and the signed agreement.
	got, err := s.st.GetCustomerByRef(ctx, cust.Ref)
	if err != nil || got.Name != cust.Name || got.Phone != cust.Phone || got.Email != cust.Email || got.IDNumber != cust.IDNumber {
		t.Fatalf("GetCustomerByRef: %v %v", got, err)
	}
	ag, err := s.st.GetAgreement(ctx, uuid.MustParse(id), 1)
	if err != nil || !strings.Contains(ag.Document, cust.Name) || ag.Signature == nil || ag.Signature.SignerName != "张三" {
		t.Fatalf("GetAgreement: signer %+v, names the borrower %v, %v", ag.Signature, strings.Contains(ag.Document, cust.Name), err)
	}
	// The sign request is kept without the name (not even masked) and
	// without the document's hash.
	var hasName, hasHash bool
	var signedBy string
	if err := s.st.Pool().QueryRow(ctx, `SELECT payload ? 'name', payload ? 'document_hash', coalesce(payload->>'signed_by', '')
		FROM requests WHERE plan_id = $1 AND kind = 'sign_agreement'`, id).Scan(&hasName, &hasHash, &signedBy); err != nil || hasName || hasHash || signedBy != "customer" {
		t.Errorf("sign request: name %v, document hash %v, signed by %q (%v); want neither, signed by customer", hasName, hasHash, signedBy, err)
	}
	t.Logf("scanned %d tables", len(found.rows))
}

type hit struct{ what, row string }

type scan struct {
	rows map[string]int
	hits map[string][]hit
	ref  bool
}

// scanTables reads every row of every base table of the public schema as
// text (every column: text, jsonb, arrays ...) and reports which hold a
// value of personal.
func scanTables(ctx context.Context, t *testing.T, db interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}, personal map[string]string, ref string) scan {
	t.Helper()
	rows, err := db.Query(ctx, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name`)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if len(tables) < 15 {
		t.Fatalf("%d tables in the public schema: %v", len(tables), tables)
	}
	out := scan{rows: map[string]int{}, hits: map[string][]hit{}}
	for _, table := range tables {
		rows, err := db.Query(ctx, fmt.Sprintf(`SELECT t::text FROM %s t`, pgx.Identifier{table}.Sanitize()))
		if err != nil {
			t.Fatalf("read %s: %v", table, err)
		}
		texts, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatalf("read %s: %v", table, err)
		}
		out.rows[table] = len(texts)
		for _, row := range texts {
			if strings.Contains(row, ref) {
				out.ref = true
			}
			for what, v := range personal {
				if strings.Contains(row, v) {
					out.hits[table] = append(out.hits[table], hit{what, row})
				}
			}
		}
	}
	return out
}
