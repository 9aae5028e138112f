package stac

import (
	"errors"
	"net/http"
)

// ResumeLink returns the request of a page of the search p as a
// self-contained link: method, absolute URL and, for POST, the whole body
// (a "merge" link merged into the body of p). next is the next link of
// the last page handled (from its Links); nil means the first page of p.
// SearchParams{NextLink: l} resumes the search from l alone, without the
// original parameters, so l can be saved, printed and passed back later
// (stacq search --resume).
//
// The link never carries headers: a next link's headers may hold
// credentials, and the resumed search is authenticated anew.
func (c *Client) ResumeLink(p SearchParams, next *Link) (*Link, error) {
	if p.Parallel > 1 {
		return nil, errors.New("search: a parallel search cannot be resumed")
	}
	r, err := c.searchRequest(p)
	if err != nil {
		return nil, err
	}
	for _, l := range []*Link{p.NextLink, next} {
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
