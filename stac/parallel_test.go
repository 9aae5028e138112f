package stac

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stacq/stacq/geo"
	"github.com/stacq/stacq/internal/testing/stactest"
)

func TestSplitWindows(t *testing.T) {
	at := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	for _, tc := range []struct {
		start, end string
		n          int
		want       []string
	}{
		{"2023-01-01T00:00:00Z", "2023-01-05T00:00:00Z", 4, []string{
			"2023-01-01T00:00:00Z/2023-01-02T00:00:00Z", "2023-01-02T00:00:00Z/2023-01-03T00:00:00Z",
			"2023-01-03T00:00:00Z/2023-01-04T00:00:00Z", "2023-01-04T00:00:00Z/2023-01-05T00:00:00Z"}},
		{"2023-01-01T00:00:00Z", "2023-01-01T00:00:10Z", 3, []string{
			"2023-01-01T00:00:00Z/2023-01-01T00:00:03Z", "2023-01-01T00:00:03Z/2023-01-01T00:00:06Z",
			"2023-01-01T00:00:06Z/2023-01-01T00:00:10Z"}},
		// Fewer seconds than windows; fractions widen outwards.
		{"2023-01-01T00:00:00.5Z", "2023-01-01T00:00:02.5Z", 8, []string{
			"2023-01-01T00:00:00Z/2023-01-01T00:00:01Z", "2023-01-01T00:00:01Z/2023-01-01T00:00:02Z",
			"2023-01-01T00:00:02Z/2023-01-01T00:00:03Z"}},
		{"2023-01-01T00:00:00+02:00", "2023-01-01T10:00:00+02:00", 1, []string{"2022-12-31T22:00:00Z/2023-01-01T08:00:00Z"}},
	} {
		var got []string
		for _, w := range splitWindows(at(tc.start), at(tc.end), tc.n) {
			got = append(got, w.String())
		}
		if strings.Join(got, " ") != strings.Join(tc.want, " ") {
			t.Errorf("splitWindows(%s, %s, %d) =\n%v\nwant\n%v", tc.start, tc.end, tc.n, got, tc.want)
		}
	}
}

// searchAll collects (collection, id) of every item of a search, typed or raw.
func searchAll(t *testing.T, c *Client, p SearchParams, raw bool, opts ...ListOption) []string {
	t.Helper()
	var keys []string
	if raw {
		for page, err := range c.SearchRawPages(context.Background(), p, opts...) {
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range page.Items {
				keys = append(keys, it.Collection+"/"+it.ID)
			}
		}
		return keys
	}
	for page, err := range c.SearchPages(context.Background(), p, opts...) {
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range page.Features {
			keys = append(keys, it.Collection+"/"+it.ID)
		}
	}
	return keys
}

// A parallel search yields every item once, boundary items included, with
// its windows' requests in flight at the same time.
func TestParallelSearchEveryItemOnce(t *testing.T) {
	epoch := stactest.Epoch
	// Items are hourly from epoch; 4 windows of 50 h put items 50, 100 and
	// 150 on window boundaries, where both windows return them.
	closed := geo.Interval{Start: epoch, End: epoch.Add(200 * time.Hour)}
	for _, tc := range []struct {
		name  string
		p     SearchParams
		max   int
		want  int
		exact bool // every item of the server
	}{
		{"closed range GET", SearchParams{Limit: 7, Datetime: closed, Method: "GET"}, 0, 200, true},
		{"closed range POST", SearchParams{Limit: 7, Datetime: closed, Method: "POST"}, 0, 200, true},
		{"open end from the extent", SearchParams{Limit: 9, Collections: []string{"sentinel-2-l2a"},
			Datetime: geo.Interval{Start: epoch, OpenEnd: true}}, 0, 200, true},
		{"no datetime, from the extent", SearchParams{Limit: 9, Collections: []string{"sentinel-2-l2a"}}, 0, 200, true},
		{"max items", SearchParams{Limit: 7, Datetime: closed}, 37, 37, false},
	} {
		for _, raw := range []bool{false, true} {
			name := tc.name
			if raw {
				name += " raw"
			}
			t.Run(name, func(t *testing.T) {
				var inFlight, maxInFlight atomic.Int32
				s := stactest.New(stactest.Options{Items: 200, Intercept: func(w http.ResponseWriter, r *http.Request, _ int64) bool {
					if strings.HasSuffix(r.URL.Path, "/search") {
						n := inFlight.Add(1)
						defer inFlight.Add(-1)
						for m := maxInFlight.Load(); n > m && !maxInFlight.CompareAndSwap(m, n); m = maxInFlight.Load() {
						}
						time.Sleep(2 * time.Millisecond)
					}
					return false
				}})
				defer s.Close()
				c := openTest(t, s)
				p := tc.p
				keys := searchAll(t, c, p, raw, WithParallel(4), WithMaxItems(tc.max))
				seen := map[string]bool{}
				for _, k := range keys {
					if seen[k] {
						t.Fatalf("item %s yielded twice", k)
					}
					seen[k] = true
				}
				if len(keys) != tc.want {
					t.Fatalf("%d items, want %d", len(keys), tc.want)
				}
				if tc.exact {
					for _, k := range searchAll(t, c, p, raw) {
						if !seen[k] {
							t.Fatalf("item %s missing from the parallel search", k)
						}
					}
				}
				if maxInFlight.Load() < 2 {
					t.Fatalf("at most %d search request in flight: the windows did not run at once", maxInFlight.Load())
				}
			})
		}
	}
}

func TestParallelSearchNeedsARange(t *testing.T) {
	s := stactest.New(stactest.Options{Items: 10})
	defer s.Close()
	c := openTest(t, s)
	for _, tc := range []struct {
		p      SearchParams
		resume *Link
		want   string
	}{
		{SearchParams{}, nil, "needs a closed datetime range"},
		{SearchParams{Datetime: geo.Interval{Start: stactest.Epoch, OpenEnd: true}}, nil, "needs a closed datetime range"},
		{SearchParams{Collections: []string{"nope"}}, nil, "temporal extent of nope"},
		{SearchParams{Datetime: geo.Interval{Start: stactest.Epoch, End: stactest.Epoch.Add(time.Hour)}}, &Link{Href: "x"}, "cannot resume"},
	} {
		var err error
		for _, e := range c.SearchPages(context.Background(), tc.p, WithParallel(4), WithResume(tc.resume)) {
			if e != nil {
				err = e
			}
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want %q", tc.p, err, tc.want)
		}
	}
}

// countingTransport counts the requests sent through it.
type countingTransport struct{ n atomic.Int64 }

func (t *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	t.n.Add(1)
	return http.DefaultTransport.RoundTrip(r)
}

// Stopping a parallel search cancels every window's requests: once the
// loop has ended, no request is sent.
func TestParallelSearchBreakStopsEveryWindow(t *testing.T) {
	s := stactest.New(stactest.Options{Items: 400, Latency: 5 * time.Millisecond})
	defer s.Close()
	rt := &countingTransport{}
	c := openTest(t, s, WithHTTPClient(&http.Client{Transport: rt}))
	closed := geo.Interval{Start: stactest.Epoch, End: stactest.Epoch.Add(400 * time.Hour)}
	for range c.SearchRawPages(context.Background(), SearchParams{Limit: 5, Datetime: closed}, WithParallel(4)) {
		break
	}
	// Every window's goroutines have ended when the loop returns: no
	// request can be sent after it.
	n := rt.n.Load()
	s.Close() // waits for the requests on their way
	if m := rt.n.Load(); m != n {
		t.Fatalf("%d more requests sent after the search stopped", m-n)
	}
}
