package stac

import (
	"context"
	"encoding/json" // the decoding a caller of raw pages would use
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stacq/stacq/geo"
	"github.com/stacq/stacq/internal/testing/stactest"
)

// With WithRawPageReuse, a page stays intact while the caller handles it,
// even when the caller is slow and the next page is fetched meanwhile, and
// the page two after it is read into its memory.
func TestRawPageReuse(t *testing.T) {
	s := stactest.New(stactest.Options{Items: 45})
	defer s.Close()
	for _, prefetch := range []bool{true, false} {
		for _, method := range []string{"GET", "POST"} {
			t.Run(fmt.Sprintf("%s prefetch=%v", method, prefetch), func(t *testing.T) {
				c := openTest(t, s, WithRawPageReuse(true), WithPrefetch(prefetch))
				var ids []string
				var firstBytes []*byte // of each page's first item
				for p, err := range c.SearchRawPages(context.Background(), SearchParams{Limit: 10, Method: method}) {
					if err != nil {
						t.Fatal(err)
					}
					time.Sleep(10 * time.Millisecond) // the next page arrives meanwhile
					for _, it := range p.Items {
						var v struct{ ID, Collection string }
						if err := json.Unmarshal(it.JSON, &v); err != nil {
							t.Fatalf("page after %d items: %v", len(ids), err)
						}
						if v.ID != it.ID || v.Collection != it.Collection || !it.Compact {
							t.Fatalf("item %q (%q) holds %q (%q), compact %v", it.ID, it.Collection, v.ID, v.Collection, it.Compact)
						}
						ids = append(ids, it.ID)
					}
					firstBytes = append(firstBytes, &p.Items[0].JSON[0])
				}
				want := make([]string, 0, 45)
				for it, err := range c.Search(context.Background(), SearchParams{Limit: 10, Method: method}) {
					if err != nil {
						t.Fatal(err)
					}
					want = append(want, it.ID)
				}
				if !slices.Equal(ids, want) {
					t.Fatalf("got %v\nwant %v", ids, want)
				}
				if len(firstBytes) != 5 || firstBytes[2] != firstBytes[0] || firstBytes[3] != firstBytes[1] || firstBytes[0] == firstBytes[1] {
					t.Errorf("pages not read into the memory of the page two before: %v", firstBytes)
				}
			})
		}
	}
}

// Without it, and in a parallel search, every page has its own memory.
func TestRawPagesOwnMemoryByDefault(t *testing.T) {
	s := stactest.New(stactest.Options{Items: 45})
	defer s.Close()
	for _, parallel := range []int{0, 3} {
		p := SearchParams{Limit: 10}
		var opts []Option
		if parallel > 0 {
			p = SearchParams{Limit: 5, Datetime: geo.Interval{Start: stactest.Epoch, End: stactest.Epoch.Add(48 * time.Hour)}}
			opts = append(opts, WithRawPageReuse(true))
		}
		c := openTest(t, s, opts...)
		var pages []*RawPage
		for page, err := range c.SearchRawPages(context.Background(), p, WithParallel(parallel)) {
			if err != nil {
				t.Fatal(err)
			}
			pages = append(pages, page)
		}
		n := 0
		for _, page := range pages {
			for _, it := range page.Items {
				var v struct{ ID string }
				if err := json.Unmarshal(it.JSON, &v); err != nil || v.ID != it.ID {
					t.Fatalf("%+v: item %q holds %q (%v)", p, it.ID, v.ID, err)
				}
				n++
			}
		}
		if n == 0 {
			t.Fatalf("%+v: no items", p)
		}
	}
}
