package workflows

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/fenqi/fenqi/activities"
	"github.com/fenqi/fenqi/internal/testenv"
	"github.com/fenqi/fenqi/migrations"
	"github.com/fenqi/fenqi/plan"
	"github.com/fenqi/fenqi/store"
)

// A choice or a signature whose step a lost workflow task stored just
// before the deadline reaches the task's retry together with the
// deadline (the test environment never delivers the two together, so the
// test starts the loop with the deadline passed and the message queued).
// The stored step stands: the plan goes on to signing or active instead of
// expiring with its step in PostgreSQL. A message that stored nothing
// still loses to the deadline, as it did before version 2.
func TestDeadlineWithAStoredStep(t *testing.T) {
	ctx := context.Background()
	url := testenv.Database(t)
	if _, err := migrations.Up(ctx, url); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	acts := activities.New(st)
	start := time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC)

	for _, tc := range []struct {
		name   string
		step   string // the queued message
		stored bool   // the lost task stored its step
		want   plan.State
	}{
		{"a stored choice stands", plan.MsgChoose, true, plan.StateSigning},
		{"a late choice loses", plan.MsgChoose, false, plan.StateExpired},
		{"a stored signature stands", plan.MsgSign, true, plan.StateActive},
		{"a late signature loses", plan.MsgSign, false, plan.StateExpired},
	} {
		t.Run(tc.name, func(t *testing.T) {
			app := strongApplication(t, "late-"+tc.step+map[bool]string{true: "-stored", false: "-late"}[tc.stored])
			w := &planWorkflow{version: versionLocalWrites}
			w.Plan = Plan{
				PlanID: plan.IDFromRequest(app.RequestID).String(), CustomerID: plan.CustomerIDFromRef(app.Customer.Ref).String(),
				App: app, Replies: map[string]plan.Reply{}, Seen: map[string]string{},
				Calendar: activities.Calendar{TimeZone: app.Customer.TimeZone},
			}
			// The plan as the first two steps left it in PostgreSQL.
			as, err := acts.Assess(ctx, activities.AssessInput{PlanID: w.PlanID, CustomerID: w.CustomerID, App: app,
				OffersExpireAt: start.Add(time.Hour), At: start, Calendar: w.Calendar})
			if err != nil || as.State != plan.StateOffered {
				t.Fatalf("assess: %+v, %v", as.State, err)
			}
			w.State, w.Assessment, w.Offers, w.OfferSet, w.OffersExpireAt = plan.StateOffered, as.Decision.Assessment, as.Decision.Offers, 1, start.Add(time.Hour)
			prepare := activities.PrepareAgreementInput{
				AgreementInput: activities.AgreementInput{PlanID: w.PlanID, App: app, Offer: w.Offers[0], Version: 1, StartAt: start},
				OfferSet:       1, ExpireAt: start.Add(2 * time.Hour), RequestID: "choose-1", At: start, Calendar: w.Calendar,
			}
			m := Message{Kind: tc.step}
			switch {
			case tc.step == plan.MsgChoose:
				if tc.stored {
					if _, err := acts.PrepareAgreement(ctx, prepare); err != nil {
						t.Fatal(err)
					}
				}
				m.Choose = &plan.ChooseRequest{RequestID: "choose-1", OfferSet: 1, Offer: 1}
			default:
				ag, err := acts.PrepareAgreement(ctx, prepare)
				if err != nil {
					t.Fatal(err)
				}
				w.State, w.Chosen, w.AgreementVersion = plan.StateSigning, 1, 1
				w.Agreement, w.AgreementStart, w.AgreementExpireAt = ag.Document, ag.Start, ag.ExpireAt
				m.Sign = &plan.SignRequest{RequestID: "sign-1", DocumentHash: ag.Document.SHA256, Name: app.Customer.Name, Consent: true}
				if tc.stored {
					if _, err := acts.SignAndActivate(ctx, activities.ActivateInput{PlanID: w.PlanID, CustomerID: w.CustomerID,
						Offer: w.Offers[0], CreditLimit: w.Assessment.CreditLimit, AgreementVersion: 1, Signature: *m.Sign,
						SignedAt: start.Add(time.Minute), Start: ag.Start, Calendar: w.Calendar, Reminders: app.Settings.ReminderOffsets()}); err != nil {
						t.Fatal(err)
					}
				}
			}
			w.Inbox = []Message{m}

			var s testsuite.WorkflowTestSuite
			env := s.NewTestWorkflowEnvironment()
			env.SetStartTime(start.Add(3 * time.Hour)) // both deadlines have passed
			env.RegisterActivity(acts)
			var lookups int
			env.SetOnLocalActivityStartedListener(func(info *activity.Info, _ context.Context, _ []any) {
				if info.ActivityType.Name == "StepStored" {
					lookups++
				}
			})
			env.RegisterWorkflowWithOptions(func(ctx workflow.Context) (plan.State, error) {
				if w.State == plan.StateOffered {
					if err := w.negotiate(ctx); err != nil {
						return w.State, err
					}
				}
				if w.State == plan.StateSigning && tc.step == plan.MsgSign {
					if err := w.sign(ctx); err != nil {
						return w.State, err
					}
				}
				return w.State, nil
			}, workflow.RegisterOptions{Name: "deadline-with-a-stored-step"})
			env.ExecuteWorkflow("deadline-with-a-stored-step")
			var got plan.State
			if err := env.GetWorkflowResult(&got); err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Fatalf("state %s, want %s", got, tc.want)
			}
			if lookups != 1 {
				t.Errorf("%d step lookups, want 1", lookups)
			}
			p, err := st.GetPlan(ctx, plan.IDFromRequest(app.RequestID))
			if err != nil || p.State != string(tc.want) {
				t.Errorf("plan row %s (%v), want %s", p.State, err, tc.want)
			}
			if r := w.Replies[m.RequestID()]; r.Accepted != tc.stored {
				t.Errorf("reply %+v, accepted want %v", r, tc.stored)
			}
		})
	}
}

// strongApplication is the strong example customer's application of
// 12,000 over 12 months.
func strongApplication(t *testing.T, rid string) plan.Application {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "examples", "customers", "strong.json"))
	if err != nil {
		t.Fatal(err)
	}
	var c plan.Customer
	dcd := json.NewDecoder(bytes.NewReader(b))
	dcd.DisallowUnknownFields()
	if err := dcd.Decode(&c); err != nil {
		t.Fatal(err)
	}
	app := plan.Application{RequestID: rid, Customer: c, Amount: decimal.RequireFromString("12000"), Terms: 12}
	if err := app.Validate(); err != nil {
		t.Fatal(err)
	}
	return app.Normalized()
}
