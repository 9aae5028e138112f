package stacparquet_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/stacq/stacq/stacparquet"
)

// Example writes two items whose properties differ, reads back those in a
// bbox, and shows what the writer reports.
func Example() {
	dir, err := os.MkdirTemp("", "stacparquet-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "items.parquet")

	w, err := stacparquet.Create(path, stacparquet.WriterOptions{
		Collections: stacparquet.StaticCollections(map[string][]byte{
			"demo": []byte(`{"type":"Collection","id":"demo","description":"Two items"}`),
		}),
	})
	if err != nil {
		log.Fatal(err)
	}
	items := []string{
		`{"type":"Feature","stac_version":"1.1.0","id":"a","collection":"demo",
		  "geometry":{"type":"Point","coordinates":[4.35,50.85]},"bbox":[4.35,50.85,4.35,50.85],
		  "properties":{"datetime":"2024-05-01T10:00:00+02:00","eo:cloud_cover":12,"tile":"31UES"},
		  "links":[],"assets":{"data":{"href":"https://example.com/a.tif"}}}`,
		`{"type":"Feature","stac_version":"1.1.0","id":"b","collection":"demo",
		  "geometry":{"type":"Point","coordinates":[2.35,48.85]},"bbox":[2.35,48.85,2.35,48.85],
		  "properties":{"datetime":"2024-05-02T10:00:00Z","eo:cloud_cover":3.5,"tile":31}, "links":[],"assets":{}}`,
	}
	for _, it := range items {
		if err := w.Write([]byte(it)); err != nil {
			log.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		log.Fatal(err)
	}
	for _, warning := range w.Stats().Warnings() {
		fmt.Println("warning:", warning)
	}

	r, err := stacparquet.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()
	fmt.Println(r.NumRows(), "items, collections:", len(r.Metadata().Collections))
	for item, err := range r.Items(context.Background(), stacparquet.Filter{BBox: []float64{4, 50, 5, 51}}) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(string(item))
	}
	// Output:
	// warning: column "tile" mixes integer, string: 2 values stored as JSON text
	// 2 items, collections: 1
	// {"type":"Feature","stac_version":"1.1.0","id":"a","geometry":{"type":"Point","coordinates":[4.35,50.85]},"bbox":[4.35,50.85,4.35,50.85],"properties":{"datetime":"2024-05-01T08:00:00Z","eo:cloud_cover":12,"tile":"31UES"},"links":[],"assets":{"data":{"href":"https://example.com/a.tif"}},"collection":"demo"}
}
