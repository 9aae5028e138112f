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

	"github.com/stacq/stacq/stac"
)

func TestCollectionsRecorded(t *testing.T) {
	s := setup(t)
	s.replay()
	c := s.open("/v1")
	tests := []struct {
		params stac.CollectionsParams
		max    int
		n      int
	}{
		{stac.CollectionsParams{}, 0, 9},
		// Earth Search does not advertise collection search: q is applied
		// by the client (9 collections, 5 of them Sentinel's).
		{stac.CollectionsParams{Q: "sentinel"}, 0, 5},
		{stac.CollectionsParams{Q: "sentinel"}, 2, 2},
		// And so are datetime (6 collections are still open in 2024) and
		// bbox (NAIP covers only the US).
		{stac.CollectionsParams{Datetime: dt("2024-09-15T00:00:00+00:00/2024-09-16T00:00:00+00:00")}, 0, 6},
		{stac.CollectionsParams{BBox: []float64{60, 0, 70, 10}}, 0, 8},
		// Phrases, exclusions, alternatives, required terms.
		{stac.CollectionsParams{Q: `"sentinel-2" -"level-1c", landsat`}, 0, 4},
		{stac.CollectionsParams{Q: "copernicus +elevation"}, 0, 2},
		{stac.CollectionsParams{}, 3, 3},
	}
	for _, tt := range tests {
		var got []string
		for col, err := range c.Collections(context.Background(), tt.params, stac.WithMaxItems(tt.max)) {
			if err != nil {
				t.Fatalf("%+v: %v", tt.params, err)
			}
			got = append(got, col.ID)
		}
		if tt.n > 0 && len(got) != tt.n {
			t.Errorf("%+v: %d collections %v, want %d", tt.params, len(got), got, tt.n)
		}
	}
}

// Collection search parameters are GET parameters of /collections, and
// /collections pages are followed by their next links.
func TestCollectionPages(t *testing.T) {
	s := setup(t)
	s.landing("/v1", []string{"GET"}, "https://api.stacspec.org/v1.0.0/core", "https://api.stacspec.org/v1.0.0-rc.1/collection-search")
	s.mux.HandleFunc("/v1/collections", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, "GET")
		off, _ := strconv.Atoi(r.URL.Query().Get("offset"))
		var cols []any
		for i := off; i < min(off+2, 5); i++ {
			cols = append(cols, map[string]any{"type": "Collection", "id": fmt.Sprintf("c%d", i), "description": "d", "license": "proprietary",
				"extent": map[string]any{"spatial": map[string]any{"bbox": [][]float64{{-180, -90, 180, 90}}}, "temporal": map[string]any{"interval": [][]any{{nil, nil}}}},
				"links":  []any{}})
		}
		links := []any{}
		if off+2 < 5 {
			q := r.URL.Query()
			q.Set("offset", strconv.Itoa(off+2))
			links = append(links, map[string]any{"rel": "next", "href": "collections?" + q.Encode()})
		}
		writeJSON(w, 200, map[string]any{"collections": cols, "links": links, "numberMatched": 5})
	})
	c := s.open("/v1")
	if !c.Conforms("collection-search") {
		t.Error("collection-search not advertised")
	}
	p := stac.CollectionsParams{
		BBox: []float64{60, 0, 70, 10}, Datetime: dt("2024-09-15T00:00:00Z/.."), Q: "sentinel",
		Filter: "platform = 'sentinel-2a'", SortBy: []stac.SortBy{{Field: "id", Direction: "desc"}}, Limit: 2,
	}
	var got []string
	for col, err := range c.Collections(context.Background(), p) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, col.ID)
	}
	if strings.Join(got, ",") != "c0,c1,c2,c3,c4" {
		t.Errorf("collections %v", got)
	}
	reqs := s.seenTo("/v1/collections")
	if len(reqs) != 3 {
		t.Fatalf("%d requests", len(reqs))
	}
	want := url.Values{
		"bbox": {"60,0,70,10"}, "datetime": {"2024-09-15T00:00:00Z/.."}, "q": {"sentinel"},
		"filter": {"platform = 'sentinel-2a'"}, "filter-lang": {"cql2-text"}, "sortby": {"-id"}, "limit": {"2"},
	}
	if reqs[0].Query != want.Encode() {
		t.Errorf("query\n got %s\nwant %s", reqs[0].Query, want.Encode())
	}
	want.Set("offset", "4")
	if reqs[2].Query != want.Encode() {
		t.Errorf("third query %s", reqs[2].Query)
	}

	// WithMaxItems stops the paging once reached.
	before := len(s.seenTo("/v1/collections"))
	n := 0
	for _, err := range c.Collections(context.Background(), stac.CollectionsParams{}, stac.WithMaxItems(3)) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 3 || len(s.seenTo("/v1/collections"))-before != 2 {
		t.Errorf("%d collections in %d requests", n, len(s.seenTo("/v1/collections"))-before)
	}
}

func TestCollectionItemQueryablesRecorded(t *testing.T) {
	s := setup(t)
	s.replay()
	pc := s.open("/api/stac/v1")
	ctx := context.Background()

	col, err := pc.Collection(ctx, "sentinel-2-l2a")
	if err != nil || col.ID != "sentinel-2-l2a" || col.Extent == nil || len(col.Summaries) == 0 {
		t.Fatalf("Collection: %+v, %v", col, err)
	}
	it, err := pc.Item(ctx, "aster-l1t", "AST_L1T_00312272006020322_20150518201805")
	if err != nil || it.ID != "AST_L1T_00312272006020322_20150518201805" || it.Collection != "aster-l1t" || len(it.Assets) == 0 {
		t.Fatalf("Item: %+v, %v", it, err)
	}
	_, err = pc.Item(ctx, "aster-l1t", "for-sure-not-a-real-id")
	var he *stac.HTTPError
	if !errors.Is(err, stac.ErrNotFound) || !errors.As(err, &he) || he.Code != "NotFoundError" ||
		he.Description != "Item for-sure-not-a-real-id in Collection aster-l1t does not exist." {
		t.Errorf("missing item: %v", err)
	}
	q, err := pc.Queryables(ctx, "landsat-c2-l2")
	var schema struct {
		Properties map[string]json.RawMessage `json:"properties"`
	}
	if err != nil || json.Unmarshal(q, &schema) != nil || schema.Properties["eo:cloud_cover"] == nil {
		t.Errorf("Queryables: %.200s, %v", q, err)
	}

	// Earth Search answers a missing collection with {"code","description"}.
	es := s.open("/v1")
	_, err = es.Collection(ctx, "foo")
	if !errors.Is(err, stac.ErrNotFound) || !errors.As(err, &he) || he.StatusCode != 404 || he.Code != "NotFound" || he.Description != "Not Found" {
		t.Fatalf("missing collection: %v", err)
	}
	if want := "GET " + s.URL + "/v1/collections/foo: 404 Not Found: NotFound: Not Found"; err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
}

// The root queryables come from the landing page's queryables link; ids
// are escaped in paths.
func TestQueryablesAndPaths(t *testing.T) {
	s := setup(t)
	s.mux.HandleFunc("/v1", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, `{"type":"Catalog","id":"x","description":"d","stac_version":"1.0.0","conformsTo":["https://api.stacspec.org/v1.0.0/core"],
			"links":[{"rel":"http://www.opengis.net/def/rel/ogc/1.0/queryables","href":"/schemas/queryables.json"},{"rel":"data","href":"/v1/cols"}]}`)
	})
	s.mux.HandleFunc("/schemas/queryables.json", func(w http.ResponseWriter, r *http.Request) {
		if a := r.Header.Get("Accept"); !strings.HasPrefix(a, "application/schema+json") {
			t.Errorf("Accept %q", a)
		}
		writeJSON(w, 200, `{"type":"object","properties":{}}`)
	})
	s.mux.HandleFunc("/v1/cols/a%2Fb/items/c%20d", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, featurePage([]string{"c d"}, nil)["features"].([]any)[0])
	})
	s.mux.HandleFunc("/v1/cols/x/queryables", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, `[]`)
	})
	c := s.open("/v1")
	if q, err := c.Queryables(context.Background(), ""); err != nil || string(q) != `{"type":"object","properties":{}}` {
		t.Errorf("Queryables: %s, %v", q, err)
	}
	if it, err := c.Item(context.Background(), "a/b", "c d"); err != nil || it.ID != "c d" {
		t.Errorf("Item: %v", err)
	}
	var de *stac.DecodeError
	if _, err := c.Queryables(context.Background(), "x"); !errors.As(err, &de) {
		t.Errorf("Queryables of a non-object: %v", err)
	}
}

// A 2xx answer that is not the expected JSON is a DecodeError naming the
// URL, the content type and the start of the body.
func TestDecodeError(t *testing.T) {
	s := setup(t)
	s.landing("/v1", []string{"GET"})
	s.mux.HandleFunc("/v1/search", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte("<html><body>Maintenance\n until 10:00</body></html>"))
	})
	s.mux.HandleFunc("/v1/collections/bad", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, `{"type":"Collection","id":"bad","links":{"not":"a list"}}`)
	})
	c := s.open("/v1")
	var gotErr error
	for _, err := range c.Search(context.Background(), stac.SearchParams{Limit: 1}) {
		gotErr = err
	}
	var de *stac.DecodeError
	if !errors.As(gotErr, &de) || de.ContentType != "text/html" || de.Snippet != "<html><body>Maintenance until 10:00</body></html>" {
		t.Fatalf("error %#v", gotErr)
	}
	want := "GET " + s.URL + `/v1/search?limit=1: cannot decode the response (text/html, starting "<html><body>Maintenance until 10:00</body></html>"): jsontext: invalid character '<' at start of value`
	if gotErr.Error() != want {
		t.Errorf("error\n got %s\nwant %s", gotErr, want)
	}
	if _, err := c.Collection(context.Background(), "bad"); !errors.As(err, &de) || !strings.Contains(err.Error(), `within "/links"`) {
		t.Errorf("error %v", err)
	}
}
