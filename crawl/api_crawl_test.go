package crawl_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stacq/stacq/crawl"
	"github.com/stacq/stacq/internal/testing/stactest"
	"github.com/stacq/stacq/stac"
)

// itemsOf counts the yielded items by collection.
func itemsOf(got crawled) map[string]int {
	n := map[string]int{}
	for _, r := range got.resources {
		if r.Kind == crawl.KindItem {
			n[r.CollectionID]++
		}
	}
	return n
}

func TestAPICrawl(t *testing.T) {
	for _, workers := range []int{1, 3, 8} {
		t.Run(fmt.Sprintf("%d workers", workers), func(t *testing.T) {
			s := newAPIServer(t, apiCollections)
			c := crawl.New(crawl.Options{Concurrency: workers, HTTPClient: s.Client()})
			got := collect(t, c.Crawl(context.Background(), s.root()))
			if got.final != nil {
				t.Fatal(got.final)
			}
			want := map[string]int{"sentinel-2-l2a": 9, "sentinel-1-grd": 4, "landsat-c2-l2": 6, "broken": 4}
			if n := itemsOf(got); !maps.Equal(n, want) {
				t.Errorf("items by collection %v, want %v", n, want)
			}
			if st, want := c.Stats(), (crawl.Stats{Catalogs: 1, Collections: 5, Items: 23, Errors: 1}); st != want {
				t.Errorf("Stats() = %+v, want %+v", st, want)
			}
			// The broken collection's second page failed: reported with
			// the collection's URL and the server's status.
			if len(got.errs) != 1 {
				t.Fatalf("errors: %v", got.errs)
			}
			e := got.errs[0]
			var httpErr *stac.HTTPError
			if e.Kind != crawl.KindCollection || e.URL != s.root()+"/collections/broken" || !errors.As(e, &httpErr) {
				t.Errorf("error %#v (%v)", e, e)
			}
			it := got.resources["item landsat-c2-l2-005"]
			if it.URL != s.root()+"/collections/landsat-c2-l2/items/landsat-c2-l2-005" || it.Parent != s.root()+"/collections/landsat-c2-l2" {
				t.Errorf("item URL %q parent %q", it.URL, it.Parent)
			}
			if got.resources["catalog test-api"].URL != s.root() {
				t.Errorf("landing page URL %q", got.resources["catalog test-api"].URL)
			}
		})
	}
}

func TestAPIFilters(t *testing.T) {
	s := newAPIServer(t, apiCollections)
	got := collect(t, crawl.Crawl(context.Background(), s.root(), crawl.Options{
		HTTPClient: s.Client(),
		Include:    []string{"sentinel-*", "landsat-*"},
		Exclude:    []string{"*-grd"},
		BBox:       []float64{-10, 40, 5, 52},
		Datetime:   dt("2024-01"),
		PageSize:   3,
	}))
	want := map[string]int{"sentinel-2-l2a": 9, "landsat-c2-l2": 6}
	if n := itemsOf(got); !maps.Equal(n, want) || len(got.errs) > 0 {
		t.Errorf("items by collection %v, want %v; errors %v", n, want, got.errs)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.queries) != 2 {
		t.Errorf("items requested for %d collections, want 2: %v", len(s.queries), s.queries)
	}
	// The filters went to the server, on every page.
	for id, qs := range s.queries {
		for _, raw := range qs {
			q, _ := url.ParseQuery(raw)
			if q.Get("bbox") != "-10,40,5,52" || q.Get("datetime") != "2024-01-01T00:00:00Z/2024-01-31T23:59:59Z" || q.Get("limit") != "3" {
				t.Errorf("%s: query %q", id, raw)
			}
		}
	}
}

func TestAPILimits(t *testing.T) {
	all := map[string]int{"sentinel-2-l2a": 9, "sentinel-1-grd": 4, "landsat-c2-l2": 6, "empty": 0, "broken": 4}
	for _, perColl := range []int{0, 1, 4, 5} {
		for _, total := range []int{0, 1, 6, 15, 100} {
			t.Run(fmt.Sprintf("per collection %d total %d", perColl, total), func(t *testing.T) {
				s := newAPIServer(t, apiCollections)
				c := crawl.New(crawl.Options{HTTPClient: s.Client(), MaxItemsPerCollection: perColl, MaxItems: total})
				got := collect(t, c.Crawl(context.Background(), s.root()))
				want := 0
				for id, n := range all {
					if perColl > 0 {
						n = min(n, perColl)
					}
					if got := itemsOf(got)[id]; perColl > 0 && got > perColl {
						t.Errorf("%d items of %s, limit %d", got, id, perColl)
					}
					want += n
				}
				if total > 0 {
					want = min(want, total)
				}
				if n := c.Stats().Items; n != want {
					t.Errorf("%d items, want %d (%v)", n, want, itemsOf(got))
				}
			})
		}
	}
}

// An API that serves items only through /search (no OGC API Features) is
// searched one collection at a time.
func TestAPISearchFallback(t *testing.T) {
	s := newAPIServer(t, apiCollections[:3])
	s.conformance = []string{"https://api.stacspec.org/v1.0.0/core", "https://api.stacspec.org/v1.0.0/item-search", "https://api.stacspec.org/v1.0.0/collections"}
	s.noItemsLink = true
	got := collect(t, crawl.Crawl(context.Background(), s.root(), crawl.Options{HTTPClient: s.Client(), MaxItemsPerCollection: 5}))
	want := map[string]int{"sentinel-2-l2a": 5, "sentinel-1-grd": 4, "landsat-c2-l2": 5}
	if n := itemsOf(got); !maps.Equal(n, want) || len(got.errs) > 0 {
		t.Errorf("items by collection %v, want %v; errors %v", n, want, got.errs)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.searches == 0 || s.featureRequests > 0 {
		t.Errorf("%d searches and %d /items requests", s.searches, s.featureRequests)
	}
}

// A static catalog served over HTTP is not an API: Crawl walks it.
func TestAutoDetectStatic(t *testing.T) {
	ts := newTreeServer(t)
	c := crawl.New(crawl.Options{HTTPClient: ts.client()})
	got := collect(t, c.Crawl(context.Background(), ts.URL+"/catalog.json"))
	if got.final != nil || !slices.Equal(got.ids, treeIDs) {
		t.Errorf("resources %q, final error %v", got.ids, got.final)
	}
	if st := c.Stats(); st != (crawl.Stats{Catalogs: 3, Collections: 3, Items: 10, Errors: 3}) {
		t.Errorf("Stats() = %+v", st)
	}
}

func TestAPIModeOnStaticCatalogFails(t *testing.T) {
	ts := newTreeServer(t)
	got := collect(t, crawl.Crawl(context.Background(), ts.URL+"/catalog.json", crawl.Options{Mode: crawl.ModeAPI}))
	var notSTAC *stac.NotSTACError
	if len(got.ids) != 0 || len(got.errs) != 1 || !errors.As(got.errs[0], &notSTAC) {
		t.Errorf("resources %q, errors %v", got.ids, got.errs)
	}
	got = collect(t, crawl.Crawl(context.Background(), treeDir(t), crawl.Options{Mode: crawl.ModeAPI}))
	if len(got.ids) != 0 || len(got.errs) != 1 || !strings.Contains(got.errs[0].Error(), "needs an http(s) URL") {
		t.Errorf("local root in API mode: resources %q, errors %v", got.ids, got.errs)
	}
}

func TestAPICancelWhileBlocked(t *testing.T) {
	s := newAPIServer(t, apiCollections)
	s.block = func(r *http.Request) bool { return strings.Contains(r.URL.Path, "/landsat-c2-l2/items") }
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var start time.Time
	n := 0
	var final error
	for r, err := range crawl.Crawl(ctx, s.root(), crawl.Options{HTTPClient: s.Client(), Concurrency: 2}) {
		if err != nil {
			var re *crawl.ResourceError
			if !errors.As(err, &re) {
				final = err
			} else if errors.Is(err, context.Canceled) {
				t.Errorf("cancel reported as a resource error: %v", err)
			}
			continue
		}
		if r.Kind == crawl.KindItem {
			n++
			if n == 3 {
				time.AfterFunc(20*time.Millisecond, func() {
					start = time.Now()
					cancel()
				})
			}
		}
	}
	if elapsed := time.Since(start); elapsed > time.Second {
		t.Errorf("took %v to stop", elapsed)
	}
	if !errors.Is(final, context.Canceled) {
		t.Errorf("final error %v", final)
	}
	if g := crawlGoroutines(); g != "" {
		t.Fatalf("crawl goroutines still running:\n%s", g)
	}
}

func TestAPIBreak(t *testing.T) {
	s := newAPIServer(t, apiCollections)
	for _, after := range []int{1, 2, 7, 20} {
		n := 0
		for _, err := range crawl.Crawl(context.Background(), s.root(), crawl.Options{HTTPClient: s.Client(), Concurrency: 4}) {
			if err == nil {
				n++
			}
			if n == after {
				break
			}
		}
		if g := crawlGoroutines(); g != "" {
			t.Fatalf("after break at %d, crawl goroutines still running:\n%s", after, g)
		}
	}
}

// The crawl against the project's simulated API, which pages with tokens
// as stac-fastapi does: every item once.
func TestStactestServer(t *testing.T) {
	srv := stactest.New(stactest.Options{Items: 250, Collections: []string{"s2-a", "s2-b", "s2-c"}, DefaultPage: 20})
	defer srv.Close()
	seen := map[string]bool{}
	c := crawl.New(crawl.Options{HTTPClient: srv.Client(), Concurrency: 3})
	for r, err := range c.Crawl(context.Background(), srv.RootURL()) {
		if err != nil {
			t.Fatal(err)
		}
		if r.Kind == crawl.KindItem {
			if seen[r.ID] {
				t.Errorf("item %s twice", r.ID)
			}
			seen[r.ID] = true
		}
	}
	if st := c.Stats(); st != (crawl.Stats{Catalogs: 1, Collections: 3, Items: 250}) {
		t.Errorf("Stats() = %+v", st)
	}
}
