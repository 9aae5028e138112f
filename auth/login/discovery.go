package login

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/stacq/stacq/internal/redact"
)

// Metadata is the part of an OpenID Provider's discovery document that
// login uses (OpenID Connect Discovery 1.0, RFC 8414, RFC 8628 §4).
type Metadata struct {
	Issuer                        string   `json:"issuer"`
	AuthorizationEndpoint         string   `json:"authorization_endpoint,omitempty"`
	TokenEndpoint                 string   `json:"token_endpoint"`
	DeviceAuthorizationEndpoint   string   `json:"device_authorization_endpoint,omitempty"`
	UserinfoEndpoint              string   `json:"userinfo_endpoint,omitempty"`
	RevocationEndpoint            string   `json:"revocation_endpoint,omitempty"`
	ScopesSupported               []string `json:"scopes_supported,omitempty"`
	CodeChallengeMethodsSupported []string `json:"code_challenge_methods_supported,omitempty"`
	GrantTypesSupported           []string `json:"grant_types_supported,omitempty"`
}

// maxDocument bounds what is read from a provider's answer: discovery
// documents and token responses are a few kilobytes.
const maxDocument = 1 << 20

// DiscoveryURL returns where issuer publishes its discovery document.
func DiscoveryURL(issuer string) string {
	return strings.TrimRight(issuer, "/") + "/.well-known/openid-configuration"
}

// Discover fetches and checks the discovery document of issuer. The
// document must name the same issuer (trailing slashes aside) and a token
// endpoint, and every endpoint must be https or on a loopback address, so
// that tokens are never sent in clear over a network.
func Discover(ctx context.Context, hc *http.Client, issuer string) (*Metadata, error) {
	if err := checkEndpoint("issuer", issuer); err != nil {
		return nil, err
	}
	u := DiscoveryURL(issuer)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("login: discovery request for %s: %w", redact.URL(u), err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := httpClient(hc).Do(req)
	if err != nil {
		return nil, fmt.Errorf("login: discovery: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDocument))
	if err != nil {
		return nil, fmt.Errorf("login: reading discovery document %s: %w", redact.URL(u), err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("login: discovery document %s: HTTP %d (is %q the issuer URL?)",
			redact.URL(u), resp.StatusCode, redact.URL(issuer))
	}
	var m Metadata
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, fmt.Errorf("login: discovery document %s: %w", redact.URL(u), err)
	}
	if strings.TrimRight(m.Issuer, "/") != strings.TrimRight(issuer, "/") {
		return nil, fmt.Errorf("login: discovery document %s names issuer %q, not %q",
			redact.URL(u), redact.URL(m.Issuer), redact.URL(issuer))
	}
	if m.TokenEndpoint == "" {
		return nil, fmt.Errorf("login: discovery document %s has no token_endpoint", redact.URL(u))
	}
	for _, e := range []struct{ name, url string }{
		{"token_endpoint", m.TokenEndpoint},
		{"authorization_endpoint", m.AuthorizationEndpoint},
		{"device_authorization_endpoint", m.DeviceAuthorizationEndpoint},
		{"userinfo_endpoint", m.UserinfoEndpoint},
		{"revocation_endpoint", m.RevocationEndpoint},
	} {
		if e.url == "" {
			continue
		}
		if err := checkEndpoint(e.name, e.url); err != nil {
			return nil, err
		}
	}
	return &m, nil
}

// checkEndpoint refuses URLs that would carry tokens in clear text over a
// network: plain http is only accepted on loopback addresses.
func checkEndpoint(name, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("login: %s %q is not an absolute URL", name, redact.URL(raw))
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if isLoopback(u.Hostname()) {
			return nil
		}
	}
	return fmt.Errorf("login: %s %s must use https", name, redact.URL(raw))
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func httpClient(hc *http.Client) *http.Client {
	if hc == nil {
		return http.DefaultClient
	}
	return hc
}
