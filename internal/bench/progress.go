package bench

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// Progress draws a progress bar on a terminal (redrawn in place, at most
// ten times a second) or, on anything else, a line at every tenth of the
// way. It is also an io.Writer for the log, so that a log line never
// lands in the middle of the bar. It is safe for concurrent use.
type Progress struct {
	mu    sync.Mutex
	w     io.Writer
	tty   bool
	now   func() time.Time
	label string
	unit  string
	total int
	done  int
	start time.Time
	drawn time.Time
	shown bool // the bar is on the terminal's last line
	tenth int  // the last tenth reported (non-terminal)
}

// NewProgress returns a progress bar on w; tty says whether w is a
// terminal.
func NewProgress(w io.Writer, tty bool) *Progress {
	return &Progress{w: w, tty: tty, now: time.Now}
}

// Start begins a bar of total steps named label (unit names a step).
func (p *Progress) Start(label string, total int, unit string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clear()
	p.label, p.unit, p.total, p.done, p.tenth = label, unit, total, 0, 0
	p.start = p.now()
	p.drawn = time.Time{}
	p.draw(true)
}

// Add moves the bar n steps on.
func (p *Progress) Add(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done += n
	p.draw(false)
}

// Set moves the bar to done steps.
func (p *Progress) Set(done int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if done != p.done {
		p.done = done
		p.draw(false)
	}
}

// Finish ends the bar with its final count and rate.
func (p *Progress) Finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.label == "" {
		return
	}
	p.clear()
	fmt.Fprintln(p.w, p.line())
	p.label = ""
}

// Write writes a log line above the bar.
func (p *Progress) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clear()
	n, err := p.w.Write(b)
	if p.label != "" && p.tty {
		p.draw(true)
	}
	return n, err
}

// clear removes the bar from the terminal's last line.
func (p *Progress) clear() {
	if p.tty && p.shown {
		fmt.Fprint(p.w, "\r\033[K")
		p.shown = false
	}
}

func (p *Progress) draw(force bool) {
	if p.label == "" {
		return
	}
	now := p.now()
	if p.tty {
		if !force && now.Sub(p.drawn) < 100*time.Millisecond && p.done < p.total {
			return
		}
		fmt.Fprint(p.w, "\r\033[K"+p.line())
		p.drawn, p.shown = now, true
		return
	}
	// Not a terminal: one line when the bar starts and at each tenth.
	tenth := 0
	if p.total > 0 {
		tenth = min(p.done*10/p.total, 10)
	}
	if force || tenth > p.tenth {
		p.tenth = tenth
		if tenth < 10 {
			fmt.Fprintln(p.w, p.line())
		}
	}
}

// line is "[#######-------------] 35/100 onboarding 12.3 plans/s 2.8s".
func (p *Progress) line() string {
	const width = 20
	filled := 0
	if p.total > 0 {
		filled = min(p.done*width/p.total, width)
	}
	elapsed := p.now().Sub(p.start)
	return fmt.Sprintf("[%s%s] %d/%d %s %.1f %s/s %.1fs", strings.Repeat("#", filled), strings.Repeat("-", width-filled),
		p.done, p.total, p.label, rate(p.done, elapsed), p.unit, elapsed.Seconds())
}
