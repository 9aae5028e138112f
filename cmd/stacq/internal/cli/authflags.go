package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"

	"github.com/stacq/stacq/auth"
	"github.com/stacq/stacq/auth/login"
	"github.com/stacq/stacq/auth/provider"
	"github.com/stacq/stacq/auth/ratelimit"
	"github.com/stacq/stacq/internal/redact"
)

// authFlags are the authentication flags shared by every command that talks
// to an API. They become a provider.Settings, pointed at the environment,
// the working directory, the user's .netrc and token cache; provider.Resolve
// reads them.
type authFlags struct {
	provider         string
	token            string
	apiKey           string
	apiKeyStyle      string
	tokenURL         string
	clientID         string
	clientSecret     string
	clientSecretFile string
	credentialsFile  string
	scopes           []string
	authStyle        string
	noTokenCache     bool
	user             string
	passwordFile     string
	rate             float64
	fs               *pflag.FlagSet // to tell an explicit --rate 0 from none
	limiter          *ratelimit.Limiter
}

func addAuthFlags(fs *pflag.FlagSet) *authFlags {
	a := &authFlags{}
	fs.StringVar(&a.provider, "provider", "", "provider preset (see 'stacq auth providers'), generic, none, or a login session name (default: from the URL's host, else the credentials present)")
	fs.StringVar(&a.token, "token", "", "static bearer token (prefer env STACQ_TOKEN: flags show in the process list)")
	fs.StringVar(&a.apiKey, "api-key", "", "API key (prefer the provider's env, e.g. PL_API_KEY, or STACQ_API_KEY)")
	fs.StringVar(&a.apiKeyStyle, "api-key-style", "", `how the API key is sent: "basic" (user name, default) or "header" (Authorization: api-key KEY)`)
	fs.StringVar(&a.tokenURL, "token-url", "", "OAuth2 token endpoint (default: the provider's; env STACQ_TOKEN_URL)")
	fs.StringVar(&a.clientID, "client-id", "", "OAuth2 client id (env STACQ_CLIENT_ID or the provider's)")
	fs.StringVar(&a.clientSecret, "client-secret", "", "OAuth2 client secret (prefer --client-secret-file or env STACQ_CLIENT_SECRET)")
	fs.StringVar(&a.clientSecretFile, "client-secret-file", "", "file holding the OAuth2 client secret")
	fs.StringVar(&a.credentialsFile, "credentials-file", "", `JSON file {"client_id": ..., "client_secret": ...} (env STACQ_CREDENTIALS_FILE)`)
	fs.StringArrayVar(&a.scopes, "scope", nil, "OAuth2 scope to request (repeatable; env STACQ_SCOPES)")
	fs.StringVar(&a.authStyle, "auth-style", "", `client authentication at the token endpoint: "basic", "body" or "auto" (default: the provider's)`)
	fs.BoolVar(&a.noTokenCache, "no-token-cache", false, "do not keep tokens on disk between runs")
	fs.StringVar(&a.user, "user", "", "HTTP Basic user name; the password comes from --password-file, env STACQ_PASSWORD, the .netrc entry of the host, or a prompt")
	fs.StringVar(&a.passwordFile, "password-file", "", "file holding the HTTP Basic password of --user")
	fs.Float64Var(&a.rate, "rate", 0, "at most N requests per second to each of the API's hosts, shared by all the command's requests (default: the provider's: cdse 5, planet 10; 0 removes the limit)")
	a.fs = fs
	return a
}

// limits is the rate limiter every request of the command waits on.
func (a *authFlags) limits() *ratelimit.Limiter {
	if a.limiter == nil {
		a.limiter = &ratelimit.Limiter{}
	}
	return a.limiter
}

// rateSetting is --rate as provider.Settings.Rate takes it.
func (a *authFlags) rateSetting() float64 {
	switch {
	case a.fs == nil || !a.fs.Changed("rate"):
		return 0
	case a.rate <= 0:
		return -1
	}
	return a.rate
}

// settings turns the flags into provider settings. hc makes token
// requests (the -v trace sees them); verbose sends auth's run-time notes to
// stderr.
func (a *authFlags) settings(io IO, hc *http.Client, verbose bool) provider.Settings {
	dir := io.Dir
	if dir == "" {
		dir = "."
	}
	s := provider.Settings{
		Provider:          a.provider,
		TokenURL:          a.tokenURL,
		ClientID:          a.clientID,
		ClientSecret:      a.clientSecret,
		ClientSecretFile:  a.clientSecretFile,
		CredentialsFile:   a.credentialsFile,
		SecretFromFlag:    a.clientSecret != "" || a.token != "" || a.apiKey != "",
		User:              a.user,
		PasswordFile:      a.passwordFile,
		Scopes:            a.scopes,
		AuthStyle:         a.authStyle,
		Token:             a.token,
		APIKey:            a.apiKey,
		APIKeyStyle:       a.apiKeyStyle,
		Getenv:            io.getenv,
		Dir:               dir,
		Netrc:             provider.DefaultNetrc(io.getenv),
		HTTPClient:        hc,
		Limiter:           a.limits(),
		Rate:              a.rateSetting(),
		Redactor:          io.secrets,
		NoCredentialsHelp: "see 'stacq auth providers', or give --token-url with --client-id, --token, --api-key or --user",
	}
	if !a.noTokenCache {
		if d, from, err := provider.DefaultCacheDir(io.getenv); err == nil {
			s.CacheDir, s.CacheDirFrom = d, from
		}
	}
	if verbose {
		w := io.Stderr
		s.Logf = func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	}
	return s
}

// transport returns the round tripper that authenticates requests to
// apiURL; base is the client for token requests and the API.
func (a *authFlags) transport(ctx context.Context, io IO, apiURL string, base *http.Client) (http.RoundTripper, error) {
	if !isHTTPURL(apiURL) {
		// A static catalog on disk: nothing to authenticate. Its links to
		// http(s) documents are public ones.
		return base.Transport, nil
	}
	_, verbose := base.Transport.(*traceTransport)
	r, err := a.resolve(ctx, io, apiURL, base, verbose)
	if err != nil {
		return nil, err
	}
	return r.Transport(base.Transport), nil
}

// resolve runs provider.Resolve and prints its warnings. When no preset
// claims the API and no method is forced by a flag, the API's landing page
// is read first for its auth:schemes (one GET with base, no credentials).
// When the provider has no credentials but the user signed in to it
// (stacq auth login), or --provider names the session of a login to an
// issuer, the session's tokens are used. ctx bounds the session's token
// renewals.
func (a *authFlags) resolve(ctx context.Context, io IO, apiURL string, base *http.Client, verbose bool) (*provider.Resolved, error) {
	s := a.settings(io, base, verbose)
	if io.ReadSecret != nil {
		s.PromptSecret = func(label string) (string, error) {
			return io.ReadSecret(ctx, "stacq: "+label+": ")
		}
	}
	name, onlySession := a.sessionName(io, apiURL)
	var r *provider.Resolved
	var err error
	if !onlySession && a.discovers(io, apiURL, s) {
		s.Advertised = advertised(ctx, io, base, apiURL, verbose)
	}
	if onlySession {
		// No preset: the session's tokens go to the API URL only.
		s.Provider = provider.ProviderGeneric
		if s.TokenSource, err = a.loginSource(ctx, io, name, base); err != nil {
			return nil, err
		}
		r, err = provider.Resolve(apiURL, s)
	} else if r, err = provider.Resolve(apiURL, s); err != nil && name != "" {
		// The preset found no credentials of its own: try the session.
		ts, lerr := a.loginSource(ctx, io, name, base)
		switch {
		case lerr == nil:
			s.TokenSource = ts
			r, err = provider.Resolve(apiURL, s)
		case errors.Is(lerr, login.ErrNotLoggedIn):
			err = fmt.Errorf("%w, or sign in: stacq auth login --provider %s", err, name)
		}
	}
	if err != nil {
		return nil, err
	}
	for _, w := range r.Warnings {
		fmt.Fprintf(io.Stderr, "stacq: warning: %s\n", w)
	}
	return r, nil
}

// sessionName is the login session the command may use: the one of the
// provider named by --provider (or STACQ_PROVIDER), else of the API
// host's preset. onlySession says the name is a session of a login to an
// issuer that is no preset. name is "" when no login applies.
func (a *authFlags) sessionName(io IO, apiURL string) (name string, onlySession bool) {
	name = a.provider
	if name == "" {
		name = io.getenv("STACQ_PROVIDER")
	}
	if name == "" {
		if p, ok := provider.ForURL(apiURL); ok {
			name = p.Name
		}
	}
	if _, ok := login.LookupProvider(name); ok {
		return strings.ToLower(name), false
	}
	if isKnownProvider(name) {
		return "", false // generic, none, or a preset without user login
	}
	// Any other name may be a session of `stacq auth login --issuer`;
	// Resolve reports the unknown provider when there is none.
	if store, err := sessionStore(io); err == nil {
		if _, err := store.Load(login.SessionName(name)); err == nil {
			return login.SessionName(name), true
		}
	}
	return "", false
}

// loginSource opens the stored session name.
func (a *authFlags) loginSource(ctx context.Context, io IO, name string, base *http.Client) (*login.TokenSource, error) {
	if name == "" {
		return nil, login.ErrNotLoggedIn
	}
	store, err := sessionStore(io)
	if err != nil {
		return nil, err
	}
	return login.NewTokenSource(ctx, store, name, base)
}

// withDefaultURL puts the provider's default API URL in front of args
// when the command got n arguments, i.e. no URL (an EarthDaily search with
// only EDS_* in the environment). Without a default, args are returned as
// they are and the command's argument check reports the missing URL.
func (cf *clientFlags) withDefaultURL(io IO, args []string, n int) []string {
	if len(args) != n || (n > 0 && isHTTPURL(args[0])) {
		return args
	}
	r, err := provider.Resolve("", cf.auth.settings(io, nil, false))
	if err != nil || r.APIURL == "" {
		return args
	}
	return append([]string{r.APIURL}, args...)
}

// sessionStore is where login sessions live: $STACQ_CONFIG_DIR/sessions,
// else the user's configuration directory.
func sessionStore(io IO) (login.Store, error) {
	if dir := io.getenv("STACQ_CONFIG_DIR"); dir != "" {
		return login.Store{Dir: filepath.Join(dir, "sessions")}, nil
	}
	return login.DefaultStore()
}

// isKnownProvider reports whether provider.Resolve knows name; "" picks
// one.
func isKnownProvider(name string) bool {
	if name == "" || strings.EqualFold(name, provider.ProviderNone) {
		return true
	}
	_, ok := provider.Lookup(name)
	return ok
}

// discovers says whether the API's landing page is read for its
// auth:schemes: when no preset claims apiURL and no flag or variable
// forces the method or the token endpoint.
func (a *authFlags) discovers(io IO, apiURL string, s provider.Settings) bool {
	if a.provider != "" || a.token != "" || a.apiKey != "" || a.user != "" || a.tokenURL != "" || io.getenv("STACQ_TOKEN_URL") != "" {
		return false
	}
	p, _, err := provider.Pick(apiURL, s)
	return err == nil && p.Name == provider.ProviderGeneric
}

// maxLanding bounds the landing page read for its auth:schemes.
const maxLanding = 8 << 20

// advertised reads the auth:schemes of the landing page at apiURL with
// base (no credentials); nil when it cannot be read.
func advertised(ctx context.Context, o IO, base *http.Client, apiURL string, verbose bool) *auth.Advertised {
	u, err := url.Parse(apiURL)
	if err != nil {
		return nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, apiURL, nil)
	if err != nil {
		return nil
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "stacq/"+Version())
	resp, err := base.Do(req)
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return nil
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxLanding))
	if err != nil {
		return nil
	}
	adv, err := auth.ParseAdvertised(data, u)
	if err != nil || len(adv.Schemes) == 0 {
		return nil
	}
	if verbose {
		for _, p := range adv.Problems {
			fmt.Fprintf(o.Stderr, "auth: %s: %s\n", redact.URL(apiURL), p)
		}
	}
	return adv
}

func isHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}
