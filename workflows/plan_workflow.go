package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/fenqi/fenqi/activities"
	"github.com/fenqi/fenqi/calc"
	"github.com/fenqi/fenqi/clock"
	"github.com/fenqi/fenqi/contact"
	"github.com/fenqi/fenqi/plan"
	"github.com/fenqi/fenqi/searchattrs"
)

// Plan is the state of one instalment plan: everything the workflow knows,
// kept in one struct so that it can be queried and carried across runs.
type Plan struct {
	PlanID     string           `json:"plan_id"`
	CustomerID string           `json:"customer_id"`
	App        plan.Application `json:"app"`
	// AppFingerprint identifies the application's content.
	AppFingerprint string     `json:"app_fingerprint"`
	State          plan.State `json:"state"`
	Reasons        []string   `json:"reasons,omitempty"`

	Assessment activities.Assessment `json:"assessment"`

	Offers []plan.Offer `json:"offers,omitempty"`
	// OfferSet numbers the current offer set from 1 (as stored); OfferRound
	// counts the counter-offer rounds used, refused ones included.
	OfferSet       int       `json:"offer_set"`
	OfferRound     int       `json:"offer_round"`
	OffersExpireAt time.Time `json:"offers_expire_at"`
	Chosen         int       `json:"chosen"`

	Agreement         activities.Document `json:"agreement"`
	AgreementStart    calc.Date           `json:"agreement_start"`
	AgreementVersion  int                 `json:"agreement_version"`
	AgreementExpireAt time.Time           `json:"agreement_expire_at"`
	SignedAt          time.Time           `json:"signed_at"`

	// Calendar is the plan's business clock and time zone.
	Calendar activities.Calendar `json:"calendar"`
	// Instalments is the current schedule version with where each stands.
	Instalments     []Instalment `json:"instalments,omitempty"`
	ScheduleVersion int          `json:"schedule_version"`
	// NextDue, DaysPastDue and Bucket as last upserted to the search
	// attributes.
	NextDue     time.Time `json:"next_due"`
	DaysPastDue int       `json:"days_past_due"`
	Bucket      string    `json:"bucket"`
	// Contacts is the recent contact history (business time), from the
	// activities that contact the customer, for the contact query.
	Contacts []contact.Attempt `json:"contacts,omitempty"`
	// FailedDebits counts the declined auto-debits.
	FailedDebits int `json:"failed_debits"`
	// Runs counts the workflow runs (Continue-As-New) of the plan.
	Runs      int       `json:"runs"`
	UpdatedAt time.Time `json:"updated_at"`

	// Revision counts the changes to the plan (payments, debits, confirmed
	// requests); a quote made on an earlier revision is stale. LastChange
	// says what the latest was.
	Revision   int    `json:"revision"`
	LastChange string `json:"last_change,omitempty"`
	// Quotes are the latest quotes made (bounded by heldQuotes);
	// QuoteReplies the request ids of the replies carrying a quote, oldest
	// first (only the latest keep the quote's schedule).
	Quotes       []HeldQuote `json:"quotes,omitempty"`
	QuoteReplies []string    `json:"quote_replies,omitempty"`
	// Awaiting is a confirmed request waiting for an operator's approval.
	Awaiting *Awaiting `json:"awaiting,omitempty"`
	// Changes are the confirmed schedule changes, for eligibility rules.
	Changes []activities.ChangeRecord `json:"changes,omitempty"`
	// Cadence is the current schedule's due-date cadence (zero: the
	// agreement's); Params its terms when a change made it (nil: the
	// agreement's).
	Cadence calc.Cadence       `json:"cadence"`
	Params  *plan.ChangeParams `json:"params,omitempty"`
	// Complaints are the open complaints.
	Complaints []plan.Complaint `json:"complaints,omitempty"`
	// CloseReason says how the plan ended once closed.
	CloseReason string `json:"close_reason,omitempty"`
	// Collecting is the collection ladder of overdue instalments.
	Collecting Collecting `json:"collecting"`

	// Inbox holds accepted messages not yet processed, in arrival order.
	Inbox []Message `json:"inbox,omitempty"`
	// Replies answers every processed request id (a repeat gets the same).
	Replies map[string]plan.Reply `json:"replies,omitempty"`
	// Seen maps every request id accepted so far to its fingerprint.
	Seen map[string]string `json:"seen,omitempty"`
	// Recent lists the latest replies, newest last, refused Signals
	// included (bounded by recentReplies).
	Recent []plan.Reply `json:"recent,omitempty"`
}

// recentReplies bounds Plan.Recent.
const recentReplies = 20

// Input is the plan workflow's input: the application (plan.Input, what the
// front door sends) and, after Continue-As-New, the plan's state.
type Input struct {
	plan.Input
	Carry *Plan `json:"carry,omitempty"`
}

// planWorkflow runs one plan: it holds the state; the message handlers
// only validate and queue messages, and the run loop decides and waits.
type planWorkflow struct {
	Plan
	// savedState is the PlanState search attribute's current value (see
	// searchState), so that
	// it is upserted only when it changes (each upsert is billable).
	savedState plan.State
	// ladder is the collection ladder's version in this run (see
	// ladderOn); DefaultVersion until servicing starts.
	ladder workflow.Version
	// version is this run's version of the workflow (see versionOn).
	version workflow.Version
	// signalers add the Signal channels to the run's one Signal loop (from
	// versionLeanRuns on).
	signalers []func(workflow.Selector)
}

// workflowVersion is the change id of the changes to the plan workflow
// that a running plan must not see (workflow.GetVersion), recorded once a
// run, before anything else. Its versions:
//   - DefaultVersion: the first; collection ladder versions recorded
//     apart (ladderVersion);
//   - versionLeanRuns (1): one coroutine serves every Signal (there was
//     one per Signal kind); the state active is upserted with the next due
//     date; the collection ladder is at ladderMessages, with no marker of
//     its own;
//   - versionLocalWrites (2): each onboarding step (assessment, agreement,
//     activation) is one local activity that computes and stores it and
//     answers with what is stored (see onboarding_steps.go).
//
// Each GetVersion costs a marker and a search-attribute upsert, so the
// next change adds a version here rather than another change id.
const workflowVersion = "plan-workflow"

const (
	versionLeanRuns    workflow.Version = 1
	versionLocalWrites workflow.Version = 2
)

// versionOn records the version this run runs.
func (w *planWorkflow) versionOn(ctx workflow.Context) {
	w.version = workflow.GetVersion(ctx, workflowVersion, workflow.DefaultVersion, versionLocalWrites)
}

// PlanWorkflow carries one instalment plan from the application to its
// end: assessment, offers, negotiation, signing, activation.
func PlanWorkflow(ctx workflow.Context, in Input) (plan.Status, error) {
	w := &planWorkflow{}
	if in.Carry != nil {
		w.Plan = *in.Carry
	} else {
		app := in.Application.Normalized()
		w.Plan = Plan{
			PlanID:         in.PlanID,
			CustomerID:     plan.CustomerIDFromRef(in.Application.Customer.Ref).String(),
			App:            app,
			AppFingerprint: in.Fingerprint,
			State:          plan.StateAssessing,
			Replies:        map[string]plan.Reply{},
			Seen:           map[string]string{},
			Calendar: activities.Calendar{
				Clock:    clock.Clock{Origin: workflow.Now(ctx), DaySeconds: app.Settings.DaySeconds},
				TimeZone: app.Customer.TimeZone,
			},
		}
	}
	w.Runs++
	if err := w.setup(ctx); err != nil {
		return plan.Status{}, err
	}
	if err := w.run(ctx); err != nil {
		return w.status(), err
	}
	// Let update handlers that are waiting for a reply finish first.
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return w.status(), err
	}
	return w.status(), nil
}

// setup registers the query and the message handlers; it runs before the
// first blocking call so that an update sent with the start is accepted.
func (w *planWorkflow) setup(ctx workflow.Context) error {
	w.versionOn(ctx)
	w.savedState = w.State
	if w.version >= versionLocalWrites {
		// The value the run started with (the front door's, or the last
		// run's): no upsert until the state shows otherwise.
		if v, ok := workflow.GetTypedSearchAttributes(ctx).GetKeyword(searchattrs.PlanState); ok {
			w.savedState = plan.State(v)
		}
	}
	w.UpdatedAt = workflow.Now(ctx)
	if err := workflow.SetQueryHandler(ctx, plan.QueryStatus, func() (plan.Status, error) {
		s := w.status()
		if !w.Calendar.Clock.Origin.IsZero() {
			s.BusinessDate = calc.DateOf(w.businessNow(ctx).In(time.FixedZone("", w.Calendar.Offset)))
			s.ContactPausedUntil = w.contactPausedUntil(w.businessNow(ctx))
		}
		return s, nil
	}); err != nil {
		return err
	}
	if err := workflow.SetQueryHandler(ctx, plan.QueryAgreement, func() (plan.Agreement, error) {
		if w.Agreement.SHA256 == "" {
			return plan.Agreement{}, fmt.Errorf("plan %s has no agreement yet: it is %s", w.PlanID, w.State)
		}
		return plan.Agreement{PlanID: w.PlanID, Version: w.AgreementVersion, Text: w.Agreement.Text, SHA256: w.Agreement.SHA256, Start: w.AgreementStart}, nil
	}); err != nil {
		return err
	}
	if err := workflow.SetQueryHandler(ctx, plan.QueryContact, func() (plan.ContactStatus, error) {
		return w.contactStatus(ctx), nil
	}); err != nil {
		return err
	}
	return w.registerHandlers(ctx)
}

// run walks the plan through its stages, by state, until it reaches a
// final state (or continues as new).
func (w *planWorkflow) run(ctx workflow.Context) error {
	for !w.State.Final() {
		var err error
		switch w.State {
		case plan.StateAssessing:
			err = w.assess(ctx)
		case plan.StateReview:
			err = w.review(ctx)
		case plan.StateOffered:
			err = w.negotiate(ctx)
		case plan.StateSigning:
			err = w.sign(ctx)
		case plan.StateActive:
			err = w.service(ctx)
		default:
			err = fmt.Errorf("plan %s in unknown state %q", w.PlanID, w.State)
		}
		if err != nil {
			return err
		}
	}
	w.refuseInbox("the plan is " + string(w.State))
	return nil
}

// realDuration is how long a business duration lasts on the wall clock
// (shorter on a compressed calendar).
func (w *planWorkflow) realDuration(d time.Duration) time.Duration {
	return w.Calendar.Clock.RealDuration(d)
}

// businessNow is the plan's business time now.
func (w *planWorkflow) businessNow(ctx workflow.Context) time.Time {
	return w.Calendar.Clock.Business(workflow.Now(ctx))
}

// setState moves the plan to s and upserts the PlanState search attribute
// when it changed. From versionLeanRuns on, a plan that becomes active has
// its state upserted with its progress (upsertProgress, next), in one
// upsert.
func (w *planWorkflow) setState(ctx workflow.Context, s plan.State, reasons ...string) error {
	w.State = s
	if len(reasons) > 0 {
		w.Reasons = reasons
	}
	w.UpdatedAt = workflow.Now(ctx)
	v := w.searchState(s)
	if v == w.savedState || (s == plan.StateActive && w.version >= versionLeanRuns) {
		return nil
	}
	w.savedState = v
	return workflow.UpsertTypedSearchAttributes(ctx, searchattrs.PlanState.ValueSet(string(v)))
}

// searchState is the PlanState search attribute's value for state s: from
// versionLocalWrites on, the stages of an onboarding that wait on the
// customer share searchattrs.Onboarding.
func (w *planWorkflow) searchState(s plan.State) plan.State {
	if w.version >= versionLocalWrites && (s == plan.StateAssessing || s == plan.StateOffered || s == plan.StateSigning) {
		return searchattrs.Onboarding
	}
	return s
}

// Activity options: calculations run as local activities (pure and fast),
// persistence as activities. Both retry with backoff without limit: a plan
// lives for years, so an unexpected failure (the database away, a bug)
// leaves the plan waiting, visible in the Web UI, until it succeeds or a
// fix is deployed. Business refusals are results, not errors.
//
// The persistence stays in activities, whose input is fixed in history
// when they are scheduled, except for the onboarding's steps (from
// versionLocalWrites on, see onboarding_steps.go): a local activity's input
// is computed again if its workflow task is lost, from a later
// workflow.Now, so each of those answers a repeat with what it stored.
func withCalc(ctx workflow.Context) workflow.Context {
	return workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		StartToCloseTimeout:    10 * time.Second,
		ScheduleToCloseTimeout: retryForever,
		// A local activity's retry past the workflow task timeout waits on
		// a timer and adds about 6 history events: every 10 minutes keeps a
		// failing one within the history limit for about 2 months.
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 10 * time.Minute},
	})
}

func withStore(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        time.Second,
			BackoffCoefficient:     2,
			MaximumInterval:        time.Minute,
			NonRetryableErrorTypes: activities.NonRetryable,
		},
	})
}

// retryForever bounds a local activity's retries: a local activity's
// schedule-to-close timeout is by default its start-to-close timeout, which
// would give up after one attempt's time.
const retryForever = 100 * 365 * 24 * time.Hour

// act is the activities' receiver for method references; the worker
// registers the real one.
var act *activities.Activities
