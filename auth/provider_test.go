package auth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// testSecret has characters that need escaping in a Basic header and a
// form, so both encodings are exercised.
const (
	testClientID = "stacq-test-client"
	testSecret   = "Sup3r-S3cret+/=x"
)

// clock is a settable time shared by the client under test and the fake
// provider, so lifetimes of an hour pass in no time.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// provider is an httptest server that behaves like an OAuth2 provider and
// its API: a token endpoint at tokenPath that authenticates the client as
// style says, and an API under /api that wants a valid bearer token (or
// an API key).
type provider struct {
	t         *testing.T
	srv       *httptest.Server
	clock     *clock
	tokenPath string
	// style is how the token endpoint authenticates the client:
	// "both" (Keycloak), "body" (a Hydra client registered for
	// client_secret_post), "basic" (Cognito).
	style    string
	clientID string
	secret   string
	lifetime time.Duration
	jwt      bool   // tokens are JWTs with exp and the answer has no expires_in
	apiKey   string // when set, the API takes this key (Basic user or "api-key" header) instead of tokens

	// tokenFault, when set, answers token request n (from 1) itself when
	// it returns true.
	tokenFault func(w http.ResponseWriter, n int64) bool

	tokenReqs, apiReqs atomic.Int64

	mu     sync.Mutex
	valid  map[string]time.Time
	seq    int
	bodies []string // POST bodies the API received
	styles []string // how each token request authenticated
	forms  []url.Values
}

func newProvider(t *testing.T, style, tokenPath string) *provider {
	t.Helper()
	p := &provider{t: t, clock: newClock(), tokenPath: tokenPath, style: style,
		clientID: testClientID, secret: testSecret, lifetime: time.Hour, valid: map[string]time.Time{}}
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *provider) tokenURL() string { return p.srv.URL + p.tokenPath }
func (p *provider) apiURL() string   { return p.srv.URL + "/api/v1" }

// rotate invalidates every token issued, as a provider rotating its keys.
func (p *provider) rotate() {
	p.mu.Lock()
	defer p.mu.Unlock()
	clear(p.valid)
}

func (p *provider) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == p.tokenPath {
		p.serveToken(w, r)
		return
	}
	if strings.HasPrefix(r.URL.Path, "/api/") {
		p.serveAPI(w, r)
		return
	}
	http.NotFound(w, r)
}

func oauthError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
}

func (p *provider) serveToken(w http.ResponseWriter, r *http.Request) {
	n := p.tokenReqs.Add(1)
	if p.tokenFault != nil && p.tokenFault(w, n) {
		return
	}
	if r.Method != http.MethodPost {
		oauthError(w, http.StatusMethodNotAllowed, "invalid_request", "POST only")
		return
	}
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "malformed body")
		return
	}
	if g := r.PostForm.Get("grant_type"); g != "client_credentials" {
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "grant type "+g)
		return
	}
	var id, secret, used string
	if u, pw, ok := r.BasicAuth(); ok {
		// RFC 6749 2.3.1: Basic credentials are form-encoded first.
		id, _ = url.QueryUnescape(u)
		secret, _ = url.QueryUnescape(pw)
		used = "basic"
	}
	if r.PostForm.Has("client_secret") {
		if used != "" {
			oauthError(w, http.StatusBadRequest, "invalid_request", "more than one client authentication method")
			return
		}
		id, secret, used = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret"), "body"
	}
	p.mu.Lock()
	p.styles = append(p.styles, used)
	form := url.Values{}
	for k, v := range r.PostForm {
		if k != "client_secret" && k != "client_id" {
			form[k] = v
		}
	}
	p.forms = append(p.forms, form)
	p.mu.Unlock()
	switch {
	case used == "":
		oauthError(w, http.StatusUnauthorized, "invalid_client", "Client authentication failed (e.g., unknown client, no client authentication included, or unsupported authentication method).")
		return
	case p.style == "body" && used == "basic":
		// Ory Hydra, for a client registered with client_secret_post.
		oauthError(w, http.StatusUnauthorized, "invalid_client", "Client authentication failed (e.g., unknown client, no client authentication included, or unsupported authentication method). The OAuth 2.0 Client supports client authentication method 'client_secret_post', but method 'client_secret_basic' was requested. You must configure the OAuth 2.0 client's 'token_endpoint_auth_method' value to accept 'client_secret_basic'.")
		return
	case p.style == "basic" && used == "body":
		// Cognito-style: the secret must come in the Basic header.
		oauthError(w, http.StatusBadRequest, "invalid_client", "Client authentication failed")
		return
	case id != p.clientID || secret != p.secret:
		oauthError(w, http.StatusUnauthorized, "invalid_client", "Client authentication failed (e.g., unknown client, no client authentication included, or unsupported authentication method).")
		return
	}

	now := p.clock.Now()
	exp := now.Add(p.lifetime)
	p.mu.Lock()
	p.seq++
	tok := fmt.Sprintf("tok-%d", p.seq)
	if p.jwt {
		tok = makeJWT(map[string]any{"sub": id, "exp": exp.Unix(), "iat": now.Unix(), "n": p.seq})
	}
	p.valid[tok] = exp
	p.mu.Unlock()
	resp := map[string]any{"access_token": tok, "token_type": "bearer"}
	if !p.jwt {
		resp["expires_in"] = int(p.lifetime / time.Second)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(resp)
}

func makeJWT(claims map[string]any) string {
	h, _ := json.Marshal(map[string]string{"alg": "RS256", "typ": "JWT"})
	c, _ := json.Marshal(claims)
	enc := base64.RawURLEncoding.EncodeToString
	return enc(h) + "." + enc(c) + "." + enc([]byte("not-a-real-signature"))
}

// serveAPI answers /api/... when authorized: GET pages with next links
// (?page=N, 5 pages) and POST echo of the body length.
func (p *provider) serveAPI(w http.ResponseWriter, r *http.Request) {
	p.apiReqs.Add(1)
	if !p.authorized(r) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"code":"Unauthorized","message":"invalid or expired access token"}`)
		return
	}
	w.Header().Set("Content-Type", "application/geo+json")
	if r.Method == http.MethodPost {
		body := readAll(r)
		p.mu.Lock()
		p.bodies = append(p.bodies, body)
		p.mu.Unlock()
		fmt.Fprintf(w, `{"type":"FeatureCollection","features":[],"received":%d}`, len(body))
		return
	}
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	if page == 0 {
		page = 1
	}
	next := ""
	if page < 5 {
		next = fmt.Sprintf(`{"rel":"next","href":"%s%s?page=%d"}`, p.srv.URL, r.URL.Path, page+1)
	}
	fmt.Fprintf(w, `{"type":"FeatureCollection","features":[{"id":"item-%d"}],"links":[%s]}`, page, next)
}

func readAll(r *http.Request) string {
	data, _ := io.ReadAll(r.Body)
	return string(data)
}

func (p *provider) authorized(r *http.Request) bool {
	h := r.Header.Get("Authorization")
	if p.apiKey != "" {
		if u, pw, ok := r.BasicAuth(); ok {
			return u == p.apiKey && pw == ""
		}
		return h == "api-key "+p.apiKey
	}
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	exp, ok := p.valid[tok]
	return ok && p.clock.Now().Before(exp)
}

// settings returns generic settings for p with a private cache dir and the
// provider's clock; env is the whole environment.
func (p *provider) settings(env map[string]string) Settings {
	return Settings{
		TokenURL:     p.tokenURL(),
		ClientID:     p.clientID,
		ClientSecret: p.secret,
		CacheDir:     p.t.TempDir(),
		Getenv:       mapEnv(env),
		Dir:          p.t.TempDir(),
		now:          p.clock.Now,
		wait:         func(context.Context, time.Duration) error { return nil },
	}
}

func mapEnv(env map[string]string) func(string) string {
	return func(k string) string { return env[k] }
}

// get fetches url with c and fails the test on an error or a non-200
// answer.
func get(t *testing.T, c *http.Client, u string) string {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: reading: %v", u, err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s: %s", u, resp.Status, data)
	}
	return string(data)
}

func wantCount(t *testing.T, what string, got *atomic.Int64, want int64) {
	t.Helper()
	if n := got.Load(); n != want {
		t.Errorf("%s = %d, want %d", what, n, want)
	}
}
