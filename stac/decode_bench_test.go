package stac

import (
	"io"
	"net/http"
	"strconv"
	"testing"

	"github.com/stacq/stacq/geo"
	"github.com/stacq/stacq/internal/testing/stactest"
)

// benchPage is one /search page of n synthetic Sentinel-2-like items
// (about 3 KB each), as the local test API serves it.
func benchPage(b testing.TB, n int) []byte {
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

func itoa(n int) string { return strconv.Itoa(n) }

// decodeTyped decodes a page the way Search does: split once, then each
// item decoded.
func decodeTyped(b *testing.B, page []byte) []*Item {
	p, err := splitPage(page, "features", nil)
	if err != nil {
		b.Fatal(err)
	}
	items := make([]*Item, len(p.Items))
	for i, r := range p.Items {
		if items[i], err = r.Decode(); err != nil {
			b.Fatal(err)
		}
	}
	return items
}

// The typed path: a page decoded into Items, each written by the feature
// writer through the Item's JSON encoding.
func BenchmarkPageTyped(b *testing.B) {
	page := benchPage(b, 1000)
	b.SetBytes(int64(len(page)))
	w := geo.NewWriter(io.Discard, geo.FormatNDJSON)
	perItem(b, 1000, func() {
		for _, it := range decodeTyped(b, page) {
			if err := w.Write(it); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// The typed decoding alone.
func BenchmarkPageDecodeTyped(b *testing.B) {
	page := benchPage(b, 1000)
	b.SetBytes(int64(len(page)))
	perItem(b, 1000, func() { decodeTyped(b, page) })
}

// The raw pass-through: a page split without decoding its items, each
// written as the server sent it, as the CLI's export does.
func BenchmarkPageRaw(b *testing.B) {
	page := benchPage(b, 1000)
	b.SetBytes(int64(len(page)))
	w := geo.NewWriter(io.Discard, geo.FormatNDJSON)
	var items []RawItem
	perItem(b, 1000, func() {
		p, err := splitPage(page, "features", items)
		if err != nil {
			b.Fatal(err)
		}
		for i := range p.Items {
			if err := w.Write((*geo.CompactJSON)(&p.Items[i].JSON)); err != nil {
				b.Fatal(err)
			}
		}
		items = p.Items
	})
}

// The raw split alone.
func BenchmarkPageDecodeRaw(b *testing.B) {
	page := benchPage(b, 1000)
	b.SetBytes(int64(len(page)))
	var items []RawItem
	perItem(b, 1000, func() {
		p, err := splitPage(page, "features", items)
		if err != nil {
			b.Fatal(err)
		}
		items = p.Items
	})
}

// The fetching goroutine's part of a page: the scan for its structure.
func BenchmarkPageScan(b *testing.B) {
	page := benchPage(b, 1000)
	b.SetBytes(int64(len(page)))
	perItem(b, 1000, func() {
		if _, err := scanPage(page, "features", nil); err != nil {
			b.Fatal(err)
		}
	})
}

// The fetching goroutine's part of a page without an item cap: its frame.
func BenchmarkFramePage(b *testing.B) {
	page := benchPage(b, 1000)
	b.SetBytes(int64(len(page)))
	perItem(b, 1000, func() {
		if _, ok := framePage(page, "features"); !ok {
			b.Fatal("no frame")
		}
	})
}
