package stac

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	jsonv2 "github.com/go-json-experiment/json"
)

func TestParseSortBy(t *testing.T) {
	tests := []struct {
		in   string
		want []SortBy
		err  string
	}{
		{"-properties.datetime,+id", []SortBy{{"properties.datetime", "desc"}, {"id", "asc"}}, ""},
		{"datetime", []SortBy{{"datetime", "asc"}}, ""},
		{" -datetime , collection ", []SortBy{{"datetime", "desc"}, {"collection", "asc"}}, ""},
		{"datetime:desc,id:ASC", []SortBy{{"datetime", "desc"}, {"id", "asc"}}, ""},
		{"eo:cloud_cover", []SortBy{{"eo:cloud_cover", "asc"}}, ""},
		{"-properties.eo:cloud_cover", []SortBy{{"properties.eo:cloud_cover", "desc"}}, ""},
		{"eo:cloud_cover:desc", []SortBy{{"eo:cloud_cover", "desc"}}, ""},
		{"", nil, `expected sort keys like "-properties.datetime,+id", got an empty string`},
		{"a,,b", nil, `sort key 2: empty field name; expected "field", "+field", "-field" or "field:desc"`},
		{"-", nil, "sort key 1: empty field name"},
		{"--a", nil, `sort key 1: field name "-a" starts with '-'`},
		{"a b", nil, `sort key 1: field name "a b" has a space`},
		{":desc", nil, "sort key 1: empty field name"},
	}
	for _, tt := range tests {
		got, err := ParseSortBy(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseSortBy(%q) error %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseSortBy(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestParseFields(t *testing.T) {
	tests := []struct {
		in   string
		want *Fields
		err  string
	}{
		{"id,-geometry,+properties.x", &Fields{Include: []string{"id", "properties.x"}, Exclude: []string{"geometry"}}, ""},
		{"-assets,-links", &Fields{Exclude: []string{"assets", "links"}}, ""},
		{" id ", &Fields{Include: []string{"id"}}, ""},
		{"properties.eo:cloud_cover", &Fields{Include: []string{"properties.eo:cloud_cover"}}, ""},
		{"", nil, "got an empty string"},
		{"id,", nil, "field 2: empty field name"},
		{"+", nil, "field 1: empty field name"},
		{"a b", nil, "has a space"},
	}
	for _, tt := range tests {
		got, err := ParseFields(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseFields(%q) error %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseFields(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
}

func TestParseQuery(t *testing.T) {
	tests := []struct {
		in   []string
		want string // JSON
		err  string
	}{
		{[]string{"eo:cloud_cover<10"}, `{"eo:cloud_cover":{"lt":10}}`, ""},
		{[]string{"eo:cloud_cover<=10"}, `{"eo:cloud_cover":{"lte":10}}`, ""},
		{[]string{"platform=sentinel-2a"}, `{"platform":{"eq":"sentinel-2a"}}`, ""},
		{[]string{"gsd>=10"}, `{"gsd":{"gte":10}}`, ""},
		{[]string{"gsd>0.5"}, `{"gsd":{"gt":0.5}}`, ""},
		{[]string{"x!=y"}, `{"x":{"neq":"y"}}`, ""},
		{[]string{"x<>y"}, `{"x":{"neq":"y"}}`, ""},
		{[]string{"proj:epsg=32633"}, `{"proj:epsg":{"eq":32633}}`, ""},
		{[]string{"a>1", "a<5"}, `{"a":{"gt":1,"lt":5}}`, ""},
		{[]string{" a > -1e3 "}, `{"a":{"gt":-1e3}}`, ""},
		{[]string{`id="10"`}, `{"id":{"eq":"10"}}`, ""},
		{[]string{"id=010"}, `{"id":{"eq":"010"}}`, ""},
		{[]string{"s2:mgrs_tile=33UUP"}, `{"s2:mgrs_tile":{"eq":"33UUP"}}`, ""},
		{[]string{"title=a=b"}, `{"title":{"eq":"a=b"}}`, ""},
		{[]string{`{"eo:cloud_cover": {"lt": 10}}`, "eo:cloud_cover>=2"}, `{"eo:cloud_cover":{"lt":10,"gte":2}}`, ""},
		{[]string{`{"gsd": {"eq": 0.6}}`, `{"platform": {"in": ["a", "b"]}}`}, `{"gsd":{"eq":0.6},"platform":{"in":["a","b"]}}`, ""},
		{[]string{"a<1", "a<2"}, `{"a":{"lt":2}}`, ""},
		{nil, "", "got none"},
		{[]string{"cloudy"}, "", `expected "property<op>value"`},
		{[]string{"<10"}, "", `expected a property name before "<"`},
		{[]string{"a<"}, "", `expected a value after "<"`},
		{[]string{"a!b"}, "", "unknown operator"},
		{[]string{`{"a": 1}`}, "", `property "a": expected an object of operators like {"lt": 10}, got 1`},
		{[]string{`{"a": {"lt": 1}`}, "", "expected a JSON object like"},
		{[]string{`{"a": {"lt": 1}} x`}, "", "expected one JSON object"},
		{[]string{"a=\x8c"}, "", "expected UTF-8 text"},
	}
	for _, tt := range tests {
		got, err := ParseQuery(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseQuery(%q) error %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseQuery(%q): %v", tt.in, err)
			continue
		}
		b, err := json.Marshal(got)
		if err != nil {
			t.Fatal(err)
		}
		var a, w any
		json.Unmarshal(b, &a)
		json.Unmarshal([]byte(tt.want), &w)
		if !reflect.DeepEqual(a, w) {
			t.Errorf("ParseQuery(%q) = %s, want %s", tt.in, b, tt.want)
		}
		// Numbers are sent as they were written.
		if strings.Contains(tt.want, "-1e3") && !strings.Contains(string(b), "-1e3") {
			t.Errorf("number rewritten: %s", b)
		}
	}
}

func TestConforms(t *testing.T) {
	classes := []string{
		"https://api.stacspec.org/v1.0.0/core",
		"https://api.stacspec.org/v1.0.0-rc.1/item-search",
		"https://api.stacspec.org/v1.0.0-rc.1/item-search#filter",
		"https://api.stacspec.org/v1.0.0-beta.5/ogcapi-features#sort",
		"https://api.stacspec.org/v1.0.0/ogcapi-features",
		"https://api.stacspec.org/v1.0.0-rc.1/collection-search",
		"https://api.stacspec.org/v1.0.0-rc.1/collection-search#free-text",
		"https://api.stacspec.org/v1.0.0-rc.1/item-search#context",
		"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
	}
	tests := map[string]bool{
		"core": true, "item-search": true, "filter": true, "sort": true, "features": true,
		"ogcapi-features": true, "collection-search": true, "free-text": true, "context": true,
		"collections": false, "query": false, "fields": false, "transaction": false, "": false,
		"item-search#filter":   true,
		"item-search#sort":     false,
		"ogcapi-features#sort": true,
		"https://api.stacspec.org/v1.0.0-rc.1/item-search":            true,
		"https://api.stacspec.org/v1.0.0-rc.1/item-search/":           true,
		"https://api.stacspec.org/v1.0.0/item-search":                 false,
		"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core": true,
		"filter#filter": false,
		"v1.0.0/core":   false,
		"stacspec":      false,
	}
	for class, want := range tests {
		if got := conforms(classes, class); got != want {
			t.Errorf("Conforms(%q) = %v, want %v", class, got, want)
		}
	}
	// OGC API - Features - Part 3 counts as filter.
	if !conforms([]string{"http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter"}, "filter") {
		t.Error("OGC filter class not matched by \"filter\"")
	}
}

// The values of the query shorthand as they are sent: quotes make
// strings, true, false and null are JSON literals, numbers stay as
// written, anything else is the string it is.
func TestParseQueryShorthandValues(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{`platform=="sentinel-2a"`, `{"platform":{"eq":"sentinel-2a"}}`},
		{`platform=='sentinel-2a'`, `{"platform":{"eq":"sentinel-2a"}}`},
		{`platform='sentinel-2a'`, `{"platform":{"eq":"sentinel-2a"}}`},
		{`platform="sentinel-2a"`, `{"platform":{"eq":"sentinel-2a"}}`},
		{`platform = "sentinel-2a" `, `{"platform":{"eq":"sentinel-2a"}}`},
		{`x==y`, `{"x":{"eq":"y"}}`},
		{`sat:orbit_state!='ascending'`, `{"sat:orbit_state":{"neq":"ascending"}}`},
		{`flag=true`, `{"flag":{"eq":true}}`},
		{`flag==false`, `{"flag":{"eq":false}}`},
		{`flag!=null`, `{"flag":{"neq":null}}`},
		{`flag="true"`, `{"flag":{"eq":"true"}}`},
		{`flag='null'`, `{"flag":{"eq":"null"}}`},
		{`flag=True`, `{"flag":{"eq":"True"}}`},
		{`id='10'`, `{"id":{"eq":"10"}}`},
		{`gsd=1.50`, `{"gsd":{"eq":1.50}}`},
		{`gsd<=-0`, `{"gsd":{"lte":-0}}`},
		{`n=1E+2`, `{"n":{"eq":1E+2}}`},
		{`n=0x10`, `{"n":{"eq":"0x10"}}`},
		{`n=.5`, `{"n":{"eq":".5"}}`},
		{`n=+1`, `{"n":{"eq":"+1"}}`},
		{`q="a \"quoted\" word"`, `{"q":{"eq":"a \"quoted\" word"}}`},
		{`q='it''s'`, `{"q":{"eq":"it''s"}}`},
		{`q='unbalanced`, `{"q":{"eq":"'unbalanced"}}`},
		{`q="`, `{"q":{"eq":"\""}}`},
		{`q=''`, `{"q":{"eq":""}}`},
		{`q=a b`, `{"q":{"eq":"a b"}}`},
	} {
		q, err := ParseQuery([]string{tt.in})
		if err != nil {
			t.Errorf("ParseQuery(%q): %v", tt.in, err)
			continue
		}
		// Compared as sent: numbers keep their text.
		b, err := jsonv2.Marshal(q, encodeOpts, jsonv2.Deterministic(true))
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != tt.want {
			t.Errorf("ParseQuery(%q) sends %s, want %s", tt.in, b, tt.want)
		}
	}
}
