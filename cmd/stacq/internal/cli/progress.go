package cli

import (
	"fmt"
	"sync"
	"time"
)

// progress prints "items, pages, items/s" on stderr while a long command
// runs, only when stderr is a terminal and -q is not given.
type progress struct {
	mu           sync.Mutex
	io           IO
	start        time.Time
	items, pages int
	done         chan struct{}
	wg           sync.WaitGroup
	active       bool
}

func startProgress(io IO, quiet bool) *progress {
	p := &progress{io: io, start: time.Now(), done: make(chan struct{})}
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
	fmt.Fprintf(p.io.Stderr, "\r\033[K%d items, %d pages, %.0f items/s", p.items, p.pages, rate)
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
	fmt.Fprintln(p.io.Stderr)
}
