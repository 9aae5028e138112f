package stac

import (
	"bytes"
	"context"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/stacq/stacq/geo"
	"github.com/stacq/stacq/internal/redact"
)

// Filter languages of the filter extension.
const (
	CQL2Text = "cql2-text"
	CQL2JSON = "cql2-json"
)

// SearchParams are the parameters of an item search (/search): what is
// sent to the server. The zero value searches everything, with the
// server's page size. How the results are paged (how many, from where,
// in parallel windows) is set with ListOptions.
type SearchParams struct {
	Collections []string
	IDs         []string
	// BBox is minx,miny,maxx,maxy or, with heights, minx,miny,minz,maxx,maxy,maxz.
	BBox geo.BBox
	// Intersects is a GeoJSON geometry.
	Intersects jsontext.Value
	// Datetime is an instant or an interval; the zero Interval sends none.
	Datetime geo.Interval
	// Limit is the page size asked of the server (0: the server's default).
	// Servers may send less.
	Limit int
	// Query is a query extension object: {"eo:cloud_cover": {"lt": 10}}.
	Query map[string]any
	// Filter is a CQL2 filter, in text or as CQL2-JSON.
	Filter string
	// FilterLang is CQL2Text or CQL2JSON; when empty it is CQL2JSON for a
	// filter that starts with '{' and CQL2Text otherwise.
	FilterLang string
	SortBy     []SortBy
	Fields     *Fields
	// Q is the free-text search.
	Q string
	// Method is "GET", "POST", or "" to choose: POST when the landing page
	// advertises a POST search link (always for Sentinel Hub), except that
	// a CQL2-text filter goes by GET when GET is advertised, as the filter
	// extension encodes it; GET otherwise. Either may be forced: forcing
	// POST on an API that advertises only GET sends the POST to its GET
	// search link, which some servers accept and others answer with 405.
	Method string
}

// WithParallel, above 1, splits a search over its datetime range into that
// many windows searched at once, for exports where the order does not
// matter: pages come as they arrive, each item once (an item at a window
// boundary is dropped the second time, which means remembering the
// collection and id of every item yielded), WithMaxItems still caps the
// total. An open or missing end of Datetime is taken from the temporal
// extents of the searched collections. A parallel search cannot be
// resumed.
func WithParallel(windows int) ListOption { return func(c *listConfig) { c.parallel = windows } }

// Search yields the items matching p, page after page, decoded. It holds
// two pages in memory, the current one and the next, fetched ahead (see
// WithPrefetch); breaking out of the loop stops the paging. Items are
// decoded 128 at a time, over up to GOMAXPROCS goroutines. After an
// error nothing more is yielded.
func (c *Client) Search(ctx context.Context, p SearchParams, opts ...ListOption) iter.Seq2[*Item, error] {
	return typedItems(c.searchRaw(ctx, p, opts, true))
}

// SearchPages yields the pages of a search, decoded: each page's Links
// hold its next link (for APIs that page with context.next, the
// equivalent next link is added), from which WithResume resumes the
// search later.
func (c *Client) SearchPages(ctx context.Context, p SearchParams, opts ...ListOption) iter.Seq2[*ItemCollection, error] {
	return typedPages(c.searchRaw(ctx, p, opts, true), (*RawPage).ItemCollection)
}

// SearchRawPages is SearchPages with the items left as the JSON the server
// sent: the fast path for callers that pass items on without looking
// inside them, such as an export. With WithRawPageReuse, a page and its
// items are valid only until the loop asks for the next page.
func (c *Client) SearchRawPages(ctx context.Context, p SearchParams, opts ...ListOption) iter.Seq2[*RawPage, error] {
	return c.searchRaw(ctx, p, opts, c.reuseRawPages)
}

// searchRaw is every search: reuse says the pages are handed on only
// until the next one is asked for.
func (c *Client) searchRaw(ctx context.Context, p SearchParams, opts []ListOption, reuse bool) iter.Seq2[*RawPage, error] {
	cfg, err := listOptions(opts)
	if err != nil {
		return failed[*RawPage](fmt.Errorf("search: %w", err))
	}
	if cfg.parallel > 1 {
		return c.parallelSearch(ctx, p, cfg)
	}
	first, err := c.searchRequest(p, cfg.max)
	if err != nil {
		return failed[*RawPage](err)
	}
	return c.rawPages(ctx, first, "features", cfg, reuse)
}

// Matched returns the number of items matching p as the server counts them
// (numberMatched, or context.matched), with one request for one item. It
// returns ErrNoCount when the server does not count.
func (c *Client) Matched(ctx context.Context, p SearchParams) (int64, error) {
	if err := checkCommon(p.BBox, p.Limit); err != nil {
		return 0, fmt.Errorf("search: %w", err)
	}
	p.Limit = 1
	r, err := c.searchRequest(p, 0)
	if err != nil {
		return 0, err
	}
	for page, err := range c.rawPages(ctx, r, "features", listConfig{max: 1}, false) {
		if err != nil {
			return 0, err
		}
		if n, ok := page.Matched(); ok {
			return n, nil
		}
		break
	}
	return 0, fmt.Errorf("%s %s: %w", r.method, redact.URL(r.url), ErrNoCount)
}

// searchMethod chooses GET or POST for p and the URL to send it to.
func (c *Client) searchMethod(p SearchParams, filterLang string) (method, href string, err error) {
	method = strings.ToUpper(p.Method)
	switch method {
	case "":
		switch {
		case c.sentinelHub:
			method = http.MethodPost
		case c.searchPOST != "" && !(filterLang == CQL2Text && c.searchGET != ""):
			method = http.MethodPost
		default:
			method = http.MethodGet
		}
	case http.MethodGet, http.MethodPost:
	default:
		return "", "", fmt.Errorf("search: method: expected GET or POST, got %q", p.Method)
	}
	href = c.searchGET
	if method == http.MethodPost && c.searchPOST != "" || href == "" {
		href = c.searchPOST
	}
	if href == "" {
		// No search link: the path the spec gives /search.
		href = c.endpoint("search")
	}
	return method, href, nil
}

// searchRequest encodes p as the first request of a search; max is the
// item cap (0: none), above which no page size is asked for.
func (c *Client) searchRequest(p SearchParams, max int) (*request, error) {
	if err := checkCommon(p.BBox, p.Limit); err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	filterLang, err := filterLanguage(p.Filter, p.FilterLang)
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	method, href, err := c.searchMethod(p, filterLang)
	if err != nil {
		return nil, err
	}
	r := &request{method: method, url: href, accept: c.accept()}
	limit := c.pageSize(p.Limit, max)
	if method == http.MethodPost {
		r.body, err = searchBody(p, limit, filterLang)
	} else {
		r.url, err = searchQuery(href, p, limit, filterLang)
	}
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	return r, nil
}

// pageSize is the page size to ask for: no more than max items will be
// kept, and Sentinel Hub answers 400 above its cap.
func (c *Client) pageSize(limit, max int) int {
	if max > 0 && limit > max {
		limit = max
	}
	if c.sentinelHub && limit > sentinelHubMaxLim {
		limit = sentinelHubMaxLim
	}
	return limit
}

// accept is the Accept header of listings: Sentinel Hub's Catalog API
// answers 406 unless asked for GeoJSON alone.
func (c *Client) accept() string {
	if c.sentinelHub {
		return acceptGeoJSON
	}
	return ""
}

func checkCommon(bbox geo.BBox, limit int) error {
	if len(bbox) != 0 && len(bbox) != 4 && len(bbox) != 6 {
		return fmt.Errorf("bbox: expected 4 or 6 numbers, got %d", len(bbox))
	}
	if limit < 0 {
		return fmt.Errorf("limit: expected a positive page size, got %d", limit)
	}
	return nil
}

// filterLanguage checks the filter language, inferring it when empty.
func filterLanguage(filter, lang string) (string, error) {
	if filter == "" {
		return "", nil
	}
	switch lang = strings.ToLower(lang); lang {
	case CQL2Text, CQL2JSON:
	case "":
		lang = CQL2Text
		if strings.HasPrefix(strings.TrimSpace(filter), "{") {
			lang = CQL2JSON
		}
	default:
		return "", fmt.Errorf("filter-lang: expected %s or %s, got %q", CQL2Text, CQL2JSON, lang)
	}
	if v := jsontext.Value(filter); lang == CQL2JSON && !v.IsValid() {
		return "", fmt.Errorf("filter: expected a CQL2-JSON object, got invalid JSON %q", snippet(v))
	}
	return lang, nil
}

// searchQuery encodes p for GET as the item search spec and its extensions
// say: lists joined with commas, intersects, query and CQL2-JSON filters as
// JSON text, sortby as "+a,-b", fields as "a,-b".
func searchQuery(href string, p SearchParams, limit int, filterLang string) (string, error) {
	v := url.Values{}
	if len(p.Collections) > 0 {
		v.Set("collections", strings.Join(p.Collections, ","))
	}
	if len(p.IDs) > 0 {
		v.Set("ids", strings.Join(p.IDs, ","))
	}
	if len(p.Intersects) > 0 {
		g, err := compactJSON(p.Intersects, "intersects")
		if err != nil {
			return "", err
		}
		v.Set("intersects", string(g))
	}
	if err := commonQuery(v, p.BBox, p.Datetime, limit, p.Filter, filterLang, p.SortBy, p.Q); err != nil {
		return "", err
	}
	if p.Query != nil {
		b, err := json.Marshal(p.Query, encodeOpts)
		if err != nil {
			return "", fmt.Errorf("query: %w", err)
		}
		v.Set("query", string(b))
	}
	if p.Fields != nil {
		parts := append([]string(nil), p.Fields.Include...)
		for _, f := range p.Fields.Exclude {
			parts = append(parts, "-"+f)
		}
		v.Set("fields", strings.Join(parts, ","))
	}
	return withQuery(href, v)
}

// commonQuery sets the GET parameters shared by item search, items and
// collection search.
func commonQuery(v url.Values, bbox geo.BBox, datetime geo.Interval, limit int, filter, filterLang string, sortby []SortBy, q string) error {
	if len(bbox) > 0 {
		v.Set("bbox", bbox.String())
	}
	if !datetime.IsZero() {
		v.Set("datetime", datetime.String())
	}
	if limit > 0 {
		v.Set("limit", strconv.Itoa(limit))
	}
	if filter != "" {
		f := []byte(filter)
		if filterLang == CQL2JSON {
			var err error
			if f, err = compactJSON(f, "filter"); err != nil {
				return err
			}
		}
		v.Set("filter", string(f))
		v.Set("filter-lang", filterLang)
	}
	if len(sortby) > 0 {
		parts := make([]string, len(sortby))
		for i, s := range sortby {
			dir, err := sortSign(s)
			if err != nil {
				return err
			}
			parts[i] = dir + s.Field
		}
		v.Set("sortby", strings.Join(parts, ","))
	}
	if q != "" {
		v.Set("q", q)
	}
	return nil
}

func sortSign(s SortBy) (string, error) {
	if s.Field == "" {
		return "", fmt.Errorf("sortby: empty field")
	}
	switch strings.ToLower(s.Direction) {
	case "", "asc":
		return "+", nil
	case "desc":
		return "-", nil
	}
	return "", fmt.Errorf("sortby %q: direction: expected asc or desc, got %q", s.Field, s.Direction)
}

// withQuery adds v to href's own query parameters.
func withQuery(href string, v url.Values) (string, error) {
	u, err := url.Parse(href)
	if err != nil {
		return "", fmt.Errorf("url %q: %w", href, err)
	}
	if len(v) == 0 {
		return u.String(), nil
	}
	q := u.Query()
	for k, vals := range v {
		q[k] = vals
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// postSearch is the POST body of a search, its members in a fixed order.
type postSearch struct {
	Collections []string       `json:"collections,omitzero"`
	IDs         []string       `json:"ids,omitzero"`
	BBox        []float64      `json:"bbox,omitzero"`
	Intersects  jsontext.Value `json:"intersects,omitzero"`
	Datetime    string         `json:"datetime,omitzero"`
	Limit       int            `json:"limit,omitzero"`
	Query       map[string]any `json:"query,omitzero"`
	Filter      jsontext.Value `json:"filter,omitzero"`
	FilterLang  string         `json:"filter-lang,omitzero"`
	SortBy      []SortBy       `json:"sortby,omitzero"`
	Fields      *Fields        `json:"fields,omitzero"`
	Q           string         `json:"q,omitzero"`
}

func searchBody(p SearchParams, limit int, filterLang string) (jsontext.Value, error) {
	b := postSearch{
		Collections: p.Collections, IDs: p.IDs, BBox: p.BBox,
		Limit: limit, Query: p.Query, FilterLang: filterLang, Q: p.Q,
	}
	if !p.Datetime.IsZero() {
		b.Datetime = p.Datetime.String()
	}
	if len(p.Intersects) > 0 {
		g, err := compactJSON(p.Intersects, "intersects")
		if err != nil {
			return nil, err
		}
		b.Intersects = g
	}
	if p.Filter != "" {
		if filterLang == CQL2JSON {
			f, err := compactJSON([]byte(p.Filter), "filter")
			if err != nil {
				return nil, err
			}
			b.Filter = f
		} else {
			b.Filter, _ = json.Marshal(p.Filter)
		}
	}
	for _, s := range p.SortBy {
		sign, err := sortSign(s)
		if err != nil {
			return nil, err
		}
		dir := "asc"
		if sign == "-" {
			dir = "desc"
		}
		b.SortBy = append(b.SortBy, SortBy{Field: s.Field, Direction: dir})
	}
	if p.Fields != nil {
		// Both lists always, as pystac-client sends them.
		b.Fields = &Fields{Include: orEmpty(p.Fields.Include), Exclude: orEmpty(p.Fields.Exclude)}
	}
	return json.Marshal(b, encodeOpts)
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// compactJSON checks b and removes its insignificant whitespace.
func compactJSON(b []byte, what string) (jsontext.Value, error) {
	v := jsontext.Value(bytes.Clone(b))
	if err := v.Compact(); err != nil {
		return nil, fmt.Errorf("%s: expected JSON, got %q: %w", what, snippet(b), err)
	}
	return v, nil
}
