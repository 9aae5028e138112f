package crawl

import (
	"context"
	"errors"
	"iter"
	"net/http"
	"strings"

	"github.com/stacq/stacq/stac"
)

func openAPI(ctx context.Context, root string, hc *http.Client, opts Options) (*stac.Client, error) {
	copts := []stac.Option{stac.WithHTTPClient(hc)}
	if opts.Retry != nil {
		copts = append(copts, stac.WithRetry(*opts.Retry))
	}
	if opts.ReusePageMemory {
		copts = append(copts, stac.WithRawPageReuse(true))
	}
	return stac.Open(ctx, root, append(copts, opts.ClientOptions...)...)
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
		res := Resource{Kind: KindCatalog, URL: root, ID: landing.ID, Catalog: landing}
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
		res := Resource{Kind: KindCollection, URL: url, Parent: root, ID: col.ID, Collection: col}
		if !r.visit(res) {
			continue
		}
		if !r.send(result{r: res}) {
			return
		}
		if r.resume.done(col.ID) {
			continue
		}
		r.spawn(task{kind: taskAPIItems, apiCollection: col, apiURL: url, parent: root})
	}
}

// pageSizes are the sizes tried after a server refuses a page size.
var pageSizes = []int{500, 250, 100, 50, 10}

// apiItems pages through one collection's items, asking for smaller pages
// while the server refuses the size of the first one.
func (r *run) apiItems(t task) {
	for {
		size := int(r.pageSize.Load())
		delivered, err := r.apiItemsOfSize(t, size)
		if err == nil {
			return
		}
		if smaller := nextSize(size); delivered == 0 && smaller > 0 && refusesSize(err) {
			r.pageSize.CompareAndSwap(int64(size), int64(smaller))
			continue
		}
		r.fail(t.apiURL, KindCollection, t.parent, err)
		return
	}
}

// nextSize returns the next page size to try below size, or 0.
func nextSize(size int) int {
	for _, s := range pageSizes {
		if s < size {
			return s
		}
	}
	return 0
}

// refusesSize reports whether err is how servers refuse a page size: a
// 400, 413 or 422 (not a 401, 403, 404 or 429, which another size would
// not change).
func refusesSize(err error) bool {
	var he *stac.HTTPError
	if !errors.As(err, &he) {
		return false
	}
	switch he.StatusCode {
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity:
		return true
	}
	return false
}

// apiItemsOfSize pages through one collection's items with pages of size:
// /collections/{id}/items when the API serves them, else /search
// restricted to the collection. It returns how many pages it received.
func (r *run) apiItemsOfSize(t task, size int) (int, error) {
	col := t.apiCollection
	g := &group{key: t.apiURL}
	var opts []stac.ListOption
	if r.opts.MaxItemsPerCollection > 0 {
		opts = append(opts, stac.WithMaxItems(r.opts.MaxItemsPerCollection))
	}
	if next := r.resume.next(col.ID); next != nil {
		opts = append(opts, stac.WithResume(next))
	}
	var pages iter.Seq2[*stac.RawPage, error]
	if !r.api.Conforms("ogcapi-features") && stac.FindLink(col.Links, "items") == nil && r.api.Conforms("item-search") {
		pages = r.api.SearchRawPages(r.workCtx, stac.SearchParams{
			Collections: []string{col.ID}, BBox: r.filter.bbox, Datetime: r.filter.interval, Limit: size,
		}, opts...)
	} else {
		pages = r.api.ItemRawPages(r.workCtx, col.ID, stac.ItemsParams{
			BBox: r.filter.bbox, Datetime: r.filter.interval, Limit: size,
		}, opts...)
	}
	itemsURL := strings.TrimSuffix(t.apiURL, "/") + "/items"
	received := 0
	var batch []result
	var done chan struct{}
	if r.opts.ReusePageMemory {
		done = make(chan struct{}, 1)
	}
	for page, err := range pages {
		if err != nil {
			return received, err
		}
		received++
		// The page's items go to the iterator in one batch. With reused
		// page memory, the batch's memory is reused too, since the
		// worker waits until the iterator is done with it.
		if done == nil || batch == nil {
			batch = make([]result, 0, len(page.Items)+2)
		}
		batch = batch[:0]
		full := false
		for _, raw := range page.Items {
			res := Resource{Kind: KindItem, URL: itemsURL + "/" + raw.ID, Parent: t.apiURL, ID: raw.ID,
				CollectionID: raw.Collection, JSON: raw.JSON}
			if res.CollectionID == "" {
				res.CollectionID = col.ID
			}
			if !r.visit(res) {
				continue
			}
			if !r.reserve(g) {
				full = true // this collection, or the crawl, has all its items
				break
			}
			batch = append(batch, result{r: res})
		}
		if r.opts.PageEnds {
			// A page cut short by a limit ends too, so that a caller who
			// keeps a page's items until its end (as --state does) gets
			// them; the collection then has all the items it may have.
			end := Resource{Kind: KindPageEnd, URL: t.apiURL, Parent: t.parent, ID: col.ID, CollectionID: col.ID,
				Next: stac.FindLink(page.Links, "next")}
			if full || r.full(g) && r.opts.MaxItemsPerCollection > 0 && end.Next != nil && !r.crawlFull() {
				end.Next = nil
			}
			batch = append(batch, result{r: end})
		}
		if done != nil && len(batch) > 0 {
			batch = append(batch, result{done: done})
		}
		if len(batch) > 0 && !r.sendAll(batch) || full {
			return received, nil
		}
		if done != nil && len(batch) > 0 && !r.wait(done) {
			return received, nil
		}
	}
	return received, nil
}

// selfLink returns the href of the "self" link when it is absolute, else
// fallback.
func selfLink(links []*stac.Link, fallback string) string {
	if l := stac.FindLink(links, "self"); l != nil && (strings.HasPrefix(l.Href, "http://") || strings.HasPrefix(l.Href, "https://")) {
		return l.Href
	}
	return fallback
}
