package stac

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/stacq/stacq/geo"
	"github.com/stacq/stacq/internal/testing/stactest"
)

// benchPage is one /search page of n synthetic Sentinel-2-like items
// (about 3 KB each), as the local test API serves it.
func benchPage(b *testing.B, n int) []byte {
	b.Helper()
	s := stactest.New(stactest.Options{Items: n})
	defer s.Close()
	resp, err := http.Get(s.RootURL() + "/search?limit=" + itoa(n))
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	page, err := io.ReadAll(resp.Body)
	if err != nil {
		b.Fatal(err)
	}
	return page
}

func itoa(n int) string { return jsonInt(n) }

func jsonInt(n int) string { b, _ := json.Marshal(n); return string(b) }

// The typed path: a page decoded into Items, each written by the feature
// writer through Item.MarshalJSON.
func BenchmarkPageTyped(b *testing.B) {
	page := benchPage(b, 1000)
	b.SetBytes(int64(len(page)))
	b.ReportAllocs()
	w := geo.NewWriter(io.Discard, geo.FormatNDJSON)
	for b.Loop() {
		var ic ItemCollection
		if err := json.Unmarshal(page, &ic); err != nil {
			b.Fatal(err)
		}
		for _, it := range ic.Features {
			if err := w.Write(it); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*1000), "ns/item")
}

// The typed decoding alone.
func BenchmarkPageDecodeTyped(b *testing.B) {
	page := benchPage(b, 1000)
	b.SetBytes(int64(len(page)))
	b.ReportAllocs()
	for b.Loop() {
		var ic ItemCollection
		if err := json.Unmarshal(page, &ic); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*1000), "ns/item")
}

// Raw pass-through as a plain json.Decoder gives it: features as
// json.RawMessage, written as they came.
func BenchmarkPageRawDecoder(b *testing.B) {
	page := benchPage(b, 1000)
	b.SetBytes(int64(len(page)))
	b.ReportAllocs()
	w := geo.NewWriter(io.Discard, geo.FormatNDJSON)
	for b.Loop() {
		var ic struct {
			Features []json.RawMessage `json:"features"`
			Links    []*Link           `json:"links"`
		}
		if err := json.NewDecoder(bytes.NewReader(page)).Decode(&ic); err != nil {
			b.Fatal(err)
		}
		for _, it := range ic.Features {
			if err := w.Write(it); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*1000), "ns/item")
}

// The raw pass-through: a page split without decoding its items, each
// written as the server sent it.
func BenchmarkPageRaw(b *testing.B) {
	page := benchPage(b, 1000)
	b.SetBytes(int64(len(page)))
	b.ReportAllocs()
	w := geo.NewWriter(io.Discard, geo.FormatNDJSON)
	for b.Loop() {
		p, err := decodeRawPage(page)
		if err != nil {
			b.Fatal(err)
		}
		for _, it := range p.Items {
			if err := w.Write(it.JSON); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*1000), "ns/item")
}

// The raw split alone.
func BenchmarkPageDecodeRaw(b *testing.B) {
	page := benchPage(b, 1000)
	b.SetBytes(int64(len(page)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decodeRawPage(page); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*1000), "ns/item")
}
