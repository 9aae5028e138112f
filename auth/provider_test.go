package auth

import (
	"context"
	"net/http"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/stacq/stacq/internal/testing/authtest"
)

const (
	testClientID = authtest.ClientID
	testSecret   = authtest.Secret
)

// provider is the fake provider of a test.
type provider struct {
	*authtest.Provider
	t *testing.T
}

func newProvider(t *testing.T, style, tokenPath string) *provider {
	return &provider{authtest.NewT(t, style, tokenPath), t}
}

// chainConfig is what a test wants of a chain of layers: the client
// credentials of a generic provider (or a static Token), with or without
// the disk cache, on the provider's clock.
type chainConfig struct {
	TokenURL, ClientID, ClientSecret string
	AuthStyle                        string
	Scopes                           []string
	Params                           url.Values
	Token                            string
	CacheDir                         string
	NoTokenCache                     bool
	HTTPClient                       *http.Client
	Logf                             func(string, ...any)
	Redactor                         Redactor
	now                              func() time.Time
}

// settings returns the client credentials of p with a private cache dir
// and the provider's clock.
func (p *provider) settings() chainConfig {
	return chainConfig{
		TokenURL: p.TokenURL(), ClientID: p.ClientID, ClientSecret: p.Secret,
		CacheDir: p.t.TempDir(), now: p.Clock.Now,
	}
}

// chain is the layers as a command builds them for one API: client
// credentials → disk cache → reuse → bearer credentials → transport.
type chain struct {
	Method    string
	CacheFile string
	cc        *ClientCredentialsSource
	disk      *DiskCache
	reuse     *ReuseSource
	tokens    TokenSource
	tr        *Transport
}

// resolve builds the chain of cfg for the API at apiURL.
func resolve(t *testing.T, apiURL string, cfg chainConfig) *chain {
	t.Helper()
	now := cfg.now
	if now == nil {
		now = time.Now
	}
	c := &chain{tr: &Transport{Origins: []string{apiURL}, Provider: "generic", Logf: cfg.Logf, Redactor: cfg.Redactor, now: now}}
	if cfg.Token != "" {
		c.Method = MethodToken
		st := NewStaticToken(cfg.Token)
		c.tr.Credentials, c.tokens = st, st.(TokenSource)
		c.tr.Method, c.tr.Hint = MethodToken, "the bearer token (from env STACQ_TOKEN) is invalid or expired; get a new one"
		return c
	}
	cc, err := NewClientCredentialsSource(ClientCredentials{
		TokenURL: cfg.TokenURL, ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret,
		Scopes: cfg.Scopes, Params: cfg.Params, AuthStyle: AuthStyle(cfg.AuthStyle),
		HTTPClient: cfg.HTTPClient, Logf: cfg.Logf, Redactor: cfg.Redactor,
	})
	if err != nil {
		t.Fatalf("NewClientCredentialsSource: %v", err)
	}
	cc.now = now
	c.Method, c.cc = MethodClientCredentials, cc
	var next TokenSource = cc
	if !cfg.NoTokenCache {
		c.disk = NewDiskCache(cc, filepath.Join(cfg.CacheDir, "tokens"), cc.cfg.CacheKey(), cfg.Logf)
		c.disk.now = now
		c.CacheFile = c.disk.Path()
		next = c.disk
	}
	c.reuse = NewReuseSource(next, 0)
	c.reuse.now = now
	c.tokens = c.reuse
	c.tr.Credentials = NewBearer(c.reuse)
	c.tr.Method = MethodClientCredentials
	c.tr.Hint = "check that client " + cfg.ClientID + " (from flag) may use this API"
	c.tr.RetryDelay = time.Millisecond
	return c
}

// Client returns a client over base's transport (nil: the default).
func (c *chain) Client(base *http.Client) *http.Client {
	hc := &http.Client{}
	if base != nil {
		cp := *base
		hc = &cp
	}
	tr := &Transport{Credentials: c.tr.Credentials, Origins: c.tr.Origins, Hosts: c.tr.Hosts, Base: hc.Transport,
		Provider: c.tr.Provider, Method: c.tr.Method, Hint: c.tr.Hint, Logf: c.tr.Logf, Redactor: c.tr.Redactor,
		RetryDelay: c.tr.RetryDelay, now: c.tr.now}
	hc.Transport = tr
	return hc
}

func (c *chain) Token(ctx context.Context) (*oauth2.Token, error) { return c.tokens.Token(ctx) }

func (c *chain) TokenSource() oauth2.TokenSource {
	return OAuth2TokenSource(context.Background(), c.tokens)
}

func (c *chain) CachedToken() (*oauth2.Token, string, bool) {
	if c.disk == nil {
		return nil, "", false
	}
	tok, ok := c.disk.Cached()
	return tok, c.disk.Path(), ok
}

func (c *chain) Logout() error {
	if c.reuse != nil {
		c.reuse.Forget()
	}
	if c.disk == nil {
		return nil
	}
	return c.disk.Forget()
}

// Short names for the shared test helpers.
var (
	get       = authtest.Get
	wantCount = authtest.WantCount
	makeJWT   = authtest.MakeJWT
)

type handlerTransport = authtest.HandlerTransport
