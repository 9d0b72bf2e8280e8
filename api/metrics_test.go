package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/fenqi/fenqi/api"
	"github.com/fenqi/fenqi/metrics"
)

// scrapeMetrics returns m's /metrics text.
func scrapeMetrics(t *testing.T, m *metrics.Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics: %d", rec.Code)
	}
	return rec.Body.String()
}

// Every request is counted under its route's pattern and status code,
// never under its path: the plan ids stay out of the labels.
func TestRequestsAreCountedByRoute(t *testing.T) {
	m, err := metrics.New("api-test")
	if err != nil {
		t.Fatal(err)
	}
	id := uuid.NewString()
	door := newOwnerDoor(map[string]string{id: strongRef})
	h := api.New(door, slog.New(slog.DiscardHandler), api.WithTokens(testTokens(t)), api.WithRecorder(m))

	for range 2 {
		if rec := serve(t, h, "GET", "/v1/plans/"+id, bearer(aliceToken), "", nil); rec.Code != http.StatusOK {
			t.Fatalf("GET plan: %d %s", rec.Code, rec.Body)
		}
	}
	if rec := serve(t, h, "GET", "/v1/plans/"+id, "", "", nil); rec.Code != http.StatusUnauthorized {
		t.Fatalf("GET plan without a token: %d", rec.Code)
	}
	if rec := serve(t, h, "POST", "/v1/plans/"+id+"/payments", bearer(strongToken), "k-1", `{"amount": "1"}`); rec.Code != http.StatusForbidden {
		t.Fatalf("a customer's payment: %d", rec.Code)
	}
	if rec := serve(t, h, "GET", "/v1/nowhere/"+id, bearer(aliceToken), "", nil); rec.Code != http.StatusNotFound {
		t.Fatalf("GET an unknown path: %d", rec.Code)
	}
	serve(t, h, "GET", "/healthz", "", "", nil)

	out := scrapeMetrics(t, m)
	for _, want := range []string{
		`fenqi_api_requests_total{code="200",route="GET /v1/plans/{id}"} 2`,
		`fenqi_api_requests_total{code="401",route="GET /v1/plans/{id}"} 1`,
		`fenqi_api_requests_total{code="403",route="POST /v1/plans/{id}/payments"} 1`,
		`fenqi_api_requests_total{code="404",route="` + api.Unmatched + `"} 1`,
		`fenqi_api_requests_total{code="200",route="GET /healthz"} 1`,
		`fenqi_api_request_seconds_count{route="GET /v1/plans/{id}"} 3`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(out, id) {
		t.Errorf("a plan id is in a label:\n%s", out)
	}
}

// Each request is logged once with its method, route, status, duration
// and plan id, for every route of a plan; tokens and bodies are not.
func TestRequestLog(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, nil))
	id := uuid.NewString()
	door := newOwnerDoor(map[string]string{id: strongRef})
	h := api.New(door, logger, api.WithTokens(testTokens(t)))

	routes := planRoutes(id)
	for _, c := range routes {
		buf.Reset()
		rec := sendRoute(t, h, c, bearer(aliceToken))
		var lines []map[string]any
		for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
			var e map[string]any
			if err := json.Unmarshal([]byte(l), &e); err != nil {
				t.Fatalf("%s: log line %q: %v", c, l, err)
			}
			if e["msg"] == "api request" {
				lines = append(lines, e)
			}
		}
		if len(lines) != 1 {
			t.Errorf("%s: %d request log lines, want 1:\n%s", c, len(lines), buf.String())
			continue
		}
		e := lines[0]
		route, _ := e["route"].(string)
		if e["method"] != c.method || !strings.HasPrefix(route, c.method+" /v1/plans/{id}") || strings.Contains(route, id) ||
			e["status"] != float64(rec.Code) || e["plan_id"] != id || e["duration_ms"] == nil {
			t.Errorf("%s: logged %v", c, e)
		}
		if strings.Contains(buf.String(), aliceToken) {
			t.Errorf("%s: the token is in the log", c)
		}
		if c.body != "" && strings.Contains(buf.String(), "张三") {
			t.Errorf("%s: the body's name is in the log", c)
		}
	}

	// Without a valid token: logged with the route and the plan, not the
	// token.
	buf.Reset()
	serve(t, h, "GET", "/v1/plans/"+id, bearer("not-a-token-0123456789"), "", nil)
	if out := buf.String(); !strings.Contains(out, `"status":401`) || !strings.Contains(out, fmt.Sprintf(`"plan_id":%q`, id)) ||
		strings.Contains(out, "not-a-token-0123456789") {
		t.Errorf("401 logged as %s", out)
	}
	// A malformed plan id is not logged as one.
	buf.Reset()
	serve(t, h, "GET", "/v1/plans/"+"<script>", bearer(aliceToken), "", nil)
	if out := buf.String(); strings.Contains(out, "plan_id") || !strings.Contains(out, `"route":"GET /v1/plans/{id}"`) {
		t.Errorf("a malformed id logged as %s", out)
	}
}
