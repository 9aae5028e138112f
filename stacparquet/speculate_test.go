package stacparquet

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stacq/stacq/stacparquet/internal/s2gen"
)

// TestSpeculation: row groups encoded while items are written are kept
// when the schema did not change, thrown away and encoded again when it
// did; the file reads back the same either way.
func TestSpeculation(t *testing.T) {
	defer func(n int64) { specCheckItems = n }(specCheckItems)
	specCheckItems = 5 // starts in the first row group, after 5 items
	plain := func(i int) []byte {
		return item(fmt.Sprint("i", i), "c", fmt.Sprintf(`"datetime":"2023-01-01T00:00:00Z","n":%d,"s":"x%d"`, i, i))
	}
	tests := []struct {
		name         string
		n            int
		odd          map[int]string // item → its extra properties
		concurrent   bool
		promoted     bool
		speculations int
		rowGroup     int
	}{
		{name: "same schema", n: 55, promoted: true, speculations: 1},
		{name: "same schema, concurrent", n: 55, concurrent: true, promoted: true, speculations: 1},
		{name: "a single row group", n: 10, promoted: true, speculations: 1},
		{name: "new property in the second row group", n: 55, odd: map[int]string{15: `"new":true`}, promoted: true, speculations: 2},
		{name: "widened in the last row group", n: 55, odd: map[int]string{52: `"n2":1.5`, 53: `"n":1.5`}, speculations: 1},
		{name: "widened in the last row group, concurrent", n: 55, odd: map[int]string{53: `"n":1.5`}, concurrent: true, speculations: 1},
		{name: "null only then present", n: 45, odd: map[int]string{3: `"z":null`, 33: `"z":{"a":[1]}`}, promoted: true, speculations: 2},
		{name: "changes in every row group", n: 75, odd: map[int]string{5: `"a":1`, 15: `"b":1`, 25: `"c":1`, 35: `"d":1`, 45: `"e":1`, 55: `"f":1`}, speculations: maxSpeculations},
		{name: "widened while written, large row groups", n: 3500, rowGroup: 1000, odd: map[int]string{1500: `"n":1.5`}, promoted: true, speculations: 2},
		{name: "widened in the last large row group", n: 3500, rowGroup: 1000, odd: map[int]string{3001: `"n":1.5`}, speculations: 1},
		{name: "JSON column gains a kind", n: 45, odd: map[int]string{1: `"j":1`, 2: `"j":"x"`, 33: `"j":[1]`}, promoted: true, speculations: 2},
	}
	defer func(n int) { hotBatches = n }(hotBatches)
	for _, batches := range []int{16, 2, 1} {
		hotBatches = batches
		for _, tc := range tests {
			t.Run(fmt.Sprintf("%s/%d", tc.name, batches), func(t *testing.T) {
				var items [][]byte
				for i := range tc.n {
					it := plain(i)
					if extra, ok := tc.odd[i]; ok {
						it = item(fmt.Sprint("i", i), "c", `"datetime":"2023-01-01T00:00:00Z","s":"y",`+extra)
					}
					items = append(items, it)
				}
				path := filepath.Join(t.TempDir(), "s.parquet")
				w, err := Create(path, WriterOptions{TempDir: t.TempDir(), RowGroupSize: cmp.Or(tc.rowGroup, 10), Concurrent: tc.concurrent})
				if err != nil {
					t.Fatal(err)
				}
				writeAndClose(t, w, items)
				if w.ds.promoted != tc.promoted || w.ds.speculations != tc.speculations {
					t.Errorf("promoted %t after %d speculations, want %t after %d", w.ds.promoted, w.ds.speculations, tc.promoted, tc.speculations)
				}
				st := w.Stats()
				if st.Items != int64(tc.n) || st.Files != 1 {
					t.Errorf("stats %+v", st)
				}
				checkRoundTrip(t, items, readAll(t, path, Filter{}))
				if len(tc.odd) > 0 && tc.name == "JSON column gains a kind" {
					if len(st.JSONColumns) != 1 || len(st.JSONColumns[0].Kinds) != 3 || st.JSONColumns[0].Values != 3 {
						t.Errorf("JSON columns %+v", st.JSONColumns)
					}
				}
			})
		}
	}
}

// TestSpeculationStops: a writer aborted, or closed with a context done,
// while row groups are being encoded leaves nothing behind.
func TestSpeculationStops(t *testing.T) {
	defer func(n int64) { specCheckItems = n }(specCheckItems)
	specCheckItems = 0
	for _, abort := range []bool{false, true} {
		dir := t.TempDir()
		w, err := Create(dir+"/x.parquet", WriterOptions{TempDir: dir, RowGroupSize: 5})
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range gridItems(200) {
			if err := w.Write(g.json); err != nil {
				t.Fatal(err)
			}
		}
		if w.ds.spec == nil {
			t.Fatal("no speculation")
		}
		if abort {
			if err := w.Abort(); err != nil {
				t.Fatal(err)
			}
		} else {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			if err := w.CloseContext(ctx); !errors.Is(err, context.Canceled) {
				t.Fatalf("CloseContext = %v", err)
			}
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Fatalf("abort %t: left behind: %v", abort, entries)
		}
	}
}

// TestSameBytes: the file is the same, byte for byte, whether its row
// groups were encoded while the items were written (from the items'
// tapes or from the spool) or at Close.
func TestSameBytes(t *testing.T) {
	defer func(n int64, b int) { specCheckItems, hotBatches = n, b }(specCheckItems, hotBatches)
	var items [][]byte
	for i := range 3000 {
		items = append(items, s2gen.Item(i))
	}
	var want []byte
	for _, c := range []struct {
		check   int64
		batches int
	}{{1 << 40, 16}, {100, 16}, {100, 1}, {0, 2}, {1500, 16}, {1401, 3}} {
		specCheckItems, hotBatches = c.check, c.batches
		var buf bytes.Buffer
		w, err := NewWriter(&buf, WriterOptions{TempDir: t.TempDir(), RowGroupSize: 700,
			Collections: StaticCollections(map[string][]byte{"sentinel-2-l2a": []byte(`{"id":"sentinel-2-l2a","type":"Collection"}`)})})
		if err != nil {
			t.Fatal(err)
		}
		writeAndClose(t, w, items)
		if promoted := w.ds.promoted; promoted != (c.check < 3000) {
			t.Errorf("%+v: promoted %t", c, promoted)
		}
		if st := w.Stats(); st.Items != 3000 || st.Files != 1 {
			t.Errorf("%+v: stats %+v", c, st)
		}
		if want == nil {
			r, err := OpenReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()), "mem")
			if err != nil {
				t.Fatal(err)
			}
			if m := r.Metadata(); len(m.Collections) != 1 || m.Collections["sentinel-2-l2a"] == nil {
				t.Errorf("collections %v", m.Collections)
			}
			checkRoundTrip(t, items, readAllFrom(t, r))
			want = buf.Bytes()
		} else if !bytes.Equal(buf.Bytes(), want) {
			t.Errorf("%+v: %d bytes, not the same as the %d without speculation", c, buf.Len(), len(want))
		}
	}
}

func readAllFrom(t *testing.T, r *Reader) [][]byte {
	var out [][]byte
	for it, err := range r.Items(context.Background(), Filter{}) {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, it)
	}
	return out
}

// TestSameBytesRecorded: the same over the recorded items, of many
// collections and property sets, whose schema changes along the way.
func TestSameBytesRecorded(t *testing.T) {
	defer func(n int64, b int) { specCheckItems, hotBatches = n, b }(specCheckItems, hotBatches)
	pages := recordedItems(t)
	var items [][]byte
	for _, name := range slices.Sorted(maps.Keys(pages)) {
		items = append(items, pages[name]...)
	}
	var want []byte
	for _, c := range []struct {
		check   int64
		batches int
	}{{1 << 40, 16}, {0, 16}, {30, 2}, {200, 16}} {
		specCheckItems, hotBatches = c.check, c.batches
		var buf bytes.Buffer
		w, err := NewWriter(&buf, WriterOptions{TempDir: t.TempDir(), RowGroupSize: 50})
		if err != nil {
			t.Fatal(err)
		}
		writeAndClose(t, w, items)
		t.Logf("%+v: %d speculations, promoted %t", c, w.ds.speculations, w.ds.promoted)
		if want == nil {
			want = buf.Bytes()
		} else if !bytes.Equal(buf.Bytes(), want) {
			t.Errorf("%+v: %d bytes, not the same as the %d without speculation", c, buf.Len(), len(want))
		}
	}
}
