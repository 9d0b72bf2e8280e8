package store

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"
)

// payInstalmentSQL adds what a payment applies to one instalment ($1 plan,
// $2 schedule version, $3 no): $4 penalty, $5 fee, $6 interest and $7
// principal, received at $8. The instalment becomes paid (at $8) once
// nothing is owed, partially paid otherwise; settled and superseded rows
// are left alone.
const payInstalmentSQL = `UPDATE instalments SET
		paid_penalty = paid_penalty + $4, paid_fee = paid_fee + $5,
		paid_interest = paid_interest + $6, paid_principal = paid_principal + $7,
		status = CASE
			WHEN paid_principal + $7 = principal AND paid_interest + $6 + waived_interest = interest
				AND paid_fee + $5 + waived_fee = fee AND paid_penalty + $4 + waived_penalty = penalty_accrued
			THEN 'paid'
			WHEN status IN ('pending', 'due') THEN 'partially_paid'
			ELSE status END,
		paid_at = CASE
			WHEN paid_principal + $7 = principal AND paid_interest + $6 + waived_interest = interest
				AND paid_fee + $5 + waived_fee = fee AND paid_penalty + $4 + waived_penalty = penalty_accrued
			THEN $8 ELSE paid_at END,
		updated_at = now()
	WHERE plan_id = $1 AND schedule_version = $2 AND no = $3
		AND status NOT IN ('superseded', 'paid', 'waived')`

// Payment sources, as stored in payments.source.
const (
	SourceAutoDebit = "auto_debit"
	SourceExternal  = "external"
	SourceManual    = "manual"
)

// Allocation components, in the default waterfall order (see calc.Components).
const (
	ComponentPenalty   = "penalty"
	ComponentFee       = "fee"
	ComponentInterest  = "interest"
	ComponentPrincipal = "principal"
)

// Payment is money received for a plan and how it was applied.
type Payment struct {
	// ID is assigned by the database.
	ID uuid.UUID
	// PlanID and PaymentID (the business payment id) are the key.
	PlanID    uuid.UUID
	PaymentID string
	// Source is auto_debit, external or manual; an auto_debit payment names
	// its DebitAttemptID (another source must not).
	Source         string
	DebitAttemptID uuid.UUID
	// Amount (> 0) in Currency (default: the plan's).
	Amount   decimal.Decimal
	Currency string
	// ReceivedAt is when the money arrived.
	ReceivedAt time.Time
	// Details (JSON object): payer reference, channel ...
	Details json.RawMessage
	// Allocations apply the payment to instalment components; they sum to
	// at most Amount, the rest being unallocated.
	Allocations []Allocation
	// CreatedAt is set by the database.
	CreatedAt time.Time
}

// Allocation is the part of a payment applied to one component of one
// instalment.
type Allocation struct {
	// ScheduleVersion and InstalmentNo name the instalment (of the plan).
	ScheduleVersion, InstalmentNo int
	// Component is penalty, fee, interest or principal.
	Component string
	// Amount is > 0.
	Amount decimal.Decimal
}

// Unallocated returns the part of the payment not applied to any instalment.
func (p Payment) Unallocated() decimal.Decimal {
	left := p.Amount
	for _, a := range p.Allocations {
		left = left.Sub(a.Amount)
	}
	return left
}

const paymentColumns = `id, plan_id, payment_id, source, debit_attempt_id, amount, currency, received_at, details,
	created_at`

func paymentTargets(p *Payment) []any {
	return []any{&p.ID, &p.PlanID, &p.PaymentID, &p.Source, uid(&p.DebitAttemptID), &p.Amount, &p.Currency,
		&p.ReceivedAt, &p.Details, &p.CreatedAt}
}

func componentRank(c string) int {
	switch c {
	case ComponentPenalty:
		return 0
	case ComponentFee:
		return 1
	case ComponentInterest:
		return 2
	case ComponentPrincipal:
		return 3
	}
	return 4
}

func sortAllocations(a []Allocation) {
	slices.SortFunc(a, func(x, y Allocation) int {
		return cmp.Or(cmp.Compare(x.ScheduleVersion, y.ScheduleVersion), cmp.Compare(x.InstalmentNo, y.InstalmentNo),
			cmp.Compare(componentRank(x.Component), componentRank(y.Component)))
	})
}

func queryAllocations(ctx context.Context, q querier, paymentRowID uuid.UUID) ([]Allocation, error) {
	rows, err := q.Query(ctx, `SELECT schedule_version, instalment_no, component, amount FROM payment_allocations
		WHERE payment_id = $1`, paymentRowID)
	if err != nil {
		return nil, err
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Allocation, error) {
		var a Allocation
		err := r.Scan(&a.ScheduleVersion, &a.InstalmentNo, &a.Component, &a.Amount)
		return a, err
	})
	sortAllocations(out)
	return out, err
}

// instalmentKey names an instalment of a plan.
type instalmentKey struct{ version, no int }

// RecordPayment stores a payment keyed by (PlanID, PaymentID) with its
// allocations, and adds each allocation to the instalment's paid columns,
// all in one transaction. An instalment whose every component is settled
// becomes paid (PaidAt = ReceivedAt); one still owing moves from
// pending/due to partially_paid (overdue stays overdue). Allocating to a
// superseded, paid or waived instalment is ErrStateChanged; beyond what a
// component owes, ErrInvalid. A repeat with the same content returns the
// stored payment and changes nothing; different content is ErrConflict.
func (s *Store) RecordPayment(ctx context.Context, p Payment) (Payment, error) {
	fail := func(err error) (Payment, error) {
		return Payment{}, fmt.Errorf("record payment plan %s payment %s: %w", p.PlanID, p.PaymentID, err)
	}
	if p.PaymentID == "" {
		return fail(invalid("payment id is required"))
	}
	if err := money("amount", p.Amount, true); err != nil {
		return fail(err)
	}
	if p.ReceivedAt.IsZero() {
		return fail(invalid("received at is required"))
	}
	p.ReceivedAt = instant(p.ReceivedAt)
	details, err := object("details", p.Details)
	if err != nil {
		return fail(err)
	}
	p.Details = details
	allocs := slices.Clone(p.Allocations)
	sortAllocations(allocs)
	p.Allocations = allocs
	// Sum the allocations per instalment, checking each.
	type delta struct{ penalty, fee, interest, principal decimal.Decimal }
	deltas := map[instalmentKey]*delta{}
	var order []instalmentKey
	total := decimal.Zero
	for i, a := range allocs {
		if i > 0 && allocs[i-1].ScheduleVersion == a.ScheduleVersion && allocs[i-1].InstalmentNo == a.InstalmentNo &&
			allocs[i-1].Component == a.Component {
			return fail(invalid("instalment v%d #%d %s allocated twice", a.ScheduleVersion, a.InstalmentNo, a.Component))
		}
		if err := money(fmt.Sprintf("allocation v%d #%d %s", a.ScheduleVersion, a.InstalmentNo, a.Component), a.Amount, true); err != nil {
			return fail(err)
		}
		k := instalmentKey{a.ScheduleVersion, a.InstalmentNo}
		d := deltas[k]
		if d == nil {
			d = &delta{decimal.Zero, decimal.Zero, decimal.Zero, decimal.Zero}
			deltas[k] = d
			order = append(order, k)
		}
		switch a.Component {
		case ComponentPenalty:
			d.penalty = d.penalty.Add(a.Amount)
		case ComponentFee:
			d.fee = d.fee.Add(a.Amount)
		case ComponentInterest:
			d.interest = d.interest.Add(a.Amount)
		case ComponentPrincipal:
			d.principal = d.principal.Add(a.Amount)
		default:
			return fail(invalid("unknown component %q", a.Component))
		}
		total = total.Add(a.Amount)
	}
	if total.GreaterThan(p.Amount) {
		return fail(invalid("allocations sum to %s, more than the payment %s", total, p.Amount))
	}

	var out Payment
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		// The plan row lock serialises payments of one plan.
		var (
			planCurrency string
			customerID   uuid.UUID
		)
		if err := tx.QueryRow(ctx, `SELECT currency, customer_id FROM plans WHERE id = $1 FOR UPDATE`, p.PlanID).
			Scan(&planCurrency, &customerID); err != nil {
			return classify(err)
		}
		currency := orDefault(p.Currency, planCurrency)
		err := tx.QueryRow(ctx, `INSERT INTO payments (plan_id, payment_id, source, debit_attempt_id, amount, currency,
				received_at, details)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
			ON CONFLICT (plan_id, payment_id) DO NOTHING
			RETURNING `+paymentColumns,
			p.PlanID, p.PaymentID, p.Source, nullUUID(p.DebitAttemptID), p.Amount, currency, p.ReceivedAt,
			[]byte(p.Details)).Scan(paymentTargets(&out)...)
		if errors.Is(err, pgx.ErrNoRows) {
			if err := tx.QueryRow(ctx, `SELECT `+paymentColumns+` FROM payments WHERE plan_id = $1 AND payment_id = $2`,
				p.PlanID, p.PaymentID).Scan(paymentTargets(&out)...); err != nil {
				return classify(err)
			}
			if out.Allocations, err = queryAllocations(ctx, tx, out.ID); err != nil {
				return err
			}
			var d diff
			d.str("source", out.Source, p.Source)
			d.id("debit attempt", out.DebitAttemptID, p.DebitAttemptID)
			d.dec("amount", out.Amount, p.Amount)
			d.str("currency", out.Currency, currency)
			d.time("received at", out.ReceivedAt, p.ReceivedAt)
			d.json("details", out.Details, p.Details)
			if !slices.EqualFunc(out.Allocations, allocs, func(a, b Allocation) bool {
				return a.ScheduleVersion == b.ScheduleVersion && a.InstalmentNo == b.InstalmentNo &&
					a.Component == b.Component && a.Amount.Equal(b.Amount)
			}) {
				d = append(d, "allocations")
			}
			return d.err()
		}
		if err != nil {
			return classify(err)
		}
		if currency != planCurrency {
			return invalid("payment currency %s differs from the plan's %s", currency, planCurrency)
		}
		for _, k := range order {
			d := deltas[k]
			var status string
			err := tx.QueryRow(ctx, payInstalmentSQL+` RETURNING status`,
				p.PlanID, k.version, k.no, d.penalty, d.fee, d.interest, d.principal, p.ReceivedAt).Scan(&status)
			if errors.Is(err, pgx.ErrNoRows) {
				var cur string
				if err := tx.QueryRow(ctx, `SELECT status FROM instalments WHERE plan_id = $1 AND schedule_version = $2 AND no = $3`,
					p.PlanID, k.version, k.no).Scan(&cur); err != nil {
					return fmt.Errorf("instalment v%d #%d: %w", k.version, k.no, classify(err))
				}
				return stateChanged("instalment v%d #%d is %s", k.version, k.no, cur)
			}
			if err != nil {
				return fmt.Errorf("instalment v%d #%d: %w", k.version, k.no, classify(err))
			}
		}
		batch := &pgx.Batch{}
		for _, a := range allocs {
			batch.Queue(`INSERT INTO payment_allocations (payment_id, plan_id, schedule_version, instalment_no, component, amount)
				VALUES ($1, $2, $3, $4, $5, $6)`, out.ID, p.PlanID, a.ScheduleVersion, a.InstalmentNo, a.Component, a.Amount)
		}
		if err := tx.SendBatch(ctx, batch).Close(); err != nil {
			return classify(err)
		}
		if out.Allocations, err = queryAllocations(ctx, tx, out.ID); err != nil {
			return err
		}
		return audit(ctx, tx, p.PlanID, customerID, ActorSystem, "payment.recorded", map[string]any{
			"payment_id": p.PaymentID, "source": p.Source, "amount": p.Amount, "currency": currency,
			"allocations": len(allocs), "unallocated": out.Unallocated()})
	})
	if err != nil {
		return fail(err)
	}
	return out, nil
}

// GetPayment returns payment paymentID of a plan with its allocations.
func (s *Store) GetPayment(ctx context.Context, planID uuid.UUID, paymentID string) (Payment, error) {
	var p Payment
	if err := s.db().QueryRow(ctx, `SELECT `+paymentColumns+` FROM payments WHERE plan_id = $1 AND payment_id = $2`,
		planID, paymentID).Scan(paymentTargets(&p)...); err != nil {
		return Payment{}, fmt.Errorf("get payment plan %s payment %s: %w", planID, paymentID, classify(err))
	}
	var err error
	if p.Allocations, err = queryAllocations(ctx, s.db(), p.ID); err != nil {
		return Payment{}, fmt.Errorf("get payment plan %s payment %s: %w", planID, paymentID, err)
	}
	return p, nil
}
