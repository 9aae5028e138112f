package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/stacq/stacq/internal/redact"
)

// ClientCredentials configures the OAuth2 client credentials grant
// (RFC 6749 4.4) at one token endpoint.
type ClientCredentials struct {
	// TokenURL is the token endpoint. Plain http is refused unless the
	// host is a loopback address: the client secret would travel in
	// cleartext.
	TokenURL string
	// ClientID and ClientSecret identify the client.
	ClientID, ClientSecret string
	// Scopes to request; none means the server's default.
	Scopes []string
	// Params are extra token request parameters (e.g. audience).
	Params url.Values
	// AuthStyle is how the client authenticates at the endpoint; empty
	// means AuthStyleAuto.
	AuthStyle AuthStyle
	// HTTPClient makes the token requests: give it a retrying transport
	// (retry.Policy.Transport) to retry a rate-limited or failing
	// endpoint. nil means a client with a 30s timeout and no retries.
	// Redirects are never followed, so the secret is not re-posted to
	// another URL.
	HTTPClient *http.Client
	// Provider names the provider in errors; empty means "generic".
	Provider string
	// Logf receives notes about token requests.
	Logf Logf
	// Redactor, when set, is told the secret and its HTTP Basic form.
	Redactor Redactor
}

// String shows c with the secret masked, so printing it (%v, %+v, %#v)
// never shows it.
func (c ClientCredentials) String() string {
	secret := ""
	if c.ClientSecret != "" {
		secret = redact.Mask
	}
	return fmt.Sprintf("auth.ClientCredentials{TokenURL:%q ClientID:%q ClientSecret:%q Scopes:%q AuthStyle:%q}",
		redact.URL(c.TokenURL), c.ClientID, secret, c.Scopes, c.AuthStyle)
}

// GoString is String, for %#v.
func (c ClientCredentials) GoString() string { return c.String() }

// CacheKey identifies the tokens of c for a DiskCache.
func (c ClientCredentials) CacheKey() CacheKey {
	return CacheKey{TokenURL: c.TokenURL, ClientID: c.ClientID, Scopes: c.Scopes, Params: c.Params, Secret: c.ClientSecret}
}

// ClientCredentialsSource asks the token endpoint for a new token on every
// call of Token; wrap it in a ReuseSource (and a DiskCache) to reuse one.
// With AuthStyleAuto it tries HTTP Basic, then the form body when the
// server answers invalid_client, and keeps to what worked.
type ClientCredentialsSource struct {
	cfg      ClientCredentials
	client   *http.Client
	redacted string // the token URL without credentials, for messages
	secrets  redact.Secrets
	now      func() time.Time

	mu      sync.Mutex
	learned AuthStyle // auto: the style that worked
}

// NewClientCredentialsSource checks c and returns its token source. It
// makes no request.
func NewClientCredentialsSource(c ClientCredentials) (*ClientCredentialsSource, error) {
	if c.Provider == "" {
		c.Provider = "generic"
	}
	if c.ClientID == "" || c.ClientSecret == "" {
		return nil, fmt.Errorf("%s: client credentials need a client id and a client secret", c.Provider)
	}
	u, err := url.Parse(c.TokenURL)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("%s: token URL %q is not an absolute http(s) URL", c.Provider, redact.URL(c.TokenURL))
	}
	if u.Scheme != "https" && !IsLoopback(u.Hostname()) {
		return nil, fmt.Errorf("%s: token URL %s: %w", c.Provider, redact.URL(c.TokenURL), ErrInsecureTokenURL)
	}
	switch c.AuthStyle {
	case "":
		c.AuthStyle = AuthStyleAuto
	case AuthStyleAuto, AuthStyleBasic, AuthStyleBody:
	default:
		return nil, fmt.Errorf("%s: auth style %q: want basic, body or auto", c.Provider, c.AuthStyle)
	}
	s := &ClientCredentialsSource{cfg: c, client: tokenHTTPClient(c.HTTPClient), redacted: redact.URL(c.TokenURL), now: time.Now}
	s.secrets.AddBasic(c.ClientID, c.ClientSecret)
	if c.Redactor != nil {
		c.Redactor.AddBasic(c.ClientID, c.ClientSecret)
	}
	return s, nil
}

// CacheKey identifies the source's tokens for a DiskCache.
func (s *ClientCredentialsSource) CacheKey() CacheKey { return s.cfg.CacheKey() }

// LearnedStyle is the style an AuthStyleAuto client succeeded with, empty
// before the first success.
func (s *ClientCredentialsSource) LearnedStyle() AuthStyle {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.learned
}

// Learn makes an AuthStyleAuto client start with style (remembered from an
// earlier run, e.g. in a token cache).
func (s *ClientCredentialsSource) Learn(style AuthStyle) {
	if style != AuthStyleBasic && style != AuthStyleBody {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.learned == "" {
		s.learned = style
	}
}

// Token asks the endpoint for a new token. A failure is a *TokenError.
func (s *ClientCredentialsSource) Token(ctx context.Context) (*oauth2.Token, error) {
	styles := []AuthStyle{s.cfg.AuthStyle}
	if s.cfg.AuthStyle == AuthStyleAuto {
		if l := s.LearnedStyle(); l != "" {
			styles = []AuthStyle{l}
		} else {
			styles = []AuthStyle{AuthStyleBasic, AuthStyleBody}
		}
	}
	var err error
	for i, style := range styles {
		var t *oauth2.Token
		t, err = s.request(ctx, style)
		if err == nil {
			if s.cfg.AuthStyle == AuthStyleAuto {
				s.mu.Lock()
				s.learned = style
				s.mu.Unlock()
			}
			return t, nil
		}
		if i+1 < len(styles) && wrongClientAuth(err) {
			s.cfg.Logf.printf("auth: %s: token endpoint refused %s client authentication; trying %s", s.cfg.Provider, style, styles[i+1])
			continue
		}
		break
	}
	return nil, err
}

// wrongClientAuth reports whether err says the server did not accept how
// the client authenticated, which is when auto-detection tries the other
// style. A 5xx or 429 says nothing about that.
func wrongClientAuth(err error) bool {
	var te *TokenError
	if !errors.As(err, &te) {
		return false
	}
	switch te.ErrorCode {
	case "invalid_client", "unauthorized_client", "invalid_request":
		return true
	}
	return te.ErrorCode == "" && te.StatusCode == http.StatusUnauthorized
}

// request makes one token request in style.
func (s *ClientCredentialsSource) request(ctx context.Context, style AuthStyle) (*oauth2.Token, error) {
	cfg := clientcredentials.Config{
		ClientID:       s.cfg.ClientID,
		ClientSecret:   s.cfg.ClientSecret,
		TokenURL:       s.cfg.TokenURL,
		Scopes:         s.cfg.Scopes,
		EndpointParams: s.cfg.Params,
		AuthStyle:      oauth2.AuthStyleInHeader,
	}
	if style == AuthStyleBody {
		cfg.AuthStyle = oauth2.AuthStyleInParams
	}
	issued := s.now()
	t, err := cfg.Token(context.WithValue(ctx, oauth2.HTTPClient, s.client))
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, s.tokenErr(err)
	}
	s.cfg.Logf.printf("auth: %s: new token from %s", s.cfg.Provider, s.redacted)
	// x/oauth2 dates expires_in from its own clock reading after the
	// answer; date it from before the request, on our clock.
	t.Expiry, t.ExpiresIn = time.Time{}, 0
	if d, ok := expiresIn(t); ok {
		t.Expiry, t.ExpiresIn = issued.Add(d), int64(d/time.Second)
	}
	return dated(t, issued), nil
}

func (s *ClientCredentialsSource) tokenErr(err error) *TokenError {
	var ue *url.Error
	if errors.As(err, &ue) {
		// The url.Error quotes the URL unredacted; keep only its cause.
		err = fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return tokenError(s.cfg.Provider, s.redacted, err, &s.secrets)
}

// expiresIn reads the expires_in member of a token answer (a number, or a
// string as some servers send it). Zero or below means unknown.
func expiresIn(t *oauth2.Token) (time.Duration, bool) {
	var secs float64
	switch v := t.Extra("expires_in").(type) {
	case float64:
		secs = v
	case int64: // a form-encoded answer
		secs = float64(v)
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil {
			return 0, false
		}
		secs = f
	default:
		return 0, false
	}
	// RFC 6749 makes it optional; more than a year is not worth trusting
	// to the second.
	if !(secs > 0) || secs > 366*24*3600 {
		return 0, false
	}
	return time.Duration(secs * float64(time.Second)), true
}

// tokenHTTPClient copies base (or a default) so that the token endpoint's
// redirects are not followed: following one would post the client secret
// to wherever it points.
func tokenHTTPClient(base *http.Client) *http.Client {
	c := &http.Client{Timeout: 30 * time.Second}
	if base != nil {
		cp := *base
		c = &cp
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return c
}
