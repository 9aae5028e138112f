package stac_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/stacq/stacq/stac"
)

// hostileNet is a small internet on loopback: servers reached by name and
// port through the client's dialer, so that one name can be served over
// https (port 443) and plain http (port 80) by different servers, and
// redirects and links can cross origins. httptest's certificate is valid
// for example.com.
type hostileNet struct {
	t      *testing.T
	routes map[string]string // "example.com:443" -> listener address
	mu     sync.Mutex
	got    []hop
}

// hop is one request a server of the net received.
type hop struct {
	origin string // scheme://name:port as the client addressed it
	path   string
	header http.Header
}

func newHostileNet(t *testing.T) *hostileNet {
	return &hostileNet{t: t, routes: map[string]string{}}
}

// serve starts a server for origin ("https://example.com:443") with h.
func (n *hostileNet) serve(origin string, h http.HandlerFunc) {
	record := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.mu.Lock()
		n.got = append(n.got, hop{origin, r.URL.Path, r.Header.Clone()})
		n.mu.Unlock()
		h(w, r)
	})
	var s *httptest.Server
	if strings.HasPrefix(origin, "https:") {
		s = httptest.NewTLSServer(record)
	} else {
		s = httptest.NewServer(record)
	}
	n.t.Cleanup(s.Close)
	n.routes[strings.SplitN(origin, "://", 2)[1]] = s.Listener.Addr().String()
}

// api serves a STAC API at origin: a landing page at /v1 (its search
// link /v1/search) and routes by path.
func (n *hostileNet) api(origin string, routes map[string]http.HandlerFunc) {
	root := strings.TrimSuffix(strings.TrimSuffix(origin, ":443"), ":80") + "/v1"
	routes["/v1"] = landingAt(root)
	n.serve(origin, func(w http.ResponseWriter, r *http.Request) {
		if h := routes[r.URL.Path]; h != nil {
			h(w, r)
			return
		}
		http.NotFound(w, r)
	})
}

// client returns an http.Client that dials the net's servers and trusts
// httptest's certificate.
func (n *hostileNet) client() *http.Client {
	tr := httptest.NewTLSServer(http.NotFoundHandler())
	defer tr.Close()
	t := tr.Client().Transport.(*http.Transport).Clone()
	t.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		to, ok := n.routes[addr]
		if !ok {
			return nil, fmt.Errorf("no route to %s", addr)
		}
		var d net.Dialer
		return d.DialContext(ctx, network, to)
	}
	return &http.Client{Transport: t}
}

// hops returns the requests received for path.
func (n *hostileNet) hops(path string) []hop {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []hop
	for _, h := range n.got {
		if h.path == path {
			out = append(out, h)
		}
	}
	return out
}

// landingAt answers a landing page whose links are under root.
func landingAt(root string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]any{
			"type": "Catalog", "stac_version": "1.0.0", "id": "test", "description": "test",
			"conformsTo": []string{"https://api.stacspec.org/v1.0.0/core", "https://api.stacspec.org/v1.0.0/item-search"},
			"links":      []any{map[string]any{"rel": "search", "href": root + "/search", "method": "GET"}},
		})
	}
}

// credentialHeaders are what the tests give WithHeader, and check that
// no foreign or downgraded hop gets.
var credentialHeaders = []stac.Option{stac.WithHeader("X-Api-Key", "KEY"), stac.WithHeader("Authorization", "Bearer TOKEN")}

func leaked(h hop) []string {
	var out []string
	for _, name := range []string{"X-Api-Key", "Authorization", "Referer", "Cookie"} {
		if v := h.header.Get(name); v != "" {
			out = append(out, name+": "+v)
		}
	}
	return out
}

// An https API whose next link is plain http on the same name: the
// headers must not go in cleartext (the allowed set was once keyed by
// host alone, and "example.com" is the host of both URLs).
func TestHeadersNotSentOnDowngradedNextLink(t *testing.T) {
	n := newHostileNet(t)
	n.api("https://example.com:443", map[string]http.HandlerFunc{"/v1/search": func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, featurePage([]string{"a"}, map[string]any{"links": []any{
			map[string]any{"rel": "next", "href": "http://example.com/v1/search2"},
		}}))
	}})
	n.serve("http://example.com:80", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, featurePage([]string{"b"}, nil))
	})
	c, err := stac.Open(context.Background(), "https://example.com/v1", append(credentialHeaders, stac.WithHTTPClient(n.client()))...)
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(t, c.Search(context.Background(), stac.SearchParams{})); len(got) != 2 {
		t.Fatalf("items %v", got)
	}
	if h := n.hops("/v1/search"); len(h) != 1 || h[0].header.Get("X-Api-Key") != "KEY" {
		t.Fatalf("the API's own origin did not get its headers: %+v", h)
	}
	h := n.hops("/v1/search2")
	if len(h) != 1 || h[0].origin != "http://example.com:80" {
		t.Fatalf("hops %+v", h)
	}
	if l := leaked(h[0]); l != nil {
		t.Errorf("sent over plain http: %v", l)
	}
}

// Redirects: net/http copies custom headers to every hop, and keeps
// Authorization when the host stays the same, even from https to http.
func TestHeadersOnRedirects(t *testing.T) {
	for _, tc := range []struct {
		name, to string
		foreign  bool // the hop must not get the headers
	}{
		{"same origin", "https://example.com/v1/moved", false},
		{"other host", "https://other.example.com/moved", true},
		{"other port", "https://example.com:8443/moved", true},
		{"downgrade to http, same host", "http://example.com/v1/moved", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := newHostileNet(t)
			target := func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, featurePage([]string{"b"}, nil)) }
			n.api("https://example.com:443", map[string]http.HandlerFunc{
				"/v1/search": func(w http.ResponseWriter, r *http.Request) {
					http.Redirect(w, r, tc.to+"?from=search&api_key=LEAK", http.StatusTemporaryRedirect)
				},
				"/v1/moved": target,
			})
			n.serve("https://other.example.com:443", target)
			n.serve("https://example.com:8443", target)
			n.serve("http://example.com:80", target)
			c, err := stac.Open(context.Background(), "https://example.com/v1", append(credentialHeaders, stac.WithHTTPClient(n.client()))...)
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(t, c.Search(context.Background(), stac.SearchParams{})); len(got) != 1 {
				t.Fatalf("items %v", got)
			}
			path := "/moved"
			if strings.Contains(tc.to, "/v1/") {
				path = "/v1/moved"
			}
			h := n.hops(path)
			if len(h) != 1 {
				t.Fatalf("hops %+v", h)
			}
			if h[0].header.Get("Referer") != "" {
				t.Errorf("Referer sent: %q", h[0].header.Get("Referer"))
			}
			if l := leaked(h[0]); tc.foreign && l != nil {
				t.Errorf("%s got %v", h[0].origin, l)
			}
			if !tc.foreign && (h[0].header.Get("X-Api-Key") != "KEY" || h[0].header.Get("Authorization") != "Bearer TOKEN") {
				t.Errorf("a redirect within the API's origin lost the headers: %v", h[0].header)
			}
			if h[0].header.Get("User-Agent") == "" || h[0].header.Get("Accept") == "" {
				t.Errorf("the hop lost Accept or User-Agent: %v", h[0].header)
			}
		})
	}
}

// A landing page given as http:// that upgrades to https on the same name
// keeps its headers (the user chose to send them to that name); the
// reverse, an https landing page redirected to http, does not, and the
// http origin does not become one of the API's.
func TestHeadersOnLandingRedirects(t *testing.T) {
	n := newHostileNet(t)
	page := func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, featurePage([]string{"a"}, nil)) }
	redirect := func(to string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, to, http.StatusMovedPermanently) }
	}
	n.api("http://example.com:80", map[string]http.HandlerFunc{"/up": redirect("https://example.com/v1"), "/v1/search": page})
	n.api("https://example.com:443", map[string]http.HandlerFunc{"/down": redirect("http://example.com/v1"), "/v1/search": page})
	ctx := context.Background()
	opts := append(credentialHeaders, stac.WithHTTPClient(n.client()))
	if _, err := stac.Open(ctx, "http://example.com/up", opts...); err != nil {
		t.Fatal(err)
	}
	for _, h := range n.hops("/v1") {
		if h.origin == "https://example.com:443" && h.header.Get("X-Api-Key") != "KEY" {
			t.Errorf("the upgraded landing page lost its headers: %v", h.header)
		}
	}
	n.got = nil
	c, err := stac.Open(ctx, "https://example.com/down", opts...)
	if err != nil {
		t.Fatal(err)
	}
	ids(t, c.Search(ctx, stac.SearchParams{}))
	for _, h := range append(n.hops("/v1"), n.hops("/v1/search")...) {
		if l := leaked(h); h.origin == "http://example.com:80" && l != nil {
			t.Errorf("%s %s got %v", h.origin, h.path, l)
		}
	}
	if len(n.hops("/v1/search")) != 1 {
		t.Fatalf("search hops %+v", n.hops("/v1/search"))
	}
}

// The caller's client is copied, not changed, and its CheckRedirect still
// decides.
func TestRedirectGuardKeepsCallersPolicy(t *testing.T) {
	n := newHostileNet(t)
	n.api("https://example.com:443", map[string]http.HandlerFunc{"/v1/search": func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "https://example.com/v1/search", http.StatusFound)
	}})
	hc := n.client()
	calls := 0
	hc.CheckRedirect = func(*http.Request, []*http.Request) error {
		calls++
		return fmt.Errorf("no redirects, please")
	}
	check := hc.CheckRedirect
	c, err := stac.Open(context.Background(), "https://example.com/v1", stac.WithHTTPClient(hc))
	if err != nil {
		t.Fatal(err)
	}
	for _, err := range c.Search(context.Background(), stac.SearchParams{}) {
		if err == nil || !strings.Contains(err.Error(), "no redirects, please") {
			t.Fatalf("err %v, want the caller's CheckRedirect error", err)
		}
		break
	}
	if calls != 1 {
		t.Errorf("CheckRedirect called %d times, want 1", calls)
	}
	if reflect.ValueOf(hc.CheckRedirect).Pointer() != reflect.ValueOf(check).Pointer() {
		t.Error("the caller's client was changed")
	}
}
