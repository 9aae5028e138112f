package login

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"golang.org/x/oauth2"
)

// expiryMargin renews the access token this long before it expires, so a
// token does not run out between Token and the server checking it.
const expiryMargin = 30 * time.Second

// TokenSource serves the access token of a stored session and renews it
// with the refresh token shortly before it expires, saving the result
// (including a rotated refresh token) back to the store. It is safe for
// concurrent use: N goroutines that need a new token cause one refresh.
//
// It implements oauth2.TokenSource, and Invalidate / InvalidateToken let
// a transport that got 401 Unauthorized drop the rejected token so the
// next Token call renews it.
type TokenSource struct {
	ctx   context.Context
	hc    *http.Client
	store Store
	name  string
	now   func() time.Time

	mu       sync.Mutex
	sess     *Session
	rejected string // access token a server refused; never served again
}

var _ oauth2.TokenSource = (*TokenSource)(nil)

// NewTokenSource loads session name from store. ctx and hc are used for
// the refresh requests (ctx as in oauth2.Config.TokenSource: it should
// live as long as the source). A missing session is ErrNotLoggedIn.
func NewTokenSource(ctx context.Context, store Store, name string, hc *http.Client) (*TokenSource, error) {
	sess, err := store.Load(name)
	if err != nil {
		return nil, err
	}
	return &TokenSource{ctx: ctx, hc: hc, store: store, name: name, sess: sess, now: time.Now}, nil
}

// Token returns a valid access token, renewing it first when it expires
// within 30 seconds or was invalidated. When the provider refuses the
// refresh token the error is a *SessionExpiredError.
func (ts *TokenSource) Token() (*oauth2.Token, error) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if ts.usable(ts.sess) {
		return ts.sess.Token(), nil
	}
	// Another stacq process may have renewed the session meanwhile; its
	// tokens are as good as ours and, with rotation, ours may be spent.
	if disk, err := ts.store.Load(ts.name); err == nil && disk.Issuer == ts.sess.Issuer && disk.ClientID == ts.sess.ClientID {
		if ts.usable(disk) {
			ts.sess = disk
			return disk.Token(), nil
		}
		if disk.RefreshToken != "" {
			ts.sess.RefreshToken = disk.RefreshToken
			ts.sess.RefreshExpiry = disk.RefreshExpiry
		}
	}
	if ts.sess.RefreshToken == "" {
		return nil, &SessionExpiredError{Name: ts.name, Err: errors.New("the access token expired and the provider gave no refresh token")}
	}
	if !ts.sess.RefreshExpiry.IsZero() && ts.now().After(ts.sess.RefreshExpiry) {
		return nil, &SessionExpiredError{Name: ts.name, Err: errors.New("the refresh token expired at " + ts.sess.RefreshExpiry.Format(time.RFC3339))}
	}
	return ts.refresh()
}

// usable reports whether s holds an access token to serve as is.
func (ts *TokenSource) usable(s *Session) bool {
	if s.AccessToken == "" || s.AccessToken == ts.rejected {
		return false
	}
	return s.Expiry.IsZero() || ts.now().Add(expiryMargin).Before(s.Expiry)
}

// refresh runs the refresh token grant through x/oauth2 and saves the
// renewed session. Called with mu held.
func (ts *TokenSource) refresh() (*oauth2.Token, error) {
	tok, err := ts.grant(ts.sess.RefreshToken)
	if isInvalidGrant(err) {
		// Another process may have renewed at the same moment and, with
		// rotation, spent the refresh token we both read. Its result is on
		// disk: use it rather than sending the user to log in again.
		disk, lerr := ts.store.Load(ts.name)
		if lerr == nil && disk.Issuer == ts.sess.Issuer && disk.RefreshToken != "" && disk.RefreshToken != ts.sess.RefreshToken {
			ts.sess.RefreshToken = disk.RefreshToken
			if ts.usable(disk) {
				ts.sess = disk
				return disk.Token(), nil
			}
			tok, err = ts.grant(disk.RefreshToken)
		}
	}
	if err != nil {
		if isInvalidGrant(err) {
			return nil, &SessionExpiredError{Name: ts.name, Err: err}
		}
		return nil, fmt.Errorf("login: renewing the access token of session %q: %w", ts.name, err)
	}
	next := *ts.sess
	next.update(tok, ts.now())
	// Keep the renewed session in memory even if saving fails: with
	// rotation the old refresh token is spent, and this process can still
	// finish its work.
	ts.sess = &next
	ts.rejected = ""
	if err := ts.store.Save(ts.name, &next); err != nil {
		return nil, fmt.Errorf("login: renewed the access token but could not save it: %w", err)
	}
	return next.Token(), nil
}

// grant makes one refresh token request.
func (ts *TokenSource) grant(refreshToken string) (*oauth2.Token, error) {
	oc := &oauth2.Config{
		ClientID: ts.sess.ClientID,
		Endpoint: oauth2.Endpoint{TokenURL: ts.sess.TokenEndpoint, AuthStyle: oauth2.AuthStyleInParams},
	}
	// An empty access token makes the oauth2 source refresh at once.
	return oc.TokenSource(withClient(ts.ctx, ts.hc), &oauth2.Token{RefreshToken: refreshToken}).Token()
}

// Invalidate drops the current access token: the next Token call renews
// it. Use it when a server answered 401 to a token that had not expired.
// When several requests may fail at once, InvalidateToken avoids one
// renewal per failure.
func (ts *TokenSource) Invalidate() {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.rejected = ts.sess.AccessToken
}

// InvalidateToken drops accessToken if it is still the current one. N
// requests that got 401 with the same token thus cause one renewal, not
// N: after the first renewal the others' token is no longer current.
func (ts *TokenSource) InvalidateToken(accessToken string) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if ts.sess.AccessToken == accessToken {
		ts.rejected = accessToken
	}
}

// Session returns a copy of the current session (for status output).
func (ts *TokenSource) Session() Session {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return *ts.sess
}
