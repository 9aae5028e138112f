package stacparquet

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"testing"
	"time"
)

// gridItem is a 1°×1° square item at (lon, lat) of collection c.
type gridItem struct {
	id         string
	collection string
	lon, lat   float64
	dt         time.Time
	json       []byte
}

var gridEpoch = time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)

// gridItems makes n items sorted by position, so that row groups of a few
// items cover small areas and their statistics allow skipping.
func gridItems(n int) []gridItem {
	var out []gridItem
	for i := range n {
		lon := float64(i%20)*2 - 20
		lat := float64(i/20)*2 - 10
		c := []string{"sentinel-2-l2a", "landsat-c2-l2", "naip"}[i%3]
		dt := gridEpoch.Add(time.Duration(i) * 36 * time.Hour)
		id := fmt.Sprintf("item-%04d", i)
		js := fmt.Sprintf(`{"type":"Feature","stac_version":"1.0.0","id":%q,"collection":%q,`+
			`"geometry":{"type":"Polygon","coordinates":[[[%g,%g],[%g,%g],[%g,%g],[%g,%g],[%g,%g]]]},"bbox":[%g,%g,%g,%g],`+
			`"properties":{"datetime":%q,"eo:cloud_cover":%d},"links":[{"rel":"self","href":"https://x/%s"}],"assets":{"data":{"href":"https://x/%s.tif"}}}`,
			id, c, lon, lat, lon+1, lat, lon+1, lat+1, lon, lat+1, lon, lat, lon, lat, lon+1, lat+1, dt.Format(time.RFC3339), i%100, id, id)
		out = append(out, gridItem{id: id, collection: c, lon: lon, lat: lat, dt: dt, json: []byte(js)})
	}
	return out
}

func (g gridItem) matches(f Filter) bool {
	if len(f.IDs) > 0 && !slices.Contains(f.IDs, g.id) {
		return false
	}
	if len(f.Collections) > 0 && !slices.Contains(f.Collections, g.collection) {
		return false
	}
	if !f.Start.IsZero() && g.dt.Before(f.Start) {
		return false
	}
	if !f.End.IsZero() && g.dt.After(f.End) {
		return false
	}
	if r := f.rect(); r != nil {
		if !r.matchBBox([]float64{g.lon, g.lat, g.lon + 1, g.lat + 1}) {
			return false
		}
	}
	return true
}

func idsOf(t testing.TB, items [][]byte) []string {
	var ids []string
	for _, it := range items {
		ids = append(ids, decode(t, it).(map[string]any)["id"].(string))
	}
	return ids
}

// TestFilter checks every filter against a brute-force selection, and that
// the row groups' statistics let the reader skip what cannot match.
func TestFilter(t *testing.T) {
	grid := gridItems(400)
	var items [][]byte
	for _, g := range grid {
		items = append(items, g.json)
	}
	path, _ := writeFile(t, items, WriterOptions{RowGroupSize: 20}) // one latitude row each
	at := func(days int) time.Time { return gridEpoch.Add(time.Duration(days) * 24 * time.Hour) }
	tests := []struct {
		name      string
		f         Filter
		maxGroups int // row groups read at most (-1: not checked)
	}{
		{"all", Filter{}, 20},
		{"bbox", Filter{BBox: []float64{-5.5, -3.5, 0.5, 0.5}}, 3},
		{"bbox touching an edge", Filter{BBox: []float64{-21, -11, -20, -10}}, 1},
		{"bbox 3D", Filter{BBox: []float64{-5.5, -3.5, -100, 0.5, 0.5, 100}}, 3},
		{"bbox outside", Filter{BBox: []float64{100, 50, 110, 60}}, 0},
		{"bbox across the antimeridian", Filter{BBox: []float64{170, -10, -19.5, -8}}, 2},
		{"datetime interval", Filter{Start: at(30), End: at(60)}, 2},
		{"datetime open start", Filter{End: at(10)}, 1},
		{"datetime open end", Filter{Start: at(590)}, 1},
		{"collections", Filter{Collections: []string{"naip", "landsat-c2-l2"}}, 20},
		{"collection outside the statistics", Filter{Collections: []string{"aaa"}}, 0},
		{"collection inside the statistics", Filter{Collections: []string{"modis"}}, 20},
		{"ids", Filter{IDs: []string{"item-0005", "item-0399", "item-9999"}}, 2},
		{"max items", Filter{MaxItems: 7}, 1},
		{"combined", Filter{BBox: []float64{-20, -10, 20, 10}, Start: at(0), End: at(300), Collections: []string{"naip"}}, -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var want []string
			for _, g := range grid {
				if g.matches(tc.f) {
					want = append(want, g.id)
				}
				if tc.f.MaxItems > 0 && len(want) == tc.f.MaxItems {
					break
				}
			}
			r, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			var got [][]byte
			for it, err := range r.Items(context.Background(), tc.f) {
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, it)
			}
			if ids := idsOf(t, got); !slices.Equal(ids, want) {
				t.Errorf("got %d items %v\nwant %d %v", len(ids), ids, len(want), want)
			}
			if n := r.groupsRead.Load(); tc.maxGroups >= 0 && n > int64(tc.maxGroups) {
				t.Errorf("read %d row groups, want at most %d", n, tc.maxGroups)
			}
		})
	}
}

// TestFilterGeometryExact: an item whose bbox meets the filter but whose
// geometry does not is left out; one that contains the filter is kept.
func TestFilterGeometryExact(t *testing.T) {
	items := [][]byte{
		// A triangle over the lower left half of [0,0,10,10].
		[]byte(`{"type":"Feature","id":"tri","geometry":{"type":"Polygon","coordinates":[[[0,0],[10,0],[0,10],[0,0]]]},"bbox":[0,0,10,10],"properties":{"datetime":"2023-01-01T00:00:00Z"}}`),
		// A square with a hole at [4,4,6,6].
		[]byte(`{"type":"Feature","id":"donut","geometry":{"type":"Polygon","coordinates":[[[0,0],[10,0],[10,10],[0,10],[0,0]],[[4,4],[6,4],[6,6],[4,6],[4,4]]]},"bbox":[0,0,10,10],"properties":{"datetime":"2023-01-01T00:00:00Z"}}`),
		// A line along the diagonal.
		[]byte(`{"type":"Feature","id":"line","geometry":{"type":"LineString","coordinates":[[0,0],[10,10]]},"bbox":[0,0,10,10],"properties":{"datetime":"2023-01-01T00:00:00Z"}}`),
		// No geometry: its bbox decides.
		[]byte(`{"type":"Feature","id":"nogeom","geometry":null,"bbox":[8,8,9,9],"properties":{"datetime":"2023-01-01T00:00:00Z"}}`),
	}
	path, _ := writeFile(t, items, WriterOptions{})
	tests := []struct {
		bbox []float64
		want []string
	}{
		{[]float64{8, 6, 9, 7}, []string{"donut"}},                 // beyond the triangle's hypotenuse, off the line
		{[]float64{8.2, 8.5, 8.4, 9}, []string{"donut", "nogeom"}}, // above the line
		{[]float64{4.5, 4.5, 5.5, 5.5}, []string{"tri", "line"}},   // in the hole
		{[]float64{1, 1, 2, 2}, []string{"tri", "donut", "line"}},
		{[]float64{2, 1, 3, 1.5}, []string{"tri", "donut"}},
	}
	for _, tc := range tests {
		got := idsOf(t, readAll(t, path, Filter{BBox: tc.bbox}))
		if !slices.Equal(got, tc.want) {
			t.Errorf("bbox %v: got %v, want %v", tc.bbox, got, tc.want)
		}
	}
}

// TestFilterAntimeridianItems: items whose bbox crosses the antimeridian
// match filters on either side, and the statistics do not skip them.
func TestFilterAntimeridianItems(t *testing.T) {
	items := [][]byte{
		[]byte(`{"type":"Feature","id":"cross","geometry":{"type":"MultiPolygon","coordinates":[[[[179,0],[180,0],[180,1],[179,1],[179,0]]],[[[-180,0],[-179,0],[-179,1],[-180,1],[-180,0]]]]},"bbox":[179,0,-179,1],"properties":{"datetime":"2023-01-01T00:00:00Z"}}`),
		[]byte(`{"type":"Feature","id":"east","geometry":{"type":"Point","coordinates":[170,0.5]},"bbox":[170,0.5,170,0.5],"properties":{"datetime":"2023-01-01T00:00:00Z"}}`),
	}
	path, _ := writeFile(t, items, WriterOptions{})
	for _, tc := range []struct {
		bbox []float64
		want []string
	}{
		{[]float64{-179.5, 0, -179.2, 1}, []string{"cross"}},
		{[]float64{179.2, 0, 179.5, 1}, []string{"cross"}},
		{[]float64{169, 0, 171, 1}, []string{"east"}},
		{[]float64{175, 0, -175, 1}, []string{"cross"}},
		{[]float64{-10, 0, 10, 1}, nil},
	} {
		if got := idsOf(t, readAll(t, path, Filter{BBox: tc.bbox})); !slices.Equal(got, tc.want) {
			t.Errorf("bbox %v: got %v, want %v", tc.bbox, got, tc.want)
		}
	}
}

func TestFilterValidate(t *testing.T) {
	for _, f := range []Filter{
		{BBox: []float64{1, 2, 3}},
		{BBox: []float64{0, 10, 1, 5}},
		{Start: gridEpoch, End: gridEpoch.Add(-time.Hour)},
		{MaxItems: -1},
	} {
		if f.Validate() == nil {
			t.Errorf("%+v validated", f)
		}
	}
}

// TestItemsStopsOnCancel: a cancelled context ends the iteration with its
// error at the next row.
func TestItemsStopsOnCancel(t *testing.T) {
	var items [][]byte
	for _, g := range gridItems(300) {
		items = append(items, g.json)
	}
	path, _ := writeFile(t, items, WriterOptions{RowGroupSize: 1000})
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n := 0
	var last error
	for _, err := range r.Items(ctx, Filter{}) {
		if err != nil {
			last = err
			break
		}
		n++
		if n == 3 {
			cancel()
		}
	}
	if !errors.Is(last, context.Canceled) || n > 3+64 {
		t.Fatalf("after cancel: %d items, error %v", n, last)
	}
}

// TestCloseContextCancelled: a writer whose context is done stops, removes
// its spool and its file.
func TestCloseContextCancelled(t *testing.T) {
	dir := t.TempDir()
	w, err := Create(dir+"/x.parquet", WriterOptions{TempDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range gridItems(50) {
		if err := w.Write(g.json); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := w.CloseContext(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("CloseContext = %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("left behind: %v", entries)
	}
}
