package provider

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/stacq/stacq/auth"
	"github.com/stacq/stacq/auth/ratelimit"
	"github.com/stacq/stacq/internal/redact"
)

// Resolved is the outcome of Resolve: which provider and method apply,
// where each piece came from, and the layers that authenticate requests.
// It is safe for concurrent use; every transport and client made from it
// shares one token.
type Resolved struct {
	Provider string // preset name, "generic" or "none"
	// Method is auth.MethodNone, MethodToken, MethodAPIKey, MethodBasic,
	// MethodClientCredentials or MethodLogin.
	Method string
	// APIURL is the API URL given to Resolve, or the preset's default when
	// none was.
	APIURL string
	// TokenURL (redacted), ClientID, AuthStyle and Scopes describe the
	// client credentials method.
	TokenURL  string
	ClientID  string         // the client
	AuthStyle auth.AuthStyle // its authentication at the token endpoint
	Scopes    []string       // the scopes requested
	// User is the HTTP Basic user.
	User string
	// APIKeyIn says where an API key goes.
	APIKeyIn auth.APIKeyPlacement
	// CacheFile is the token cache file; empty when not caching.
	CacheFile string
	// SendsTo lists where credentials are sent: the API URL's origin and the
	// preset's API hosts ("https://host:443" or "host" / ".suffix").
	SendsTo []string
	// Sources says where each piece of the configuration came from.
	Sources []Source
	// Warnings are problems the user should hear about (a secret on the
	// command line, a credentials file readable by others); the caller
	// prints them.
	Warnings []string
	// Advertised is Settings.Advertised: what the API said of its auth.
	Advertised *auth.Advertised
	// Chosen is the advertised scheme that was used; nil when the method
	// did not come from auth:schemes.
	Chosen *auth.Scheme
	// Rate is the request rate per host applied to RateHosts (requests
	// per second; 0: none), with where it came from.
	Rate      float64
	RateHosts []string // the hosts Rate applies to
	RateFrom  string   // "preset NAME" or "setting"
	// Hint says what to do when the API refuses: what to check, or, with
	// no credentials, how to give them.
	Hint string

	// m holds the layers behind a function, so that printing a Resolved
	// value (fmt shows unexported fields) shows neither secrets nor
	// transports in use by other goroutines.
	m func() *machinery
}

type machinery struct {
	creds   auth.Credentials
	tokens  auth.TokenSource // for Token: the reuse source, a static token; nil otherwise
	reuse   *auth.ReuseSource
	disk    *auth.DiskCache
	origins []string
	hosts   []string
	stack   http.RoundTripper // what Client's requests go through under the auth layer
	logf    auth.Logf
	red     auth.Redactor
}

// Resolve decides how to authenticate to apiURL (which may be empty: then
// the provider is picked from the credentials present and its default API
// URL is used), and builds the layers. It reads the environment and files
// that s points at, but makes no request.
func Resolve(apiURL string, s Settings) (*Resolved, error) {
	l := newLookup(&s)
	m := &machinery{logf: s.Logf, red: s.Redactor}
	r := &Resolved{APIURL: apiURL, Advertised: s.Advertised, m: func() *machinery { return m }}

	p, how, err := l.pickPreset(apiURL)
	if err != nil {
		return nil, err
	}
	r.Provider = p.Name
	r.Sources = append(r.Sources, Source{What: "provider", From: how, Value: p.Name})
	if p.Name == ProviderNone {
		r.Method = auth.MethodNone
		r.Hint = "no credentials are sent (provider none)"
		return r.finish(l, p)
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
		r.m().origins = []string{auth.Origin(u)}
	}
	r.m().hosts = p.APIHosts

	if err := l.chooseMethod(r, p); err != nil {
		return nil, err
	}
	if r.Method == auth.MethodNone {
		r.m().hosts = nil
		r.Hint = noCredentialsHint(p, r.Advertised)
		if s.NoCredentialsHelp != "" {
			r.Hint += "; " + s.NoCredentialsHelp
		}
		return r.finish(l, p)
	}
	if u, _ := url.Parse(r.APIURL); u != nil && u.Scheme == "http" && !auth.IsLoopback(u.Hostname()) {
		l.warn("the API URL %s is plain http: the %s travels unencrypted", redact.URL(r.APIURL), methodNoun(r.Method))
	}
	if len(r.m().origins) == 0 && len(r.m().hosts) == 0 {
		l.warn("no API URL: the credentials will not be sent to any API")
	}
	return r.finish(l, p)
}

// finish sets the rate, the HTTP stack and the summary fields.
func (r *Resolved) finish(l *lookup, p Preset) (*Resolved, error) {
	s := l.s
	r.Rate, r.RateFrom = p.Rate, "preset "+p.Name
	if p.Rate > 0 {
		r.RateHosts = slices.Clone(p.RateHosts)
	}
	if u, err := url.Parse(r.APIURL); err == nil && u.Host != "" && (p.Rate > 0 || s.Rate != 0) && !slices.Contains(r.RateHosts, u.Host) {
		r.RateHosts = append(r.RateHosts, u.Host)
	}
	switch {
	case s.Rate > 0:
		r.Rate, r.RateFrom = s.Rate, "setting"
	case s.Rate < 0:
		r.Rate, r.RateFrom = 0, "setting"
	}
	if r.Rate == 0 {
		r.RateFrom = ""
	}
	lim := s.Limiter
	if lim == nil && s.HTTPClient == nil && r.Rate > 0 {
		lim = &ratelimit.Limiter{}
	}
	if lim != nil {
		for _, h := range r.RateHosts {
			if s.Rate != 0 {
				lim.Set(h, r.Rate, 1)
			} else {
				lim.SetDefault(h, r.Rate, 1)
			}
		}
	}
	r.m().stack = r.httpStack(s, lim)
	if err := l.build(r); err != nil {
		return nil, err
	}
	r.SendsTo = append(slices.Clone(r.m().origins), r.m().hosts...)
	if r.Method == auth.MethodNone {
		r.SendsTo = nil
	}
	r.Warnings = l.warnings
	return r, nil
}

// httpStack is what token and API requests go through under the auth
// layer: the caller's client as it is, else retries over the rate limiter
// over http.DefaultTransport.
func (r *Resolved) httpStack(s *Settings, lim *ratelimit.Limiter) http.RoundTripper {
	if s.HTTPClient != nil {
		if s.HTTPClient.Transport == nil {
			return http.DefaultTransport
		}
		return s.HTTPClient.Transport
	}
	var rt http.RoundTripper = http.DefaultTransport
	if lim != nil {
		rt = lim.Transport(rt)
	}
	if s.Retry != nil {
		rt = s.Retry.Transport(rt)
	}
	return rt
}

// tokenClient is the client of token requests.
func (r *Resolved) tokenClient(s *Settings) *http.Client {
	if s.HTTPClient != nil {
		return s.HTTPClient
	}
	return &http.Client{Transport: r.m().stack, Timeout: 30 * time.Second}
}

func methodNoun(m string) string {
	switch m {
	case auth.MethodToken:
		return "bearer token"
	case auth.MethodAPIKey:
		return "API key"
	case auth.MethodBasic:
		return "HTTP Basic password"
	case auth.MethodClientCredentials:
		return "OAuth2 client"
	case auth.MethodLogin:
		return "login"
	}
	return m
}

// noCredentialsHint says how to give credentials, for a 401 or 403 from an
// API to which none were sent.
func noCredentialsHint(p Preset, adv *auth.Advertised) string {
	var b strings.Builder
	if adv != nil && len(adv.ForAPI()) > 0 {
		var wants []string
		for _, s := range adv.ForAPI() {
			wants = append(wants, s.Name+" ("+s.Type+"): "+s.Needs())
		}
		fmt.Fprintf(&b, "the API advertises %s; ", strings.Join(wants, "; "))
	}
	if p.Name != ProviderGeneric && p.Name != ProviderNone {
		fmt.Fprintf(&b, "provide %s", credentialWays(p, true))
		return b.String()
	}
	var envs []string
	for _, p := range Presets() {
		for _, e := range []string{p.Env.ClientID, p.Env.APIKey} {
			if e != "" && !slices.Contains(envs, e) {
				envs = append(envs, e)
			}
		}
	}
	fmt.Fprintf(&b, "give credentials: a provider's (%s, ...), or STACQ_TOKEN_URL with STACQ_CLIENT_ID and STACQ_CLIENT_SECRET, STACQ_TOKEN, STACQ_API_KEY, or a .netrc entry for the host",
		strings.Join(envs, ", "))
	return b.String()
}

// String describes r without any secret, so printing a Resolved (%v, %+v)
// is safe.
func (r *Resolved) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "provider=%s method=%s", r.Provider, r.Method)
	if r.APIURL != "" {
		fmt.Fprintf(&b, " api=%s", redact.URL(r.APIURL))
	}
	if r.Method == auth.MethodClientCredentials {
		fmt.Fprintf(&b, " token_url=%s client_id=%s auth_style=%s", r.TokenURL, r.ClientID, r.AuthStyle)
	}
	return b.String()
}

// GoString keeps %#v from printing the secrets r holds.
func (r *Resolved) GoString() string { return "provider.Resolved{" + r.String() + "}" }

// Transport returns the auth layer over base (nil: the stack Resolve
// built): the credentials go to the API's origin and the preset's API
// hosts only, a refused token is renewed once, and with no credentials a
// refusal says how to give them.
func (r *Resolved) Transport(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = r.m().stack
	}
	if r.Method == auth.MethodNone && (r.Provider == ProviderNone || len(r.m().origins) == 0) {
		return base
	}
	return &auth.Transport{
		Credentials: r.m().creds, Origins: r.m().origins, Hosts: r.m().hosts, Base: base,
		Provider: r.Provider, Method: r.Method, Hint: r.Hint, Logf: r.m().logf, Redactor: r.m().red,
	}
}

// Client returns an *http.Client whose requests go, outermost first,
// through the auth layer, Settings.Retry, the rate limiter and the wire
// (or Settings.HTTPClient's transport).
func (r *Resolved) Client() *http.Client {
	return &http.Client{Transport: r.Transport(nil)}
}

// Token returns a current token, fetching one if needed. Methods without
// tokens (none, apikey, basic) return an error.
func (r *Resolved) Token(ctx context.Context) (*oauth2.Token, error) {
	if r.m().tokens == nil {
		return nil, fmt.Errorf("%s: the %s method has no access token", r.Provider, r.Method)
	}
	return r.m().tokens.Token(ctx)
}

// TokenSource returns the token chain as an auth.TokenSource, or nil for
// methods without tokens.
func (r *Resolved) TokenSource() auth.TokenSource { return r.m().tokens }

// CachedToken returns the token in the cache file, expired or not, without
// asking the token endpoint. ok is false when there is no cache, no file,
// or a file that is not this client's (or this secret's).
func (r *Resolved) CachedToken() (tok *oauth2.Token, path string, ok bool) {
	if r.m().disk == nil {
		return nil, "", false
	}
	tok, ok = r.m().disk.Cached()
	return tok, r.m().disk.Path(), ok
}

// Logout forgets the tokens held for this client, in memory and on disk.
// A missing cache file is not an error.
func (r *Resolved) Logout() error {
	if r.m().reuse != nil {
		r.m().reuse.Forget()
	}
	if r.m().disk == nil {
		return nil
	}
	if err := r.m().disk.Forget(); err != nil {
		return fmt.Errorf("%s: %w", r.Provider, err)
	}
	return nil
}

var errNoTokenURL = errors.New("no token URL")
