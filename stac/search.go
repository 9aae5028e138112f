package stac

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/stacq/stacq/internal/redact"
)

// Filter languages of the filter extension.
const (
	CQL2Text = "cql2-text"
	CQL2JSON = "cql2-json"
)

// SearchParams are the parameters of an item search (/search). The zero
// value searches everything, with the server's page size.
type SearchParams struct {
	Collections []string
	IDs         []string
	// BBox is minx,miny,maxx,maxy or, with heights, minx,miny,minz,maxx,maxy,maxz.
	BBox []float64
	// Intersects is a GeoJSON geometry.
	Intersects json.RawMessage
	// Datetime is an instant or an interval in the API's form:
	// "2023-06-01T00:00:00Z/2023-06-30T23:59:59Z", "2023-06-01T00:00:00Z/..".
	Datetime string
	// Limit is the page size asked of the server (0: the server's default).
	// Servers may send less.
	Limit int
	// MaxItems caps the number of items yielded (0: all). Once reached, no
	// further page is requested.
	MaxItems int
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
	// NextLink, when set, resumes a search: the first request follows this
	// next link, saved from a page's Links, instead of sending the
	// parameters. The parameters must be those of the original search,
	// since a POST link with "merge" is merged into their body. MaxItems
	// counts from the resumed page.
	NextLink *Link
	// Parallel, above 1, splits the search over its datetime range into
	// that many windows searched at once, for exports where the order does
	// not matter: pages come as they arrive, each item once (an item at a
	// window boundary is dropped the second time), MaxItems still caps the
	// total. An open or missing end of Datetime is taken from the temporal
	// extents of Collections. A parallel search cannot be resumed.
	Parallel int
}

// Search yields the items matching p, page after page. It holds two pages
// in memory, the current one and the next, fetched ahead (see
// WithPrefetch); breaking out of the loop stops the paging. After an
// error nothing more is yielded.
func (c *Client) Search(ctx context.Context, p SearchParams) iter.Seq2[*Item, error] {
	return itemsOf(c.SearchPages(ctx, p))
}

// SearchPages yields the pages of a search: each page's Links hold its next
// link (for the Sentinel Hub Catalog API, which pages with context.next,
// the equivalent next link is added), from which SearchParams.NextLink
// resumes the search later. With MaxItems, the last page is cut to the
// number of items still wanted.
func (c *Client) SearchPages(ctx context.Context, p SearchParams) iter.Seq2[*ItemCollection, error] {
	if p.Parallel > 1 {
		return parallelSearch(ctx, c, p, c.SearchPages, keepItems)
	}
	first, err := c.searchRequest(p)
	if err != nil {
		return failed[*ItemCollection](err)
	}
	if p.NextLink != nil {
		if first, err = c.followRequest(first, p.NextLink); err != nil {
			return failed[*ItemCollection](fmt.Errorf("search: resume: %w", err))
		}
	}
	return pages[ItemCollection](ctx, c, first, p.MaxItems)
}

// Matched returns the number of items matching p as the server counts them
// (numberMatched, or context.matched), with one request for one item. It
// returns ErrNoCount when the server does not count.
func (c *Client) Matched(ctx context.Context, p SearchParams) (int64, error) {
	if err := checkCommon(p.BBox, p.Limit, p.MaxItems); err != nil {
		return 0, fmt.Errorf("search: %w", err)
	}
	p.Limit, p.MaxItems, p.NextLink = 1, 0, nil
	r, err := c.searchRequest(p)
	if err != nil {
		return 0, err
	}
	var page ItemCollection
	if err := c.fetch(ctx, r, &page); err != nil {
		return 0, err
	}
	n, ok := page.Matched()
	if !ok {
		return 0, fmt.Errorf("%s %s: %w", r.method, redact.URL(r.url), ErrNoCount)
	}
	return n, nil
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

// searchRequest encodes p as the first request of a search.
func (c *Client) searchRequest(p SearchParams) (*request, error) {
	if err := checkCommon(p.BBox, p.Limit, p.MaxItems); err != nil {
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
	limit := p.Limit
	if p.MaxItems > 0 && limit > p.MaxItems {
		limit = p.MaxItems // no point asking for more than will be kept
	}
	if c.sentinelHub && limit > sentinelHubMaxLim {
		limit = sentinelHubMaxLim // it answers 400 above its cap
	}
	r := &request{method: method, url: href}
	if c.sentinelHub {
		r.accept = acceptGeoJSON
	}
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

func checkCommon(bbox []float64, limit, maxItems int) error {
	if len(bbox) != 0 && len(bbox) != 4 && len(bbox) != 6 {
		return fmt.Errorf("bbox: expected 4 or 6 numbers, got %d", len(bbox))
	}
	if limit < 0 {
		return fmt.Errorf("limit: expected a positive page size, got %d", limit)
	}
	if maxItems < 0 {
		return fmt.Errorf("max items: expected a positive number, got %d", maxItems)
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
	if lang == CQL2JSON && !json.Valid([]byte(filter)) {
		return "", fmt.Errorf("filter: expected a CQL2-JSON object, got invalid JSON %q", snippet([]byte(filter)))
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
		b, err := marshalJSON(p.Query)
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
func commonQuery(v url.Values, bbox []float64, datetime string, limit int, filter, filterLang string, sortby []SortBy, q string) error {
	if len(bbox) > 0 {
		parts := make([]string, len(bbox))
		for i, x := range bbox {
			parts[i] = strconv.FormatFloat(x, 'f', -1, 64)
		}
		v.Set("bbox", strings.Join(parts, ","))
	}
	if datetime != "" {
		v.Set("datetime", datetime)
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
	Collections []string        `json:"collections,omitempty"`
	IDs         []string        `json:"ids,omitempty"`
	BBox        []float64       `json:"bbox,omitempty"`
	Intersects  json.RawMessage `json:"intersects,omitempty"`
	Datetime    string          `json:"datetime,omitempty"`
	Limit       int             `json:"limit,omitempty"`
	Query       map[string]any  `json:"query,omitempty"`
	Filter      json.RawMessage `json:"filter,omitempty"`
	FilterLang  string          `json:"filter-lang,omitempty"`
	SortBy      []SortBy        `json:"sortby,omitempty"`
	Fields      *postFields     `json:"fields,omitempty"`
	Q           string          `json:"q,omitempty"`
}

// postFields always sends both lists, as pystac-client does.
type postFields struct {
	Include []string `json:"include"`
	Exclude []string `json:"exclude"`
}

func searchBody(p SearchParams, limit int, filterLang string) (json.RawMessage, error) {
	b := postSearch{
		Collections: p.Collections, IDs: p.IDs, BBox: p.BBox, Datetime: p.Datetime,
		Limit: limit, Query: p.Query, FilterLang: filterLang, Q: p.Q,
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
			b.Filter, _ = marshalJSON(p.Filter)
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
		b.Fields = &postFields{Include: orEmpty(p.Fields.Include), Exclude: orEmpty(p.Fields.Exclude)}
	}
	return marshalJSON(b)
}

// marshalJSON is json.Marshal without the escaping of <, > and & that
// only matters inside HTML: CQL2 text is full of comparisons.
func marshalJSON(v any) (json.RawMessage, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func compactJSON(b []byte, what string) (json.RawMessage, error) {
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		return nil, fmt.Errorf("%s: expected JSON, got %q: %w", what, snippet(b), err)
	}
	return buf.Bytes(), nil
}
