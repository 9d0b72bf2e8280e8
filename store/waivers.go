package store

import (
	"context"
	"fmt"
	"slices"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"
)

// Waiver forgives part of what instalments owe on one component, granted by
// an operator through a request. (PlanID, RequestID) identifies the grant;
// each part is stored under (PlanID, RequestID, Version, No, Component).
type Waiver struct {
	PlanID uuid.UUID
	// Version is the schedule version of the instalments (0: the plan's
	// current version).
	Version int
	// RequestID is the operator's request; Operator who granted it (the
	// audit actor is operator:<Operator>); Reason why (both required).
	RequestID, Operator, Reason string
	// Component is penalty, fee or interest (principal is never waived).
	Component string
	// Parts are the amounts waived per instalment (at least one, each
	// instalment once, amounts > 0).
	Parts []WaiverPart
}

// WaiverPart is the amount waived on one instalment.
type WaiverPart struct {
	No     int
	Amount decimal.Decimal
}

// Waive applies a waiver in one transaction: it stores one waivers row per
// part, adds the amounts to the instalments' waived column of the
// component, and settles an instalment whose outstanding reaches 0 (paid,
// with PaidAt now, when anything was paid on it, else waived). It returns
// the rows of the schedule version.
//
// A repeat of the same waiver (same request id, version, component, parts,
// operator and reason) changes nothing and returns the rows; different
// content under the request id is ErrConflict. Waiving more than a
// component still owes is ErrInvalid; waiving on an instalment that is
// superseded, paid or waived is ErrStateChanged; an instalment that does not
// exist is ErrNotFound.
func (s *Store) Waive(ctx context.Context, w Waiver) ([]Instalment, error) {
	fail := func(err error) ([]Instalment, error) {
		return nil, fmt.Errorf("waive plan %s request %s %s: %w", w.PlanID, w.RequestID, w.Component, err)
	}
	switch {
	case w.RequestID == "":
		return fail(invalid("request id is required"))
	case w.Operator == "":
		return fail(invalid("operator is required"))
	case w.Reason == "":
		return fail(invalid("reason is required"))
	case w.Version < 0:
		return fail(invalid("version %d must be >= 1 (or 0 for the current one)", w.Version))
	}
	column, ok := map[string]string{
		ComponentPenalty: "waived_penalty", ComponentFee: "waived_fee", ComponentInterest: "waived_interest",
	}[w.Component]
	if !ok {
		return fail(invalid("component must be penalty, fee or interest, got %q", w.Component))
	}
	if len(w.Parts) == 0 {
		return fail(invalid("a waiver needs at least one part"))
	}
	parts := slices.Clone(w.Parts)
	slices.SortFunc(parts, func(a, b WaiverPart) int { return a.No - b.No })
	total := decimal.Zero
	for i, p := range parts {
		if p.No < 1 || (i > 0 && parts[i-1].No == p.No) {
			return fail(invalid("instalment no %d must be >= 1 and appear once", p.No))
		}
		if err := money(fmt.Sprintf("instalment %d waiver", p.No), p.Amount, true); err != nil {
			return fail(err)
		}
		total = total.Add(p.Amount)
	}
	actor := "operator:" + w.Operator

	var out []Instalment
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		// The plan row lock serialises waivers with payments and schedule
		// changes of the plan.
		var (
			current    int
			currency   string
			customerID uuid.UUID
		)
		if err := tx.QueryRow(ctx, `SELECT schedule_version, currency, customer_id FROM plans WHERE id = $1 FOR UPDATE`,
			w.PlanID).Scan(num(&current), &currency, &customerID); err != nil {
			return classify(err)
		}
		version := w.Version
		if version == 0 {
			if current == 0 {
				return fmt.Errorf("%w: the plan has no schedule", ErrNotFound)
			}
			version = current
		}
		// A repeat: the request id already granted a waiver on this plan.
		stored, err := queryWaiverParts(ctx, tx, w.PlanID, w.RequestID)
		if err != nil {
			return err
		}
		if len(stored) > 0 {
			var d diff
			first := stored[0]
			d.num("version", first.version, version)
			d.str("component", first.component, w.Component)
			d.str("operator", first.operator, w.Operator)
			d.str("reason", first.reason, w.Reason)
			if !slices.EqualFunc(stored, parts, func(a storedWaiverPart, b WaiverPart) bool {
				return a.version == version && a.component == w.Component && a.no == b.No && a.amount.Equal(b.Amount)
			}) {
				d = append(d, "parts")
			}
			if err := d.err(); err != nil {
				return err
			}
			out, err = queryInstalments(ctx, tx, w.PlanID, version)
			return err
		}
		for _, p := range parts {
			var row Instalment
			err := tx.QueryRow(ctx, `SELECT `+instalmentColumns+` FROM instalments
				WHERE plan_id = $1 AND schedule_version = $2 AND no = $3 FOR UPDATE`, w.PlanID, version, p.No).
				Scan(instalmentTargets(&row)...)
			if err != nil {
				return fmt.Errorf("instalment v%d #%d: %w", version, p.No, classify(err))
			}
			switch row.Status {
			case InstalmentSuperseded, InstalmentPaid, InstalmentWaived:
				return stateChanged("instalment v%d #%d is %s", version, p.No, row.Status)
			}
			owes := componentOwed(row, w.Component)
			if p.Amount.GreaterThan(owes) {
				return invalid("waiving %s of %s on instalment v%d #%d is more than it owes (%s)",
					p.Amount, w.Component, version, p.No, owes)
			}
			tag, err := tx.Exec(ctx, `INSERT INTO waivers (plan_id, request_id, schedule_version, instalment_no, component,
					amount, currency, reason, operator)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
				ON CONFLICT DO NOTHING`,
				w.PlanID, w.RequestID, version, p.No, w.Component, p.Amount, currency, w.Reason, w.Operator)
			if err != nil {
				return classify(err)
			}
			if tag.RowsAffected() == 0 {
				return errRetry // a concurrent grant of the same request won; the next run finds it
			}
			// The CASE conditions see the row before the update: the new
			// waived amount is added by hand.
			err = tx.QueryRow(ctx, `UPDATE instalments SET `+column+` = `+column+` + $4,
					status = CASE
						WHEN principal + interest + fee + penalty_accrued - paid_principal - paid_interest - paid_fee
							- paid_penalty - waived_interest - waived_fee - waived_penalty - $4 = 0
						THEN CASE WHEN paid_principal + paid_interest + paid_fee + paid_penalty > 0
							THEN 'paid' ELSE 'waived' END
						ELSE status END,
					paid_at = CASE
						WHEN principal + interest + fee + penalty_accrued - paid_principal - paid_interest - paid_fee
							- paid_penalty - waived_interest - waived_fee - waived_penalty - $4 = 0
							AND paid_principal + paid_interest + paid_fee + paid_penalty > 0
						THEN now() ELSE paid_at END,
					updated_at = now()
				WHERE plan_id = $1 AND schedule_version = $2 AND no = $3
				RETURNING `+instalmentColumns, w.PlanID, version, p.No, p.Amount).Scan(instalmentTargets(&row)...)
			if err != nil {
				if pgCode(err) == "23514" {
					return fmt.Errorf("%w: waiving %s of %s on instalment v%d #%d is more than it owes: %w",
						ErrInvalid, p.Amount, w.Component, version, p.No, err)
				}
				return fmt.Errorf("instalment v%d #%d: %w", version, p.No, classify(err))
			}
		}
		auditParts := make([]map[string]any, len(parts))
		for i, p := range parts {
			auditParts[i] = map[string]any{"no": p.No, "amount": p.Amount}
		}
		if err := audit(ctx, tx, w.PlanID, customerID, actor, "waiver.applied", map[string]any{
			"request_id": w.RequestID, "version": version, "component": w.Component, "total": total,
			"currency": currency, "reason": w.Reason, "parts": auditParts}); err != nil {
			return err
		}
		out, err = queryInstalments(ctx, tx, w.PlanID, version)
		return err
	})
	if err != nil {
		return fail(err)
	}
	return out, nil
}

// componentOwed returns what an instalment still owes on a component.
func componentOwed(i Instalment, component string) decimal.Decimal {
	switch component {
	case ComponentPenalty:
		return i.PenaltyAccrued.Sub(i.PaidPenalty).Sub(i.WaivedPenalty)
	case ComponentFee:
		return i.Fee.Sub(i.PaidFee).Sub(i.WaivedFee)
	case ComponentInterest:
		return i.Interest.Sub(i.PaidInterest).Sub(i.WaivedInterest)
	case ComponentPrincipal:
		return i.Principal.Sub(i.PaidPrincipal)
	}
	return decimal.Zero
}

// storedWaiverPart is one waivers row.
type storedWaiverPart struct {
	version, no                 int
	component, operator, reason string
	amount                      decimal.Decimal
}

// queryWaiverParts returns the waivers rows of a request, by instalment.
func queryWaiverParts(ctx context.Context, q querier, planID uuid.UUID, requestID string) ([]storedWaiverPart, error) {
	rows, err := q.Query(ctx, `SELECT schedule_version, instalment_no, component, operator, reason, amount
		FROM waivers WHERE plan_id = $1 AND request_id = $2 ORDER BY schedule_version, instalment_no, component`,
		planID, requestID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (storedWaiverPart, error) {
		var p storedWaiverPart
		err := r.Scan(&p.version, &p.no, &p.component, &p.operator, &p.reason, &p.amount)
		return p, err
	})
}
