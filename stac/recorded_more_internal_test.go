package stac

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// MoreRecording is one entry of the index of the recordings of more API
// families (testdata/recorded-more/index.json): the request as it was
// sent, and the response's status and content type.
type MoreRecording struct {
	File        string         `json:"file"`
	Method      string         `json:"method"`
	URL         string         `json:"url"`
	RequestBody jsontext.Value `json:"request_body"`
	Status      int            `json:"status"`
	ContentType string         `json:"content_type"`
}

// MoreRecordingsDir is where the recordings of more API families are
// read from: $STACQ_RECORDED_MORE, or testdata/recorded-more.
func MoreRecordingsDir() string {
	if d := os.Getenv("STACQ_RECORDED_MORE"); d != "" {
		return d
	}
	return "../testdata/recorded-more"
}

// MoreRecordings reads the index of the recordings of more API families.
// The tests that need them are skipped where they are not (they come
// from other projects' test fixtures, by way of shared/testdata/).
func MoreRecordings(tb testing.TB) (dir string, recs []MoreRecording) {
	tb.Helper()
	dir = MoreRecordingsDir()
	raw, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if os.IsNotExist(err) {
		tb.Skipf("no recordings of more API families in %s (copy shared/testdata/recorded-more/ there, or set STACQ_RECORDED_MORE)", dir)
	}
	if err != nil {
		tb.Fatal(err)
	}
	if err := json.Unmarshal(raw, &recs); err != nil {
		tb.Fatal(err)
	}
	if len(recs) == 0 {
		tb.Fatal("empty index of recordings")
	}
	return dir, recs
}

// moreDocs are the bodies of the recordings of more API families, by
// file name.
func moreDocs(t *testing.T) map[string][]byte {
	dir, recs := MoreRecordings(t)
	docs := map[string][]byte{}
	for _, r := range recs {
		data, err := os.ReadFile(filepath.Join(dir, r.File))
		if err != nil {
			t.Fatal(err)
		}
		docs[r.File] = data
	}
	return docs
}

// Every recorded document of the other API families decodes into its
// type and encodes back to the same JSON (as TestRoundTripRecorded).
func TestRoundTripRecordedMore(t *testing.T) {
	kinds := map[string]int{}
	for name, data := range moreDocs(t) {
		var probe map[string]jsontext.Value
		if err := json.Unmarshal(data, &probe); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var v any
		kind := ""
		switch {
		case probe["features"] != nil:
			v, kind = new(ItemCollection), "page"
		case probe["collections"] != nil:
			v, kind = new(CollectionsPage), "collections"
		case string(probe["type"]) == `"Feature"`:
			v, kind = new(Item), "item"
		case string(probe["type"]) == `"Collection"` || probe["extent"] != nil && probe["license"] != nil && probe["conformsTo"] == nil:
			v, kind = new(Collection), "collection"
		case string(probe["type"]) == `"Catalog"` || probe["stac_version"] != nil:
			v, kind = new(Catalog), "landing"
		default:
			kinds["other"]++
			continue // /conformance, /queryables: no STAC type
		}
		kinds[kind]++
		t.Run(name, func(t *testing.T) {
			// Documented: a Catalog or Collection without "type" (STAC
			// before 1.0.0, where it was optional) is written with one.
			// Nothing else may differ.
			out := dropAddedTypes(t, jsontext.Value(data), jsontext.Value(roundTrip(t, data, v)))
			checkSameJSON(t, data, out)
		})
	}
	// Every kind of document is there: a lost file or a changed probe
	// would otherwise pass unnoticed.
	for _, k := range []string{"page", "collections", "collection", "landing", "other"} {
		if kinds[k] == 0 {
			t.Errorf("no recorded document of kind %s (%v)", k, kinds)
		}
	}
}

// Every recorded search page of the other API families splits into the
// items, links and counts of its typed decoding, its items the bytes the
// server sent (as TestRawPageMatchesTypedDecoding).
func TestRawPageMatchesTypedDecodingMore(t *testing.T) {
	pages := 0
	for name, data := range moreDocs(t) {
		var probe map[string]jsontext.Value
		if json.Unmarshal(data, &probe) != nil || probe["features"] == nil {
			continue
		}
		pages++
		t.Run(name, func(t *testing.T) {
			raw := checkRawPage(t, data)
			for i, it := range raw.Items {
				if it.ID == "" {
					t.Fatalf("item %d: no id", i)
				}
			}
			// The counts the server sent, numberMatched or context.matched.
			var counts struct {
				NumberMatched *int64 `json:"numberMatched"`
				Context       *struct {
					Matched *int64 `json:"matched"`
				} `json:"context"`
			}
			json.Unmarshal(data, &counts)
			wantN, wantOK := int64(0), false
			switch {
			case counts.NumberMatched != nil:
				wantN, wantOK = *counts.NumberMatched, true
			case counts.Context != nil && counts.Context.Matched != nil:
				wantN, wantOK = *counts.Context.Matched, true
			}
			if n, ok := raw.Matched(); n != wantN || ok != wantOK {
				t.Fatalf("Matched() = %d, %v; want %d, %v", n, ok, wantN, wantOK)
			}
		})
	}
	if pages == 0 {
		t.Fatal("no recorded search pages")
	}
}

// dropAddedTypes removes from out, anywhere in it, the "type": "Catalog"
// or "Collection" members that the same object of in lacks.
func dropAddedTypes(t *testing.T, in, out jsontext.Value) jsontext.Value {
	t.Helper()
	switch in.Kind() {
	case '{':
		var mi, mo map[string]jsontext.Value
		if json.Unmarshal(in, &mi) != nil || json.Unmarshal(out, &mo) != nil {
			return out
		}
		if _, had := mi["type"]; !had {
			if typ := string(mo["type"]); typ == `"Catalog"` || typ == `"Collection"` {
				delete(mo, "type")
			}
		}
		for k, v := range mo {
			if vi, ok := mi[k]; ok {
				mo[k] = dropAddedTypes(t, vi, v)
			}
		}
		b, err := json.Marshal(mo, jsontext.PreserveRawStrings(true))
		if err != nil {
			t.Fatal(err)
		}
		return b
	case '[':
		var ai, ao []jsontext.Value
		if json.Unmarshal(in, &ai) != nil || json.Unmarshal(out, &ao) != nil || len(ai) != len(ao) {
			return out
		}
		for i := range ao {
			ao[i] = dropAddedTypes(t, ai[i], ao[i])
		}
		b, err := json.Marshal(ao, jsontext.PreserveRawStrings(true))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	return out
}
