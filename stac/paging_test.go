package stac_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/stacq/stacq/stac"
)

// Planetary Computer pages POST searches with next links whose body is
// the whole search plus a token (no "merge"). The replay server answers
// only the recorded requests, so the bodies sent must be those recorded.
func TestPagingRecordedPlanetaryComputer(t *testing.T) {
	for _, tt := range []struct{ max, items int }{{30, 30}, {25, 25}, {21, 21}} {
		t.Run(fmt.Sprint(tt.max), func(t *testing.T) {
			s := setup(t)
			s.replay()
			c := s.open("/api/stac/v1")
			got := ids(t, c.Search(context.Background(), stac.SearchParams{Collections: []string{"naip"}, Limit: 10}, stac.WithMaxItems(tt.max)))
			if len(got) != tt.items {
				t.Errorf("%d items, want %d", len(got), tt.items)
			}
			if got[0] != "mt_m_4911664_se_11_060_20231117_20240103" && got[10] != "mt_m_4811501_nw_11_060_20231117_20240103" {
				t.Errorf("items %v", got)
			}
			reqs := s.seenTo("/api/stac/v1/search")
			if len(reqs) != 3 {
				t.Fatalf("%d search requests, want 3 (max items reached on page 3)", len(reqs))
			}
			want := []string{
				`{"collections":["naip"],"limit":10}`,
				`{"limit":10,"collections":["naip"],"token":"next:naip:mt_m_4811501_se_11_060_20231117_20240103"}`,
				`{"limit":10,"collections":["naip"],"token":"next:naip:mt_m_4511355_sw_12_060_20231117_20240103"}`,
			}
			for i, r := range reqs {
				if r.Method != "POST" || !jsonEqual(t, r.Body, want[i]) {
					t.Errorf("request %d: %s %s, want POST %s", i+1, r.Method, r.Body, want[i])
				}
			}
		})
	}
}

// Earth Search pages POST searches with "merge": false links whose body is
// the whole search with a "next" token; its last page is empty.
func TestPagingRecordedEarthSearch(t *testing.T) {
	s := setup(t)
	s.replay()
	c := s.open("/v1")
	var pages []*stac.ItemCollection
	for p, err := range c.SearchPages(context.Background(), stac.SearchParams{
		Datetime:    dt("2023-10-08T00:00:00Z/2023-10-08T23:59:59Z"),
		Collections: []string{"sentinel-2-l2a", "landsat-c2-l2"},
		Intersects:  jsontext.Value(`{"type":"Point","coordinates":[-105.1019,40.1672]}`),
	}) {
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, p)
	}
	if len(pages) != 2 || len(pages[0].Features) != 2 || len(pages[1].Features) != 0 {
		t.Fatalf("pages %+v", pages)
	}
	if n, ok := pages[0].Matched(); !ok || n != 2 {
		t.Errorf("matched %d %v", n, ok)
	}
	reqs := s.seenTo("/v1/search")
	if len(reqs) != 2 || !strings.Contains(reqs[1].Body, `"next":"2023-10-08T17:37:26.656958Z,LC08_L2SP_033032_20231008_02_T1,landsat-c2-l2"`) {
		t.Errorf("requests %+v", reqs)
	}
}

// GET paging with token links, the first page a recorded Planetary
// Computer /items page: the next request is the link's href as it is.
func TestPagingGETItems(t *testing.T) {
	s := setup(t)
	s.replay()
	const path = "/api/stac/v1/collections/landsat-c2-l2/items"
	s.mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, "GET")
		if r.URL.Query().Get("token") == "" {
			w.Header().Set("Content-Type", "application/geo+json")
			w.Write(s.recorded("planetarycomputer_get_items_428a15.json"))
			return
		}
		writeJSON(w, 200, featurePage([]string{"last"}, map[string]any{"links": []any{}}))
	})
	c := s.open("/api/stac/v1")
	got := ids(t, c.Items(context.Background(), "landsat-c2-l2", stac.ItemsParams{Limit: 10, BBox: []float64{1, 2, 3, 4}}))
	if len(got) != 11 || got[10] != "last" {
		t.Errorf("items %v", got)
	}
	reqs := s.seenTo(path)
	if len(reqs) != 2 {
		t.Fatalf("%d requests", len(reqs))
	}
	if reqs[0].Query != "bbox=1%2C2%2C3%2C4&limit=10" {
		t.Errorf("first query %q", reqs[0].Query)
	}
	if reqs[1].Query != "collections=landsat-c2-l2&token=next:landsat-c2-l2:LC09_L2SR_084056_20250722_02_T1" {
		t.Errorf("second query %q", reqs[1].Query)
	}
}

// A POST link with "merge": true is merged into the current body; its
// headers are sent with the request it makes.
func TestPagingPOSTMerge(t *testing.T) {
	s := setup(t)
	s.landing("/v1", []string{"POST"})
	s.mux.HandleFunc("/v1/search", func(w http.ResponseWriter, r *http.Request) {
		var body struct{ Token string }
		json.NewDecoder(r.Body).Decode(&body)
		links := []any{}
		switch body.Token {
		case "":
			links = append(links, map[string]any{"rel": "next", "href": s.URL + "/v1/search", "method": "POST", "merge": true,
				"body": map[string]any{"token": "t2"}, "headers": map[string]any{"X-Page": "2"}})
		case "t2":
			links = append(links, map[string]any{"rel": "next", "href": "search?page=3", "method": "POST", "merge": true,
				"body": map[string]any{"token": "t3", "limit": 3}})
		}
		writeJSON(w, 200, featurePage([]string{"item-" + body.Token}, map[string]any{"links": links}))
	})
	c := s.open("/v1")
	got := ids(t, c.Search(context.Background(), stac.SearchParams{Collections: []string{"c1"}, Limit: 2}))
	if strings.Join(got, " ") != "item- item-t2 item-t3" {
		t.Errorf("items %v", got)
	}
	reqs := s.seenTo("/v1/search")
	want := []struct{ query, body, header string }{
		{"", `{"collections":["c1"],"limit":2}`, ""},
		{"", `{"collections":["c1"],"limit":2,"token":"t2"}`, "2"},
		{"page=3", `{"collections":["c1"],"limit":3,"token":"t3"}`, ""},
	}
	if len(reqs) != len(want) {
		t.Fatalf("%d requests", len(reqs))
	}
	for i, r := range reqs {
		if r.Query != want[i].query || r.Body != want[i].body || r.Header.Get("X-Page") != want[i].header {
			t.Errorf("request %d: ?%s %s X-Page %q; want ?%s %s %q", i+1, r.Query, r.Body, r.Header.Get("X-Page"), want[i].query, want[i].body, want[i].header)
		}
	}
}

// pagedServer serves /v1/search as pages of size items (whatever limit
// asks, as servers that cap it) up to total, with GET token links.
func pagedServer(t *testing.T, size, total int) *server {
	s := setup(t)
	s.landing("/v1", []string{"GET"})
	s.mux.HandleFunc("/v1/search", func(w http.ResponseWriter, r *http.Request) {
		off, _ := strconv.Atoi(r.URL.Query().Get("token"))
		var page []string
		for i := off; i < min(off+size, total); i++ {
			page = append(page, fmt.Sprintf("i%03d", i))
		}
		links := []any{}
		if off+size < total {
			q := r.URL.Query()
			q.Set("token", strconv.Itoa(off+size))
			links = append(links, map[string]any{"rel": "next", "href": s.URL + "/v1/search?" + q.Encode(), "method": "GET"})
		}
		writeJSON(w, 200, featurePage(page, map[string]any{"links": links, "numberMatched": total}))
	})
	return s
}

// Max items stops the paging as soon as they are reached: no further page
// is requested, and items are counted as received, not as pages × limit.
func TestPagingMaxItems(t *testing.T) {
	tests := []struct {
		limit, max, wantItems, wantRequests int
		wantLimit                           string
	}{
		{10, 20, 20, 2, "10"}, // reached on a page boundary: no third request
		{10, 25, 25, 3, "10"},
		{10, 1, 1, 1, "1"},
		{0, 35, 35, 4, ""},
		{50, 25, 25, 3, "25"}, // the server sends 10 where 25 were asked
		{10, 100, 42, 5, "10"},
		{10, 0, 42, 5, "10"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("limit %d max %d", tt.limit, tt.max), func(t *testing.T) {
			s := pagedServer(t, 10, 42)
			c := s.open("/v1")
			got := ids(t, c.Search(context.Background(), stac.SearchParams{Limit: tt.limit}, stac.WithMaxItems(tt.max)))
			if len(got) != tt.wantItems || got[len(got)-1] != fmt.Sprintf("i%03d", tt.wantItems-1) {
				t.Errorf("%d items (last %s), want %d", len(got), got[len(got)-1], tt.wantItems)
			}
			reqs := s.seenTo("/v1/search")
			if len(reqs) != tt.wantRequests {
				t.Errorf("%d requests, want %d", len(reqs), tt.wantRequests)
			}
			q, _ := url.ParseQuery(reqs[0].Query)
			if q.Get("limit") != tt.wantLimit {
				t.Errorf("limit=%q, want %q", q.Get("limit"), tt.wantLimit)
			}
		})
	}
}

// SearchPages cuts the page that reaches max items.
func TestSearchPagesMaxItems(t *testing.T) {
	s := pagedServer(t, 10, 42)
	c := s.open("/v1")
	var sizes []int
	for p, err := range c.SearchPages(context.Background(), stac.SearchParams{}, stac.WithMaxItems(23)) {
		if err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, len(p.Features))
	}
	if fmt.Sprint(sizes) != "[10 10 3]" {
		t.Errorf("page sizes %v", sizes)
	}
}

// Servers that repeat their last page (a next link to the page itself, or
// back to one already followed) are stopped by the loop guard, with an
// error: the listing did not end, it was cut.
func TestPagingLoopGuard(t *testing.T) {
	for _, tt := range []struct {
		name string
		link func(s *server, r *http.Request, token string) map[string]any
	}{
		{"GET link to itself", func(s *server, r *http.Request, token string) map[string]any {
			return map[string]any{"rel": "next", "href": s.URL + "/v1/search?token=2", "method": "GET"}
		}},
		{"GET link back to the first page", func(s *server, r *http.Request, token string) map[string]any {
			if token == "2" {
				return map[string]any{"rel": "next", "href": s.URL + "/v1/search?limit=5"}
			}
			return map[string]any{"rel": "next", "href": s.URL + "/v1/search?token=2&limit=5"}
		}},
		{"POST body repeated", func(s *server, r *http.Request, token string) map[string]any {
			return map[string]any{"rel": "next", "href": s.URL + "/v1/search", "method": "POST", "body": map[string]any{"token": "2"}}
		}},
		{"POST merge repeated", func(s *server, r *http.Request, token string) map[string]any {
			return map[string]any{"rel": "next", "href": s.URL + "/v1/search", "method": "POST", "merge": true, "body": map[string]any{"token": "2"}}
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := setup(t)
			s.landing("/v1", []string{"GET"})
			s.mux.HandleFunc("/v1/search", func(w http.ResponseWriter, r *http.Request) {
				token := r.URL.Query().Get("token")
				if r.Method == "POST" {
					var body struct{ Token string }
					json.NewDecoder(r.Body).Decode(&body)
					token = body.Token
				}
				writeJSON(w, 200, featurePage([]string{"p" + token}, map[string]any{"links": []any{tt.link(s, r, token)}}))
			})
			c := s.open("/v1")
			var got []string
			var err error
			for it, e := range c.Search(context.Background(), stac.SearchParams{Limit: 5}) {
				if err = e; e != nil {
					break
				}
				got = append(got, it.ID)
			}
			var le *stac.LoopError
			if !errors.As(err, &le) || le.Items != 2 || le.Page != 2 {
				t.Errorf("error %v, want a LoopError after 2 items on page 2", err)
			}
			if strings.Join(got, " ") != "p p2" {
				t.Errorf("items %v", got)
			}
			if n := len(s.seenTo("/v1/search")); n != 2 {
				t.Errorf("%d requests, want 2", n)
			}
		})
	}
}

// An empty page ends the paging even when it has a next link.
func TestPagingEmptyPageStops(t *testing.T) {
	s := setup(t)
	s.landing("/v1", []string{"GET"})
	s.mux.HandleFunc("/v1/search", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, featurePage(nil, map[string]any{"links": []any{map[string]any{"rel": "next", "href": s.URL + "/v1/search?token=" + time.Now().String()}}}))
	})
	c := s.open("/v1")
	n := 0
	for p, err := range c.SearchPages(context.Background(), stac.SearchParams{}) {
		if err != nil || len(p.Features) != 0 {
			t.Fatal(p, err)
		}
		n++
	}
	if n != 1 || len(s.seenTo("/v1/search")) != 1 {
		t.Errorf("%d pages, %d requests", n, len(s.seenTo("/v1/search")))
	}
}

// Breaking out of the loop stops the paging: one request for the next page
// may have been on its way (fetched ahead, then cancelled), no more.
func TestSearchBreakStopsRequests(t *testing.T) {
	s := pagedServer(t, 10, 100)
	c := s.open("/v1")
	for _, err := range c.Search(context.Background(), stac.SearchParams{}) {
		if err != nil {
			t.Fatal(err)
		}
		break
	}
	// The paging's goroutines have ended when the loop returns: once the
	// requests on their way have been answered (Close waits for them),
	// nothing more can come.
	s.Close()
	if n := len(s.seenTo("/v1/search")); n > 2 {
		t.Errorf("%d requests of 10 pages, want at most 2", n)
	}
}

// Cancelling the context between pages ends the search with the context's
// error, after no more than the page already asked for.
func TestSearchContextCancel(t *testing.T) {
	s := pagedServer(t, 10, 100)
	c := s.open("/v1")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n := 0
	var gotErr error
	for _, err := range c.Search(ctx, stac.SearchParams{}) {
		if err != nil {
			gotErr = err
			break
		}
		if n++; n == 5 {
			cancel()
		}
	}
	if !errors.Is(gotErr, context.Canceled) {
		t.Errorf("error %v after %d items, want context.Canceled", gotErr, n)
	}
	if n > 20 {
		t.Errorf("%d items after cancel", n)
	}
	if reqs := len(s.seenTo("/v1/search")); reqs > 2 {
		t.Errorf("%d requests", reqs)
	}
}

// Cancelling while a request is in flight returns promptly.
func TestSearchCancelInFlight(t *testing.T) {
	s := setup(t)
	s.landing("/v1", []string{"GET"})
	arrived := make(chan struct{})
	s.mux.HandleFunc("/v1/search", func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		<-r.Context().Done()
	})
	c := s.open("/v1")
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-arrived; cancel() }()
	start := time.Now()
	var gotErr error
	for _, err := range c.Search(ctx, stac.SearchParams{}) {
		gotErr = err
	}
	if !errors.Is(gotErr, context.Canceled) || time.Since(start) > 2*time.Second {
		t.Errorf("error %v after %s", gotErr, time.Since(start))
	}
}

// A failing page ends the search with the server's error, after the items
// of the pages before it.
func TestPagingErrorMidway(t *testing.T) {
	s := setup(t)
	s.landing("/v1", []string{"GET"})
	s.mux.HandleFunc("/v1/search", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("page") != "" {
			writeJSON(w, 500, `{"code":"InternalServerError","description":"database timeout"}`)
			return
		}
		writeJSON(w, 200, featurePage([]string{"a", "b"}, map[string]any{"links": []any{map[string]any{"rel": "next", "href": "?page=2"}}}))
	})
	c := s.open("/v1")
	got, gotErr := idsAndErr(c.Search(context.Background(), stac.SearchParams{}))
	var he *stac.HTTPError
	if len(got) != 2 || !errors.As(gotErr, &he) || he.StatusCode != 500 || he.Description != "database timeout" {
		t.Errorf("items %v, error %v", got, gotErr)
	}
	if !strings.HasSuffix(he.URL, "/v1/search?page=2") {
		t.Errorf("error URL %q", he.URL)
	}
}

// A next link the client cannot follow ends the search with an error that
// says so, after the page's items.
func TestPagingBadNextLink(t *testing.T) {
	s := setup(t)
	s.landing("/v1", []string{"GET"})
	s.mux.HandleFunc("/v1/search", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, featurePage([]string{"a"}, map[string]any{"links": []any{map[string]any{"rel": "next", "href": "/x", "method": "DELETE"}}}))
	})
	c := s.open("/v1")
	got, gotErr := idsAndErr(c.Search(context.Background(), stac.SearchParams{}))
	if len(got) != 1 || gotErr == nil || !strings.Contains(gotErr.Error(), `next link: method: expected GET or POST, got "DELETE"`) {
		t.Errorf("items %v, error %v", got, gotErr)
	}
}

// A search resumes from a saved next link: GET links are followed as
// they are, POST merge links are merged into the parameters' body.
func TestSearchResume(t *testing.T) {
	s := pagedServer(t, 10, 42)
	c := s.open("/v1")
	var next *stac.Link
	for p, err := range c.SearchPages(context.Background(), stac.SearchParams{Collections: []string{"c"}}) {
		if err != nil {
			t.Fatal(err)
		}
		next = stac.FindLink(p.Links, "next")
		break
	}
	if next == nil {
		t.Fatal("no next link")
	}
	before := len(s.seenTo("/v1/search"))
	got := ids(t, c.Search(context.Background(), stac.SearchParams{Collections: []string{"c"}}, stac.WithResume(next)))
	if len(got) != 32 || got[0] != "i010" {
		t.Errorf("resumed items %d, first %v", len(got), got[:1])
	}
	if r := s.seenTo("/v1/search")[before]; r.Query != "collections=c&token=10" {
		t.Errorf("resumed with %q", r.Query)
	}
}

// The Sentinel Hub Catalog API has no next links: the client sends
// context.next back as "next" in the same body, asks for GeoJSON only and
// keeps limit at its cap of 100.
func TestSentinelHubPaging(t *testing.T) {
	s := setup(t)
	const root = "/api/v1/catalog/1.0.0"
	s.mux.HandleFunc(root+"/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]any{
			"type": "Catalog", "id": "sentinel-hub", "description": "Sentinel Hub STAC catalog", "stac_version": "1.0.0",
			"conformsTo": []string{"https://api.stacspec.org/v1.0.0/core", "https://api.stacspec.org/v1.0.0/item-search"},
			"links":      []any{map[string]any{"rel": "search", "href": s.URL + root + "/search", "type": "application/geo+json"}},
		})
	})
	s.mux.HandleFunc(root+"/search", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, "POST")
		if a := r.Header.Get("Accept"); a != "application/geo+json" {
			writeJSON(w, 406, `{"code":406,"description":"Not acceptable"}`)
			return
		}
		var body struct {
			Limit int
			Next  int
		}
		json.NewDecoder(r.Body).Decode(&body)
		if body.Limit > 100 {
			writeJSON(w, 400, `{"code":"RENDERER_EXCEPTION","description":"Limit must be between 1 and 100"}`)
			return
		}
		var page []string
		for i := body.Next; i < min(body.Next+body.Limit, 250); i++ {
			page = append(page, fmt.Sprint(i))
		}
		ctx := map[string]any{"limit": body.Limit, "returned": len(page)}
		if body.Next+body.Limit < 250 {
			ctx["next"] = body.Next + body.Limit
		}
		writeJSON(w, 200, featurePage(page, map[string]any{"context": ctx, "links": []any{}}))
	})
	c := s.open(root + "/")
	if !c.SentinelHub() {
		t.Fatal("not detected as Sentinel Hub")
	}
	var pages []*stac.ItemCollection
	for p, err := range c.SearchPages(context.Background(), stac.SearchParams{Collections: []string{"sentinel-2-l2a"}, Limit: 500}) {
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, p)
	}
	if len(pages) != 3 || len(pages[2].Features) != 50 {
		t.Fatalf("%d pages", len(pages))
	}
	reqs := s.seenTo(root + "/search")
	want := []string{
		`{"collections":["sentinel-2-l2a"],"limit":100}`,
		`{"collections":["sentinel-2-l2a"],"limit":100,"next":100}`,
		`{"collections":["sentinel-2-l2a"],"limit":100,"next":200}`,
	}
	for i, r := range reqs {
		if r.Body != want[i] {
			t.Errorf("request %d: %s, want %s", i+1, r.Body, want[i])
		}
	}
	// The paging shows as a next link, from which a search resumes.
	next := stac.FindLink(pages[0].Links, "next")
	if next == nil || next.Method != "POST" || !next.Merge || string(next.Body) != `{"next":100}` {
		t.Fatalf("next link %+v", next)
	}
	if stac.FindLink(pages[2].Links, "next") != nil {
		t.Error("next link on the last page")
	}
	got := ids(t, c.Search(context.Background(), stac.SearchParams{Collections: []string{"sentinel-2-l2a"}, Limit: 500}, stac.WithResume(next), stac.WithMaxItems(120)))
	if len(got) != 120 || got[0] != "100" {
		t.Errorf("resumed: %d items from %v", len(got), got[:1])
	}
	// Matched asks one item, by POST too.
	if _, err := c.Matched(context.Background(), stac.SearchParams{}); !errors.Is(err, stac.ErrNoCount) {
		t.Errorf("Matched: %v", err)
	}
	if last := s.seenTo(root + "/search"); last[len(last)-1].Body != `{"limit":1}` {
		t.Errorf("Matched body %s", last[len(last)-1].Body)
	}
}
