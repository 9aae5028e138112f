package stac

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
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
// page is in use. Every byte of body is checked to be valid JSON.
func decodeRawPage(body []byte) (*RawPage, error) {
	var features []byte
	// The members other than features, as an object for ItemCollection's
	// own decoding, so both paths agree on links, counts and Extra.
	rest := []byte{'{'}
	err := rawjson.Members(body, func(key, v []byte) error {
		if string(key) == "features" {
			features = v
			return nil
		}
		if len(rest) > 1 {
			rest = append(rest, ',')
		}
		k, _ := json.Marshal(string(key))
		rest = append(append(append(rest, k...), ':'), v...)
		return nil
	})
	if err != nil {
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
	if features == nil || string(features) == "null" {
		return p, nil
	}
	if features[0] != '[' {
		return nil, fmt.Errorf("item collection: field \"features\": expected an array")
	}
	p.Items = make([]RawItem, 0, 16)
	// Members has checked the whole page: walk its items without checking
	// them again.
	err = rawjson.CheckedElements(features, func(v []byte) error {
		var prev string // items of a page mostly share one collection
		if len(p.Items) > 0 {
			prev = p.Items[len(p.Items)-1].Collection
		}
		item, err := rawItem(v, prev)
		if err != nil {
			return fmt.Errorf("item collection: feature %d: %w", len(p.Items), err)
		}
		p.Items = append(p.Items, item)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

var errFound = errors.New("found")

// rawItem reads an item's id and collection; prev is the collection of
// the item before, shared instead of allocated again when it is the same.
func rawItem(v []byte, prev string) (RawItem, error) {
	if v[0] != '{' {
		return RawItem{}, fmt.Errorf("expected an object")
	}
	r := RawItem{JSON: v}
	found := 0
	err := rawjson.CheckedMembers(v, func(key, m []byte) error {
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
		case string(s) == prev:
			r.Collection = prev
		default:
			r.Collection = string(s)
		}
		// The item was checked with its page: stop reading it.
		if found++; found == 2 {
			return errFound
		}
		return nil
	})
	if err == errFound {
		err = nil
	}
	return r, err
}

func (p *RawPage) pageLen() int                 { return len(p.Items) }
func (p *RawPage) pageLinks() []*Link           { return p.Links }
func (p *RawPage) truncate(n int)               { p.Items = p.Items[:n] }
func (p *RawPage) addLink(l *Link)              { p.Links = append(p.Links, l) }
func (p *RawPage) contextNext() json.RawMessage { return ctxNext(p.Context) }

// SearchRawPages is SearchPages with the items left as the JSON the server
// sent (RawItem): the fast path for callers that pass items on without
// looking inside them, such as an export to GeoJSON. Paging, MaxItems,
// NextLink and prefetching are as for SearchPages.
func (c *Client) SearchRawPages(ctx context.Context, p SearchParams) iter.Seq2[*RawPage, error] {
	if p.Parallel > 1 {
		return parallelSearch(ctx, c, p, c.SearchRawPages, keepRawItems)
	}
	first, err := c.searchRequest(p)
	if err != nil {
		return failed[*RawPage](err)
	}
	if p.NextLink != nil {
		if first, err = c.followRequest(first, p.NextLink); err != nil {
			return failed[*RawPage](fmt.Errorf("search: resume: %w", err))
		}
	}
	return paged(ctx, c, pageChain[RawPage](c, first, p.MaxItems, c.rawFetcher()))
}

// rawFetcher returns a fetch function for raw pages. Each body is read
// whole (its next link comes after the items, and the next request must
// not wait for them), into a buffer sized from the page before so that it
// is not copied while it grows; the items are sub-slices of it.
func (c *Client) rawFetcher() func(context.Context, *request) (*RawPage, error) {
	sizeHint := 0 // only the fetching goroutine uses it
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
		buf := bytes.NewBuffer(make([]byte, 0, size))
		if _, err := buf.ReadFrom(resp.Body); err != nil {
			if ctxErr := requestCtxErr(resp); ctxErr != nil {
				return nil, ctxErr
			}
			return nil, fmt.Errorf("%s %s: reading the page: %w", r.method, redact.URL(r.url), err)
		}
		body := buf.Bytes()
		sizeHint = len(body)
		p, err := decodeRawPage(body)
		if err != nil {
			return nil, &DecodeError{Method: r.method, URL: redact.URL(r.url), ContentType: resp.Header.Get("Content-Type"), Snippet: snippet(body), Err: err}
		}
		return p, nil
	}
}
