// Package crawl walks STAC catalogs and yields every catalog, collection and
// item it finds, as it finds them.
//
// Three kinds of sources are crawled, chosen from the root given to Crawl:
//
//   - a STAC API: every collection of /collections, then each collection's
//     items through /collections/{id}/items (or /search when the API only
//     conforms to item search), following next links;
//   - a static catalog over HTTP: a catalog.json whose "child" and "item"
//     links are followed, relative hrefs resolved against the URL the
//     document was read from;
//   - a static catalog on the local filesystem, named by a path or a file://
//     URL (a directory stands for its catalog.json).
//
// An http(s) root is first opened as an API; when the server answers that it
// is not one (a *stac.NotSTACError), the same document is walked as a static
// catalog. Options.Mode forces one or the other.
//
// Documents are fetched by a bounded pool of workers. Each catalog,
// collection and static document is visited once, keyed by its normalised
// absolute URL or path, so cycles and duplicate links in catalogs are
// harmless; API items are not remembered, so an API crawl of any size runs
// in constant memory. API items travel as the JSON the server sent and are
// decoded only on request (Resource.DecodeItem). A resource that cannot be
// read is reported in the stream as a *ResourceError and the crawl goes on.
//
// A crawl of an API can be resumed: with Options.PageEnds, each page of a
// collection's items is followed by a KindPageEnd resource carrying its
// next link, which a State records; Options.Resume starts a crawl where a
// State left it.
package crawl

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"slices"
	"sync"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/stacq/stacq/geo"
	"github.com/stacq/stacq/internal/redact"
	"github.com/stacq/stacq/retry"
	"github.com/stacq/stacq/stac"
)

// Kind says what a Resource is.
type Kind int

// The kinds of resources. KindUnknown marks a ResourceError for a link whose
// target could not be read, so whether it is a catalog or a collection is
// not known. KindPageEnd follows each page of an API collection's items
// when Options.PageEnds is set.
const (
	KindUnknown Kind = iota
	KindCatalog
	KindCollection
	KindItem
	KindPageEnd
)

// String returns "catalog", "collection", "item", "page end" or "resource".
func (k Kind) String() string {
	switch k {
	case KindCatalog:
		return "catalog"
	case KindCollection:
		return "collection"
	case KindItem:
		return "item"
	case KindPageEnd:
		return "page end"
	default:
		return "resource"
	}
}

// Resource is one catalog, collection or item found by the crawl, or the
// end of a page of items.
type Resource struct {
	Kind Kind
	// URL is where the resource was read: an absolute http(s) URL, or an
	// absolute filesystem path for a local catalog. For API items it is
	// /collections/{id}/items/{itemId}; for a page end, the collection's URL.
	URL string
	// Parent is the URL of the document whose link led here ("" for the root).
	Parent string
	// ID is the id of the catalog, collection or item; CollectionID the
	// id of the collection an item (or a page end) belongs to.
	ID, CollectionID string
	// JSON is the document as read, on one line: for API items the bytes
	// the server sent. It is the resource's own memory.
	JSON jsontext.Value
	// Catalog, Collection and Item hold the decoded document, as Kind
	// says; Item is nil for API items (see DecodeItem).
	Catalog    *stac.Catalog
	Collection *stac.Collection
	Item       *stac.Item
	// Next is, for a page end, the link of the next page of the
	// collection's items, nil after its last page.
	Next *stac.Link
}

// DecodeItem returns the item of a KindItem resource, decoding its JSON
// when the crawl did not.
func (r Resource) DecodeItem() (*stac.Item, error) {
	if r.Item != nil || r.Kind != KindItem {
		return r.Item, nil
	}
	it := new(stac.Item)
	if err := json.Unmarshal(r.JSON, it); err != nil {
		return nil, fmt.Errorf("item %s: %w", r.ID, err)
	}
	return it, nil
}

// ResourceError reports a resource that could not be crawled: a broken link,
// a document that is not valid STAC JSON, a failing page of items. The crawl
// goes on after it. Err is a *stac.HTTPError for an HTTP status other than
// 2xx (errors.Is(err, stac.ErrNotFound) for a broken link over HTTP), an
// *fs.PathError for a missing local file (errors.Is(err, fs.ErrNotExist)),
// or whatever the STAC API client or the Visit hook returned.
type ResourceError struct {
	// URL of the resource that failed (a path for local catalogs).
	URL string
	// Kind of the resource, KindUnknown for a child link that was not read.
	Kind Kind
	// Parent is the URL of the document that linked to it, if any.
	Parent string
	Err    error
}

// Error implements the error interface.
func (e *ResourceError) Error() string {
	msg := fmt.Sprintf("crawl %s %s: %v", e.Kind, redact.URL(e.URL), e.Err)
	if e.Parent != "" {
		msg += fmt.Sprintf(" (linked from %s)", redact.URL(e.Parent))
	}
	return msg
}

// Unwrap returns the underlying error.
func (e *ResourceError) Unwrap() error { return e.Err }

// Skip is returned by Options.Visit to leave a resource out: it is not
// yielded and none of its links (children, items) are followed.
var Skip = errors.New("crawl: skip this resource")

// Mode chooses how the root is crawled.
type Mode int

// Modes. ModeAuto tries an http(s) root as a STAC API and falls back to a
// static walk when it is not one; a local root is always walked statically,
// and is an error with ModeAPI.
const (
	ModeAuto Mode = iota
	ModeAPI
	ModeStatic
)

// DefaultConcurrency is the number of workers when Options.Concurrency is 0.
const DefaultConcurrency = 4

// DefaultPageSize is the page size asked of an API when Options.PageSize
// is 0: few requests, and pages far below any memory limit.
const DefaultPageSize = 1000

// Options configure a crawl. The zero value crawls everything with
// DefaultConcurrency workers and http.DefaultClient.
type Options struct {
	// Include and Exclude are collection id patterns (path.Match syntax:
	// "sentinel-*", "landsat-c2-l?"). A collection is crawled when it matches
	// one Include pattern (or Include is empty) and no Exclude pattern.
	// A catalog is always walked, since collections may be below it. An item
	// of a static catalog that is in no collection is kept only when Include
	// is empty.
	Include []string
	Exclude []string

	// BBox (minx, miny, maxx, maxy, or 6 numbers with z) and Datetime (the
	// zero Interval for none) limit the items. They are sent to a STAC API,
	// which filters; for static catalogs the crawler filters itself: an
	// item is kept when its bbox (or the bounds of its geometry) intersects
	// BBox and its datetime, or its start_datetime/end_datetime interval,
	// overlaps Datetime. An item with neither is left out when the filter
	// is set. Collections and catalogs are never filtered by extent.
	BBox     geo.BBox
	Datetime geo.Interval

	// MaxItemsPerCollection and MaxItems cap the items yielded for each
	// collection and in total (0: no limit). Since items are fetched
	// concurrently, which items are yielded when a limit bites is not
	// deterministic, but their number is exact. Reaching MaxItems ends the
	// crawl.
	MaxItemsPerCollection int
	MaxItems              int

	// PageSize is the page size asked of a STAC API for items (0:
	// DefaultPageSize). A server that refuses it with a 4xx is asked again
	// with smaller sizes, and the size it accepts is kept for the rest of
	// the crawl.
	PageSize int

	// Retry, when set, retries every page and document as one unit
	// (fetched and decoded again after a failure that may pass), and is
	// given to the STAC API client with stac.WithRetry. Statuses such as
	// 429 and 503 are retried by HTTPClient's transport when it is a
	// retry.Policy's. nil: the policy of HTTPClient's transport when it
	// has one (retry.PolicyOf; provider.Resolved's client with
	// Settings.Retry has), else none.
	Retry *retry.Policy

	// PageEnds makes the crawl yield a KindPageEnd resource after each
	// page of an API collection's items, once the page's items have been
	// yielded; State.Record keeps them.
	PageEnds bool

	// ReusePageMemory reads each page of an API collection's items into
	// the memory of an earlier page of the same collection, as
	// stac.WithRawPageReuse does, instead of new memory: an API item's
	// JSON is then valid only until the loop moves past the last
	// resource of its page (its KindPageEnd, with PageEnds), and a
	// worker waits for the loop to get there before it reads on. Copy
	// the JSON to keep it longer (Visit must copy it too). An export
	// that writes each item as it comes then allocates next to nothing
	// per page, and its memory stays flat. Off by default.
	ReusePageMemory bool

	// Resume, when set, starts an API crawl where a State left it: its
	// finished collections are skipped, and the others begun start at
	// their saved next link. It is copied when the crawl starts, so the
	// caller may record the new crawl into the same State.
	Resume *State

	// MaxDocumentSize caps the bytes read of one static document (a
	// catalog, collection or item file), counted after decompression; a
	// larger one fails with a *stac.TooLargeError. 0 means
	// DefaultMaxDocumentSize. API pages have their own cap,
	// stac.WithMaxPageSize in ClientOptions.
	MaxDocumentSize int64

	// Concurrency is the number of documents or item streams fetched at once
	// (default DefaultConcurrency).
	Concurrency int

	// Visit, when set, is called for every resource that passes the filters,
	// before it is yielded and before its links are followed. It runs on the
	// crawl's workers, so it must be safe for concurrent use. Returning Skip
	// leaves the resource and everything below it out; any other error is
	// reported as a *ResourceError for that resource, which is then left out.
	// Items may be visited a little beyond MaxItems, since workers fetch ahead.
	Visit func(ctx context.Context, r Resource) error

	// HTTPClient fetches static documents and is given to the STAC API
	// client (default http.DefaultClient).
	HTTPClient *http.Client

	// ClientOptions are passed to stac.Open after stac.WithHTTPClient, for
	// headers, user agent and the like. They do not apply to static
	// catalogs; authenticate those through HTTPClient's transport.
	ClientOptions []stac.Option

	// Mode forces the API or static walk (default ModeAuto).
	Mode Mode
}

// Stats counts what a crawl yielded.
type Stats struct {
	Catalogs    int
	Collections int
	Items       int
	Errors      int
}

// Crawler runs crawls with fixed options and keeps the statistics of the
// latest one. Run one crawl at a time per Crawler.
type Crawler struct {
	opts Options

	mu     sync.Mutex
	stats  Stats
	filter *filter
}

// New returns a Crawler with the given options.
func New(opts Options) *Crawler {
	return &Crawler{opts: opts}
}

// Crawl is a shortcut for New(opts).Crawl(ctx, root).
func Crawl(ctx context.Context, root string, opts Options) iter.Seq2[Resource, error] {
	return New(opts).Crawl(ctx, root)
}

// Stats returns the counts of the current or latest crawl: what has been
// yielded so far.
func (c *Crawler) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stats
}

// Unmatched returns the Include patterns that have matched no collection
// so far in the current or latest crawl.
func (c *Crawler) Unmatched() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.filter == nil {
		return nil
	}
	return c.filter.unmatched()
}

func (c *Crawler) count(r Resource, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case err != nil:
		c.stats.Errors++
	case r.Kind == KindCatalog:
		c.stats.Catalogs++
	case r.Kind == KindCollection:
		c.stats.Collections++
	case r.Kind == KindItem:
		c.stats.Items++
	}
}

// Crawl walks the catalog, collection or API at root (an http(s) URL, a
// file:// URL or a local path) and yields each resource as it is found, in
// no particular order. Errors about one resource, the root included, are
// yielded as *ResourceError values and the crawl goes on; an error about the
// crawl as a whole (bad options, ctx cancelled) is yielded last and is not a
// *ResourceError. Breaking out of the loop stops every worker before the loop
// returns.
//
// The crawl remembers the URL of every catalog, collection and static
// document it visited (about 100 bytes each), but not API items.
func (c *Crawler) Crawl(ctx context.Context, root string) iter.Seq2[Resource, error] {
	return func(yield func(Resource, error) bool) {
		f, err := newFilter(c.opts)
		c.mu.Lock()
		c.stats, c.filter = Stats{}, f
		c.mu.Unlock()

		emit := func(r Resource, err error) bool {
			c.count(r, err)
			return yield(r, err)
		}
		if err != nil {
			emit(Resource{}, err)
			return
		}

		iterCtx, cancel := context.WithCancel(ctx)
		defer cancel()
		out := make(chan []result)
		r := newRun(c.opts, f, out)
		go r.run(iterCtx, root)

		for batch := range out {
			for _, res := range batch {
				if res.done != nil {
					res.done <- struct{}{} // the batch's page may be reused
					continue
				}
				if !emit(res.r, res.err) {
					// Stop the workers and wait for them: no goroutine
					// outlives the loop.
					cancel()
					for range out {
					}
					return
				}
			}
		}
		if err := ctx.Err(); err != nil {
			emit(Resource{}, fmt.Errorf("crawl %s: %w", redact.URL(root), err))
		}
	}
}

type result struct {
	r   Resource
	err error
	// done, on the last result of a batch whose page memory is reused,
	// is where the iterator says it has yielded the batch.
	done chan<- struct{}
}

// State is where a crawl of an API stands: the collections whose items
// were all yielded, and the next link of each collection begun. Record
// keeps it up to date from the resources of a crawl with PageEnds; saved
// as JSON, Options.Resume continues from it in a later run.
type State struct {
	Done []string              `json:"done"`
	Next map[string]*stac.Link `json:"next"`
}

// Record updates s from a resource of the crawl: a page end moves its
// collection's next link, or finishes the collection. Other kinds are
// ignored. Call it once everything yielded before r has been handled.
func (s *State) Record(r Resource) {
	if r.Kind != KindPageEnd {
		return
	}
	if r.Next == nil {
		delete(s.Next, r.CollectionID)
		if !slices.Contains(s.Done, r.CollectionID) {
			s.Done = append(s.Done, r.CollectionID)
		}
		return
	}
	if s.Next == nil {
		s.Next = map[string]*stac.Link{}
	}
	s.Next[r.CollectionID] = r.Next
}

// done reports whether the collection was finished.
func (s *State) done(id string) bool { return s != nil && slices.Contains(s.Done, id) }

// next returns the saved next link of the collection, or nil.
func (s *State) next(id string) *stac.Link {
	if s == nil {
		return nil
	}
	return s.Next[id]
}
