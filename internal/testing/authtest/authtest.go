// Package authtest runs a local server that behaves like a STAC provider's
// authentication, for the tests of auth, auth/provider and the CLI: an
// OAuth2 token endpoint whose client authentication is Keycloak's (both
// styles), Ory Hydra's (form body) or Cognito's (Basic only), and an API
// that takes bearer tokens (refusing an expired or revoked one with 401,
// or with 403 as EarthDaily does), an API key (HTTP Basic user, a header
// or a query parameter) or HTTP Basic; a landing page that advertises its
// auth in auth:schemes; a per-second rate limit answering 429; and error
// bodies that echo the request's credentials, as careless servers do.
package authtest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Test credentials; the secret has characters that need escaping in a
// Basic header and a form, so both encodings are exercised.
const (
	ClientID = "stacq-test-client"
	Secret   = "Sup3r-S3cret+/=x"
)

// Clock is a settable time shared by the client under test and the fake
// provider, so lifetimes of an hour pass in no time.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock starts at 2025-06-01 12:00 UTC.
func NewClock() *Clock { return &Clock{t: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)} }

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock on.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Provider is the fake provider. Set its fields before the first request.
type Provider struct {
	Srv       *httptest.Server
	Clock     *Clock
	TokenPath string
	// Style is how the token endpoint authenticates the client: "both"
	// (Keycloak), "body" (a Hydra client registered for
	// client_secret_post), "basic" (Cognito).
	Style    string
	ClientID string
	Secret   string
	Lifetime time.Duration
	// ExpiresIn, when set, is sent as expires_in instead of the lifetime
	// (0 or below: a server that gives none that is usable).
	ExpiresIn *int
	JWT       bool // tokens are JWTs with exp and the answer has no expires_in
	// JWTSkew dates the JWT exp claims by a clock this far behind.
	JWTSkew time.Duration
	// APIKey, when set, is what the API takes instead of tokens, placed
	// as APIKeyIn says: "basic" or "" (the Basic user, or "Authorization:
	// api-key KEY"), "header:NAME" or "query:NAME".
	APIKey, APIKeyIn string
	// BasicUser and BasicPassword, when set, are what the API takes
	// (HTTP Basic) instead of tokens.
	BasicUser, BasicPassword string
	// Expired403 makes the API refuse an expired or revoked token with
	// 403 Forbidden, as EarthDaily does.
	Expired403 bool
	// Forbidden403 makes the API refuse every token, valid ones too, with
	// 403: a client without permission.
	Forbidden403 bool
	// Echo makes every refusal and token error echo the request's
	// Authorization header, query and form body.
	Echo bool
	// Schemes, when set, is the auth:schemes object of the landing page
	// (GET APIURL), which is then public; Refs are the auth:refs of its
	// search link.
	Schemes string
	Refs    []string
	// RatePerSecond, when set, makes the API answer 429 Too Many Requests
	// with Retry-After: 1 to requests above this many in the last second
	// (of time.Now: a synctest bubble's fake clock).
	RatePerSecond int
	// RefuseFresh, when set, makes the API refuse each new token this many
	// times before it takes it (a token that has not reached every server
	// of the API yet).
	RefuseFresh int

	// TokenFault, when set, answers token request n (from 1) itself when
	// it returns true.
	TokenFault func(w http.ResponseWriter, r *http.Request, n int64) bool

	TokenReqs, APIReqs, TooMany atomic.Int64

	mu     sync.Mutex
	valid  map[string]time.Time
	fresh  map[string]int // refusals left of each new token (RefuseFresh)
	seq    int
	recent []time.Time // API request times within the last second
	Bodies []string    // POST bodies the API received
	Styles []string    // how each token request authenticated
	Forms  []url.Values
}

// New starts a provider whose token endpoint is at tokenPath; Close stops
// it.
func New(style, tokenPath string) *Provider {
	p := &Provider{Clock: NewClock(), TokenPath: tokenPath, Style: style,
		ClientID: ClientID, Secret: Secret, Lifetime: time.Hour,
		valid: map[string]time.Time{}, fresh: map[string]int{}}
	p.Srv = httptest.NewServer(http.HandlerFunc(p.serve))
	return p
}

// NewT is New, closed when the test ends.
func NewT(t testing.TB, style, tokenPath string) *Provider {
	p := New(style, tokenPath)
	t.Cleanup(p.Close)
	return p
}

// Close stops the server.
func (p *Provider) Close() { p.Srv.Close() }

// TokenURL is the token endpoint.
func (p *Provider) TokenURL() string { return p.Srv.URL + p.TokenPath }

// APIURL is the API's landing page.
func (p *Provider) APIURL() string { return p.Srv.URL + "/api/v1" }

// Rotate invalidates every token issued, as a provider rotating its keys.
func (p *Provider) Rotate() {
	p.mu.Lock()
	defer p.mu.Unlock()
	clear(p.valid)
}

// Issue makes tok a valid token until exp, as a token minted elsewhere
// (a user login's) would be.
func (p *Provider) Issue(tok string, exp time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.valid[tok] = exp
}

// Handler is the provider's handler, for tests that serve it without a
// network (httptest.NewRecorder inside a synctest bubble).
func (p *Provider) Handler() http.Handler { return http.HandlerFunc(p.serve) }

func (p *Provider) serve(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == p.TokenPath:
		p.serveToken(w, r)
	case strings.HasPrefix(r.URL.Path, "/api/"):
		p.serveAPI(w, r)
	default:
		http.NotFound(w, r)
	}
}

// OAuthError answers with an RFC 6749 error.
func OAuthError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
}

// echo is what an echoing server quotes of the request.
func echo(r *http.Request, form string) string {
	return fmt.Sprintf("request had Authorization %q, query %q, body %q", r.Header.Get("Authorization"), r.URL.RawQuery, form)
}

func (p *Provider) tokenError(w http.ResponseWriter, r *http.Request, form string, status int, code, desc string) {
	if p.Echo {
		desc += "; " + echo(r, form)
	}
	OAuthError(w, status, code, desc)
}

func (p *Provider) serveToken(w http.ResponseWriter, r *http.Request) {
	n := p.TokenReqs.Add(1)
	if p.TokenFault != nil && p.TokenFault(w, r, n) {
		return
	}
	raw, _ := io.ReadAll(r.Body)
	form := string(raw)
	if r.Method != http.MethodPost {
		p.tokenError(w, r, form, http.StatusMethodNotAllowed, "invalid_request", "POST only")
		return
	}
	vals, err := url.ParseQuery(form)
	if err != nil {
		p.tokenError(w, r, form, http.StatusBadRequest, "invalid_request", "malformed body")
		return
	}
	if g := vals.Get("grant_type"); g != "client_credentials" {
		p.tokenError(w, r, form, http.StatusBadRequest, "unsupported_grant_type", "grant type "+g)
		return
	}
	var id, secret, used string
	if u, pw, ok := r.BasicAuth(); ok {
		// RFC 6749 2.3.1: Basic credentials are form-encoded first.
		id, _ = url.QueryUnescape(u)
		secret, _ = url.QueryUnescape(pw)
		used = "basic"
	}
	if vals.Has("client_secret") {
		if used != "" {
			p.tokenError(w, r, form, http.StatusBadRequest, "invalid_request", "more than one client authentication method")
			return
		}
		id, secret, used = vals.Get("client_id"), vals.Get("client_secret"), "body"
	}
	p.mu.Lock()
	p.Styles = append(p.Styles, used)
	kept := url.Values{}
	for k, v := range vals {
		if k != "client_secret" && k != "client_id" {
			kept[k] = v
		}
	}
	p.Forms = append(p.Forms, kept)
	p.mu.Unlock()
	const failed = "Client authentication failed (e.g., unknown client, no client authentication included, or unsupported authentication method)."
	switch {
	case used == "":
		p.tokenError(w, r, form, http.StatusUnauthorized, "invalid_client", failed)
		return
	case p.Style == "body" && used == "basic":
		// Ory Hydra, for a client registered with client_secret_post.
		p.tokenError(w, r, form, http.StatusUnauthorized, "invalid_client", failed+" The OAuth 2.0 Client supports client authentication method 'client_secret_post', but method 'client_secret_basic' was requested. You must configure the OAuth 2.0 client's 'token_endpoint_auth_method' value to accept 'client_secret_basic'.")
		return
	case p.Style == "basic" && used == "body":
		// Cognito-style: the secret must come in the Basic header.
		p.tokenError(w, r, form, http.StatusBadRequest, "invalid_client", "Client authentication failed")
		return
	case id != p.ClientID || secret != p.Secret:
		p.tokenError(w, r, form, http.StatusUnauthorized, "invalid_client", failed)
		return
	}

	now := p.Clock.Now()
	exp := now.Add(p.Lifetime)
	p.mu.Lock()
	p.seq++
	tok := fmt.Sprintf("tok-%d", p.seq)
	if p.JWT {
		tok = MakeJWT(map[string]any{"sub": id, "exp": exp.Add(-p.JWTSkew).Unix(), "iat": now.Unix(), "n": p.seq})
	}
	p.valid[tok] = exp
	p.fresh[tok] = p.RefuseFresh
	p.mu.Unlock()
	resp := map[string]any{"access_token": tok, "token_type": "bearer"}
	switch {
	case p.ExpiresIn != nil:
		resp["expires_in"] = *p.ExpiresIn
	case !p.JWT:
		resp["expires_in"] = int(p.Lifetime / time.Second)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(resp)
}

// MakeJWT returns an unsigned JWT with claims.
func MakeJWT(claims map[string]any) string {
	h, _ := json.Marshal(map[string]string{"alg": "RS256", "typ": "JWT"})
	c, _ := json.Marshal(claims)
	enc := base64.RawURLEncoding.EncodeToString
	return enc(h) + "." + enc(c) + "." + enc([]byte("not-a-real-signature"))
}

// serveAPI answers /api/...: the landing page (public when it advertises
// schemes), GET pages with next links (?page=N, 5 pages) and POST echo of
// the body length, when authorized.
func (p *Provider) serveAPI(w http.ResponseWriter, r *http.Request) {
	p.APIReqs.Add(1)
	if p.RatePerSecond > 0 && !p.admit() {
		p.TooMany.Add(1)
		w.Header().Set("Retry-After", "1")
		http.Error(w, `{"code":"TooManyRequests","description":"rate limit exceeded"}`, http.StatusTooManyRequests)
		return
	}
	if p.Schemes != "" && r.URL.Path == "/api/v1" {
		p.serveLanding(w)
		return
	}
	if status := p.refusal(r); status != 0 {
		p.Refuse(w, r, status)
		return
	}
	w.Header().Set("Content-Type", "application/geo+json")
	if r.Method == http.MethodPost {
		data, _ := io.ReadAll(r.Body)
		p.mu.Lock()
		p.Bodies = append(p.Bodies, string(data))
		p.mu.Unlock()
		fmt.Fprintf(w, `{"type":"FeatureCollection","features":[],"received":%d}`, len(data))
		return
	}
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	if page == 0 {
		page = 1
	}
	next := ""
	if page < 5 {
		next = fmt.Sprintf(`{"rel":"next","href":"%s%s?page=%d"}`, p.Srv.URL, r.URL.Path, page+1)
	}
	fmt.Fprintf(w, `{"type":"FeatureCollection","features":[{"id":"item-%d"}],"links":[%s]}`, page, next)
}

// admit counts r in the last second's requests, false when over the rate.
func (p *Provider) admit() bool {
	now := time.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	keep := p.recent[:0]
	for _, t := range p.recent {
		if now.Sub(t) < time.Second {
			keep = append(keep, t)
		}
	}
	p.recent = keep
	if len(p.recent) >= p.RatePerSecond {
		return false
	}
	p.recent = append(p.recent, now)
	return true
}

func (p *Provider) serveLanding(w http.ResponseWriter) {
	refs, _ := json.Marshal(p.Refs)
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"type":"Catalog","id":"authtest","stac_version":"1.0.0","description":"an API that describes its auth",
  "conformsTo":["https://api.stacspec.org/v1.0.0/core","https://api.stacspec.org/v1.0.0/item-search"],
  "stac_extensions":["https://stac-extensions.github.io/authentication/v1.1.0/schema.json"],
  "auth:schemes":%s,
  "links":[{"rel":"self","href":"%s"},{"rel":"search","href":"%s/search","type":"application/geo+json","auth:refs":%s}]}`,
		p.Schemes, p.APIURL(), p.APIURL(), refs)
}

// Check says whether the API takes r's credentials: 0 when it does, else
// the status refusing it (401, or 403 as Expired403 and Forbidden403 say).
// Servers of other tests put it in front of their own API.
func (p *Provider) Check(r *http.Request) int {
	p.APIReqs.Add(1)
	return p.refusal(r)
}

// Refuse writes the API's refusal of r with status, echoing r's
// credentials when Echo is set.
func (p *Provider) Refuse(w http.ResponseWriter, r *http.Request, status int) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
	w.WriteHeader(status)
	msg := "invalid or expired access token"
	if status == http.StatusForbidden {
		msg = "Forbidden"
	}
	if p.Echo {
		msg += "; " + echo(r, "")
	}
	json.NewEncoder(w).Encode(map[string]string{"code": http.StatusText(status), "message": msg})
}

// refusal is the status refusing r, 0 when r is authorized.
func (p *Provider) refusal(r *http.Request) int {
	switch {
	case p.BasicUser != "":
		if u, pw, ok := r.BasicAuth(); ok && u == p.BasicUser && pw == p.BasicPassword {
			return 0
		}
		return http.StatusUnauthorized
	case p.APIKey != "":
		if p.apiKeyOK(r) {
			return 0
		}
		return http.StatusUnauthorized
	}
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return http.StatusUnauthorized
	}
	p.mu.Lock()
	exp, valid := p.valid[tok]
	valid = valid && p.Clock.Now().Before(exp)
	notYet := valid && p.fresh[tok] > 0
	if notYet {
		p.fresh[tok]--
	}
	p.mu.Unlock()
	switch {
	case notYet:
		return http.StatusUnauthorized
	case valid && p.Forbidden403:
		return http.StatusForbidden
	case valid:
		return 0
	case p.Expired403:
		return http.StatusForbidden
	}
	return http.StatusUnauthorized
}

func (p *Provider) apiKeyOK(r *http.Request) bool {
	kind, name, _ := strings.Cut(p.APIKeyIn, ":")
	switch kind {
	case "header":
		return r.Header.Get(name) == p.APIKey
	case "query":
		return r.URL.Query().Get(name) == p.APIKey
	}
	if u, pw, ok := r.BasicAuth(); ok {
		return u == p.APIKey && pw == ""
	}
	return r.Header.Get("Authorization") == "api-key "+p.APIKey
}

// Snapshot returns copies of what the provider recorded.
func (p *Provider) Snapshot() (styles, bodies []string, forms []url.Values) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.Styles...), append([]string(nil), p.Bodies...), append([]url.Values(nil), p.Forms...)
}

// Get fetches u with c and fails the test on an error or a non-200
// answer; it returns the body.
func Get(t testing.TB, c *http.Client, u string) string {
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

// WantCount fails the test when a counter is not want.
func WantCount(t testing.TB, what string, got *atomic.Int64, want int64) {
	t.Helper()
	if n := got.Load(); n != want {
		t.Errorf("%s = %d, want %d", what, n, want)
	}
}

// WriteFile writes a file with mode (chmod'ed, whatever the umask),
// making its directory.
func WriteFile(t testing.TB, name, content string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(name, mode); err != nil {
		t.Fatal(err)
	}
}

// HandlerTransport serves requests with H in memory: no sockets, so that
// a synctest bubble's clock advances whenever every goroutine waits, and
// runs the server's time windows too.
type HandlerTransport struct{ H http.Handler }

// RoundTrip serves r with H.
func (t HandlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	t.H.ServeHTTP(rec, r)
	if r.Body != nil {
		r.Body.Close()
	}
	resp := rec.Result()
	resp.Request = r
	return resp, nil
}
