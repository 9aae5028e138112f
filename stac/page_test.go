package stac

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// recordedDocs are the recorded responses of real APIs, by file name.
func recordedDocs(tb testing.TB) map[string][]byte {
	tb.Helper()
	files, _ := filepath.Glob("../testdata/recorded/*.json")
	docs := map[string][]byte{}
	for _, f := range files {
		if filepath.Base(f) == "index.json" {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		docs[filepath.Base(f)] = data
	}
	if len(docs) == 0 {
		tb.Fatal("no recorded responses")
	}
	return docs
}

// recordedPages are the recorded search and items responses.
func recordedPages(tb testing.TB) map[string][]byte {
	pages := map[string][]byte{}
	for name, data := range recordedDocs(tb) {
		var probe map[string]jsontext.Value
		if json.Unmarshal(data, &probe) == nil && probe["features"] != nil {
			pages[name] = data
		}
	}
	if len(pages) == 0 {
		tb.Fatal("no recorded pages")
	}
	return pages
}

// A raw page holds the same items, links and counts as the typed decoding
// of the same recorded response, and its items are the bytes the server
// sent.
func TestRawPageMatchesTypedDecoding(t *testing.T) {
	for name, data := range recordedPages(t) {
		t.Run(name, func(t *testing.T) {
			checkRawPage(t, data)
		})
	}
}

// checkRawPage splits a recorded search page and fails t unless it holds
// the items, links and counts of the page's typed decoding, each item the
// bytes the server sent. It returns the split page.
func checkRawPage(t *testing.T, data []byte) *RawPage {
	t.Helper()
	var want ItemCollection
	if err := json.Unmarshal(data, &want); err != nil {
		t.Fatal(err)
	}
	var sent struct {
		Features []jsontext.Value `json:"features"`
	}
	if err := json.Unmarshal(data, &sent); err != nil {
		t.Fatal(err)
	}
	raw, err := splitPage(data, "features", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(raw.Items) != len(want.Features) {
		t.Fatalf("%d items, want %d", len(raw.Items), len(want.Features))
	}
	for i, it := range raw.Items {
		if it.ID != want.Features[i].ID || it.Collection != want.Features[i].Collection {
			t.Fatalf("item %d: %s/%s, want %s/%s", i, it.Collection, it.ID, want.Features[i].Collection, want.Features[i].ID)
		}
		if !bytes.Equal(it.JSON, sent.Features[i]) {
			t.Fatalf("item %d: JSON is not the bytes sent", i)
		}
	}
	got, err := raw.ItemCollection()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, &want) {
		t.Fatalf("decoded raw page differs from the typed decoding")
	}
	return raw
}

// Every recorded document decodes into its type and encodes back to the
// same JSON: the same members with the same values, numbers as written
// (only the order of members may differ, and bbox numbers, which are
// float64 fields, are compared by value).
func TestRoundTripRecorded(t *testing.T) {
	for name, data := range recordedDocs(t) {
		t.Run(name, func(t *testing.T) {
			var probe map[string]jsontext.Value
			if err := json.Unmarshal(data, &probe); err != nil {
				t.Fatal(err)
			}
			var v any
			switch {
			case probe["features"] != nil:
				v = new(ItemCollection)
			case probe["collections"] != nil:
				v = new(CollectionsPage)
			case string(probe["type"]) == `"Feature"`:
				v = new(Item)
			case string(probe["type"]) == `"Collection"`:
				v = new(Collection)
			case string(probe["type"]) == `"Catalog"` || probe["conformsTo"] != nil:
				v = new(Catalog)
			default:
				t.Skip("not a STAC document")
			}
			checkSameJSON(t, data, roundTrip(t, data, v))
		})
	}
}

// roundTrip decodes data into v and returns v encoded again.
func roundTrip(t *testing.T, data []byte, v any) []byte {
	t.Helper()
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// checkSameJSON fails t, showing where they part, unless out is the same
// JSON as sent once both are canonical.
func checkSameJSON(t *testing.T, sent, out []byte) {
	t.Helper()
	a, b := canonical(t, sent), canonical(t, out)
	if a == b {
		return
	}
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	t.Fatalf("round trip differs at %d:\nsent …%.300s\ngot  …%.300s", i, a[max(i-100, 0):], b[max(i-100, 0):])
}

// canonical sorts object members and compacts, keeping numbers as
// written except inside "bbox" members.
func canonical(t *testing.T, data []byte) string {
	t.Helper()
	v := jsontext.Value(bytes.Clone(data))
	if err := v.Format(jsontext.ReorderRawObjects(true)); err != nil {
		t.Fatal(err)
	}
	return bboxNumbers(t, string(v))
}

// bboxNumbers rewrites the numbers of every "bbox" array as Go formats
// them.
func bboxNumbers(t *testing.T, s string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, `"bbox":`)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i+7])
		s = s[i+7:]
		d := jsontext.NewDecoder(strings.NewReader(s))
		val, err := d.ReadValue()
		if err != nil {
			t.Fatal(err)
		}
		var nums any
		json.Unmarshal(val, &nums)
		again, _ := json.Marshal(nums)
		b.Write(again)
		s = s[len(val):]
	}
}

// Properties and foreign members keep their values as the server wrote
// them; bad documents fail with where it happened.
func TestItemKeepsValuesAsWritten(t *testing.T) {
	in := `{"type":"Feature","stac_version":"1.0.0","id":"a","geometry":null,"properties":{"datetime":"2023-06-01T10:00:00Z","gsd":1.50,"n":1e2,"big":12345678901234567890,"s":"\u00e9"},"assets":{"b":{"href":"x","file:size":10.0}},"links":[{"rel":"next","href":"y","merge":false,"headers":{"A":"1","B":["2","3"]}}],"foo:bar":{"k":[1.0]}}`
	var it Item
	if err := json.Unmarshal([]byte(in), &it); err != nil {
		t.Fatal(err)
	}
	if string(it.Properties["gsd"]) != "1.50" || string(it.Properties["big"]) != "12345678901234567890" {
		t.Fatalf("properties %q", it.Properties)
	}
	if f, ok := it.Properties.Float("gsd"); !ok || f != 1.5 {
		t.Fatalf("Float = %v %v", f, ok)
	}
	if dt, ok := it.Datetime(); !ok || dt.Year() != 2023 {
		t.Fatalf("Datetime = %v %v", dt, ok)
	}
	if it.Links[0].Headers["B"][1] != "3" || string(it.Links[0].Extra["merge"]) != "" && it.Links[0].Merge {
		t.Fatalf("link %+v", it.Links[0])
	}
	out, err := json.Marshal(it)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"gsd":1.50`, `"n":1e2`, `"s":"\u00e9"`, `"file:size":10.0`, `"foo:bar":{"k":[1.0]}`, `"geometry":null`, `"B":["2","3"]`, `"A":"1"`} {
		if !strings.Contains(string(out), want) {
			t.Errorf("encoded item lacks %s: %s", want, out)
		}
	}
	// encoding/json (v1) gives the same as v2.
	var v1 Item
	if err := stdUnmarshal([]byte(in), &v1); err != nil || !reflect.DeepEqual(v1, it) {
		t.Fatalf("encoding/json decoding differs: %v", err)
	}
	for _, tc := range []struct{ doc, want string }{
		{`{"id":5}`, "/id"},
		{`{"id":"a","properties":{"x":}}`, "invalid character"},
		{`{"id":"a","bbox":["x"]}`, "/bbox/0"},
		{`{"id":"a","links":[{"href":"x","headers":{"A":1}}]}`, `header "A"`},
	} {
		if err := json.Unmarshal([]byte(tc.doc), new(Item)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.doc, err, tc.want)
		}
	}
}

func TestRawPageErrors(t *testing.T) {
	for _, tc := range []struct{ body, want string }{
		{`{"features":[{"id":"a"},]}`, "invalid character ','"},
		{`{"features":{"id":"a"}}`, `"features": expected an array`},
		{`{"features":[1]}`, "features 0: expected an object"},
		{`{"features":[{"id":"a"},{"id":7}]}`, `features 1: field "id": expected a string`},
		{`{"features":[],"links":{}}`, "links"},
		{`[]`, "expected a JSON object"},
		{`{"features":[]} {}`, "expected one JSON object"},
		{`{"features":[{"id":"a"}`, "unexpected EOF"},
	} {
		_, err := splitPage([]byte(tc.body), "features", nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.body, err, tc.want)
		}
	}
	// A page cut short is reported as io.ErrUnexpectedEOF, which the
	// retry policy retries.
	if _, err := splitPage([]byte(`{"features":[{"id":"a"},{"id"`), "features", nil); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("truncated page: %v, want io.ErrUnexpectedEOF", err)
	}
	p, err := splitPage([]byte(`{"type":"FeatureCollection","features":null,"numberMatched":0}`), "features", nil)
	if err != nil || len(p.Items) != 0 {
		t.Fatalf("null features: %v, %v", p, err)
	}
	if n, ok := p.Matched(); !ok || n != 0 {
		t.Fatalf("Matched() = %d, %v", n, ok)
	}
}

// Invalid UTF-8 in a server's item is replaced by U+FFFD, so that what is
// passed on is valid JSON, and counted.
func TestRawPageInvalidUTF8(t *testing.T) {
	p, err := splitPage([]byte("{\"features\":[{\"id\":\"a\",\"title\":\"bad \xff\xfe here\"}]}"), "features", nil)
	if err != nil {
		t.Fatal(err)
	}
	if p.InvalidUTF8 != 1 || !jsontext.Value(p.Items[0].JSON).IsValid() || !strings.Contains(string(p.Items[0].JSON), "bad \uFFFD here") {
		t.Fatalf("%d replaced, item %q", p.InvalidUTF8, p.Items[0].JSON)
	}
}

// Whatever a server sends, a raw page either fails or holds items that are
// valid JSON objects with the ids the typed decoding finds.
func FuzzSplitPage(f *testing.F) {
	f.Add([]byte(`{"type":"FeatureCollection","features":[{"type":"Feature","id":"a","collection":"c","properties":{}}],"links":[{"rel":"next","href":"x"}]}`))
	f.Add([]byte(`{"features":[{"id":"a\u00e9"},{"id":"b","collection":null}],"context":{"next":"t"}}`))
	f.Add([]byte("{\"features\":[\n {\"id\": \"a\",\t\"b\": 1}]}"))
	f.Add([]byte(`{"features":[]}`))
	f.Add([]byte(`{"features":[{"id":1}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := splitPage(body, "features", nil)
		if err != nil {
			return
		}
		for i, it := range p.Items {
			if !it.JSON.IsValid(jsontext.AllowDuplicateNames(true)) || it.JSON[0] != '{' {
				t.Fatalf("item %d is not a JSON object: %q", i, it.JSON)
			}
			if oneLine := !bytes.ContainsAny(it.JSON, "\n\r\t"); it.Compact != oneLine {
				t.Fatalf("item %d: Compact %v for %q", i, it.Compact, it.JSON)
			}
		}
		var ic ItemCollection
		if json.Unmarshal(body, &ic) != nil {
			return // the typed decoding checks more (bbox numbers, link shapes)
		}
		if len(ic.Features) != len(p.Items) {
			t.Fatalf("%d raw items, %d typed", len(p.Items), len(ic.Features))
		}
		for i, it := range p.Items {
			if ic.Features[i] == nil {
				continue
			}
			if it.ID != ic.Features[i].ID || it.Collection != ic.Features[i].Collection {
				t.Fatalf("item %d: %q/%q, typed %q/%q", i, it.Collection, it.ID, ic.Features[i].Collection, ic.Features[i].ID)
			}
		}
	})
}

// The scan and split of the pipeline agree with the one-pass split: the
// same pages are refused, the same items found, the same page info read.
func FuzzScanPage(f *testing.F) {
	for _, s := range []string{
		`{"features":[{"id":"a","x":"\\"]"},{"id":"b"}],"links":[]}`,
		`{"features":[],"links":[{"rel":"next","href":"x"}],"numberMatched":3}`,
		`{"features":null}`, `{"features":[1,2]}`, `{"features":[{"id":"a"}`, `{"features":[{"id":"a"}]} x`,
		`{"feat\u0075res":[{"id":"u"}]}`, `{"features":[{"id":"a"},]}`, ` {"type":"FeatureCollection" , "features" : [ {"id" : "s"} ] } `,
		`{"features":[{"id":"a","p":{"n":-1.5e+3,"z":0,"s":"\ud83d\ude00 \u00e9 \n\/","a":[true,false,null,[],{}]}}],"links":[]}`,
		`{"features":[{"id":"\ud83d"}]}`, `{"features":[{"x":"\udc00"}]}`, `{"features":[{"x":01}]}`, `{"features":[{"x":1.}]}`,
		`{"features":[{"x":-}]}`, `{"features":[{"x":1e}]}`, `{"features":[{"x":tru}]}`, "{\"features\":[{\"x\":\"a\tb\"}]}",
		`{"features":[{"id":1}]}`, `{"features":[{"collection":"c","id":"a"},{"collection":"c","id":"b"}]}`, `{"features":{}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		want, werr := splitPage(body, "features", nil)
		// The scan alone: what it accepts, jsontext must accept and read
		// the same; what it declines goes to jsontext (scanPage). It is
		// given valid UTF-8 only, as scanPage does: jsontext replaces
		// invalid UTF-8.
		if !utf8.Valid(body) {
			return
		}
		got, gerr := scanTop(body, "features", nil)
		if gerr != nil {
			return
		}
		if werr != nil {
			t.Fatalf("the scan accepts what jsontext refuses: %v", werr)
		}
		samePage(t, "scan", got, want)
	})
}

// samePage fails the test unless got has want's items and page info.
func samePage(t *testing.T, how string, got, want *RawPage) {
	t.Helper()
	if len(got.Items) != len(want.Items) {
		t.Fatalf("%s: %d items, want %d", how, len(got.Items), len(want.Items))
	}
	for i := range got.Items {
		g, w := got.Items[i], want.Items[i]
		if g.ID != w.ID || g.Collection != w.Collection || !bytes.Equal(g.JSON, w.JSON) || g.Compact != w.Compact {
			t.Fatalf("%s: item %d: %+v, want %+v", how, i, g, w)
		}
	}
	if !reflect.DeepEqual(got.PageInfo, want.PageInfo) || got.InvalidUTF8 != want.InvalidUTF8 {
		t.Fatalf("%s: page info %+v, want %+v", how, got.PageInfo, want.PageInfo)
	}
}

// checkFramed reads a page as the pipeline does without an item cap, the
// frame in the fetching goroutine and the items after, and compares it
// with the one-pass split: same refusals, items and page info.
func checkFramed(t *testing.T, body []byte) {
	t.Helper()
	want, werr := splitPage(body, "features", nil)
	got, ok := framePage(body, "features")
	if !ok {
		return // read by scanPage, checked above
	}
	err := got.splitFramed("features", nil)
	if (err == nil) != (werr == nil) {
		t.Fatalf("framed: %v; one-pass split: %v", err, werr)
	}
	if err != nil {
		return
	}
	samePage(t, "framed", got, want)
}

// The frame of a page, read forward to its array and backward from its
// end, against the one-pass split.
func FuzzFramePage(f *testing.F) {
	for _, s := range []string{
		`{"features":[{"id":"a","x":"\\"]"},{"id":"b"}],"links":[{"rel":"next","href":"x\\\"y"}]}`,
		`{"type":"FeatureCollection","context":{"next":"t"},"features":[],"links":[],"numberMatched":3 , "numberReturned" : 0 }`,
		`{"features":[{"id":"a"}],"links":[]} x`, `{"features":[{"id":"a"}],,"links":[]}`, `{"features":[{"id":"a"}] "links":[]}`,
		`{"features":[{"id":"a"}],"features":[]}`, `{"features":[1],"n":tru}`, `{"features":[{"id":"\xff"}],"n":1}`,
		`{"features":[{"id":"a"}],"s":"\\","t":"\"\""}`, `{"a":[1,{"b":"]"}],"features":[{"id":"a"}],"c":{"d":"}"}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) { checkFramed(t, body) })
}

// Pages larger than frameBudget: the array taken as it is at the end of
// the backward reading, and a page where what is taken is another array
// (an "extra" member of 300 KiB after the items), which is read whole
// and must come out the same.
func TestFramePageLarge(t *testing.T) {
	page := benchPage(t, 200)
	if p, ok := framePage(page, "features"); !ok || len(p.raw) < frameBudget {
		t.Fatalf("a page of %d bytes is not framed (%v), or its array is small", len(page), ok)
	}
	checkFramed(t, page)
	end := bytes.LastIndexByte(page, '}')
	big := append(append(slices.Clone(page[:end]), `,"extra":["`+strings.Repeat("x", 300<<10)+`"]`...), '}')
	checkFramed(t, big)
	// The same with the next link after the extra member: the frame
	// misses nothing the paging needs.
	withNext := bytes.Replace(big, []byte(`"links":[`), []byte(`"links":[],"x":[`), 1)
	withNext = append(withNext[:len(withNext)-1], `,"links":[{"rel":"next","href":"/next"}]}`...)
	checkFramed(t, withNext)
}

// Every recorded page is read by the scan itself (not left to jsontext)
// and reads the same as through the one-pass split with jsontext.
func TestScanPageRecorded(t *testing.T) {
	for name, data := range recordedPages(t) {
		want, err := splitPage(data, "features", nil)
		if err != nil {
			t.Fatal(name, err)
		}
		got, err := scanTop(data, "features", nil)
		if err != nil || !reflect.DeepEqual(got.Items, want.Items) || !reflect.DeepEqual(got.PageInfo, want.PageInfo) {
			t.Errorf("%s: the scan differs from the one-pass split (%v)", name, err)
		}
		if _, ok := framePage(data, "features"); !ok {
			t.Errorf("%s: no frame read", name)
		}
		checkFramed(t, data)
	}
}

// The typed items of a page are decoded a window at a time over several
// goroutines, yet come in the page's order, and a page with an item that
// does not decode yields the items before it, then that item's error.
func TestTypedItemsInOrder(t *testing.T) {
	page := func(n, bad int) *RawPage {
		p := &RawPage{}
		for i := range n {
			bbox := "[0,0,1,1]"
			if i == bad {
				bbox = `"not an array"`
			}
			id := fmt.Sprintf("item-%d", i)
			p.Items = append(p.Items, RawItem{ID: id, JSON: jsontext.Value(`{"type":"Feature","id":"` + id + `","bbox":` + bbox + `,"properties":{}}`)})
		}
		return p
	}
	for _, tc := range []struct{ pages, perPage, bad int }{
		{1, 10, -1},                         // sequential
		{3, 1000, -1},                       // several windows per page
		{1, 1000, 700},                      // a failure in a later window
		{1, decodeWindow, 3},                // a failure in the first worker's run
		{1, decodeWindow, decodeWindow - 6}, // in the last worker's run
		{2, decodeWindow + 1, decodeWindow}, // alone in a window
	} {
		pages := func(yield func(*RawPage, error) bool) {
			for k := range tc.pages {
				bad := -1
				if k == tc.pages-1 {
					bad = tc.bad
				}
				if !yield(page(tc.perPage, bad), nil) {
					return
				}
			}
		}
		var ids []string
		var failed error
		for it, err := range typedItems(pages) {
			if err != nil {
				failed = err
				continue
			}
			ids = append(ids, it.ID)
		}
		want := tc.pages * tc.perPage
		if tc.bad >= 0 {
			want = (tc.pages-1)*tc.perPage + tc.bad
		}
		if len(ids) != want || (tc.bad >= 0) != (failed != nil) {
			t.Fatalf("%+v: %d items, error %v; want %d items", tc, len(ids), failed, want)
		}
		for i, id := range ids {
			if want := fmt.Sprintf("item-%d", i%tc.perPage); id != want {
				t.Fatalf("%+v: item %d is %s, want %s", tc, i, id, want)
			}
		}
		if failed != nil && !strings.Contains(failed.Error(), fmt.Sprintf("item-%d", tc.bad)) {
			t.Errorf("%+v: error %v names another item", tc, failed)
		}
	}
}

// Nesting: the scan takes what jsontext takes, up to its limit of 10,000
// levels (the page object counted), and leaves deeper pages to it, which
// refuses them.
func TestScanPageDepth(t *testing.T) {
	page := func(levels int) []byte {
		// The page object, its array and the item are 3 levels.
		return []byte(`{"features":[{"id":"deep","p":` + strings.Repeat("[", levels-3) + strings.Repeat("]", levels-3) + `}]}`)
	}
	for _, levels := range []int{maxDepth - 1, maxDepth} {
		p, err := scanTop(page(levels), "features", nil)
		if err != nil || len(p.Items) != 1 || p.Items[0].ID != "deep" {
			t.Fatalf("%d levels: %v, %v", levels, p, err)
		}
		if _, err := splitPage(page(levels), "features", nil); err != nil {
			t.Fatalf("jsontext, %d levels: %v", levels, err)
		}
	}
	if _, err := scanTop(page(maxDepth+1), "features", nil); err == nil {
		t.Fatalf("the scan took %d levels", maxDepth+1)
	}
	if _, err := scanPage(page(maxDepth+1), "features", nil); err == nil || !strings.Contains(err.Error(), "depth") {
		t.Fatalf("%d levels: %v, want jsontext's depth error", maxDepth+1, err)
	}
}
