package rawjson

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
)

// splitAll records what a Splitter hands on, as text.
func splitAll(src []byte) (members, elements []string, err error) {
	var cur []string
	sp := Splitter{
		Array:         "features",
		Member:        func(k, v []byte) error { members = append(members, fmt.Sprintf("%s=%s", k, v)); return nil },
		ElementMember: func(k, v []byte) { cur = append(cur, fmt.Sprintf("%s=%s", k, v)) },
		Element: func(v []byte, compact bool) error {
			elements = append(elements, fmt.Sprintf("%s compact=%v members=%q", v, compact, cur))
			cur = nil
			return nil
		},
	}
	err = sp.Split(src)
	return members, elements, err
}

// splitRef is what Members, CheckedElements and CheckedMembers find, for
// comparison.
func splitRef(src []byte) (members, elements []string, err error) {
	err = Members(src, func(k, v []byte) error {
		if string(k) != "features" || v[0] != '[' {
			members = append(members, fmt.Sprintf("%s=%s", k, v))
			return nil
		}
		return CheckedElements(v, func(e []byte) error {
			var cur []string
			if e[0] == '{' {
				CheckedMembers(e, func(k, v []byte) error {
					cur = append(cur, fmt.Sprintf("%s=%s", k, v))
					return nil
				})
			}
			c, _ := AppendCompact(nil, e)
			elements = append(elements, fmt.Sprintf("%s compact=%v members=%q", e, bytes.Equal(c, e), cur))
			return nil
		})
	})
	return members, elements, err
}

func TestSplitter(t *testing.T) {
	for _, src := range []string{
		`{"type":"FeatureCollection","features":[{"id":"a","collection":"c","properties":{"x":[1,{"id":"no"}]}},{"id":"b"}],"links":[]}`,
		` { "features" : [ {"id" : "a"} , {"i\u0064":"b"},{ "id":"c"} ,7, "s",[{"id":"x"}] ] , "n" : 1 } `,
		`{"features":[]}`,
		`{"features":null,"a":{"features":[1]}}`,
		`{}`,
		`{"links":[],"features":[{"id":"a"}]}`,
	} {
		gm, ge, gerr := splitAll([]byte(src))
		wm, we, werr := splitRef([]byte(src))
		if gerr != nil || werr != nil {
			t.Fatalf("%s: %v, %v", src, gerr, werr)
		}
		if fmt.Sprint(gm) != fmt.Sprint(wm) || fmt.Sprint(ge) != fmt.Sprint(we) {
			t.Errorf("%s:\ngot  %q %q\nwant %q %q", src, gm, ge, wm, we)
		}
	}
	for _, src := range []string{`[]`, `{"features":[1,]}`, `{"features":[{"id":"a"}}`, `{"features":[{"id":"a"}],}`, `{"features":[1] `, `{"a":1}x`} {
		if _, _, err := splitAll([]byte(src)); err == nil {
			t.Errorf("%s: no error", src)
		}
	}
}

// Split accepts what json.Valid accepts (of objects) and hands on what
// Members, CheckedElements and CheckedMembers find.
func FuzzSplit(f *testing.F) {
	f.Add([]byte(`{"type":"FeatureCollection","features":[{"id":"a","collection":"c","properties":{}}],"links":[]}`))
	f.Add([]byte(` { "features" : [ {"id" : "a"} , 7 ] } `))
	f.Add([]byte(`{"features":[{"a":[{"b":1}]}],"x":"\u00e9"}`))
	f.Add([]byte(`{"features":[1,]}`))
	f.Fuzz(func(t *testing.T, src []byte) {
		gm, ge, gerr := splitAll(src)
		valid := json.Valid(src) && bytes.HasPrefix(bytes.TrimLeft(src, " \t\r\n"), []byte("{"))
		if (gerr == nil) != valid {
			t.Fatalf("%q: error %v, valid %v", src, gerr, valid)
		}
		if gerr != nil {
			return
		}
		wm, we, _ := splitRef(src)
		if fmt.Sprint(gm) != fmt.Sprint(wm) || fmt.Sprint(ge) != fmt.Sprint(we) {
			t.Fatalf("%q:\ngot  %q %q\nwant %q %q", src, gm, ge, wm, we)
		}
	})
}
