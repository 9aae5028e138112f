package auth

import (
	"net"
	"net/url"
	"strings"
)

// PresetEnv names a provider's environment variables; empty fields are
// not read.
type PresetEnv struct {
	ClientID, ClientSecret string
	TokenURL               string // overrides Preset.TokenURL
	APIURL                 string // overrides the API base URL (Preset.APIPath is appended)
	APIKey                 string
}

// Preset is what stacq knows about one provider. Every URL in it can be
// overridden (Settings, Env), so a preset can point at a local test server.
type Preset struct {
	Name, Description string
	TokenURL          string
	AuthStyle         AuthStyle
	// APIHosts are the hosts whose APIs take these credentials; an entry
	// starting with "." matches every subdomain. The host of an overridden
	// API URL (Env.APIURL) is added at resolve time.
	APIHosts []string
	// PublicHosts serve the provider's public APIs, which need no auth.
	PublicHosts []string
	// APIKeyHosts, when set, are the APIHosts that take the API key; the
	// other APIHosts use client credentials.
	APIKeyHosts []string
	// DefaultAPIURL is the STAC API used when no URL is given.
	DefaultAPIURL string
	// APIPath is appended to the base URL read from Env.APIURL.
	APIPath string
	Env     PresetEnv
	// DotEnvFiles are KEY=VALUE files looked up in Settings.Dir, first wins.
	DotEnvFiles []string
	// CredentialsFiles are JSON credentials files looked up in Settings.Dir.
	CredentialsFiles []string
}

// Provider names that are not presets of a provider.
const (
	ProviderGeneric = "generic" // any OAuth2/token/API key server, configured by hand
	ProviderNone    = "none"    // no auth at all
)

const sentinelHubTokenURL = "https://services.sentinel-hub.com/auth/realms/main/protocol/openid-connect/token"

// Presets returns the built-in providers, in the order they are tried when
// one is picked from the credentials present. The result is a fresh copy.
func Presets() []Preset {
	return []Preset{
		{
			Name:          "earthdaily",
			Description:   "EarthDaily Platform (Cognito client credentials; EDS.env from the account page)",
			TokenURL:      "https://auth.earthdaily.com/oauth2/token",
			AuthStyle:     AuthStyleBasic,
			APIHosts:      []string{"api.earthdaily.com"},
			DefaultAPIURL: "https://api.earthdaily.com/platform/v1/stac",
			APIPath:       "/platform/v1/stac",
			Env: PresetEnv{ClientID: "EDS_CLIENT_ID", ClientSecret: "EDS_SECRET",
				TokenURL: "EDS_AUTH_URL", APIURL: "EDS_API_URL"},
			DotEnvFiles: []string{"EDS.env", ".env"},
		},
		{
			Name:             "hydrosat",
			Description:      "Hydrosat (Ory Hydra client credentials in the form body; creds.json)",
			TokenURL:         "https://auth.hydrosat.com/oauth2/token",
			AuthStyle:        AuthStyleBody,
			APIHosts:         []string{"hydrosat.com", ".hydrosat.com"},
			CredentialsFiles: []string{"creds.json"},
		},
		{
			Name:          "cdse",
			Description:   "Copernicus Data Space Ecosystem Sentinel Hub Catalog (Keycloak); the public CDSE STAC API needs no auth",
			TokenURL:      "https://sh.dataspace.copernicus.eu/oauth/token",
			AuthStyle:     AuthStyleAuto,
			APIHosts:      []string{"sh.dataspace.copernicus.eu"},
			PublicHosts:   []string{"stac.dataspace.copernicus.eu", "catalogue.dataspace.copernicus.eu"},
			DefaultAPIURL: "https://sh.dataspace.copernicus.eu/api/v1/catalog/1.0.0/",
			Env:           PresetEnv{ClientID: "CDSE_CLIENT_ID", ClientSecret: "CDSE_CLIENT_SECRET"},
		},
		{
			Name:          "sentinelhub",
			Description:   "Sentinel Hub Catalog API (Keycloak client credentials)",
			TokenURL:      sentinelHubTokenURL,
			AuthStyle:     AuthStyleAuto,
			APIHosts:      []string{"services.sentinel-hub.com", ".sentinel-hub.com"},
			DefaultAPIURL: "https://services.sentinel-hub.com/api/v1/catalog/1.0.0/",
			Env:           PresetEnv{ClientID: "SH_CLIENT_ID", ClientSecret: "SH_CLIENT_SECRET"},
		},
		{
			Name:        "planet",
			Description: "Planet: API key (PL_API_KEY) for api.planet.com, OAuth2 client credentials (M2M clients) for Sentinel Hub APIs",
			TokenURL:    sentinelHubTokenURL,
			AuthStyle:   AuthStyleAuto,
			APIHosts:    []string{"api.planet.com", "services.sentinel-hub.com"},
			APIKeyHosts: []string{"api.planet.com"},
			Env: PresetEnv{ClientID: "SH_CLIENT_ID", ClientSecret: "SH_CLIENT_SECRET",
				APIKey: "PL_API_KEY"},
		},
	}
}

// genericPreset holds no provider knowledge: everything comes from
// settings and the STACQ_* environment.
func genericPreset() Preset {
	return Preset{Name: ProviderGeneric, Description: "any server, configured by hand", AuthStyle: AuthStyleAuto}
}

// LookupPreset returns the preset called name.
func LookupPreset(name string) (Preset, bool) {
	for _, p := range Presets() {
		if strings.EqualFold(p.Name, name) {
			return p, true
		}
	}
	if strings.EqualFold(name, ProviderGeneric) {
		return genericPreset(), true
	}
	return Preset{}, false
}

// PresetForURL returns the preset whose API (or public) hosts include the
// host of apiURL.
func PresetForURL(apiURL string) (Preset, bool) {
	u, err := url.Parse(apiURL)
	if err != nil || u.Host == "" {
		return Preset{}, false
	}
	for _, p := range Presets() {
		if hostIn(u.Hostname(), p.APIHosts) || hostIn(u.Hostname(), p.PublicHosts) {
			return p, true
		}
	}
	return Preset{}, false
}

// hostIn reports whether host matches one of patterns: an exact name, or a
// ".suffix" matching subdomains.
func hostIn(host string, patterns []string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	for _, p := range patterns {
		p = strings.ToLower(p)
		if strings.HasPrefix(p, ".") {
			if strings.HasSuffix(host, p) {
				return true
			}
		} else if host == p {
			return true
		}
	}
	return false
}

// isLoopback reports whether host (no port) is localhost or a loopback IP
// (127.0.0.0/8, ::1).
func isLoopback(host string) bool {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}
