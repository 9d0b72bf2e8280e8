package activities

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/fenqi/fenqi/calc"
	"github.com/fenqi/fenqi/clock"
	"github.com/fenqi/fenqi/plan"
	"github.com/fenqi/fenqi/store"
	"github.com/fenqi/fenqi/underwriting"
)

// ChangeRecord is one confirmed change of a plan, kept by the workflow for
// the eligibility rules (restructures per year, holiday periods used).
type ChangeRecord struct {
	Kind    string    `json:"kind"`
	AsOf    calc.Date `json:"as_of"`
	Periods int       `json:"periods,omitempty"`
}

// ChangeMessage is one change request; exactly one field is set.
type ChangeMessage struct {
	Cancel      *plan.CancelRequest      `json:"cancel,omitempty"`
	Restructure *plan.RestructureRequest `json:"restructure,omitempty"`
	Holiday     *plan.HolidayRequest     `json:"holiday,omitempty"`
	Prepay      *plan.PrepayRequest      `json:"prepay,omitempty"`
	Waive       *plan.WaiveRequest       `json:"waive,omitempty"`
	Arrears     *plan.ArrearsPlanRequest `json:"arrears,omitempty"`
}

// Request returns the request set, nil when none is.
func (m ChangeMessage) Request() plan.ChangeRequest {
	switch {
	case m.Cancel != nil:
		return *m.Cancel
	case m.Restructure != nil:
		return *m.Restructure
	case m.Holiday != nil:
		return *m.Holiday
	case m.Prepay != nil:
		return *m.Prepay
	case m.Waive != nil:
		return *m.Waive
	case m.Arrears != nil:
		return *m.Arrears
	}
	return nil
}

// QuoteInput asks what a change request would do to a plan now.
type QuoteInput struct {
	PlanID   string
	Version  int
	Revision int
	Request  ChangeMessage
	Calendar Calendar
	// At is the business instant of the quote.
	At time.Time
	// Bucket is the plan's days-past-due bucket.
	Bucket string
	// Cadence is the current schedule's due-date cadence (zero: the
	// agreement's).
	Cadence calc.Cadence
	// Changes are the plan's confirmed changes so far.
	Changes []ChangeRecord
	// MonthlyIncome is the customer's, for the ability-to-pay check.
	MonthlyIncome decimal.Decimal
	// Params are the terms of the current schedule when a change made it
	// (nil: the agreement's).
	Params *plan.ChangeParams
}

// requestKinds maps message names to the kinds the requests table knows.
var requestKinds = map[string]string{
	plan.MsgCancel: "cancel", plan.MsgRestructure: "restructure", plan.MsgHoliday: "pause",
	plan.MsgPrepay: "early_repayment", plan.MsgWaive: "relief", plan.MsgApprove: "request_approval",
	plan.MsgComplain: "complaint", plan.MsgResolve: "complaint_resolution", plan.MsgArrearsPlan: "repayment_plan",
}

// QuoteID is the id of the quote made for request requestID of a plan.
func QuoteID(planID, requestID string) string {
	sum := sha256.Sum256([]byte(planID + "\x00" + requestID))
	return "q-" + hex.EncodeToString(sum[:6])
}

// QuoteChange works out what a change request would do: the new schedule,
// what is due now, the fee, both annualised rates, whether an operator must
// approve, or why it is refused. Nothing about the plan changes but its
// late charges, brought up to today as at any step (stored, monotonic);
// the quote is recorded with its request. Run it as a local activity: it reads the
// plan's schedule and account and computes.
func (a *Activities) QuoteChange(ctx context.Context, in QuoteInput) (plan.Quote, error) {
	req := in.Request.Request()
	if req == nil {
		return plan.Quote{}, typed("InvalidInput", fmt.Errorf("quote for plan %s: no request given", in.PlanID))
	}
	planID, p, _, _, err := a.load(ctx, in.PlanID)
	if err != nil {
		return plan.Quote{}, err
	}
	// A quote already made and recorded under this request id is the
	// answer: a worker that died after recording it, before the plan
	// took it, leaves the plan to ask again at a later time, and a new
	// quote would contradict the record (and be refused by it).
	if q, ok, err := a.recordedQuote(ctx, planID, in.PlanID, req); err != nil || ok {
		return q, err
	}
	rules := a.policy().Requests
	asOf := clock.LocalDate(in.At, in.Calendar.loc())
	// The quote carries the late charges as of today.
	_, rows, err := a.accrue(ctx, planID, in.Version, asOf, annualRate(p))
	if err != nil {
		return plan.Quote{}, err
	}
	q := plan.Quote{
		ID: QuoteID(in.PlanID, req.ID()), Kind: req.Kind(), RequestID: req.ID(), TermsKey: req.TermsKey(),
		Revision: in.Revision, AsOf: asOf, ExpiresAt: in.At.Add(time.Duration(rules.QuoteValidHours) * time.Hour),
		ScheduleVersion: in.Version, Eligible: true,
		DueNow: decimal.Zero, Fee: decimal.Zero, Capitalised: decimal.Zero, PaidAhead: decimal.Zero,
		Penalty: decimal.Zero, Instalment: decimal.Zero, TotalPayable: decimal.Zero,
	}
	terms, cadence, err := planTerms(p, in.Cadence, in.Params)
	if err != nil {
		return plan.Quote{}, err
	}
	pos, open := position(rows, asOf, terms, cadence)
	q.PaidAhead = pos.PaidAhead
	q.Before = figures(pos.Future, pos.PastDue.Total(), terms.Frequency)
	q.Params = plan.ChangeParams{
		Method: terms.Method, AnnualRate: terms.AnnualRate, MonthlyFeeRate: terms.MonthlyFeeRate,
		Frequency: cadence.Frequency, CadenceStart: cadence.Start,
	}
	refusal, err := a.quote(ctx, &q, in, p, pos, open, rules)
	if err != nil {
		return plan.Quote{}, err
	}
	if refusal != "" {
		q.Eligible, q.Refusal = false, refusal
	}
	status := store.RequestCompleted
	if !q.Eligible {
		status = store.RequestRejected
	}
	if err := a.answer(ctx, planID, req.ID(), requestKinds[req.Kind()], actorOf(req), req, status, q); err != nil {
		return plan.Quote{}, err
	}
	slog.InfoContext(ctx, "change quoted", "plan_id", planID, "kind", q.Kind, "quote_id", q.ID, "eligible", q.Eligible, "refusal", q.Refusal)
	return q, nil
}

// recordedQuote returns the quote recorded as the answer to req, if one
// is.
func (a *Activities) recordedQuote(ctx context.Context, planID uuid.UUID, planRef string, req plan.ChangeRequest) (plan.Quote, bool, error) {
	r, err := a.Store.GetRequest(ctx, planID, req.ID())
	if errors.Is(err, store.ErrNotFound) {
		return plan.Quote{}, false, nil
	}
	if err != nil {
		return plan.Quote{}, false, classify(fmt.Errorf("look up request %s of plan %s: %w", req.ID(), planID, err))
	}
	if !store.FinalRequestStatus(r.Status) || len(r.Result) == 0 {
		return plan.Quote{}, false, nil
	}
	var q plan.Quote
	if err := json.Unmarshal(r.Result, &q); err != nil || q.ID != QuoteID(planRef, req.ID()) || q.Kind != req.Kind() {
		return plan.Quote{}, false, nil
	}
	return q, true, nil
}

// actorOf is who sent a request: an operator's waiver, else the customer.
func actorOf(r plan.Request) string {
	if _, ok := r.(plan.WaiveRequest); ok {
		return "operator"
	}
	return "customer"
}

// quote fills q for its kind and returns a refusal, "" when eligible.
func (a *Activities) quote(ctx context.Context, q *plan.Quote, in QuoteInput, p store.Plan, pos calc.Position, open []calc.OpenInstalment, rules underwriting.RequestRules) (string, error) {
	var (
		ch  calc.Change
		err error
	)
	settle := rules.Settlement.Terms()
	switch r := in.Request.Request().(type) {
	case plan.CancelRequest:
		if BucketAbove(in.Bucket, rules.CancelMaxBucket) {
			return fmt.Sprintf("the plan is %s (%s); instalments can be cancelled only up to %s: ask us about a repayment plan", in.Bucket, bucketWords(in.Bucket), rules.CancelMaxBucket), nil
		}
		if r.Mode == plan.CancelFewerTerms {
			ch, err = calc.CancelFewerTerms(pos, settle, r.Terms)
		} else {
			ch, err = calc.CancelLumpSum(pos, settle, r.AtNextDue)
		}
		q.Params.Cancels, q.Params.Closes = true, true
	case plan.PrepayRequest:
		if r.Full() {
			ch, err = calc.PrepayFull(pos, settle)
			q.Params.Closes = true
		} else {
			ch, err = calc.PrepayPart(pos, settle, r.Amount, r.Reduce == plan.ReduceTerm)
		}
	case plan.RestructureRequest:
		if last, n := recent(in.Changes, plan.MsgRestructure, q.AsOf); n >= rules.RestructuresPerYear {
			return fmt.Sprintf("a plan can be restructured %d time(s) in 12 months; the last restructure was on %s", rules.RestructuresPerYear, last), nil
		}
		ch, err = calc.Restructure(pos, calc.RestructureTerms{Terms: r.Terms, MaxInstalment: r.MaxInstalment, Frequency: r.Frequency, MaxTerms: rules.RestructureMaxTerms})
		if err == nil {
			extra := len(ch.Rows) - countRegular(pos.Future)
			q.NeedsApproval = !BucketAbove(rules.RestructureApprovalBucket, in.Bucket) || extra > rules.RestructureApprovalTerms
		}
	case plan.HolidayRequest:
		used := 0
		for _, c := range in.Changes {
			if c.Kind == plan.MsgHoliday {
				used += c.Periods
			}
		}
		if used+r.Periods > rules.HolidayMaxPeriods {
			return fmt.Sprintf("a plan can pause at most %d instalments in all; %d are used", rules.HolidayMaxPeriods, used), nil
		}
		ch, err = calc.Holiday(pos, r.Periods, rules.HolidayInterest)
		q.Params.Paused = r.Periods
	case plan.WaiveRequest:
		return a.quoteWaiver(q, r, open)
	case plan.ArrearsPlanRequest:
		switch {
		case BucketAbove(in.Bucket, rules.ArrearsMaxBucket):
			return fmt.Sprintf("the plan is %s (%s); an arrears plan is offered only up to %s", in.Bucket, bucketWords(in.Bucket), rules.ArrearsMaxBucket), nil
		case r.Instalments > rules.ArrearsMaxInstalments:
			return fmt.Sprintf("the arrears can be split into at most %d instalments", rules.ArrearsMaxInstalments), nil
		}
		ch, err = calc.ArrearsPlan(pos, r.Instalments)
		q.Reason = fmt.Sprintf("the %s past due (late charges aside) split into %d instalments", calc.FormatMoney(pos.PastDue.Total().Sub(pos.PastDue.Penalty)), r.Instalments)
		q.NeedsApproval = !BucketAbove(rules.ArrearsApprovalBucket, in.Bucket)
	}
	var inputErr *calc.InputError
	if errors.As(err, &inputErr) {
		return inputErr.Error(), nil
	}
	if err != nil {
		return "", typed("InvalidInput", fmt.Errorf("quote %s for plan %s: %w", q.Kind, in.PlanID, err))
	}
	fillChange(q, ch, pos)
	return a.ableToPay(ctx, q, in, p, rules)
}

// fillChange copies a calculated change into the quote.
func fillChange(q *plan.Quote, ch calc.Change, pos calc.Position) {
	q.Schedule, q.Penalty, q.Fee, q.Capitalised, q.DueNow = ch.Rows, ch.Penalty, ch.Fee, ch.Capitalised, ch.DueNow
	q.Instalment, q.TotalPayable = ch.Instalment, ch.TotalPayable
	if s := ch.Settlement; s != nil {
		q.Settlement = &plan.Settlement{
			Policy: s.Policy, Principal: s.Principal, Interest: s.Interest, Fee: s.Fee, Penalty: s.Penalty,
			Charge: s.Charge, Total: s.Total, PastDue: s.PastDue.Total(),
		}
	}
	left := 0
	for _, r := range ch.Rows {
		if !r.Holiday && !(ch.DueNow.IsPositive() && r.DueDate == q.AsOf) {
			left++ // rows collected at confirmation are not left to pay
		}
	}
	q.After = plan.Figures{
		Instalments: left, Instalment: ch.Instalment, Remaining: ch.TotalPayable.Sub(ch.DueNow).Sub(pos.PaidAhead),
		APRNominal: ch.APRNominal, APREffective: ch.APREffective,
	}
	if q.After.Remaining.IsNegative() {
		q.After.Remaining = decimal.Zero
	}
	q.Params.Method, q.Params.AnnualRate, q.Params.MonthlyFeeRate = ch.Method, ch.AnnualRate, ch.MonthlyFeeRate
	if q.Params.Cancels {
		// The instalment arrangement ends: no further interest or fee.
		q.Params.Method, q.Params.AnnualRate, q.Params.MonthlyFeeRate = calc.MethodZero, decimal.Zero, decimal.Zero
	}
	q.Params.Frequency, q.Params.CadenceStart = ch.Cadence.Frequency, ch.Cadence.Start
	q.Summary = summary(q)
}

// ableToPay checks that the customer can pay what the change asks: the
// money due now must be on the funding account, and a new regular
// instalment may take at most the policy's share of the monthly income.
func (a *Activities) ableToPay(ctx context.Context, q *plan.Quote, in QuoteInput, p store.Plan, rules underwriting.RequestRules) (string, error) {
	if q.DueNow.IsPositive() {
		acct, err := a.Store.GetAccount(ctx, p.FundingAccountID)
		if err != nil {
			return "", classify(fmt.Errorf("load funding account of plan %s: %w", p.ID, err))
		}
		if acct.Balance.LessThan(q.DueNow) {
			return fmt.Sprintf("%s is due now but your account holds %s: top it up first", calc.FormatMoney(q.DueNow), calc.FormatMoney(acct.Balance)), nil
		}
	}
	lengthens := q.Kind == plan.MsgRestructure || q.Kind == plan.MsgHoliday
	if in.MonthlyIncome.IsPositive() && !lengthens && q.After.Instalments > 1 {
		limit := calc.RoundMoney(in.MonthlyIncome.Mul(rules.MaxIncomeShare))
		monthly := q.Instalment
		if q.Params.Frequency == calc.Quarterly {
			monthly = calc.RoundMoney(monthly.Div(decimal.NewFromInt(3)))
		}
		if monthly.GreaterThan(limit) && monthly.GreaterThan(q.Before.Instalment) {
			return fmt.Sprintf("the new instalment of %s would be more than %s of your monthly income (%s): choose more instalments", calc.FormatMoney(q.Instalment), rules.MaxIncomeShare.Shift(2).String()+"%", calc.FormatMoney(limit)), nil
		}
	}
	if q.Kind == plan.MsgCancel && !q.DueNow.IsPositive() && q.After.Instalments <= 1 {
		// A lump sum at the next due date: the customer must be able to
		// pay it by then.
		acct, err := a.Store.GetAccount(ctx, p.FundingAccountID)
		if err != nil {
			return "", classify(fmt.Errorf("load funding account of plan %s: %w", p.ID, err))
		}
		can := acct.Balance.Add(calc.RoundMoney(in.MonthlyIncome.Mul(rules.MaxIncomeShare)))
		if q.TotalPayable.GreaterThan(can) {
			return fmt.Sprintf("a lump sum of %s on %s is more than your account (%s) and %s of a month's income can cover: choose fewer terms", calc.FormatMoney(q.TotalPayable), firstDue(q), calc.FormatMoney(acct.Balance), rules.MaxIncomeShare.Shift(2).String()+"%"), nil
		}
	}
	// The legal cap applies to a schedule that goes on, not to settling
	// one: a settlement's charge over a short time shows as a high rate.
	if q.After.APRNominal.IsPositive() && !q.Params.Closes && !q.Params.Cancels {
		if _, err := a.policy().RateCap.Check(q.After.APRNominal); err != nil {
			return fmt.Sprintf("the new schedule would cost %s%% a year, above the legal cap", q.After.APRNominal.StringFixed(2)), nil
		}
	}
	return "", nil
}

// quoteWaiver spreads a waiver over the open instalments, oldest first.
func (a *Activities) quoteWaiver(q *plan.Quote, r plan.WaiveRequest, open []calc.OpenInstalment) (string, error) {
	parts, err := calc.WaiveOldestFirst(open, r.Component, r.Amount)
	var inputErr *calc.InputError
	if errors.As(err, &inputErr) {
		return inputErr.Error(), nil
	}
	if err != nil {
		return "", typed("InvalidInput", fmt.Errorf("quote waiver for plan: %w", err))
	}
	owed := decimal.Zero
	for _, o := range open {
		owed = owed.Add(o.Owed.Total())
	}
	for _, p := range parts {
		q.Waived = append(q.Waived, plan.Waived{No: p.No, Component: r.Component, Amount: p.Amount})
	}
	q.After = q.Before
	q.After.Remaining = owed.Sub(r.Amount)
	q.Before.Remaining = owed
	q.Summary = fmt.Sprintf("waive %s of %s (%s)", calc.FormatMoney(r.Amount), r.Component, r.Reason)
	q.Reason = r.Reason
	return "", nil
}

// planTerms returns the plan's contract terms and the cadence of its
// current schedule (given, or the agreement's).
func planTerms(p store.Plan, cadence calc.Cadence, params *plan.ChangeParams) (calc.Terms, calc.Cadence, error) {
	if p.Terms == nil {
		return calc.Terms{}, calc.Cadence{}, typed("InvalidInput", fmt.Errorf("plan %s has no terms: it is %s", p.ID, p.State))
	}
	t := calc.Terms{
		Method: calc.Method(p.Terms.Method), Principal: p.Terms.Principal, Terms: p.Terms.Terms,
		AnnualRate: p.Terms.AnnualRate, MonthlyFeeRate: p.Terms.FeeRate, FeeUpfront: p.Terms.FeeUpfront,
		Frequency: calc.Frequency(p.Terms.Frequency), Start: calc.DateOf(p.Terms.StartDate),
	}
	if params != nil {
		// A change's schedule has its own terms: a fee charged up front is
		// not charged again, a cancelled arrangement charges no interest,
		// a restructure may have changed the frequency.
		t.Method, t.AnnualRate, t.MonthlyFeeRate, t.FeeUpfront = params.Method, params.AnnualRate, params.MonthlyFeeRate, false
		t.Frequency = params.Frequency
	}
	if t.Frequency == "" {
		t.Frequency = calc.Monthly
	}
	if cadence.Start.IsZero() {
		cadence = calc.Cadence{Start: t.Start, Frequency: t.Frequency}
	}
	return t, cadence, nil
}

// position is where the plan stands on asOf: what instalments due before
// it still owe, and the instalments due from it on as scheduled, with the
// money already paid on them. It also returns every open instalment with
// what it owes, for waivers.
func position(rows []store.Instalment, asOf calc.Date, terms calc.Terms, cadence calc.Cadence) (calc.Position, []calc.OpenInstalment) {
	pos := calc.Position{Terms: terms, Cadence: cadence, AsOf: asOf, PastDue: calc.Amounts{
		Penalty: decimal.Zero, Fee: decimal.Zero, Interest: decimal.Zero, Principal: decimal.Zero}, PaidAhead: decimal.Zero}
	var open []calc.OpenInstalment
	for _, r := range openRows(rows, calc.Date{}) {
		open = append(open, calc.OpenInstalment{No: r.No, DueDate: calc.DateOf(r.DueDate), Owed: r.Owed})
	}
	for _, r := range rows {
		due := calc.DateOf(r.DueDate)
		switch r.Status {
		case store.InstalmentWaived, store.InstalmentSuperseded:
			continue
		case store.InstalmentPaid:
			if due.Before(asOf) {
				continue
			}
			// Paid ahead in full: still the current period (or a later
			// one), its money re-applied to the new schedule.
		}
		if pos.FirstNo == 0 || r.No < pos.FirstNo {
			pos.FirstNo = r.No
		}
		if due.Before(asOf) {
			pos.PastDue = pos.PastDue.Add(calc.Amounts{
				Penalty:   r.PenaltyAccrued.Sub(r.PaidPenalty).Sub(r.WaivedPenalty),
				Fee:       r.Fee.Sub(r.PaidFee).Sub(r.WaivedFee),
				Interest:  r.Interest.Sub(r.PaidInterest).Sub(r.WaivedInterest),
				Principal: r.Principal.Sub(r.PaidPrincipal),
			})
			continue
		}
		// A penalty carried onto it (by an earlier change) is owed now and
		// carried again; what was paid of it is re-applied with the rest of
		// the money paid ahead.
		pos.PastDue.Penalty = pos.PastDue.Penalty.Add(r.PenaltyAccrued.Sub(r.WaivedPenalty))
		// What was waived on it is not owed again.
		interest, fee := r.Interest.Sub(r.WaivedInterest), r.Fee.Sub(r.WaivedFee)
		pos.Future = append(pos.Future, calc.Row{
			No: r.No, DueDate: due, Principal: r.Principal, Interest: interest, Fee: fee,
			Payment: r.Principal.Add(interest).Add(fee), Balance: r.BalanceAfter, Holiday: r.Holiday,
		})
		pos.PaidAhead = pos.PaidAhead.Add(r.PaidPrincipal).Add(r.PaidInterest).Add(r.PaidFee).Add(r.PaidPenalty)
	}
	if pos.FirstNo == 0 {
		pos.FirstNo = 1
	}
	return pos, open
}

// figures describe the remaining instalments.
func figures(rows []calc.Row, pastDue decimal.Decimal, f calc.Frequency) plan.Figures {
	fig := plan.Figures{Instalment: decimal.Zero, Remaining: pastDue, APRNominal: decimal.Zero, APREffective: decimal.Zero}
	var payments []decimal.Decimal
	balance := decimal.Zero
	for _, r := range rows {
		fig.Remaining = fig.Remaining.Add(r.Payment)
		if r.Holiday {
			continue
		}
		fig.Instalments++
		fig.Instalment = decimal.Max(fig.Instalment, r.Payment)
		balance = balance.Add(r.Principal)
		payments = append(payments, r.Payment)
	}
	if balance.IsPositive() && len(payments) > 0 {
		if rate, err := calc.AnnualisedIRR(balance, payments, f.PeriodsPerYear()); err == nil {
			fig.APRNominal, fig.APREffective = rate.Nominal, rate.Effective
		}
	}
	return fig
}

// countRegular counts the rows that collect something.
func countRegular(rows []calc.Row) int {
	n := 0
	for _, r := range rows {
		if !r.Holiday {
			n++
		}
	}
	return n
}

// recent returns the date of the latest change of kind in the 12 months
// before asOf and how many there were.
func recent(changes []ChangeRecord, kind string, asOf calc.Date) (calc.Date, int) {
	var last calc.Date
	n := 0
	since := asOf.AddMonths(-12)
	for _, c := range changes {
		if c.Kind == kind && c.AsOf.After(since) {
			n++
			last = c.AsOf
		}
	}
	return last, n
}

// BucketAbove reports whether bucket b is worse than limit (M2 is above M1).
func BucketAbove(b, limit string) bool {
	return underwriting.BucketRank(b) > underwriting.BucketRank(limit)
}

func bucketWords(b string) string {
	switch underwriting.BucketRank(b) {
	case 0:
		return "current"
	case 7:
		return "more than 180 days past due"
	default:
		r := underwriting.BucketRank(b)
		return fmt.Sprintf("%d to %d days past due", (r-1)*30+1, r*30)
	}
}

// summary says in words what confirming the quote does.
func summary(q *plan.Quote) string {
	n := q.After.Instalments
	switch q.Kind {
	case plan.MsgCancel:
		if n <= 1 {
			if q.DueNow.IsPositive() {
				return fmt.Sprintf("cancel the instalments and settle %s now (cancellation fee %s)", calc.FormatMoney(q.DueNow), calc.FormatMoney(q.Fee))
			}
			return fmt.Sprintf("cancel the instalments and settle %s on %s (cancellation fee %s)", calc.FormatMoney(q.TotalPayable), firstDue(q), calc.FormatMoney(q.Fee))
		}
		return fmt.Sprintf("cancel the instalments and repay %s in %d instalments without further interest (cancellation fee %s)", calc.FormatMoney(q.TotalPayable), n, calc.FormatMoney(q.Fee))
	case plan.MsgPrepay:
		if q.Params.Closes {
			return fmt.Sprintf("repay everything now: %s (early settlement charge %s)", calc.FormatMoney(q.DueNow), calc.FormatMoney(q.Fee))
		}
		return fmt.Sprintf("repay %s now; then %d instalments of up to %s", calc.FormatMoney(q.DueNow), n, calc.FormatMoney(q.Instalment))
	case plan.MsgRestructure:
		s := fmt.Sprintf("restructure into %d %s instalments of up to %s from %s", n, q.Params.Frequency, calc.FormatMoney(q.Instalment), firstDue(q))
		if q.NeedsApproval {
			s += " (an operator approves it after you confirm)"
		}
		return s
	case plan.MsgHoliday:
		return fmt.Sprintf("pause %d instalments; %s of interest is added to the balance; then %d instalments of up to %s", countHoliday(q.Schedule), calc.FormatMoney(q.Capitalised), n, calc.FormatMoney(q.Instalment))
	case plan.MsgArrearsPlan:
		s := fmt.Sprintf("%s, added to the next due dates with no extra interest: instalments of up to %s from %s", q.Reason, calc.FormatMoney(q.Instalment), firstDue(q))
		if q.Penalty.IsPositive() {
			s += fmt.Sprintf("; the late charges of %s with the first", calc.FormatMoney(q.Penalty))
		}
		if q.NeedsApproval {
			s += " (an operator approves it after you confirm)"
		}
		return s
	}
	return q.Kind
}

func firstDue(q *plan.Quote) calc.Date {
	if len(q.Schedule) == 0 {
		return q.AsOf
	}
	return q.Schedule[0].DueDate
}

func countHoliday(rows []calc.Row) int {
	return len(rows) - countRegular(rows)
}

// ApplyInput confirms a quote.
type ApplyInput struct {
	PlanID string
	Quote  plan.Quote
	// RequestID is the confirming request's id (or the approval's).
	RequestID string
	// Request is the confirming request, recorded with it.
	Request  ChangeMessage
	Actor    string
	Calendar Calendar
	// At is the business instant of the confirmation.
	At        time.Time
	Reminders plan.Reminders
	// ApprovalTask is the key of the approval task to close, and Approval
	// the operator's decision to record, when an operator approved it.
	ApprovalTask string
	Approval     *plan.ApprovalDecision
}

// ApplyResult is the plan after a confirmed change.
type ApplyResult struct {
	// Outcome is "applied" or "declined" (the money due now could not be
	// collected; nothing changed).
	Outcome string
	Reason  string
	// Version is the new schedule version, Rows its instalments with the
	// instants of their debits, and Instalments where each stands.
	Version     int
	Rows        []calc.Row
	Events      []DebitEvents
	Instalments []InstalmentState
}

// ApplyChange applies a confirmed quote atomically: the money due now is
// debited once (key per quote and confirmation), then in one transaction
// the new schedule version is saved (the old one kept), money paid ahead
// is re-applied, the debit recorded, the credit line adjusted and the
// audit log written; the customer is told. A waiver forgives amounts on
// the current schedule instead. Retried, it changes nothing twice.
func (a *Activities) ApplyChange(ctx context.Context, in ApplyInput) (ApplyResult, error) {
	planID, p, _, cust, err := a.load(ctx, in.PlanID)
	if err != nil {
		return ApplyResult{}, err
	}
	q := in.Quote
	at := in.Calendar.real(in.At)
	if q.Kind == plan.MsgWaive {
		return a.applyWaiver(ctx, planID, p, cust, in)
	}
	if in.Actor == "" {
		in.Actor = "customer"
	}
	version := q.ScheduleVersion + 1
	change := store.ScheduleChange{
		PlanID: planID, Version: version, Reason: q.Kind, RequestID: in.RequestID, Params: mustJSON(q),
		AsOf: q.AsOf.At(time.UTC, 0, 0, 0), CreditInUse: creditInUse(q), Actor: in.Actor,
	}
	for i, r := range q.Schedule {
		row := store.Instalment{
			No: r.No, DueDate: r.DueDate.At(time.UTC, 0, 0, 0), Principal: r.Principal, Interest: r.Interest, Fee: r.Fee,
			Payment: r.Payment, BalanceAfter: r.Balance, Holiday: r.Holiday, PenaltyAccrued: decimal.Zero,
		}
		if i == 0 {
			row.PenaltyAccrued = q.Penalty
		}
		change.Rows = append(change.Rows, row)
	}
	if q.DueNow.IsPositive() {
		key := fmt.Sprintf("change:%s:%s:%s", planID, q.ID, in.RequestID)
		entry, err := a.Store.Debit(ctx, p.FundingAccountID, q.DueNow, key)
		if errors.Is(err, store.ErrInsufficientFunds) {
			reason := fmt.Sprintf("we could not collect %s from your account: too little money; nothing was changed", calc.FormatMoney(q.DueNow))
			if err := a.answer(ctx, planID, in.RequestID, requestKinds[q.Kind], "customer", in.Request, store.RequestRejected, map[string]string{"reason": reason}); err != nil {
				return ApplyResult{}, err
			}
			return ApplyResult{Outcome: "declined", Reason: reason}, nil
		}
		if err != nil {
			return ApplyResult{}, classify(fmt.Errorf("debit %s for %s of plan %s: %w", calc.FormatMoney(q.DueNow), q.Kind, planID, err))
		}
		change.Debit = &store.ChangeDebit{Key: key, AccountID: p.FundingAccountID, AccountEntryID: entry.ID, Amount: q.DueNow, ReceivedAt: at}
	}
	res, err := a.Store.ApplyScheduleChange(ctx, change)
	if err != nil {
		return ApplyResult{}, classify(fmt.Errorf("apply %s %s to plan %s: %w", q.Kind, q.ID, planID, err))
	}
	if err := a.answer(ctx, planID, in.RequestID, requestKinds[q.Kind], "customer", in.Request, store.RequestCompleted, q); err != nil {
		return ApplyResult{}, err
	}
	if in.ApprovalTask != "" {
		if err := a.Store.CloseTask(ctx, in.ApprovalTask, "approved"); err != nil {
			return ApplyResult{}, classify(fmt.Errorf("close approval task %s: %w", in.ApprovalTask, err))
		}
	}
	if d := in.Approval; d != nil {
		if err := a.answer(ctx, planID, d.RequestID, requestKinds[plan.MsgApprove], "operator", d, store.RequestCompleted, map[string]string{"quote_id": q.ID, "applied": "true"}); err != nil {
			return ApplyResult{}, err
		}
	}
	body := "Your request was applied: " + q.Summary + "."
	if res.Unallocated.IsPositive() {
		body += fmt.Sprintf(" %s paid ahead is more than the new schedule needs and will be refunded.", calc.FormatMoney(res.Unallocated))
	}
	if err := a.notify(ctx, planID, cust, "change:"+q.ID, body, in.Calendar, at); err != nil {
		return ApplyResult{}, err
	}
	if _, err := a.queueReminders(ctx, p, cust, version, in.At, in.Calendar, false, in.Reminders); err != nil {
		return ApplyResult{}, err
	}
	slog.InfoContext(ctx, "change applied", "plan_id", planID, "kind", q.Kind, "quote_id", q.ID, "version", version,
		"due_now", q.DueNow, "reallocated", res.Reallocated)
	return ApplyResult{
		Outcome: "applied", Version: version, Rows: q.Schedule, Events: debitEvents(q.Schedule, in.Calendar.TimeZone),
		Instalments: states(res.Rows),
	}, nil
}

// creditInUse is the plan's share of the credit line after the change:
// the new schedule's principal, less the rows collected at confirmation.
func creditInUse(q plan.Quote) decimal.Decimal {
	used := decimal.Zero
	for _, r := range q.Schedule {
		if q.DueNow.IsPositive() && r.DueDate == q.AsOf {
			continue // collected at confirmation
		}
		used = used.Add(r.Principal)
	}
	return used
}

// applyWaiver forgives the quoted amounts on the current schedule.
func (a *Activities) applyWaiver(ctx context.Context, planID uuid.UUID, p store.Plan, cust store.Customer, in ApplyInput) (ApplyResult, error) {
	q := in.Quote
	w := in.Request.Waive
	if w == nil {
		return ApplyResult{}, typed("InvalidInput", fmt.Errorf("apply waiver %s to plan %s: the waiver request is missing", q.ID, planID))
	}
	reason := w.Reason
	if reason == "" {
		reason = q.Reason // the confirmation may leave out what the quote gave
	}
	waiver := store.Waiver{PlanID: planID, Version: q.ScheduleVersion, RequestID: in.RequestID, Operator: w.Operator, Reason: reason}
	for _, part := range q.Waived {
		waiver.Component = string(part.Component)
		waiver.Parts = append(waiver.Parts, store.WaiverPart{No: part.No, Amount: part.Amount})
	}
	rows, err := a.Store.Waive(ctx, waiver)
	if err != nil {
		return ApplyResult{}, classify(fmt.Errorf("apply waiver %s to plan %s: %w", q.ID, planID, err))
	}
	if err := a.answer(ctx, planID, in.RequestID, requestKinds[q.Kind], "operator", in.Request, store.RequestCompleted, q); err != nil {
		return ApplyResult{}, err
	}
	total := decimal.Zero
	for _, part := range q.Waived {
		total = total.Add(part.Amount)
	}
	body := fmt.Sprintf("We have waived %s of %s on your plan.", calc.FormatMoney(total), waiver.Component)
	if err := a.notify(ctx, planID, cust, "change:"+q.ID, body, in.Calendar, in.Calendar.real(in.At)); err != nil {
		return ApplyResult{}, err
	}
	return ApplyResult{Outcome: "applied", Version: q.ScheduleVersion, Instalments: states(rows)}, nil
}

// AwaitApprovalInput records a confirmed request that waits for an
// operator, or an operator's refusal of it.
type AwaitApprovalInput struct {
	PlanID    string
	Quote     plan.Quote
	RequestID string
	Request   ChangeMessage
	Calendar  Calendar
	At        time.Time
	// Refusal, when set, refuses the request: the task is closed and the
	// customer told why; Approval is the operator's decision, recorded.
	Refusal  string
	Operator string
	Approval *plan.ApprovalDecision
}

// ApprovalTaskKey is the key of the operator task for a quote.
func ApprovalTaskKey(planID, quoteID string) string { return "approval:" + planID + ":" + quoteID }

// AwaitApproval opens an operator task for a confirmed request that needs
// approval and tells the customer; with a Refusal it closes the task and
// tells the customer the operator's reason.
func (a *Activities) AwaitApproval(ctx context.Context, in AwaitApprovalInput) error {
	planID, _, _, cust, err := a.load(ctx, in.PlanID)
	if err != nil {
		return err
	}
	key := ApprovalTaskKey(in.PlanID, in.Quote.ID)
	at := in.Calendar.real(in.At)
	if in.Refusal != "" {
		if err := a.Store.CloseTask(ctx, key, "refused: "+in.Refusal); err != nil {
			return classify(fmt.Errorf("close approval task %s: %w", key, err))
		}
		if err := a.answer(ctx, planID, in.RequestID, requestKinds[in.Quote.Kind], "customer", in.Request, store.RequestRejected, map[string]string{"reason": in.Refusal, "operator": in.Operator}); err != nil {
			return err
		}
		if d := in.Approval; d != nil {
			if err := a.answer(ctx, planID, d.RequestID, requestKinds[plan.MsgApprove], "operator", d, store.RequestCompleted, map[string]string{"quote_id": in.Quote.ID, "refused": in.Refusal}); err != nil {
				return err
			}
		}
		return a.notify(ctx, planID, cust, "refused:"+in.Quote.ID, "Your request was not approved: "+in.Refusal+".", in.Calendar, at)
	}
	if _, err := a.Store.CreateTask(ctx, store.Task{
		PlanID: planID, TaskKey: key, Kind: "request_approval", DueAt: at.Add(24 * time.Hour),
		Details: mustJSON(map[string]any{"quote_id": in.Quote.ID, "kind": in.Quote.Kind, "summary": in.Quote.Summary, "request_id": in.RequestID}),
	}); err != nil {
		return classify(fmt.Errorf("open approval task %s: %w", key, err))
	}
	if _, _, err := a.Store.SaveRequest(ctx, store.Request{
		PlanID: planID, RequestID: in.RequestID, Kind: requestKinds[in.Quote.Kind], Actor: "customer", Payload: mustJSON(in.Request),
	}); err != nil {
		return classify(fmt.Errorf("record request %s of plan %s: %w", in.RequestID, planID, err))
	}
	if _, err := a.Store.AnswerRequest(ctx, planID, in.RequestID, store.RequestAccepted, mustJSON(in.Quote)); err != nil {
		return classify(fmt.Errorf("answer request %s of plan %s: %w", in.RequestID, planID, err))
	}
	return a.notify(ctx, planID, cust, "awaiting:"+in.Quote.ID, "We have your request ("+in.Quote.Summary+"); an agent reviews it and we will tell you the outcome.", in.Calendar, at)
}
