package stac

import (
	"context"
	"fmt"
	"iter"
	"sync"
	"time"

	"github.com/stacq/stacq/geo"
)

// splitWindows splits the closed interval [start, end] into at most n
// windows of whole seconds. Consecutive windows share their boundary
// instant because STAC datetime intervals are closed: an item at a
// boundary, or one whose start_datetime/end_datetime range spans it,
// comes from two windows, and the merge drops the second copy.
func splitWindows(start, end time.Time, n int) []geo.Interval {
	start, end = start.UTC().Truncate(time.Second), end.UTC()
	if !end.Truncate(time.Second).Equal(end) {
		end = end.Truncate(time.Second).Add(time.Second) // keep the last instant inside
	}
	span := end.Sub(start)
	if n < 1 {
		n = 1
	}
	if secs := int(span / time.Second); secs < n {
		n = max(secs, 1)
	}
	step := (span / time.Duration(n)).Truncate(time.Second)
	windows := make([]geo.Interval, 0, n)
	for i := range n {
		a := start.Add(time.Duration(i) * step)
		b := a.Add(step)
		if i == n-1 {
			b = end
		}
		windows = append(windows, geo.Interval{Start: a, End: b})
	}
	return windows
}

// mergePages runs every source at once and yields their pages as they
// come, in no particular order. The first error ends the merge; when the
// caller stops, or ctx is cancelled, every source's requests are cancelled
// and all of its goroutines have ended before mergePages returns.
func mergePages[P any](ctx context.Context, sources []func(context.Context) iter.Seq2[P, error]) iter.Seq2[P, error] {
	return func(yield func(P, error) bool) {
		parent := ctx
		ctx, cancel := context.WithCancel(ctx)
		type fetched struct {
			page P
			err  error
		}
		pages := make(chan fetched)
		var wg sync.WaitGroup
		for _, src := range sources {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for page, err := range src(ctx) {
					select {
					case pages <- fetched{page, err}:
					case <-ctx.Done():
						return
					}
					if err != nil {
						return
					}
				}
			}()
		}
		go func() {
			wg.Wait()
			close(pages)
		}()
		defer func() {
			cancel()
			for range pages { // wait for every source to end
			}
		}()
		for f := range pages {
			if !yield(f.page, f.err) || f.err != nil {
				return
			}
		}
		if err := parent.Err(); err != nil {
			var zero P
			yield(zero, err)
		}
	}
}

// parallelSearch runs a search as cfg.parallel searches over consecutive
// windows of its datetime range at once. Pages come as they arrive, in no
// particular order; the items already yielded are dropped from them (an
// item at a window boundary comes twice) and the pages cut to the items
// still wanted under the item cap. The pages' next links are those of
// their window: a parallel search cannot be resumed.
func (c *Client) parallelSearch(ctx context.Context, p SearchParams, cfg listConfig) iter.Seq2[*RawPage, error] {
	return func(yield func(*RawPage, error) bool) {
		if cfg.resume != nil {
			yield(nil, fmt.Errorf("search: a parallel search cannot resume from a next link"))
			return
		}
		windows, err := c.searchWindows(ctx, p, cfg.parallel)
		if err != nil {
			yield(nil, err)
			return
		}
		sources := make([]func(context.Context) iter.Seq2[*RawPage, error], len(windows))
		for i, w := range windows {
			wp, wcfg := p, cfg
			wp.Datetime, wcfg.parallel = w, 0
			sources[i] = func(ctx context.Context) iter.Seq2[*RawPage, error] {
				// Windows hand their pages on before the caller is done
				// with them: each page gets its own memory.
				first, err := c.searchRequest(wp, wcfg.max)
				if err != nil {
					return failed[*RawPage](err)
				}
				return c.rawPages(ctx, first, "features", wcfg, false)
			}
		}
		seen := map[string]struct{}{}
		received := 0
		for page, err := range mergePages(ctx, sources) {
			if err != nil {
				yield(nil, err)
				return
			}
			kept := page.Items[:0]
			for _, it := range page.Items {
				if cfg.max > 0 && received+len(kept) == cfg.max {
					break
				}
				key := it.Collection + "\x00" + it.ID
				if _, dup := seen[key]; !dup {
					seen[key] = struct{}{}
					kept = append(kept, it)
				}
			}
			page.Items = kept
			received += len(kept)
			if !yield(page, nil) || (cfg.max > 0 && received >= cfg.max) {
				return
			}
		}
	}
}

// searchWindows splits p's datetime range into p.Parallel windows. An open
// or missing end of the range is taken from the temporal extents of p's
// collections (an open extent end is now).
func (c *Client) searchWindows(ctx context.Context, p SearchParams, n int) ([]geo.Interval, error) {
	var start, end time.Time
	if !p.Datetime.IsZero() {
		if !p.Datetime.OpenStart {
			start = p.Datetime.Start
		}
		if !p.Datetime.OpenEnd {
			end = p.Datetime.End
		}
	}
	if start.IsZero() || end.IsZero() {
		if len(p.Collections) == 0 {
			return nil, fmt.Errorf("search: parallel: splitting a search needs a closed datetime range (start/end), or collections whose temporal extents give one; got %s and no collections", describeInterval(p.Datetime))
		}
		es, ee, err := c.temporalExtent(ctx, p.Collections)
		if err != nil {
			return nil, fmt.Errorf("search: parallel: %w", err)
		}
		if start.IsZero() {
			start = es
		}
		if end.IsZero() {
			end = ee
		}
	}
	if !end.After(start) {
		return []geo.Interval{p.Datetime}, nil // an instant: nothing to split
	}
	return splitWindows(start, end, n), nil
}

// temporalExtent is the union of the collections' temporal extents.
func (c *Client) temporalExtent(ctx context.Context, ids []string) (start, end time.Time, err error) {
	now := time.Now().UTC()
	for _, id := range ids {
		col, err := c.Collection(ctx, id)
		if err != nil {
			return start, end, fmt.Errorf("temporal extent of %s: %w", id, err)
		}
		var iv []*string
		if col.Extent != nil && len(col.Extent.Temporal.Interval) > 0 {
			iv = col.Extent.Temporal.Interval[0] // the overall interval
		}
		if len(iv) != 2 || iv[0] == nil {
			return start, end, fmt.Errorf("collection %s has no temporal extent start; give a closed datetime range (start/end)", id)
		}
		s, err := time.Parse(time.RFC3339Nano, *iv[0])
		if err != nil {
			return start, end, fmt.Errorf("collection %s: temporal extent start %q: %w", id, *iv[0], err)
		}
		e := now
		if iv[1] != nil {
			if e, err = time.Parse(time.RFC3339Nano, *iv[1]); err != nil {
				return start, end, fmt.Errorf("collection %s: temporal extent end %q: %w", id, *iv[1], err)
			}
		}
		if start.IsZero() || s.Before(start) {
			start = s
		}
		if e.After(end) {
			end = e
		}
	}
	return start, end, nil
}

func describeInterval(iv geo.Interval) string {
	if iv.IsZero() {
		return "no datetime"
	}
	return "datetime " + iv.String()
}
