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
// open on a plan, collection contact pauses (until PauseUntil when set).
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
	// PauseUntil is when collection contact resumes unless the complaint
	// is resolved first (zero: paused for as long as it is open).
	PauseUntil time.Time
	// OpenedAt is set by the database; ResolvedAt when closed.
	OpenedAt, ResolvedAt time.Time
}

const complaintColumns = `id, plan_id, request_id, text, status, resolution, pause_until, opened_at, resolved_at`

func complaintTargets(c *Complaint) []any {
	return []any{&c.ID, &c.PlanID, &c.RequestID, &c.Text, &c.Status, str(&c.Resolution), tim(&c.PauseUntil), &c.OpenedAt,
		tim(&c.ResolvedAt)}
}

// OpenComplaint files a complaint keyed by (PlanID, RequestID), with the
// time collection contact pauses until (PauseUntil, zero for none). A
// repeat with the same text and pause returns the stored complaint; other
// content is ErrConflict.
func (s *Store) OpenComplaint(ctx context.Context, c Complaint) (Complaint, error) {
	if !c.PauseUntil.IsZero() {
		c.PauseUntil = instant(c.PauseUntil)
	}
	var out Complaint
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO complaints (plan_id, request_id, text, pause_until) VALUES ($1, $2, $3, $4)
			ON CONFLICT (plan_id, request_id) DO NOTHING RETURNING `+complaintColumns,
			c.PlanID, c.RequestID, c.Text, nullTime(c.PauseUntil)).
			Scan(complaintTargets(&out)...)
		if err == nil {
			return audit(ctx, tx, c.PlanID, uuid.Nil, ActorSystem, "complaint.opened", map[string]any{
				"request_id": c.RequestID, "pause_until": nullTime(c.PauseUntil)})
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
		d.time("pause until", out.PauseUntil, c.PauseUntil)
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
	rows, err := s.db().Query(ctx, `SELECT `+complaintColumns+` FROM complaints WHERE plan_id = $1 AND status = 'open'
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

// ContactPausedUntil returns until when collection contact on a plan is
// paused at instant at: the latest PauseUntil of the plan's open complaints
// that is after at, or the zero time when no open complaint pauses contact
// beyond at. (An open complaint without PauseUntil is not counted here; see
// OpenComplaints.)
func (s *Store) ContactPausedUntil(ctx context.Context, planID uuid.UUID, at time.Time) (time.Time, error) {
	var until time.Time
	if err := s.db().QueryRow(ctx, `SELECT max(pause_until) FROM complaints
		WHERE plan_id = $1 AND status = 'open' AND pause_until > $2`, planID, instant(at)).Scan(tim(&until)); err != nil {
		return time.Time{}, fmt.Errorf("contact paused until plan %s at %s: %w", planID, at.Format(time.RFC3339), classify(err))
	}
	return until, nil
}

// TaskRequestApproval is the kind of the task asking an operator to approve
// a confirmed request (created with CreateTask, closed with CloseTask).
const TaskRequestApproval = "request_approval"

// RequestApproval is the request kind of an operator's answer to a
// request awaiting approval (stored with SaveRequest).
const RequestApproval = "request_approval"

// Task statuses, as stored in tasks.status.
const (
	TaskOpen      = "open"
	TaskDone      = "done"
	TaskCancelled = "cancelled"
)

// CloseTask marks the open task keyed by key done with outcome (required)
// and stamps its closing time. Closing it again with the same outcome is a
// no-op; another outcome, or a cancelled task, is ErrConflict; an unknown
// key is ErrNotFound. Read the closed task back with Tasks.
func (s *Store) CloseTask(ctx context.Context, key, outcome string) error {
	if key == "" || outcome == "" {
		return fmt.Errorf("close task %s outcome %q: %w", key, outcome, invalid("task key and outcome are required"))
	}
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var cur Task
		if err := tx.QueryRow(ctx, `SELECT `+taskColumns+` FROM tasks WHERE task_key = $1 FOR UPDATE`, key).
			Scan(taskTargets(&cur)...); err != nil {
			return classify(err)
		}
		if cur.Status != TaskOpen {
			var d diff
			d.str("status", cur.Status, TaskDone)
			d.str("outcome", cur.Outcome, outcome)
			return d.err()
		}
		if _, err := tx.Exec(ctx, `UPDATE tasks SET status = 'done', outcome = $2, closed_at = now() WHERE task_key = $1`,
			key, outcome); err != nil {
			return classify(err)
		}
		return audit(ctx, tx, cur.PlanID, uuid.Nil, ActorSystem, "task.closed", map[string]any{
			"task_key": key, "kind": cur.Kind, "outcome": outcome})
	})
	if err != nil {
		return fmt.Errorf("close task %s outcome %q: %w", key, outcome, err)
	}
	return nil
}
