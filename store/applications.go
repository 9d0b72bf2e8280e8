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

// Application is a request for credit, keyed by the front-end's RequestID.
type Application struct {
	// ID is assigned by the database unless given.
	ID uuid.UUID
	// RequestID is the application request id: the business key.
	RequestID string
	// CustomerID is the applicant.
	CustomerID uuid.UUID
	// Amount is the amount requested (> 0) in Currency (default CNY).
	Amount   decimal.Decimal
	Currency string
	// Terms is the number of instalments asked for (1..360); 0 lets the
	// offers choose (stored as NULL).
	Terms int
	// Frequency is monthly (default) or quarterly.
	Frequency string
	// Preferences (JSON object): frequency, shorter/longer term, lowest
	// total cost or lowest instalment.
	Preferences json.RawMessage
	// Applicant (JSON object): the data assessed (occupation, income, credit
	// record, existing debt, assets ...).
	Applicant json.RawMessage
	// Channel is own (default) or partner; a partner application names the
	// partner and may carry its fee policy (JSON).
	Channel          string
	PartnerName      string
	PartnerFeePolicy json.RawMessage
	// CreatedAt is set by the database.
	CreatedAt time.Time
}

const applicationColumns = `id, request_id, customer_id, amount, currency, terms, frequency, preferences,
	applicant, channel, partner_name, partner_fee_policy, created_at`

func applicationTargets(a *Application) []any {
	return []any{&a.ID, &a.RequestID, &a.CustomerID, &a.Amount, &a.Currency, num(&a.Terms), str(&a.Frequency),
		&a.Preferences, &a.Applicant, &a.Channel, str(&a.PartnerName), &a.PartnerFeePolicy, &a.CreatedAt}
}

// CreateApplication stores an application keyed by RequestID. A repeat with
// the same content returns the stored application; different content is
// ErrConflict.
func (s *Store) CreateApplication(ctx context.Context, a Application) (Application, error) {
	fail := func(err error) (Application, error) {
		return Application{}, fmt.Errorf("create application %s: %w", a.RequestID, err)
	}
	if a.RequestID == "" {
		return fail(invalid("request id is required"))
	}
	if err := money("amount", a.Amount, true); err != nil {
		return fail(err)
	}
	a.Currency = currencyOr(a.Currency)
	a.Frequency = orDefault(a.Frequency, "monthly")
	a.Channel = orDefault(a.Channel, "own")
	var err error
	if a.Preferences, err = object("preferences", a.Preferences); err != nil {
		return fail(err)
	}
	if a.Applicant, err = object("applicant", a.Applicant); err != nil {
		return fail(err)
	}
	if a.PartnerFeePolicy, err = optionalJSON("partner fee policy", a.PartnerFeePolicy); err != nil {
		return fail(err)
	}
	var out Application
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		id := a.ID
		if id == uuid.Nil {
			id = uuid.New()
		}
		err := tx.QueryRow(ctx, `INSERT INTO applications (id, request_id, customer_id, amount, currency, terms,
				frequency, preferences, applicant, channel, partner_name, partner_fee_policy)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
			ON CONFLICT (request_id) DO NOTHING
			RETURNING `+applicationColumns,
			id, a.RequestID, a.CustomerID, a.Amount, a.Currency, nullInt(a.Terms), nullString(a.Frequency), []byte(a.Preferences),
			[]byte(a.Applicant), a.Channel, nullString(a.PartnerName), []byte(a.PartnerFeePolicy)).
			Scan(applicationTargets(&out)...)
		if err == nil {
			return audit(ctx, tx, uuid.Nil, out.CustomerID, ActorSystem, "application.created", map[string]any{
				"application_id": out.ID, "request_id": out.RequestID, "amount": out.Amount,
				"currency": out.Currency, "terms": out.Terms, "channel": out.Channel})
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return classify(err)
		}
		if err := tx.QueryRow(ctx, `SELECT `+applicationColumns+` FROM applications WHERE request_id = $1`, a.RequestID).
			Scan(applicationTargets(&out)...); err != nil {
			return classify(err)
		}
		var d diff
		if a.ID != uuid.Nil {
			d.id("id", out.ID, a.ID)
		}
		d.id("customer", out.CustomerID, a.CustomerID)
		d.dec("amount", out.Amount, a.Amount)
		d.str("currency", out.Currency, a.Currency)
		d.num("terms", out.Terms, a.Terms)
		d.str("frequency", out.Frequency, a.Frequency)
		d.json("preferences", out.Preferences, a.Preferences)
		d.json("applicant", out.Applicant, a.Applicant)
		d.str("channel", out.Channel, a.Channel)
		d.str("partner", out.PartnerName, a.PartnerName)
		d.json("partner fee policy", out.PartnerFeePolicy, a.PartnerFeePolicy)
		return d.err()
	})
	if err != nil {
		return fail(err)
	}
	return out, nil
}

// GetApplication returns the application with id.
func (s *Store) GetApplication(ctx context.Context, id uuid.UUID) (Application, error) {
	var a Application
	if err := s.db().QueryRow(ctx, `SELECT `+applicationColumns+` FROM applications WHERE id = $1`, id).
		Scan(applicationTargets(&a)...); err != nil {
		return Application{}, fmt.Errorf("get application %s: %w", id, classify(err))
	}
	return a, nil
}

// GetApplicationByRequest returns the application with the request id.
func (s *Store) GetApplicationByRequest(ctx context.Context, requestID string) (Application, error) {
	var a Application
	if err := s.db().QueryRow(ctx, `SELECT `+applicationColumns+` FROM applications WHERE request_id = $1`, requestID).
		Scan(applicationTargets(&a)...); err != nil {
		return Application{}, fmt.Errorf("get application %s: %w", requestID, classify(err))
	}
	return a, nil
}

// Assessment is one credit decision on an application. Round 1 is the
// automatic assessment; a "review" decision is followed by an operator's
// decision in the next round.
type Assessment struct {
	// ID is assigned by the database.
	ID uuid.UUID
	// ApplicationID and Round (default 1) are the business key.
	ApplicationID uuid.UUID
	Round         int
	// Score and Tier are the scoring result; CreditLimit the limit it sets.
	Score       int
	Tier        string
	CreditLimit decimal.Decimal
	Currency    string
	// Decision is approved, declined or review; a decline has Reasons.
	Decision string
	Reasons  []string
	// DecidedBy is "system" or the operator; PolicyVersion the policy data used.
	DecidedBy     string
	PolicyVersion string
	// Details (JSON object): factor breakdown, market adjustment, pricing.
	Details json.RawMessage
	// CreatedAt is set by the database.
	CreatedAt time.Time
}

const assessmentColumns = `id, application_id, round, score, tier, credit_limit, currency, decision, reasons,
	decided_by, policy_version, details, created_at`

func assessmentTargets(a *Assessment) []any {
	return []any{&a.ID, &a.ApplicationID, &a.Round, &a.Score, str(&a.Tier), &a.CreditLimit, &a.Currency, &a.Decision,
		&a.Reasons, &a.DecidedBy, &a.PolicyVersion, &a.Details, &a.CreatedAt}
}

// SaveAssessment stores a decision keyed by (ApplicationID, Round). A repeat
// with the same content returns the stored row; different content is
// ErrConflict.
func (s *Store) SaveAssessment(ctx context.Context, a Assessment) (Assessment, error) {
	if a.Round == 0 {
		a.Round = 1
	}
	fail := func(err error) (Assessment, error) {
		return Assessment{}, fmt.Errorf("save assessment application %s round %d: %w", a.ApplicationID, a.Round, err)
	}
	if err := money("credit limit", a.CreditLimit, false); err != nil {
		return fail(err)
	}
	a.Currency = currencyOr(a.Currency)
	a.DecidedBy = orDefault(a.DecidedBy, ActorSystem)
	if a.Reasons == nil {
		a.Reasons = []string{}
	}
	var err error
	if a.Details, err = object("details", a.Details); err != nil {
		return fail(err)
	}
	var out Assessment
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO assessments (application_id, round, score, tier, credit_limit, currency,
				decision, reasons, decided_by, policy_version, details)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
			ON CONFLICT (application_id, round) DO NOTHING
			RETURNING `+assessmentColumns,
			a.ApplicationID, a.Round, a.Score, nullString(a.Tier), a.CreditLimit, a.Currency, a.Decision, a.Reasons,
			a.DecidedBy, a.PolicyVersion, []byte(a.Details)).Scan(assessmentTargets(&out)...)
		if err == nil {
			var customerID uuid.UUID
			if err := tx.QueryRow(ctx, `SELECT customer_id FROM applications WHERE id = $1`, a.ApplicationID).Scan(&customerID); err != nil {
				return classify(err)
			}
			return audit(ctx, tx, uuid.Nil, customerID, a.DecidedBy, "assessment.saved", map[string]any{
				"application_id": out.ApplicationID, "round": out.Round, "score": out.Score, "tier": out.Tier,
				"decision": out.Decision, "reasons": out.Reasons, "credit_limit": out.CreditLimit})
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return classify(err)
		}
		if err := tx.QueryRow(ctx, `SELECT `+assessmentColumns+` FROM assessments WHERE application_id = $1 AND round = $2`,
			a.ApplicationID, a.Round).Scan(assessmentTargets(&out)...); err != nil {
			return classify(err)
		}
		var d diff
		d.num("score", out.Score, a.Score)
		d.str("tier", out.Tier, a.Tier)
		d.dec("credit limit", out.CreditLimit, a.CreditLimit)
		d.str("currency", out.Currency, a.Currency)
		d.str("decision", out.Decision, a.Decision)
		d.strs("reasons", out.Reasons, a.Reasons)
		d.str("decided by", out.DecidedBy, a.DecidedBy)
		d.str("policy version", out.PolicyVersion, a.PolicyVersion)
		d.json("details", out.Details, a.Details)
		return d.err()
	})
	if err != nil {
		return fail(err)
	}
	return out, nil
}

// Assessments returns the decisions on an application, by round.
func (s *Store) Assessments(ctx context.Context, applicationID uuid.UUID) ([]Assessment, error) {
	rows, err := s.db().Query(ctx, `SELECT `+assessmentColumns+` FROM assessments WHERE application_id = $1 ORDER BY round`,
		applicationID)
	if err != nil {
		return nil, fmt.Errorf("assessments application %s: %w", applicationID, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Assessment, error) {
		var a Assessment
		err := r.Scan(assessmentTargets(&a)...)
		return a, err
	})
	if err != nil {
		return nil, fmt.Errorf("assessments application %s: %w", applicationID, err)
	}
	return out, nil
}

// Offer is one option put to the customer. Offers come in sets: one set per
// negotiation Round, numbered from 1 within the set.
type Offer struct {
	// ID is assigned by the database.
	ID uuid.UUID
	// ApplicationID, Round and No are the business key.
	ApplicationID uuid.UUID
	Round, No     int
	// Method is a calc.Method name (annuity, equal-principal, interest-only,
	// fee, zero).
	Method string
	// Amount (> 0) in Currency (default CNY) over Terms instalments at
	// Frequency (default monthly).
	Amount    decimal.Decimal
	Currency  string
	Terms     int
	Frequency string
	// AnnualRate and FeeRate (monthly) are fractions; FeeUpfront charges the
	// whole fee with the first instalment.
	AnnualRate, FeeRate decimal.Decimal
	FeeUpfront          bool
	// Instalment is the (first) instalment; TotalCost all interest and fees.
	Instalment, TotalCost decimal.Decimal
	// APRNominal and APREffective are the disclosed annualised rates in
	// percent (4 places).
	APRNominal, APREffective decimal.Decimal
	// ExpiresAt is when the offer lapses.
	ExpiresAt time.Time
	// Details (JSON object): schedule preview, disclosures.
	Details json.RawMessage
	// CreatedAt is set by the database.
	CreatedAt time.Time
}

const offerColumns = `id, application_id, round, no, method, amount, currency, terms, frequency, annual_rate,
	fee_rate, fee_upfront, instalment, total_cost, apr_nominal, apr_effective, expires_at, details, created_at`

func offerTargets(o *Offer) []any {
	return []any{&o.ID, &o.ApplicationID, &o.Round, &o.No, &o.Method, &o.Amount, &o.Currency, &o.Terms,
		&o.Frequency, &o.AnnualRate, &o.FeeRate, &o.FeeUpfront, &o.Instalment, &o.TotalCost, &o.APRNominal,
		&o.APREffective, &o.ExpiresAt, &o.Details, &o.CreatedAt}
}

// SaveOffers stores an offer set of an application as one unit: round
// (>= 1) is the negotiation round, offers are numbered by their No (0 means
// their position, from 1). A repeat of the same set returns the stored
// offers; a different set under the same round is ErrConflict.
func (s *Store) SaveOffers(ctx context.Context, applicationID uuid.UUID, round int, offers []Offer) ([]Offer, error) {
	fail := func(err error) ([]Offer, error) {
		return nil, fmt.Errorf("save offers application %s round %d: %w", applicationID, round, err)
	}
	if round < 1 {
		return fail(invalid("round must be at least 1"))
	}
	if len(offers) == 0 {
		return fail(invalid("an offer set needs at least one offer"))
	}
	given := make([]Offer, len(offers))
	seen := map[int]bool{}
	for i, o := range offers {
		o.ApplicationID, o.Round = applicationID, round
		if o.No == 0 {
			o.No = i + 1
		}
		if seen[o.No] {
			return fail(invalid("offer no %d appears twice", o.No))
		}
		seen[o.No] = true
		o.Currency = currencyOr(o.Currency)
		o.Frequency = orDefault(o.Frequency, "monthly")
		o.ExpiresAt = instant(o.ExpiresAt)
		for _, m := range []struct {
			name     string
			d        decimal.Decimal
			positive bool
		}{{"amount", o.Amount, true}, {"instalment", o.Instalment, false}, {"total cost", o.TotalCost, false}} {
			if err := money(fmt.Sprintf("offer %d %s", o.No, m.name), m.d, m.positive); err != nil {
				return fail(err)
			}
		}
		if err := rates(fmt.Sprintf("offer %d", o.No), o.AnnualRate, o.FeeRate); err != nil {
			return fail(err)
		}
		for _, r := range []struct {
			name string
			d    decimal.Decimal
		}{{"apr nominal", o.APRNominal}, {"apr effective", o.APREffective}} {
			if !r.d.Equal(r.d.Round(4)) || r.d.IsNegative() {
				return fail(invalid("offer %d %s %s must be >= 0 with at most 4 decimal places", o.No, r.name, r.d))
			}
		}
		if o.ExpiresAt.IsZero() {
			return fail(invalid("offer %d has no expiry", o.No))
		}
		var err error
		if o.Details, err = object("details", o.Details); err != nil {
			return fail(err)
		}
		given[i] = o
	}
	var out []Offer
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		out = out[:0]
		// The application row lock serialises concurrent saves of its offers.
		var customerID uuid.UUID
		if err := tx.QueryRow(ctx, `SELECT customer_id FROM applications WHERE id = $1 FOR UPDATE`, applicationID).
			Scan(&customerID); err != nil {
			return classify(err)
		}
		stored, err := queryOffers(ctx, tx, applicationID, round)
		if err != nil {
			return err
		}
		if len(stored) > 0 {
			out = stored
			return offersDiff(stored, given).err()
		}
		// The offers go in one round trip.
		out = make([]Offer, len(given))
		batch := &pgx.Batch{}
		for i, o := range given {
			batch.Queue(`INSERT INTO offers (application_id, round, no, method, amount, currency, terms,
					frequency, annual_rate, fee_rate, fee_upfront, instalment, total_cost, apr_nominal, apr_effective,
					expires_at, details)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
				RETURNING `+offerColumns,
				o.ApplicationID, o.Round, o.No, o.Method, o.Amount, o.Currency, o.Terms, o.Frequency, o.AnnualRate,
				o.FeeRate, o.FeeUpfront, o.Instalment, o.TotalCost, o.APRNominal, o.APREffective, o.ExpiresAt,
				[]byte(o.Details)).QueryRow(func(row pgx.Row) error { return row.Scan(offerTargets(&out[i])...) })
		}
		if err := tx.SendBatch(ctx, batch).Close(); err != nil {
			return classify(err)
		}
		sortOffers(out)
		return audit(ctx, tx, uuid.Nil, customerID, ActorSystem, "offers.saved", map[string]any{
			"application_id": applicationID, "round": round, "offers": len(out)})
	})
	if err != nil {
		return fail(err)
	}
	return out, nil
}

func offersDiff(stored, given []Offer) diff {
	var d diff
	if len(stored) != len(given) {
		d.num("offer count", len(stored), len(given))
		return d
	}
	byNo := map[int]Offer{}
	for _, o := range stored {
		byNo[o.No] = o
	}
	for _, g := range given {
		o, ok := byNo[g.No]
		if !ok {
			d = append(d, fmt.Sprintf("offer no %d (not stored)", g.No))
			continue
		}
		p := fmt.Sprintf("offer %d ", g.No)
		d.str(p+"method", o.Method, g.Method)
		d.dec(p+"amount", o.Amount, g.Amount)
		d.str(p+"currency", o.Currency, g.Currency)
		d.num(p+"terms", o.Terms, g.Terms)
		d.str(p+"frequency", o.Frequency, g.Frequency)
		d.dec(p+"annual rate", o.AnnualRate, g.AnnualRate)
		d.dec(p+"fee rate", o.FeeRate, g.FeeRate)
		d.bool(p+"fee upfront", o.FeeUpfront, g.FeeUpfront)
		d.dec(p+"instalment", o.Instalment, g.Instalment)
		d.dec(p+"total cost", o.TotalCost, g.TotalCost)
		d.dec(p+"apr nominal", o.APRNominal, g.APRNominal)
		d.dec(p+"apr effective", o.APREffective, g.APREffective)
		d.time(p+"expires at", o.ExpiresAt, g.ExpiresAt)
		d.json(p+"details", o.Details, g.Details)
	}
	return d
}

func sortOffers(o []Offer) {
	slices.SortFunc(o, func(a, b Offer) int { return cmp.Compare(a.No, b.No) })
}

func queryOffers(ctx context.Context, q querier, applicationID uuid.UUID, round int) ([]Offer, error) {
	rows, err := q.Query(ctx, `SELECT `+offerColumns+` FROM offers WHERE application_id = $1 AND round = $2 ORDER BY no`,
		applicationID, round)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Offer, error) {
		var o Offer
		err := r.Scan(offerTargets(&o)...)
		return o, err
	})
}

// Offers returns an offer set of an application, by No (empty when the
// round has none).
func (s *Store) Offers(ctx context.Context, applicationID uuid.UUID, round int) ([]Offer, error) {
	out, err := queryOffers(ctx, s.db(), applicationID, round)
	if err != nil {
		return nil, fmt.Errorf("offers application %s round %d: %w", applicationID, round, err)
	}
	return out, nil
}

// GetOffer returns the offer with id.
func (s *Store) GetOffer(ctx context.Context, id uuid.UUID) (Offer, error) {
	var o Offer
	if err := s.db().QueryRow(ctx, `SELECT `+offerColumns+` FROM offers WHERE id = $1`, id).Scan(offerTargets(&o)...); err != nil {
		return Offer{}, fmt.Errorf("get offer %s: %w", id, classify(err))
	}
	return o, nil
}
