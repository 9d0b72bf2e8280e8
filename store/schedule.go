package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"
)

// Instalment statuses, as stored in instalments.status.
const (
	InstalmentPending       = "pending"
	InstalmentDue           = "due"
	InstalmentPaid          = "paid"
	InstalmentPartiallyPaid = "partially_paid"
	InstalmentOverdue       = "overdue"
	InstalmentWaived        = "waived"
	InstalmentSuperseded    = "superseded"
)

// ScheduleVersion describes one schedule of a plan.
type ScheduleVersion struct {
	// PlanID and Version (>= 1) are the business key.
	PlanID  uuid.UUID
	Version int
	// Reason says why the schedule was made: initial, cancellation,
	// restructure, holiday, early_repayment ...
	Reason string
	// RequestID is the request that caused it ("" for none).
	RequestID string
	// Params (JSON object): the terms the schedule was computed from.
	Params json.RawMessage
	// CreatedAt is set by the database.
	CreatedAt time.Time
}

// Instalment is one row of a schedule version, with what has been paid,
// waived and accrued on it since.
type Instalment struct {
	// PlanID, ScheduleVersion and No are the key (set by SaveSchedule).
	PlanID          uuid.UUID
	ScheduleVersion int
	No              int
	// DueDate is a civil date (midnight UTC).
	DueDate time.Time
	// Currency is the plan's.
	Currency string
	// Principal + Interest + Fee = Payment; BalanceAfter is the principal
	// outstanding after this instalment.
	Principal, Interest, Fee, Payment, BalanceAfter decimal.Decimal
	// Holiday marks a paused instalment (every amount 0).
	Holiday bool
	// PenaltyAccrued is the late charge so far; the Paid* and Waived*
	// columns what was collected and forgiven per component.
	PenaltyAccrued                                    decimal.Decimal
	PaidPrincipal, PaidInterest, PaidFee, PaidPenalty decimal.Decimal
	WaivedInterest, WaivedFee, WaivedPenalty          decimal.Decimal
	// Status is one of the Instalment* constants; PaidAt is set when paid.
	Status string
	PaidAt time.Time
}

// Outstanding returns what is still owed on the instalment: every
// component due (penalty included) less what was paid or waived.
func (i Instalment) Outstanding() decimal.Decimal {
	return i.Payment.Add(i.PenaltyAccrued).
		Sub(i.PaidPrincipal).Sub(i.PaidInterest).Sub(i.PaidFee).Sub(i.PaidPenalty).
		Sub(i.WaivedInterest).Sub(i.WaivedFee).Sub(i.WaivedPenalty)
}

const instalmentColumns = `plan_id, schedule_version, no, due_date, currency, principal, interest, fee, payment,
	balance_after, holiday, penalty_accrued, paid_principal, paid_interest, paid_fee, paid_penalty, waived_interest,
	waived_fee, waived_penalty, status, paid_at`

func instalmentTargets(i *Instalment) []any {
	return []any{&i.PlanID, &i.ScheduleVersion, &i.No, &i.DueDate, &i.Currency, &i.Principal, &i.Interest, &i.Fee,
		&i.Payment, &i.BalanceAfter, &i.Holiday, &i.PenaltyAccrued, &i.PaidPrincipal, &i.PaidInterest, &i.PaidFee,
		&i.PaidPenalty, &i.WaivedInterest, &i.WaivedFee, &i.WaivedPenalty, &i.Status, tim(&i.PaidAt)}
}

func queryInstalments(ctx context.Context, q querier, planID uuid.UUID, version int) ([]Instalment, error) {
	rows, err := q.Query(ctx, `SELECT `+instalmentColumns+` FROM instalments
		WHERE plan_id = $1 AND schedule_version = $2 ORDER BY no`, planID, version)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Instalment, error) {
		var i Instalment
		err := r.Scan(instalmentTargets(&i)...)
		return i, err
	})
}

// SaveSchedule stores schedule version v.Version of plan v.PlanID with its
// rows, all in one transaction, and makes it the plan's current schedule.
// The version must be the plan's current version + 1 (else
// ErrStateChanged). Rows of earlier versions are kept; those still open
// (pending, due, partially paid, overdue) are marked superseded. Saving a
// version that exists with the same rows and reason is a no-op; with
// different ones it is ErrConflict.
//
// Each row needs No (>= 1, unique), DueDate and the amounts with Payment =
// Principal + Interest + Fee; the paid/waived/penalty columns start at 0
// and status at pending.
func (s *Store) SaveSchedule(ctx context.Context, v ScheduleVersion, rows []Instalment) error {
	fail := func(err error) error {
		return fmt.Errorf("save schedule plan %s v%d: %w", v.PlanID, v.Version, err)
	}
	given, total, err := checkSchedule(&v, rows)
	if err != nil {
		return fail(err)
	}
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		return saveScheduleTx(ctx, tx, v, given, total)
	})
	if err != nil {
		return fail(err)
	}
	return nil
}

// checkSchedule validates a schedule version and its rows before they are
// written, and returns the rows keyed to the version with their total.
func checkSchedule(v *ScheduleVersion, rows []Instalment) ([]Instalment, decimal.Decimal, error) {
	if v.Version < 1 {
		return nil, decimal.Zero, invalid("version must be at least 1")
	}
	if v.Reason == "" {
		return nil, decimal.Zero, invalid("reason is required")
	}
	if len(rows) == 0 {
		return nil, decimal.Zero, invalid("a schedule needs at least one instalment")
	}
	params, err := object("params", v.Params)
	if err != nil {
		return nil, decimal.Zero, err
	}
	v.Params = params
	seen := map[int]bool{}
	given := make([]Instalment, len(rows))
	total := decimal.Zero
	for k, r := range rows {
		if r.No < 1 || seen[r.No] {
			return nil, decimal.Zero, invalid("row %d: instalment no %d must be >= 1 and unique", k, r.No)
		}
		seen[r.No] = true
		if r.DueDate.IsZero() {
			return nil, decimal.Zero, invalid("instalment %d has no due date", r.No)
		}
		for _, m := range []struct {
			name string
			d    decimal.Decimal
		}{{"principal", r.Principal}, {"interest", r.Interest}, {"fee", r.Fee}, {"payment", r.Payment},
			{"balance after", r.BalanceAfter}} {
			if err := money(fmt.Sprintf("instalment %d %s", r.No, m.name), m.d, false); err != nil {
				return nil, decimal.Zero, err
			}
		}
		if !r.Payment.Equal(r.Principal.Add(r.Interest).Add(r.Fee)) {
			return nil, decimal.Zero, invalid("instalment %d: payment %s != principal %s + interest %s + fee %s",
				r.No, r.Payment, r.Principal, r.Interest, r.Fee)
		}
		r.PlanID, r.ScheduleVersion, r.DueDate = v.PlanID, v.Version, civil(r.DueDate)
		total = total.Add(r.Payment)
		given[k] = r
	}
	return given, total, nil
}

// saveScheduleTx writes schedule version v inside tx: a repeat of a stored
// version must match it, a new version must be the plan's current + 1;
// open rows of older versions are marked superseded.
func saveScheduleTx(ctx context.Context, tx pgx.Tx, v ScheduleVersion, given []Instalment, total decimal.Decimal) error {
	// The plan row lock serialises schedule changes of one plan.
	var (
		current    int
		currency   string
		customerID uuid.UUID
	)
	if err := tx.QueryRow(ctx, `SELECT schedule_version, currency, customer_id FROM plans WHERE id = $1 FOR UPDATE`,
		v.PlanID).Scan(num(&current), &currency, &customerID); err != nil {
		return classify(err)
	}
	return saveScheduleLocked(ctx, tx, v, given, total, current, currency, customerID)
}

// saveScheduleLocked is saveScheduleTx once the plan's row is locked and
// its schedule version (current), currency and customer read.
func saveScheduleLocked(ctx context.Context, tx pgx.Tx, v ScheduleVersion, given []Instalment, total decimal.Decimal,
	current int, currency string, customerID uuid.UUID) error {
	// A version is saved with the plan's schedule_version, in this
	// transaction: one at or below it is stored (a repeat, checked against
	// what was stored), the next one is not.
	if v.Version <= current {
		var stored ScheduleVersion
		err := tx.QueryRow(ctx, `SELECT plan_id, version, reason, request_id, params, created_at FROM schedule_versions
			WHERE plan_id = $1 AND version = $2`, v.PlanID, v.Version).
			Scan(&stored.PlanID, &stored.Version, &stored.Reason, str(&stored.RequestID), &stored.Params, &stored.CreatedAt)
		if err != nil {
			return classify(err)
		}
		have, err := queryInstalments(ctx, tx, v.PlanID, v.Version)
		if err != nil {
			return err
		}
		return scheduleDiff(stored, have, v, given).err()
	}
	if v.Version != current+1 {
		return stateChanged("plan is at schedule version %d, cannot save version %d", current, v.Version)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO schedule_versions (plan_id, version, reason, request_id, params)
		VALUES ($1, $2, $3, $4, $5)`, v.PlanID, v.Version, v.Reason, nullString(v.RequestID), []byte(v.Params)); err != nil {
		return classify(err)
	}
	// One statement for every row (a 360-row schedule included); checkSchedule
	// gave each row the version's plan and number.
	n := len(given)
	nos, dues, holidays := make([]int32, n), make([]time.Time, n), make([]bool, n)
	principal, interest, fee, payment, balance := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	for i, r := range given {
		nos[i], dues[i], holidays[i] = int32(r.No), r.DueDate, r.Holiday
		principal[i], interest[i], fee[i], payment[i], balance[i] = r.Principal.String(), r.Interest.String(), r.Fee.String(), r.Payment.String(), r.BalanceAfter.String()
	}
	if _, err := tx.Exec(ctx, `INSERT INTO instalments (plan_id, schedule_version, no, due_date, currency, principal, interest,
			fee, payment, balance_after, holiday)
		SELECT $1, $2, u.no, u.due_date, $3, u.principal, u.interest, u.fee, u.payment, u.balance_after, u.holiday
		FROM unnest($4::int[], $5::date[], $6::numeric[], $7::numeric[], $8::numeric[], $9::numeric[], $10::numeric[], $11::boolean[])
			AS u(no, due_date, principal, interest, fee, payment, balance_after, holiday)`,
		v.PlanID, v.Version, currency, nos, dues, principal, interest, fee, payment, balance, holidays); err != nil {
		return classify(err)
	}
	var superseded int64
	if v.Version > 1 {
		tag, err := tx.Exec(ctx, `UPDATE instalments SET status = 'superseded', updated_at = now()
			WHERE plan_id = $1 AND schedule_version < $2 AND status IN ('pending', 'due', 'partially_paid', 'overdue')`,
			v.PlanID, v.Version)
		if err != nil {
			return classify(err)
		}
		superseded = tag.RowsAffected()
	}
	if _, err := tx.Exec(ctx, `UPDATE plans SET schedule_version = $2, updated_at = now() WHERE id = $1`,
		v.PlanID, v.Version); err != nil {
		return classify(err)
	}
	return audit(ctx, tx, v.PlanID, customerID, ActorSystem, "schedule.saved", map[string]any{
		"version": v.Version, "reason": v.Reason, "request_id": v.RequestID, "instalments": len(given),
		"total_payment": total, "superseded": superseded})
}

func scheduleDiff(stored ScheduleVersion, have []Instalment, v ScheduleVersion, given []Instalment) diff {
	var d diff
	d.str("reason", stored.Reason, v.Reason)
	d.str("request id", stored.RequestID, v.RequestID)
	d.json("params", stored.Params, v.Params)
	if len(have) != len(given) {
		d.num("instalments", len(have), len(given))
		return d
	}
	byNo := map[int]Instalment{}
	for _, r := range have {
		byNo[r.No] = r
	}
	for _, g := range given {
		r, ok := byNo[g.No]
		if !ok {
			d = append(d, fmt.Sprintf("instalment %d (not stored)", g.No))
			continue
		}
		p := fmt.Sprintf("instalment %d ", g.No)
		d.time(p+"due date", r.DueDate, g.DueDate)
		d.dec(p+"principal", r.Principal, g.Principal)
		d.dec(p+"interest", r.Interest, g.Interest)
		d.dec(p+"fee", r.Fee, g.Fee)
		d.dec(p+"balance after", r.BalanceAfter, g.BalanceAfter)
		d.bool(p+"holiday", r.Holiday, g.Holiday)
	}
	return d
}

// Schedule returns the rows of a schedule version of a plan, by No;
// version 0 means the plan's current version. A version never saved is
// ErrNotFound.
func (s *Store) Schedule(ctx context.Context, planID uuid.UUID, version int) ([]Instalment, error) {
	if version == 0 {
		p, err := s.GetPlan(ctx, planID)
		if err != nil {
			return nil, fmt.Errorf("schedule plan %s: %w", planID, err)
		}
		if p.ScheduleVersion == 0 {
			return nil, fmt.Errorf("schedule plan %s: %w: no schedule yet", planID, ErrNotFound)
		}
		version = p.ScheduleVersion
	}
	rows, err := queryInstalments(ctx, s.db(), planID, version)
	if err != nil {
		return nil, fmt.Errorf("schedule plan %s v%d: %w", planID, version, err)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("schedule plan %s v%d: %w", planID, version, ErrNotFound)
	}
	return rows, nil
}

// ScheduleVersions returns every schedule version of a plan, oldest first.
func (s *Store) ScheduleVersions(ctx context.Context, planID uuid.UUID) ([]ScheduleVersion, error) {
	rows, err := s.db().Query(ctx, `SELECT plan_id, version, reason, request_id, params, created_at
		FROM schedule_versions WHERE plan_id = $1 ORDER BY version`, planID)
	if err != nil {
		return nil, fmt.Errorf("schedule versions plan %s: %w", planID, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ScheduleVersion, error) {
		var v ScheduleVersion
		err := r.Scan(&v.PlanID, &v.Version, &v.Reason, str(&v.RequestID), &v.Params, &v.CreatedAt)
		return v, err
	})
	if err != nil {
		return nil, fmt.Errorf("schedule versions plan %s: %w", planID, err)
	}
	return out, nil
}

// GetInstalment returns one instalment of a schedule version.
func (s *Store) GetInstalment(ctx context.Context, planID uuid.UUID, version, no int) (Instalment, error) {
	var i Instalment
	if err := s.db().QueryRow(ctx, `SELECT `+instalmentColumns+` FROM instalments
		WHERE plan_id = $1 AND schedule_version = $2 AND no = $3`, planID, version, no).Scan(instalmentTargets(&i)...); err != nil {
		return Instalment{}, fmt.Errorf("get instalment plan %s v%d #%d: %w", planID, version, no, classify(err))
	}
	return i, nil
}

// SetInstalmentStatus moves an instalment from one status to another
// (pending -> due -> overdue, ... -> waived) and records it in the audit
// log. Already being in status to is a no-op; any other status than from is
// ErrStateChanged. Paid and partially paid are set by RecordPayment, and
// superseded by SaveSchedule.
func (s *Store) SetInstalmentStatus(ctx context.Context, planID uuid.UUID, version, no int, from, to string) (Instalment, error) {
	var out Instalment
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `UPDATE instalments SET status = $5, updated_at = now()
			WHERE plan_id = $1 AND schedule_version = $2 AND no = $3 AND status = $4
			RETURNING `+instalmentColumns, planID, version, no, from, to).Scan(instalmentTargets(&out)...)
		if err == nil {
			return audit(ctx, tx, planID, uuid.Nil, ActorSystem, "instalment.status", map[string]any{
				"version": version, "no": no, "from": from, "to": to})
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return classify(err)
		}
		if err := tx.QueryRow(ctx, `SELECT `+instalmentColumns+` FROM instalments
			WHERE plan_id = $1 AND schedule_version = $2 AND no = $3`, planID, version, no).Scan(instalmentTargets(&out)...); err != nil {
			return classify(err)
		}
		if out.Status == to {
			return nil
		}
		return stateChanged("instalment is %s, expected %s", out.Status, from)
	})
	if err != nil {
		return Instalment{}, fmt.Errorf("set instalment plan %s v%d #%d status %s -> %s: %w", planID, version, no, from, to, err)
	}
	return out, nil
}
