package cli

import (
	"strings"
	"testing"

	"github.com/go-json-experiment/json/jsontext"
)

// Whatever is given to --max-page-size: a value accepted is at least a
// byte, and prints as a value that parses back to it.
func FuzzParseByteSize(f *testing.F) {
	for _, s := range []string{"128MiB", "1GiB", "500MB", "1048576", "1.5KiB", "0", "-1", "NaN", "1e300GiB", " 2 kB "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := parseByteSize(s)
		if err != nil {
			return
		}
		if n < 1 {
			t.Fatalf("parseByteSize(%q) = %d", s, n)
		}
		b := byteSize(n)
		if again, err := parseByteSize(b.String()); err != nil || again != n {
			t.Fatalf("%q -> %d -> %q -> %d, %v", s, n, b.String(), again, err)
		}
	})
}

// A --filter accepted as CQL2-JSON is one valid JSON value: a filter
// that would fail at the server is a usage error here.
func FuzzReadFilter(f *testing.F) {
	for _, s := range []string{`{"op":"=","args":[{"property":"a"},1]}`, "{bad json", "a = 1", "{}", "{} {}", " ", `{"op":"and","args":[`} {
		f.Add(s, "")
		f.Add(s, "cql2-json")
	}
	f.Fuzz(func(t *testing.T, s, lang string) {
		if strings.HasPrefix(s, "@") {
			return // a file
		}
		text, err := readFilter(s, lang)
		if err != nil {
			return
		}
		t2 := strings.TrimSpace(text)
		if (strings.HasPrefix(t2, "{") || strings.EqualFold(lang, "cql2-json")) && !jsontext.Value(t2).IsValid() {
			t.Fatalf("readFilter(%q, %q) accepted invalid JSON", s, lang)
		}
	})
}
