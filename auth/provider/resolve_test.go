package provider

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stacq/stacq/auth"
	"github.com/stacq/stacq/internal/testing/authtest"
	"github.com/stacq/stacq/retry"
)

// Resolve picks the preset by name, else from the API URL's host, else
// from the credentials present, and the method from what is configured.
func TestResolvePicksProviderAndMethod(t *testing.T) {
	edsEnv := map[string]string{"EDS_CLIENT_ID": "eds-id", "EDS_SECRET": "eds-secret"}
	shEnv := map[string]string{"SH_CLIENT_ID": "sh-id", "SH_CLIENT_SECRET": "sh-secret"}
	merge := func(ms ...map[string]string) map[string]string {
		out := map[string]string{}
		for _, m := range ms {
			for k, v := range m {
				out[k] = v
			}
		}
		return out
	}
	tests := []struct {
		name     string
		apiURL   string
		s        Settings
		env      map[string]string
		files    map[string]string // in Dir
		provider string
		method   string
		wantURL  string // resolved API URL
		tokenURL string
		sources  []string // "what=from" that must be present
		wantErr  string
	}{
		{name: "public API, nothing configured", apiURL: "https://earth-search.aws.element84.com/v1",
			provider: "generic", method: auth.MethodNone, wantURL: "https://earth-search.aws.element84.com/v1"},
		{name: "public CDSE STAC", apiURL: "https://stac.dataspace.copernicus.eu/v1/",
			provider: "cdse", method: auth.MethodNone},
		{name: "public CDSE STAC ignores SH env", apiURL: "https://stac.dataspace.copernicus.eu/v1/", env: shEnv,
			provider: "cdse", method: auth.MethodNone},
		{name: "EarthDaily by host", apiURL: "https://api.earthdaily.com/platform/v1/stac", env: edsEnv,
			provider: "earthdaily", method: auth.MethodClientCredentials, tokenURL: edsTokenURL,
			sources: []string{"client id=env EDS_CLIENT_ID", "client secret=env EDS_SECRET", "token URL=preset earthdaily"}},
		{name: "EarthDaily by env when no URL", env: edsEnv,
			provider: "earthdaily", method: auth.MethodClientCredentials, wantURL: "https://api.earthdaily.com/platform/v1/stac",
			sources: []string{"provider=credentials present (env EDS_CLIENT_ID)"}},
		{name: "client secret from the prompt", apiURL: "https://stac.example.com/v1",
			s:        Settings{ClientID: "my-client", TokenURL: "https://id.example.com/token", PromptSecret: answer("typed-secret\n", nil)},
			provider: "generic", method: auth.MethodClientCredentials, tokenURL: "https://id.example.com/token",
			sources: []string{"client id=flag", "client secret=prompt"}},
		{name: "prompt not asked when the secret is set", apiURL: "https://api.earthdaily.com/platform/v1/stac", env: edsEnv,
			s:        Settings{PromptSecret: answer("", errors.New("the prompt must not be asked"))},
			provider: "earthdaily", method: auth.MethodClientCredentials, sources: []string{"client secret=env EDS_SECRET"}},
		{name: "prompt answered with nothing", apiURL: "https://stac.example.com/v1",
			s:       Settings{ClientID: "my-client", TokenURL: "https://id.example.com/token", PromptSecret: answer("  ", nil)},
			wantErr: "no client secret"},
		{name: "prompt fails", apiURL: "https://stac.example.com/v1",
			s:       Settings{ClientID: "my-client", TokenURL: "https://id.example.com/token", PromptSecret: answer("", errors.New("not a terminal"))},
			wantErr: "client secret: not a terminal"},
		{name: "EarthDaily from EDS.env", files: map[string]string{"EDS.env": "EDS_CLIENT_ID=file-id\nEDS_SECRET=file-secret\nEDS_AUTH_URL=https://auth.example.com/token\nEDS_API_URL=https://api.example.com\n"},
			provider: "earthdaily", method: auth.MethodClientCredentials, wantURL: "https://api.example.com/platform/v1/stac",
			tokenURL: "https://auth.example.com/token",
			sources:  []string{"client id=file EDS.env (EDS_CLIENT_ID)", "client secret=file EDS.env (EDS_SECRET)", "token URL=file EDS.env (EDS_AUTH_URL)"}},
		{name: "EarthDaily env beats .env", env: edsEnv, files: map[string]string{".env": "EDS_CLIENT_ID=file-id\nEDS_SECRET=file-secret\n"},
			provider: "earthdaily", method: auth.MethodClientCredentials,
			sources: []string{"client id=env EDS_CLIENT_ID"}},
		{name: "EarthDaily without credentials", apiURL: "https://api.earthdaily.com/platform/v1/stac",
			wantErr: "earthdaily: no credentials found; provide a client id and secret in EDS_CLIENT_ID and EDS_SECRET"},
		{name: "EarthDaily creds are not sent to an unknown host", apiURL: "https://stac.example.org/v1", env: edsEnv,
			provider: "generic", method: auth.MethodNone},
		{name: "Sentinel Hub by host", apiURL: "https://services.sentinel-hub.com/api/v1/catalog/1.0.0/", env: shEnv,
			provider: "sentinelhub", method: auth.MethodClientCredentials, tokenURL: sentinelHubTokenURL},
		{name: "CDSE catalog by host, generic env", apiURL: "https://sh.dataspace.copernicus.eu/api/v1/catalog/1.0.0/",
			env:      map[string]string{"STACQ_CLIENT_ID": "sh-cdse", "STACQ_CLIENT_SECRET": "x-secret"},
			provider: "cdse", method: auth.MethodClientCredentials, tokenURL: "https://sh.dataspace.copernicus.eu/oauth/token",
			sources: []string{"client id=env STACQ_CLIENT_ID"}},
		{name: "Planet API key", apiURL: "https://api.planet.com/data/v1", env: map[string]string{"PL_API_KEY": "PLAK123"},
			provider: "planet", method: auth.MethodAPIKey, sources: []string{"API key=env PL_API_KEY"}},
		{name: "Planet forced, Sentinel Hub host uses the M2M client", apiURL: "https://services.sentinel-hub.com/api/v1/catalog/1.0.0/",
			s: Settings{Provider: "planet"}, env: merge(shEnv, map[string]string{"PL_API_KEY": "PLAK123"}),
			provider: "planet", method: auth.MethodClientCredentials, tokenURL: sentinelHubTokenURL},
		{name: "Planet by key when no URL", env: map[string]string{"PL_API_KEY": "PLAK123"},
			provider: "planet", method: auth.MethodAPIKey},
		{name: "hydrosat by host with creds.json", apiURL: "https://fusion-stac.hydrosat.com/", files: map[string]string{"creds.json": `{"client_id":"h-id","client_secret":"h-secret"}`},
			provider: "hydrosat", method: auth.MethodClientCredentials, tokenURL: "https://auth.hydrosat.com/oauth2/token",
			sources: []string{"client id=file creds.json", "auth style=preset hydrosat"}},
		{name: "hydrosat via STACQ_CREDENTIALS_FILE", apiURL: "https://fusion-stac.hydrosat.com/", files: map[string]string{"elsewhere.json": `{"client_id":"h-id","client_secret":"h-secret"}`},
			env:      map[string]string{"STACQ_CREDENTIALS_FILE": "elsewhere.json"},
			provider: "hydrosat", method: auth.MethodClientCredentials,
			sources: []string{"client id=file elsewhere.json (env STACQ_CREDENTIALS_FILE)"}},
		{name: "static token flag beats provider creds", apiURL: "https://api.earthdaily.com/platform/v1/stac", env: edsEnv,
			s: Settings{Token: "abc.def"}, provider: "earthdaily", method: auth.MethodToken, sources: []string{"bearer token=flag"}},
		{name: "STACQ_TOKEN for an unknown host", apiURL: "https://stac.example.org/v1", env: map[string]string{"STACQ_TOKEN": "tok"},
			provider: "generic", method: auth.MethodToken},
		{name: "provider creds beat STACQ_TOKEN", apiURL: "https://api.earthdaily.com/platform/v1/stac", env: merge(edsEnv, map[string]string{"STACQ_TOKEN": "tok"}),
			provider: "earthdaily", method: auth.MethodClientCredentials},
		{name: "generic client credentials", apiURL: "https://stac.example.org/v1",
			env:      map[string]string{"STACQ_CLIENT_ID": "g-id", "STACQ_CLIENT_SECRET": "g-secret", "STACQ_TOKEN_URL": "https://idp.example.org/token", "STACQ_SCOPES": "read:stac, write"},
			provider: "generic", method: auth.MethodClientCredentials, tokenURL: "https://idp.example.org/token",
			sources: []string{"token URL=env STACQ_TOKEN_URL", "scopes=env STACQ_SCOPES", "auth style=preset generic"}},
		{name: "generic without token URL", apiURL: "https://stac.example.org/v1",
			env:     map[string]string{"STACQ_CLIENT_ID": "g-id", "STACQ_CLIENT_SECRET": "g-secret"},
			wantErr: "generic: no token URL"},
		{name: "generic client id without secret", apiURL: "https://stac.example.org/v1",
			s: Settings{ClientID: "g-id", TokenURL: "https://idp.example.org/token"}, wantErr: "generic: no client secret"},
		{name: "TokenURL setting overrides a preset's", apiURL: "https://api.earthdaily.com/platform/v1/stac", env: edsEnv,
			s: Settings{TokenURL: "http://127.0.0.1:9999/oauth2/token"}, provider: "earthdaily", method: auth.MethodClientCredentials,
			tokenURL: "http://127.0.0.1:9999/oauth2/token", sources: []string{"token URL=setting"}},
		{name: "secret file", apiURL: "https://stac.example.org/v1", files: map[string]string{"secret.txt": "s3cret\n"},
			s:        Settings{ClientID: "id", ClientSecretFile: "secret.txt", TokenURL: "https://idp.example.org/token"},
			provider: "generic", method: auth.MethodClientCredentials, sources: []string{"client secret=file secret.txt", "client id=flag"}},
		{name: "forced none", apiURL: "https://api.earthdaily.com/platform/v1/stac", env: edsEnv, s: Settings{Provider: "none"},
			provider: "none", method: auth.MethodNone},
		{name: "provider from STACQ_PROVIDER", apiURL: "http://127.0.0.1:8080/stac", env: merge(edsEnv, map[string]string{"STACQ_PROVIDER": "earthdaily"}),
			provider: "earthdaily", method: auth.MethodClientCredentials, sources: []string{"provider=env STACQ_PROVIDER"}},
		{name: "unknown provider", s: Settings{Provider: "acme"}, wantErr: `unknown provider "acme" (from setting); known: earthdaily, hydrosat, cdse, sentinelhub, planet, generic, none`},
		{name: "bad auth style", apiURL: "https://api.earthdaily.com/platform/v1/stac", env: edsEnv, s: Settings{AuthStyle: "digest"},
			wantErr: `auth style "digest" (from setting): want basic, body or auto`},
		{name: "bad API key style", env: map[string]string{"PL_API_KEY": "k"}, s: Settings{APIKeyStyle: "query"},
			wantErr: `API key style "query"`},
		{name: "insecure token URL", apiURL: "https://stac.example.org/v1",
			s: Settings{ClientID: "id", ClientSecret: "sec", TokenURL: "http://idp.example.org/token"}, wantErr: "refusing to send a client secret over plain http"},
		{name: "EDS_API_URL host claims a local server", apiURL: "http://127.0.0.1:7777/platform/v1/stac",
			env:      merge(edsEnv, map[string]string{"EDS_API_URL": "http://127.0.0.1:7777"}),
			provider: "earthdaily", method: auth.MethodClientCredentials,
			sources: []string{"provider=API URL host (EDS_API_URL)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, content := range tt.files {
				writeFile(t, filepath.Join(dir, name), content, 0o600)
			}
			s := tt.s
			s.Getenv = mapEnv(tt.env)
			s.Dir = dir
			s.CacheDir = t.TempDir()
			r, err := Resolve(tt.apiURL, s)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.Provider != tt.provider || r.Method != tt.method {
				t.Errorf("provider %s method %s, want %s %s", r.Provider, r.Method, tt.provider, tt.method)
			}
			if tt.wantURL != "" && r.APIURL != tt.wantURL {
				t.Errorf("APIURL %q, want %q", r.APIURL, tt.wantURL)
			}
			if tt.tokenURL != "" && r.TokenURL != tt.tokenURL {
				t.Errorf("TokenURL %q, want %q", r.TokenURL, tt.tokenURL)
			}
			var got []string
			for _, src := range r.Sources {
				got = append(got, src.What+"="+src.From)
				if strings.Contains(src.What, "secret") || strings.Contains(src.What, "token") && src.What != "token URL" && src.What != "token cache" || src.What == "API key" {
					if src.Value != "" {
						t.Errorf("source %+v shows a secret value", src)
					}
				}
			}
			for _, want := range tt.sources {
				if !slices.Contains(got, want) {
					t.Errorf("sources %q lack %q", got, want)
				}
			}
			if len(r.Warnings) != 0 {
				t.Errorf("warnings: %q", r.Warnings)
			}
		})
	}
}

// Warnings: a secret from a flag, files readable by others, a plain http
// API, an expired static token.
func TestResolveWarnings(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "creds.json"), `{"client_id":"h","client_secret":"hsecret"}`, 0o644)
	writeFile(t, filepath.Join(dir, "EDS.env"), "EDS_CLIENT_ID=a\nEDS_SECRET=b\n", 0o640)
	expired := authtest.MakeJWT(map[string]any{"exp": 1000})
	tests := []struct {
		name, apiURL string
		s            Settings
		want         string
	}{
		{"secret flag", "https://stac.example.org/v1", Settings{ClientID: "id", ClientSecret: "sec", SecretFromFlag: true, TokenURL: "https://idp.example.org/t"},
			"the client secret was given on the command line"},
		{"token flag", "https://stac.example.org/v1", Settings{Token: "tok", SecretFromFlag: true}, "the token was given on the command line"},
		{"API key flag", "https://api.planet.com/data/v1", Settings{APIKey: "k", SecretFromFlag: true}, "the API key was given on the command line"},
		{"creds.json 0644", "https://x.hydrosat.com/", Settings{}, "creds.json is readable by group or others (mode 0644); run: chmod 600 creds.json"},
		{"EDS.env 0640", "https://api.earthdaily.com/platform/v1/stac", Settings{}, "EDS.env is readable by group or others (mode 0640)"},
		{"plain http API", "http://stac.example.org/v1", Settings{Token: "tok"}, "is plain http: the bearer token travels unencrypted"},
		{"expired token", "https://stac.example.org/v1", Settings{Token: expired}, "expired at 1970-01-01T00:16:40Z"},
		{"no API URL", "", Settings{Provider: "generic", Token: "tok"}, "no API URL: the credentials will not be sent to any API"},
		{"bad creds file", "https://stac.example.org/v1", Settings{CredentialsFile: "EDS.env", TokenURL: "https://idp.example.org/t"}, "credentials file EDS.env: not valid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.s
			s.Dir, s.Getenv, s.CacheDir = dir, mapEnv(nil), t.TempDir()
			r, err := Resolve(tt.apiURL, s)
			var text string
			if err != nil {
				text = err.Error()
			} else {
				text = strings.Join(r.Warnings, "\n")
			}
			if !strings.Contains(text, tt.want) {
				t.Errorf("warnings/error %q lack %q", text, tt.want)
			}
			for _, sec := range []string{"hsecret", "sec\"", "tok\""} {
				if strings.Contains(text, sec) {
					t.Errorf("leaks a secret: %s", text)
				}
			}
		})
	}
}

// Resolve refuses a token URL that would carry the client secret over
// plain http to a remote host before any request (auth's own test covers
// the URL forms).
func TestInsecureTokenURL(t *testing.T) {
	for u, ok := range map[string]bool{"http://127.0.0.1:8080/token": true, "http://idp.example.org/token": false} {
		_, err := Resolve("https://stac.example.org/v1", Settings{TokenURL: u, ClientID: "id", ClientSecret: "secret"})
		if ok != (err == nil) || !ok && !errors.Is(err, auth.ErrInsecureTokenURL) {
			t.Errorf("%s: err = %v", u, err)
		}
	}
}

// Credentials go to the API URL's origin and the preset's https API hosts
// only.
func TestCredentialsOnlyToAPIHost(t *testing.T) {
	for u, want := range map[string]bool{
		"https://api.earthdaily.com/platform/v1/stac/search": true,
		"https://API.EarthDaily.com:443/x":                   true,
		"http://api.earthdaily.com/x":                        false, // preset hosts are https only
		"https://api.earthdaily.com:8443/x":                  false,
		"https://api.earthdaily.com.evil.example/x":          false,
		"https://earthdaily-assets.s3.amazonaws.com/x.tif":   false,
		"http://127.0.0.1:7777/platform/v1/stac/search":      true, // the API URL's own origin
		"http://127.0.0.1:7778/platform/v1/stac/search":      false,
		"https://127.0.0.1:7777/x":                           false,
	} {
		r := resolve(t, "http://127.0.0.1:7777/platform/v1/stac", Settings{Provider: "earthdaily", Token: "t", Getenv: mapEnv(nil)})
		req, _ := http.NewRequest("GET", u, nil)
		if got := sendsTo(r, req.URL); got != want {
			t.Errorf("sendsTo(%s) = %v, want %v", u, got, want)
		}
	}
	// Planet's OAuth2 token is for its Sentinel Hub hosts, not the API key host.
	pr := resolve(t, "https://services.sentinel-hub.com/api/v1/catalog/1.0.0/", Settings{Provider: "planet",
		Getenv: mapEnv(map[string]string{"SH_CLIENT_ID": "id", "SH_CLIENT_SECRET": "secret"})})
	if fmt.Sprint(pr.SendsTo) != "[https://services.sentinel-hub.com:443 services.sentinel-hub.com]" {
		t.Errorf("planet M2M SendsTo %v", pr.SendsTo)
	}
	hr := resolve(t, "https://fusion.hydrosat.com/", Settings{Provider: "hydrosat", Token: "t", Getenv: mapEnv(nil)})
	for u, want := range map[string]bool{"https://other.hydrosat.com/x": true, "https://hydrosat.com/x": true, "https://nothydrosat.com/x": false} {
		req, _ := http.NewRequest("GET", u, nil)
		if got := sendsTo(hr, req.URL); got != want {
			t.Errorf("hydrosat sendsTo(%s) = %v, want %v", u, got, want)
		}
	}
}

// Planet's API key: HTTP Basic with the key as user name and an empty
// password by default, or "Authorization: api-key KEY".
func TestPlanetAPIKey(t *testing.T) {
	for _, style := range []string{"", "basic", "header"} {
		t.Run(style, func(t *testing.T) {
			p := newProvider(t, "both", "/oauth/token")
			p.APIKey = "PLAK0123456789abcdef"
			r := resolve(t, p.APIURL(), Settings{Provider: "planet", APIKeyStyle: style, Getenv: mapEnv(map[string]string{"PL_API_KEY": p.APIKey})})
			if r.Method != auth.MethodAPIKey {
				t.Fatalf("method %s", r.Method)
			}
			get(t, r.Client(), p.APIURL()+"/search")
			wantCount(t, "token requests", &p.TokenReqs, 0)
			wantCount(t, "API requests", &p.APIReqs, 1)
			if _, err := r.Token(t.Context()); err == nil {
				t.Error("Token() for an API key: no error")
			}
		})
	}
	t.Run("wrong key", func(t *testing.T) {
		p := newProvider(t, "both", "/oauth/token")
		p.APIKey = "PLAK0123456789abcdef"
		r := resolve(t, p.APIURL(), Settings{Provider: "planet", Getenv: mapEnv(map[string]string{"PL_API_KEY": "PLAKwrongwrongwrong"})})
		_, err := r.Client().Get(p.APIURL() + "/search")
		var ae *auth.AuthError
		if !errors.As(err, &ae) || ae.Method != auth.MethodAPIKey || !strings.Contains(err.Error(), "check the API key (from env PL_API_KEY)") {
			t.Fatalf("err = %v", err)
		}
		if strings.Contains(err.Error(), "PLAKwrong") {
			t.Errorf("leaks the key: %v", err)
		}
		wantCount(t, "token requests", &p.TokenReqs, 0)
		wantCount(t, "API requests", &p.APIReqs, 1)
	})
}

// EarthDaily end to end from an EDS.env file as the account page hands it
// out, pointed at a local Cognito-like server (Basic only) through
// EDS_AUTH_URL and EDS_API_URL: no API URL given, the default is used.
func TestEarthDailyFromEDSEnv(t *testing.T) {
	p := newProvider(t, "basic", "/oauth2/token")
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "EDS.env"), fmt.Sprintf(
		"# EarthDaily credentials\nEDS_AUTH_URL=%s\nEDS_CLIENT_ID=%s\nEDS_SECRET=\"%s\"\nEDS_API_URL=%s/api/\n",
		p.TokenURL(), testClientID, testSecret, p.Srv.URL), 0o600)
	p.Expired403 = true // as EarthDaily answers an expired or revoked token
	s := Settings{Dir: dir, CacheDir: t.TempDir(), Getenv: mapEnv(nil)}
	r := resolve(t, "", s)
	if r.Provider != "earthdaily" || r.APIURL != p.Srv.URL+"/api/platform/v1/stac" {
		t.Fatalf("provider %s API URL %s", r.Provider, r.APIURL)
	}
	c := r.Client()
	for range 3 {
		get(t, c, r.APIURL+"/search")
	}
	// The token is revoked: the 403 renews it once and the search goes on.
	p.Rotate()
	get(t, c, r.APIURL+"/search")
	wantCount(t, "token requests", &p.TokenReqs, 2)
	wantCount(t, "API requests", &p.APIReqs, 5)
	if fmt.Sprint(p.Styles) != "[basic basic]" {
		t.Errorf("styles %v", p.Styles)
	}
}

// Every preset is complete and uses https.
func TestPresets(t *testing.T) {
	seen := map[string]bool{}
	for _, p := range Presets() {
		if p.Name == "" || p.Description == "" || seen[p.Name] {
			t.Errorf("preset %+v: missing or duplicate name/description", p)
		}
		seen[p.Name] = true
		for _, u := range []string{p.TokenURL, p.DefaultAPIURL} {
			if u != "" && !strings.HasPrefix(u, "https://") {
				t.Errorf("%s: %s is not https", p.Name, u)
			}
		}
		if len(p.APIHosts) == 0 {
			t.Errorf("%s: no API hosts", p.Name)
		}
		if p.DefaultAPIURL != "" {
			if got, ok := ForURL(p.DefaultAPIURL); !ok || got.Name != p.Name {
				t.Errorf("%s: its default API URL picks %q", p.Name, got.Name)
			}
		}
		if got, ok := Lookup(strings.ToUpper(p.Name)); !ok || got.Name != p.Name {
			t.Errorf("Lookup(%s) = %q", p.Name, got.Name)
		}
	}
	ps := Presets()
	ps[0].APIHosts[0] = "changed"
	if Presets()[0].APIHosts[0] == "changed" {
		t.Error("Presets returns shared state")
	}
	if _, ok := ForURL("https://example.com"); ok {
		t.Error("example.com picks a preset")
	}
}

func readBody(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// Printing Settings or a Resolved in any verb shows no secret.
func TestPrintingHidesSecrets(t *testing.T) {
	s := Settings{ClientID: "cid", ClientSecret: "CLIENT-SECRET-VALUE", Token: "TOKEN-VALUE", APIKey: "APIKEY-VALUE",
		TokenURL: "https://idp.example.org/token", Getenv: mapEnv(nil)}
	r := resolve(t, "https://stac.example.org/v1", Settings{ClientID: "cid", ClientSecret: "CLIENT-SECRET-VALUE",
		TokenURL: "https://idp.example.org/token", Getenv: mapEnv(nil)})
	k := resolve(t, "https://api.planet.com/x", Settings{APIKey: "APIKEY-VALUE", Getenv: mapEnv(nil)})
	tk := resolve(t, "https://stac.example.org/v1", Settings{Token: "TOKEN-VALUE", Getenv: mapEnv(nil)})
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		for _, v := range []any{s, &s, r, k, *r, *k, tk, *tk} {
			out := fmt.Sprintf(verb, v)
			for _, sec := range []string{"CLIENT-SECRET-VALUE", "TOKEN-VALUE", "APIKEY-VALUE"} {
				if strings.Contains(out, sec) {
					t.Errorf("%s of %T shows %s: %s", verb, v, sec, out)
				}
			}
		}
	}
	if got := r.String(); got != "provider=generic method=client_credentials api=https://stac.example.org/v1 token_url=https://idp.example.org/token client_id=cid auth_style=auto" {
		t.Errorf("String() = %s", got)
	}
}

// answer is a PromptSecret that gives v and err.
func answer(v string, err error) func(string) (string, error) {
	return func(label string) (string, error) {
		if !strings.Contains(label, "client secret of") {
			return "", fmt.Errorf("label %q does not say what is asked", label)
		}
		return v, err
	}
}

// Settings.Retry is the one setting for retries: the client's transport
// reports the policy under the auth layer (retry.PolicyOf), which is how
// stac and crawl retry whole pages and documents with it too.
func TestRetryPolicyReachesTheClient(t *testing.T) {
	policy := retry.Policy{MaxAttempts: 7}
	env := map[string]string{"EDS_CLIENT_ID": "eds-id", "EDS_SECRET": "eds-secret", "EDS_AUTH_URL": "https://auth.example.com/oauth2/token"}
	const eds = "https://api.earthdaily.com/platform/v1/stac"
	for _, tc := range []struct {
		name string
		url  string
		s    Settings
		want int // MaxAttempts of the policy found; 0: none
	}{
		{"credentials and retries", eds, Settings{Getenv: mapEnv(env), Retry: &policy}, 7},
		{"an open API, retries", "https://stac.example.com/v1", Settings{Retry: &policy}, 7},
		{"credentials, no retries", eds, Settings{Getenv: mapEnv(env)}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Resolve(tc.url, tc.s)
			if err != nil {
				t.Fatal(err)
			}
			p, ok := retry.PolicyOf(r.Client().Transport)
			if ok != (tc.want > 0) || p.MaxAttempts != tc.want {
				t.Errorf("PolicyOf: %+v %v, want MaxAttempts %d", p, ok, tc.want)
			}
		})
	}
}
