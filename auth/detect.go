package auth

// detect.go: how Resolve finds the provider, the method and each piece of
// configuration in settings, environment variables and files.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/stacq/stacq/internal/redact"
)

// lookup reads settings, environment and files for Resolve, recording
// sources and warnings.
type lookup struct {
	s        *Settings
	getenv   func(string) string
	dir      string
	now      func() time.Time
	wait     func(context.Context, time.Duration) error
	logf     func(string, ...any)
	dotenv   map[string]string // merged preset .env files
	dotFrom  map[string]string // key → file it came from
	warnings []string
	warned   map[string]bool
}

func newLookup(s *Settings) *lookup {
	l := &lookup{s: s, getenv: s.Getenv, dir: s.Dir, now: s.now, wait: s.wait, logf: s.Logf, warned: map[string]bool{}}
	if l.getenv == nil {
		l.getenv = os.Getenv
	}
	if l.dir == "" {
		l.dir = "."
	}
	if l.now == nil {
		l.now = time.Now
	}
	if l.wait == nil {
		l.wait = sleep
	}
	if l.logf == nil {
		l.logf = func(string, ...any) {}
	}
	return l
}

func (l *lookup) warn(format string, args ...any) {
	w := fmt.Sprintf(format, args...)
	if !l.warned[w] {
		l.warned[w] = true
		l.warnings = append(l.warnings, w)
	}
}

// env reads an environment variable, then the preset's .env files.
func (l *lookup) env(name string) (val, from string) {
	if name == "" {
		return "", ""
	}
	if v := strings.TrimSpace(l.getenv(name)); v != "" {
		return v, "env " + name
	}
	if v := l.dotenv[name]; v != "" {
		return v, "file " + l.dotFrom[name] + " (" + name + ")"
	}
	return "", ""
}

func (l *lookup) path(name string) string {
	if filepath.IsAbs(name) {
		return name
	}
	return filepath.Join(l.dir, name)
}

// readSecretFile reads a small file that holds secrets, warning when other
// users can read it.
func (l *lookup) readSecretFile(name string) ([]byte, error) {
	p := l.path(name)
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
		l.warn("%s is readable by group or others (mode %04o); run: chmod 600 %s", name, fi.Mode().Perm(), name)
	}
	data, err := io.ReadAll(io.LimitReader(f, 1<<20+1))
	if err != nil {
		return nil, err
	}
	if len(data) > 1<<20 {
		return nil, fmt.Errorf("%s: larger than 1 MiB", name)
	}
	return data, nil
}

// loadDotEnv reads the preset's KEY=VALUE files; the first file to define
// a key wins. A file that does not parse is skipped with a warning.
func (l *lookup) loadDotEnv(p Preset) {
	l.dotenv, l.dotFrom = map[string]string{}, map[string]string{}
	for _, name := range p.DotEnvFiles {
		if _, err := os.Stat(l.path(name)); err != nil {
			continue
		}
		data, err := l.readSecretFile(name)
		if err != nil {
			l.warn("%s: %v; ignored", name, err)
			continue
		}
		env, err := ParseDotEnv(data)
		if err != nil {
			l.warn("%s: %v; ignored", name, err)
			continue
		}
		for k, v := range env {
			if _, ok := l.dotenv[k]; !ok && v != "" {
				l.dotenv[k], l.dotFrom[k] = v, name
			}
		}
	}
}

// pickPreset: by name, else by the API URL's host, else by the credentials
// present.
func (l *lookup) pickPreset(apiURL string) (Preset, string, error) {
	name, how := l.s.Provider, "setting"
	if name == "" {
		name, how = l.getenv("STACQ_PROVIDER"), "env STACQ_PROVIDER"
	}
	if name != "" {
		if strings.EqualFold(name, ProviderNone) {
			return Preset{Name: ProviderNone}, how, nil
		}
		p, ok := LookupPreset(name)
		if !ok {
			names := []string{}
			for _, p := range Presets() {
				names = append(names, p.Name)
			}
			return Preset{}, "", fmt.Errorf("unknown provider %q (from %s); known: %s, %s, %s",
				name, how, strings.Join(names, ", "), ProviderGeneric, ProviderNone)
		}
		return p, how, nil
	}
	if apiURL != "" {
		if p, ok := PresetForURL(apiURL); ok {
			return p, "API URL host", nil
		}
		// A preset whose API URL was overridden (EDS_API_URL pointing at a
		// test server) claims that host too.
		if u, err := url.Parse(apiURL); err == nil && u.Host != "" {
			for _, p := range Presets() {
				l.loadDotEnv(p)
				if b, _ := l.env(p.Env.APIURL); b != "" {
					if bu, err := url.Parse(b); err == nil && strings.EqualFold(bu.Host, u.Host) {
						return p, "API URL host (" + p.Env.APIURL + ")", nil
					}
				}
			}
		}
		return genericPreset(), "API URL host not a known provider", nil
	}
	for _, p := range Presets() {
		if from := l.presetCredentials(p); from != "" {
			return p, "credentials present (" + from + ")", nil
		}
	}
	return genericPreset(), "no API URL and no provider credentials", nil
}

// presetCredentials tells where p's credentials are, if anywhere.
func (l *lookup) presetCredentials(p Preset) string {
	l.loadDotEnv(p)
	if _, from := l.env(p.Env.ClientID); from != "" {
		return from
	}
	if _, from := l.env(p.Env.APIKey); from != "" {
		return from
	}
	for _, name := range p.CredentialsFiles {
		if _, err := os.Stat(l.path(name)); err == nil {
			return "file " + name
		}
	}
	return ""
}

func (l *lookup) defaultAPIURL(p Preset) string {
	if base, _ := l.env(p.Env.APIURL); base != "" {
		base = strings.TrimRight(base, "/")
		if p.APIPath != "" && !strings.HasSuffix(base, strings.TrimRight(p.APIPath, "/")) {
			base += p.APIPath
		}
		return base
	}
	return p.DefaultAPIURL
}

// chooseMethod picks the method, in this order: what the settings (flags)
// say, then the preset's own credentials, then the generic STACQ_*
// environment; a public host, or a generic provider without credentials,
// needs none.
func (l *lookup) chooseMethod(r *Resolved, p Preset) error {
	s := l.s
	host := ""
	if u, err := url.Parse(r.APIURL); err == nil {
		host = u.Hostname()
	}
	// Planet's key is for api.planet.com; its Sentinel Hub hosts take the
	// M2M client. Any other host (a test server) was chosen by the user.
	apiKeyApplies := len(p.APIKeyHosts) == 0 || host == "" || hostIn(host, p.APIKeyHosts) || !hostIn(host, p.APIHosts)
	explicitClient := s.ClientID != "" || s.ClientSecret != "" || s.ClientSecretFile != "" || s.CredentialsFile != ""

	switch {
	case s.Token != "":
		return l.useToken(r, p, s.Token, "flag")
	case s.TokenSource != nil:
		return l.useLogin(r, p)
	case s.APIKey != "":
		return l.useAPIKey(r, p, s.APIKey, "flag")
	case explicitClient:
		return l.useClientCredentials(r, p)
	}
	if v, from := l.env(p.Env.APIKey); v != "" && apiKeyApplies {
		return l.useAPIKey(r, p, v, from)
	}
	if _, from := l.clientID(p); from != "" {
		return l.useClientCredentials(r, p)
	}
	if v := l.getenv("STACQ_TOKEN"); v != "" {
		return l.useToken(r, p, v, "env STACQ_TOKEN")
	}
	if v := l.getenv("STACQ_API_KEY"); v != "" && p.Name == ProviderGeneric {
		return l.useAPIKey(r, p, v, "env STACQ_API_KEY")
	}
	if host != "" && hostIn(host, p.PublicHosts) || p.Name == ProviderGeneric {
		r.Method = MethodNone
		return nil
	}
	return fmt.Errorf("%s: no credentials found; provide %s", p.Name, credentialWays(p, apiKeyApplies))
}

// credentialWays lists where p's credentials can come from.
func credentialWays(p Preset, apiKey bool) string {
	var ways []string
	if p.Env.APIKey != "" && apiKey {
		ways = append(ways, "an API key in "+p.Env.APIKey)
	}
	if p.Env.ClientID != "" {
		w := fmt.Sprintf("a client id and secret in %s and %s", p.Env.ClientID, p.Env.ClientSecret)
		if len(p.DotEnvFiles) > 0 {
			w += " (environment or " + strings.Join(p.DotEnvFiles, " / ") + " in the working directory)"
		}
		ways = append(ways, w)
	}
	if len(p.CredentialsFiles) > 0 {
		ways = append(ways, "a credentials file "+strings.Join(p.CredentialsFiles, ", ")+
			` {"client_id": ..., "client_secret": ...} (or STACQ_CREDENTIALS_FILE)`)
	}
	ways = append(ways, "STACQ_CLIENT_ID and STACQ_CLIENT_SECRET", "a bearer token in STACQ_TOKEN")
	return strings.Join(ways, ", or ")
}

func (l *lookup) flagWarning(what string) {
	if l.s.SecretFromFlag {
		l.warn("the %s was given on the command line, where other users can see it (process list, shell history); prefer a file or an environment variable", what)
	}
}

func (l *lookup) useToken(r *Resolved, p Preset, tok, from string) error {
	r.Method = MethodToken
	r.Sources = append(r.Sources, Source{What: "bearer token", From: from})
	if from == "flag" {
		l.flagWarning("token")
	}
	g := withExpiry(&oauth2.Token{AccessToken: tok, TokenType: "Bearer"}, l.now())
	if !g.Expiry.IsZero() && !l.now().Before(g.Expiry) {
		l.warn("the bearer token (from %s) expired at %s", from, g.Expiry.Format(time.RFC3339))
	}
	r.src = staticSource{g}
	r.hint = fmt.Sprintf("the bearer token (from %s) is invalid or expired; get a new one", from)
	return nil
}

func (l *lookup) useLogin(r *Resolved, p Preset) error {
	r.Method = MethodLogin
	r.Sources = append(r.Sources, Source{What: "token source", From: "login"})
	r.reuse = &reuseSource{next: externalSource{ts: l.s.TokenSource, now: l.now}, now: l.now}
	r.src = r.reuse
	r.renewable = true
	r.hint = "log in again"
	return nil
}

func (l *lookup) useAPIKey(r *Resolved, p Preset, key, from string) error {
	r.Method = MethodAPIKey
	r.Sources = append(r.Sources, Source{What: "API key", From: from})
	if from == "flag" {
		l.flagWarning("API key")
	}
	style := strings.ToLower(l.s.APIKeyStyle)
	if style == "" {
		style = APIKeyBasic
	}
	if style != APIKeyBasic && style != APIKeyHeader {
		return fmt.Errorf("%s: API key style %q: want %q or %q", p.Name, l.s.APIKeyStyle, APIKeyBasic, APIKeyHeader)
	}
	r.apiKey = &apiKey{key: func() string { return key }, style: style}
	if len(p.APIKeyHosts) > 0 {
		r.patterns = p.APIKeyHosts
	}
	r.hint = fmt.Sprintf("check the API key (from %s)", from)
	return nil
}

// clientID finds the client id: credentials file setting, preset env and
// .env files, STACQ_CLIENT_ID, STACQ_CREDENTIALS_FILE, the preset's
// credentials files.
func (l *lookup) clientID(p Preset) (string, string) {
	if v := l.s.ClientID; v != "" {
		return v, "flag"
	}
	if c, from := l.credsFile(l.s.CredentialsFile, "setting"); c != nil {
		return c.ClientID, from
	}
	if v, from := l.env(p.Env.ClientID); v != "" {
		return v, from
	}
	if v := l.getenv("STACQ_CLIENT_ID"); v != "" {
		return v, "env STACQ_CLIENT_ID"
	}
	if c, from := l.credsFile(l.getenv("STACQ_CREDENTIALS_FILE"), "env STACQ_CREDENTIALS_FILE"); c != nil {
		return c.ClientID, from
	}
	for _, name := range p.CredentialsFiles {
		if _, err := os.Stat(l.path(name)); err == nil {
			if c, from := l.credsFile(name, "preset"); c != nil {
				return c.ClientID, from
			}
		}
	}
	return "", ""
}

// clientSecret mirrors clientID, with the secret file setting after the
// flag.
func (l *lookup) clientSecret(p Preset) (string, string, error) {
	if v := l.s.ClientSecret; v != "" {
		return v, "flag", nil
	}
	if name := l.s.ClientSecretFile; name != "" {
		data, err := l.readSecretFile(name)
		if err != nil {
			return "", "", fmt.Errorf("%s: client secret file: %w", p.Name, err)
		}
		v := strings.TrimSpace(string(data))
		if v == "" {
			return "", "", fmt.Errorf("%s: client secret file %s is empty", p.Name, name)
		}
		return v, "file " + name, nil
	}
	if c, from := l.credsFile(l.s.CredentialsFile, "setting"); c != nil {
		return c.ClientSecret, from, nil
	}
	if v, from := l.env(p.Env.ClientSecret); v != "" {
		return v, from, nil
	}
	if v := l.getenv("STACQ_CLIENT_SECRET"); v != "" {
		return v, "env STACQ_CLIENT_SECRET", nil
	}
	if c, from := l.credsFile(l.getenv("STACQ_CREDENTIALS_FILE"), "env STACQ_CREDENTIALS_FILE"); c != nil {
		return c.ClientSecret, from, nil
	}
	for _, name := range p.CredentialsFiles {
		if _, err := os.Stat(l.path(name)); err == nil {
			if c, from := l.credsFile(name, "preset"); c != nil {
				return c.ClientSecret, from, nil
			}
		}
	}
	return "", "", nil
}

// credsFile reads a JSON credentials file; problems become warnings here
// and a missing-credentials error later.
func (l *lookup) credsFile(name, via string) (*Credentials, string) {
	if name == "" {
		return nil, ""
	}
	data, err := l.readSecretFile(name)
	if err != nil {
		l.warn("credentials file %s: %v", name, unwrapPathError(err))
		return nil, ""
	}
	c, err := ParseCredentialsFile(data)
	if err != nil {
		l.warn("credentials file %s: %v", name, err)
		return nil, ""
	}
	from := "file " + name
	if via != "preset" && via != "setting" {
		from += " (" + via + ")"
	}
	return &c, from
}

func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func (l *lookup) useClientCredentials(r *Resolved, p Preset) error {
	s := l.s
	r.Method = MethodClientCredentials
	id, idFrom := l.clientID(p)
	secret, secretFrom, err := l.clientSecret(p)
	if err != nil {
		return err
	}
	if id != "" && secret == "" && s.PromptSecret != nil {
		v, err := s.PromptSecret(fmt.Sprintf("client secret of %q (%s)", id, p.Name))
		if err != nil {
			return fmt.Errorf("%s: client secret: %w", p.Name, err)
		}
		if secret = strings.TrimSpace(v); secret != "" {
			secretFrom = "prompt"
		}
	}
	if id == "" || secret == "" {
		missing := "client id"
		if id != "" {
			missing = "client secret"
		} else if secret == "" {
			missing = "client id and secret"
		}
		if len(l.warnings) > 0 {
			missing += " (" + strings.Join(l.warnings, "; ") + ")"
		}
		return fmt.Errorf("%s: no %s; provide %s", p.Name, missing, credentialWays(p, false))
	}
	if secretFrom == "flag" {
		l.flagWarning("client secret")
	}

	tokenURL, urlFrom := s.TokenURL, "setting"
	if tokenURL == "" {
		tokenURL, urlFrom = l.env(p.Env.TokenURL)
	}
	if tokenURL == "" {
		tokenURL, urlFrom = l.getenv("STACQ_TOKEN_URL"), "env STACQ_TOKEN_URL"
	}
	if tokenURL == "" {
		tokenURL, urlFrom = p.TokenURL, "preset "+p.Name
	}
	if tokenURL == "" {
		return fmt.Errorf("%s: no token URL for the client credentials; set the token URL (STACQ_TOKEN_URL)", p.Name)
	}
	tu, err := url.Parse(tokenURL)
	if err != nil || tu.Host == "" || (tu.Scheme != "http" && tu.Scheme != "https") {
		return fmt.Errorf("%s: token URL %q (from %s) is not an absolute http(s) URL", p.Name, redact.URL(tokenURL), urlFrom)
	}
	if insecureURL(tokenURL) {
		return fmt.Errorf("%s: token URL %s (from %s): %w", p.Name, redact.URL(tokenURL), urlFrom, ErrInsecureTokenURL)
	}

	style, styleFrom := AuthStyle(strings.ToLower(s.AuthStyle)), "setting"
	if style == "" {
		style, styleFrom = AuthStyle(strings.ToLower(l.getenv("STACQ_AUTH_STYLE"))), "env STACQ_AUTH_STYLE"
	}
	if style == "" {
		style, styleFrom = p.AuthStyle, "preset "+p.Name
	}
	if style == "" {
		style = AuthStyleAuto
	}
	if style != AuthStyleAuto && style != AuthStyleBasic && style != AuthStyleBody {
		return fmt.Errorf("%s: auth style %q (from %s): want basic, body or auto", p.Name, style, styleFrom)
	}
	scopes, scopesFrom := s.Scopes, "setting"
	if len(scopes) == 0 {
		scopes, scopesFrom = strings.FieldsFunc(l.getenv("STACQ_SCOPES"), func(r rune) bool { return r == ' ' || r == ',' }), "env STACQ_SCOPES"
	}

	r.TokenURL, r.ClientID, r.AuthStyle, r.Scopes = redact.URL(tokenURL), id, style, scopes
	r.Sources = append(r.Sources,
		Source{What: "client id", From: idFrom, Value: id},
		Source{What: "client secret", From: secretFrom},
		Source{What: "token URL", From: urlFrom, Value: redact.URL(tokenURL)},
		Source{What: "auth style", From: styleFrom, Value: string(style)})
	if len(scopes) > 0 {
		r.Sources = append(r.Sources, Source{What: "scopes", From: scopesFrom, Value: strings.Join(scopes, " ")})
	}

	cc := &clientCredentialsSource{
		provider: p.Name, tokenURL: tokenURL, redactedURL: redact.URL(tokenURL),
		clientID: id, secret: secret, scopes: scopes, params: s.Params, style: style,
		client: tokenHTTPClient(s.HTTPClient), now: l.now, wait: l.wait, logf: l.logf,
		maxWait: maxRateLimitWait, requireSecure: insecureURL(tokenURL),
	}
	var next source = cc
	if !s.NoTokenCache {
		dir, src, err := tokenCacheDir(s.CacheDir, l.getenv)
		if err != nil {
			l.warn("no token cache: %v", err)
		} else {
			key := cacheKey{TokenURL: tokenURL, ClientID: id, Scope: strings.Join(scopes, " "), Params: paramsHash(s.Params)}
			r.disk = &diskCache{next: cc, path: cachePath(dir, key), key: key, now: l.now, logf: l.logf}
			r.CacheFile = r.disk.path
			r.Sources = append(r.Sources, src)
			next = r.disk
		}
	}
	r.reuse = &reuseSource{next: next, now: l.now}
	r.src = r.reuse
	r.renewable = true
	r.hint = fmt.Sprintf("check that client %s (from %s) may use this API", id, idFrom)
	// Hosts that take the API key (Planet's) do not get the OAuth2 token.
	r.patterns = slices.DeleteFunc(slices.Clone(r.patterns), func(h string) bool { return slices.Contains(p.APIKeyHosts, h) })
	return nil
}
