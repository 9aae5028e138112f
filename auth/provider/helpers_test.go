package provider

import (
	"net/url"
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

// provider is the fake provider of a test.
type provider struct {
	*authtest.Provider
	t *testing.T
}

func newProvider(t *testing.T, style, tokenPath string) *provider {
	return &provider{authtest.NewT(t, style, tokenPath), t}
}

// settings returns generic settings for p with a private cache dir; env
// is the whole environment.
func (p *provider) settings(env map[string]string) Settings {
	return Settings{
		TokenURL: p.TokenURL(), ClientID: p.ClientID, ClientSecret: p.Secret,
		CacheDir: p.t.TempDir(), Getenv: mapEnv(env), Dir: p.t.TempDir(),
	}
}

func mapEnv(env map[string]string) func(string) string {
	return func(k string) string { return env[k] }
}

// Short names for the shared test helpers.
var (
	get       = authtest.Get
	wantCount = authtest.WantCount
	writeFile = authtest.WriteFile
)
