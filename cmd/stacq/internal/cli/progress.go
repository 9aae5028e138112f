package cli

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/stacq/stacq/internal/termsafe"
)

// stderrWriter is the standard error of a command: what is written to it
// is stripped of terminal control (servers' messages reach it in errors
// and traces), and the progress line, while one is shown, is cleared
// first, so that a message never shares its line.
type stderrWriter struct {
	mu       sync.Mutex
	w        io.Writer
	progress bool // a progress line is on the screen, the cursor at its end
}

// newStderr wraps w, unless it is wrapped already.
func newStderr(w io.Writer) *stderrWriter {
	if sw, ok := w.(*stderrWriter); ok {
		return sw
	}
	return &stderrWriter{w: w}
}

func (s *stderrWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.progress {
		io.WriteString(s.w, "\r\033[K")
		s.progress = false
	}
	if _, err := io.WriteString(s.w, termsafe.String(string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}

// status shows line as the progress line, in place of the one before.
func (s *stderrWriter) status(line string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	io.WriteString(s.w, "\r\033[K"+line)
	s.progress = true
}

// endStatus leaves the progress line on the screen and moves to the next.
func (s *stderrWriter) endStatus() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.progress {
		io.WriteString(s.w, "\n")
		s.progress = false
	}
}

// statusLine redraws a progress line on stderr every 250 ms while a long
// command runs, only when stderr is a terminal and -q is not given.
type statusLine struct {
	term   *stderrWriter
	start  time.Time
	line   func(elapsed time.Duration) string
	done   chan struct{}
	wg     sync.WaitGroup
	active bool
	once   sync.Once
}

func startStatus(io IO, quiet bool, line func(elapsed time.Duration) string) *statusLine {
	s := &statusLine{term: newStderr(io.Stderr), start: time.Now(), line: line, done: make(chan struct{})}
	if quiet || !io.StderrIsTerminal {
		return s
	}
	s.active = true
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-s.done:
				return
			case <-t.C:
				s.term.status(s.line(time.Since(s.start)))
			}
		}
	}()
	return s
}

// stop draws the line a last time and leaves it on the screen; later
// calls do nothing.
func (s *statusLine) stop() {
	if !s.active {
		return
	}
	s.once.Do(func() {
		close(s.done)
		s.wg.Wait()
		s.term.status(s.line(time.Since(s.start)))
		s.term.endStatus()
	})
}

// rate is n per second over elapsed.
func rate(n int, elapsed time.Duration) float64 {
	return float64(n) / max(elapsed.Seconds(), 1e-9)
}

// progress counts the items and pages of a listing for its status line:
// "items, pages, items/s".
type progress struct {
	*statusLine
	mu           sync.Mutex
	items, pages int
}

func startProgress(io IO, quiet bool) *progress {
	p := &progress{}
	p.statusLine = startStatus(io, quiet, func(elapsed time.Duration) string {
		p.mu.Lock()
		defer p.mu.Unlock()
		return fmt.Sprintf("%s, %s, %.0f items/s", plural(p.items, "item"), plural(p.pages, "page"), rate(p.items, elapsed))
	})
	return p
}

func (p *progress) item() {
	p.mu.Lock()
	p.items++
	p.mu.Unlock()
}

func (p *progress) page() {
	p.mu.Lock()
	p.pages++
	p.mu.Unlock()
}
