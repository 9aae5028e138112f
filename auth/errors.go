package auth

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"golang.org/x/oauth2"

	"github.com/stacq/stacq/internal/redact"
	"github.com/stacq/stacq/internal/termsafe"
)

// ErrInsecureTokenURL is returned when a client secret would be sent over
// plain http to a host that is not a loopback address.
var ErrInsecureTokenURL = errors.New("refusing to send a client secret over plain http to a non-loopback host; use https")

// TokenError is a failed token request: the token endpoint answered with an
// error, could not be reached, or was rate-limiting. It never contains the
// client secret, in any encoding, nor terminal control characters from the
// server's answer.
type TokenError struct {
	Provider string // provider name ("generic" when none)
	TokenURL string // redacted
	// StatusCode is the HTTP status of the last answer; 0 when there was
	// none (network error, refused insecure URL).
	StatusCode int
	// ErrorCode and Description are the OAuth2 "error" and
	// "error_description" members (RFC 6749 5.2), e.g. "invalid_client".
	ErrorCode, Description string
	// RateLimited: the endpoint answered 429 (after the retries of the
	// HTTP client, if it retries).
	RateLimited bool
	// ServerError: the endpoint answered 5xx; the credentials were not judged.
	ServerError bool
	// Body is a short excerpt of a non-OAuth error answer.
	Body string
	// Hint says what to check.
	Hint string
	// Err is the underlying error (*oauth2.RetrieveError, a network error).
	Err error
}

// Error says what failed, with the server's error code and description
// and what to check.
func (e *TokenError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: token request to %s", e.Provider, e.TokenURL)
	switch {
	case e.RateLimited:
		fmt.Fprintf(&b, ": the token endpoint is rate-limiting (HTTP %d)", e.StatusCode)
	case e.ServerError:
		fmt.Fprintf(&b, ": server error (HTTP %d %s); this says nothing about the credentials", e.StatusCode, http.StatusText(e.StatusCode))
	case e.ErrorCode != "":
		fmt.Fprintf(&b, " failed: %s", e.ErrorCode)
		if e.Description != "" {
			fmt.Fprintf(&b, ": %s", e.Description)
		}
		if e.StatusCode != 0 {
			fmt.Fprintf(&b, " (HTTP %d)", e.StatusCode)
		}
	case e.StatusCode != 0:
		fmt.Fprintf(&b, " failed: HTTP %d %s", e.StatusCode, http.StatusText(e.StatusCode))
	case e.Err != nil:
		fmt.Fprintf(&b, " failed: %v", e.Err)
	default:
		b.WriteString(" failed")
	}
	if e.Body != "" && e.ErrorCode == "" {
		fmt.Fprintf(&b, ": %s", e.Body)
	}
	if e.Hint != "" {
		fmt.Fprintf(&b, "; %s", e.Hint)
	}
	return b.String()
}

// Unwrap returns Err (an *oauth2.RetrieveError, a network error).
func (e *TokenError) Unwrap() error { return e.Err }

// Retryable tells the retry package that a rate-limited or failing
// endpoint, or one that could not be reached, may answer a later attempt:
// the credentials were not judged.
func (e *TokenError) Retryable() bool {
	return e.RateLimited || e.ServerError || e.StatusCode == 0 && e.Err != nil
}

// AuthError is an API's refusal of the credentials: a 401 to a request made
// with credentials that cannot be renewed (a static token, an API key, HTTP
// Basic), a refusal that persisted after the token was renewed (a 401
// after one more try, or a second 403: the credentials are valid but lack
// permission), or a 401 or 403 to a request sent without credentials.
type AuthError struct {
	Provider   string // the provider's name, as the Transport was given it
	Method     string // MethodNone when no credentials were configured
	Host       string // the API host that refused
	StatusCode int    // 401 or 403
	// Renewed: a freshly issued token was refused too, so renewing again
	// would not help.
	Renewed bool
	// Message is a short excerpt of the server's answer.
	Message string
	// Hint says what to check.
	Hint string
}

// Error says who refused what, the server's message and what to check.
func (e *AuthError) Error() string {
	var b strings.Builder
	provider := e.Provider
	if provider == "" {
		provider = "auth"
	}
	switch {
	case e.Method == MethodNone:
		fmt.Fprintf(&b, "%s: %s answered HTTP %d %s and no credentials are configured", provider, e.Host, e.StatusCode, http.StatusText(e.StatusCode))
	case e.StatusCode == http.StatusForbidden && e.Renewed:
		fmt.Fprintf(&b, "%s: %s refused a freshly issued token (HTTP 403): the %s credentials are valid but lack permission", provider, e.Host, methodNoun(e.Method))
	default:
		fmt.Fprintf(&b, "%s: %s refused the %s credentials (HTTP %d)", provider, e.Host, methodNoun(e.Method), e.StatusCode)
		if e.Renewed {
			b.WriteString(" even with a freshly issued token")
		}
	}
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	if e.Hint != "" {
		fmt.Fprintf(&b, "; %s", e.Hint)
	}
	return b.String()
}

func methodNoun(m string) string {
	switch m {
	case MethodToken:
		return "bearer token"
	case MethodAPIKey:
		return "API key"
	case MethodBasic:
		return "HTTP Basic"
	case MethodClientCredentials:
		return "OAuth2 client"
	case MethodLogin:
		return "login"
	case "":
		return "configured"
	}
	return m
}

// tokenError turns a token request failure into a *TokenError. secrets are
// scrubbed from every text taken from the answer, in case a server echoes
// the request.
func tokenError(provider, tokenURL string, err error, secrets *redact.Secrets) *TokenError {
	te := &TokenError{Provider: provider, TokenURL: tokenURL, Err: err}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		// The RetrieveError's own message quotes the body verbatim; keep it
		// reachable for errors.As but never print it.
		te.Err = &scrubbedRetrieveError{re}
		if re.Response != nil {
			te.StatusCode = re.Response.StatusCode
		}
		te.ErrorCode = serverText(re.ErrorCode, secrets, 100)
		te.Description = serverText(re.ErrorDescription, secrets, 300)
		if te.ErrorCode == "" {
			te.Body = serverText(string(re.Body), secrets, 200)
		}
	}
	switch {
	case te.StatusCode == http.StatusTooManyRequests:
		te.RateLimited = true
		te.Hint = "try again later"
	case te.StatusCode >= 500:
		te.ServerError = true
		te.Hint = "the provider's auth server has a problem; try again later"
	case te.StatusCode >= 300 && te.StatusCode < 400:
		te.Hint = "the token URL redirects; set the token URL to the final address"
	case te.ErrorCode == "invalid_client" || te.StatusCode == http.StatusUnauthorized:
		te.Hint = "check the client id and client secret"
	case te.ErrorCode == "invalid_scope":
		te.Hint = "check the requested scopes"
	case te.ErrorCode == "unauthorized_client":
		te.Hint = "the client is not allowed the client_credentials grant; check its settings at the provider"
	case te.ErrorCode == "invalid_request", te.ErrorCode == "unsupported_grant_type":
		te.Hint = "check the token URL and the auth style (basic|body)"
	case te.StatusCode == http.StatusNotFound:
		te.Hint = "check the token URL"
	case te.StatusCode == 0 && err != nil:
		te.Hint = "check the token URL and the network"
	}
	return te
}

// scrubbedRetrieveError hides the body in the message of an
// *oauth2.RetrieveError while keeping it available to errors.As.
type scrubbedRetrieveError struct{ re *oauth2.RetrieveError }

func (s *scrubbedRetrieveError) Error() string {
	code := 0
	if s.re.Response != nil {
		code = s.re.Response.StatusCode
	}
	return fmt.Sprintf("oauth2: token endpoint answered HTTP %d", code)
}

func (s *scrubbedRetrieveError) As(target any) bool {
	if p, ok := target.(**oauth2.RetrieveError); ok {
		*p = s.re
		return true
	}
	return false
}

// serverText makes text from a server fit for an error message: secrets
// masked in every encoding (a server may echo the request), terminal
// escapes and control characters out, at most n bytes on one line.
func serverText(s string, secrets *redact.Secrets, n int) string {
	return clip(termsafe.String(secrets.Scrub(s)), n)
}

// clip shortens s to at most n bytes of valid UTF-8 on one line.
func clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= n {
		return strings.ToValidUTF8(s, "?")
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strings.ToValidUTF8(s[:cut], "?") + "…"
}
