package provider

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// FileCredentials are an OAuth2 client id and secret read from a file.
type FileCredentials struct {
	ClientID     string `json:"client_id"`     // the OAuth2 client id
	ClientSecret string `json:"client_secret"` // its secret
}

// ParseCredentialsFile parses a JSON credentials file
// {"client_id": "...", "client_secret": "..."}, as Hydrosat hands them out
// (creds.json). Other members are ignored. Errors never quote the content.
func ParseCredentialsFile(data []byte) (FileCredentials, error) {
	var c FileCredentials
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if err := json.Unmarshal(data, &c); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			return FileCredentials{}, fmt.Errorf("not valid JSON (at byte %d)", se.Offset)
		case errors.As(err, &te):
			return FileCredentials{}, fmt.Errorf("want a JSON object {\"client_id\": \"...\", \"client_secret\": \"...\"}; %q is not a string", te.Field)
		}
		return FileCredentials{}, errors.New("want a JSON object {\"client_id\": \"...\", \"client_secret\": \"...\"}")
	}
	c.ClientID = strings.TrimSpace(c.ClientID)
	c.ClientSecret = strings.TrimSpace(c.ClientSecret)
	switch {
	case c.ClientID == "" && c.ClientSecret == "":
		return FileCredentials{}, errors.New(`no "client_id" and "client_secret"`)
	case c.ClientID == "":
		return FileCredentials{}, errors.New(`no "client_id"`)
	case c.ClientSecret == "":
		return FileCredentials{}, errors.New(`no "client_secret"`)
	}
	return c, nil
}

// ParseDotEnv parses KEY=VALUE lines as EarthDaily's account page hands
// them out (EDS.env) and as .env files usually hold them: blank lines and
// '#' comments are skipped, an "export " prefix is allowed, values may be
// single- or double-quoted, and a later key wins. Errors name the line but
// never quote it, since values are secrets.
func ParseDotEnv(data []byte) (map[string]string, error) {
	env := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		key, val, ok := strings.Cut(line, "=")
		key = strings.TrimSpace(key)
		if !ok || !validEnvKey(key) {
			return nil, fmt.Errorf("line %d: want KEY=VALUE", n)
		}
		val = strings.TrimSpace(val)
		if len(val) > 0 && (val[0] == '"' || val[0] == '\'') {
			q := val[0]
			end := strings.IndexByte(val[1:], q)
			if end < 0 {
				return nil, fmt.Errorf("line %d: unterminated %c quote", n, q)
			}
			rest := strings.TrimSpace(val[end+2:])
			if rest != "" && rest[0] != '#' {
				return nil, fmt.Errorf("line %d: text after the closing quote", n)
			}
			val = val[1 : end+1]
		} else if i := strings.Index(val, " #"); i >= 0 {
			val = strings.TrimSpace(val[:i])
		}
		env[key] = val
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading: %w", err)
	}
	return env, nil
}

func validEnvKey(k string) bool {
	if k == "" {
		return false
	}
	for i, c := range k {
		switch {
		case c == '_', 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z':
		case '0' <= c && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}
