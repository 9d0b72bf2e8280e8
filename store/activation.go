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

// ErrCreditLine means the customer's available credit cannot cover a plan.
var ErrCreditLine = errors.New("credit line exceeded")

// Activation is a signed plan to make active.
type Activation struct {
	PlanID uuid.UUID
	// CreditLimit is the customer's limit from the plan's assessment.
	CreditLimit decimal.Decimal
	// Principal is reserved on the credit line.
	Principal decimal.Decimal
	// StartDate is the plan's start (midnight UTC of the calendar date).
	StartDate time.Time
	// Version and Rows are the first schedule (version 1).
	Version ScheduleVersion
	Rows    []Instalment
}

// ActivationResult is the credit line after an activation.
type ActivationResult struct {
	CreditLimit decimal.Decimal
	Used        decimal.Decimal
	Available   decimal.Decimal
}

// ActivatePlan makes a plan in signing active in one transaction: it sets
// the customer's credit limit, reserves the principal on the credit line
// (refused with ErrCreditLine, nothing written, when limit - used is less)
// as the plan's credit in use, records the start date, stores the first
// schedule and moves the plan to active. Activating an active plan again
// changes nothing.
func (s *Store) ActivatePlan(ctx context.Context, a Activation) (ActivationResult, error) {
	fail := func(err error) (ActivationResult, error) {
		return ActivationResult{}, fmt.Errorf("activate plan %s: %w", a.PlanID, err)
	}
	if !a.Principal.IsPositive() || a.CreditLimit.IsNegative() {
		return fail(invalid("principal must be > 0 and the credit limit >= 0, got %s and %s", a.Principal, a.CreditLimit))
	}
	if a.StartDate.IsZero() {
		return fail(invalid("a start date is required"))
	}
	a.Version.PlanID = a.PlanID
	given, total, err := checkSchedule(&a.Version, a.Rows)
	if err != nil {
		return fail(err)
	}
	var out ActivationResult
	// ErrCreditLine is an answer (the plan is declined): its writes are
	// undone inside InTx too.
	err = s.savepointTx(ctx, func(tx pgx.Tx) error {
		var state, currency string
		var customerID uuid.UUID
		var version int
		if err := tx.QueryRow(ctx, `SELECT state, currency, customer_id, schedule_version FROM plans WHERE id = $1 FOR UPDATE`, a.PlanID).
			Scan(&state, &currency, &customerID, num(&version)); err != nil {
			return classify(err)
		}
		line := func() error {
			return tx.QueryRow(ctx, `SELECT credit_limit, used FROM credit_lines WHERE customer_id = $1`, customerID).
				Scan(&out.CreditLimit, &out.Used)
		}
		switch state {
		case "active":
			if err := line(); err != nil {
				return classify(err)
			}
			out.Available = out.CreditLimit.Sub(out.Used)
			return nil
		case "signing":
		default:
			return stateChanged("plan is %s, expected signing", state)
		}
		// The credit line row lock (taken by the upsert) serialises
		// activations of one customer.
		if err := tx.QueryRow(ctx, `INSERT INTO credit_lines (customer_id, credit_limit, currency) VALUES ($1, $2, $3)
			ON CONFLICT (customer_id) DO UPDATE SET credit_limit = EXCLUDED.credit_limit, updated_at = now()
			RETURNING credit_limit, used`,
			customerID, a.CreditLimit, currency).Scan(&out.CreditLimit, &out.Used); err != nil {
			return classify(err)
		}
		available := out.CreditLimit.Sub(out.Used)
		if a.Principal.GreaterThan(available) {
			return fmt.Errorf("%w: %s available of a %s limit, %s needed", ErrCreditLine,
				available.StringFixed(2), out.CreditLimit.StringFixed(2), a.Principal.StringFixed(2))
		}
		if _, err := tx.Exec(ctx, `UPDATE credit_lines SET used = used + $2, updated_at = now() WHERE customer_id = $1`,
			customerID, a.Principal); err != nil {
			return classify(err)
		}
		out.Used = out.Used.Add(a.Principal)
		out.Available = out.CreditLimit.Sub(out.Used)
		if err := saveScheduleLocked(ctx, tx, a.Version, given, total, version, currency, customerID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE plans SET start_date = $2, credit_limit = $3, credit_in_use = $4,
				state = 'active', state_reason = 'agreement signed', updated_at = now()
			WHERE id = $1`, a.PlanID, civil(a.StartDate), a.CreditLimit, a.Principal); err != nil {
			return classify(err)
		}
		return audit(ctx, tx, a.PlanID, customerID, ActorSystem, "plan.activated", map[string]any{
			"principal": a.Principal, "credit_limit": out.CreditLimit, "credit_used": out.Used, "start_date": civil(a.StartDate)})
	})
	if err != nil {
		return fail(err)
	}
	return out, nil
}

// CreditLine returns a customer's credit limit and the amount in use;
// zeros when the customer has no credit line yet.
func (s *Store) CreditLine(ctx context.Context, customerID uuid.UUID) (limit, used decimal.Decimal, err error) {
	err = s.db().QueryRow(ctx, `SELECT credit_limit, used FROM credit_lines WHERE customer_id = $1`, customerID).Scan(&limit, &used)
	if errors.Is(err, pgx.ErrNoRows) {
		return decimal.Zero, decimal.Zero, nil
	}
	if err != nil {
		return decimal.Zero, decimal.Zero, fmt.Errorf("credit line of customer %s: %w", customerID, classify(err))
	}
	return limit, used, nil
}

// ClosePaidOff is the state reason ClosePlan records when none is given.
const ClosePaidOff = "paid off"

// ClosePlan moves an active plan whose current schedule is settled (every
// instalment paid or waived; holiday instalments, which owe nothing, never
// block it) to closed with reason as its state reason ("" means
// ClosePaidOff), and releases the plan's credit in use (its principal for a
// plan activated before credit in use was recorded) on the customer's credit
// line, in one transaction. Closing a closed plan again changes nothing.
func (s *Store) ClosePlan(ctx context.Context, planID uuid.UUID, reason string) error {
	reason = orDefault(reason, ClosePaidOff)
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var state string
		var customerID uuid.UUID
		var inUse decimal.NullDecimal
		if err := tx.QueryRow(ctx, `SELECT state, customer_id, COALESCE(credit_in_use, principal) FROM plans
			WHERE id = $1 FOR UPDATE`, planID).Scan(&state, &customerID, &inUse); err != nil {
			return classify(err)
		}
		switch state {
		case StateClosed:
			return nil
		case StateActive:
		default:
			return stateChanged("plan is %s, expected active", state)
		}
		var open int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM instalments i JOIN plans p ON p.id = i.plan_id AND p.schedule_version = i.schedule_version
			WHERE i.plan_id = $1 AND i.status NOT IN ('paid', 'waived') AND NOT i.holiday`, planID).Scan(&open); err != nil {
			return classify(err)
		}
		if open > 0 {
			return stateChanged("plan has %d instalments not settled", open)
		}
		if _, err := tx.Exec(ctx, `UPDATE credit_lines SET used = GREATEST(used - $2, 0), updated_at = now() WHERE customer_id = $1`,
			customerID, inUse.Decimal); err != nil {
			return classify(err)
		}
		if _, err := tx.Exec(ctx, `UPDATE plans SET state = 'closed', state_reason = $2, credit_in_use = 0, closed_at = now(),
				updated_at = now()
			WHERE id = $1`, planID, reason); err != nil {
			return classify(err)
		}
		return audit(ctx, tx, planID, customerID, ActorSystem, "plan.closed", map[string]any{
			"released": inUse.Decimal, "reason": reason})
	})
	if err != nil {
		return fmt.Errorf("close plan %s (%s): %w", planID, reason, err)
	}
	return nil
}
