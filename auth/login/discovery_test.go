package login

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

func TestDiscoverOP(t *testing.T) {
	tp := startOP(t, opOptions{})
	m, err := Discover(t.Context(), nil, tp.Issuer+"/")
	if err != nil {
		t.Fatal(err)
	}
	want := Metadata{
		Issuer:                      tp.Issuer,
		AuthorizationEndpoint:       tp.Issuer + "/authorize",
		TokenEndpoint:               tp.Issuer + "/oauth/token",
		DeviceAuthorizationEndpoint: tp.Issuer + "/device_authorization",
		UserinfoEndpoint:            tp.Issuer + "/userinfo",
		RevocationEndpoint:          tp.Issuer + "/revoke",
	}
	if m.Issuer != want.Issuer || m.AuthorizationEndpoint != want.AuthorizationEndpoint ||
		m.TokenEndpoint != want.TokenEndpoint || m.DeviceAuthorizationEndpoint != want.DeviceAuthorizationEndpoint ||
		m.UserinfoEndpoint != want.UserinfoEndpoint || m.RevocationEndpoint != want.RevocationEndpoint {
		t.Errorf("endpoints:\n got %+v\nwant %+v", m, want)
	}
	if !slices.Contains(m.ScopesSupported, "offline_access") || !slices.Contains(m.CodeChallengeMethodsSupported, "S256") {
		t.Errorf("scopes %v, PKCE methods %v", m.ScopesSupported, m.CodeChallengeMethodsSupported)
	}
}

func TestDiscoverRefuses(t *testing.T) {
	doc := func(issuer string, edit func(map[string]any)) func(string) (int, string) {
		return func(self string) (int, string) {
			if issuer == "" {
				issuer = self
			}
			m := map[string]any{"issuer": issuer, "token_endpoint": self + "/token", "authorization_endpoint": self + "/auth"}
			if edit != nil {
				edit(m)
			}
			b, _ := json.Marshal(m)
			return 200, string(b)
		}
	}
	for _, tc := range []struct {
		name   string
		answer func(self string) (int, string)
		want   string
	}{
		{"other issuer", doc("https://evil.example.com", nil), `names issuer "https://evil.example.com"`},
		{"not found", func(string) (int, string) { return 404, "not here" }, "HTTP 404 (is"},
		{"not JSON", func(string) (int, string) { return 200, "<html>" }, "invalid character"},
		{"no token endpoint", doc("", func(m map[string]any) { delete(m, "token_endpoint") }), "no token_endpoint"},
		{"clear-text endpoint", doc("", func(m map[string]any) { m["token_endpoint"] = "http://tokens.example.com/t" }),
			"token_endpoint http://tokens.example.com/t must use https"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var self string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/.well-known/openid-configuration" {
					t.Errorf("requested %s", r.URL.Path)
				}
				code, body := tc.answer(self)
				w.WriteHeader(code)
				w.Write([]byte(body))
			}))
			defer srv.Close()
			self = srv.URL
			_, err := Discover(t.Context(), srv.Client(), srv.URL)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestDiscoverNeedsHTTPS(t *testing.T) {
	for _, issuer := range []string{"http://login.example.com", "ftp://x", "login.example.com", "https://user:pw@"} {
		_, err := Discover(t.Context(), nil, issuer)
		if err == nil {
			t.Errorf("Discover(%q) accepted the issuer", issuer)
		} else if strings.Contains(err.Error(), "pw") {
			t.Errorf("error leaks the password: %v", err)
		}
	}
}

func TestScopes(t *testing.T) {
	oidcAll := []string{"openid", "profile", "email", "offline_access"}
	for _, tc := range []struct {
		name      string
		requested []string
		supported []string
		want      []string
	}{
		{"defaults", nil, oidcAll, []string{"openid", "profile", "email", "offline_access"}},
		{"defaults, unknown support", nil, nil, []string{"openid", "profile", "email"}},
		{"defaults, no email", nil, []string{"openid", "profile"}, []string{"openid", "profile"}},
		{"explicit", []string{"openid", "planet"}, oidcAll, []string{"openid", "planet", "offline_access"}},
		{"explicit, has offline", []string{"offline_access", "planet"}, oidcAll, []string{"offline_access", "planet"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := Config{Scopes: tc.requested}
			got := c.scopes(&Metadata{ScopesSupported: tc.supported})
			if !slices.Equal(got, tc.want) {
				t.Errorf("scopes = %v, want %v", got, tc.want)
			}
		})
	}
}
