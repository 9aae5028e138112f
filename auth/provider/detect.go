package provider

// detect.go: how Resolve finds the provider, the method and each piece of
// configuration in settings, environment variables and files.

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// lookup reads settings, environment and files for Resolve, recording
// sources and warnings.
type lookup struct {
	s        *Settings
	getenv   func(string) string
	dotenv   map[string]string // merged preset .env files
	dotFrom  map[string]string // key → file it came from
	netrc    *Netrc            // parsed on first use
	netrcErr error
	pending  func(*Resolved) error // builds the chosen method's layers (build)
	warnings []string
	warned   map[string]bool
}

func newLookup(s *Settings) *lookup {
	l := &lookup{s: s, getenv: s.Getenv, warned: map[string]bool{}}
	if l.getenv == nil {
		l.getenv = func(string) string { return "" }
	}
	return l
}

func (l *lookup) warn(format string, args ...any) {
	w := fmt.Sprintf(format, args...)
	if !l.warned[w] {
		l.warned[w] = true
		l.warnings = append(l.warnings, w)
	}
}

// env reads an environment variable, then the preset's .env files.
func (l *lookup) env(name string) (val, from string) {
	if name == "" {
		return "", ""
	}
	if v := strings.TrimSpace(l.getenv(name)); v != "" {
		return v, "env " + name
	}
	if v := l.dotenv[name]; v != "" {
		return v, "file " + l.dotFrom[name] + " (" + name + ")"
	}
	return "", ""
}

func (l *lookup) path(name string) string {
	if filepath.IsAbs(name) || l.s.Dir == "" {
		return name
	}
	return filepath.Join(l.s.Dir, name)
}

// presetFile is the path of a preset's own file (EDS.env, creds.json) in
// Dir; "" when Dir is not set, since then no such file is looked for.
func (l *lookup) presetFile(name string) string {
	if l.s.Dir == "" {
		return ""
	}
	return l.path(name)
}

// readSecretFile reads a small file that holds secrets, warning when other
// users can read it.
func (l *lookup) readSecretFile(name string) ([]byte, error) {
	p := l.path(name)
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
		l.warn("%s is readable by group or others (mode %04o); run: chmod 600 %s", name, fi.Mode().Perm(), name)
	}
	data, err := io.ReadAll(io.LimitReader(f, 1<<20+1))
	if err != nil {
		return nil, err
	}
	if len(data) > 1<<20 {
		return nil, fmt.Errorf("%s: larger than 1 MiB", name)
	}
	return data, nil
}

// loadDotEnv reads the preset's KEY=VALUE files; the first file to define
// a key wins. A file that does not parse is skipped with a warning.
func (l *lookup) loadDotEnv(p Preset) {
	l.dotenv, l.dotFrom = map[string]string{}, map[string]string{}
	for _, name := range p.DotEnvFiles {
		if p := l.presetFile(name); p == "" || !fileExists(p) {
			continue
		}
		data, err := l.readSecretFile(name)
		if err != nil {
			l.warn("%s: %v; ignored", name, err)
			continue
		}
		env, err := ParseDotEnv(data)
		if err != nil {
			l.warn("%s: %v; ignored", name, err)
			continue
		}
		for k, v := range env {
			if _, ok := l.dotenv[k]; !ok && v != "" {
				l.dotenv[k], l.dotFrom[k] = v, name
			}
		}
	}
}

// Pick returns the preset Resolve would use for apiURL with s, and why:
// the one s.Provider (or STACQ_PROVIDER) names, else the one whose hosts
// include the API URL's (or whose API URL variable points at it), else,
// with no URL, the one whose credentials are present; "generic" when
// none. It reads what Resolve reads, and asks nothing.
func Pick(apiURL string, s Settings) (p Preset, why string, err error) {
	s.PromptSecret = nil
	return newLookup(&s).pickPreset(apiURL)
}

// pickPreset: by name, else by the API URL's host, else by the credentials
// present.
func (l *lookup) pickPreset(apiURL string) (Preset, string, error) {
	name, how := l.s.Provider, "setting"
	if name == "" {
		name, how = l.getenv("STACQ_PROVIDER"), "env STACQ_PROVIDER"
	}
	if name != "" {
		if strings.EqualFold(name, ProviderNone) {
			return Preset{Name: ProviderNone}, how, nil
		}
		p, ok := Lookup(name)
		if !ok {
			names := []string{}
			for _, p := range Presets() {
				names = append(names, p.Name)
			}
			return Preset{}, "", fmt.Errorf("unknown provider %q (from %s); known: %s, %s, %s",
				name, how, strings.Join(names, ", "), ProviderGeneric, ProviderNone)
		}
		return p, how, nil
	}
	if apiURL != "" {
		if p, ok := ForURL(apiURL); ok {
			return p, "API URL host", nil
		}
		// A preset whose API URL was overridden (EDS_API_URL pointing at a
		// test server) claims that host too.
		if u, err := url.Parse(apiURL); err == nil && u.Host != "" {
			for _, p := range Presets() {
				l.loadDotEnv(p)
				if b, _ := l.env(p.Env.APIURL); b != "" {
					if bu, err := url.Parse(b); err == nil && strings.EqualFold(bu.Host, u.Host) {
						return p, "API URL host (" + p.Env.APIURL + ")", nil
					}
				}
			}
		}
		return genericPreset(), "API URL host not a known provider", nil
	}
	for _, p := range Presets() {
		if from := l.presetCredentials(p); from != "" {
			return p, "credentials present (" + from + ")", nil
		}
	}
	return genericPreset(), "no API URL and no provider credentials", nil
}

// presetCredentials tells where p's credentials are, if anywhere.
func (l *lookup) presetCredentials(p Preset) string {
	l.loadDotEnv(p)
	if _, from := l.env(p.Env.ClientID); from != "" {
		return from
	}
	if _, from := l.env(p.Env.APIKey); from != "" {
		return from
	}
	for _, name := range p.CredentialsFiles {
		if p := l.presetFile(name); p != "" && fileExists(p) {
			return "file " + name
		}
	}
	return ""
}

func (l *lookup) defaultAPIURL(p Preset) string {
	if base, _ := l.env(p.Env.APIURL); base != "" {
		base = strings.TrimRight(base, "/")
		if p.APIPath != "" && !strings.HasSuffix(base, strings.TrimRight(p.APIPath, "/")) {
			base += p.APIPath
		}
		return base
	}
	return p.DefaultAPIURL
}

// clientID finds the client id: credentials file setting, preset env and
// .env files, STACQ_CLIENT_ID, STACQ_CREDENTIALS_FILE, the preset's
// credentials files.
func (l *lookup) clientID(p Preset) (string, string) {
	if v := l.s.ClientID; v != "" {
		return v, "flag"
	}
	if c, from := l.credsFile(l.s.CredentialsFile, "setting"); c != nil {
		return c.ClientID, from
	}
	if v, from := l.env(p.Env.ClientID); v != "" {
		return v, from
	}
	if v := l.getenv("STACQ_CLIENT_ID"); v != "" {
		return v, "env STACQ_CLIENT_ID"
	}
	if c, from := l.credsFile(l.getenv("STACQ_CREDENTIALS_FILE"), "env STACQ_CREDENTIALS_FILE"); c != nil {
		return c.ClientID, from
	}
	for _, name := range p.CredentialsFiles {
		if p := l.presetFile(name); p != "" && fileExists(p) {
			if c, from := l.credsFile(name, "preset"); c != nil {
				return c.ClientID, from
			}
		}
	}
	return "", ""
}

// clientSecret mirrors clientID, with the secret file setting after the
// flag.
func (l *lookup) clientSecret(p Preset) (string, string, error) {
	if v := l.s.ClientSecret; v != "" {
		return v, "flag", nil
	}
	if name := l.s.ClientSecretFile; name != "" {
		data, err := l.readSecretFile(name)
		if err != nil {
			return "", "", fmt.Errorf("%s: client secret file: %w", p.Name, err)
		}
		v := strings.TrimSpace(string(data))
		if v == "" {
			return "", "", fmt.Errorf("%s: client secret file %s is empty", p.Name, name)
		}
		return v, "file " + name, nil
	}
	if c, from := l.credsFile(l.s.CredentialsFile, "setting"); c != nil {
		return c.ClientSecret, from, nil
	}
	if v, from := l.env(p.Env.ClientSecret); v != "" {
		return v, from, nil
	}
	if v := l.getenv("STACQ_CLIENT_SECRET"); v != "" {
		return v, "env STACQ_CLIENT_SECRET", nil
	}
	if c, from := l.credsFile(l.getenv("STACQ_CREDENTIALS_FILE"), "env STACQ_CREDENTIALS_FILE"); c != nil {
		return c.ClientSecret, from, nil
	}
	for _, name := range p.CredentialsFiles {
		if p := l.presetFile(name); p != "" && fileExists(p) {
			if c, from := l.credsFile(name, "preset"); c != nil {
				return c.ClientSecret, from, nil
			}
		}
	}
	return "", "", nil
}

// credsFile reads a JSON credentials file; problems become warnings here
// and a missing-credentials error later.
func (l *lookup) credsFile(name, via string) (*FileCredentials, string) {
	if name == "" {
		return nil, ""
	}
	data, err := l.readSecretFile(name)
	if err != nil {
		l.warn("credentials file %s: %v", name, unwrapPathError(err))
		return nil, ""
	}
	c, err := ParseCredentialsFile(data)
	if err != nil {
		l.warn("credentials file %s: %v", name, err)
		return nil, ""
	}
	from := "file " + name
	if via != "preset" && via != "setting" {
		from += " (" + via + ")"
	}
	return &c, from
}

func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
