package geo

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"
)

// vermont is the NAIP area pystac-client's tests search Planetary
// Computer with (testdata/recorded/index.json).
var vermont = orb.Polygon{{{-73.21, 43.99}, {-73.21, 44.05}, {-73.12, 44.05}, {-73.12, 43.99}, {-73.21, 43.99}}}

const vermontJSON = `{"type":"Polygon","coordinates":[[[-73.21,43.99],[-73.21,44.05],[-73.12,44.05],[-73.12,43.99],[-73.21,43.99]]]}`

func TestParseGeometry(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want orb.Geometry
	}{
		{"point", `{"type":"Point","coordinates":[-105.1019,40.1672]}`, orb.Point{-105.1019, 40.1672}},
		{"point with elevation", `{"type":"Point","coordinates":[-105.1019,40.1672,1600.5]}`, orb.Point{-105.1019, 40.1672}},
		{"polygon", vermontJSON, vermont},
		{"polygon with bbox and extra members", `{"type":"Polygon","bbox":[-73.21,43.99,-73.12,44.05],"crs":null,` + vermontJSON[len(`{"type":"Polygon",`):], vermont},
		{"polygon with hole", `{"type":"Polygon","coordinates":[
			[[0,0],[10,0],[10,10],[0,10],[0,0]],
			[[2,2],[2,4],[4,4],[4,2],[2,2]]]}`,
			orb.Polygon{{{0, 0}, {10, 0}, {10, 10}, {0, 10}, {0, 0}}, {{2, 2}, {2, 4}, {4, 4}, {4, 2}, {2, 2}}}},
		{"multipoint", `{"type":"MultiPoint","coordinates":[[1,2],[3,4]]}`, orb.MultiPoint{{1, 2}, {3, 4}}},
		{"linestring", `{"type":"LineString","coordinates":[[1,2],[3,4]]}`, orb.LineString{{1, 2}, {3, 4}}},
		{"multilinestring", `{"type":"MultiLineString","coordinates":[[[1,2],[3,4]],[[5,6],[7,8],[9,10]]]}`,
			orb.MultiLineString{{{1, 2}, {3, 4}}, {{5, 6}, {7, 8}, {9, 10}}}},
		{"multipolygon", `{"type":"MultiPolygon","coordinates":[[[[-73.21,43.99],[-73.21,44.05],[-73.12,44.05],[-73.12,43.99],[-73.21,43.99]]],[[[0,0],[1,0],[1,1],[0,0]]]]}`,
			orb.MultiPolygon{vermont, {{{0, 0}, {1, 0}, {1, 1}, {0, 0}}}}},
		{"geometrycollection", `{"type":"GeometryCollection","geometries":[{"type":"Point","coordinates":[1,2]},` + vermontJSON + `]}`,
			orb.Collection{orb.Point{1, 2}, vermont}},
		{"nested geometrycollection", `{"type":"GeometryCollection","geometries":[{"type":"GeometryCollection","geometries":[{"type":"Point","coordinates":[1,2]}]}]}`,
			orb.Collection{orb.Collection{orb.Point{1, 2}}}},
		{"feature", `{"type":"Feature","id":"x","properties":{"a":1},"geometry":` + vermontJSON + `}`, vermont},
		{"feature collection of one", `{"type":"FeatureCollection","features":[{"type":"Feature","properties":null,"geometry":` + vermontJSON + `}]}`, vermont},
		{"antimeridian-touching ring", `{"type":"Polygon","coordinates":[[[170,-10],[180,-10],[180,10],[170,10],[170,-10]]]}`,
			orb.Polygon{{{170, -10}, {180, -10}, {180, 10}, {170, 10}, {170, -10}}}},
		{"whitespace and BOM", "\uFEFF \n" + vermontJSON + "\n", vermont},

		{"wkt polygon", "POLYGON ((-73.21 43.99, -73.21 44.05, -73.12 44.05, -73.12 43.99, -73.21 43.99))", vermont},
		{"wkt lower case", "polygon((-73.21 43.99,-73.21 44.05,-73.12 44.05,-73.12 43.99,-73.21 43.99))", vermont},
		{"wkt point", "POINT (-105.1019 40.1672)", orb.Point{-105.1019, 40.1672}},
		{"wkt multipolygon", "MULTIPOLYGON (((0 0, 1 0, 1 1, 0 0)), ((2 2, 3 2, 3 3, 2 2)))",
			orb.MultiPolygon{{{{0, 0}, {1, 0}, {1, 1}, {0, 0}}}, {{{2, 2}, {3, 2}, {3, 3}, {2, 2}}}}},
		{"wkt geometrycollection", "GEOMETRYCOLLECTION (POINT (1 2), LINESTRING (0 0, 1 1))",
			orb.Collection{orb.Point{1, 2}, orb.LineString{{0, 0}, {1, 1}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseGeometry([]byte(tt.in))
			if err != nil {
				t.Fatalf("ParseGeometry: %v", err)
			}
			if !orb.Equal(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestParseGeometryErrors(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", "expected a GeoJSON geometry, Feature or FeatureCollection, or WKT, got nothing"},
		{"garbage", "hello world", `expected a GeoJSON geometry, Feature or FeatureCollection, or WKT, got "hello world"`},
		{"truncated json", `{"type":"Point","coordinates":[1,`, "invalid GeoJSON"},
		{"json array", `[1,2]`, "got \"[1,2]\""},
		{"no type", `{"coordinates":[1,2]}`, `type: expected a GeoJSON "type" string`},
		{"type is case sensitive", `{"TYPE":"Point","coordinates":[1,2]}`, `type: expected a GeoJSON "type" string`},
		{"unknown type", `{"type":"Circle","coordinates":[1,2]}`, `unknown GeoJSON type "Circle"`},
		{"unknown type without coordinates", `{"type":"Topology"}`, `unknown GeoJSON type "Topology"`},
		{"no coordinates", `{"type":"Point"}`, "coordinates: missing"},
		{"string coordinates", `{"type":"Point","coordinates":["-105.1","40.1"]}`, `coordinates[0]: expected a number, got the string "-105.1"`},
		{"string polygon coordinates", `{"type":"Polygon","coordinates":"POLYGON((0 0, 1 0, 1 1, 0 0))"}`, `coordinates: expected an array, got the string`},
		{"null coordinate", `{"type":"LineString","coordinates":[[1,2],[3,null]]}`, "coordinates[1][1]: expected a number, got null"},
		{"one number position", `{"type":"Point","coordinates":[1]}`, "coordinates: expected a position of 2 or 3 numbers, got 1 values"},
		{"four number position", `{"type":"Point","coordinates":[1,2,3,4]}`, "got 4 values"},
		{"position not array", `{"type":"LineString","coordinates":[[1,2],5]}`, "coordinates[1]: expected a position [lon, lat], got the number 5"},
		{"huge number", `{"type":"Point","coordinates":[1e400,0]}`, "coordinates[0]: 1e400 is not a finite number"},
		{"open ring", `{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1]]]}`,
			"coordinates[0]: the polygon ring is not closed: first position [0, 0] differs from last [0, 1]"},
		{"short ring", `{"type":"Polygon","coordinates":[[[0,0],[1,0],[0,0]]]}`, "coordinates[0]: a polygon ring needs at least 4 positions, got 3"},
		{"open hole", `{"type":"Polygon","coordinates":[[[0,0],[10,0],[10,10],[0,0]],[[2,2],[3,2],[3,3],[2,3]]]}`, "coordinates[1]: the polygon ring is not closed"},
		{"no rings", `{"type":"Polygon","coordinates":[]}`, "coordinates: the Polygon has no rings"},
		{"empty multipolygon", `{"type":"MultiPolygon","coordinates":[]}`, "the MultiPolygon is empty"},
		{"empty multipoint", `{"type":"MultiPoint","coordinates":[]}`, "the MultiPoint is empty"},
		{"short linestring", `{"type":"LineString","coordinates":[[0,0]]}`, "a LineString needs at least 2 positions, got 1"},
		{"latitude", `{"type":"Point","coordinates":[10,95]}`, "coordinates: latitude 95 out of range [-90, 90]"},
		{"longitude", `{"type":"MultiPoint","coordinates":[[0,0],[-200,0]]}`, "coordinates[1]: longitude -200 out of range [-180, 180]"},
		{"real item past -180", `{"type":"Polygon","coordinates":[[[-179.0013888888889,-89.99986111111112],[-179.0013888888889,-88.99986111111112],[-180.0013888888889,-88.99986111111112],[-180.0013888888889,-89.99986111111112],[-179.0013888888889,-89.99986111111112]]]}`,
			"coordinates[0][2]: longitude -180.0013888888889 out of range [-180, 180]"},
		{"empty geometrycollection", `{"type":"GeometryCollection","geometries":[]}`, "geometries: the GeometryCollection is empty"},
		{"geometrycollection member", `{"type":"GeometryCollection","geometries":[{"type":"Point","coordinates":[1,2]},{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1]]]}]}`,
			"geometries[1].coordinates[0]: the polygon ring is not closed"},
		{"geometrycollection not array", `{"type":"GeometryCollection","geometries":{}}`, "geometries: expected an array of geometries"},
		{"deep geometrycollection", strings.Repeat(`{"type":"GeometryCollection","geometries":[`, 20) + `{"type":"Point","coordinates":[1,2]}` + strings.Repeat("]}", 20), "nested more than 8 deep"},
		{"feature without geometry", `{"type":"Feature","properties":{},"geometry":null}`, "geometry: the Feature has no geometry"},
		{"feature with bad geometry", `{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[1,100]}}`, "geometry.coordinates: latitude 100 out of range"},
		{"feature collection of two", `{"type":"FeatureCollection","features":[{"type":"Feature","geometry":` + vermontJSON + `},{"type":"Feature","geometry":` + vermontJSON + `}]}`,
			"expected a FeatureCollection with exactly 1 feature, got 2"},
		{"empty feature collection", `{"type":"FeatureCollection","features":[]}`, "expected a FeatureCollection with exactly 1 feature, got 0"},
		{"feature collection without features", `{"type":"FeatureCollection"}`, `"features": expected an array of Features`},
		{"feature collection of a geometry", `{"type":"FeatureCollection","features":[` + vermontJSON + `]}`, `features[0].type: expected "Feature", got "Polygon"`},
		{"feature collection bad member", `{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[1,"x"]}}]}`,
			`features[0].geometry.coordinates[1]: expected a number, got the string "x"`},
		{"wkt open ring", "POLYGON ((0 0, 1 0, 1 1, 0 1))", "coordinates[0]: the polygon ring is not closed"},
		{"wkt syntax", "POLYGON ((0 0, 1 0, 1 1, 0 0)", "invalid WKT"},
		{"wkt nan", "POINT (NaN 0)", "coordinates[0]: NaN is not a finite number"},
		{"wkt latitude", "POINT (0 91)", "latitude 91 out of range"},
		{"wkt empty", "POLYGON EMPTY", "the Polygon has no rings"},
		{"wkt z", "POINT Z (1 2 3)", "WKT with Z or M coordinates is not supported"},
		{"wkt zm", "polygon zm((0 0 0 0, 1 0 0 0, 1 1 0 0, 0 0 0 0))", "WKT with Z or M coordinates is not supported"},
		{"wkt 3 numbers", "POINT (1 2 3)", "invalid WKT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := ParseGeometry([]byte(tt.in))
			if err == nil {
				t.Fatalf("got %#v, want error containing %q", g, tt.want)
			}
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Errorf("error %T is not *InputError", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %q, want it to contain %q", err, tt.want)
			}
			if len(err.Error()) > 400 {
				t.Errorf("error is %d bytes long", len(err.Error()))
			}
		})
	}
}

func TestParseGeometryHugeInputNotQuoted(t *testing.T) {
	// A 0.5 MB polygon with an error at its very end.
	var b strings.Builder
	b.WriteString(`{"type":"Polygon","coordinates":[[`)
	for i := range 20000 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`[1.123456789,2.123456789]`)
	}
	b.WriteString(`,[3,4]]]}`)
	_, err := ParseGeometry([]byte(b.String()))
	if err == nil {
		t.Fatal("no error")
	}
	if len(err.Error()) > 200 {
		t.Errorf("error is %d bytes: %.200s", len(err.Error()), err)
	}
	var ie *InputError
	if errors.As(err, &ie) && len(ie.Input) > maxQuoted {
		t.Errorf("InputError.Input is %d bytes", len(ie.Input))
	}
}

func TestReadGeometry(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.geojson")
	if err := os.WriteFile(bad, []byte(`{"type":"Point","coordinates":[0,100]}`), 0o600); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name, arg, stdin string
		want             orb.Geometry
		wantErr          string
	}{
		{name: "inline geojson", arg: vermontJSON, want: vermont},
		{name: "inline geojson with spaces", arg: "  " + vermontJSON, want: vermont},
		{name: "inline wkt", arg: "POINT(1 2)", want: orb.Point{1, 2}},
		{name: "geojson file", arg: "testdata/aoi.geojson", want: vermont},
		{name: "wkt file", arg: "testdata/aoi.wkt", want: vermont},
		{name: "stdin geojson", arg: "-", stdin: vermontJSON + "\n", want: vermont},
		{name: "stdin wkt", arg: "-", stdin: "POINT (1 2)\n", want: orb.Point{1, 2}},
		{name: "stdin empty", arg: "-", stdin: "", wantErr: "got nothing"},
		{name: "empty arg", arg: "", wantErr: "got nothing"},
		{name: "missing file", arg: "testdata/nope.geojson", wantErr: `"testdata/nope.geojson" is neither a readable file nor inline GeoJSON or WKT`},
		{name: "missing file named like wkt", arg: "polygon.geojson", wantErr: `"polygon.geojson" is neither a readable file`},
		{name: "directory", arg: "testdata", wantErr: "is a directory"},
		{name: "bad file content", arg: bad, wantErr: "bad.geojson: coordinates: latitude 100 out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := ReadGeometry(tt.arg, strings.NewReader(tt.stdin))
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("got %v, want error containing %q", g, tt.wantErr)
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %q, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !orb.Equal(g, tt.want) {
				t.Errorf("got %#v, want %#v", g, tt.want)
			}
		})
	}

	_, err := ReadGeometry("testdata/nope.geojson", nil)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: errors.Is(err, fs.ErrNotExist) = false for %v", err)
	}
}

func TestReadGeometryTooLarge(t *testing.T) {
	_, err := ReadGeometry("-", spaces{})
	if err == nil || !strings.Contains(err.Error(), "more than 16 MiB") {
		t.Errorf("err = %v", err)
	}
}

// spaces is an endless stream of blanks, like `yes " " | stacq ...`.
type spaces struct{}

var blanks = bytes.Repeat([]byte(" "), 64<<10)

func (spaces) Read(p []byte) (int, error) { return copy(p, blanks), nil }

// The intersects geometries pystac-client sent in the recorded requests
// parse, and GeometryJSON gives back the same GeoJSON.
func TestGeometryJSONRecorded(t *testing.T) {
	data, err := os.ReadFile("../testdata/recorded/index.json")
	if err != nil {
		t.Fatal(err)
	}
	var index []struct {
		File        string
		RequestBody struct {
			Intersects json.RawMessage
		} `json:"request_body"`
	}
	if err := json.Unmarshal(data, &index); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range index {
		in := e.RequestBody.Intersects
		if in == nil {
			continue
		}
		n++
		g, err := ParseGeometry(in)
		if err != nil {
			t.Errorf("%s: %v", e.File, err)
			continue
		}
		out, err := GeometryJSON(g)
		if err != nil {
			t.Fatalf("%s: GeometryJSON: %v", e.File, err)
		}
		var want, got any
		json.Unmarshal(in, &want)
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("%s: GeometryJSON gave invalid JSON %s", e.File, out)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: GeometryJSON = %s, want %s", e.File, out, in)
		}
	}
	if n == 0 {
		t.Fatal("no intersects in the recorded requests")
	}
}

func TestGeometryJSON(t *testing.T) {
	out, err := GeometryJSON(vermont)
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != vermontJSON {
		t.Errorf("GeometryJSON = %s, want %s", out, vermontJSON)
	}
	if _, err := GeometryJSON(nil); err == nil {
		t.Error("GeometryJSON(nil): no error")
	}
}

func FuzzParseGeometry(f *testing.F) {
	for _, s := range []string{
		vermontJSON,
		`{"type":"Point","coordinates":[-105.1019,40.1672]}`,
		`{"type":"Feature","geometry":{"type":"LineString","coordinates":[[1,2],[3,4,5]]}}`,
		`{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"MultiPoint","coordinates":[[1,2]]}}]}`,
		`{"type":"GeometryCollection","geometries":[{"type":"Point","coordinates":[1,2]}]}`,
		`{"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[1,1],[0,0]]]]}`,
		`{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1]]]}`,
		"POLYGON ((-73.21 43.99, -73.21 44.05, -73.12 44.05, -73.12 43.99, -73.21 43.99))",
		"MULTIPOLYGON (((0 0, 1 0, 1 1, 0 0)), ((2 2, 3 2, 3 3, 2 2)))",
		"GEOMETRYCOLLECTION (POINT (1 2), LINESTRING (0 0, 1 1))",
		"MULTILINESTRING ((0 0, 1 1), (2 2, 3 3))", "MULTIPOINT ((1 2), (3 4))", "POINT EMPTY",
		strings.Repeat("GEOMETRYCOLLECTION(", 8) + "MULTIPOLYGON(((0 0, 1 0, 1 1, 0 0)))" + strings.Repeat(")", 8),
		strings.Repeat("GEOMETRYCOLLECTION(", 40) + "POINT(1 2)" + strings.Repeat(")", 40),
		strings.Repeat(`{"type":"GeometryCollection","geometries":[`, 12) + `{"type":"Point","coordinates":[1,2]}` + strings.Repeat("]}", 12),
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		g, err := ParseGeometry(data)
		if err != nil {
			requireInputError(t, err)
			return
		}
		if w := bytes.TrimSpace(data); len(w) > 0 && w[0] != '{' && wktDepth(string(w)) > maxWKTDepth {
			t.Fatalf("WKT nested %d deep parsed", wktDepth(string(w)))
		}
		out, err := GeometryJSON(g)
		if err != nil {
			t.Fatalf("GeometryJSON(%#v): %v", g, err)
		}
		again, err := ParseGeometry(out)
		if err != nil {
			t.Fatalf("ParseGeometry(%s) (from %q): %v", out, data, err)
		}
		if !orb.Equal(g, again) {
			t.Fatalf("round trip %q -> %#v -> %s -> %#v", data, g, out, again)
		}
	})
}

// GeometryCollections nested 20,000 deep in WKT: refused before orb's
// decoder, which recurses and copies per level, sees them; 8 deep (the
// GeoJSON bound) with a MULTIPOLYGON inside is fine.
func TestWKTNestingBounded(t *testing.T) {
	nested := func(n int, inner string) string {
		return strings.Repeat("GEOMETRYCOLLECTION(", n) + inner + strings.Repeat(")", n)
	}
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	_, err := ParseGeometry([]byte(nested(20000, "POINT(1 2)")))
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	var ie *InputError
	if !errors.As(err, &ie) || !strings.Contains(ie.Reason, "nested 20001 parentheses deep") {
		t.Fatalf("err = %v", err)
	}
	if d, alloc := time.Since(start), after.TotalAlloc-before.TotalAlloc; d > time.Second || alloc > 10<<20 {
		t.Errorf("refusing took %v and %d MiB", d, alloc>>20)
	}
	if _, err := ParseGeometry([]byte(nested(maxCollectionDepth, "MULTIPOLYGON(((0 0, 1 0, 1 1, 0 0)))"))); err != nil {
		t.Errorf("GEOMETRYCOLLECTIONs %d deep: %v", maxCollectionDepth, err)
	}
}
