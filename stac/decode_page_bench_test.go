package stac

import (
	"bytes"
	"io"
	"net/http"
	"testing"

	"github.com/stacq/stacq/internal/testing/stactest"
)

// BenchmarkDecodePage decodes a 100-item search page the way the client
// does: from the response stream into an ItemCollection.
func BenchmarkDecodePage(b *testing.B) {
	api := stactest.New(stactest.Options{Items: 100})
	resp, err := http.Get(api.RootURL() + "/search?limit=100")
	if err != nil {
		b.Fatal(err)
	}
	page, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	api.Close()
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(page)))
	b.ReportAllocs()
	for b.Loop() {
		r := &http.Response{Body: io.NopCloser(bytes.NewReader(page)), Header: http.Header{}}
		var ic ItemCollection
		if err := decode(http.MethodGet, r, &ic); err != nil {
			b.Fatal(err)
		}
		if len(ic.Features) != 100 {
			b.Fatalf("%d features", len(ic.Features))
		}
	}
}
