package stac

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/stacq/stacq/internal/redact"
	"github.com/stacq/stacq/retry"
)

// Accept headers. Sentinel Hub's Catalog API answers 406 unless it is asked
// for GeoJSON alone.
const (
	acceptDefault     = "application/geo+json, application/json;q=0.9"
	acceptGeoJSON     = "application/geo+json"
	acceptQueryables  = "application/schema+json, application/json;q=0.9"
	defaultUserAgent  = "stacq"
	maxErrorBody      = 64 << 10 // bytes of an error response read for its message
	maxLandingBody    = 32 << 20 // a landing page with thousands of child links stays well below
	sentinelHubPath   = "/api/v1/catalog/1.0.0"
	sentinelHubMaxLim = 100
)

// Client talks to one STAC API. Open it with Open; it is safe for
// concurrent use.
//
// The Client does no authentication of its own: pass an *http.Client that
// authenticates (see the auth package) with WithHTTPClient. To trace
// requests (method, URL, status, duration), wrap that client's Transport:
// every request of the Client, paging included, goes through it.
type Client struct {
	hc     *http.Client
	header http.Header // static headers, from WithHeader
	// apiHosts are the hosts of the landing page and of its search and
	// data links: the only ones that get the static headers.
	apiHosts  map[string]bool
	userAgent string

	root           string // the landing page URL, after redirects
	landing        *Catalog
	conformance    []string
	searchGET      string // href of the GET search link, "" when none
	searchPOST     string // href of the POST search link, "" when none
	collectionsURL string
	queryablesURL  string
	sentinelHub    bool
	noPrefetch     bool          // WithPrefetch(false)
	reuseRawPages  bool          // WithRawPageReuse(true)
	retry          *retry.Policy // WithRetry; nil: pages are fetched once
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient makes the Client send its requests with hc: the place for
// authentication, timeouts, proxies and request tracing. The default is
// http.DefaultClient.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) {
		if hc != nil {
			c.hc = hc
		}
	}
}

// WithHeader adds a header sent with every request to the API's hosts (the
// landing page's, and those of its search and data links; not to other
// hosts a next link may point to, since such headers often carry API keys).
// It may be given several times, also for the same name. An Accept header
// given here replaces the client's own.
func WithHeader(name, value string) Option {
	return func(c *Client) { c.header.Add(name, value) }
}

// WithUserAgent sets the User-Agent header.
func WithUserAgent(ua string) Option {
	return func(c *Client) { c.userAgent = ua }
}

// Open reads the landing page of the STAC API at rootURL and its
// conformance classes. A URL that does not serve a STAC API landing page
// gives a *NotSTACError (errors.As) that says what it is instead.
func Open(ctx context.Context, rootURL string, opts ...Option) (*Client, error) {
	c := &Client{hc: http.DefaultClient, header: http.Header{}, userAgent: defaultUserAgent}
	for _, opt := range opts {
		opt(c)
	}
	u, err := url.Parse(rootURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("open %s: expected an http(s) URL of a STAC API landing page", redact.URL(rootURL))
	}
	c.root = u.String()
	c.apiHosts = map[string]bool{u.Host: true}
	if err := c.readLanding(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// readLanding fetches and classifies the landing page.
func (c *Client) readLanding(ctx context.Context) error {
	resp, err := c.send(ctx, &request{method: http.MethodGet, url: c.root})
	if err != nil {
		var he *HTTPError
		if asHTTPError(err, &he) && (he.StatusCode == http.StatusNotFound || he.StatusCode == http.StatusGone) {
			return &NotSTACError{URL: redact.URL(c.root), Reason: fmt.Sprintf("HTTP %d %s: no STAC API landing page here", he.StatusCode, http.StatusText(he.StatusCode)), Err: err}
		}
		return fmt.Errorf("open: %w", err)
	}
	defer resp.Body.Close()
	if resp.Request != nil && resp.Request.URL != nil {
		c.root = resp.Request.URL.String() // after redirects: relative links resolve from here
		c.apiHosts[resp.Request.URL.Host] = true
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxLandingBody))
	if err != nil {
		return fmt.Errorf("open %s: reading the landing page: %w", redact.URL(c.root), err)
	}
	ct := resp.Header.Get("Content-Type")
	if err := c.classify(body, ct); err != nil {
		return err
	}
	c.sentinelHub = isSentinelHub(c.root)
	if len(c.conformance) == 0 {
		if l := FindLink(c.landing.Links, "conformance"); l != nil {
			if err := c.readConformance(ctx, c.resolve(l.Href)); err != nil {
				return err
			}
		}
	}
	return nil
}

// classify decodes the landing page, or says why it is not one.
func (c *Client) classify(body []byte, contentType string) error {
	notSTAC := func(reason string) error {
		return &NotSTACError{URL: redact.URL(c.root), Reason: reason}
	}
	trimmed := bytes.TrimSpace(body)
	mt, _, _ := mime.ParseMediaType(contentType)
	if mt == "text/html" || mt == "application/xhtml+xml" || bytes.HasPrefix(trimmed, []byte("<")) {
		return notSTAC(fmt.Sprintf("an HTML page (%s), not a STAC API landing page: %q", orDefault(mt, "no content type"), snippet(body)))
	}
	var probe struct {
		Type       string          `json:"type"`
		Version    string          `json:"stac_version"`
		ConformsTo json.RawMessage `json:"conformsTo"`
	}
	if len(trimmed) == 0 || trimmed[0] != '{' || json.Unmarshal(trimmed, &probe) != nil {
		return notSTAC(fmt.Sprintf("not JSON (%s), not a STAC API: %q", orDefault(mt, "no content type"), snippet(body)))
	}
	var cat Catalog
	if err := json.Unmarshal(trimmed, &cat); err != nil {
		if probe.Version == "" && probe.ConformsTo == nil {
			return notSTAC("JSON that is not STAC (no stac_version, conformsTo or links), not a STAC API")
		}
		return &DecodeError{Method: http.MethodGet, URL: redact.URL(c.root), ContentType: contentType, Snippet: snippet(body), Err: err}
	}
	c.landing = &cat
	c.conformance = cat.ConformsTo
	for _, l := range cat.Links {
		if l == nil {
			continue
		}
		switch l.Rel {
		case "search":
			switch strings.ToUpper(l.Method) {
			case "POST":
				c.searchPOST = c.resolve(l.Href)
			case "", "GET":
				c.searchGET = c.resolve(l.Href)
			}
		case "data":
			c.collectionsURL = c.resolve(l.Href)
		case "http://www.opengis.net/def/rel/ogc/1.0/queryables", "queryables":
			c.queryablesURL = c.resolve(l.Href)
		}
	}
	for _, href := range []string{c.searchGET, c.searchPOST, c.collectionsURL} {
		if u, err := url.Parse(href); err == nil && href != "" {
			c.apiHosts[u.Host] = true
		}
	}
	isAPI := len(cat.ConformsTo) > 0 || c.searchGET != "" || c.searchPOST != "" ||
		c.collectionsURL != "" || FindLink(cat.Links, "conformance") != nil
	if isAPI {
		return nil
	}
	switch probe.Type {
	case "Catalog":
		return notSTAC("static catalog, not a STAC API; use crawl")
	case "Collection":
		return notSTAC("a STAC Collection, not a STAC API landing page; use crawl")
	case "Feature":
		return notSTAC("a STAC Item, not a STAC API landing page")
	case "FeatureCollection":
		return notSTAC("a GeoJSON FeatureCollection, not a STAC API landing page")
	}
	if probe.Version != "" {
		return notSTAC(fmt.Sprintf("a STAC document of type %q, not a STAC API landing page", probe.Type))
	}
	return notSTAC("JSON that is not STAC (no stac_version, conformsTo, or search or data links), not a STAC API")
}

// readConformance reads /conformance for landing pages that link to it
// instead of listing conformsTo.
func (c *Client) readConformance(ctx context.Context, href string) error {
	var doc struct {
		ConformsTo []string `json:"conformsTo"`
	}
	if err := c.getJSON(ctx, href, acceptDefault, &doc); err != nil {
		return fmt.Errorf("open: conformance: %w", err)
	}
	c.conformance = doc.ConformsTo
	return nil
}

// isSentinelHub tells the Sentinel Hub Catalog API (Sentinel Hub and the
// Copernicus Data Space) from its path.
func isSentinelHub(root string) bool {
	u, err := url.Parse(root)
	if err != nil {
		return false
	}
	p := strings.TrimSuffix(u.Path, "/")
	return strings.HasSuffix(p, sentinelHubPath)
}

// Landing returns the landing page.
func (c *Client) Landing() *Catalog { return c.landing }

// RootURL returns the landing page URL (after redirects).
func (c *Client) RootURL() string { return c.root }

// Conformance returns the conformance classes the API advertises.
func (c *Client) Conformance() []string { return c.conformance }

// SentinelHub reports whether the API is a Sentinel Hub Catalog API, whose
// paging and limits the Client handles on its own.
func (c *Client) SentinelHub() bool { return c.sentinelHub }

// resolve makes href absolute against the landing page URL.
func (c *Client) resolve(href string) string {
	return resolveRef(c.root, href)
}

func resolveRef(base, href string) string {
	b, err := url.Parse(base)
	if err != nil {
		return href
	}
	r, err := url.Parse(href)
	if err != nil {
		return href
	}
	return b.ResolveReference(r).String()
}

// endpoint joins path segments to the root URL: root "…/v1/" or "…/v1"
// with "collections" gives "…/v1/collections".
func (c *Client) endpoint(segments ...string) string {
	return joinPath(c.root, segments...)
}

func joinPath(base string, segments ...string) string {
	u, err := url.Parse(base)
	if err != nil {
		return strings.TrimSuffix(base, "/") + "/" + strings.Join(segments, "/")
	}
	u.RawQuery, u.Fragment = "", ""
	escaped := make([]string, len(segments))
	for i, s := range segments {
		escaped[i] = url.PathEscape(s)
	}
	return strings.TrimSuffix(u.String(), "/") + "/" + strings.Join(escaped, "/")
}

// ---- request plumbing ----

// request is one HTTP request of the API: the first of a listing or a
// search, or one built from a next link.
type request struct {
	method string
	url    string
	body   json.RawMessage // POST only
	header http.Header     // headers of a next link
	accept string          // "" for the default
}

// key identifies a request for the paging loop guard.
func (r *request) key() string {
	return r.method + " " + r.url + "\n" + string(r.body)
}

// send performs r and returns the response when its status is 2xx; any
// other status is read into an *HTTPError.
func (c *Client) send(ctx context.Context, r *request) (*http.Response, error) {
	var body io.Reader
	if r.method != http.MethodGet && r.body != nil {
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, r.url, body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", r.method, redact.URL(r.url), err)
	}
	accept := r.accept
	if accept == "" {
		accept = acceptDefault
	}
	req.Header.Set("Accept", accept)
	if c.userAgent != "" {
		req.Header.Set("User-Agent", c.userAgent)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.apiHosts[req.URL.Host] {
		for name, vals := range c.header {
			req.Header[http.CanonicalHeaderKey(name)] = append([]string(nil), vals...)
		}
	}
	for name, vals := range r.header {
		req.Header[http.CanonicalHeaderKey(name)] = append([]string(nil), vals...)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("%s %s: %w", r.method, redact.URL(r.url), unwrapURLError(err))
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		return nil, newHTTPError(r.method, r.url, resp.StatusCode, b)
	}
	return resp, nil
}

// unwrapURLError drops the *url.Error layer, whose message repeats the
// request URL unredacted.
func unwrapURLError(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}

func asHTTPError(err error, target **HTTPError) bool {
	he, ok := err.(*HTTPError)
	if ok {
		*target = he
	}
	return ok
}

// decode reads the JSON body of resp into v from the stream, keeping its
// first bytes for the error when it is not what was expected.
func decode(method string, resp *http.Response, v any) error {
	head := &headReader{r: resp.Body}
	err := json.NewDecoder(head).Decode(v)
	// Drain a little so that the connection can be reused.
	io.CopyN(io.Discard, resp.Body, 4<<10)
	if err != nil {
		u := ""
		if resp.Request != nil && resp.Request.URL != nil {
			u = resp.Request.URL.String()
		}
		if ctxErr := requestCtxErr(resp); ctxErr != nil {
			return ctxErr
		}
		return &DecodeError{Method: method, URL: redact.URL(u), ContentType: resp.Header.Get("Content-Type"), Snippet: snippet(head.buf), Err: err}
	}
	return nil
}

func requestCtxErr(resp *http.Response) error {
	if resp.Request != nil {
		return resp.Request.Context().Err()
	}
	return nil
}

// headReader keeps the first bytes read through it.
type headReader struct {
	r   io.Reader
	buf []byte
}

func (h *headReader) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	if room := snippetLen*2 - len(h.buf); room > 0 && n > 0 {
		h.buf = append(h.buf, p[:min(n, room)]...)
	}
	return n, err
}

// getJSON GETs href and decodes its body into v.
func (c *Client) getJSON(ctx context.Context, href, accept string, v any) error {
	resp, err := c.send(ctx, &request{method: http.MethodGet, url: href, accept: accept})
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return decode(http.MethodGet, resp, v)
}
