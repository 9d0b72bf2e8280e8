package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"
)

// Debit attempt outcomes, as stored in debit_attempts.outcome.
const (
	DebitPending           = "pending"
	DebitSucceeded         = "succeeded"
	DebitInsufficientFunds = "insufficient_funds"
	DebitFailed            = "failed"
)

// DebitAttempt is one auto-debit attempt of one instalment.
type DebitAttempt struct {
	// ID is assigned by the database.
	ID uuid.UUID
	// PlanID, ScheduleVersion, InstalmentNo and Attempt (>= 1) name the
	// attempt; at most one row exists for them.
	PlanID                                 uuid.UUID
	ScheduleVersion, InstalmentNo, Attempt int
	// IdempotencyKey is the key sent to the gateway (unique).
	IdempotencyKey string
	// AccountID is the account debited; Amount (> 0) in Currency.
	AccountID uuid.UUID
	Amount    decimal.Decimal
	Currency  string
	// Outcome is pending, succeeded, insufficient_funds or failed; a
	// succeeded attempt names its gateway AccountEntryID.
	Outcome        string
	AccountEntryID uuid.UUID
	// Error describes a failure.
	Error string
	// CreatedAt and UpdatedAt are set by the database.
	CreatedAt, UpdatedAt time.Time
}

const debitAttemptColumns = `id, plan_id, schedule_version, instalment_no, attempt, idempotency_key, account_id,
	amount, currency, outcome, account_entry_id, error, created_at, updated_at`

func debitAttemptTargets(a *DebitAttempt) []any {
	return []any{&a.ID, &a.PlanID, &a.ScheduleVersion, &a.InstalmentNo, &a.Attempt, &a.IdempotencyKey, &a.AccountID,
		&a.Amount, &a.Currency, &a.Outcome, uid(&a.AccountEntryID), &a.Error, &a.CreatedAt, &a.UpdatedAt}
}

// RecordDebitAttempt stores a debit attempt keyed by IdempotencyKey, or
// settles it: record it as pending before calling the gateway, then again
// with the outcome (and the entry of a success). A repeat with the same
// outcome returns the stored row; a pending repeat of a settled attempt
// returns it unchanged. The key or the (plan, version, instalment, attempt)
// reused for another debit, or a settled outcome changed, is ErrConflict.
func (s *Store) RecordDebitAttempt(ctx context.Context, a DebitAttempt) (DebitAttempt, error) {
	fail := func(err error) (DebitAttempt, error) {
		return DebitAttempt{}, fmt.Errorf("record debit attempt plan %s v%d #%d attempt %d key %s: %w",
			a.PlanID, a.ScheduleVersion, a.InstalmentNo, a.Attempt, a.IdempotencyKey, err)
	}
	if a.IdempotencyKey == "" {
		return fail(invalid("idempotency key is required"))
	}
	if err := money("amount", a.Amount, true); err != nil {
		return fail(err)
	}
	a.Outcome = orDefault(a.Outcome, DebitPending)
	var out DebitAttempt
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var customerID uuid.UUID
		if err := tx.QueryRow(ctx, `SELECT customer_id FROM plans WHERE id = $1`, a.PlanID).Scan(&customerID); err != nil {
			return classify(err)
		}
		err := tx.QueryRow(ctx, `INSERT INTO debit_attempts (plan_id, schedule_version, instalment_no, attempt,
				idempotency_key, account_id, amount, currency, outcome, account_entry_id, error)
			VALUES ($1, $2, $3, $4, $5, $6, $7, COALESCE($8, (SELECT currency FROM plans WHERE id = $1)), $9, $10, $11)
			ON CONFLICT DO NOTHING
			RETURNING `+debitAttemptColumns,
			a.PlanID, a.ScheduleVersion, a.InstalmentNo, a.Attempt, a.IdempotencyKey, a.AccountID, a.Amount,
			nullString(a.Currency), a.Outcome, nullUUID(a.AccountEntryID), a.Error).Scan(debitAttemptTargets(&out)...)
		if err == nil {
			return audit(ctx, tx, a.PlanID, customerID, ActorSystem, "debit.attempt", map[string]any{
				"version": a.ScheduleVersion, "no": a.InstalmentNo, "attempt": a.Attempt, "key": a.IdempotencyKey,
				"amount": a.Amount, "outcome": a.Outcome})
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return classify(err)
		}
		// Either the key or the attempt exists.
		err = tx.QueryRow(ctx, `SELECT `+debitAttemptColumns+` FROM debit_attempts WHERE idempotency_key = $1 FOR UPDATE`,
			a.IdempotencyKey).Scan(debitAttemptTargets(&out)...)
		if errors.Is(err, pgx.ErrNoRows) {
			var other DebitAttempt
			if err := tx.QueryRow(ctx, `SELECT `+debitAttemptColumns+` FROM debit_attempts
				WHERE plan_id = $1 AND schedule_version = $2 AND instalment_no = $3 AND attempt = $4`,
				a.PlanID, a.ScheduleVersion, a.InstalmentNo, a.Attempt).Scan(debitAttemptTargets(&other)...); err != nil {
				if !errors.Is(err, pgx.ErrNoRows) {
					return err
				}
				if a.AccountEntryID != uuid.Nil {
					var key string
					if err := tx.QueryRow(ctx, `SELECT idempotency_key FROM debit_attempts WHERE account_entry_id = $1`,
						a.AccountEntryID).Scan(&key); err == nil {
						return conflict("account entry %s already settles the attempt with key %s", a.AccountEntryID, key)
					}
				}
				return errRetry // the conflicting row was rolled back meanwhile
			}
			return conflict("attempt already recorded under key %s", other.IdempotencyKey)
		}
		if err != nil {
			return err
		}
		var d diff
		d.id("plan", out.PlanID, a.PlanID)
		d.num("schedule version", out.ScheduleVersion, a.ScheduleVersion)
		d.num("instalment", out.InstalmentNo, a.InstalmentNo)
		d.num("attempt", out.Attempt, a.Attempt)
		d.id("account", out.AccountID, a.AccountID)
		d.dec("amount", out.Amount, a.Amount)
		if a.Currency != "" {
			d.str("currency", out.Currency, a.Currency)
		}
		if err := d.err(); err != nil {
			return err
		}
		switch {
		case a.Outcome == out.Outcome:
			d.id("account entry", out.AccountEntryID, a.AccountEntryID)
			return d.err()
		case a.Outcome == DebitPending:
			return nil // a late repeat of the first record
		case out.Outcome != DebitPending:
			return conflict("attempt already settled as %s, not %s", out.Outcome, a.Outcome)
		}
		if err := tx.QueryRow(ctx, `UPDATE debit_attempts SET outcome = $2, account_entry_id = $3, error = $4,
				updated_at = now()
			WHERE id = $1 RETURNING `+debitAttemptColumns, out.ID, a.Outcome, nullUUID(a.AccountEntryID), a.Error).
			Scan(debitAttemptTargets(&out)...); err != nil {
			return classify(err)
		}
		return audit(ctx, tx, a.PlanID, customerID, ActorSystem, "debit.outcome", map[string]any{
			"version": a.ScheduleVersion, "no": a.InstalmentNo, "attempt": a.Attempt, "key": a.IdempotencyKey,
			"outcome": a.Outcome, "entry_id": nullUUID(a.AccountEntryID), "error": a.Error})
	})
	if err != nil {
		return fail(err)
	}
	return out, nil
}

// DebitAttempts returns the attempts of one instalment, by attempt number.
func (s *Store) DebitAttempts(ctx context.Context, planID uuid.UUID, version, no int) ([]DebitAttempt, error) {
	rows, err := s.db().Query(ctx, `SELECT `+debitAttemptColumns+` FROM debit_attempts
		WHERE plan_id = $1 AND schedule_version = $2 AND instalment_no = $3 ORDER BY attempt`, planID, version, no)
	if err != nil {
		return nil, fmt.Errorf("debit attempts plan %s v%d #%d: %w", planID, version, no, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (DebitAttempt, error) {
		var a DebitAttempt
		err := r.Scan(debitAttemptTargets(&a)...)
		return a, err
	})
	if err != nil {
		return nil, fmt.Errorf("debit attempts plan %s v%d #%d: %w", planID, version, no, err)
	}
	return out, nil
}
