package provider

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stacq/stacq/auth"
	"github.com/stacq/stacq/auth/ratelimit"
)

func TestParseNetrc(t *testing.T) {
	n, err := ParseNetrc([]byte(`# NASA Earthdata
machine urs.earthdata.nasa.gov login alice password "p@ss word\"1"
machine stac.example.com
  login bob
  password b0b-secret account ignored
macdef init
  cd /pub
  get file

default login anonymous password guest@example.com
`))
	if err != nil {
		t.Fatal(err)
	}
	for host, want := range map[string]string{
		"urs.earthdata.nasa.gov": `alice p@ss word"1`,
		"STAC.example.com.":      "bob b0b-secret",
		"other.example.org":      "anonymous guest@example.com",
	} {
		e, ok := n.Lookup(host)
		if !ok || e.Login+" "+e.Password != want {
			t.Errorf("Lookup(%s) = %+v, %v; want %s", host, e, ok, want)
		}
	}
	if s := fmt.Sprintf("%v %+v %#v", n.Entries[0], n.Entries[0], n.Entries[0]); strings.Contains(s, "p@ss") {
		t.Errorf("printing an entry shows its password: %s", s)
	}
	for in, wantErr := range map[string]string{
		"login x":                        "line 1: login before any machine or default",
		"machine a\nlogin u\nfrobnicate": "line 3: unknown keyword",
		"machine a login":                "line 1: login without a value",
		"machine a password \"SECRET":    "line 1: unterminated quote",
	} {
		if _, err := ParseNetrc([]byte(in)); err == nil || err.Error() != wantErr {
			t.Errorf("%q: err = %v, want %q", in, err, wantErr)
		}
	}
	if n, err := ParseNetrc(nil); err != nil || len(n.Entries) != 0 {
		t.Errorf("empty: %v, %v", n, err)
	}
}

func FuzzParseNetrc(f *testing.F) {
	f.Add([]byte("machine a.example login u password p\ndefault login x password y\n"))
	f.Add([]byte("machine a login u password \"q\\\"uoted SECRETPW\"\n"))
	f.Add([]byte("macdef m\nline\n\nmachine b login c password d"))
	f.Add([]byte("# only a comment\n"))
	f.Add([]byte("machine \"unterminated SECRETPW"))
	f.Add([]byte("password SECRETPW"))
	f.Fuzz(func(t *testing.T, data []byte) {
		n, err := ParseNetrc(data)
		if err != nil {
			// Errors name the line, never quote the file.
			if !strings.HasPrefix(err.Error(), "line ") || len(err.Error()) > 60 || strings.Contains(err.Error(), "SECRETPW") {
				t.Fatalf("error %q", err)
			}
			return
		}
		if len(n.Entries) > maxNetrcEntries {
			t.Fatalf("%d entries", len(n.Entries))
		}
		for _, e := range n.Entries {
			if got, ok := n.Lookup(e.Machine); e.Machine != "" && e.Password != "" && (!ok || got.Machine != e.Machine) {
				t.Fatalf("Lookup(%q) = %+v, %v", e.Machine, got, ok)
			}
		}
	})
}

// A Basic-protected API (Hydrosat's tutorial sends HTTP Basic to its STAC
// API): the password from the settings, a file, STACQ_PASSWORD, the
// .netrc entry of the host or the prompt; with no --user at all, the
// .netrc entry alone.
func TestBasicAndNetrc(t *testing.T) {
	p := newProvider(t, "both", "/oauth/token")
	p.BasicUser, p.BasicPassword = "alice", "alice-secret-pw"
	host := mustURL(t, p.APIURL()).Hostname()
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "pw.txt"), "alice-secret-pw\n", 0o600)
	netrc := filepath.Join(dir, "netrc")
	writeFile(t, netrc, "machine "+host+" login alice password alice-secret-pw\n", 0o600)
	for _, tt := range []struct {
		name    string
		s       Settings
		env     map[string]string
		sources []string
	}{
		{"password flag", Settings{User: "alice", Password: "alice-secret-pw"}, nil, []string{"user=flag", "password=flag"}},
		{"password file", Settings{User: "alice", PasswordFile: "pw.txt"}, nil, []string{"password=file pw.txt"}},
		{"STACQ_PASSWORD", Settings{User: "alice"}, map[string]string{"STACQ_PASSWORD": "alice-secret-pw"}, []string{"password=env STACQ_PASSWORD"}},
		{"netrc for the user", Settings{User: "alice", Netrc: netrc}, nil, []string{"password=file " + netrc + " (machine " + host + ")"}},
		{"prompt", Settings{User: "alice", PromptSecret: func(label string) (string, error) {
			if !strings.Contains(label, `password of "alice"`) {
				return "", errors.New("label " + label)
			}
			return "alice-secret-pw\n", nil
		}}, nil, []string{"password=prompt"}},
		{"netrc alone", Settings{Netrc: netrc}, nil, []string{"user=file " + netrc + " (machine " + host + ")"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.s
			s.Getenv, s.Dir = mapEnv(tt.env), dir
			r := resolve(t, p.APIURL(), s)
			if r.Method != auth.MethodBasic || r.User != "alice" {
				t.Fatalf("method %s user %q", r.Method, r.User)
			}
			got := sourceList(r)
			for _, want := range tt.sources {
				if !slices.Contains(got, want) {
					t.Errorf("sources %q lack %q", got, want)
				}
			}
			get(t, r.Client(), p.APIURL()+"/search")
		})
	}
	// A wrong password: the refusal names the user, never the password.
	r := resolve(t, p.APIURL(), Settings{User: "alice", Password: "not-her-password"})
	_, err := r.Client().Get(p.APIURL() + "/search")
	var ae *auth.AuthError
	if !errors.As(err, &ae) || ae.Method != auth.MethodBasic || !strings.Contains(err.Error(), `check the user name and password of "alice"`) || strings.Contains(err.Error(), "not-her-password") {
		t.Errorf("err = %v", err)
	}
	if _, err := Resolve(p.APIURL(), Settings{User: "alice"}); err == nil || !strings.Contains(err.Error(), `no password for user "alice"`) {
		t.Errorf("no password: %v", err)
	}
	// The netrc entry is for its host only.
	other := newProvider(t, "both", "/oauth/token")
	if r := resolve(t, strings.Replace(other.APIURL(), "127.0.0.1", "localhost", 1), Settings{Netrc: netrc}); r.Method != auth.MethodNone {
		t.Errorf("another host's entry used: %s", r.Method)
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func sourceList(r *Resolved) []string {
	var out []string
	for _, s := range r.Sources {
		out = append(out, s.What+"="+s.From)
	}
	return out
}

// An API whose landing page describes its auth works with only the
// credentials: client credentials at the advertised token URL with its
// scopes, or an API key in the advertised query parameter.
func TestResolveFromAuthSchemes(t *testing.T) {
	t.Run("client credentials", func(t *testing.T) {
		p := newProvider(t, "body", "/oauth2/token")
		p.Schemes = `{"oidc":{"type":"oauth2","flows":{"clientCredentials":{"tokenUrl":"/oauth2/token","scopes":{"stac:read":"read the catalog"}}}}}`
		p.Refs = []string{"oidc"}
		adv := advertise(t, p.APIURL())
		env := map[string]string{"STACQ_CLIENT_ID": testClientID, "STACQ_CLIENT_SECRET": testSecret}
		r := resolve(t, p.APIURL(), Settings{Getenv: mapEnv(env), Advertised: adv, CacheDir: t.TempDir()})
		if r.Method != auth.MethodClientCredentials || r.TokenURL != p.TokenURL() || fmt.Sprint(r.Scopes) != "[stac:read]" {
			t.Fatalf("method %s token URL %s scopes %v", r.Method, r.TokenURL, r.Scopes)
		}
		if r.Chosen == nil || r.Chosen.Name != "oidc" {
			t.Errorf("chosen %v", r.Chosen)
		}
		got := sourceList(r)
		for _, want := range []string{"scheme=auth:schemes", "token URL=auth:schemes oidc", "scopes=auth:schemes oidc"} {
			if !slices.Contains(got, want) {
				t.Errorf("sources %q lack %q", got, want)
			}
		}
		get(t, r.Client(), p.APIURL()+"/search")
		_, _, forms := p.Snapshot()
		if len(forms) == 0 || forms[len(forms)-1].Get("scope") != "stac:read" {
			t.Errorf("token requests %v", forms)
		}
	})
	t.Run("API key in a query parameter", func(t *testing.T) {
		p := newProvider(t, "both", "/oauth/token")
		p.APIKey, p.APIKeyIn = "K3Y-0123456789", "query:api_key"
		p.Schemes = `{"key":{"type":"apiKey","in":"query","name":"api_key"},"oidc":{"type":"oauth2","flows":{"clientCredentials":{"tokenUrl":"/oauth/token","scopes":{}}}}}`
		adv := advertise(t, p.APIURL())
		r := resolve(t, p.APIURL(), Settings{Getenv: mapEnv(map[string]string{"STACQ_API_KEY": p.APIKey}), Advertised: adv})
		if r.Method != auth.MethodAPIKey || r.APIKeyIn.In != auth.APIKeyQuery || r.APIKeyIn.Name != "api_key" {
			t.Fatalf("method %s key in %+v", r.Method, r.APIKeyIn)
		}
		get(t, r.Client(), p.APIURL()+"/search")
		wantCount(t, "token requests", &p.TokenReqs, 0)
	})
	t.Run("token URL on another site", func(t *testing.T) {
		adv, _ := auth.ParseAdvertised([]byte(`{"auth:schemes":{"o":{"type":"oauth2","flows":{"clientCredentials":{"tokenUrl":"https://collector.example.net/token","scopes":{}}}}}}`), nil)
		env := map[string]string{"STACQ_CLIENT_ID": "cid", "STACQ_CLIENT_SECRET": "my-secret"}
		_, err := Resolve("https://stac.example.org/v1", Settings{Getenv: mapEnv(env), Advertised: adv})
		if err == nil || !strings.Contains(err.Error(), "on another site than the API") {
			t.Errorf("err = %v", err)
		}
		// Given explicitly, the client goes where the API says.
		r, err := Resolve("https://stac.example.org/v1", Settings{ClientID: "cid", ClientSecret: "my-secret", Advertised: adv})
		if err != nil || r.TokenURL != "https://collector.example.net/token" {
			t.Errorf("explicit client: %v, %v", r, err)
		}
		// The same site's token host is fine.
		adv2, _ := auth.ParseAdvertised([]byte(`{"auth:schemes":{"o":{"type":"oauth2","flows":{"clientCredentials":{"tokenUrl":"https://auth.example.org/token","scopes":{}}}}}}`), nil)
		if r, err := Resolve("https://stac.example.org/v1", Settings{Getenv: mapEnv(env), Advertised: adv2}); err != nil || r.TokenURL != "https://auth.example.org/token" {
			t.Errorf("same site: %v, %v", r, err)
		}
	})
	t.Run("nothing at hand", func(t *testing.T) {
		adv, _ := auth.ParseAdvertised([]byte(`{"auth:schemes":{"b":{"type":"http","scheme":"basic"}}}`), nil)
		r := resolve(t, "https://stac.example.org/v1", Settings{Advertised: adv})
		if r.Method != auth.MethodNone || !strings.Contains(r.Hint, "the API advertises b (http): a user name and password") {
			t.Errorf("method %s hint %q", r.Method, r.Hint)
		}
	})
	t.Run("netrc only where the API takes Basic", func(t *testing.T) {
		netrc := filepath.Join(t.TempDir(), "netrc")
		writeFile(t, netrc, "machine stac.example.org login alice password pw-1234\n", 0o600)
		oauth, _ := auth.ParseAdvertised([]byte(`{"auth:schemes":{"o":{"type":"oauth2","flows":{"clientCredentials":{"tokenUrl":"https://stac.example.org/token","scopes":{}}}}}}`), nil)
		if r := resolve(t, "https://stac.example.org/v1", Settings{Advertised: oauth, Netrc: netrc}); r.Method != auth.MethodNone {
			t.Errorf("an API advertising OAuth2 got %s", r.Method)
		}
		basic, _ := auth.ParseAdvertised([]byte(`{"auth:schemes":{"b":{"type":"http","scheme":"basic"}}}`), nil)
		if r := resolve(t, "https://stac.example.org/v1", Settings{Advertised: basic, Netrc: netrc}); r.Method != auth.MethodBasic || r.Chosen == nil {
			t.Errorf("an API advertising Basic got %s, chosen %v", r.Method, r.Chosen)
		}
	})
}

// advertise reads the landing page's auth:schemes as a caller would.
func advertise(t *testing.T, apiURL string) *auth.Advertised {
	t.Helper()
	resp, err := http.Get(apiURL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	adv, err := auth.ParseAdvertised([]byte(readBody(t, resp)), mustURL(t, apiURL))
	if err != nil || len(adv.Schemes) == 0 {
		t.Fatalf("landing page: %v %v", adv, err)
	}
	return adv
}

// The zero Settings reads no environment variable and no file, and
// writes no token cache: a library call has no hidden I/O.
func TestZeroSettingsNoIO(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "EDS.env"), "EDS_CLIENT_ID=file-id\nEDS_SECRET=file-secret\n", 0o600)
	writeFile(t, filepath.Join(dir, "creds.json"), `{"client_id":"h","client_secret":"s"}`, 0o600)
	t.Chdir(dir)
	t.Setenv("EDS_CLIENT_ID", "env-id")
	t.Setenv("EDS_SECRET", "env-secret")
	t.Setenv("STACQ_TOKEN", "env-token")
	t.Setenv("STACQ_PROVIDER", "earthdaily")
	cache := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", cache)
	t.Setenv("STACQ_CACHE_DIR", cache)
	t.Setenv("HOME", dir)
	r, err := Resolve("https://stac.example.org/v1", Settings{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Provider != ProviderGeneric || r.Method != auth.MethodNone || r.CacheFile != "" {
		t.Errorf("provider %s method %s cache %q: read the environment or files", r.Provider, r.Method, r.CacheFile)
	}
	if _, err := Resolve("", Settings{}); err != nil {
		t.Fatal(err)
	}
	// Client credentials with no CacheDir cache nothing.
	p := newProvider(t, "both", "/oauth/token")
	s := p.settings(nil)
	s.CacheDir, s.Dir = "", ""
	get(t, resolve(t, p.APIURL(), s).Client(), p.APIURL()+"/search")
	if entries, _ := os.ReadDir(cache); len(entries) != 0 {
		t.Errorf("the cache dir got %v", entries)
	}
}

// Presets carry their providers' documented rates; Settings.Rate
// overrides them; the Limiter gets them for the API's hosts.
func TestRates(t *testing.T) {
	for _, tt := range []struct {
		url, provider string
		rate, want    float64
		hosts         []string
	}{
		{"https://sh.dataspace.copernicus.eu/api/v1/catalog/1.0.0/", "", 0, 5, []string{"sh.dataspace.copernicus.eu", "stac.dataspace.copernicus.eu"}},
		{"https://stac.dataspace.copernicus.eu/v1/", "", 0, 5, []string{"stac.dataspace.copernicus.eu"}},
		{"https://api.planet.com/data/v1", "", 0, 10, []string{"api.planet.com"}},
		{"https://api.planet.com/data/v1", "", 3, 3, []string{"api.planet.com"}},
		{"https://stac.dataspace.copernicus.eu/v1/", "", -1, 0, nil},
		{"https://earth-search.aws.element84.com/v1", "", 0, 0, nil},
		{"https://earth-search.aws.element84.com/v1", "", 7, 7, []string{"earth-search.aws.element84.com"}},
		{"http://127.0.0.1:7777/catalog/", "cdse", 0, 5, []string{"127.0.0.1:7777"}},
	} {
		var lim ratelimit.Limiter
		env := map[string]string{"PL_API_KEY": "k", "CDSE_CLIENT_ID": "c", "CDSE_CLIENT_SECRET": "s"}
		r := resolve(t, tt.url, Settings{Provider: tt.provider, Rate: tt.rate, Limiter: &lim, Getenv: mapEnv(env)})
		if r.Rate != tt.want {
			t.Errorf("%s rate %v: Rate %v, want %v", tt.url, tt.rate, r.Rate, tt.want)
		}
		for _, h := range tt.hosts {
			if !slices.Contains(r.RateHosts, h) || lim.Rate(h) != tt.want {
				t.Errorf("%s: host %s not limited to %v (hosts %v, limiter %v)", tt.url, h, tt.want, r.RateHosts, lim.Rate(h))
			}
		}
	}
}
