package login

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"
)

func TestLogoutRevokes(t *testing.T) {
	tp := startOP(t, opOptions{})
	store, sess := loggedIn(t, tp, nil)
	if err := Logout(t.Context(), store, "test", &http.Client{Timeout: 5 * time.Second}); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Load("test"); !errors.Is(err, ErrNotLoggedIn) {
		t.Errorf("session still stored after logout: %v", err)
	}
	tp.st.mu.Lock()
	revoked := slices.Contains(tp.st.revoked, sess.RefreshToken)
	tp.st.mu.Unlock()
	if !revoked || tp.st.hasRefreshToken(sess.RefreshToken) {
		t.Error("the provider did not revoke the refresh token")
	}
	if err := Logout(t.Context(), store, "test", nil); !errors.Is(err, ErrNotLoggedIn) {
		t.Errorf("second logout: err = %v, want ErrNotLoggedIn", err)
	}
}

func TestLogoutRevocationFails(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.PostFormValue("token") != "rt-1" || r.PostFormValue("token_type_hint") != "refresh_token" ||
			r.PostFormValue("client_id") != "cli" {
			t.Errorf("revocation request %v", r.PostForm)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte(`{"error":"temporarily_unavailable","error_description":"try later"}`))
	}))
	defer srv.Close()
	store := storedSession(t, &Session{Issuer: srv.URL, ClientID: "cli", TokenEndpoint: srv.URL,
		RevocationEndpoint: srv.URL, AccessToken: "at-1", RefreshToken: "rt-1"})
	err := Logout(t.Context(), store, "test", nil)
	var re *RevokeError
	if !errors.As(err, &re) || re.StatusCode != 503 || re.Code != "temporarily_unavailable" {
		t.Fatalf("err = %v, want *RevokeError 503 temporarily_unavailable", err)
	}
	if _, err := store.Load("test"); !errors.Is(err, ErrNotLoggedIn) {
		t.Errorf("a failed revocation must still remove the local session: %v", err)
	}
}

func TestLogoutDamagedSession(t *testing.T) {
	store := storedSession(t, sampleSession())
	path, _ := store.Path("test")
	if err := writeFileAtomic(path, []byte("{")); err != nil {
		t.Fatal(err)
	}
	if err := Logout(t.Context(), store, "test", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Load("test"); !errors.Is(err, ErrNotLoggedIn) {
		t.Errorf("damaged session not removed: %v", err)
	}
}
