package stac

import (
	"context"
	"fmt"
	"iter"
	"net/http"
	"net/url"

	"github.com/stacq/stacq/geo"
)

// ItemsParams filter the items of one collection
// (/collections/{id}/items).
type ItemsParams struct {
	BBox     geo.BBox
	Datetime geo.Interval // the zero Interval sends none
	Limit    int          // page size asked of the server
}

// Items yields the items of a collection, page after page, decoded.
func (c *Client) Items(ctx context.Context, collectionID string, p ItemsParams, opts ...ListOption) iter.Seq2[*Item, error] {
	return typedItems(c.itemsRaw(ctx, collectionID, p, opts, true))
}

// ItemPages yields the pages of /collections/{id}/items, decoded.
func (c *Client) ItemPages(ctx context.Context, collectionID string, p ItemsParams, opts ...ListOption) iter.Seq2[*ItemCollection, error] {
	return typedPages(c.itemsRaw(ctx, collectionID, p, opts, true), (*RawPage).ItemCollection)
}

// ItemRawPages is ItemPages with the items left as the JSON the server
// sent, as SearchRawPages.
func (c *Client) ItemRawPages(ctx context.Context, collectionID string, p ItemsParams, opts ...ListOption) iter.Seq2[*RawPage, error] {
	return c.itemsRaw(ctx, collectionID, p, opts, c.reuseRawPages)
}

func (c *Client) itemsRaw(ctx context.Context, collectionID string, p ItemsParams, opts []ListOption, reuse bool) iter.Seq2[*RawPage, error] {
	cfg, err := listOptions(opts)
	if err == nil {
		err = checkCommon(p.BBox, p.Limit)
	}
	if collectionID == "" {
		err = fmt.Errorf("empty collection id")
	}
	if err != nil {
		return failed[*RawPage](fmt.Errorf("items: %w", err))
	}
	v := url.Values{}
	if err := commonQuery(v, p.BBox, p.Datetime, c.pageSize(p.Limit, cfg.max), "", "", nil, ""); err != nil {
		return failed[*RawPage](fmt.Errorf("items: %w", err))
	}
	href, err := withQuery(joinPath(c.collectionsHref(), collectionID, "items"), v)
	if err != nil {
		return failed[*RawPage](fmt.Errorf("items: %w", err))
	}
	first := &request{method: http.MethodGet, url: href, accept: c.accept()}
	return c.rawPages(ctx, first, "features", cfg, reuse)
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
