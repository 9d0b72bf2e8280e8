package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Contact is one contact attempt with the debtor (reminder, notice,
// collection call or letter), kept for compliance.
type Contact struct {
	// ID is assigned by the database.
	ID uuid.UUID
	// PlanID is the plan; ContactKey the business key (e.g.
	// "reminder:<plan>:v1:#3:D-3") that makes recording idempotent.
	PlanID     uuid.UUID
	ContactKey string
	// Purpose is reminder, schedule_notice, collection, notice, alert or
	// check_in; Channel sms, email, push, phone or letter.
	Purpose, Channel string
	// ScheduleVersion and InstalmentNo name the instalment concerned (0:
	// none); Stage the days-past-due bucket (M0..M7, "" for none).
	ScheduleVersion, InstalmentNo int
	Stage                         string
	// ScheduledFor is when the contact is (or was) due; SentAt when it was
	// attempted (zero: not yet).
	ScheduledFor, SentAt time.Time
	// Outcome is sent, delivered, failed, connected, no_answer or deferred
	// ("" until known).
	Outcome string
	// Body is the text sent (never the debt to a third party).
	Body string
	// Details (JSON object): template, call notes ...
	Details json.RawMessage
	// CreatedAt and UpdatedAt are set by the database.
	CreatedAt, UpdatedAt time.Time
}

// OutboxMessage is a message waiting for (or past) delivery.
type OutboxMessage struct {
	// ID is assigned by the database; ContactID is the contact it delivers.
	ID, ContactID uuid.UUID
	// Channel and Payload (JSON) are what the sender needs.
	Channel string
	Payload json.RawMessage
	// AvailableAt is the earliest delivery time (the contact's ScheduledFor).
	AvailableAt time.Time
	// Attempts and LastError track delivery tries.
	Attempts  int
	LastError string
	// CreatedAt is set by the database; DeliveredAt once delivered.
	CreatedAt, DeliveredAt time.Time
}

const contactColumns = `id, plan_id, contact_key, purpose, channel, schedule_version, instalment_no, stage,
	scheduled_for, sent_at, outcome, body, details, created_at, updated_at`

func contactTargets(c *Contact) []any {
	return []any{&c.ID, &c.PlanID, &c.ContactKey, &c.Purpose, &c.Channel, num(&c.ScheduleVersion), num(&c.InstalmentNo),
		str(&c.Stage), &c.ScheduledFor, tim(&c.SentAt), str(&c.Outcome), &c.Body, &c.Details, &c.CreatedAt, &c.UpdatedAt}
}

const outboxColumns = `id, contact_id, channel, payload, available_at, attempts, last_error, created_at, delivered_at`

func outboxTargets(m *OutboxMessage) []any {
	return []any{&m.ID, &m.ContactID, &m.Channel, &m.Payload, &m.AvailableAt, &m.Attempts, &m.LastError, &m.CreatedAt,
		tim(&m.DeliveredAt)}
}

// RecordContact stores a contact attempt keyed by ContactKey. A repeat with
// the same plan, purpose, channel, instalment, stage, schedule time and body
// returns the stored contact (its outcome is changed with
// SetContactOutcome, not here); anything else under the key is ErrConflict.
func (s *Store) RecordContact(ctx context.Context, c Contact) (Contact, error) {
	out, _, err := s.recordContact(ctx, c, nil)
	if err != nil {
		return Contact{}, fmt.Errorf("record contact %s: %w", c.ContactKey, err)
	}
	return out, nil
}

// QueueContact records a contact like RecordContact and, in the same
// transaction, puts payload in the outbox for delivery at c.ScheduledFor.
// A repeat returns the stored contact and message.
func (s *Store) QueueContact(ctx context.Context, c Contact, payload json.RawMessage) (Contact, OutboxMessage, error) {
	if len(payload) == 0 || !json.Valid(payload) {
		return Contact{}, OutboxMessage{}, fmt.Errorf("queue contact %s: %w", c.ContactKey, invalid("payload must be JSON"))
	}
	out, msg, err := s.recordContact(ctx, c, payload)
	if err != nil {
		return Contact{}, OutboxMessage{}, fmt.Errorf("queue contact %s: %w", c.ContactKey, err)
	}
	return out, msg, nil
}

func (s *Store) recordContact(ctx context.Context, c Contact, payload json.RawMessage) (Contact, OutboxMessage, error) {
	if c.ContactKey == "" {
		return Contact{}, OutboxMessage{}, invalid("contact key is required")
	}
	if c.ScheduledFor.IsZero() {
		return Contact{}, OutboxMessage{}, invalid("scheduled for is required")
	}
	c.ScheduledFor = instant(c.ScheduledFor)
	details, err := object("details", c.Details)
	if err != nil {
		return Contact{}, OutboxMessage{}, err
	}
	c.Details = details
	var (
		out Contact
		msg OutboxMessage
	)
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		msg = OutboxMessage{}
		err := tx.QueryRow(ctx, `INSERT INTO contacts (plan_id, contact_key, purpose, channel, schedule_version,
				instalment_no, stage, scheduled_for, sent_at, outcome, body, details)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
			ON CONFLICT (contact_key) DO NOTHING
			RETURNING `+contactColumns,
			c.PlanID, c.ContactKey, c.Purpose, c.Channel, nullInt(c.ScheduleVersion), nullInt(c.InstalmentNo),
			nullString(c.Stage), c.ScheduledFor, nullTime(c.SentAt), nullString(c.Outcome), c.Body, []byte(c.Details)).
			Scan(contactTargets(&out)...)
		if err == nil {
			if payload != nil {
				if err := tx.QueryRow(ctx, `INSERT INTO outbox (contact_id, channel, payload, available_at)
					VALUES ($1, $2, $3, $4) RETURNING `+outboxColumns, out.ID, out.Channel, []byte(payload), out.ScheduledFor).
					Scan(outboxTargets(&msg)...); err != nil {
					return classify(err)
				}
			}
			return audit(ctx, tx, out.PlanID, uuid.Nil, ActorSystem, "contact.recorded", map[string]any{
				"contact_key": out.ContactKey, "purpose": out.Purpose, "channel": out.Channel,
				"scheduled_for": out.ScheduledFor, "outcome": out.Outcome, "queued": payload != nil})
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return classify(err)
		}
		if err := tx.QueryRow(ctx, `SELECT `+contactColumns+` FROM contacts WHERE contact_key = $1`, c.ContactKey).
			Scan(contactTargets(&out)...); err != nil {
			return classify(err)
		}
		var d diff
		d.id("plan", out.PlanID, c.PlanID)
		d.str("purpose", out.Purpose, c.Purpose)
		d.str("channel", out.Channel, c.Channel)
		d.num("schedule version", out.ScheduleVersion, c.ScheduleVersion)
		d.num("instalment", out.InstalmentNo, c.InstalmentNo)
		d.str("stage", out.Stage, c.Stage)
		d.time("scheduled for", out.ScheduledFor, c.ScheduledFor)
		d.str("body", out.Body, c.Body)
		if err := d.err(); err != nil {
			return err
		}
		if payload == nil {
			return nil
		}
		err = tx.QueryRow(ctx, `SELECT `+outboxColumns+` FROM outbox WHERE contact_id = $1`, out.ID).Scan(outboxTargets(&msg)...)
		if errors.Is(err, pgx.ErrNoRows) {
			return conflict("contact was recorded without an outbox message")
		}
		if err != nil {
			return err
		}
		if !jsonEqual(msg.Payload, payload) {
			return conflict("outbox payload differs")
		}
		return nil
	})
	return out, msg, err
}

// SetContactOutcome records the outcome of a contact attempt and when it
// happened (sentAt zero: now, unless the outcome is deferred). Setting the
// same outcome again is a no-op.
func (s *Store) SetContactOutcome(ctx context.Context, contactKey, outcome string, sentAt time.Time) (Contact, error) {
	var out Contact
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var cur Contact
		if err := tx.QueryRow(ctx, `SELECT `+contactColumns+` FROM contacts WHERE contact_key = $1 FOR UPDATE`, contactKey).
			Scan(contactTargets(&cur)...); err != nil {
			return classify(err)
		}
		if cur.Outcome == outcome {
			out = cur
			return nil
		}
		at := nullTime(sentAt)
		if at == nil && outcome != "deferred" {
			at = instant(time.Now())
		}
		if err := tx.QueryRow(ctx, `UPDATE contacts SET outcome = $2, sent_at = COALESCE($3, sent_at), updated_at = now()
			WHERE contact_key = $1 RETURNING `+contactColumns, contactKey, outcome, at).Scan(contactTargets(&out)...); err != nil {
			return classify(err)
		}
		return audit(ctx, tx, out.PlanID, uuid.Nil, ActorSystem, "contact.outcome", map[string]any{
			"contact_key": contactKey, "channel": out.Channel, "outcome": outcome, "sent_at": at})
	})
	if err != nil {
		return Contact{}, fmt.Errorf("set contact %s outcome %s: %w", contactKey, outcome, err)
	}
	return out, nil
}

// Contacts returns the contacts of a plan scheduled in [from, to), oldest
// first (zero bounds are open).
func (s *Store) Contacts(ctx context.Context, planID uuid.UUID, from, to time.Time) ([]Contact, error) {
	rows, err := s.db().Query(ctx, `SELECT `+contactColumns+` FROM contacts
		WHERE plan_id = $1 AND ($2::timestamptz IS NULL OR scheduled_for >= $2)
			AND ($3::timestamptz IS NULL OR scheduled_for < $3)
		ORDER BY scheduled_for, id`, planID, nullTime(from), nullTime(to))
	if err != nil {
		return nil, fmt.Errorf("contacts plan %s: %w", planID, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Contact, error) {
		var c Contact
		err := r.Scan(contactTargets(&c)...)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("contacts plan %s: %w", planID, err)
	}
	return out, nil
}

// ClaimOutbox returns up to limit undelivered messages available at now,
// oldest first, counting a delivery attempt on each. Rows are claimed with
// SKIP LOCKED inside the call, so concurrent senders get different rows.
func (s *Store) ClaimOutbox(ctx context.Context, now time.Time, limit int) ([]OutboxMessage, error) {
	var out []OutboxMessage
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `UPDATE outbox SET attempts = attempts + 1 WHERE id IN (
				SELECT id FROM outbox WHERE delivered_at IS NULL AND available_at <= $1
				ORDER BY available_at, id LIMIT $2 FOR UPDATE SKIP LOCKED)
			RETURNING `+outboxColumns, instant(now), limit)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (OutboxMessage, error) {
			var m OutboxMessage
			err := r.Scan(outboxTargets(&m)...)
			return m, err
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("claim outbox: %w", err)
	}
	return out, nil
}

// MarkOutboxDelivered stamps a message delivered (a no-op if it already
// is); with a non-empty failure it records the error and leaves it pending.
// An unknown id is ErrNotFound.
func (s *Store) MarkOutboxDelivered(ctx context.Context, id uuid.UUID, at time.Time, failure string) error {
	var delivered *time.Time
	err := s.db().QueryRow(ctx, `UPDATE outbox SET
			delivered_at = CASE WHEN $3 = '' THEN COALESCE(delivered_at, $2) ELSE delivered_at END,
			last_error = CASE WHEN delivered_at IS NULL THEN $3 ELSE last_error END
		WHERE id = $1 RETURNING delivered_at`, id, instant(at), failure).Scan(&delivered)
	if err != nil {
		return fmt.Errorf("mark outbox %s delivered: %w", id, classify(err))
	}
	return nil
}
