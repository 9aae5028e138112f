package stac

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"unicode/utf8"

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

// splitPage checks a page body once and splits it into the members of its
// array member (features or collections), without decoding them: they are
// sub-slices of body, appended to items[:0]. The other members are decoded
// into the page's PageInfo. A body with invalid UTF-8 is checked again
// with each bad sequence replaced by U+FFFD.
func splitPage(body []byte, array string, items []RawItem) (*RawPage, error) {
	p, err := splitValid(body, array, items)
	if err != nil && !utf8.Valid(body) {
		fixed := bytes.ToValidUTF8(body, []byte("\uFFFD"))
		if p, err = splitValid(fixed, array, items); err == nil {
			p.InvalidUTF8 = bytes.Count(fixed, []byte("\uFFFD")) - bytes.Count(body, []byte("\uFFFD"))
		}
	}
	return p, err
}

func splitValid(body []byte, array string, items []RawItem) (*RawPage, error) {
	d := jsontext.NewDecoder(bytes.NewBuffer(body), decodeOpts)
	if tok, err := d.ReadToken(); err != nil || tok.Kind() != '{' {
		return nil, orErr(err, "expected a JSON object")
	}
	p := &RawPage{Items: items[:0]}
	rest := []byte{'{'} // the other members, for PageInfo
	for d.PeekKind() != '}' {
		tok, err := d.ReadToken()
		if err != nil {
			return nil, err
		}
		if name := tok.String(); name != array {
			v, err := d.ReadValue()
			if err != nil {
				return nil, err
			}
			if len(rest) > 1 {
				rest = append(rest, ',')
			}
			rest, _ = jsontext.AppendQuote(rest, name)
			rest = append(append(rest, ':'), v...)
			continue
		}
		switch d.PeekKind() {
		case 'n':
			d.ReadToken()
			continue
		case '[':
			d.ReadToken()
		default:
			return nil, fmt.Errorf("field %q: expected an array", array)
		}
		start := d.InputOffset() - 1
		for d.PeekKind() != ']' {
			it, err := splitItem(d, body, p.Items)
			if err != nil {
				return nil, fmt.Errorf("%s %d: %w", array, len(p.Items), err)
			}
			p.Items = append(p.Items, it)
		}
		if _, err := d.ReadToken(); err != nil {
			return nil, err
		}
		p.raw = body[start:d.InputOffset()]
	}
	if _, err := d.ReadToken(); err != nil { // the closing brace
		return nil, err
	}
	if _, err := d.ReadToken(); err == nil {
		return nil, errors.New("expected one JSON object, got more after it")
	} else if !errors.Is(err, io.EOF) {
		return nil, err
	}
	if err := p.decodeInfo(append(rest, '}')); err != nil {
		return nil, err
	}
	if len(p.Items) == 0 {
		p.Items = nil
	}
	return p, nil
}

// splitItem reads one element of the array: an object whose id and
// collection it reads. The collection is shared with the item before when
// it is the same (items of a page mostly share one).
func splitItem(d *jsontext.Decoder, body []byte, before []RawItem) (RawItem, error) {
	var it RawItem
	if tok, err := d.ReadToken(); err != nil || tok.Kind() != '{' {
		return it, orErr(err, "expected an object")
	}
	start := d.InputOffset() - 1
	for d.PeekKind() != '}' {
		// The name as raw bytes: a string token would be allocated for
		// every member.
		name, err := d.ReadValue()
		if err != nil {
			return it, err
		}
		var key string
		switch string(name) {
		case `"id"`:
			key = "id"
		case `"collection"`:
			key = "collection"
		default:
			// ReadValue, not SkipValue, which walks token by token.
			if _, err := d.ReadValue(); err != nil {
				return it, err
			}
			continue
		}
		v, err := d.ReadValue()
		if err != nil {
			return it, err
		}
		var s string
		switch {
		case v.Kind() == 'n':
		case v.Kind() != '"':
			return it, fmt.Errorf("field %q: expected a string", key)
		case key == "collection" && len(before) > 0 && string(v[1:len(v)-1]) == before[len(before)-1].Collection:
			s = before[len(before)-1].Collection
		case bytes.IndexByte(v, '\\') < 0:
			s = string(v[1 : len(v)-1]) // checked already: no escapes to undo
		default:
			u, err := jsontext.AppendUnquote(nil, v)
			if err != nil {
				return it, err
			}
			s = string(u)
		}
		if key == "id" {
			it.ID = s
		} else {
			it.Collection = s
		}
	}
	if _, err := d.ReadToken(); err != nil {
		return it, err
	}
	it.JSON = body[start:d.InputOffset()]
	it.Compact = bytes.IndexByte(it.JSON, '\n') < 0 && bytes.IndexByte(it.JSON, '\r') < 0 && bytes.IndexByte(it.JSON, '\t') < 0
	return it, nil
}

func orErr(err error, msg string) error {
	if err != nil {
		return err
	}
	return errors.New(msg)
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

func utf8Valid(b []byte) bool { return utf8.Valid(b) }

// decodeInfo decodes obj, the members of a page other than its array as
// one object, into p.PageInfo, its "type" dropped.
func (p *RawPage) decodeInfo(obj []byte) error {
	if err := json.Unmarshal(obj, &p.PageInfo, decodeOpts); err != nil {
		return err
	}
	if delete(p.Extra, "type"); len(p.Extra) == 0 {
		p.Extra = nil
	}
	return nil
}
