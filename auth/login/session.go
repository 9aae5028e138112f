package login

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// Session is what a login leaves behind: the tokens and the provider
// endpoints needed to renew and revoke them without rediscovery. It is
// plain data, saved as JSON by a [Store]. Its String method hides the
// tokens, so printing a Session by mistake leaks nothing.
type Session struct {
	Issuer             string    `json:"issuer"`
	ClientID           string    `json:"client_id"`
	TokenEndpoint      string    `json:"token_endpoint"`
	RevocationEndpoint string    `json:"revocation_endpoint,omitempty"`
	UserinfoEndpoint   string    `json:"userinfo_endpoint,omitempty"`
	Scopes             []string  `json:"scopes,omitempty"`
	AccessToken        string    `json:"access_token,omitempty"`
	TokenType          string    `json:"token_type,omitempty"`
	Expiry             time.Time `json:"expiry,omitzero"` // of the access token; zero: unknown
	RefreshToken       string    `json:"refresh_token,omitempty"`
	RefreshExpiry      time.Time `json:"refresh_expiry,omitzero"` // zero: the provider did not say
	IDToken            string    `json:"id_token,omitempty"`
	LoggedIn           time.Time `json:"logged_in,omitzero"`
}

// Token returns the session's access token as an *oauth2.Token.
func (s *Session) Token() *oauth2.Token {
	return &oauth2.Token{
		AccessToken:  s.AccessToken,
		TokenType:    s.TokenType,
		RefreshToken: s.RefreshToken,
		Expiry:       s.Expiry,
	}
}

// String describes the session without its tokens.
func (s Session) String() string {
	return fmt.Sprintf("login.Session{Issuer: %q, ClientID: %q, Expiry: %s, RefreshToken: %t, IDToken: %t}",
		s.Issuer, s.ClientID, s.Expiry.Format(time.RFC3339), s.RefreshToken != "", s.IDToken != "")
}

// GoString keeps %#v from printing the tokens too.
func (s Session) GoString() string { return s.String() }

func (s *Session) validate() error {
	switch {
	case s.Issuer == "":
		return errors.New("no issuer")
	case s.ClientID == "":
		return errors.New("no client_id")
	case s.TokenEndpoint == "":
		return errors.New("no token_endpoint")
	case s.AccessToken == "" && s.RefreshToken == "":
		return errors.New("no token")
	}
	return nil
}

// Store keeps sessions as Dir/<name>.json, readable by the owner only.
// Saving writes a temporary file in Dir, syncs it and renames it over the
// old one, so a crash mid-write leaves either the old or the new session,
// never a torn file (leftover temporary files are ignored).
type Store struct {
	Dir string
}

// DefaultStore returns the store under the user's configuration
// directory: os.UserConfigDir()/stacq/sessions.
func DefaultStore() (Store, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return Store{}, fmt.Errorf("login: locating the session directory: %w", err)
	}
	return Store{Dir: filepath.Join(dir, "stacq", "sessions")}, nil
}

// validName keeps a session name a plain file name on every system.
var validName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// SessionName turns an issuer URL or a provider name into a session name
// ("https://login.example.com/realms/x" -> "login.example.com").
func SessionName(nameOrIssuer string) string {
	s := nameOrIssuer
	if u, err := url.Parse(s); err == nil && u.Host != "" {
		s = u.Host
	}
	s = strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
			return r
		}
		return '_'
	}, s)
	s = strings.TrimLeft(s, "._-")
	if len(s) > 64 {
		s = s[:64]
	}
	if s == "" {
		return "default"
	}
	return s
}

// Path returns the file of session name.
func (s Store) Path(name string) (string, error) {
	if !validName.MatchString(name) {
		return "", fmt.Errorf("login: invalid session name %q (letters, digits, '.', '_', '-'; at most 64)", name)
	}
	if s.Dir == "" {
		return "", errors.New("login: session store has no directory")
	}
	return filepath.Join(s.Dir, name+".json"), nil
}

// Load reads session name. A missing session is a *NotLoggedInError
// (errors.Is(err, ErrNotLoggedIn)).
func (s Store) Load(name string) (*Session, error) {
	path, err := s.Path(name)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &NotLoggedInError{Name: name}
	}
	if err != nil {
		return nil, fmt.Errorf("login: reading session %q: %w", name, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxDocument+1))
	if err != nil {
		return nil, fmt.Errorf("login: reading session %q: %w", name, err)
	}
	sess, err := decodeSession(data)
	if err != nil {
		return nil, fmt.Errorf("login: session file %s is damaged (%w); run \"stacq auth login\" again", path, err)
	}
	return sess, nil
}

// decodeSession parses and checks a session file's contents. It never
// includes file contents in its errors: they hold tokens.
func decodeSession(data []byte) (*Session, error) {
	if len(data) > maxDocument {
		return nil, errors.New("file too large")
	}
	var sess Session
	if err := json.Unmarshal(data, &sess); err != nil {
		var syn *json.SyntaxError
		if errors.As(err, &syn) {
			return nil, fmt.Errorf("invalid JSON at offset %d", syn.Offset)
		}
		var typ *json.UnmarshalTypeError
		if errors.As(err, &typ) {
			return nil, fmt.Errorf("member %q has the wrong type", typ.Field)
		}
		return nil, errors.New("invalid JSON")
	}
	if err := sess.validate(); err != nil {
		return nil, err
	}
	return &sess, nil
}

// Save writes session name atomically with mode 0600, creating Dir (0700)
// when needed.
func (s Store) Save(name string, sess *Session) error {
	path, err := s.Path(name)
	if err != nil {
		return err
	}
	if err := sess.validate(); err != nil {
		return fmt.Errorf("login: refusing to save session %q: %w", name, err)
	}
	data, err := json.MarshalIndent(sess, "", "  ")
	if err != nil {
		return fmt.Errorf("login: encoding session %q: %w", name, err)
	}
	data = append(data, '\n')
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return fmt.Errorf("login: creating session directory: %w", err)
	}
	if err := writeFileAtomic(path, data); err != nil {
		return fmt.Errorf("login: saving session %q: %w", name, err)
	}
	return nil
}

// writeFileAtomic replaces path with data: temp file in the same
// directory (so rename stays on one file system), fsync, rename, then a
// best-effort fsync of the directory so the rename itself is durable.
func writeFileAtomic(path string, data []byte) (err error) {
	dir, base := filepath.Split(path)
	f, err := os.CreateTemp(dir, "."+base+".*.tmp") // CreateTemp uses mode 0600
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err = f.Chmod(0o600); err != nil && !errors.Is(err, errors.ErrUnsupported) {
		return err
	}
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp, path); err != nil {
		return err
	}
	if d, derr := os.Open(dir); derr == nil {
		d.Sync() // not supported everywhere; the rename is done either way
		d.Close()
	}
	return nil
}

// Delete removes session name. Deleting a missing session is not an
// error.
func (s Store) Delete(name string) error {
	path, err := s.Path(name)
	if err != nil {
		return err
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("login: deleting session %q: %w", name, err)
	}
	return nil
}

// List returns the names of the stored sessions, sorted.
func (s Store) List() ([]string, error) {
	entries, err := os.ReadDir(s.Dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("login: listing sessions: %w", err)
	}
	var names []string
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".json")
		if ok && e.Type().IsRegular() && validName.MatchString(name) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names, nil
}
