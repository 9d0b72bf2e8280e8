package frontdoor

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/api/serviceerror"

	"github.com/fenqi/fenqi/activities"
	"github.com/fenqi/fenqi/clock"
	"github.com/fenqi/fenqi/plan"
)

// A plan in collection (something is overdue) takes the debtor's promise
// to pay, the operator's decisions on a legal referral, a write-off and a
// hardship grace, and the change request of an arrears plan; Collection
// reads where collection stands.

// Collection reads the plan's collection status: the ladder's stage, what
// it does next and when, what is owed by component, the promise, referral,
// write-off and pause, and the recent collection actions and contacts. A
// plan that does not answer the query (one that is not in servicing yet,
// or was started before it existed) is a RejectedError with the reason.
func (d *Door) Collection(ctx context.Context, planID string) (plan.CollectionStatus, error) {
	id, err := plan.ParseID(planID)
	if err != nil {
		return plan.CollectionStatus{}, &plan.ValidationError{Field: "plan", Reason: err.Error()}
	}
	v, err := d.c.QueryWorkflow(ctx, plan.WorkflowID(id), "", plan.QueryCollection)
	if err != nil {
		var qf *serviceerror.QueryFailed
		if errors.As(err, &qf) {
			return plan.CollectionStatus{}, &RejectedError{Reason: qf.Message}
		}
		return plan.CollectionStatus{}, d.mapErr("collection", id, err)
	}
	var cs plan.CollectionStatus
	if err := v.Get(&cs); err != nil {
		return plan.CollectionStatus{}, fmt.Errorf("decode collection status of plan %s: %w", id, err)
	}
	if d.st != nil && cs.State == plan.StateActive {
		// The query answers as of the workflow's last step; what is owed
		// today (late charges through today, on the plan's calendar) is
		// read from the database, so a debtor who pays it clears the
		// arrears.
		loc, err := time.LoadLocation(cs.TimeZone)
		if err != nil || cs.TimeZone == "" {
			loc = time.FixedZone("CST", 8*3600)
		}
		cs.Today = clock.LocalDate(cs.Clock.Business(time.Now()), loc)
		b, err := activities.OwedOn(ctx, d.st, id, cs.Today)
		if err != nil {
			return plan.CollectionStatus{}, fmt.Errorf("collection status of plan %s: %w", id, err)
		}
		cs.AsOf, cs.Owed, cs.OwedTotal, cs.Overdue, cs.PayBy = b.AsOf, b.Due, b.Due.Total(), b.Overdue, b.PayBy
		cs.DaysPastDue, cs.Bucket = b.DaysPastDue, b.Bucket
	}
	return cs, nil
}

// Promise sends the debtor's promise to pay an amount by a date:
// collection contact pauses until the end of that date, and a broken
// promise resumes the ladder one step up.
func (d *Door) Promise(ctx context.Context, planID string, r plan.PromiseRequest) (plan.Reply, error) {
	return d.send(ctx, planID, plan.MsgPromise, r)
}

// Refer sends an operator's decision on the legal referral raised late in
// collection: refer the debt for legal action, hold, or negotiate.
func (d *Door) Refer(ctx context.Context, planID string, r plan.ReferralRequest) (plan.Reply, error) {
	return d.send(ctx, planID, plan.MsgRefer, r)
}

// WriteOff sends an operator's decision on the write-off task: approve
// writes the plan off (it ends written_off with the remaining balance
// recorded), decline keeps collecting.
func (d *Door) WriteOff(ctx context.Context, planID string, r plan.WriteOffRequest) (plan.Reply, error) {
	return d.send(ctx, planID, plan.MsgWriteOff, r)
}

// ExtendGrace sends an operator's hardship grace extension: no collection
// contact and no late charge until the end of the date given.
func (d *Door) ExtendGrace(ctx context.Context, planID string, r plan.GraceRequest) (plan.Reply, error) {
	return d.send(ctx, planID, plan.MsgExtendGrace, r)
}

// ArrearsPlan asks to split what is past due into instalments added to the
// next due dates: without a quote id for a quote (the reply's Quote;
// nothing changes), with one to confirm that quote, as Restructure.
func (d *Door) ArrearsPlan(ctx context.Context, planID string, r plan.ArrearsPlanRequest) (plan.Reply, error) {
	return d.send(ctx, planID, plan.MsgArrearsPlan, r)
}
