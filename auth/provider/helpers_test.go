package provider

import (
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/stacq/stacq/auth"
	"github.com/stacq/stacq/internal/testing/authtest"
)

const (
	testClientID = authtest.ClientID
	testSecret   = authtest.Secret
	edsTokenURL  = "https://api.earthdaily.com/account_management/v1/authentication/api_tokens/exchange"
)

func resolve(t *testing.T, apiURL string, s Settings) *Resolved {
	t.Helper()
	r, err := Resolve(apiURL, s)
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	return r
}

// sendsTo reports whether r's transport adds the credentials to u.
func sendsTo(r *Resolved, u *url.URL) bool {
	tr, ok := r.Transport(nil).(*auth.Transport)
	return ok && r.Method != auth.MethodNone && tr.Allowed(u)
}

type provider struct {
	*authtest.Provider
	t *testing.T
}

func newProvider(t *testing.T, style, tokenPath string) *provider {
	t.Helper()
	p := &provider{Provider: authtest.New(style, tokenPath), t: t}
	t.Cleanup(p.Close)
	return p
}

func (p *provider) tokenURL() string { return p.TokenURL() }
func (p *provider) apiURL() string   { return p.APIURL() }

// settings returns generic settings for p with a private cache dir; env
// is the whole environment.
func (p *provider) settings(env map[string]string) Settings {
	return Settings{
		TokenURL: p.tokenURL(), ClientID: p.ClientID, ClientSecret: p.Secret,
		CacheDir: p.t.TempDir(), Getenv: mapEnv(env), Dir: p.t.TempDir(),
	}
}

func mapEnv(env map[string]string) func(string) string {
	return func(k string) string { return env[k] }
}

func get(t *testing.T, c *http.Client, u string) string {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: reading: %v", u, err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s: %s", u, resp.Status, data)
	}
	return string(data)
}

func wantCount(t *testing.T, what string, got *atomic.Int64, want int64) {
	t.Helper()
	if n := got.Load(); n != want {
		t.Errorf("%s = %d, want %d", what, n, want)
	}
}

func writeFile(t *testing.T, name, content string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(name, mode); err != nil {
		t.Fatal(err)
	}
}
