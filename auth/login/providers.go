package login

import (
	"maps"
	"slices"
	"strings"
)

// Provider is a known OpenID Connect provider for user login: where its
// issuer is, which public client stacq signs in as, and what to ask for.
type Provider struct {
	// Name is the short name used on the command line (--provider) and,
	// by default, as the session name.
	Name string
	// Issuer is the OpenID Connect issuer; discovery is read from
	// Issuer + "/.well-known/openid-configuration".
	Issuer string
	// ClientID is the provider's public (secret-less) client for
	// command-line tools.
	ClientID string
	// Scopes requested at login. offline_access is added when the
	// provider advertises it, so it need not be listed here.
	Scopes []string
	// AuthParams are extra parameters sent with the authorization and
	// device authorization requests (Auth0-based providers need
	// "audience" to issue an access token for their API).
	AuthParams map[string]string
	// Flow is the flow the provider's own tools use; FlowAuto picks.
	Flow Flow
}

// Config returns a login configuration for p. The caller sets the HTTP
// client, the prompt writer and, for tests, the browser opener.
func (p Provider) Config() Config {
	return Config{
		Issuer:     p.Issuer,
		ClientID:   p.ClientID,
		Scopes:     slices.Clone(p.Scopes),
		AuthParams: maps.Clone(p.AuthParams),
	}
}

// providers is the table of presets. Keep it small and cite a source for
// every value: a wrong client id fails only when a user tries to log in.
var providers = []Provider{
	{
		// Planet's user login, as Planet's own SDK configures it:
		// planetlabs/planet-client-python, planet/auth_builtins.py
		// (_ProductionEnv.OAUTH_AUTHORITY_USER and _SDK_CLIENT_ID_PROD,
		// used by the built-in "planet-user" profile): an Auth0 tenant at
		// https://login.planet.com/ with audience https://api.planet.com/,
		// client type "oidc_device_code", scopes planet and offline_access.
		// openid and profile (for `stacq auth status`) are the scopes the
		// older planet/cli/constants.py and planet-auth's documented custom
		// profile request. The client id is the one Planet's SDK/CLI uses;
		// Planet asks application developers to register their own, and it
		// is registered for the device flow (Auth0 would need this exact
		// loopback redirect registered for the browser flow). Not checked
		// against the live server (no network where this was written).
		Name:       "planet",
		Issuer:     "https://login.planet.com/",
		ClientID:   "49lHVBYlXCdfIYqE1B9zeXt0iFHSXees",
		Scopes:     []string{"planet", "offline_access", "openid", "profile"},
		AuthParams: map[string]string{"audience": "https://api.planet.com/"},
		Flow:       FlowDevice,
	},
}

// Providers returns the built-in provider presets. The slice is a copy;
// changing it does not change the presets.
func Providers() []Provider {
	out := make([]Provider, len(providers))
	for i, p := range providers {
		p.Scopes = slices.Clone(p.Scopes)
		p.AuthParams = maps.Clone(p.AuthParams)
		out[i] = p
	}
	return out
}

// LookupProvider returns the preset called name (case-insensitive).
func LookupProvider(name string) (Provider, bool) {
	for _, p := range Providers() {
		if strings.EqualFold(p.Name, name) {
			return p, true
		}
	}
	return Provider{}, false
}
