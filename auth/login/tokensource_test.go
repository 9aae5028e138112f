package login

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// loggedIn signs in to tp with the device flow and stores the session as
// "test"; mutate, if not nil, edits the session before it is saved.
func loggedIn(t *testing.T, tp *testOP, mutate func(*Session)) (Store, *Session) {
	t.Helper()
	cfg := testConfig(tp)
	user := newDeviceUser(t, "allow")
	cfg.Prompt = user.pw
	sess, err := cfg.LoginDevice(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if mutate != nil {
		mutate(sess)
	}
	store := Store{Dir: filepath.Join(t.TempDir(), "sessions")}
	if err := store.Save("test", sess); err != nil {
		t.Fatal(err)
	}
	return store, sess
}

func expiresSoon(s *Session) { s.Expiry = time.Now().Add(10 * time.Second) }

func newTS(t *testing.T, store Store) *TokenSource {
	t.Helper()
	ts, err := NewTokenSource(t.Context(), store, "test", &http.Client{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

func TestTokenSourceServesValidToken(t *testing.T) {
	tp := startOP(t, opOptions{})
	store, sess := loggedIn(t, tp, nil)
	ts := newTS(t, store)
	for range 3 {
		tok, err := ts.Token()
		if err != nil || tok.AccessToken != sess.AccessToken || tok.Type() != "Bearer" {
			t.Fatalf("Token() = %+v, %v", tok, err)
		}
	}
	if n := tp.st.refreshCount(); n != 0 {
		t.Errorf("%d refreshes for a valid token", n)
	}
}

func TestTokenSourceRefreshesBeforeExpiryAndSavesRotation(t *testing.T) {
	tp := startOP(t, opOptions{})
	store, old := loggedIn(t, tp, expiresSoon)
	ts := newTS(t, store)
	tok, err := ts.Token()
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken == old.AccessToken {
		t.Fatal("token expiring within the margin was not renewed")
	}
	if n := tp.st.refreshCount(); n != 1 {
		t.Errorf("%d refreshes, want 1", n)
	}
	saved, err := store.Load("test")
	if err != nil {
		t.Fatal(err)
	}
	if saved.AccessToken != tok.AccessToken || saved.RefreshToken == old.RefreshToken || saved.RefreshToken == "" {
		t.Errorf("saved session does not hold the renewed tokens (rotation lost)")
	}
	if !tp.st.hasRefreshToken(saved.RefreshToken) || tp.st.hasRefreshToken(old.RefreshToken) {
		t.Errorf("the provider should know only the rotated refresh token")
	}
	if saved.IDToken == "" || saved.LoggedIn.IsZero() || !saved.LoggedIn.Equal(old.LoggedIn) {
		t.Errorf("renewal lost the ID token or login time")
	}
	if d := time.Until(saved.Expiry); d < 59*time.Minute {
		t.Errorf("renewed token expires in %v", d)
	}
}

// TestTokenSourceInvalidate is the 401 case: a token that has not expired
// is refused by a server; after Invalidate the next Token renews it.
func TestTokenSourceInvalidate(t *testing.T) {
	tp := startOP(t, opOptions{})
	store, old := loggedIn(t, tp, nil)
	ts := newTS(t, store)
	ts.Invalidate()
	tok, err := ts.Token()
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken == old.AccessToken || tp.st.refreshCount() != 1 {
		t.Fatalf("Invalidate did not force a renewal (refreshes: %d)", tp.st.refreshCount())
	}
	// The renewed token is one the provider honours.
	if _, err := ts.UserInfo(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := tp.st.refreshCount(); n != 1 {
		t.Errorf("%d refreshes, want 1", n)
	}
}

func TestTokenSourceConcurrentRenewal(t *testing.T) {
	tp := startOP(t, opOptions{})
	store, _ := loggedIn(t, tp, expiresSoon)
	ts := newTS(t, store)
	const n = 32
	toks := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			tok, err := ts.Token()
			if err != nil {
				t.Error(err)
				return
			}
			toks[i] = tok.AccessToken
		})
	}
	wg.Wait()
	if c := tp.st.refreshCount(); c != 1 {
		t.Errorf("%d refreshes for %d goroutines, want 1", c, n)
	}
	for _, tok := range toks {
		if tok != toks[0] {
			t.Fatal("goroutines got different tokens")
		}
	}
}

// TestTokenSourceInvalidateTokenCoalesces: N requests fail with 401 on
// the same token at once; they cause one renewal.
func TestTokenSourceInvalidateTokenCoalesces(t *testing.T) {
	tp := startOP(t, opOptions{})
	store, _ := loggedIn(t, tp, nil)
	ts := newTS(t, store)
	const n = 16
	var got, wg sync.WaitGroup
	got.Add(n)
	for range n {
		wg.Go(func() {
			tok, err := ts.Token()
			got.Done()
			if err != nil {
				t.Error(err)
				return
			}
			got.Wait() // every request holds the old token, then "gets 401"
			ts.InvalidateToken(tok.AccessToken)
			if _, err := ts.Token(); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if c := tp.st.refreshCount(); c != 1 {
		t.Errorf("%d refreshes for %d rejected requests, want 1", c, n)
	}
	// The same, with the late 401s arriving after the renewal.
	old, _ := ts.Token()
	ts.InvalidateToken(old.AccessToken)
	for range 3 {
		if _, err := ts.Token(); err != nil {
			t.Fatal(err)
		}
		ts.InvalidateToken(old.AccessToken)
	}
	if c := tp.st.refreshCount(); c != 2 {
		t.Errorf("%d refreshes after late 401s on a replaced token, want 2", c)
	}
}

func TestTokenSourceRevoked(t *testing.T) {
	tp := startOP(t, opOptions{})
	store, _ := loggedIn(t, tp, expiresSoon)
	tp.st.revokeAll()
	ts := newTS(t, store)
	_, err := ts.Token()
	var se *SessionExpiredError
	if !errors.As(err, &se) {
		t.Fatalf("err = %v, want *SessionExpiredError", err)
	}
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
		t.Errorf("err %v does not wrap the provider's invalid_grant", err)
	}
	if se.Name != "test" || !strings.Contains(err.Error(), `run "stacq auth login" again`) {
		t.Errorf("message %q must tell the user to log in again", err)
	}
	if _, err := store.Load("test"); err != nil {
		t.Errorf("a refused refresh must not delete the session: %v", err)
	}
}

// TestTokenSourceSharesRenewalAcrossProcesses: two programs hold the same
// session; the second must not spend the rotated-away refresh token.
func TestTokenSourceSharesRenewalAcrossProcesses(t *testing.T) {
	tp := startOP(t, opOptions{})
	store, _ := loggedIn(t, tp, expiresSoon)
	first, second := newTS(t, store), newTS(t, store)
	tok1, err := first.Token()
	if err != nil {
		t.Fatal(err)
	}
	tok2, err := second.Token()
	if err != nil {
		t.Fatal(err)
	}
	if tok2.AccessToken != tok1.AccessToken || tp.st.refreshCount() != 1 {
		t.Errorf("second source renewed again (refreshes: %d) instead of reading the saved session", tp.st.refreshCount())
	}
	// Both rejected: the second now renews with the rotated token from disk.
	first.Invalidate()
	if _, err := first.Token(); err != nil {
		t.Fatal(err)
	}
	second.Invalidate()
	if _, err := second.Token(); err != nil {
		t.Fatalf("second source after the first rotated again: %v", err)
	}
}

func TestTokenSourceWithoutRefreshToken(t *testing.T) {
	tp := startOP(t, opOptions{})
	store, _ := loggedIn(t, tp, func(s *Session) {
		s.RefreshToken = ""
		s.Expiry = time.Now().Add(-time.Minute)
	})
	_, err := newTS(t, store).Token()
	var se *SessionExpiredError
	if !errors.As(err, &se) {
		t.Fatalf("err = %v, want *SessionExpiredError", err)
	}
}

// tokenEndpoint is a small stand-in token endpoint for answers the op
// does not give: refresh_expires_in (Keycloak) and outages.
func tokenEndpoint(t *testing.T, status int, body map[string]any) (*httptest.Server, *int) {
	calls := new(int)
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		*calls++
		mu.Unlock()
		if r.Method != http.MethodPost || r.PostFormValue("grant_type") != "refresh_token" ||
			r.PostFormValue("refresh_token") != "rt-1" || r.PostFormValue("client_id") != "cli" {
			t.Errorf("unexpected token request %s %v", r.Method, r.PostForm)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(body)
	}))
	t.Cleanup(srv.Close)
	return srv, calls
}

func storedSession(t *testing.T, s *Session) Store {
	store := Store{Dir: t.TempDir()}
	if err := store.Save("test", s); err != nil {
		t.Fatal(err)
	}
	return store
}

func TestTokenSourceRefreshExpiry(t *testing.T) {
	srv, calls := tokenEndpoint(t, http.StatusOK, map[string]any{
		"access_token": "at-2", "token_type": "Bearer", "expires_in": 300,
		"refresh_token": "rt-2", "refresh_expires_in": 1800,
	})
	store := storedSession(t, &Session{Issuer: srv.URL, ClientID: "cli", TokenEndpoint: srv.URL,
		AccessToken: "at-1", RefreshToken: "rt-1", Expiry: time.Now().Add(-time.Second)})
	ts := newTS(t, store)
	tok, err := ts.Token()
	if err != nil || tok.AccessToken != "at-2" {
		t.Fatalf("Token() = %v, %v", tok, err)
	}
	s := ts.Session()
	if d := time.Until(s.RefreshExpiry); d < 29*time.Minute || d > 30*time.Minute {
		t.Errorf("refresh token expires in %v, want ~30m", d)
	}
	if s.RefreshToken != "rt-2" {
		t.Errorf("rotated refresh token not kept")
	}

	// A refresh token known to be expired is not even tried.
	store = storedSession(t, &Session{Issuer: srv.URL, ClientID: "cli", TokenEndpoint: srv.URL,
		AccessToken: "at-1", RefreshToken: "rt-1", Expiry: time.Now().Add(-time.Second),
		RefreshExpiry: time.Now().Add(-time.Second)})
	_, err = newTS(t, store).Token()
	var se *SessionExpiredError
	if !errors.As(err, &se) || *calls != 1 {
		t.Errorf("err = %v after %d calls, want *SessionExpiredError without a request", err, *calls)
	}
}

func TestTokenSourceOutageKeepsSession(t *testing.T) {
	srv, _ := tokenEndpoint(t, http.StatusServiceUnavailable, map[string]any{"error": "temporarily_unavailable"})
	sess := &Session{Issuer: srv.URL, ClientID: "cli", TokenEndpoint: srv.URL,
		AccessToken: "at-1", RefreshToken: "rt-1", Expiry: time.Now().Add(-time.Second)}
	store := storedSession(t, sess)
	_, err := newTS(t, store).Token()
	var se *SessionExpiredError
	if err == nil || errors.As(err, &se) {
		t.Fatalf("err = %v, want a plain (retryable) error", err)
	}
	if saved, _ := store.Load("test"); saved == nil || saved.RefreshToken != "rt-1" {
		t.Errorf("an outage must leave the session as it was")
	}
}

func TestNewTokenSourceNotLoggedIn(t *testing.T) {
	_, err := NewTokenSource(t.Context(), Store{Dir: t.TempDir()}, "nobody", nil)
	if !errors.Is(err, ErrNotLoggedIn) || !strings.Contains(err.Error(), "stacq auth login") {
		t.Errorf("err = %v, want ErrNotLoggedIn telling to log in", err)
	}
}

// hookTransport runs before once, before the first request it forwards.
type hookTransport struct {
	once   sync.Once
	before func()
}

func (h *hookTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	h.once.Do(h.before)
	return http.DefaultTransport.RoundTrip(r)
}

// TestTokenSourceRenewalRace: two processes renew at the same moment with
// the same refresh token; the provider rotates, so the slower one gets
// invalid_grant. It must pick up the winner's session from disk instead
// of telling the user to log in again.
func TestTokenSourceRenewalRace(t *testing.T) {
	tp := startOP(t, opOptions{})
	store, _ := loggedIn(t, tp, expiresSoon)
	winner := newTS(t, store)
	loser, err := NewTokenSource(t.Context(), store, "test", &http.Client{Transport: &hookTransport{before: func() {
		// The loser has read the disk and is about to send its refresh
		// request: the winner renews and saves first.
		if _, err := winner.Token(); err != nil {
			t.Error(err)
		}
	}}})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := loser.Token()
	if err != nil {
		t.Fatalf("loser of the renewal race: %v", err)
	}
	wtok, _ := winner.Token()
	if tok.AccessToken != wtok.AccessToken {
		t.Error("loser did not adopt the winner's token")
	}
	if c := tp.st.refreshCount(); c != 1 {
		t.Errorf("%d successful refreshes, want 1 (the winner's)", c)
	}
}
