package provider

import (
	"net/url"
	"strings"

	"github.com/stacq/stacq/auth"
)

// PresetEnv names a provider's environment variables; empty fields are
// not read.
type PresetEnv struct {
	ClientID     string // the OAuth2 client id
	ClientSecret string // its secret
	TokenURL     string // overrides Preset.TokenURL
	APIURL       string // overrides the API base URL (Preset.APIPath is appended)
	APIKey       string // an API key
}

// Preset is what is known about one provider: its token endpoint, auth
// style, environment variables, credential files, API hosts and request
// rate, each taken from the provider's own documentation or client. Every
// URL in it can be overridden (Settings, Env), so a preset can point at a
// local test server.
type Preset struct {
	Name        string // what Settings.Provider takes
	Description string // a line for listings
	TokenURL    string // the OAuth2 token endpoint of client credentials
	// TokenURLNote says where the token URL comes from and where a user
	// finds their own.
	TokenURLNote string
	// AuthStyle is how clients authenticate at the token endpoint.
	AuthStyle auth.AuthStyle
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
	// Env names the provider's environment variables.
	Env PresetEnv
	// DotEnvFiles are KEY=VALUE files looked up in Settings.Dir, first wins.
	DotEnvFiles []string
	// CredentialsFiles are JSON credentials files looked up in Settings.Dir.
	CredentialsFiles []string
	// Rate is the provider's documented request rate per host, in
	// requests per second (0: none known), applied to RateHosts and to the
	// API URL's host.
	Rate      float64
	RateHosts []string // the hosts Rate applies to
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
			Name:        "earthdaily",
			Description: "EarthDaily Platform (client credentials; EDS.env / .env as the Account Management Console hands them out)",
			// earthdaily-python-client requires EDS_AUTH_URL (its config has
			// no default); this is the value its README and example EDS.env
			// files give.
			TokenURL:      "https://api.earthdaily.com/account_management/v1/authentication/api_tokens/exchange",
			TokenURLNote:  "from earthdaily-python-client's README; the Account Management Console (https://console.earthdaily.com/account) shows yours, set it in EDS_AUTH_URL",
			AuthStyle:     auth.AuthStyleBasic,
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
			AuthStyle:        auth.AuthStyleBody,
			APIHosts:         []string{"hydrosat.com", ".hydrosat.com"},
			CredentialsFiles: []string{"creds.json"},
		},
		{
			Name:        "cdse",
			Description: "Copernicus Data Space Ecosystem Sentinel Hub Catalog (Keycloak); the public CDSE STAC API needs no auth",
			TokenURL:    "https://sh.dataspace.copernicus.eu/oauth/token",
			AuthStyle:   auth.AuthStyleAuto,
			// CDSE answers 429 with Retry-After: 2 above about 5 requests/s.
			Rate:          5,
			RateHosts:     []string{"sh.dataspace.copernicus.eu", "stac.dataspace.copernicus.eu", "catalogue.dataspace.copernicus.eu"},
			APIHosts:      []string{"sh.dataspace.copernicus.eu"},
			PublicHosts:   []string{"stac.dataspace.copernicus.eu", "catalogue.dataspace.copernicus.eu"},
			DefaultAPIURL: "https://sh.dataspace.copernicus.eu/api/v1/catalog/1.0.0/",
			Env:           PresetEnv{ClientID: "CDSE_CLIENT_ID", ClientSecret: "CDSE_CLIENT_SECRET"},
		},
		{
			Name:          "sentinelhub",
			Description:   "Sentinel Hub Catalog API (Keycloak client credentials)",
			TokenURL:      sentinelHubTokenURL,
			AuthStyle:     auth.AuthStyleAuto,
			APIHosts:      []string{"services.sentinel-hub.com", ".sentinel-hub.com"},
			DefaultAPIURL: "https://services.sentinel-hub.com/api/v1/catalog/1.0.0/",
			Env:           PresetEnv{ClientID: "SH_CLIENT_ID", ClientSecret: "SH_CLIENT_SECRET"},
		},
		{
			Name:        "planet",
			Description: "Planet: API key (PL_API_KEY) for api.planet.com, OAuth2 client credentials (M2M clients) for Sentinel Hub APIs",
			TokenURL:    sentinelHubTokenURL,
			AuthStyle:   auth.AuthStyleAuto,
			APIHosts:    []string{"api.planet.com", "services.sentinel-hub.com"},
			APIKeyHosts: []string{"api.planet.com"},
			// planet-client-python holds itself to RATE_LIMIT = 10 per second.
			Rate:      10,
			RateHosts: []string{"api.planet.com"},
			Env: PresetEnv{ClientID: "SH_CLIENT_ID", ClientSecret: "SH_CLIENT_SECRET",
				APIKey: "PL_API_KEY"},
		},
	}
}

// genericPreset holds no provider knowledge: everything comes from
// settings and the STACQ_* environment.
func genericPreset() Preset {
	return Preset{Name: ProviderGeneric, Description: "any server, configured by hand or by its auth:schemes", AuthStyle: auth.AuthStyleAuto}
}

// Lookup returns the preset called name ("generic" included).
func Lookup(name string) (Preset, bool) {
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

// ForURL returns the preset whose API (or public) hosts include the host
// of apiURL.
func ForURL(apiURL string) (Preset, bool) {
	u, err := url.Parse(apiURL)
	if err != nil || u.Host == "" {
		return Preset{}, false
	}
	for _, p := range Presets() {
		if auth.HostMatches(u.Hostname(), p.APIHosts) || auth.HostMatches(u.Hostname(), p.PublicHosts) {
			return p, true
		}
	}
	return Preset{}, false
}
