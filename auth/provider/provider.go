// Package provider knows the STAC providers' authentication: presets for
// EarthDaily, Hydrosat, Copernicus Data Space, Sentinel Hub and Planet
// (token endpoints, auth styles, environment variables, credential files,
// API hosts and request rates, each from the provider's own client or
// documentation), the discovery of credentials in the environment and in
// files (EDS.env, .env, creds.json, .netrc), and Resolve, which turns what
// was found, with what the API advertises in its auth:schemes, into the
// layers of package auth.
//
// Nothing is read that the caller did not point at: the zero Settings
// reads no environment variable, no file and writes no token cache. A
// command-line tool passes os.Getenv, the working directory, the user's
// .netrc and cache directory:
//
//	r, err := provider.Resolve(apiURL, provider.Settings{
//		Getenv: os.Getenv, Dir: ".", Netrc: provider.DefaultNetrc(os.Getenv),
//		CacheDir: cacheDir, Retry: &retry.Policy{},
//	})
//	if err != nil { ... }
//	for _, w := range r.Warnings { fmt.Fprintln(os.Stderr, "warning:", w) }
//	client := r.Client() // an *http.Client for the STAC client
package provider

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"

	"golang.org/x/oauth2"

	"github.com/stacq/stacq/auth"
	"github.com/stacq/stacq/auth/ratelimit"
	"github.com/stacq/stacq/internal/redact"
	"github.com/stacq/stacq/retry"
)

// Settings are what the caller configured, and where Resolve may look for
// the rest. Fields that name a source of configuration (Getenv, Dir,
// Netrc, CacheDir) are off when empty: the zero Settings reads nothing and
// writes nothing.
type Settings struct {
	// Provider forces a preset by name ("earthdaily", "hydrosat", "cdse",
	// "sentinelhub", "planet", "generic" or "none"); empty picks one from
	// the API URL's host, else from the credentials present.
	Provider string

	// TokenURL overrides the preset's (or the advertised) token endpoint.
	TokenURL string
	// ClientID and ClientSecret are the OAuth2 client credentials.
	ClientID, ClientSecret string
	// ClientSecretFile names a file holding only the client secret.
	ClientSecretFile string
	// CredentialsFile names a JSON file {"client_id": ..., "client_secret": ...}.
	CredentialsFile string
	// SecretFromFlag says a secret (ClientSecret, Token, APIKey, Password)
	// came from a command line flag, where other users can see it (ps,
	// shell history); Resolve then records a warning.
	SecretFromFlag bool
	// PromptSecret, when set, asks the user for a client secret or a
	// password configured nowhere (without echo, on a terminal). label
	// names what is asked, e.g. `client secret of "my-client" (hydrosat)`.
	// An error or an empty answer leaves the secret missing.
	PromptSecret func(label string) (string, error)
	// Scopes requested with client credentials; none means the advertised
	// flow's scopes, else the server's default.
	Scopes []string
	// AuthStyle at the token endpoint: "basic", "body" or "auto"; empty
	// means the preset's.
	AuthStyle string
	// Params are extra token request parameters (e.g. audience).
	Params url.Values

	// Token is a static bearer token.
	Token string
	// APIKey is an API key; APIKeyStyle is "basic" (default: the HTTP Basic
	// user name) or "header" ("Authorization: api-key KEY"). An API that
	// advertises where its key goes (auth:schemes apiKey) gets it there.
	APIKey, APIKeyStyle string
	// User and Password are HTTP Basic credentials; PasswordFile names a
	// file holding only the password. With a User and no password, the
	// .netrc entry of the API host for that user, STACQ_PASSWORD and
	// PromptSecret are tried in turn.
	User, Password, PasswordFile string

	// TokenSource, when set, is used for the "login" method: a user token
	// source such as auth/login's. It keeps its own persistence, so the
	// token cache is not used.
	TokenSource oauth2.TokenSource

	// Advertised is what the API's landing page says in auth:schemes
	// (auth.ParseAdvertised). When no preset claims the API and no method
	// is forced, Resolve picks the advertised scheme that the credentials
	// at hand satisfy.
	Advertised *auth.Advertised

	// Getenv reads the environment (the provider's variables, STACQ_*);
	// nil reads none.
	Getenv func(string) string
	// Dir is where the presets' files (EDS.env, .env, creds.json) are
	// looked for, and relative file names are read from; empty looks for
	// none (file names given explicitly are then relative to the process's
	// working directory).
	Dir string
	// Netrc names a .netrc file whose entry for the API host gives HTTP
	// Basic credentials (see DefaultNetrc); empty reads none.
	Netrc string
	// CacheDir is where tokens are cached between runs, in
	// CacheDir/tokens (see DefaultCacheDir); empty caches nothing.
	// CacheDirFrom says where it came from, for Sources.
	CacheDir, CacheDirFrom string

	// HTTPClient makes the token requests and, through Client, the API
	// requests. nil means a client over http.DefaultTransport; Resolve then
	// stacks, outermost first, Retry (when set) and the rate limiter over
	// it. A client given here is used as it is: put its retries and limiter
	// in it yourself (Limiter still receives the provider's rate).
	HTTPClient *http.Client
	// Retry, when set, retries the transient failures of token and API
	// requests (5xx, 429 with Retry-After, dropped connections) with this
	// policy. nil: no retries. It is the one setting needed: stac.Open and
	// crawl.Crawl find the policy in Client's transport (retry.PolicyOf)
	// and retry pages and documents cut short with it, on the same budget.
	Retry *retry.Policy
	// Limiter receives the provider's request rate for its hosts (and
	// Rate's), and is the one Client's requests wait on; nil means one of
	// Resolve's own. Share one among the clients of a process.
	Limiter *ratelimit.Limiter
	// Rate overrides the provider's rate, in requests per second to the
	// API's hosts; below 0 removes it; 0 keeps the provider's.
	Rate float64

	// NoCredentialsHelp is appended to the hint of a refusal by an API to
	// which no credentials were sent (where to read how to give them).
	NoCredentialsHelp string

	// Logf, when set, receives notes about what happens at run time (token
	// requests, renewals, cache problems). No secret is ever passed to it.
	Logf auth.Logf
	// Redactor, when set, is told every credential sent, in the form sent.
	Redactor auth.Redactor
}

// Source tells where one piece of the configuration came from. Value is
// set for non-secret pieces only.
type Source struct {
	What  string // "client id", "client secret", "token URL", ...
	From  string // "env EDS_CLIENT_ID", "file EDS.env", "setting", "preset earthdaily", "auth:schemes"
	Value string // the value when it is not a secret (URLs, client id)
}

// String shows s with its secrets masked, so printing Settings (%v, %+v,
// %#v) never shows them.
func (s Settings) String() string {
	mask := func(v string) string {
		if v == "" {
			return ""
		}
		return redact.Mask
	}
	return fmt.Sprintf("provider.Settings{Provider:%q TokenURL:%q ClientID:%q ClientSecret:%q ClientSecretFile:%q CredentialsFile:%q Scopes:%q AuthStyle:%q Token:%q APIKey:%q APIKeyStyle:%q User:%q Password:%q CacheDir:%q Dir:%q Netrc:%q}",
		s.Provider, redact.URL(s.TokenURL), s.ClientID, mask(s.ClientSecret), s.ClientSecretFile, s.CredentialsFile,
		s.Scopes, s.AuthStyle, mask(s.Token), mask(s.APIKey), s.APIKeyStyle, s.User, mask(s.Password), s.CacheDir, s.Dir, s.Netrc)
}

// GoString is String, for %#v.
func (s Settings) GoString() string { return s.String() }

// DefaultCacheDir is where a command-line tool keeps its token cache:
// STACQ_CACHE_DIR, else the user's cache directory's "stacq". from says
// which, for Settings.CacheDirFrom.
func DefaultCacheDir(getenv func(string) string) (dir, from string, err error) {
	if getenv != nil {
		if v := getenv("STACQ_CACHE_DIR"); v != "" {
			return v, "env STACQ_CACHE_DIR", nil
		}
	}
	ucd, err := os.UserCacheDir()
	if err != nil {
		return "", "", err
	}
	return filepath.Join(ucd, "stacq"), "user cache dir", nil
}

// DefaultNetrc is the .netrc file curl and requests read: $NETRC, else
// ~/.netrc (on Windows also ~/_netrc). It may not exist.
func DefaultNetrc(getenv func(string) string) string {
	if getenv != nil {
		if v := getenv("NETRC"); v != "" {
			return v
		}
	}
	home := ""
	if getenv != nil {
		home = getenv("HOME")
	}
	if home == "" {
		home, _ = os.UserHomeDir()
	}
	if home == "" {
		return ""
	}
	p := filepath.Join(home, ".netrc")
	if _, err := os.Stat(p); err != nil {
		if alt := filepath.Join(home, "_netrc"); fileExists(alt) {
			return alt
		}
	}
	return p
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
