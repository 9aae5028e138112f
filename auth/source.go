package auth

import (
	"context"
	"errors"
	"sync"
	"time"

	"golang.org/x/oauth2"
)

// grant is a token with the time it was issued, which sets the renewal
// margin.
type grant struct {
	*oauth2.Token
	issued time.Time
}

// maxRenewMargin caps how long before expiry a token is renewed.
const maxRenewMargin = 60 * time.Second

// renewAt is when g should be replaced: a margin before expiry of 60s or a
// tenth of its lifetime, whichever is smaller, so a request never starts
// with a token about to lapse and short-lived tokens are still used.
func (g *grant) renewAt() time.Time {
	if g.Expiry.IsZero() {
		return time.Time{}
	}
	m := g.Expiry.Sub(g.issued) / 10
	m = max(0, min(m, maxRenewMargin))
	return g.Expiry.Add(-m)
}

// fresh reports whether g can still be used at now.
func (g *grant) fresh(now time.Time) bool {
	if g == nil || g.Token == nil || g.AccessToken == "" {
		return false
	}
	return g.Expiry.IsZero() || now.Before(g.renewAt())
}

// source is the context-aware token source the layers share: the token
// endpoint, the disk cache and the in-memory reuse each implement it and
// wrap the next.
type source interface {
	fetch(ctx context.Context) (*grant, error)
	// invalidate drops accessToken if it is the one held, because the API
	// refused it; other tokens are kept (a concurrent request may already
	// have renewed it).
	invalidate(accessToken string)
}

// reuseSource shares one token among concurrent requests: while a token is
// fresh it is returned; when it is not, exactly one caller fetches a new
// one and the others wait for that result (like oauth2.ReuseTokenSource,
// but a concurrent first use also makes a single request).
type reuseSource struct {
	next source
	now  func() time.Time

	mu       sync.Mutex
	cur      *grant
	inflight *call
	// refused remembers the tokens an API refused, so a copy still on its
	// way from the disk cache is not handed out again.
	refused []string
}

type call struct {
	done chan struct{}
	g    *grant
	err  error
}

func (r *reuseSource) fetch(ctx context.Context) (*grant, error) {
	for {
		r.mu.Lock()
		if r.cur.fresh(r.now()) {
			g := r.cur
			r.mu.Unlock()
			return g, nil
		}
		c := r.inflight
		if c == nil {
			c = &call{done: make(chan struct{})}
			r.inflight = c
			r.mu.Unlock()
			return r.lead(ctx, c)
		}
		r.mu.Unlock()

		select {
		case <-c.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if c.err == nil {
			return c.g, nil
		}
		// The leader's own context ended; ours has not, so try again
		// rather than fail with someone else's cancellation.
		if isContextErr(c.err) && ctx.Err() == nil {
			continue
		}
		return nil, c.err
	}
}

func (r *reuseSource) lead(ctx context.Context, c *call) (*grant, error) {
	g, err := r.next.fetch(ctx)
	if err == nil && r.wasRefused(g.AccessToken) {
		r.next.invalidate(g.AccessToken)
		g, err = r.next.fetch(ctx)
	}
	r.mu.Lock()
	c.g, c.err = g, err
	if err == nil {
		r.cur = g
	}
	r.inflight = nil
	r.mu.Unlock()
	close(c.done)
	return g, err
}

func (r *reuseSource) wasRefused(tok string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, t := range r.refused {
		if t == tok {
			return true
		}
	}
	return false
}

func (r *reuseSource) invalidate(accessToken string) {
	r.mu.Lock()
	if r.cur != nil && r.cur.AccessToken == accessToken {
		r.cur = nil
	}
	if len(r.refused) >= 8 {
		r.refused = r.refused[1:]
	}
	r.refused = append(r.refused, accessToken)
	r.mu.Unlock()
	r.next.invalidate(accessToken)
}

// forget drops the token held in memory (logout).
func (r *reuseSource) forget() {
	r.mu.Lock()
	r.cur = nil
	r.mu.Unlock()
}

func isContextErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// staticSource always returns the same token (--token, STACQ_TOKEN); it
// cannot be renewed.
type staticSource struct{ g *grant }

func (s staticSource) fetch(context.Context) (*grant, error) { return s.g, nil }
func (staticSource) invalidate(string)                       {}

// externalSource adapts a caller's oauth2.TokenSource (interactive login).
type externalSource struct {
	ts  oauth2.TokenSource
	now func() time.Time
}

func (e externalSource) fetch(ctx context.Context) (*grant, error) {
	type result struct {
		t   *oauth2.Token
		err error
	}
	// oauth2.TokenSource takes no context; do not keep the caller waiting
	// after it gave up.
	ch := make(chan result, 1)
	go func() {
		t, err := e.ts.Token()
		ch <- result{t, err}
	}()
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case res := <-ch:
		if res.err != nil {
			return nil, res.err
		}
		if res.t == nil || res.t.AccessToken == "" {
			return nil, errors.New("login token source returned no access token")
		}
		return withExpiry(res.t, e.now()), nil
	}
}

// TokenInvalidator is implemented by token sources that can drop a token
// an API refused, so their next Token renews it (auth/login's TokenSource
// does). A Settings.TokenSource without it is asked again and, if it
// returns the same token, the request fails with an *AuthError.
type TokenInvalidator interface {
	InvalidateToken(accessToken string)
}

func (e externalSource) invalidate(accessToken string) {
	if inv, ok := e.ts.(TokenInvalidator); ok {
		inv.InvalidateToken(accessToken)
	}
}

// withExpiry wraps t, taking its expiry from the JWT exp claim when the
// token response had no expires_in.
func withExpiry(t *oauth2.Token, issued time.Time) *grant {
	c := *t // the caller's token is not ours to change
	t = &c
	if t.Expiry.IsZero() {
		if exp, ok := ParseJWTExpiry(t.AccessToken); ok {
			t.Expiry = exp
		}
	}
	return &grant{Token: t, issued: issued}
}

// tokenSource exposes a source as an oauth2.TokenSource.
type tokenSource struct{ s source }

func (t tokenSource) Token() (*oauth2.Token, error) {
	g, err := t.s.fetch(context.Background())
	if err != nil {
		return nil, err
	}
	return g.Token, nil
}
