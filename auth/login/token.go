package login

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/stacq/stacq/internal/redact"
)

// withClient puts hc where golang.org/x/oauth2 looks for the client of
// its token requests.
func withClient(ctx context.Context, hc *http.Client) context.Context {
	if hc == nil {
		return ctx
	}
	return context.WithValue(ctx, oauth2.HTTPClient, hc)
}

// oauthConfig is the x/oauth2 view of a public client at m. Public
// clients send client_id in the form (AuthStyleInParams); auto-detection
// would first try HTTP Basic with an empty secret.
func oauthConfig(m *Metadata, clientID string, scopes []string) *oauth2.Config {
	return &oauth2.Config{
		ClientID: clientID,
		Scopes:   scopes,
		Endpoint: oauth2.Endpoint{
			AuthURL:       m.AuthorizationEndpoint,
			DeviceAuthURL: m.DeviceAuthorizationEndpoint,
			TokenURL:      m.TokenEndpoint,
			AuthStyle:     oauth2.AuthStyleInParams,
		},
	}
}

// postToken makes one token request and returns x/oauth2's types: the
// token (with the raw response as Extra) or an *oauth2.RetrieveError.
// The device flow polls with it because oauth2.Config.DeviceAccessToken
// runs its own whole-second ticker that callers can neither observe nor,
// in tests, speed up; everything else goes through oauth2.Config.
func postToken(ctx context.Context, hc *http.Client, tokenURL string, form url.Values) (*oauth2.Token, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, tokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("login: token request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := httpClient(hc).Do(req)
	if err != nil {
		return nil, fmt.Errorf("login: token request: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDocument))
	if err != nil {
		return nil, fmt.Errorf("login: reading token response: %w", err)
	}
	var raw map[string]any
	ctype, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if ctype == "application/x-www-form-urlencoded" || ctype == "text/plain" {
		vals, _ := url.ParseQuery(string(body))
		raw = make(map[string]any, len(vals))
		for k := range vals {
			raw[k] = vals.Get(k)
		}
	} else if err := json.Unmarshal(body, &raw); err != nil && resp.StatusCode/100 == 2 {
		return nil, fmt.Errorf("login: token response from %s is not JSON", redact.URL(tokenURL))
	}
	str := func(k string) string { s, _ := raw[k].(string); return s }
	if code := str("error"); code != "" || resp.StatusCode/100 != 2 {
		return nil, &oauth2.RetrieveError{
			Response:         resp,
			Body:             body,
			ErrorCode:        code,
			ErrorDescription: str("error_description"),
			ErrorURI:         str("error_uri"),
		}
	}
	tok := &oauth2.Token{
		AccessToken:  str("access_token"),
		TokenType:    str("token_type"),
		RefreshToken: str("refresh_token"),
	}
	if secs, ok := seconds(raw["expires_in"]); ok && secs > 0 {
		tok.ExpiresIn = secs
		tok.Expiry = time.Now().Add(time.Duration(secs) * time.Second)
	}
	if tok.AccessToken == "" {
		return nil, fmt.Errorf("login: token response from %s has no access_token", redact.URL(tokenURL))
	}
	return tok.WithExtra(raw), nil
}

// seconds reads a JSON number of seconds that may come as a number or a
// string (some servers quote expires_in).
func seconds(v any) (int64, bool) {
	switch n := v.(type) {
	case float64:
		return int64(n), true
	case json.Number:
		i, err := n.Int64()
		return i, err == nil
	case string:
		i, err := strconv.ParseInt(n, 10, 64)
		return i, err == nil
	}
	return 0, false
}

// extraString returns a string member of the token response.
func extraString(tok *oauth2.Token, key string) string {
	s, _ := tok.Extra(key).(string)
	return s
}

// refreshExpiry reads the refresh token's lifetime where the provider
// says it: refresh_expires_in (Keycloak) or refresh_token_expires_in
// (Azure AD, GitHub).
func refreshExpiry(tok *oauth2.Token, now time.Time) time.Time {
	for _, k := range []string{"refresh_expires_in", "refresh_token_expires_in"} {
		if secs, ok := seconds(tok.Extra(k)); ok && secs > 0 {
			return now.Add(time.Duration(secs) * time.Second)
		}
	}
	return time.Time{}
}

// newSession records a fresh login.
func newSession(m *Metadata, clientID string, scopes []string, tok *oauth2.Token, now time.Time) *Session {
	s := &Session{
		Issuer:             m.Issuer,
		ClientID:           clientID,
		TokenEndpoint:      m.TokenEndpoint,
		RevocationEndpoint: m.RevocationEndpoint,
		UserinfoEndpoint:   m.UserinfoEndpoint,
		Scopes:             scopes,
		LoggedIn:           now,
	}
	if granted := extraString(tok, "scope"); granted != "" {
		s.Scopes = strings.Fields(granted)
	}
	s.update(tok, now)
	return s
}

// update stores a token response: a new access token, and the new refresh
// and ID tokens when the provider sent them (rotation).
func (s *Session) update(tok *oauth2.Token, now time.Time) {
	s.AccessToken = tok.AccessToken
	s.TokenType = tok.TokenType
	s.Expiry = tok.Expiry
	if tok.RefreshToken != "" && tok.RefreshToken != s.RefreshToken {
		s.RefreshToken = tok.RefreshToken
		s.RefreshExpiry = time.Time{}
	}
	if exp := refreshExpiry(tok, now); !exp.IsZero() {
		s.RefreshExpiry = exp
	}
	if id := extraString(tok, "id_token"); id != "" {
		s.IDToken = id
	}
}

// isInvalidGrant tells a refused refresh token (the user must log in
// again) from a transient failure (network, 5xx: keep the session).
func isInvalidGrant(err error) bool {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		return false
	}
	return re.ErrorCode == "invalid_grant"
}
