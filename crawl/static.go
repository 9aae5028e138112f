package crawl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/stacq/stacq/internal/redact"
	"github.com/stacq/stacq/stac"
)

// DefaultMaxDocumentSize is the default of Options.MaxDocumentSize: a
// wrong link to a huge file cannot exhaust memory.
const DefaultMaxDocumentSize = 64 << 20

// location is where a document lives: a normalised http(s) URL or, for a
// local catalog, a clean absolute path.
type location struct {
	url  *url.URL // nil for a local file
	path string
}

func (l location) local() bool { return l.url == nil }

// String is the key of the visited set and the URL of a Resource.
func (l location) String() string {
	if l.url == nil {
		return l.path
	}
	return l.url.String()
}

// parseRoot turns the root given to Crawl into a location.
func parseRoot(root string) (location, error) {
	if isURL(root) {
		u, err := url.Parse(root)
		if err != nil {
			return location{}, fmt.Errorf("crawl: root %q: %w", redact.URL(root), err)
		}
		switch u.Scheme {
		case "http", "https":
			loc, err := remote(u)
			if err != nil {
				return location{}, fmt.Errorf("crawl: root %q: %w", redact.URL(root), err)
			}
			return loc, nil
		case "file":
			return localLocation(filepath.FromSlash(u.Path))
		default:
			return location{}, fmt.Errorf("crawl: root %q: unsupported scheme %q (want http, https, file or a path)", redact.URL(root), u.Scheme)
		}
	}
	return localLocation(root)
}

// isURL reports whether s starts with a scheme. A one-letter scheme is a
// Windows drive ("C:\catalog.json"), not a URL.
func isURL(s string) bool {
	i := strings.Index(s, ":")
	if i < 2 {
		return false
	}
	for _, c := range s[:i] {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// localLocation makes p absolute; a directory stands for its catalog.json
// (or collection.json when it has no catalog).
func localLocation(p string) (location, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return location{}, fmt.Errorf("crawl: root %q: %w", p, err)
	}
	if fi, err := os.Stat(abs); err == nil && fi.IsDir() {
		for _, name := range []string{"catalog.json", "collection.json"} {
			if _, err := os.Stat(filepath.Join(abs, name)); err == nil {
				return location{path: filepath.Join(abs, name)}, nil
			}
		}
		return location{}, fmt.Errorf("crawl: root %q: directory has no catalog.json or collection.json", p)
	}
	return location{path: abs}, nil
}

// normalURL returns the form of u used as the key of the visited set:
// lower-case scheme and host, no default port, no fragment, dot segments
// removed.
func normalURL(u *url.URL) *url.URL {
	n := *u
	n.Scheme = strings.ToLower(n.Scheme)
	n.Host = strings.ToLower(n.Host)
	if p := n.Port(); (p == "80" && n.Scheme == "http") || (p == "443" && n.Scheme == "https") {
		n.Host = n.Hostname()
		if strings.Contains(n.Host, ":") { // IPv6 literal
			n.Host = "[" + n.Host + "]"
		}
	}
	n.Fragment, n.RawFragment = "", ""
	n.User = nil
	if n.Path == "" {
		n.Path = "/"
	}
	// ResolveReference removes "." and ".." segments and keeps the
	// trailing slash, unlike path.Clean.
	return n.ResolveReference(&url.URL{Path: n.Path, RawPath: n.RawPath, RawQuery: n.RawQuery})
}

// resolve resolves a link's href against the document it appears in.
// Local documents may link to local files and to http(s) URLs; documents
// read over HTTP may only link to http(s) URLs, so that a remote catalog
// cannot make the crawler read local files.
func resolve(base location, href string) (location, error) {
	ref, err := url.Parse(href)
	if err != nil {
		return location{}, fmt.Errorf("bad href: %w", err)
	}
	if base.local() {
		switch {
		case ref.Scheme == "http" || ref.Scheme == "https":
			return remote(ref)
		case ref.Scheme == "file":
			return location{path: filepath.Clean(filepath.FromSlash(ref.Path))}, nil
		case ref.Scheme != "" && len(ref.Scheme) > 1:
			return location{}, fmt.Errorf("unsupported scheme %q", ref.Scheme)
		case filepath.IsAbs(href):
			return location{path: filepath.Clean(href)}, nil
		}
		// A relative href is a URL reference: its path may be escaped.
		return location{path: filepath.Join(filepath.Dir(base.path), filepath.FromSlash(ref.Path))}, nil
	}
	u := base.url.ResolveReference(ref)
	if u.Scheme != "http" && u.Scheme != "https" {
		return location{}, fmt.Errorf("unsupported scheme %q in a remote catalog", u.Scheme)
	}
	return remote(u)
}

// remote returns the location of an http(s) URL, refusing URLs that would
// not survive a round trip through their string form (url.Parse accepts
// "//::" as a host, which no request can reach).
func remote(u *url.URL) (location, error) {
	n := normalURL(u)
	if n.Host == "" {
		return location{}, fmt.Errorf("URL %q has no host", redact.URL(n.String()))
	}
	if _, err := url.Parse(n.String()); err != nil {
		// err quotes the whole URL, credentials included: leave it out.
		return location{}, fmt.Errorf("URL %q: invalid host or port", redact.URL(n.String()))
	}
	return location{url: n}, nil
}

// fetch reads a document of at most limit bytes (counted after
// decompression; more is a *stac.TooLargeError). The returned location is
// where it was finally read from: after redirects, relative links resolve
// against it.
func fetch(ctx context.Context, hc *http.Client, loc location, limit int64) ([]byte, location, error) {
	if loc.local() {
		if err := ctx.Err(); err != nil {
			return nil, loc, err
		}
		f, err := os.Open(loc.path)
		if err != nil {
			return nil, loc, err
		}
		defer f.Close()
		body, err := readDocument(f, limit, "", loc.path)
		return body, loc, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, loc.url.String(), nil)
	if err != nil {
		return nil, loc, err
	}
	req.Header.Set("Accept", "application/json, application/geo+json;q=0.9, */*;q=0.1")
	resp, err := hc.Do(req)
	if err != nil {
		// The *url.Error would repeat the URL unredacted; the
		// ResourceError names it already.
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return nil, loc, err
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		// The same error type as the API client's, so that callers
		// test errors.Is(err, stac.ErrNotFound) whatever the source.
		return nil, loc, &stac.HTTPError{Method: http.MethodGet, URL: redact.URL(loc.String()), StatusCode: resp.StatusCode}
	}
	final := loc
	if resp.Request != nil && resp.Request.URL != nil {
		final = location{url: normalURL(resp.Request.URL)}
	}
	body, err := readDocument(resp.Body, limit, http.MethodGet, redact.URL(final.String()))
	return body, final, err
}

// readDocument reads r whole, refusing more than limit bytes.
func readDocument(r io.Reader, limit int64, method, where string) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err == nil && int64(len(body)) > limit {
		return nil, &stac.TooLargeError{Method: method, URL: where, What: "static document", Limit: limit}
	}
	return body, err
}

// decode decodes a static document into the Resource its "type" says it
// is. Documents of STAC before 1.0 have no type for catalogs and
// collections: an "extent" then marks a collection.
func decode(body []byte) (Resource, error) {
	doc := jsontext.Value(body)
	if err := doc.Compact(); err != nil {
		return Resource{}, fmt.Errorf("not a STAC document: %w", err)
	}
	var head struct {
		Type   string         `json:"type"`
		Extent jsontext.Value `json:"extent"`
	}
	if err := json.Unmarshal(doc, &head); err != nil {
		return Resource{}, fmt.Errorf("not a STAC document: %w", err)
	}
	res := Resource{JSON: doc}
	var err error
	switch {
	case head.Type == "Feature":
		res.Kind, res.Item = KindItem, new(stac.Item)
		if err = json.Unmarshal(doc, res.Item); err == nil {
			res.ID, res.CollectionID = res.Item.ID, res.Item.Collection
		}
	case head.Type == "Collection" || (head.Type == "" && len(head.Extent) > 0 && head.Extent.Kind() != 'n'):
		res.Kind, res.Collection = KindCollection, new(stac.Collection)
		if err = json.Unmarshal(doc, res.Collection); err == nil {
			res.ID = res.Collection.ID
		}
	case head.Type == "Catalog" || head.Type == "":
		res.Kind, res.Catalog = KindCatalog, new(stac.Catalog)
		if err = json.Unmarshal(doc, res.Catalog); err == nil {
			res.ID = res.Catalog.ID
		}
	default:
		return Resource{}, fmt.Errorf("not a STAC catalog, collection or item: type %q", head.Type)
	}
	return res, err
}

// links returns the links of a catalog or collection that the walk
// follows: "child" and "item".
func (r Resource) links() []*stac.Link {
	switch {
	case r.Catalog != nil:
		return r.Catalog.Links
	case r.Collection != nil:
		return r.Collection.Links
	}
	return nil
}
