package stac

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"iter"

	"github.com/stacq/stacq/internal/rawjson"
	"github.com/stacq/stacq/internal/redact"
)

// RawItem is one item of a search page kept as the JSON the server sent:
// for callers that only pass items on, such as a GeoJSON export, this skips
// the typed decoding that costs most of the CPU time and allocations of a
// search (see BenchmarkPage* in this package). ID and Collection are read
// from it for deduplication and progress.
type RawItem struct {
	ID         string
	Collection string
	// JSON is the item as sent, checked to be a valid JSON object. It
	// shares the page's memory: copy it to keep it longer than the page.
	JSON json.RawMessage
	// Compact reports that JSON has no insignificant whitespace, so it
	// can be written out as is (see geo.CompactJSON).
	Compact bool
}

// Decode decodes the item into an Item.
func (r RawItem) Decode() (*Item, error) {
	it := new(Item)
	if err := json.Unmarshal(r.JSON, it); err != nil {
		return nil, err
	}
	return it, nil
}

// RawPage is one search page whose items are left as JSON. Everything else
// of the page (links, counts, context, foreign members) is decoded as in
// ItemCollection.
type RawPage struct {
	Items          []RawItem
	Links          []*Link
	NumberMatched  *int64
	NumberReturned *int64
	Context        *Context
	Extra          map[string]json.RawMessage
}

// Matched returns numberMatched, or context.matched, and whether either was present.
func (p *RawPage) Matched() (int64, bool) {
	ic := ItemCollection{NumberMatched: p.NumberMatched, Context: p.Context}
	return ic.Matched()
}

// ItemCollection decodes the page's items into an ItemCollection.
func (p *RawPage) ItemCollection() (*ItemCollection, error) {
	ic := &ItemCollection{
		Type: "FeatureCollection", Links: p.Links, NumberMatched: p.NumberMatched,
		NumberReturned: p.NumberReturned, Context: p.Context, Extra: p.Extra,
		Features: make([]*Item, 0, len(p.Items)),
	}
	for _, r := range p.Items {
		it, err := r.Decode()
		if err != nil {
			return nil, fmt.Errorf("item collection: %w", err)
		}
		ic.Features = append(ic.Features, it)
	}
	return ic, nil
}

// decodeRawPage splits a page body without decoding its items: the
// features are sub-slices of body, so body must not be reused while the
// page is in use. Every byte of body is checked to be valid JSON, once:
// the items' ids and collections are read in the same pass.
func decodeRawPage(body []byte) (*RawPage, error) {
	return decodeRawPageInto(body, nil)
}

// decodeRawPageInto is decodeRawPage with the page's items appended to
// items[:0]: a caller that reuses pages passes the items of a page no
// longer in use (nil: new memory).
func decodeRawPageInto(body []byte, items []RawItem) (*RawPage, error) {
	items = items[:0]
	// The members other than features, as an object for ItemCollection's
	// own decoding, so both paths agree on links, counts and Extra.
	rest := []byte{'{'}
	var cur RawItem // the item being checked: its id and collection
	var curErr error
	sp := rawjson.Splitter{
		Array: "features",
		Member: func(key, v []byte) error {
			if string(key) == "features" { // not an array
				if string(v) == "null" {
					return nil
				}
				return fmt.Errorf("field \"features\": expected an array")
			}
			if len(rest) > 1 {
				rest = append(rest, ',')
			}
			k, _ := json.Marshal(string(key))
			rest = append(append(append(rest, k...), ':'), v...)
			return nil
		},
		ElementMember: func(key, m []byte) {
			if curErr == nil {
				curErr = cur.member(key, m, items)
			}
		},
		Element: func(v []byte, compact bool) error {
			it, err := cur, curErr
			cur, curErr = RawItem{}, nil
			if v[0] != '{' {
				err = fmt.Errorf("expected an object")
			}
			if err != nil {
				return fmt.Errorf("item collection: feature %d: %w", len(items), err)
			}
			if cap(items) == 0 {
				items = make([]RawItem, 0, 16)
			}
			it.JSON, it.Compact = v, compact
			items = append(items, it)
			return nil
		},
	}
	if err := sp.Split(body); err != nil {
		return nil, fmt.Errorf("item collection: %w", err)
	}
	rest = append(rest, '}')
	var ic ItemCollection
	if err := json.Unmarshal(rest, &ic); err != nil {
		return nil, err
	}
	p := &RawPage{
		Links: ic.Links, NumberMatched: ic.NumberMatched, NumberReturned: ic.NumberReturned,
		Context: ic.Context, Extra: ic.Extra,
	}
	if len(items) > 0 {
		p.Items = items
	}
	return p, nil
}

// member reads an item's top-level member key: its id or collection. The
// collection is shared with the item before when it is the same, instead
// of allocated again (items of a page mostly share one).
func (r *RawItem) member(key, m []byte, before []RawItem) error {
	var isID bool
	switch string(key) {
	case "id":
		isID = true
	case "collection":
	default:
		return nil
	}
	if m[0] != '"' {
		if string(m) == "null" {
			return nil
		}
		return fmt.Errorf("field %q: expected a string", key)
	}
	s, err := rawjson.Unquote(m)
	if err != nil {
		return err
	}
	switch {
	case isID:
		r.ID = string(s)
	case len(before) > 0 && string(s) == before[len(before)-1].Collection:
		r.Collection = before[len(before)-1].Collection
	default:
		r.Collection = string(s)
	}
	return nil
}

func (p *RawPage) pageLen() int                 { return len(p.Items) }
func (p *RawPage) pageLinks() []*Link           { return p.Links }
func (p *RawPage) truncate(n int)               { p.Items = p.Items[:n] }
func (p *RawPage) addLink(l *Link)              { p.Links = append(p.Links, l) }
func (p *RawPage) contextNext() json.RawMessage { return ctxNext(p.Context) }

// SearchRawPages is SearchPages with the items left as the JSON the server
// sent (RawItem): the fast path for callers that pass items on without
// looking inside them, such as an export to GeoJSON. Paging, MaxItems,
// NextLink and prefetching are as for SearchPages. With WithRawPageReuse,
// a page and its items are valid only until the loop asks for the next
// page.
func (c *Client) SearchRawPages(ctx context.Context, p SearchParams) iter.Seq2[*RawPage, error] {
	if p.Parallel > 1 {
		// Windows hand their pages on before the caller is done with
		// them: each page gets its own memory.
		window := func(ctx context.Context, p SearchParams) iter.Seq2[*RawPage, error] {
			return c.searchRawPages(ctx, p, false)
		}
		return parallelSearch(ctx, c, p, window, keepRawItems)
	}
	return c.searchRawPages(ctx, p, c.reuseRawPages)
}

func (c *Client) searchRawPages(ctx context.Context, p SearchParams, reuse bool) iter.Seq2[*RawPage, error] {
	first, err := c.searchRequest(p)
	if err != nil {
		return failed[*RawPage](err)
	}
	if p.NextLink != nil {
		if first, err = c.followRequest(first, p.NextLink); err != nil {
			return failed[*RawPage](fmt.Errorf("search: resume: %w", err))
		}
	}
	return paged(ctx, c, pageChain[RawPage](c, first, p.MaxItems, c.rawFetcher(reuse)))
}

// WithRawPageReuse lets SearchRawPages read each page into the memory of
// the page two before it instead of new memory, as bufio.Scanner reuses
// its buffer: a RawPage and its items' JSON are then valid only until the
// loop asks for the next page, and a long export allocates next to
// nothing per page, so its memory stays flat and the garbage collector
// idle. Off by default; parallel searches (SearchParams.Parallel) ignore
// it.
func WithRawPageReuse(on bool) Option {
	return func(c *Client) { c.reuseRawPages = on }
}

// rawFetcher returns a fetch function for raw pages. Each body is read
// whole (its next link comes after the items, and the next request must
// not wait for them), into a buffer sized from the page before so that it
// is not copied while it grows; the items are sub-slices of it. With
// reuse, the buffers of the last two pages are recycled: the fetch of page
// k+2 starts only once the caller has asked for page k+1 (paged's
// prefetching hands a page over only then), so page k is no longer in use.
func (c *Client) rawFetcher(reuse bool) func(context.Context, *request) (*RawPage, error) {
	// Only the fetching goroutine uses these.
	sizeHint, lastLen := 0, 0
	// With reuse: the memory free for the next page, and the last page's.
	var spare, last []byte
	var spareItems, lastItems []RawItem
	return func(ctx context.Context, r *request) (*RawPage, error) {
		resp, err := c.send(ctx, r)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		size := sizeHint + sizeHint/8 + 512
		if resp.ContentLength > 0 && resp.ContentLength < 1<<30 {
			size = int(resp.ContentLength) + 1 // +1: ReadFrom wants room to see EOF
		}
		mem := spare[:0]
		if cap(mem) < sizeHint+bytes.MinRead {
			mem = make([]byte, 0, size)
		}
		buf := bytes.NewBuffer(mem)
		_, err = buf.ReadFrom(resp.Body)
		body := buf.Bytes()
		if reuse {
			spare = body[:0] // until the page is handed on: a retry reads into it again
		}
		if err != nil {
			if ctxErr := requestCtxErr(resp); ctxErr != nil {
				return nil, ctxErr
			}
			return nil, fmt.Errorf("%s %s: reading the page: %w", r.method, redact.URL(r.url), err)
		}
		sizeHint = len(body)
		var items []RawItem
		switch {
		case reuse:
			items = spareItems
		case lastLen > 0:
			items = make([]RawItem, 0, lastLen) // pages mostly have the same size
		}
		p, err := decodeRawPageInto(body, items)
		if err != nil {
			return nil, &DecodeError{Method: r.method, URL: redact.URL(r.url), ContentType: resp.Header.Get("Content-Type"), Snippet: snippet(body), Err: err}
		}
		lastLen = len(p.Items)
		if reuse {
			spare, last = last[:0], body
			spareItems, lastItems = lastItems, p.Items
		}
		return p, nil
	}
}
