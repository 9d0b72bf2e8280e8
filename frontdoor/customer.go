package frontdoor

import (
	"context"
	"fmt"

	"github.com/google/uuid"
)

// CustomerPlans lists the ids of the customer's plans, newest first (at
// most store.MaxCustomerPlans), from the database's plans table: the
// customer's web page shows them. The door needs WithStore (ErrNoStore
// without it). A plan is in the table from its application on.
func (d *Door) CustomerPlans(ctx context.Context, customerID uuid.UUID) ([]string, error) {
	if d.st == nil {
		return nil, fmt.Errorf("plans of customer %s: %w", customerID, ErrNoStore)
	}
	ids, err := d.st.CustomerPlanIDs(ctx, customerID, 0)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = id.String()
	}
	return out, nil
}
