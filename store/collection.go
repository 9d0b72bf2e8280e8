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
	"github.com/shopspring/decimal"
)

// InstalmentWrittenOff is the status of an instalment that was still open
// when its plan was written off (WriteOff). A payment received later may
// still be allocated to it (a recovery).
const InstalmentWrittenOff = "written_off"

// openStatuses are the statuses of an instalment still to collect.
var openStatuses = []string{InstalmentPending, InstalmentDue, InstalmentPartiallyPaid, InstalmentOverdue}

// lockPlan locks a plan's row and returns its state, customer,
// currency and current schedule version (0 before the first).
func lockPlan(ctx context.Context, tx pgx.Tx, planID uuid.UUID) (state string, customerID uuid.UUID, currency string, version int, err error) {
	err = tx.QueryRow(ctx, `SELECT state, customer_id, currency, schedule_version FROM plans WHERE id = $1 FOR UPDATE`, planID).
		Scan(&state, &customerID, &currency, num(&version))
	return state, customerID, currency, version, classify(err)
}

// ---- penalty accrual ----

// PenaltyTotal is the late charge of one instalment accrued in total (not
// an increment) as of a date, as the calculator computes it.
type PenaltyTotal struct {
	// No is the instalment number (>= 1).
	No int
	// Total is the whole penalty accrued on it (>= 0, 2 places at most).
	Total decimal.Decimal
}

// AccruePenalty records late charges computed when needed: for each total,
// the instalment's PenaltyAccrued becomes Total as of asOf (a civil date),
// all in one transaction under the plan's row lock, and it returns the rows
// of the schedule version (version 0: the plan's current one).
//
// Accruals only ever move forward, so a retry with an older asOf never
// undoes a newer accrual:
//   - a Total lower than the stored penalty is a no-op for that row (not an
//     error);
//   - a Total equal to it only moves the row's accrued-through date forward
//     (see PenaltyAccruedThrough);
//   - a higher Total is stored, with the accrued-through date the later of
//     the stored one and asOf.
//
// A settled instalment (paid, waived, written off) keeps its penalty: its
// total is skipped. A superseded instalment is ErrStateChanged, a missing
// one ErrNotFound, a penalty on a holiday instalment (which owes nothing)
// ErrInvalid. "penalty.accrued" is audited only when a row changed.
func (s *Store) AccruePenalty(ctx context.Context, planID uuid.UUID, version int, asOf time.Time, totals []PenaltyTotal) ([]Instalment, error) {
	fail := func(err error) ([]Instalment, error) {
		return nil, fmt.Errorf("accrue penalty plan %s v%d as of %s: %w", planID, version, asOf.Format(time.DateOnly), err)
	}
	if asOf.IsZero() {
		return fail(invalid("as-of date is required"))
	}
	if version < 0 {
		return fail(invalid("version %d must be >= 1 (or 0 for the current one)", version))
	}
	asOf = civil(asOf)
	given := slices.Clone(totals)
	slices.SortFunc(given, func(a, b PenaltyTotal) int { return a.No - b.No })
	for i, p := range given {
		if p.No < 1 || (i > 0 && given[i-1].No == p.No) {
			return fail(invalid("instalment no %d must be >= 1 and appear once", p.No))
		}
		if err := money(fmt.Sprintf("instalment %d penalty", p.No), p.Total, false); err != nil {
			return fail(err)
		}
	}
	var out []Instalment
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		// The plan row lock serialises accruals with payments, waivers and
		// schedule changes of the plan.
		_, customerID, _, current, err := lockPlan(ctx, tx, planID)
		if err != nil {
			return err
		}
		v := version
		if v == 0 {
			if current == 0 {
				return fmt.Errorf("%w: the plan has no schedule", ErrNotFound)
			}
			v = current
		}
		var changed []map[string]any
		added := decimal.Zero
		for _, p := range given {
			var (
				status  string
				holiday bool
				stored  decimal.Decimal
				through time.Time
			)
			err := tx.QueryRow(ctx, `SELECT status, holiday, penalty_accrued, penalty_accrued_through FROM instalments
				WHERE plan_id = $1 AND schedule_version = $2 AND no = $3 FOR UPDATE`, planID, v, p.No).
				Scan(&status, &holiday, &stored, tim(&through))
			if err != nil {
				return fmt.Errorf("instalment v%d #%d: %w", v, p.No, classify(err))
			}
			switch status {
			case InstalmentSuperseded:
				return stateChanged("instalment v%d #%d is superseded", v, p.No)
			case InstalmentPaid, InstalmentWaived, InstalmentWrittenOff:
				continue
			}
			if holiday && p.Total.IsPositive() {
				return invalid("instalment v%d #%d is a holiday instalment and owes no penalty, got %s", v, p.No, p.Total)
			}
			if p.Total.LessThan(stored) {
				continue
			}
			newThrough := through
			if through.IsZero() || asOf.After(through) {
				newThrough = asOf
			}
			if p.Total.Equal(stored) && newThrough.Equal(through) {
				continue
			}
			if _, err := tx.Exec(ctx, `UPDATE instalments SET penalty_accrued = $4, penalty_accrued_through = $5,
					updated_at = now()
				WHERE plan_id = $1 AND schedule_version = $2 AND no = $3`, planID, v, p.No, p.Total, newThrough); err != nil {
				return fmt.Errorf("instalment v%d #%d: %w", v, p.No, classify(err))
			}
			added = added.Add(p.Total.Sub(stored))
			changed = append(changed, map[string]any{"no": p.No, "from": stored, "to": p.Total,
				"through": newThrough.Format(time.DateOnly)})
		}
		if len(changed) > 0 {
			if err := audit(ctx, tx, planID, customerID, ActorSystem, "penalty.accrued", map[string]any{
				"version": v, "as_of": asOf.Format(time.DateOnly), "added": added, "rows": changed}); err != nil {
				return err
			}
		}
		out, err = queryInstalments(ctx, tx, planID, v)
		return err
	})
	if err != nil {
		return fail(err)
	}
	return out, nil
}

// PenaltyAccruedThrough returns, by instalment number, the date through
// which each row of a schedule version (0: the current one) has its
// penalty accrued by AccruePenalty. Rows never accrued are absent.
func (s *Store) PenaltyAccruedThrough(ctx context.Context, planID uuid.UUID, version int) (map[int]time.Time, error) {
	rows, err := s.db().Query(ctx, `SELECT i.no, i.penalty_accrued_through FROM instalments i JOIN plans p ON p.id = i.plan_id
		WHERE i.plan_id = $1 AND i.schedule_version = CASE WHEN $2 = 0 THEN p.schedule_version ELSE $2 END
			AND i.penalty_accrued_through IS NOT NULL`, planID, version)
	if err != nil {
		return nil, fmt.Errorf("penalty accrued through plan %s v%d: %w", planID, version, err)
	}
	out := map[int]time.Time{}
	var (
		no      int
		through time.Time
	)
	if _, err := pgx.ForEachRow(rows, []any{&no, &through}, func() error {
		out[no] = through
		return nil
	}); err != nil {
		return nil, fmt.Errorf("penalty accrued through plan %s v%d: %w", planID, version, err)
	}
	return out, nil
}

// ---- promises to pay ----

// Promise statuses, as stored in promises.status.
const (
	PromiseOpen      = "open"
	PromiseKept      = "kept"
	PromiseBroken    = "broken"
	PromiseCancelled = "cancelled"
)

// Promise is the debtor's promise to pay Amount by PromisedDate. While one
// is open, collection contact pauses; the collection process resolves it.
type Promise struct {
	// ID is assigned by the database.
	ID uuid.UUID
	// PlanID and RequestID (the request that made the promise) are the key.
	PlanID    uuid.UUID
	RequestID string
	// PromisedDate is a civil date (midnight UTC); Amount is > 0 in
	// Currency (default: the plan's, which it must be).
	PromisedDate time.Time
	Amount       decimal.Decimal
	Currency     string
	// MadeAt is when the debtor promised (required).
	MadeAt time.Time
	// Status is open, kept, broken or cancelled; ResolvedAt is set when it
	// is no longer open.
	Status     string
	ResolvedAt time.Time
	// CreatedAt is set by the database.
	CreatedAt time.Time
}

const promiseColumns = `id, plan_id, request_id, promised_date, amount, currency, made_at, status, resolved_at, created_at`

func promiseTargets(p *Promise) []any {
	return []any{&p.ID, &p.PlanID, &p.RequestID, &p.PromisedDate, &p.Amount, &p.Currency, &p.MadeAt, &p.Status,
		tim(&p.ResolvedAt), &p.CreatedAt}
}

// RecordPromise stores an open promise keyed by (PlanID, RequestID) on an
// active plan (else ErrStateChanged). A repeat with the same date, amount,
// currency and time returns the stored promise, whatever its status now,
// even once the plan is no longer active; other content under the key is
// ErrConflict. Earlier open promises of the plan are left as they are:
// resolve them (ResolvePromise) when a new one replaces them.
func (s *Store) RecordPromise(ctx context.Context, p Promise) (Promise, error) {
	fail := func(err error) (Promise, error) {
		return Promise{}, fmt.Errorf("record promise plan %s request %s: %w", p.PlanID, p.RequestID, err)
	}
	switch {
	case p.RequestID == "":
		return fail(invalid("request id is required"))
	case p.PromisedDate.IsZero():
		return fail(invalid("promised date is required"))
	case p.MadeAt.IsZero():
		return fail(invalid("made at is required"))
	}
	if err := money("amount", p.Amount, true); err != nil {
		return fail(err)
	}
	p.PromisedDate, p.MadeAt = civil(p.PromisedDate), instant(p.MadeAt)
	var out Promise
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		state, customerID, currency, _, err := lockPlan(ctx, tx, p.PlanID)
		if err != nil {
			return err
		}
		given := orDefault(p.Currency, currency)
		err = tx.QueryRow(ctx, `SELECT `+promiseColumns+` FROM promises WHERE plan_id = $1 AND request_id = $2`,
			p.PlanID, p.RequestID).Scan(promiseTargets(&out)...)
		if err == nil {
			var d diff
			d.time("promised date", out.PromisedDate, p.PromisedDate)
			d.dec("amount", out.Amount, p.Amount)
			d.str("currency", out.Currency, given)
			d.time("made at", out.MadeAt, p.MadeAt)
			return d.err()
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return classify(err)
		}
		if state != StateActive {
			return stateChanged("plan is %s, expected active", state)
		}
		if given != currency {
			return invalid("promise currency %s differs from the plan's %s", given, currency)
		}
		if err := tx.QueryRow(ctx, `INSERT INTO promises (plan_id, request_id, promised_date, amount, currency, made_at)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING `+promiseColumns,
			p.PlanID, p.RequestID, p.PromisedDate, p.Amount, currency, p.MadeAt).Scan(promiseTargets(&out)...); err != nil {
			return classify(err)
		}
		return audit(ctx, tx, p.PlanID, customerID, ActorSystem, "promise.recorded", map[string]any{
			"request_id": p.RequestID, "promised_date": p.PromisedDate.Format(time.DateOnly), "amount": p.Amount,
			"currency": currency})
	})
	if err != nil {
		return fail(err)
	}
	return out, nil
}

// ResolvePromise closes an open promise as kept, broken or cancelled (any
// other status is ErrInvalid), stamping ResolvedAt, and audits
// "promise.<status>". Resolving it again with the same status is a no-op
// returning the stored promise; with a different one it is ErrConflict. An
// unknown promise is ErrNotFound.
func (s *Store) ResolvePromise(ctx context.Context, planID uuid.UUID, requestID, status string) (Promise, error) {
	fail := func(err error) (Promise, error) {
		return Promise{}, fmt.Errorf("resolve promise plan %s request %s as %s: %w", planID, requestID, status, err)
	}
	if status != PromiseKept && status != PromiseBroken && status != PromiseCancelled {
		return fail(invalid("status must be kept, broken or cancelled, got %q", status))
	}
	var out Promise
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT `+promiseColumns+` FROM promises WHERE plan_id = $1 AND request_id = $2 FOR UPDATE`,
			planID, requestID).Scan(promiseTargets(&out)...); err != nil {
			return classify(err)
		}
		if out.Status != PromiseOpen {
			var d diff
			d.str("status", out.Status, status)
			return d.err()
		}
		if err := tx.QueryRow(ctx, `UPDATE promises SET status = $3, resolved_at = now()
			WHERE plan_id = $1 AND request_id = $2 RETURNING `+promiseColumns, planID, requestID, status).
			Scan(promiseTargets(&out)...); err != nil {
			return classify(err)
		}
		return audit(ctx, tx, planID, uuid.Nil, ActorSystem, "promise."+status, map[string]any{
			"request_id": requestID, "promised_date": out.PromisedDate.Format(time.DateOnly), "amount": out.Amount})
	})
	if err != nil {
		return fail(err)
	}
	return out, nil
}

// Promises returns the promises of a plan, oldest first.
func (s *Store) Promises(ctx context.Context, planID uuid.UUID) ([]Promise, error) {
	rows, err := s.db().Query(ctx, `SELECT `+promiseColumns+` FROM promises WHERE plan_id = $1 ORDER BY made_at, created_at, id`,
		planID)
	if err != nil {
		return nil, fmt.Errorf("promises plan %s: %w", planID, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Promise, error) {
		var p Promise
		err := r.Scan(promiseTargets(&p)...)
		return p, err
	})
	if err != nil {
		return nil, fmt.Errorf("promises plan %s: %w", planID, err)
	}
	return out, nil
}

// ---- collection actions ----

// Collection action kinds, as stored in collection_actions.kind.
const (
	ActionMessage          = "message"
	ActionCallTask         = "call_task"
	ActionNotice           = "notice"
	ActionDemandLetter     = "demand_letter"
	ActionRestructureOffer = "restructure_offer"
	ActionLegalReferral    = "legal_referral"
	ActionWriteOff         = "write_off"
)

// Owed is exactly what the debtor owes at a collection step, by component,
// and the date to pay it by.
type Owed struct {
	// Principal, Interest, Fee and Penalty are >= 0 with at most 2 places;
	// Total is their sum.
	Principal, Interest, Fee, Penalty, Total decimal.Decimal
	// PayBy is a civil date (midnight UTC), required.
	PayBy time.Time
}

// owedJSON is the stored form of Owed (collection_actions.owed): amounts
// as JSON numbers with 2 places, pay_by as YYYY-MM-DD.
type owedJSON struct {
	Principal json.Number `json:"principal"`
	Interest  json.Number `json:"interest"`
	Fee       json.Number `json:"fee"`
	Penalty   json.Number `json:"penalty"`
	Total     json.Number `json:"total"`
	PayBy     string      `json:"pay_by"`
}

func (o Owed) check() error {
	for _, m := range []struct {
		name string
		d    decimal.Decimal
	}{{"principal", o.Principal}, {"interest", o.Interest}, {"fee", o.Fee}, {"penalty", o.Penalty}, {"total", o.Total}} {
		if err := money("owed "+m.name, m.d, false); err != nil {
			return err
		}
	}
	if sum := o.Principal.Add(o.Interest).Add(o.Fee).Add(o.Penalty); !sum.Equal(o.Total) {
		return invalid("owed total %s is not principal + interest + fee + penalty = %s", o.Total, sum)
	}
	if o.PayBy.IsZero() {
		return invalid("owed pay-by date is required")
	}
	return nil
}

func (o Owed) marshal() ([]byte, error) {
	n := func(d decimal.Decimal) json.Number { return json.Number(d.StringFixed(2)) }
	return json.Marshal(owedJSON{Principal: n(o.Principal), Interest: n(o.Interest), Fee: n(o.Fee), Penalty: n(o.Penalty),
		Total: n(o.Total), PayBy: civil(o.PayBy).Format(time.DateOnly)})
}

func unmarshalOwed(raw []byte) (Owed, error) {
	var j owedJSON
	if err := json.Unmarshal(raw, &j); err != nil {
		return Owed{}, fmt.Errorf("owed %s: %w", raw, err)
	}
	var o Owed
	for _, f := range []struct {
		p *decimal.Decimal
		n json.Number
	}{{&o.Principal, j.Principal}, {&o.Interest, j.Interest}, {&o.Fee, j.Fee}, {&o.Penalty, j.Penalty}, {&o.Total, j.Total}} {
		d, err := decimal.NewFromString(f.n.String())
		if err != nil {
			return Owed{}, fmt.Errorf("owed %s: %w", raw, err)
		}
		*f.p = d
	}
	payBy, err := time.Parse(time.DateOnly, j.PayBy)
	if err != nil {
		return Owed{}, fmt.Errorf("owed %s: %w", raw, err)
	}
	o.PayBy = payBy
	return o, nil
}

// CollectionAction is one step of the collection ladder as planned, kept
// for compliance (the table is append-only). Messages are also recorded as
// contacts (QueueContact) and agent calls as tasks (CreateTask); their keys
// may be put in Details.
type CollectionAction struct {
	// ID is assigned by the database; ActionKey is the business key that
	// makes recording idempotent (e.g. "collection:<plan>:M2:2025-03-15:call").
	ID        uuid.UUID
	PlanID    uuid.UUID
	ActionKey string
	// Stage is the days-past-due bucket M1..M7.
	Stage string
	// Kind is one of the Action* constants.
	Kind string
	// Channel is sms, email, push, phone or letter; required for message,
	// call_task (phone), notice and demand_letter, optional otherwise
	// ("" for none).
	Channel string
	// Owed states exactly what is owed and by when.
	Owed Owed
	// PlannedFor is when the step is (or was) to happen.
	PlannedFor time.Time
	// Details (JSON object): contact key, task key, template ...
	Details json.RawMessage
	// CreatedAt is set by the database.
	CreatedAt time.Time
}

const collectionActionColumns = `id, plan_id, action_key, stage, kind, channel, owed, planned_for, details, created_at`

// scanCollectionAction reads a row of collectionActionColumns.
func scanCollectionAction(row pgx.Row) (CollectionAction, error) {
	var (
		a    CollectionAction
		owed []byte
	)
	if err := row.Scan(&a.ID, &a.PlanID, &a.ActionKey, &a.Stage, &a.Kind, str(&a.Channel), &owed, &a.PlannedFor, &a.Details,
		&a.CreatedAt); err != nil {
		return CollectionAction{}, err
	}
	o, err := unmarshalOwed(owed)
	if err != nil {
		return CollectionAction{}, err
	}
	a.Owed = o
	return a, nil
}

// RecordCollectionAction stores a collection step keyed by ActionKey. A
// repeat with the same plan, stage, kind, channel, amounts owed, pay-by
// date, planned time and details returns the stored action; anything else
// under the key is ErrConflict. A bad stage, kind or channel, or amounts
// whose total is not their sum, is ErrInvalid.
func (s *Store) RecordCollectionAction(ctx context.Context, a CollectionAction) (CollectionAction, error) {
	fail := func(err error) (CollectionAction, error) {
		return CollectionAction{}, fmt.Errorf("record collection action %s: %w", a.ActionKey, err)
	}
	switch {
	case a.ActionKey == "":
		return fail(invalid("action key is required"))
	case a.PlannedFor.IsZero():
		return fail(invalid("planned for is required"))
	}
	if err := a.Owed.check(); err != nil {
		return fail(err)
	}
	owed, err := a.Owed.marshal()
	if err != nil {
		return fail(err)
	}
	details, err := object("details", a.Details)
	if err != nil {
		return fail(err)
	}
	a.Details, a.PlannedFor, a.Owed.PayBy = details, instant(a.PlannedFor), civil(a.Owed.PayBy)
	var out CollectionAction
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		out, err = scanCollectionAction(tx.QueryRow(ctx, `INSERT INTO collection_actions (plan_id, action_key, stage, kind,
				channel, owed, planned_for, details)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
			ON CONFLICT (action_key) DO NOTHING
			RETURNING `+collectionActionColumns,
			a.PlanID, a.ActionKey, a.Stage, a.Kind, nullString(a.Channel), owed, a.PlannedFor, []byte(a.Details)))
		if err == nil {
			return audit(ctx, tx, a.PlanID, uuid.Nil, ActorSystem, "collection.action", map[string]any{
				"action_key": a.ActionKey, "stage": a.Stage, "kind": a.Kind, "channel": a.Channel,
				"total": a.Owed.Total, "pay_by": a.Owed.PayBy.Format(time.DateOnly), "planned_for": a.PlannedFor})
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return classify(err)
		}
		if out, err = scanCollectionAction(tx.QueryRow(ctx, `SELECT `+collectionActionColumns+` FROM collection_actions
			WHERE action_key = $1`, a.ActionKey)); err != nil {
			return classify(err)
		}
		var d diff
		d.id("plan", out.PlanID, a.PlanID)
		d.str("stage", out.Stage, a.Stage)
		d.str("kind", out.Kind, a.Kind)
		d.str("channel", out.Channel, a.Channel)
		d.dec("owed principal", out.Owed.Principal, a.Owed.Principal)
		d.dec("owed interest", out.Owed.Interest, a.Owed.Interest)
		d.dec("owed fee", out.Owed.Fee, a.Owed.Fee)
		d.dec("owed penalty", out.Owed.Penalty, a.Owed.Penalty)
		d.time("owed pay by", out.Owed.PayBy, a.Owed.PayBy)
		d.time("planned for", out.PlannedFor, a.PlannedFor)
		d.json("details", out.Details, a.Details)
		return d.err()
	})
	if err != nil {
		return fail(err)
	}
	return out, nil
}

// CollectionActions returns the collection steps of a plan, oldest first
// (by planned time).
func (s *Store) CollectionActions(ctx context.Context, planID uuid.UUID) ([]CollectionAction, error) {
	rows, err := s.db().Query(ctx, `SELECT `+collectionActionColumns+` FROM collection_actions WHERE plan_id = $1
		ORDER BY planned_for, created_at, id`, planID)
	if err != nil {
		return nil, fmt.Errorf("collection actions plan %s: %w", planID, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (CollectionAction, error) {
		return scanCollectionAction(r)
	})
	if err != nil {
		return nil, fmt.Errorf("collection actions plan %s: %w", planID, err)
	}
	return out, nil
}

// ---- operator decisions: legal referral, grace extension ----

// Legal referral decisions, as stored in referral_decisions.decision.
const (
	ReferralRefer     = "refer"
	ReferralHold      = "hold"
	ReferralNegotiate = "negotiate"
)

// ReferralDecision is an operator's decision on a plan waiting for legal
// referral.
type ReferralDecision struct {
	// ID is assigned by the database; PlanID and RequestID are the key.
	ID        uuid.UUID
	PlanID    uuid.UUID
	RequestID string
	// Decision is refer, hold or negotiate; Operator who decided and
	// Reason why.
	Decision, Operator, Reason string
	// CreatedAt is set by the database.
	CreatedAt time.Time
}

const referralColumns = `id, plan_id, request_id, decision, operator, reason, created_at`

func referralTargets(r *ReferralDecision) []any {
	return []any{&r.ID, &r.PlanID, &r.RequestID, &r.Decision, &r.Operator, &r.Reason, &r.CreatedAt}
}

// DecideReferral records an operator's legal-referral decision (refer, hold
// or negotiate; operator and reason required) keyed by (planID, requestID)
// on an active plan (else ErrStateChanged), audited as "referral.decided"
// by operator:<operator>. A repeat with the same decision, operator and
// reason returns the stored one; other content is ErrConflict. The latest
// decision is in force (ReferralDecisions).
func (s *Store) DecideReferral(ctx context.Context, planID uuid.UUID, requestID, decision, operator, reason string) (ReferralDecision, error) {
	fail := func(err error) (ReferralDecision, error) {
		return ReferralDecision{}, fmt.Errorf("decide referral plan %s request %s (%s): %w", planID, requestID, decision, err)
	}
	switch {
	case requestID == "":
		return fail(invalid("request id is required"))
	case decision != ReferralRefer && decision != ReferralHold && decision != ReferralNegotiate:
		return fail(invalid("decision must be refer, hold or negotiate, got %q", decision))
	case operator == "" || reason == "":
		return fail(invalid("operator and reason are required"))
	}
	var out ReferralDecision
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		state, customerID, _, _, err := lockPlan(ctx, tx, planID)
		if err != nil {
			return err
		}
		err = tx.QueryRow(ctx, `SELECT `+referralColumns+` FROM referral_decisions WHERE plan_id = $1 AND request_id = $2`,
			planID, requestID).Scan(referralTargets(&out)...)
		if err == nil {
			var d diff
			d.str("decision", out.Decision, decision)
			d.str("operator", out.Operator, operator)
			d.str("reason", out.Reason, reason)
			return d.err()
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return classify(err)
		}
		if state != StateActive {
			return stateChanged("plan is %s, expected active", state)
		}
		if err := tx.QueryRow(ctx, `INSERT INTO referral_decisions (plan_id, request_id, decision, operator, reason)
			VALUES ($1, $2, $3, $4, $5) RETURNING `+referralColumns, planID, requestID, decision, operator, reason).
			Scan(referralTargets(&out)...); err != nil {
			return classify(err)
		}
		return audit(ctx, tx, planID, customerID, "operator:"+operator, "referral.decided", map[string]any{
			"request_id": requestID, "decision": decision, "reason": reason})
	})
	if err != nil {
		return fail(err)
	}
	return out, nil
}

// ReferralDecisions returns the legal-referral decisions of a plan, oldest
// first; the last one is in force.
func (s *Store) ReferralDecisions(ctx context.Context, planID uuid.UUID) ([]ReferralDecision, error) {
	rows, err := s.db().Query(ctx, `SELECT `+referralColumns+` FROM referral_decisions WHERE plan_id = $1
		ORDER BY created_at, id`, planID)
	if err != nil {
		return nil, fmt.Errorf("referral decisions plan %s: %w", planID, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ReferralDecision, error) {
		var d ReferralDecision
		err := r.Scan(referralTargets(&d)...)
		return d, err
	})
	if err != nil {
		return nil, fmt.Errorf("referral decisions plan %s: %w", planID, err)
	}
	return out, nil
}

// GraceExtension is a hardship grace extension granted by an operator: no
// late charge and no collection contact until Until.
type GraceExtension struct {
	// ID is assigned by the database; PlanID and RequestID are the key.
	ID        uuid.UUID
	PlanID    uuid.UUID
	RequestID string
	// Until is a civil date (midnight UTC).
	Until time.Time
	// Operator granted it for Reason.
	Operator, Reason string
	// CreatedAt is set by the database.
	CreatedAt time.Time
}

const graceColumns = `id, plan_id, request_id, until, operator, reason, created_at`

func graceTargets(g *GraceExtension) []any {
	return []any{&g.ID, &g.PlanID, &g.RequestID, &g.Until, &g.Operator, &g.Reason, &g.CreatedAt}
}

// ExtendGrace records a hardship grace extension until a civil date
// (operator and reason required) keyed by (planID, requestID) on an active
// plan (else ErrStateChanged), audited as "grace.extended" by
// operator:<operator>. A repeat with the same date, operator and reason
// returns the stored one; other content is ErrConflict. It enforces
// nothing by itself: the collection process reads GraceExtendedUntil.
func (s *Store) ExtendGrace(ctx context.Context, planID uuid.UUID, requestID string, until time.Time, operator, reason string) (GraceExtension, error) {
	fail := func(err error) (GraceExtension, error) {
		return GraceExtension{}, fmt.Errorf("extend grace plan %s request %s until %s: %w", planID, requestID,
			until.Format(time.DateOnly), err)
	}
	switch {
	case requestID == "":
		return fail(invalid("request id is required"))
	case until.IsZero():
		return fail(invalid("the date grace is extended until is required"))
	case operator == "" || reason == "":
		return fail(invalid("operator and reason are required"))
	}
	until = civil(until)
	var out GraceExtension
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		state, customerID, _, _, err := lockPlan(ctx, tx, planID)
		if err != nil {
			return err
		}
		err = tx.QueryRow(ctx, `SELECT `+graceColumns+` FROM grace_extensions WHERE plan_id = $1 AND request_id = $2`,
			planID, requestID).Scan(graceTargets(&out)...)
		if err == nil {
			var d diff
			d.time("until", out.Until, until)
			d.str("operator", out.Operator, operator)
			d.str("reason", out.Reason, reason)
			return d.err()
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return classify(err)
		}
		if state != StateActive {
			return stateChanged("plan is %s, expected active", state)
		}
		if err := tx.QueryRow(ctx, `INSERT INTO grace_extensions (plan_id, request_id, until, operator, reason)
			VALUES ($1, $2, $3, $4, $5) RETURNING `+graceColumns, planID, requestID, until, operator, reason).
			Scan(graceTargets(&out)...); err != nil {
			return classify(err)
		}
		return audit(ctx, tx, planID, customerID, "operator:"+operator, "grace.extended", map[string]any{
			"request_id": requestID, "until": until.Format(time.DateOnly), "reason": reason})
	})
	if err != nil {
		return fail(err)
	}
	return out, nil
}

// GraceExtendedUntil returns the latest date a plan's grace was extended
// until (a civil date, midnight UTC), or the zero time when it never was.
// Compare it with the business date: a date in the past no longer holds.
func (s *Store) GraceExtendedUntil(ctx context.Context, planID uuid.UUID) (time.Time, error) {
	var until time.Time
	if err := s.db().QueryRow(ctx, `SELECT max(until) FROM grace_extensions WHERE plan_id = $1`, planID).
		Scan(tim(&until)); err != nil {
		return time.Time{}, fmt.Errorf("grace extended until plan %s: %w", planID, classify(err))
	}
	return until, nil
}

// ---- write-off ----

// WriteOffResult is what the plan still owed when it was written off, by
// component; Total is their sum.
type WriteOffResult struct {
	Principal, Interest, Fee, Penalty, Total decimal.Decimal
}

// writeOffRow is what one open instalment owed, kept in write_offs.details.
type writeOffRow struct {
	No        int             `json:"no"`
	Status    string          `json:"status"`
	Principal decimal.Decimal `json:"principal"`
	Interest  decimal.Decimal `json:"interest"`
	Fee       decimal.Decimal `json:"fee"`
	Penalty   decimal.Decimal `json:"penalty"`
	// NotDue marks an instalment not yet due at the write-off: its
	// interest and fee are not counted.
	NotDue bool `json:"not_due,omitempty"`
}

// WriteOff writes off an active plan (else ErrStateChanged), decided by an
// operator (operator and reason required) through request requestID, as of
// the business date asOf, in one transaction:
//   - what the open instalments (pending, due, partially paid, overdue) of
//     the current schedule still owe (for an instalment not yet due on
//     asOf, its principal only: future interest and fees were never
//     earned) is recorded by component in
//     write_offs (with the breakdown per instalment) and returned; accrue
//     the penalty through asOf (AccruePenalty) first, it is counted as
//     stored;
//   - those instalments become written_off (InstalmentWrittenOff);
//   - the plan becomes written_off with reason as its state reason and
//     closed_at set, and its credit in use (its principal when none was
//     recorded) is released on the customer's credit line, as ClosePlan
//     does;
//   - queued reminders and collection messages of the plan not yet claimed
//     by a sender are cancelled (the contact's outcome is cancelled);
//     queue any write-off notice after WriteOff;
//   - "plan.written_off" is audited by operator:<operator>.
//
// A repeat with the same request id, operator, reason and asOf returns the
// stored result and changes nothing; other content under the request id is
// ErrConflict; another request on a written-off plan is ErrStateChanged.
func (s *Store) WriteOff(ctx context.Context, planID uuid.UUID, requestID, operator, reason string, asOf time.Time) (WriteOffResult, error) {
	fail := func(err error) (WriteOffResult, error) {
		return WriteOffResult{}, fmt.Errorf("write off plan %s request %s: %w", planID, requestID, err)
	}
	switch {
	case requestID == "":
		return fail(invalid("request id is required"))
	case operator == "" || reason == "":
		return fail(invalid("operator and reason are required"))
	case asOf.IsZero():
		return fail(invalid("as-of date is required"))
	}
	asOf = civil(asOf)
	var out WriteOffResult
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var (
			state, currency string
			customerID      uuid.UUID
			version         int
			inUse           decimal.NullDecimal
		)
		if err := tx.QueryRow(ctx, `SELECT state, customer_id, currency, schedule_version, COALESCE(credit_in_use, principal)
			FROM plans WHERE id = $1 FOR UPDATE`, planID).Scan(&state, &customerID, &currency, num(&version), &inUse); err != nil {
			return classify(err)
		}
		var (
			storedRequest, storedOperator, storedReason string
			storedAsOf                                  time.Time
		)
		err := tx.QueryRow(ctx, `SELECT request_id, operator, reason, as_of, principal, interest, fee, penalty, total
			FROM write_offs WHERE plan_id = $1`, planID).Scan(&storedRequest, &storedOperator, &storedReason, &storedAsOf,
			&out.Principal, &out.Interest, &out.Fee, &out.Penalty, &out.Total)
		if err == nil {
			if storedRequest != requestID {
				return stateChanged("plan was written off by request %s", storedRequest)
			}
			var d diff
			d.str("operator", storedOperator, operator)
			d.str("reason", storedReason, reason)
			d.time("as of", storedAsOf, asOf)
			return d.err()
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return classify(err)
		}
		if state != StateActive {
			return stateChanged("plan is %s, expected active", state)
		}
		if version == 0 {
			return stateChanged("plan has no schedule")
		}
		rows, err := queryInstalments(ctx, tx, planID, version)
		if err != nil {
			return err
		}
		out = WriteOffResult{Principal: decimal.Zero, Interest: decimal.Zero, Fee: decimal.Zero, Penalty: decimal.Zero}
		var open []writeOffRow
		for _, r := range rows {
			if !slices.Contains(openStatuses, r.Status) {
				continue
			}
			w := writeOffRow{No: r.No, Status: r.Status,
				Principal: componentOwed(r, ComponentPrincipal), Interest: componentOwed(r, ComponentInterest),
				Fee: componentOwed(r, ComponentFee), Penalty: componentOwed(r, ComponentPenalty)}
			if r.DueDate.After(asOf) {
				// Not yet due: its interest and fee were never earned, so
				// they are not a loss; only its principal is written off.
				w.NotDue, w.Interest, w.Fee = true, decimal.Zero, decimal.Zero
			}
			open = append(open, w)
			out.Principal = out.Principal.Add(w.Principal)
			out.Interest = out.Interest.Add(w.Interest)
			out.Fee = out.Fee.Add(w.Fee)
			out.Penalty = out.Penalty.Add(w.Penalty)
		}
		out.Total = out.Principal.Add(out.Interest).Add(out.Fee).Add(out.Penalty)
		details, err := json.Marshal(map[string]any{"instalments": open})
		if err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `INSERT INTO write_offs (plan_id, request_id, schedule_version, as_of, principal, interest,
				fee, penalty, total, currency, operator, reason, details)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
			ON CONFLICT (plan_id) DO NOTHING`,
			planID, requestID, version, asOf, out.Principal, out.Interest, out.Fee, out.Penalty, out.Total, currency,
			operator, reason, details)
		if err != nil {
			return classify(err)
		}
		if tag.RowsAffected() == 0 {
			return errRetry // a concurrent write-off won; the next run finds it
		}
		marked, err := tx.Exec(ctx, `UPDATE instalments SET status = 'written_off', updated_at = now()
			WHERE plan_id = $1 AND schedule_version = $2 AND status = ANY($3)`, planID, version, openStatuses)
		if err != nil {
			return classify(err)
		}
		if _, err := tx.Exec(ctx, `UPDATE credit_lines SET used = GREATEST(used - $2, 0), updated_at = now() WHERE customer_id = $1`,
			customerID, inUse.Decimal); err != nil {
			return classify(err)
		}
		if _, err := tx.Exec(ctx, `UPDATE plans SET state = 'written_off', state_reason = $2, credit_in_use = 0,
				closed_at = now(), updated_at = now()
			WHERE id = $1`, planID, reason); err != nil {
			return classify(err)
		}
		// Messages never claimed by a sender (attempts = 0) are cancelled; a
		// message being sent is left to its sender.
		var cancelled int
		if err := tx.QueryRow(ctx, `WITH o AS (
				UPDATE outbox o SET delivered_at = now(), last_error = 'plan written off'
				FROM contacts c
				WHERE o.contact_id = c.id AND c.plan_id = $1 AND c.purpose IN ('reminder', 'collection')
					AND o.delivered_at IS NULL AND o.attempts = 0
				RETURNING o.contact_id),
			c AS (
				UPDATE contacts SET outcome = 'cancelled', updated_at = now()
				WHERE id IN (SELECT contact_id FROM o) AND (outcome IS NULL OR outcome = 'deferred')
				RETURNING id)
			SELECT count(*) FROM o`, planID).Scan(&cancelled); err != nil {
			return classify(err)
		}
		return audit(ctx, tx, planID, customerID, "operator:"+operator, "plan.written_off", map[string]any{
			"request_id": requestID, "reason": reason, "as_of": asOf.Format(time.DateOnly), "version": version,
			"principal": out.Principal, "interest": out.Interest, "fee": out.Fee, "penalty": out.Penalty,
			"total": out.Total, "currency": currency, "instalments": marked.RowsAffected(), "released": inUse.Decimal,
			"messages_cancelled": cancelled})
	})
	if err != nil {
		return fail(err)
	}
	return out, nil
}

// PaidSince returns what the plan received in payments (all sources) at or
// after the instant since: what a promise made at since has been paid.
func (s *Store) PaidSince(ctx context.Context, planID uuid.UUID, since time.Time) (decimal.Decimal, error) {
	var paid decimal.Decimal
	if err := s.db().QueryRow(ctx, `SELECT COALESCE(sum(amount), 0) FROM payments WHERE plan_id = $1 AND received_at >= $2`,
		planID, instant(since)).Scan(&paid); err != nil {
		return decimal.Zero, fmt.Errorf("paid since %s plan %s: %w", since.Format(time.RFC3339), planID, classify(err))
	}
	return paid, nil
}

// CancelCollectionMessages cancels the plan's queued collection contacts
// not yet claimed by a sender (the outbox row is closed, the contact's
// outcome is cancelled) because why they were sent no longer holds (the
// arrears are cleared), audited as "collection.cancelled" with why. It
// returns how many it cancelled; run again it cancels nothing more.
func (s *Store) CancelCollectionMessages(ctx context.Context, planID uuid.UUID, why string) (int, error) {
	var cancelled int
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		_, customerID, _, _, err := lockPlan(ctx, tx, planID)
		if err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `WITH o AS (
				UPDATE outbox o SET delivered_at = now(), last_error = $2
				FROM contacts c
				WHERE o.contact_id = c.id AND c.plan_id = $1 AND c.purpose = 'collection'
					AND o.delivered_at IS NULL AND o.attempts = 0
				RETURNING o.contact_id),
			c AS (
				UPDATE contacts SET outcome = 'cancelled', updated_at = now()
				WHERE id IN (SELECT contact_id FROM o) AND (outcome IS NULL OR outcome = 'deferred')
				RETURNING id)
			SELECT count(*) FROM o`, planID, why).Scan(&cancelled); err != nil {
			return classify(err)
		}
		if cancelled == 0 {
			return nil
		}
		return audit(ctx, tx, planID, customerID, ActorSystem, "collection.cancelled", map[string]any{
			"why": why, "messages_cancelled": cancelled})
	})
	if err != nil {
		return 0, fmt.Errorf("cancel collection messages of plan %s: %w", planID, err)
	}
	return cancelled, nil
}
