package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// maxRateLimitWait bounds the total time spent waiting on a token
// endpoint's 429 answers before giving up.
const maxRateLimitWait = 30 * time.Second

// maxRateLimitRetries bounds the retries after 429 answers, for servers
// that say Retry-After: 0 forever.
const maxRateLimitRetries = 5

// clientCredentialsSource asks the token endpoint for a new token on every
// fetch; the layers above it cache.
type clientCredentialsSource struct {
	provider      string
	tokenURL      string
	clientID      string
	secret        string
	scopes        []string
	params        url.Values
	style         AuthStyle // basic, body or auto
	client        *http.Client
	now           func() time.Time
	wait          func(ctx context.Context, d time.Duration) error
	logf          func(format string, args ...any)
	maxWait       time.Duration
	redactedURL   string
	requireSecure bool // token URL is http and not loopback
	mu            sync.Mutex
	learned       AuthStyle // auto: the style that worked
}

func (c *clientCredentialsSource) invalidate(string) {}

// learnedStyle and setLearnedStyle let the disk cache remember, across
// runs, which style an auto-detecting client succeeded with.
func (c *clientCredentialsSource) learnedStyle() AuthStyle {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.learned
}

func (c *clientCredentialsSource) setLearnedStyle(s AuthStyle) {
	if s != AuthStyleBasic && s != AuthStyleBody {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.learned == "" {
		c.learned = s
	}
}

func (c *clientCredentialsSource) fetch(ctx context.Context) (*grant, error) {
	if c.requireSecure {
		return nil, &TokenError{Provider: c.provider, TokenURL: c.redactedURL, Err: ErrInsecureTokenURL,
			Hint: "the client secret is only sent over http to loopback addresses"}
	}
	styles := []AuthStyle{c.style}
	if c.style == AuthStyleAuto {
		if l := c.learnedStyle(); l != "" {
			styles = []AuthStyle{l}
		} else {
			styles = []AuthStyle{AuthStyleBasic, AuthStyleBody}
		}
	}
	var err error
	for i, style := range styles {
		var g *grant
		g, err = c.fetchStyle(ctx, style)
		if err == nil {
			if c.style == AuthStyleAuto {
				c.mu.Lock()
				c.learned = style
				c.mu.Unlock()
			}
			return g, nil
		}
		if i+1 < len(styles) && wrongClientAuth(err) {
			c.logf("auth: %s: token endpoint refused %s client authentication; trying %s", c.provider, style, styles[i+1])
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

// fetchStyle makes one token request in style, waiting and retrying while
// the endpoint answers 429, within maxWait in total.
func (c *clientCredentialsSource) fetchStyle(ctx context.Context, style AuthStyle) (*grant, error) {
	cfg := clientcredentials.Config{
		ClientID:       c.clientID,
		ClientSecret:   c.secret,
		TokenURL:       c.tokenURL,
		Scopes:         c.scopes,
		EndpointParams: c.params,
		AuthStyle:      oauth2.AuthStyleInHeader,
	}
	if style == AuthStyleBody {
		cfg.AuthStyle = oauth2.AuthStyleInParams
	}
	ctx = context.WithValue(ctx, oauth2.HTTPClient, c.client)
	var waited time.Duration
	for attempt := 1; ; attempt++ {
		issued := c.now()
		t, err := cfg.Token(ctx)
		if err == nil {
			c.logf("auth: %s: new token from %s", c.provider, c.redactedURL)
			// x/oauth2 dates expires_in from its own clock reading after the
			// answer; date it from before the request, on our clock.
			if d, ok := expiresIn(t); ok {
				t.Expiry = issued.Add(d)
			}
			return withExpiry(t, issued), nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		te := c.tokenErr(err)
		if !te.RateLimited {
			return nil, te
		}
		d := retryAfter(te, c.now())
		if waited+d > c.maxWait || attempt > maxRateLimitRetries {
			te.Hint = fmt.Sprintf("waited %s in total; try again later", waited.Round(time.Millisecond))
			return nil, te
		}
		c.logf("auth: %s: token endpoint is rate-limiting; waiting %s", c.provider, d)
		if err := c.wait(ctx, d); err != nil {
			return nil, err
		}
		waited += d
	}
}

func (c *clientCredentialsSource) tokenErr(err error) *TokenError {
	var ue *url.Error
	if errors.As(err, &ue) {
		// The url.Error quotes the URL unredacted; keep only its cause.
		err = fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return tokenError(c.provider, c.redactedURL, err, c.secret, c.clientID+":"+c.secret)
}

// expiresIn reads the expires_in member of a token answer (a number, or a
// string as some servers send it).
func expiresIn(t *oauth2.Token) (time.Duration, bool) {
	var secs float64
	switch v := t.Extra("expires_in").(type) {
	case float64:
		secs = v
	case int64: // a form-encoded answer
		secs = float64(v)
	case string:
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return 0, false
		}
		secs = f
	default:
		return 0, false
	}
	// Zero or negative means unknown (RFC 6749 makes it optional); more
	// than a year is not worth trusting to the second.
	if secs <= 0 || secs > 366*24*3600 {
		return 0, false
	}
	return time.Duration(secs * float64(time.Second)), true
}

// retryAfter reads the Retry-After of a 429 answer: seconds or an HTTP
// date; without one, 1s. It is at least 0 and the caller bounds it.
func retryAfter(te *TokenError, now time.Time) time.Duration {
	var re *oauth2.RetrieveError
	if !errors.As(te, &re) || re.Response == nil {
		return time.Second
	}
	return parseRetryAfter(re.Response.Header.Get("Retry-After"), now)
}

func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return time.Second
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return 0
		}
		if n > int64(maxRateLimitWait/time.Second)+1 {
			return maxRateLimitWait + time.Second // over any budget: give up now
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return min(max(t.Sub(now), 0), maxRateLimitWait+time.Second)
	}
	return time.Second
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
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

// insecureURL reports whether u is plain http to a non-loopback host.
func insecureURL(u string) bool {
	p, err := url.Parse(u)
	if err != nil {
		return true
	}
	return p.Scheme != "https" && !isLoopback(p.Hostname())
}
