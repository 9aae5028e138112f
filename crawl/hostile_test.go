package crawl_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stacq/stacq/crawl"
	"github.com/stacq/stacq/internal/testing/hostile"
	"github.com/stacq/stacq/stac"
)

// A static document over the cap, remote (a gzip bomb: the cap counts
// inflated bytes) or local (a sparse file), fails alone with a
// *stac.TooLargeError that names the cap; the rest of the catalog is
// crawled.
func TestStaticDocumentOverCap(t *testing.T) {
	const limit = 1 << 20
	bomb := &hostile.Body{Prefix: `{"type":"Catalog","id":"bomb","links":[`, Size: 1 << 30, Gzip: true}
	mux := http.NewServeMux()
	mux.Handle("/bomb.json", bomb)
	mux.HandleFunc("/catalog.json", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"type":"Catalog","stac_version":"1.0.0","id":"root","description":"d","links":[{"rel":"child","href":"bomb.json"}]}`))
	})
	s := httptest.NewServer(mux)
	defer s.Close()

	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "catalog.json"), []byte(`{"type":"Catalog","stac_version":"1.0.0","id":"local","description":"d","links":[{"rel":"child","href":"huge.json"}]}`), 0o644)
	f, err := os.Create(filepath.Join(dir, "huge.json"))
	if err != nil {
		t.Fatal(err)
	}
	f.Truncate(1 << 30)
	f.Close()

	for root, where := range map[string]string{s.URL + "/catalog.json": "GET " + s.URL + "/bomb.json", dir: filepath.Join(dir, "huge.json")} {
		c := crawl.New(crawl.Options{MaxDocumentSize: limit, HTTPClient: s.Client()})
		got := collect(t, c.Crawl(context.Background(), root))
		if got.final != nil || len(got.ids) != 1 || len(got.errs) != 1 {
			t.Fatalf("%s: resources %v, errors %v, final %v", root, got.ids, got.errs, got.final)
		}
		var te *stac.TooLargeError
		if !errors.As(got.errs[0], &te) || te.Limit != limit || te.What != "static document" {
			t.Fatalf("%s: err %v, want a *stac.TooLargeError", root, got.errs[0])
		}
		if msg := te.Error(); !strings.HasPrefix(msg, where+": ") || !strings.Contains(msg, "larger than 1 MiB") {
			t.Errorf("message %q", msg)
		}
	}
	if bomb.GzipAsk.Load() == 0 {
		t.Error("the crawler did not ask for gzip: inflation untested")
	}
}
