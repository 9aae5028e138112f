package stacparquet

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-json-experiment/json"

	"github.com/stacq/stacq/stacparquet/internal/s2gen"
)

// TestPartitioned writes a Hive-partitioned dataset and reads it back as
// one: every item once, each file with the metadata of its own items.
func TestPartitioned(t *testing.T) {
	grid := gridItems(120)
	var items [][]byte
	for _, g := range grid {
		items = append(items, g.json)
	}
	// Items without collection or datetime go to the default partition;
	// a collection id with characters that need escaping.
	items = append(items,
		[]byte(`{"type":"Feature","id":"orphan","geometry":null,"properties":{"datetime":null}}`),
		[]byte(`{"type":"Feature","id":"odd","collection":"a/b=c d","geometry":{"type":"Point","coordinates":[1,2]},"properties":{"datetime":"2024-02-03T00:00:00Z","only":true}}`),
	)
	dir := filepath.Join(t.TempDir(), "ds")
	colls := map[string][]byte{
		"naip":    []byte(`{"type":"Collection","id":"naip","description":"NAIP"}`),
		"a/b=c d": []byte(`{"type":"Collection","id":"a/b=c d"}`),
	}
	w, err := NewPartitionedWriter(dir, PartitionOptions{
		WriterOptions:  WriterOptions{TempDir: t.TempDir(), RowGroupSize: 5, Collections: StaticCollections(colls)},
		Keys:           []PartitionKey{ByCollection, ByYear, ByMonth},
		MaxRowsPerFile: 3,
	})
	if err != nil {
		t.Fatal(err)
	}
	writeAndClose(t, w, items)
	files := w.Files()
	for _, want := range []string{
		"collection=naip/year=2023/month=1/part-0.parquet",
		"collection=naip/year=2023/month=1/part-1.parquet",
		"collection=a%2Fb%3Dc d/year=2024/month=2/part-0.parquet",
		"collection=__HIVE_DEFAULT_PARTITION__/year=__HIVE_DEFAULT_PARTITION__/month=__HIVE_DEFAULT_PARTITION__/part-0.parquet",
	} {
		if !slices.Contains(files, filepath.Join(dir, filepath.FromSlash(want))) {
			t.Errorf("no file %s among %v", want, files)
		}
	}
	if st := w.Stats(); st.Files != len(files) || st.Items != int64(len(items)) {
		t.Errorf("stats %+v, %d files", st, len(files))
	}

	r, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.NumRows() != int64(len(items)) {
		t.Errorf("%d rows", r.NumRows())
	}
	byID := map[string][]byte{}
	for it, err := range r.Items(context.Background(), Filter{}) {
		if err != nil {
			t.Fatal(err)
		}
		id := decode(t, it).(map[string]any)["id"].(string)
		if _, dup := byID[id]; dup {
			t.Errorf("item %s read twice", id)
		}
		byID[id] = it
	}
	for _, it := range items {
		want := expected(t, it)
		got, ok := byID[want["id"].(string)]
		if !ok {
			t.Errorf("item %s not read back", want["id"])
			continue
		}
		if d := diff(want, decode(t, got)); d != "" {
			t.Errorf("item %s:\n%s", want["id"], d)
		}
	}
	if md := r.Metadata(); len(md.Collections) != 2 || md.Version != Version {
		t.Errorf("metadata %+v", md)
	}

	// Each file's metadata describes its own items only.
	for _, p := range files {
		fr, err := Open(p)
		if err != nil {
			t.Fatal(err)
		}
		md := fr.Metadata()
		geo := fr.GeoMetadata()[0]
		fr.Close()
		switch {
		case strings.Contains(p, "collection=naip"):
			if len(md.Collections) != 1 || md.Collections["naip"] == nil {
				t.Errorf("%s: collections %v", p, md.Collections)
			}
			if g := geo.Columns["geometry"]; !slices.Equal(g.GeometryTypes, []string{"Polygon"}) || len(g.BBox) != 4 {
				t.Errorf("%s: geo %+v", p, g)
			}
		case strings.Contains(p, "landsat"):
			if len(md.Collections) != 0 {
				t.Errorf("%s: collections %v", p, md.Collections)
			}
		case strings.Contains(p, "DEFAULT"):
			if g := geo.Columns["geometry"]; len(g.GeometryTypes) != 0 || g.BBox != nil {
				t.Errorf("%s: geo %+v", p, g)
			}
		}
	}

	// A collection filter opens only the files of that partition.
	r2, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Close()
	n := 0
	for it, err := range r2.Items(context.Background(), Filter{Collections: []string{"a/b=c d"}}) {
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(it, &m); err != nil || m["id"] != "odd" {
			t.Errorf("read %s", it)
		}
		n++
	}
	if n != 1 || r2.groupsRead.Load() != 1 {
		t.Errorf("%d items, %d row groups read", n, r2.groupsRead.Load())
	}
}

// TestPartitionedRefusesNonEmptyDir: a dataset is written into a new or
// empty directory only.
func TestPartitionedRefusesNonEmptyDir(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "x"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := NewPartitionedWriter(dir, PartitionOptions{Keys: []PartitionKey{ByCollection}}); err == nil {
		t.Fatal("wrote into a non-empty directory")
	}
	if _, err := NewPartitionedWriter(t.TempDir(), PartitionOptions{}); err == nil {
		t.Fatal("no partition keys accepted")
	}
	if _, err := ParsePartitionKeys("collection,week"); err == nil {
		t.Fatal("unknown key accepted")
	}
	if keys, err := ParsePartitionKeys("collection, YEAR,month"); err != nil || !slices.Equal(keys, []PartitionKey{ByCollection, ByYear, ByMonth}) {
		t.Fatalf("ParsePartitionKeys = %v, %v", keys, err)
	}
}

// TestOpenRefusesOtherFiles: files that are not stac-geoparquet are refused
// with ErrNotSTACGeoParquet.
func TestOpenRefusesOtherFiles(t *testing.T) {
	dir := t.TempDir()
	notParquet := filepath.Join(dir, "a.parquet")
	os.WriteFile(notParquet, []byte("PAR1 not really"), 0o644)
	if _, err := Open(notParquet); err == nil || !strings.Contains(err.Error(), "not a Parquet file") {
		t.Errorf("Open(not parquet) = %v", err)
	}
	if _, err := Open(t.TempDir()); err == nil {
		t.Error("Open(empty dir) succeeded")
	}
}

// TestPartitionedMemory: the files of a partitioned dataset are written
// one after the other, and a finished file's buffers are let go. (The
// task queue used to keep every file's writer, whose column buffers are
// a few MB: 100k items by year and month took 340 MB.)
func TestPartitionedMemory(t *testing.T) {
	const parts, each = 120, 10
	var items [][]byte
	for i := range parts * each {
		it := s2gen.Item(i)
		it = bytes.Replace(it, []byte(`"collection":"sentinel-2-l2a"`), fmt.Appendf(nil, `"collection":"c%03d"`, i%parts), 1)
		items = append(items, it)
	}
	dir := filepath.Join(t.TempDir(), "ds")
	w, err := NewPartitionedWriter(dir, PartitionOptions{
		WriterOptions: WriterOptions{TempDir: t.TempDir()},
		Keys:          []PartitionKey{ByCollection},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		if err := w.Write(it); err != nil {
			t.Fatal(err)
		}
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	// The live heap while Close writes the files, sampled.
	stop, sampled := make(chan struct{}), make(chan uint64)
	go func() {
		var peak uint64
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				sampled <- peak
				return
			case <-tick.C:
				runtime.GC()
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapAlloc)
			}
		}
	}()
	err = w.Close()
	close(stop)
	peak := <-sampled
	if err != nil {
		t.Fatal(err)
	}
	if got := len(w.Files()); got != parts {
		t.Fatalf("%d files, want %d", got, parts)
	}
	if grew := int64(peak) - int64(base); grew > 64<<20 {
		t.Errorf("the live heap grew by %d MB while %d files were written (want < 64 MB: files are let go once written)", grew>>20, parts)
	}
}
