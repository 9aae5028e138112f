package auth_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stacq/stacq/auth"
)

// roundTripFunc answers requests without a network.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// Whatever a token endpoint answers with 200 (JSON or form encoded, odd
// expires_in values, missing members), the client credentials flow gives a
// usable token or an error without the secret, and never panics; a token
// that comes with an expiry never expires before it was issued (a past
// expiry means unknown).
func FuzzTokenResponse(f *testing.F) {
	const secret = "Fuzz-S3cret+/="
	f.Add(`{"access_token":"abc","token_type":"Bearer","expires_in":3600}`, "application/json")
	f.Add(`{"access_token":"abc","token_type":"bearer","expires_in":"3600","scope":"a b"}`, "application/json; charset=utf-8")
	f.Add(`access_token=abc&token_type=bearer&expires_in=3600`, "application/x-www-form-urlencoded")
	f.Add(`{"access_token":"abc","expires_in":-1}`, "application/json")
	f.Add(`{"access_token":"abc","expires_in":0}`, "application/json")
	f.Add(`{"access_token":"abc","expires_in":1e308}`, "application/json")
	f.Add(`{"access_token":"","expires_in":60}`, "application/json")
	f.Add(`{"token_type":"Bearer"}`, "application/json")
	f.Add(`<html>ok</html>`, "text/html")
	f.Add(`{"access_token":"abc","expires_in":null,"refresh_token":"r"}`, "")
	f.Add(`{"access_token":"eyJhbGciOiJub25lIn0.eyJleHAiOjF9.sig"}`, "application/json")
	f.Fuzz(func(t *testing.T, body, ctype string) {
		hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			if r.Body != nil {
				io.Copy(io.Discard, r.Body)
				r.Body.Close()
			}
			return &http.Response{
				StatusCode: 200, Header: http.Header{"Content-Type": {ctype}},
				Body: io.NopCloser(strings.NewReader(body)), Request: r,
			}, nil
		})}
		cc, err := auth.NewClientCredentialsSource(auth.ClientCredentials{
			TokenURL: "https://idp.example/oauth/token", ClientID: "cid", ClientSecret: secret,
			AuthStyle: auth.AuthStyleBody, HTTPClient: hc,
		})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		before := time.Now()
		tok, err := auth.NewReuseSource(cc, 0).Token(ctx)
		if err != nil {
			if strings.Contains(err.Error(), secret) {
				t.Fatalf("secret in %q", err)
			}
			return
		}
		if tok.AccessToken == "" {
			t.Fatalf("a token without an access token from %q", body)
		}
		if !tok.Expiry.IsZero() && !tok.Expiry.After(before) {
			t.Fatalf("token expired at issue (%v) from %q: would be renewed before every request", tok.Expiry, body)
		}
	})
}
