package crawl_test

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-json-experiment/json"

	"github.com/stacq/stacq/crawl"
	"github.com/stacq/stacq/internal/testing/stactest"
	"github.com/stacq/stacq/retry"
)

// A crawl asks for pages of DefaultPageSize items; a server that refuses
// the size with a 400 is asked again with smaller pages, and the size it
// accepts is kept for the collections after.
func TestCrawlPageSizeStepsDown(t *testing.T) {
	var mu sync.Mutex
	var limits []string
	s := stactest.New(stactest.Options{Items: 600, Collections: []string{"a", "b", "c"}, Intercept: func(w http.ResponseWriter, r *http.Request, _ int64) bool {
		if !strings.HasSuffix(r.URL.Path, "/items") {
			return false
		}
		l := r.URL.Query().Get("limit")
		mu.Lock()
		limits = append(limits, l)
		mu.Unlock()
		if n, _ := strconv.Atoi(l); n > 100 {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, `{"code":"InvalidParameterValue","description":"limit must be between 1 and 100, got %s"}`, l)
			return true
		}
		return false
	}})
	defer s.Close()
	c := crawl.New(crawl.Options{Concurrency: 1})
	got := collect(t, c.Crawl(context.Background(), s.RootURL()))
	if got.final != nil || len(got.errs) > 0 {
		t.Fatal(got.final, got.errs)
	}
	if st := c.Stats(); st.Items != 600 {
		t.Errorf("%d items, want 600", st.Items)
	}
	mu.Lock()
	defer mu.Unlock()
	if want := "1000 500 250 100 100 100"; strings.Join(limits[:6], " ") != want {
		t.Errorf("limits asked %v, want %s then 100 only", limits, want)
	}
	for _, l := range limits[3:] {
		if l != "100" {
			t.Fatalf("limits asked %v: the accepted size was not kept", limits)
		}
	}
}

// --limit reaches the server as the page size.
func TestCrawlPageSize(t *testing.T) {
	var asked atomic.Value
	s := stactest.New(stactest.Options{Items: 50, Intercept: func(w http.ResponseWriter, r *http.Request, _ int64) bool {
		if strings.HasSuffix(r.URL.Path, "/items") {
			asked.Store(r.URL.Query().Get("limit"))
		}
		return false
	}})
	defer s.Close()
	got := collect(t, crawl.Crawl(context.Background(), s.RootURL(), crawl.Options{PageSize: 20}))
	if got.final != nil || asked.Load() != "20" {
		t.Fatalf("limit %v, error %v", asked.Load(), got.final)
	}
}

// A crawl stopped midway and resumed from its State yields every item
// exactly once, when only the items of pages that ended are kept, as the
// CLI's --state does.
func TestCrawlResume(t *testing.T) {
	s := stactest.New(stactest.Options{Items: 300, Collections: []string{"a", "b", "c"}})
	defer s.Close()
	seen := map[string]int{}
	var state crawl.State
	run := func(stopAfter int) (pageEnds int) {
		pending := map[string][]string{}
		n := 0
		for r, err := range crawl.Crawl(context.Background(), s.RootURL(), crawl.Options{PageSize: 10, Concurrency: 2, PageEnds: true, Resume: &state}) {
			if err != nil {
				t.Fatal(err)
			}
			switch r.Kind {
			case crawl.KindItem:
				pending[r.CollectionID] = append(pending[r.CollectionID], r.ID)
			case crawl.KindPageEnd:
				for _, id := range pending[r.CollectionID] {
					seen[id]++
				}
				delete(pending, r.CollectionID)
				state.Record(r)
				pageEnds++
				if n++; n == stopAfter {
					return pageEnds
				}
			}
		}
		return pageEnds
	}
	run(7) // stopped after 7 pages of the 30
	if len(seen) != 70 || len(state.Next) == 0 {
		t.Fatalf("first run: %d items, state %+v", len(seen), state)
	}
	run(0)
	if len(seen) != 300 {
		t.Fatalf("%d distinct items after resuming, want 300", len(seen))
	}
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("item %s yielded %d times", id, n)
		}
	}
	if len(state.Done) != 3 || len(state.Next) != 0 {
		t.Errorf("final state %+v", state)
	}
	// A finished crawl resumed yields no items.
	for r, err := range crawl.Crawl(context.Background(), s.RootURL(), crawl.Options{Resume: &state}) {
		if err != nil || r.Kind == crawl.KindItem {
			t.Fatalf("finished crawl resumed: %v %v", r.Kind, err)
		}
	}
}

// A resumable crawl needs an API: a static catalog is refused.
func TestCrawlPageEndsNeedAnAPI(t *testing.T) {
	got := collect(t, crawl.Crawl(context.Background(), "../testdata/catalogs/pystac", crawl.Options{PageEnds: true}))
	if len(got.errs) != 1 || !strings.Contains(got.errs[0].Error(), "needs a STAC API") || len(got.ids) > 0 {
		t.Fatalf("errors %v, resources %v", got.errs, got.ids)
	}
}

// Include patterns that match no collection are reported.
func TestCrawlUnmatchedPatterns(t *testing.T) {
	s := stactest.New(stactest.Options{Items: 10, Collections: []string{"sentinel-2-l2a", "landsat-c2-l2"}})
	defer s.Close()
	c := crawl.New(crawl.Options{Include: []string{"sentinel-*", "modis-*", "landsat-c2-l2"}})
	collect(t, c.Crawl(context.Background(), s.RootURL()))
	if u := c.Unmatched(); len(u) != 1 || u[0] != "modis-*" {
		t.Errorf("unmatched %v, want [modis-*]", u)
	}
}

// API items are not remembered: the same item id in two collections, or
// twice in one listing, is yielded each time (a visited set of items
// would grow with the catalog).
func TestCrawlDoesNotRememberItems(t *testing.T) {
	s := stactest.New(stactest.Options{Items: 40, RepeatAtBoundary: true})
	defer s.Close()
	n := 0
	for r, err := range crawl.Crawl(context.Background(), s.RootURL(), crawl.Options{PageSize: 10}) {
		if err != nil {
			t.Fatal(err)
		}
		if r.Kind == crawl.KindItem {
			n++
		}
	}
	if n != 43 {
		t.Errorf("%d items, want 43 (the server repeats 3)", n)
	}
}

// A static document cut short is fetched again under the retry policy:
// Options.Retry's, or the one of the HTTP client's retrying transport.
func TestCrawlRetriesStaticDocuments(t *testing.T) {
	policy := retry.Policy{MaxAttempts: 3, BaseDelay: time.Millisecond}
	for name, opts := range map[string]crawl.Options{
		"Options.Retry": {Mode: crawl.ModeStatic, Retry: &policy},
		"transport":     {Mode: crawl.ModeStatic, HTTPClient: &http.Client{Transport: policy.Transport(nil)}},
	} {
		t.Run(name, func(t *testing.T) {
			var calls atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				switch r.URL.Path {
				case "/catalog.json":
					doc := `{"type":"Catalog","stac_version":"1.0.0","id":"cut","description":"d","links":[{"rel":"item","href":"item.json"}]}`
					if calls.Add(1) == 1 {
						// A body cut short: the length promises more.
						w.Header().Set("Content-Length", strconv.Itoa(len(doc)))
						w.Write([]byte(doc[:20]))
						return
					}
					w.Write([]byte(doc))
				case "/item.json":
					w.Write([]byte(`{"type":"Feature","stac_version":"1.0.0","id":"i1","geometry":null,"properties":{"datetime":"2024-01-01T00:00:00Z"},"links":[],"assets":{}}`))
				default:
					http.NotFound(w, r)
				}
			}))
			defer srv.Close()
			got := collect(t, crawl.Crawl(context.Background(), srv.URL+"/catalog.json", opts))
			if got.final != nil || len(got.errs) > 0 || got.resources["item i1"].ID != "i1" {
				t.Fatalf("errors %v %v, resources %v", got.final, got.errs, got.ids)
			}
			if calls.Load() != 2 {
				t.Errorf("%d requests for the catalog, want 2", calls.Load())
			}
		})
	}
}

// A page cut short by MaxItems or MaxItemsPerCollection still ends with a
// KindPageEnd: a caller that keeps a page's items until its end, as the
// CLI's --state does, writes every item it was given.
func TestCrawlPageEndAfterALimit(t *testing.T) {
	s := stactest.New(stactest.Options{Items: 60, Collections: []string{"a", "b"}})
	defer s.Close()
	for _, tc := range []struct {
		name string
		opts crawl.Options
		want int
	}{
		{"max items", crawl.Options{MaxItems: 15, Concurrency: 1}, 15},
		{"max items per collection", crawl.Options{MaxItemsPerCollection: 15}, 30},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := tc.opts
			opts.PageSize, opts.PageEnds = 10, true
			pending := map[string]int{}
			written, ends := 0, 0
			var state crawl.State
			for r, err := range crawl.Crawl(context.Background(), s.RootURL(), opts) {
				if err != nil {
					t.Fatal(err)
				}
				switch r.Kind {
				case crawl.KindItem:
					pending[r.CollectionID]++
				case crawl.KindPageEnd:
					written += pending[r.CollectionID]
					delete(pending, r.CollectionID)
					state.Record(r)
					ends++
				}
			}
			if written != tc.want || len(pending) != 0 {
				t.Errorf("%d items ended by a page end (%d pages), %v left without one; want %d", written, ends, pending, tc.want)
			}
		})
	}
}

// With ReusePageMemory, the items are the same as without, each one's JSON
// intact when it is yielded: the race detector sees a page read into
// memory the loop still reads.
func TestCrawlReusePageMemory(t *testing.T) {
	s := stactest.New(stactest.Options{Items: 2000, Collections: []string{"a", "b", "c", "d", "e"}})
	defer s.Close()
	crawlItems := func(reuse bool) map[string]string {
		items := map[string]string{}
		opts := crawl.Options{PageSize: 50, Concurrency: 4, PageEnds: true, ReusePageMemory: reuse}
		var page []crawl.Resource // the items of a page, kept until its end
		for r, err := range crawl.Crawl(context.Background(), s.RootURL(), opts) {
			if err != nil {
				t.Fatal(err)
			}
			switch r.Kind {
			case crawl.KindItem:
				page = append(page, r)
			case crawl.KindPageEnd:
				for _, it := range page {
					if it.CollectionID != r.CollectionID {
						t.Fatalf("item of %s before a page end of %s", it.CollectionID, r.CollectionID)
					}
					var v struct {
						ID string `json:"id"`
					}
					if err := json.Unmarshal(it.JSON, &v); err != nil || v.ID != it.ID {
						t.Fatalf("item %s at its page end: id %q, %v", it.ID, v.ID, err)
					}
					items[it.CollectionID+"/"+it.ID] = string(it.JSON)
				}
				page = page[:0]
			}
		}
		return items
	}
	fresh, reused := crawlItems(false), crawlItems(true)
	if len(fresh) != 2000 || !maps.Equal(fresh, reused) {
		t.Fatalf("%d items with new memory, %d with reused memory, equal: %v", len(fresh), len(reused), maps.Equal(fresh, reused))
	}
}
