package geo

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
)

// recordedFeatures returns the features of a recorded Planetary Computer
// search page: ~3 KB items whose asset hrefs carry "&" query strings.
func recordedFeatures(tb testing.TB) []json.RawMessage {
	tb.Helper()
	data, err := os.ReadFile("../testdata/recorded/planetarycomputer_post_search_18c3fd.json")
	if err != nil {
		tb.Fatal(err)
	}
	var page struct{ Features []json.RawMessage }
	if err := json.Unmarshal(data, &page); err != nil {
		tb.Fatal(err)
	}
	if len(page.Features) == 0 {
		tb.Fatal("no features in the recording")
	}
	return page.Features
}

func writeAll(t *testing.T, f Format, features []any) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := NewWriter(&buf, f)
	for _, v := range features {
		if err := w.Write(v); err != nil {
			t.Fatalf("Write: %v", err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	return buf.Bytes()
}

func decode(t *testing.T, data []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("invalid JSON %q: %v", data, err)
	}
	return v
}

type testFeature struct {
	Type       string         `json:"type"`
	ID         string         `json:"id"`
	Geometry   any            `json:"geometry"`
	Properties map[string]any `json:"properties"`
}

func TestWritersFeatureCollection(t *testing.T) {
	raw := recordedFeatures(t)
	var features []any
	for _, f := range raw {
		features = append(features, f)
	}
	// A struct value, and a RawMessage pretty-printed over many lines.
	features = append(features, testFeature{Type: "Feature", ID: "a&b<c>", Properties: map[string]any{"n": 1}})
	var indented bytes.Buffer
	json.Indent(&indented, raw[0], "", "    ")
	features = append(features, json.RawMessage(indented.Bytes()))

	var want struct {
		Type     string `json:"type"`
		Features []any  `json:"features"`
	}
	want.Type = "FeatureCollection"
	for _, f := range features {
		b, _ := json.Marshal(f)
		want.Features = append(want.Features, decode(t, b))
	}

	for _, f := range []Format{FormatFeatureCollection, FormatJSON} {
		t.Run(f.String(), func(t *testing.T) {
			out := writeAll(t, f, features)
			got := decode(t, out)
			wantDecoded := decode(t, mustMarshal(t, want))
			if !reflect.DeepEqual(got, wantDecoded) {
				t.Errorf("output does not decode to the features written")
			}
			if !bytes.HasSuffix(out, []byte("}\n")) {
				t.Errorf("output does not end with a newline: %q", out[len(out)-10:])
			}
			// "&" in signed hrefs stays readable, not \u0026.
			if bytes.Contains(out, []byte(`\u0026`)) || !bytes.Contains(out, []byte("&")) {
				t.Error("& was escaped")
			}
		})
	}
}

func mustMarshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The streamed output is byte for byte what encoding/json gives for the
// whole collection at once: compact, or indented by two spaces.
func TestWritersMatchEncodingJSON(t *testing.T) {
	raw := recordedFeatures(t)[:3]
	features := make([]any, len(raw))
	for i, r := range raw {
		features[i] = r
	}
	whole := struct {
		Type     string            `json:"type"`
		Features []json.RawMessage `json:"features"`
	}{"FeatureCollection", raw}
	for _, tt := range []struct {
		f      Format
		indent string
	}{
		{FormatFeatureCollection, ""},
		{FormatJSON, "  "},
	} {
		var want bytes.Buffer
		e := json.NewEncoder(&want)
		e.SetEscapeHTML(false)
		e.SetIndent("", tt.indent)
		if err := e.Encode(whole); err != nil {
			t.Fatal(err)
		}
		if got := writeAll(t, tt.f, features); !bytes.Equal(got, want.Bytes()) {
			t.Errorf("%v: output differs from encoding/json:\n got %.300s\nwant %.300s", tt.f, got, want.Bytes())
		}
	}
}

func TestWriterNDJSON(t *testing.T) {
	raw := recordedFeatures(t)
	var features []any
	for _, r := range raw {
		var indented bytes.Buffer
		if err := json.Indent(&indented, r, "", "  "); err != nil {
			t.Fatal(err)
		}
		features = append(features, json.RawMessage(indented.Bytes()))
	}
	features = append(features, &testFeature{Type: "Feature", ID: "x"})

	out := writeAll(t, FormatNDJSON, features)
	if bytes.Contains(out, []byte{0x1e}) {
		t.Error("output contains an RS record separator")
	}
	if !bytes.HasSuffix(out, []byte("}\n")) {
		t.Errorf("output does not end with a newline")
	}
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(lines) != len(features) {
		t.Fatalf("got %d lines, want %d", len(lines), len(features))
	}
	for i, line := range lines {
		var c bytes.Buffer
		json.Compact(&c, []byte(line))
		if c.String() != line {
			t.Errorf("line %d is not compact", i)
		}
		got := decode(t, []byte(line))
		want := decode(t, mustMarshal(t, features[i]))
		if !reflect.DeepEqual(got, want) {
			t.Errorf("line %d decodes to %v, want %v", i, got, want)
		}
	}
}

func TestWritersZeroFeatures(t *testing.T) {
	tests := []struct {
		f    Format
		want string
	}{
		{FormatFeatureCollection, `{"type":"FeatureCollection","features":[]}` + "\n"},
		{FormatJSON, "{\n  \"type\": \"FeatureCollection\",\n  \"features\": []\n}\n"},
		{FormatNDJSON, ""},
	}
	for _, tt := range tests {
		got := string(writeAll(t, tt.f, nil))
		if got != tt.want {
			t.Errorf("%v with no features = %q, want %q", tt.f, got, tt.want)
		}
		if tt.f != FormatNDJSON {
			decode(t, []byte(got))
		}
	}
}

// Each feature reaches the io.Writer in the Write call that gives it.
func TestWriterStreams(t *testing.T) {
	raw := recordedFeatures(t)
	for _, f := range []Format{FormatFeatureCollection, FormatNDJSON, FormatJSON} {
		var buf bytes.Buffer
		w := NewWriter(&buf, f)
		for i, r := range raw[:3] {
			before := buf.Len()
			if err := w.Write(r); err != nil {
				t.Fatal(err)
			}
			if buf.Len()-before < len(r)/2 {
				t.Errorf("%v: feature %d not written by Write (%d bytes)", f, i, buf.Len()-before)
			}
		}
		w.Close()
	}
}

type failWriter struct {
	n   int // writes before failing
	err error
}

func (w *failWriter) Write(p []byte) (int, error) {
	if w.n == 0 {
		return 0, w.err
	}
	w.n--
	return len(p), nil
}

func TestWriterErrors(t *testing.T) {
	boom := errors.New("disk full")
	fw := &failWriter{n: 1, err: boom}
	w := NewWriter(fw, FormatFeatureCollection)
	f := json.RawMessage(`{"type":"Feature"}`)
	if err := w.Write(f); err != nil {
		t.Fatal(err)
	}
	if err := w.Write(f); !errors.Is(err, boom) {
		t.Errorf("second Write = %v, want %v", err, boom)
	}
	fw.n = 100 // the writer recovered, but the document is already broken
	if err := w.Write(f); !errors.Is(err, boom) {
		t.Errorf("Write after failure = %v, want sticky %v", err, boom)
	}
	if err := w.Close(); !errors.Is(err, boom) {
		t.Errorf("Close after failure = %v, want %v", err, boom)
	}

	var buf bytes.Buffer
	w = NewWriter(&buf, FormatNDJSON)
	for _, bad := range []any{
		json.RawMessage(`{"type":"Feature"`), // invalid JSON
		json.RawMessage(`[1,2]`),             // not an object
		"a string",
		nil,
		func() {}, // not encodable
	} {
		if err := w.Write(bad); err == nil {
			t.Errorf("Write(%#v): no error", bad)
		}
	}
	if buf.Len() != 0 {
		t.Errorf("rejected features wrote %q", buf.String())
	}
	w.Close()
	if err := w.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
	if err := w.Write(f); !errors.Is(err, ErrClosed) {
		t.Errorf("Write after Close = %v, want ErrClosed", err)
	}
}

// Close leaves the io.Writer open and unflushed: a bufio.Writer needs its
// own Flush.
func TestWriterCloseDoesNotFlush(t *testing.T) {
	var buf bytes.Buffer
	bw := bufio.NewWriter(&buf)
	w := NewWriter(bw, FormatFeatureCollection)
	w.Write(json.RawMessage(`{"type":"Feature"}`))
	w.Close()
	if buf.Len() != 0 {
		t.Fatalf("written through bufio before Flush: %q", buf.String())
	}
	bw.Flush()
	if got, want := buf.String(), `{"type":"FeatureCollection","features":[{"type":"Feature"}]}`+"\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestParseFormat(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want Format
	}{
		{"geojson", FormatFeatureCollection},
		{"GeoJSON", FormatFeatureCollection},
		{"ndjson", FormatNDJSON},
		{" json ", FormatJSON},
	} {
		got, err := ParseFormat(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseFormat(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
		if again, _ := ParseFormat(got.String()); again != got {
			t.Errorf("ParseFormat(%v.String()) = %v", got, again)
		}
	}
	_, err := ParseFormat("csv")
	if err == nil || !strings.Contains(err.Error(), `unknown format "csv"; expected "geojson"`) {
		t.Errorf("ParseFormat(csv) error = %v", err)
	}
	if s := Format(42).String(); s != "Format(42)" {
		t.Errorf("Format(42).String() = %q", s)
	}
}

func TestFormatForPath(t *testing.T) {
	for _, tt := range []struct {
		path string
		want Format
	}{
		{"out.geojson", FormatFeatureCollection},
		{"out.json", FormatFeatureCollection},
		{"/tmp/dir.d/OUT.GEOJSON", FormatFeatureCollection},
		{"items.ndjson", FormatNDJSON},
		{"items.geojsonl", FormatNDJSON},
		{"items.geojsons", FormatNDJSON},
		{"items.jsonl", FormatNDJSON},
		{"a.b.jsonl", FormatNDJSON},
	} {
		got, err := FormatForPath(tt.path)
		if err != nil || got != tt.want {
			t.Errorf("FormatForPath(%q) = %v, %v; want %v", tt.path, got, err, tt.want)
		}
	}
	for _, tt := range []struct{ path, want string }{
		{"out.csv", `extension ".csv"; expected .geojson or .json (FeatureCollection), or .ndjson, .geojsonl, .geojsons or .jsonl`},
		{"out", `"out", which has no extension`},
		{"dir.d/out", `"out", which has no extension`},
	} {
		_, err := FormatForPath(tt.path)
		var ie *InputError
		if !errors.As(err, &ie) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("FormatForPath(%q) error = %v, want *InputError containing %q", tt.path, err, tt.want)
		}
	}
}

func benchmarkWriter(b *testing.B, f Format) {
	raw := recordedFeatures(b)
	size := 0
	for _, r := range raw {
		size += len(r)
	}
	b.SetBytes(int64(size / len(raw)))
	b.ReportAllocs()
	w := NewWriter(discard{}, f)
	for i := 0; b.Loop(); i++ {
		if err := w.Write(raw[i%len(raw)]); err != nil {
			b.Fatal(err)
		}
	}
	w.Close()
}

// discard is io.Discard without its io.ReaderFrom fast path, like a file.
type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

func BenchmarkFeatureCollectionWriter(b *testing.B) { benchmarkWriter(b, FormatFeatureCollection) }
func BenchmarkNDJSONWriter(b *testing.B)            { benchmarkWriter(b, FormatNDJSON) }
func BenchmarkIndentedJSONWriter(b *testing.B)      { benchmarkWriter(b, FormatJSON) }

// A struct goes through encoding/json first.
func BenchmarkNDJSONWriterStruct(b *testing.B) {
	raw := recordedFeatures(b)
	var items []map[string]any
	for _, r := range raw {
		var m map[string]any
		json.Unmarshal(r, &m)
		items = append(items, m)
	}
	b.SetBytes(int64(len(raw[0])))
	b.ReportAllocs()
	w := NewWriter(discard{}, FormatNDJSON)
	for i := 0; b.Loop(); i++ {
		if err := w.Write(items[i%len(items)]); err != nil {
			b.Fatal(err)
		}
	}
}

// Whatever bytes a server sends as a feature, the writer either rejects
// them or writes them so that the output stays valid and decodes to the
// same value; a rejected feature writes nothing.
func FuzzWriter(f *testing.F) {
	f.Add([]byte(`{"type":"Feature","id":"a","properties":{"n":1.50}}`), uint8(0))
	f.Add([]byte("{\n  \"type\": \"Feature\",\n  \"href\": \"https://x/?a=1&b=<2>\"\n}\n"), uint8(1))
	f.Add([]byte(`{"a":"\u2028"}`), uint8(2))
	f.Add([]byte(`{"a":1`), uint8(0))
	f.Add([]byte(`[1,2]`), uint8(1))
	f.Add([]byte(`  `), uint8(2))
	f.Fuzz(func(t *testing.T, data []byte, format uint8) {
		fm := Format(format % 3)
		var buf bytes.Buffer
		w := NewWriter(&buf, fm)
		werr := w.Write(json.RawMessage(data))
		if err := w.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		out := buf.Bytes()
		if fm != FormatNDJSON && !json.Valid(out) {
			t.Fatalf("%v: invalid output %q", fm, out)
		}
		if werr != nil {
			if json.Valid(data) && bytes.HasPrefix(bytes.TrimSpace(data), []byte("{")) {
				t.Fatalf("rejected a valid object: %v", werr)
			}
			if fm == FormatNDJSON && len(out) != 0 {
				t.Fatalf("rejected feature wrote %q", out)
			}
			return
		}
		var feature []byte
		if fm == FormatNDJSON {
			if bytes.Count(out, []byte("\n")) != 1 || !bytes.HasSuffix(out, []byte("\n")) {
				t.Fatalf("NDJSON record is not one line: %q", out)
			}
			feature = out
		} else {
			var fc struct{ Features []json.RawMessage }
			if err := json.Unmarshal(out, &fc); err != nil || len(fc.Features) != 1 {
				t.Fatalf("output %q: %v", out, err)
			}
			feature = fc.Features[0]
		}
		var got, want any
		if err := json.Unmarshal(feature, &got); err != nil {
			t.Fatalf("written feature %q: %v", feature, err)
		}
		if err := json.Unmarshal(data, &want); err != nil {
			t.Fatalf("accepted invalid JSON %q", data)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("wrote %q for %q", feature, data)
		}
	})
}
