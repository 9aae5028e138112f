package stac

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

func FuzzParseSortBy(f *testing.F) {
	for _, s := range []string{"-properties.datetime,+id", "datetime", "eo:cloud_cover:desc", "a,,b", "-", ":asc", "+-a", " x : DESC "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sb, err := ParseSortBy(s)
		if err != nil {
			if sb != nil {
				t.Fatalf("result with an error: %v", sb)
			}
			return
		}
		if len(sb) == 0 {
			t.Fatal("no sort keys and no error")
		}
		for _, k := range sb {
			if checkFieldName(k.Field) != nil || (k.Direction != "asc" && k.Direction != "desc") {
				t.Fatalf("bad key %+v from %q", k, s)
			}
		}
		// The GET form parses back to the same keys.
		parts := make([]string, len(sb))
		for i, k := range sb {
			sign, _ := sortSign(k)
			parts[i] = sign + k.Field
		}
		again, err := ParseSortBy(strings.Join(parts, ","))
		if err != nil || len(again) != len(sb) {
			t.Fatalf("%q: GET form %q does not parse back: %v", s, strings.Join(parts, ","), err)
		}
		for i := range sb {
			if again[i] != sb[i] {
				t.Fatalf("%q: %v became %v", s, sb, again)
			}
		}
	})
}

func FuzzParseFields(f *testing.F) {
	for _, s := range []string{"id,-geometry,+properties.x", "-assets", "", ",", "+", "a b", "properties.eo:cloud_cover"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		fl, err := ParseFields(s)
		if err != nil {
			return
		}
		if len(fl.Include)+len(fl.Exclude) == 0 {
			t.Fatal("no fields and no error")
		}
		for _, name := range append(append([]string(nil), fl.Include...), fl.Exclude...) {
			if checkFieldName(name) != nil {
				t.Fatalf("bad field %q from %q", name, s)
			}
		}
	})
}

func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{"eo:cloud_cover<10", "platform=sentinel-2a", "gsd>=10", "x!=y", "a<>b", `{"a":{"lt":1}}`,
		`{"a":1}`, "a=", "=b", `id="10"`, "a=='x'", "b=true", "c=null", "a>-1e3", "a=1.", "a<=0x10", `{"a":{"in":[1,"b"]}}`,
		`platform="sentinel-2a"`, "platform='x'", `x=="a"`, "b==false", `b="true"`, "n='10'", "n=1.50", `q="a \"b\""`, "q='", `q=""`} {
		f.Add(s, "a>1")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		q, err := ParseQuery([]string{a, b})
		if err != nil {
			return
		}
		// Whatever parses must encode, for GET and POST alike.
		if _, err := json.Marshal(q); err != nil {
			t.Fatalf("ParseQuery(%q, %q) = %v does not encode: %v", a, b, q, err)
		}
		for prop, ops := range q {
			if prop == "" {
				t.Fatalf("empty property from %q, %q", a, b)
			}
			m, ok := ops.(map[string]any)
			if !ok {
				t.Fatalf("property %q: %T", prop, ops)
			}
			for _, v := range m {
				checkQueryValue(t, v, a+"\n"+b)
			}
		}
	})
}

// checkQueryValue checks a value of the query shorthand against the
// arguments it came from: a number or literal is sent as written in
// them; a string that reads as one was quoted there.
func checkQueryValue(t *testing.T, v any, args string) {
	switch v := v.(type) {
	case jsontext.Value:
		if !v.IsValid() || !strings.Contains(args, string(v)) {
			t.Fatalf("value %s is not as written in %q", v, args)
		}
	case string:
		lit := v == "true" || v == "false" || v == "null"
		if num := jsontext.Value(v); (lit || num.Kind() == '0' && num.IsValid()) && !strings.ContainsAny(args, `'"`) {
			t.Fatalf("%q became the string %q, but it was not quoted", args, v)
		}
	}
}

// Untrusted pages: whatever a server sends, decoding and following its
// next link never panics.
func FuzzDecodeItemCollection(f *testing.F) {
	for _, name := range []string{"earth-search_post_search_1db9ee.json", "planetarycomputer_post_search_18c3fd.json", "earth-search_get_collections_8de8bc.json"} {
		b, err := os.ReadFile("../testdata/recorded/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(smallSeed(f, b))
	}
	f.Add([]byte(`{"type":"FeatureCollection","features":[{"id":1}],"links":[{"rel":"next","method":"POST","merge":true,"body":[1]}]}`))
	f.Add([]byte(`{"features":null,"context":{"next":5,"matched":-1}}`))
	f.Add([]byte(`{"features":[null],"links":[null,{"rel":"next","href":":"}]}`))
	f.Add([]byte(`[]`))
	c := &Client{sentinelHub: true}
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := splitPage(body, "features", nil)
		if err != nil {
			if !utf8.ValidString(err.Error()) && utf8.Valid(body) {
				t.Fatalf("error is not UTF-8: %q", err)
			}
			return
		}
		p.Matched()
		if ic, err := p.ItemCollection(); err == nil {
			for _, it := range ic.Features {
				if it != nil {
					it.Datetime()
				}
			}
			if _, err := json.Marshal(ic); err != nil {
				t.Fatalf("decoded page does not encode: %v", err)
			}
		}
		for _, method := range []string{"POST", "GET"} {
			r := &request{method: method, url: "https://api.example/v1/search", body: jsontext.Value(`{"limit":10}`)}
			if next, err := c.nextRequest(r, p); err == nil && next != nil {
				if next.method != "GET" && next.method != "POST" {
					t.Fatalf("next method %q", next.method)
				}
				if next.method == "POST" && !next.body.IsValid() {
					t.Fatalf("next body %q", next.body)
				}
			}
		}
		var cp CollectionsPage
		json.Unmarshal(body, &cp)
	})
}

// smallSeed keeps one feature or collection of a recorded page: large
// seeds slow the fuzzer down to a crawl.
func smallSeed(f *testing.F, page []byte) []byte {
	var m map[string]jsontext.Value
	if err := json.Unmarshal(page, &m); err != nil {
		f.Fatal(err)
	}
	for _, key := range []string{"features", "collections"} {
		var list []map[string]jsontext.Value
		if json.Unmarshal(m[key], &list) == nil && len(list) > 0 {
			one := list[0]
			delete(one, "assets") // the bulk of an item, and of no interest here
			delete(one, "summaries")
			m[key], _ = json.Marshal([]any{one})
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		f.Fatal(err)
	}
	return b
}

// Links from untrusted pages: decoding a link and building the request it
// makes never panics, and a request built is well formed.
func FuzzLink(f *testing.F) {
	f.Add([]byte(`{"rel":"next","href":"https://api.example/v1/search","method":"POST","body":{"token":"x"},"merge":true,"headers":{"X-A":"1"}}`), []byte(`{"limit":1}`))
	f.Add([]byte(`{"rel":"next","href":"?token=2"}`), []byte(``))
	f.Add([]byte(`{"rel":"next","href":"","method":"get"}`), []byte(`null`))
	f.Add([]byte(`{"rel":"next","href":"x","method":"POST","merge":false}`), []byte(`{"a":`))
	f.Add([]byte(`{"href":"x","method":"POST","merge":true,"body":"str"}`), []byte(`[]`))
	f.Add([]byte(`{"href":"x","headers":{"A":["1","2"]}}`), []byte(`{}`))
	f.Fuzz(func(t *testing.T, link, cur []byte) {
		var l Link
		if err := json.Unmarshal(link, &l); err != nil {
			return
		}
		if _, err := json.Marshal(l); err != nil {
			t.Fatalf("link %s does not encode: %v", link, err)
		}
		c := &Client{}
		r := &request{method: "POST", url: "https://api.example/v1/search", body: cur}
		next, err := c.followRequest(r, &l)
		if err != nil {
			return
		}
		switch next.method {
		case "GET":
		case "POST":
			isObject := func(b []byte) bool { v := jsontext.Value(b); return v.Kind() == '{' && v.IsValid() }
			if (isObject(cur) || len(bytes.TrimSpace(cur)) == 0) && !isObject(next.body) {
				t.Fatalf("link %s with body %q: next body %q", link, cur, next.body)
			}
		default:
			t.Fatalf("method %q", next.method)
		}
		next.key()
	})
}
