package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// ActorSystem is the audit actor of writes made by the system itself
// (workflows, activities) rather than a customer or an operator.
const ActorSystem = "system"

// AuditEntry is one row of the append-only audit log.
type AuditEntry struct {
	// ID is assigned by the database, increasing.
	ID int64
	// PlanID and CustomerID say what the action concerns (zero: none).
	PlanID, CustomerID uuid.UUID
	// Actor is who acted: "system", "customer:<ref>", "operator:<id>" ...
	Actor string
	// Action names what happened, e.g. "plan.state", "payment.recorded".
	Action string
	// Details is a JSON object with the particulars.
	Details json.RawMessage
	// At is when it was recorded.
	At time.Time
}

// AppendAudit records an action in the audit log and returns the stored row.
func (s *Store) AppendAudit(ctx context.Context, e AuditEntry) (AuditEntry, error) {
	details, err := object("details", e.Details)
	if err != nil {
		return AuditEntry{}, fmt.Errorf("append audit %s: %w", e.Action, err)
	}
	e.Details = details
	out, err := insertAudit(ctx, s.db(), e)
	if err != nil {
		return AuditEntry{}, fmt.Errorf("append audit %s: %w", e.Action, classify(err))
	}
	return out, nil
}

// AuditLog returns the audit entries of a plan, oldest first.
func (s *Store) AuditLog(ctx context.Context, planID uuid.UUID) ([]AuditEntry, error) {
	if err := flushAudit(ctx, s.db()); err != nil {
		return nil, fmt.Errorf("audit log plan %s: %w", planID, err)
	}
	rows, err := s.db().Query(ctx, `SELECT `+auditColumns+` FROM audit_log WHERE plan_id = $1 ORDER BY id`, planID)
	if err != nil {
		return nil, fmt.Errorf("audit log plan %s: %w", planID, err)
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var e AuditEntry
		if err := rows.Scan(auditTargets(&e)...); err != nil {
			return nil, fmt.Errorf("audit log plan %s: %w", planID, err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("audit log plan %s: %w", planID, err)
	}
	return out, nil
}

const auditColumns = `id, plan_id, customer_id, actor, action, details, at`

func auditTargets(e *AuditEntry) []any {
	return []any{&e.ID, uid(&e.PlanID), uid(&e.CustomerID), &e.Actor, &e.Action, &e.Details, &e.At}
}

func insertAudit(ctx context.Context, q querier, e AuditEntry) (AuditEntry, error) {
	if e.Actor == "" {
		e.Actor = ActorSystem
	}
	if len(e.Details) == 0 {
		e.Details = json.RawMessage("{}")
	}
	// After what an InTx transaction holds back, in order.
	if err := flushAudit(ctx, q); err != nil {
		return AuditEntry{}, err
	}
	var out AuditEntry
	err := q.QueryRow(ctx, `INSERT INTO audit_log (plan_id, customer_id, actor, action, details)
		VALUES ($1, $2, $3, $4, $5) RETURNING `+auditColumns,
		nullUUID(e.PlanID), nullUUID(e.CustomerID), e.Actor, e.Action, []byte(e.Details)).Scan(auditTargets(&out)...)
	return out, err
}

// audit appends an entry inside a store transaction; details is marshalled
// to a JSON object.
func audit(ctx context.Context, q querier, planID, customerID uuid.UUID, actor, action string, details map[string]any) error {
	raw, err := json.Marshal(details)
	if err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	if details == nil {
		raw = []byte("{}")
	}
	if b, ok := q.(*bufferedTx); ok {
		if actor == "" {
			actor = ActorSystem
		}
		b.pending = append(b.pending, AuditEntry{PlanID: planID, CustomerID: customerID, Actor: actor, Action: action, Details: raw})
		return nil
	}
	if _, err := insertAudit(ctx, q, AuditEntry{PlanID: planID, CustomerID: customerID, Actor: actor, Action: action, Details: raw}); err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	return nil
}

// bufferedTx is the transaction of Store.InTx: the entries audit appends
// in it are held back and written in one statement, in order, before it
// commits (an onboarding step appends 5 to 10), or before anything else
// reads or writes the audit log in it.
type bufferedTx struct {
	pgx.Tx
	pending []AuditEntry
}

// flushAudit writes the entries q holds back, if q is a bufferedTx.
func flushAudit(ctx context.Context, q querier) error {
	if b, ok := q.(*bufferedTx); ok {
		return b.flushAudit(ctx)
	}
	return nil
}

func (b *bufferedTx) flushAudit(ctx context.Context) error {
	n := len(b.pending)
	if n == 0 {
		return nil
	}
	plans, customers := make([]pgtype.UUID, n), make([]pgtype.UUID, n)
	actors, actions, details := make([]string, n), make([]string, n), make([]string, n)
	for i, e := range b.pending {
		plans[i] = pgtype.UUID{Bytes: e.PlanID, Valid: e.PlanID != uuid.Nil}
		customers[i] = pgtype.UUID{Bytes: e.CustomerID, Valid: e.CustomerID != uuid.Nil}
		actors[i], actions[i], details[i] = e.Actor, e.Action, string(e.Details)
	}
	if _, err := b.Tx.Exec(ctx, `INSERT INTO audit_log (plan_id, customer_id, actor, action, details)
		SELECT p, c, a, n, d FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::jsonb[])
			WITH ORDINALITY AS u(p, c, a, n, d, i) ORDER BY i`,
		plans, customers, actors, actions, details); err != nil {
		return fmt.Errorf("audit %d entries (%s first): %w", n, b.pending[0].Action, classify(err))
	}
	b.pending = b.pending[:0]
	return nil
}
