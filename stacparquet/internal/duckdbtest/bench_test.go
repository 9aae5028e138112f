package duckdbtest

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stacq/stacq/stacparquet"
	"github.com/stacq/stacq/stacparquet/internal/s2gen"
)

// TestSearchBenchmark compares a bbox search of a stac-geoparquet file by
// stacparquet's Reader with DuckDB's over the same file. It runs when
// STACPARQUET_BENCH is a number of items:
//
//	STACPARQUET_BENCH=100000 go test -run TestSearchBenchmark -v .
func TestSearchBenchmark(t *testing.T) {
	n, err := strconv.Atoi(os.Getenv("STACPARQUET_BENCH"))
	if err != nil || n <= 0 {
		t.Skip("set STACPARQUET_BENCH=N to compare searches of N items")
	}
	path := filepath.Join(t.TempDir(), "s2.parquet")
	w, err := stacparquet.Create(path, stacparquet.WriterOptions{TempDir: t.TempDir(), Concurrent: true})
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if err := w.Write(s2gen.Item(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(path)
	t.Logf("%d items, %d bytes of stac-geoparquet", n, st.Size())

	bbox := []float64{0, 0, 12, 16}
	best := func(f func() int) (time.Duration, int) {
		var d time.Duration
		var count int
		for i := range 3 {
			start := time.Now()
			count = f()
			if e := time.Since(start); i == 0 || e < d {
				d = e
			}
		}
		return d, count
	}
	d1, c1 := best(func() int {
		r, err := stacparquet.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		c := 0
		for _, err := range r.Items(context.Background(), stacparquet.Filter{BBox: bbox}) {
			if err != nil {
				t.Fatal(err)
			}
			c++
		}
		return c
	})
	t.Logf("stacparquet Items (JSON out, exact geometry test): %d items in %v", c1, d1)

	db := openDB(t)
	where := " FROM read_parquet(" + q(path) + ") WHERE bbox.xmin <= 12 AND bbox.xmax >= 0 AND bbox.ymin <= 16 AND bbox.ymax >= 0"
	d2, c2 := best(func() int {
		var c int
		if err := db.QueryRow("SELECT count(*)" + where).Scan(&c); err != nil {
			t.Fatal(err)
		}
		return c
	})
	t.Logf("DuckDB count(*) (bbox only): %d items in %v", c2, d2)
	d3, c3 := best(func() int {
		rows, err := db.Query("SELECT to_json(t)::VARCHAR FROM (SELECT *" + where + ") t")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		c := 0
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				t.Fatal(err)
			}
			c++
		}
		return c
	})
	t.Logf("DuckDB rows as JSON (bbox only): %d items in %v", c3, d3)
	if c1 > c2 || c2 != c3 {
		t.Errorf("counts: stacparquet %d, DuckDB %d and %d", c1, c2, c3)
	}
}
