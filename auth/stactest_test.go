package auth

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/stacq/stacq/internal/testing/stactest"
)

// Against the shared local STAC API: a Hydra-like body-only token
// endpoint, paging through /search while the server revokes every token.
func TestStactestPagingSurvivesRevocation(t *testing.T) {
	srv := stactest.New(stactest.Options{Items: 50, Auth: &stactest.Auth{ClientID: "cid", ClientSecret: "csecret", Style: "body"}})
	defer srv.Close()
	r := resolve(t, srv.RootURL(), chainConfig{
		TokenURL: srv.TokenURL(), ClientID: "cid", ClientSecret: "csecret", CacheDir: t.TempDir(),
	})
	c := r.Client(nil)
	next, pages, items := srv.RootURL()+"/search?limit=10", 0, 0
	for next != "" {
		pages++
		if pages == 3 {
			srv.RevokeTokens()
		}
		var page struct {
			Features []json.RawMessage `json:"features"`
			Links    []struct{ Rel, Href string }
		}
		if err := json.Unmarshal([]byte(get(t, c, next)), &page); err != nil {
			t.Fatal(err)
		}
		items += len(page.Features)
		next = ""
		for _, l := range page.Links {
			if l.Rel == "next" {
				next = l.Href
			}
		}
	}
	if pages != 5 || items != 50 {
		t.Errorf("%d pages, %d items", pages, items)
	}
	// auto: Basic refused, body accepted; then one renewal in body style.
	if n := srv.TokenRequests.Load(); n != 3 {
		t.Errorf("token requests = %d, want 3", n)
	}
}

// The login seam: a caller's token source (as auth/login provides) is
// shared by concurrent requests, and a refused token is invalidated in it
// and asked for again once.
func TestLoginTokenSource(t *testing.T) {
	p := newProvider(t, "both", "/oauth/token")
	ts := &fakeLogin{p: p}
	reuse := NewReuseSource(NewSessionSource(ts), 0)
	c := &http.Client{Transport: &Transport{Credentials: NewBearer(reuse), Origins: []string{p.APIURL()}, Method: MethodLogin}}
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := c.Get(p.APIURL() + "/search")
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
		}()
	}
	wg.Wait()
	p.Rotate()
	get(t, c, p.APIURL()+"/search")
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if ts.calls != 2 || fmt.Sprint(ts.invalidated) != "[login-1]" {
		t.Errorf("login source: %d calls, invalidated %v", ts.calls, ts.invalidated)
	}
	wantCount(t, "API requests", &p.APIReqs, 22)
	wantCount(t, "token requests", &p.TokenReqs, 0)
}

// fakeLogin mints tokens straight into the provider, like a session's
// refresh would.
type fakeLogin struct {
	p           *provider
	mu          sync.Mutex
	calls       int
	cur         string
	invalidated []string
}

func (f *fakeLogin) Token() (*oauth2.Token, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cur == "" {
		f.calls++
		f.cur = fmt.Sprintf("login-%d", f.calls)
		f.p.Issue(f.cur, f.p.Clock.Now().Add(3650*24*time.Hour))
	}
	return &oauth2.Token{AccessToken: f.cur, TokenType: "Bearer"}, nil
}

func (f *fakeLogin) InvalidateToken(tok string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.invalidated = append(f.invalidated, tok)
	if strings.EqualFold(f.cur, tok) {
		f.cur = ""
	}
}

var _ http.RoundTripper = (*Transport)(nil)
