// Package hostile serves the answers of hostile or broken servers, for
// tests of what a client holds in memory and prints: bodies of gigabytes
// sent in chunks without a length, gzip bombs, error bodies without end.
// Bodies are generated as they are sent, never held in memory, and stop
// when the client hangs up.
package hostile

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"

	"github.com/go-json-experiment/json"
)

// PagePrefix opens a FeatureCollection that a body of spaces then never
// closes: valid JSON so far, so a client cannot refuse it early.
const PagePrefix = `{"type":"FeatureCollection","features":[`

// Body is a hostile answer. Sent counts the bytes written to the wire
// (compressed, for a gzip bomb) over all requests.
type Body struct {
	Status  int // default 200
	Prefix  string
	Size    int64 // bytes of the body, prefix included, once decompressed
	Gzip    bool  // send it gzip-compressed, with Content-Encoding: gzip
	Sent    atomic.Int64
	Served  atomic.Int64 // requests answered
	GzipAsk atomic.Int64 // requests that accepted gzip
}

// ServeHTTP writes the body, in chunks and without a Content-Length,
// until Size bytes or the client hangs up.
func (b *Body) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b.Served.Add(1)
	if bytes.Contains([]byte(r.Header.Get("Accept-Encoding")), []byte("gzip")) {
		b.GzipAsk.Add(1)
	}
	w.Header().Set("Content-Type", "application/geo+json")
	if b.Gzip {
		w.Header().Set("Content-Encoding", "gzip")
	}
	status := b.Status
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	cw := &countingWriter{w: w, n: &b.Sent}
	if b.Gzip {
		b.serveGzip(cw)
		return
	}
	if _, err := io.WriteString(cw, b.Prefix); err != nil {
		return
	}
	chunk := bytes.Repeat([]byte(" "), 256<<10)
	for left := b.Size - int64(len(b.Prefix)); left > 0; left -= int64(len(chunk)) {
		if _, err := cw.Write(chunk[:min(left, int64(len(chunk)))]); err != nil {
			return
		}
	}
}

// serveGzip writes a gzip stream of many members: the prefix, then one
// precompressed member of 1 MiB of spaces (about 1 KiB) repeated, so a
// gigabyte once inflated is a megabyte on the wire and costs the server
// nothing to make.
func (b *Body) serveGzip(w io.Writer) {
	if _, err := w.Write(gzipped([]byte(b.Prefix))); err != nil {
		return
	}
	for left := b.Size - int64(len(b.Prefix)); left > 0; left -= 1 << 20 {
		if _, err := w.Write(spaceMember()); err != nil {
			return
		}
	}
}

var spaceMember = sync.OnceValue(func() []byte { return gzipped(bytes.Repeat([]byte(" "), 1<<20)) })

func gzipped(p []byte) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zw.Write(p)
	zw.Close()
	return buf.Bytes()
}

// GzipWireSize is the compressed size of a gzip bomb of size bytes.
func GzipWireSize(prefix string, size int64) int64 {
	members := (size - int64(len(prefix)) + 1<<20 - 1) >> 20
	return int64(len(gzipped([]byte(prefix)))) + members*int64(len(spaceMember()))
}

type countingWriter struct {
	w io.Writer
	n *atomic.Int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n.Add(int64(n))
	return n, err
}

// NewAPI starts a STAC API whose landing page is at /v1 and whose
// /v1/search answers search; Close stops it.
func NewAPI(search http.Handler) *httptest.Server {
	mux := http.NewServeMux()
	var s *httptest.Server
	mux.HandleFunc("/v1", func(w http.ResponseWriter, r *http.Request) { Landing(s.URL+"/v1")(w, r) })
	mux.Handle("/v1/search", search)
	s = httptest.NewUnstartedServer(mux)
	s.Start()
	return s
}

// Landing answers a STAC API landing page at root whose search link (GET
// and POST) is root+"/search".
func Landing(root string) http.HandlerFunc {
	doc, err := json.Marshal(map[string]any{
		"type": "Catalog", "stac_version": "1.0.0", "id": "hostile", "description": "hostile",
		"conformsTo": []string{"https://api.stacspec.org/v1.0.0/core", "https://api.stacspec.org/v1.0.0/item-search", "https://api.stacspec.org/v1.0.0/ogcapi-features"},
		"links": []map[string]string{
			{"rel": "search", "href": root + "/search", "method": "GET"},
			{"rel": "search", "href": root + "/search", "method": "POST"},
			{"rel": "data", "href": root + "/collections"},
		},
	})
	if err != nil {
		panic(err)
	}
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(doc)
	}
}
