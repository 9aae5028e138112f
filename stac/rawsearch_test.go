package stac

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/stacq/stacq/geo"
	"github.com/stacq/stacq/internal/testing/stactest"
)

// SearchRawPages walks the same pages and items as SearchPages, in every
// paging style, and each raw item decodes to the typed item.
func TestSearchRawPagesMatchesSearchPages(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts stactest.Options
		p    SearchParams
		max  int
	}{
		{"GET", stactest.Options{Items: 45}, SearchParams{Limit: 10, Method: "GET"}, 0},
		{"POST merge", stactest.Options{Items: 45}, SearchParams{Limit: 10, Method: "POST"}, 0},
		{"POST full", stactest.Options{Items: 45, PostPaging: stactest.PostFull}, SearchParams{Limit: 10}, 0},
		{"Sentinel Hub", stactest.Options{Items: 45, SentinelHub: true}, SearchParams{Limit: 10}, 0},
		{"max items", stactest.Options{Items: 45}, SearchParams{Limit: 10}, 23},
		{"no prefetch", stactest.Options{Items: 45}, SearchParams{Limit: 7}, 0},
		{"datetime", stactest.Options{Items: 45}, SearchParams{Limit: 10, Datetime: geo.Interval{Start: time.Date(2023, 1, 1, 12, 0, 0, 0, time.UTC), End: time.Date(2023, 1, 2, 12, 0, 0, 0, time.UTC)}}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := stactest.New(tc.opts)
			defer s.Close()
			var opts []Option
			if tc.name == "no prefetch" {
				opts = append(opts, WithPrefetch(false))
			}
			c := openTest(t, s, opts...)
			var typed []*Item
			for p, err := range c.SearchPages(context.Background(), tc.p, WithMaxItems(tc.max)) {
				if err != nil {
					t.Fatal(err)
				}
				typed = append(typed, p.Features...)
			}
			var raw []RawItem
			var lastLinks []*Link
			for p, err := range c.SearchRawPages(context.Background(), tc.p, WithMaxItems(tc.max)) {
				if err != nil {
					t.Fatal(err)
				}
				raw = append(raw, p.Items...)
				lastLinks = p.Links
			}
			if len(raw) != len(typed) || len(raw) == 0 {
				t.Fatalf("%d raw items, %d typed", len(raw), len(typed))
			}
			for i, r := range raw {
				it, err := r.Decode()
				if err != nil {
					t.Fatal(err)
				}
				if r.ID != typed[i].ID || r.Collection != typed[i].Collection || !reflect.DeepEqual(it, typed[i]) {
					t.Fatalf("item %d: raw %s/%s differs from typed %s/%s", i, r.Collection, r.ID, typed[i].Collection, typed[i].ID)
				}
				if !json.Valid(r.JSON) {
					t.Fatalf("item %d: invalid JSON", i)
				}
			}
			if tc.max == 0 && FindLink(lastLinks, "next") != nil {
				t.Fatal("last page has a next link")
			}
		})
	}
}

func TestSearchRawPagesErrors(t *testing.T) {
	s := stactest.New(stactest.Options{Items: 5})
	defer s.Close()
	c := openTest(t, s)
	for _, err := range c.SearchRawPages(context.Background(), SearchParams{Limit: -1}) {
		if err == nil {
			t.Fatal("negative limit accepted")
		}
	}
	for p, err := range c.SearchRawPages(context.Background(), SearchParams{Collections: []string{"nope"}, Method: "GET"}) {
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Items) != 0 {
			t.Fatalf("%d items for an unknown collection", len(p.Items))
		}
	}
}
