package auth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
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

	"github.com/stacq/stacq/internal/redact"
)

// cacheVersion is bumped when the file format changes; other versions are
// foreign and replaced. Version 2 added the secret's fingerprint.
const cacheVersion = 2

// maxCacheFile bounds what is read from a cache file.
const maxCacheFile = 64 << 10

// keyFile holds the random key of the fingerprints, in the cache dir.
const keyFile = ".fingerprint-key"

// CacheKey identifies whose tokens a DiskCache holds. Tokens are reused
// only for the same token URL, client, scopes and parameters, and the same
// secret: a changed (rotated, or mistyped) secret misses the cache and
// asks the endpoint, so a wrong secret never "works" on a cached token.
type CacheKey struct {
	TokenURL string     // the token endpoint
	ClientID string     // the client
	Scopes   []string   // the scopes requested
	Params   url.Values // extra token request parameters; only a hash of them is stored
	// Secret is the credential the tokens were issued for. Only a keyed
	// hash of it, its fingerprint, is stored.
	Secret string
}

// String shows k with the secret masked.
func (k CacheKey) String() string {
	secret := ""
	if k.Secret != "" {
		secret = redact.Mask
	}
	return fmt.Sprintf("auth.CacheKey{TokenURL:%q ClientID:%q Scopes:%q Secret:%q}", redact.URL(k.TokenURL), k.ClientID, k.Scopes, secret)
}

// GoString is String, for %#v.
func (k CacheKey) GoString() string { return k.String() }

// cacheFile is the on-disk form of a cached token. It never holds the
// secret. TokenURL, ClientID, Scope, Params and Fingerprint identify whose
// token it is, so a file that does not match (a copied file, other scopes
// or audience, another secret) is treated as foreign.
type cacheFile struct {
	Version     int       `json:"version"`
	TokenURL    string    `json:"token_url"`
	ClientID    string    `json:"client_id"`
	Scope       string    `json:"scope,omitempty"`
	Params      string    `json:"params,omitempty"` // hash of the extra token request parameters
	Fingerprint string    `json:"fingerprint"`      // keyed hash of the secret
	AccessToken string    `json:"access_token"`
	TokenType   string    `json:"token_type,omitempty"`
	Expiry      time.Time `json:"expiry,omitzero"`
	Issued      time.Time `json:"issued,omitzero"`
	AuthStyle   AuthStyle `json:"auth_style,omitempty"` // what worked for an auto-detecting client
}

// fileKey is what a cache file must match.
type fileKey struct {
	TokenURL, ClientID, Scope, Params, Fingerprint string
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

// decodeCacheFile parses a cache file and checks it belongs to key; any
// problem makes it a miss.
func decodeCacheFile(data []byte, key fileKey) (*cacheFile, error) {
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
	case !hmac.Equal([]byte(f.Fingerprint), []byte(key.Fingerprint)):
		return nil, errors.New("token cache file holds a token of another secret")
	case f.AccessToken == "":
		return nil, errors.New("token cache file has no access token")
	}
	return &f, nil
}

func (f *cacheFile) token() *oauth2.Token {
	t := &oauth2.Token{AccessToken: f.AccessToken, TokenType: f.TokenType, Expiry: f.Expiry}
	if !f.Expiry.IsZero() && f.Expiry.After(f.Issued) && !f.Issued.IsZero() {
		t.ExpiresIn = int64(f.Expiry.Sub(f.Issued) / time.Second)
	}
	return t
}

// DiskCache keeps the token of one client in a file, so that consecutive
// runs share it: a run reads a fresh token instead of asking the endpoint.
//
// Files are 0600 in a 0700 directory, written atomically. A directory or
// file not owned by the user, or writable by others, is refused (as ssh
// refuses such keys): a token planted in a shared directory is not used.
// When the cache holds no fresh token, a lock file makes concurrent
// processes take turns, so that one asks the endpoint and the others read
// its token.
type DiskCache struct {
	next TokenSource
	dir  string
	key  CacheKey
	path string
	logf Logf
	now  func() time.Time

	mu      sync.Mutex // serialises this process's reads and writes
	fk      *fileKey   // computed on first use (reads the key file)
	refused string     // why the directory is not used, once found
}

// NewDiskCache returns a DiskCache over next, keeping its token in dir.
// It makes no I/O until the first Token. logf may be nil.
func NewDiskCache(next TokenSource, dir string, key CacheKey, logf Logf) *DiskCache {
	h := sha256.Sum256([]byte(key.TokenURL + "\n" + key.ClientID))
	return &DiskCache{
		next: next, dir: dir, key: key, logf: logf, now: time.Now,
		// The name reveals neither the token URL nor the client.
		path: filepath.Join(dir, hex.EncodeToString(h[:16])+".json"),
	}
}

// Path is the token file.
func (d *DiskCache) Path() string { return d.path }

// styleMemory is implemented by sources that learn their token endpoint
// auth style (ClientCredentialsSource).
type styleMemory interface {
	LearnedStyle() AuthStyle
	Learn(AuthStyle)
}

// Token returns the cached token while it is fresh, else one from next,
// which it then stores.
func (d *DiskCache) Token(ctx context.Context) (*oauth2.Token, error) {
	if err := d.usable(); err != nil {
		return d.next.Token(ctx)
	}
	if t, ok := d.read(); ok {
		return t, nil
	}
	unlock, err := lockFile(ctx, d.path+".lock")
	switch {
	case err == nil:
		defer unlock()
		// Another process may have stored a token while we waited.
		if t, ok := d.read(); ok {
			return t, nil
		}
	case ctx.Err() != nil:
		return nil, ctx.Err()
	default:
		d.logf.printf("auth: token cache: no lock (%v); asking the endpoint anyway", err)
	}
	t, err := d.next.Token(ctx)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.store(t); err != nil {
		// The token still works; only the next run pays for it.
		d.logf.printf("auth: cannot cache the token: %v", err)
	}
	return t, nil
}

// read returns the cached token if it is fresh, teaching next the auth
// style that worked.
func (d *DiskCache) read() (*oauth2.Token, bool) {
	d.mu.Lock()
	f, err := d.load()
	d.mu.Unlock()
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			d.logf.printf("auth: ignoring %s: %v", d.path, err)
		}
		return nil, false
	}
	if sm, ok := d.next.(styleMemory); ok && f.AuthStyle != "" {
		sm.Learn(f.AuthStyle)
	}
	t := f.token()
	return t, fresh(t, d.now(), DefaultRenewMargin)
}

// InvalidateToken removes the file if it holds accessToken, and tells
// next.
func (d *DiskCache) InvalidateToken(accessToken string) {
	d.mu.Lock()
	if f, err := d.load(); err == nil && f.AccessToken == accessToken {
		if err := os.Remove(d.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			d.logf.printf("auth: cannot remove the refused token from the cache: %v", err)
		}
	}
	d.mu.Unlock()
	invalidate(d.next, accessToken)
}

// Cached returns the token in the file, expired or not, without asking
// the endpoint. ok is false when there is no file, or one that is not this
// client's, secret's or user's.
func (d *DiskCache) Cached() (tok *oauth2.Token, ok bool) {
	if d.usable() != nil {
		return nil, false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	f, err := d.load()
	if err != nil {
		return nil, false
	}
	return f.token(), true
}

// Forget removes the token file. A missing file is not an error.
func (d *DiskCache) Forget() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := os.Remove(d.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("forgetting the cached token: %w", err)
	}
	return nil
}

// usable checks, once, that the directory is the user's; a directory
// that does not exist yet is fine (store makes it).
func (d *DiskCache) usable() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.refused != "" {
		return errors.New(d.refused)
	}
	fi, err := os.Stat(d.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err == nil {
		err = checkOwned(fi, true)
	}
	if err != nil {
		d.refused = fmt.Sprintf("token cache directory %s: %v", d.dir, err)
		d.logf.printf("auth: cannot cache the token: %s", d.refused)
		return errors.New(d.refused)
	}
	return nil
}

// fileKey computes what files must match, reading (or making) the
// fingerprint key. Called with d.mu held.
func (d *DiskCache) fileKey(create bool) (*fileKey, error) {
	if d.fk != nil {
		return d.fk, nil
	}
	k, err := fingerprintKey(d.dir, create)
	if err != nil {
		return nil, err
	}
	mac := hmac.New(sha256.New, k)
	io.WriteString(mac, "stacq token cache fingerprint\n"+d.key.ClientID+"\n"+d.key.Secret)
	d.fk = &fileKey{
		TokenURL: d.key.TokenURL, ClientID: d.key.ClientID,
		Scope: strings.Join(d.key.Scopes, " "), Params: paramsHash(d.key.Params),
		Fingerprint: hex.EncodeToString(mac.Sum(nil)[:16]),
	}
	return d.fk, nil
}

// readOwned reads the file at path, at most limit bytes, refusing one
// that is not the user's.
func readOwned(path string, limit int64) ([]byte, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	fi, err := fh.Stat()
	if err != nil {
		return nil, err
	}
	if err := checkOwned(fi, false); err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(fh, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, errors.New("file too large")
	}
	return data, nil
}

// load reads and checks the file. Called with d.mu held.
func (d *DiskCache) load() (*cacheFile, error) {
	data, err := readOwned(d.path, maxCacheFile)
	if err != nil {
		return nil, err
	}
	fk, err := d.fileKey(false)
	if err != nil {
		return nil, err
	}
	return decodeCacheFile(data, *fk)
}

// store writes t atomically (temporary file, then rename) with mode 0600
// in a 0700 directory, so a concurrent reader sees the old file or the new
// one, never half of one. Called with d.mu held.
func (d *DiskCache) store(t *oauth2.Token) error {
	if err := os.MkdirAll(d.dir, 0o700); err != nil {
		return err
	}
	fk, err := d.fileKey(true)
	if err != nil {
		return err
	}
	now := d.now()
	f := cacheFile{
		Version: cacheVersion, TokenURL: fk.TokenURL, ClientID: fk.ClientID, Scope: fk.Scope, Params: fk.Params,
		Fingerprint: fk.Fingerprint, AccessToken: t.AccessToken, TokenType: t.TokenType, Expiry: t.Expiry, Issued: now,
	}
	if !t.Expiry.IsZero() && t.ExpiresIn > 0 {
		f.Issued = t.Expiry.Add(-time.Duration(t.ExpiresIn) * time.Second)
	}
	if sm, ok := d.next.(styleMemory); ok {
		f.AuthStyle = sm.LearnedStyle()
	}
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(d.path, data)
}

// writeFileAtomic writes data to path through a 0600 temporary file in the
// same directory and a rename.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".token-*.tmp")
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
	return os.Rename(tmp.Name(), path)
}

// fingerprintKey returns the random key of dir's fingerprints, making it
// when create is set and there is none. Creation links a complete
// temporary file into place, so concurrent processes agree on one key.
func fingerprintKey(dir string, create bool) ([]byte, error) {
	path := filepath.Join(dir, keyFile)
	for range 2 {
		k, err := readKey(path)
		if err == nil || !errors.Is(err, fs.ErrNotExist) || !create {
			return k, err
		}
		buf := make([]byte, 32)
		rand.Read(buf)
		tmp, err := os.CreateTemp(dir, ".key-*.tmp")
		if err != nil {
			return nil, err
		}
		tmp.Chmod(0o600)
		_, werr := tmp.WriteString(hex.EncodeToString(buf) + "\n")
		cerr := tmp.Close()
		if werr == nil && cerr == nil {
			err = os.Link(tmp.Name(), path)
		}
		os.Remove(tmp.Name())
		if werr != nil || cerr != nil {
			return nil, errors.Join(werr, cerr)
		}
		if err != nil && !errors.Is(err, fs.ErrExist) {
			// No hard links here (some file systems): rename, the last
			// writer wins; a token stored under a lost key is a miss.
			if err := writeFileAtomic(path, []byte(hex.EncodeToString(buf)+"\n")); err != nil {
				return nil, err
			}
		}
	}
	return readKey(path)
}

func readKey(path string) ([]byte, error) {
	data, err := readOwned(path, 256)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", keyFile, err)
	}
	k, err := hex.DecodeString(strings.TrimSpace(string(data)))
	if err != nil || len(k) < 16 {
		return nil, fmt.Errorf("%s: not a key", keyFile)
	}
	return k, nil
}

// isUnsupported reports whether err says chmod is not supported (Windows).
func isUnsupported(err error) bool {
	return errors.Is(err, errors.ErrUnsupported) || strings.Contains(err.Error(), "not supported")
}
