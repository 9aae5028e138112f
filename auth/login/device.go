package login

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"golang.org/x/oauth2"
)

const deviceGrantType = "urn:ietf:params:oauth:grant-type:device_code"

func (c *Config) loginDevice(ctx context.Context, m *Metadata) (*Session, error) {
	if m.DeviceAuthorizationEndpoint == "" {
		return nil, fmt.Errorf("%w: %s has no device_authorization_endpoint; use the browser login (--browser)",
			ErrUnsupported, m.Issuer)
	}
	scopes := c.scopes(m)
	oc := oauthConfig(m, c.ClientID, scopes)
	da, err := oc.DeviceAuth(withClient(ctx, c.HTTPClient), c.authParams()...)
	if err != nil {
		return nil, fmt.Errorf("login: device authorization request: %w", err)
	}
	if da.DeviceCode == "" || da.UserCode == "" || da.VerificationURI == "" {
		return nil, fmt.Errorf("login: device authorization response lacks device_code, user_code or verification_uri")
	}
	w := c.prompt()
	fmt.Fprintf(w, "To sign in, open %s and enter the code: %s\n", da.VerificationURI, da.UserCode)
	if da.VerificationURIComplete != "" && da.VerificationURIComplete != da.VerificationURI {
		fmt.Fprintf(w, "(or open %s, which fills in the code)\n", da.VerificationURIComplete)
	}
	fmt.Fprintln(w, "Waiting for you to approve the sign-in...")

	tok, err := c.pollDevice(ctx, oc, da)
	if err != nil {
		return nil, err
	}
	return newSession(m, c.ClientID, scopes, tok, c.clock()), nil
}

// pollDevice asks the token endpoint for the device's token every
// interval (RFC 8628 §3.4, §3.5) until the user answers or the code
// expires.
func (c *Config) pollDevice(ctx context.Context, oc *oauth2.Config, da *oauth2.DeviceAuthResponse) (*oauth2.Token, error) {
	unit := c.pollUnit
	if unit <= 0 {
		unit = time.Second
	}
	interval := da.Interval
	if interval <= 0 {
		interval = 5 // RFC 8628 §3.2: "clients MUST use 5 as the default"
	}
	form := url.Values{
		"grant_type":  {deviceGrantType},
		"device_code": {da.DeviceCode},
		"client_id":   {oc.ClientID},
	}
	timer := time.NewTimer(time.Duration(interval) * unit)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("login: waiting for the device sign-in: %w", ctx.Err())
		case <-timer.C:
		}
		if !da.Expiry.IsZero() && c.clock().After(da.Expiry) {
			return nil, fmt.Errorf("%w: the code %s was not approved in time; run \"stacq auth login\" again",
				ErrCodeExpired, da.UserCode)
		}
		tok, err := postToken(ctx, c.HTTPClient, oc.Endpoint.TokenURL, form)
		if err == nil {
			return tok, nil
		}
		var re *oauth2.RetrieveError
		if !errors.As(err, &re) {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("login: waiting for the device sign-in: %w", ctx.Err())
			}
			return nil, err
		}
		switch re.ErrorCode {
		case "authorization_pending":
		case "slow_down":
			interval += 5 // RFC 8628 §3.5: for this and all later requests
		case "access_denied":
			return nil, fmt.Errorf("%w: the sign-in with code %s was refused (%w)", ErrAccessDenied, da.UserCode, err)
		case "expired_token":
			return nil, fmt.Errorf("%w: the code %s was not approved in time; run \"stacq auth login\" again (%w)",
				ErrCodeExpired, da.UserCode, err)
		default:
			return nil, fmt.Errorf("login: device token request: %w", err)
		}
		timer.Reset(time.Duration(interval) * unit)
	}
}
