package store

import (
	"context"
	"fmt"

	"github.com/google/uuid"
)

// MaxCustomerPlans bounds CustomerPlanIDs.
const MaxCustomerPlans = 200

// CustomerPlanIDs returns the ids of the customer's plans, newest first, at
// most limit of them (MaxCustomerPlans when limit is not in 1 to
// MaxCustomerPlans). It reads plans_customer_idx.
func (s *Store) CustomerPlanIDs(ctx context.Context, customerID uuid.UUID, limit int) ([]uuid.UUID, error) {
	if limit < 1 || limit > MaxCustomerPlans {
		limit = MaxCustomerPlans
	}
	rows, err := s.db().Query(ctx, `SELECT id FROM plans WHERE customer_id = $1 ORDER BY created_at DESC, id LIMIT $2`, customerID, limit)
	if err != nil {
		return nil, fmt.Errorf("plans of customer %s: %w", customerID, classify(err))
	}
	defer rows.Close()
	var out []uuid.UUID
	for rows.Next() {
		var id uuid.UUID
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("plans of customer %s: %w", customerID, classify(err))
		}
		out = append(out, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("plans of customer %s: %w", customerID, classify(err))
	}
	return out, nil
}
