package stac

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/http"
	"strings"
)

// A page is a document of a paged listing: a search or items page
// (ItemCollection) or a collections page (CollectionsPage).
type page[T any] interface {
	*T
	pageLen() int
	pageLinks() []*Link
	truncate(n int)
	contextNext() json.RawMessage
	addLink(*Link)
}

func (ic *ItemCollection) pageLen() int                 { return len(ic.Features) }
func (ic *ItemCollection) pageLinks() []*Link           { return ic.Links }
func (ic *ItemCollection) truncate(n int)               { ic.Features = ic.Features[:n] }
func (ic *ItemCollection) addLink(l *Link)              { ic.Links = append(ic.Links, l) }
func (ic *ItemCollection) contextNext() json.RawMessage { return ctxNext(ic.Context) }

func (cp *CollectionsPage) pageLen() int                 { return len(cp.Collections) }
func (cp *CollectionsPage) pageLinks() []*Link           { return cp.Links }
func (cp *CollectionsPage) truncate(n int)               { cp.Collections = cp.Collections[:n] }
func (cp *CollectionsPage) addLink(l *Link)              { cp.Links = append(cp.Links, l) }
func (cp *CollectionsPage) contextNext() json.RawMessage { return ctxNext(cp.Context) }

func ctxNext(c *Context) json.RawMessage {
	if c == nil {
		return nil
	}
	return c.Next
}

// pages yields the pages of a listing that starts with the request first.
// It follows each page's next link (GET, or POST with its body, merged into
// the current body when the link says "merge") and stops after the last
// page, an empty page, a next link already followed (servers that repeat
// their last page), or once max items (0: no cap) have been received; the
// page that reaches max is cut to it. The next page is fetched while the
// caller handles the current one (see WithPrefetch): two pages are held
// at a time.
func pages[T any, P page[T]](ctx context.Context, c *Client, first *request, max int) iter.Seq2[P, error] {
	fetch := func(ctx context.Context, r *request) (P, error) {
		p := P(new(T))
		if err := c.fetch(ctx, r, p); err != nil {
			return nil, err
		}
		return p, nil
	}
	return paged(ctx, c, pageChain[T, P](c, first, max, fetch))
}

// nextRequest returns the request of the page after p, which r fetched, or
// nil after the last page.
func (c *Client) nextRequest(r *request, p interface {
	pageLinks() []*Link
	contextNext() json.RawMessage
	addLink(*Link)
}) (*request, error) {
	l := FindLink(p.pageLinks(), "next")
	if l == nil && c.sentinelHub {
		// Sentinel Hub pages with context.next, sent back as "next" in the
		// same body: expressed as the equivalent merge link, which also
		// lets callers resume from the page's links.
		tok := p.contextNext()
		if tok == nil || r.method != http.MethodPost {
			return nil, nil
		}
		body, err := json.Marshal(map[string]json.RawMessage{"next": tok})
		if err != nil {
			return nil, fmt.Errorf("context.next: %w", err)
		}
		l = &Link{Rel: "next", Href: r.url, Type: acceptGeoJSON, Method: http.MethodPost, Body: body, Merge: true}
		p.addLink(l)
	}
	if l == nil {
		return nil, nil
	}
	next, err := c.followRequest(r, l)
	if err != nil {
		return nil, fmt.Errorf("next link: %w", err)
	}
	return next, nil
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
			if !isJSONObject(l.Body) {
				return nil, fmt.Errorf("body: expected a JSON object, got %q", snippet(l.Body))
			}
			next.body = l.Body
		default:
			// A POST link without a body repeats the current search at
			// its href (which carries the page token).
			next.body = r.body
		}
		if len(bytes.TrimSpace(next.body)) == 0 {
			next.body = json.RawMessage("{}")
		}
	default:
		return nil, fmt.Errorf("method: expected GET or POST, got %q", l.Method)
	}
	if len(l.Headers) > 0 {
		next.header = l.Headers.Clone()
	}
	return next, nil
}

func isJSONObject(b []byte) bool {
	b = bytes.TrimSpace(b)
	return len(b) > 0 && b[0] == '{' && json.Valid(b)
}

// mergeBodies merges the members of the link body into the current body,
// the link's members replacing those of the same name (the STAC API paging
// "merge", which spares sending the whole search back).
func mergeBodies(cur, link json.RawMessage) (json.RawMessage, error) {
	m := map[string]json.RawMessage{}
	if len(bytes.TrimSpace(cur)) > 0 {
		if err := json.Unmarshal(cur, &m); err != nil {
			return nil, fmt.Errorf("merge: current body: %w", err)
		}
	}
	if len(bytes.TrimSpace(link)) > 0 {
		var lm map[string]json.RawMessage
		if err := json.Unmarshal(link, &lm); err != nil {
			return nil, fmt.Errorf("merge: body: expected a JSON object, got %q", snippet(link))
		}
		for k, v := range lm {
			m[k] = v
		}
	}
	if m == nil {
		m = map[string]json.RawMessage{}
	}
	return marshalJSON(m)
}

// fetch performs r and decodes the response into v.
func (c *Client) fetch(ctx context.Context, r *request, v any) error {
	resp, err := c.send(ctx, r)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return decode(r.method, resp, v)
}

// itemsOf flattens pages into their items.
func itemsOf(pages iter.Seq2[*ItemCollection, error]) iter.Seq2[*Item, error] {
	return func(yield func(*Item, error) bool) {
		for p, err := range pages {
			if err != nil {
				yield(nil, err)
				return
			}
			for _, it := range p.Features {
				if !yield(it, nil) {
					return
				}
			}
		}
	}
}

// failed is an iterator that yields err alone.
func failed[V any](err error) iter.Seq2[V, error] {
	return func(yield func(V, error) bool) {
		var zero V
		yield(zero, err)
	}
}
