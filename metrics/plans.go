package metrics

import (
	"context"
	"fmt"
	"os"
	"sync"
	"time"

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

// EnvPlansTTL names the variable with how long the worker reuses its
// count of plans by state between scrapes (a Go duration; default
// DefaultPlansTTL).
const EnvPlansTTL = "FENQI_METRICS_PLANS_TTL"

// DefaultPlansTTL is how long a count of plans by state is reused.
const DefaultPlansTTL = 30 * time.Second

// PlansTTL is the reuse time of the count of plans by state from
// EnvPlansTTL: DefaultPlansTTL when unset, an error naming the variable
// when it is not a duration of zero or more.
func PlansTTL() (time.Duration, error) {
	v := os.Getenv(EnvPlansTTL)
	if v == "" {
		return DefaultPlansTTL, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%s=%q: want a duration of zero or more, such as 30s", EnvPlansTTL, v)
	}
	return d, nil
}

// Cached wraps count so that scrapes share one answer for ttl and at most
// one query runs at a time: however often /metrics is scraped (or by how
// many scrapers), the database sees at most one count per ttl. A failed
// count is not cached.
func Cached(count PlanCounter, ttl time.Duration) PlanCounter {
	var (
		mu   sync.Mutex
		at   time.Time
		last map[string]int64
	)
	return func(ctx context.Context) (map[string]int64, error) {
		mu.Lock()
		defer mu.Unlock()
		if last != nil && time.Since(at) < ttl {
			return last, nil
		}
		got, err := count(ctx)
		if err != nil {
			return nil, err
		}
		last, at = got, time.Now()
		return last, nil
	}
}
