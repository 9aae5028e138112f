// Package auth authenticates HTTP requests to STAC APIs, in layers that
// each do one thing and wrap the next, as golang.org/x/oauth2 does:
//
//   - token sources: [ClientCredentialsSource] asks an OAuth2 token
//     endpoint (client credentials grant); [NewSessionSource] adapts a user
//     session's oauth2.TokenSource (see auth/login);
//   - [DiskCache] keeps a token in a file between runs, keyed by a keyed
//     hash of the secret, locked so that concurrent processes make one
//     token request;
//   - [ReuseSource] shares one token among concurrent requests and renews
//     it shortly before it expires;
//   - [Credentials] put what a request needs on it: a bearer token from a
//     source ([NewBearer]), a static token ([NewStaticToken]), an API key
//     in a header, a query parameter or as the HTTP Basic user name
//     ([NewAPIKey]), or HTTP Basic ([NewBasic]);
//   - [Transport] adds the credentials to requests for the allowed
//     origins only (scheme, host and port; never across a redirect to
//     another origin or down to http), and when the API refuses a token
//     with 401 (or 403, as EarthDaily does for an expired one) renews it
//     once and sends the request again.
//
// Every layer is usable alone, and none does I/O its caller did not ask
// for: only a DiskCache touches files, only token sources make requests.
// [ParseAdvertised] reads the STAC authentication extension (auth:schemes
// and auth:refs) of a landing page, collection, item or link, and
// [Advertised.Choose] picks the scheme that the credentials at hand can
// satisfy. Provider presets and the discovery of credentials in the
// environment and in files are the business of the auth/provider package,
// whose Resolve builds these layers in one call.
//
// The order of the layers of an authenticating client, outermost first:
//
//	Transport (credentials, re-authentication)
//	  → retries (retry.Policy.Transport), so a 401 reaches the Transport at once
//	  → rate limiting (auth/ratelimit), so every attempt waits its turn
//	  → the wire (http.Transport)
//
// Token requests take the same path below the Transport: retried, rate
// limited, never redirected.
package auth

import (
	"context"

	"golang.org/x/oauth2"
)

// Methods of authentication, as AuthError.Method names them.
const (
	MethodNone              = "none"               // nothing is added
	MethodToken             = "token"              // a static bearer token
	MethodAPIKey            = "apikey"             // an API key (header, query parameter or HTTP Basic user)
	MethodBasic             = "basic"              // HTTP Basic user and password
	MethodClientCredentials = "client_credentials" // the OAuth2 client credentials grant
	MethodLogin             = "login"              // a user session's tokens (interactive login)
)

// AuthStyle is how a client authenticates at the token endpoint.
type AuthStyle string

// Token endpoint auth styles.
const (
	// AuthStyleAuto tries HTTP Basic first and, when the server answers
	// invalid_client, the form body; what worked is remembered (in memory
	// and in the token cache).
	AuthStyleAuto  AuthStyle = "auto"
	AuthStyleBasic AuthStyle = "basic" // client id and secret in an HTTP Basic header
	AuthStyleBody  AuthStyle = "body"  // client_id and client_secret in the form body
)

// TokenSource supplies access tokens. Unlike oauth2.TokenSource, Token
// takes the context of the request that needs the token, so a cancelled
// request stops waiting for it.
type TokenSource interface {
	Token(ctx context.Context) (*oauth2.Token, error)
}

// TokenInvalidator is implemented by token sources that can drop a token
// an API refused, so that their next Token renews it. Only the token given
// is dropped: a concurrent request may already have renewed it.
// auth/login's TokenSource implements it too.
type TokenInvalidator interface {
	InvalidateToken(accessToken string)
}

// Redactor is told every credential the layers send, in the form they send
// it, so that whatever prints errors and traces can mask them. Add gets a
// secret value (a client secret, a token, an API key); AddBasic gets the
// two halves of an HTTP Basic credential, whose header carries base64 of
// "user:password".
type Redactor interface {
	Add(secret string)
	AddBasic(user, password string)
}

// Logf receives notes about what the layers do at run time (token
// requests, renewals, cache problems). No secret is ever passed to it.
type Logf func(format string, args ...any)

func (l Logf) printf(format string, args ...any) {
	if l != nil {
		l(format, args...)
	}
}

// OAuth2TokenSource exposes ts as an oauth2.TokenSource, whose Token
// takes no context: ctx is used for every token request.
func OAuth2TokenSource(ctx context.Context, ts TokenSource) oauth2.TokenSource {
	return oauth2Source{ctx, ts}
}

type oauth2Source struct {
	ctx context.Context
	ts  TokenSource
}

func (o oauth2Source) Token() (*oauth2.Token, error) { return o.ts.Token(o.ctx) }
