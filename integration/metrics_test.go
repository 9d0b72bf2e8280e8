package integration

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fenqi/fenqi/codec"
	"github.com/fenqi/fenqi/frontdoor"
	"github.com/fenqi/fenqi/internal/devstack"
	"github.com/fenqi/fenqi/internal/testenv"
	"github.com/fenqi/fenqi/internal/testsystem"
	"github.com/fenqi/fenqi/metrics"
	"github.com/fenqi/fenqi/plan"
)

// TestWorkerMetrics builds and runs the worker binary as deployed (its
// configuration from the environment, FENQI_METRICS_ADDR among it), runs
// a plan through its debits to payoff on a compressed calendar, and
// scrapes the worker's /metrics: the Temporal SDK's metrics are there,
// the debits and the money collected match the database, the plans by
// state are counted from it, and the worker's log lines about the plan
// carry its plan_id.
func TestWorkerMetrics(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	st, dbURL := testsystem.StoreAndURL(t)
	queue := "it-metrics-" + uuid.NewString()
	s := &system{t: t, st: st, door: frontdoor.New(testenv.TemporalClient(t), queue), queue: queue}

	metricsAddr, logPath := startWorkerBinary(t, map[string]string{
		"TEMPORAL_ADDRESS":   testenv.Temporal(t).HostPort(),
		"TEMPORAL_NAMESPACE": "default",
		"FENQI_TASK_QUEUE":   queue,
		"DATABASE_URL":       dbURL,
		codec.EnvKeys:        testenv.Codec(t).KeyRing().Format(),
		metrics.EnvAddr:      freeAddr(t),
		metrics.EnvPlansTTL:  "0s", // count afresh at each scrape
	})

	id := s.activePlan(ctx, 0.02, "12000", 12, "100000")
	s.waitFor(ctx, id, plan.StateClosed, 2*time.Minute)

	debits := s.sum(`SELECT count(*)::numeric FROM payments WHERE plan_id = $1 AND source = 'auto_debit'`, id)
	collected := s.sum(`SELECT COALESCE(sum(amount), 0) FROM payments WHERE plan_id = $1`, id)
	if !debits.IsPositive() {
		t.Fatalf("plan %s closed without an auto-debit", id)
	}

	// The outbox may still be sending the last receipts: the counters are
	// read until they settle on the database's figures.
	var got map[string]float64
	var out string
	deadline := time.Now().Add(30 * time.Second)
	for {
		out = scrapeURL(t, "http://"+metricsAddr+"/metrics")
		got = parseMetrics(out)
		if got[`fenqi_debits_total{outcome="succeeded"}`] == debits.InexactFloat64() || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}

	if n := got[`fenqi_debits_total{outcome="succeeded"}`]; n != debits.InexactFloat64() || n <= 0 {
		t.Errorf(`fenqi_debits_total{outcome="succeeded"} = %v, want %s (the plan's auto-debits)`, n, debits)
	}
	if n := got[`fenqi_debits_total{outcome="insufficient_funds"}`]; n != 0 {
		t.Errorf(`fenqi_debits_total{outcome="insufficient_funds"} = %v on a funded plan`, n)
	}
	if c := got["fenqi_collected_amount_total"]; c < collected.InexactFloat64()-0.005 || c > collected.InexactFloat64()+0.005 {
		t.Errorf("fenqi_collected_amount_total = %v, want %s", c, collected)
	}
	if n := got[`fenqi_plans{state="closed"}`]; n != 1 {
		t.Errorf(`fenqi_plans{state="closed"} = %v, want 1 (this test's database)`, n)
	}
	if got["fenqi_plans_query_ok"] != 1 {
		t.Errorf("fenqi_plans_query_ok = %v", got["fenqi_plans_query_ok"])
	}
	contacts := 0.0
	temporal := map[string]bool{}
	for k, v := range got {
		if strings.HasPrefix(k, "fenqi_contacts_total{") {
			contacts += v
		}
		if strings.HasPrefix(k, "temporal_") {
			temporal[k[:strings.IndexAny(k+"{", "{")]] = true
		}
	}
	if contacts == 0 {
		t.Error("fenqi_contacts_total is 0 after a plan's receipts and reminders")
	}
	// The SDK's metrics, from its client and its worker, tagged with the
	// task queue.
	for _, name := range []string{"temporal_request_total", "temporal_workflow_task_execution_latency_seconds_count",
		"temporal_activity_execution_latency_seconds_count", "temporal_workflow_completed_total"} {
		if !temporal[name] {
			t.Errorf("/metrics lacks %s", name)
		}
	}
	if !strings.Contains(out, `task_queue="`+queue+`"`) {
		t.Errorf("no temporal metric is tagged with the task queue %s", queue)
	}
	if t.Failed() {
		t.Logf("/metrics:\n%s", out)
	}

	// The worker's log: where the metrics are, and the plan's lines with
	// its id.
	b, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	log := string(b)
	if !strings.Contains(log, `"msg":"metrics listening","addr":"`+metricsAddr+`"`) {
		t.Errorf("the worker does not log its metrics address %s", metricsAddr)
	}
	if !strings.Contains(log, `"plan_id":"`+id+`"`) {
		t.Errorf("no worker log line carries plan_id %s", id)
	}
}

// startWorkerBinary builds ./worker and runs it with env (over this
// process's environment); it is stopped when the test ends. It returns
// the metrics address, once /metrics answers, and the log's path.
func startWorkerBinary(t *testing.T, env map[string]string) (string, string) {
	t.Helper()
	root, err := devstack.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "worker")
	build := exec.Command("go", "build", "-o", bin, "./worker")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the worker: %v\n%s", err, out)
	}
	logPath := filepath.Join(dir, "worker.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin)
	cmd.Env = os.Environ()
	for _, k := range []string{codec.EnvKeysFile, "FENQI_WEBHOOK_URL", "FENQI_POLICY_FILE"} {
		cmd.Env = append(cmd.Env, k+"=")
	}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		logFile.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			if len(b) > 6000 {
				b = b[len(b)-6000:]
			}
			t.Logf("worker log (%s):\n%s", logPath, b)
		}
	})
	addr := env[metrics.EnvAddr]
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-exited:
			b, _ := os.ReadFile(logPath)
			t.Fatalf("the worker exited:\n%s", b)
		default:
		}
		resp, err := http.Get("http://" + addr + "/metrics")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return addr, logPath
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the worker's /metrics on %s does not answer: %v", addr, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// freeAddr is a loopback address with a port free now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func scrapeURL(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v", url, resp.StatusCode, err)
	}
	return string(b)
}

// parseMetrics reads the text format's samples: "name{labels}" -> value.
func parseMetrics(text string) map[string]float64 {
	out := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			continue
		}
		out[line[:i]] = v
	}
	return out
}
