package stactest

import (
	"fmt"
	"sync"
	"time"
)

// matchCache remembers the items that recent searches matched: paging
// through a server of 100,000 items would otherwise scan every item for
// every page, and the benchmarks would measure that scan rather than the
// client. Items never change, so a cached answer is the answer.
type matchCache struct {
	mu      sync.Mutex
	entries map[string][]*item
}

// maxCachedSearches bounds the cache; tests and benchmarks page through a
// few searches at a time.
const maxCachedSearches = 32

// match returns the items matching q in [start, end], in order.
func (s *Server) match(q *search, start, end time.Time) []*item {
	key := fmt.Sprintf("%q|%q|%v|%s|%s", q.Collections, q.IDs, q.BBox, start.Format(time.RFC3339Nano), end.Format(time.RFC3339Nano))
	c := &s.matches
	c.mu.Lock()
	m, ok := c.entries[key]
	c.mu.Unlock()
	if ok {
		return m
	}
	for _, it := range s.items {
		if q.matches(it, start, end) {
			m = append(m, it)
		}
	}
	c.mu.Lock()
	if c.entries == nil || len(c.entries) >= maxCachedSearches {
		c.entries = map[string][]*item{}
	}
	c.entries[key] = m
	c.mu.Unlock()
	return m
}
