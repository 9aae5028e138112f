package stac

import (
	"fmt"
	"runtime"
	"sync"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// RawItem is one item of a page kept as the JSON the server sent: callers
// that pass items on, such as an export, never pay for decoding them. ID
// and Collection are read from it while the page is checked.
type RawItem struct {
	ID         string
	Collection string
	// JSON is the item as sent, checked to be a valid JSON object. It
	// shares the page's memory: copy it to keep it longer than the page.
	JSON jsontext.Value
	// Compact reports that JSON holds no line break or tab, so that it
	// can be written as one line as is (see geo.CompactJSON); spaces
	// between tokens, if the server sent any, are left as they were.
	Compact bool
}

// Decode decodes the item into an Item.
func (r RawItem) Decode() (*Item, error) {
	it := new(Item)
	if err := json.Unmarshal(r.JSON, it, decodeOpts); err != nil {
		return nil, fmt.Errorf("item %q: %w", r.ID, err)
	}
	return it, nil
}

// decodeWindow is how many items of a page a typed listing decodes at
// once, over up to GOMAXPROCS goroutines: decoding (about 30 µs for a
// Sentinel-2 item of 3 KB) is most of a typed listing's time, the check
// and split of the page that found the items about 3 µs. The window
// bounds the memory held by items decoded ahead of the loop.
const decodeWindow = 128

// decodeItems decodes raw into out (of the same length) and returns how
// many were decoded before the first that fails, and its error.
func decodeItems(raw []RawItem, out []*Item) (int, error) {
	workers := min(runtime.GOMAXPROCS(0), len(raw)/16)
	if workers <= 1 {
		for i, r := range raw {
			var err error
			if out[i], err = r.Decode(); err != nil {
				return i, err
			}
		}
		return len(raw), nil
	}
	// Each worker decodes one run of items and stops at its first
	// failure; the first failure of all, in order, ends the items.
	fails := make([]int, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := w*len(raw)/workers, (w+1)*len(raw)/workers
		fails[w] = hi
		wg.Go(func() {
			for i := lo; i < hi; i++ {
				var err error
				if out[i], err = raw[i].Decode(); err != nil {
					fails[w], errs[w] = i, err
					return
				}
			}
		})
	}
	wg.Wait()
	for w, err := range errs {
		if err != nil {
			return fails[w], err
		}
	}
	return len(raw), nil
}

// RawPage is one page of a listing whose items (or collections) are left
// as JSON. Its links, counts and foreign members are decoded.
type RawPage struct {
	Items []RawItem
	PageInfo
	// Duplicates counts the items of this page whose collection and id
	// were on the page before, which some servers repeat at a page
	// boundary (dropped when the listing asked for WithDedupe).
	Duplicates int
	// InvalidUTF8 counts the invalid UTF-8 sequences of the page's body
	// that were replaced by U+FFFD, so that the items are valid JSON.
	InvalidUTF8 int

	cut int // items to keep, -1 for all (WithMaxItems)
	// raw is the array of items as sent; with framed set, not yet checked
	// nor split into Items (see framePage), and body the whole page.
	raw    []byte
	body   []byte
	framed bool
	frame  PageInfo // as framePage read it
	// decodeErr describes a failure of splitFramed.
	decodeErr func(error) error
}

// ItemCollection decodes the page's items.
func (p *RawPage) ItemCollection() (*ItemCollection, error) {
	ic := &ItemCollection{Type: "FeatureCollection", PageInfo: p.PageInfo, Features: make([]*Item, len(p.Items))}
	if n, err := decodeItems(p.Items, ic.Features); err != nil {
		return nil, fmt.Errorf("feature %d: %w", n, err)
	}
	return ic, nil
}

// collectionsPage decodes the page's collections.
func (p *RawPage) collectionsPage() (*CollectionsPage, error) {
	cp := &CollectionsPage{PageInfo: p.PageInfo, Collections: make([]*Collection, 0, len(p.Items))}
	for i, r := range p.Items {
		col := new(Collection)
		if err := json.Unmarshal(r.JSON, col, decodeOpts); err != nil {
			return nil, fmt.Errorf("collection %d: %w", i, err)
		}
		cp.Collections = append(cp.Collections, col)
	}
	return cp, nil
}

// WithRawPageReuse lets SearchRawPages and ItemRawPages read each page into
// the memory of the page two before it instead of new memory, as
// bufio.Scanner reuses its buffer: a RawPage and its items' JSON are then
// valid only until the loop asks for the next page, and a long export
// allocates next to nothing per page, so its memory stays flat. Off by
// default; parallel searches ignore it. The typed listings (Search,
// Items, ...) always reuse memory, since they decode each page before
// asking for the next.
func WithRawPageReuse(on bool) Option {
	return func(c *Client) { c.reuseRawPages = on }
}
