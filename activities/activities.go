// Package activities holds fenqi's Temporal activities: the calculations
// (pure, fast: run as local activities) and the persistence in PostgreSQL.
// Activities are methods on Activities, which holds their dependencies, and
// every one of them is idempotent: writes are keyed by business identity.
package activities

import (
	"context"
	"time"

	"github.com/shopspring/decimal"

	"github.com/fenqi/fenqi/store"
	"github.com/fenqi/fenqi/underwriting"
)

// Activities holds what the activities need: the store, the credit policy
// and a clock.
type Activities struct {
	Store *store.Store
	// Policy is the credit policy; nil means underwriting.DefaultPolicy().
	Policy *underwriting.Policy
	// Now is the wall clock; tests replace it.
	Now func() time.Time
	// AfterDebit, when set, runs right after the gateway charged a debit
	// and before the payment is recorded: fault injection for tests that
	// crash a worker in the middle of a debit. Nil in production.
	AfterDebit func(ctx context.Context, key string) error
	// Observe, when set, is told of each debit's outcome and each payment
	// (metrics); nil observes nothing.
	Observe Observer
}

// Observer is told of the money activities move: each debit attempt once,
// with its outcome ("succeeded", "insufficient_funds") and amount, and
// each payment from outside auto-debit once, when it is recorded. A
// retried activity that finds its debit or payment already recorded does
// not tell it again.
type Observer interface {
	Debit(outcome string, amount decimal.Decimal)
	Payment(amount decimal.Decimal)
}

// New returns Activities over s with the default policy and the real clock.
func New(s *store.Store) *Activities {
	return &Activities{Store: s, Now: time.Now}
}

var defaultPolicy = underwriting.DefaultPolicy()

// inTx runs fn with a copy of a whose store writes in one transaction
// (store.InTx): committed when fn returns nil, rolled back otherwise.
func (a *Activities) inTx(ctx context.Context, fn func(*Activities) error) error {
	return a.Store.InTx(ctx, func(st *store.Store) error {
		b := *a
		b.Store = st
		return fn(&b)
	})
}

func (a *Activities) policy() underwriting.Policy {
	if a.Policy != nil {
		return *a.Policy
	}
	return defaultPolicy
}
