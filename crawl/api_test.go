package crawl_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// apiServer is a small STAC API: a landing page, /conformance, /collections
// paged two at a time, /collections/{id} and /collections/{id}/items and
// GET /search paged with next links carrying a token, as stac-fastapi
// answers them.
type apiServer struct {
	*httptest.Server
	t           *testing.T
	collections []apiCollection
	conformance []string
	pageSize    int
	// noItemsLink leaves the "items" link out of collections, as APIs
	// without OGC API Features do.
	noItemsLink bool

	mu sync.Mutex
	// queries records the query of every items or search request, by
	// collection id.
	queries map[string][]string
	// pages counts item pages served, by collection id.
	pages map[string]int
	// searches and featureRequests count /search and
	// /collections/{id}/items requests.
	searches, featureRequests int
	// block, when it returns true for a request, holds it until the
	// client gives up.
	block func(r *http.Request) bool
}

type apiCollection struct {
	id    string
	items int
	// fail makes the items endpoint answer 500 from the given page on
	// (1-based; 0 never).
	failFrom int
}

var apiCollections = []apiCollection{
	{id: "sentinel-2-l2a", items: 9},
	{id: "sentinel-1-grd", items: 4},
	{id: "landsat-c2-l2", items: 6},
	{id: "empty", items: 0},
	{id: "broken", items: 5, failFrom: 2},
}

func newAPIServer(t *testing.T, colls []apiCollection) *apiServer {
	s := &apiServer{
		t: t, collections: colls, pageSize: 4,
		queries: map[string][]string{}, pages: map[string]int{},
		conformance: []string{
			"https://api.stacspec.org/v1.0.0/core",
			"https://api.stacspec.org/v1.0.0/collections",
			"https://api.stacspec.org/v1.0.0/ogcapi-features",
			"https://api.stacspec.org/v1.0.0/item-search",
			"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
			"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
		},
	}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func (s *apiServer) root() string { return s.URL + "/api/v1" }

// apiItemTime is the datetime of item i of every collection: one a day
// from 2024-01-01.
func apiItemTime(i int) time.Time {
	return time.Date(2024, 1, 1, 10, 0, 0, 0, time.UTC).AddDate(0, 0, i)
}

func (s *apiServer) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	block := s.block
	s.mu.Unlock()
	if block != nil && block(r) {
		<-r.Context().Done()
		return
	}
	if r.Method != http.MethodGet {
		apiError(w, http.StatusMethodNotAllowed, "only GET here")
		return
	}
	path, ok := strings.CutPrefix(r.URL.Path, "/api/v1")
	if !ok {
		// Not the API: what a web server answers for a page that is not
		// STAC.
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, "<html><body>Not Found</body></html>")
		return
	}
	parts := strings.Split(strings.Trim(path, "/"), "/")
	switch {
	case path == "" || path == "/":
		s.landing(w)
	case path == "/conformance":
		writeJSON(w, map[string]any{"conformsTo": s.conformance})
	case path == "/collections":
		s.listCollections(w, r)
	case len(parts) == 2 && parts[0] == "collections":
		if c, ok := s.collection(parts[1]); ok {
			writeJSON(w, s.collectionDoc(c))
		} else {
			apiError(w, http.StatusNotFound, "Collection "+parts[1]+" does not exist.")
		}
	case len(parts) == 3 && parts[0] == "collections" && parts[2] == "items":
		s.items(w, r, parts[1], &s.featureRequests, "/collections/"+parts[1]+"/items")
	case path == "/search":
		ids := strings.Split(r.URL.Query().Get("collections"), ",")
		if len(ids) != 1 {
			apiError(w, http.StatusBadRequest, "this test server searches one collection at a time")
			return
		}
		s.items(w, r, ids[0], &s.searches, "/search")
	default:
		apiError(w, http.StatusNotFound, "no such path: "+r.URL.Path)
	}
}

func (s *apiServer) landing(w http.ResponseWriter) {
	root := s.root()
	writeJSON(w, map[string]any{
		"type": "Catalog", "stac_version": "1.0.0", "id": "test-api", "description": "A STAC API for the crawler's tests",
		"conformsTo": s.conformance,
		"links": []map[string]any{
			{"rel": "self", "href": root, "type": "application/json"},
			{"rel": "root", "href": root, "type": "application/json"},
			{"rel": "conformance", "href": root + "/conformance", "type": "application/json"},
			{"rel": "data", "href": root + "/collections", "type": "application/json"},
			{"rel": "search", "href": root + "/search", "type": "application/geo+json", "method": "GET"},
		},
	})
}

func (s *apiServer) collection(id string) (apiCollection, bool) {
	for _, c := range s.collections {
		if c.id == id {
			return c, true
		}
	}
	return apiCollection{}, false
}

func (s *apiServer) collectionDoc(c apiCollection) map[string]any {
	root := s.root()
	links := []map[string]any{
		{"rel": "self", "href": root + "/collections/" + c.id, "type": "application/json"},
		{"rel": "root", "href": root, "type": "application/json"},
		{"rel": "parent", "href": root, "type": "application/json"},
	}
	if !s.noItemsLink {
		links = append(links, map[string]any{"rel": "items", "href": root + "/collections/" + c.id + "/items", "type": "application/geo+json"})
	}
	return map[string]any{
		"type": "Collection", "stac_version": "1.0.0", "id": c.id, "description": "Collection " + c.id, "license": "CC-BY-4.0",
		"extent": map[string]any{
			"spatial":  map[string]any{"bbox": [][]float64{{-180, -90, 180, 90}}},
			"temporal": map[string]any{"interval": [][]any{{"2024-01-01T00:00:00Z", nil}}},
		},
		"links": links,
	}
}

// listCollections pages /collections two at a time, with an offset token.
func (s *apiServer) listCollections(w http.ResponseWriter, r *http.Request) {
	offset, _ := strconv.Atoi(r.URL.Query().Get("offset"))
	end := min(offset+2, len(s.collections))
	var cols []any
	for _, c := range s.collections[offset:end] {
		cols = append(cols, s.collectionDoc(c))
	}
	links := []map[string]any{{"rel": "self", "href": s.root() + "/collections", "type": "application/json"}}
	if end < len(s.collections) {
		links = append(links, map[string]any{"rel": "next", "href": fmt.Sprintf("%s/collections?offset=%d", s.root(), end), "type": "application/json"})
	}
	writeJSON(w, map[string]any{"collections": cols, "links": links, "numberMatched": len(s.collections), "numberReturned": len(cols)})
}

// items pages the items of collection id pageSize at a time (or limit,
// when it is smaller: like most servers, it caps the page size), with a
// token in the next link to path, keeping the other query parameters. It
// counts the request in count (guarded by s.mu).
func (s *apiServer) items(w http.ResponseWriter, r *http.Request, id string, count *int, path string) {
	c, ok := s.collection(id)
	if !ok {
		apiError(w, http.StatusNotFound, "Collection "+id+" does not exist.")
		return
	}
	base := s.root() + path
	q := r.URL.Query()
	s.mu.Lock()
	*count++
	s.queries[c.id] = append(s.queries[c.id], r.URL.RawQuery)
	s.pages[c.id]++
	page := s.pages[c.id]
	s.mu.Unlock()
	if c.failFrom > 0 && page >= c.failFrom {
		apiError(w, http.StatusInternalServerError, "database timeout")
		return
	}
	size := s.pageSize
	if l, err := strconv.Atoi(q.Get("limit")); err == nil && l > 0 {
		size = min(l, s.pageSize)
	}
	offset := 0
	if tok := q.Get("token"); tok != "" {
		offset, _ = strconv.Atoi(strings.TrimPrefix(tok, "next:"))
	}
	end := min(offset+size, c.items)
	features := []any{}
	for i := offset; i < end; i++ {
		features = append(features, s.itemDoc(c, i))
	}
	links := []map[string]any{{"rel": "root", "href": s.root(), "type": "application/json"}}
	if end < c.items {
		q.Set("token", fmt.Sprintf("next:%d", end))
		links = append(links, map[string]any{"rel": "next", "href": base + "?" + q.Encode(), "type": "application/geo+json", "method": "GET"})
	}
	w.Header().Set("Content-Type", "application/geo+json")
	json.NewEncoder(w).Encode(map[string]any{
		"type": "FeatureCollection", "features": features, "links": links,
		"numberMatched": c.items, "numberReturned": len(features),
	})
}

func (s *apiServer) itemDoc(c apiCollection, i int) map[string]any {
	id := fmt.Sprintf("%s-%03d", c.id, i)
	x, y := float64(i%10)*10, float64(i%5)*10
	return map[string]any{
		"type": "Feature", "stac_version": "1.0.0", "id": id, "collection": c.id,
		"geometry":   map[string]any{"type": "Polygon", "coordinates": [][][]float64{{{x, y}, {x + 1, y}, {x + 1, y + 1}, {x, y + 1}, {x, y}}}},
		"bbox":       []float64{x, y, x + 1, y + 1},
		"properties": map[string]any{"datetime": apiItemTime(i).Format(time.RFC3339)},
		"links": []map[string]any{
			{"rel": "self", "href": s.root() + "/collections/" + c.id + "/items/" + id, "type": "application/geo+json"},
			{"rel": "collection", "href": s.root() + "/collections/" + c.id, "type": "application/json"},
		},
		"assets": map[string]any{},
	}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

func apiError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"code": http.StatusText(status), "description": msg})
}
