package workflows

import (
	"fmt"

	"go.temporal.io/sdk/workflow"
)

// service runs an active plan until it reaches a final state, answering
// the messages that arrive meanwhile.
func (w *planWorkflow) service(ctx workflow.Context) error {
	for !w.State.Final() {
		if err := workflow.Await(ctx, func() bool { return len(w.Inbox) > 0 || w.State.Final() }); err != nil {
			return err
		}
		for len(w.Inbox) > 0 {
			m := w.pop()
			w.reply(m, false, fmt.Sprintf("the plan is %s; %s is not possible now", w.State, m.Kind))
		}
	}
	return nil
}
