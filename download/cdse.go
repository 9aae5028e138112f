package download

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"

	"golang.org/x/oauth2"
)

// Copernicus Data Space Ecosystem: the identity server's token endpoint
// and the public client id its documentation gives for the password
// grant, and the domain whose download services take the token.
const (
	CDSETokenURL = "https://identity.dataspace.copernicus.eu/auth/realms/CDSE/protocol/openid-connect/token"
	CDSEClientID = "cdse-public"
	CDSEDomain   = ".dataspace.copernicus.eu"
)

// CDSEConfig is a Copernicus Data Space account.
type CDSEConfig struct {
	Username, Password string
	// TokenURL and ClientID default to CDSETokenURL and CDSEClientID.
	TokenURL, ClientID string
	// HTTPClient makes the token requests; nil is http.DefaultClient.
	HTTPClient *http.Client
}

// CDSETokenSource returns the access tokens of a CDSE account: one
// password grant, then the refresh token for each renewal (access tokens
// last 10 minutes), and a new password grant when the refresh token is
// refused (it lasts an hour). Tokens are reused until they expire; the
// source is safe for concurrent use. ctx bounds every token request. The
// password is sent to the token URL only and appears in no error.
func CDSETokenSource(ctx context.Context, cfg CDSEConfig) oauth2.TokenSource {
	if cfg.TokenURL == "" {
		cfg.TokenURL = CDSETokenURL
	}
	if cfg.ClientID == "" {
		cfg.ClientID = CDSEClientID
	}
	if cfg.HTTPClient != nil {
		ctx = context.WithValue(ctx, oauth2.HTTPClient, cfg.HTTPClient)
	}
	src := &cdseSource{ctx: ctx, cfg: cfg, conf: &oauth2.Config{
		ClientID: cfg.ClientID,
		Endpoint: oauth2.Endpoint{TokenURL: cfg.TokenURL, AuthStyle: oauth2.AuthStyleInParams},
	}}
	return oauth2.ReuseTokenSource(nil, src)
}

// CDSEClient returns a client that sends the account's bearer token with
// every request, over base's transport (nil: http.DefaultTransport). Route
// it to CDSEDomain only (Router.Route).
func CDSEClient(ts oauth2.TokenSource, base *http.Client) *http.Client {
	c := &http.Client{}
	if base != nil {
		cp := *base
		c = &cp
	}
	c.Transport = &oauth2.Transport{Source: ts, Base: c.Transport}
	return c
}

type cdseSource struct {
	ctx  context.Context
	cfg  CDSEConfig
	conf *oauth2.Config

	mu      sync.Mutex
	refresh string
}

// Token implements oauth2.TokenSource: a refresh, else a password grant.
func (s *cdseSource) Token() (*oauth2.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.refresh != "" {
		tok, err := s.conf.TokenSource(s.ctx, &oauth2.Token{RefreshToken: s.refresh}).Token()
		if err == nil {
			s.keep(tok)
			return tok, nil
		}
		// Expired or revoked (the session ends after an hour): sign in again.
		s.refresh = ""
	}
	tok, err := s.conf.PasswordCredentialsToken(s.ctx, s.cfg.Username, s.cfg.Password)
	if err != nil {
		return nil, s.explain(err)
	}
	s.keep(tok)
	return tok, nil
}

func (s *cdseSource) keep(tok *oauth2.Token) {
	if tok.RefreshToken != "" {
		s.refresh = tok.RefreshToken
	}
}

// CDSEError is a failed CDSE sign-in: the identity server's error code
// and description, without the request (and so without the password).
type CDSEError struct {
	Username    string
	StatusCode  int
	Code        string // e.g. "invalid_grant"
	Description string
	Err         error // the transport error when there was no answer
}

// Error says who was refused and what to check.
func (e *CDSEError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("CDSE sign-in as %s: %v", e.Username, e.Err)
	}
	msg := fmt.Sprintf("CDSE sign-in as %s refused (HTTP %d", e.Username, e.StatusCode)
	if e.Code != "" {
		msg += " " + e.Code
	}
	msg += ")"
	if e.Description != "" {
		msg += ": " + clip(e.Description, 200)
	}
	if e.Code == "invalid_grant" {
		msg += "; check the user name and password (CDSE_USERNAME, CDSE_PASSWORD)"
	}
	return msg
}

// Unwrap returns the transport error, if any.
func (e *CDSEError) Unwrap() error { return e.Err }

func (s *cdseSource) explain(err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		ce := &CDSEError{Username: s.cfg.Username, Code: re.ErrorCode, Description: re.ErrorDescription}
		if re.Response != nil {
			ce.StatusCode = re.Response.StatusCode
		}
		return ce
	}
	return &CDSEError{Username: s.cfg.Username, Err: transportError(err)}
}
