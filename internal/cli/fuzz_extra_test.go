package cli

import (
	"net/url"
	"strings"
	"testing"
)

// A resume link comes from a file the user points at: whatever it holds,
// readResume returns an absolute http(s) link without headers, or an error.
func FuzzReadResume(f *testing.F) {
	f.Add(`{"rel":"next","href":"https://api.example/v1/search","type":"application/geo+json","method":"POST","body":{"limit":100,"token":"300"}}`)
	f.Add("stacq search: 300 items written; to continue:\n{\"rel\":\"next\",\"href\":\"https://api.example/v1/search?limit=10&token=20\",\"method\":\"GET\"}\nstacq search: gave up\n")
	f.Add(`{"href":"https://u:p@api.example/search","headers":{"Authorization":["Bearer x"]}}`)
	f.Add(`{"href":"ftp://x"}`)
	f.Add(`{"href":"https://api.example/search","body":[1,2]}`)
	f.Add("{\n  \"href\": \"https://api.example/search\",\n  \"method\": \"POST\"\n}")
	f.Add(`{"href":"`)
	f.Add(`{}`)
	f.Fuzz(func(t *testing.T, s string) {
		if !strings.HasPrefix(strings.TrimSpace(s), "{") {
			return // a file name: not read here
		}
		l, err := readResume(s)
		if err != nil {
			return
		}
		u, perr := url.Parse(l.Href)
		if perr != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			t.Fatalf("accepted href %q", l.Href)
		}
		if len(l.Headers) != 0 {
			t.Fatalf("headers kept: %v", l.Headers)
		}
	})
}
