package stac

import (
	"context"
	"errors"
	"iter"
	"sync/atomic"
	"testing"
	"testing/synctest"
)

// countingSteps is a chain of n pages whose fetches record how far ahead
// of the caller they ran.
type countingSteps struct {
	n        int
	started  atomic.Int32 // fetches begun
	consumed atomic.Int32 // pages the caller finished
	maxAhead atomic.Int32
	inFlight atomic.Int32
	block    chan struct{} // when set, fetches after the first wait on it or ctx
}

func (c *countingSteps) step(i int) pageStep[int] {
	return func(ctx context.Context) (int, pageStep[int], error) {
		c.inFlight.Add(1)
		defer c.inFlight.Add(-1)
		k := c.started.Add(1)
		if ahead := k - 1 - c.consumed.Load(); ahead > c.maxAhead.Load() {
			c.maxAhead.Store(ahead)
		}
		if c.block != nil && i > 0 {
			select {
			case <-c.block:
			case <-ctx.Done():
				return 0, nil, ctx.Err()
			}
		}
		if i+1 == c.n {
			return i, nil, nil
		}
		return i, c.step(i + 1), nil
	}
}

func TestPrefetchYieldsEveryPageInOrderOneAhead(t *testing.T) {
	synctest.Test(t, testPrefetchOneAhead)
}

func testPrefetchOneAhead(t *testing.T) {
	c := &countingSteps{n: 20}
	var got []int
	for page, err := range prefetchPages(context.Background(), c.step(0)) {
		if err != nil {
			t.Fatal(err)
		}
		// Let the fetcher run ahead as far as it would: until it blocks.
		synctest.Wait()
		got = append(got, page)
		c.consumed.Add(1)
	}
	if len(got) != 20 {
		t.Fatalf("got %d pages, want 20", len(got))
	}
	for i, p := range got {
		if p != i {
			t.Fatalf("page %d is %d: out of order", i, p)
		}
	}
	if m := c.maxAhead.Load(); m != 1 {
		t.Fatalf("fetched %d pages ahead of the caller, want exactly 1", m)
	}
}

// Breaking out of the loop cancels the fetch in flight and waits for it.
func TestPrefetchBreakCancelsTheFetchAhead(t *testing.T) {
	synctest.Test(t, testPrefetchBreak)
}

func testPrefetchBreak(t *testing.T) {
	c := &countingSteps{n: 100, block: make(chan struct{})}
	for page := range prefetchPages(context.Background(), c.step(0)) {
		if page != 0 {
			t.Fatalf("page %d", page)
		}
		// Wait until the second page's fetch blocks, then stop.
		synctest.Wait()
		break
	}
	if n := c.inFlight.Load(); n != 0 {
		t.Fatalf("%d fetches still running after the loop ended", n)
	}
	if n := c.started.Load(); n != 2 {
		t.Fatalf("%d fetches started, want 2", n)
	}
}

func TestPrefetchStopsAtTheFirstError(t *testing.T) {
	boom := errors.New("boom")
	var calls int
	var step pageStep[int]
	step = func(context.Context) (int, pageStep[int], error) {
		calls++
		if calls == 3 {
			return 0, step, boom
		}
		return calls, step, nil
	}
	var pages []int
	var gotErr error
	for p, err := range prefetchPages(context.Background(), step) {
		if err != nil {
			gotErr = err
			continue // a caller that does not break still sees the end
		}
		pages = append(pages, p)
	}
	if !errors.Is(gotErr, boom) || len(pages) != 2 || calls != 3 {
		t.Fatalf("pages %v, error %v, %d calls", pages, gotErr, calls)
	}
}

// Cancelling the caller's context between pages ends the pages with the
// context's error, never with a silent end.
func TestPrefetchCancelEndsWithTheContextError(t *testing.T) {
	for name, pages := range map[string]func(context.Context, pageStep[int]) iter.Seq2[int, error]{
		"prefetch": prefetchPages[int], "sequential": sequentialPages[int],
	} {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var step pageStep[int]
			step = func(ctx context.Context) (int, pageStep[int], error) {
				if err := ctx.Err(); err != nil {
					return 0, nil, err
				}
				return 1, step, nil
			}
			n := 0
			var gotErr error
			for _, err := range pages(ctx, step) {
				if err != nil {
					gotErr = err
					break
				}
				if n++; n == 3 {
					cancel()
				}
			}
			if !errors.Is(gotErr, context.Canceled) {
				t.Fatalf("after cancel: error %v", gotErr)
			}
		})
	}
}
