package stac

import (
	"context"
	"fmt"
	"iter"
	"strings"
	"sync"
	"time"
)

// splitWindows splits the closed interval [start, end] into at most n
// windows of whole seconds. Consecutive windows share their boundary
// instant because STAC datetime intervals are closed: an item at a
// boundary, or one whose start_datetime/end_datetime range spans it,
// comes from two windows, and the merge drops the second copy.
func splitWindows(start, end time.Time, n int) []string {
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
	windows := make([]string, 0, n)
	for i := range n {
		a := start.Add(time.Duration(i) * step)
		b := a.Add(step)
		if i == n-1 {
			b = end
		}
		windows = append(windows, a.Format(time.RFC3339)+"/"+b.Format(time.RFC3339))
	}
	return windows
}

// parseInterval reads a search datetime: an instant or "start/end", where
// ".." or an empty side is open (a zero time).
func parseInterval(s string) (start, end time.Time, err error) {
	a, b, isInterval := strings.Cut(strings.TrimSpace(s), "/")
	parse := func(v string) (time.Time, error) {
		if v == "" || v == ".." {
			return time.Time{}, nil
		}
		return time.Parse(time.RFC3339Nano, v)
	}
	if start, err = parse(a); err != nil {
		return start, end, fmt.Errorf("datetime %q: %w", s, err)
	}
	if !isInterval {
		return start, start, nil
	}
	if end, err = parse(b); err != nil {
		return start, end, fmt.Errorf("datetime %q: %w", s, err)
	}
	return start, end, nil
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

// seenItems remembers the items a parallel search has yielded, by
// collection and id, to drop the copies that come from two windows.
type seenItems map[string]struct{}

// first reports whether the item is new, and remembers it.
func (s seenItems) first(collection, id string) bool {
	key := collection + "\x00" + id
	if _, dup := s[key]; dup {
		return false
	}
	s[key] = struct{}{}
	return true
}

// parallelSearch runs a search as p.Parallel searches over consecutive
// windows of its datetime range at once, with search (SearchPages or
// SearchRawPages) for each window. Pages come as they arrive, in no
// particular order; keep drops the items already yielded (an item at a
// window boundary comes twice) and cuts the page to the items still wanted
// under MaxItems, returning how many it kept. The pages' next links are
// those of their window: a parallel search cannot be resumed.
func parallelSearch[P any](ctx context.Context, c *Client, p SearchParams,
	search func(context.Context, SearchParams) iter.Seq2[P, error],
	keep func(page P, seen seenItems, limit int) int,
) iter.Seq2[P, error] {
	return func(yield func(P, error) bool) {
		var zero P
		if p.NextLink != nil {
			yield(zero, fmt.Errorf("search: a parallel search cannot resume from a next link"))
			return
		}
		windows, err := c.searchWindows(ctx, p)
		if err != nil {
			yield(zero, err)
			return
		}
		sources := make([]func(context.Context) iter.Seq2[P, error], len(windows))
		for i, w := range windows {
			wp := p
			wp.Datetime, wp.Parallel = w, 0
			sources[i] = func(ctx context.Context) iter.Seq2[P, error] { return search(ctx, wp) }
		}
		seen := seenItems{}
		received := 0
		for page, err := range mergePages(ctx, sources) {
			if err != nil {
				yield(zero, err)
				return
			}
			limit := -1
			if p.MaxItems > 0 {
				limit = p.MaxItems - received
			}
			received += keep(page, seen, limit)
			if !yield(page, nil) || (p.MaxItems > 0 && received >= p.MaxItems) {
				return
			}
		}
	}
}

// searchWindows splits p's datetime range into p.Parallel windows. An open
// or missing end of the range is taken from the temporal extents of p's
// collections (an open extent end is now).
func (c *Client) searchWindows(ctx context.Context, p SearchParams) ([]string, error) {
	var start, end time.Time
	if p.Datetime != "" {
		var err error
		if start, end, err = parseInterval(p.Datetime); err != nil {
			return nil, fmt.Errorf("search: parallel: %w", err)
		}
	}
	if start.IsZero() || end.IsZero() {
		if len(p.Collections) == 0 {
			return nil, fmt.Errorf("search: parallel: splitting a search needs a closed datetime range (start/end), or collections whose temporal extents give one; got datetime %q and no collections", p.Datetime)
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
		return []string{p.Datetime}, nil // an instant: nothing to split
	}
	return splitWindows(start, end, p.Parallel), nil
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

// keepItems is parallelSearch's keep for typed pages.
func keepItems(p *ItemCollection, seen seenItems, limit int) int {
	kept := p.Features[:0]
	for _, it := range p.Features {
		if limit >= 0 && len(kept) == limit {
			break
		}
		if seen.first(it.Collection, it.ID) {
			kept = append(kept, it)
		}
	}
	clear(p.Features[len(kept):])
	p.Features = kept
	return len(kept)
}

// keepRawItems is parallelSearch's keep for raw pages.
func keepRawItems(p *RawPage, seen seenItems, limit int) int {
	kept := p.Items[:0]
	for _, it := range p.Items {
		if limit >= 0 && len(kept) == limit {
			break
		}
		if seen.first(it.Collection, it.ID) {
			kept = append(kept, it)
		}
	}
	p.Items = kept
	return len(kept)
}
