package crawl

import (
	"net/url"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzDecode feeds decode documents a static catalog may hold.
func FuzzDecode(f *testing.F) {
	for _, seed := range []string{
		`{"type":"Catalog","id":"c","description":"","links":[{"rel":"child","href":"./a/catalog.json"}]}`,
		`{"type":"Collection","id":"c","extent":{"spatial":{"bbox":[[0,0,1,1]]},"temporal":{"interval":[[null,null]]}},"links":[]}`,
		`{"id":"old","extent":{},"links":[]}`,
		`{"type":"Feature","id":"i","geometry":null,"properties":{"datetime":"2020-01-01T00:00:00Z"}}`,
		`{"type":"FeatureCollection","features":[]}`,
		`[]`, `null`, `{"type":7}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := decode(body)
		if err != nil {
			return
		}
		n := 0
		for _, set := range []bool{r.Catalog != nil, r.Collection != nil, r.Item != nil} {
			if set {
				n++
			}
		}
		if n != 1 || r.Kind == KindUnknown {
			t.Fatalf("decode gave kind %v with %d documents set", r.Kind, n)
		}
		// What the walker does next with a decoded document must not
		// panic either.
		for _, l := range r.links() {
			if l != nil {
				_, _ = resolve(location{url: &url.URL{Scheme: "https", Host: "h", Path: "/c/catalog.json"}}, l.Href)
			}
		}
		if r.Item != nil {
			itemBound(r.Item)
			itemInterval(r.Item)
		}
	})
}

// FuzzResolve resolves hrefs found in remote and local catalogs.
func FuzzResolve(f *testing.F) {
	for _, seed := range []string{
		"./a/catalog.json", "../../x.json", "https://stac.example/a/../b.json#f", "file:///etc/passwd",
		"/abs/path.json", "a%20b.json", "http://[::1]:80/x", "HTTPS://Host:443/", "C:\\x.json", "%zz", "",
	} {
		f.Add(seed, false)
		f.Add(seed, true)
	}
	remote := location{url: &url.URL{Scheme: "https", Host: "stac.example", Path: "/cat/catalog.json"}}
	local := location{path: filepath.FromSlash("/data/cat/catalog.json")}
	f.Fuzz(func(t *testing.T, href string, fromLocal bool) {
		base := remote
		if fromLocal {
			base = local
		}
		loc, err := resolve(base, href)
		if err != nil {
			return
		}
		if !fromLocal && loc.local() {
			t.Fatalf("remote catalog resolved %q to local file %q", href, loc.path)
		}
		if loc.local() {
			return
		}
		if s := loc.url.Scheme; s != "http" && s != "https" {
			t.Fatalf("resolved %q to scheme %q", href, s)
		}
		// The key is stable: normalising a normalised URL changes nothing.
		again, err := url.Parse(loc.String())
		if err != nil {
			t.Fatalf("key %q does not parse: %v", loc, err)
		}
		if k := normalURL(again).String(); k != loc.String() && !strings.Contains(href, "%") {
			t.Fatalf("key of %q not stable: %q then %q", href, loc, k)
		}
	})
}
