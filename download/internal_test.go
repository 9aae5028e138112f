package download

import (
	"strings"
	"testing"
	"time"
)

func TestParseSASToken(t *testing.T) {
	tok, exp, err := parseSASToken([]byte(`{"msft:expiry":"2024-03-19T17:48:39Z","token":"st=2024&se=2024&sp=rl&sv=2021-06-08&sr=c&skoid=a&sig=abc%2Bd%3D"}`))
	if err != nil || !strings.HasPrefix(tok, "st=2024") || !exp.Equal(time.Date(2024, 3, 19, 17, 48, 39, 0, time.UTC)) {
		t.Fatalf("%q %v %v", tok, exp, err)
	}
	for _, bad := range []string{
		``, `[]`, `{}`, `{"token": "a=b"}`, `{"msft:expiry": "2024-03-19T17:48:39Z"}`,
		`{"msft:expiry": "tomorrow", "token": "a=b"}`, `{"msft:expiry": "2024-03-19T17:48:39Z", "token": "a=b c"}`,
		`{"msft:expiry": "2024-03-19T17:48:39Z", "token": "a=b#frag"}`, `{"msft:expiry": "2024-03-19T17:48:39Z", "token": "a=%zz"}`,
		`{"msft:expiry": "2024-03-19T17:48:39Z", "token": "a\nb"}`,
	} {
		if _, _, err := parseSASToken([]byte(bad)); err == nil {
			t.Errorf("parseSASToken(%s) accepted", bad)
		}
	}
}

func FuzzParseSASToken(f *testing.F) {
	f.Add([]byte(`{"msft:expiry":"2024-03-19T17:48:39Z","token":"st=1&se=2&sig=abc"}`))
	f.Add([]byte(`{"msft:expiry":"2024-03-19T17:48:39.5+01:00","token":"?sig=a","msft:expiry":"2025-01-01T00:00:00Z"}`))
	f.Add([]byte(`{"token":"a b"}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, body []byte) {
		tok, _, err := parseSASToken(body)
		if err != nil {
			return
		}
		if tok == "" || strings.ContainsAny(tok, " #\n\r\t\x00") {
			t.Fatalf("token %q accepted", tok)
		}
	})
}

func TestValidatorOf(t *testing.T) {
	h := map[string][]string{"Etag": {`W/"weak"`}, "Last-Modified": {"Tue, 02 Jan 2024 03:04:05 GMT"}}
	if v := validatorOf(h); v != "Tue, 02 Jan 2024 03:04:05 GMT" {
		t.Errorf("a weak ETag was used for If-Range: %q", v)
	}
	h["Etag"] = []string{`"strong"`}
	if v := validatorOf(h); v != `"strong"` {
		t.Errorf("validator %q", v)
	}
}

func TestErrorExcerpt(t *testing.T) {
	for body, want := range map[string]string{
		`<?xml version="1.0"?><Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>`: "AccessDenied: Request has expired",
		`{"message": "nope"}`:           "nope",
		`<html><body>502</body></html>`: "",
		"plain text":                    "plain text",
	} {
		if got := errorExcerpt(map[string][]string{}, []byte(body)); got != want {
			t.Errorf("errorExcerpt(%s) = %q, want %q", body, got, want)
		}
	}
}
