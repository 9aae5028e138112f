package login

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"slices"
	"time"

	"golang.org/x/oauth2"
)

// Flow selects how the user signs in.
type Flow int

const (
	// FlowAuto uses the browser flow when a browser can be opened and the
	// provider has an authorization endpoint, and the device flow
	// otherwise.
	FlowAuto Flow = iota
	// FlowDevice is the device authorization grant (RFC 8628).
	FlowDevice
	// FlowBrowser is the authorization code grant with PKCE and a
	// loopback redirect (RFC 7636, RFC 8252).
	FlowBrowser
)

// String returns the flow's name: "device", "browser" or "auto".
func (f Flow) String() string {
	switch f {
	case FlowDevice:
		return "device"
	case FlowBrowser:
		return "browser"
	}
	return "auto"
}

// Config describes one interactive login.
type Config struct {
	// Issuer is the OpenID Connect issuer URL.
	Issuer string
	// ClientID is a public client registered at the provider for
	// command-line use (no client secret).
	ClientID string
	// Scopes to request. Empty means openid plus profile and email where
	// the provider supports them. offline_access is added whenever the
	// provider lists it in scopes_supported, so that there is a refresh
	// token to keep the session alive.
	Scopes []string
	// AuthParams are extra parameters of the authorization and device
	// authorization requests, such as Auth0's "audience".
	AuthParams map[string]string
	// HTTPClient makes every request to the provider; nil means
	// http.DefaultClient.
	HTTPClient *http.Client
	// Prompt receives the instructions for the user: the verification URL
	// and user code, or the URL to open (a terminal program passes stderr); nil
	// discards them.
	Prompt io.Writer
	// OpenBrowser opens a URL in the user's browser; nil means
	// [OpenBrowser]. When it fails the URL is printed for the user.
	OpenBrowser func(url string) error
	// ListenAddr is the loopback address of the redirect listener;
	// default "127.0.0.1:0" (a random free port).
	ListenAddr string

	// pollUnit is the length of one second of the polling intervals the
	// provider asks for (RFC 8628 counts in seconds); tests shrink it.
	pollUnit time.Duration
	// now is the clock; tests may fix it.
	now func() time.Time
}

func (c *Config) clock() time.Time {
	if c.now != nil {
		return c.now()
	}
	return time.Now()
}

func (c *Config) prompt() io.Writer {
	if c.Prompt == nil {
		return io.Discard
	}
	return c.Prompt
}

// Login discovers the provider and runs flow. FlowAuto picks the browser
// flow when a browser can be opened (an OpenBrowser function was given, or
// [CanOpenBrowser] reports one) and the device flow otherwise.
func (c *Config) Login(ctx context.Context, flow Flow) (*Session, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	m, err := Discover(ctx, c.HTTPClient, c.Issuer)
	if err != nil {
		return nil, err
	}
	if flow == FlowAuto {
		flow = FlowDevice
		if m.AuthorizationEndpoint != "" && (c.OpenBrowser != nil || CanOpenBrowser()) {
			flow = FlowBrowser
		}
		if m.DeviceAuthorizationEndpoint == "" {
			flow = FlowBrowser
		}
	}
	if flow == FlowBrowser {
		return c.loginBrowser(ctx, m)
	}
	return c.loginDevice(ctx, m)
}

// LoginDevice runs the device authorization grant: it prints the
// verification URL and the user code to Prompt and polls the token
// endpoint as the provider asks (interval, slow_down) until the user
// approves, refuses (ErrAccessDenied) or the code expires
// (ErrCodeExpired), or ctx ends.
func (c *Config) LoginDevice(ctx context.Context) (*Session, error) {
	return c.Login(ctx, FlowDevice)
}

// LoginBrowser runs the authorization code grant with PKCE (S256): it
// listens on a random loopback port, opens the browser at the provider's
// authorization URL (printing it too), checks the state of the redirect
// and exchanges the code, or returns when ctx ends.
func (c *Config) LoginBrowser(ctx context.Context) (*Session, error) {
	return c.Login(ctx, FlowBrowser)
}

// scopes returns what to request from m.
func (c *Config) scopes(m *Metadata) []string {
	scopes := slices.Clone(c.Scopes)
	if len(scopes) == 0 {
		scopes = []string{"openid"}
		for _, s := range []string{"profile", "email"} {
			if len(m.ScopesSupported) == 0 || slices.Contains(m.ScopesSupported, s) {
				scopes = append(scopes, s)
			}
		}
	}
	if !slices.Contains(scopes, "offline_access") && slices.Contains(m.ScopesSupported, "offline_access") {
		scopes = append(scopes, "offline_access")
	}
	return scopes
}

// authParams turns AuthParams into x/oauth2 options.
func (c *Config) authParams() []oauth2.AuthCodeOption {
	var opts []oauth2.AuthCodeOption
	keys := make([]string, 0, len(c.AuthParams))
	for k := range c.AuthParams {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		opts = append(opts, oauth2.SetAuthURLParam(k, c.AuthParams[k]))
	}
	return opts
}

func (c *Config) check() error {
	if c.Issuer == "" {
		return fmt.Errorf("login: no issuer URL")
	}
	if c.ClientID == "" {
		return fmt.Errorf("login: no client id for %s", c.Issuer)
	}
	return nil
}

// randomString returns n random bytes, base64url-encoded: state and nonce.
func randomString(n int) string {
	b := make([]byte, n)
	rand.Read(b) // never fails (crypto/rand, Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}
