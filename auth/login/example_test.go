package login_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log"
	"net/http"
	"os"

	"golang.org/x/oauth2"

	"github.com/stacq/stacq/auth/login"
)

// A terminal login with a preset provider, then an HTTP client that keeps
// itself authenticated with the stored session.
func Example() {
	ctx := context.Background()
	store, err := login.DefaultStore()
	if err != nil {
		log.Fatal(err)
	}
	p, _ := login.LookupProvider("planet")
	cfg := p.Config()
	cfg.Prompt = os.Stderr // the verification URL and code go to the user
	cfg.HTTPClient = http.DefaultClient

	sess, err := cfg.Login(ctx, p.Flow)
	if err != nil {
		log.Fatal(err)
	}
	if err := store.Save(p.Name, sess); err != nil {
		log.Fatal(err)
	}

	// Any later command:
	ts, err := login.NewTokenSource(ctx, store, p.Name, http.DefaultClient)
	if errors.Is(err, login.ErrNotLoggedIn) {
		log.Fatal(err) // "no login session "planet"; run "stacq auth login" first"
	}
	client := oauth2.NewClient(ctx, ts)
	_ = client // hand it to the STAC client
}

// A transport that got 401 Unauthorized tells the source which token
// was refused; concurrent failures then cause a single renewal.
func ExampleTokenSource_InvalidateToken() {
	var ts *login.TokenSource // from login.NewTokenSource
	retry := func(req *http.Request, base http.RoundTripper) (*http.Response, error) {
		tok, err := ts.Token()
		if err != nil {
			return nil, err
		}
		r := req.Clone(req.Context())
		tok.SetAuthHeader(r)
		resp, err := base.RoundTrip(r)
		if err != nil || resp.StatusCode != http.StatusUnauthorized {
			return resp, err
		}
		resp.Body.Close()
		ts.InvalidateToken(tok.AccessToken)
		if tok, err = ts.Token(); err != nil {
			return nil, err // a *login.SessionExpiredError says to log in again
		}
		r = req.Clone(req.Context())
		tok.SetAuthHeader(r)
		return base.RoundTrip(r)
	}
	_ = retry
}

func ExampleLookupProvider() {
	p, ok := login.LookupProvider("planet")
	fmt.Println(ok, p.Issuer, p.Flow)
	// Output: true https://login.planet.com/ device
}

func ExampleDecodeIDTokenClaims() {
	payload := base64.RawURLEncoding.EncodeToString([]byte(
		`{"sub":"f81d4fae","email":"alice@example.com","name":"Alice Doe","exp":1767225600}`))
	claims, err := login.DecodeIDTokenClaims("eyJhbGciOiJSUzI1NiJ9." + payload + ".sig")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(claims.Identity(), claims.Expiry)
	// Output: Alice Doe <alice@example.com> 2026-01-01 00:00:00 +0000 UTC
}
