package stac_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stacq/stacq/internal/testing/faults"
	"github.com/stacq/stacq/internal/testing/stactest"
	"github.com/stacq/stacq/retry"
	"github.com/stacq/stacq/stac"
)

// unwrapping is a layer over a retrying transport, as the auth layer is.
type unwrapping struct{ http.RoundTripper }

func (u unwrapping) Unwrap() http.RoundTripper { return u.RoundTripper }

// With WithRetry, or a retrying transport alone (also under a layer
// above it), pages cut short or dropped are fetched again as a unit:
// every item once, in order, for typed, raw and collection-items paging.
func TestWithRetry(t *testing.T) {
	p := retry.Policy{BaseDelay: time.Millisecond, MaxDelay: 4 * time.Millisecond}
	setups := map[string][]stac.Option{
		"WithRetry": {stac.WithHTTPClient(&http.Client{Transport: p.Transport(nil)}), stac.WithRetry(p)},
		"transport": {stac.WithHTTPClient(&http.Client{Transport: unwrapping{p.Transport(nil)}})},
	}
	for _, kind := range []faults.Kind{faults.Truncate, faults.CutBody, faults.Unavailable, faults.Drop} {
		for setup, opts := range setups {
			t.Run(kind.String()+"/"+setup, func(t *testing.T) { testWithRetry(t, kind, opts) })
		}
	}
}

func testWithRetry(t *testing.T, kind faults.Kind, opts []stac.Option) {
	srv, in := faults.Serve(stactest.Options{Items: 95}, faults.Rule{Kind: kind, Every: 2})
	defer srv.Close()
	ctx := context.Background()
	c, err := stac.Open(ctx, srv.RootURL(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	lists := map[string]func() []string{
		"search": func() []string {
			var ids []string
			for it, err := range c.Search(ctx, stac.SearchParams{Limit: 10}) {
				if err != nil {
					t.Fatal(err)
				}
				ids = append(ids, it.ID)
			}
			return ids
		},
		"raw": func() []string {
			var ids []string
			for page, err := range c.SearchRawPages(ctx, stac.SearchParams{Limit: 10}) {
				if err != nil {
					t.Fatal(err)
				}
				for _, it := range page.Items {
					ids = append(ids, it.ID)
				}
			}
			return ids
		},
		"items": func() []string {
			var ids []string
			for it, err := range c.Items(ctx, "sentinel-2-l2a", stac.ItemsParams{Limit: 10}) {
				if err != nil {
					t.Fatal(err)
				}
				ids = append(ids, it.ID)
			}
			return ids
		},
	}
	for name, list := range lists {
		before := in.Total()
		ids := list()
		if len(ids) != 95 {
			t.Errorf("%s: %d items, want 95", name, len(ids))
		}
		for i, id := range ids {
			if want := fmt.Sprintf("S2A_%05d_", i); !strings.HasPrefix(id, want) {
				t.Fatalf("%s: item %d is %s, want %s...", name, i, id, want)
			}
		}
		if in.Total() == before {
			t.Errorf("%s: no fault injected", name)
		}
	}
}

// A page that never comes whole: the items before it, then a *retry.Error
// with the attempt count that still unwraps to the stac error.
func TestWithRetryGivesUp(t *testing.T) {
	p := retry.Policy{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond}
	for _, tc := range []struct {
		kind  faults.Kind
		check func(error) bool
	}{
		{faults.Truncate, func(err error) bool { var de *stac.DecodeError; return errors.As(err, &de) }},
		{faults.Unavailable, func(err error) bool {
			var he *stac.HTTPError
			return errors.As(err, &he) && he.StatusCode == 503 && strings.Contains(he.Description, "temporarily unavailable")
		}},
	} {
		t.Run(tc.kind.String(), func(t *testing.T) {
			srv, in := faults.Serve(stactest.Options{Items: 95}, faults.Rule{Kind: tc.kind, Skip: 2})
			defer srv.Close()
			ctx := context.Background()
			c, err := stac.Open(ctx, srv.RootURL(), stac.WithHTTPClient(&http.Client{Transport: p.Transport(nil)}), stac.WithRetry(p))
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			var last error
			for _, err := range c.Search(ctx, stac.SearchParams{Limit: 10}) {
				if err != nil {
					last = err
					continue
				}
				if last != nil {
					t.Fatal("an item after the error")
				}
				n++
			}
			var re *retry.Error
			if n != 20 || !errors.As(last, &re) || re.Attempts != 3 || !tc.check(last) {
				t.Fatalf("%d items, then %v; want 20, then a *retry.Error after 3 attempts", n, last)
			}
			if in.Total() != 3 {
				t.Errorf("%d faults injected, want 3", in.Total())
			}
		})
	}
}

// A search that survives pages cut short and 503s: statuses are retried
// by the transport, truncated pages by the client, on one budget per page.
func ExampleWithRetry() {
	// A local API whose every other page request fails.
	srv, _ := faults.Serve(stactest.Options{Items: 100},
		faults.Rule{Kind: faults.Truncate, Every: 2},
		faults.Rule{Kind: faults.Unavailable, Every: 3})
	defer srv.Close()

	retries := 0
	p := retry.Policy{
		BaseDelay: time.Millisecond, // the default is 500ms, doubling up to 30s
		OnRetry:   func(retry.Info) { retries++ },
	}
	ctx := context.Background()
	c, err := stac.Open(ctx, srv.RootURL(),
		stac.WithHTTPClient(&http.Client{Transport: p.Transport(nil)}),
		stac.WithRetry(p))
	if err != nil {
		fmt.Println(err)
		return
	}
	n := 0
	for _, err := range c.Search(ctx, stac.SearchParams{Limit: 10}) {
		if err != nil {
			fmt.Println(err)
			return
		}
		n++
	}
	fmt.Println(n, "items after", retries, "retries")
	// Output: 100 items after 19 retries
}
