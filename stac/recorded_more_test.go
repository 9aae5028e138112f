package stac_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stacq/stacq/geo"
	"github.com/stacq/stacq/stac"
)

// The recordings of testdata/recorded-more are responses of more STAC API
// families (Earth Search v0, Astraea Earth OnDemand, Spacebel's FedEO,
// GeoServer, eoAPI, SAGE, Digital Earth Africa), taken from other
// projects' test fixtures; see testdata/recorded-more/README.md.

// family is one API family of the recordings: its file prefix and the
// hosts its bodies name (all served by one replay server).
type family struct {
	prefix string
	hosts  []string
}

var (
	earthSearchV0 = family{"earth-search-v0_", []string{"https://earth-search.aws.element84.com"}}
	astraea       = family{"astraea_", []string{"https://eod-catalog-svc-prod.astraea.earth", "http://eod-catalog-svc-prod.astraea.earth"}}
	spacebel      = family{"spacebel_", []string{"https://emc.spacebel.be"}}
	geoserver     = family{"paituli_", []string{"https://paituli.csc.fi"}}
	eoapi         = family{"eoapi_", []string{"https://stac.eoapi.dev"}}
	sage          = family{"sage_", []string{"https://stac.sage.uvt.ro"}}
	deafrica      = family{"deafrica_", []string{"https://explorer.digitalearth.africa"}}
)

// moreReplay answers the recorded requests of one family as the real
// server did, with the family's hosts rewritten to the test server. A
// request that was not recorded is answered 404 and listed, for the test
// to check: what the server answered to it is not known.
type moreReplay struct {
	*server
	fam  family
	dir  string
	recs []stac.MoreRecording

	mu         sync.Mutex
	unrecorded []seen
}

func replayFamily(t *testing.T, fam family) *moreReplay {
	t.Helper()
	dir, all := stac.MoreRecordings(t)
	r := &moreReplay{server: setup(t), fam: fam, dir: dir}
	for _, rec := range all {
		if strings.HasPrefix(rec.File, fam.prefix) {
			r.recs = append(r.recs, rec)
		}
	}
	if len(r.recs) == 0 {
		t.Fatalf("no recordings of %s", fam.prefix)
	}
	r.mux.HandleFunc("/", func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		for _, rec := range r.recs {
			if rec.Method != req.Method || !sameURL(r.rewrite(rec.URL), r.URL+req.URL.RequestURI()) {
				continue
			}
			if req.Method == "POST" && !jsonEqual(t, string(rec.RequestBody), string(body)) {
				continue
			}
			w.Header().Set("Content-Type", rec.ContentType)
			w.WriteHeader(rec.Status)
			w.Write(r.body(rec.File))
			return
		}
		r.mu.Lock()
		r.unrecorded = append(r.unrecorded, seen{Method: req.Method, Path: req.URL.Path, Query: req.URL.RawQuery, Body: string(body)})
		r.mu.Unlock()
		writeJSON(w, 404, `{"code":"NotFound","description":"not recorded"}`)
	})
	return r
}

func (r *moreReplay) rewrite(text string) string {
	for _, h := range r.fam.hosts {
		text = strings.ReplaceAll(text, h, r.URL)
	}
	return text
}

// body is a recorded body with the family's hosts rewritten.
func (r *moreReplay) body(name string) []byte {
	b, err := os.ReadFile(filepath.Join(r.dir, name))
	if err != nil {
		r.t.Fatal(err)
	}
	return []byte(r.rewrite(string(b)))
}

// notRecorded returns the requests that had no recording, as "METHOD
// path?query body", and forgets them.
func (r *moreReplay) notRecorded() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, s := range r.unrecorded {
		line := s.Method + " " + s.Path
		if s.Query != "" {
			line += "?" + s.Query
		}
		if s.Body != "" {
			line += " " + s.Body
		}
		out = append(out, line)
	}
	r.unrecorded = nil
	return out
}

// expectNotRecorded fails unless the requests without a recording were
// exactly want.
func (r *moreReplay) expectNotRecorded(t *testing.T, want ...string) {
	t.Helper()
	got := r.notRecorded()
	if !slices.Equal(got, want) {
		t.Errorf("requests without a recording:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// searchIDs runs a search through the typed path and the raw path and
// checks both give the same items; it returns their ids, the pages'
// counts and the error that ended the search, if any.
func searchIDs(t *testing.T, c *stac.Client, p stac.SearchParams, opts ...stac.ListOption) (ids []string, matched []int64, err error) {
	t.Helper()
	for page, e := range c.SearchRawPages(context.Background(), p, opts...) {
		if e != nil {
			err = e
			break
		}
		n, ok := page.Matched()
		if !ok {
			n = -1
		}
		matched = append(matched, n)
		for _, it := range page.Items {
			ids = append(ids, it.ID)
		}
	}
	var typed []string
	var typedErr error
	for it, e := range c.Search(context.Background(), p, opts...) {
		if e != nil {
			typedErr = e
			break
		}
		typed = append(typed, it.ID)
	}
	if !slices.Equal(ids, typed) || (err == nil) != (typedErr == nil) {
		t.Errorf("raw search gave %d items (%v), typed %d (%v)", len(ids), err, len(typed), typedErr)
	}
	return ids, matched, err
}

// distinct fails if ids repeat.
func distinct(t *testing.T, ids []string) {
	t.Helper()
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			t.Errorf("item %s delivered twice", id)
		}
		seen[id] = true
	}
}

// checkConforms compares what Conforms says of each class with want.
func checkConforms(t *testing.T, c *stac.Client, want map[string]bool) {
	t.Helper()
	for class, w := range want {
		if got := c.Conforms(class); got != w {
			t.Errorf("Conforms(%q) = %v, want %v (classes %v)", class, got, w, c.Conformance())
		}
	}
}

func isNotFound(err error) bool {
	var he *stac.HTTPError
	return errors.As(err, &he) && he.StatusCode == 404
}

// Earth Search v0 (stac-server 0.x, STAC 1.0.0-beta.2, STAC API 0.9): no
// conformsTo and a conformance link; one search link without a method;
// POST paging by a next link whose body replaces the search ("merge":
// false, "page": 2).
func TestRecordedEarthSearchV0(t *testing.T) {
	r := replayFamily(t, earthSearchV0)
	c := r.open("/v0")
	// /v0/conformance was not recorded (pystac-client does not ask for
	// it): the replay answers 404, so the classes are inferred.
	r.expectNotRecorded(t, "GET /v0/conformance")
	if !c.ConformanceInferred() {
		t.Errorf("conformance not inferred: %v", c.Conformance())
	}
	checkConforms(t, c, map[string]bool{"core": true, "item-search": true, "filter": false, "sort": false, "fields": false, "query": false})
	if c.Landing().Version != "1.0.0-beta.2" || len(c.Landing().Links) != 10 {
		t.Errorf("landing page %s with %d links", c.Landing().Version, len(c.Landing().Links))
	}

	// The search link has no method; pystac-client searched by POST.
	p := stac.SearchParams{Method: "POST", Collections: []string{"sentinel-s2-l2a-cogs"}, Limit: 1}
	ids, matched, err := searchIDs(t, c, p, stac.WithMaxItems(1))
	if err != nil || len(ids) != 1 || ids[0] != "S2B_20EPT_20250731_0_L2A" {
		t.Fatalf("search: %v, %v", ids, err)
	}
	if matched[0] != 22699053 {
		t.Errorf("matched %v, want 22699053 (numberMatched)", matched)
	}
	r.expectNotRecorded(t)

	// Page 2 was not recorded; the request for it must be the next
	// link's body as it is ("merge": false), not merged into the search.
	_, _, err = searchIDs(t, c, p)
	if !isNotFound(err) {
		t.Fatalf("page 2: %v, want the replay's 404", err)
	}
	r.expectNotRecorded(t,
		`POST /v0/search {"collections":["sentinel-s2-l2a-cogs"],"page":2,"limit":1}`,
		`POST /v0/search {"collections":["sentinel-s2-l2a-cogs"],"page":2,"limit":1}`)

	// An empty search: its next link carries only page and limit.
	ids, matched, err = searchIDs(t, c, stac.SearchParams{Method: "POST"}, stac.WithMaxItems(10))
	if err != nil || len(ids) != 10 || matched[0] != 59140235 {
		t.Fatalf("empty search: %d items, matched %v, %v", len(ids), matched, err)
	}
	distinct(t, ids)

	// Collections: no data link; /collections is found by its path.
	var cols []string
	for col, err := range c.Collections(context.Background(), stac.CollectionsParams{}) {
		if err != nil {
			t.Fatal(err)
		}
		cols = append(cols, col.ID)
	}
	if want := []string{"sentinel-s2-l2a", "sentinel-s2-l1c", "sentinel-s2-l2a-cogs", "landsat-8-l1-c1"}; !slices.Equal(cols, want) {
		t.Errorf("collections %v, want %v", cols, want)
	}
	col, err := c.Collection(context.Background(), "sentinel-s2-l2a")
	if err != nil || col.ID != "sentinel-s2-l2a" || col.Version != "1.0.0-beta.2" {
		t.Fatalf("collection: %+v, %v", col, err)
	}
	r.expectNotRecorded(t)
}

// Astraea Earth OnDemand (STAC API 1.0.0-beta.1 conformance URIs under
// http://stacspec.org/spec/api/): no search link at all; pages counted
// in context.matched; GET paging by next links carrying a "next" token,
// POST paging by {"next": token} merged into the search; next links on
// http:// for an https API; the last page empty.
func TestRecordedAstraea(t *testing.T) {
	r := replayFamily(t, astraea)
	c := r.open("/")
	if c.ConformanceInferred() {
		t.Errorf("conformance inferred, though advertised")
	}
	checkConforms(t, c, map[string]bool{
		"core": true, "item-search": true, "context": true, "sort": true, "fields": true,
		"item-search#context": true, "item-search#sort": true,
		"filter": false, "query": false, "collection-search": false,
		"http://stacspec.org/spec/api/1.0.0-beta.1/req/stac-search": true,
		"https://api.stacspec.org/v1.0.0/item-search":               false, // a full URI is that URI
	})
	if u := c.UnadvertisedSearch(stac.SearchParams{SortBy: []stac.SortBy{{Field: "datetime"}}, Filter: "eo:cloud_cover < 10"}); len(u) != 1 || u[0].Param != "filter" {
		t.Errorf("unadvertised %v, want filter only", u)
	}

	window := dt("2019-01-01T00:00:01Z/2019-01-01T00:00:10Z")
	for _, tc := range []struct {
		name    string
		p       stac.SearchParams
		want    int
		matched int64
	}{
		// Three pages each: 10, 2, and an empty one without a next link.
		{"GET datetime", stac.SearchParams{Method: "GET", Datetime: window, Limit: 10}, 12, 12},
		{"POST datetime", stac.SearchParams{Method: "POST", Datetime: window}, 12, 12},
		// Four pages: 10, 10, 10, and an empty one.
		{"POST bbox", stac.SearchParams{Method: "POST", BBox: geo.BBox{-73.21, 43.99, -73.12, 44.05}, Collections: []string{"naip"}, Limit: 10}, 30, 30},
		{"POST intersects", stac.SearchParams{Method: "POST", Collections: []string{"naip"}, Intersects: []byte(`{"type":"Polygon","coordinates":[[[-73.21,43.99],[-73.21,44.05],[-73.12,44.05],[-73.12,43.99],[-73.21,43.99]]]}`)}, 30, 30},
		// Two pages: the two items, and an empty one.
		{"POST ids", stac.SearchParams{Method: "POST", IDs: []string{"m_3510836_se_12_060_20180508_20190331", "m_3510840_se_12_060_20180504_20190331"}}, 2, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ids, matched, err := searchIDs(t, c, tc.p)
			if err != nil {
				t.Fatal(err)
			}
			if len(ids) != tc.want {
				t.Errorf("%d items, want %d", len(ids), tc.want)
			}
			distinct(t, ids)
			for _, m := range matched {
				if m != tc.matched {
					t.Errorf("matched %v, want %d on every page (context.matched)", matched, tc.matched)
					break
				}
			}
			r.expectNotRecorded(t)
		})
	}
	// Two pages of 10 of the 10000 NAIP items, then a cap.
	ids, _, err := searchIDs(t, c, stac.SearchParams{Method: "POST", Collections: []string{"naip"}, Limit: 10}, stac.WithMaxItems(20))
	if err != nil || len(ids) != 20 {
		t.Fatalf("naip: %d items, %v", len(ids), err)
	}
	distinct(t, ids)
	r.expectNotRecorded(t)

	col, err := c.Collection(context.Background(), "landsat8_l1tp")
	if err != nil || col.ID != "landsat8_l1tp" {
		t.Fatalf("collection: %v", err)
	}
	r.expectNotRecorded(t)
}

// Spacebel's FedEO gateway (STAC API with collection search, rc.1): data
// links to /collections in four media types, an OpenSearch description
// as a search link; collection search paged by next links with
// startRecord.
func TestRecordedSpacebel(t *testing.T) {
	r := replayFamily(t, spacebel)
	c := r.open("/")
	checkConforms(t, c, map[string]bool{
		"core": true, "item-search": true, "collections": true, "features": true, "filter": true, "sort": true,
		"collection-search": true, "collection-search#free-text": true, "collection-search#filter": true,
		"fields": false, "query": false, "item-search#free-text": false,
	})
	// Free text is advertised for collection search only.
	if u := c.UnadvertisedSearch(stac.SearchParams{Q: "sentinel"}); len(u) != 1 || u[0].Param != "q" {
		t.Errorf("unadvertised %v, want q", u)
	}
	if u := c.UnadvertisedCollections(stac.CollectionsParams{Q: "sentinel", Filter: "a = 1"}); len(u) != 0 {
		t.Errorf("unadvertised for collections %v, want none", u)
	}
	for _, tc := range []struct {
		name string
		p    stac.CollectionsParams
		max  int
		want int
	}{
		{"q, 2 pages", stac.CollectionsParams{Q: "sentinel", Limit: 10}, 20, 20},
		{"q, limit 5", stac.CollectionsParams{Q: "sentinel", Limit: 5}, 5, 5},
		{"phrase", stac.CollectionsParams{Q: `"monthly cloudless mosaics"`, Limit: 10}, 0, 1},
		{"bbox, 2 pages", stac.CollectionsParams{BBox: geo.BBox{-92.379, 46.662, -91.788, 46.919}, Limit: 10}, 20, 20},
		{"bbox", stac.CollectionsParams{BBox: geo.BBox{-159.893, 21.843, -159.176, 22.266}, Limit: 10}, 10, 10},
		{"datetime, 2 pages", stac.CollectionsParams{Datetime: dt("2024-01-01T00:00:01Z/2024-01-01T00:00:10Z")}, 20, 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ids []string
			pages := 0
			for page, err := range c.CollectionPages(context.Background(), tc.p, stac.WithMaxItems(tc.max)) {
				if err != nil {
					t.Fatal(err)
				}
				pages++
				if page.NumberMatched == nil || *page.NumberMatched < int64(tc.want) {
					t.Errorf("page %d: numberMatched %v", pages, page.NumberMatched)
				}
				for _, col := range page.Collections {
					ids = append(ids, col.ID)
				}
			}
			if len(ids) != tc.want {
				t.Errorf("%d collections in %d pages, want %d", len(ids), pages, tc.want)
			}
			distinct(t, ids)
			r.expectNotRecorded(t)
		})
	}
}

// GeoServer's STAC API (paituli.csc.fi): every link in several media
// types told by an "f" parameter (JSON first, then HTML), search links
// with "?f=application/geo+json"; POST paging by {"startIndex"} merged.
func TestRecordedGeoServer(t *testing.T) {
	r := replayFamily(t, geoserver)
	c := r.open("/geoserver/ogc/stac/v1")
	checkConforms(t, c, map[string]bool{
		"core": true, "item-search": true, "collections": true, "features": true, "filter": true, "sort": true, "fields": true,
		"query": false, "collection-search": false, "free-text": false,
	})
	r.expectNotRecorded(t)

	// The search is sent to the GeoJSON search link, not the HTML one
	// listed after it. (Fails while the landing page's last link of a
	// rel wins, whatever its type: stacq POSTs to ?f=text%2Fhtml.)
	ids, matched, err := searchIDs(t, c, stac.SearchParams{Method: "POST"}, stac.WithMaxItems(100))
	if err != nil || len(ids) != 100 || matched[0] != 389762 {
		t.Errorf("search: %d items, matched %v, %v", len(ids), matched, err)
	}
	distinct(t, ids)
	r.expectNotRecorded(t)

	// A collection is read from the JSON data link, its "f" kept (as
	// pystac-client does since its issue 745). (Fails while the last data
	// link, the HTML one, is taken and joinPath drops its query.)
	col, err := c.Collection(context.Background(), "sentinel2-l2a")
	if err != nil || col.ID != "sentinel2-l2a" {
		t.Errorf("collection: %v", err)
	}
	r.expectNotRecorded(t)
}

// eoAPI (stac-fastapi-pgstac, stac.eoapi.dev): POST paging by a next link
// whose body is a token alone (no merge); collections paged by GET next
// links with offset (from rustac's mocks).
func TestRecordedEoAPI(t *testing.T) {
	r := replayFamily(t, eoapi)
	c := r.open("/")
	checkConforms(t, c, map[string]bool{
		"core": true, "item-search": true, "collections": true, "features": true, "filter": true, "sort": true, "fields": true, "query": true,
		"collection-search": true, "collection-search#free-text": true, "item-search#free-text": false,
	})
	if u := c.UnadvertisedSearch(stac.SearchParams{Q: "fire"}); len(u) != 1 || u[0].Param != "q" {
		t.Errorf("unadvertised %v, want q", u)
	}

	ids, matched, err := searchIDs(t, c, stac.SearchParams{Method: "POST"}, stac.WithMaxItems(10))
	if err != nil || len(ids) != 10 || matched[0] != 144775 {
		t.Fatalf("search: %d items, matched %v, %v", len(ids), matched, err)
	}
	distinct(t, ids)
	r.expectNotRecorded(t)
	// Page 2 was not recorded: it is asked for with the link's body.
	if _, _, err := searchIDs(t, c, stac.SearchParams{Method: "POST"}); !isNotFound(err) {
		t.Fatalf("page 2: %v, want the replay's 404", err)
	}
	next := `POST /search {"token":"next:WildFires-LosAngeles-Jan-2025:11_031311102221_103001010C12B000"}`
	r.expectNotRecorded(t, next, next)

	var cols []string
	for col, err := range c.Collections(context.Background(), stac.CollectionsParams{}) {
		if err != nil {
			t.Fatal(err)
		}
		cols = append(cols, col.ID)
	}
	if len(cols) != 20 {
		t.Errorf("%d collections, want 20 in two pages", len(cols))
	}
	distinct(t, cols)
	r.expectNotRecorded(t)
}

// The SAGE STAC API (stac.sage.uvt.ro, stac-fastapi): context without
// matched, POST paging by token; queryables as application/schema+json.
func TestRecordedSAGE(t *testing.T) {
	r := replayFamily(t, sage)
	c := r.open("/")
	checkConforms(t, c, map[string]bool{
		"core": true, "item-search": true, "collections": true, "features": true, "filter": true, "sort": true, "fields": true, "query": true,
		"collection-search": false, "free-text": false,
	})
	ids, matched, err := searchIDs(t, c, stac.SearchParams{Method: "POST"}, stac.WithMaxItems(10))
	if err != nil || len(ids) != 10 || matched[0] != -1 {
		t.Fatalf("search: %d items, matched %v, %v", len(ids), matched, err)
	}
	if _, err := c.Matched(context.Background(), stac.SearchParams{Method: "POST"}); err == nil {
		t.Errorf("Matched: no error for a server that does not count")
	}
	r.notRecorded() // Matched asks for limit 1, which was not recorded
	q, err := c.Queryables(context.Background(), "")
	if err != nil || !strings.Contains(string(q), `"properties"`) {
		t.Fatalf("queryables: %.100s, %v", q, err)
	}
	r.expectNotRecorded(t)
}

// Digital Earth Africa's explorer (datacube-explorer, STAC API rc.1 URIs):
// a landing page under /stac with a search link of type application/json
// and no method, a children link instead of data, queryables.
func TestRecordedDEAfrica(t *testing.T) {
	r := replayFamily(t, deafrica)
	c := r.open("/stac")
	if c.ConformanceInferred() {
		t.Errorf("conformance inferred, though advertised")
	}
	checkConforms(t, c, map[string]bool{
		"core": true, "item-search": true, "collections": true, "features": true, "filter": true, "sort": true, "fields": true, "query": true,
		"https://api.stacspec.org/v1.0.0-rc.1/item-search#filter": true, "collection-search": false,
	})
	q, err := c.Queryables(context.Background(), "")
	if err != nil || q.Kind() != '{' {
		t.Fatalf("queryables: %v", err)
	}
	r.expectNotRecorded(t)
}

// Every family's landing page opens, and each recording is used by the
// tests above or said here why not.
func TestRecordedMoreLandingPages(t *testing.T) {
	for _, tc := range []struct {
		fam  family
		root string
	}{
		{earthSearchV0, "/v0"}, {astraea, "/"}, {spacebel, "/"}, {geoserver, "/geoserver/ogc/stac/v1"},
		{geoserver, "/geoserver/ogc/stac/v1/"}, {geoserver, "/geoserver/ogc/stac/v1?f=application%2Fjson"},
		{eoapi, "/"}, {sage, "/"}, {deafrica, "/stac"}, {deafrica, "/stac/"},
	} {
		t.Run(tc.fam.prefix+tc.root, func(t *testing.T) {
			r := replayFamily(t, tc.fam)
			c, err := stac.Open(context.Background(), r.URL+tc.root, stac.WithHTTPClient(r.Client()))
			if err != nil {
				t.Fatal(err)
			}
			if len(c.Conformance()) == 0 || !c.Conforms("core") {
				t.Errorf("classes %v", c.Conformance())
			}
			r.notRecorded()
		})
	}
}

// Free text in item search needs item-search#free-text (or
// #advanced-free-text): collection-search#free-text, which eoAPI and
// FedEO advertise alone, is free text in collection search only. Needs no
// recordings.
func TestFreeTextOfItemSearchOnly(t *testing.T) {
	for _, tc := range []struct {
		classes []string
		warn    bool
	}{
		{[]string{"https://api.stacspec.org/v1.0.0/item-search", "https://api.stacspec.org/v1.0.0-rc.1/collection-search", "https://api.stacspec.org/v1.0.0-rc.1/collection-search#free-text"}, true},
		{[]string{"https://api.stacspec.org/v1.0.0/item-search", "https://api.stacspec.org/v1.0.0-rc.1/ogcapi-features#free-text"}, true},
		{[]string{"https://api.stacspec.org/v1.0.0/item-search", "https://api.stacspec.org/v1.0.0-rc.1/item-search#free-text"}, false},
		{[]string{"https://api.stacspec.org/v1.0.0/item-search", "https://api.stacspec.org/v1.0.0-rc.1/item-search#advanced-free-text"}, false},
	} {
		s := setup(t)
		s.landing("/", []string{"POST"}, tc.classes...)
		c := s.open("/")
		u := c.UnadvertisedSearch(stac.SearchParams{Q: "sentinel"})
		if warn := len(u) == 1 && u[0].Param == "q" && u[0].Class == "item-search#free-text"; warn != tc.warn || len(u) > 1 {
			t.Errorf("%v: unadvertised %v, want a warning for q: %v", tc.classes, u, tc.warn)
		}
		// Collection search's own free text is unaffected.
		if got := c.UnadvertisedCollections(stac.CollectionsParams{Q: "sentinel"}); len(got) != 0 {
			t.Errorf("%v: unadvertised for collections %v", tc.classes, got)
		}
	}
}
