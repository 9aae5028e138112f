package stac_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/stacq/stacq/stac"
)

// encodingCases are search parameters with their GET query and POST body as
// the item search spec and its extensions encode them.
var encodingCases = []struct {
	name   string
	params stac.SearchParams
	max    int
	get    url.Values
	post   string
}{
	{
		name:   "nothing",
		params: stac.SearchParams{},
		get:    url.Values{},
		post:   `{}`,
	},
	{
		name:   "collections and ids",
		params: stac.SearchParams{Collections: []string{"sentinel-2-l2a", "landsat-c2-l2"}, IDs: []string{"a", "b"}},
		get:    url.Values{"collections": {"sentinel-2-l2a,landsat-c2-l2"}, "ids": {"a,b"}},
		post:   `{"collections":["sentinel-2-l2a","landsat-c2-l2"],"ids":["a","b"]}`,
	},
	{
		name:   "bbox",
		params: stac.SearchParams{BBox: []float64{-73.21, 43.99, -73.12, 44.05}},
		get:    url.Values{"bbox": {"-73.21,43.99,-73.12,44.05"}},
		post:   `{"bbox":[-73.21,43.99,-73.12,44.05]}`,
	},
	{
		name:   "bbox with heights",
		params: stac.SearchParams{BBox: []float64{0, 1, -100, 2, 3, 1e4}},
		get:    url.Values{"bbox": {"0,1,-100,2,3,10000"}},
		post:   `{"bbox":[0,1,-100,2,3,10000]}`,
	},
	{
		name:   "intersects",
		params: stac.SearchParams{Intersects: jsontext.Value(`{"type": "Point",  "coordinates": [-105.1019, 40.1672]}`)},
		get:    url.Values{"intersects": {`{"type":"Point","coordinates":[-105.1019,40.1672]}`}},
		post:   `{"intersects":{"type":"Point","coordinates":[-105.1019,40.1672]}}`,
	},
	{
		name:   "datetime and limit",
		params: stac.SearchParams{Datetime: dt("2023-10-08T00:00:00Z/2023-10-08T23:59:59Z"), Limit: 50},
		get:    url.Values{"datetime": {"2023-10-08T00:00:00Z/2023-10-08T23:59:59Z"}, "limit": {"50"}},
		post:   `{"datetime":"2023-10-08T00:00:00Z/2023-10-08T23:59:59Z","limit":50}`,
	},
	{
		name:   "limit above max items",
		params: stac.SearchParams{Limit: 100},
		max:    7,
		get:    url.Values{"limit": {"7"}},
		post:   `{"limit":7}`,
	},
	{
		name:   "query",
		params: stac.SearchParams{Query: map[string]any{"gsd": map[string]any{"gte": jsontext.Value("0"), "lte": 1}, "platform": map[string]any{"eq": "sentinel-2a"}}},
		get:    url.Values{"query": {`{"gsd":{"gte":0,"lte":1},"platform":{"eq":"sentinel-2a"}}`}},
		post:   `{"query":{"gsd":{"gte":0,"lte":1},"platform":{"eq":"sentinel-2a"}}}`,
	},
	{
		name:   "CQL2 text filter",
		params: stac.SearchParams{Filter: "eo:cloud_cover < 20 AND platform = 'sentinel-2a'"},
		get:    url.Values{"filter": {"eo:cloud_cover < 20 AND platform = 'sentinel-2a'"}, "filter-lang": {"cql2-text"}},
		post:   `{"filter":"eo:cloud_cover < 20 AND platform = 'sentinel-2a'","filter-lang":"cql2-text"}`,
	},
	{
		name:   "CQL2 JSON filter",
		params: stac.SearchParams{Filter: `{"op": "lte", "args": [{"property": "eo:cloud_cover"}, 40]}`},
		get:    url.Values{"filter": {`{"op":"lte","args":[{"property":"eo:cloud_cover"},40]}`}, "filter-lang": {"cql2-json"}},
		post:   `{"filter":{"op":"lte","args":[{"property":"eo:cloud_cover"},40]},"filter-lang":"cql2-json"}`,
	},
	{
		name:   "explicit filter language",
		params: stac.SearchParams{Filter: `id = 'x'`, FilterLang: "CQL2-TEXT"},
		get:    url.Values{"filter": {"id = 'x'"}, "filter-lang": {"cql2-text"}},
		post:   `{"filter":"id = 'x'","filter-lang":"cql2-text"}`,
	},
	{
		name:   "sortby",
		params: stac.SearchParams{SortBy: []stac.SortBy{{Field: "properties.datetime", Direction: "desc"}, {Field: "id", Direction: "asc"}, {Field: "collection"}}},
		get:    url.Values{"sortby": {"-properties.datetime,+id,+collection"}},
		post:   `{"sortby":[{"field":"properties.datetime","direction":"desc"},{"field":"id","direction":"asc"},{"field":"collection","direction":"asc"}]}`,
	},
	{
		name:   "fields",
		params: stac.SearchParams{Fields: &stac.Fields{Include: []string{"id", "properties.datetime"}, Exclude: []string{"assets", "geometry"}}},
		get:    url.Values{"fields": {"id,properties.datetime,-assets,-geometry"}},
		post:   `{"fields":{"include":["id","properties.datetime"],"exclude":["assets","geometry"]}}`,
	},
	{
		name:   "fields exclude only",
		params: stac.SearchParams{Fields: &stac.Fields{Exclude: []string{"geometry", "assets"}}},
		get:    url.Values{"fields": {"-geometry,-assets"}},
		post:   `{"fields":{"include":[],"exclude":["geometry","assets"]}}`,
	},
	{
		name:   "free text",
		params: stac.SearchParams{Q: "sentinel,landsat"},
		get:    url.Values{"q": {"sentinel,landsat"}},
		post:   `{"q":"sentinel,landsat"}`,
	},
}

func TestSearchGETEncoding(t *testing.T) {
	s := setup(t)
	s.landing("/v1", []string{"GET"})
	s.mux.HandleFunc("/v1/search", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, "GET")
		writeJSON(w, 200, featurePage(nil, nil))
	})
	c := s.open("/v1")
	for _, tt := range encodingCases {
		t.Run(tt.name, func(t *testing.T) {
			before := len(s.seen())
			for _, err := range c.SearchPages(context.Background(), tt.params, stac.WithMaxItems(tt.max)) {
				if err != nil {
					t.Fatal(err)
				}
			}
			reqs := s.seen()[before:]
			if len(reqs) != 1 {
				t.Fatalf("%d requests, want 1", len(reqs))
			}
			if want := tt.get.Encode(); reqs[0].Query != want {
				t.Errorf("query\n got %s\nwant %s", reqs[0].Query, want)
			}
			if reqs[0].Body != "" {
				t.Errorf("GET with a body %q", reqs[0].Body)
			}
		})
	}
}

// The raw form of a few GET parameters, spelled out: '+' of sortby must be
// escaped, or servers read a space.
func TestSearchGETRawQuery(t *testing.T) {
	s := setup(t)
	s.landing("/v1", []string{"GET"})
	s.mux.HandleFunc("/v1/search", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, featurePage(nil, nil))
	})
	c := s.open("/v1")
	for _, err := range c.Search(context.Background(), stac.SearchParams{
		Collections: []string{"a", "b"}, SortBy: []stac.SortBy{{Field: "id"}, {Field: "datetime", Direction: "desc"}},
		Query: map[string]any{"eo:cloud_cover": map[string]any{"lt": 10}}, Limit: 5,
	}) {
		if err != nil {
			t.Fatal(err)
		}
	}
	want := "collections=a%2Cb&limit=5&query=%7B%22eo%3Acloud_cover%22%3A%7B%22lt%22%3A10%7D%7D&sortby=%2Bid%2C-datetime"
	if got := s.seenTo("/v1/search")[0].Query; got != want {
		t.Errorf("query\n got %s\nwant %s", got, want)
	}
}

func TestSearchPOSTEncoding(t *testing.T) {
	s := setup(t)
	s.landing("/v1", []string{"GET", "POST"})
	s.mux.HandleFunc("/v1/search", func(w http.ResponseWriter, r *http.Request) {
		testMethod(t, r, "POST")
		if ct := r.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type %q", ct)
		}
		writeJSON(w, 200, featurePage(nil, nil))
	})
	c := s.open("/v1")
	for _, tt := range encodingCases {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.params
			if p.Filter != "" && p.Method == "" {
				p.Method = "POST" // a CQL2-text filter would choose GET
			}
			before := len(s.seen())
			for _, err := range c.SearchPages(context.Background(), p, stac.WithMaxItems(tt.max)) {
				if err != nil {
					t.Fatal(err)
				}
			}
			reqs := s.seen()[before:]
			if len(reqs) != 1 {
				t.Fatalf("%d requests, want 1", len(reqs))
			}
			if reqs[0].Body != tt.post {
				t.Errorf("body\n got %s\nwant %s", reqs[0].Body, tt.post)
			}
			if reqs[0].Query != "" {
				t.Errorf("POST with a query %q", reqs[0].Query)
			}
		})
	}
}

// The bodies pystac-client sent in the recordings are what the client
// sends for the same search.
func TestSearchPOSTMatchesRecorded(t *testing.T) {
	s := setup(t)
	s.replay()
	es := s.open("/v1")
	pc := s.open("/api/stac/v1")
	tests := []struct {
		c      *stac.Client
		params stac.SearchParams
		max    int
		n      int
	}{
		{es, stac.SearchParams{Collections: []string{"cop-dem-glo-30"}, Fields: &stac.Fields{Exclude: []string{"geometry", "assets"}}}, 3, 3},
		{es, stac.SearchParams{Filter: `{"op":"lte","args":[{"property":"eo:cloud_cover"},40]}`}, 2, 2},
		{pc, stac.SearchParams{Collections: []string{"naip"}, BBox: []float64{-73.21, 43.99, -73.12, 44.05}, Query: map[string]any{"gsd": map[string]any{"eq": 0.6}}}, 1, 1},
		{pc, stac.SearchParams{Collections: []string{"naip"}, BBox: []float64{-73.21, 43.99, -73.12, 44.05}, Query: map[string]any{"gsd": map[string]any{"gte": 0, "lte": 1}}}, 1, 1},
		{pc, stac.SearchParams{Collections: []string{"naip"}, Intersects: jsontext.Value(`{"type":"Polygon","coordinates":[[[-73.21,43.99],[-73.21,44.05],[-73.12,44.05],[-73.12,43.99],[-73.21,43.99]]]}`)}, 1, 1},
		{pc, stac.SearchParams{Collections: []string{"sentinel-2-l2a"}, Datetime: dt("2019-01-01T00:00:01Z/2019-01-01T00:00:10Z")}, 0, 33},
	}
	for _, tt := range tests {
		got := ids(t, tt.c.Search(context.Background(), tt.params, stac.WithMaxItems(tt.max)))
		if len(got) != tt.n {
			t.Errorf("%+v: %d items, want %d", tt.params, len(got), tt.n)
		}
	}
}

func TestSearchMethodChoice(t *testing.T) {
	tests := []struct {
		name      string
		advertise []string
		params    stac.SearchParams
		want      string
	}{
		{"GET and POST advertised", []string{"GET", "POST"}, stac.SearchParams{}, "POST"},
		{"POST only", []string{"POST"}, stac.SearchParams{}, "POST"},
		{"GET only", []string{"GET"}, stac.SearchParams{}, "GET"},
		{"no search link", nil, stac.SearchParams{}, "GET"},
		{"CQL2 text goes by GET", []string{"GET", "POST"}, stac.SearchParams{Filter: "id = 'a'"}, "GET"},
		{"CQL2 text, POST only", []string{"POST"}, stac.SearchParams{Filter: "id = 'a'"}, "POST"},
		{"CQL2 JSON goes by POST", []string{"GET", "POST"}, stac.SearchParams{Filter: `{"op":"=","args":[{"property":"id"},"a"]}`}, "POST"},
		{"forced GET", []string{"GET", "POST"}, stac.SearchParams{Method: "get"}, "GET"},
		{"forced POST where only GET is advertised", []string{"GET"}, stac.SearchParams{Method: "POST"}, "POST"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := setup(t)
			s.landing("/v1", tt.advertise)
			s.mux.HandleFunc("/v1/search", func(w http.ResponseWriter, r *http.Request) {
				writeJSON(w, 200, featurePage([]string{"a"}, nil))
			})
			c := s.open("/v1")
			ids(t, c.Search(context.Background(), tt.params))
			reqs := s.seenTo("/v1/search")
			if len(reqs) != 1 || reqs[0].Method != tt.want {
				t.Errorf("requests %+v, want one %s", reqs, tt.want)
			}
		})
	}
}

func TestSearchInvalidParams(t *testing.T) {
	s := setup(t)
	s.landing("/v1", []string{"GET", "POST"})
	c := s.open("/v1")
	tests := []struct {
		params stac.SearchParams
		want   string
	}{
		{stac.SearchParams{BBox: []float64{1, 2, 3}}, "bbox: expected 4 or 6 numbers, got 3"},
		{stac.SearchParams{Limit: -1}, "limit: expected a positive page size, got -1"},
		{stac.SearchParams{Method: "PUT"}, `method: expected GET or POST, got "PUT"`},
		{stac.SearchParams{Filter: "x=1", FilterLang: "ecql"}, `filter-lang: expected cql2-text or cql2-json, got "ecql"`},
		{stac.SearchParams{Filter: `{"op":`}, "filter: expected a CQL2-JSON object, got invalid JSON"},
		{stac.SearchParams{Intersects: jsontext.Value(`{"type":`)}, "intersects: expected JSON"},
		{stac.SearchParams{SortBy: []stac.SortBy{{Field: "id", Direction: "up"}}}, `direction: expected asc or desc, got "up"`},
	}
	for _, tt := range tests {
		for _, m := range []string{"GET", "POST"} {
			if tt.params.Method == "" {
				tt.params.Method = m
			}
			var err error
			for _, err = range c.Search(context.Background(), tt.params) {
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("%+v: error %v, want %q", tt.params, err, tt.want)
			}
			if _, err := c.Matched(context.Background(), tt.params); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Matched %+v: error %v, want %q", tt.params, err, tt.want)
			}
		}
	}
	if n := len(s.seenTo("/v1/search")); n != 0 {
		t.Errorf("%d requests sent for invalid parameters", n)
	}
}

// Matched asks for one item, with exactly one request, by GET or POST.
func TestMatched(t *testing.T) {
	s := setup(t)
	s.replay()
	for _, tt := range []struct {
		root   string
		params stac.SearchParams
		want   int64
	}{
		// Earth Search counts (numberMatched and context.matched).
		{"/v1", stac.SearchParams{Collections: []string{"cop-dem-glo-30"}, Limit: 100}, 26450},
	} {
		c := s.open(tt.root)
		before := len(s.seen())
		n, err := c.Matched(context.Background(), tt.params)
		if err != nil || n != tt.want {
			t.Errorf("Matched = %d, %v; want %d", n, err, tt.want)
		}
		if reqs := s.seen()[before:]; len(reqs) != 1 {
			t.Errorf("%d requests, want 1", len(reqs))
		}
	}
	// Planetary Computer does not count: ErrNoCount, after one request.
	c := s.open("/api/stac/v1")
	before := len(s.seen())
	if _, err := c.Matched(context.Background(), stac.SearchParams{Collections: []string{"naip"}}); !errors.Is(err, stac.ErrNoCount) {
		t.Errorf("error %v, want ErrNoCount", err)
	}
	if reqs := s.seen()[before:]; len(reqs) != 1 || !jsonEqual(t, reqs[0].Body, `{"collections":["naip"],"limit":1}`) {
		t.Errorf("requests %+v", reqs)
	}
}

func TestMatchedGET(t *testing.T) {
	s := setup(t)
	s.landing("/v1", []string{"GET"})
	s.mux.HandleFunc("/v1/search", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, featurePage([]string{"a"}, map[string]any{"context": map[string]any{"matched": 1234, "returned": 1, "limit": 1}}))
	})
	c := s.open("/v1")
	n, err := c.Matched(context.Background(), stac.SearchParams{Collections: []string{"c"}, Limit: 500})
	if err != nil || n != 1234 {
		t.Fatalf("Matched = %d, %v", n, err)
	}
	reqs := s.seenTo("/v1/search")
	if len(reqs) != 1 || reqs[0].Query != "collections=c&limit=1" {
		t.Errorf("requests %+v", reqs)
	}
}
