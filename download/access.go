package download

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// Router chooses the HTTP client of each URL, so that credentials go only
// where they belong. An authenticating client is routed to the
// destinations it was given with Route: origins (scheme, host and port
// exactly; "http://127.0.0.1:8080" for a local API) and https hosts
// ("data.example.com") or domains (".example.com", "*.example.com", port
// 443 only). Every other URL, and every presigned URL (see IsPresigned)
// wherever it points, gets the plain client: no Authorization header.
//
// Redirects are followed by the downloader one hop at a time, each hop
// routed afresh: a redirect from the API's host to a storage host leaves
// the credentials behind, and a redirect from https to http is refused.
//
// Configure a Router before a download starts; it is then read-only and
// safe for concurrent use. The zero value is not usable: see NewRouter.
type Router struct {
	plain  *http.Client
	routes []route
}

type route struct {
	client  *http.Client
	origins []string // scheme://host:port, lower case
	hosts   []string // exact names, or ".suffix" for domains; https:443 only
}

// NewRouter returns a Router that fetches every URL with plain (nil: a
// client with Go's default transport) until routes are added.
func NewRouter(plain *http.Client) *Router {
	if plain == nil {
		plain = &http.Client{}
	}
	return &Router{plain: withoutRedirects(plain)}
}

// Route sends the URLs of the given destinations through hc, an
// authenticating client: the API's URL (its origin is taken), or hosts
// and domains its credentials are meant for. Routes added first win.
// An empty or malformed destination is an error naming it.
func (r *Router) Route(hc *http.Client, destinations ...string) error {
	if hc == nil {
		return fmt.Errorf("route: no client")
	}
	rt := route{client: withoutRedirects(hc)}
	for _, d := range destinations {
		d = strings.TrimSpace(d)
		if strings.Contains(d, "://") {
			u, err := url.Parse(d)
			if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
				return fmt.Errorf("route: %q is not an http(s) origin", clip(d, 60))
			}
			rt.origins = append(rt.origins, origin(u))
			continue
		}
		h := strings.ToLower(strings.TrimPrefix(d, "*"))
		if h == "" || h == "." || strings.ContainsAny(h, "/:@?#* ") {
			return fmt.Errorf("route: %q is not a host name or .domain", clip(d, 60))
		}
		rt.hosts = append(rt.hosts, h)
	}
	r.routes = append(r.routes, rt)
	return nil
}

// Client returns the client for u, and whether it is an authenticating
// one.
func (r *Router) Client(u *url.URL) (hc *http.Client, authenticated bool) {
	if IsPresigned(u) {
		return r.plain, false
	}
	o := origin(u)
	for _, rt := range r.routes {
		for _, ro := range rt.origins {
			if ro == o {
				return rt.client, true
			}
		}
		if u.Scheme == "https" && (u.Port() == "" || u.Port() == "443") && hostIn(u.Hostname(), rt.hosts) {
			return rt.client, true
		}
	}
	return r.plain, false
}

// withoutRedirects is a copy of hc that hands redirects back instead of
// following them, so that each hop is routed on its own.
func withoutRedirects(hc *http.Client) *http.Client {
	c := *hc
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

// origin is u's scheme://host:port in lower case, the default port made
// explicit.
func origin(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = "443"
		if u.Scheme == "http" {
			port = "80"
		}
	}
	return strings.ToLower(u.Scheme + "://" + u.Hostname() + ":" + port)
}

// hostIn reports whether host is one of names, or in one of the ".domain"
// entries.
func hostIn(host string, names []string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	for _, n := range names {
		if strings.HasPrefix(n, ".") && strings.HasSuffix(host, n) || host == n {
			return true
		}
	}
	return false
}

// presignParams are query parameters that carry a signature in the URL
// itself, lower case: AWS SigV4 and SigV2, Google Cloud Storage V4 and
// V2, Azure SAS, CloudFront signed URLs.
var presignParams = []string{
	"x-amz-signature", "x-amz-credential", "x-goog-signature", "x-goog-credential",
	"googleaccessid", "signature", "sig", "key-pair-id", "policy",
}

// IsPresigned reports whether u carries its own authorization: a
// signature in its query (X-Amz-Signature, X-Goog-Signature, Signature
// with Expires, an Azure SAS sig or se). Such a URL must not get an
// Authorization header: it grants access by itself, and storage services
// refuse a request that carries two.
func IsPresigned(u *url.URL) bool {
	if u.RawQuery == "" {
		return false
	}
	for k := range u.Query() {
		k = strings.ToLower(k)
		for _, p := range presignParams {
			if k == p {
				return true
			}
		}
		if k == "se" || k == "expires" {
			return true
		}
	}
	return false
}
