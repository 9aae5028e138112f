package auth

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"golang.org/x/oauth2"

	"github.com/stacq/stacq/internal/testing/authtest"
	"github.com/stacq/stacq/retry"
)

// Keycloak (Sentinel Hub, CDSE) takes either style: auto succeeds with
// Basic at once, and forcing body works too.
func TestKeycloakAcceptsBothStyles(t *testing.T) {
	for _, tt := range []struct {
		path, style, wantUsed string
	}{
		{"/auth/realms/main/protocol/openid-connect/token", "auto", "basic"},
		{"/auth/realms/main/protocol/openid-connect/token", "body", "body"},
		{"/oauth/token", "basic", "basic"},
		{"/oauth/token", "", "basic"}, // generic default is auto
	} {
		t.Run(tt.path+"/"+tt.style, func(t *testing.T) {
			p := newProvider(t, "both", tt.path)
			s := p.settings()
			s.AuthStyle = tt.style
			r := resolve(t, p.APIURL(), s)
			if r.Method != MethodClientCredentials || r.cc.cfg.AuthStyle != AuthStyle(cmp.Or(tt.style, "auto")) {
				t.Fatalf("method %s style %s", r.Method, r.cc.cfg.AuthStyle)
			}
			c := r.Client(nil)
			for range 3 {
				get(t, c, p.APIURL()+"/search")
			}
			wantCount(t, "token requests", &p.TokenReqs, 1)
			wantCount(t, "API requests", &p.APIReqs, 3)
			if len(p.Styles) != 1 || p.Styles[0] != tt.wantUsed {
				t.Errorf("token requests authenticated as %v, want [%s]", p.Styles, tt.wantUsed)
			}
		})
	}
}

// An Ory Hydra client registered for client_secret_post refuses Basic
// with 401 invalid_client: auto tries the body next and remembers it, in
// memory and in the token cache, so later runs go straight to the body.
func TestHydraBodyClientAutoDetect(t *testing.T) {
	p := newProvider(t, "body", "/oauth2/token")
	s := p.settings()
	s.AuthStyle = "auto"
	r := resolve(t, p.APIURL(), s)
	get(t, r.Client(nil), p.APIURL()+"/search")
	wantCount(t, "token requests", &p.TokenReqs, 2)
	if fmt.Sprint(p.Styles) != "[basic body]" {
		t.Errorf("styles tried %v, want [basic body]", p.Styles)
	}

	// The token expires: the same process renews with the body at once.
	p.Clock.Advance(time.Hour)
	get(t, r.Client(nil), p.APIURL()+"/search")
	wantCount(t, "token requests after expiry", &p.TokenReqs, 3)

	// A new run (fresh Resolve, same cache) after another hour: the cache
	// file remembered the style.
	p.Clock.Advance(time.Hour)
	r2 := resolve(t, p.APIURL(), s)
	get(t, r2.Client(nil), p.APIURL()+"/search")
	wantCount(t, "token requests in the next run", &p.TokenReqs, 4)
	if fmt.Sprint(p.Styles) != "[basic body body body]" {
		t.Errorf("styles tried %v, want [basic body body body]", p.Styles)
	}
}

// A Cognito-style endpoint wants Basic: forcing body fails with the
// server's invalid_client; auto and basic work with one request.
func TestCognitoBasicOnly(t *testing.T) {
	t.Run("body", func(t *testing.T) {
		p := newProvider(t, "basic", "/oauth2/token")
		s := p.settings()
		s.AuthStyle = "body"
		_, err := resolve(t, p.APIURL(), s).Token(context.Background())
		var te *TokenError
		if !errors.As(err, &te) || te.ErrorCode != "invalid_client" || te.StatusCode != 400 {
			t.Fatalf("err = %v, want invalid_client TokenError", err)
		}
		wantCount(t, "token requests", &p.TokenReqs, 1)
	})
	t.Run("auto", func(t *testing.T) {
		p := newProvider(t, "basic", "/oauth2/token")
		if _, err := resolve(t, p.APIURL(), p.settings()).Token(context.Background()); err != nil {
			t.Fatal(err)
		}
		wantCount(t, "token requests", &p.TokenReqs, 1)
	})
}

// A wrong secret is reported with the server's error code, and the
// secret appears nowhere in the error.
func TestWrongSecret(t *testing.T) {
	for _, style := range []string{"auto", "basic", "body"} {
		t.Run(style, func(t *testing.T) {
			p := newProvider(t, "both", "/oauth2/token")
			s := p.settings()
			s.AuthStyle = style
			s.ClientSecret = "Wr0ng-Secret/+="
			r := resolve(t, p.APIURL(), s)
			resp, err := r.Client(nil).Get(p.APIURL() + "/search")
			if err == nil {
				resp.Body.Close()
				t.Fatal("no error")
			}
			var te *TokenError
			if !errors.As(err, &te) {
				t.Fatalf("err %T %v is not a *TokenError", err, err)
			}
			var re *oauth2.RetrieveError
			if !errors.As(err, &re) || re.ErrorCode != "invalid_client" {
				t.Errorf("no *oauth2.RetrieveError with invalid_client in the chain")
			}
			for _, text := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", te), te.Err.Error()} {
				if !strings.Contains(text, "invalid_client") && text != te.Err.Error() && !strings.HasPrefix(text, "&auth") {
					t.Errorf("error does not name invalid_client: %s", text)
				}
				for _, sec := range []string{s.ClientSecret, "Wr0ng-Secret", "Wr0ng-Secret%2F%2B%3D"} {
					if strings.Contains(text, sec) {
						t.Errorf("error leaks the secret: %s", text)
					}
				}
			}
			if !strings.Contains(err.Error(), "check the client id and client secret") {
				t.Errorf("no hint: %v", err)
			}
			want := int64(1)
			if style == "auto" {
				want = 2 // Basic refused, then the body
			}
			wantCount(t, "token requests", &p.TokenReqs, want)
			wantCount(t, "API requests", &p.APIReqs, 0)
		})
	}
}

// 50 goroutines sharing one Resolved make a single token request, even on
// a concurrent first use.
func TestConcurrentRequestsShareOneToken(t *testing.T) {
	for _, cache := range []bool{false, true} {
		t.Run(fmt.Sprint("cache=", cache), func(t *testing.T) {
			p := newProvider(t, "both", "/oauth/token")
			s := p.settings()
			s.NoTokenCache = !cache
			r := resolve(t, p.APIURL(), s)
			c := r.Client(nil)
			var wg sync.WaitGroup
			errs := make(chan error, 50)
			for i := range 50 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					resp, err := c.Get(fmt.Sprintf("%s/search?page=%d", p.APIURL(), i%5+1))
					if err != nil {
						errs <- err
						return
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 {
						errs <- fmt.Errorf("status %s", resp.Status)
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			wantCount(t, "token requests", &p.TokenReqs, 1)
			wantCount(t, "API requests", &p.APIReqs, 50)
		})
	}
}

// 20 runs of stacq, each a fresh Resolve with the same cache dir, make one
// token request; the cache file is 0600 in a 0700 dir and holds no secret.
func TestTokenCacheAcrossRuns(t *testing.T) {
	p := newProvider(t, "both", "/oauth/token")
	s := p.settings()
	for run := range 20 {
		r := resolve(t, p.APIURL(), s)
		get(t, r.Client(nil), p.APIURL()+"/search")
		p.Clock.Advance(2 * time.Minute) // 20 runs span 40 minutes of a 1h token
		if run == 0 && r.CacheFile == "" {
			t.Fatal("no cache file")
		}
	}
	wantCount(t, "token requests", &p.TokenReqs, 1)
	wantCount(t, "API requests", &p.APIReqs, 20)

	r := resolve(t, p.APIURL(), s)
	fi, err := os.Stat(r.CacheFile)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("cache file mode %04o, want 0600", fi.Mode().Perm())
	}
	di, err := os.Stat(filepath.Dir(r.CacheFile))
	if err != nil {
		t.Fatal(err)
	}
	if di.Mode().Perm() != 0o700 {
		t.Errorf("cache dir mode %04o, want 0700", di.Mode().Perm())
	}
	data, err := os.ReadFile(r.CacheFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, sec := range []string{testSecret, "Sup3r-S3cret"} {
		if strings.Contains(string(data), sec) {
			t.Errorf("cache file holds the client secret: %s", data)
		}
	}
	if !strings.Contains(string(data), `"access_token": "tok-1"`) || !strings.Contains(string(data), `"token_type": "bearer"`) {
		t.Errorf("cache file lacks the token: %s", data)
	}
	tok, path, ok := r.CachedToken()
	if !ok || path != r.CacheFile || tok.AccessToken != "tok-1" || !tok.Expiry.Equal(authtest.NewClock().Now().Add(time.Hour)) {
		t.Errorf("CachedToken() = %+v, %q, %v", tok, path, ok)
	}

	// An hour later the cached token is stale: one new request.
	p.Clock.Advance(time.Hour)
	get(t, resolve(t, p.APIURL(), s).Client(nil), p.APIURL()+"/search")
	wantCount(t, "token requests after the hour", &p.TokenReqs, 2)

	// Logout forgets it: the next run asks again.
	if err := resolve(t, p.APIURL(), s).Logout(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(r.CacheFile); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("cache file still there after Logout: %v", err)
	}
	if _, _, ok := r.CachedToken(); ok {
		t.Error("CachedToken after Logout: ok")
	}
	get(t, resolve(t, p.APIURL(), s).Client(nil), p.APIURL()+"/search")
	wantCount(t, "token requests after logout", &p.TokenReqs, 3)
	if err := r.Logout(); err != nil {
		t.Fatal(err)
	}
	if err := r.Logout(); err != nil {
		t.Errorf("second Logout: %v", err)
	}
}

// A corrupt or foreign cache file is ignored and replaced.
func TestCorruptOrForeignCacheFile(t *testing.T) {
	for name, content := range map[string]string{
		"garbage":   "\x00\x01not json",
		"truncated": `{"version":1,"token_url":"`,
		"foreign":   `{"version":1,"token_url":"https://elsewhere.example/token","client_id":"other","access_token":"stolen","expiry":"2999-01-01T00:00:00Z"}`,
		"version":   `{"version":99,"access_token":"x"}`,
		"empty":     ``,
		"no token":  `{"version":1,"token_url":"TOKENURL","client_id":"` + testClientID + `","expiry":"2999-01-01T00:00:00Z"}`,
	} {
		t.Run(name, func(t *testing.T) {
			p := newProvider(t, "both", "/oauth/token")
			s := p.settings()
			r := resolve(t, p.APIURL(), s)
			content = strings.ReplaceAll(content, "TOKENURL", p.TokenURL())
			writeFile(t, r.CacheFile, content, 0o600)
			get(t, r.Client(nil), p.APIURL()+"/search")
			wantCount(t, "token requests", &p.TokenReqs, 1)
			tok, _, ok := r.CachedToken()
			if !ok || tok.AccessToken != "tok-1" {
				t.Errorf("cache not replaced: %+v %v", tok, ok)
			}
		})
	}
}

// NoTokenCache writes nothing.
func TestNoTokenCache(t *testing.T) {
	p := newProvider(t, "both", "/oauth/token")
	s := p.settings()
	s.NoTokenCache = true
	for range 3 {
		get(t, resolve(t, p.APIURL(), s).Client(nil), p.APIURL()+"/search")
	}
	wantCount(t, "token requests", &p.TokenReqs, 3)
	entries, _ := os.ReadDir(s.CacheDir)
	if len(entries) != 0 {
		t.Errorf("cache dir not empty: %v", entries)
	}
	if r := resolve(t, p.APIURL(), s); r.CacheFile != "" {
		t.Errorf("CacheFile = %q", r.CacheFile)
	}
}

// Tokens without expires_in expire at their JWT exp claim; a long search
// renews before the hour mark instead of getting 401.
func TestJWTExpiryWithoutExpiresIn(t *testing.T) {
	p := newProvider(t, "both", "/oauth/token")
	p.JWT = true
	r := resolve(t, p.APIURL(), p.settings())
	c := r.Client(nil)
	tok, err := r.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if want := p.Clock.Now().Add(time.Hour); !tok.Expiry.Equal(want) {
		t.Errorf("expiry %v, want %v from the JWT", tok.Expiry, want)
	}
	// Page through for 2.5 hours, a page every 5 minutes.
	for range 30 {
		get(t, c, p.APIURL()+"/search")
		p.Clock.Advance(5 * time.Minute)
	}
	wantCount(t, "token requests", &p.TokenReqs, 3)
	wantCount(t, "API requests", &p.APIReqs, 30)
}

// The renewal margin is 60s or a tenth of the lifetime, whichever is
// smaller.
func TestRenewMargin(t *testing.T) {
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		life, want time.Duration
	}{
		{time.Hour, 60 * time.Second},
		{5 * time.Minute, 30 * time.Second},
		{10 * time.Second, time.Second},
		{0, 0},
	} {
		tok := &oauth2.Token{AccessToken: "x", Expiry: base.Add(tt.life), ExpiresIn: int64(tt.life / time.Second)}
		if got := tok.Expiry.Sub(renewAt(tok, DefaultRenewMargin)); got != tt.want {
			t.Errorf("lifetime %v: margin %v, want %v", tt.life, got, tt.want)
		}
		at := renewAt(tok, DefaultRenewMargin)
		if tt.life > 0 && (!fresh(tok, at.Add(-time.Nanosecond), DefaultRenewMargin) || fresh(tok, at, DefaultRenewMargin)) {
			t.Errorf("lifetime %v: fresh() wrong around renewAt", tt.life)
		}
	}
	if tok := (&oauth2.Token{AccessToken: "x"}); !fresh(tok, base.Add(100*365*24*time.Hour), DefaultRenewMargin) {
		t.Error("token without expiry is not fresh")
	}
}

// Short lifetimes (5 minutes): a token per lifetime, not per request.
func TestShortLifetime(t *testing.T) {
	p := newProvider(t, "both", "/oauth/token")
	p.Lifetime = 5 * time.Minute
	c := resolve(t, p.APIURL(), p.settings()).Client(nil)
	for range 60 { // 30 minutes, a request every 30s
		get(t, c, p.APIURL()+"/search")
		p.Clock.Advance(30 * time.Second)
	}
	// Renewed 30s before each expiry: at 4.5, 9, 13.5, ... minutes.
	wantCount(t, "token requests", &p.TokenReqs, 7)
	wantCount(t, "API requests", &p.APIReqs, 60)
}

// The server rotates its tokens in the middle of paging: the 401 drops the
// token (memory and disk), one new token is fetched, the page is retried
// and paging goes on.
func TestRevocationMidPaging(t *testing.T) {
	p := newProvider(t, "both", "/oauth/token")
	s := p.settings()
	r := resolve(t, p.APIURL(), s)
	c := r.Client(nil)
	u := p.APIURL() + "/search"
	for page := 1; u != ""; page++ {
		if page == 3 {
			p.Rotate()
		}
		body := get(t, c, u)
		if !strings.Contains(body, fmt.Sprintf(`"item-%d"`, page)) {
			t.Fatalf("page %d: %s", page, body)
		}
		u = ""
		if i := strings.Index(body, `"href":"`); i >= 0 {
			u = body[i+8:]
			u = u[:strings.Index(u, `"`)]
		}
	}
	wantCount(t, "token requests", &p.TokenReqs, 2)
	wantCount(t, "API requests", &p.APIReqs, 6) // 5 pages + the refused one
	if tok, _, ok := r.CachedToken(); !ok || tok.AccessToken != "tok-2" {
		t.Errorf("cache holds %+v, want the renewed token", tok)
	}
	// The next run uses the renewed token from the cache.
	get(t, resolve(t, p.APIURL(), s).Client(nil), p.APIURL()+"/search")
	wantCount(t, "token requests in the next run", &p.TokenReqs, 2)
}

// A POST refused with 401 is replayed with its body, with and without
// GetBody.
func TestRetryReplaysPOSTBody(t *testing.T) {
	const body = `{"collections":["sentinel-2-l2a"],"bbox":[5,45,6,46],"limit":100}`
	for _, getBody := range []bool{true, false} {
		t.Run(fmt.Sprint("GetBody=", getBody), func(t *testing.T) {
			p := newProvider(t, "both", "/oauth/token")
			c := resolve(t, p.APIURL(), p.settings()).Client(nil)
			if _, err := c.Get(p.APIURL() + "/search"); err != nil {
				t.Fatal(err)
			}
			p.Rotate()
			req, _ := http.NewRequest(http.MethodPost, p.APIURL()+"/search", strings.NewReader(body))
			if !getBody {
				req.GetBody = nil
				req.Body = io.NopCloser(strings.NewReader(body)) // a reader http cannot rewind
			}
			req.Header.Set("Content-Type", "application/json")
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			data, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || !strings.Contains(string(data), fmt.Sprintf(`"received":%d`, len(body))) {
				t.Fatalf("%s: %s", resp.Status, data)
			}
			if len(p.Bodies) != 1 || p.Bodies[0] != body {
				t.Errorf("API received bodies %q", p.Bodies)
			}
			wantCount(t, "token requests", &p.TokenReqs, 2)
			wantCount(t, "API requests", &p.APIReqs, 3)
		})
	}
}

// When a fresh token is refused too, the second 401 is an *AuthError that
// names the provider and what to check, and nothing loops.
func TestSecond401IsAuthError(t *testing.T) {
	p := newProvider(t, "both", "/oauth/token")
	p.APIKey = "only-api-keys-here" // the API accepts no token at all
	r := resolve(t, p.APIURL(), p.settings())
	resp, err := r.Client(nil).Get(p.APIURL() + "/search")
	if err == nil {
		resp.Body.Close()
		t.Fatal("no error")
	}
	var ae *AuthError
	if !errors.As(err, &ae) || !ae.Renewed || ae.StatusCode != 401 {
		t.Fatalf("err = %v, want a renewed *AuthError", err)
	}
	for _, want := range []string{"generic:", "HTTP 401", "freshly issued", "invalid or expired access token", "check that client " + testClientID} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	wantCount(t, "token requests", &p.TokenReqs, 2)
	// Refused, renewed and refused, one more try after a short wait.
	wantCount(t, "API requests", &p.APIReqs, 3)
}

// A static token cannot be renewed: the first 401 is the error.
func TestStaticTokenRefused(t *testing.T) {
	p := newProvider(t, "both", "/oauth/token")
	r := resolve(t, p.APIURL(), chainConfig{Token: "expired-token-value"})
	if r.Method != MethodToken {
		t.Fatalf("method %s", r.Method)
	}
	_, err := r.Client(nil).Get(p.APIURL() + "/search")
	var ae *AuthError
	if !errors.As(err, &ae) || ae.Renewed || !strings.Contains(err.Error(), "STACQ_TOKEN") {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(err.Error(), "expired-token-value") {
		t.Errorf("error leaks the token: %v", err)
	}
	wantCount(t, "token requests", &p.TokenReqs, 0)
	wantCount(t, "API requests", &p.APIReqs, 1)
}

// A token endpoint answering 429 is retried by the retry package's
// transport in the HTTP client of the token requests, waiting as
// Retry-After says; one that keeps at it gives a rate-limiting error.
// In a synctest bubble, over an in-memory transport, the waits take no
// time and are measured exactly.
func TestTokenEndpointRateLimited(t *testing.T) {
	limited := func(p *provider, after func(n int64) string, upTo int64) {
		p.TokenFault = func(w http.ResponseWriter, _ *http.Request, n int64) bool {
			if n > upTo {
				return false
			}
			w.Header().Set("Retry-After", after(n))
			authtest.OAuthError(w, http.StatusTooManyRequests, "slow_down", "too many requests")
			return true
		}
	}
	// run resolves p's chain with token requests retried by pol, in a
	// bubble, and returns the waits the policy made.
	run := func(t *testing.T, p *provider, pol retry.Policy, fn func(ctx context.Context, r *chain)) (waits []time.Duration) {
		synctest.Test(t, func(t *testing.T) {
			pol.OnRetry = func(i retry.Info) { waits = append(waits, i.Wait) }
			s := p.settings()
			s.NoTokenCache = true
			s.HTTPClient = &http.Client{Transport: pol.Transport(handlerTransport{H: p.Handler()})}
			fn(t.Context(), resolve(t, p.APIURL(), s))
		})
		return waits
	}
	t.Run("recovers", func(t *testing.T) {
		p := newProvider(t, "both", "/oauth/token")
		limited(p, func(n int64) string { return fmt.Sprint(n - 1) }, 2) // 0, then 1
		var err error
		waits := run(t, p, retry.Policy{}, func(ctx context.Context, r *chain) { _, err = r.Token(ctx) })
		if err != nil {
			t.Error(err)
		}
		if fmt.Sprint(waits) != "[0s 1s]" {
			t.Errorf("waited %v, want [0s 1s]", waits)
		}
		wantCount(t, "token requests", &p.TokenReqs, 3)
		if styles, _, _ := p.Snapshot(); fmt.Sprint(styles) != "[basic]" {
			t.Errorf("a 429 made auto-detection switch styles: %v", styles)
		}
	})
	t.Run("persists", func(t *testing.T) {
		p := newProvider(t, "both", "/oauth/token")
		limited(p, func(int64) string { return "10" }, 1<<62)
		var err error
		waits := run(t, p, retry.Policy{MaxWait: 30 * time.Second}, func(ctx context.Context, r *chain) { _, err = r.Token(ctx) })
		var te *TokenError
		if !errors.As(err, &te) || !te.RateLimited {
			t.Fatalf("err = %v, want a rate-limited TokenError", err)
		}
		if !strings.Contains(err.Error(), "rate-limiting") {
			t.Errorf("error does not say rate-limiting: %v", err)
		}
		var total time.Duration
		for _, w := range waits {
			total += w
		}
		if total > 30*time.Second {
			t.Errorf("waited %v, more than 30s", total)
		}
		wantCount(t, "token requests", &p.TokenReqs, 4) // 3 waits of 10s fit in 30s
	})
	t.Run("Retry-After 0 forever", func(t *testing.T) {
		p := newProvider(t, "both", "/oauth/token")
		limited(p, func(int64) string { return "0" }, 1<<62)
		var err error
		run(t, p, retry.Policy{MaxAttempts: 6}, func(ctx context.Context, r *chain) { _, err = r.Token(ctx) })
		var te *TokenError
		if !errors.As(err, &te) || !te.RateLimited {
			t.Fatalf("err = %v", err)
		}
		wantCount(t, "token requests", &p.TokenReqs, 6)
	})
	t.Run("cancel while waiting", func(t *testing.T) {
		p := newProvider(t, "both", "/oauth/token")
		limited(p, func(int64) string { return "20" }, 1<<62)
		var err error
		var took time.Duration
		run(t, p, retry.Policy{}, func(ctx context.Context, r *chain) {
			ctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
			defer cancel()
			start := time.Now()
			_, err = r.Token(ctx)
			took = time.Since(start)
		})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v, want the context's", err)
		}
		if took != 50*time.Millisecond {
			t.Errorf("took %v to notice the cancel, want the 50ms of the deadline", took)
		}
		wantCount(t, "token requests", &p.TokenReqs, 1)
	})
}

// 5xx from the token endpoint is a server error, never "bad credentials",
// and does not make auto-detection try the other style.
func TestTokenEndpointServerError(t *testing.T) {
	p := newProvider(t, "both", "/oauth/token")
	p.TokenFault = func(w http.ResponseWriter, _ *http.Request, n int64) bool {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprint(w, "<html><body>503 Service Temporarily Unavailable</body></html>")
		return true
	}
	_, err := resolve(t, p.APIURL(), p.settings()).Client(nil).Get(p.APIURL() + "/search")
	var te *TokenError
	if !errors.As(err, &te) || !te.ServerError || te.StatusCode != 503 {
		t.Fatalf("err = %v, want a server error", err)
	}
	msg := err.Error()
	if !strings.Contains(msg, "server error (HTTP 503") || strings.Contains(msg, "check the client") {
		t.Errorf("message: %s", msg)
	}
	wantCount(t, "token requests", &p.TokenReqs, 1)
	wantCount(t, "API requests", &p.APIReqs, 0)
}

// A token endpoint that redirects is not followed (the secret would be
// posted to the redirect target).
func TestTokenEndpointRedirectNotFollowed(t *testing.T) {
	p := newProvider(t, "both", "/oauth/token")
	other := newProvider(t, "both", "/oauth/token")
	p.TokenFault = func(w http.ResponseWriter, _ *http.Request, n int64) bool {
		w.Header().Set("Location", other.TokenURL())
		w.WriteHeader(http.StatusTemporaryRedirect)
		return true
	}
	_, err := resolve(t, p.APIURL(), p.settings()).Token(context.Background())
	var te *TokenError
	if !errors.As(err, &te) || te.StatusCode != 307 || !strings.Contains(err.Error(), "redirects") {
		t.Fatalf("err = %v", err)
	}
	wantCount(t, "token requests", &p.TokenReqs, 1)
	wantCount(t, "token requests at the redirect target", &other.TokenReqs, 0)
}

// Cancelling a request while others wait for the same token does not fail
// the waiters.
func TestLeaderCancelDoesNotFailWaiters(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		started := make(chan struct{})
		var calls int
		var mu sync.Mutex
		src := NewReuseSource(sourceFunc(func(ctx context.Context) (*oauth2.Token, error) {
			mu.Lock()
			calls++
			n := calls
			mu.Unlock()
			if n == 1 {
				close(started)
				select {
				case <-ctx.Done():
					return nil, ctx.Err()
				case <-release:
				}
			}
			return &oauth2.Token{AccessToken: fmt.Sprint("t", n)}, nil
		}), 0)
		ctx, cancel := context.WithCancel(t.Context())
		leaderErr := make(chan error, 1)
		go func() { _, err := src.Token(ctx); leaderErr <- err }()
		<-started
		waiter := make(chan *oauth2.Token, 1)
		go func() { tok, _ := src.Token(t.Context()); waiter <- tok }()
		synctest.Wait() // the waiter is queued behind the leader
		cancel()
		if err := <-leaderErr; !errors.Is(err, context.Canceled) {
			t.Errorf("leader: %v", err)
		}
		if tok := <-waiter; tok == nil || tok.AccessToken != "t2" {
			t.Errorf("waiter got %v, want t2", tok)
		}
		close(release)
	})
}

type sourceFunc func(ctx context.Context) (*oauth2.Token, error)

func (f sourceFunc) Token(ctx context.Context) (*oauth2.Token, error) { return f(ctx) }

func writeFile(t *testing.T, name, content string, mode os.FileMode) {
	t.Helper()
	authtest.WriteFile(t, name, content, mode)
}

// Scopes and extra parameters (audience) go to the token endpoint, and a
// cached token is only reused for the same ones.
func TestScopesAndParams(t *testing.T) {
	p := newProvider(t, "both", "/oauth/token")
	s := p.settings()
	s.Scopes = []string{"stac:read", "stac:search"}
	s.Params = url.Values{"audience": {"https://api.example.com"}}
	get(t, resolve(t, p.APIURL(), s).Client(nil), p.APIURL()+"/search")
	get(t, resolve(t, p.APIURL(), s).Client(nil), p.APIURL()+"/search")
	wantCount(t, "token requests", &p.TokenReqs, 1)
	if got := p.Forms[0].Encode(); got != "audience=https%3A%2F%2Fapi.example.com&grant_type=client_credentials&scope=stac%3Aread+stac%3Asearch" {
		t.Errorf("token request form %s", got)
	}
	s.Params = url.Values{"audience": {"https://other.example.com"}}
	r := resolve(t, p.APIURL(), s)
	get(t, r.Client(nil), p.APIURL()+"/search")
	wantCount(t, "token requests for another audience", &p.TokenReqs, 2)
	data, _ := os.ReadFile(r.CacheFile)
	if strings.Contains(string(data), "other.example.com") {
		t.Errorf("cache file stores the parameters: %s", data)
	}
}

// Run-time notes go to Logf and never show the secret or a token; an
// unusable cache dir costs only the caching.
func TestLogfAndUnwritableCache(t *testing.T) {
	p := newProvider(t, "body", "/oauth2/token")
	p.TokenFault = func(w http.ResponseWriter, _ *http.Request, n int64) bool {
		if n != 1 {
			return false
		}
		w.Header().Set("Retry-After", "0")
		w.WriteHeader(http.StatusTooManyRequests)
		return true
	}
	var mu sync.Mutex
	var logs []string
	s := p.settings()
	s.CacheDir = filepath.Join(t.TempDir(), "file")
	writeFile(t, s.CacheDir, "not a directory", 0o600)
	s.Logf = func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		logs = append(logs, fmt.Sprintf(format, args...))
	}
	// Token requests retried by the retry package, which logs its retries
	// through OnRetry.
	pol := retry.Policy{BaseDelay: time.Millisecond, OnRetry: func(i retry.Info) {
		s.Logf("retry %d/%d: %s %s: %d (rate-limiting)", i.Attempt+1, i.Max, i.Method, i.URL, i.Status)
	}}
	s.HTTPClient = &http.Client{Transport: pol.Transport(nil)}
	r := resolve(t, p.APIURL(), s)
	c := r.Client(nil)
	get(t, c, p.APIURL()+"/search")
	p.Rotate()
	get(t, c, p.APIURL()+"/search")
	tok, err := r.TokenSource().Token()
	if err != nil || tok.AccessToken != "tok-2" {
		t.Errorf("TokenSource().Token() = %v, %v", tok, err)
	}
	all := strings.Join(logs, "\n")
	for _, want := range []string{"rate-limiting", "oauth2/token: 429", "refused basic client authentication; trying body", "answered 401; renewing", "cannot cache the token", "new token from"} {
		if !strings.Contains(all, want) {
			t.Errorf("logs lack %q:\n%s", want, all)
		}
	}
	for _, secret := range []string{testSecret, "tok-1", "tok-2"} {
		if strings.Contains(all, secret) {
			t.Errorf("logs show %q:\n%s", secret, all)
		}
	}
	// 429, Basic refused, body: token 1; renewal: token 2.
	wantCount(t, "token requests", &p.TokenReqs, 4)
	wantCount(t, "API requests", &p.APIReqs, 3)
}

// expires_in as a number or a string (some servers quote it), or a
// form-encoded answer, all date the expiry from our clock.
func TestExpiresInForms(t *testing.T) {
	for name, answer := range map[string]struct{ ctype, body string }{
		"number": {"application/json", `{"access_token":"a","token_type":"Bearer","expires_in":600}`},
		"string": {"application/json", `{"access_token":"a","token_type":"Bearer","expires_in":"600"}`},
		"form":   {"application/x-www-form-urlencoded", `access_token=a&token_type=bearer&expires_in=600`},
	} {
		t.Run(name, func(t *testing.T) {
			p := newProvider(t, "both", "/oauth/token")
			p.TokenFault = func(w http.ResponseWriter, _ *http.Request, n int64) bool {
				w.Header().Set("Content-Type", answer.ctype)
				fmt.Fprint(w, answer.body)
				return true
			}
			tok, err := resolve(t, p.APIURL(), p.settings()).Token(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if want := p.Clock.Now().Add(10 * time.Minute); !tok.Expiry.Equal(want) {
				t.Errorf("expiry %v, want %v", tok.Expiry, want)
			}
			wantCount(t, "token requests", &p.TokenReqs, 1)
		})
	}
}

// An unreachable token endpoint is a network error naming the URL.
func TestTokenEndpointUnreachable(t *testing.T) {
	p := newProvider(t, "both", "/oauth/token")
	s := p.settings()
	p.Srv.Close()
	_, err := resolve(t, p.APIURL(), s).Token(t.Context())
	var te *TokenError
	if !errors.As(err, &te) || te.StatusCode != 0 {
		t.Fatalf("err = %v", err)
	}
	for _, want := range []string{"token request to " + p.TokenURL() + " failed: Post", "check the token URL and the network"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

// 50 concurrent requests refused at once after the server rotated its
// tokens renew the token once between them.
func TestConcurrent401sRenewOnce(t *testing.T) {
	p := newProvider(t, "both", "/oauth/token")
	c := resolve(t, p.APIURL(), p.settings()).Client(nil)
	get(t, c, p.APIURL()+"/search")
	p.Rotate()
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := c.Post(p.APIURL()+"/search", "application/json", strings.NewReader(`{"limit":1}`))
			if err != nil {
				t.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Errorf("status %s", resp.Status)
			}
		}()
	}
	wg.Wait()
	wantCount(t, "token requests", &p.TokenReqs, 2)
	if n := p.APIReqs.Load(); n < 51 || n > 101 {
		t.Errorf("API requests = %d, want 51..101 (each refused request retried once)", n)
	}
	if len(p.Bodies) != 50 {
		t.Errorf("%d POST bodies arrived, want 50", len(p.Bodies))
	}
}
