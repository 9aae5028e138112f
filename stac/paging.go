package stac

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"iter"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/stacq/stacq/internal/redact"
)

// Every listing (search, a collection's items, collections) is one chain
// of raw pages: each page fetched, checked and split once, its next link
// read before the page is handed on (so that the next request can be on
// its way, see WithPrefetch), the loop guard and MaxItems applied, and
// each page retried as a unit (WithRetry). Typed pages and items are
// decoded from the raw pages by the caller's goroutine.

// ListOption changes how a listing is paged: how many items it yields,
// where it starts. The parameters of what is asked are in SearchParams,
// ItemsParams and CollectionsParams.
type ListOption func(*listConfig)

type listConfig struct {
	max      int   // 0: all
	resume   *Link // first request follows this link
	parallel int
	dedupe   bool
}

// WithMaxItems caps the number of items (or collections) yielded; 0 means
// all. Once the cap is reached no further page is requested, and the page
// that reaches it is cut.
func WithMaxItems(n int) ListOption { return func(c *listConfig) { c.max = n } }

// WithResume starts a listing at a saved next link (from a page's Links,
// or ResumeLink) instead of its first page. The parameters must be those
// of the original listing, since a POST link with "merge" is merged into
// their body. WithMaxItems counts from the resumed page.
func WithResume(next *Link) ListOption { return func(c *listConfig) { c.resume = next } }

// WithDedupe drops the items of a page whose collection and id were on the
// page before (RawPage.Duplicates counts them either way): some servers
// repeat items at a page boundary.
func WithDedupe() ListOption { return func(c *listConfig) { c.dedupe = true } }

func listOptions(opts []ListOption) (listConfig, error) {
	var c listConfig
	for _, o := range opts {
		o(&c)
	}
	if c.max < 0 {
		return c, fmt.Errorf("max items: expected 0 (all) or more, got %d", c.max)
	}
	return c, nil
}

// LoopError ends a listing whose server sends a next link it sent before,
// or a page that repeats the page before: followed on, it would deliver
// the same items again, or never end. Items were delivered before it.
type LoopError struct {
	URL   string // the repeated request, credentials removed
	Page  int    // the page (1-based) that led back
	Items int    // items delivered before the loop
	// Matched is the server's count of matches, -1 when it sent none.
	Matched int64
	// SamePage is set when the page repeated an earlier page; else its
	// next link repeated an earlier request.
	SamePage bool
}

// Error implements the error interface.
func (e *LoopError) Error() string {
	what := "its next link repeats an earlier request"
	if e.SamePage {
		what = "it repeats an earlier page"
	}
	msg := fmt.Sprintf("the server's paging loops: page %d (%s) ended the listing because %s; %d items delivered", e.Page, e.URL, what, e.Items)
	if e.Matched >= 0 {
		msg += fmt.Sprintf(" of %d matched", e.Matched)
	}
	return msg
}

// request is one HTTP request of the API: the first of a listing, or one
// built from a next link.
type request struct {
	method string
	url    string
	body   jsontext.Value // POST only
	header http.Header    // headers of a next link
	accept string         // "" for the default
}

// key identifies a request for the paging loop guard.
func (r *request) key() string {
	return r.method + " " + r.url + "\n" + string(r.body)
}

// rawPages yields the raw pages of the listing that starts with first,
// whose items are the members of array ("features" or "collections").
func (c *Client) rawPages(ctx context.Context, first *request, array string, cfg listConfig, reuse bool) iter.Seq2[*RawPage, error] {
	if cfg.resume != nil {
		var err error
		if first, err = c.followRequest(first, cfg.resume); err != nil {
			return failed[*RawPage](fmt.Errorf("resume: %w", err))
		}
	}
	// With an item cap, the items are counted before the next request.
	fetch := retried(c, c.pageFetcher(array, reuse, cfg.max == 0))
	return splitPages(paged(ctx, c, c.pageChain(first, cfg, fetch)), array, cfg, reuse)
}

// splitPages hands on the pages as the caller asks for them (the
// fetching goroutine meanwhile reads the next page): it checks and splits
// the items of framed pages, cuts the page that reaches the item cap,
// counts (with cfg.dedupe, drops) the items a page repeats from the page
// before, and completes the *LoopError of a listing that loops with the
// number of items received, or ends it quietly when that is everything
// the API matched. With reuse, the items of a framed page are split into
// the memory of those of the page two before, as its body is read.
func splitPages(pages iter.Seq2[*RawPage, error], array string, cfg listConfig, reuse bool) iter.Seq2[*RawPage, error] {
	return func(yield func(*RawPage, error) bool) {
		seed := maphash.MakeSeed()
		// Hashes of the collection and id of the items of the page
		// before, and of this page.
		lastIDs, curIDs := map[uint64]struct{}{}, map[uint64]struct{}{}
		received, lastLen := 0, 0
		var spare, last []RawItem
		for p, err := range pages {
			if err == nil && p.framed {
				items := spare[:0]
				if !reuse || cap(items) == 0 {
					items = make([]RawItem, 0, lastLen)
				}
				if err = p.splitFramed(array, items); err != nil {
					err = p.decodeErr(err)
				}
				if reuse {
					spare, last = last, p.Items
				}
			}
			var le *LoopError
			if errors.As(err, &le) {
				if !le.SamePage && le.Matched >= 0 && int64(received) >= le.Matched {
					return // everything matched is here: a harmless last link
				}
				le.Items = received
			}
			if err != nil {
				yield(nil, err)
				return
			}
			received += len(p.Items)
			if p.cut >= 0 && p.cut < len(p.Items) {
				p.Items = p.Items[:p.cut]
			}
			if len(p.Items) > 0 {
				p.dropDuplicates(seed, lastIDs, curIDs, cfg.dedupe)
				lastIDs, curIDs = curIDs, lastIDs
			}
			lastLen = len(p.Items)
			if !yield(p, nil) {
				return
			}
		}
	}
}

// pageChain is the paging loop as a chain of steps: each step fetches its
// page and reads its next link before the page is handed on. It stops
// after the last page, an empty page, or once max items have been
// received, and fails with a *LoopError on a repeated request or page.
func (c *Client) pageChain(first *request, cfg listConfig, fetch func(context.Context, *request) (*RawPage, error)) pageStep[*RawPage] {
	// The requests made, as 64-bit hashes of method, URL and body, so
	// that the set stays small over a long listing. A collision would
	// need billions of pages to be likely.
	seen := map[uint64]struct{}{} // only the fetching goroutine uses these
	seed := maphash.MakeSeed()
	hash := func(r *request) uint64 { return maphash.String(seed, r.key()) }
	received, pageNo := 0, 0
	pagesSeen := map[uint64]struct{}{} // hashes of the pages' items
	var step func(r *request) pageStep[*RawPage]
	step = func(r *request) pageStep[*RawPage] {
		return func(ctx context.Context) (*RawPage, pageStep[*RawPage], error) {
			if err := ctx.Err(); err != nil {
				return nil, nil, err
			}
			seen[hash(r)] = struct{}{}
			p, err := fetch(ctx, r)
			if err != nil {
				return nil, nil, err
			}
			pageNo++
			loop := func(samePage bool) error {
				m, ok := p.Matched()
				if !ok {
					m = -1
				}
				// Items is filled in by splitPages, which counts them.
				return &LoopError{URL: redact.URL(r.url), Page: pageNo, Matched: m, SamePage: samePage}
			}
			if !isEmptyArray(p.raw) {
				h := maphash.Bytes(seed, p.raw)
				if _, dup := pagesSeen[h]; dup {
					return nil, nil, loop(true)
				}
				pagesSeen[h] = struct{}{}
			}
			p.cut = -1
			if cfg.max > 0 { // then the page is split: its items are counted
				n := len(p.Items)
				if received+n >= cfg.max {
					p.cut = cfg.max - received
					return p, nil, nil
				}
				received += n
			}
			next, err := c.nextRequest(r, p)
			if err != nil {
				return p, func(context.Context) (*RawPage, pageStep[*RawPage], error) { return nil, nil, err }, nil
			}
			if isEmptyArray(p.raw) || next == nil {
				return p, nil, nil
			}
			if _, dup := seen[hash(next)]; dup {
				err := loop(false) // or a harmless last link: see splitPages
				return p, func(context.Context) (*RawPage, pageStep[*RawPage], error) { return nil, nil, err }, nil
			}
			return p, step(next), nil
		}
	}
	return step(first)
}

// dropDuplicates counts (and with drop, removes) the items whose
// collection and id were on the page before, whose hashes are in before;
// it fills this page's into cur.
func (p *RawPage) dropDuplicates(seed maphash.Seed, before, cur map[uint64]struct{}, drop bool) {
	clear(cur)
	kept := p.Items[:0]
	var h maphash.Hash
	h.SetSeed(seed)
	for _, it := range p.Items {
		h.Reset()
		h.WriteString(it.Collection)
		h.WriteByte(0)
		h.WriteString(it.ID)
		key := h.Sum64()
		cur[key] = struct{}{}
		if _, dup := before[key]; dup && it.ID != "" {
			p.Duplicates++
			if drop {
				continue
			}
		}
		kept = append(kept, it)
	}
	p.Items = kept
}

// pageFetcher returns the fetch of one raw page. Each body is read whole
// (its next link comes after the items, and the next request must not
// wait for them), up to the client's page cap, into a buffer sized from
// the page before; the items are sub-slices of it. With reuse, the
// buffers of the last two pages are recycled: the fetch of page k+2
// starts only once the caller has asked for page k+1 (the prefetch hands a
// page over only then), so page k is no longer in use.
func (c *Client) pageFetcher(array string, reuse, frame bool) func(context.Context, *request) (*RawPage, error) {
	sizeHint := 0 // only the fetching goroutine uses these
	var spare, last []byte
	var spareItems, lastPage []RawItem
	lastItems := 0
	return func(ctx context.Context, r *request) (*RawPage, error) {
		resp, err := c.send(ctx, r)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		mem := spare[:0]
		if cap(mem) < sizeHint+bytes.MinRead {
			mem = make([]byte, 0, sizeHint+sizeHint/8+bytes.MinRead)
		}
		body, err := readBody(resp, mem, c.maxPage, "page")
		if reuse {
			spare = body[:0] // until the page is handed on: a retry reads into it again
		}
		if err != nil {
			return nil, c.readErr(r, resp, err)
		}
		sizeHint = len(body)
		decodeErr := func(err error) error {
			return &DecodeError{Method: r.method, URL: redact.URL(r.url), ContentType: resp.Header.Get("Content-Type"), Snippet: snippet(body), Err: err}
		}
		if frame {
			if p, ok := framePage(body, array); ok {
				p.decodeErr = decodeErr // splitFramed's, in the caller's goroutine
				if reuse {
					spare, last = last[:0], body
				}
				return p, nil
			}
		}
		items := spareItems[:0]
		if !reuse {
			items = make([]RawItem, 0, lastItems)
		}
		p, err := scanPage(body, array, items)
		if err != nil {
			return nil, decodeErr(err)
		}
		lastItems = len(p.Items)
		if reuse {
			spare, last = last[:0], body
			spareItems, lastPage = lastPage, p.Items
		}
		return p, nil
	}
}

// readBody appends resp's body to buf, refusing more than limit bytes
// (counted after decompression) with a *TooLargeError. buf grows by
// doubling up to bodyChunk bytes; the rest of a larger body is read into
// chunks of that size, joined at the end, so a body over the cap is
// refused having held little more than the cap (not twice it, nor the
// garbage of each doubling).
func readBody(resp *http.Response, buf []byte, limit int64, what string) ([]byte, error) {
	if resp.ContentLength > limit {
		return buf, &TooLargeError{What: what, Limit: limit}
	}
	b := buf
	for len(b) < cap(b) || cap(b) < bodyChunk && int64(cap(b)) <= limit {
		if len(b) == cap(b) {
			grown := make([]byte, len(b), min(max(2*cap(b), bytes.MinRead), bodyChunk, int(limit+1)))
			copy(grown, b)
			b = grown
		}
		n, err := resp.Body.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		switch {
		case int64(len(b)) > limit:
			return b, &TooLargeError{What: what, Limit: limit}
		case err == io.EOF:
			return b, nil
		case err != nil:
			return b, err
		}
	}
	total := int64(len(b))
	var chunks [][]byte
	for {
		chunk := make([]byte, min(bodyChunk, limit+1-total))
		n := 0
		var err error
		for n < len(chunk) && err == nil {
			var k int
			k, err = resp.Body.Read(chunk[n:])
			n += k
		}
		chunks = append(chunks, chunk[:n])
		total += int64(n)
		switch {
		case total > limit:
			return b, &TooLargeError{What: what, Limit: limit}
		case err == io.EOF:
			body := make([]byte, len(b), total)
			copy(body, b)
			for _, c := range chunks {
				body = append(body, c...)
			}
			return body, nil
		case err != nil:
			return b, err
		}
	}
}

// bodyChunk is the size of the chunks a large body is read in.
const bodyChunk = 4 << 20

// readErr describes a failure to read r's response body.
func (c *Client) readErr(r *request, resp *http.Response, err error) error {
	if ctxErr := resp.Request.Context().Err(); ctxErr != nil {
		return ctxErr
	}
	if te, ok := err.(*TooLargeError); ok {
		te.Method, te.URL = r.method, redact.URL(r.url)
		return te
	}
	return fmt.Errorf("%s %s: reading the response: %w", r.method, redact.URL(r.url), err)
}

// typedItems decodes the items of raw pages, page after page, a window
// of items at a time (see decodeItems).
func typedItems(pages iter.Seq2[*RawPage, error]) iter.Seq2[*Item, error] {
	return func(yield func(*Item, error) bool) {
		var window []*Item
		for p, err := range pages {
			if err != nil {
				yield(nil, err)
				return
			}
			for lo := 0; lo < len(p.Items); lo += decodeWindow {
				raw := p.Items[lo:min(lo+decodeWindow, len(p.Items))]
				window = slices.Grow(window[:0], len(raw))[:len(raw)]
				n, err := decodeItems(raw, window)
				for _, it := range window[:n] {
					if !yield(it, nil) {
						return
					}
				}
				if err != nil {
					yield(nil, err)
					return
				}
			}
		}
	}
}

// typedPages decodes raw pages with decode.
func typedPages[P any](pages iter.Seq2[*RawPage, error], decode func(*RawPage) (P, error)) iter.Seq2[P, error] {
	return func(yield func(P, error) bool) {
		for p, err := range pages {
			var typed P
			if err == nil {
				typed, err = decode(p)
			}
			if !yield(typed, err) || err != nil {
				return
			}
		}
	}
}

// nextRequest returns the request of the page after p, which r fetched, or
// nil after the last page.
func (c *Client) nextRequest(r *request, p *RawPage) (*request, error) {
	l := FindLink(p.Links, "next")
	if l == nil {
		// The Sentinel Hub Catalog API pages with context.next instead of
		// links, sent back as "next": in the body of a POST, as a query
		// parameter of a GET. Expressed as the equivalent next link, which
		// also lets callers resume from the page's links.
		var err error
		if l, err = contextNextLink(r, p); l == nil || err != nil {
			return nil, err
		}
		p.Links = append(p.Links, l)
	}
	next, err := c.followRequest(r, l)
	if err != nil {
		return nil, fmt.Errorf("next link: %w", err)
	}
	return next, nil
}

// contextNextLink is the next link of a page that carries its paging
// token in context.next, or nil.
func contextNextLink(r *request, p *RawPage) (*Link, error) {
	if p.Context == nil || len(p.Context.Next) == 0 || p.Context.Next.Kind() == 'n' {
		return nil, nil
	}
	tok := p.Context.Next
	if r.method == http.MethodPost {
		body, err := json.Marshal(map[string]jsontext.Value{"next": tok})
		if err != nil {
			return nil, fmt.Errorf("context.next: %w", err)
		}
		return &Link{Rel: "next", Href: r.url, Type: acceptGeoJSON, Method: http.MethodPost, Body: body, Merge: true}, nil
	}
	u, err := url.Parse(r.url)
	if err != nil {
		return nil, err
	}
	v := u.Query()
	var s string
	if tok.Kind() != '"' || json.Unmarshal(tok, &s) != nil {
		s = string(tok) // a number: sent as written
	}
	v.Set("next", s)
	u.RawQuery = v.Encode()
	return &Link{Rel: "next", Href: u.String(), Type: acceptGeoJSON, Method: http.MethodGet}, nil
}

// followRequest builds the request that follows link l from the request r
// that fetched the page holding it.
func (c *Client) followRequest(r *request, l *Link) (*request, error) {
	if strings.TrimSpace(l.Href) == "" {
		return nil, fmt.Errorf("no href")
	}
	next := &request{url: resolveRef(r.url, l.Href), accept: r.accept}
	switch m := strings.ToUpper(l.Method); m {
	case "", http.MethodGet:
		next.method = http.MethodGet
	case http.MethodPost:
		next.method = http.MethodPost
		switch {
		case l.Merge:
			body, err := mergeBodies(r.body, l.Body)
			if err != nil {
				return nil, err
			}
			next.body = body
		case len(l.Body) > 0:
			if l.Body.Kind() != '{' {
				return nil, fmt.Errorf("body: expected a JSON object, got %q", snippet(l.Body))
			}
			next.body = l.Body
		default:
			// A POST link without a body repeats the current search at
			// its href (which carries the page token).
			next.body = r.body
		}
		if len(next.body) == 0 {
			next.body = jsontext.Value("{}")
		}
	default:
		return nil, fmt.Errorf("method: expected GET or POST, got %q", l.Method)
	}
	if len(l.Headers) > 0 {
		next.header = http.Header(l.Headers).Clone()
	}
	return next, nil
}

// mergeBodies merges the members of the link body into the current body,
// the link's members replacing those of the same name (the STAC API paging
// "merge", which spares sending the whole search back).
func mergeBodies(cur, link jsontext.Value) (jsontext.Value, error) {
	m := Members{}
	if len(cur) > 0 {
		if err := json.Unmarshal(cur, &m, decodeOpts); err != nil {
			return nil, fmt.Errorf("merge: current body: %w", err)
		}
	}
	if len(link) > 0 {
		var lm Members
		if err := json.Unmarshal(link, &lm, decodeOpts); err != nil {
			return nil, fmt.Errorf("merge: body: expected a JSON object, got %q", snippet(link))
		}
		for k, v := range lm {
			m[k] = v
		}
	}
	return json.Marshal(m, encodeOpts)
}

// failed is an iterator that yields err alone.
func failed[V any](err error) iter.Seq2[V, error] {
	return func(yield func(V, error) bool) {
		var zero V
		yield(zero, err)
	}
}

// isEmptyArray reports whether raw, an array as sent, has no elements
// (or is absent).
func isEmptyArray(raw []byte) bool {
	return len(bytes.TrimSpace(bytes.TrimSuffix(bytes.TrimPrefix(raw, []byte("[")), []byte("]")))) == 0
}
