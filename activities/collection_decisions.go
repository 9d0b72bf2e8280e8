package activities

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/fenqi/fenqi/calc"
	"github.com/fenqi/fenqi/clock"
	"github.com/fenqi/fenqi/collection"
	"github.com/fenqi/fenqi/plan"
	"github.com/fenqi/fenqi/store"
)

// DecisionInput is a collection message to apply: the debtor's promise to
// pay or an operator's decision. Exactly one of the requests is set.
type DecisionInput struct {
	PlanID   string
	Version  int // the current schedule version
	Calendar Calendar
	At       time.Time        // business now
	State    collection.State // the plan's ladder state, kept by the workflow
	Promise  *plan.PromiseRequest
	Referral *plan.ReferralRequest
	WriteOff *plan.WriteOffRequest
	Grace    *plan.GraceRequest
}

// request is the request the input carries, its kind in the requests
// table and who sent it.
func (in DecisionInput) request() (r plan.Request, kind, actor string) {
	switch {
	case in.Promise != nil:
		return *in.Promise, "promise_to_pay", "customer"
	case in.Referral != nil:
		return *in.Referral, "legal_referral", "operator"
	case in.WriteOff != nil:
		return *in.WriteOff, "write_off", "operator"
	case in.Grace != nil:
		return *in.Grace, "grace_extension", "operator"
	}
	return nil, "", ""
}

// DecisionResult is the plan's collection after the message.
type DecisionResult struct {
	// Accepted is false when the collection rules refused the message;
	// Reason says why (or, accepted, what follows).
	Accepted bool
	Reason   string
	// State is the ladder state after the message (unchanged when
	// refused).
	State collection.State
	// Owed is what the plan owes today, penalty accrued through today.
	Owed collection.Breakdown
	// Instalments are the instalments after the accrual (and the
	// write-off).
	Instalments []InstalmentState
	// WrittenOff is set when the plan was written off: what it still owed,
	// by component.
	WrittenOff *WrittenOff
}

// WrittenOff is what a plan owed when it was written off.
type WrittenOff struct {
	Principal, Interest, Fee, Penalty, Total decimal.Decimal
}

// CollectionDecide applies a promise to pay or an operator's collection
// decision to a plan at the business instant in.At, under the collection
// rules, on what the plan owes today (penalty accrued and stored first):
//
//   - promise: collection.Rules.Promise, then the promise is stored
//     (store.RecordPromise, made at the real instant) and confirmed to the
//     debtor; contact pauses until the promised date is over.
//   - referral: collection.Rules.Decide, stored (store.DecideReferral), the
//     open legal-referral tasks closed with the decision.
//   - write-off: collection.Rules.WriteOff; approved, store.WriteOff writes
//     the plan off (what it owes recorded, instalments written off, credit
//     released, queued messages cancelled); either way the open write-off
//     tasks are closed with the decision.
//   - grace: collection.Rules.Pause until the end of the date, stored
//     (store.ExtendGrace); the penalty of the overdue instalments is
//     accrued through today and then marked accrued through the date, so no
//     late charge accrues during the extension; the debtor is told.
//
// A refusal by the rules is an answer (Accepted false), recorded as a
// rejected request; nothing else is written. Every write is keyed by the
// request id, so a retry writes nothing twice; a retried approved
// write-off finds the plan written off and answers with the stored
// figures.
func (a *Activities) CollectionDecide(ctx context.Context, in DecisionInput) (DecisionResult, error) {
	req, kind, actor := in.request()
	if req == nil {
		return DecisionResult{}, typed("InvalidInput", fmt.Errorf("collection decision on plan %s: no request", in.PlanID))
	}
	if in.At.IsZero() {
		return DecisionResult{}, typed("InvalidInput", fmt.Errorf("collection decision %s on plan %s: no time", req.ID(), in.PlanID))
	}
	planID, p, _, cust, err := a.load(ctx, in.PlanID)
	if err != nil {
		return DecisionResult{}, err
	}
	loc := in.Calendar.loc()
	today := clock.LocalDate(in.At, loc)
	if p.State == store.StateWrittenOff && in.WriteOff != nil && in.WriteOff.Decision == collection.ApproveWriteOff {
		// A retry after the write-off was stored: answer with its figures.
		return a.writeOff(ctx, planID, in, today, DecisionResult{State: in.State, Accepted: true})
	}
	if p.State != store.StateActive {
		return a.refuse(ctx, planID, in, req, kind, actor, DecisionResult{State: in.State}, fmt.Sprintf("the plan is %s", p.State))
	}
	owed, rows, err := a.accrue(ctx, planID, in.Version, today, annualRate(p))
	if err != nil {
		return DecisionResult{}, err
	}
	res := DecisionResult{State: in.State, Owed: owed, Instalments: states(rows)}
	inputs := collection.Inputs{Owed: owed, Location: loc}
	var next collection.State
	switch {
	case in.Promise != nil:
		next, err = collectionRules.Promise(in.State, in.Promise.Date, in.Promise.Amount, in.At, inputs)
	case in.Referral != nil:
		next, err = collectionRules.Decide(in.State, in.Referral.Decision, in.At)
	case in.WriteOff != nil:
		next, err = collectionRules.WriteOff(in.State, in.WriteOff.Decision, in.At, inputs)
	case in.Grace != nil:
		next, err = collectionRules.Pause(in.State, in.Grace.Until.AddDays(1).At(loc, 0, 0, 0), in.At)
	}
	if errors.Is(err, collection.ErrRefused) || errors.Is(err, collection.ErrInvalidInput) {
		return a.refuse(ctx, planID, in, req, kind, actor, res, refusalText(err))
	}
	if err != nil {
		return DecisionResult{}, typed("InvalidInput", fmt.Errorf("collection decision %s on plan %s: %w", req.ID(), planID, err))
	}
	res.State, res.Accepted = next, true
	switch {
	case in.Promise != nil:
		r := in.Promise
		if _, err := a.Store.RecordPromise(ctx, store.Promise{PlanID: planID, RequestID: r.RequestID,
			PromisedDate: r.Date.At(time.UTC, 0, 0, 0), Amount: r.Amount, MadeAt: in.Calendar.real(in.At)}); err != nil {
			return DecisionResult{}, classify(fmt.Errorf("record promise %s of plan %s: %w", r.RequestID, planID, err))
		}
		if err := a.pauseCollection(ctx, planID, "promise to pay "+r.RequestID); err != nil {
			return DecisionResult{}, err
		}
		res.Reason = fmt.Sprintf("promise to pay %s by %s noted: no payment contact until then", calc.FormatMoney(r.Amount), r.Date)
		body := fmt.Sprintf("Thank you: we noted your promise to pay %s by %s. We will not contact you about payments until then. In all you owe %s (principal %s, interest %s, fees %s, late charges %s).",
			calc.FormatMoney(r.Amount), r.Date, calc.FormatMoney(owed.Due.Total()), calc.FormatMoney(owed.Due.Principal),
			calc.FormatMoney(owed.Due.Interest), calc.FormatMoney(owed.Due.Fee), calc.FormatMoney(owed.Due.Penalty))
		if err := a.notify(ctx, planID, cust, "promise:"+r.RequestID, body, in.Calendar, in.Calendar.real(in.At)); err != nil {
			return DecisionResult{}, err
		}
	case in.Referral != nil:
		r := in.Referral
		if _, err := a.Store.DecideReferral(ctx, planID, r.RequestID, string(r.Decision), r.Operator, r.Reason); err != nil {
			return DecisionResult{}, classify(fmt.Errorf("record referral decision %s of plan %s: %w", r.RequestID, planID, err))
		}
		if err := a.closeTasks(ctx, planID, store.TaskLegalReferral, string(r.Decision)); err != nil {
			return DecisionResult{}, err
		}
		res.Reason = fmt.Sprintf("legal referral: %s", r.Decision)
	case in.WriteOff != nil:
		if err := a.closeTasks(ctx, planID, store.TaskWriteOff, string(in.WriteOff.Decision)); err != nil {
			return DecisionResult{}, err
		}
		if in.WriteOff.Decision == collection.ApproveWriteOff {
			return a.writeOff(ctx, planID, in, today, res)
		}
		res.Reason = "write-off declined: collection goes on"
	case in.Grace != nil:
		r := in.Grace
		if _, err := a.Store.ExtendGrace(ctx, planID, r.RequestID, r.Until.At(time.UTC, 0, 0, 0), r.Operator, r.Reason); err != nil {
			return DecisionResult{}, classify(fmt.Errorf("extend grace %s of plan %s: %w", r.RequestID, planID, err))
		}
		if err := a.freezePenalty(ctx, planID, in.Version, owed, r.Until); err != nil {
			return DecisionResult{}, err
		}
		if err := a.pauseCollection(ctx, planID, "grace extended "+r.RequestID); err != nil {
			return DecisionResult{}, err
		}
		res.Reason = fmt.Sprintf("grace extended until %s: no late charge and no payment contact until then", r.Until)
		body := fmt.Sprintf("We have extended your grace period until %s: no late charges will be added and we will not contact you about payments until then. You owe %s today.",
			r.Until, calc.FormatMoney(owed.Due.Total()))
		if err := a.notify(ctx, planID, cust, "grace:"+r.RequestID, body, in.Calendar, in.Calendar.real(in.At)); err != nil {
			return DecisionResult{}, err
		}
	}
	if err := a.answer(ctx, planID, req.ID(), kind, actor, req, store.RequestCompleted, map[string]string{"result": res.Reason}); err != nil {
		return DecisionResult{}, err
	}
	slog.InfoContext(ctx, "collection decision applied", "plan_id", planID, "request_id", req.ID(), "kind", kind, "result", res.Reason)
	return res, nil
}

// refuse records req as rejected with reason and answers with it.
func (a *Activities) refuse(ctx context.Context, planID uuid.UUID, in DecisionInput, req plan.Request, kind, actor string, res DecisionResult, reason string) (DecisionResult, error) {
	if err := a.answer(ctx, planID, req.ID(), kind, actor, req, store.RequestRejected, map[string]string{"reason": reason}); err != nil {
		return DecisionResult{}, err
	}
	slog.InfoContext(ctx, "collection decision refused", "plan_id", in.PlanID, "request_id", req.ID(), "kind", kind, "reason", reason)
	res.Accepted, res.Reason = false, reason
	return res, nil
}

// writeOff writes the plan off (store.WriteOff; a repeat returns the
// stored figures) and answers with what it owed.
func (a *Activities) writeOff(ctx context.Context, planID uuid.UUID, in DecisionInput, today calc.Date, res DecisionResult) (DecisionResult, error) {
	r := in.WriteOff
	wo, err := a.Store.WriteOff(ctx, planID, r.RequestID, r.Operator, r.Reason, today.At(time.UTC, 0, 0, 0))
	if err != nil {
		return DecisionResult{}, classify(fmt.Errorf("write off plan %s (request %s): %w", planID, r.RequestID, err))
	}
	res.WrittenOff = &WrittenOff{Principal: wo.Principal, Interest: wo.Interest, Fee: wo.Fee, Penalty: wo.Penalty, Total: wo.Total}
	// On a retry the state given is the one before the decision: it is
	// answered as the first run answered.
	ws := collection.WriteOff{Status: collection.WriteOffApproved, RaisedAt: in.At, DecidedAt: in.At}
	if res.State.WriteOff != nil {
		ws = *res.State.WriteOff
		if ws.Status != collection.WriteOffApproved {
			ws.Status, ws.DecidedAt = collection.WriteOffApproved, in.At
		}
	}
	ws.Balance = wo.Total
	res.State.WriteOff = &ws
	res.State.Promise = nil
	if err := a.endCollection(ctx, planID, "written off"); err != nil {
		return DecisionResult{}, err
	}
	rows, err := a.Store.Schedule(ctx, planID, in.Version)
	if err != nil {
		return DecisionResult{}, classify(fmt.Errorf("load schedule v%d of plan %s: %w", in.Version, planID, err))
	}
	res.Instalments = states(rows)
	res.Reason = fmt.Sprintf("written off: %s remained owed (principal %s, interest %s, fees %s, late charges %s)",
		calc.FormatMoney(wo.Total), calc.FormatMoney(wo.Principal), calc.FormatMoney(wo.Interest), calc.FormatMoney(wo.Fee), calc.FormatMoney(wo.Penalty))
	if err := a.answer(ctx, planID, r.RequestID, "write_off", "operator", *r, store.RequestCompleted, map[string]string{"result": res.Reason}); err != nil {
		return DecisionResult{}, err
	}
	slog.InfoContext(ctx, "plan written off", "plan_id", planID, "request_id", r.RequestID, "total", wo.Total)
	return res, nil
}

// closeTasks closes the plan's open tasks of kind with outcome.
func (a *Activities) closeTasks(ctx context.Context, planID uuid.UUID, kind, outcome string) error {
	tasks, err := a.Store.Tasks(ctx, planID)
	if err != nil {
		return classify(fmt.Errorf("load tasks of plan %s: %w", planID, err))
	}
	for _, t := range tasks {
		if t.Kind != kind || t.Status != store.TaskOpen {
			continue
		}
		if err := a.Store.CloseTask(ctx, t.TaskKey, outcome); err != nil {
			return classify(fmt.Errorf("close %s task %s: %w", kind, t.TaskKey, err))
		}
	}
	return nil
}

// freezePenalty marks the penalty of the overdue instalments (as accrued
// in owed) accrued through until, so that none accrues before the day
// after it.
func (a *Activities) freezePenalty(ctx context.Context, planID uuid.UUID, version int, owed collection.Breakdown, until calc.Date) error {
	var totals []store.PenaltyTotal
	for _, p := range owed.Penalties {
		totals = append(totals, store.PenaltyTotal{No: p.No, Total: p.Total})
	}
	if len(totals) == 0 {
		return nil
	}
	if _, err := a.Store.AccruePenalty(ctx, planID, version, until.At(time.UTC, 0, 0, 0), totals); err != nil {
		return classify(fmt.Errorf("freeze penalty of plan %s until %s: %w", planID, until, err))
	}
	return nil
}

// refusalText is a rules refusal in words, without the rules' context.
func refusalText(err error) string {
	var s = err.Error()
	for _, sep := range []string{collection.ErrRefused.Error() + ": ", collection.ErrInvalidInput.Error() + ": "} {
		if i := strings.LastIndex(s, sep); i >= 0 {
			return s[i+len(sep):]
		}
	}
	return s
}
