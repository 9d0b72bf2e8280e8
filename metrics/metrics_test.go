package metrics

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/shopspring/decimal"
)

func newMetrics(t *testing.T) *Metrics {
	t.Helper()
	m, err := New("test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Shutdown(context.Background()) })
	return m
}

// scrape returns the text of GET /metrics.
func scrape(t *testing.T, h http.Handler) string {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics: %d %s", rec.Code, rec.Body)
	}
	return rec.Body.String()
}

func TestCountersMove(t *testing.T) {
	m := newMetrics(t)
	m.Debit(DebitSucceeded, decimal.RequireFromString("1766.85"))
	m.Debit(DebitSucceeded, decimal.RequireFromString("0.15"))
	m.Debit(DebitInsufficientFunds, decimal.RequireFromString("500"))
	m.Payment(decimal.RequireFromString("100.50"))
	m.Payment(decimal.RequireFromString("-3")) // not a collection
	m.Contact("sms", "sent")
	m.Contact("sms", "sent")
	m.Contact("phone", "retried")
	m.Request("POST /v1/plans/{id}/sign", 200, 30*time.Millisecond)
	m.Request("POST /v1/plans/{id}/sign", 422, 2*time.Second)

	for _, c := range []struct {
		what      string
		got, want float64
	}{
		{"debits succeeded", testutil.ToFloat64(m.debits.WithLabelValues("succeeded")), 2},
		{"debits declined", testutil.ToFloat64(m.debits.WithLabelValues("insufficient_funds")), 1},
		{"collected", testutil.ToFloat64(m.collected), 1867.5},
		{"sms sent", testutil.ToFloat64(m.contacts.WithLabelValues("sms", "sent")), 2},
		{"phone retried", testutil.ToFloat64(m.contacts.WithLabelValues("phone", "retried")), 1},
		{"sign 200", testutil.ToFloat64(m.requests.WithLabelValues("POST /v1/plans/{id}/sign", "200")), 1},
		{"sign 422", testutil.ToFloat64(m.requests.WithLabelValues("POST /v1/plans/{id}/sign", "422")), 1},
	} {
		if diff := c.got - c.want; diff > 1e-9 || diff < -1e-9 {
			t.Errorf("%s: %v, want %v", c.what, c.got, c.want)
		}
	}
	out := scrape(t, m.Handler())
	for _, want := range []string{
		`fenqi_api_request_seconds_bucket{route="POST /v1/plans/{id}/sign",le="0.05"} 1`,
		`fenqi_api_request_seconds_bucket{route="POST /v1/plans/{id}/sign",le="2.5"} 2`,
		`fenqi_api_request_seconds_count{route="POST /v1/plans/{id}/sign"} 2`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

func TestNilMetricsRecordsNothing(t *testing.T) {
	var m *Metrics
	m.Debit(DebitSucceeded, decimal.NewFromInt(1))
	m.Payment(decimal.NewFromInt(1))
	m.Contact("sms", "sent")
	m.Request("GET /healthz", 200, time.Millisecond)
	if err := m.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// The handler serves every family: fenqi's (the debit outcomes at 0 before
// any debit), the Temporal SDK's through the OpenTelemetry exporter, Go's.
func TestHandlerServesTheFamilies(t *testing.T) {
	m := newMetrics(t)
	m.Contact("email", "delivered")
	m.Request("GET /v1/plans/{id}", 200, time.Millisecond)
	if err := m.WatchPlans(func(context.Context) (map[string]int64, error) { return map[string]int64{"active": 2}, nil }); err != nil {
		t.Fatal(err)
	}
	// What the SDK does with its handler.
	h := m.Temporal.WithTags(map[string]string{"namespace": "default", "operation": "StartWorkflowExecution"})
	h.Counter("temporal_request").Inc(1)
	h.Timer("temporal_request_latency").Record(40 * time.Millisecond)
	h.Gauge("temporal_num_pollers").Update(2)

	out := scrape(t, m.Handler())
	for _, want := range []string{
		`fenqi_debits_total{outcome="succeeded"} 0`,
		`fenqi_debits_total{outcome="insufficient_funds"} 0`,
		`# TYPE fenqi_collected_amount_total counter`,
		`fenqi_contacts_total{channel="email",outcome="delivered"} 1`,
		`fenqi_api_requests_total{code="200",route="GET /v1/plans/{id}"} 1`,
		`# TYPE fenqi_api_request_seconds histogram`,
		`fenqi_plans{state="active"} 2`,
		`fenqi_plans_query_ok 1`,
		`# TYPE temporal_request_total counter`,
		`temporal_request_total{namespace="default",operation="StartWorkflowExecution"} 1`,
		`temporal_request_latency_seconds_bucket{namespace="default",operation="StartWorkflowExecution",le="0.05"} 1`,
		`temporal_num_pollers{namespace="default",operation="StartWorkflowExecution"} 2`,
		`target_info{service_name="fenqi-test"} 1`,
		`go_goroutines`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if t.Failed() {
		t.Logf("/metrics:\n%s", out)
	}
}

func TestPlansByStateCollector(t *testing.T) {
	m := newMetrics(t)
	var fail error
	calls := 0
	err := m.WatchPlans(func(ctx context.Context) (map[string]int64, error) {
		calls++
		if dl, ok := ctx.Deadline(); !ok || time.Until(dl) > PlanQueryTimeout {
			t.Errorf("the count has no deadline within %s", PlanQueryTimeout)
		}
		if fail != nil {
			return nil, fail
		}
		return map[string]int64{"active": 7, "closed": 3, "review": 1}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	out := scrape(t, m.Handler())
	for _, want := range []string{
		`fenqi_plans{state="active"} 7`, `fenqi_plans{state="closed"} 3`, `fenqi_plans{state="review"} 1`,
		`fenqi_plans{state="written_off"} 0`, `fenqi_plans_query_ok 1`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if n := strings.Count(out, "\nfenqi_plans{"); n != len(PlanStates) {
		t.Errorf("%d fenqi_plans series, want one per state (%d)", n, len(PlanStates))
	}

	// The database is away: the scrape still answers, says so, and shows
	// no stale counts.
	fail = errors.New("connection refused")
	out = scrape(t, m.Handler())
	if !strings.Contains(out, "fenqi_plans_query_ok 0") || strings.Contains(out, "\nfenqi_plans{") {
		t.Errorf("after a failed count, want fenqi_plans_query_ok 0 and no fenqi_plans; got\n%s", out)
	}
	if !strings.Contains(out, `fenqi_debits_total{outcome="succeeded"}`) {
		t.Error("a failed count hid the other metrics")
	}
	if calls != 2 {
		t.Errorf("counted %d times in 2 scrapes", calls)
	}
}

func TestLabel(t *testing.T) {
	long := strings.Repeat("路", 40) // 3 bytes a rune: 120 bytes
	for _, c := range []struct{ in, want string }{
		{"succeeded", "succeeded"},
		{"  sms ", "sms"},
		{"", Unknown},
		{"   ", Unknown},
		{"bad\xffutf8", "bad?utf8"},
		{strings.Repeat("x", 100), strings.Repeat("x", MaxLabelLen)},
		{long, strings.Repeat("路", MaxLabelLen/3)},
	} {
		got := Label(c.in)
		if got != c.want {
			t.Errorf("Label(%q) = %q, want %q", c.in, got, c.want)
		}
		if !utf8.ValidString(got) || len(got) > MaxLabelLen {
			t.Errorf("Label(%q) = %q: invalid or too long", c.in, got)
		}
	}
}

// A label takes at most MaxLabelValues distinct values: a caller that
// passes unbounded values (ids) cannot blow up the series.
func TestLabelValuesAreBounded(t *testing.T) {
	m := newMetrics(t)
	for i := range MaxLabelValues + 25 {
		m.Request(fmt.Sprintf("GET /route-%d", i), 200, time.Millisecond)
	}
	m.Request("GET /route-0", 200, time.Millisecond) // admitted before: kept
	if got := testutil.ToFloat64(m.requests.WithLabelValues("GET /route-0", "200")); got != 2 {
		t.Errorf("GET /route-0: %v, want 2", got)
	}
	if got := testutil.ToFloat64(m.requests.WithLabelValues(Other, "200")); got != 25 {
		t.Errorf("other: %v, want 25", got)
	}
	if n := testutil.CollectAndCount(m.requests); n != MaxLabelValues+1 {
		t.Errorf("%d series, want %d", n, MaxLabelValues+1)
	}
}

func TestServe(t *testing.T) {
	m := newMetrics(t)
	m.Debit(DebitSucceeded, decimal.NewFromInt(10))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr, err := m.Serve(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + addr.String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `fenqi_debits_total{outcome="succeeded"} 1`) {
		t.Fatalf("GET /metrics: %d\n%s", resp.StatusCode, body)
	}
	// A taken address is an error at start, naming the variable.
	if _, err := m.Serve(ctx, addr.String()); err == nil || !strings.Contains(err.Error(), EnvAddr) {
		t.Errorf("Serve on a taken address: %v", err)
	}
}
