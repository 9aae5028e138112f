package stac_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/stacq/stacq/stac"
)

func TestOpenRecorded(t *testing.T) {
	s := setup(t)
	s.replay()
	tests := []struct {
		root     string
		title    string
		conforms map[string]bool
	}{
		{"/v1", "Earth Search by Element 84", map[string]bool{
			"core": true, "item-search": true, "collections": true, "features": true, "ogcapi-features": true,
			"sort": true, "fields": true, "query": true, "item-search#sort": true,
			"filter": false, "free-text": false, "collection-search": false, "context": false,
			"https://api.stacspec.org/v1.0.0/item-search":      true,
			"https://api.stacspec.org/v1.0.0-rc.1/item-search": false, // exact URIs match exactly
		}},
		{"/api/stac/v1", "Microsoft Planetary Computer STAC API", map[string]bool{
			"core": true, "item-search": true, "filter": true, "item-search#filter": true,
			"query": true, "sort": true, "fields": true, "collection-search": false,
			"http://www.opengis.net/spec/cql2/1.0/conf/cql2-text": true,
		}},
		{"/api/stac/v1/", "Microsoft Planetary Computer STAC API", map[string]bool{"item-search": true}},
	}
	for _, tt := range tests {
		t.Run(tt.root, func(t *testing.T) {
			c := s.open(tt.root)
			if got := c.Landing().Title; got != tt.title {
				t.Errorf("title %q, want %q", got, tt.title)
			}
			if len(c.Conformance()) < 10 {
				t.Errorf("conformance %v", c.Conformance())
			}
			for class, want := range tt.conforms {
				if got := c.Conforms(class); got != want {
					t.Errorf("Conforms(%q) = %v, want %v", class, got, want)
				}
			}
			if c.SentinelHub() {
				t.Error("SentinelHub() = true")
			}
		})
	}
}

// A landing page without conformsTo but with a conformance link: the
// classes come from /conformance, in one more request.
func TestOpenConformanceLink(t *testing.T) {
	s := setup(t)
	s.mux.HandleFunc("/api", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, `{"type":"Catalog","id":"x","description":"d","stac_version":"1.0.0","links":[
			{"rel":"conformance","href":"api/conformance"},
			{"rel":"search","href":"./api/search","method":"GET"}]}`)
	})
	s.mux.HandleFunc("/api/conformance", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, `{"conformsTo":["https://api.stacspec.org/v1.0.0-rc.1/item-search","https://api.stacspec.org/v1.0.0-rc.1/core"]}`)
	})
	c := s.open("/api")
	if !c.Conforms("item-search") || !c.Conforms("core") || c.Conforms("collections") {
		t.Errorf("conformance %v", c.Conformance())
	}
	if n := len(s.seen()); n != 2 {
		t.Errorf("%d requests, want 2", n)
	}
}

func TestOpenNotSTAC(t *testing.T) {
	s := setup(t)
	s.replay() // the static catalog and its collection
	s.mux.HandleFunc("/html", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte("<!DOCTYPE html>\n<html><head><title>Welcome</title></head>\n<body>hello</body></html>"))
	})
	s.mux.HandleFunc("/html-as-json", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, "  <html>oops</html>")
	})
	s.mux.HandleFunc("/missing", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 404, `{"code":"NotFound","description":"Not Found"}`)
	})
	s.mux.HandleFunc("/json", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, `{"hello":"world","links":[{"rel":"self","href":"/json"}]}`)
	})
	s.mux.HandleFunc("/array", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, `[1,2,3]`)
	})
	s.mux.HandleFunc("/text", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Write([]byte("just text"))
	})
	s.mux.HandleFunc("/item", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, featurePage([]string{"a"}, nil)["features"].([]any)[0])
	})
	base := "/stac-utils/pystac/v1.9.0/docs/example-catalog/"
	tests := []struct {
		path   string
		reason string
		is404  bool
	}{
		{base + "catalog.json", "static catalog, not a STAC API; use crawl", false},
		{base + "landsat-8-l1/collection.json", "a STAC Collection, not a STAC API landing page; use crawl", false},
		{"/item", "a STAC Item, not a STAC API landing page", false},
		{"/html", `an HTML page (text/html), not a STAC API landing page: "<!DOCTYPE html> <html><head><title>Welcome</title></head> <body>hello</body></html>"`, false},
		{"/html-as-json", "an HTML page (application/json), not a STAC API landing page", false},
		{"/missing", "HTTP 404 Not Found: no STAC API landing page here", true},
		{"/json", "JSON that is not STAC", false},
		{"/array", "not JSON (application/json), not a STAC API", false},
		{"/text", `not JSON (text/plain), not a STAC API: "just text"`, false},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			_, err := stac.Open(context.Background(), s.URL+tt.path, stac.WithHTTPClient(s.Client()))
			var ns *stac.NotSTACError
			if !errors.As(err, &ns) {
				t.Fatalf("error %v (%T), want a *NotSTACError", err, err)
			}
			if !strings.HasPrefix(ns.Reason, tt.reason) {
				t.Errorf("reason %q, want %q", ns.Reason, tt.reason)
			}
			if ns.URL != s.URL+tt.path || !strings.HasPrefix(err.Error(), s.URL+tt.path+": ") {
				t.Errorf("URL %q, error %q", ns.URL, err)
			}
			if got := errors.Is(err, stac.ErrNotFound); got != tt.is404 {
				t.Errorf("errors.Is(err, ErrNotFound) = %v", got)
			}
		})
	}
}

// Server failures at Open are errors of the server, not "not STAC".
func TestOpenHTTPErrors(t *testing.T) {
	s := setup(t)
	s.mux.HandleFunc("/down", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(502)
		w.Write([]byte("<html><body><h1>502 Bad Gateway</h1></body></html>"))
	})
	s.mux.HandleFunc("/private", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 401, `{"error":"invalid_token","error_description":"The access token expired"}`)
	})
	_, err := stac.Open(context.Background(), s.URL+"/down", stac.WithHTTPClient(s.Client()))
	var he *stac.HTTPError
	var ns *stac.NotSTACError
	if !errors.As(err, &he) || errors.As(err, &ns) || he.StatusCode != 502 {
		t.Fatalf("error %v", err)
	}
	if want := `GET ` + s.URL + `/down: 502 Bad Gateway: "<html><body><h1>502 Bad Gateway</h1></body></html>"`; !strings.HasSuffix(err.Error(), want) {
		t.Errorf("error %q, want suffix %q", err, want)
	}
	_, err = stac.Open(context.Background(), s.URL+"/private?api_key=SECRET", stac.WithHTTPClient(s.Client()))
	if !errors.Is(err, stac.ErrUnauthorized) || errors.As(err, &ns) {
		t.Fatalf("error %v", err)
	}
	if strings.Contains(err.Error(), "SECRET") || !strings.Contains(err.Error(), "invalid_token: The access token expired") {
		t.Errorf("error %q", err)
	}
}

func TestOpenBadURL(t *testing.T) {
	for _, u := range []string{"", "ftp://x/y", "earth-search.aws.element84.com/v1", "http://"} {
		if _, err := stac.Open(context.Background(), u); err == nil || !strings.Contains(err.Error(), "expected an http(s) URL") {
			t.Errorf("Open(%q): %v", u, err)
		}
	}
}

// Static headers, the User-Agent and the Accept header reach the server on
// every request, paging included.
func TestHeaders(t *testing.T) {
	s := setup(t)
	s.landing("/v1", []string{"GET"})
	s.mux.HandleFunc("/v1/search", func(w http.ResponseWriter, r *http.Request) {
		links := []any{}
		if r.URL.Query().Get("token") == "" {
			links = append(links, map[string]any{"rel": "next", "href": s.URL + "/v1/search?token=2"})
		}
		writeJSON(w, 200, featurePage([]string{"a" + r.URL.Query().Get("token")}, map[string]any{"links": links}))
	})
	c := s.open("/v1", stac.WithHeader("X-Team", "a"), stac.WithHeader("X-Team", "b"), stac.WithUserAgent("stacq-test/1"))
	if got := ids(t, c.Search(context.Background(), stac.SearchParams{})); len(got) != 2 {
		t.Fatalf("items %v", got)
	}
	reqs := s.seen()
	if len(reqs) != 3 {
		t.Fatalf("%d requests", len(reqs))
	}
	for _, r := range reqs {
		if got := r.Header.Values("X-Team"); len(got) != 2 || got[0] != "a" || got[1] != "b" {
			t.Errorf("%s: X-Team %q", r.Path, got)
		}
		if got := r.Header.Get("User-Agent"); got != "stacq-test/1" {
			t.Errorf("%s: User-Agent %q", r.Path, got)
		}
		if got := r.Header.Get("Accept"); got != "application/geo+json, application/json;q=0.9" {
			t.Errorf("%s: Accept %q", r.Path, got)
		}
		if got := r.Header.Get("Accept-Encoding"); got != "gzip" {
			t.Errorf("%s: Accept-Encoding %q, want the transport's gzip", r.Path, got)
		}
	}
}

// Static headers often carry API keys: they go to the API's hosts only,
// not to another host that a next link points to.
func TestStaticHeadersStayOnAPIHosts(t *testing.T) {
	other := setup(t)
	other.mux.HandleFunc("/page2", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, featurePage([]string{"b"}, nil))
	})
	s := setup(t)
	s.landing("/v1", []string{"GET"})
	s.mux.HandleFunc("/v1/search", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, featurePage([]string{"a"}, map[string]any{"links": []any{
			map[string]any{"rel": "next", "href": other.URL + "/page2", "headers": map[string]any{"X-Page": "2"}},
		}}))
	})
	c := s.open("/v1", stac.WithHeader("X-Api-Key", "SECRET"))
	if got := ids(t, c.Search(context.Background(), stac.SearchParams{})); len(got) != 2 {
		t.Fatalf("items %v", got)
	}
	if r := s.seenTo("/v1/search"); len(r) != 1 || r[0].Header.Get("X-Api-Key") != "SECRET" {
		t.Errorf("API host requests %+v", r)
	}
	r := other.seenTo("/page2")
	if len(r) != 1 || r[0].Header.Get("X-Api-Key") != "" || r[0].Header.Get("X-Page") != "2" {
		t.Errorf("other host requests %+v", r)
	}
}
