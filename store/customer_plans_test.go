package store

import (
	"context"
	"testing"
)

// TestCustomerPlanIDs: a customer's plans, newest first, and nobody
// else's.
func TestCustomerPlanIDs(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	a, b := newFixture(t, s), newFixture(t, s)
	second, err := s.CreatePlan(ctx, Plan{ApplicationID: a.spare.ID, CustomerID: a.customer.ID})
	if err != nil {
		t.Fatal(err)
	}
	ids, err := s.CustomerPlanIDs(ctx, a.customer.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 2 || ids[0] != second.ID || ids[1] != a.plan.ID {
		t.Errorf("plans of customer a: %v, want [%s %s]", ids, second.ID, a.plan.ID)
	}
	if ids, err := s.CustomerPlanIDs(ctx, b.customer.ID, 1); err != nil || len(ids) != 1 || ids[0] != b.plan.ID {
		t.Errorf("plans of customer b: %v, %v", ids, err)
	}
	if ids, err := s.CustomerPlanIDs(ctx, a.customer.ID, 1); err != nil || len(ids) != 1 || ids[0] != second.ID {
		t.Errorf("a's newest plan: %v, %v", ids, err)
	}
}
