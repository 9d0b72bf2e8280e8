package activities

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"go.temporal.io/sdk/temporal"

	"github.com/fenqi/fenqi/calc"
	"github.com/fenqi/fenqi/contact"
	"github.com/fenqi/fenqi/plan"
	"github.com/fenqi/fenqi/store"
)

// NonRetryable lists the error types the workflow does not retry. It is
// empty on purpose: a plan lives for years, so a persistence activity that
// fails (the database away, or a bug refused by a constraint) is retried
// with backoff until it succeeds or a fix is deployed, and the pending
// activity shows the failure and its type (InvalidInput, Conflict) in the
// Web UI. Business refusals are results, not errors.
var NonRetryable []string

// typed gives err an error type that the Web UI shows on the pending
// activity; it stays retryable (see NonRetryable).
func typed(kind string, err error) error {
	return temporal.NewApplicationErrorWithCause(err.Error(), kind, err)
}

// classify types the store's refusals: Conflict for a write that
// contradicts what is stored, InvalidInput for a row the database refuses.
func classify(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrConflict), errors.Is(err, store.ErrStateChanged):
		return typed("Conflict", err)
	case errors.Is(err, store.ErrInvalid):
		return typed("InvalidInput", err)
	}
	return err
}

func parsePlanID(s string) (uuid.UUID, error) {
	id, err := uuid.Parse(s)
	if err != nil {
		return uuid.Nil, typed("InvalidInput", fmt.Errorf("plan id %q: %w", s, err))
	}
	return id, nil
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		// Only values of fenqi's own types are encoded here.
		return json.RawMessage(`{}`)
	}
	return b
}

func hashJSON(v any) string {
	sum := sha256.Sum256(mustJSON(v))
	return hex.EncodeToString(sum[:])
}

// RecordApplicationInput is an application with its credit decision.
type RecordApplicationInput struct {
	PlanID         string
	CustomerID     string
	App            plan.Application
	Assessment     Assessment
	State          plan.State
	Offers         []plan.Offer
	OffersExpireAt time.Time
	// At is when the decision was made (the workflow's time).
	At time.Time
	// Calendar is the plan's business calendar (contact rules, compressed demos).
	Calendar Calendar
	// Repeatable is set when the write runs as a local activity (see
	// Repeatable).
	Repeatable bool
}

// Repeatable, set on the input of RecordApplication, RecordAgreement or
// Activate, says that the write runs as a local activity, whose input is
// not kept in history. When the worker dies after the commit but before
// the workflow task completes, the task runs again and computes the input
// again from a later workflow time: other offer and agreement expiries,
// another start date, another signing time. The rows already stored would
// refuse those as a conflict, for ever. So with Repeatable the first write
// wins: a step that is already stored is answered with what was stored,
// nothing is written, and the workflow adopts the answer. The three writes
// are each one transaction, so "already stored" is all or nothing.
//
// A regular activity's input is in history, and its retries repeat it
// exactly; it is not Repeatable.

// RecordedApplication is what RecordApplication stored.
type RecordedApplication struct {
	// OffersExpireAt is when the first offer set lapses (zero: no offers).
	OffersExpireAt time.Time
	// Repeat says the application was already recorded by an earlier
	// attempt, whose figures these are.
	Repeat bool
}

// RecordApplication stores the customer, the application, the plan, the
// assessment and the first offers, moves the plan to its state after the
// decision, and tells the customer. Every write is keyed by business
// identity, so a retry writes nothing twice.
//
// Its writes are one transaction, as are RecordAgreement's and Activate's.
func (a *Activities) RecordApplication(ctx context.Context, in RecordApplicationInput) (res RecordedApplication, err error) {
	err = a.inTx(ctx, func(a *Activities) error {
		res, err = a.recordApplication(ctx, in)
		return err
	})
	return res, err
}

func (a *Activities) recordApplication(ctx context.Context, in RecordApplicationInput) (RecordedApplication, error) {
	planID, err := parsePlanID(in.PlanID)
	if err != nil {
		return RecordedApplication{}, err
	}
	if in.Repeatable {
		if res, done, err := a.recordedApplication(ctx, planID, in); done || err != nil {
			return res, err
		}
	}
	res := RecordedApplication{OffersExpireAt: in.OffersExpireAt}
	if len(in.Offers) == 0 {
		res.OffersExpireAt = time.Time{}
	}
	return res, a.writeApplication(ctx, planID, in)
}

// recordedApplication is the application as an earlier attempt recorded
// it; done is false when there is none.
func (a *Activities) recordedApplication(ctx context.Context, planID uuid.UUID, in RecordApplicationInput) (res RecordedApplication, done bool, err error) {
	p, err := a.Store.GetPlan(ctx, planID)
	if errors.Is(err, store.ErrNotFound) {
		return RecordedApplication{}, false, nil
	}
	if err != nil {
		return RecordedApplication{}, false, classify(fmt.Errorf("look for application %s already recorded: %w", in.App.RequestID, err))
	}
	offers, err := a.Store.Offers(ctx, p.ApplicationID, 1)
	if err != nil {
		return RecordedApplication{}, false, classify(fmt.Errorf("load offers of plan %s: %w", planID, err))
	}
	// The decision is computed again by the repeat; the policy changed
	// between the two attempts if it differs from the stored one, and
	// the plan waits (visibly) for an operator rather than go on with two
	// decisions.
	if d := decisionDiff(p, offers, in); d != "" {
		return RecordedApplication{}, false, typed("Conflict", fmt.Errorf(
			"application %s was recorded with another decision than the policy makes now (%s)", in.App.RequestID, d))
	}
	res = RecordedApplication{Repeat: true}
	if len(offers) > 0 {
		res.OffersExpireAt = offers[0].ExpiresAt
	}
	slog.InfoContext(ctx, "application already recorded: answered with what was stored", "plan", planID, "request", in.App.RequestID,
		"offers_expire_at", res.OffersExpireAt)
	return res, true, nil
}

// decisionDiff says how the stored decision (the plan's state and credit
// limit, the first offers) differs from in's; "" when it does not.
func decisionDiff(p store.Plan, stored []store.Offer, in RecordApplicationInput) string {
	if p.State != string(in.State) {
		return fmt.Sprintf("state %s, now %s", p.State, in.State)
	}
	if !p.CreditLimit.Valid || !p.CreditLimit.Decimal.Equal(in.Assessment.CreditLimit) {
		return fmt.Sprintf("credit limit %s, now %s", p.CreditLimit.Decimal, in.Assessment.CreditLimit)
	}
	if len(stored) != len(in.Offers) {
		return fmt.Sprintf("%d offers, now %d", len(stored), len(in.Offers))
	}
	byNo := make(map[int]store.Offer, len(stored))
	for _, o := range stored {
		byNo[o.No] = o
	}
	for _, o := range in.Offers {
		st, ok := byNo[o.No]
		if !ok || st.Method != string(o.Method) || st.Terms != o.Terms || !st.Amount.Equal(o.Amount) ||
			!st.Instalment.Equal(o.Instalment) || !st.AnnualRate.Equal(o.AnnualRate) || !st.FeeRate.Equal(o.MonthlyFeeRate) {
			return fmt.Sprintf("offer %d differs", o.No)
		}
	}
	return ""
}

func (a *Activities) writeApplication(ctx context.Context, planID uuid.UUID, in RecordApplicationInput) error {
	c := in.App.Customer
	cust := store.Customer{
		ID: uuid.MustParse(in.CustomerID), ExternalRef: c.Ref, Name: c.Name, Phone: c.Phone, Email: c.Email,
		IDNumber: c.IDNumber, PushID: c.PushID, PreferredChannel: string(c.PreferredChannel), TimeZone: c.TimeZone,
		Profile: mustJSON(profileOf(c)),
	}
	saved, err := a.Store.UpsertCustomer(ctx, cust)
	if errors.Is(err, store.ErrConflict) {
		// A returning customer whose details changed.
		saved, err = a.Store.UpdateCustomer(ctx, cust)
	}
	if err != nil {
		return classify(fmt.Errorf("record application %s: %w", in.App.RequestID, err))
	}
	app, err := a.Store.CreateApplication(ctx, store.Application{
		RequestID: in.App.RequestID, CustomerID: saved.ID, Amount: in.App.Amount, Currency: in.App.Currency,
		Terms: in.App.Terms, Frequency: string(in.App.Frequency), Preferences: mustJSON(in.App.Preferences),
		Applicant: mustJSON(profileOf(c)), Channel: in.App.Origin.Kind, PartnerName: in.App.Origin.Partner,
		PartnerFeePolicy: partnerFeePolicy(in.App.Origin),
	})
	if err != nil {
		return classify(fmt.Errorf("record application %s: %w", in.App.RequestID, err))
	}
	if _, err := a.Store.CreatePlan(ctx, store.Plan{ID: planID, ApplicationID: app.ID, CustomerID: saved.ID, Currency: in.App.Currency}); err != nil {
		return classify(fmt.Errorf("record plan %s: %w", planID, err))
	}
	as := in.Assessment
	if _, err := a.Store.SaveAssessment(ctx, store.Assessment{
		ApplicationID: app.ID, Round: 1, Score: as.Score, Tier: as.Tier, CreditLimit: as.CreditLimit,
		Currency: in.App.Currency, Decision: as.Decision, Reasons: as.Reasons, DecidedBy: "policy",
		PolicyVersion: as.Policy, Details: mustJSON(map[string]any{"factors": as.Factors, "debt_to_income": as.DebtToIncome}),
	}); err != nil {
		return classify(fmt.Errorf("record assessment of %s: %w", in.App.RequestID, err))
	}
	if _, err := a.Store.SetCreditLimit(ctx, planID, as.CreditLimit); err != nil {
		return classify(fmt.Errorf("record credit limit of plan %s: %w", planID, err))
	}
	if len(in.Offers) > 0 {
		if _, err := a.Store.SaveOffers(ctx, app.ID, 1, storeOffers(in.Offers, in.App.Currency, in.OffersExpireAt)); err != nil {
			return classify(fmt.Errorf("record offers of plan %s: %w", planID, err))
		}
	}
	if _, err := a.Store.SetPlanState(ctx, planID, store.StateChange{
		From: string(plan.StateAssessing), To: string(in.State), Reason: strings.Join(as.Reasons, " "), Actor: "system",
	}); err != nil {
		return classify(err)
	}
	var body string
	switch in.State {
	case plan.StateOffered:
		body = fmt.Sprintf("Your application is approved: %d offers are waiting for you until %s.", len(in.Offers), in.OffersExpireAt.UTC().Format("2006-01-02"))
	case plan.StateDeclined:
		body = "We are sorry: your application was declined. " + strings.Join(as.Reasons, " ")
	case plan.StateReview:
		body = "Your application is being reviewed by our team; we will tell you the decision soon."
	}
	return a.notify(ctx, planID, saved, "application:"+string(in.State), body, in.Calendar, in.At)
}

// partnerFeePolicy is the partner's disclosed fee terms; nil for the
// lender's own platform.
func partnerFeePolicy(o plan.Origin) json.RawMessage {
	if o.Kind != "partner" {
		return nil
	}
	return mustJSON(map[string]any{"rate": o.PartnerFeeRate, "policy": o.PartnerFeePolicy})
}

// profileOf is the applicant's profile without personal data.
func profileOf(c plan.Customer) map[string]any {
	return map[string]any{
		"age": c.Age, "occupation": c.Occupation, "monthly_income": c.MonthlyIncome,
		"monthly_debt_payments": c.MonthlyDebtPayments, "assets": c.Assets, "liabilities": c.Liabilities,
		"monthly_spend": c.MonthlySpend, "credit_history": c.CreditHistory,
	}
}

func storeOffers(offers []plan.Offer, currency string, expire time.Time) []store.Offer {
	out := make([]store.Offer, len(offers))
	for i, o := range offers {
		out[i] = store.Offer{
			No: o.No, Method: string(o.Method), Amount: o.Amount, Currency: currency, Terms: o.Terms,
			Frequency: string(o.Frequency), AnnualRate: o.AnnualRate, FeeRate: o.MonthlyFeeRate, FeeUpfront: o.FeeUpfront,
			Instalment: o.Instalment, TotalCost: o.TotalCost, APRNominal: o.APRNominal, APREffective: o.APREffective,
			ExpiresAt: expire, Details: mustJSON(map[string]any{"label": o.Label, "total_payment": o.TotalPayment}),
		}
	}
	return out
}

// RecordOffersInput is a new offer set (or a refused counter-offer).
type RecordOffersInput struct {
	PlanID string
	// Set is the number of the offer set (from 1); Round the counter-offer
	// round that asked for it (0 after a review).
	Set       int
	Round     int
	Offers    []plan.Offer
	ExpireAt  time.Time
	RequestID string
	Actor     string
	// Note explains the set: the reviewer, or a counter-offer's refusal.
	Note    string
	State   plan.State
	Counter *plan.CounterOfferRequest
	// At is when the offers were made (the workflow's time).
	At time.Time
	// Calendar is the plan's business calendar (contact rules, compressed demos).
	Calendar Calendar
}

// RecordOffers stores an offer set made after a review or a counter-offer
// (or the refusal of a counter-offer), answers the request, and tells the
// customer.
func (a *Activities) RecordOffers(ctx context.Context, in RecordOffersInput) error {
	planID, p, app, cust, err := a.load(ctx, in.PlanID)
	if err != nil {
		return err
	}
	kind, payload := "review_decision", any(map[string]any{"note": in.Note})
	if in.Counter != nil {
		kind, payload = "negotiate", in.Counter
	}
	if len(in.Offers) > 0 {
		if _, err := a.Store.SaveOffers(ctx, app.ID, in.Set, storeOffers(in.Offers, p.Currency, in.ExpireAt)); err != nil {
			return classify(fmt.Errorf("record offer set %d of plan %s: %w", in.Set, planID, err))
		}
	}
	if p.State == string(plan.StateReview) && in.State == plan.StateOffered {
		if _, err := a.Store.SetPlanState(ctx, planID, store.StateChange{From: p.State, To: string(in.State), Reason: in.Note, Actor: in.Actor}); err != nil {
			return classify(err)
		}
	}
	status, result := "completed", map[string]any{"offers": len(in.Offers), "offer_set": in.Set, "round": in.Round}
	if len(in.Offers) == 0 {
		status, result = "rejected", map[string]any{"reason": in.Note}
	}
	if err := a.answer(ctx, planID, in.RequestID, kind, in.Actor, payload, status, result); err != nil {
		return err
	}
	body := fmt.Sprintf("New offers are waiting for you until %s.", in.ExpireAt.UTC().Format("2006-01-02"))
	if len(in.Offers) == 0 {
		body = "We could not offer what you asked for: " + in.Note
	}
	return a.notify(ctx, planID, cust, fmt.Sprintf("offers:%d:%s", in.Round, in.RequestID), body, in.Calendar, in.At)
}

// RecordAgreementInput is the agreement rendered for the chosen offer.
type RecordAgreementInput struct {
	PlanID   string
	Version  int
	Offer    plan.Offer
	OfferSet int
	Document Document
	// Start is the plan's start date the agreement's schedule runs from.
	Start     calc.Date
	ExpireAt  time.Time
	RequestID string
	// At is when the offer was chosen (the workflow's time).
	At time.Time
	// Calendar is the plan's business calendar (contact rules, compressed demos).
	Calendar Calendar
	// Repeatable: an agreement version already stored is answered with
	// what was stored (see Repeatable).
	Repeatable bool
}

// RecordedAgreement is the agreement as an earlier attempt stored it
// (Repeat); zero when this attempt stored the input's.
type RecordedAgreement struct {
	Document Document
	Start    calc.Date
	ExpireAt time.Time
	// Offer is the number of the offer the stored agreement renders (a
	// Repeat's may differ from the one asked for now).
	Offer int
	// Repeat says an earlier attempt stored it.
	Repeat bool
}

// RecordAgreement stores the chosen offer's terms and the agreement, moves
// the plan to signing and tells the customer.
func (a *Activities) RecordAgreement(ctx context.Context, in RecordAgreementInput) (res RecordedAgreement, err error) {
	err = a.inTx(ctx, func(a *Activities) error {
		res, err = a.recordAgreement(ctx, in)
		return err
	})
	return res, err
}

func (a *Activities) recordAgreement(ctx context.Context, in RecordAgreementInput) (RecordedAgreement, error) {
	planID, p, app, cust, err := a.load(ctx, in.PlanID)
	if err != nil {
		return RecordedAgreement{}, err
	}
	// While the plan is offered no attempt stored this version: the plan
	// goes to signing with it.
	if in.Repeatable && p.State != string(plan.StateOffered) {
		ag, err := a.Store.GetAgreement(ctx, planID, in.Version)
		if err == nil && p.Terms == nil {
			return RecordedAgreement{}, typed("Conflict", fmt.Errorf("plan %s has agreement v%d but no terms", planID, in.Version))
		}
		if err == nil {
			chosen, err := a.Store.GetOffer(ctx, ag.OfferID)
			if err != nil {
				return RecordedAgreement{}, classify(fmt.Errorf("load the offer of agreement v%d of plan %s: %w", in.Version, planID, err))
			}
			slog.InfoContext(ctx, "agreement already recorded: answered with what was stored", "plan", planID, "version", in.Version,
				"offer", chosen.No, "asked", in.Offer.No)
			return RecordedAgreement{
				Document: Document{Text: ag.Document, SHA256: ag.SHA256}, Start: calc.DateOf(p.Terms.StartDate), ExpireAt: ag.ExpiresAt,
				Offer: chosen.No, Repeat: true,
			}, nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return RecordedAgreement{}, classify(fmt.Errorf("look for agreement v%d of plan %s already recorded: %w", in.Version, planID, err))
		}
	}
	// The workflow has what it gave: the answer stays small in history.
	return RecordedAgreement{}, a.writeAgreement(ctx, planID, p, app, cust, in)
}

func (a *Activities) writeAgreement(ctx context.Context, planID uuid.UUID, p store.Plan, app store.Application, cust store.Customer, in RecordAgreementInput) error {
	offers, err := a.Store.Offers(ctx, app.ID, in.OfferSet)
	if err != nil {
		return classify(fmt.Errorf("load offer set %d of plan %s: %w", in.OfferSet, planID, err))
	}
	var offerID uuid.UUID
	for _, o := range offers {
		if o.No == in.Offer.No {
			offerID = o.ID
		}
	}
	if offerID == uuid.Nil {
		return typed("InvalidInput", fmt.Errorf("plan %s has no offer %d in offer set %d", planID, in.Offer.No, in.OfferSet))
	}
	if _, err := a.Store.SetPlanTerms(ctx, planID, offerID, store.PlanTerms{
		Principal: in.Offer.Amount, Method: string(in.Offer.Method), Terms: in.Offer.Terms, Frequency: string(in.Offer.Frequency),
		AnnualRate: in.Offer.AnnualRate, FeeRate: in.Offer.MonthlyFeeRate, FeeUpfront: in.Offer.FeeUpfront,
		StartDate: in.Start.At(time.UTC, 0, 0, 0),
	}); err != nil {
		return classify(fmt.Errorf("record terms of plan %s: %w", planID, err))
	}
	if _, err := a.Store.SaveAgreement(ctx, store.Agreement{
		PlanID: planID, Version: in.Version, OfferID: offerID, Document: in.Document.Text, SHA256: in.Document.SHA256, ExpiresAt: in.ExpireAt,
	}); err != nil {
		return classify(fmt.Errorf("record agreement v%d of plan %s: %w", in.Version, planID, err))
	}
	if p.State == string(plan.StateOffered) {
		if _, err := a.Store.SetPlanState(ctx, planID, store.StateChange{From: p.State, To: string(plan.StateSigning), Reason: fmt.Sprintf("offer %d chosen", in.Offer.No), Actor: "customer"}); err != nil {
			return classify(err)
		}
	}
	if err := a.answer(ctx, planID, in.RequestID, "choose_offer", "customer", map[string]any{"offer": in.Offer.No},
		"completed", map[string]any{"agreement_version": in.Version}); err != nil {
		return err
	}
	// The notice names the agreement's version, not its hash: the hash of a
	// document built from public terms and the borrower's name would let
	// anyone who reads the outbox test names.
	return a.notify(ctx, planID, cust, fmt.Sprintf("agreement:%d", in.Version),
		fmt.Sprintf("Your agreement is ready to sign until %s (version %d).", in.ExpireAt.UTC().Format("2006-01-02"), in.Version), in.Calendar, in.At)
}

// ActivateInput is the signed plan to activate.
type ActivateInput struct {
	PlanID           string
	CustomerID       string
	Offer            plan.Offer
	Schedule         calc.Schedule
	CreditLimit      decimal.Decimal
	AgreementVersion int
	Signature        plan.SignRequest
	SignedAt         time.Time
	// Start is the plan's start date (the agreement's).
	Start calc.Date
	// Calendar places the first reminder.
	Calendar Calendar
	// Reminders are the pre-due reminder offsets (default D-3 08:00).
	Reminders plan.Reminders
	// Repeatable: a signature already stored keeps its signing time (see
	// Repeatable).
	Repeatable bool
}

// ActivateResult says whether the plan is active, or why not.
type ActivateResult struct {
	Activated bool
	// Reason is why the credit line could not take the plan.
	Reason string
	// Available is the credit left after this plan.
	Available decimal.Decimal
	// Contacts is the plan's contact history after activation.
	Contacts []contact.Attempt
	// SignedAt is when the agreement was signed: the input's, or, for a
	// Repeatable activation, the stored signature's.
	SignedAt time.Time
}

// Activate records the signature, reserves the credit line (available =
// limit - outstanding of the customer's other plans), stores the schedule
// as version 1 and makes the plan active, then sends the schedule notice.
// A credit line that cannot cover the plan is a business outcome, not an
// error.
func (a *Activities) Activate(ctx context.Context, in ActivateInput) (res ActivateResult, err error) {
	err = a.inTx(ctx, func(a *Activities) error {
		res, err = a.activate(ctx, in)
		return err
	})
	return res, err
}

func (a *Activities) activate(ctx context.Context, in ActivateInput) (ActivateResult, error) {
	planID, p, _, cust, err := a.load(ctx, in.PlanID)
	if err != nil {
		return ActivateResult{}, err
	}
	if in.Repeatable {
		// The rest is keyed by business identity and repeats exactly once
		// the signing time is the stored one.
		signedAt, err := a.Store.AgreementSignedAt(ctx, planID, in.AgreementVersion)
		if err != nil {
			return ActivateResult{}, classify(fmt.Errorf("load agreement v%d of plan %s: %w", in.AgreementVersion, planID, err))
		}
		if !signedAt.IsZero() {
			// Signed by the lost attempt: its signature stands (the repeat
			// may come from another request, with other details).
			ag, err := a.Store.GetAgreement(ctx, planID, in.AgreementVersion)
			if err != nil || ag.Signature == nil {
				return ActivateResult{}, classify(fmt.Errorf("load the signature of agreement v%d of plan %s: %w", in.AgreementVersion, planID, err))
			}
			slog.InfoContext(ctx, "agreement already signed: activating with the stored signature", "plan", planID,
				"version", in.AgreementVersion, "signed_at", ag.Signature.SignedAt)
			in.SignedAt = ag.Signature.SignedAt
			in.Signature.PaperRef = ag.Signature.PaperReference
			if ag.Signature.Kind == "electronic" {
				in.Signature.Name = ag.Signature.SignerName
			}
			in.Signature.Consent = true
		}
	}
	if p.State != string(plan.StateActive) {
		// Check the credit line before the signature is recorded, so that
		// a plan it cannot cover is declined with its agreement unsigned.
		// ActivatePlan checks again under lock.
		limit, used, err := a.Store.CreditLine(ctx, p.CustomerID)
		if err != nil {
			return ActivateResult{}, classify(fmt.Errorf("check credit line of plan %s: %w", planID, err))
		}
		if !limit.IsZero() || !used.IsZero() {
			limit = decimal.Max(limit, in.CreditLimit)
		} else {
			limit = in.CreditLimit
		}
		if avail := limit.Sub(used); in.Offer.Amount.GreaterThan(avail) {
			return ActivateResult{SignedAt: in.SignedAt, Reason: fmt.Sprintf("Your credit line cannot cover this plan: %s available of a %s limit, %s needed.",
				calc.FormatMoney(avail), calc.FormatMoney(limit), calc.FormatMoney(in.Offer.Amount))}, nil
		}
	}
	sig := in.Signature
	signer, consent := sig.Name, sig.Consent
	if sig.Kind() == "paper" {
		// A paper form is signed by the customer, whose consent is the
		// signature itself; the form is kept under its reference.
		signer, consent = cust.Name, true
	}
	if _, err := a.Store.SignAgreement(ctx, planID, in.AgreementVersion, store.Signature{
		Kind: sig.Kind(), SignerName: signer, PaperReference: sig.PaperRef, Consent: consent,
		SignedHash: sig.DocumentHash, SignedAt: in.SignedAt,
	}); err != nil {
		return ActivateResult{}, classify(fmt.Errorf("record signature of plan %s: %w", planID, err))
	}
	rows := make([]store.Instalment, len(in.Schedule.Rows))
	for i, r := range in.Schedule.Rows {
		rows[i] = store.Instalment{
			PlanID: planID, ScheduleVersion: 1, No: r.No, DueDate: r.DueDate.At(time.UTC, 0, 0, 0), Currency: p.Currency,
			Principal: r.Principal, Interest: r.Interest, Fee: r.Fee, Payment: r.Payment, BalanceAfter: r.Balance, Holiday: r.Holiday,
		}
	}
	res, err := a.Store.ActivatePlan(ctx, store.Activation{
		PlanID: planID, CreditLimit: in.CreditLimit, Principal: in.Offer.Amount,
		StartDate: in.Start.At(time.UTC, 0, 0, 0),
		Version: store.ScheduleVersion{PlanID: planID, Version: 1, Reason: "activation", RequestID: sig.RequestID,
			Params: mustJSON(in.Offer)},
		Rows: rows,
	})
	if errors.Is(err, store.ErrCreditLine) {
		return ActivateResult{SignedAt: in.SignedAt, Reason: fmt.Sprintf("Your credit line cannot cover this plan: %v", errors.Unwrap(err))}, nil
	}
	if err != nil {
		return ActivateResult{}, classify(fmt.Errorf("activate plan %s: %w", planID, err))
	}
	if err := a.answer(ctx, planID, sig.RequestID, "sign_agreement", "customer", sig, "completed",
		map[string]any{"state": "active", "schedule_version": 1}); err != nil {
		return ActivateResult{}, err
	}
	// Auto-debit draws from the customer's funding account (one per
	// customer, its id derived from the customer's).
	acct, err := a.Store.CreateAccount(ctx, store.Account{
		ID: uuid.NewSHA1(p.CustomerID, []byte("funding-account")), CustomerID: p.CustomerID, Label: "default", Currency: p.Currency,
	})
	if err != nil {
		return ActivateResult{}, classify(fmt.Errorf("open funding account for plan %s: %w", planID, err))
	}
	if p, err = a.Store.SetFundingAccount(ctx, planID, acct.ID); err != nil {
		return ActivateResult{}, classify(fmt.Errorf("link funding account to plan %s: %w", planID, err))
	}
	first, last := in.Schedule.Rows[0], in.Schedule.Rows[len(in.Schedule.Rows)-1]
	body := fmt.Sprintf("Your plan is active: %d instalments of %s from %s to %s, %s in all. Annualised rate %s%% (effective %s%%).",
		len(in.Schedule.Rows), calc.FormatMoney(first.Payment), first.DueDate, last.DueDate, calc.FormatMoney(in.Schedule.TotalPayment),
		in.Schedule.APRNominal.StringFixed(2), in.Schedule.APREffective.StringFixed(2))
	if err := a.notifyPurpose(ctx, planID, cust, "schedule_notice", "schedule:1", body, in.Calendar, in.SignedAt); err != nil {
		return ActivateResult{}, err
	}
	if _, err := a.queueReminders(ctx, p, cust, 1, in.Calendar.Clock.Business(in.SignedAt), in.Calendar, false, in.Reminders); err != nil {
		return ActivateResult{}, err
	}
	recent, err := a.recentContacts(ctx, planID, in.Calendar, in.Calendar.Clock.Business(in.SignedAt))
	if err != nil {
		return ActivateResult{}, err
	}
	return ActivateResult{Activated: true, Available: res.Available, Contacts: recent, SignedAt: in.SignedAt}, nil
}

// StepStoredInput asks whether an onboarding step of the plan is stored.
type StepStoredInput struct {
	PlanID string
	// AgreementVersion is the agreement the step records (Signed false)
	// or signs (Signed true).
	AgreementVersion int
	Signed           bool
}

// StepStored says whether agreement AgreementVersion of the plan is
// stored (signed, with Signed). Reads only: the plan workflow asks it when
// a deadline and a message for that step reach it together (see
// workflows.committedLate).
func (a *Activities) StepStored(ctx context.Context, in StepStoredInput) (bool, error) {
	planID, err := parsePlanID(in.PlanID)
	if err != nil {
		return false, err
	}
	signedAt, err := a.Store.AgreementSignedAt(ctx, planID, in.AgreementVersion)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, classify(fmt.Errorf("look for agreement v%d of plan %s: %w", in.AgreementVersion, planID, err))
	}
	return !in.Signed || !signedAt.IsZero(), nil
}

// RequestRecord is a request as kept in the requests table.
type RequestRecord struct {
	ID      string
	Kind    string
	Actor   string
	Payload any
	Status  string
}

// RecordOutcomeInput is a final outcome before activation.
type RecordOutcomeInput struct {
	PlanID  string
	State   plan.State
	Reasons []string
	// Request is the request that caused the outcome, if any.
	Request *RequestRecord
	// ExpireAgreement, when not 0, is the version of a pending agreement
	// that will never be signed now.
	ExpireAgreement int
	// At is when the outcome happened (the workflow's time).
	At time.Time
	// Calendar is the plan's business calendar (contact rules, compressed demos).
	Calendar Calendar
}

// RecordOutcome moves the plan to a final state (declined, expired,
// withdrawn), expires its unsigned agreement, answers the request that
// caused it and tells the customer.
func (a *Activities) RecordOutcome(ctx context.Context, in RecordOutcomeInput) error {
	planID, p, _, cust, err := a.load(ctx, in.PlanID)
	if err != nil {
		return err
	}
	reason := strings.Join(in.Reasons, " ")
	switch plan.State(p.State) {
	case in.State, plan.StateAssessing, plan.StateReview, plan.StateOffered, plan.StateSigning:
	default:
		// Only an onboarding ends this way; the workflow and the database
		// disagree, and the plan waits (visibly) rather than lose its state.
		return typed("Conflict", fmt.Errorf("plan %s is %s: it cannot be %s before activation", planID, p.State, in.State))
	}
	if in.ExpireAgreement > 0 {
		if ag, err := a.Store.GetAgreement(ctx, planID, in.ExpireAgreement); err != nil {
			return classify(fmt.Errorf("load agreement v%d of plan %s: %w", in.ExpireAgreement, planID, err))
		} else if ag.Status == "pending" {
			if _, err := a.Store.SetAgreementStatus(ctx, planID, in.ExpireAgreement, "expired"); err != nil {
				return classify(fmt.Errorf("expire agreement v%d of plan %s: %w", in.ExpireAgreement, planID, err))
			}
		}
	}
	if p.State != string(in.State) {
		if _, err := a.Store.SetPlanState(ctx, planID, store.StateChange{From: p.State, To: string(in.State), Reason: reason, Actor: "system"}); err != nil {
			return classify(err)
		}
	}
	if r := in.Request; r != nil {
		if err := a.answer(ctx, planID, r.ID, r.Kind, r.Actor, r.Payload, r.Status, map[string]any{"state": in.State, "reason": reason}); err != nil {
			return err
		}
	}
	return a.notify(ctx, planID, cust, "outcome:"+string(in.State), outcomeText(in.State, reason), in.Calendar, in.At)
}

func outcomeText(s plan.State, reason string) string {
	switch s {
	case plan.StateWithdrawn:
		return "Your application is withdrawn. " + reason
	case plan.StateExpired:
		return "Your application has expired. " + reason
	default:
		return "We are sorry: your application was declined. " + reason
	}
}

// load parses a plan id and loads the plan with its application and
// customer: the prologue of the persistence activities.
func (a *Activities) load(ctx context.Context, id string) (uuid.UUID, store.Plan, store.Application, store.Customer, error) {
	planID, err := parsePlanID(id)
	if err != nil {
		return uuid.Nil, store.Plan{}, store.Application{}, store.Customer{}, err
	}
	p, app, cust, err := a.planContext(ctx, planID)
	return planID, p, app, cust, err
}

// planContext loads a plan with its application and customer.
func (a *Activities) planContext(ctx context.Context, planID uuid.UUID) (store.Plan, store.Application, store.Customer, error) {
	p, app, cust, err := a.Store.PlanContext(ctx, planID)
	if err != nil {
		return store.Plan{}, store.Application{}, store.Customer{}, classify(fmt.Errorf("load plan %s: %w", planID, err))
	}
	return p, app, cust, nil
}

// answer records a customer or operator request with its outcome, keyed
// by (plan, request id).
func (a *Activities) answer(ctx context.Context, planID uuid.UUID, requestID, kind, actor string, payload any, status string, result any) error {
	if requestID == "" {
		return nil
	}
	payload = redactRequest(kind, payload)
	if _, err := a.Store.SaveAnsweredRequest(ctx, store.Request{
		PlanID: planID, RequestID: requestID, Kind: kind, Actor: actor, Payload: mustJSON(payload), PayloadHash: hashJSON(payload),
	}, status, mustJSON(result)); err != nil {
		return classify(fmt.Errorf("record request %s of plan %s, %s: %w", requestID, planID, status, err))
	}
	return nil
}

// redactRequest is a request payload as the requests table keeps it: a
// signature keeps neither the signer's name (not even masked: that shows
// the surname and the name's length) nor the document hash it quotes (the
// agreement's text differs between borrowers by the name alone, so its
// plain SHA-256 would give the name away); the agreement keeps both, the
// name sealed and the hash keyed. payload is a plan.SignRequest, or the
// map it decodes to when it came through a RequestRecord.
func redactRequest(kind string, payload any) any {
	if kind != "sign_agreement" || payload == nil {
		return payload
	}
	var m map[string]any
	if err := json.Unmarshal(mustJSON(payload), &m); err != nil || m == nil {
		return payload
	}
	delete(m, "name")
	delete(m, "document_hash")
	m["signed_by"] = "customer"
	return m
}
