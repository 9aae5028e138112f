package stac

import (
	"context"
	"fmt"
	"iter"
	"net/http"
	"net/url"
)

// ItemsParams filter the items of one collection
// (/collections/{id}/items).
type ItemsParams struct {
	BBox     []float64
	Datetime string
	Limit    int // page size asked of the server
	// MaxItems caps the number of items yielded (0: all); once reached, no
	// further page is requested.
	MaxItems int
	// NextLink, when set, resumes the listing from a saved next link.
	NextLink *Link
}

// Items yields the items of a collection, page after page.
func (c *Client) Items(ctx context.Context, collectionID string, p ItemsParams) iter.Seq2[*Item, error] {
	return itemsOf(c.ItemPages(ctx, collectionID, p))
}

// ItemPages yields the pages of /collections/{id}/items.
func (c *Client) ItemPages(ctx context.Context, collectionID string, p ItemsParams) iter.Seq2[*ItemCollection, error] {
	if collectionID == "" {
		return failed[*ItemCollection](fmt.Errorf("items: empty collection id"))
	}
	if err := checkCommon(p.BBox, p.Limit, p.MaxItems); err != nil {
		return failed[*ItemCollection](fmt.Errorf("items: %w", err))
	}
	limit := p.Limit
	if p.MaxItems > 0 && limit > p.MaxItems {
		limit = p.MaxItems
	}
	if c.sentinelHub && limit > sentinelHubMaxLim {
		limit = sentinelHubMaxLim
	}
	v := url.Values{}
	if err := commonQuery(v, p.BBox, p.Datetime, limit, "", "", nil, ""); err != nil {
		return failed[*ItemCollection](fmt.Errorf("items: %w", err))
	}
	href, err := withQuery(joinPath(c.collectionsHref(), collectionID, "items"), v)
	if err != nil {
		return failed[*ItemCollection](fmt.Errorf("items: %w", err))
	}
	first := &request{method: http.MethodGet, url: href}
	if p.NextLink != nil {
		if first, err = c.followRequest(first, p.NextLink); err != nil {
			return failed[*ItemCollection](fmt.Errorf("items: resume: %w", err))
		}
	}
	return pages[ItemCollection](ctx, c, first, p.MaxItems)
}

// Item returns one item of a collection. A missing item gives an
// *HTTPError that matches ErrNotFound.
func (c *Client) Item(ctx context.Context, collectionID, id string) (*Item, error) {
	if collectionID == "" || id == "" {
		return nil, fmt.Errorf("item: expected a collection id and an item id")
	}
	it := new(Item)
	if err := c.getJSON(ctx, joinPath(c.collectionsHref(), collectionID, "items", id), acceptDefault, it); err != nil {
		return nil, err
	}
	return it, nil
}
