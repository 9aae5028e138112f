package provider

// methods.go: how Resolve picks the method and gathers what each needs.

import (
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/stacq/stacq/auth"
	"github.com/stacq/stacq/internal/redact"
)

// chooseMethod picks the method, in this order: what the settings (flags)
// say, then the preset's own credentials, then (for an API no preset
// claims) the scheme the API advertises that the credentials at hand
// satisfy, then the generic STACQ_* environment and the .netrc entry of
// the API host; a public host, or a generic provider without credentials,
// needs none.
func (l *lookup) chooseMethod(r *Resolved, p Preset) error {
	s := l.s
	host := apiHost(r.APIURL)
	// Planet's key is for api.planet.com; its Sentinel Hub hosts take the
	// M2M client. Any other host (a test server) was chosen by the user.
	apiKeyApplies := len(p.APIKeyHosts) == 0 || host == "" || auth.HostMatches(host, p.APIKeyHosts) || !auth.HostMatches(host, p.APIHosts)
	explicitClient := s.ClientID != "" || s.ClientSecret != "" || s.ClientSecretFile != "" || s.CredentialsFile != ""

	switch {
	case s.Token != "":
		return l.useToken(r, s.Token, "flag")
	case s.TokenSource != nil:
		return l.useLogin(r)
	case s.APIKey != "":
		return l.useAPIKey(r, p, s.APIKey, "flag", nil)
	case s.User != "":
		return l.useBasic(r, p, s.User, "flag", "")
	case explicitClient:
		return l.useClientCredentials(r, p)
	}
	if v, from := l.env(p.Env.APIKey); v != "" && apiKeyApplies {
		return l.useAPIKey(r, p, v, from, nil)
	}
	if p.Name != ProviderGeneric {
		if _, from := l.clientID(p); from != "" {
			return l.useClientCredentials(r, p)
		}
	} else if done, err := l.useAdvertised(r, p); done || err != nil {
		return err
	}
	if _, from := l.clientID(p); from != "" {
		return l.useClientCredentials(r, p)
	}
	if v := l.getenv("STACQ_TOKEN"); v != "" {
		return l.useToken(r, v, "env STACQ_TOKEN")
	}
	if v := l.getenv("STACQ_API_KEY"); v != "" && p.Name == ProviderGeneric {
		return l.useAPIKey(r, p, v, "env STACQ_API_KEY", nil)
	}
	// A .netrc entry is for any API of its host, unless the API says it
	// wants something else (useAdvertised took it when it wants Basic).
	if e, from, ok := l.netrcEntry(host, ""); ok && (s.Advertised == nil || len(s.Advertised.ForAPI()) == 0) {
		return l.useBasic(r, p, e.Login, from, e.Password)
	}
	if host != "" && auth.HostMatches(host, p.PublicHosts) || p.Name == ProviderGeneric {
		r.Method = auth.MethodNone
		return nil
	}
	return fmt.Errorf("%s: no credentials found; provide %s", p.Name, credentialWays(p, apiKeyApplies))
}

func apiHost(apiURL string) string {
	if u, err := url.Parse(apiURL); err == nil {
		return u.Hostname()
	}
	return ""
}

// useAdvertised picks the scheme of the API's auth:schemes that the
// credentials in the environment satisfy. done is false when there is
// none.
func (l *lookup) useAdvertised(r *Resolved, p Preset) (done bool, err error) {
	adv := l.s.Advertised
	if adv == nil || len(adv.ForAPI()) == 0 {
		return false, nil
	}
	id, _ := l.clientID(p)
	_, _, netrcOK := l.netrcEntry(apiHost(r.APIURL), "")
	have := auth.Have{
		ClientCredentials: id != "",
		Token:             l.getenv("STACQ_TOKEN") != "",
		APIKey:            l.getenv("STACQ_API_KEY") != "",
		Basic:             netrcOK,
	}
	c, ok := adv.Choose(have)
	if !ok {
		return false, nil
	}
	r.Chosen = &c.Scheme
	r.Sources = append(r.Sources, Source{What: "scheme", From: "auth:schemes", Value: c.Scheme.Name + " (" + c.Scheme.Type + ")"})
	switch c.Method {
	case auth.MethodClientCredentials:
		return true, l.useClientCredentials(r, p)
	case auth.MethodToken:
		return true, l.useToken(r, l.getenv("STACQ_TOKEN"), "env STACQ_TOKEN")
	case auth.MethodAPIKey:
		return true, l.useAPIKey(r, p, l.getenv("STACQ_API_KEY"), "env STACQ_API_KEY", &c.APIKey)
	case auth.MethodBasic:
		e, from, _ := l.netrcEntry(apiHost(r.APIURL), "")
		return true, l.useBasic(r, p, e.Login, from, e.Password)
	}
	return false, nil
}

// advertisedFlow is the client credentials flow the API advertises, if
// any: its token URL, scopes and scheme.
func (l *lookup) advertisedFlow() (auth.Flow, *auth.Scheme, bool) {
	if l.s.Advertised == nil {
		return auth.Flow{}, nil, false
	}
	for _, s := range l.s.Advertised.ForAPI() {
		if !strings.EqualFold(s.Type, auth.SchemeOAuth2) {
			continue
		}
		if f, ok := s.Flow("clientCredentials"); ok && f.TokenURL != "" {
			return f, &s, true
		}
	}
	return auth.Flow{}, nil, false
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

func (l *lookup) useToken(r *Resolved, tok, from string) error {
	r.Method = auth.MethodToken
	r.Sources = append(r.Sources, Source{What: "bearer token", From: from})
	if from == "flag" {
		l.flagWarning("token")
	}
	if exp, ok := auth.ParseJWTExpiry(tok); ok && !time.Now().Before(exp) {
		l.warn("the bearer token (from %s) expired at %s", from, exp.Format(time.RFC3339))
	}
	static := auth.NewStaticToken(tok)
	r.m().creds = static
	r.m().tokens = static.(auth.TokenSource)
	r.Hint = fmt.Sprintf("the bearer token (from %s) is invalid or expired; get a new one", from)
	return nil
}

func (l *lookup) useLogin(r *Resolved) error {
	r.Method = auth.MethodLogin
	r.Sources = append(r.Sources, Source{What: "token source", From: "login"})
	r.m().reuse = auth.NewReuseSource(auth.NewSessionSource(l.s.TokenSource), 0)
	r.m().tokens = r.m().reuse
	r.m().creds = auth.NewBearer(r.m().reuse)
	r.Hint = "log in again"
	return nil
}

// useAPIKey sends key as the API advertises (in), else as the settings
// say (basic or header).
func (l *lookup) useAPIKey(r *Resolved, p Preset, key, from string, in *auth.APIKeyPlacement) error {
	r.Method = auth.MethodAPIKey
	r.Sources = append(r.Sources, Source{What: "API key", From: from})
	if from == "flag" {
		l.flagWarning("API key")
	}
	var place auth.APIKeyPlacement
	if in != nil {
		place = *in
	} else {
		style := strings.ToLower(l.s.APIKeyStyle)
		if style != "" && style != auth.APIKeyBasic && style != auth.APIKeyHeader {
			return fmt.Errorf("%s: API key style %q: want %q or %q", p.Name, l.s.APIKeyStyle, auth.APIKeyBasic, auth.APIKeyHeader)
		}
		place = auth.APIKeyPlacement{In: style}
	}
	creds, err := auth.NewAPIKey(key, place)
	if err != nil {
		return fmt.Errorf("%s: %w", p.Name, err)
	}
	r.m().creds = creds
	if place.In == "" {
		place.In = auth.APIKeyBasic
	}
	r.APIKeyIn = place
	r.Sources = append(r.Sources, Source{What: "API key sent as", From: sourceOf(in != nil, "setting"), Value: place.String()})
	if len(p.APIKeyHosts) > 0 {
		r.m().hosts = p.APIKeyHosts
	}
	r.Hint = fmt.Sprintf("check the API key (from %s)", from)
	return nil
}

func sourceOf(advertised bool, otherwise string) string {
	if advertised {
		return "auth:schemes"
	}
	return otherwise
}

// netrcEntry reads the .netrc entry for host (and login, when given).
func (l *lookup) netrcEntry(host, login string) (NetrcEntry, string, bool) {
	if l.s.Netrc == "" || host == "" {
		return NetrcEntry{}, "", false
	}
	if l.netrc == nil && l.netrcErr == nil {
		data, err := l.readSecretFile(l.s.Netrc)
		if err == nil {
			l.netrc, err = ParseNetrc(data)
		}
		if err != nil && fileExists(l.path(l.s.Netrc)) {
			l.warn("%s: %v; ignored", filepath.Base(l.s.Netrc), unwrapPathError(err))
		}
		l.netrcErr = err
	}
	e, ok := l.netrc.Lookup(host)
	if !ok || login != "" && e.Login != login {
		return NetrcEntry{}, "", false
	}
	which := "machine " + e.Machine
	if e.Machine == "" {
		which = "default"
	}
	return e, "file " + l.s.Netrc + " (" + which + ")", true
}

// useBasic sends HTTP Basic credentials: user with password (from the
// netrc entry), else the password from the settings, a file, the netrc
// entry for user, STACQ_PASSWORD or the prompt.
func (l *lookup) useBasic(r *Resolved, p Preset, user, userFrom, password string) error {
	s := l.s
	r.Method = auth.MethodBasic
	pwFrom := userFrom
	host := apiHost(r.APIURL)
	switch {
	case password != "":
	case s.Password != "":
		password, pwFrom = s.Password, "flag"
		l.flagWarning("password")
	case s.PasswordFile != "":
		data, err := l.readSecretFile(s.PasswordFile)
		if err != nil {
			return fmt.Errorf("%s: password file: %w", p.Name, unwrapPathError(err))
		}
		if password = strings.TrimRight(string(data), "\r\n"); password == "" {
			return fmt.Errorf("%s: password file %s is empty", p.Name, s.PasswordFile)
		}
		pwFrom = "file " + s.PasswordFile
	default:
		if e, from, ok := l.netrcEntry(host, user); ok {
			password, pwFrom = e.Password, from
		} else if v := l.getenv("STACQ_PASSWORD"); v != "" {
			password, pwFrom = v, "env STACQ_PASSWORD"
		} else if s.PromptSecret != nil {
			v, err := s.PromptSecret(fmt.Sprintf("password of %q at %s", user, host))
			if err != nil {
				return fmt.Errorf("%s: password: %w", p.Name, err)
			}
			password, pwFrom = strings.TrimRight(v, "\r\n"), "prompt"
		}
	}
	if password == "" {
		return fmt.Errorf("%s: no password for user %q; give a password file, STACQ_PASSWORD, or a .netrc entry for %s", p.Name, user, host)
	}
	r.User = user
	r.Sources = append(r.Sources, Source{What: "user", From: userFrom, Value: user}, Source{What: "password", From: pwFrom})
	r.m().creds = auth.NewBasic(user, password)
	r.Hint = fmt.Sprintf("check the user name and password of %q", user)
	return nil
}

func (l *lookup) useClientCredentials(r *Resolved, p Preset) error {
	s := l.s
	r.Method = auth.MethodClientCredentials
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

	scopes, scopesFrom := s.Scopes, "setting"
	if len(scopes) == 0 {
		scopes, scopesFrom = strings.FieldsFunc(l.getenv("STACQ_SCOPES"), func(r rune) bool { return r == ' ' || r == ',' }), "env STACQ_SCOPES"
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
		if f, sch, ok := l.advertisedFlow(); ok {
			if !sameSite(f.TokenURL, r.APIURL) && idFrom != "flag" {
				return fmt.Errorf("%s: the API advertises the token URL %s, on another site than the API; to send the client secret there, give it with --token-url (STACQ_TOKEN_URL)",
					p.Name, redact.URL(f.TokenURL))
			}
			tokenURL, urlFrom = f.TokenURL, "auth:schemes "+sch.Name
			if len(scopes) == 0 && len(f.Scopes) > 0 {
				scopes, scopesFrom = f.Scopes, "auth:schemes "+sch.Name
			}
			if r.Chosen == nil {
				r.Chosen = sch
			}
		}
	}
	if tokenURL == "" {
		return fmt.Errorf("%s: %w for the client credentials; set the token URL (STACQ_TOKEN_URL), or use an API that advertises one in auth:schemes", p.Name, errNoTokenURL)
	}

	style, styleFrom := auth.AuthStyle(strings.ToLower(s.AuthStyle)), "setting"
	if style == "" {
		style, styleFrom = auth.AuthStyle(strings.ToLower(l.getenv("STACQ_AUTH_STYLE"))), "env STACQ_AUTH_STYLE"
	}
	if style == "" {
		style, styleFrom = p.AuthStyle, "preset "+p.Name
	}
	if style == "" {
		style = auth.AuthStyleAuto
	}
	if style != auth.AuthStyleAuto && style != auth.AuthStyleBasic && style != auth.AuthStyleBody {
		return fmt.Errorf("%s: auth style %q (from %s): want basic, body or auto", p.Name, style, styleFrom)
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
	cfg := auth.ClientCredentials{
		TokenURL: tokenURL, ClientID: id, ClientSecret: secret, Scopes: scopes, Params: s.Params,
		AuthStyle: style, Provider: p.Name, Logf: s.Logf, Redactor: s.Redactor,
	}
	// Check the configuration now (an http token URL is refused before
	// any request); the token client is set in build, once the HTTP stack
	// is known.
	if _, err := auth.NewClientCredentialsSource(cfg); err != nil {
		return err
	}
	if s.CacheDir != "" {
		dir := filepath.Join(s.CacheDir, "tokens")
		from := s.CacheDirFrom
		if from == "" {
			from = "setting"
		}
		r.Sources = append(r.Sources, Source{What: "token cache", From: from, Value: s.CacheDir})
		r.m().disk = auth.NewDiskCache(nil, dir, cfg.CacheKey(), s.Logf)
		r.CacheFile = r.m().disk.Path()
	}
	l.pending = func(r *Resolved) error {
		cfg.HTTPClient = r.tokenClient(s)
		cc, err := auth.NewClientCredentialsSource(cfg)
		if err != nil {
			return err
		}
		var next auth.TokenSource = cc
		if r.m().disk != nil {
			r.m().disk = auth.NewDiskCache(cc, filepath.Dir(r.m().disk.Path()), cfg.CacheKey(), s.Logf)
			next = r.m().disk
		}
		r.m().reuse = auth.NewReuseSource(next, 0)
		r.m().tokens = r.m().reuse
		r.m().creds = auth.NewBearer(r.m().reuse)
		return nil
	}
	r.Hint = fmt.Sprintf("check that client %s (from %s) may use this API", id, idFrom)
	// Hosts that take the API key (Planet's) do not get the OAuth2 token.
	r.m().hosts = slices.DeleteFunc(slices.Clone(r.m().hosts), func(h string) bool { return slices.Contains(p.APIKeyHosts, h) })
	return nil
}

// build runs what the chosen method left for when the HTTP stack is
// known.
func (l *lookup) build(r *Resolved) error {
	if l.pending == nil {
		return nil
	}
	return l.pending(r)
}

// sameSite reports whether the hosts of two URLs are the same, or one is
// a subdomain of the other, or both are subdomains of one parent of at
// least two labels that is no public suffix such as co.uk: where an API
// may keep its token endpoint (api.example.com and auth.example.com).
func sameSite(a, b string) bool {
	ha, hb := strings.ToLower(apiHost(a)), strings.ToLower(apiHost(b))
	if ha == "" || hb == "" {
		return false
	}
	if ha == hb {
		return true
	}
	if net.ParseIP(strings.Trim(ha, "[]")) != nil || net.ParseIP(strings.Trim(hb, "[]")) != nil {
		return false
	}
	if strings.HasSuffix(ha, "."+hb) || strings.HasSuffix(hb, "."+ha) {
		return true
	}
	pa, pb := strings.Split(ha, "."), strings.Split(hb, ".")
	n := 0
	for n < len(pa) && n < len(pb) && pa[len(pa)-1-n] == pb[len(pb)-1-n] {
		n++
	}
	if n < 2 {
		return false
	}
	if n == 2 && len(pa[len(pa)-1]) == 2 {
		switch pa[len(pa)-2] {
		case "co", "com", "org", "net", "ac", "gov", "edu", "ne", "or":
			return false // a country's second-level domain: co.uk, com.au
		}
	}
	return true
}
