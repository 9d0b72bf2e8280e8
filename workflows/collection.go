package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/fenqi/fenqi/activities"
	"github.com/fenqi/fenqi/collection"
)

// ladderVersion is the change that added the collection ladder to
// servicing; plans that started servicing before it keep the old
// behaviour until they continue as new.
const ladderVersion = "collection-ladder"

// Collecting is the collection state of a plan with overdue instalments:
// the ladder's state, when to ask the ladder again, and its last answer.
type Collecting struct {
	State collection.State `json:"state"`
	// At is the business instant of the next ladder step; zero when none
	// is due (nothing overdue, or waiting for an event such as an
	// operator's decision).
	At time.Time `json:"at,omitzero"`
	// Action is the ladder's last answer: the round carried out or why it
	// waits.
	Action collection.Action `json:"action"`
	// Owed is what the plan owed at the last step, by component.
	Owed collection.Breakdown `json:"owed"`
}

// ladderOn reports whether this run uses the collection ladder (recorded
// once per run, at the start of servicing).
func (w *planWorkflow) ladderOn(ctx workflow.Context) bool {
	return workflow.GetVersion(ctx, ladderVersion, workflow.DefaultVersion, 1) >= 1
}

// wakeCollection asks the ladder again now: an instalment became overdue,
// or money arrived while the ladder runs.
func (w *planWorkflow) wakeCollection(ctx workflow.Context) {
	w.Collecting.At = w.businessNow(ctx)
}

// collecting reports whether the ladder runs (a round went out or a step
// is due).
func (w *planWorkflow) collecting() bool {
	return !w.Collecting.At.IsZero() || w.Collecting.State.Stage != ""
}

// collectionStep runs one step of the ladder: penalty accrued, a round of
// contacts and tasks under the contact rules, or a wait.
func (w *planWorkflow) collectionStep(ctx workflow.Context) error {
	in := activities.CollectionInput{
		PlanID: w.PlanID, Version: w.ScheduleVersion, Calendar: w.Calendar, At: w.businessNow(ctx),
		State: w.Collecting.State,
	}
	var res activities.CollectionResult
	if err := workflow.ExecuteActivity(withStore(ctx), act.CollectionStep, in).Get(ctx, &res); err != nil {
		return fmt.Errorf("collection step of %s: %w", w.PlanID, err)
	}
	w.Collecting = Collecting{State: res.State, At: res.NextAt, Action: res.Action, Owed: res.Owed}
	if w.applyStates(res.Instalments) {
		w.bump("penalty accrued on overdue instalments")
	}
	w.Contacts = res.Contacts
	w.UpdatedAt = workflow.Now(ctx)
	return nil
}
