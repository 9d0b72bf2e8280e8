package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/fenqi/fenqi/calc"
)

// Schedule change reasons (ScheduleChange.Reason), stored as the new
// schedule version's reason.
const (
	ChangeCancel      = "cancel"
	ChangeRestructure = "restructure"
	ChangeHoliday     = "holiday"
	ChangePrepay      = "prepay"
)

// ScheduleChange replaces a plan's schedule because of a confirmed request.
//
// The rows of the current version due before AsOf are past due: what is
// paid on them stays there, and what they still owe must be carried into
// Rows by the caller's calculation. The open rows due on or after AsOf are
// ahead: money allocated to them (paid ahead) is moved onto Rows by
// ApplyScheduleChange, so Rows must be computed as if nothing had been paid
// ahead (PaidAhead tells how much that is).
type ScheduleChange struct {
	// PlanID is the plan; Version the new version: the plan's current + 1.
	PlanID  uuid.UUID
	Version int
	// Reason is cancel, restructure, holiday or prepay (any non-empty
	// text is stored).
	Reason string
	// RequestID is the confirming request id (required).
	RequestID string
	// Params (JSON object) is the quote the customer confirmed.
	Params json.RawMessage
	// AsOf is the plan's business date (a civil date, midnight UTC like
	// Instalment.DueDate).
	AsOf time.Time
	// Rows are the new version's rows: No, DueDate, the amounts and
	// Holiday; PenaltyAccrued may be > 0 on a row (a carried penalty), but
	// not on a holiday row, which owes nothing.
	Rows []Instalment
	// CreditInUse is the plan's credit in use after the change (>= 0; zero
	// is a value, not "unchanged"). The customer's credit line used moves
	// by CreditInUse - the plan's credit in use before (its principal when
	// none was recorded), never below 0; no limit is checked.
	CreditInUse decimal.Decimal
	// Debit is money collected at confirmation, optional.
	Debit *ChangeDebit
	// Actor is the audit actor, e.g. "customer:<id>" or "operator:alice"
	// (default system).
	Actor string
}

// ChangeDebit is a gateway debit already made (Store.Debit with Key) for a
// schedule change. It is recorded as attempt 1 of the new version's first
// row (lowest No) and as an auto_debit payment with payment id Key.
type ChangeDebit struct {
	// Key is the gateway idempotency key, also the payment id.
	Key string
	// AccountID is the account debited and AccountEntryID the gateway's
	// ledger entry (a debit of Amount on AccountID).
	AccountID      uuid.UUID
	AccountEntryID uuid.UUID
	// Amount (> 0) in the plan's currency.
	Amount decimal.Decimal
	// ReceivedAt is when the money was taken.
	ReceivedAt time.Time
}

// ChangeResult is a plan's schedule after a change.
type ChangeResult struct {
	// Rows are the new version's rows after allocation.
	Rows []Instalment
	// Reallocated is the paid-ahead money moved onto the new rows.
	Reallocated decimal.Decimal
	// Unallocated is the paid-ahead and debit money the new rows could not
	// take (to refund); it stays unallocated on its payments.
	Unallocated decimal.Decimal
}

// paidAheadStatuses are the statuses of the rows whose allocations a
// schedule change moves (rows due on or after the change's date, paid in
// full ahead of time included).
var paidAheadStatuses = []string{InstalmentPending, InstalmentDue, InstalmentPartiallyPaid, InstalmentPaid}

// ApplyScheduleChange replaces a plan's schedule with version c.Version in
// one transaction:
//
//  1. the allocations on the open (pending, due, partially paid) rows of
//     the current version due on or after c.AsOf are removed and taken off
//     those rows' paid columns;
//  2. the new version is saved (open rows of older versions become
//     superseded; carried penalties are stored);
//  3. the removed money is applied again, payment by payment in the order
//     received, to the new rows by the default waterfall (oldest row
//     first; penalty, fee, interest, principal; holiday rows never), rows
//     becoming paid (PaidAt = the payment's time) or partially paid;
//  4. c.Debit, if any, is recorded as a succeeded debit attempt and an
//     auto_debit payment, applied the same way to what the new rows still
//     owe;
//  5. the plan's credit in use becomes c.CreditInUse and the customer's
//     credit line moves by the difference;
//  6. "schedule.changed" is appended to the audit log.
//
// Money the new rows cannot take stays unallocated (ChangeResult.
// Unallocated), so the payments always equal their allocations plus what
// is unallocated.
//
// A repeat of a stored change (same version, reason, request id, params,
// rows, as-of date, credit in use and debit) changes nothing and returns
// the stored rows and amounts; a different change under a stored version is
// ErrConflict. Otherwise the plan must be active at version c.Version - 1,
// else ErrStateChanged.
func (s *Store) ApplyScheduleChange(ctx context.Context, c ScheduleChange) (ChangeResult, error) {
	fail := func(err error) (ChangeResult, error) {
		return ChangeResult{}, fmt.Errorf("apply schedule change plan %s v%d request %s: %w", c.PlanID, c.Version, c.RequestID, err)
	}
	if c.RequestID == "" {
		return fail(invalid("request id is required"))
	}
	if c.Version < 2 {
		return fail(invalid("version %d: a change makes version 2 or later", c.Version))
	}
	if c.AsOf.IsZero() {
		return fail(invalid("as-of date is required"))
	}
	if err := money("credit in use", c.CreditInUse, false); err != nil {
		return fail(err)
	}
	if d := c.Debit; d != nil {
		switch {
		case d.Key == "":
			return fail(invalid("debit key is required"))
		case d.AccountID == uuid.Nil || d.AccountEntryID == uuid.Nil:
			return fail(invalid("debit %s needs its account and account entry", d.Key))
		case d.ReceivedAt.IsZero():
			return fail(invalid("debit %s needs the time it was received", d.Key))
		}
		if err := money("debit "+d.Key+" amount", d.Amount, true); err != nil {
			return fail(err)
		}
		d2 := *d
		d2.ReceivedAt = instant(d.ReceivedAt)
		c.Debit = &d2
	}
	sv := ScheduleVersion{PlanID: c.PlanID, Version: c.Version, Reason: c.Reason, RequestID: c.RequestID, Params: c.Params}
	given, total, err := checkSchedule(&sv, c.Rows)
	if err != nil {
		return fail(err)
	}
	for _, r := range given {
		if err := money(fmt.Sprintf("instalment %d penalty", r.No), r.PenaltyAccrued, false); err != nil {
			return fail(err)
		}
		if r.Holiday && (!r.Payment.IsZero() || !r.PenaltyAccrued.IsZero()) {
			return fail(invalid("holiday instalment %d must owe nothing (payment %s, penalty %s)", r.No, r.Payment, r.PenaltyAccrued))
		}
	}
	c.AsOf = civil(c.AsOf)
	actor := orDefault(c.Actor, ActorSystem)

	var out ChangeResult
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		out = ChangeResult{Reallocated: decimal.Zero, Unallocated: decimal.Zero}
		// The plan row lock serialises payments and schedule changes of one
		// plan.
		var (
			state, currency string
			current         int
			customerID      uuid.UUID
			inUse           decimal.NullDecimal
		)
		if err := tx.QueryRow(ctx, `SELECT state, schedule_version, currency, customer_id,
				COALESCE(credit_in_use, principal)
			FROM plans WHERE id = $1 FOR UPDATE`, c.PlanID).Scan(&state, num(&current), &currency, &customerID, &inUse); err != nil {
			return classify(err)
		}
		var stored ScheduleVersion
		err := tx.QueryRow(ctx, `SELECT plan_id, version, reason, request_id, params, created_at FROM schedule_versions
			WHERE plan_id = $1 AND version = $2`, c.PlanID, c.Version).
			Scan(&stored.PlanID, &stored.Version, &stored.Reason, str(&stored.RequestID), &stored.Params, &stored.CreatedAt)
		switch {
		case err == nil:
			return repeatedChange(ctx, tx, c, sv, stored, given, &out)
		case !errors.Is(err, pgx.ErrNoRows):
			return classify(err)
		}
		if state != StateActive {
			return stateChanged("plan is %s, expected active", state)
		}
		if current != c.Version-1 {
			return stateChanged("plan is at schedule version %d, cannot change to version %d", current, c.Version)
		}

		// (a) Take the paid-ahead money off the rows that are ahead.
		freed, err := releasePaidAhead(ctx, tx, c.PlanID, customerID, current, c.AsOf, actor)
		if err != nil {
			return err
		}
		// (b) The new version, with its carried penalties.
		if err := saveScheduleTx(ctx, tx, sv, given, total); err != nil {
			return err
		}
		for _, r := range given {
			if !r.PenaltyAccrued.IsPositive() {
				continue
			}
			if _, err := tx.Exec(ctx, `UPDATE instalments SET penalty_accrued = $4, updated_at = now()
				WHERE plan_id = $1 AND schedule_version = $2 AND no = $3`, c.PlanID, c.Version, r.No, r.PenaltyAccrued); err != nil {
				return fmt.Errorf("instalment v%d #%d penalty: %w", c.Version, r.No, classify(err))
			}
		}
		// (c) The paid-ahead money again, on the new rows.
		open := openInstalments(given)
		freedTotal := decimal.Zero
		for _, f := range freed {
			var took decimal.Decimal
			if took, open, _, err = allocateTx(ctx, tx, c.PlanID, c.Version, f.paymentRowID, f.receivedAt, f.amount, open); err != nil {
				return fmt.Errorf("reallocate payment %s: %w", f.paymentID, err)
			}
			out.Reallocated = out.Reallocated.Add(took)
			freedTotal = freedTotal.Add(f.amount)
		}
		out.Unallocated = freedTotal.Sub(out.Reallocated)
		// (d) The money collected at confirmation.
		if c.Debit != nil {
			left, err := recordChangeDebit(ctx, tx, c, given, currency, customerID, open)
			if err != nil {
				return err
			}
			out.Unallocated = out.Unallocated.Add(left)
		}
		// (e) The credit line.
		delta := c.CreditInUse.Sub(inUse.Decimal)
		if _, err := tx.Exec(ctx, `UPDATE plans SET credit_in_use = $2, updated_at = now() WHERE id = $1`,
			c.PlanID, c.CreditInUse); err != nil {
			return classify(err)
		}
		if _, err := tx.Exec(ctx, `UPDATE credit_lines SET used = GREATEST(used + $2, 0), updated_at = now()
			WHERE customer_id = $1`, customerID, delta); err != nil {
			return classify(err)
		}
		// (f) The audit record, which also answers a repeat.
		rec := changeRecord{Version: c.Version, Reason: c.Reason, RequestID: c.RequestID, AsOf: c.AsOf,
			Freed: freedTotal, Reallocated: out.Reallocated, Unallocated: out.Unallocated,
			CreditInUse: c.CreditInUse, CreditBefore: inUse.Decimal, CreditDelta: delta}
		if c.Debit != nil {
			rec.DebitKey, rec.DebitAmount = c.Debit.Key, c.Debit.Amount
		}
		details, err := rec.details()
		if err != nil {
			return err
		}
		if err := audit(ctx, tx, c.PlanID, customerID, actor, "schedule.changed", details); err != nil {
			return err
		}
		out.Rows, err = queryInstalments(ctx, tx, c.PlanID, c.Version)
		return err
	})
	if err != nil {
		return fail(err)
	}
	return out, nil
}

// changeRecord is the "schedule.changed" audit entry's details.
type changeRecord struct {
	Version      int             `json:"version"`
	Reason       string          `json:"reason"`
	RequestID    string          `json:"request_id"`
	AsOf         time.Time       `json:"as_of"`
	Freed        decimal.Decimal `json:"paid_ahead"`
	Reallocated  decimal.Decimal `json:"reallocated"`
	Unallocated  decimal.Decimal `json:"unallocated"`
	DebitKey     string          `json:"debit_key"`
	DebitAmount  decimal.Decimal `json:"debit_amount"`
	CreditInUse  decimal.Decimal `json:"credit_in_use"`
	CreditBefore decimal.Decimal `json:"credit_before"`
	CreditDelta  decimal.Decimal `json:"credit_delta"`
}

func (r changeRecord) details() (map[string]any, error) {
	raw, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("audit schedule.changed: %w", err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("audit schedule.changed: %w", err)
	}
	return m, nil
}

// repeatedChange answers a change whose version is stored: it must be the
// same change (else ErrConflict), and out gets the stored rows and amounts.
func repeatedChange(ctx context.Context, tx pgx.Tx, c ScheduleChange, sv, stored ScheduleVersion, given []Instalment, out *ChangeResult) error {
	have, err := queryInstalments(ctx, tx, c.PlanID, c.Version)
	if err != nil {
		return err
	}
	d := scheduleDiff(stored, have, sv, given)
	byNo := map[int]Instalment{}
	for _, r := range have {
		byNo[r.No] = r
	}
	for _, g := range given {
		if r, ok := byNo[g.No]; ok {
			d.dec(fmt.Sprintf("instalment %d penalty", g.No), r.PenaltyAccrued, g.PenaltyAccrued)
		}
	}
	var raw []byte
	if err := flushAudit(ctx, tx); err != nil {
		return err
	}
	err = tx.QueryRow(ctx, `SELECT details FROM audit_log WHERE plan_id = $1 AND action = 'schedule.changed'
		AND details->>'version' = $2 ORDER BY id DESC LIMIT 1`, c.PlanID, strconv.Itoa(c.Version)).Scan(&raw)
	if errors.Is(err, pgx.ErrNoRows) {
		d = append(d, fmt.Sprintf("version %d was saved without a schedule change", c.Version))
		return d.err()
	}
	if err != nil {
		return err
	}
	var rec changeRecord
	if err := json.Unmarshal(raw, &rec); err != nil {
		return fmt.Errorf("read schedule.changed of v%d: %w", c.Version, err)
	}
	d.time("as of", rec.AsOf, c.AsOf)
	d.dec("credit in use", rec.CreditInUse, c.CreditInUse)
	switch {
	case c.Debit == nil && rec.DebitKey != "":
		d = append(d, fmt.Sprintf("no debit (stored debit %s)", rec.DebitKey))
	case c.Debit != nil && rec.DebitKey != c.Debit.Key:
		d.str("debit key", rec.DebitKey, c.Debit.Key)
	case c.Debit != nil:
		var a DebitAttempt
		if err := tx.QueryRow(ctx, `SELECT `+debitAttemptColumns+` FROM debit_attempts WHERE idempotency_key = $1`,
			c.Debit.Key).Scan(debitAttemptTargets(&a)...); err != nil {
			return fmt.Errorf("debit %s: %w", c.Debit.Key, classify(err))
		}
		d.id("debit account", a.AccountID, c.Debit.AccountID)
		d.id("debit account entry", a.AccountEntryID, c.Debit.AccountEntryID)
		d.dec("debit amount", a.Amount, c.Debit.Amount)
		var receivedAt time.Time
		if err := tx.QueryRow(ctx, `SELECT received_at FROM payments WHERE plan_id = $1 AND payment_id = $2`,
			c.PlanID, c.Debit.Key).Scan(&receivedAt); err != nil {
			return fmt.Errorf("debit payment %s: %w", c.Debit.Key, classify(err))
		}
		d.time("debit received at", receivedAt, c.Debit.ReceivedAt)
	}
	if err := d.err(); err != nil {
		return err
	}
	out.Rows, out.Reallocated, out.Unallocated = have, rec.Reallocated, rec.Unallocated
	return nil
}

// freedPayment is the paid-ahead money of one payment taken off the rows
// that are ahead.
type freedPayment struct {
	paymentRowID uuid.UUID
	paymentID    string
	receivedAt   time.Time
	amount       decimal.Decimal
}

// paidAheadAllocation is an allocation on a row that is ahead.
type paidAheadAllocation struct {
	id           uuid.UUID
	paymentRowID uuid.UUID
	paymentID    string
	receivedAt   time.Time
	no           int
	component    string
	amount       decimal.Decimal
}

// queryPaidAhead returns the allocations on the open rows of a version due
// on or after asOf, in the order their payments were received.
func queryPaidAhead(ctx context.Context, q querier, planID uuid.UUID, version int, asOf time.Time, lock bool) ([]paidAheadAllocation, error) {
	sql := `SELECT a.id, a.payment_id, p.payment_id, p.received_at, a.instalment_no, a.component, a.amount
		FROM payment_allocations a
		JOIN instalments i ON i.plan_id = a.plan_id AND i.schedule_version = a.schedule_version AND i.no = a.instalment_no
		JOIN payments p ON p.id = a.payment_id
		WHERE a.plan_id = $1 AND a.schedule_version = $2 AND i.due_date >= $3 AND i.status = ANY($4)
		ORDER BY p.received_at, p.created_at, p.id, a.instalment_no, a.component`
	if lock {
		sql += ` FOR UPDATE OF a, i`
	}
	rows, err := q.Query(ctx, sql, planID, version, civil(asOf), paidAheadStatuses)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (paidAheadAllocation, error) {
		var a paidAheadAllocation
		err := r.Scan(&a.id, &a.paymentRowID, &a.paymentID, &a.receivedAt, &a.no, &a.component, &a.amount)
		return a, err
	})
}

// releasePaidAhead removes the allocations on the open rows of version
// due on or after asOf, takes them off those rows' paid columns and returns
// the money freed per payment, in the order the payments were received.
func releasePaidAhead(ctx context.Context, tx pgx.Tx, planID, customerID uuid.UUID, version int, asOf time.Time, actor string) ([]freedPayment, error) {
	allocs, err := queryPaidAhead(ctx, tx, planID, version, asOf, true)
	if err != nil {
		return nil, fmt.Errorf("paid ahead on v%d from %s: %w", version, asOf.Format(time.DateOnly), err)
	}
	if len(allocs) == 0 {
		return nil, nil
	}
	var (
		freed []freedPayment
		ids   []uuid.UUID
		parts []map[string]any
	)
	type delta struct{ penalty, fee, interest, principal decimal.Decimal }
	rows := map[int]*delta{}
	var order []int
	for _, a := range allocs {
		if n := len(freed); n == 0 || freed[n-1].paymentRowID != a.paymentRowID {
			freed = append(freed, freedPayment{paymentRowID: a.paymentRowID, paymentID: a.paymentID,
				receivedAt: a.receivedAt, amount: decimal.Zero})
		}
		freed[len(freed)-1].amount = freed[len(freed)-1].amount.Add(a.amount)
		ids = append(ids, a.id)
		d := rows[a.no]
		if d == nil {
			d = &delta{decimal.Zero, decimal.Zero, decimal.Zero, decimal.Zero}
			rows[a.no] = d
			order = append(order, a.no)
		}
		switch a.component {
		case ComponentPenalty:
			d.penalty = d.penalty.Add(a.amount)
		case ComponentFee:
			d.fee = d.fee.Add(a.amount)
		case ComponentInterest:
			d.interest = d.interest.Add(a.amount)
		case ComponentPrincipal:
			d.principal = d.principal.Add(a.amount)
		}
		parts = append(parts, map[string]any{"payment_id": a.paymentID, "version": version, "no": a.no,
			"component": a.component, "amount": a.amount})
	}
	if _, err := tx.Exec(ctx, `DELETE FROM payment_allocations WHERE id = ANY($1)`, ids); err != nil {
		return nil, classify(err)
	}
	slices.Sort(order)
	for _, no := range order {
		d := rows[no]
		// A row paid ahead in full is open again (then superseded).
		if _, err := tx.Exec(ctx, `UPDATE instalments SET paid_penalty = paid_penalty - $4, paid_fee = paid_fee - $5,
				paid_interest = paid_interest - $6, paid_principal = paid_principal - $7, updated_at = now(),
				status = CASE WHEN status = 'paid' THEN 'partially_paid' ELSE status END,
				paid_at = CASE WHEN status = 'paid' THEN NULL ELSE paid_at END
			WHERE plan_id = $1 AND schedule_version = $2 AND no = $3`,
			planID, version, no, d.penalty, d.fee, d.interest, d.principal); err != nil {
			return nil, fmt.Errorf("instalment v%d #%d: %w", version, no, classify(err))
		}
	}
	total := decimal.Zero
	for _, f := range freed {
		total = total.Add(f.amount)
	}
	if err := audit(ctx, tx, planID, customerID, actor, "allocations.released", map[string]any{
		"version": version, "as_of": asOf.Format(time.DateOnly), "total": total, "allocations": parts}); err != nil {
		return nil, err
	}
	return freed, nil
}

// openInstalments returns the rows of a new schedule version as open
// instalments owing their penalty, fee, interest and principal (holiday
// rows and rows owing nothing left out).
func openInstalments(rows []Instalment) []calc.OpenInstalment {
	var open []calc.OpenInstalment
	for _, r := range rows {
		if r.Holiday {
			continue
		}
		owed := calc.Amounts{Penalty: r.PenaltyAccrued, Fee: r.Fee, Interest: r.Interest, Principal: r.Principal}
		if owed.Total().IsPositive() {
			open = append(open, calc.OpenInstalment{No: r.No, DueDate: calc.DateOf(r.DueDate), Owed: owed})
		}
	}
	return open
}

// allocateTx applies amount of the payment (row id paymentRowID, received
// at receivedAt) to the open instalments of version by the default
// waterfall: it writes the allocations and adds them to the rows' paid
// columns, a row becoming paid (PaidAt = receivedAt) when settled, else
// partially paid. It returns the amount applied, the instalments still
// open afterwards and the allocations.
func allocateTx(ctx context.Context, tx pgx.Tx, planID uuid.UUID, version int, paymentRowID uuid.UUID, receivedAt time.Time,
	amount decimal.Decimal, open []calc.OpenInstalment) (decimal.Decimal, []calc.OpenInstalment, []Allocation, error) {
	res, err := calc.DefaultWaterfall().Allocate(amount, open)
	if err != nil {
		return decimal.Zero, nil, nil, invalid("%v", err)
	}
	var (
		next   []calc.OpenInstalment
		allocs []Allocation
	)
	batch := &pgx.Batch{}
	for _, ia := range res.Instalments {
		if ia.Remaining.Total().IsPositive() {
			next = append(next, calc.OpenInstalment{No: ia.No, DueDate: ia.DueDate, Owed: ia.Remaining})
		}
		if !ia.Allocated.Total().IsPositive() {
			continue
		}
		a := ia.Allocated
		batch.Queue(payInstalmentSQL,
			planID, version, ia.No, a.Penalty, a.Fee, a.Interest, a.Principal, receivedAt)
		for _, c := range calc.Components {
			v := a.Get(c)
			if !v.IsPositive() {
				continue
			}
			allocs = append(allocs, Allocation{ScheduleVersion: version, InstalmentNo: ia.No, Component: string(c), Amount: v})
			batch.Queue(`INSERT INTO payment_allocations (payment_id, plan_id, schedule_version, instalment_no, component, amount)
				VALUES ($1, $2, $3, $4, $5, $6)`, paymentRowID, planID, version, ia.No, string(c), v)
		}
	}
	if batch.Len() > 0 {
		if err := tx.SendBatch(ctx, batch).Close(); err != nil {
			return decimal.Zero, nil, nil, classify(err)
		}
	}
	return res.Allocated, next, allocs, nil
}

// recordChangeDebit records the debit of a change as a succeeded attempt
// of the new version's first row and an auto_debit payment, applied to the
// open rows; it returns the part of the debit no row could take.
func recordChangeDebit(ctx context.Context, tx pgx.Tx, c ScheduleChange, given []Instalment, currency string,
	customerID uuid.UUID, open []calc.OpenInstalment) (decimal.Decimal, error) {
	d := c.Debit
	fail := func(err error) (decimal.Decimal, error) {
		return decimal.Zero, fmt.Errorf("debit %s: %w", d.Key, err)
	}
	var (
		entryAccount uuid.UUID
		kind         string
		amount       decimal.Decimal
	)
	if err := tx.QueryRow(ctx, `SELECT account_id, kind, amount FROM account_entries WHERE id = $1`, d.AccountEntryID).
		Scan(&entryAccount, &kind, &amount); err != nil {
		return fail(fmt.Errorf("account entry %s: %w", d.AccountEntryID, classify(err)))
	}
	if entryAccount != d.AccountID || kind != EntryDebit || !amount.Equal(d.Amount) {
		return fail(invalid("account entry %s is a %s of %s on account %s, not a debit of %s on account %s",
			d.AccountEntryID, kind, amount, entryAccount, d.Amount, d.AccountID))
	}
	first := given[0].No
	for _, r := range given[1:] {
		first = min(first, r.No)
	}
	var attemptID uuid.UUID
	if err := tx.QueryRow(ctx, `INSERT INTO debit_attempts (plan_id, schedule_version, instalment_no, attempt,
			idempotency_key, account_id, amount, currency, outcome, account_entry_id)
		VALUES ($1, $2, $3, 1, $4, $5, $6, $7, 'succeeded', $8)
		RETURNING id`, c.PlanID, c.Version, first, d.Key, d.AccountID, d.Amount, currency, d.AccountEntryID).
		Scan(&attemptID); err != nil {
		return fail(fmt.Errorf("debit attempt: %w", classify(err)))
	}
	if err := audit(ctx, tx, c.PlanID, customerID, ActorSystem, "debit.attempt", map[string]any{
		"version": c.Version, "no": first, "attempt": 1, "key": d.Key, "amount": d.Amount, "outcome": DebitSucceeded,
		"entry_id": d.AccountEntryID, "request_id": c.RequestID}); err != nil {
		return decimal.Zero, err
	}
	details, err := json.Marshal(map[string]any{"reason": c.Reason, "request_id": c.RequestID})
	if err != nil {
		return fail(err)
	}
	var paymentRowID uuid.UUID
	if err := tx.QueryRow(ctx, `INSERT INTO payments (plan_id, payment_id, source, debit_attempt_id, amount, currency,
			received_at, details)
		VALUES ($1, $2, 'auto_debit', $3, $4, $5, $6, $7)
		RETURNING id`, c.PlanID, d.Key, attemptID, d.Amount, currency, d.ReceivedAt, details).Scan(&paymentRowID); err != nil {
		return fail(fmt.Errorf("payment: %w", classify(err)))
	}
	took, _, allocs, err := allocateTx(ctx, tx, c.PlanID, c.Version, paymentRowID, d.ReceivedAt, d.Amount, open)
	if err != nil {
		return fail(err)
	}
	left := d.Amount.Sub(took)
	if err := audit(ctx, tx, c.PlanID, customerID, ActorSystem, "payment.recorded", map[string]any{
		"payment_id": d.Key, "source": SourceAutoDebit, "amount": d.Amount, "currency": currency,
		"allocations": len(allocs), "unallocated": left}); err != nil {
		return decimal.Zero, err
	}
	return left, nil
}

// PaidAhead returns the money allocated to the open (pending, due,
// partially paid) instalments of a plan's current schedule due on or after
// asOf: what ApplyScheduleChange with that AsOf would move onto the new
// rows. A quote computes the new rows as if it had not been paid.
func (s *Store) PaidAhead(ctx context.Context, planID uuid.UUID, asOf time.Time) (decimal.Decimal, error) {
	fail := func(err error) (decimal.Decimal, error) {
		return decimal.Zero, fmt.Errorf("paid ahead plan %s as of %s: %w", planID, asOf.Format(time.DateOnly), err)
	}
	var version int
	if err := s.db().QueryRow(ctx, `SELECT schedule_version FROM plans WHERE id = $1`, planID).Scan(num(&version)); err != nil {
		return fail(classify(err))
	}
	allocs, err := queryPaidAhead(ctx, s.db(), planID, version, asOf, false)
	if err != nil {
		return fail(err)
	}
	total := decimal.Zero
	for _, a := range allocs {
		total = total.Add(a.amount)
	}
	return total, nil
}

// CreditInUse returns a plan's share of its customer's credit line in use:
// the amount recorded at activation or by the last schedule change, else
// (plans activated before it was recorded) its principal; zero for a plan
// without terms or once closed.
func (s *Store) CreditInUse(ctx context.Context, planID uuid.UUID) (decimal.Decimal, error) {
	var v decimal.NullDecimal
	if err := s.db().QueryRow(ctx, `SELECT COALESCE(credit_in_use, principal) FROM plans WHERE id = $1`, planID).
		Scan(&v); err != nil {
		return decimal.Zero, fmt.Errorf("credit in use plan %s: %w", planID, classify(err))
	}
	if !v.Valid {
		return decimal.Zero, nil
	}
	return v.Decimal, nil
}
