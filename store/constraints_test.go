package store

import (
	"context"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/fenqi/fenqi/migrations"
)

// TestDatabaseRejectsBadRows writes bad rows with raw SQL, bypassing the
// store, and checks that the database itself refuses each one.
func TestDatabaseRejectsBadRows(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	f := newFixture(t, s)
	f.activate(t)
	other := newFixture(t, s)
	other.activate(t)
	plan, cust, acct := f.plan.ID, f.customer.ID, f.account.ID

	// A succeeded debit attempt and its payment to refer to.
	entry := must(s.Fund(ctx, acct, dec("5000"), "fund-1"))(t)
	debit := must(s.Debit(ctx, acct, dec("1030"), "debit-1"))(t)
	attempt := must(s.RecordDebitAttempt(ctx, DebitAttempt{PlanID: plan, ScheduleVersion: 1, InstalmentNo: 1, Attempt: 1,
		IdempotencyKey: "debit-1", AccountID: acct, Amount: dec("1030"), Outcome: DebitSucceeded, AccountEntryID: debit.ID}))(t)
	otherPayment := must(s.RecordPayment(ctx, Payment{PlanID: other.plan.ID, PaymentID: "p-other", Source: SourceExternal,
		Amount: dec("5"), ReceivedAt: debit.CreatedAt}))(t)
	agreement := must(s.SaveAgreement(ctx, Agreement{PlanID: plan, Version: 1, Document: "agreement text"}))(t)
	_ = entry

	cases := []struct {
		name       string
		sql        string
		args       []any
		code       string
		constraint string
	}{
		{"negative account balance", `INSERT INTO funding_accounts (customer_id, balance) VALUES ($1, -0.01)`,
			[]any{cust}, "23514", "funding_accounts_balance_check"},
		{"debit below zero", `UPDATE funding_accounts SET balance = balance - 1000000 WHERE id = $1`,
			[]any{acct}, "23514", "funding_accounts_balance_check"},
		{"negative application amount", `INSERT INTO applications (request_id, customer_id, amount, terms) VALUES ('neg', $1, -5, 3)`,
			[]any{cust}, "23514", "applications_amount_check"},
		{"lower-case currency", `INSERT INTO applications (request_id, customer_id, amount, terms, currency) VALUES ('cur', $1, 5, 3, 'cny')`,
			[]any{cust}, "23514", "applications_currency_check"},
		{"partner application without partner", `INSERT INTO applications (request_id, customer_id, amount, terms, channel) VALUES ('prt', $1, 5, 3, 'partner')`,
			[]any{cust}, "23514", "applications_partner_check"},
		{"declined assessment without reasons", `INSERT INTO assessments (application_id, score, tier, decision, decided_by) VALUES ($1, 400, 'E', 'declined', 'system')`,
			[]any{f.app.ID}, "23514", "assessments_reasons_check"},
		{"negative instalment principal", `INSERT INTO instalments (plan_id, schedule_version, no, due_date, principal, interest, fee, payment, balance_after)
			VALUES ($1, 1, 9, '2025-09-01', -1, 0, 0, -1, 0)`, []any{plan}, "23514", "instalments_amounts_check"},
		{"payment is not principal + interest + fee", `INSERT INTO instalments (plan_id, schedule_version, no, due_date, principal, interest, fee, payment, balance_after)
			VALUES ($1, 1, 9, '2025-09-01', 100, 5, 1, 105, 0)`, []any{plan}, "23514", "instalments_payment_check"},
		{"orphan instalment of an unknown plan", `INSERT INTO instalments (plan_id, schedule_version, no, due_date, principal, payment, balance_after)
			VALUES ($1, 1, 1, '2025-09-01', 100, 100, 0)`, []any{uuid.New()}, "23503", ""},
		{"instalment of an unknown schedule version", `INSERT INTO instalments (plan_id, schedule_version, no, due_date, principal, payment, balance_after)
			VALUES ($1, 7, 1, '2025-09-01', 100, 100, 0)`, []any{plan}, "23503", "instalments_schedule_version_fkey"},
		{"paid beyond the interest due", `UPDATE instalments SET paid_interest = interest + 0.01 WHERE plan_id = $1 AND schedule_version = 1 AND no = 2`,
			[]any{plan}, "23514", "instalments_paid_check"},
		{"unknown instalment status", `UPDATE instalments SET status = 'lost' WHERE plan_id = $1 AND no = 2`,
			[]any{plan}, "23514", "instalments_status_check"},
		{"second debit of the same instalment attempt", `INSERT INTO debit_attempts (plan_id, schedule_version, instalment_no, attempt, idempotency_key, account_id, amount)
			VALUES ($1, 1, 1, 1, 'another-key', $2, 1030)`, []any{plan, acct}, "23505", "debit_attempts_attempt_key"},
		{"debit attempt key reused", `INSERT INTO debit_attempts (plan_id, schedule_version, instalment_no, attempt, idempotency_key, account_id, amount)
			VALUES ($1, 1, 1, 2, 'debit-1', $2, 1030)`, []any{plan, acct}, "23505", "debit_attempts_idempotency_key_key"},
		{"succeeded debit without its ledger entry", `INSERT INTO debit_attempts (plan_id, schedule_version, instalment_no, attempt, idempotency_key, account_id, amount, outcome)
			VALUES ($1, 1, 2, 1, 'k-2-1', $2, 1020, 'succeeded')`, []any{plan, acct}, "23514", "debit_attempts_entry_check"},
		{"zero debit amount", `INSERT INTO debit_attempts (plan_id, schedule_version, instalment_no, attempt, idempotency_key, account_id, amount)
			VALUES ($1, 1, 2, 1, 'k-2-1', $2, 0)`, []any{plan, acct}, "23514", "debit_attempts_amount_check"},
		{"ledger key reused", `INSERT INTO account_entries (account_id, idempotency_key, kind, amount, balance_after) VALUES ($1, 'debit-1', 'debit', 1, 0)`,
			[]any{acct}, "23505", "account_entries_idempotency_key_key"},
		{"negative payment", `INSERT INTO payments (plan_id, payment_id, source, amount, received_at) VALUES ($1, 'neg', 'external', -1, now())`,
			[]any{plan}, "23514", "payments_amount_check"},
		{"payment id reused on the plan", `INSERT INTO payments (plan_id, payment_id, source, amount, received_at) VALUES ($1, 'p-other', 'external', 1, now())`,
			[]any{other.plan.ID}, "23505", "payments_plan_payment_id_key"},
		{"auto-debit payment without its attempt", `INSERT INTO payments (plan_id, payment_id, source, amount, received_at) VALUES ($1, 'ad', 'auto_debit', 1, now())`,
			[]any{plan}, "23514", "payments_debit_attempt_check"},
		{"auto-debit payment naming another plan's attempt", `INSERT INTO payments (plan_id, payment_id, source, amount, received_at, debit_attempt_id) VALUES ($1, 'ad', 'auto_debit', 1, now(), $2)`,
			[]any{other.plan.ID, attempt.ID}, "23503", "payments_debit_attempt_fkey"},
		{"allocation to an unknown instalment", `INSERT INTO payment_allocations (payment_id, plan_id, schedule_version, instalment_no, component, amount) VALUES ($1, $2, 1, 99, 'fee', 1)`,
			[]any{otherPayment.ID, other.plan.ID}, "23503", "payment_allocations_instalment_fkey"},
		{"allocation of another plan's payment", `INSERT INTO payment_allocations (payment_id, plan_id, schedule_version, instalment_no, component, amount) VALUES ($1, $2, 1, 1, 'fee', 1)`,
			[]any{otherPayment.ID, plan}, "23503", "payment_allocations_payment_fkey"},
		{"unknown allocation component", `INSERT INTO payment_allocations (payment_id, plan_id, schedule_version, instalment_no, component, amount) VALUES ($1, $2, 1, 1, 'tip', 1)`,
			[]any{otherPayment.ID, other.plan.ID}, "23514", "payment_allocations_component_check"},
		{"unknown plan state", `UPDATE plans SET state = 'frozen' WHERE id = $1`, []any{plan}, "23514", "plans_state_check"},
		{"final state without closed_at", `UPDATE plans SET state = 'closed' WHERE id = $1`, []any{plan}, "23514", "plans_closed_at_check"},
		{"active plan without terms", `UPDATE plans SET state = 'active', principal = NULL WHERE id = $1`, []any{plan}, "23514", "plans_active_terms_check"},
		{"second plan for one application", `INSERT INTO plans (application_id, customer_id) VALUES ($1, $2)`,
			[]any{f.app.ID, cust}, "23505", "plans_application_key"},
		{"plan of another customer's application", `WITH a AS (INSERT INTO applications (request_id, customer_id, amount, terms)
			VALUES ('second-app', $1, 5, 3) RETURNING id) INSERT INTO plans (application_id, customer_id) SELECT id, $2 FROM a`,
			[]any{cust, other.customer.ID}, "23503", "plans_application_customer_fkey"},
		{"plan debiting another customer's account", `UPDATE plans SET funding_account_id = $2 WHERE id = $1`,
			[]any{plan, other.account.ID}, "23503", "plans_funding_account_fkey"},
		{"current schedule version that does not exist", `UPDATE plans SET schedule_version = 5 WHERE id = $1`,
			[]any{plan}, "23503", "plans_schedule_version_fkey"},
		{"agreement hash not of its document", `INSERT INTO agreements (plan_id, version, document, sha256) VALUES ($1, 2, 'text', repeat('a', 64))`,
			[]any{plan}, "23514", "agreements_sha256_document_check"},
		{"signature quoting another hash", `UPDATE agreements SET status = 'signed', signed_at = now(), signature_kind = 'electronic', signer_name = 'Li Lei',
			consent = true, signed_hash = repeat('b', 64) WHERE plan_id = $1 AND version = 1`, []any{plan}, "23514", "agreements_signed_check"},
		{"signature without consent", `UPDATE agreements SET status = 'signed', signed_at = now(), signature_kind = 'electronic', signer_name = 'Li Lei',
			consent = false, signed_hash = sha256 WHERE plan_id = $1 AND version = 1`, []any{plan}, "23514", "agreements_signed_check"},
		{"paper signature without reference", `UPDATE agreements SET status = 'signed', signed_at = now(), signature_kind = 'paper', signer_name = 'Li Lei',
			consent = true, signed_hash = sha256 WHERE plan_id = $1 AND version = 1`, []any{plan}, "23514", "agreements_paper_check"},
		{"archived document changed", `UPDATE agreements SET document = 'other', sha256 = encode(sha256('other'::bytea), 'hex') WHERE id = $1`,
			[]any{agreement.ID}, "23000", ""},
		{"request id reused on the plan", `INSERT INTO requests (plan_id, request_id, kind, actor, payload_hash) VALUES ($1, 'r1', 'cancel', 'customer', repeat('0', 64)),
			($1, 'r1', 'cancel', 'customer', repeat('0', 64))`, []any{plan}, "23505", "requests_plan_request_id_key"},
		{"unknown request kind", `INSERT INTO requests (plan_id, request_id, kind, actor, payload_hash) VALUES ($1, 'r2', 'teleport', 'customer', repeat('0', 64))`,
			[]any{plan}, "23514", "requests_kind_check"},
		{"contact on an unknown channel", `INSERT INTO contacts (plan_id, contact_key, purpose, channel, scheduled_for) VALUES ($1, 'c1', 'reminder', 'fax', now())`,
			[]any{plan}, "23514", "contacts_channel_check"},
		{"contact key reused", `INSERT INTO contacts (plan_id, contact_key, purpose, channel, scheduled_for) VALUES ($1, 'c1', 'reminder', 'sms', now()),
			($1, 'c1', 'reminder', 'sms', now())`, []any{plan}, "23505", "contacts_contact_key_key"},
		{"complaint without its request", `INSERT INTO complaints (plan_id, request_id, text) VALUES ($1, 'nope', 'bad service')`,
			[]any{plan}, "23503", "complaints_request_fkey"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := s.Pool().Exec(ctx, c.sql, c.args...)
			wantPg(t, err, c.code, c.constraint)
		})
	}
}

// TestAuditLogIsAppendOnly checks that the trigger refuses to change or
// remove audit rows, while inserts go through.
func TestAuditLogIsAppendOnly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	f := newFixture(t, s)
	e := must(s.AppendAudit(ctx, AuditEntry{PlanID: f.plan.ID, Actor: "operator:42", Action: "test.note",
		Details: []byte(`{"note":"hello"}`)}))(t)
	if e.ID == 0 || e.At.IsZero() {
		t.Fatalf("appended entry lacks id or time: %+v", e)
	}
	for _, sql := range []string{
		`UPDATE audit_log SET action = 'rewritten' WHERE id = $1`,
		`DELETE FROM audit_log WHERE id = $1`,
		`TRUNCATE audit_log`,
	} {
		t.Run(strings.Fields(sql)[0], func(t *testing.T) {
			var args []any
			if strings.Contains(sql, "$1") {
				args = []any{e.ID}
			}
			_, err := s.Pool().Exec(ctx, sql, args...)
			wantPg(t, err, migrations.CodeAppendOnly, "")
			if !strings.Contains(err.Error(), "append-only") {
				t.Fatalf("error %q does not say the log is append-only", err)
			}
		})
	}
	log := must(s.AuditLog(ctx, f.plan.ID))(t)
	last := log[len(log)-1]
	if last.ID != e.ID || last.Action != "test.note" || !jsonEqual(last.Details, []byte(`{"note":"hello"}`)) {
		t.Fatalf("audit row changed: %+v", last)
	}
}
