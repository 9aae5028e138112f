package crawl_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stacq/stacq/crawl"
	"github.com/stacq/stacq/geo"
	"github.com/stacq/stacq/stac"
)

const placeholder = "https://stac.example"

// treeServer serves testdata/catalogs/tree as a static catalog on a web
// host would, rewriting the placeholder host of absolute links to itself.
// It counts the requests for each path, so tests can check that every
// document is fetched once.
type treeServer struct {
	*httptest.Server
	mu       sync.Mutex
	requests map[string]int
	// block, when it returns true for a path, holds that request until the
	// client gives up or the test ends.
	block   func(path string) bool
	release chan struct{}
}

func newTreeServer(t *testing.T) *treeServer {
	t.Helper()
	ts := &treeServer{requests: map[string]int{}, release: make(chan struct{})}
	root := filepath.Join("..", "testdata", "catalogs", "tree")
	ts.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ts.mu.Lock()
		ts.requests[r.URL.Path]++
		block := ts.block
		ts.mu.Unlock()
		if block != nil && block(r.URL.Path) {
			select {
			case <-r.Context().Done():
			case <-ts.release:
			}
			return
		}
		body, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(strings.TrimPrefix(r.URL.Path, "/"))))
		if errors.Is(err, fs.ErrNotExist) {
			http.Error(w, `{"code":"NotFound","description":"no such file"}`, http.StatusNotFound)
			return
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(bytes.ReplaceAll(body, []byte(placeholder), []byte(ts.URL)))
	}))
	t.Cleanup(func() {
		close(ts.release)
		ts.Close()
	})
	return ts
}

// client returns an HTTP client that sends requests for the placeholder
// host to the server, for crawls of the tree from disk.
func (ts *treeServer) client() *http.Client {
	target, _ := url.Parse(ts.URL)
	return &http.Client{Transport: rewriteHost{target: target, next: ts.Client().Transport}}
}

type rewriteHost struct {
	target *url.URL
	next   http.RoundTripper
}

func (rt rewriteHost) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Host == "stac.example" {
		req = req.Clone(req.Context())
		req.URL.Scheme, req.URL.Host = rt.target.Scheme, rt.target.Host
	}
	return rt.next.RoundTrip(req)
}

// treeDir is the tree's root directory, absolute.
func treeDir(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "testdata", "catalogs", "tree"))
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// crawled is what a crawl yielded, in comparable form.
type crawled struct {
	resources map[string]crawl.Resource // by "kind id"
	ids       []string                  // "kind id", sorted
	errs      []*crawl.ResourceError
	final     error // an error that is not a *ResourceError
}

func collect(t *testing.T, seq func(func(crawl.Resource, error) bool)) crawled {
	t.Helper()
	c := crawled{resources: map[string]crawl.Resource{}}
	for r, err := range seq {
		if err != nil {
			var re *crawl.ResourceError
			if errors.As(err, &re) {
				c.errs = append(c.errs, re)
				continue
			}
			if c.final != nil {
				t.Errorf("second crawl error %v after %v", err, c.final)
			}
			c.final = err
			continue
		}
		key := r.Kind.String() + " " + r.ID
		if prev, dup := c.resources[key]; dup {
			t.Errorf("%s yielded twice: %s and %s", key, prev.URL, r.URL)
		}
		c.resources[key] = r
		c.ids = append(c.ids, key)
	}
	slices.Sort(c.ids)
	return c
}

var treeIDs = []string{
	"catalog remote", "catalog sub", "catalog tree-root",
	"collection landsat-8-l1", "collection nested-demo", "collection remote-demo",
	"item LC80140332018166LGN00", "item LC80150322018141LGN00", "item LC80150332018189LGN00",
	"item LC80300332018166LGN00", "item loose-1", "item n1", "item n2", "item n3", "item r1", "item r2",
}

// treeErrors are the broken links of the tree: the end of the failing URL
// and the kind reported.
var treeErrors = []string{
	"catalog.json resource", // missing/catalog.json, a child link
	"items/bad.json item",
	"items/n4-missing.json item",
}

func errorKeys(errs []*crawl.ResourceError) []string {
	var keys []string
	for _, e := range errs {
		keys = append(keys, fmt.Sprintf("%s %s", lastTwo(e.URL), e.Kind))
	}
	slices.Sort(keys)
	return keys
}

// lastTwo returns the last two segments of a URL or path, with slashes.
func lastTwo(s string) string {
	s = filepath.ToSlash(s)
	parts := strings.Split(s, "/")
	if len(parts) < 2 {
		return s
	}
	if parts[len(parts)-2] == "missing" {
		return "catalog.json"
	}
	return strings.Join(parts[len(parts)-2:], "/")
}

func TestStaticTree(t *testing.T) {
	ts := newTreeServer(t)
	dir := treeDir(t)
	tests := []struct {
		name, root string
		// prefix of every local resource's URL
		prefix string
	}{
		{"path", dir, dir},
		{"catalog.json path", filepath.Join(dir, "catalog.json"), dir},
		{"file URL", "file://" + filepath.ToSlash(filepath.Join(dir, "catalog.json")), dir},
		{"HTTP", ts.URL + "/catalog.json", ts.URL},
		{"HTTP static mode", ts.URL + "/./sub/../catalog.json#frag", ts.URL},
	}
	for _, tt := range tests {
		for _, workers := range []int{1, 4, 16} {
			t.Run(fmt.Sprintf("%s/%d workers", tt.name, workers), func(t *testing.T) {
				ts.mu.Lock()
				clear(ts.requests)
				ts.mu.Unlock()
				mode := crawl.ModeStatic
				c := crawl.New(crawl.Options{Concurrency: workers, HTTPClient: ts.client(), Mode: mode})
				got := collect(t, c.Crawl(context.Background(), tt.root))
				if got.final != nil {
					t.Fatalf("crawl failed: %v", got.final)
				}
				if !slices.Equal(got.ids, treeIDs) {
					t.Errorf("resources:\n got %q\nwant %q", got.ids, treeIDs)
				}
				if keys := errorKeys(got.errs); !slices.Equal(keys, treeErrors) {
					t.Errorf("errors:\n got %q\nwant %q", keys, treeErrors)
				}
				want := crawl.Stats{Catalogs: 3, Collections: 3, Items: 10, Errors: 3}
				if st := c.Stats(); st != want {
					t.Errorf("Stats() = %+v, want %+v", st, want)
				}
				ts.mu.Lock()
				for p, n := range ts.requests {
					if n != 1 {
						t.Errorf("%s fetched %d times", p, n)
					}
				}
				ts.mu.Unlock()

				// Local documents are named by path, remote ones by URL;
				// parents are the documents that linked to them.
				for key, wantURL := range map[string]string{
					"catalog tree-root": tt.prefix + "/catalog.json",
					"item n2":           tt.prefix + "/sub/nested/items/n2.json",
					"item r2":           ts.URL + "/remote/coll/r2.json",
				} {
					if got := filepath.ToSlash(got.resources[key].URL); got != filepath.ToSlash(wantURL) {
						t.Errorf("%s: URL %q, want %q", key, got, wantURL)
					}
				}
				if p := got.resources["item n2"].Parent; filepath.ToSlash(p) != filepath.ToSlash(tt.prefix+"/sub/nested/collection.json") {
					t.Errorf("item n2: parent %q", p)
				}
				if p := got.resources["catalog tree-root"].Parent; p != "" {
					t.Errorf("root: parent %q, want none", p)
				}
				for _, e := range got.errs {
					if e.Parent == "" {
						t.Errorf("%v: no parent", e)
					}
				}
			})
		}
	}
}

// The broken links of the tree fail with errors callers can branch on.
func TestStaticErrorsAreTyped(t *testing.T) {
	ts := newTreeServer(t)
	got := collect(t, crawl.Crawl(context.Background(), ts.URL+"/catalog.json", crawl.Options{Mode: crawl.ModeStatic}))
	n404 := 0
	for _, e := range got.errs {
		var httpErr *stac.HTTPError
		if errors.Is(e, stac.ErrNotFound) && errors.As(e, &httpErr) && httpErr.StatusCode == http.StatusNotFound {
			n404++
		}
		if !strings.Contains(e.Error(), e.Parent) {
			t.Errorf("error %q does not name the linking document", e)
		}
	}
	if n404 != 2 {
		t.Errorf("%d errors are 404s, want 2: %v", n404, got.errs)
	}

	got = collect(t, crawl.Crawl(context.Background(), treeDir(t), crawl.Options{HTTPClient: ts.client()}))
	nNotExist := 0
	for _, e := range got.errs {
		if errors.Is(e, fs.ErrNotExist) {
			nNotExist++
		}
	}
	if nNotExist != 2 {
		t.Errorf("%d errors are fs.ErrNotExist, want 2: %v", nNotExist, got.errs)
	}
}

func TestStaticFilters(t *testing.T) {
	ts := newTreeServer(t)
	items := func(ids ...string) []string {
		var out []string
		for _, id := range ids {
			out = append(out, "item "+id)
		}
		return out
	}
	landsat := items("LC80140332018166LGN00", "LC80150322018141LGN00", "LC80150332018189LGN00", "LC80300332018166LGN00")
	tests := []struct {
		name  string
		opts  crawl.Options
		colls []string
		items []string
	}{
		{
			name:  "include glob",
			opts:  crawl.Options{Include: []string{"*-demo"}},
			colls: []string{"nested-demo", "remote-demo"},
			items: items("n1", "n2", "n3", "r1", "r2"),
		},
		{
			name:  "include exact and exclude glob",
			opts:  crawl.Options{Include: []string{"landsat-8-l1", "re*"}, Exclude: []string{"remote-*"}},
			colls: []string{"landsat-8-l1"},
			items: landsat,
		},
		{
			// Items outside any collection are kept when nothing is
			// included explicitly.
			name:  "exclude only",
			opts:  crawl.Options{Exclude: []string{"landsat-?-l1", "remote-demo"}},
			colls: []string{"nested-demo"},
			items: items("loose-1", "n1", "n2", "n3"),
		},
		{
			name:  "bbox",
			opts:  crawl.Options{BBox: []float64{-77, 37, -70, 40}},
			colls: []string{"landsat-8-l1", "nested-demo", "remote-demo"},
			items: items("LC80140332018166LGN00", "LC80150322018141LGN00", "LC80150332018189LGN00"),
		},
		{
			name:  "bbox across the antimeridian",
			opts:  crawl.Options{BBox: []float64{175, -5, -175, 5}},
			colls: []string{"landsat-8-l1", "nested-demo", "remote-demo"},
			items: items("r1", "r2"),
		},
		{
			name:  "bbox touching an edge",
			opts:  crawl.Options{BBox: []float64{10, 10, 10, 10}},
			colls: []string{"landsat-8-l1", "nested-demo", "remote-demo"},
			items: items("n1", "n2"),
		},
		{
			name:  "datetime interval",
			opts:  crawl.Options{Datetime: dt("2018-06-01T00:00:00Z/2018-06-30T23:59:59Z")},
			colls: []string{"landsat-8-l1", "nested-demo", "remote-demo"},
			items: items("LC80140332018166LGN00", "LC80300332018166LGN00"),
		},
		{
			name:  "datetime open start",
			opts:  crawl.Options{Datetime: dt("../2020-01-01T00:00:00Z")},
			colls: []string{"landsat-8-l1", "nested-demo", "remote-demo"},
			items: append(slices.Clone(landsat), "item loose-1"),
		},
		{
			name:  "datetime instant and bbox",
			opts:  crawl.Options{Datetime: dt("2021-06-01T10:00:00Z"), BBox: []float64{0, 0, 30, 30}},
			colls: []string{"landsat-8-l1", "nested-demo", "remote-demo"},
			items: items("n2"),
		},
		{
			name:  "datetime year",
			opts:  crawl.Options{Datetime: dt("2022")},
			colls: []string{"landsat-8-l1", "nested-demo", "remote-demo"},
			items: items("r1", "r2"),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.HTTPClient = ts.client()
			got := collect(t, crawl.Crawl(context.Background(), treeDir(t), tt.opts))
			if got.final != nil {
				t.Fatal(got.final)
			}
			var colls, its []string
			for _, id := range got.ids {
				if c, ok := strings.CutPrefix(id, "collection "); ok {
					colls = append(colls, c)
				}
				if strings.HasPrefix(id, "item ") {
					its = append(its, id)
				}
			}
			slices.Sort(tt.items)
			if !slices.Equal(colls, tt.colls) {
				t.Errorf("collections %q, want %q", colls, tt.colls)
			}
			if !slices.Equal(its, tt.items) {
				t.Errorf("items %q, want %q", its, tt.items)
			}
		})
	}
}

func TestStaticLimits(t *testing.T) {
	ts := newTreeServer(t)
	perCollection := map[string]int{"landsat-8-l1": 4, "nested-demo": 3, "remote-demo": 2, "": 1}
	for _, perColl := range []int{0, 1, 2, 3} {
		for _, total := range []int{0, 1, 3, 7, 10, 50} {
			t.Run(fmt.Sprintf("per collection %d total %d", perColl, total), func(t *testing.T) {
				var mu sync.Mutex
				inColl := map[string]int{}
				c := crawl.New(crawl.Options{
					MaxItemsPerCollection: perColl, MaxItems: total, Concurrency: 8,
					HTTPClient: ts.client(),
				})
				for r, err := range c.Crawl(context.Background(), treeDir(t)) {
					if err != nil {
						continue
					}
					if r.Kind == crawl.KindItem {
						mu.Lock()
						inColl[r.CollectionID]++
						mu.Unlock()
					}
				}
				want := 0
				for coll, n := range perCollection {
					if perColl > 0 && coll != "" { // loose items are in no collection
						n = min(n, perColl)
					}
					if perColl > 0 && inColl[coll] > perColl && coll != "" {
						t.Errorf("%d items of %s, limit %d", inColl[coll], coll, perColl)
					}
					want += n
				}
				if total > 0 {
					want = min(want, total)
				}
				if got := c.Stats().Items; got != want {
					t.Errorf("%d items, want %d (%v)", got, want, inColl)
				}
			})
		}
	}
}

func TestStaticVisit(t *testing.T) {
	ts := newTreeServer(t)
	hookErr := errors.New("rejected by hook")
	var mu sync.Mutex
	visited := map[string]int{}
	c := crawl.New(crawl.Options{
		HTTPClient: ts.client(),
		Visit: func(ctx context.Context, r crawl.Resource) error {
			mu.Lock()
			visited[r.ID]++
			mu.Unlock()
			switch r.ID {
			case "sub":
				return crawl.Skip // prunes sub, nested-demo and their items
			case "r2":
				return hookErr
			}
			return nil
		},
	})
	got := collect(t, c.Crawl(context.Background(), treeDir(t)))
	want := []string{
		"catalog remote", "catalog tree-root",
		"collection landsat-8-l1", "collection remote-demo",
		"item LC80140332018166LGN00", "item LC80150322018141LGN00", "item LC80150332018189LGN00",
		"item LC80300332018166LGN00", "item r1",
	}
	if !slices.Equal(got.ids, want) {
		t.Errorf("resources:\n got %q\nwant %q", got.ids, want)
	}
	var hookErrs int
	for _, e := range got.errs {
		if errors.Is(e, hookErr) {
			hookErrs++
			if e.Kind != crawl.KindItem || !strings.HasSuffix(e.URL, "/remote/coll/r2.json") {
				t.Errorf("hook error for %s %s", e.Kind, e.URL)
			}
		}
	}
	if hookErrs != 1 {
		t.Errorf("%d hook errors, want 1: %v", hookErrs, got.errs)
	}
	for id, n := range visited {
		if n != 1 {
			t.Errorf("%s visited %d times", id, n)
		}
	}
	if visited["n1"] != 0 {
		t.Error("an item below a skipped catalog was visited")
	}
}

func TestBadOptions(t *testing.T) {
	for _, opts := range []crawl.Options{
		{Include: []string{"[a-"}},
		{Exclude: []string{"ok", "\\"}},
		{BBox: []float64{1, 2, 3}},
		{Datetime: geo.Interval{Start: time.Unix(10, 0), End: time.Unix(5, 0)}},
		{MaxItems: -1},
	} {
		got := collect(t, crawl.Crawl(context.Background(), treeDir(t), opts))
		if got.final == nil || len(got.ids) > 0 {
			t.Errorf("%+v: want only an error, got %q and %v", opts, got.ids, got.final)
		}
	}
	for _, root := range []string{"ftp://example.com/catalog.json", filepath.Join(t.TempDir(), "nothing-here")} {
		got := collect(t, crawl.Crawl(context.Background(), root, crawl.Options{}))
		if got.final == nil && len(got.errs) != 1 {
			t.Errorf("%s: want one error, got %v %v", root, got.final, got.errs)
		}
		if len(got.ids) > 0 {
			t.Errorf("%s: yielded %q", root, got.ids)
		}
	}
}

// crawlGoroutines returns the stacks of goroutines still running crawl
// code.
func crawlGoroutines() string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "stacq/crawl.(*run)") {
			out = append(out, g)
		}
	}
	return strings.Join(out, "\n\n")
}

// Breaking out of the loop stops every worker before the loop returns.
func TestBreakStopsWorkers(t *testing.T) {
	ts := newTreeServer(t)
	for _, after := range []int{1, 2, 5, 10} {
		n := 0
		for _, err := range crawl.Crawl(context.Background(), ts.URL+"/catalog.json", crawl.Options{Concurrency: 8, Mode: crawl.ModeStatic}) {
			if err != nil {
				continue
			}
			n++
			if n == after {
				break
			}
		}
		if n != after {
			t.Errorf("got %d resources, want %d", n, after)
		}
		if g := crawlGoroutines(); g != "" {
			t.Fatalf("after break at %d, crawl goroutines still running:\n%s", after, g)
		}
	}
}

// Cancelling the context while requests hang ends the crawl promptly, with
// the context's error last and no goroutine left behind.
func TestCancelWhileBlocked(t *testing.T) {
	ts := newTreeServer(t)
	ts.block = func(p string) bool { return strings.Contains(p, "/sub/") || strings.HasPrefix(p, "/landsat") }
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var elapsed time.Duration
	var start time.Time
	got := collect(t, func(yield func(crawl.Resource, error) bool) {
		for r, err := range crawl.Crawl(ctx, ts.URL+"/catalog.json", crawl.Options{Concurrency: 4, Mode: crawl.ModeStatic}) {
			if r.Kind == crawl.KindCatalog && r.ID == "tree-root" {
				// Let the workers get stuck on the blocking documents.
				time.AfterFunc(20*time.Millisecond, func() {
					start = time.Now()
					cancel()
				})
			}
			if !yield(r, err) {
				return
			}
		}
		elapsed = time.Since(start)
	})
	if !errors.Is(got.final, context.Canceled) {
		t.Errorf("final error %v, want context.Canceled", got.final)
	}
	if elapsed > time.Second {
		t.Errorf("crawl took %v to stop after cancel", elapsed)
	}
	for _, e := range got.errs {
		if errors.Is(e, context.Canceled) || strings.Contains(e.URL, "/sub/") || strings.Contains(e.URL, "/landsat") {
			t.Errorf("error caused by the cancel reported: %v", e)
		}
	}
	if slices.Contains(got.ids, "collection landsat-8-l1") {
		t.Error("a blocked document was yielded")
	}
	if g := crawlGoroutines(); g != "" {
		t.Fatalf("crawl goroutines still running:\n%s", g)
	}
}

// A remote catalog must not make the crawler read local files.
func TestRemoteCatalogCannotLinkToFiles(t *testing.T) {
	secret := filepath.Join(t.TempDir(), "catalog.json")
	if err := os.WriteFile(secret, []byte(`{"type":"Catalog","id":"local-secret","description":"","links":[]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/catalog.json" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprintf(w, `{"type":"Catalog","id":"evil","description":"","links":[
			{"rel":"child","href":"file://%s"},{"rel":"child","href":"%s"}]}`,
			filepath.ToSlash(secret), filepath.ToSlash(secret))
	}))
	defer srv.Close()
	got := collect(t, crawl.Crawl(context.Background(), srv.URL+"/catalog.json", crawl.Options{Mode: crawl.ModeStatic}))
	if _, ok := got.resources["catalog local-secret"]; ok {
		t.Fatal("a remote catalog led the crawler to a local file")
	}
	// file:// is refused; the bare path is a path on the server, which
	// answers 404.
	if keys := fmt.Sprint(got.errs); len(got.errs) != 2 || !strings.Contains(keys, `unsupported scheme "file"`) || !strings.Contains(keys, "404") {
		t.Errorf("errors %v", got.errs)
	}
}

// A redirected document is named by where it was read from: its relative
// links resolve from there, and another link to that place is a duplicate.
func TestStaticRedirects(t *testing.T) {
	docs := map[string]string{
		"/catalog.json": `{"type":"Catalog","id":"root","description":"","links":[
			{"rel":"child","href":"./moved/catalog.json"},{"rel":"child","href":"./new/place/catalog.json"}]}`,
		"/new/place/catalog.json": `{"type":"Catalog","id":"moved","description":"","links":[{"rel":"item","href":"./item.json"}]}`,
		"/new/place/item.json":    `{"type":"Feature","id":"it","geometry":null,"properties":{"datetime":null}}`,
	}
	var mu sync.Mutex
	hits := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits[r.URL.Path]++
		mu.Unlock()
		if r.URL.Path == "/moved/catalog.json" {
			http.Redirect(w, r, "/new/place/catalog.json", http.StatusMovedPermanently)
			return
		}
		doc, ok := docs[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		fmt.Fprint(w, doc)
	}))
	defer srv.Close()
	for range 5 { // the two links race each other
		clear(hits)
		got := collect(t, crawl.Crawl(context.Background(), srv.URL+"/catalog.json", crawl.Options{Concurrency: 2, Mode: crawl.ModeStatic}))
		if want := []string{"catalog moved", "catalog root", "item it"}; !slices.Equal(got.ids, want) || len(got.errs) > 0 {
			t.Fatalf("resources %q, errors %v", got.ids, got.errs)
		}
		if u := got.resources["catalog moved"].URL; u != srv.URL+"/new/place/catalog.json" {
			t.Errorf("redirected catalog named %q", u)
		}
		if hits["/new/place/item.json"] != 1 {
			t.Errorf("requests: %v", hits)
		}
	}
}
