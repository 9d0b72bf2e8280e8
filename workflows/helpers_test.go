package workflows_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/fenqi/fenqi/activities"
	"github.com/fenqi/fenqi/internal/testsystem"
	"github.com/fenqi/fenqi/plan"
	"github.com/fenqi/fenqi/store"
	"github.com/fenqi/fenqi/workflows"
)

// t0 is when every plan workflow starts: 10:00 in Shanghai, so that
// nothing happens at night.
var t0 = time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC)

// envLogger drops the test environment's log: a failing activity is
// retried 10 times and each attempt logs the same error, which the
// workflow's error (reported by the test) repeats anyway.
var envLogger = tlog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// ---- the database ----

// db is a fresh, migrated database of one test and a store over it.
type db struct {
	t  *testing.T
	st *store.Store
}

func newDB(t *testing.T) *db {
	t.Helper()
	return &db{t: t, st: testsystem.Store(t)}
}

// count runs a count(*) query. Safe to call from a delayed callback
// (it reports with Errorf).
func (d *db) count(sql string, args ...any) int {
	d.t.Helper()
	var n int
	if err := d.st.Pool().QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		d.t.Errorf("count %q: %v", sql, err)
	}
	return n
}

// text runs a query returning one text column of one row ("" and an error
// report when there is no row).
func (d *db) text(sql string, args ...any) string {
	d.t.Helper()
	var s *string
	if err := d.st.Pool().QueryRow(context.Background(), sql, args...).Scan(&s); err != nil {
		d.t.Errorf("query %q: %v", sql, err)
		return ""
	}
	if s == nil {
		return "<null>"
	}
	return *s
}

// texts runs a query returning one text column.
func (d *db) texts(sql string, args ...any) []string {
	d.t.Helper()
	rows, err := d.st.Pool().Query(context.Background(), sql, args...)
	if err != nil {
		d.t.Errorf("query %q: %v", sql, err)
		return nil
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s *string
		if err := rows.Scan(&s); err != nil {
			d.t.Errorf("scan %q: %v", sql, err)
			return nil
		}
		if s == nil {
			out = append(out, "<null>")
		} else {
			out = append(out, *s)
		}
	}
	if err := rows.Err(); err != nil {
		d.t.Errorf("query %q: %v", sql, err)
	}
	return out
}

// planState is plans.state of id.
func (d *db) planState(id uuid.UUID) string {
	d.t.Helper()
	return d.text(`SELECT state FROM plans WHERE id = $1`, id)
}

// requestRow is one row of the requests table.
type requestRow struct{ kind, actor, status string }

func (d *db) request(planID uuid.UUID, rid string) (requestRow, bool) {
	d.t.Helper()
	var r requestRow
	err := d.st.Pool().QueryRow(context.Background(),
		`SELECT kind, actor, status FROM requests WHERE plan_id = $1 AND request_id = $2`, planID, rid).
		Scan(&r.kind, &r.actor, &r.status)
	if err != nil {
		return requestRow{}, false
	}
	return r, true
}

// wantRequest checks that request rid of the plan was recorded once, as
// kind by actor, with status.
func (d *db) wantRequest(planID uuid.UUID, rid, kind, actor, status string) {
	d.t.Helper()
	if n := d.count(`SELECT count(*) FROM requests WHERE plan_id = $1 AND request_id = $2`, planID, rid); n != 1 {
		d.t.Errorf("requests rows for %q: %d, want 1", rid, n)
		return
	}
	got, _ := d.request(planID, rid)
	if want := (requestRow{kind, actor, status}); got != want {
		d.t.Errorf("request %q recorded as %+v, want %+v", rid, got, want)
	}
}

// wantNoRequest checks that request rid never reached the database.
func (d *db) wantNoRequest(planID uuid.UUID, rid string) {
	d.t.Helper()
	if n := d.count(`SELECT count(*) FROM requests WHERE plan_id = $1 AND request_id = $2`, planID, rid); n != 0 {
		r, _ := d.request(planID, rid)
		d.t.Errorf("request %q was recorded (%+v), want nothing", rid, r)
	}
}

// wantNotice checks that the customer was sent the notice key (contact and
// outbox row on the preferred channel) and returns its body.
func (d *db) wantNotice(planID uuid.UUID, key, purpose, channel string) string {
	d.t.Helper()
	ck := planID.String() + ":" + key
	var gotPurpose, gotChannel, body string
	var outbox int
	err := d.st.Pool().QueryRow(context.Background(), `SELECT c.purpose, c.channel, c.body,
			(SELECT count(*) FROM outbox o WHERE o.contact_id = c.id AND o.channel = c.channel)
		FROM contacts c WHERE c.plan_id = $1 AND c.contact_key = $2`, planID, ck).
		Scan(&gotPurpose, &gotChannel, &body, &outbox)
	if err != nil {
		d.t.Errorf("notice %s: %v (notices sent: %v)", key, err,
			d.texts(`SELECT contact_key FROM contacts WHERE plan_id = $1 ORDER BY created_at`, planID))
		return ""
	}
	if gotPurpose != purpose || gotChannel != channel || outbox != 1 {
		d.t.Errorf("notice %s: purpose %s channel %s with %d outbox rows, want %s on %s with 1", key, gotPurpose, gotChannel, outbox, purpose, channel)
	}
	return body
}

// wantAudit checks that the plan's audit log holds every action in want.
func (d *db) wantAudit(planID uuid.UUID, want ...string) {
	d.t.Helper()
	got := d.texts(`SELECT action FROM audit_log WHERE plan_id = $1 ORDER BY id`, planID)
	have := map[string]bool{}
	for _, a := range got {
		have[a] = true
	}
	for _, a := range want {
		if !have[a] {
			d.t.Errorf("audit log of plan %s has no %q entry; it has %v", planID, a, got)
		}
	}
}

// wantTransition checks that the audit log records the plan moving from
// -> to.
func (d *db) wantTransition(planID uuid.UUID, from, to string) {
	d.t.Helper()
	n := d.count(`SELECT count(*) FROM audit_log WHERE plan_id = $1 AND action = 'plan.state'
		AND details->>'from' = $2 AND details->>'to' = $3`, planID, from, to)
	if n != 1 {
		d.t.Errorf("audit log of plan %s: %d transitions %s -> %s, want 1 (transitions: %v)", planID, n, from, to,
			d.texts(`SELECT (details->>'from') || '->' || (details->>'to') FROM audit_log
				WHERE plan_id = $1 AND action = 'plan.state' ORDER BY id`, planID))
	}
}

// wantFinal checks plans.state, closed_at and the state reason of a plan
// that ended before activation.
func (d *db) wantFinal(planID uuid.UUID, state plan.State, reason string) {
	d.t.Helper()
	var got, gotReason string
	var closed bool
	if err := d.st.Pool().QueryRow(context.Background(),
		`SELECT state, state_reason, closed_at IS NOT NULL FROM plans WHERE id = $1`, planID).
		Scan(&got, &gotReason, &closed); err != nil {
		d.t.Errorf("plan %s: %v", planID, err)
		return
	}
	if got != string(state) || !closed {
		d.t.Errorf("plan row: state %s closed %v, want %s and closed", got, closed, state)
	}
	if gotReason != reason {
		d.t.Errorf("plan row: state_reason %q, want %q", gotReason, reason)
	}
}

// ---- applications ----

// customer reads examples/customers/<name>.json strictly.
func customer(t *testing.T, name string) plan.Customer {
	t.Helper()
	path := filepath.Join("..", "examples", "customers", name+".json")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	dcd := json.NewDecoder(bytes.NewReader(b))
	dcd.DisallowUnknownFields()
	var c plan.Customer
	if err := dcd.Decode(&c); err != nil {
		t.Fatalf("decode %s: %v", path, err)
	}
	return c
}

// borderline is the profile of underwriting's tests that lands in the
// manual review band of the default policy.
func borderline() plan.Customer {
	return plan.Customer{
		Ref: "border-1", Name: "赵六 (demo)", Age: 30, Occupation: "self-employed shop owner",
		MonthlyIncome: dec("6000"), MonthlyDebtPayments: dec("1000"),
		Assets: dec("10000"), Liabilities: dec("5000"), MonthlySpend: dec("3500"),
		CreditHistory:    plan.CreditHistory{OnTimePayments: 10, LatePayments: 1},
		PreferredChannel: plan.ChannelEmail, Email: "zhao.demo@example.com",
	}
}

// application is a valid application of c; change settings with opts.
func application(t *testing.T, rid string, c plan.Customer, amount string, terms int, opts ...func(*plan.Application)) plan.Application {
	t.Helper()
	app := plan.Application{RequestID: rid, Customer: c, Amount: dec(amount), Terms: terms}
	for _, o := range opts {
		o(&app)
	}
	if err := app.Validate(); err != nil {
		t.Fatalf("application %s: %v", rid, err)
	}
	return app
}

func withSettings(s plan.Settings) func(*plan.Application) {
	return func(a *plan.Application) { a.Settings = s }
}

// ---- one plan workflow in the time-skipping test environment ----

// planRun is one plan workflow run with the real activities over db.
type planRun struct {
	t   *testing.T
	db  *db
	env *testsuite.TestWorkflowEnvironment
	app plan.Application
	id  uuid.UUID
	// updates numbers update ids so that each update is a new one.
	updates int
}

func (d *db) newRun(app plan.Application) *planRun {
	d.t.Helper()
	var s testsuite.WorkflowTestSuite
	s.SetLogger(envLogger)
	env := s.NewTestWorkflowEnvironment()
	env.SetStartTime(t0)
	workflows.Register(env, activities.New(d.st))
	return &planRun{t: d.t, db: d, env: env, app: app, id: plan.IDFromRequest(app.RequestID)}
}

// at runs f at d after the start (workflow time).
func (r *planRun) at(d time.Duration, f func()) { r.env.RegisterDelayedCallback(f, d) }

// execute runs the workflow until it ends (time skips while it waits).
func (r *planRun) execute() {
	r.t.Helper()
	r.env.ExecuteWorkflow(plan.WorkflowName, plan.Input{PlanID: r.id.String(), Application: r.app, Fingerprint: r.app.Fingerprint()})
	if !r.env.IsWorkflowCompleted() {
		r.t.Fatalf("plan workflow did not complete")
	}
}

// result is the workflow's result: the final status. The workflow must
// have ended without an error.
func (r *planRun) result() plan.Status {
	r.t.Helper()
	if err := r.env.GetWorkflowError(); err != nil {
		r.t.Fatalf("plan workflow failed: %v", err)
	}
	var s plan.Status
	if err := r.env.GetWorkflowResult(&s); err != nil {
		r.t.Fatalf("plan workflow result: %v", err)
	}
	return s
}

// wantCanceled checks that the workflow ended by stopAt, not by an error.
func (r *planRun) wantCanceled() {
	r.t.Helper()
	if err := r.env.GetWorkflowError(); !temporal.IsCanceledError(err) {
		r.t.Errorf("plan workflow ended with %v, want it cancelled by the test", err)
	}
}

// status queries the plan's status (Errorf on failure: callable from a
// delayed callback).
func (r *planRun) status() plan.Status {
	r.t.Helper()
	v, err := r.env.QueryWorkflow(plan.QueryStatus)
	if err != nil {
		r.t.Errorf("query status: %v", err)
		return plan.Status{}
	}
	var s plan.Status
	if err := v.Get(&s); err != nil {
		r.t.Errorf("decode status: %v", err)
	}
	return s
}

// snapshot queries the status at d after the start.
func (r *planRun) snapshot(d time.Duration) *plan.Status {
	s := new(plan.Status)
	r.at(d, func() { *s = r.status() })
	return s
}

// stopAt cancels the workflow at d (an active plan runs for years).
func (r *planRun) stopAt(d time.Duration) { r.at(d, r.env.CancelWorkflow) }

// outcome is what became of one Update.
type outcome struct {
	name                         string
	accepted, rejected, complete bool
	rejectErr, err               error
	reply                        plan.Reply
}

// send sends an Update now (call it from a delayed callback); the
// update's callbacks fill o.
func (r *planRun) send(o *outcome, name string, req any) {
	o.name = name
	r.updates++
	r.env.UpdateWorkflow(name, fmt.Sprintf("update-%d", r.updates), &testsuite.TestUpdateCallback{
		OnAccept: func() { o.accepted = true },
		OnReject: func(err error) { o.rejected, o.rejectErr = true, err },
		OnComplete: func(v any, err error) {
			o.complete, o.err = true, err
			if err == nil {
				o.reply = toReply(r.t, v)
			}
		},
	}, req)
}

// sendAt sends an Update at d after the start.
func (r *planRun) sendAt(d time.Duration, name string, req any) *outcome {
	o := &outcome{name: name}
	r.at(d, func() { r.send(o, name, req) })
	return o
}

// signalAt sends a Signal at d after the start.
func (r *planRun) signalAt(d time.Duration, name string, req any) {
	r.at(d, func() { r.env.SignalWorkflow(name, req) })
}

func toReply(t *testing.T, v any) plan.Reply {
	switch x := v.(type) {
	case plan.Reply:
		return x
	case *plan.Reply:
		return *x
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Errorf("update result %T: %v", v, err)
		return plan.Reply{}
	}
	var rp plan.Reply
	if err := json.Unmarshal(b, &rp); err != nil {
		t.Errorf("update result %s: %v", b, err)
	}
	return rp
}

// wantReply fails unless the Update was accepted and completed, and
// returns its reply.
func (o *outcome) wantReply(t *testing.T) plan.Reply {
	t.Helper()
	switch {
	case o.rejected:
		t.Fatalf("%s update rejected: %v", o.name, o.rejectErr)
	case !o.accepted:
		t.Fatalf("%s update was never accepted (was it sent?)", o.name)
	case !o.complete:
		t.Fatalf("%s update accepted but never completed", o.name)
	case o.err != nil:
		t.Fatalf("%s update failed: %v", o.name, o.err)
	}
	return o.reply
}

// wantRejected fails unless the validator refused the Update with an
// error containing every part.
func (o *outcome) wantRejected(t *testing.T, parts ...string) {
	t.Helper()
	if !o.rejected {
		t.Errorf("%s update not rejected (accepted %v, reply %+v, err %v), want rejected with %q", o.name, o.accepted, o.reply, o.err, parts)
		return
	}
	if o.accepted || o.complete {
		t.Errorf("%s update rejected but also accepted/completed", o.name)
	}
	for _, p := range parts {
		if !strings.Contains(o.rejectErr.Error(), p) {
			t.Errorf("%s rejected with %q, want it to contain %q", o.name, o.rejectErr, p)
		}
	}
}

// ---- message builders ----

func choose(rid string, offer int) plan.ChooseRequest {
	return plan.ChooseRequest{RequestID: rid, OfferSet: 1, Offer: offer}
}

func withdraw(rid, reason string) plan.WithdrawRequest {
	return plan.WithdrawRequest{RequestID: rid, Reason: reason}
}

// signAt signs the agreement on the table at d (its hash read from the
// status then) electronically, as the customer.
func (r *planRun) signAt(d time.Duration, rid string) *outcome {
	o := &outcome{name: plan.MsgSign}
	r.at(d, func() {
		r.send(o, plan.MsgSign, plan.SignRequest{RequestID: rid, DocumentHash: r.status().AgreementHash, Name: r.app.Customer.Name, Consent: true})
	})
	return o
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func sumPrincipal(rows []plan.ScheduleRow) decimal.Decimal {
	total := decimal.Zero
	for _, r := range rows {
		total = total.Add(r.Principal)
	}
	return total
}
