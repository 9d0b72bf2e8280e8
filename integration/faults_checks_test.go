package integration

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"github.com/fenqi/fenqi/plan"
)

// endState is where a plan stands in the database.
type endState struct {
	state    string
	overdue  int // rows of the current schedule overdue
	rows     int // rows of the current schedule
	declines int // gateway declines of its account
}

// endStates reads every plan's state from the database.
func (r *faultRun) endStates(ctx context.Context) (map[string]endState, error) {
	rows, err := r.st.Pool().Query(ctx, `SELECT p.id::text, p.state,
			count(i.no) FILTER (WHERE i.status = 'overdue'), count(i.no),
			(SELECT count(*) FROM account_declines d WHERE d.account_id = p.funding_account_id)
		FROM plans p LEFT JOIN instalments i ON i.plan_id = p.id AND i.schedule_version = p.schedule_version
		GROUP BY p.id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]endState{}
	for rows.Next() {
		var id string
		var e endState
		if err := rows.Scan(&id, &e.state, &e.overdue, &e.rows, &e.declines); err != nil {
			return nil, err
		}
		out[id] = e
	}
	return out, rows.Err()
}

// expected says whether a plan of scenario reached its end state in the
// database: paid off, repaid early or cancelled plans closed, a
// defaulter's every instalment overdue after its every debit attempt was
// declined, a risky applicant declined.
func (p *faultPlan) expected(e endState) bool {
	switch p.scenario {
	case scDeclined:
		return e.state == string(plan.StateDeclined)
	case scDefault:
		return e.state == string(plan.StateActive) && e.rows == p.terms && e.overdue == p.terms && e.declines == 3*p.terms
	default:
		return e.state == string(plan.StateClosed)
	}
}

// waitEndStates waits, within faultsEndBound, until every plan is in its
// expected end state, and reports whether they all got there (failing
// the test with the plans that did not).
func (r *faultRun) waitEndStates() bool {
	deadline := time.Now().Add(faultsEndBound)
	var behind []*faultPlan
	var states map[string]endState
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		got, err := r.endStates(ctx)
		cancel()
		if err == nil {
			states, behind = got, nil
			for _, p := range r.plans {
				if !p.expected(states[p.id]) {
					behind = append(behind, p)
				}
			}
			if len(behind) == 0 {
				return true
			}
		}
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Second)
	}
	r.t.Errorf("%d of %d plans not in their end state %s after the faults:", len(behind), len(r.plans), faultsEndBound)
	for i, p := range behind {
		if i == 20 {
			r.t.Errorf("... and %d more", len(behind)-i)
			break
		}
		r.t.Errorf("plan %s (%s) %s: %+v; %s", p.tag(), p.scenario, p.id, states[p.id], r.describe(p))
	}
	r.t.Logf("events:\n%s", r.eventLog())
	return false
}

// describe says what a plan's workflow is waiting for: its pending
// activities and their attempts, and the plan's instalments.
func (r *faultRun) describe(p *faultPlan) string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var b strings.Builder
	if id, err := uuid.Parse(p.id); err == nil {
		d, err := r.tc.DescribeWorkflowExecution(ctx, plan.WorkflowID(id), "")
		if err != nil {
			fmt.Fprintf(&b, "describe: %v", err)
		} else {
			fmt.Fprintf(&b, "workflow %s", d.GetWorkflowExecutionInfo().GetStatus())
			for _, a := range d.GetPendingActivities() {
				fmt.Fprintf(&b, "; pending %s attempt %d (%s)", a.GetActivityType().GetName(), a.GetAttempt(), a.GetState())
			}
			if wt := d.GetPendingWorkflowTask(); wt != nil {
				fmt.Fprintf(&b, "; workflow task %s attempt %d", wt.GetState(), wt.GetAttempt())
			}
		}
	}
	rows, err := r.st.Pool().Query(ctx, `SELECT 'v' || schedule_version || ' #' || no || ' ' || due_date || ' ' || status
			|| ' pay ' || payment || ' pen ' || penalty_accrued || ' paid ' || (paid_principal + paid_interest + paid_fee + paid_penalty)
		FROM instalments WHERE plan_id = $1 ORDER BY schedule_version, no`, p.id)
	if err == nil {
		for rows.Next() {
			var s string
			if rows.Scan(&s) == nil {
				b.WriteString("; " + s)
			}
		}
		rows.Close()
	}
	rows, err = r.st.Pool().Query(ctx, `SELECT 'debit v' || schedule_version || ' #' || instalment_no || '/' || attempt || ' '
			|| outcome || ' ' || amount || ' at ' || round(extract(epoch FROM created_at)::numeric - $2, 3) || 's'
		FROM debit_attempts WHERE plan_id = $1 ORDER BY created_at`, p.id, float64(r.start.UnixMilli())/1000)
	if err == nil {
		for rows.Next() {
			var s string
			if rows.Scan(&s) == nil {
				b.WriteString("; " + s)
			}
		}
		rows.Close()
	}
	if len(p.refusals) > 0 {
		fmt.Fprintf(&b, "; refusals %q", p.refusals)
	}
	return b.String()
}

// check asserts what the faults must not break: each plan as its
// workflow reports it, the gateway's ledger against the payments, one
// debit per instalment, and the books.
func (r *faultRun) check() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	r.checkStatuses(ctx)
	r.checkLedger(ctx)
	r.checkBooks(ctx)
	r.checkScenarios(ctx)
}

// checkStatuses compares each plan's own status (the workflow's query)
// with its scenario's end.
func (r *faultRun) checkStatuses(ctx context.Context) {
	for _, p := range r.plans {
		deadline := time.Now().Add(time.Minute)
		for {
			st, err := r.status(ctx, p.id)
			problem := ""
			switch {
			case err != nil:
				problem = err.Error()
			default:
				problem = p.statusProblem(st)
			}
			if problem == "" {
				break
			}
			if time.Now().After(deadline) {
				r.t.Errorf("plan %s (%s) %s: %s", p.tag(), p.scenario, p.id, problem)
				break
			}
			time.Sleep(500 * time.Millisecond)
		}
	}
}

// statusProblem says what is wrong with a plan's final status, "" if
// nothing.
func (p *faultPlan) statusProblem(st plan.Status) string {
	want, reason := plan.StateClosed, p.closeReason()
	switch p.scenario {
	case scDeclined:
		want = plan.StateDeclined
	case scDefault:
		want = plan.StateActive
	}
	if st.State != want || st.CloseReason != reason {
		return fmt.Sprintf("status %s (%q), want %s (%q)", st.State, st.CloseReason, want, reason)
	}
	switch p.scenario {
	case scPayer, scLate, scExternal:
		if st.PaidInstallments != p.terms {
			return fmt.Sprintf("%d of %d instalments paid", st.PaidInstallments, p.terms)
		}
	case scDefault:
		if len(st.Complaints) > 0 {
			return fmt.Sprintf("complaints still open: %+v", st.Complaints)
		}
		if st.FailedDebits != 3*p.terms {
			return fmt.Sprintf("%d failed debits, want %d (3 attempts of each of %d instalments)", st.FailedDebits, 3*p.terms, p.terms)
		}
		for _, row := range st.Schedule {
			if row.Status != plan.InstalmentOverdue {
				return fmt.Sprintf("instalment %d is %s, want overdue", row.No, row.Status)
			}
		}
	}
	return ""
}

// violations fails the test with every row of query (one text column:
// the offending item) under what.
func (r *faultRun) violations(ctx context.Context, what, query string) {
	rows, err := r.st.Pool().Query(ctx, query)
	if err != nil {
		r.t.Errorf("%s: %v", what, err)
		return
	}
	defer rows.Close()
	var bad []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			r.t.Errorf("%s: %v", what, err)
			return
		}
		bad = append(bad, s)
	}
	if err := rows.Err(); err != nil {
		r.t.Errorf("%s: %v", what, err)
	}
	if len(bad) > 0 {
		if len(bad) > 20 {
			bad = append(bad[:20], fmt.Sprintf("... and %d more", len(bad)-20))
		}
		r.t.Errorf("%s:\n  %s", what, strings.Join(bad, "\n  "))
	}
}

// checkLedger compares the simulated gateway's ledger with the payments:
// every debit of an account has exactly one auto-debit payment of its
// plan, of the same amount and under the same key, and every auto-debit
// payment its one debit; no debit attempt is left unsettled; no
// instalment is debited twice.
func (r *faultRun) checkLedger(ctx context.Context) {
	r.violations(ctx, "gateway debits without exactly one auto-debit payment of their amount (a lost or doubled payment)", `
		SELECT e.idempotency_key || ' ' || e.amount || ': ' || count(pm.id) || ' payments ' || coalesce(sum(pm.amount), 0)
		FROM account_entries e
		LEFT JOIN payments pm ON pm.payment_id = e.idempotency_key
		LEFT JOIN plans pl ON pl.id = pm.plan_id
		WHERE e.kind = 'debit'
		GROUP BY e.id, e.idempotency_key, e.amount
		HAVING count(pm.id) <> 1 OR coalesce(sum(pm.amount), 0) <> e.amount
			OR bool_or(pm.source <> 'auto_debit') OR bool_or(pl.funding_account_id <> e.account_id)`)
	r.violations(ctx, "auto-debit payments without exactly one gateway debit of their amount (money recorded that was never taken)", `
		SELECT pm.plan_id || ' ' || pm.payment_id || ' ' || pm.amount
		FROM payments pm
		WHERE pm.source = 'auto_debit' AND (SELECT count(*) FROM account_entries e
			WHERE e.idempotency_key = pm.payment_id AND e.kind = 'debit' AND e.amount = pm.amount) <> 1`)
	r.violations(ctx, "auto-debit payments whose debit attempt names another gateway entry", `
		SELECT pm.plan_id || ' ' || pm.payment_id
		FROM payments pm
		JOIN debit_attempts da ON da.id = pm.debit_attempt_id
		LEFT JOIN account_entries e ON e.id = da.account_entry_id
		WHERE pm.source = 'auto_debit' AND (da.outcome <> 'succeeded' OR e.idempotency_key IS DISTINCT FROM pm.payment_id
			OR e.amount IS DISTINCT FROM pm.amount OR da.plan_id <> pm.plan_id)`)
	r.violations(ctx, "succeeded debit attempts without exactly one payment", `
		SELECT da.idempotency_key FROM debit_attempts da
		WHERE da.outcome = 'succeeded' AND (SELECT count(*) FROM payments pm WHERE pm.debit_attempt_id = da.id) <> 1`)
	r.violations(ctx, "debit attempts left unsettled (pending or failed)", `
		SELECT idempotency_key || ' ' || outcome FROM debit_attempts WHERE outcome NOT IN ('succeeded', 'insufficient_funds')`)
	r.violations(ctx, "declined debit attempts the gateway did not decline", `
		SELECT da.idempotency_key FROM debit_attempts da
		WHERE da.outcome = 'insufficient_funds'
			AND NOT EXISTS (SELECT 1 FROM account_declines d WHERE d.idempotency_key = da.idempotency_key)`)
	r.violations(ctx, "gateway declines of auto-debits without a declined debit attempt", `
		SELECT d.idempotency_key FROM account_declines d
		WHERE d.idempotency_key NOT LIKE 'change:%' AND NOT EXISTS (SELECT 1 FROM debit_attempts da
			WHERE da.idempotency_key = d.idempotency_key AND da.outcome = 'insufficient_funds')`)
	r.violations(ctx, "keys both debited and declined", `
		SELECT e.idempotency_key FROM account_entries e JOIN account_declines d USING (idempotency_key)`)
	r.violations(ctx, "instalments debited more than once", `
		SELECT plan_id || ' v' || schedule_version || ' #' || instalment_no || ': ' || count(*) || ' debits'
		FROM debit_attempts WHERE outcome = 'succeeded'
		GROUP BY plan_id, schedule_version, instalment_no HAVING count(*) > 1`)
	r.violations(ctx, "plans whose account was debited other than their auto-debit payments", `
		SELECT p.id || ': debited ' || d.total || ', auto-debit payments ' || a.total
		FROM plans p,
			LATERAL (SELECT coalesce(sum(amount), 0) AS total FROM account_entries e
				WHERE e.account_id = p.funding_account_id AND e.kind = 'debit') d,
			LATERAL (SELECT coalesce(sum(amount), 0) AS total FROM payments pm
				WHERE pm.plan_id = p.id AND pm.source = 'auto_debit') a
		WHERE p.funding_account_id IS NOT NULL AND d.total <> a.total`)
	r.violations(ctx, "accounts whose balance is not their credits less their debits", `
		SELECT a.id || ': balance ' || a.balance || ', ledger ' || coalesce(sum(CASE e.kind WHEN 'credit' THEN e.amount ELSE -e.amount END), 0)
		FROM funding_accounts a LEFT JOIN account_entries e ON e.account_id = a.id
		GROUP BY a.id, a.balance
		HAVING a.balance <> coalesce(sum(CASE e.kind WHEN 'credit' THEN e.amount ELSE -e.amount END), 0)`)

	// The payments from outside: each sent (twice) is recorded once, with
	// its amount; there are no others.
	sent := map[string]*faultPlan{}
	for _, p := range r.plans {
		if p.externalID != "" {
			sent[p.id+" "+p.externalID] = p
		}
	}
	rows, err := r.st.Pool().Query(ctx, `SELECT plan_id::text || ' ' || payment_id, amount FROM payments WHERE source <> 'auto_debit'`)
	if err != nil {
		r.t.Errorf("payments from outside: %v", err)
		return
	}
	defer rows.Close()
	seen := map[string]int{}
	for rows.Next() {
		var key string
		var amount decimal.Decimal
		if err := rows.Scan(&key, &amount); err != nil {
			r.t.Errorf("payments from outside: %v", err)
			return
		}
		seen[key]++
		p, ok := sent[key]
		switch {
		case !ok:
			r.t.Errorf("payment from outside %s was never sent", key)
		case !amount.Equal(p.external):
			r.t.Errorf("payment from outside %s is %s, sent %s", key, amount, p.external)
		}
	}
	for key := range sent {
		if seen[key] != 1 {
			r.t.Errorf("payment from outside %s sent twice is recorded %d times, want once", key, seen[key])
		}
	}
}

// checkBooks checks every plan's books: its payments are allocated in
// full, each instalment's paid amounts are its allocations, and the
// principal outstanding on the current schedule is the principal less the
// principal allocated; a closed plan owes nothing and has released its
// credit line.
func (r *faultRun) checkBooks(ctx context.Context) {
	r.violations(ctx, "plans whose allocations do not equal their payments", `
		SELECT p.id || ': payments ' || pm.total || ', allocated ' || al.total
		FROM plans p,
			LATERAL (SELECT coalesce(sum(amount), 0) AS total FROM payments WHERE plan_id = p.id) pm,
			LATERAL (SELECT coalesce(sum(amount), 0) AS total FROM payment_allocations WHERE plan_id = p.id) al
		WHERE pm.total <> al.total`)
	r.violations(ctx, "instalments whose paid amounts are not their allocations", `
		SELECT i.plan_id || ' v' || i.schedule_version || ' #' || i.no || ' paid ' || i.paid_principal || '/' || i.paid_interest
			|| '/' || i.paid_fee || '/' || i.paid_penalty || ', allocated ' || coalesce(a.principal, 0) || '/'
			|| coalesce(a.interest, 0) || '/' || coalesce(a.fee, 0) || '/' || coalesce(a.penalty, 0)
		FROM instalments i
		LEFT JOIN (SELECT plan_id, schedule_version, instalment_no,
				sum(amount) FILTER (WHERE component = 'principal') AS principal,
				sum(amount) FILTER (WHERE component = 'interest') AS interest,
				sum(amount) FILTER (WHERE component = 'fee') AS fee,
				sum(amount) FILTER (WHERE component = 'penalty') AS penalty
			FROM payment_allocations GROUP BY plan_id, schedule_version, instalment_no) a
			ON a.plan_id = i.plan_id AND a.schedule_version = i.schedule_version AND a.instalment_no = i.no
		WHERE i.paid_principal <> coalesce(a.principal, 0) OR i.paid_interest <> coalesce(a.interest, 0)
			OR i.paid_fee <> coalesce(a.fee, 0) OR i.paid_penalty <> coalesce(a.penalty, 0)`)
	r.violations(ctx, "plans whose outstanding principal is not the principal less the principal allocated", `
		SELECT p.id || ': principal ' || p.principal || ', allocated ' || al.total || ', outstanding ' || o.total
		FROM plans p,
			LATERAL (SELECT coalesce(sum(amount), 0) AS total FROM payment_allocations
				WHERE plan_id = p.id AND component = 'principal') al,
			LATERAL (SELECT coalesce(sum(principal - paid_principal), 0) AS total FROM instalments
				WHERE plan_id = p.id AND schedule_version = p.schedule_version AND status <> 'superseded') o
		WHERE p.schedule_version IS NOT NULL AND p.principal - al.total <> o.total`)
	r.violations(ctx, "closed plans that still owe", `
		SELECT p.id || ' v' || i.schedule_version || ' #' || i.no || ' ' || i.status
		FROM plans p JOIN instalments i ON i.plan_id = p.id AND i.schedule_version = p.schedule_version
		WHERE p.state = 'closed' AND i.status NOT IN ('paid', 'waived') AND NOT i.holiday`)
	r.violations(ctx, "credit lines not released by closed plans, or not held by active ones", `
		SELECT p.id || ' ' || p.state || ': credit line used ' || c.used || ', plan credit in use ' || coalesce(p.credit_in_use, p.principal)
		FROM plans p JOIN credit_lines c ON c.customer_id = p.customer_id
		WHERE (p.state = 'closed' AND (c.used <> 0 OR p.credit_in_use <> 0))
			OR (p.state = 'active' AND c.used <> coalesce(p.credit_in_use, p.principal))`)
}

// planMoney is what moved for one plan.
type planMoney struct {
	paid, external, allocated, penalty decimal.Decimal
	debited, changeDebited             decimal.Decimal
	debits, autoPayments, declines     int
	changeDebits, version              int
	declinesFunded                     int // declines after the account's first funding
	complaints, complaintTasks         string
}

// checkScenarios checks the money of each plan against its scenario.
func (r *faultRun) checkScenarios(ctx context.Context) {
	rows, err := r.st.Pool().Query(ctx, `SELECT p.id::text,
			(SELECT coalesce(sum(amount), 0) FROM payments WHERE plan_id = p.id),
			(SELECT coalesce(sum(amount), 0) FROM payments WHERE plan_id = p.id AND source <> 'auto_debit'),
			(SELECT coalesce(sum(amount), 0) FROM payment_allocations WHERE plan_id = p.id),
			(SELECT coalesce(sum(amount), 0) FROM payment_allocations WHERE plan_id = p.id AND component = 'penalty'),
			(SELECT coalesce(sum(amount), 0) FROM account_entries WHERE account_id = p.funding_account_id AND kind = 'debit'),
			(SELECT count(*) FROM account_entries WHERE account_id = p.funding_account_id AND kind = 'debit'),
			(SELECT count(*) FROM payments WHERE plan_id = p.id AND source = 'auto_debit'),
			(SELECT count(*) FROM account_declines WHERE account_id = p.funding_account_id),
			(SELECT count(*) FROM account_entries WHERE account_id = p.funding_account_id AND kind = 'debit'
				AND idempotency_key LIKE 'change:%'),
			(SELECT coalesce(sum(amount), 0) FROM account_entries WHERE account_id = p.funding_account_id AND kind = 'debit'
				AND idempotency_key LIKE 'change:%'),
			(SELECT count(*) FROM account_declines d WHERE d.account_id = p.funding_account_id
				AND d.created_at > (SELECT min(e.created_at) FROM account_entries e
					WHERE e.account_id = p.funding_account_id AND e.kind = 'credit')),
			coalesce(p.schedule_version, 0),
			(SELECT count(*) || ' ' || coalesce(string_agg(DISTINCT status, ','), '') FROM complaints WHERE plan_id = p.id),
			(SELECT count(*) || ' ' || coalesce(string_agg(DISTINCT status, ','), '') FROM tasks
				WHERE plan_id = p.id AND kind = 'complaint')
		FROM plans p`)
	if err != nil {
		r.t.Errorf("money by plan: %v", err)
		return
	}
	money := map[string]planMoney{}
	for rows.Next() {
		var id string
		var m planMoney
		if err := rows.Scan(&id, &m.paid, &m.external, &m.allocated, &m.penalty, &m.debited, &m.debits, &m.autoPayments,
			&m.declines, &m.changeDebits, &m.changeDebited, &m.declinesFunded, &m.version, &m.complaints, &m.complaintTasks); err != nil {
			rows.Close()
			r.t.Errorf("money by plan: %v", err)
			return
		}
		money[id] = m
	}
	rows.Close()
	for _, p := range r.plans {
		m := money[p.id]
		var bad []string
		want := func(ok bool, format string, args ...any) {
			if !ok {
				bad = append(bad, fmt.Sprintf(format, args...))
			}
		}
		// Once funded, an account holds enough for everything its plan
		// owes: the gateway declines it nothing after that. (A plan whose
		// signature was held up by a killed worker starts with due dates
		// behind it, and may be declined before the test funds it.)
		want(m.declinesFunded == 0, "%d declines after the account was funded", m.declinesFunded)
		switch p.scenario {
		case scPayer, scExternal, scLate:
			// Paid off: the schedule, and the late charges of a debit
			// declined before the account was funded.
			want(m.paid.Equal(p.total.Add(m.penalty)), "paid %s, the schedule is %s and late charges %s", m.paid, p.total, m.penalty)
			want(m.debits <= p.terms, "%d debits for %d instalments", m.debits, p.terms)
			want(m.declines > 0 || m.penalty.IsZero(), "late charges %s without a decline", m.penalty)
			if p.scenario == scExternal {
				want(m.external.Equal(p.external), "paid from outside %s, sent %s", m.external, p.external)
			}
			if p.scenario == scLate {
				want(m.declines >= 1, "no decline on an empty account")
			}
		case scPrepay, scCancel:
			want(p.changed || p.changeMissed, "the %s was not applied", p.scenario)
			if p.changed {
				want(m.changeDebits == 1, "%d debits of a change, want 1", m.changeDebits)
				want(m.changeDebited.Equal(p.dueNow), "the change debited %s, its quote said %s", m.changeDebited, p.dueNow)
				want(m.version >= 2, "schedule version %d after a change", m.version)
			}
		case scDefault:
			want(m.paid.IsZero() && m.debits == 0, "paid %s in %d debits on an account never funded", m.paid, m.debits)
			want(m.declines == 3*p.terms, "%d declines, want %d", m.declines, 3*p.terms)
			want(m.complaints == "1 resolved" && m.complaintTasks == "1 done", "complaints %q, their tasks %q; want 1 resolved, its task done",
				m.complaints, m.complaintTasks)
		case scDeclined:
			want(m.paid.IsZero(), "paid %s on a declined application", m.paid)
		}
		want(m.autoPayments == m.debits, "%d gateway debits, %d auto-debit payments", m.debits, m.autoPayments)
		if len(bad) > 0 {
			r.t.Errorf("plan %s (%s) %s, active at %s, funded at %s: %s; %s", p.tag(), p.scenario, p.id,
				p.activated.Truncate(time.Millisecond), p.funded.Truncate(time.Millisecond), strings.Join(bad, "; "), r.describe(p))
		}
	}
}

// accountsOf lists the funding accounts of the plans of scenarios.
func (r *faultRun) accountsOf(scenarios ...string) []uuid.UUID {
	var out []uuid.UUID
	for _, p := range r.plans {
		if slices.Contains(scenarios, p.scenario) && p.account != uuid.Nil {
			out = append(out, p.account)
		}
	}
	return out
}

// summary logs what the run did.
func (r *faultRun) summary() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var debits, declines, auto, outside, changes, interrupted int
	var debited, collected decimal.Decimal
	err := r.st.Pool().QueryRow(ctx, `SELECT
			(SELECT count(*) FROM account_entries WHERE kind = 'debit'),
			(SELECT coalesce(sum(amount), 0) FROM account_entries WHERE kind = 'debit'),
			(SELECT count(*) FROM account_declines),
			(SELECT count(*) FROM payments WHERE source = 'auto_debit'),
			(SELECT count(*) FROM payments WHERE source <> 'auto_debit'),
			(SELECT coalesce(sum(amount), 0) FROM payments),
			(SELECT count(*) FROM schedule_versions WHERE version > 1),
			(SELECT count(*) FROM debit_attempts WHERE updated_at - created_at > interval '5 seconds')`).
		Scan(&debits, &debited, &declines, &auto, &outside, &collected, &changes, &interrupted)
	if err != nil {
		r.t.Errorf("summary: %v", err)
		return
	}
	by := map[string]int{}
	quotes, missed, behind := 0, 0, 0
	for _, p := range r.plans {
		by[p.scenario]++
		quotes += p.changeTry
		if p.changeMissed {
			missed++
		}
	}
	// Funded plans declined before their funding: their signature was held
	// up until due dates had passed.
	if err := r.st.Pool().QueryRow(ctx, `SELECT count(DISTINCT d.account_id) FROM account_declines d
		WHERE d.created_at < (SELECT min(e.created_at) FROM account_entries e WHERE e.account_id = d.account_id AND e.kind = 'credit')
		AND d.account_id = ANY($1)`, r.accountsOf(scPayer, scExternal, scPrepay, scCancel)).Scan(&behind); err != nil {
		r.t.Errorf("summary: %v", err)
	}
	var mix []string
	for s, n := range by {
		mix = append(mix, fmt.Sprintf("%s %d", s, n))
	}
	sort.Strings(mix)
	starts, kills, selfExits := r.worker.figures()
	r.t.Logf("fault test, seed %d, %s: %d plans (%s); worker killed %d times (SIGKILL; %d during a debit), started %d times (%d after exiting by itself); "+
		"postgres restarted %d times; %d messages delivered twice (%d retries of a call); %d gateway debits (%s), %d declines, %d debits settled by a later try of their activity; "+
		"%d payments (%d auto-debit, %d from outside; %s); %d schedule changes (%d quotes asked for, %d plans paid off first); "+
		"%d funded plans declined before their funding (held up at activation)",
		r.seed, time.Since(r.start).Truncate(time.Second), len(r.plans), strings.Join(mix, ", "),
		kills, r.aimed.Load(), starts, selfExits, r.pgRestarts.Load(), r.duplicates.Load(), r.retries.Load(),
		debits, debited.StringFixed(2), declines, interrupted, auto+outside, auto, outside, collected.StringFixed(2), changes, quotes, missed, behind)
	r.t.Logf("events:\n%s", r.eventLog())
}
