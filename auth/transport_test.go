package auth

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// The client secret goes over plain http only to loopback addresses; the
// check is made when the source is built, before any request.
func TestInsecureTokenURL(t *testing.T) {
	for u, ok := range map[string]bool{
		"http://127.0.0.1:8080/token":   true,
		"http://127.1.2.3/token":        true,
		"http://localhost:9000/token":   true,
		"http://[::1]:9000/token":       true,
		"https://idp.example.org/token": true,
		"http://idp.example.org/token":  false,
		"http://10.0.0.1/token":         false,
		"http://127.0.0.1.nip.io/token": false,
		"ftp://idp.example.org/token":   false,
		"/relative/token":               false,
	} {
		_, err := NewClientCredentialsSource(ClientCredentials{TokenURL: u, ClientID: "id", ClientSecret: "secret"})
		if ok != (err == nil) {
			t.Errorf("%s: err = %v", u, err)
		}
		if !ok && strings.HasPrefix(u, "http://") && !errors.Is(err, ErrInsecureTokenURL) {
			t.Errorf("%s: err %v is not ErrInsecureTokenURL", u, err)
		}
	}
}

// Credentials go to the API's own origin only: not to asset hosts, not
// to another port, not across a redirect.
func TestCredentialsOnlyToAPIHost(t *testing.T) {
	var assetAuth atomic.Value
	asset := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		assetAuth.Store(r.Header.Get("Authorization"))
		fmt.Fprint(w, "asset")
	}))
	defer asset.Close()
	var apiAuth atomic.Value
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		apiAuth.Store(r.Header.Get("Authorization"))
		if r.URL.Path == "/redirect" {
			http.Redirect(w, r, asset.URL+"/cog.tif", http.StatusFound)
			return
		}
		fmt.Fprint(w, "api")
	}))
	defer api.Close()

	r := resolve(t, api.URL+"/v1", chainConfig{Token: "T0KEN"})
	c := r.Client(nil)
	get(t, c, api.URL+"/v1/search")
	if got := apiAuth.Load(); got != "Bearer T0KEN" {
		t.Errorf("API got Authorization %q", got)
	}
	get(t, c, asset.URL+"/cog.tif")
	if got := assetAuth.Load(); got != "" {
		t.Errorf("asset host got Authorization %q", got)
	}
	assetAuth.Store("unset")
	get(t, c, api.URL+"/redirect")
	if got := assetAuth.Load(); got != "" {
		t.Errorf("redirect target got Authorization %q", got)
	}

}

// Requests are handed back as the API answered them when the Transport
// has nothing to renew: one that already carries Authorization (passed
// through as is), and a 403 to credentials that cannot be renewed.
func TestRefusalsPassedOn(t *testing.T) {
	for name, tt := range map[string]struct {
		cfg    func(p *provider) chainConfig
		header string
		status int
	}{
		"caller's Authorization": {func(p *provider) chainConfig { return p.settings() }, "Bearer caller-set", 401},
		"static token 403": {func(p *provider) chainConfig {
			p.Expired403 = true
			return chainConfig{Token: "not-a-valid-token"}
		}, "", 403},
	} {
		t.Run(name, func(t *testing.T) {
			p := newProvider(t, "both", "/oauth/token")
			c := resolve(t, p.APIURL(), tt.cfg(p)).Client(nil)
			req, _ := http.NewRequest("GET", p.APIURL()+"/search", nil)
			if tt.header != "" {
				req.Header.Set("Authorization", tt.header)
			}
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.status)
			}
			wantCount(t, "token requests", &p.TokenReqs, 0)
			wantCount(t, "API requests", &p.APIReqs, 1)
		})
	}
}
