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
	writeAndClose(f, w, items)
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
				// Compact too: the CLI writes the items as they are.
				c := jsontext.Value(bytes.Clone(it))
				if err := c.Compact(); err != nil || !bytes.Equal(c, it) {
					t.Fatalf("not compact JSON: %q", it)
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

// FuzzTape: the tape parser accepts exactly the JSON that jsontext does
// (duplicate names allowed), and its tape holds every value where the
// text has it.
func FuzzTape(f *testing.F) {
	for _, s := range []string{
		`{"a":[1,-2.5e3,"x\u00e9\ud83d\ude00",true,false,null,{}],"b":{"c":[]}}`,
		` [ 0 , 1E+2, -0.0 ] `, `"\ud800"`, `"\udc00\ud800"`, "\"\xff\"", `01`, `1.`, `-`, `[1,]`, `{"a" 1}`,
		`{"a":1}{}`, "\"a\tb\"", `"\/\b\f\n\r\t\"\\"`, `tru`, `nul`, `{"a":1,"a":2}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var tp tape
		err := tp.parse(b)
		valid := jsontext.Value(b).IsValid(jsontext.AllowDuplicateNames(true))
		if (err == nil) != valid {
			t.Fatalf("%q: parse error %v, jsontext valid %t", b, err, valid)
		}
		if err != nil {
			return
		}
		want := jsontext.Value(bytes.Clone(b))
		if err := want.Compact(); err != nil {
			t.Fatal(err)
		}
		var got []byte
		var emit func(i uint32) uint32
		emit = func(i uint32) uint32 {
			e := tp.t[i]
			switch e.kind {
			case '{', '[':
				got = append(got, e.kind)
				for j, k := i+1, 0; j < e.next; k++ {
					if k > 0 {
						got = append(got, ',')
					}
					if e.kind == '{' {
						got = append(got, tp.raw(j)...)
						got = append(got, ':')
						j++
					}
					j = emit(j)
				}
				got = append(got, e.kind+2)
			default:
				got = append(got, tp.raw(i)...)
			}
			return e.next
		}
		if end := emit(0); end != uint32(len(tp.t)) {
			t.Fatalf("%q: the tape has %d entries, the value %d", b, len(tp.t), end)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("%q: tape gives %s, want %s", b, got, want)
		}
	})
}
