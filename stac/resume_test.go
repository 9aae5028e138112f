package stac_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stacq/stacq/geo"
	"github.com/stacq/stacq/internal/testing/stactest"
	"github.com/stacq/stacq/stac"
)

// A search stopped after some pages resumes from the self-contained link
// of its last page: the remaining items, each once, in every paging style,
// without the original parameters.
func TestResumeLink(t *testing.T) {
	for _, st := range []struct {
		name string
		opts stactest.Options
	}{
		{"GET token links", stactest.Options{Items: 95, NoPost: true}},
		{"POST merge links", stactest.Options{Items: 95}},
		{"POST full-body links", stactest.Options{Items: 95, PostPaging: stactest.PostFull}},
		{"Sentinel Hub context.next", stactest.Options{Items: 95, SentinelHub: true}},
	} {
		t.Run(st.name, func(t *testing.T) {
			s := stactest.New(st.opts)
			defer s.Close()
			ctx := context.Background()
			c, err := stac.Open(ctx, s.RootURL())
			if err != nil {
				t.Fatal(err)
			}
			// Filters that must survive the resume: a datetime range that
			// drops the first 5 items, and the page size.
			p := stac.SearchParams{Limit: 10, Datetime: geo.Interval{Start: stactest.Epoch.Add(5 * time.Hour), OpenEnd: true}}
			var got []string
			var last *stac.Link
			pages := 0
			for page, err := range c.SearchPages(ctx, p) {
				if err != nil {
					t.Fatal(err)
				}
				for _, it := range page.Features {
					got = append(got, it.ID)
				}
				last = stac.FindLink(page.Links, "next")
				if pages++; pages == 3 {
					break
				}
			}
			l, err := c.ResumeLink(p, nil, last)
			if err != nil {
				t.Fatal(err)
			}
			if len(l.Headers) != 0 || l.Merge {
				t.Errorf("resume link %+v has headers or merge", l)
			}
			// Through JSON, as stacq prints it and reads it back.
			b, err := json.Marshal(l)
			if err != nil {
				t.Fatal(err)
			}
			var back stac.Link
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatal(err)
			}
			for it, err := range c.Search(ctx, stac.SearchParams{}, stac.WithResume(&back)) {
				if err != nil {
					t.Fatalf("resumed from %s: %v", b, err)
				}
				got = append(got, it.ID)
			}
			if len(got) != 90 {
				t.Fatalf("%d items, want 90 (resume link %s)", len(got), b)
			}
			for i, id := range got {
				if want := fmt.Sprintf("S2A_%05d_", i+5); !strings.HasPrefix(id, want) {
					t.Fatalf("item %d is %s, want %s...", i, id, want)
				}
			}

			// With no page handled, the link is the first request.
			first, err := c.ResumeLink(p, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, err := range c.Search(ctx, stac.SearchParams{}, stac.WithResume(first)) {
				if err != nil {
					t.Fatal(err)
				}
				n++
			}
			if n != 90 {
				t.Errorf("resumed from the first request: %d items, want 90", n)
			}
		})
	}
}
