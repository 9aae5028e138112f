package stac

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/stacq/stacq/internal/redact"
	"github.com/stacq/stacq/retry"
)

// Accept headers. Sentinel Hub's Catalog API answers 406 unless it is asked
// for GeoJSON alone.
const (
	acceptDefault    = "application/geo+json, application/json;q=0.9"
	acceptGeoJSON    = "application/geo+json"
	acceptQueryables = "application/schema+json, application/json;q=0.9"
	defaultUserAgent = "stacq"
	maxErrorBody     = 64 << 10 // bytes of an error response read for its message
	maxLandingBody   = 32 << 20 // a landing page with thousands of child links stays well below
	// DefaultMaxPageSize is the default of WithMaxPageSize: 128 MiB, some
	// 30 times a page of 1,000 large items.
	DefaultMaxPageSize = 128 << 20
	sentinelHubPath    = "/api/v1/catalog/1.0.0"
	sentinelHubMaxLim  = 100
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
	// origins are the origins (scheme, host, port) of the landing page
	// and of its search and data links: the only ones that get the
	// static headers, redirects included (see checkRedirect).
	origins   map[string]bool
	userAgent string

	root           string // the landing page URL, after redirects
	landing        *Catalog
	conformance    []string
	searchGET      string // href of the GET search link, "" when none
	searchPOST     string // href of the POST search link, "" when none
	collectionsURL string
	queryablesURL  string
	sentinelHub    bool
	inferred       bool          // no conformance advertised: see ConformanceInferred
	maxPage        int64         // WithMaxPageSize
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

// WithHeader adds a header sent with every request to the API's origins
// (scheme, host and port of the landing page, and of its search and data
// links): not to other origins a next link or a redirect may point to, nor
// over plain http to an API read over https, since such headers often
// carry API keys. It may be given several times, also for the same name.
// An Accept header given here replaces the client's own.
func WithHeader(name, value string) Option {
	return func(c *Client) { c.header.Add(name, value) }
}

// WithMaxPageSize caps the bytes read of one response (a page of a
// listing, a collection, an item), counted after decompression: a
// response above it fails with a *TooLargeError instead of taking the
// process's memory. The default is DefaultMaxPageSize; the landing page
// has a cap of its own, 32 MiB.
func WithMaxPageSize(n int64) Option {
	return func(c *Client) {
		if n > 0 {
			c.maxPage = n
		}
	}
}

// WithUserAgent sets the User-Agent header.
func WithUserAgent(ua string) Option {
	return func(c *Client) { c.userAgent = ua }
}

// Open reads the landing page of the STAC API at rootURL and its
// conformance classes. A URL that does not serve a STAC API landing page
// gives a *NotSTACError (errors.As) that says what it is instead.
func Open(ctx context.Context, rootURL string, opts ...Option) (*Client, error) {
	c := &Client{hc: http.DefaultClient, header: http.Header{}, userAgent: defaultUserAgent, maxPage: DefaultMaxPageSize}
	for _, opt := range opts {
		opt(c)
	}
	u, err := url.Parse(rootURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("open %s: expected an http(s) URL of a STAC API landing page", redact.URL(rootURL))
	}
	c.root = u.String()
	c.origins = map[string]bool{}
	c.allow(u)
	if p, ok := retry.PolicyOf(c.hc.Transport); ok && c.retry == nil {
		c.retry = &p // the transport's retries, for whole pages too
	}
	c.hc = c.guardRedirects(c.hc)
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
		c.allow(resp.Request.URL)
	}
	body, err := readBody(resp, nil, maxLandingBody, "landing page")
	if err != nil {
		return fmt.Errorf("open: %w", c.readErr(&request{method: http.MethodGet, url: c.root}, resp, err))
	}
	ct := resp.Header.Get("Content-Type")
	if err := c.classify(body, ct); err != nil {
		return err
	}
	c.sentinelHub = isSentinelHub(c.root)
	if len(c.conformance) == 0 {
		if l := FindLink(c.landing.Links, "conformance"); l != nil {
			if err := c.readConformance(ctx, c.resolve(l.Href)); err != nil && ctx.Err() != nil {
				return err
			}
		}
	}
	if len(c.conformance) == 0 {
		// An older or partial API: never fatal, the links say enough.
		c.inferClasses()
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
		Type       jsontext.Value `json:"type"`
		Version    jsontext.Value `json:"stac_version"`
		ConformsTo jsontext.Value `json:"conformsTo"`
	}
	if len(trimmed) == 0 || trimmed[0] != '{' || json.Unmarshal(trimmed, &probe, decodeOpts) != nil {
		return notSTAC(fmt.Sprintf("not JSON (%s), not a STAC API: %q", orDefault(mt, "no content type"), snippet(body)))
	}
	var cat Catalog
	if err := json.Unmarshal(trimmed, &cat, decodeOpts); err != nil {
		if probe.Version == nil && probe.ConformsTo == nil {
			return notSTAC("JSON that is not STAC (no stac_version, conformsTo or links), not a STAC API")
		}
		return &DecodeError{Method: http.MethodGet, URL: redact.URL(c.root), ContentType: contentType, Snippet: snippet(body), Err: err}
	}
	c.landing = &cat
	c.conformance = cat.ConformsTo
	for _, l := range cat.Links {
		if l == nil || !jsonType(l.Type) {
			// Servers list the same rel in several media types (GeoServer's
			// ?f=text/html): only the JSON ones are for a client.
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
			c.allow(u)
		}
	}
	isAPI := len(cat.ConformsTo) > 0 || c.searchGET != "" || c.searchPOST != "" ||
		c.collectionsURL != "" || FindLink(cat.Links, "conformance") != nil
	if isAPI {
		return nil
	}
	var typ string
	json.Unmarshal(probe.Type, &typ)
	switch typ {
	case "Catalog":
		return notSTAC("static catalog, not a STAC API; use crawl")
	case "Collection":
		return notSTAC("a STAC Collection, not a STAC API landing page; use crawl")
	case "Feature":
		return notSTAC("a STAC Item, not a STAC API landing page")
	case "FeatureCollection":
		return notSTAC("a GeoJSON FeatureCollection, not a STAC API landing page")
	}
	if probe.Version != nil {
		return notSTAC(fmt.Sprintf("a STAC document of type %q, not a STAC API landing page", typ))
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

// The query of base is kept: some servers choose the format of every
// resource with one ("?f=application/json"; pystac-client keeps it too).
func joinPath(base string, segments ...string) string {
	u, err := url.Parse(base)
	if err != nil {
		return strings.TrimSuffix(base, "/") + "/" + strings.Join(segments, "/")
	}
	query := u.RawQuery
	u.RawQuery, u.Fragment, u.RawFragment = "", "", ""
	escaped := make([]string, len(segments))
	for i, s := range segments {
		escaped[i] = url.PathEscape(s)
	}
	out := strings.TrimSuffix(u.String(), "/") + "/" + strings.Join(escaped, "/")
	if query != "" {
		out += "?" + query
	}
	return out
}

// jsonType reports whether a link's media type is one a client reads:
// none given, JSON, GeoJSON or a JSON-based profile.
func jsonType(t string) bool {
	mt, _, err := mime.ParseMediaType(t)
	return t == "" || err == nil && (strings.HasSuffix(mt, "json") || strings.HasSuffix(mt, "+json"))
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
	if c.origins[origin(req.URL)] {
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

// getJSON GETs href and decodes its body, read up to the page cap, into v,
// retried as one unit under the client's policy (a body cut short is
// fetched again).
func (c *Client) getJSON(ctx context.Context, href, accept string, v any) error {
	r := &request{method: http.MethodGet, url: href, accept: accept}
	_, err := retried(c, func(ctx context.Context, r *request) (struct{}, error) {
		return struct{}{}, c.getJSONOnce(ctx, r, v)
	})(ctx, r)
	return err
}

func (c *Client) getJSONOnce(ctx context.Context, r *request, v any) error {
	href := r.url
	resp, err := c.send(ctx, r)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := readBody(resp, nil, c.maxPage, "response")
	if err != nil {
		return c.readErr(r, resp, err)
	}
	if err := json.Unmarshal(body, v, decodeOpts); err != nil {
		return &DecodeError{Method: r.method, URL: redact.URL(href), ContentType: resp.Header.Get("Content-Type"), Snippet: snippet(body), Err: err}
	}
	return nil
}
