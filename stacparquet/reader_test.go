package stacparquet

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stacq/stacq/stacparquet/internal/s2gen"
)

// TestItemsParallel: with several CPUs the row groups are read at once,
// and the items come in file order all the same, whatever the filter, the
// item cap, and the number of workers; the chunks of one row group (more
// than one here: its items are larger than a chunk) keep their order.
func TestItemsParallel(t *testing.T) {
	grid := gridItems(400)
	var items [][]byte
	var all []string
	for _, g := range grid {
		// A padded property makes a row group's items span chunks.
		items = append(items, fmt.Appendf(nil, `{"type":"Feature","id":%q,"collection":%q,"geometry":{"type":"Point","coordinates":[%g,%g]},"bbox":[%g,%g,%g,%g],"properties":{"datetime":%q,"pad":%q}}`,
			g.id, g.collection, g.lon, g.lat, g.lon, g.lat, g.lon, g.lat, g.dt.Format(time.RFC3339), strings.Repeat("x", 20000)))
		all = append(all, g.id)
	}
	path, _ := writeFile(t, items, WriterOptions{RowGroupSize: 20})
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	read := func(f Filter) []string {
		var got [][]byte
		for it, err := range r.Items(context.Background(), f) {
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, it)
		}
		return idsOf(t, got)
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, procs := range []int{1, 2, 4, 8} {
		runtime.GOMAXPROCS(procs)
		if got := read(Filter{}); !slices.Equal(got, all) {
			t.Fatalf("GOMAXPROCS %d: %d items, not the %d in order", procs, len(got), len(all))
		}
		// 50 items: more than the first row group holds, so read in
		// parallel, cut in the third row group.
		if got := read(Filter{MaxItems: 50}); !slices.Equal(got, all[:50]) {
			t.Fatalf("GOMAXPROCS %d, 50 items at most: %v", procs, got)
		}
		f := Filter{Collections: []string{"naip"}, BBox: []float64{-30, 0, 30, 20}}
		var want []string
		for _, g := range grid {
			if g.matches(f) {
				want = append(want, g.id)
			}
		}
		if got := read(f); len(want) == 0 || !slices.Equal(got, want) {
			t.Fatalf("GOMAXPROCS %d, filtered: %v\nwant %v", procs, got, want)
		}
	}
}

// TestItemsParallelStops: a loop that breaks, or whose context is
// cancelled, ends the reading goroutines before Items returns; the
// cancellation is yielded as ctx's error.
func TestItemsParallelStops(t *testing.T) {
	r, items := openGrid(t, 10)
	defer r.Close()
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	before := runtime.NumGoroutine()
	n := 0
	for _, err := range r.Items(context.Background(), Filter{}) {
		if err != nil {
			t.Fatal(err)
		}
		if n++; n == 15 {
			break
		}
	}
	if g := goroutinesDown(before); g > before {
		t.Errorf("%d goroutines after the loop broke, %d before", g, before)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n = 0
	var last error
	for _, err := range r.Items(ctx, Filter{}) {
		if err != nil {
			last = err
			break
		}
		if n++; n == 25 {
			cancel()
		}
	}
	if !errors.Is(last, context.Canceled) || n >= len(items) {
		t.Errorf("after cancel at item 25: %d items, error %v", n, last)
	}
	if g := goroutinesDown(before); g > before {
		t.Errorf("%d goroutines after the cancelled loop, %d before", g, before)
	}
}

// goroutinesDown waits a little for the goroutine count to come down to
// want (a goroutine that has signalled its end may still be exiting) and
// returns it.
func goroutinesDown(want int) int {
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > want && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	return runtime.NumGoroutine()
}

// TestItemsParallelParts: row groups of more rows than readPartRows are
// read in parts, each seeking to its first row; the items (nested and
// repeated columns included) are those of a sequential read, in order.
func TestItemsParallelParts(t *testing.T) {
	var items [][]byte
	for i := range 3000 {
		items = append(items, s2gen.Item(i))
	}
	path, _ := writeFile(t, items, WriterOptions{RowGroupSize: 2600}) // parts of 2048 and 552 rows; then 400
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	read := func(f Filter) [][]byte {
		var got [][]byte
		for it, err := range r.Items(context.Background(), f) {
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, it)
		}
		return got
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	want := read(Filter{})
	if len(want) != len(items) {
		t.Fatalf("%d items read, want %d", len(want), len(items))
	}
	for _, procs := range []int{2, 3} {
		runtime.GOMAXPROCS(procs)
		got := read(Filter{})
		if !slices.EqualFunc(got, want, bytes.Equal) {
			t.Fatalf("GOMAXPROCS %d: the items differ from a sequential read", procs)
		}
		if got := read(Filter{MaxItems: 2300}); !slices.EqualFunc(got, want[:2300], bytes.Equal) {
			t.Fatalf("GOMAXPROCS %d, 2300 items at most: %d items, not the first 2300", procs, len(got))
		}
	}
}

// TestItemsParallelCorrupt: a row group that fails to decode ends a
// parallel read as it ends a sequential one: the items before it, in
// order, then its error.
func TestItemsParallelCorrupt(t *testing.T) {
	items := gridJSON(gridItems(400))
	path, _ := writeFile(t, items, WriterOptions{RowGroupSize: 20})
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	// Garble the data of row group 12.
	md := r.files[0].pf.Metadata().RowGroups[12].Columns[0].MetaData
	r.Close()
	for i := md.DataPageOffset; i < md.DataPageOffset+md.TotalCompressedSize && i < int64(len(data)); i++ {
		data[i] = 0xff
	}
	read := func() (ids []string, last error) {
		r, err := OpenReader(bytes.NewReader(data), int64(len(data)), "corrupt")
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		var got [][]byte
		for it, err := range r.Items(context.Background(), Filter{}) {
			if err != nil {
				last = err
				break
			}
			got = append(got, it)
		}
		return idsOf(t, got), last
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	want, wantErr := read()
	if wantErr == nil || len(want) != 12*20 {
		t.Fatalf("sequential read: %d items, error %v; want 240 items, then an error", len(want), wantErr)
	}
	runtime.GOMAXPROCS(4)
	got, gotErr := read()
	if !slices.Equal(got, want) || gotErr == nil || gotErr.Error() != wantErr.Error() {
		t.Errorf("parallel read: %d items, error %v; want %d, error %v", len(got), gotErr, len(want), wantErr)
	}
}

// gridJSON is the items' JSON.
func gridJSON(grid []gridItem) [][]byte {
	var items [][]byte
	for _, g := range grid {
		items = append(items, g.json)
	}
	return items
}

// openGrid writes 400 grid items in row groups of rows and opens the file.
func openGrid(t *testing.T, rows int) (*Reader, [][]byte) {
	items := gridJSON(gridItems(400))
	path, _ := writeFile(t, items, WriterOptions{RowGroupSize: rows})
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	return r, items
}
