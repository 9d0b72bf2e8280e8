package integration

// The fixture of TestBadInput (badinput_test.go): the whole system on the
// test servers (a worker whose log is watched for panics, the HTTP API
// with a bearer token, the starter binary), two shared plans, and the
// checks every case ends with: nothing written to the database, the
// plans' status unchanged, no panic and no failed workflow task.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/worker"

	"github.com/fenqi/fenqi/activities"
	"github.com/fenqi/fenqi/api"
	"github.com/fenqi/fenqi/codec"
	"github.com/fenqi/fenqi/frontdoor"
	"github.com/fenqi/fenqi/internal/devstack"
	"github.com/fenqi/fenqi/internal/testenv"
	"github.com/fenqi/fenqi/internal/testsystem"
	"github.com/fenqi/fenqi/plan"
	"github.com/fenqi/fenqi/underwriting"
	"github.com/fenqi/fenqi/workflows"
)

// badDay is the business day of the shared active plan, in real seconds:
// a business hour lasts one real second, so that a quote (valid one
// business hour under badPolicy) expires in a second, and the first due
// date is 12 real minutes away: nothing falls due while the table runs.
const badDay = 24.0

// badOperatorToken is operator alice's bearer token on the test API.
const badOperatorToken = "bad-input-operator-token-0123456789"

// sqlText is the SQL-looking string the cases put in names, reasons,
// request ids and paths.
const sqlText = "'; DROP TABLE plans;--"

// badFixture is the system the bad-input cases run against.
type badFixture struct {
	t     *testing.T
	s     *system
	dbURL string
	// c is the worker's and the raw Signals' and Updates' client; its
	// logger records what the worker logs at warn and error level.
	c      client.Client
	logged *badLog
	// The HTTP API, and what it logged.
	api    *httptest.Server
	apiLog *lockedBuffer
	// The starter binary and its environment.
	cli    string
	cliEnv []string
	dir    string
	// customerFile is examples/customers/strong.json.
	customerFile string
	// offered is a plan that is offered (signing, with hash, once the
	// table's second phase starts); active a plan that is active and
	// funded.
	offered, active string
	hash            string
	// The quotes of the stale-quote cases, made when a case first needs
	// them (expiredRev is the plan's revision the expired quote was made
	// on: another change makes it stale rather than expired).
	dropped, stale, expired string
	expiredRev              int
	stalePayment            string
	tables                  []string
}

func newBadFixture(t *testing.T) *badFixture {
	t.Helper()
	ctx := context.Background()
	st, url := testsystem.StoreAndURL(t)
	queue := "bad-" + uuid.NewString()
	base := testenv.TemporalClient(t)
	f := &badFixture{t: t, dbURL: url, logged: &badLog{}, apiLog: &lockedBuffer{}, dir: t.TempDir()}
	f.s = &system{t: t, st: st, door: frontdoor.New(base, queue, frontdoor.WithStore(st)), queue: queue}

	// The starter binary builds while the plans are made. Its customer
	// files: the example, one with SQL for a number, one whose name holds
	// a NUL character, one whose name is not UTF-8.
	root, err := devstack.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	f.customerFile = filepath.Join(root, "examples", "customers", "strong.json")
	example, err := os.ReadFile(f.customerFile)
	if err != nil {
		t.Fatal(err)
	}
	var profile map[string]any
	if err := json.Unmarshal(example, &profile); err != nil {
		t.Fatal(err)
	}
	profile["age"] = sqlText
	sqlProfile, _ := json.Marshal(profile)
	profile["age"] = 35
	profile["name"] = "张\x00三"
	nulProfile, _ := json.Marshal(profile)
	profile["name"] = "NAME"
	utf8Profile, _ := json.Marshal(profile)
	for name, b := range map[string][]byte{
		"sql-customer.json":  sqlProfile,
		"nul-customer.json":  nulProfile,
		"utf8-customer.json": bytes.Replace(utf8Profile, []byte("NAME"), []byte("\xff\xfe"), 1),
	} {
		if err := os.WriteFile(filepath.Join(f.dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	built := make(chan error, 1)
	go func() { built <- f.buildCLI(root) }()

	// A worker whose client logs into f.logged, with quotes valid one
	// business hour.
	cdc := testenv.Codec(t)
	c, err := client.NewClientFromExisting(base, client.Options{
		Namespace: "default", Logger: f.logged,
		DataConverter: codec.DataConverter(cdc), FailureConverter: codec.FailureConverter(cdc),
	})
	if err != nil {
		t.Fatalf("client: %v", err)
	}
	t.Cleanup(c.Close)
	f.c = c
	policy := underwriting.DefaultPolicy()
	policy.Requests.QuoteValidHours = 1
	acts := activities.New(st)
	acts.Policy = &policy
	w := worker.New(c, queue, worker.Options{})
	workflows.Register(w, acts)
	if err := w.Start(); err != nil {
		t.Fatalf("start worker: %v", err)
	}
	t.Cleanup(w.Stop)

	// The API, as cmd/api builds it, with operator alice's token.
	tokens, err := api.NewTokens("alice:"+badOperatorToken, "")
	if err != nil {
		t.Fatal(err)
	}
	srv := api.New(f.s.door, slog.New(slog.NewJSONHandler(f.apiLog, nil)), api.WithTokens(tokens))
	f.api = httptest.NewServer(srv)
	t.Cleanup(f.api.Close)

	// The plans: one active on badDay, one offered, each of a customer of
	// its own.
	f.active = f.s.activePlanOf(ctx, customer(t, "strong"), badDay, "3000", 6, "100000")
	other := customer(t, "strong")
	other.Ref += "-offered"
	applied, err := f.s.door.Apply(ctx, plan.Application{
		RequestID: "bad-offered-" + uuid.NewString(), Customer: other, Amount: decimal.NewFromInt(5000), Terms: 6,
		Settings: plan.Settings{DaySeconds: badDay, OfferTTL: 50 * 365 * 24 * time.Hour, SignTTL: 50 * 365 * 24 * time.Hour},
	})
	if err != nil || applied.State != plan.StateOffered {
		t.Fatalf("apply: %+v %v", applied, err)
	}
	f.offered = applied.PlanID

	if err := f.s.st.Pool().QueryRow(ctx, `SELECT array_agg(table_name::text ORDER BY table_name) FROM information_schema.tables
		WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`).Scan(&f.tables); err != nil || len(f.tables) < 20 {
		t.Fatalf("list tables: %v %v", f.tables, err)
	}
	if err := <-built; err != nil {
		t.Fatal(err)
	}
	return f
}

// buildCLI builds the starter and sets the environment that points it at
// the test servers, the worker's task queue and the test database.
func (f *badFixture) buildCLI(root string) error {
	f.cli = filepath.Join(f.dir, "starter")
	build := exec.Command("go", "build", "-o", f.cli, "./starter")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("build the starter: %v\n%s", err, out)
	}
	f.cliEnv = append(os.Environ(),
		"TEMPORAL_ADDRESS="+testenv.Temporal(f.t).HostPort(), "TEMPORAL_NAMESPACE=default",
		"FENQI_TASK_QUEUE="+f.s.queue, "DATABASE_URL="+f.dbURL, codec.EnvKeysFile+"=", "USER=alice")
	return nil
}

// choose moves the offered plan to signing (the table's second phase)
// and keeps the agreement's hash.
func (f *badFixture) choose() {
	f.t.Helper()
	ctx := context.Background()
	st, err := f.s.door.Status(ctx, f.offered)
	if err != nil {
		f.t.Fatal(err)
	}
	reply, err := f.s.door.Choose(ctx, f.offered, plan.ChooseRequest{RequestID: "bad-choose", OfferSet: st.OfferSet, Offer: 1})
	if err != nil || reply.State != plan.StateSigning || reply.AgreementHash == "" {
		f.t.Fatalf("choose: %+v %v", reply, err)
	}
	f.hash = reply.AgreementHash
}

// expand replaces the placeholders of a case's arguments, paths and
// bodies with the fixture's ids.
func (f *badFixture) expand(s string) string {
	return strings.NewReplacer(
		"{O}", f.offered, "{A}", f.active, "{hash}", f.hash, "{unknown}", "0b1e6ad1-bad0-4bad-8bad-000000000bad",
		"{dropped}", f.dropped, "{stale}", f.stale, "{expired}", f.expired, "{stalePayment}", f.stalePayment,
		"{dir}", f.dir, "{customer}", f.customerFile,
	).Replace(s)
}

// quote asks the active plan for an eligible quote to repay in full.
func (f *badFixture) quote() plan.Quote {
	f.t.Helper()
	reply, err := f.s.door.Prepay(context.Background(), f.active, plan.PrepayRequest{RequestID: "bad-q-" + uuid.NewString()})
	if err != nil || !reply.Accepted || reply.Quote == nil {
		f.t.Fatalf("prepay quote: %+v %v", reply, err)
	}
	return *reply.Quote
}

// needDropped makes a quote and then as many more as the plan holds, so
// that the first is no longer held: superseded.
func (f *badFixture) needDropped() {
	if f.dropped != "" {
		return
	}
	f.dropped = f.quote().ID
	for range 10 {
		f.quote()
	}
}

// needStale makes a quote and then a payment, which changes the plan:
// the quote is held but stale.
func (f *badFixture) needStale() {
	if f.stale != "" {
		return
	}
	f.stale = f.quote().ID
	f.stalePayment = "bad-stale-pay-" + uuid.NewString()
	reply, err := f.s.door.Pay(context.Background(), f.active, plan.PaymentRequest{RequestID: f.stalePayment, Amount: decimal.NewFromInt(1), Source: "manual"})
	if err != nil || !reply.Accepted {
		f.t.Fatalf("pay: %+v %v", reply, err)
	}
}

// needExpired makes a quote and waits until it has expired (one business
// hour: a second), unless one made on the plan's current revision has.
func (f *badFixture) needExpired() {
	st, err := f.s.door.Status(context.Background(), f.active)
	if err != nil {
		f.t.Fatal(err)
	}
	if f.expired != "" && f.expiredRev == st.Revision {
		return
	}
	q := f.quote()
	f.expired, f.expiredRev = q.ID, q.Revision
	time.Sleep(1200 * time.Millisecond)
}

// planView is what a bad request must not change in a plan's status.
type planView struct {
	State                          plan.State
	OfferSet, OfferRound, Chosen   int
	Hash                           string
	SignedAt                       time.Time
	ScheduleVersion, Revision      int
	Paid, Outstanding              string
	PaidInstalments, Complaints    int
	Awaiting, CloseReason, Reasons string
}

func (f *badFixture) view(id string) planView {
	f.t.Helper()
	st, err := f.s.door.Status(context.Background(), id)
	if err != nil {
		f.t.Fatalf("status of %s after the case: %v", id, err)
	}
	v := planView{
		State: st.State, OfferSet: st.OfferSet, OfferRound: st.OfferRound, Chosen: st.ChosenOffer, Hash: st.AgreementHash,
		SignedAt: st.SignedAt, ScheduleVersion: st.ScheduleVersion, Revision: st.Revision,
		Paid: st.PaidAmount.String(), Outstanding: st.OutstandingPrincipal.String(),
		PaidInstalments: st.PaidInstallments, Complaints: len(st.Complaints), CloseReason: st.CloseReason,
		Reasons: strings.Join(st.Reasons, "|"),
	}
	if st.AwaitingApproval != nil {
		v.Awaiting = st.AwaitingApproval.ID
	}
	return v
}

// snapshot is every table's row count and a hash of its rows' content:
// a change to any row shows.
func (f *badFixture) snapshot() map[string]string {
	f.t.Helper()
	var q strings.Builder
	for i, name := range f.tables {
		if i > 0 {
			q.WriteString(" UNION ALL ")
		}
		fmt.Fprintf(&q, `SELECT '%s', count(*) || ' rows, ' || coalesce(sum(hashtext(t::text)::bigint), 0) FROM %q t`, name, name)
	}
	rows, err := f.s.st.Pool().Query(context.Background(), q.String())
	if err != nil {
		f.t.Fatalf("snapshot: %v", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var name, v string
		if err := rows.Scan(&name, &v); err != nil {
			f.t.Fatal(err)
		}
		out[name] = v
	}
	if err := rows.Err(); err != nil {
		f.t.Fatal(err)
	}
	return out
}

// healthy checks both plans' workflows run, answer their status query
// (view), have no failed workflow task in their history and no activity
// retrying, and that the worker logged no panic.
func (f *badFixture) healthy(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	for _, id := range []string{f.offered, f.active} {
		wf := plan.WorkflowID(uuid.MustParse(id))
		desc, err := f.c.DescribeWorkflowExecution(ctx, wf, "")
		if err != nil {
			t.Fatalf("describe %s: %v", wf, err)
		}
		if s := desc.GetWorkflowExecutionInfo().GetStatus(); s != enums.WORKFLOW_EXECUTION_STATUS_RUNNING {
			t.Errorf("workflow %s is %s, want running", wf, s)
		}
		for _, a := range desc.GetPendingActivities() {
			if a.GetAttempt() > 1 || a.GetLastFailure() != nil {
				t.Errorf("workflow %s: activity %s on attempt %d: %v", wf, a.GetActivityType().GetName(), a.GetAttempt(), a.GetLastFailure().GetMessage())
			}
		}
		it := f.c.GetWorkflowHistory(ctx, wf, "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		for it.HasNext() {
			ev, err := it.Next()
			if err != nil {
				t.Fatalf("history of %s: %v", wf, err)
			}
			if ev.GetEventType() == enums.EVENT_TYPE_WORKFLOW_TASK_FAILED {
				t.Errorf("workflow %s: workflow task failed (event %d): %v", wf, ev.GetEventId(), ev.GetWorkflowTaskFailedEventAttributes().GetFailure().GetMessage())
			}
		}
	}
	if p := f.logged.panics(); len(p) > 0 {
		t.Errorf("the worker logged: %s", strings.Join(p, "; "))
	}
	if strings.Contains(f.apiLog.String(), "api request failed") {
		t.Errorf("the API logged an internal error: %s", f.apiLog.String())
	}
}

// runCLI runs the starter with args and returns its exit status, stdout
// and stderr.
func (f *badFixture) runCLI(args []string) (int, string, string) {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, f.cli, args...)
	cmd.Env = f.cliEnv
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0, stdout.String(), stderr.String()
	case errors.As(err, &exit):
		return exit.ExitCode(), stdout.String(), stderr.String()
	}
	f.t.Fatalf("starter %q: %v", args, err)
	return 0, "", ""
}

// apiError is the API's error body.
type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// callAPI sends body (as is) with operator alice's token, unless token
// says otherwise ("-" for none), and returns the status and the body.
func (f *badFixture) callAPI(method, path, token, body string) (int, string, []byte) {
	f.t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, f.api.URL+path, r)
	if err != nil {
		f.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	switch token {
	case "":
		req.Header.Set("Authorization", "Bearer "+badOperatorToken)
	case "-":
	default:
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatalf("%s %s: %v (did the handler panic?)", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		f.t.Fatalf("%s %s: read the answer: %v", method, path, err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), raw
}

// update sends a raw Update to plan id's workflow and waits for its
// outcome: the reply, or the rejection.
func (f *badFixture) update(id, name string, args ...any) (plan.Reply, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	h, err := f.c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: plan.WorkflowID(uuid.MustParse(id)), UpdateName: name, UpdateID: "bad-" + uuid.NewString(),
		Args: args, WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	var reply plan.Reply
	if err == nil {
		err = h.Get(ctx, &reply)
	}
	return reply, err
}

// rawJSON is a payload of data as it comes, without the client's
// encoding: what a client in another language, or a hand-made one, sends.
func rawJSON(data string) converter.RawValue {
	return converter.NewRawValue(&commonpb.Payload{
		Metadata: map[string][]byte{converter.MetadataEncoding: []byte(converter.MetadataEncodingJSON)},
		Data:     []byte(data),
	})
}

// signal sends a raw Signal to plan id's workflow (the id may be one of
// no plan).
func (f *badFixture) signal(id, name string, arg any) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return f.c.SignalWorkflow(ctx, plan.WorkflowID(uuid.MustParse(id)), "", name, arg)
}

// recent are plan id's recent replies.
func (f *badFixture) recent(id string) []plan.Reply {
	f.t.Helper()
	st, err := f.s.door.Status(context.Background(), id)
	if err != nil {
		f.t.Fatalf("status of %s: %v", id, err)
	}
	return st.RecentReplies
}

// badLog is a Temporal SDK logger that keeps what it is told at warn and
// error level.
type badLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *badLog) keep(level, msg string, kv []any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, _ := json.Marshal(fmt.Sprint(kv...))
	l.lines = append(l.lines, level+" "+msg+" "+string(b))
}

func (l *badLog) Debug(string, ...any)        {}
func (l *badLog) Info(string, ...any)         {}
func (l *badLog) Warn(msg string, kv ...any)  { l.keep("WARN", msg, kv) }
func (l *badLog) Error(msg string, kv ...any) { l.keep("ERROR", msg, kv) }

// saw reports whether a line kept mentions s.
func (l *badLog) saw(s string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.ContainsFunc(l.lines, func(line string) bool { return strings.Contains(line, s) })
}

func (l *badLog) panics() (out []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, line := range l.lines {
		if low := strings.ToLower(line); strings.Contains(low, "panic") || strings.Contains(low, "deadlock") {
			out = append(out, line)
		}
	}
	return out
}

// lockedBuffer is a bytes.Buffer safe for the API's log handler.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
