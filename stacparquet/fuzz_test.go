package stacparquet

import (
	"bytes"
	"context"
	"testing"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// FuzzInferSchema writes two items whose properties are the fuzzed JSON
// objects into one file and reads them back: whatever the two property
// sets, one schema must hold both, and each accepted item must read back
// as the package documentation says.
func FuzzInferSchema(f *testing.F) {
	for _, seed := range [][2]string{
		{`{"a":1}`, `{"a":1.5}`},
		{`{"a":"x"}`, `{"a":2}`},
		{`{"a":[1,2]}`, `{"a":{"b":1}}`},
		{`{"a":{"b":[{"c":1}]}}`, `{"a":{"b":[{"d":"x"},null]}}`},
		{`{"datetime":"2023-01-01T00:00:00Z"}`, `{"datetime":"not a time"}`},
		{`{"datetime":null,"start_datetime":"2023-01-01T00:00:00+05:00"}`, `{"created":"2023-01-01T00:00:00.1234567Z"}`},
		{`{"proj:geometry":{"type":"Point","coordinates":[1,2]}}`, `{"proj:geometry":{"type":"Nope"}}`},
		{`{"e":[],"f":{},"g":[[]]}`, `{"e":[null],"f":{"x":null}}`},
		{`{"n":123456789012345678901234567890}`, `{"n":-0}`},
		{`{"id":"shadow","links":3}`, `{"x":true}`},
	} {
		f.Add([]byte(seed[0]), []byte(seed[1]))
	}
	f.Fuzz(func(t *testing.T, a, b []byte) {
		var items [][]byte
		var buf bytes.Buffer
		w, err := NewWriter(&buf, WriterOptions{TempDir: t.TempDir(), RowGroupSize: 1})
		if err != nil {
			t.Fatal(err)
		}
		for i, props := range [][]byte{a, b} {
			var m map[string]any
			if json.Unmarshal(props, &m) != nil {
				continue // not an object, or not one JSON can decode: nothing to compare
			}
			it := []byte(`{"type":"Feature","id":"i` + string(rune('0'+i)) + `","geometry":null,"properties":` + string(props) + `}`)
			if err := w.Write(it); err != nil {
				continue // refused: it must not be in the file
			}
			items = append(items, it)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		r, err := OpenReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()), "fuzz")
		if err != nil {
			t.Fatal(err)
		}
		var got [][]byte
		for it, err := range r.Items(context.Background(), Filter{}) {
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, it)
		}
		if len(got) != len(items) {
			t.Fatalf("read %d items, wrote %d", len(got), len(items))
		}
		for i := range items {
			want := expected(t, items[i])
			if d := diff(want, decode(t, got[i])); d != "" {
				t.Fatalf("item %s read back as %s:\n%s", items[i], got[i], d)
			}
		}
	})
}

// FuzzReadFile opens mangled stac-geoparquet files: an error is fine, a
// panic or invalid JSON is not.
func FuzzReadFile(f *testing.F) {
	items := [][]byte{
		item("a", "c", `"datetime":"2023-01-01T00:00:00Z","n":[1,2,{"x":"y"}],"s":"t"`),
		item("b", "c", `"datetime":null,"start_datetime":"2023-01-01T00:00:00Z","n":[],"o":{"p":[[1]]}`),
	}
	var buf bytes.Buffer
	w, err := NewWriter(&buf, WriterOptions{TempDir: f.TempDir(), Compression: Uncompressed})
	if err != nil {
		f.Fatal(err)
	}
	for _, it := range items {
		if err := w.Write(it); err != nil {
			f.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := OpenReader(bytes.NewReader(data), int64(len(data)), "fuzz")
		if err != nil {
			return
		}
		for _, flt := range []Filter{{}, {BBox: []float64{0, 0, 20, 30}, Start: gridEpoch}} {
			for it, err := range r.Items(context.Background(), flt) {
				if err != nil {
					break
				}
				if !jsontext.Value(it).IsValid() {
					t.Fatalf("invalid JSON: %q", it)
				}
			}
		}
	})
}

// FuzzWKB decodes arbitrary bytes as WKB: an error is fine, a panic or
// invalid JSON is not; what decodes must re-encode to the same GeoJSON.
func FuzzWKB(f *testing.F) {
	for _, g := range []string{
		`{"type":"Point","coordinates":[1,2]}`,
		`{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}`,
		`{"type":"MultiLineString","coordinates":[[[0,0,1],[1,1,2]]]}`,
		`{"type":"GeometryCollection","geometries":[{"type":"MultiPoint","coordinates":[[1,2]]}]}`,
	} {
		geom, err := parseGeometry([]byte(g))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(geom.appendWKB(nil))
	}
	f.Fuzz(func(t *testing.T, wkb []byte) {
		js, err := appendGeoJSON(nil, wkb)
		if err != nil {
			return
		}
		if !jsontext.Value(js).IsValid() {
			t.Fatalf("invalid JSON %q", js)
		}
		g, err := parseGeometry(js)
		if err != nil {
			return // NaN coordinates, mixed dimensions: not GeoJSON
		}
		again, err := appendGeoJSON(nil, g.appendWKB(nil))
		if err != nil || !bytes.Equal(again, js) {
			t.Fatalf("%s re-encodes as %s (%v)", js, again, err)
		}
		r := rect{w: -10, s: -10, e: 10, n: 10}
		r.geometryHits(wkb)
		wkbBounds(wkb)
	})
}
