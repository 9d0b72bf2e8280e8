package channels

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/google/uuid"

	"github.com/fenqi/fenqi/store"
)

// TaskCreator stores agent tasks; *store.Store is one.
type TaskCreator interface {
	CreateTask(ctx context.Context, t store.Task) (store.Task, error)
}

// PhoneSender delivers a phone contact as a call task for an agent: a
// task keyed "call:<contact key>" (so a retried message writes one task),
// of kind early_warning for an alert and collection_call otherwise, with
// the contact key, purpose and script (the body) in its details. It
// reports Sent once the task is stored; the agent records the call itself.
type PhoneSender struct {
	Tasks TaskCreator
	// Log is the logger (nil: slog.Default()).
	Log *slog.Logger
}

// Send writes the call task for m.
func (p PhoneSender) Send(ctx context.Context, m Message) (Outcome, error) {
	planID, err := uuid.Parse(m.PlanID)
	if err != nil {
		return Failed, fmt.Errorf("phone task for %s: plan id %q: %w", m.ContactKey, m.PlanID, err)
	}
	kind := store.TaskCollectionCall
	if m.Purpose == "alert" {
		kind = store.TaskEarlyWarning
	}
	t, err := p.Tasks.CreateTask(ctx, store.Task{
		TaskKey: "call:" + m.ContactKey, PlanID: planID, Kind: kind,
		Details: mustJSON(map[string]string{"contact_key": m.ContactKey, "purpose": m.Purpose, "channel": m.Channel,
			"script": m.Body}),
	})
	if err != nil {
		return "", fmt.Errorf("phone task for %s: %w", m.ContactKey, err)
	}
	log := p.Log
	if log == nil {
		log = slog.Default()
	}
	log.InfoContext(ctx, "call task written", "task_key", t.TaskKey, "task_id", t.ID, "kind", t.Kind,
		"contact_key", m.ContactKey, "plan_id", m.PlanID, "purpose", m.Purpose)
	return Sent, nil
}
