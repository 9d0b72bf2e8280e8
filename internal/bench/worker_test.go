package bench

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.temporal.io/api/enums/v1"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/fenqi/fenqi/calc"
	"github.com/fenqi/fenqi/codec"
	"github.com/fenqi/fenqi/underwriting"
)

func TestParseStatus(t *testing.T) {
	for _, c := range []struct {
		name    string
		text    string
		want    Memory
		wantErr string
	}{
		{"a process", "Name:\tworker\nVmPeak:\t 2000000 kB\nVmHWM:\t  153600 kB\nVmRSS:\t  102400 kB\nThreads:\t12\n", Memory{RSSKB: 102400, PeakKB: 153600}, ""},
		{"no peak line", "VmRSS:\t 2048 kB\n", Memory{RSSKB: 2048}, ""},
		{"a kernel thread has no VmRSS", "Name:\tkthreadd\nState:\tS (sleeping)\n", Memory{}, "no VmRSS"},
		{"not kB", "VmRSS:\t 2048 MB\n", Memory{}, "want a number of kB"},
		{"not a number", "VmRSS:\t lots kB\n", Memory{}, "want a number of kB"},
		{"negative", "VmRSS:\t -1 kB\n", Memory{}, "want a number of kB"},
		{"empty", "", Memory{}, "no VmRSS"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseStatus(strings.NewReader(c.text))
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("ParseStatus: %+v, %v; want an error with %q", got, err, c.wantErr)
				}
				return
			}
			if err != nil || got != c.want {
				t.Fatalf("ParseStatus = %+v, %v; want %+v", got, err, c.want)
			}
		})
	}
}

func TestReadMemoryOfThisProcess(t *testing.T) {
	m, err := ReadMemory(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if m.RSSKB <= 0 || m.PeakKB < m.RSSKB {
		t.Errorf("memory of the test process: %+v", m)
	}
	if _, err := ReadMemory(1 << 30); err == nil || !strings.Contains(err.Error(), "process 1073741824") {
		t.Errorf("memory of no process: %v", err)
	}
}

func testRing(t *testing.T) codec.KeyRing {
	t.Helper()
	k, err := codec.GenerateKey("bench-test")
	if err != nil {
		t.Fatal(err)
	}
	ring, err := codec.NewKeyRing(k)
	if err != nil {
		t.Fatal(err)
	}
	return ring
}

func TestWorkerEnv(t *testing.T) {
	ring := testRing(t)
	inherited := []string{
		"PATH=/usr/bin", "HOME=/root", "TEMPORAL_ADDRESS=127.0.0.1:7233", "DATABASE_URL=postgres://elsewhere",
		"FENQI_CODEC_KEYS_FILE=/keys", "FENQI_DEPLOYMENT_NAME=fenqi", "FENQI_BUILD_ID=b1", "FENQI_WEBHOOK_URL=https://hook",
		"FENQI_WEBHOOK_TOKEN=tok", "FENQI_METRICS_ADDR=127.0.0.1:9464", "FENQI_TASK_QUEUE=fenqi", "FENQI_POLICY_FILE=/p.json",
		"TEMPORAL_NAMESPACE=prod", "FENQI_CODEC_KEYS=old:key",
	}
	for _, c := range []struct {
		name    string
		o       WorkerOptions
		want    []string
		notWant []string
	}{
		{"every setting", WorkerOptions{TaskQueue: "fenqi-bench-1", TemporalAddress: "127.0.0.1:40000", Namespace: "default", DatabaseURL: "postgres://bench", Ring: ring, PolicyFile: "/tmp/b/policy.json"},
			[]string{"PATH=/usr/bin", "HOME=/root", "TEMPORAL_ADDRESS=127.0.0.1:40000", "TEMPORAL_NAMESPACE=default", "DATABASE_URL=postgres://bench",
				"FENQI_TASK_QUEUE=fenqi-bench-1", "FENQI_CODEC_KEYS=" + ring.Format(), "FENQI_POLICY_FILE=/tmp/b/policy.json", "FENQI_METRICS_ADDR=127.0.0.1:0"},
			[]string{"FENQI_CODEC_KEYS_FILE", "FENQI_DEPLOYMENT_NAME", "FENQI_BUILD_ID", "FENQI_WEBHOOK_URL", "FENQI_WEBHOOK_TOKEN", "postgres://elsewhere", "old:key", "TEMPORAL_NAMESPACE=prod", "/p.json", ":9464"}},
		{"default namespace and policy", WorkerOptions{TaskQueue: "q", TemporalAddress: "a:1", DatabaseURL: "d", Ring: ring},
			[]string{"TEMPORAL_ADDRESS=a:1", "FENQI_TASK_QUEUE=q"},
			[]string{"TEMPORAL_NAMESPACE", "FENQI_POLICY_FILE"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			env := WorkerEnv(inherited, c.o)
			joined := "\n" + strings.Join(env, "\n") + "\n"
			for _, w := range c.want {
				if strings.Count(joined, "\n"+w+"\n") != 1 {
					t.Errorf("env lacks %q once:%s", w, joined)
				}
			}
			for _, w := range c.notWant {
				if strings.Contains(joined, w) {
					t.Errorf("env has %q:%s", w, joined)
				}
			}
			seen := map[string]bool{}
			for _, kv := range env {
				name, _, _ := strings.Cut(kv, "=")
				if seen[name] {
					t.Errorf("%s set twice", name)
				}
				seen[name] = true
			}
		})
	}
}

func TestLongTermPolicy(t *testing.T) {
	b, err := LongTermPolicy()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "policy.json")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	// The worker reads it strictly (unknown fields refused).
	p, err := underwriting.LoadPolicy(path)
	if err != nil {
		t.Fatalf("the worker would refuse the bench's policy: %v", err)
	}
	def := underwriting.DefaultPolicy()
	for i, tier := range p.Tiers {
		want := def.Tiers[i].MaxMonths
		if tier.Name == "A" {
			want = calc.MaxTerms
		}
		if tier.MaxMonths != want {
			t.Errorf("tier %s: max %d months, want %d", tier.Name, tier.MaxMonths, want)
		}
	}
	if p.Name != def.Name || p.ApproveMin != def.ApproveMin || len(p.Tiers) != len(def.Tiers) {
		t.Errorf("the long-term policy is not the default one otherwise: %s %d %d", p.Name, p.ApproveMin, len(p.Tiers))
	}
}

// pollerClient answers DescribeTaskQueue with a poller from the ready-th
// call on (and once readyFile exists, when set); every other method
// panics (nil embedded interface).
type pollerClient struct {
	client.Client
	calls     atomic.Int64
	ready     int64
	readyFile string
}

func (c *pollerClient) DescribeTaskQueue(_ context.Context, _ string, _ enums.TaskQueueType) (*workflowservice.DescribeTaskQueueResponse, error) {
	if c.calls.Add(1) < c.ready {
		return &workflowservice.DescribeTaskQueueResponse{}, nil
	}
	if c.readyFile != "" {
		if _, err := os.Stat(c.readyFile); err != nil {
			return &workflowservice.DescribeTaskQueueResponse{}, nil
		}
	}
	return &workflowservice.DescribeTaskQueueResponse{Pollers: []*taskqueuepb.PollerInfo{{Identity: "fake"}}}, nil
}

// fakeWorker writes a shell script standing in for the worker binary.
func fakeWorker(t *testing.T, script string) string {
	t.Helper()
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Fatalf("no /bin/sh to run a fake worker: %v", err)
	}
	path := filepath.Join(t.TempDir(), "worker")
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+script+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestStartWorker(t *testing.T) {
	dir := t.TempDir()
	ring := testRing(t)
	opts := func(bin string) WorkerOptions {
		return WorkerOptions{Bin: bin, TaskQueue: "q", TemporalAddress: "127.0.0.1:1", DatabaseURL: "postgres://x", Ring: ring, Log: filepath.Join(dir, filepath.Base(bin)+".log")}
	}
	ctx := context.Background()

	t.Run("polls, is measured, stops", func(t *testing.T) {
		bin := fakeWorker(t, `echo "queue $FENQI_TASK_QUEUE"; exec sleep 60`)
		c := &pollerClient{ready: 3}
		p, err := StartWorker(ctx, c, opts(bin))
		if err != nil {
			t.Fatal(err)
		}
		if c.calls.Load() < 3 {
			t.Errorf("StartWorker returned after %d looks at the queue, before the worker polled", c.calls.Load())
		}
		if _, err := ReadMemory(p.PID()); err != nil {
			t.Errorf("memory of the worker: %v", err)
		}
		if exited, _ := p.Exited(); exited {
			t.Errorf("the worker has exited")
		}
		start := time.Now()
		if err := p.Stop(10 * time.Second); err != nil {
			t.Fatal(err)
		}
		if time.Since(start) > 5*time.Second {
			t.Errorf("Stop took %s: SIGTERM should end it", time.Since(start))
		}
		if exited, _ := p.Exited(); !exited {
			t.Errorf("the worker still runs after Stop")
		}
		if b, _ := os.ReadFile(opts(bin).Log); !strings.Contains(string(b), "queue q") {
			t.Errorf("the worker's log %q lacks its output", b)
		}
	})

	t.Run("a worker that ignores SIGTERM is killed", func(t *testing.T) {
		ready := filepath.Join(dir, "trapped")
		bin := fakeWorker(t, `trap "" TERM; touch `+ready+`; while true; do sleep 1; done`)
		p, err := StartWorker(ctx, &pollerClient{readyFile: ready}, opts(bin))
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if err := p.Stop(300 * time.Millisecond); err != nil {
			t.Fatal(err)
		}
		if time.Since(start) < 300*time.Millisecond {
			t.Errorf("Stop took %s: the worker should have outlived SIGTERM", time.Since(start))
		}
		if exited, _ := p.Exited(); !exited {
			t.Errorf("the worker still runs after Stop")
		}
	})

	t.Run("a worker that dies says why", func(t *testing.T) {
		bin := fakeWorker(t, `echo "connect to temporal: refused" >&2; exit 3`)
		_, err := StartWorker(ctx, &pollerClient{ready: 1 << 40}, opts(bin))
		if err == nil || !strings.Contains(err.Error(), "exited before polling q") || !strings.Contains(err.Error(), "connect to temporal: refused") {
			t.Fatalf("StartWorker of a dying worker: %v", err)
		}
	})

	t.Run("no binary", func(t *testing.T) {
		_, err := StartWorker(ctx, &pollerClient{}, opts(filepath.Join(dir, "missing")))
		if err == nil || !strings.Contains(err.Error(), "make build") {
			t.Fatalf("StartWorker without a binary: %v", err)
		}
	})
}
