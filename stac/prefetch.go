package stac

import (
	"context"
	"iter"
)

// pageStep fetches one page and returns it with the step that fetches the
// page after it (nil after the last page). Reading a page's next link
// before its items are handled is what lets the next request start early.
type pageStep[P any] func(ctx context.Context) (page P, next pageStep[P], err error)

// prefetchPages yields the pages of a chain of steps, fetching page k+1
// while the caller handles page k: at most one page ahead, so memory stays
// at two pages. When the caller stops (break, max-items, an error) or ctx
// is cancelled, the request in flight is cancelled, and the fetching
// goroutine has ended before prefetchPages returns.
func prefetchPages[P any](ctx context.Context, first pageStep[P]) iter.Seq2[P, error] {
	return func(yield func(P, error) bool) {
		parent := ctx
		ctx, cancel := context.WithCancel(ctx)
		type fetched struct {
			page P
			err  error
		}
		// Unbuffered: the fetcher holds at most the one page it fetched
		// ahead until the caller is done with the current one.
		pages := make(chan fetched)
		interrupted := false // set before pages is closed
		go func() {
			defer close(pages)
			for step := first; step != nil; {
				page, next, err := step(ctx)
				select {
				case pages <- fetched{page, err}:
				case <-ctx.Done():
					interrupted = true
					return
				}
				if err != nil {
					return
				}
				step = next
			}
		}()
		defer func() {
			cancel()
			for range pages { // wait for the fetcher to end
			}
		}()
		for f := range pages {
			if !yield(f.page, f.err) || f.err != nil {
				return
			}
		}
		if interrupted {
			// ctx was cancelled between two pages: the caller must not
			// take the end of the pages for the end of the results.
			var zero P
			yield(zero, parent.Err())
		}
	}
}

// sequentialPages yields the pages of a chain of steps one after the
// other, without fetching ahead: the comparison for prefetchPages, and the
// mode for callers who want one request at a time.
func sequentialPages[P any](ctx context.Context, first pageStep[P]) iter.Seq2[P, error] {
	return func(yield func(P, error) bool) {
		for step := first; step != nil; {
			page, next, err := step(ctx)
			if !yield(page, err) || err != nil {
				return
			}
			step = next
		}
	}
}

// WithPrefetch turns fetching the next page while the caller handles the
// current one on (the default) or off. Off, a listing makes one request at
// a time, and holds one page instead of two.
func WithPrefetch(on bool) Option {
	return func(c *Client) { c.noPrefetch = !on }
}

// paged yields the pages of a chain of steps, fetching one page ahead
// unless the client was opened WithPrefetch(false).
func paged[P any](ctx context.Context, c *Client, first pageStep[P]) iter.Seq2[P, error] {
	if c.noPrefetch {
		return sequentialPages(ctx, first)
	}
	return prefetchPages(ctx, first)
}
