package rawjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var cases = []string{
	`{}`, `[]`, `""`, `0`, `-0`, `1.5e+10`, `-12.25E-3`, `true`, `false`, `null`,
	` { "a" : [ 1 , 2 , { "b" : null } ] , "c" : "x y\tz" } `,
	"{\n  \"type\": \"Feature\",\n  \"href\": \"https://x/?a=1&b=<2>\"\n}\n",
	`"\u00e9\u2028\"\\\/\b\f\n\r\t"`, `"é ✓ 𝄞"`, "\"\xff\xfe\"",
	`{"a":1,}`, `[1,]`, `[1 2]`, `{"a" 1}`, `{1:2}`, `01`, `1.`, `.5`, `1e`, `-`, `+1`,
	`"\x"`, `"\u12"`, "\"a\nb\"", `tru`, `nul`, `[`, `{`, `"abc`, `{"a":1}}`, `{} {}`, ``, ` `,
	`[[[[[[]]]]]]`, strings.Repeat("[", 10001) + strings.Repeat("]", 10001),
	strings.Repeat("[", 10000) + strings.Repeat("]", 10000),
}

// Every case is judged and compacted as encoding/json does.
func TestMatchesEncodingJSON(t *testing.T) {
	for _, c := range cases {
		checkSame(t, []byte(c))
	}
}

func checkSame(t *testing.T, src []byte) {
	t.Helper()
	var want bytes.Buffer
	wantErr := json.Compact(&want, src)
	got, err := AppendCompact([]byte("prefix"), src)
	if (err == nil) != (wantErr == nil) || (err == nil) != json.Valid(src) || Valid(src) != json.Valid(src) {
		t.Fatalf("%.60q: error %v, encoding/json says %v", src, err, wantErr)
	}
	if err != nil {
		var se *SyntaxError
		if !errors.As(err, &se) || se.Offset < 0 || se.Offset > len(src) {
			t.Fatalf("%.60q: error %#v is not a SyntaxError with an offset in range", src, err)
		}
		if string(got) != "prefix" {
			t.Fatalf("%.60q: dst changed on error: %q", src, got)
		}
		return
	}
	if string(got) != "prefix"+want.String() {
		t.Fatalf("%.60q: compact gives %q, want %q", src, got, want.String())
	}
}

func TestMembersAndElements(t *testing.T) {
	page := []byte(` {"type":"FeatureCollection", "features" : [ {"id":"a"} , {"id":"b","x":[1,2]} ],
		"links":[{"rel":"next","href":"h"}], "k\u00e9y": 1 } `)
	var keys []string
	var features []byte
	err := Members(page, func(key, v []byte) error {
		keys = append(keys, string(key))
		if string(key) == "features" {
			features = v
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(keys, ","); got != "type,features,links,kéy" {
		t.Fatalf("keys %s", got)
	}
	var items []string
	if err := Elements(features, func(v []byte) error { items = append(items, string(v)); return nil }); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(items, "|"); got != `{"id":"a"}|{"id":"b","x":[1,2]}` {
		t.Fatalf("elements %s", got)
	}
	stop := errors.New("stop")
	if err := Members(page, func(_, _ []byte) error { return stop }); err != stop {
		t.Fatalf("fn's error not returned: %v", err)
	}
	for _, bad := range []string{`[]`, `{"a":1,}`, `{"a":1} x`, `{"a"}`, `{"a":[}`, ``} {
		if err := Members([]byte(bad), func(_, _ []byte) error { return nil }); err == nil {
			t.Errorf("Members(%q): no error", bad)
		}
	}
	for _, bad := range []string{`{}`, `[1,]`, `[1] 2`, `[1 2]`, `[`} {
		if err := Elements([]byte(bad), func([]byte) error { return nil }); err == nil {
			t.Errorf("Elements(%q): no error", bad)
		}
	}
}

func FuzzCompact(f *testing.F) {
	for _, c := range cases[:len(cases)-2] {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		checkSame(t, src)
	})
}

// Members and Elements visit what encoding/json decodes, or fail when it does.
func FuzzMembers(f *testing.F) {
	f.Add([]byte(`{"a":[1,{"b":2}],"c":"d"}`))
	f.Add([]byte(`{"features":[{"id":"x"}, 2, "s"],"links":[]}`))
	f.Add([]byte(`{"a":1,"a":2}`))
	f.Add([]byte(`[1,2]`))
	f.Fuzz(func(t *testing.T, src []byte) {
		var want map[string]json.RawMessage
		wantErr := json.Unmarshal(src, &want)
		got := map[string]json.RawMessage{}
		err := Members(src, func(k, v []byte) error {
			got[string(k)] = v
			return Elements(v, func(e []byte) error {
				if !json.Valid(e) {
					t.Fatalf("element %q is not valid JSON", e)
				}
				return nil
			})
		})
		if wantErr != nil || want == nil {
			return // Members may fail on a non-array member, or accept "null"
		}
		if err != nil {
			var se *SyntaxError
			if errors.As(err, &se) {
				t.Fatalf("%q: syntax error %v for valid JSON", src, err)
			}
			return // a member that is not an array
		}
		if len(got) != len(want) {
			t.Fatalf("%q: %d members, want %d", src, len(got), len(want))
		}
		for k, v := range want {
			if !bytes.Equal(got[k], v) {
				t.Fatalf("%q: member %q = %q, want %q", src, k, got[k], v)
			}
		}
	})
}

func benchItem(b *testing.B) []byte {
	// A recorded Earth Search item when present, indented as recorded.
	files, _ := filepath.Glob("../../testdata/recorded/*.json")
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		var page struct{ Features []json.RawMessage }
		if json.Unmarshal(data, &page) == nil && len(page.Features) > 0 {
			var buf bytes.Buffer
			json.Compact(&buf, page.Features[0])
			return buf.Bytes()
		}
	}
	b.Skip("no recorded item")
	return nil
}

func BenchmarkCompact(b *testing.B) {
	item := benchItem(b)
	b.SetBytes(int64(len(item)))
	b.ReportAllocs()
	var dst []byte
	for b.Loop() {
		dst, _ = AppendCompact(dst[:0], item)
	}
}

func BenchmarkEncodingJSONCompact(b *testing.B) {
	item := benchItem(b)
	b.SetBytes(int64(len(item)))
	b.ReportAllocs()
	var dst bytes.Buffer
	for b.Loop() {
		dst.Reset()
		json.Compact(&dst, item)
	}
}

// On valid JSON the Checked walkers find what the checking ones find; on
// anything else they do not panic.
func FuzzChecked(f *testing.F) {
	f.Add([]byte(`{"a":[1,{"b":"x\"]}"}],"c":"d\\","e":-1.5e3,"f":true}`))
	f.Add([]byte(`[{"id":"a"}, "s\\\\", [], {}, null]`))
	f.Add([]byte(`{"a":"\\\"}`))
	f.Add([]byte(` [ 1 , 2 ] `))
	f.Fuzz(func(t *testing.T, src []byte) {
		type kv struct{ k, v string }
		var want, got []kv
		errM := Members(src, func(k, v []byte) error { want = append(want, kv{string(k), string(v)}); return nil })
		errC := CheckedMembers(src, func(k, v []byte) error { got = append(got, kv{string(k), string(v)}); return nil })
		if errM == nil && (errC != nil || !reflect.DeepEqual(want, got)) {
			t.Fatalf("%q: CheckedMembers %v %q, Members %q", src, errC, got, want)
		}
		var wantE, gotE []string
		errE := Elements(src, func(v []byte) error { wantE = append(wantE, string(v)); return nil })
		errCE := CheckedElements(src, func(v []byte) error { gotE = append(gotE, string(v)); return nil })
		if errE == nil && (errCE != nil || !reflect.DeepEqual(wantE, gotE)) {
			t.Fatalf("%q: CheckedElements %v %q, Elements %q", src, errCE, gotE, wantE)
		}
	})
}
