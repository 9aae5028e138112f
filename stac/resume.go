package stac

import (
	"net/http"
)

// ResumeLink returns the request of a page of the search p as a
// self-contained link: method, absolute URL and, for POST, the whole body
// (a "merge" link merged into the body of p). next is the next link of
// the last page handled (from its Links); nil means the first page of p.
// from is the link the search itself was resumed from, if any.
// WithResume(l) resumes the search from l alone, without the original
// parameters, so l can be saved, printed and passed back later.
//
// The link never carries headers: a next link's headers may hold
// credentials, and the resumed search is authenticated anew.
func (c *Client) ResumeLink(p SearchParams, from, next *Link) (*Link, error) {
	r, err := c.searchRequest(p, 0)
	if err != nil {
		return nil, err
	}
	for _, l := range []*Link{from, next} {
		if l == nil {
			continue
		}
		if r, err = c.followRequest(r, l); err != nil {
			return nil, err
		}
	}
	l := &Link{Rel: "next", Href: r.url, Type: acceptGeoJSON, Method: r.method}
	if r.method == http.MethodPost {
		l.Body = r.body
	}
	return l, nil
}
