package crawl

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/stacq/stacq/stac"
)

// apiSource is the STAC API being crawled.
type apiSource = *stac.Client

func openAPI(ctx context.Context, root string, hc *http.Client, opts []stac.Option) (*stac.Client, error) {
	return stac.Open(ctx, root, append([]stac.Option{stac.WithHTTPClient(hc)}, opts...)...)
}

func isNotSTAC(err error) bool {
	var notSTAC *stac.NotSTACError
	return errors.As(err, &notSTAC)
}

// apiRoot yields the landing page, then every collection that passes the
// filters, and queues a task per collection to page through its items.
func (r *run) apiRoot(t task) {
	root := r.api.RootURL() // after redirects
	if landing := r.api.Landing(); landing != nil {
		res := Resource{Kind: KindCatalog, URL: root, Catalog: landing}
		if !r.visit(res) || !r.send(result{r: res}) {
			return
		}
	}
	collectionsURL := strings.TrimSuffix(root, "/") + "/collections"
	for col, err := range r.api.Collections(r.workCtx, stac.CollectionsParams{}) {
		if err != nil {
			r.fail(collectionsURL, KindCollection, root, err)
			return
		}
		if col == nil || !r.filter.collection(col.ID) {
			continue
		}
		url := selfLink(col.Links, collectionsURL+"/"+col.ID)
		if !r.claim(url) {
			continue
		}
		res := Resource{Kind: KindCollection, URL: url, Parent: root, Collection: col}
		if !r.visit(res) {
			continue
		}
		if !r.send(result{r: res}) {
			return
		}
		r.spawn(task{kind: taskAPIItems, apiCollection: col, apiURL: url, parent: root})
	}
}

// apiItems pages through one collection's items: /collections/{id}/items
// when the API serves them, else /search restricted to the collection.
func (r *run) apiItems(t task) {
	col := t.apiCollection
	g := &group{key: t.apiURL}
	items := r.api.Items(r.workCtx, col.ID, stac.ItemsParams{
		BBox: r.filter.bbox, Datetime: r.filter.datetime,
		Limit: r.opts.PageSize, MaxItems: r.opts.MaxItemsPerCollection,
	})
	if !r.api.Conforms("ogcapi-features") && stac.FindLink(col.Links, "items") == nil && r.api.Conforms("item-search") {
		items = r.api.Search(r.workCtx, stac.SearchParams{
			Collections: []string{col.ID},
			BBox:        r.filter.bbox, Datetime: r.filter.datetime,
			Limit: r.opts.PageSize, MaxItems: r.opts.MaxItemsPerCollection,
		})
	}
	itemsURL := strings.TrimSuffix(t.apiURL, "/") + "/items"
	for it, err := range items {
		if err != nil {
			r.fail(t.apiURL, KindCollection, t.parent, err)
			return
		}
		if it == nil {
			continue
		}
		url := selfLink(it.Links, itemsURL+"/"+it.ID)
		if !r.claim(url) {
			continue
		}
		res := Resource{Kind: KindItem, URL: url, Parent: t.apiURL, Item: it}
		if !r.visit(res) {
			continue
		}
		if !r.reserve(g) {
			return // this collection, or the crawl, has all its items
		}
		if !r.send(result{r: res}) {
			return
		}
	}
}

// selfLink returns the href of the "self" link when it is absolute, else
// fallback.
func selfLink(links []*stac.Link, fallback string) string {
	if l := stac.FindLink(links, "self"); l != nil && (strings.HasPrefix(l.Href, "http://") || strings.HasPrefix(l.Href, "https://")) {
		return l.Href
	}
	return fallback
}
