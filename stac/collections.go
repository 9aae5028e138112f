package stac

import (
	"context"
	"fmt"
	"iter"
	"net/http"
	"net/url"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/stacq/stacq/geo"
	"github.com/stacq/stacq/internal/redact"
)

// CollectionsParams list the collections of /collections. Every field is
// optional; the filters are those of the collection search extension,
// sent as GET parameters. On an API that does not advertise collection
// search, BBox, Datetime and Q are applied by the client to the
// collections listed instead (Filter and SortBy are sent: see
// UnadvertisedCollections).
type CollectionsParams struct {
	BBox     geo.BBox
	Datetime geo.Interval
	Q        string
	// Filter is a CQL2 filter on collections, in text or as CQL2-JSON.
	Filter     string
	FilterLang string // as SearchParams.FilterLang
	SortBy     []SortBy
	Limit      int // page size asked of the server
}

// Collections yields the API's collections, following the next links of
// /collections. WithMaxItems caps the number of collections.
func (c *Client) Collections(ctx context.Context, p CollectionsParams, opts ...ListOption) iter.Seq2[*Collection, error] {
	return func(yield func(*Collection, error) bool) {
		for page, err := range c.CollectionPages(ctx, p, opts...) {
			if err != nil {
				yield(nil, err)
				return
			}
			for _, col := range page.Collections {
				if !yield(col, nil) {
					return
				}
			}
		}
	}
}

// CollectionPages yields the pages of /collections.
func (c *Client) CollectionPages(ctx context.Context, p CollectionsParams, opts ...ListOption) iter.Seq2[*CollectionsPage, error] {
	cfg, err := listOptions(opts)
	if err == nil {
		err = checkCommon(p.BBox, p.Limit)
	}
	filterLang := ""
	if err == nil {
		filterLang, err = filterLanguage(p.Filter, p.FilterLang)
	}
	local, sent := c.clientSide(p)
	v := url.Values{}
	if err == nil {
		err = commonQuery(v, sent.BBox, sent.Datetime, sent.Limit, sent.Filter, filterLang, sent.SortBy, sent.Q)
	}
	href := ""
	if err == nil {
		href, err = withQuery(c.collectionsHref(), v)
	}
	if err != nil {
		return failed[*CollectionsPage](fmt.Errorf("collections: %w", err))
	}
	first := &request{method: http.MethodGet, url: href}
	if !local {
		return typedPages(c.rawPages(ctx, first, "collections", cfg, true), (*RawPage).collectionsPage)
	}
	max := cfg.max
	cfg.max = 0 // counted after filtering
	pages := typedPages(c.rawPages(ctx, first, "collections", cfg, true), (*RawPage).collectionsPage)
	var q *textQuery
	if p.Q != "" {
		q = parseTextQuery(p.Q)
	}
	return func(yield func(*CollectionsPage, error) bool) {
		kept := 0
		for page, err := range pages {
			if err != nil {
				yield(nil, err)
				return
			}
			cols := page.Collections[:0]
			for _, col := range page.Collections {
				if (max == 0 || kept < max) && matchCollection(col, p, q) {
					cols = append(cols, col)
					kept++
				}
			}
			page.Collections = cols
			if !yield(page, nil) || max > 0 && kept >= max {
				return
			}
		}
	}
}

// collectionsHref is the landing page's data link, or /collections.
func (c *Client) collectionsHref() string {
	if c.collectionsURL != "" {
		return c.collectionsURL
	}
	return c.endpoint("collections")
}

// Collection returns one collection. A missing collection gives an
// *HTTPError that matches ErrNotFound.
func (c *Client) Collection(ctx context.Context, id string) (*Collection, error) {
	if id == "" {
		return nil, fmt.Errorf("collection: empty id")
	}
	col := new(Collection)
	if err := c.getJSON(ctx, joinPath(c.collectionsHref(), id), acceptDefault, col); err != nil {
		return nil, err
	}
	return col, nil
}

// Queryables returns the JSON Schema of the properties that filters may
// use: the API's (/queryables) when collectionID is "", else the
// collection's.
func (c *Client) Queryables(ctx context.Context, collectionID string) (jsontext.Value, error) {
	href := c.queryablesURL
	if collectionID != "" {
		href = joinPath(c.collectionsHref(), collectionID, "queryables")
	} else if href == "" {
		href = c.endpoint("queryables")
	}
	var schema jsontext.Value
	if err := c.getJSON(ctx, href, acceptQueryables, &schema); err != nil {
		return nil, err
	}
	if schema.Kind() != '{' {
		return nil, &DecodeError{Method: http.MethodGet, URL: redact.URL(href), Snippet: snippet(schema), Err: fmt.Errorf("expected a JSON Schema object")}
	}
	return schema, nil
}
