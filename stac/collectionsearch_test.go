package stac

import (
	"testing"
)

func TestTextQuery(t *testing.T) {
	fields := [][]string{words("Sentinel-2 Level-2A"), words("Copernicus Sentinel-2 surface reflectance"), words("sentinel, earth observation, esa")}
	for _, tc := range []struct {
		q    string
		want bool
	}{
		{"sentinel", true},
		{"SENTINEL", true},
		{"landsat", false},
		{"sentinel landsat", false}, // both required
		{"sentinel +reflectance", true},
		{"sentinel, landsat", true},
		{"landsat, esa", true},
		{"sentinel -esa", false},
		{"-landsat", false}, // nothing required: no match
		{`"sentinel-2"`, true},
		{`"level-2a"`, true},
		{`"2 level"`, true},
		{`"level 2 sentinel"`, false},
		{`-"earth observation" sentinel`, false},
		{"(landsat, esa) sentinel", true},
		{"(landsat, naip) sentinel", false},
		{"sent", false}, // whole words
		{"", false},
		{`"unclosed`, false},
		{"((", false},
	} {
		if got := parseTextQuery(tc.q).match(fields); got != tc.want {
			t.Errorf("%q: match %v, want %v", tc.q, got, tc.want)
		}
	}
}

// A free-text query from the command line never panics, whatever it holds.
func FuzzTextQuery(f *testing.F) {
	for _, s := range []string{"sentinel", `"a b" -c, (d +e)`, "((", `-"`, "+", ",,", `"`, "a)(b"} {
		f.Add(s)
	}
	fields := [][]string{words("Sentinel-2 Level-2A"), words("a b c d e")}
	f.Fuzz(func(t *testing.T, q string) {
		parseTextQuery(q).match(fields)
	})
}

func TestConformsOldURIs(t *testing.T) {
	beta := []string{
		"http://stacspec.org/spec/api/1.0.0-beta.1/core",
		"http://stacspec.org/spec/api/1.0.0-beta.1/req/stac-search",
		"http://stacspec.org/spec/api/1.0.0-beta.1/req/context",
		"http://stacspec.org/spec/api/1.0.0-beta.1/req/fields",
		"http://stacspec.org/spec/api/1.0.0-beta.1/req/query",
		"http://stacspec.org/spec/api/1.0.0-beta.1/req/sort",
	}
	for _, class := range []string{"core", "item-search", "context", "fields", "query", "sort"} {
		if !conforms(beta, class) {
			t.Errorf("1.0.0-beta.1 URIs: %s not recognised", class)
		}
	}
	for _, class := range []string{"filter", "collections", "collection-search"} {
		if conforms(beta, class) {
			t.Errorf("1.0.0-beta.1 URIs: %s recognised, not advertised", class)
		}
	}
	for _, uri := range []string{
		"https://api.stacspec.org/v1.0.0-rc.1/item-search#filter",
		"https://api.stacspec.org/v1.0.0-beta.4/item-search#filter",
		"https://api.stacspec.org/v1.1.0/item-search#filter",
	} {
		if !conforms([]string{uri}, "filter") || !conforms([]string{uri}, "item-search#filter") {
			t.Errorf("%s: filter not recognised", uri)
		}
	}
}
