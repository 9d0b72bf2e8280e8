package metrics

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
)

// PlansByState counts the plans by state in fenqi's database (the plans
// table, whose state column is indexed).
func PlansByState(pool *pgxpool.Pool) PlanCounter {
	return func(ctx context.Context) (map[string]int64, error) {
		rows, err := pool.Query(ctx, `SELECT state, count(*) FROM plans GROUP BY state`)
		if err != nil {
			return nil, fmt.Errorf("count plans by state: %w", err)
		}
		defer rows.Close()
		out := map[string]int64{}
		for rows.Next() {
			var state string
			var n int64
			if err := rows.Scan(&state, &n); err != nil {
				return nil, fmt.Errorf("count plans by state: %w", err)
			}
			out[state] = n
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("count plans by state: %w", err)
		}
		return out, nil
	}
}
