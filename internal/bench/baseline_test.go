package bench

import (
	"testing"
	"time"

	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/fenqi/fenqi/plan"
)

// updateCallbacks records an Update's outcome in the test environment.
type updateCallbacks struct {
	t      *testing.T
	name   string
	reply  plan.Reply
	done   bool
	reject error
}

func (u *updateCallbacks) Accept()          {}
func (u *updateCallbacks) Reject(err error) { u.reject = err }
func (u *updateCallbacks) Complete(v any, err error) {
	if err != nil {
		u.t.Errorf("update %s failed: %v", u.name, err)
		return
	}
	u.reply, u.done = v.(plan.Reply), true
}

func TestBaselineWorkflow(t *testing.T) {
	sign := plan.SignRequest{RequestID: "s", DocumentHash: zeroHash, Name: "张三", Consent: true}
	choose := plan.ChooseRequest{RequestID: "c", OfferSet: 1, Offer: 1}
	for _, c := range []struct {
		name string
		// script sends the messages at 1 s, 2 s, ... and returns the
		// Updates whose replies must be accepted.
		script func(t *testing.T, env *testsuite.TestWorkflowEnvironment) []*updateCallbacks
	}{
		{"signal, then update", func(t *testing.T, env *testsuite.TestWorkflowEnvironment) []*updateCallbacks {
			u := &updateCallbacks{t: t, name: plan.MsgSign}
			env.RegisterDelayedCallback(func() { env.SignalWorkflow(plan.MsgChoose, choose) }, time.Second)
			env.RegisterDelayedCallback(func() { env.UpdateWorkflow(plan.MsgSign, "s", u, sign) }, 2*time.Second)
			return []*updateCallbacks{u}
		}},
		{"the update overtakes the signal", func(t *testing.T, env *testsuite.TestWorkflowEnvironment) []*updateCallbacks {
			u := &updateCallbacks{t: t, name: plan.MsgSign}
			env.RegisterDelayedCallback(func() { env.UpdateWorkflow(plan.MsgSign, "s", u, sign) }, time.Second)
			env.RegisterDelayedCallback(func() { env.SignalWorkflow(plan.MsgChoose, choose) }, 2*time.Second)
			return []*updateCallbacks{u}
		}},
		{"as the front door", func(t *testing.T, env *testsuite.TestWorkflowEnvironment) []*updateCallbacks {
			apply := &updateCallbacks{t: t, name: plan.UpdateAwaitDecision}
			ch := &updateCallbacks{t: t, name: plan.MsgChoose}
			u := &updateCallbacks{t: t, name: plan.MsgSign}
			env.RegisterDelayedCallback(func() { env.UpdateWorkflow(plan.UpdateAwaitDecision, "a", apply, "fingerprint") }, time.Second)
			env.RegisterDelayedCallback(func() {
				v, err := env.QueryWorkflow(plan.QueryStatus)
				var st plan.Status
				if err == nil {
					err = v.Get(&st)
				}
				if err != nil || st.State != plan.StateOffered || st.OfferSet != 1 {
					t.Errorf("status query: %+v, %v", st, err)
				}
				env.UpdateWorkflow(plan.MsgChoose, "c", ch, choose)
			}, 2*time.Second)
			env.RegisterDelayedCallback(func() { env.UpdateWorkflow(plan.MsgSign, "s", u, sign) }, 3*time.Second)
			return []*updateCallbacks{apply, ch, u}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var s testsuite.WorkflowTestSuite
			env := s.NewTestWorkflowEnvironment()
			env.RegisterWorkflowWithOptions(BaselineWorkflow, workflow.RegisterOptions{Name: BaselineWorkflowName})
			updates := c.script(t, env)
			env.ExecuteWorkflow(BaselineWorkflowName, plan.Input{PlanID: "p", Application: plan.Application{RequestID: "r"}})
			if !env.IsWorkflowCompleted() || env.GetWorkflowError() != nil {
				t.Fatalf("completed %v, error %v", env.IsWorkflowCompleted(), env.GetWorkflowError())
			}
			var result plan.Reply
			if err := env.GetWorkflowResult(&result); err != nil || result.State != plan.StateActive {
				t.Errorf("result %+v, %v", result, err)
			}
			for _, u := range updates {
				if !u.done || !u.reply.Accepted || u.reject != nil {
					t.Errorf("update %s: done %v, reply %+v, rejected %v", u.name, u.done, u.reply, u.reject)
				}
			}
			if last := updates[len(updates)-1]; last.reply.State != plan.StateActive {
				t.Errorf("the signature's reply is %s, want active", last.reply.State)
			}
		})
	}
}

func TestBaselineWorkflowRejectsBadSignature(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(BaselineWorkflow, workflow.RegisterOptions{Name: BaselineWorkflowName})
	bad := &updateCallbacks{t: t, name: plan.MsgSign}
	good := &updateCallbacks{t: t, name: plan.MsgSign}
	env.RegisterDelayedCallback(func() { env.SignalWorkflow(plan.MsgChoose, plan.ChooseRequest{RequestID: "c", OfferSet: 1, Offer: 1}) }, time.Second)
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(plan.MsgSign, "bad", bad, plan.SignRequest{RequestID: "bad", DocumentHash: "forged", Name: "x", Consent: true})
	}, 2*time.Second)
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(plan.MsgSign, "s", good, plan.SignRequest{RequestID: "s", DocumentHash: zeroHash, Name: "x", Consent: true})
	}, 3*time.Second)
	env.ExecuteWorkflow(BaselineWorkflowName, plan.Input{PlanID: "p"})
	if bad.reject == nil || bad.done {
		t.Errorf("a forged hash was not rejected by the validator: %+v", bad)
	}
	if !good.done || !env.IsWorkflowCompleted() {
		t.Errorf("the workflow did not complete after a good signature")
	}
}
