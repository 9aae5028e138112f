// Package auth authenticates stacq's requests to STAC APIs behind provider
// auth: static bearer tokens, API keys (Planet style) and OAuth2 client
// credentials, with presets that know each provider's token URL, auth style,
// environment variables, credential files and API hosts.
//
// It keeps golang.org/x/oauth2's layering: a token source does one thing and
// is wrapped by the next (token endpoint → on-disk cache → shared in-memory
// reuse), and every method ends as an http.RoundTripper that adds the
// credentials only to the API's own hosts and renews a rejected token once.
//
// Resolve turns a Settings (flags, environment, files) into a Resolved,
// which hands out the transport:
//
//	r, err := auth.Resolve(apiURL, auth.Settings{})
//	if err != nil { ... }
//	for _, w := range r.Warnings { fmt.Fprintln(os.Stderr, "warning:", w) }
//	client := r.Client(nil) // an *http.Client for the STAC client
package auth

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"golang.org/x/oauth2"

	"github.com/stacq/stacq/internal/redact"
)

// Methods a Resolved can use.
const (
	MethodNone              = "none"               // public API: nothing is added
	MethodToken             = "token"              // static bearer token (--token, STACQ_TOKEN)
	MethodAPIKey            = "apikey"             // API key (HTTP Basic user or "api-key" header)
	MethodClientCredentials = "client_credentials" // OAuth2 client credentials grant
	MethodLogin             = "login"              // a caller-supplied token source (interactive login)
)

// AuthStyle is how a client authenticates at the token endpoint.
type AuthStyle string

// Token endpoint auth styles.
const (
	// AuthStyleAuto tries HTTP Basic first and, when the server answers
	// invalid_client, the form body; what worked is remembered (in memory and
	// in the token cache).
	AuthStyleAuto  AuthStyle = "auto"
	AuthStyleBasic AuthStyle = "basic" // client id and secret in an HTTP Basic header
	AuthStyleBody  AuthStyle = "body"  // client_id and client_secret in the form body
)

// API key styles.
const (
	APIKeyBasic  = "basic"  // HTTP Basic, key as user name, empty password (Planet's preferred way)
	APIKeyHeader = "header" // "Authorization: api-key KEY"
)

// Settings are what the user configured: flags, with the environment and
// files filled in by Resolve. The zero value resolves from the environment
// alone.
type Settings struct {
	// Provider forces a preset by name ("earthdaily", "hydrosat", "cdse",
	// "sentinelhub", "planet", "generic" or "none"); empty picks one from
	// the API URL's host, else from the credentials present.
	Provider string

	// TokenURL overrides the preset's token endpoint.
	TokenURL string
	// ClientID and ClientSecret are the OAuth2 client credentials.
	ClientID, ClientSecret string
	// ClientSecretFile names a file holding only the client secret.
	ClientSecretFile string
	// CredentialsFile names a JSON file {"client_id": ..., "client_secret": ...}.
	CredentialsFile string
	// SecretFromFlag says ClientSecret, Token or APIKey came from a command
	// line flag, where other users can see it (ps, shell history); Resolve
	// then records a warning.
	SecretFromFlag bool
	// PromptSecret, when set, asks the user for the client secret when a
	// client id is known but no secret is configured anywhere (the CLI
	// reads it from the terminal without echo). label names the client,
	// e.g. `client secret of "my-client" (hydrosat)`. An error or an
	// empty answer leaves the secret missing.
	PromptSecret func(label string) (string, error)
	// Scopes requested with client credentials.
	Scopes []string
	// AuthStyle at the token endpoint: "basic", "body" or "auto"; empty
	// means the preset's.
	AuthStyle string
	// Params are extra token request parameters (e.g. audience).
	Params url.Values

	// Token is a static bearer token.
	Token string
	// APIKey is an API key; APIKeyStyle is "basic" (default) or "header".
	APIKey, APIKeyStyle string

	// TokenSource, when set, is used for the "login" method: a user token
	// source such as the one auth/login builds. Its tokens are shared by
	// concurrent requests and a rejected token is asked for again once; it
	// keeps its own persistence, so the token cache is not used.
	TokenSource oauth2.TokenSource

	// NoTokenCache disables the on-disk token cache.
	NoTokenCache bool
	// CacheDir replaces os.UserCacheDir()/stacq (and STACQ_CACHE_DIR);
	// tokens live in CacheDir/tokens.
	CacheDir string

	// Getenv reads the environment; nil means os.Getenv.
	Getenv func(string) string
	// Dir is where .env, EDS.env and creds.json are looked up; empty means
	// the working directory.
	Dir string
	// HTTPClient makes token requests; nil means a client with a 30s
	// timeout. Redirects from the token endpoint are never followed, so a
	// client secret is not re-posted to another URL.
	HTTPClient *http.Client
	// Logf, when set, receives notes about what happens at run time (token
	// requests, renewals, cache problems, rate limiting). No secret is ever
	// passed to it.
	Logf func(format string, args ...any)

	// now and wait are test seams: the clock and the sleep used for
	// Retry-After.
	now  func() time.Time
	wait func(ctx context.Context, d time.Duration) error
}

// Source tells where one piece of the configuration came from, for
// `stacq auth status`. Value is set for non-secret pieces only.
type Source struct {
	What  string // "client id", "client secret", "token URL", ...
	From  string // "env EDS_CLIENT_ID", "file EDS.env", "flag", "preset earthdaily"
	Value string // the value when it is not a secret (URLs, client id)
}

// String shows s with its secrets masked, so printing Settings (%v, %+v,
// %#v) never shows them.
func (s Settings) String() string {
	mask := func(v string) string {
		if v == "" {
			return ""
		}
		return "***"
	}
	return fmt.Sprintf("auth.Settings{Provider:%q TokenURL:%q ClientID:%q ClientSecret:%q ClientSecretFile:%q CredentialsFile:%q Scopes:%q AuthStyle:%q Token:%q APIKey:%q APIKeyStyle:%q NoTokenCache:%v CacheDir:%q Dir:%q}",
		s.Provider, redact.URL(s.TokenURL), s.ClientID, mask(s.ClientSecret), s.ClientSecretFile, s.CredentialsFile,
		s.Scopes, s.AuthStyle, mask(s.Token), mask(s.APIKey), s.APIKeyStyle, s.NoTokenCache, s.CacheDir, s.Dir)
}

// GoString is String, for %#v.
func (s Settings) GoString() string { return s.String() }
