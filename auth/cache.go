package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
)

// cacheVersion is bumped when the file format changes; other versions are
// foreign and replaced.
const cacheVersion = 1

// maxCacheFile bounds what is read from a cache file.
const maxCacheFile = 64 << 10

// cacheFile is the on-disk form of a cached token. It never holds the
// client secret. TokenURL, ClientID, Scope and Params identify whose token
// it is, so a file that does not match (a hash collision, a copied file,
// other scopes or audience) is treated as foreign.
type cacheFile struct {
	Version     int       `json:"version"`
	TokenURL    string    `json:"token_url"`
	ClientID    string    `json:"client_id"`
	Scope       string    `json:"scope,omitempty"`
	Params      string    `json:"params,omitempty"` // hash of the extra token request parameters
	AccessToken string    `json:"access_token"`
	TokenType   string    `json:"token_type,omitempty"`
	Expiry      time.Time `json:"expiry,omitzero"`
	Issued      time.Time `json:"issued,omitzero"`
	AuthStyle   AuthStyle `json:"auth_style,omitempty"` // what worked for an auto-detecting client
}

// cacheKey identifies a client at a token endpoint.
type cacheKey struct {
	TokenURL, ClientID, Scope, Params string
}

// paramsHash identifies extra token request parameters without storing
// them, in case one is sensitive.
func paramsHash(v url.Values) string {
	if len(v) == 0 {
		return ""
	}
	h := sha256.Sum256([]byte(v.Encode()))
	return hex.EncodeToString(h[:8])
}

// cachePath is the token file of key in dir: a hash of the token URL and
// client id, so the name reveals neither.
func cachePath(dir string, key cacheKey) string {
	h := sha256.Sum256([]byte(key.TokenURL + "\n" + key.ClientID))
	return filepath.Join(dir, hex.EncodeToString(h[:16])+".json")
}

// decodeCacheFile parses a cache file and checks it belongs to key; any
// problem makes it a miss.
func decodeCacheFile(data []byte, key cacheKey) (*cacheFile, error) {
	var f cacheFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, errors.New("corrupt token cache file")
	}
	switch {
	case f.Version != cacheVersion:
		return nil, fmt.Errorf("token cache file has version %d, want %d", f.Version, cacheVersion)
	case f.TokenURL != key.TokenURL || f.ClientID != key.ClientID:
		return nil, errors.New("token cache file belongs to another client")
	case f.Scope != key.Scope || f.Params != key.Params:
		return nil, errors.New("token cache file holds a token for other scopes or parameters")
	case f.AccessToken == "":
		return nil, errors.New("token cache file has no access token")
	}
	return &f, nil
}

// diskCache keeps the token of one client in a file, so that consecutive
// runs share it: a run reads a fresh token instead of asking the endpoint.
type diskCache struct {
	next source
	path string
	key  cacheKey
	now  func() time.Time
	logf func(format string, args ...any)

	mu sync.Mutex // serialises this process's reads and writes
}

// styleMemory is implemented by sources that learn their token endpoint
// auth style.
type styleMemory interface {
	learnedStyle() AuthStyle
	setLearnedStyle(AuthStyle)
}

func (d *diskCache) fetch(ctx context.Context) (*grant, error) {
	d.mu.Lock()
	f, err := d.load()
	d.mu.Unlock()
	if err == nil {
		if sm, ok := d.next.(styleMemory); ok && f.AuthStyle != "" {
			sm.setLearnedStyle(f.AuthStyle)
		}
		if g := f.grant(); g.fresh(d.now()) {
			return g, nil
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		d.logf("auth: ignoring %s: %v", d.path, err)
	}
	g, err := d.next.fetch(ctx)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.store(g); err != nil {
		// The token still works; only the next run pays for it.
		d.logf("auth: cannot cache the token: %v", err)
	}
	return g, nil
}

func (d *diskCache) invalidate(accessToken string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if f, err := d.load(); err == nil && f.AccessToken == accessToken {
		if err := os.Remove(d.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			d.logf("auth: cannot remove the refused token from the cache: %v", err)
		}
	}
	d.next.invalidate(accessToken)
}

func (f *cacheFile) grant() *grant {
	return &grant{
		Token:  &oauth2.Token{AccessToken: f.AccessToken, TokenType: f.TokenType, Expiry: f.Expiry},
		issued: f.Issued,
	}
}

func (d *diskCache) load() (*cacheFile, error) {
	fh, err := os.Open(d.path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	data, err := io.ReadAll(io.LimitReader(fh, maxCacheFile+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxCacheFile {
		return nil, errors.New("token cache file too large")
	}
	return decodeCacheFile(data, d.key)
}

// store writes g atomically (temporary file, then rename) with mode 0600
// in a 0700 directory, so a concurrent reader sees the old file or the new
// one, never half of one.
func (d *diskCache) store(g *grant) error {
	dir := filepath.Dir(d.path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	_ = os.Chmod(dir, 0o700) // tighten a directory made earlier by hand; best effort
	f := cacheFile{
		Version: cacheVersion, TokenURL: d.key.TokenURL, ClientID: d.key.ClientID, Scope: d.key.Scope, Params: d.key.Params,
		AccessToken: g.AccessToken, TokenType: g.TokenType, Expiry: g.Expiry, Issued: g.issued,
	}
	if sm, ok := d.next.(styleMemory); ok {
		f.AuthStyle = sm.learnedStyle()
	}
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".token-*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after a successful rename this fails harmlessly
	if err := tmp.Chmod(0o600); err != nil && !isUnsupported(err) {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), d.path)
}

// isUnsupported reports whether err says chmod is not supported (Windows).
func isUnsupported(err error) bool {
	return errors.Is(err, errors.ErrUnsupported) || strings.Contains(err.Error(), "not supported")
}

// tokenCacheDir is where token files live: dir/tokens, with dir from the
// setting, else STACQ_CACHE_DIR, else os.UserCacheDir()/stacq.
func tokenCacheDir(setting string, getenv func(string) string) (string, Source, error) {
	switch {
	case setting != "":
		return filepath.Join(setting, "tokens"), Source{What: "token cache", From: "setting", Value: setting}, nil
	case getenv("STACQ_CACHE_DIR") != "":
		v := getenv("STACQ_CACHE_DIR")
		return filepath.Join(v, "tokens"), Source{What: "token cache", From: "env STACQ_CACHE_DIR", Value: v}, nil
	}
	ucd, err := os.UserCacheDir()
	if err != nil {
		return "", Source{}, err
	}
	dir := filepath.Join(ucd, "stacq")
	return filepath.Join(dir, "tokens"), Source{What: "token cache", From: "user cache dir", Value: dir}, nil
}
