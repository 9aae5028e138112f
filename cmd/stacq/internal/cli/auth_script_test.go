package cli_test

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/stacq/stacq/internal/testing/authtest"
	"github.com/stacq/stacq/internal/testing/stactest"
)

// The auth scripts' servers, next to TestScripts' own:
//
//	$API_BASIC   an API at /platform/v1/stac (EarthDaily's path) whose token
//	             endpoint $TOKEN_URL_BASIC takes HTTP Basic client auth only
//	             (client "cli-test", secret "cli-test-secret"); $BASE_BASIC is
//	             its scheme://host:port, for EDS_API_URL
//	$API_REVOKE  an API like $API_AUTH (token endpoint $TOKEN_URL_REVOKE) that
//	             revokes every token when the 3rd search page is asked for
//	$API_LOGIN   an API whose tokens come from the OpenID provider $OIDC
//	             (a user login: device code, or browser with PKCE)
//
// and, behind the fake providers of internal/testing/authtest (their
// counters: `authserved NAME`):
//
//	$API_EDS     EarthDaily-like: the API at /platform/v1/stac ($BASE_EDS),
//	             tokens from $TOKEN_URL_EDS (HTTP Basic client auth only,
//	             client "cli-test" / "cli-test-secret"); an expired or
//	             revoked token gets 403, not 401
//	$API_BASICAUTH  an API behind HTTP Basic, user "alice", password
//	             "alice-pw-123"; $HOST_BASICAUTH is its host (for .netrc)
//	$API_SCHEMES_CC  an API whose public landing page advertises OAuth2
//	             client credentials at $TOKEN_URL_SCHEMES_CC (scope
//	             stac:read, client "cli-test" / "cli-test-secret")
//	$API_SCHEMES_KEY  an API whose landing page advertises an API key in
//	             the query parameter "api_key"; the key is "key-0123456789"
//	$API_ECHO    an API whose refusals echo the request's Authorization,
//	             with a token endpoint $TOKEN_URL_ECHO that echoes the
//	             client's Basic header in its error bodies
//	$API_RATE    a public API answering 429 (Retry-After: 1) above 20
//	             requests/s
func setupAuthServers(env *testscript.Env) {
	creds := &stactest.Auth{ClientID: "cli-test", ClientSecret: "cli-test-secret"}
	basic := *creds
	basic.Style = "basic"
	body := *creds
	body.Style = "body"
	var revoking atomic.Pointer[stactest.Server] // set once the server runs
	var searches atomic.Int64
	servers := map[string]*stactest.Server{
		"BASIC": stactest.New(stactest.Options{Items: 250, DefaultPage: 50, RootPath: "/platform/v1/stac", Auth: &basic}),
		"REVOKE": stactest.New(stactest.Options{Items: 500, DefaultPage: 100, Auth: &body,
			Intercept: func(w http.ResponseWriter, r *http.Request, n int64) bool {
				// Pages 1 and 2 are served with the first token; the
				// request for page 3 finds it revoked.
				if strings.HasSuffix(r.URL.Path, "/search") && searches.Add(1) == 3 {
					revoking.Load().RevokeTokens()
				}
				return false
			}}),
		"LOGIN": stactest.New(stactest.Options{Items: 300, DefaultPage: 100, Auth: creds}),
	}
	revoking.Store(servers["REVOKE"])
	for name, s := range servers {
		env.Setenv("API_"+name, s.RootURL())
		env.Setenv("TOKEN_URL_"+name, s.TokenURL())
		env.Setenv("BASE_"+name, s.URL)
		env.Values["API_"+name] = s
		env.Defer(s.Close)
	}
	setupProviderServers(env)
	op := newOIDCStub(servers["LOGIN"])
	env.Setenv("OIDC", op.URL)
	env.Values["OIDC"] = op
	env.Defer(op.Close)
	env.Setenv("STACQ_CONFIG_DIR", env.WorkDir+"/config")
}

// cmdServerTokens asserts how many token requests a server's token
// endpoint answered: `servertokens API_NAME N`.
func cmdServerTokens(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: servertokens API_NAME N")
	}
	want, err := strconv.ParseInt(args[1], 10, 64)
	ts.Check(err)
	srv := scriptValue[*stactest.Server](ts, args[0], "server") // script_test.go
	if got := srv.TokenRequests.Load(); (got == want) == neg {
		ts.Fatalf("%s: token requests = %d, want %d", args[0], got, want)
	}
}

// cmdRevokeTokens makes a server refuse every token issued so far:
// `revoketokens API_NAME` (a stactest server) or `revoketokens AUTH_NAME`
// (an authtest provider).
func cmdRevokeTokens(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 || neg {
		ts.Fatalf("usage: revoketokens API_NAME")
	}
	switch srv := ts.Value(args[0]).(type) {
	case *stactest.Server:
		srv.RevokeTokens()
	case *authtest.Provider:
		srv.Rotate()
	default:
		ts.Fatalf("no server %s", args[0])
	}
}

// cmdOIDC asserts the OpenID provider's counters:
// `oidc logins|refreshes|revocations N`.
func cmdOIDC(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: oidc logins|refreshes|revocations N")
	}
	want, err := strconv.ParseInt(args[1], 10, 64)
	ts.Check(err)
	op := ts.Value("OIDC").(*oidcStub)
	counters := map[string]*atomic.Int64{"logins": &op.logins, "refreshes": &op.refreshes, "revocations": &op.revocations}
	c, ok := counters[args[0]]
	if !ok {
		ts.Fatalf("usage: oidc logins|refreshes|revocations N")
	}
	if got := c.Load(); (got == want) == neg {
		ts.Fatalf("oidc %s = %d, want %d", args[0], got, want)
	}
}

// fakeBrowser stands in for xdg-open: it follows the authorization URL's
// redirect to stacq's loopback callback, as a browser whose user is
// already signed in at the provider does.
func fakeBrowser() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: xdg-open URL")
		os.Exit(2)
	}
	resp, err := http.Get(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "xdg-open:", err)
		os.Exit(1)
	}
	resp.Body.Close()
}

// oidcStub is a minimal OpenID provider for stacq's user login: discovery,
// the device authorization grant (approved at once), the authorization
// code grant with PKCE (the authorization endpoint redirects straight
// back, as for a user with a session at the provider), refresh with
// rotation, and revocation. The access tokens it hands out are tokens of
// the API server, fetched with its client credentials, so the API accepts
// them and RevokeTokens there makes them fail.
type oidcStub struct {
	*httptest.Server
	api *stactest.Server

	mu       sync.Mutex
	codes    map[string]pkceGrant // authorization code -> what it was issued for
	devices  map[string]bool      // device codes
	refreshs map[string]bool      // live refresh tokens

	logins, refreshes, revocations atomic.Int64
}

type pkceGrant struct{ challenge, nonce, redirect string }

const stubClientID = "stacq-cli"

func newOIDCStub(api *stactest.Server) *oidcStub {
	op := &oidcStub{api: api, codes: map[string]pkceGrant{}, devices: map[string]bool{}, refreshs: map[string]bool{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", op.discovery)
	mux.HandleFunc("POST /device", op.device)
	mux.HandleFunc("GET /authorize", op.authorize)
	mux.HandleFunc("POST /token", op.token)
	mux.HandleFunc("POST /revoke", op.revoke)
	op.Server = httptest.NewUnstartedServer(mux)
	op.Start() // after op.Server is set: the handlers read op.URL
	return op
}

func (op *oidcStub) discovery(w http.ResponseWriter, r *http.Request) {
	stubJSON(w, http.StatusOK, map[string]any{
		"issuer":                           op.URL,
		"authorization_endpoint":           op.URL + "/authorize",
		"token_endpoint":                   op.URL + "/token",
		"device_authorization_endpoint":    op.URL + "/device",
		"revocation_endpoint":              op.URL + "/revoke",
		"scopes_supported":                 []string{"openid", "profile", "email", "offline_access"},
		"code_challenge_methods_supported": []string{"S256"},
		"grant_types_supported":            []string{"authorization_code", "refresh_token", "urn:ietf:params:oauth:grant-type:device_code"},
	})
}

func (op *oidcStub) device(w http.ResponseWriter, r *http.Request) {
	if r.FormValue("client_id") != stubClientID {
		stubJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client"})
		return
	}
	code := stubRandom()
	op.mu.Lock()
	op.devices[code] = true
	op.mu.Unlock()
	stubJSON(w, http.StatusOK, map[string]any{
		"device_code": code, "user_code": "WDJB-MJHT",
		"verification_uri": op.URL + "/activate", "expires_in": 600, "interval": 1,
	})
}

func (op *oidcStub) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	redirect, err := url.Parse(q.Get("redirect_uri"))
	switch {
	case q.Get("client_id") != stubClientID, q.Get("response_type") != "code",
		q.Get("code_challenge_method") != "S256", q.Get("code_challenge") == "",
		err != nil, redirect.Hostname() != "127.0.0.1":
		http.Error(w, "bad authorization request", http.StatusBadRequest)
		return
	}
	code := stubRandom()
	op.mu.Lock()
	op.codes[code] = pkceGrant{challenge: q.Get("code_challenge"), nonce: q.Get("nonce"), redirect: redirect.String()}
	op.mu.Unlock()
	back := redirect.Query()
	back.Set("code", code)
	back.Set("state", q.Get("state"))
	redirect.RawQuery = back.Encode()
	http.Redirect(w, r, redirect.String(), http.StatusFound)
}

func (op *oidcStub) token(w http.ResponseWriter, r *http.Request) {
	if r.FormValue("client_id") != stubClientID {
		stubJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client"})
		return
	}
	op.mu.Lock()
	defer op.mu.Unlock()
	nonce := ""
	switch r.FormValue("grant_type") {
	case "urn:ietf:params:oauth:grant-type:device_code":
		if !op.devices[r.FormValue("device_code")] {
			stubJSON(w, http.StatusBadRequest, map[string]string{"error": "expired_token"})
			return
		}
		delete(op.devices, r.FormValue("device_code"))
		op.logins.Add(1)
	case "authorization_code":
		g, ok := op.codes[r.FormValue("code")]
		sum := sha256.Sum256([]byte(r.FormValue("code_verifier")))
		if !ok || base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge || r.FormValue("redirect_uri") != g.redirect {
			stubJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant"})
			return
		}
		delete(op.codes, r.FormValue("code"))
		nonce = g.nonce
		op.logins.Add(1)
	case "refresh_token":
		if !op.refreshs[r.FormValue("refresh_token")] {
			stubJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant"})
			return
		}
		delete(op.refreshs, r.FormValue("refresh_token")) // rotation
		op.refreshes.Add(1)
	default:
		stubJSON(w, http.StatusBadRequest, map[string]string{"error": "unsupported_grant_type"})
		return
	}
	access, err := op.apiToken()
	if err != nil {
		stubJSON(w, http.StatusInternalServerError, map[string]string{"error": "server_error", "error_description": err.Error()})
		return
	}
	refresh := stubRandom()
	op.refreshs[refresh] = true
	stubJSON(w, http.StatusOK, map[string]any{
		"access_token": access, "token_type": "Bearer", "expires_in": 3600,
		"refresh_token": refresh, "id_token": op.idToken(nonce),
		"scope": "openid profile email offline_access",
	})
}

func (op *oidcStub) revoke(w http.ResponseWriter, r *http.Request) {
	op.mu.Lock()
	delete(op.refreshs, r.FormValue("token"))
	op.mu.Unlock()
	op.revocations.Add(1)
	w.WriteHeader(http.StatusOK)
}

// apiToken gets an access token of the API with its client credentials.
func (op *oidcStub) apiToken() (string, error) {
	resp, err := http.PostForm(op.api.TokenURL(), url.Values{"grant_type": {"client_credentials"},
		"client_id": {"cli-test"}, "client_secret": {"cli-test-secret"}})
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.AccessToken == "" {
		return "", fmt.Errorf("API token endpoint: HTTP %d", resp.StatusCode)
	}
	return tok.AccessToken, nil
}

// idToken is an unsigned JWT: stacq only reads it to say who is signed in.
func (op *oidcStub) idToken(nonce string) string {
	enc := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	now := time.Now()
	claims := map[string]any{"iss": op.URL, "sub": "user-42", "aud": stubClientID,
		"name": "Alice Doe", "email": "alice@example.com", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
	if nonce != "" {
		claims["nonce"] = nonce
	}
	return enc(map[string]string{"alg": "none", "typ": "JWT"}) + "." + enc(claims) + ".sig"
}

func stubJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func stubRandom() string {
	b := make([]byte, 16)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// setupProviderServers starts the APIs behind authtest providers.
func setupProviderServers(env *testscript.Env) {
	start := func(name string, p *authtest.Provider, opts stactest.Options) {
		var srv atomic.Pointer[stactest.Server]
		opts.Intercept = gate(p, &srv)
		s := stactest.New(opts)
		srv.Store(s)
		env.Setenv("API_"+name, s.RootURL())
		env.Setenv("TOKEN_URL_"+name, p.TokenURL())
		env.Setenv("BASE_"+name, s.URL)
		env.Setenv("HOST_"+name, strings.TrimPrefix(strings.Split(s.URL, ":")[1], "//"))
		env.Values["AUTH_"+name] = p
		env.Values["API_"+name] = s
		env.Defer(s.Close)
		env.Defer(p.Close)
	}
	provider := func(style, tokenPath string) *authtest.Provider {
		p := authtest.New(style, tokenPath)
		p.ClientID, p.Secret = "cli-test", "cli-test-secret"
		return p
	}

	eds := provider("basic", "/account_management/v1/authentication/api_tokens/exchange")
	eds.Expired403 = true
	start("EDS", eds, stactest.Options{Items: 250, DefaultPage: 50, RootPath: "/platform/v1/stac"})

	basic := provider("both", "/oauth/token")
	basic.BasicUser, basic.BasicPassword = "alice", "alice-pw-123"
	start("BASICAUTH", basic, stactest.Options{Items: 120, DefaultPage: 40})

	cc := provider("both", "/oauth2/token")
	cc.Schemes = `{"oidc":{"type":"oauth2","description":"machine clients","flows":{"clientCredentials":{"tokenUrl":"` +
		cc.TokenURL() + `","scopes":{"stac:read":"read the catalog"}}}}}`
	cc.Refs = []string{"oidc"}
	start("SCHEMES_CC", cc, stactest.Options{Items: 150, DefaultPage: 50})

	key := provider("both", "/oauth/token")
	key.APIKey, key.APIKeyIn = "key-0123456789", "query:api_key"
	key.Schemes = `{"key":{"type":"apiKey","in":"query","name":"api_key"}}`
	start("SCHEMES_KEY", key, stactest.Options{Items: 150, DefaultPage: 50})

	echo := provider("basic", "/oauth/token")
	echo.Echo = true
	echo.Expired403 = true // a bearer token it does not know gets 403
	echo.TokenFault = func(w http.ResponseWriter, r *http.Request, n int64) bool {
		// --scope fail500: a 500 whose body quotes the request.
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		if !strings.Contains(string(body), "fail500") {
			return false
		}
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprintf(w, "<html>Internal Server Error. Request: Authorization: %s\n%s</html>", r.Header.Get("Authorization"), body)
		return true
	}
	start("ECHO", echo, stactest.Options{Items: 50})

	rate := provider("both", "/oauth/token")
	rate.RatePerSecond = 20
	start("RATE", rate, stactest.Options{Items: 400, DefaultPage: 10})
}

// innerHeader marks a request gate passes on to the stactest API itself.
const innerHeader = "X-Authtest-Inner"

// gate puts p's authentication in front of a public stactest API: a rate
// limit when p has one; the landing page public, with p's auth:schemes
// added, when p advertises; every other request checked by p.Check.
func gate(p *authtest.Provider, srv *atomic.Pointer[stactest.Server]) func(http.ResponseWriter, *http.Request, int64) bool {
	var mu sync.Mutex
	var recent []time.Time
	return func(w http.ResponseWriter, r *http.Request, n int64) bool {
		s := srv.Load()
		if r.Header.Get(innerHeader) != "" || s == nil {
			return false
		}
		if p.RatePerSecond > 0 {
			now := time.Now()
			mu.Lock()
			keep := recent[:0]
			for _, t := range recent {
				if now.Sub(t) < time.Second {
					keep = append(keep, t)
				}
			}
			recent = keep
			over := len(recent) >= p.RatePerSecond
			if !over {
				recent = append(recent, now)
			}
			mu.Unlock()
			if over {
				p.TooMany.Add(1)
				w.Header().Set("Retry-After", "1")
				http.Error(w, `{"code":"TooManyRequests"}`, http.StatusTooManyRequests)
				return true
			}
			return false
		}
		root := strings.TrimPrefix(s.RootURL(), s.URL)
		if p.Schemes != "" && strings.TrimSuffix(r.URL.Path, "/") == root {
			landing(w, r, s, p)
			return true
		}
		if status := p.Check(r); status != 0 {
			p.Refuse(w, r, status)
			return true
		}
		return false
	}
}

// landing serves s's landing page with p's auth:schemes, and auth:refs on
// its search links.
func landing(w http.ResponseWriter, r *http.Request, s *stactest.Server, p *authtest.Provider) {
	in := r.Clone(r.Context())
	in.Header.Set(innerHeader, "1")
	rec := httptest.NewRecorder()
	s.Config.Handler.ServeHTTP(rec, in)
	var doc map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	doc["auth:schemes"] = json.RawMessage(p.Schemes)
	doc["stac_extensions"] = []string{"https://stac-extensions.github.io/authentication/v1.1.0/schema.json"}
	if links, ok := doc["links"].([]any); ok && len(p.Refs) > 0 {
		for _, l := range links {
			if m, ok := l.(map[string]any); ok && m["rel"] == "search" {
				m["auth:refs"] = p.Refs
			}
		}
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(doc)
}

// cmdAuthServed prints the counters of the authtest provider in front of
// API_NAME: `authserved NAME` prints "tokens N", "refused N" (API requests
// the provider checked and refused are not counted apart: "checked N"),
// and "429 N".
func cmdAuthServed(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 || neg {
		ts.Fatalf("usage: authserved NAME")
	}
	p, ok := ts.Value("AUTH_" + args[0]).(*authtest.Provider)
	if !ok {
		ts.Fatalf("no provider %s", args[0])
	}
	fmt.Fprintf(ts.Stdout(), "tokens %d\nchecked %d\n429 %d\n", p.TokenReqs.Load(), p.APIReqs.Load(), p.TooMany.Load())
}
