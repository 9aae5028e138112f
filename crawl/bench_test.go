package crawl_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stacq/stacq/crawl"
)

// writeBigCatalog writes a static catalog of cols collections of n items
// each under dir.
func writeBigCatalog(tb testing.TB, dir string, cols, n int) {
	tb.Helper()
	write := func(p string, v any) {
		p = filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			tb.Fatal(err)
		}
		b, _ := json.Marshal(v)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	var rootLinks []map[string]string
	for c := range cols {
		id := fmt.Sprintf("coll-%d", c)
		rootLinks = append(rootLinks, map[string]string{"rel": "child", "href": "./" + id + "/collection.json"})
		var links []map[string]string
		for i := range n {
			links = append(links, map[string]string{"rel": "item", "href": fmt.Sprintf("./items/%d.json", i)})
			write(fmt.Sprintf("%s/items/%d.json", id, i), map[string]any{
				"type": "Feature", "stac_version": "1.0.0", "id": fmt.Sprintf("%s-%d", id, i), "collection": id,
				"geometry": nil, "properties": map[string]any{"datetime": "2024-01-01T00:00:00Z"},
				"links": []map[string]string{{"rel": "parent", "href": "../collection.json"}}, "assets": map[string]any{},
			})
		}
		write(id+"/collection.json", map[string]any{"type": "Collection", "id": id, "description": "", "license": "CC0-1.0",
			"extent": map[string]any{}, "links": links})
	}
	write("catalog.json", map[string]any{"type": "Catalog", "id": "big", "description": "", "links": rootLinks})
}

// BenchmarkStaticHTTP crawls 4x50 items from a server that takes 2ms per
// document, as a remote web server would: concurrency should hide latency.
func BenchmarkStaticHTTP(b *testing.B) {
	dir := b.TempDir()
	writeBigCatalog(b, dir, 4, 50)
	files := http.FileServer(http.Dir(dir))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(2 * time.Millisecond)
		files.ServeHTTP(w, r)
	}))
	defer srv.Close()
	for _, workers := range []int{1, 4, 16, 64} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			for b.Loop() {
				c := crawl.New(crawl.Options{Concurrency: workers, HTTPClient: srv.Client(), Mode: crawl.ModeStatic})
				for _, err := range c.Crawl(context.Background(), srv.URL+"/catalog.json") {
					if err != nil {
						b.Fatal(err)
					}
				}
				if c.Stats().Items != 200 {
					b.Fatalf("%+v", c.Stats())
				}
			}
		})
	}
}

// BenchmarkStaticDisk crawls 4x500 items from disk.
func BenchmarkStaticDisk(b *testing.B) {
	dir := b.TempDir()
	writeBigCatalog(b, dir, 4, 500)
	for b.Loop() {
		c := crawl.New(crawl.Options{})
		for _, err := range c.Crawl(context.Background(), dir) {
			if err != nil {
				b.Fatal(err)
			}
		}
		if c.Stats().Items != 2000 {
			b.Fatalf("%+v", c.Stats())
		}
	}
}
