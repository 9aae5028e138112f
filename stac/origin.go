package stac

import (
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// origin returns the origin of u, "scheme://host:port" with the default
// port made explicit, as the static headers are allowed to.
func origin(u *url.URL) string {
	scheme := strings.ToLower(u.Scheme)
	port := u.Port()
	if port == "" {
		switch scheme {
		case "http":
			port = "80"
		case "https":
			port = "443"
		}
	}
	return scheme + "://" + net.JoinHostPort(strings.ToLower(u.Hostname()), port)
}

// allow adds the origin of u to those that get the static headers. Once
// the API is read over https, a plain http origin is never added: a link
// that downgrades does not get them.
func (c *Client) allow(u *url.URL) {
	switch strings.ToLower(u.Scheme) {
	case "https":
		c.origins[origin(u)] = true
	case "http":
		for o := range c.origins {
			if strings.HasPrefix(o, "https:") {
				return
			}
		}
		c.origins[origin(u)] = true
	}
}

// keptOnRedirect are the headers a redirect to another origin keeps: all
// others (WithHeader's, a next link's, Authorization, Cookie, Referer)
// are removed.
var keptOnRedirect = map[string]bool{"Accept": true, "User-Agent": true, "Content-Type": true}

// guardRedirects returns a copy of hc (the caller's client is left as it
// is) that checks each redirect: net/http copies every header of the
// first request to each hop, Authorization included when the host stays
// the same (even from https to http). A hop to an origin the headers are
// not allowed to, or from https to http, keeps only keptOnRedirect; an
// allowed http origin upgraded to https on the same name keeps them all.
// No hop gets a Referer (its query may hold a key). hc's own CheckRedirect
// runs first, and its limit applies (10 redirects when it has none).
func (c *Client) guardRedirects(hc *http.Client) *http.Client {
	guarded := *hc
	check := hc.CheckRedirect
	guarded.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if check != nil {
			if err := check(req, via); err != nil {
				return err
			}
		} else if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		req.Header.Del("Referer")
		prev, to := via[len(via)-1].URL, req.URL
		secure := strings.EqualFold(to.Scheme, "https")
		allowed := c.origins[origin(to)] ||
			// An allowed http origin upgraded to https on the same name.
			secure && strings.EqualFold(prev.Scheme, "http") && strings.EqualFold(prev.Hostname(), to.Hostname()) && c.origins[origin(prev)]
		if !allowed || !secure && strings.EqualFold(prev.Scheme, "https") {
			for name := range req.Header {
				if !keptOnRedirect[name] {
					delete(req.Header, name)
				}
			}
		}
		return nil
	}
	return &guarded
}
