package stac

import (
	"runtime"
	"testing"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// perItem reports the time and allocations of each of n items.
func perItem(b *testing.B, n int, run func()) {
	b.Helper()
	b.ReportAllocs()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for b.Loop() {
		run()
	}
	runtime.ReadMemStats(&after)
	items := float64(b.N) * float64(n)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/items, "ns/item")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/items, "allocs/item")
}

// A whole page decoded in one call, as a caller of json.Unmarshal does.
func BenchmarkItemCollectionUnmarshalJSON(b *testing.B) {
	page := benchPage(b, 100)
	b.SetBytes(int64(len(page)))
	perItem(b, 100, func() {
		var ic ItemCollection
		if err := json.Unmarshal(page, &ic); err != nil || len(ic.Features) != 100 {
			b.Fatal(err, len(ic.Features))
		}
	})
}

// The whole typed decode of one item with encoding/json.
func BenchmarkItemUnmarshal(b *testing.B) {
	item := benchItem(b)
	b.SetBytes(int64(len(item)))
	perItem(b, 1, func() {
		var it Item
		if err := json.Unmarshal(item, &it); err != nil {
			b.Fatal(err)
		}
	})
}

func BenchmarkItemMarshal(b *testing.B) {
	var it Item
	if err := json.Unmarshal(benchItem(b), &it); err != nil {
		b.Fatal(err)
	}
	perItem(b, 1, func() {
		if _, err := json.Marshal(&it); err != nil {
			b.Fatal(err)
		}
	})
}

// A recorded /collections page: summaries, extents, providers.
func BenchmarkCollectionsPageUnmarshal(b *testing.B) {
	page := readRecorded(b, "../testdata/recorded/earth-search_get_collections_8de8bc.json")
	b.SetBytes(int64(len(page)))
	b.ReportAllocs()
	for b.Loop() {
		var cp CollectionsPage
		if err := json.Unmarshal(page, &cp); err != nil {
			b.Fatal(err)
		}
	}
}

// benchItem is one synthetic Sentinel-2-like item of benchPage.
func benchItem(b *testing.B) []byte {
	var ic struct {
		Features []jsontext.Value `json:"features"`
	}
	if err := json.Unmarshal(benchPage(b, 1), &ic); err != nil || len(ic.Features) != 1 {
		b.Fatal(err)
	}
	return ic.Features[0]
}
