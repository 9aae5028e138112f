package auth

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stacq/stacq/internal/redact"
)

// EarthDaily answers an expired or revoked token with 403, not 401: the
// 403 renews the token once and the request goes through.
func TestEarthDaily403Renews(t *testing.T) {
	p := newProvider(t, "basic", "/oauth2/token")
	p.Expired403 = true
	r := resolve(t, p.APIURL(), p.settings())
	c := r.Client(nil)
	get(t, c, p.APIURL()+"/search")
	p.Rotate()
	get(t, c, p.APIURL()+"/search?page=2")
	wantCount(t, "token requests", &p.TokenReqs, 2)
	wantCount(t, "API requests", &p.APIReqs, 3) // the 403 and its retry
	if tok, _, ok := r.CachedToken(); !ok || tok.AccessToken != "tok-2" {
		t.Errorf("cache holds %+v, want the renewed token", tok)
	}
}

// A 403 to a token issued a moment ago is a permission error, not an
// expiry: reported as such, and for a while later 403s to the same token
// are reported without asking for yet another one.
func TestSecond403IsPermissionError(t *testing.T) {
	p := newProvider(t, "both", "/oauth/token")
	p.Forbidden403 = true
	c := resolve(t, p.APIURL(), p.settings()).Client(nil)
	for i := range 3 {
		resp, err := c.Get(p.APIURL() + "/collections/private/items")
		if err == nil {
			resp.Body.Close()
			t.Fatalf("request %d: %s, want an error", i, resp.Status)
		}
		var ae *AuthError
		if !errors.As(err, &ae) || ae.StatusCode != 403 || !ae.Renewed {
			t.Fatalf("request %d: err = %v, want a renewed 403 *AuthError", i, err)
		}
		if !strings.Contains(err.Error(), "valid but lack permission") {
			t.Errorf("error does not say permission: %v", err)
		}
	}
	// One renewal for the first refusal; the next two reuse the verdict.
	wantCount(t, "token requests", &p.TokenReqs, 2)
	wantCount(t, "API requests", &p.APIReqs, 4)
}

// A 401 right after a renewal (the new token has not reached every server
// yet) gets one more try after DefaultRetryDelay, measured on a synctest
// clock over an in-memory transport.
func Test401RightAfterRenewal(t *testing.T) {
	p := newProvider(t, "both", "/oauth/token") // outside the bubble: it listens on a socket
	synctest.Test(t, func(t *testing.T) {
		s := p.settings()
		s.NoTokenCache = true
		s.HTTPClient = &http.Client{Transport: handlerTransport{H: p.Handler()}}
		r := resolve(t, p.APIURL(), s)
		r.tr.RetryDelay = 0 // the default
		c := r.Client(s.HTTPClient)
		get(t, c, p.APIURL()+"/search")
		p.Rotate()
		p.RefuseFresh = 1
		start := time.Now()
		get(t, c, p.APIURL()+"/search")
		if d := time.Since(start); d != DefaultRetryDelay {
			t.Errorf("took %v, want the one wait of %v", d, DefaultRetryDelay)
		}
		wantCount(t, "token requests", &p.TokenReqs, 2)
		wantCount(t, "API requests", &p.APIReqs, 4) // ok, revoked, fresh refused, ok
	})
}

// expires_in of 0 or below, or a JWT exp already past (a server clock
// behind ours), is an unknown lifetime: the token is reused until the API
// refuses it, not renewed before every request.
func TestUnknownLifetime(t *testing.T) {
	for name, setup := range map[string]func(p *provider){
		"expires_in 0":  func(p *provider) { zero := 0; p.ExpiresIn = &zero },
		"expires_in -5": func(p *provider) { neg := -5; p.ExpiresIn = &neg },
		"JWT exp past":  func(p *provider) { p.JWT, p.JWTSkew = true, 25*time.Hour },
	} {
		t.Run(name, func(t *testing.T) {
			p := newProvider(t, "both", "/oauth/token")
			p.Lifetime = 24 * time.Hour // the server still takes it
			setup(p)
			r := resolve(t, p.APIURL(), p.settings())
			c := r.Client(nil)
			for range 20 {
				get(t, c, p.APIURL()+"/search")
				p.Clock.Advance(10 * time.Minute)
			}
			wantCount(t, "token requests", &p.TokenReqs, 1)
			tok, _, ok := r.CachedToken()
			if !ok || !tok.Expiry.IsZero() {
				t.Errorf("cached %+v, want a token without expiry", tok)
			}
			// Until the API refuses it.
			p.Rotate()
			get(t, c, p.APIURL()+"/search")
			wantCount(t, "token requests after the refusal", &p.TokenReqs, 2)
		})
	}
}

// The cache is keyed by a fingerprint of the secret: a wrong or rotated
// secret does not "work" on a token cached for the old one.
func TestCacheKeyedBySecret(t *testing.T) {
	p := newProvider(t, "both", "/oauth/token")
	s := p.settings()
	s.AuthStyle = "basic" // one request per attempt
	tok1, err := resolve(t, p.APIURL(), s).Token(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	wrong := s
	wrong.ClientSecret = "a-wrong-secret"
	_, err = resolve(t, p.APIURL(), wrong).Token(t.Context())
	var te *TokenError
	if !errors.As(err, &te) || te.ErrorCode != "invalid_client" {
		t.Fatalf("wrong secret: err = %v, want invalid_client from the endpoint", err)
	}
	wantCount(t, "token requests", &p.TokenReqs, 2)
	// The file still holds the good secret's token, which the good
	// secret reuses.
	tok, err := resolve(t, p.APIURL(), s).Token(t.Context())
	if err != nil || tok.AccessToken != tok1.AccessToken {
		t.Fatalf("good secret again: %v, %v", tok, err)
	}
	wantCount(t, "token requests", &p.TokenReqs, 2)
	// A rotated secret the server takes: a new token, replacing the file.
	p.Secret = "rotated-secret"
	rot := s
	rot.ClientSecret = "rotated-secret"
	if tok, err := resolve(t, p.APIURL(), rot).Token(t.Context()); err != nil || tok.AccessToken == tok1.AccessToken {
		t.Fatalf("rotated secret: %v, %v", tok, err)
	}
	wantCount(t, "token requests", &p.TokenReqs, 3)
	data, _ := os.ReadFile(resolve(t, p.APIURL(), s).CacheFile)
	for _, sec := range []string{testSecret, "rotated-secret"} {
		if strings.Contains(string(data), sec) {
			t.Errorf("cache file holds a secret: %s", data)
		}
	}
	if !strings.Contains(string(data), `"fingerprint": "`) {
		t.Errorf("no fingerprint in %s", data)
	}
}

// Processes that start together with an empty cache take turns on the
// cache's lock file: one asks the endpoint, the others read its token.
// Each chain here has its own file descriptors, as separate processes do.
func TestCacheLockOneTokenRequest(t *testing.T) {
	p := newProvider(t, "both", "/oauth/token")
	p.TokenFault = func(http.ResponseWriter, *http.Request, int64) bool {
		time.Sleep(50 * time.Millisecond) // a slow endpoint, so that all wait on the lock
		return false
	}
	s := p.settings()
	const runs = 8
	start := make(chan struct{})
	var wg sync.WaitGroup
	for range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := resolve(t, p.APIURL(), s)
			<-start
			get(t, r.Client(nil), p.APIURL()+"/search")
		}()
	}
	close(start)
	wg.Wait()
	wantCount(t, "token requests", &p.TokenReqs, 1)
	wantCount(t, "API requests", &p.APIReqs, runs)
}

// Without credentials, an allowed origin's 401 or 403 says how to give
// them; another origin's answer is handed back.
func TestNoCredentialsHint(t *testing.T) {
	p := newProvider(t, "both", "/oauth/token")
	other := newProvider(t, "both", "/oauth/token")
	c := &http.Client{Transport: &Transport{Origins: []string{p.APIURL()}, Provider: "generic", Hint: "set STACQ_TOKEN"}}
	_, err := c.Get(p.APIURL() + "/search")
	var ae *AuthError
	if !errors.As(err, &ae) || ae.Method != MethodNone || ae.StatusCode != 401 {
		t.Fatalf("err = %v", err)
	}
	for _, want := range []string{"answered HTTP 401 Unauthorized and no credentials are configured", "set STACQ_TOKEN"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q lacks %q", err, want)
		}
	}
	resp, err := c.Get(other.APIURL() + "/search")
	if err != nil || resp.StatusCode != 401 {
		t.Fatalf("another origin: %v, %v", resp, err)
	}
	resp.Body.Close()
}

// Credentials never follow a redirect to another origin, and never down
// from https to http on the same host, where net/http keeps an
// Authorization header: neither the Transport's nor one the caller set.
func TestRedirectDowngrade(t *testing.T) {
	var plainAuth atomic.Value
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		plainAuth.Store(r.Header.Get("Authorization") + "|" + r.URL.RawQuery)
		fmt.Fprint(w, "plain")
	}))
	defer plain.Close()
	api := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, plain.URL+"/next?page=2", http.StatusFound) // same host, http, another port
	}))
	defer api.Close()
	base := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: api.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs}}
	key, _ := NewAPIKey("KEY-in-the-query", APIKeyPlacement{In: APIKeyQuery, Name: "api_key"})
	for name, creds := range map[string]Credentials{"caller's header": nil, "static token": NewStaticToken("T0KEN"), "API key": key} {
		t.Run(name, func(t *testing.T) {
			plainAuth.Store("unset")
			c := &http.Client{Transport: &Transport{Credentials: creds, Origins: []string{api.URL}, Base: base}}
			req, _ := http.NewRequest("GET", api.URL+"/search", nil)
			if creds == nil {
				req.Header.Set("Authorization", "Bearer caller-set")
			}
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if got := plainAuth.Load(); got != "|page=2" {
				t.Errorf("the http redirect target got %q", got)
			}
		})
	}
}

// Whatever a server echoes of the request in an error body (the Basic
// header of the client secret, the form, the bearer token, an API key in
// the query or its Basic form, a password), no error text shows it, and
// the Redactor learns every form sent.
func TestEchoedCredentialsNotInErrors(t *testing.T) {
	basicBlob := base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(testClientID) + ":" + url.QueryEscape(testSecret)))
	leaks := func(t *testing.T, text string, secrets ...string) {
		t.Helper()
		for _, s := range secrets {
			if strings.Contains(text, s) {
				t.Errorf("%q shows %q", text, s)
			}
		}
	}
	t.Run("token endpoint", func(t *testing.T) {
		for _, status := range []int{400, 401, 500, 502} {
			p := newProvider(t, "basic", "/oauth2/token")
			p.Echo = true
			p.TokenFault = func(w http.ResponseWriter, r *http.Request, n int64) bool {
				body, _ := io.ReadAll(r.Body)
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(status)
				fmt.Fprintf(w, `{"error":"server said no","error_description":"Authorization: %s; form %s \u001b]0;pwned\u0007"}`, r.Header.Get("Authorization"), body)
				return true
			}
			var red redact.Secrets
			s := p.settings()
			s.Redactor = &red
			s.AuthStyle = "basic"
			_, err := resolve(t, p.APIURL(), s).Token(t.Context())
			if err == nil {
				t.Fatal("no error")
			}
			leaks(t, err.Error(), testSecret, basicBlob, url.QueryEscape(testSecret), "\x1b", "\x07")
			echoed := "Basic " + basicBlob + " client_secret=" + url.QueryEscape(testSecret)
			if got := red.Scrub(echoed); strings.Contains(got, basicBlob) || strings.Contains(got, url.QueryEscape(testSecret)) {
				t.Errorf("Redactor does not mask %q: %q", echoed, got)
			}
		}
	})
	t.Run("API", func(t *testing.T) {
		p := newProvider(t, "both", "/oauth/token")
		p.Echo = true
		var red redact.Secrets
		for name, creds := range map[string]Credentials{
			"bearer":       NewStaticToken("echoed-bearer-token"),
			"key query":    must(NewAPIKey("PLAKechoedkey1", APIKeyPlacement{In: APIKeyQuery, Name: "api_key"})),
			"key basic":    must(NewAPIKey("PLAKechoedkey2", APIKeyPlacement{})),
			"key header":   must(NewAPIKey("PLAKechoedkey3", APIKeyPlacement{In: APIKeyHeader})),
			"http basic":   NewBasic("alice", "echoed-password"),
			"named header": must(NewAPIKey("PLAKechoedkey4", APIKeyPlacement{In: APIKeyHeader, Name: "X-Api-Key"})),
		} {
			c := &http.Client{Transport: &Transport{Credentials: creds, Origins: []string{p.APIURL()}, Redactor: &red}}
			_, err := c.Get(p.APIURL() + "/search")
			if err == nil {
				t.Fatalf("%s: no error", name)
			}
			leaks(t, err.Error(), "echoed-bearer-token", "PLAKechoedkey", "echoed-password",
				base64.StdEncoding.EncodeToString([]byte("PLAKechoedkey2:")), base64.StdEncoding.EncodeToString([]byte("alice:echoed-password")))
		}
		all := "Bearer echoed-bearer-token api_key=PLAKechoedkey1 Basic " + base64.StdEncoding.EncodeToString([]byte("PLAKechoedkey2:")) +
			" api-key PLAKechoedkey3 Basic " + base64.StdEncoding.EncodeToString([]byte("alice:echoed-password")) + " X-Api-Key: PLAKechoedkey4"
		if got := red.Scrub(all); strings.Contains(got, "echoed") || strings.Contains(got, "PLAK") {
			t.Errorf("Redactor leaves %q", got)
		}
	})
}

func must(c Credentials, err error) Credentials {
	if err != nil {
		panic(err)
	}
	return c
}

// A cancelled request stops waiting for the lock of a busy cache.
func TestCacheLockCancel(t *testing.T) {
	dir := t.TempDir()
	unlock, err := lockFile(context.Background(), filepath.Join(dir, "x.lock"))
	if err != nil {
		t.Skip(err)
	}
	defer unlock()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		_, err := lockFile(ctx, filepath.Join(dir, "x.lock"))
		done <- err
	}()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v", err)
	}
}
