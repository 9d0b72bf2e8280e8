package frontdoor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/fenqi/fenqi/plan"
	"github.com/fenqi/fenqi/store"
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

// ErrNoProfile means the customer has never applied: there are no details
// to start a new application from.
var ErrNoProfile = errors.New("no customer profile")

// CustomerProfile is the customer of ref as they last applied (from the
// database: identifying fields opened, the financial profile and credit
// history), so that a front-end can prefill a new application. It is
// ErrNoProfile for a customer who has never applied.
func (d *Door) CustomerProfile(ctx context.Context, ref string) (plan.Customer, error) {
	if d.st == nil {
		return plan.Customer{}, fmt.Errorf("profile of customer %s: %w", ref, ErrNoStore)
	}
	c, err := d.st.GetCustomerByRef(ctx, ref)
	if errors.Is(err, store.ErrNotFound) {
		return plan.Customer{}, fmt.Errorf("profile of customer %s: %w", ref, ErrNoProfile)
	}
	if err != nil {
		return plan.Customer{}, err
	}
	var out plan.Customer
	if len(c.Profile) > 0 {
		if err := json.Unmarshal(c.Profile, &out); err != nil {
			return plan.Customer{}, fmt.Errorf("profile of customer %s: %w", c.ID, err)
		}
	}
	out.Ref, out.Name, out.IDNumber, out.Phone, out.Email, out.PushID = c.ExternalRef, c.Name, c.IDNumber, c.Phone, c.Email, c.PushID
	out.PreferredChannel, out.TimeZone = plan.Channel(c.PreferredChannel), c.TimeZone
	return out, nil
}
