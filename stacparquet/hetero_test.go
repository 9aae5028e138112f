package stacparquet

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// item builds a small item with the given properties JSON (an object's
// members) and extra top-level members.
func item(id, collection, props string, extra ...string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, `{"type":"Feature","stac_version":"1.0.0","id":%q`, id)
	if collection != "" {
		fmt.Fprintf(&b, `,"collection":%q`, collection)
	}
	b.WriteString(`,"geometry":{"type":"Point","coordinates":[10.5,20.25]},"bbox":[10.5,20.25,10.5,20.25]`)
	b.WriteString(`,"properties":{` + props + `}`)
	b.WriteString(`,"links":[],"assets":{}`)
	for _, e := range extra {
		b.WriteString("," + e)
	}
	b.WriteString("}")
	return []byte(b.String())
}

// TestHeterogeneous writes items whose properties differ in presence, null
// and type into one file: the inferred column types are the widest, and
// every item reads back as written.
func TestHeterogeneous(t *testing.T) {
	tests := []struct {
		name    string
		items   [][]byte
		columns map[string]string // column → describe() of its inferred type
		json    []string          // paths stored as JSON text
	}{
		{
			name: "int widens to float",
			items: [][]byte{
				item("a", "c", `"datetime":"2023-01-01T00:00:00Z","n":5`),
				item("b", "c", `"datetime":"2023-01-02T00:00:00Z","n":5.5`),
			},
			columns: map[string]string{"n": "number", "datetime": "timestamp"},
		},
		{
			name: "absent, null and present",
			items: [][]byte{
				item("a", "c", `"datetime":"2023-01-01T00:00:00Z","x":"one"`),
				item("b", "c", `"datetime":"2023-01-01T00:00:00Z","x":null`),
				item("c", "c", `"datetime":"2023-01-01T00:00:00Z"`),
				item("d", "c", `"datetime":null,"start_datetime":"2023-01-01T00:00:00Z","end_datetime":"2023-02-01T00:00:00+02:00"`),
			},
			columns: map[string]string{"x": "string", "start_datetime": "timestamp", "end_datetime": "timestamp"},
		},
		{
			name: "string and number mix into JSON text",
			items: [][]byte{
				item("a", "c", `"datetime":"2023-01-01T00:00:00Z","v":"abc","w":[1,"x",true,null,{"k":1.50}]`),
				item("b", "c", `"datetime":"2023-01-01T00:00:00Z","v":12,"w":[2]`),
				item("c", "c", `"datetime":"2023-01-01T00:00:00Z","v":{"deep":[1,2]}`),
			},
			columns: map[string]string{"v": "JSON", "w": "array<JSON>"},
			json:    []string{"v", "w[]"},
		},
		{
			name: "different collections, different properties",
			items: [][]byte{
				item("a", "sentinel-2", `"datetime":"2023-01-01T00:00:00Z","s2:tile":"31UDQ","eo:cloud_cover":12`),
				item("b", "landsat", `"datetime":"2023-01-01T00:00:00Z","landsat:wrs_row":"027","eo:cloud_cover":0.5`),
				item("c", "", `"datetime":"2023-01-01T00:00:00Z"`),
			},
			columns: map[string]string{"s2:tile": "string", "landsat:wrs_row": "string", "eo:cloud_cover": "number", "collection": "string"},
		},
		{
			name: "nested objects and lists of objects widen",
			items: [][]byte{
				item("a", "c", `"datetime":"2023-01-01T00:00:00Z","o":{"a":1,"l":[{"x":1}]}`),
				item("b", "c", `"datetime":"2023-01-01T00:00:00Z","o":{"b":"t","l":[{"y":"z"},{"x":2.5,"y":null}]}`),
				item("c", "c", `"datetime":"2023-01-01T00:00:00Z","o":{"l":[]}`),
				item("d", "c", `"datetime":"2023-01-01T00:00:00Z","o":{"l":null}`),
			},
			columns: map[string]string{"o": "object{a:integer,l:array<object{x:number,y:string}>,b:string}"},
		},
		{
			name: "empty containers",
			items: [][]byte{
				item("a", "c", `"datetime":"2023-01-01T00:00:00Z","e":[],"f":{},"g":[null],"h":[[]]`),
				item("b", "c", `"datetime":"2023-01-01T00:00:00Z","e":[],"f":{},"g":[],"h":[[],[]]`),
			},
			columns: map[string]string{"e": "array<string>", "f": "JSON", "g": "array<string>", "h": "array<array<string>>"},
		},
		{
			name: "timestamps that are not RFC 3339 keep the column a string",
			items: [][]byte{
				item("a", "c", `"datetime":"2023-01-01T00:00:00Z","created":"2023-01-01T00:00:00Z","updated":"2023-01-01T00:00:00.123456Z"`),
				item("b", "c", `"datetime":"2023-01-01T00:00:00Z","created":"yesterday","updated":"2023-01-01T05:00:00.5-05:00"`),
			},
			columns: map[string]string{"created": "string", "updated": "timestamp"},
		},
		{
			name: "big numbers, escapes and unicode",
			items: [][]byte{
				item("a\"b", "c", `"datetime":"2023-01-01T00:00:00Z","big":123456789012345678901234567890,"i":9007199254740993,"s":"caf\u00e9 \"q\" \\ \n","na\"me":1,"ñ":"ü"`),
				item("é", "c", `"datetime":"2023-01-01T00:00:00Z","big":1,"i":-1,"s":"","ñ":"x"`),
			},
			columns: map[string]string{"big": "number", "i": "integer", "s": "string", `na"me`: "integer", "ñ": "string"},
		},
		{
			name: "collisions and extra top-level members",
			items: [][]byte{
				item("a", "c", `"datetime":"2023-01-01T00:00:00Z","id":"shadow","links":1,"score":3`, `"score":9`, `"rank":1`),
				item("b", "c", `"datetime":"2023-01-01T00:00:00Z"`, `"rank":2`),
			},
			columns: map[string]string{"score": "integer", "rank": "integer", "id": "string", "links": "array<string>"},
		},
		{
			name: "geometries, 3D bboxes and proj:geometry",
			items: [][]byte{
				[]byte(`{"type":"Feature","id":"p","geometry":{"type":"LineString","coordinates":[[1,2,3],[4,5,6]],"bbox":[1,2,3,4,5,6]},"bbox":[1,2,3,4,5,6],"properties":{"datetime":"2023-01-01T00:00:00Z","proj:geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}},"assets":{"a":{"href":"x","proj:geometry":{"type":"Point","coordinates":[5,6]}}},"links":[]}`),
				[]byte(`{"type":"Feature","id":"q","geometry":{"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[1,1],[0,0]]],[[[5,5],[6,5],[6,6],[5,6],[5,5]],[[5.2,5.2],[5.8,5.2],[5.8,5.8],[5.2,5.2]]]]},"bbox":[0,0,6,6],"properties":{"datetime":"2023-01-01T00:00:00Z"},"assets":{"a":{"href":"y"},"b":{"href":"z","roles":["data"]}},"links":[{"href":"h","rel":"self","method":"POST","body":{"token":"t"}}]}`),
				[]byte(`{"type":"Feature","id":"r","geometry":{"type":"GeometryCollection","geometries":[{"type":"Point","coordinates":[1,1]},{"type":"MultiPoint","coordinates":[[2,2],[3,3]]},{"type":"MultiLineString","coordinates":[[[0,0],[1,1]]]}]},"properties":{"datetime":"2023-01-01T00:00:00Z"},"links":[],"assets":{}}`),
				[]byte(`{"type":"Feature","id":"s","geometry":null,"properties":{"datetime":"2023-01-01T00:00:00Z"},"links":[],"assets":{}}`),
			},
			columns: map[string]string{"proj:geometry": "geometry", "bbox": "object{xmin:number,ymin:number,zmin:number,xmax:number,ymax:number,zmax:number}"},
		},
		{
			name: "deep nesting becomes JSON text",
			items: [][]byte{
				item("a", "c", `"datetime":"2023-01-01T00:00:00Z","d":`+strings.Repeat("[", 40)+"1"+strings.Repeat("]", 40)),
			},
			columns: map[string]string{"d": strings.Repeat("array<", maxInferDepth) + "JSON" + strings.Repeat(">", maxInferDepth)},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newSchema()
			in := newInferrer()
			for _, it := range tc.items {
				if _, err := in.item(s, it); err != nil {
					t.Fatal(err)
				}
			}
			final := s.finalize()
			for col, want := range tc.columns {
				n := final.root.lookup(col)
				if n == nil {
					t.Errorf("no column %q", col)
					continue
				}
				if got := n.describe(); got != want {
					t.Errorf("column %q is %s, want %s", col, got, want)
				}
			}
			path, stats := writeFile(t, tc.items, WriterOptions{RowGroupSize: 2})
			var paths []string
			for _, c := range stats.JSONColumns {
				paths = append(paths, c.Path)
				if c.Values == 0 {
					t.Errorf("JSON column %s counts no values", c.Path)
				}
			}
			if strings.Join(paths, " ") != strings.Join(tc.json, " ") {
				t.Errorf("JSON columns %q, want %q", paths, tc.json)
			}
			if len(tc.json) > 0 && len(stats.Warnings()) == 0 {
				t.Error("no warning for the JSON columns")
			}
			got := readAll(t, path, Filter{})
			if len(got) != len(tc.items) {
				t.Fatalf("read %d items, wrote %d", len(got), len(tc.items))
			}
			for i := range tc.items {
				want := expected(t, tc.items[i])
				if d := diff(want, decode(t, got[i])); d != "" {
					t.Errorf("item %d:\n%s\nwrote %s\nread  %s", i, d, tc.items[i], got[i])
				}
			}
		})
	}
}

// TestRoundTripExactText pins the exact text of what reads back, so the
// documented differences (numbers re-formatted, timestamps in UTC, member
// order) are the only ones.
func TestRoundTripExactText(t *testing.T) {
	in := compact(t, `{"type":"Feature","stac_version":"1.1.0","stac_extensions":["https://x/eo.json"],"id":"a",
		"geometry":{"type":"Polygon","coordinates":[[[1.50,2],[3,2],[3,4.0],[1.50,2]]]},"bbox":[1.5,2,3,4],
		"properties":{"datetime":"2023-06-01T12:00:00.120+02:00","eo:cloud_cover":1.50,"n":7,"x":null,"t":"s"},
		"links":[{"rel":"self","href":"https://x/a"}],"assets":{"d":{"href":"https://x/a.tif","roles":["data"]}},"collection":"c"}`)
	want := `{"type":"Feature","stac_version":"1.1.0","stac_extensions":["https://x/eo.json"],"id":"a",` +
		`"geometry":{"type":"Polygon","coordinates":[[[1.5,2],[3,2],[3,4],[1.5,2]]]},"bbox":[1.5,2,3,4],` +
		`"properties":{"datetime":"2023-06-01T10:00:00.12Z","eo:cloud_cover":1.5,"n":7,"t":"s"},` +
		`"links":[{"rel":"self","href":"https://x/a"}],"assets":{"d":{"href":"https://x/a.tif","roles":["data"]}},"collection":"c"}`
	path, _ := writeFile(t, [][]byte{in}, WriterOptions{})
	got := readAll(t, path, Filter{})
	if len(got) != 1 || string(got[0]) != want {
		t.Fatalf("read back\n%s\nwant\n%s", got, want)
	}
}

// TestWriteRefusesInvalidItems: an item that cannot be stored is refused
// with ErrInvalidItem and leaves the schema and the file as they were.
func TestWriteRefusesInvalidItems(t *testing.T) {
	bad := []string{
		`[1,2]`,
		`{"id":1,"properties":{}}`,
		`{"properties":{}}`,
		`{"id":"x","geometry":{"type":"Polygon","coordinates":[[1,2]]},"properties":{}}`,
		`{"id":"x","geometry":{"type":"Nope","coordinates":[]},"properties":{}}`,
		`{"id":"x","geometry":{"type":"Point","coordinates":[1,2]},"bbox":[1,2,3],"properties":{}}`,
		`{"id":"x","geometry":null,"properties":[1]}`,
		`{"id":"x","properties":{"a":1}} {"id":"y"}`,
		`{"id":"x","properties":{"a":1,"a":2}}`,
		`{"id":"x","geometry":{"type":"LineString","coordinates":[[1,2],[3,4,5]]},"properties":{}}`,
	}
	var buf bytes.Buffer
	w, err := NewWriter(&buf, WriterOptions{TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	good := item("ok", "c", `"datetime":"2023-01-01T00:00:00Z","a":1`)
	if err := w.Write(good); err != nil {
		t.Fatal(err)
	}
	for _, b := range bad {
		if err := w.Write([]byte(b)); !errors.Is(err, ErrInvalidItem) {
			t.Errorf("Write(%s) = %v, want ErrInvalidItem", b, err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if st := w.Stats(); st.Items != 1 || st.Rejected != int64(len(bad)) {
		t.Errorf("stats %+v", st)
	}
	if n := w.ds.schema.root.lookup("a"); n == nil || n.kind != kInt {
		t.Errorf("the refused items changed the schema: a is %v", n)
	}
	r, err := OpenReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()), "mem")
	if err != nil {
		t.Fatal(err)
	}
	var n int
	for _, err := range r.Items(context.Background(), Filter{}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 1 {
		t.Errorf("read %d items", n)
	}
}

// TestEmptyFile: a writer closed without items writes a valid empty file.
func TestEmptyFile(t *testing.T) {
	path, st := writeFile(t, nil, WriterOptions{})
	if st.Files != 1 {
		t.Fatalf("files %d", st.Files)
	}
	if got := readAll(t, path, Filter{}); len(got) != 0 {
		t.Fatalf("read %d items", len(got))
	}
}

// TestConcurrentWriter: with WriterOptions.Concurrent, refused items are
// counted instead of failing Write, and the file is the same.
func TestConcurrentWriter(t *testing.T) {
	var items [][]byte
	for _, g := range gridItems(700) {
		items = append(items, g.json)
	}
	path := t.TempDir() + "/c.parquet"
	w, err := Create(path, WriterOptions{TempDir: t.TempDir(), Concurrent: true, RowGroupSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	for i, it := range items {
		if err := w.Write(it); err != nil {
			t.Fatal(err)
		}
		if i%100 == 0 {
			if err := w.Write([]byte(`{"id":7}`)); err != nil {
				t.Fatal(err)
			}
			w.Stats() // concurrently with the goroutine: no race
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	st := w.Stats()
	if st.Items != int64(len(items)) || st.Rejected != 7 || len(st.RejectedErrors) != 7 || !errors.Is(st.RejectedErrors[0], ErrInvalidItem) {
		t.Fatalf("stats %+v", st)
	}
	got := readAll(t, path, Filter{})
	if len(got) != len(items) {
		t.Fatalf("read %d items", len(got))
	}
	for i := range items {
		if d := diff(expected(t, items[i]), decode(t, got[i])); d != "" {
			t.Fatalf("item %d: %s", i, d)
		}
	}
}
