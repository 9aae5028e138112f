package download

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/stacq/stacq/stac"
)

// Planetary Computer defaults: the SAS token API (the Python SDK's
// default for PC_SDK_SAS_URL), the hosts whose hrefs are signed, and how
// long before its expiry a token is replaced.
const (
	DefaultSASURL    = "https://planetarycomputer.microsoft.com/api/sas/v1/token"
	DefaultSASHost   = "*.blob.core.windows.net"
	DefaultSASMargin = 2 * time.Minute
)

// publicBlobHost holds the Planetary Computer's public thumbnails; the
// SDK leaves its hrefs unsigned, and so does stacq.
const publicBlobHost = "ai4edatasetspublicassets.blob.core.windows.net"

// PlanetaryComputerConfig configures a PlanetaryComputer signer.
type PlanetaryComputerConfig struct {
	// SASURL is the SAS token API; "" is DefaultSASURL.
	SASURL string
	// SubscriptionKey, when set, is sent as Ocp-Apim-Subscription-Key
	// (higher rate limits).
	SubscriptionKey string
	// Hosts are path.Match patterns on the host names whose hrefs are
	// signed (a pattern with a colon matches host:port); empty is
	// DefaultSASHost.
	Hosts []string
	// Margin is how long before its msft:expiry a cached token is
	// replaced; 0 is DefaultSASMargin.
	Margin time.Duration
	// HTTPClient requests the tokens; nil is http.DefaultClient. It gets
	// no other credential than the subscription key.
	HTTPClient *http.Client
}

// PlanetaryComputerEnv reads the configuration from the environment the
// way the Planetary Computer's Python SDK does (PC_SDK_SAS_URL,
// PC_SDK_SUBSCRIPTION_KEY), plus STACQ_SAS_HOSTS (comma-separated host
// patterns, for mirrors and tests). getenv is os.Getenv or a test's.
func PlanetaryComputerEnv(getenv func(string) string) PlanetaryComputerConfig {
	return PlanetaryComputerConfig{
		SASURL:          getenv("PC_SDK_SAS_URL"),
		SubscriptionKey: getenv("PC_SDK_SUBSCRIPTION_KEY"),
		Hosts:           SplitList(getenv("STACQ_SAS_HOSTS")),
	}
}

// PlanetaryComputer signs Azure blob hrefs with SAS tokens from the
// Planetary Computer's SAS API: one token per collection
// (GET {SASURL}/{collection}; an item without a collection gets one per
// storage account and container, GET {SASURL}/{account}/{container}),
// cached until its msft:expiry less the margin and shared by concurrent
// callers. Hrefs already signed, on other hosts, or on the public
// thumbnail account are returned as they are. It implements Renewer.
type PlanetaryComputer struct {
	cfg PlanetaryComputerConfig
	hc  *http.Client
	now func() time.Time

	mu     sync.Mutex
	tokens map[string]*sasEntry
}

type sasEntry struct {
	ready  chan struct{} // closed once token or err is set
	token  string
	expiry time.Time
	err    error
}

// NewPlanetaryComputer returns a signer; a malformed SAS URL or host
// pattern is an error naming it.
func NewPlanetaryComputer(cfg PlanetaryComputerConfig) (*PlanetaryComputer, error) {
	if cfg.SASURL == "" {
		cfg.SASURL = DefaultSASURL
	}
	cfg.SASURL = strings.TrimRight(cfg.SASURL, "/")
	if u, err := url.Parse(cfg.SASURL); err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("planetary computer: the SAS URL %q is not an http(s) URL (PC_SDK_SAS_URL)", clip(cfg.SASURL, 80))
	}
	if len(cfg.Hosts) == 0 {
		cfg.Hosts = []string{DefaultSASHost}
	}
	for _, p := range cfg.Hosts {
		if _, err := path.Match(p, ""); err != nil {
			return nil, fmt.Errorf("planetary computer: host pattern %q (STACQ_SAS_HOSTS): %w", clip(p, 60), err)
		}
	}
	if cfg.Margin <= 0 {
		cfg.Margin = DefaultSASMargin
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = http.DefaultClient
	}
	return &PlanetaryComputer{cfg: cfg, hc: hc, now: time.Now, tokens: map[string]*sasEntry{}}, nil
}

// Sign returns href with a SAS token appended, or unchanged when it is
// not an href the signer signs.
func (pc *PlanetaryComputer) Sign(ctx context.Context, item *stac.Item, href string) (string, error) {
	return pc.sign(ctx, item, href, "")
}

// Renew signs href with a new token after refused, href signed with the
// cached one, was refused; when the cache holds a newer token already, that
// one is used.
func (pc *PlanetaryComputer) Renew(ctx context.Context, item *stac.Item, href, refused string) (string, error) {
	return pc.sign(ctx, item, href, refused)
}

// Signs reports whether the signer would sign href.
func (pc *PlanetaryComputer) Signs(href string) bool {
	_, ok := pc.target(href)
	return ok
}

func (pc *PlanetaryComputer) sign(ctx context.Context, item *stac.Item, href, refused string) (string, error) {
	u, ok := pc.target(href)
	if !ok {
		return href, nil
	}
	var key string
	if item != nil && item.Collection != "" {
		key = url.PathEscape(item.Collection)
	} else {
		account, _, _ := strings.Cut(u.Hostname(), ".")
		container, _, _ := strings.Cut(strings.TrimPrefix(u.Path, "/"), "/")
		if account == "" || container == "" {
			return "", fmt.Errorf("planetary computer: cannot tell the storage account and container of %s to sign it", redactedHref(href))
		}
		key = url.PathEscape(account) + "/" + url.PathEscape(container)
	}
	sep := "?"
	if u.RawQuery != "" {
		sep = "&"
	}
	token, err := pc.token(ctx, key, func(token string) bool { return refused == href+sep+token })
	if err != nil {
		return "", err
	}
	return href + sep + token, nil
}

// target parses href and reports whether it is one to sign.
func (pc *PlanetaryComputer) target(href string) (*url.URL, bool) {
	u, err := url.Parse(href)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, false
	}
	if strings.EqualFold(u.Hostname(), publicBlobHost) {
		return nil, false
	}
	q := u.Query()
	for _, k := range []string{"st", "se", "sp", "sig"} {
		if q.Has(k) {
			return nil, false // signed already
		}
	}
	host := strings.ToLower(u.Hostname())
	for _, p := range pc.cfg.Hosts {
		h := host
		if strings.Contains(p, ":") {
			h = strings.ToLower(u.Host)
		}
		if ok, _ := path.Match(strings.ToLower(p), h); ok {
			return u, true
		}
	}
	return nil, false
}

// token returns the cached token for key, or requests one; concurrent
// callers for one key share the request. A cached token for which
// refused reports true is replaced.
func (pc *PlanetaryComputer) token(ctx context.Context, key string, refused func(token string) bool) (string, error) {
	pc.mu.Lock()
	e := pc.tokens[key]
	if e != nil {
		select {
		case <-e.ready:
			if e.err == nil && !refused(e.token) && pc.now().Before(e.expiry.Add(-pc.cfg.Margin)) {
				pc.mu.Unlock()
				return e.token, nil
			}
			e = nil // expired, failed or refused: replace it
		default: // being requested: wait for it, it is a new one
		}
	}
	if e != nil {
		pc.mu.Unlock()
		select {
		case <-e.ready:
			return e.token, e.err
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
	e = &sasEntry{ready: make(chan struct{})}
	pc.tokens[key] = e
	pc.mu.Unlock()

	e.token, e.expiry, e.err = pc.fetch(ctx, key)
	if e.err != nil {
		pc.mu.Lock()
		if pc.tokens[key] == e {
			delete(pc.tokens, key) // the next caller tries again
		}
		pc.mu.Unlock()
	}
	close(e.ready)
	return e.token, e.err
}

// maxSASResponse bounds the token response read: a token is some 300 bytes.
const maxSASResponse = 64 << 10

func (pc *PlanetaryComputer) fetch(ctx context.Context, key string) (string, time.Time, error) {
	endpoint := pc.cfg.SASURL + "/" + key
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint, nil)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("planetary computer: SAS token request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	if pc.cfg.SubscriptionKey != "" {
		req.Header.Set("Ocp-Apim-Subscription-Key", pc.cfg.SubscriptionKey)
	}
	resp, err := pc.hc.Do(req)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("planetary computer: SAS token for %s: %w", key, transportError(err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxSASResponse))
	if err != nil {
		return "", time.Time{}, fmt.Errorf("planetary computer: SAS token for %s: reading the answer: %w", key, err)
	}
	if resp.StatusCode != http.StatusOK {
		e := &HTTPError{StatusCode: resp.StatusCode, URL: redactedHref(endpoint), Message: errorExcerpt(resp.Header, body)}
		switch resp.StatusCode {
		case http.StatusUnauthorized, http.StatusForbidden:
			e.Hint = "check PC_SDK_SUBSCRIPTION_KEY"
		case http.StatusTooManyRequests:
			e.Hint = "rate limited: set PC_SDK_SUBSCRIPTION_KEY for a higher limit"
		case http.StatusNotFound:
			e.Hint = "the SAS API knows no collection " + key
		}
		return "", time.Time{}, fmt.Errorf("planetary computer: SAS token: %w", e)
	}
	token, expiry, err := parseSASToken(body)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("planetary computer: SAS token for %s: %w", key, err)
	}
	return token, expiry, nil
}

// parseSASToken reads the SAS API's answer:
// {"msft:expiry": "2024-03-19T17:48:39Z", "token": "st=…&se=…&sig=…"}.
// The token must be a URL query (it is appended to hrefs as is).
func parseSASToken(body []byte) (token string, expiry time.Time, err error) {
	var r struct {
		Expiry *string `json:"msft:expiry"`
		Token  *string `json:"token"`
	}
	if err := json.Unmarshal(bytes.TrimSpace(body), &r, jsontext.AllowDuplicateNames(true)); err != nil {
		return "", time.Time{}, fmt.Errorf("the answer is not a SAS token object: %w", err)
	}
	if r.Token == nil || *r.Token == "" {
		return "", time.Time{}, fmt.Errorf(`the answer has no "token"`)
	}
	if r.Expiry == nil {
		return "", time.Time{}, fmt.Errorf(`the answer has no "msft:expiry"`)
	}
	expiry, err = time.Parse(time.RFC3339Nano, *r.Expiry)
	if err != nil {
		return "", time.Time{}, fmt.Errorf(`"msft:expiry" %q is not an RFC 3339 time`, clip(*r.Expiry, 40))
	}
	token = strings.TrimPrefix(*r.Token, "?")
	if token == "" {
		return "", time.Time{}, fmt.Errorf(`the "token" is empty`)
	}
	for i := 0; i < len(token); i++ {
		if c := token[i]; c <= ' ' || c == 0x7f || c == '#' {
			return "", time.Time{}, fmt.Errorf(`the "token" is not a URL query (a space, control character or '#' at byte %d)`, i)
		}
	}
	if _, err := url.ParseQuery(token); err != nil {
		return "", time.Time{}, fmt.Errorf(`the "token" is not a URL query`)
	}
	return token, expiry, nil
}
