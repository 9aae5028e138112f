package cli

import (
	"errors"
	"net/http"
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

// --header values come from the user: parseHeaders accepts exactly what
// can be sent as an HTTP header field, and refuses the rest with a usage
// error naming the flag (never a malformed request later).
func FuzzParseHeaders(f *testing.F) {
	f.Add("X-Client: me")
	f.Add("Authorization: Bearer abc")
	f.Add("Accept:application/geo+json")
	f.Add("No colon")
	f.Add(": empty name")
	f.Add("X-Bad Name: v")
	f.Add("X-Split: a\r\nInjected: b")
	f.Add("X-Nul: a\x00b")
	f.Add("Ünïcode: v")
	f.Add("X-Tab:\tv\tw ")
	f.Fuzz(func(t *testing.T, raw string) {
		cf := &clientFlags{headers: []string{raw}}
		h, err := cf.parseHeaders()
		if err != nil {
			var ue *usageError
			if !errors.As(err, &ue) || !strings.Contains(err.Error(), "--header") {
				t.Fatalf("error %v is not a usage error naming --header", err)
			}
			return
		}
		// net/http checks header fields before it dials: what it refuses
		// must not have been accepted.
		req, _ := http.NewRequest(http.MethodGet, "http://127.0.0.1:1/", nil)
		req.Header = h
		_, err = (&http.Transport{}).RoundTrip(req)
		if err != nil && strings.Contains(err.Error(), "invalid header") {
			t.Fatalf("accepted %q: %v", raw, err)
		}
	})
}
