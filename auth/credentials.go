package auth

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// Credentials put authentication on the requests a Transport sends.
type Credentials interface {
	// Authorize adds the credentials to req, a copy the Transport owns.
	// It returns the access token it used ("" for credentials without
	// one), which Refused gets back.
	Authorize(ctx context.Context, req *http.Request) (token string, err error)
	// Renewable reports whether refused credentials can be replaced by
	// new ones, which is when the Transport sends a refused request again.
	Renewable() bool
	// Refused tells the credentials that an API refused token: the next
	// Authorize uses another one.
	Refused(token string)
}

// NewBearer returns credentials that send tokens from ts as
// "Authorization: Bearer TOKEN" (or the token's own type). They are
// renewable: a refused token is invalidated in ts (when it is a
// TokenInvalidator) and the next request gets a new one. Put a
// ReuseSource under it so that concurrent requests share one token.
func NewBearer(ts TokenSource) Credentials { return &bearer{ts: ts} }

type bearer struct{ ts TokenSource }

func (b *bearer) Authorize(ctx context.Context, req *http.Request) (string, error) {
	t, err := b.ts.Token(ctx)
	if err != nil {
		return "", err
	}
	if t == nil || t.AccessToken == "" {
		return "", fmt.Errorf("the token source returned no access token")
	}
	t.SetAuthHeader(req)
	return t.AccessToken, nil
}

func (b *bearer) Renewable() bool { return true }

func (b *bearer) Refused(token string) { invalidate(b.ts, token) }

// NewStaticToken returns credentials that send token as a bearer token.
// It cannot be renewed: a refusal is final.
func NewStaticToken(token string) Credentials { return staticToken{hide(token)} }

// secret holds a credential behind a function, so that printing a value
// that holds it (fmt shows unexported fields, even of nested structs)
// shows an address, not the secret.
type secret func() string

func hide(s string) secret { return func() string { return s } }

type staticToken struct{ tok secret }

func (s staticToken) Authorize(_ context.Context, req *http.Request) (string, error) {
	(&oauth2.Token{AccessToken: s.tok(), TokenType: "Bearer"}).SetAuthHeader(req)
	return s.tok(), nil
}

func (staticToken) Renewable() bool { return false }
func (staticToken) Refused(string)  {}

// String keeps fmt from printing the token.
func (staticToken) String() string { return "auth.StaticToken(***)" }

// GoString is String, for %#v.
func (s staticToken) GoString() string { return s.String() }

// Token returns the static token, dated from its JWT exp claim if it has
// one, for callers that want to show or pass it on.
func (s staticToken) Token(context.Context) (*oauth2.Token, error) {
	return dated(&oauth2.Token{AccessToken: s.tok(), TokenType: "Bearer"}, time.Now()), nil
}

// Where an API key goes (APIKeyPlacement.In).
const (
	// APIKeyBasic sends the key as the HTTP Basic user name with an empty
	// password (Planet's preferred way).
	APIKeyBasic = "basic"
	// APIKeyHeader sends the key in the header named by
	// APIKeyPlacement.Name, or, without a name, as
	// "Authorization: api-key KEY".
	APIKeyHeader = "header"
	// APIKeyQuery sends the key in the query parameter named by
	// APIKeyPlacement.Name.
	APIKeyQuery = "query"
)

// APIKeyPlacement says where an API key goes: In is APIKeyBasic,
// APIKeyHeader or APIKeyQuery; Name is the header or query parameter.
type APIKeyPlacement struct {
	In   string // APIKeyBasic (the default), APIKeyHeader or APIKeyQuery
	Name string // the header or query parameter
}

// String describes p, e.g. `query parameter "api_key"`.
func (p APIKeyPlacement) String() string {
	switch {
	case p.In == APIKeyQuery:
		return fmt.Sprintf("query parameter %q", p.Name)
	case p.In == APIKeyHeader && p.Name != "":
		return fmt.Sprintf("header %q", p.Name)
	case p.In == APIKeyHeader:
		return `"Authorization: api-key KEY"`
	}
	return "HTTP Basic user name"
}

// NewAPIKey returns credentials that send key as p says. They cannot be
// renewed.
func NewAPIKey(key string, p APIKeyPlacement) (Credentials, error) {
	p.In = strings.ToLower(p.In)
	switch p.In {
	case "":
		p.In = APIKeyBasic
	case APIKeyBasic, APIKeyHeader:
	case APIKeyQuery:
		if p.Name == "" {
			return nil, fmt.Errorf("API key in a query parameter: no parameter name")
		}
	default:
		return nil, fmt.Errorf("API key style %q: want %q, %q or %q", p.In, APIKeyBasic, APIKeyHeader, APIKeyQuery)
	}
	if p.In == APIKeyHeader && p.Name != "" && !ValidHeaderName(p.Name) {
		return nil, fmt.Errorf("API key header %q is not a valid header name", p.Name)
	}
	return &apiKey{key: hide(key), p: p}, nil
}

type apiKey struct {
	key secret
	p   APIKeyPlacement
}

func (k *apiKey) Authorize(_ context.Context, req *http.Request) (string, error) {
	switch {
	case k.p.In == APIKeyQuery:
		q := req.URL.Query()
		q.Set(k.p.Name, k.key())
		req.URL.RawQuery = q.Encode()
	case k.p.In == APIKeyHeader && k.p.Name != "":
		req.Header.Set(k.p.Name, k.key())
	case k.p.In == APIKeyHeader:
		req.Header.Set("Authorization", "api-key "+k.key())
	default:
		req.SetBasicAuth(k.key(), "")
	}
	return "", nil
}

func (*apiKey) Renewable() bool { return false }
func (*apiKey) Refused(string)  {}

// String keeps fmt from printing the key.
func (k *apiKey) String() string { return "auth.APIKey(***, " + k.p.String() + ")" }

// GoString is String, for %#v.
func (k *apiKey) GoString() string { return k.String() }

// NewBasic returns HTTP Basic credentials (RFC 7617). They cannot be
// renewed.
func NewBasic(user, password string) Credentials { return &basic{user, hide(password)} }

type basic struct {
	user     string
	password secret
}

func (b *basic) Authorize(_ context.Context, req *http.Request) (string, error) {
	req.SetBasicAuth(b.user, b.password())
	return "", nil
}

func (*basic) Renewable() bool { return false }
func (*basic) Refused(string)  {}

// String keeps fmt from printing the password.
func (b *basic) String() string { return fmt.Sprintf("auth.Basic(%q, ***)", b.user) }

// GoString is String, for %#v.
func (b *basic) GoString() string { return b.String() }

// ValidHeaderName reports whether name is an HTTP field name (an RFC 9110
// token), as the header of an API key, or any header a client adds, must
// be.
func ValidHeaderName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}
