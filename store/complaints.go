package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Complaint statuses.
const (
	ComplaintOpen      = "open"
	ComplaintResolved  = "resolved"
	ComplaintWithdrawn = "withdrawn"
)

// Complaint is a customer complaint, filed through a request. While one is
// open on a plan, collection contact pauses.
type Complaint struct {
	// ID is assigned by the database.
	ID uuid.UUID
	// PlanID and RequestID (the complaint request, saved first with
	// SaveRequest) are the key.
	PlanID    uuid.UUID
	RequestID string
	// Text is what the customer said.
	Text string
	// Status is open, resolved or withdrawn; Resolution the answer given.
	Status     string
	Resolution string
	// OpenedAt is set by the database; ResolvedAt when closed.
	OpenedAt, ResolvedAt time.Time
}

const complaintColumns = `id, plan_id, request_id, text, status, resolution, opened_at, resolved_at`

func complaintTargets(c *Complaint) []any {
	return []any{&c.ID, &c.PlanID, &c.RequestID, &c.Text, &c.Status, str(&c.Resolution), &c.OpenedAt, tim(&c.ResolvedAt)}
}

// OpenComplaint files a complaint keyed by (PlanID, RequestID). A repeat
// with the same text returns the stored complaint; other text is
// ErrConflict.
func (s *Store) OpenComplaint(ctx context.Context, c Complaint) (Complaint, error) {
	var out Complaint
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO complaints (plan_id, request_id, text) VALUES ($1, $2, $3)
			ON CONFLICT (plan_id, request_id) DO NOTHING RETURNING `+complaintColumns, c.PlanID, c.RequestID, c.Text).
			Scan(complaintTargets(&out)...)
		if err == nil {
			return audit(ctx, tx, c.PlanID, uuid.Nil, ActorSystem, "complaint.opened", map[string]any{"request_id": c.RequestID})
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return classify(err)
		}
		if err := tx.QueryRow(ctx, `SELECT `+complaintColumns+` FROM complaints WHERE plan_id = $1 AND request_id = $2`,
			c.PlanID, c.RequestID).Scan(complaintTargets(&out)...); err != nil {
			return classify(err)
		}
		var d diff
		d.str("text", out.Text, c.Text)
		return d.err()
	})
	if err != nil {
		return Complaint{}, fmt.Errorf("open complaint plan %s request %s: %w", c.PlanID, c.RequestID, err)
	}
	return out, nil
}

// CloseComplaint resolves or withdraws an open complaint with a resolution.
// Closing it again the same way is a no-op; differently, ErrConflict.
func (s *Store) CloseComplaint(ctx context.Context, planID uuid.UUID, requestID, status, resolution, actor string) (Complaint, error) {
	var out Complaint
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if status != ComplaintResolved && status != ComplaintWithdrawn {
			return invalid("status must be resolved or withdrawn")
		}
		if err := tx.QueryRow(ctx, `SELECT `+complaintColumns+` FROM complaints WHERE plan_id = $1 AND request_id = $2 FOR UPDATE`,
			planID, requestID).Scan(complaintTargets(&out)...); err != nil {
			return classify(err)
		}
		if out.Status != ComplaintOpen {
			var d diff
			d.str("status", out.Status, status)
			d.str("resolution", out.Resolution, resolution)
			return d.err()
		}
		if err := tx.QueryRow(ctx, `UPDATE complaints SET status = $3, resolution = $4, resolved_at = now()
			WHERE plan_id = $1 AND request_id = $2 RETURNING `+complaintColumns, planID, requestID, status, resolution).
			Scan(complaintTargets(&out)...); err != nil {
			return classify(err)
		}
		return audit(ctx, tx, planID, uuid.Nil, orDefault(actor, ActorSystem), "complaint."+status, map[string]any{
			"request_id": requestID, "resolution": resolution})
	})
	if err != nil {
		return Complaint{}, fmt.Errorf("close complaint plan %s request %s: %w", planID, requestID, err)
	}
	return out, nil
}

// OpenComplaints returns the open complaints of a plan, oldest first
// (collection contact pauses while there is one).
func (s *Store) OpenComplaints(ctx context.Context, planID uuid.UUID) ([]Complaint, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+complaintColumns+` FROM complaints WHERE plan_id = $1 AND status = 'open'
		ORDER BY opened_at, id`, planID)
	if err != nil {
		return nil, fmt.Errorf("open complaints plan %s: %w", planID, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Complaint, error) {
		var c Complaint
		err := r.Scan(complaintTargets(&c)...)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("open complaints plan %s: %w", planID, err)
	}
	return out, nil
}
