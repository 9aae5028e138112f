package login

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/stacq/stacq/internal/redact"
)

// Claims are the ID token claims that say who is logged in (OpenID
// Connect Core §2, §5.1).
type Claims struct {
	Issuer            string    `json:"iss,omitempty"`
	Subject           string    `json:"sub,omitempty"`
	Email             string    `json:"email,omitempty"`
	Name              string    `json:"name,omitempty"`
	PreferredUsername string    `json:"preferred_username,omitempty"`
	Nonce             string    `json:"nonce,omitempty"`
	IssuedAt          time.Time `json:"-"`
	Expiry            time.Time `json:"-"`
}

// Identity is a readable name for the logged-in user: "Alice Doe
// <alice@example.com>", falling back to the username, then the subject.
func (c Claims) Identity() string {
	name := c.Name
	if name == "" {
		name = c.PreferredUsername
	}
	switch {
	case name != "" && c.Email != "":
		return name + " <" + c.Email + ">"
	case name != "":
		return name
	case c.Email != "":
		return c.Email
	}
	return c.Subject
}

// DecodeIDTokenClaims reads the payload of a JWT ID token without
// checking its signature. That is enough for showing who is logged in:
// the token came straight from the provider's token endpoint over TLS
// (OpenID Connect Core §3.1.3.7), and stacq never grants access based on
// it. Do not use it to authenticate anyone.
func DecodeIDTokenClaims(idToken string) (*Claims, error) {
	parts := strings.Split(idToken, ".")
	if len(parts) != 3 && len(parts) != 5 {
		return nil, fmt.Errorf("login: ID token is not a JWT (%d parts)", len(parts))
	}
	if len(parts) == 5 {
		return nil, errors.New("login: ID token is encrypted (JWE); cannot read its claims")
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return nil, fmt.Errorf("login: ID token payload is not base64url: %w", err)
	}
	var raw struct {
		Claims
		IssuedAt json.Number `json:"iat"`
		Expiry   json.Number `json:"exp"`
	}
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		return nil, errors.New("login: ID token payload is not a JSON object of claims")
	}
	c := raw.Claims
	if c.IssuedAt, err = numericDate(raw.IssuedAt); err != nil {
		return nil, fmt.Errorf("login: ID token iat: %w", err)
	}
	if c.Expiry, err = numericDate(raw.Expiry); err != nil {
		return nil, fmt.Errorf("login: ID token exp: %w", err)
	}
	return &c, nil
}

// numericDate reads a JWT NumericDate: seconds since the epoch, possibly
// fractional (RFC 7519 §2).
func numericDate(n json.Number) (time.Time, error) {
	if n == "" {
		return time.Time{}, nil
	}
	f, err := n.Float64()
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f < 0 || f > 1e11 {
		return time.Time{}, fmt.Errorf("not a date: %q", n.String())
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC(), nil
}

// Identity returns the claims of the session's ID token; nil without
// error when the provider gave none.
func (s *Session) Identity() (*Claims, error) {
	if s.IDToken == "" {
		return nil, nil
	}
	return DecodeIDTokenClaims(s.IDToken)
}

// UserInfo asks the provider's userinfo endpoint who the access token
// belongs to (OpenID Connect Core §5.3). Use it when the session has no ID
// token.
func (ts *TokenSource) UserInfo(ctx context.Context) (*Claims, error) {
	sess := ts.Session()
	if sess.UserinfoEndpoint == "" {
		return nil, fmt.Errorf("%w: %s has no userinfo_endpoint", ErrUnsupported, sess.Issuer)
	}
	tok, err := ts.Token()
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, sess.UserinfoEndpoint, nil)
	if err != nil {
		return nil, fmt.Errorf("login: userinfo request: %w", err)
	}
	tok.SetAuthHeader(req)
	req.Header.Set("Accept", "application/json")
	resp, err := httpClient(ts.hc).Do(req)
	if err != nil {
		return nil, fmt.Errorf("login: userinfo request: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDocument))
	if err != nil {
		return nil, fmt.Errorf("login: reading userinfo: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("login: userinfo %s: HTTP %d", redact.URL(sess.UserinfoEndpoint), resp.StatusCode)
	}
	var c Claims
	if err := json.Unmarshal(body, &c); err != nil {
		return nil, fmt.Errorf("login: userinfo %s: not a JSON object of claims", redact.URL(sess.UserinfoEndpoint))
	}
	return &c, nil
}
