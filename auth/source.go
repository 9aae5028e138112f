package auth

import (
	"context"
	"errors"
	"sync"
	"time"

	"golang.org/x/oauth2"
)

// DefaultRenewMargin caps how long before its expiry ReuseSource replaces
// a token.
const DefaultRenewMargin = 60 * time.Second

// dated copies t (the caller's token is not ours to change) and fills in
// what the layers need: the expiry from the JWT exp claim when the answer
// had no expires_in, and ExpiresIn as the lifetime from now, which sets
// the renewal margin. A lifetime that is already over at issue (a JWT exp
// in the past: the server's clock is behind ours) is treated as unknown:
// the token is used until an API refuses it, rather than renewed before
// every request.
func dated(t *oauth2.Token, issued time.Time) *oauth2.Token {
	c := *t
	if c.Expiry.IsZero() {
		if exp, ok := ParseJWTExpiry(c.AccessToken); ok && exp.After(issued) {
			c.Expiry = exp
		}
	} else if !c.Expiry.After(issued) {
		c.Expiry = time.Time{}
	}
	if c.Expiry.IsZero() {
		c.ExpiresIn = 0
	} else if c.ExpiresIn <= 0 {
		c.ExpiresIn = int64(c.Expiry.Sub(issued) / time.Second)
	}
	return &c
}

// renewAt is when t should be replaced: a margin before expiry of maxMargin
// or a tenth of its lifetime (ExpiresIn), whichever is smaller, so a
// request never starts with a token about to lapse and short-lived tokens
// are still used. Zero means never (no expiry).
func renewAt(t *oauth2.Token, maxMargin time.Duration) time.Time {
	if t.Expiry.IsZero() {
		return time.Time{}
	}
	m := time.Duration(t.ExpiresIn) * time.Second / 10
	m = max(0, min(m, maxMargin))
	return t.Expiry.Add(-m)
}

// fresh reports whether t can still be used at now.
func fresh(t *oauth2.Token, now time.Time, maxMargin time.Duration) bool {
	if t == nil || t.AccessToken == "" {
		return false
	}
	return t.Expiry.IsZero() || now.Before(renewAt(t, maxMargin))
}

// ReuseSource shares one token among concurrent requests: while the token
// is fresh it is returned; when it is not, exactly one caller asks the
// next source and the others wait for that result (like
// oauth2.ReuseTokenSource, but a concurrent first use also makes a single
// request). A token is renewed shortly before it expires: a margin of a
// tenth of its lifetime, at most the maximum margin. A token without an
// expiry is reused until an API refuses it (InvalidateToken).
type ReuseSource struct {
	next      TokenSource
	maxMargin time.Duration
	now       func() time.Time

	mu       sync.Mutex
	cur      *oauth2.Token
	inflight *call
	// refused remembers the tokens an API refused, so a copy still on its
	// way from a cache is not handed out again.
	refused []string
}

type call struct {
	done chan struct{}
	tok  *oauth2.Token
	err  error
}

// NewReuseSource returns a ReuseSource over next. maxMargin caps the
// renewal margin; 0 means DefaultRenewMargin.
func NewReuseSource(next TokenSource, maxMargin time.Duration) *ReuseSource {
	if maxMargin <= 0 {
		maxMargin = DefaultRenewMargin
	}
	return &ReuseSource{next: next, maxMargin: maxMargin, now: time.Now}
}

// Token returns the shared token, renewing it when it is about to expire.
func (r *ReuseSource) Token(ctx context.Context) (*oauth2.Token, error) {
	for {
		r.mu.Lock()
		if fresh(r.cur, r.now(), r.maxMargin) {
			t := r.cur
			r.mu.Unlock()
			return t, nil
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
			return c.tok, nil
		}
		// The leader's own context ended; ours has not, so try again
		// rather than fail with someone else's cancellation.
		if isContextErr(c.err) && ctx.Err() == nil {
			continue
		}
		return nil, c.err
	}
}

func (r *ReuseSource) lead(ctx context.Context, c *call) (*oauth2.Token, error) {
	t, err := r.next.Token(ctx)
	if err == nil && r.wasRefused(t.AccessToken) {
		invalidate(r.next, t.AccessToken)
		t, err = r.next.Token(ctx)
	}
	if err == nil {
		t = dated(t, r.now())
	}
	r.mu.Lock()
	c.tok, c.err = t, err
	if err == nil {
		r.cur = t
	}
	r.inflight = nil
	r.mu.Unlock()
	close(c.done)
	return t, err
}

func (r *ReuseSource) wasRefused(tok string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, t := range r.refused {
		if t == tok {
			return true
		}
	}
	return false
}

// InvalidateToken drops accessToken if it is the one held, and passes the
// word on to the next source.
func (r *ReuseSource) InvalidateToken(accessToken string) {
	r.mu.Lock()
	if r.cur != nil && r.cur.AccessToken == accessToken {
		r.cur = nil
	}
	if len(r.refused) >= 8 {
		r.refused = r.refused[1:]
	}
	r.refused = append(r.refused, accessToken)
	r.mu.Unlock()
	invalidate(r.next, accessToken)
}

// Forget drops the token held in memory, whatever it is (logout).
func (r *ReuseSource) Forget() {
	r.mu.Lock()
	r.cur = nil
	r.mu.Unlock()
}

func invalidate(ts TokenSource, accessToken string) {
	if inv, ok := ts.(TokenInvalidator); ok {
		inv.InvalidateToken(accessToken)
	}
}

func isContextErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// NewSessionSource adapts ts, a user session's token source (such as
// auth/login's TokenSource, which renews with the refresh token), to a
// TokenSource. A refused token is passed on to ts when it implements
// TokenInvalidator; otherwise ts is asked again and, if it returns the
// same token, the Transport reports the refusal. ts keeps its own
// persistence: do not put a DiskCache over it.
func NewSessionSource(ts oauth2.TokenSource) TokenSource {
	return sessionSource{ts: ts}
}

type sessionSource struct{ ts oauth2.TokenSource }

func (s sessionSource) Token(ctx context.Context) (*oauth2.Token, error) {
	type result struct {
		t   *oauth2.Token
		err error
	}
	// oauth2.TokenSource takes no context; do not keep the caller waiting
	// after it gave up.
	ch := make(chan result, 1)
	go func() {
		t, err := s.ts.Token()
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
			return nil, errors.New("the session's token source returned no access token")
		}
		return res.t, nil
	}
}

func (s sessionSource) InvalidateToken(accessToken string) {
	if inv, ok := s.ts.(TokenInvalidator); ok {
		inv.InvalidateToken(accessToken)
	}
}
