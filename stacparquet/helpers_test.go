package stacparquet

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/stacq/stacq/stacparquet/internal/recorded"
)

// recordedItems returns the items of every recorded search page under
// testdata/recorded, keyed by file name.
func recordedItems(t testing.TB) map[string][][]byte {
	t.Helper()
	items, err := recorded.Items("../testdata/recorded")
	if err != nil {
		t.Fatal(err)
	}
	return items
}

// checkRoundTrip compares the items read back with the items written.
func checkRoundTrip(t testing.TB, items, got [][]byte) {
	t.Helper()
	if len(got) != len(items) {
		t.Fatalf("read %d items, wrote %d", len(got), len(items))
	}
	for i := range items {
		want := expected(t, items[i])
		if d := diff(want, decode(t, got[i])); d != "" {
			t.Errorf("item %d (%v):\n%s", i, want["id"], d)
		}
	}
}

// writeFile writes items to a stac-geoparquet file in a test directory.
func writeFile(t testing.TB, items [][]byte, opts WriterOptions) (string, Stats) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "items.parquet")
	if opts.TempDir == "" {
		opts.TempDir = t.TempDir()
	}
	w, err := Create(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	writeAndClose(t, w, items)
	return path, w.Stats()
}

// itemWriter is a Writer or a PartitionedWriter.
type itemWriter interface {
	Write(item []byte) error
	Close() error
}

// writeAndClose writes items to w and closes it.
func writeAndClose(t testing.TB, w itemWriter, items [][]byte) {
	t.Helper()
	for i, it := range items {
		if err := w.Write(it); err != nil {
			t.Fatalf("item %d: %v", i, err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// readAll reads every item matching f.
func readAll(t testing.TB, path string, f Filter) [][]byte {
	t.Helper()
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out [][]byte
	for item, err := range r.Items(context.Background(), f) {
		if err != nil {
			t.Fatal(err)
		}
		if !jsontext.Value(item).IsValid() {
			t.Fatalf("invalid JSON read back: %s", item)
		}
		out = append(out, item)
	}
	return out
}

func decode(t testing.TB, b []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	return v
}

// expected is what an item reads back as, by the rules of the package
// documentation: members that are JSON null are absent (except geometry and
// datetime), top-level members outside the STAC core are properties,
// properties named like core members are dropped, timestamps are UTC with
// microseconds, geometries lose their foreign members, an absent geometry
// is null.
func expected(t testing.TB, raw []byte) map[string]any {
	t.Helper()
	item := decode(t, raw).(map[string]any)
	props, _ := item["properties"].(map[string]any)
	if props == nil {
		props = map[string]any{}
	}
	for k := range props {
		if isCore(k) {
			delete(props, k)
		}
	}
	for k, v := range item {
		if !isCore(k) && k != "properties" {
			if _, dup := props[k]; !dup {
				props[k] = v
			}
			delete(item, k)
		}
	}
	item["properties"] = props
	for _, k := range timeProperties {
		s, ok := props[k].(string)
		if !ok {
			continue
		}
		if tm, err := time.Parse(time.RFC3339Nano, s); err == nil {
			props[k] = tm.UTC().Truncate(time.Microsecond).Format(time.RFC3339Nano)
		}
	}
	if g, ok := item["geometry"].(map[string]any); ok {
		item["geometry"] = normGeometry(g)
	}
	if a, ok := item["assets"].(map[string]any); ok {
		for _, asset := range a {
			if m, ok := asset.(map[string]any); ok {
				if g, ok := m[geometryField].(map[string]any); ok {
					m[geometryField] = normGeometry(g)
				}
			}
		}
	}
	if g, ok := props[geometryField].(map[string]any); ok {
		props[geometryField] = normGeometry(g)
	}
	dropNulls(item)
	if _, ok := item["geometry"]; !ok {
		item["geometry"] = nil
	}
	if _, ok := props["datetime"]; !ok {
		props["datetime"] = nil
	}
	return item
}

func normGeometry(g map[string]any) map[string]any {
	out := map[string]any{"type": g["type"]}
	if c, ok := g["coordinates"]; ok {
		out["coordinates"] = c
	}
	if gs, ok := g["geometries"].([]any); ok {
		norm := make([]any, len(gs))
		for i, c := range gs {
			norm[i] = normGeometry(c.(map[string]any))
		}
		out["geometries"] = norm
	}
	return out
}

// dropNulls removes object members that are null, at every depth (array
// elements stay).
func dropNulls(v any) {
	switch v := v.(type) {
	case map[string]any:
		for k, c := range v {
			if c == nil {
				delete(v, k)
				continue
			}
			dropNulls(c)
		}
	case []any:
		for _, c := range v {
			dropNulls(c)
		}
	}
}

// diff describes how got differs from want ("" when equal).
func diff(want, got any) string {
	var b strings.Builder
	diffAt(&b, "", want, got)
	return b.String()
}

func diffAt(b *strings.Builder, path string, want, got any) {
	if b.Len() > 2000 {
		return
	}
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			fmt.Fprintf(b, "%s: want an object, got %v\n", path, got)
			return
		}
		keys := slices.Sorted(maps.Keys(w))
		for _, k := range keys {
			gv, ok := g[k]
			if !ok {
				fmt.Fprintf(b, "%s.%s: missing (want %v)\n", path, k, w[k])
				continue
			}
			diffAt(b, path+"."+k, w[k], gv)
		}
		var extra []string
		for k := range g {
			if _, ok := w[k]; !ok {
				extra = append(extra, k)
			}
		}
		sort.Strings(extra)
		for _, k := range extra {
			fmt.Fprintf(b, "%s.%s: unexpected %v\n", path, k, g[k])
		}
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			fmt.Fprintf(b, "%s: want %v, got %v\n", path, want, got)
			return
		}
		for i := range w {
			diffAt(b, fmt.Sprintf("%s[%d]", path, i), w[i], g[i])
		}
	default:
		if !reflect.DeepEqual(want, got) {
			fmt.Fprintf(b, "%s: want %#v, got %#v\n", path, want, got)
		}
	}
}

// compact returns the compact form of a JSON text.
func compact(t testing.TB, s string) []byte {
	t.Helper()
	v := jsontext.Value(bytes.Clone([]byte(s)))
	if err := v.Compact(); err != nil {
		t.Fatalf("%v: %s", err, s)
	}
	return v
}
