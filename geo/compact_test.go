package geo

import (
	"bytes"
	"encoding/json"
	"testing"
)

// A CompactJSON feature is written as the same checked RawMessage is, in
// every format, and a non-object is refused.
func TestWriteCompactJSON(t *testing.T) {
	features := []string{
		`{"type":"Feature","id":"a","properties":{"href":"https://x/?a=1&b=<2>"},"geometry":null}`,
		`{"type":"Feature","id":"b","properties":{},"geometry":{"type":"Point","coordinates":[1,2]}}`,
	}
	for _, f := range []Format{FormatFeatureCollection, FormatNDJSON, FormatJSON} {
		var got, want bytes.Buffer
		gw, ww := NewWriter(&got, f), NewWriter(&want, f)
		for i, s := range features {
			var f any = CompactJSON(s)
			if i == 1 {
				c := CompactJSON(s)
				f = &c
			}
			if err := gw.Write(f); err != nil {
				t.Fatal(err)
			}
			if err := ww.Write(json.RawMessage(s)); err != nil {
				t.Fatal(err)
			}
		}
		gw.Close()
		ww.Close()
		if got.String() != want.String() {
			t.Errorf("%v:\ngot  %s\nwant %s", f, got.String(), want.String())
		}
		if err := NewWriter(&got, f).Write(CompactJSON(`[1]`)); err == nil {
			t.Errorf("%v: an array written as a feature", f)
		}
	}
}
