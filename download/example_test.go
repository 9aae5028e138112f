package download_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"

	"github.com/stacq/stacq/download"
	"github.com/stacq/stacq/geo"
	"github.com/stacq/stacq/stac"
)

// Download the data assets of items read from NDJSON (the output of
// `stacq search --format ndjson`; a stac.Client's Search works the same),
// verified against their file:checksum, with the items written back with
// local hrefs.
func Example() {
	// An asset host; with an API behind auth, route its client:
	// router.Route(authClient, apiURL).
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "test")
	}))
	defer srv.Close()
	items := `{"type":"Feature","id":"S2A_1","collection":"sentinel-2-l2a","geometry":null,"properties":{"datetime":"2023-06-01T10:30:00Z"},` +
		`"assets":{"B04":{"href":"` + srv.URL + `/B04.tif","roles":["data"],"file:size":4,` +
		`"file:checksum":"12209f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"},` +
		`"thumbnail":{"href":"` + srv.URL + `/t.jpg","roles":["thumbnail"]}}}` + "\n"

	dir, _ := os.MkdirTemp("", "stacq-example")
	defer os.RemoveAll(dir)
	var out strings.Builder
	fw := geo.NewWriter(&out, geo.FormatNDJSON)
	d, err := download.New(download.Options{
		Dir:         filepath.Join(dir, "data"),
		Select:      download.Selection{Roles: []string{"data"}},
		Layout:      nil, // {collection}/{id}/{filename}
		Concurrency: 8,
		Router:      download.NewRouter(nil), // no credentials anywhere
		ItemsDir:    dir,
		ItemsOut:    func(it *stac.Item) error { return fw.Write(it) },
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	sum, err := d.Run(context.Background(), download.ReadItems(strings.NewReader(items)))
	if err != nil {
		fmt.Println(err) // a *download.FailedError lists each failed asset
		return
	}
	for _, r := range sum.Results {
		rel, _ := filepath.Rel(dir, r.Path)
		fmt.Println(r.Asset, r.Status, filepath.ToSlash(rel), r.Size, "bytes, verified by", r.Verified)
	}
	fmt.Println(strings.Contains(out.String(), `"href":"data/sentinel-2-l2a/S2A_1/B04.tif"`))
	// Output:
	// B04 downloaded data/sentinel-2-l2a/S2A_1/B04.tif 4 bytes, verified by sha2-256
	// true
}
