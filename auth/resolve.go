package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"

	"golang.org/x/oauth2"

	"github.com/stacq/stacq/internal/redact"
)

// Resolved is the outcome of Resolve: which provider and method apply, where
// each piece came from, and the machinery that authenticates requests. It
// is safe for concurrent use; every transport and client made from it
// shares one token.
type Resolved struct {
	Provider string // preset name, "generic" or "none"
	Method   string // MethodNone, MethodToken, MethodAPIKey, MethodClientCredentials, MethodLogin
	// APIURL is the API URL given to Resolve, or the preset's default when
	// none was.
	APIURL string
	// TokenURL (redacted), ClientID, AuthStyle and Scopes describe the
	// client credentials method.
	TokenURL  string
	ClientID  string
	AuthStyle AuthStyle
	Scopes    []string
	// CacheFile is the token cache file; empty when not caching.
	CacheFile string
	// SendsTo lists where credentials are sent: the API URL's origin and the
	// preset's API hosts ("https://host" or ".suffix").
	SendsTo []string
	// Sources says where each piece of the configuration came from.
	Sources []Source
	// Warnings are problems the user should hear about (a secret on the
	// command line, a credentials file readable by others); the caller
	// prints them.
	Warnings []string

	src       source       // the full token chain; nil for none and apikey
	reuse     *reuseSource // top of src, for logout
	disk      *diskCache
	apiKey    *apiKey
	origins   []string // scheme://host:port credentials go to
	patterns  []string // preset host patterns, https only
	renewable bool     // a refused token can be replaced
	hint      string   // what to check when the API refuses
	logf      func(string, ...any)
}

// Resolve decides how to authenticate to apiURL (which may be empty: then
// the provider is picked from the credentials present and its default API
// URL is used). It reads the environment and the credential files but
// makes no request.
func Resolve(apiURL string, s Settings) (*Resolved, error) {
	l := newLookup(&s)
	r := &Resolved{APIURL: apiURL, logf: l.logf}

	p, how, err := l.pickPreset(apiURL)
	if err != nil {
		return nil, err
	}
	r.Provider = p.Name
	r.Sources = append(r.Sources, Source{What: "provider", From: how, Value: p.Name})
	if p.Name == ProviderNone {
		r.Method = MethodNone
		return r, nil
	}
	l.loadDotEnv(p)

	if r.APIURL == "" {
		r.APIURL = l.defaultAPIURL(p)
	}
	if r.APIURL != "" {
		u, err := url.Parse(r.APIURL)
		if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			return nil, fmt.Errorf("%s: API URL %q is not an absolute http(s) URL", p.Name, redact.URL(r.APIURL))
		}
		r.origins = []string{origin(u)}
	}
	r.patterns = p.APIHosts

	if err := l.chooseMethod(r, p); err != nil {
		return nil, err
	}
	if r.Method == MethodNone {
		r.origins, r.patterns = nil, nil
		return r.finish(l), nil
	}
	if u, _ := url.Parse(r.APIURL); u != nil && u.Scheme == "http" && !isLoopback(u.Hostname()) {
		l.warn("the API URL %s is plain http: the %s travels unencrypted", redact.URL(r.APIURL), methodNoun(r.Method))
	}
	if len(r.origins) == 0 && len(r.patterns) == 0 {
		l.warn("no API URL: the credentials will not be sent to any API")
	}
	return r.finish(l), nil
}

func (r *Resolved) finish(l *lookup) *Resolved {
	r.SendsTo = append(slices.Clone(r.origins), r.patterns...)
	r.Warnings = l.warnings
	return r
}

// apiKey is the API key method's credential. The key is behind a function
// so that printing a Resolved value (fmt shows unexported fields) does not
// show it.
type apiKey struct {
	key   func() string
	style string
}

// String describes r without any secret, so printing a Resolved (%v, %+v)
// is safe.
func (r *Resolved) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "provider=%s method=%s", r.Provider, r.Method)
	if r.APIURL != "" {
		fmt.Fprintf(&b, " api=%s", redact.URL(r.APIURL))
	}
	if r.Method == MethodClientCredentials {
		fmt.Fprintf(&b, " token_url=%s client_id=%s auth_style=%s", r.TokenURL, r.ClientID, r.AuthStyle)
	}
	return b.String()
}

// GoString keeps %#v from printing the secrets r holds.
func (r *Resolved) GoString() string { return "auth.Resolved{" + r.String() + "}" }

// origin is the scheme://host:port of u, with the default port made
// explicit, lower case.
func origin(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = "443"
		if u.Scheme == "http" {
			port = "80"
		}
	}
	return strings.ToLower(u.Scheme + "://" + u.Hostname() + ":" + port)
}

// sendsTo reports whether credentials may be added to a request for u: its
// origin is the API URL's, or it is https on one of the preset's API hosts.
func (r *Resolved) sendsTo(u *url.URL) bool {
	if slices.Contains(r.origins, origin(u)) {
		return true
	}
	return u.Scheme == "https" && (u.Port() == "" || u.Port() == "443") && hostIn(u.Hostname(), r.patterns)
}

// Token returns a current token, fetching one if needed (for
// `stacq auth token`). Methods without tokens (none, apikey) return an
// error.
func (r *Resolved) Token(ctx context.Context) (*oauth2.Token, error) {
	if r.src == nil {
		return nil, fmt.Errorf("%s: the %s method has no token", r.Provider, r.Method)
	}
	g, err := r.src.fetch(ctx)
	if err != nil {
		return nil, err
	}
	return g.Token, nil
}

// TokenSource returns the token chain as an oauth2.TokenSource, or nil for
// methods without tokens. Its Token method has no context; prefer Token.
func (r *Resolved) TokenSource() oauth2.TokenSource {
	if r.src == nil {
		return nil
	}
	return tokenSource{r.src}
}

// CachedToken returns the token in the cache file (for `stacq auth
// status`), expired or not, without asking the token endpoint. ok is false
// when there is no cache, no file, or a file that is not this client's.
func (r *Resolved) CachedToken() (tok *oauth2.Token, path string, ok bool) {
	if r.disk == nil {
		return nil, "", false
	}
	r.disk.mu.Lock()
	f, err := r.disk.load()
	r.disk.mu.Unlock()
	if err != nil {
		return nil, r.disk.path, false
	}
	return f.grant().Token, r.disk.path, true
}

// Logout forgets the tokens held for this client, in memory and on disk.
// A missing cache file is not an error.
func (r *Resolved) Logout() error {
	if r.reuse != nil {
		r.reuse.forget()
	}
	if r.disk == nil {
		return nil
	}
	r.disk.mu.Lock()
	defer r.disk.mu.Unlock()
	if err := os.Remove(r.disk.path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%s: forgetting the cached token: %w", r.Provider, err)
	}
	return nil
}

// Client returns a copy of base (nil: a zero http.Client) whose transport
// authenticates; base's transport (nil: http.DefaultTransport) carries
// the requests.
func (r *Resolved) Client(base *http.Client) *http.Client {
	c := &http.Client{}
	if base != nil {
		cp := *base
		c = &cp
	}
	c.Transport = r.Transport(c.Transport)
	return c
}
