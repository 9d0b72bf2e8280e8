package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/fenqi/fenqi/calc"
	"github.com/fenqi/fenqi/codec"
	"github.com/fenqi/fenqi/underwriting"
)

// WorkerOptions say how to run fenqi's worker binary for a bench.
type WorkerOptions struct {
	// Bin is the worker binary (make build puts it in .fenqi/bin/worker).
	Bin string
	// TaskQueue is the bench's own plan task queue.
	TaskQueue       string
	TemporalAddress string
	Namespace       string
	DatabaseURL     string
	// Ring is the payload key ring: the bench's client and the worker must
	// share it.
	Ring codec.KeyRing
	// PolicyFile is the credit policy (FENQI_POLICY_FILE); empty for the
	// built-in default.
	PolicyFile string
	// Log receives the worker's output.
	Log string
}

// workerOwnedEnv are the variables the bench sets for its worker, or
// removes from what the worker inherits: a key file would clash with the
// key ring given, worker versioning would keep the worker off the bench's
// unversioned queue, and a webhook would send the bench's thousands of
// contacts to a real endpoint (the worker logs them instead).
var workerOwnedEnv = []string{
	"TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE", "DATABASE_URL", "FENQI_TASK_QUEUE", codec.EnvKeys, codec.EnvKeysFile,
	"FENQI_POLICY_FILE", "FENQI_METRICS_ADDR", "FENQI_DEPLOYMENT_NAME", "FENQI_BUILD_ID", "FENQI_WEBHOOK_URL", "FENQI_WEBHOOK_TOKEN",
}

// WorkerEnv is the environment of the bench's worker: inherited, less
// workerOwnedEnv, plus the bench's settings.
func WorkerEnv(inherited []string, o WorkerOptions) []string {
	var env []string
	for _, kv := range inherited {
		name, _, _ := strings.Cut(kv, "=")
		owned := false
		for _, o := range workerOwnedEnv {
			owned = owned || name == o
		}
		if !owned {
			env = append(env, kv)
		}
	}
	env = append(env,
		"TEMPORAL_ADDRESS="+o.TemporalAddress,
		"DATABASE_URL="+o.DatabaseURL,
		"FENQI_TASK_QUEUE="+o.TaskQueue,
		codec.EnvKeys+"="+o.Ring.Format(),
		// Metrics on a port of the kernel's choosing: never clashes with a
		// running `make run`.
		"FENQI_METRICS_ADDR=127.0.0.1:0",
	)
	if o.Namespace != "" {
		env = append(env, "TEMPORAL_NAMESPACE="+o.Namespace)
	}
	if o.PolicyFile != "" {
		env = append(env, "FENQI_POLICY_FILE="+o.PolicyFile)
	}
	return env
}

// Process is a worker started by StartWorker.
type Process struct {
	cmd  *exec.Cmd
	done chan struct{}
	err  error
	log  string
}

// PID is the worker's process id.
func (p *Process) PID() int { return p.cmd.Process.Pid }

// StartWorker runs the worker binary as a child process (its own process
// group, ended with the bench should the bench die) and waits until it
// polls its task queue for workflow and activity tasks.
func StartWorker(ctx context.Context, c client.Client, o WorkerOptions) (*Process, error) {
	if _, err := os.Stat(o.Bin); err != nil {
		return nil, fmt.Errorf("worker binary %s (run `make build`, or give --worker-bin): %w", o.Bin, err)
	}
	logFile, err := os.OpenFile(o.Log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open the worker's log %s: %w", o.Log, err)
	}
	cmd := exec.Command(o.Bin)
	cmd.Env = WorkerEnv(os.Environ(), o)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start the worker %s: %w", o.Bin, err)
	}
	p := &Process{cmd: cmd, done: make(chan struct{}), log: o.Log}
	go func() {
		p.err = cmd.Wait()
		logFile.Close()
		close(p.done)
	}()
	if err := p.waitPolling(ctx, c, o.TaskQueue, time.Minute); err != nil {
		_ = p.Stop(5 * time.Second)
		return nil, err
	}
	return p, nil
}

// waitPolling waits until the worker polls queue for both kinds of task.
func (p *Process) waitPolling(ctx context.Context, c client.Client, queue string, within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		ready := true
		for _, kind := range []enums.TaskQueueType{enums.TASK_QUEUE_TYPE_WORKFLOW, enums.TASK_QUEUE_TYPE_ACTIVITY} {
			resp, err := c.DescribeTaskQueue(ctx, queue, kind)
			ready = ready && err == nil && len(resp.GetPollers()) > 0
		}
		if ready {
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("the worker exited before polling %s (%v); its log %s ends:\n%s", queue, p.err, p.log, tail(p.log, 2000))
		case <-ctx.Done():
			return fmt.Errorf("wait for the worker to poll %s: %w", queue, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the worker does not poll %s after %s; its log %s ends:\n%s", queue, within, p.log, tail(p.log, 2000))
		}
	}
}

// Stop sends SIGTERM and waits up to grace before SIGKILL.
func (p *Process) Stop(grace time.Duration) error {
	select {
	case <-p.done:
		return nil
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return nil
	case <-time.After(grace):
		// The worker leads a process group of its own: end all of it.
		if err := syscall.Kill(-p.PID(), syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
			return fmt.Errorf("kill the worker (pid %d): %w", p.PID(), err)
		}
		<-p.done
		return nil
	}
}

// Exited reports whether the worker has ended, and how.
func (p *Process) Exited() (bool, error) {
	select {
	case <-p.done:
		return true, p.err
	default:
		return false, nil
	}
}

// tail returns the last n bytes of the file at path.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(unreadable: " + err.Error() + ")"
	}
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// Memory is a process's resident memory, from /proc/<pid>/status.
type Memory struct {
	// RSSKB is VmRSS, the resident set now; PeakKB is VmHWM, its peak.
	RSSKB  int64
	PeakKB int64
}

// MB converts kB (KiB) to MB (MiB).
func MB(kb int64) float64 { return float64(kb) / 1024 }

// ReadMemory reads the resident memory of process pid.
func ReadMemory(pid int) (Memory, error) {
	f, err := os.Open(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		return Memory{}, fmt.Errorf("read the memory of process %d: %w", pid, err)
	}
	defer f.Close()
	m, err := ParseStatus(f)
	if err != nil {
		return Memory{}, fmt.Errorf("read the memory of process %d: %w", pid, err)
	}
	return m, nil
}

// ParseStatus reads VmRSS and VmHWM from the text of /proc/<pid>/status.
func ParseStatus(r io.Reader) (Memory, error) {
	var m Memory
	var haveRSS bool
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), ":")
		if !ok || (name != "VmRSS" && name != "VmHWM") {
			continue
		}
		fields := strings.Fields(value)
		if len(fields) != 2 || fields[1] != "kB" {
			return Memory{}, fmt.Errorf("%s: want a number of kB, got %q", name, strings.TrimSpace(value))
		}
		n, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil || n < 0 {
			return Memory{}, fmt.Errorf("%s: want a number of kB, got %q", name, strings.TrimSpace(value))
		}
		if name == "VmRSS" {
			m.RSSKB, haveRSS = n, true
		} else {
			m.PeakKB = n
		}
	}
	if err := sc.Err(); err != nil {
		return Memory{}, err
	}
	if !haveRSS {
		return Memory{}, errors.New("no VmRSS line (a kernel thread, or not Linux)")
	}
	return m, nil
}

// LongTermPolicy is the default credit policy with tier A allowing plans
// up to calc.MaxTerms months, so that the bench's worker offers the
// 360-instalment plan (servicing does not care how a plan was granted).
func LongTermPolicy() ([]byte, error) {
	p := underwriting.DefaultPolicy()
	for i := range p.Tiers {
		if p.Tiers[i].Name == "A" {
			p.Tiers[i].MaxMonths = calc.MaxTerms
		}
	}
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("long-term policy: %w", err)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	if err := enc.Encode(p); err != nil {
		return nil, fmt.Errorf("long-term policy: %w", err)
	}
	return b.Bytes(), nil
}
