package stac_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stacq/stacq/internal/testing/stactest"
	"github.com/stacq/stacq/stac"
)

// An API that advertises no conformance (no conformsTo, /conformance
// answers 404, no conformance link) still opens; its classes are inferred
// from its links.
func TestOpenWithoutConformance(t *testing.T) {
	for _, version := range []string{"0.9.0", "1.0.0-beta.2"} {
		s := stactest.New(stactest.Options{Items: 30, NoConformance: true, Version: version})
		c, err := stac.Open(context.Background(), s.RootURL())
		if err != nil {
			t.Fatalf("%s: %v", version, err)
		}
		if !c.ConformanceInferred() || !c.Conforms("item-search") || !c.Conforms("collections") || c.Conforms("filter") {
			t.Errorf("%s: inferred %v, classes %v", version, c.ConformanceInferred(), c.Conformance())
		}
		if n := len(ids(t, c.Search(context.Background(), stac.SearchParams{Limit: 7}))); n != 30 {
			t.Errorf("%s: %d items, want 30", version, n)
		}
		if u := c.UnadvertisedSearch(stac.SearchParams{Filter: "a = 1"}); len(u) != 1 || u[0].Param != "filter" {
			t.Errorf("%s: unadvertised %v", version, u)
		}
		s.Close()
	}
}

// The Sentinel Hub Catalog API pages with context.next everywhere: POST and
// GET search, a collection's items; recognised by the response, also at a
// path other than Sentinel Hub's own.
func TestContextNextPagingEverywhere(t *testing.T) {
	for _, path := range []string{"", "/catalog/v1"} {
		s := stactest.New(stactest.Options{Items: 250, SentinelHub: true, RootPath: path})
		c, err := stac.Open(context.Background(), s.RootURL())
		if err != nil {
			t.Fatal(err)
		}
		for _, method := range []string{"POST", "GET"} {
			if n := len(ids(t, c.Search(context.Background(), stac.SearchParams{Limit: 100, Method: method}))); n != 250 {
				t.Errorf("%q %s search: %d items, want 250", path, method, n)
			}
		}
		if n := len(ids(t, c.Items(context.Background(), "sentinel-2-l2a", stac.ItemsParams{Limit: 100}))); n != 250 {
			t.Errorf("%q items: %d, want 250", path, n)
		}
		s.Close()
	}
}

// A next link that leads back (A→B→C→A) ends the search with a LoopError,
// never with a page delivered twice.
func TestLoopingNextLinks(t *testing.T) {
	s := stactest.New(stactest.Options{Items: 100, Loop: true})
	defer s.Close()
	c, err := stac.Open(context.Background(), s.RootURL())
	if err != nil {
		t.Fatal(err)
	}
	for _, method := range []string{"GET", "POST"} {
		var got []string
		var err error
		for it, e := range c.Search(context.Background(), stac.SearchParams{Limit: 10, Method: method}) {
			if err = e; e != nil {
				break
			}
			got = append(got, it.ID)
		}
		var le *stac.LoopError
		if !errors.As(err, &le) || le.Items != 30 || le.Matched != 100 {
			t.Errorf("%s: error %v after %d items, want a LoopError after 30 of 100", method, err, len(got))
		}
		if len(got) != 30 {
			t.Errorf("%s: %d items delivered, want 30", method, len(got))
		}
	}
}

// Items repeated at page boundaries are counted, and dropped on request.
func TestDuplicatesAtPageBoundaries(t *testing.T) {
	s := stactest.New(stactest.Options{Items: 50, RepeatAtBoundary: true})
	defer s.Close()
	c, err := stac.Open(context.Background(), s.RootURL())
	if err != nil {
		t.Fatal(err)
	}
	for _, dedupe := range []bool{false, true} {
		var opts []stac.ListOption
		if dedupe {
			opts = append(opts, stac.WithDedupe())
		}
		items, dups := 0, 0
		for p, err := range c.SearchRawPages(context.Background(), stac.SearchParams{Limit: 10}, opts...) {
			if err != nil {
				t.Fatal(err)
			}
			items += len(p.Items)
			dups += p.Duplicates
		}
		want := 54
		if dedupe {
			want = 50
		}
		if items != want || dups != 4 {
			t.Errorf("dedupe %v: %d items, %d duplicates; want %d and 4", dedupe, items, dups, want)
		}
	}
}
