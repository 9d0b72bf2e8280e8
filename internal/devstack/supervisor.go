package devstack

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// Exit reports a supervised process that ended.
type Exit struct {
	Name string
	Err  error
}

// Supervisor runs fenqi's own processes (worker, API) for `make run`, each
// in its own process group with its output in <logDir>/<name>.log, so that
// Ctrl-C at the terminal reaches only the supervisor, which stops them in
// order.
type Supervisor struct {
	logDir string
	env    []string

	mu    sync.Mutex
	procs []*proc
	exits chan Exit
}

type proc struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
}

// NewSupervisor returns a supervisor whose children get the current
// environment plus env.
func NewSupervisor(logDir string, env []string) *Supervisor {
	return &Supervisor{logDir: logDir, env: env, exits: make(chan Exit, 8)}
}

// Start launches bin as name.
func (s *Supervisor) Start(name, bin string, args ...string) error {
	return s.StartWith(name, bin, nil, args...)
}

// StartWith launches bin as name with env added to the supervisor's (a
// variable in both takes env's value).
func (s *Supervisor) StartWith(name, bin string, env []string, args ...string) error {
	logPath := filepath.Join(s.logDir, name+".log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("open %s log %s: %w", name, logPath, err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(append(os.Environ(), s.env...), env...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Its own process group keeps the terminal's Ctrl-C away (the
	// supervisor stops children in order); Pdeathsig ends the child if the
	// supervisor is killed outright, so nothing outlives it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return fmt.Errorf("start %s (%s): %w", name, bin, err)
	}
	p := &proc{name: name, cmd: cmd, done: make(chan struct{})}
	go func() {
		err := cmd.Wait()
		logFile.Close()
		close(p.done)
		s.exits <- Exit{Name: name, Err: err}
	}()
	s.mu.Lock()
	s.procs = append(s.procs, p)
	s.mu.Unlock()
	fmt.Printf("==> started %s (pid %d, log %s)\n", name, cmd.Process.Pid, logPath)
	return nil
}

// Exited delivers each child that ends.
func (s *Supervisor) Exited() <-chan Exit { return s.exits }

// StopAll sends SIGTERM to every child, newest first, and waits up to
// grace for each before killing it.
func (s *Supervisor) StopAll(grace time.Duration) {
	s.mu.Lock()
	procs := append([]*proc(nil), s.procs...)
	s.mu.Unlock()
	for i := len(procs) - 1; i >= 0; i-- {
		p := procs[i]
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(grace):
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	}
}
