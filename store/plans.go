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

// Plan states, as stored in plans.state.
const (
	StateAssessing  = "assessing"
	StateReview     = "review"
	StateOffered    = "offered"
	StateSigning    = "signing"
	StateActive     = "active"
	StateClosed     = "closed"
	StateDeclined   = "declined"
	StateExpired    = "expired"
	StateWithdrawn  = "withdrawn"
	StateWrittenOff = "written_off"
)

// FinalState reports whether a plan in state is finished (closed_at set).
func FinalState(state string) bool {
	switch state {
	case StateClosed, StateDeclined, StateExpired, StateWithdrawn, StateWrittenOff:
		return true
	}
	return false
}

// Plan is one instalment plan, created with its application. Its ID is the
// suffix of the plan workflow id (plan-<ID>).
type Plan struct {
	// ID is assigned by the database unless given.
	ID uuid.UUID
	// ApplicationID is the business key (one plan per application);
	// CustomerID must be the application's customer.
	ApplicationID, CustomerID uuid.UUID
	// OfferID is the chosen offer and FundingAccountID the account
	// auto-debit draws from (zero: none yet).
	OfferID, FundingAccountID uuid.UUID
	// State is one of the State* constants; StateReason says why it was
	// entered (paid_off, cancelled, declined reasons ...).
	State, StateReason string
	// Currency of every amount of the plan (default: the application's).
	Currency string
	// Terms are the chosen terms, nil until an offer is chosen.
	Terms *PlanTerms
	// ScheduleVersion is the current schedule version, 0 before the first.
	ScheduleVersion int
	// CreditLimit is the limit granted (invalid: not yet assessed).
	CreditLimit decimal.NullDecimal
	// CreatedAt and UpdatedAt are set by the database; ClosedAt is set when
	// the plan reaches a final state.
	CreatedAt, UpdatedAt, ClosedAt time.Time
}

// PlanTerms are the contract terms of a plan (see calc.Terms).
type PlanTerms struct {
	// Principal is the amount lent (> 0).
	Principal decimal.Decimal
	// Method is a calc.Method name; Terms the number of instalments;
	// Frequency monthly (default) or quarterly.
	Method    string
	Terms     int
	Frequency string
	// AnnualRate and FeeRate (monthly) are fractions; FeeUpfront charges the
	// whole fee with the first instalment.
	AnnualRate, FeeRate decimal.Decimal
	FeeUpfront          bool
	// StartDate is the civil date periods count from (zero: not yet known).
	StartDate time.Time
}

const planColumns = `id, application_id, customer_id, offer_id, funding_account_id, state, state_reason, currency,
	principal, method, terms, frequency, annual_rate, fee_rate, fee_upfront, start_date, schedule_version,
	credit_limit, created_at, updated_at, closed_at`

// scanPlan reads a row of planColumns.
func scanPlan(row pgx.Row) (Plan, error) {
	var (
		p          Plan
		principal  decimal.NullDecimal
		method     *string
		terms      *int
		frequency  *string
		annual     decimal.NullDecimal
		fee        decimal.NullDecimal
		feeUpfront bool
		start      *time.Time
	)
	err := row.Scan(&p.ID, &p.ApplicationID, &p.CustomerID, uid(&p.OfferID), uid(&p.FundingAccountID), &p.State,
		&p.StateReason, &p.Currency, &principal, &method, &terms, &frequency, &annual, &fee, &feeUpfront, &start,
		num(&p.ScheduleVersion), &p.CreditLimit, &p.CreatedAt, &p.UpdatedAt, tim(&p.ClosedAt))
	if err != nil {
		return Plan{}, err
	}
	if method != nil {
		t := &PlanTerms{Method: *method, Principal: principal.Decimal, AnnualRate: annual.Decimal,
			FeeRate: fee.Decimal, FeeUpfront: feeUpfront}
		if terms != nil {
			t.Terms = *terms
		}
		if frequency != nil {
			t.Frequency = *frequency
		}
		if start != nil {
			t.StartDate = *start
		}
		p.Terms = t
	}
	return p, nil
}

// termsArgs returns the column values of t (all NULL when t is nil).
func termsArgs(t *PlanTerms) (principal, method, terms, frequency, annual, fee, start any) {
	if t == nil {
		return nil, nil, nil, nil, nil, nil, nil
	}
	var startDate any
	if !t.StartDate.IsZero() {
		startDate = civil(t.StartDate)
	}
	return t.Principal, t.Method, t.Terms, orDefault(t.Frequency, "monthly"), t.AnnualRate, t.FeeRate, startDate
}

func (t *PlanTerms) validate() error {
	if t == nil {
		return nil
	}
	if t.Method == "" {
		return invalid("terms need a method")
	}
	if err := money("principal", t.Principal, true); err != nil {
		return err
	}
	return rates("terms", t.AnnualRate, t.FeeRate)
}

func termsDiff(d *diff, stored, given *PlanTerms) {
	if stored == nil || given == nil {
		if (stored == nil) != (given == nil) {
			*d = append(*d, "terms")
		}
		return
	}
	d.dec("principal", stored.Principal, given.Principal)
	d.str("method", stored.Method, given.Method)
	d.num("terms", stored.Terms, given.Terms)
	d.str("frequency", stored.Frequency, orDefault(given.Frequency, "monthly"))
	d.dec("annual rate", stored.AnnualRate, given.AnnualRate)
	d.dec("fee rate", stored.FeeRate, given.FeeRate)
	d.bool("fee upfront", stored.FeeUpfront, given.FeeUpfront)
	if given.StartDate.IsZero() {
		d.time("start date", stored.StartDate, time.Time{})
	} else {
		d.time("start date", stored.StartDate, civil(given.StartDate))
	}
}

// CreatePlan stores a plan keyed by its ApplicationID (State defaults to
// assessing). A repeat returns the stored plan, whatever state it has
// reached since; a repeat naming a different plan ID or customer is
// ErrConflict.
func (s *Store) CreatePlan(ctx context.Context, p Plan) (Plan, error) {
	fail := func(err error) (Plan, error) {
		return Plan{}, fmt.Errorf("create plan application %s: %w", p.ApplicationID, err)
	}
	p.State = orDefault(p.State, StateAssessing)
	if err := p.Terms.validate(); err != nil {
		return fail(err)
	}
	var out Plan
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		id := p.ID
		if id == uuid.Nil {
			id = uuid.New()
		}
		principal, method, terms, frequency, annual, fee, start := termsArgs(p.Terms)
		feeUpfront := p.Terms != nil && p.Terms.FeeUpfront
		var closedAt any
		if FinalState(p.State) {
			closedAt = time.Now()
		}
		row := tx.QueryRow(ctx, `INSERT INTO plans (id, application_id, customer_id, offer_id, funding_account_id, state,
				state_reason, currency, principal, method, terms, frequency, annual_rate, fee_rate, fee_upfront,
				start_date, credit_limit, closed_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7,
				COALESCE($8, (SELECT currency FROM applications WHERE id = $2), 'CNY'),
				$9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
			ON CONFLICT (application_id) DO NOTHING
			RETURNING `+planColumns,
			id, p.ApplicationID, p.CustomerID, nullUUID(p.OfferID), nullUUID(p.FundingAccountID), p.State,
			p.StateReason, nullString(p.Currency), principal, method, terms, frequency, annual, fee, feeUpfront,
			start, p.CreditLimit, closedAt)
		var err error
		out, err = scanPlan(row)
		if err == nil {
			return audit(ctx, tx, out.ID, out.CustomerID, ActorSystem, "plan.created", map[string]any{
				"application_id": out.ApplicationID, "state": out.State})
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return classify(err)
		}
		if out, err = scanPlan(tx.QueryRow(ctx, `SELECT `+planColumns+` FROM plans WHERE application_id = $1`,
			p.ApplicationID)); err != nil {
			return classify(err)
		}
		var d diff
		if p.ID != uuid.Nil {
			d.id("id", out.ID, p.ID)
		}
		d.id("customer", out.CustomerID, p.CustomerID)
		return d.err()
	})
	if err != nil {
		return fail(err)
	}
	return out, nil
}

// GetPlan returns the plan with id.
func (s *Store) GetPlan(ctx context.Context, id uuid.UUID) (Plan, error) {
	p, err := scanPlan(s.db().QueryRow(ctx, `SELECT `+planColumns+` FROM plans WHERE id = $1`, id))
	if err != nil {
		return Plan{}, fmt.Errorf("get plan %s: %w", id, classify(err))
	}
	return p, nil
}

// PlanContext returns the plan with id, its application and its customer,
// in one round trip.
func (s *Store) PlanContext(ctx context.Context, id uuid.UUID) (Plan, Application, Customer, error) {
	var (
		p    Plan
		app  Application
		cust Customer
	)
	batch := &pgx.Batch{}
	batch.Queue(`SELECT `+planColumns+` FROM plans WHERE id = $1`, id).QueryRow(func(row pgx.Row) (err error) {
		p, err = scanPlan(row)
		if err != nil {
			return fmt.Errorf("get plan %s: %w", id, classify(err))
		}
		return nil
	})
	batch.Queue(`SELECT `+applicationColumns+` FROM applications WHERE id = (SELECT application_id FROM plans WHERE id = $1)`, id).
		QueryRow(func(row pgx.Row) error {
			if err := row.Scan(applicationTargets(&app)...); err != nil {
				return fmt.Errorf("get application of plan %s: %w", id, classify(err))
			}
			return nil
		})
	batch.Queue(`SELECT `+customerColumns+` FROM customers WHERE id = (SELECT customer_id FROM plans WHERE id = $1)`, id).
		QueryRow(func(row pgx.Row) error {
			if _, err := s.scanCustomer(row, &cust); err != nil {
				return fmt.Errorf("get customer of plan %s: %w", id, err)
			}
			return nil
		})
	if err := s.db().SendBatch(ctx, batch).Close(); err != nil {
		return Plan{}, Application{}, Customer{}, err
	}
	return p, app, cust, nil
}

// StateChange is a guarded plan state transition.
type StateChange struct {
	// From is the state the plan must be in; To the state it moves to.
	From, To string
	// Reason is stored as the plan's state reason.
	Reason string
	// Actor is recorded in the audit log (default "system").
	Actor string
}

// SetPlanState moves a plan from c.From to c.To, stamping closed_at when To
// is final, and records it in the audit log. If the plan is already in
// c.To the call is a no-op returning it (a repeated transition); in any
// other state it is ErrStateChanged.
func (s *Store) SetPlanState(ctx context.Context, planID uuid.UUID, c StateChange) (Plan, error) {
	fail := func(err error) (Plan, error) {
		return Plan{}, fmt.Errorf("set plan %s state %s -> %s: %w", planID, c.From, c.To, err)
	}
	if c.From == "" || c.To == "" {
		return fail(invalid("both the expected and the new state are required"))
	}
	c.Actor = orDefault(c.Actor, ActorSystem)
	var out Plan
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		out, err = scanPlan(tx.QueryRow(ctx, `UPDATE plans SET state = $3::text, state_reason = $4, updated_at = now(),
				closed_at = CASE WHEN $3::text IN ('closed', 'declined', 'expired', 'withdrawn', 'written_off')
					THEN COALESCE(closed_at, now()) ELSE NULL END
			WHERE id = $1 AND state = $2
			RETURNING `+planColumns, planID, c.From, c.To, c.Reason))
		if err == nil {
			return audit(ctx, tx, out.ID, out.CustomerID, c.Actor, "plan.state", map[string]any{
				"from": c.From, "to": c.To, "reason": c.Reason})
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return classify(err)
		}
		if out, err = scanPlan(tx.QueryRow(ctx, `SELECT `+planColumns+` FROM plans WHERE id = $1`, planID)); err != nil {
			return classify(err)
		}
		if out.State == c.To {
			return nil
		}
		return stateChanged("plan is %s, expected %s", out.State, c.From)
	})
	if err != nil {
		return fail(err)
	}
	return out, nil
}

// SetPlanTerms records the chosen offer and terms of a plan that is not
// finished (on origination, and again when a restructure changes them).
// Setting the same terms again is a no-op.
func (s *Store) SetPlanTerms(ctx context.Context, planID, offerID uuid.UUID, t PlanTerms) (Plan, error) {
	fail := func(err error) (Plan, error) {
		return Plan{}, fmt.Errorf("set plan %s terms: %w", planID, err)
	}
	if err := t.validate(); err != nil {
		return fail(err)
	}
	var out Plan
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		before, err := scanPlan(tx.QueryRow(ctx, `SELECT `+planColumns+` FROM plans WHERE id = $1 FOR UPDATE`, planID))
		if err != nil {
			return classify(err)
		}
		if FinalState(before.State) {
			return stateChanged("plan is %s", before.State)
		}
		var d diff
		termsDiff(&d, before.Terms, &t)
		d.id("offer", before.OfferID, offerID)
		if len(d) == 0 {
			out = before
			return nil
		}
		principal, method, terms, frequency, annual, fee, start := termsArgs(&t)
		if out, err = scanPlan(tx.QueryRow(ctx, `UPDATE plans SET offer_id = $2, principal = $3, method = $4, terms = $5,
				frequency = $6, annual_rate = $7, fee_rate = $8, fee_upfront = $9, start_date = $10, updated_at = now()
			WHERE id = $1 RETURNING `+planColumns,
			planID, nullUUID(offerID), principal, method, terms, frequency, annual, fee, t.FeeUpfront, start)); err != nil {
			return classify(err)
		}
		return audit(ctx, tx, out.ID, out.CustomerID, ActorSystem, "plan.terms", map[string]any{
			"offer_id": nullUUID(offerID), "principal": t.Principal, "method": t.Method, "terms": t.Terms,
			"frequency": out.Terms.Frequency, "annual_rate": t.AnnualRate, "fee_rate": t.FeeRate,
			"fee_upfront": t.FeeUpfront, "start_date": start, "changed": []string(d)})
	})
	if err != nil {
		return fail(err)
	}
	return out, nil
}

// SetFundingAccount designates the customer's account that auto-debit
// draws from (it must belong to the plan's customer). Setting the same
// account again is a no-op.
func (s *Store) SetFundingAccount(ctx context.Context, planID, accountID uuid.UUID) (Plan, error) {
	var out Plan
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		out, err = scanPlan(tx.QueryRow(ctx, `UPDATE plans SET funding_account_id = $2, updated_at = now()
			WHERE id = $1 AND funding_account_id IS DISTINCT FROM $2 RETURNING `+planColumns, planID, accountID))
		if err == nil {
			return audit(ctx, tx, out.ID, out.CustomerID, ActorSystem, "plan.funding_account", map[string]any{
				"account_id": accountID})
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return classify(err)
		}
		out, err = scanPlan(tx.QueryRow(ctx, `SELECT `+planColumns+` FROM plans WHERE id = $1`, planID))
		return classify(err)
	})
	if err != nil {
		return Plan{}, fmt.Errorf("set plan %s funding account %s: %w", planID, accountID, err)
	}
	return out, nil
}

// SetCreditLimit records the credit limit granted to a plan.
func (s *Store) SetCreditLimit(ctx context.Context, planID uuid.UUID, limit decimal.Decimal) (Plan, error) {
	if err := money("credit limit", limit, false); err != nil {
		return Plan{}, fmt.Errorf("set plan %s credit limit: %w", planID, err)
	}
	var out Plan
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		out, err = scanPlan(tx.QueryRow(ctx, `UPDATE plans SET credit_limit = $2, updated_at = now()
			WHERE id = $1 AND credit_limit IS DISTINCT FROM $2 RETURNING `+planColumns, planID, limit))
		if err == nil {
			return audit(ctx, tx, out.ID, out.CustomerID, ActorSystem, "plan.credit_limit", map[string]any{"credit_limit": limit})
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return classify(err)
		}
		out, err = scanPlan(tx.QueryRow(ctx, `SELECT `+planColumns+` FROM plans WHERE id = $1`, planID))
		return classify(err)
	})
	if err != nil {
		return Plan{}, fmt.Errorf("set plan %s credit limit: %w", planID, err)
	}
	return out, nil
}
