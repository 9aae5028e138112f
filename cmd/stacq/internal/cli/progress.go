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

// progress prints "items, pages, items/s" on stderr while a long command
// runs, only when stderr is a terminal and -q is not given.
type progress struct {
	mu           sync.Mutex
	term         *stderrWriter
	start        time.Time
	items, pages int
	done         chan struct{}
	wg           sync.WaitGroup
	active       bool
}

func startProgress(io IO, quiet bool) *progress {
	p := &progress{term: newStderr(io.Stderr), start: time.Now(), done: make(chan struct{})}
	if quiet || !io.StderrIsTerminal {
		return p
	}
	p.active = true
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-p.done:
				return
			case <-t.C:
				p.print()
			}
		}
	}()
	return p
}

func (p *progress) print() {
	p.mu.Lock()
	defer p.mu.Unlock()
	secs := time.Since(p.start).Seconds()
	rate := 0.0
	if secs > 0 {
		rate = float64(p.items) / secs
	}
	p.term.status(fmt.Sprintf("%s, %s, %.0f items/s", plural(p.items, "item"), plural(p.pages, "page"), rate))
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

func (p *progress) stop() {
	if !p.active {
		return
	}
	close(p.done)
	p.wg.Wait()
	p.print()
	p.term.endStatus()
}
