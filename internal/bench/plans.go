package bench

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shopspring/decimal"

	"github.com/fenqi/fenqi/calc"
	"github.com/fenqi/fenqi/frontdoor"
	"github.com/fenqi/fenqi/plan"
)

// onboarding is what one plan's onboarding asks for.
type onboarding struct {
	name     string // unique in the run: request ids and the customer's ref derive from it
	amount   decimal.Decimal
	terms    int
	settings plan.Settings
}

// onboard takes one plan from application to active through the front
// door, as the starter does: apply (the strong example customer is
// approved at once, and the answer carries the offers), choose the annuity over the terms
// asked for, sign the agreement the choice rendered. Each customer is new
// (a ref of its own), so that no credit line runs out and every funding
// account starts empty. Every request id derives from the name: a retry
// reaches the same plan and is answered, not applied twice.
func (b *runner) onboard(ctx context.Context, o onboarding) (string, error) {
	app := b.application(o.name, o.amount, o.terms, o.settings)
	rid := app.RequestID
	applied, err := b.env.Door.Apply(ctx, app)
	if err != nil {
		return "", fmt.Errorf("apply %s: %w", rid, err)
	}
	id := applied.PlanID
	if applied.State == plan.StateActive {
		return id, nil // a retry of an onboarding that went through
	}
	if applied.State != plan.StateOffered {
		return "", refusal{fmt.Errorf("plan %s of %s is %s, not offered: %s", id, rid, applied.State, applied.Reason)}
	}
	offer := 0
	for _, of := range applied.Offers {
		if of.Method == calc.MethodAnnuity && of.Terms == o.terms {
			offer = of.No
			break
		}
	}
	if offer == 0 {
		return "", refusal{fmt.Errorf("plan %s: no annuity offer over %d instalments among %d offers (does the worker's credit policy allow %d months?)", id, o.terms, len(applied.Offers), o.terms)}
	}
	reply, err := b.env.Door.Choose(ctx, id, plan.ChooseRequest{RequestID: rid + "-choose", OfferSet: applied.OfferSet, Offer: offer})
	if err != nil {
		return "", fmt.Errorf("choose on plan %s: %w", id, err)
	}
	if !reply.Accepted {
		return "", refusal{fmt.Errorf("choose on plan %s refused: %s", id, reply.Reason)}
	}
	reply, err = b.env.Door.Sign(ctx, id, plan.SignRequest{RequestID: rid + "-sign", DocumentHash: reply.AgreementHash, Name: app.Customer.Name, Consent: true})
	if err != nil {
		return "", fmt.Errorf("sign plan %s: %w", id, err)
	}
	if !reply.Accepted || reply.State != plan.StateActive {
		return "", refusal{fmt.Errorf("sign plan %s: %s, not active: %s", id, reply.State, reply.Reason)}
	}
	return id, nil
}

func firstOf(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

// refusal is an onboarding the plan refused: trying again does not help.
type refusal struct{ error }

func (r refusal) Unwrap() error { return r.error }

// retryable reports whether an onboarding that failed with err may work
// when tried again (a timeout, an overloaded server), as opposed to bad
// input or a refusal.
func retryable(err error) bool {
	var ref refusal
	var rej *frontdoor.RejectedError
	var inv *plan.ValidationError
	return !errors.As(err, &ref) && !errors.As(err, &rej) && !errors.As(err, &inv)
}

// callTimeout bounds one onboarding attempt or one Update.
const callTimeout = time.Minute

// onboardRetrying is onboard tried up to three times on a transient error;
// retries counts the second and third tries.
func (b *runner) onboardRetrying(ctx context.Context, o onboarding, retries *atomic.Int64) (string, error) {
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		if attempt > 0 {
			retries.Add(1)
			b.env.Log.Warn("onboarding failed; trying again", "plan", o.name, "attempt", attempt+1, "err", err)
			select {
			case <-ctx.Done():
				return "", ctx.Err()
			case <-time.After(time.Duration(attempt) * time.Second):
			}
		}
		actx, cancel := context.WithTimeout(ctx, callTimeout)
		var id string
		id, err = b.onboard(actx, o)
		cancel()
		if err == nil {
			return id, nil
		}
		if ctx.Err() != nil || !retryable(err) {
			return "", err
		}
	}
	return "", err
}

// forEach runs f(ctx, i) for each i in [0, n) on conc goroutines, calling
// tick after each success. It stops at the first error and returns it.
func forEach(ctx context.Context, n, conc int, tick func(), f func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	next := make(chan int)
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	for range min(max(conc, 1), n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := f(ctx, i); err != nil {
					once.Do(func() { first = err; cancel(err) })
					return
				}
				tick()
			}
		}()
	}
feed:
	for i := 0; i < n; i++ {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if first != nil {
		return first
	}
	return ctx.Err()
}
