package stac

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/stacq/stacq/internal/rawjson"
)

// recordedPages are the recorded search and items responses.
func recordedPages(tb testing.TB) map[string][]byte {
	tb.Helper()
	files, _ := filepath.Glob("../testdata/recorded/*.json")
	pages := map[string][]byte{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		var probe map[string]json.RawMessage
		if json.Unmarshal(data, &probe) == nil && probe["features"] != nil {
			pages[filepath.Base(f)] = data
		}
	}
	if len(pages) == 0 {
		tb.Fatal("no recorded pages")
	}
	return pages
}

// A raw page holds the same items, links and counts as the typed decoding
// of the same recorded response.
func TestRawPageMatchesTypedDecoding(t *testing.T) {
	for name, data := range recordedPages(t) {
		t.Run(name, func(t *testing.T) {
			var want ItemCollection
			if err := json.Unmarshal(data, &want); err != nil {
				t.Fatal(err)
			}
			raw, err := decodeRawPage(data)
			if err != nil {
				t.Fatal(err)
			}
			if len(raw.Items) != len(want.Features) {
				t.Fatalf("%d items, want %d", len(raw.Items), len(want.Features))
			}
			for i, it := range raw.Items {
				if it.ID != want.Features[i].ID || it.Collection != want.Features[i].Collection {
					t.Fatalf("item %d: %s/%s, want %s/%s", i, it.Collection, it.ID, want.Features[i].Collection, want.Features[i].ID)
				}
			}
			got, err := raw.ItemCollection()
			if err != nil {
				t.Fatal(err)
			}
			if want.Type == "" {
				got.Type = ""
			}
			if !reflect.DeepEqual(got, &want) {
				t.Fatalf("decoded raw page differs from the typed decoding")
			}
		})
	}
}

func TestRawPageErrors(t *testing.T) {
	for _, tc := range []struct{ body, want string }{
		{`{"features":[{"id":"a"},]}`, "invalid character ']'"},
		{`{"features":{"id":"a"}}`, `"features": expected an array`},
		{`{"features":[1]}`, "feature 0: expected an object"},
		{`{"features":[{"id":"a"},{"id":7}]}`, `feature 1: field "id": expected a string`},
		{`{"features":[],"links":{}}`, "links"},
		{`[]`, "expected an object"},
		{`{"features":[]} {}`, "after top-level value"},
	} {
		_, err := decodeRawPage([]byte(tc.body))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.body, err, tc.want)
		}
	}
	p, err := decodeRawPage([]byte(`{"type":"FeatureCollection","features":null,"numberMatched":0}`))
	if err != nil || len(p.Items) != 0 {
		t.Fatalf("null features: %v, %v", p, err)
	}
	if n, ok := p.Matched(); !ok || n != 0 {
		t.Fatalf("Matched() = %d, %v", n, ok)
	}
}

// Whatever a server sends, a raw page either fails or holds items that are
// valid JSON objects with the ids the typed decoding finds.
func FuzzDecodeRawPage(f *testing.F) {
	f.Add([]byte(`{"type":"FeatureCollection","features":[{"type":"Feature","id":"a","collection":"c","properties":{}}],"links":[{"rel":"next","href":"x"}]}`))
	f.Add([]byte(`{"features":[{"id":"a\u00e9"},{"id":"b","collection":null}],"context":{"next":"t"}}`))
	f.Add([]byte(`{"features":[]}`))
	f.Add([]byte(`{"features":[{"id":1}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := decodeRawPage(body)
		if err != nil {
			return
		}
		for i, it := range p.Items {
			if !json.Valid(it.JSON) || it.JSON[0] != '{' {
				t.Fatalf("item %d is not a JSON object: %q", i, it.JSON)
			}
			if c, _ := rawjson.AppendCompact(nil, it.JSON); it.Compact != bytes.Equal(c, it.JSON) {
				t.Fatalf("item %d: Compact %v for %q", i, it.Compact, it.JSON)
			}
		}
		var ic ItemCollection
		if json.Unmarshal(body, &ic) != nil {
			return // the typed decoding checks more (bbox numbers, link shapes)
		}
		if len(ic.Features) != len(p.Items) {
			t.Fatalf("%d raw items, %d typed", len(p.Items), len(ic.Features))
		}
		for i, it := range p.Items {
			if it.ID != ic.Features[i].ID || it.Collection != ic.Features[i].Collection {
				t.Fatalf("item %d: %q/%q, typed %q/%q", i, it.Collection, it.ID, ic.Features[i].Collection, ic.Features[i].ID)
			}
		}
	})
}
