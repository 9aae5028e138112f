package login

// A real OpenID Provider for the tests: zitadel/oidc's op package on
// loopback, over a compact in-memory op.Storage (modelled on
// zitadel/oidc's example/server/storage). Everything protocol-related
// (discovery, authorize, PKCE verification, token, device, refresh,
// revocation, userinfo, ID token signing) is op's code; the storage only
// keeps records and offers test knobs.

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

const (
	testClientID = "stacq-cli"
	testUser     = "alice"
	testPassword = "wonderland"
	testSubject  = "user-alice-7"
)

// signingKey is made once: RSA key generation is the slowest thing here.
var signingKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// testOP is a running provider.
type testOP struct {
	Issuer string
	st     *opStorage

	mu       sync.Mutex
	authURLs []url.Values // query of every /authorize request
	devForms []url.Values // form of every device authorization request
}

type opOptions struct {
	accessTTL     time.Duration // access token lifetime (default 1h)
	slowDownPolls int           // the first N device polls answer slow_down
	expiredDevice bool          // device codes are born expired
	pollInterval  time.Duration // device polling interval the op announces (default 1s)
}

// startOP starts a provider on loopback for the test.
func startOP(t *testing.T, o opOptions) *testOP {
	t.Helper()
	if o.accessTTL == 0 {
		o.accessTTL = time.Hour
	}
	if o.pollInterval == 0 {
		o.pollInterval = time.Second
	}
	st := newOPStorage(o)
	root := http.NewServeMux()
	srv := httptest.NewUnstartedServer(root)
	issuer := "http://" + srv.Listener.Addr().String()
	cfg := &op.Config{
		CryptoKey:             [32]byte{1, 2, 3},
		CodeMethodS256:        true,
		GrantTypeRefreshToken: true,
		DeviceAuthorization: op.DeviceAuthorizationConfig{
			Lifetime:     5 * time.Minute,
			PollInterval: o.pollInterval,
			UserFormPath: "/device",
			UserCode:     op.UserCodeBase20,
		},
	}
	provider, err := op.NewProvider(cfg, st, op.StaticIssuer(issuer), op.WithAllowInsecure())
	if err != nil {
		t.Fatal(err)
	}
	tp := &testOP{Issuer: issuer, st: st}

	// The login UI the op redirects to (Client.LoginURL): a password form.
	root.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<form method="post" action="/login"><input type="hidden" name="id" value="%s">`+
			`<input name="username"><input name="password" type="password"></form>`,
			html.EscapeString(r.URL.Query().Get("authRequestID")))
	})
	root.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		id := r.PostFormValue("id")
		if r.PostFormValue("username") != testUser || r.PostFormValue("password") != testPassword {
			http.Error(w, "wrong username or password", http.StatusUnauthorized)
			return
		}
		if err := st.authenticate(id, testSubject); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		ctx := op.ContextWithIssuer(r.Context(), issuer)
		http.Redirect(w, r, op.AuthCallbackURL(provider)(ctx, id), http.StatusFound)
	})
	// The device verification page (UserFormPath): the user signs in and
	// approves or denies the code.
	root.HandleFunc("POST /device", func(w http.ResponseWriter, r *http.Request) {
		if r.PostFormValue("username") != testUser || r.PostFormValue("password") != testPassword {
			http.Error(w, "wrong username or password", http.StatusUnauthorized)
			return
		}
		if err := st.decideDevice(r.PostFormValue("user_code"), r.PostFormValue("action") == "allow"); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		fmt.Fprintln(w, "device decided")
	})
	root.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/authorize":
			tp.mu.Lock()
			tp.authURLs = append(tp.authURLs, r.URL.Query())
			tp.mu.Unlock()
		case "/device_authorization":
			r.ParseForm()
			tp.mu.Lock()
			tp.devForms = append(tp.devForms, r.PostForm)
			tp.mu.Unlock()
		}
		provider.ServeHTTP(w, r)
	}))
	srv.Start()
	t.Cleanup(srv.Close)
	return tp
}

func (tp *testOP) lastAuthorize() url.Values {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	if len(tp.authURLs) == 0 {
		return nil
	}
	return tp.authURLs[len(tp.authURLs)-1]
}

// opStorage implements op.Storage and op.DeviceAuthorizationStorage.
type opStorage struct {
	opts opOptions
	key  *rsa.PrivateKey

	mu        sync.Mutex
	authReqs  map[string]*authRequest
	codes     map[string]string // code -> auth request id
	access    map[string]*accessRecord
	refresh   map[string]*refreshRecord // by token value
	devices   map[string]*deviceRecord  // by device code
	userCodes map[string]string         // user code -> device code
	refreshes int                       // refresh grants served
	revoked   []string                  // refresh tokens revoked
	polls     []time.Time               // device token polls
}

type accessRecord struct {
	subject, clientID string
	scopes            []string
	expiry            time.Time
}

type refreshRecord struct {
	subject, clientID string
	scopes            []string
	authTime          time.Time
	amr               []string
}

type deviceRecord struct {
	state *op.DeviceAuthorizationState
	polls int
}

func newOPStorage(o opOptions) *opStorage {
	return &opStorage{
		opts:      o,
		key:       signingKey(),
		authReqs:  map[string]*authRequest{},
		codes:     map[string]string{},
		access:    map[string]*accessRecord{},
		refresh:   map[string]*refreshRecord{},
		devices:   map[string]*deviceRecord{},
		userCodes: map[string]string{},
	}
}

func newID() string { return rand.Text() }

// authenticate marks an authorization request as signed in by subject.
func (s *opStorage) authenticate(id, subject string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	req, ok := s.authReqs[id]
	if !ok {
		return errors.New("unknown auth request")
	}
	req.subject, req.done, req.authTime = subject, true, time.Now()
	return nil
}

func (s *opStorage) decideDevice(userCode string, allow bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.devices[s.userCodes[userCode]]
	if !ok {
		return errors.New("unknown user code")
	}
	if allow {
		d.state.Done, d.state.Subject, d.state.AuthTime = true, testSubject, time.Now()
		d.state.AMR = []string{"pwd"}
	} else {
		d.state.Denied = true
	}
	return nil
}

// revokeAll forgets every refresh token, as an administrator revoking
// the user's sessions would.
func (s *opStorage) revokeAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.refresh)
}

func (s *opStorage) refreshCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refreshes
}

func (s *opStorage) hasRefreshToken(tok string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.refresh[tok]
	return ok
}

func (s *opStorage) pollTimes() []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.polls)
}

// --- op.AuthStorage

func (s *opStorage) CreateAuthRequest(_ context.Context, r *oidc.AuthRequest, userID string) (op.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	req := &authRequest{id: newID(), r: *r, created: time.Now()}
	s.authReqs[req.id] = req
	return req, nil
}

func (s *opStorage) AuthRequestByID(_ context.Context, id string) (op.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if req, ok := s.authReqs[id]; ok {
		return req, nil
	}
	return nil, errors.New("auth request not found")
}

func (s *opStorage) AuthRequestByCode(ctx context.Context, code string) (op.AuthRequest, error) {
	s.mu.Lock()
	id, ok := s.codes[code]
	s.mu.Unlock()
	if !ok {
		return nil, errors.New("code invalid or expired")
	}
	return s.AuthRequestByID(ctx, id)
}

func (s *opStorage) SaveAuthCode(_ context.Context, id, code string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.codes[code] = id
	return nil
}

func (s *opStorage) DeleteAuthRequest(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.authReqs, id)
	for code, rid := range s.codes {
		if rid == id {
			delete(s.codes, code)
		}
	}
	return nil
}

func (s *opStorage) newAccess(subject, clientID string, scopes []string) (string, time.Time) {
	id := newID()
	exp := time.Now().Add(s.opts.accessTTL)
	s.access[id] = &accessRecord{subject: subject, clientID: clientID, scopes: scopes, expiry: exp}
	return id, exp
}

func (s *opStorage) CreateAccessToken(_ context.Context, r op.TokenRequest) (string, time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, exp := s.newAccess(r.GetSubject(), clientIDOf(r), r.GetScopes())
	return id, exp, nil
}

func clientIDOf(r op.TokenRequest) string {
	if c, ok := r.(interface{ GetClientID() string }); ok {
		return c.GetClientID()
	}
	return ""
}

// CreateAccessAndRefreshTokens rotates the refresh token on every use,
// as RFC 9700 §4.14.2 recommends for public clients.
func (s *opStorage) CreateAccessAndRefreshTokens(_ context.Context, r op.TokenRequest, current string) (string, string, time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := &refreshRecord{subject: r.GetSubject(), clientID: clientIDOf(r), scopes: r.GetScopes()}
	if a, ok := r.(interface {
		GetAuthTime() time.Time
		GetAMR() []string
	}); ok {
		rec.authTime, rec.amr = a.GetAuthTime(), a.GetAMR()
	}
	if current != "" {
		if _, ok := s.refresh[current]; !ok {
			return "", "", time.Time{}, errors.New("refresh token revoked")
		}
		delete(s.refresh, current)
		s.refreshes++
	}
	rt := newID()
	s.refresh[rt] = rec
	id, exp := s.newAccess(rec.subject, rec.clientID, rec.scopes)
	return id, rt, exp, nil
}

func (s *opStorage) TokenRequestByRefreshToken(_ context.Context, rt string) (op.RefreshTokenRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, ok := s.refresh[rt]
	if !ok {
		return nil, errors.New("invalid refresh token")
	}
	cp := *rec
	return &refreshRequest{&cp}, nil
}

func (s *opStorage) TerminateSession(context.Context, string, string) error { return nil }

func (s *opStorage) RevokeToken(_ context.Context, tokenOrID, userID, clientID string) *oidc.Error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if rec, ok := s.refresh[tokenOrID]; ok {
		if rec.clientID != clientID {
			return oidc.ErrInvalidClient().WithDescription("token was not issued for this client")
		}
		delete(s.refresh, tokenOrID)
		s.revoked = append(s.revoked, tokenOrID)
		return nil
	}
	delete(s.access, tokenOrID)
	return nil
}

func (s *opStorage) GetRefreshTokenInfo(_ context.Context, clientID, token string) (string, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, ok := s.refresh[token]
	if !ok {
		return "", "", op.ErrInvalidRefreshToken
	}
	return rec.subject, token, nil
}

func (s *opStorage) SigningKey(context.Context) (op.SigningKey, error) { return rsaKey{s.key}, nil }

func (s *opStorage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.RS256}, nil
}

func (s *opStorage) KeySet(context.Context) ([]op.Key, error) { return []op.Key{rsaPublic{s.key}}, nil }

// --- op.OPStorage

func (s *opStorage) GetClientByClientID(_ context.Context, clientID string) (op.Client, error) {
	if clientID != testClientID {
		return nil, errors.New("client not found")
	}
	return nativeClient{}, nil
}

func (s *opStorage) AuthorizeClientIDSecret(context.Context, string, string) error {
	return errors.New("no confidential clients here")
}

func (s *opStorage) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil // deprecated in op: SetUserinfoFromRequest does the work
}

func (s *opStorage) SetUserinfoFromRequest(_ context.Context, ui *oidc.UserInfo, r op.IDTokenRequest, scopes []string) error {
	setUserinfo(ui, r.GetSubject(), scopes)
	return nil
}

func (s *opStorage) SetUserinfoFromToken(_ context.Context, ui *oidc.UserInfo, tokenID, subject, origin string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.access[tokenID]
	if !ok || time.Now().After(a.expiry) {
		return errors.New("token invalid or expired")
	}
	setUserinfo(ui, a.subject, a.scopes)
	return nil
}

func setUserinfo(ui *oidc.UserInfo, subject string, scopes []string) {
	ui.Subject = subject
	for _, sc := range scopes {
		switch sc {
		case oidc.ScopeEmail:
			ui.Email, ui.EmailVerified = "alice@example.com", true
		case oidc.ScopeProfile:
			ui.Name, ui.PreferredUsername = "Alice Example", testUser
		}
	}
}

func (s *opStorage) SetIntrospectionFromToken(context.Context, *oidc.IntrospectionResponse, string, string, string) error {
	return errors.New("introspection not supported")
}

func (s *opStorage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}

func (s *opStorage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errors.New("no JWT profile keys")
}

func (s *opStorage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, errors.New("no JWT profile grant")
}

func (s *opStorage) Health(context.Context) error { return nil }

// --- op.DeviceAuthorizationStorage

func (s *opStorage) StoreDeviceAuthorization(_ context.Context, clientID, deviceCode, userCode string, expires time.Time, scopes []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.userCodes[userCode]; ok {
		return op.ErrDuplicateUserCode
	}
	if s.opts.expiredDevice {
		expires = time.Now().Add(-time.Second)
	}
	s.devices[deviceCode] = &deviceRecord{state: &op.DeviceAuthorizationState{ClientID: clientID, Scopes: scopes, Expires: expires}}
	s.userCodes[userCode] = deviceCode
	return nil
}

// GetDeviceAuthorizatonState answers the op's poll. To make the op send
// slow_down, it reports a storage timeout (context.DeadlineExceeded):
// that is the op's own path to slow_down (op.CheckDeviceAuthorizationState).
func (s *opStorage) GetDeviceAuthorizatonState(_ context.Context, clientID, deviceCode string) (*op.DeviceAuthorizationState, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.polls = append(s.polls, time.Now())
	d, ok := s.devices[deviceCode]
	if !ok || d.state.ClientID != clientID {
		return nil, errors.New("device code not found for client")
	}
	d.polls++
	if d.polls <= s.opts.slowDownPolls {
		return nil, fmt.Errorf("storage busy: %w", context.DeadlineExceeded)
	}
	cp := *d.state
	return &cp, nil
}

// --- records as op interfaces

type authRequest struct {
	id       string
	r        oidc.AuthRequest
	created  time.Time
	subject  string
	done     bool
	authTime time.Time
}

func (a *authRequest) GetID() string                      { return a.id }
func (a *authRequest) GetACR() string                     { return "" }
func (a *authRequest) GetAMR() []string                   { return []string{"pwd"} }
func (a *authRequest) GetAudience() []string              { return []string{a.r.ClientID} }
func (a *authRequest) GetAuthTime() time.Time             { return a.authTime }
func (a *authRequest) GetClientID() string                { return a.r.ClientID }
func (a *authRequest) GetNonce() string                   { return a.r.Nonce }
func (a *authRequest) GetRedirectURI() string             { return a.r.RedirectURI }
func (a *authRequest) GetResponseType() oidc.ResponseType { return a.r.ResponseType }
func (a *authRequest) GetResponseMode() oidc.ResponseMode { return a.r.ResponseMode }
func (a *authRequest) GetScopes() []string                { return a.r.Scopes }
func (a *authRequest) GetState() string                   { return a.r.State }
func (a *authRequest) GetSubject() string                 { return a.subject }
func (a *authRequest) Done() bool                         { return a.done }
func (a *authRequest) GetCodeChallenge() *oidc.CodeChallenge {
	if a.r.CodeChallenge == "" {
		return nil
	}
	return &oidc.CodeChallenge{Challenge: a.r.CodeChallenge, Method: a.r.CodeChallengeMethod}
}

type refreshRequest struct{ *refreshRecord }

func (r *refreshRequest) GetAMR() []string             { return r.amr }
func (r *refreshRequest) GetAudience() []string        { return []string{r.clientID} }
func (r *refreshRequest) GetAuthTime() time.Time       { return r.authTime }
func (r *refreshRequest) GetClientID() string          { return r.clientID }
func (r *refreshRequest) GetScopes() []string          { return r.scopes }
func (r *refreshRequest) GetSubject() string           { return r.subject }
func (r *refreshRequest) SetCurrentScopes(sc []string) { r.scopes = sc }

// nativeClient is stacq as registered at the provider: a public native
// client with a loopback redirect (any port, RFC 8252 §7.3).
type nativeClient struct{}

func (nativeClient) GetID() string                       { return testClientID }
func (nativeClient) RedirectURIs() []string              { return []string{"http://127.0.0.1/callback"} }
func (nativeClient) PostLogoutRedirectURIs() []string    { return nil }
func (nativeClient) ApplicationType() op.ApplicationType { return op.ApplicationTypeNative }
func (nativeClient) AuthMethod() oidc.AuthMethod         { return oidc.AuthMethodNone }
func (nativeClient) ResponseTypes() []oidc.ResponseType {
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}
func (nativeClient) GrantTypes() []oidc.GrantType {
	return []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken, oidc.GrantTypeDeviceCode}
}
func (nativeClient) LoginURL(id string) string            { return "/login?authRequestID=" + url.QueryEscape(id) }
func (nativeClient) AccessTokenType() op.AccessTokenType  { return op.AccessTokenTypeBearer }
func (nativeClient) IDTokenLifetime() time.Duration       { return time.Hour }
func (nativeClient) DevMode() bool                        { return false }
func (nativeClient) IsScopeAllowed(scope string) bool     { return scope == "stac:read" }
func (nativeClient) IDTokenUserinfoClaimsAssertion() bool { return true }
func (nativeClient) ClockSkew() time.Duration             { return 0 }
func (nativeClient) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (nativeClient) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}

// rsaKey signs ID tokens (op.SigningKey); rsaPublic is its entry in
// the key set (op.Key), which must hold only the public half.
type rsaKey struct{ k *rsa.PrivateKey }

func (k rsaKey) ID() string                                  { return "test-key" }
func (k rsaKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k rsaKey) Key() any                                    { return k.k }

type rsaPublic struct{ k *rsa.PrivateKey }

func (k rsaPublic) ID() string                         { return "test-key" }
func (k rsaPublic) Algorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k rsaPublic) Use() string                        { return "sig" }
func (k rsaPublic) Key() any                           { return &k.k.PublicKey }

var (
	_ op.Storage                    = (*opStorage)(nil)
	_ op.DeviceAuthorizationStorage = (*opStorage)(nil)
	_ op.CanSetUserinfoFromRequest  = (*opStorage)(nil)
)
