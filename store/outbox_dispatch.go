package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// OutcomeCancelled is the contact outcome written when a queued contact is
// no longer relevant at its time (a reminder for an instalment already paid, waived or superseded). A
// cancelled contact was never attempted: it has no SentAt.
const OutcomeCancelled = "cancelled"

// OutboxDelivery is a claimed outbox message with the contact it delivers.
type OutboxDelivery struct {
	// Message is the row as claimed: Attempts counts this attempt and
	// AvailableAt is the end of the claim's lease.
	Message OutboxMessage
	// DueAt is when the message became due (its AvailableAt before the claim).
	DueAt time.Time
	// Contact is the contact the message delivers.
	Contact Contact
}

// ClaimOutboxLease claims up to limit undelivered messages available at now,
// oldest first, for one sender: it counts a delivery attempt on each and
// moves its AvailableAt to now+lease, so that no other sender claims it
// while it is being delivered. Finish each message with FinishOutbox or
// put it back with RetryOutbox before the lease ends; a message left alone
// (the sender died) becomes available again when its lease ends.
//
// ClaimOutbox only locks its rows inside its own transaction: a second
// sender claiming while the first is still sending gets the same rows.
func (s *Store) ClaimOutboxLease(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]OutboxDelivery, error) {
	if limit < 1 || lease <= 0 {
		return nil, fmt.Errorf("claim outbox: %w", invalid("limit (%d) and lease (%s) must be positive", limit, lease))
	}
	now = instant(now)
	var out []OutboxDelivery
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		out = nil
		rows, err := tx.Query(ctx, `WITH due AS (
				SELECT id AS due_id, available_at AS due_at FROM outbox
				WHERE delivered_at IS NULL AND available_at <= $1
				ORDER BY available_at, id LIMIT $2 FOR UPDATE SKIP LOCKED)
			UPDATE outbox SET attempts = attempts + 1, available_at = $3
			FROM due WHERE id = due.due_id
			RETURNING `+outboxColumns+`, due.due_at`, now, limit, instant(now.Add(lease)))
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (OutboxDelivery, error) {
			var d OutboxDelivery
			err := r.Scan(append(outboxTargets(&d.Message), &d.DueAt)...)
			return d, err
		})
		if err != nil || len(out) == 0 {
			return err
		}
		ids := make([]uuid.UUID, len(out))
		for i, d := range out {
			ids[i] = d.Message.ContactID
		}
		rows, err = tx.Query(ctx, `SELECT `+contactColumns+` FROM contacts WHERE id = ANY($1)`, ids)
		if err != nil {
			return err
		}
		contacts, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Contact, error) {
			var c Contact
			err := r.Scan(contactTargets(&c)...)
			return c, err
		})
		if err != nil {
			return err
		}
		byID := make(map[uuid.UUID]Contact, len(contacts))
		for _, c := range contacts {
			byID[c.ID] = c
		}
		for i := range out {
			out[i].Contact = byID[out[i].Message.ContactID]
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("claim outbox: %w", err)
	}
	slices.SortFunc(out, func(a, b OutboxDelivery) int {
		if c := a.DueAt.Compare(b.DueAt); c != 0 {
			return c
		}
		return slices.Compare(a.Message.ID[:], b.Message.ID[:])
	})
	return out, nil
}

// FinishOutbox ends the delivery of a message and records the outcome on
// its contact, in one transaction: the message is stamped done at at
// (DeliveredAt, whatever the outcome) with failure as its last error, and
// the contact gets the outcome (sent, delivered, failed or cancelled) with
// SentAt = at (none when cancelled; failure then says why). It reports
// whether this call finished the message: a message already finished is
// left as it is, contact included. An unknown id is ErrNotFound.
func (s *Store) FinishOutbox(ctx context.Context, id uuid.UUID, outcome string, at time.Time, failure string) (bool, error) {
	fail := func(err error) (bool, error) {
		return false, fmt.Errorf("finish outbox %s %s: %w", id, outcome, err)
	}
	switch outcome {
	case "sent", "delivered", "failed", OutcomeCancelled:
	default:
		return fail(invalid("outcome must be sent, delivered, failed or cancelled"))
	}
	if at.IsZero() {
		return fail(invalid("finish time is required"))
	}
	at = instant(at)
	finished := false
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		finished = false
		var contactID uuid.UUID
		err := tx.QueryRow(ctx, `UPDATE outbox SET delivered_at = $2, last_error = $3
			WHERE id = $1 AND delivered_at IS NULL RETURNING contact_id`, id, at, failure).Scan(&contactID)
		if errors.Is(err, pgx.ErrNoRows) {
			var exists bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM outbox WHERE id = $1)`, id).Scan(&exists); err != nil {
				return err
			}
			if !exists {
				return fmt.Errorf("%w: outbox message", ErrNotFound)
			}
			return nil
		}
		if err != nil {
			return classify(err)
		}
		var sentAt any = at
		if outcome == OutcomeCancelled {
			sentAt = nil
		}
		var c Contact
		if err := tx.QueryRow(ctx, `UPDATE contacts SET outcome = $2, sent_at = $3, updated_at = now()
			WHERE id = $1 RETURNING `+contactColumns, contactID, outcome, sentAt).Scan(contactTargets(&c)...); err != nil {
			return classify(err)
		}
		finished = true
		details := map[string]any{"contact_key": c.ContactKey, "channel": c.Channel, "outcome": outcome, "sent_at": sentAt}
		if failure != "" {
			details["reason"] = failure
		}
		return audit(ctx, tx, c.PlanID, uuid.Nil, ActorSystem, "contact.outcome", details)
	})
	if err != nil {
		return fail(err)
	}
	return finished, nil
}

// RetryOutbox puts a claimed message back for another attempt at at,
// recording failure as its last error. A message already finished is left
// as it is; an unknown id is ErrNotFound.
func (s *Store) RetryOutbox(ctx context.Context, id uuid.UUID, at time.Time, failure string) error {
	if at.IsZero() {
		return fmt.Errorf("retry outbox %s: %w", id, invalid("retry time is required"))
	}
	var exists bool
	err := s.db().QueryRow(ctx, `WITH upd AS (
			UPDATE outbox SET available_at = $2, last_error = $3 WHERE id = $1 AND delivered_at IS NULL RETURNING id)
		SELECT EXISTS (SELECT 1 FROM outbox WHERE id = $1)`, id, instant(at), failure).Scan(&exists)
	if err != nil {
		return fmt.Errorf("retry outbox %s: %w", id, classify(err))
	}
	if !exists {
		return fmt.Errorf("retry outbox %s: %w: outbox message", id, ErrNotFound)
	}
	return nil
}

// Task kinds, as stored in tasks.kind.
const (
	TaskReview         = "review"
	TaskEarlyWarning   = "early_warning"
	TaskCollectionCall = "collection_call"
	TaskLegalReferral  = "legal_referral"
	TaskWriteOff       = "write_off"
	TaskComplaint      = "complaint"
)

// Task is work for a human: an agent call, an early-warning follow-up, a
// review or a decision.
type Task struct {
	// ID is assigned by the database; TaskKey is the business key that
	// makes creating the task idempotent.
	ID      uuid.UUID
	TaskKey string
	PlanID  uuid.UUID
	// Kind is one of the Task* constants.
	Kind string
	// Status is open, done or cancelled (open when created).
	Status string
	// Assignee is who works on it ("" for nobody yet); DueAt when it should
	// be done (zero: as soon as possible).
	Assignee string
	DueAt    time.Time
	// Details (JSON object): what the agent needs (purpose, script ...).
	Details json.RawMessage
	// Outcome says how it ended; CreatedAt and ClosedAt are set by the
	// database.
	Outcome             string
	CreatedAt, ClosedAt time.Time
}

const taskColumns = `id, task_key, plan_id, kind, status, assignee, due_at, details, outcome, created_at, closed_at`

func taskTargets(t *Task) []any {
	return []any{&t.ID, &t.TaskKey, &t.PlanID, &t.Kind, &t.Status, str(&t.Assignee), tim(&t.DueAt), &t.Details,
		str(&t.Outcome), &t.CreatedAt, tim(&t.ClosedAt)}
}

// CreateTask stores an open task keyed by TaskKey (Status, Outcome and the
// times are set here). A repeat with the same plan, kind, assignee, due
// time and details returns the stored task, whatever its status now;
// anything else under the key is ErrConflict.
func (s *Store) CreateTask(ctx context.Context, t Task) (Task, error) {
	fail := func(err error) (Task, error) {
		return Task{}, fmt.Errorf("create task %s: %w", t.TaskKey, err)
	}
	if t.TaskKey == "" {
		return fail(invalid("task key is required"))
	}
	details, err := object("details", t.Details)
	if err != nil {
		return fail(err)
	}
	t.Details = details
	if !t.DueAt.IsZero() {
		t.DueAt = instant(t.DueAt)
	}
	var out Task
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO tasks (task_key, plan_id, kind, assignee, due_at, details)
			VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (task_key) DO NOTHING
			RETURNING `+taskColumns, t.TaskKey, t.PlanID, t.Kind, nullString(t.Assignee), nullTime(t.DueAt), []byte(t.Details)).
			Scan(taskTargets(&out)...)
		if err == nil {
			return audit(ctx, tx, out.PlanID, uuid.Nil, ActorSystem, "task.created", map[string]any{
				"task_key": out.TaskKey, "kind": out.Kind, "due_at": nullTime(out.DueAt)})
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return classify(err)
		}
		if err := tx.QueryRow(ctx, `SELECT `+taskColumns+` FROM tasks WHERE task_key = $1`, t.TaskKey).
			Scan(taskTargets(&out)...); err != nil {
			return classify(err)
		}
		var d diff
		d.id("plan", out.PlanID, t.PlanID)
		d.str("kind", out.Kind, t.Kind)
		d.str("assignee", out.Assignee, t.Assignee)
		d.time("due at", out.DueAt, t.DueAt)
		d.json("details", out.Details, t.Details)
		return d.err()
	})
	if err != nil {
		return fail(err)
	}
	return out, nil
}

// Tasks returns the tasks of a plan, oldest first.
func (s *Store) Tasks(ctx context.Context, planID uuid.UUID) ([]Task, error) {
	rows, err := s.db().Query(ctx, `SELECT `+taskColumns+` FROM tasks WHERE plan_id = $1 ORDER BY created_at, id`, planID)
	if err != nil {
		return nil, fmt.Errorf("tasks plan %s: %w", planID, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Task, error) {
		var t Task
		err := r.Scan(taskTargets(&t)...)
		return t, err
	})
	if err != nil {
		return nil, fmt.Errorf("tasks plan %s: %w", planID, err)
	}
	return out, nil
}
