package workflows_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/temporal"

	"github.com/fenqi/fenqi/plan"
	"github.com/fenqi/fenqi/searchattrs"
)

// The PlanState search attribute of a plan the front door started
// (PlanState = onboarding): the stages that wait on the customer (assessed,
// offered, signing) keep that value, so an onboarding changes it once, to
// active; a manual review, which waits on an operator, shows as review
// until the decision.
func TestPlanStateSearchAttributeDuringOnboarding(t *testing.T) {
	approve := plan.ReviewDecision{RequestID: "rd-1", Approve: true, Operator: "ops-1"}
	for _, tc := range []struct {
		name     string
		customer func(t *testing.T) plan.Customer
		review   bool
		want     []string
	}{
		{"approved at once", func(t *testing.T) plan.Customer { return customer(t, "strong") }, false, []string{"active"}},
		{"after a manual review", func(*testing.T) plan.Customer { return borderline() }, true, []string{"review", searchattrs.Onboarding, "active"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newDB(t)
			r := d.newRun(application(t, "app-search-state", tc.customer(t), "5000.00", 12))
			if err := r.env.SetTypedSearchAttributesOnStart(temporal.NewSearchAttributes(searchattrs.PlanState.ValueSet(searchattrs.Onboarding))); err != nil {
				t.Fatal(err)
			}
			var got []string
			r.env.OnUpsertTypedSearchAttributes(mock.Anything).Return().Run(func(args mock.Arguments) {
				if sa, ok := args.Get(0).(temporal.SearchAttributes); ok {
					if v, ok := sa.GetKeyword(searchattrs.PlanState); ok {
						got = append(got, v)
					}
				}
			}).Maybe()
			at := time.Minute
			if tc.review {
				r.sendAt(at, plan.MsgReviewDecision, approve)
				at += time.Minute
			}
			r.sendAt(at+time.Minute, plan.MsgChoose, choose("choose-1", 1))
			r.signAt(at+2*time.Minute, "sign-1")
			active := r.snapshot(at + 3*time.Minute)
			r.stopAt(at + 4*time.Minute)
			r.execute()
			r.wantCanceled()

			if active.State != plan.StateActive {
				t.Fatalf("state %s, want active", active.State)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("PlanState upserted %q, want %q", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("PlanState upserted %q, want %q", got, tc.want)
				}
			}
		})
	}
}
