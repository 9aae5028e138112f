package auth

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"golang.org/x/oauth2"

	"github.com/stacq/stacq/internal/redact"
)

func FuzzParseJWTExpiry(f *testing.F) {
	f.Add(makeJWT(map[string]any{"exp": 1750000000, "sub": "x"}))
	f.Add(makeJWT(map[string]any{"exp": 1.75e9}))
	f.Add(makeJWT(map[string]any{"exp": "1750000000"}))
	f.Add(makeJWT(map[string]any{"exp": -1}))
	f.Add(makeJWT(map[string]any{"exp": 1e300}))
	f.Add("eyJhbGciOiJub25lIn0.eyJleHAiOjF9.")
	f.Add("a.b.c")
	f.Add("not-a-jwt")
	f.Add("..")
	f.Fuzz(func(t *testing.T, tok string) {
		exp, ok := ParseJWTExpiry(tok)
		if !ok {
			if !exp.IsZero() {
				t.Errorf("not ok but exp %v", exp)
			}
			return
		}
		if exp.Unix() <= 0 || exp.Unix() > maxExp {
			t.Errorf("exp %v out of range", exp)
		}
		// Renewal arithmetic must not overflow for any accepted exp.
		d := dated(&oauth2.Token{AccessToken: tok}, time.Now())
		_ = fresh(d, time.Now(), DefaultRenewMargin)
	})
}

func TestParseJWTExpiry(t *testing.T) {
	for _, tt := range []struct {
		tok  string
		want int64
		ok   bool
	}{
		{makeJWT(map[string]any{"exp": 1750000000}), 1750000000, true},
		{makeJWT(map[string]any{"exp": 1750000000.5}), 1750000000, true},
		{makeJWT(map[string]any{"exp": "1750000000"}), 0, true}, // a numeric string
		{makeJWT(map[string]any{"iat": 1}), 0, false},
		{makeJWT(map[string]any{"exp": 0}), 0, false},
		{makeJWT(map[string]any{"exp": 1e20}), 0, false},
		{"header.eyJleHAiOjE3NTAwMDAwMDB9.sig", 1750000000, true},
		{"header.eyJleHAiOjE3NTAwMDAwMDB9==.sig", 1750000000, true}, // padded
		{"header.!!!.sig", 0, false},
		{"opaque-token-value", 0, false},
	} {
		exp, ok := ParseJWTExpiry(tt.tok)
		if ok != tt.ok || (tt.want != 0 && exp.Unix() != tt.want) {
			t.Errorf("ParseJWTExpiry(%q) = %v, %v; want %d, %v", tt.tok, exp, ok, tt.want, tt.ok)
		}
	}
}

func FuzzDecodeCacheFile(f *testing.F) {
	key := fileKey{TokenURL: "https://idp.example/token", ClientID: "cid", Fingerprint: "f1"}
	f.Add([]byte(`{"version":2,"token_url":"https://idp.example/token","client_id":"cid","fingerprint":"f1","access_token":"a","expiry":"2030-01-01T00:00:00Z","issued":"2029-12-31T23:00:00Z"}`))
	f.Add([]byte(`{"version":2,"token_url":"https://idp.example/token","client_id":"cid","fingerprint":"f1","access_token":"a","expiry":"0001-01-01T00:00:00Z"}`))
	f.Add([]byte(`{"version":2,"token_url":"https://idp.example/token","client_id":"cid","fingerprint":"f1","access_token":"a","expiry":"9999-12-31T23:59:59Z","issued":"-0001-01-01T00:00:00Z"}`))
	f.Add([]byte(`{"version":2,"token_url":"https://idp.example/token","client_id":"cid","fingerprint":"other","access_token":"a"}`))
	f.Add([]byte(`{"version":2}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		cf, err := decodeCacheFile(data, key)
		if err != nil {
			return
		}
		if cf.TokenURL != key.TokenURL || cf.ClientID != key.ClientID || cf.Fingerprint != key.Fingerprint || cf.AccessToken == "" {
			t.Errorf("accepted a foreign file: %+v", cf)
		}
		tok := cf.token()
		_ = fresh(tok, time.Now(), DefaultRenewMargin)
		_ = renewAt(tok, DefaultRenewMargin)
	})
}

// Whatever a token endpoint answers, the error never shows the secret,
// even if the server echoes the request.
func FuzzTokenErrorNoSecret(f *testing.F) {
	f.Add(401, `{"error":"invalid_client","error_description":"bad secret Sup3r-S3cret+/=x"}`, "application/json")
	f.Add(400, `error=invalid_request&error_description=client_secret%3DSup3r-S3cret%2B%2F%3Dx`, "application/x-www-form-urlencoded")
	f.Add(500, `<html>grant_type=client_credentials&client_secret=Sup3r-S3cret%2B%2F%3Dx</html>`, "text/html")
	f.Add(429, ``, "")
	f.Add(200, `{"error":"`+strings.Repeat("é", 200)+`"}`, "application/json")
	basic := base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(testClientID) + ":" + url.QueryEscape(testSecret)))
	f.Add(400, `{"error":"invalid_request","error_description":"got Authorization: Basic `+basic+`"}`, "application/json")
	f.Add(502, "<html>\x1b]0;owned\x07 Basic "+basic+"</html>", "text/html")
	f.Fuzz(func(t *testing.T, status int, body, ctype string) {
		if status < 100 || status > 999 {
			return
		}
		re := &oauth2.RetrieveError{
			Response: &http.Response{StatusCode: status, Header: http.Header{"Content-Type": {ctype}}},
			Body:     []byte(body + " " + testSecret),
		}
		// Mirror x/oauth2's parsing of the error members loosely: put the
		// body in them too.
		re.ErrorCode, re.ErrorDescription = body, body+testSecret
		var secrets redact.Secrets
		secrets.AddBasic(testClientID, testSecret)
		te := tokenError("p", "https://idp.example/token", re, &secrets)
		msg := te.Error()
		if strings.Contains(msg, testSecret) || strings.Contains(msg, basic) {
			t.Errorf("secret in %q", msg)
		}
		if strings.ContainsAny(msg, "\x1b\x07") {
			t.Errorf("control characters in %q", msg)
		}
		if !utf8.ValidString(msg) {
			t.Errorf("invalid UTF-8: %q", msg)
		}
		if len(msg) > 1200 {
			t.Errorf("message of %d bytes", len(msg))
		}
	})
}
