package integration

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/fenqi/fenqi/internal/devstack"
)

// buildWorker builds ./worker, as deployed, into dir and returns its path.
func buildWorker(t *testing.T, dir string) string {
	t.Helper()
	root, err := devstack.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "worker")
	build := exec.Command("go", "build", "-o", bin, "./worker")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the worker: %v\n%s", err, out)
	}
	return bin
}

// workerProcess runs the worker binary as a separate OS process (its own
// process group, its configuration from the environment as deployed) and
// kills it with SIGKILL on demand. A worker that exits by itself (it
// cannot start while the database is down) is started again by the
// supervise loop, as a process supervisor would.
type workerProcess struct {
	bin     string
	env     []string
	logPath string

	mu      sync.Mutex
	cmd     *exec.Cmd
	exited  chan struct{}
	killing bool
	closed  bool

	// Figures for the summary.
	starts, kills, selfExits int
}

func newWorkerProcess(bin, logPath string, env map[string]string) *workerProcess {
	e := os.Environ()
	// What the worker must not inherit from the developer's shell.
	for _, k := range []string{"FENQI_CODEC_KEYS_FILE", "FENQI_WEBHOOK_URL", "FENQI_POLICY_FILE", "FENQI_DEPLOYMENT_NAME", "FENQI_BUILD_ID"} {
		e = append(e, k+"=")
	}
	for k, v := range env {
		e = append(e, k+"="+v)
	}
	return &workerProcess{bin: bin, env: e, logPath: logPath}
}

// errWorkerRunning is start's answer when a worker is up already.
var errWorkerRunning = errors.New("a worker is already running")

// ensure starts a worker unless one is running.
func (w *workerProcess) ensure() error {
	if err := w.start(); err != nil && !errors.Is(err, errWorkerRunning) {
		return err
	}
	return nil
}

// start launches a worker process (the log is appended to).
func (w *workerProcess) start() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return fmt.Errorf("worker supervisor closed")
	}
	if w.cmd != nil {
		return errWorkerRunning
	}
	logFile, err := os.OpenFile(w.logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	fmt.Fprintf(logFile, "==== worker start %d at %s\n", w.starts+1, time.Now().Format(time.RFC3339Nano))
	cmd := exec.Command(w.bin)
	cmd.Env = w.env
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Its own process group keeps signals meant for the test away; the
	// worker dies with the test binary.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return fmt.Errorf("start worker: %w", err)
	}
	exited := make(chan struct{})
	w.cmd, w.exited, w.killing = cmd, exited, false
	w.starts++
	go func() {
		err := cmd.Wait()
		fmt.Fprintf(logFile, "==== worker pid %d exited at %s: %v\n", cmd.Process.Pid, time.Now().Format(time.RFC3339Nano), err)
		logFile.Close()
		w.mu.Lock()
		if w.cmd == cmd {
			if !w.killing && !w.closed {
				w.selfExits++
			}
			w.cmd = nil
		}
		w.mu.Unlock()
		close(exited)
	}()
	return nil
}

// kill sends SIGKILL to the running worker (by its pid) and waits for it
// to be gone; it reports whether one was running.
func (w *workerProcess) kill() bool {
	w.mu.Lock()
	cmd, exited := w.cmd, w.exited
	if cmd == nil {
		w.mu.Unlock()
		return false
	}
	w.killing = true
	w.kills++
	w.mu.Unlock()
	_ = cmd.Process.Signal(syscall.SIGKILL)
	<-exited
	return true
}

// figures returns how many workers were started, killed, and exited by
// themselves.
func (w *workerProcess) figures() (starts, kills, selfExits int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.starts, w.kills, w.selfExits
}

// running reports whether a worker process is up.
func (w *workerProcess) running() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.cmd != nil
}

// supervise starts the worker again whenever it exited by itself, until
// stop is closed.
func (w *workerProcess) supervise(stop <-chan struct{}, errs func(error)) {
	for {
		select {
		case <-stop:
			return
		case <-time.After(500 * time.Millisecond):
		}
		w.mu.Lock()
		idle := w.cmd == nil && !w.closed && !w.killing
		w.mu.Unlock()
		if idle {
			if err := w.start(); err != nil {
				errs(err)
			}
		}
	}
}

// close stops the worker for good: SIGTERM, then SIGKILL after grace.
func (w *workerProcess) close(grace time.Duration) {
	w.mu.Lock()
	w.closed = true
	cmd, exited := w.cmd, w.exited
	w.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(grace):
		_ = cmd.Process.Signal(syscall.SIGKILL)
		<-exited
	}
}

// tail is the end of the workers' log, for a failure report.
func (w *workerProcess) tail(n int) string {
	b, _ := os.ReadFile(w.logPath)
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}
