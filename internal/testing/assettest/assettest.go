// Package assettest runs local asset hosts for the download tests, the CLI
// scripts and the download benchmark: files served from memory (or
// generated, for sizes of gigabytes) with ETags, Last-Modified and
// ranges, behind the access schemes providers use — an API's bearer
// token, SAS tokens from a SAS API, presigned URLs that expire — and the
// faults of real networks: transfers cut halfway, servers that ignore
// Range, latency, a slow body. Every request is logged with the headers
// that matter (Authorization, Range, If-Range). A Server can also be a
// one-page STAC API whose items point at its files (SetItems), and S3 is
// an in-process S3 with private, requester-pays and public buckets.
package assettest

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Options configure a Server.
type Options struct {
	// TLS serves https (clients trust Certificate()).
	TLS bool
	// Bearer, when set, is the token every file request must carry
	// ("Authorization: Bearer TOKEN"); others get 401.
	Bearer string
	// SAS makes files need a SAS token from the server's own SAS API
	// (SASURL; GET SASURL/{collection}), appended to the URL as the
	// Planetary Computer's are. SASLifetime is the tokens' msft:expiry
	// (default 1h).
	SAS         bool
	SASLifetime time.Duration
	// Presigned makes files need a URL from Presign.
	Presigned bool
	// CutFirst cuts the first N GETs of each file halfway through its
	// body (the connection is dropped after half the bytes asked for).
	CutFirst int
	// IgnoreRange answers every GET with the whole file (200).
	IgnoreRange bool
	// Latency is added before each answer; SlowBody after each 32 KiB of
	// a body.
	Latency, SlowBody time.Duration
}

// File is a file the server holds.
type File struct {
	// Data is the content; when nil, Size bytes of a fixed pattern are
	// generated as they are read (no memory held).
	Data []byte
	Size int64
	// NoValidator serves it without ETag or Last-Modified.
	NoValidator bool
	// Version is part of the ETag: change it to make the file another.
	Version string
}

// Request is one request the server saw.
type Request struct {
	Method, Path, RawQuery        string
	Authorization, Range, IfRange string
}

// Server is a running asset host.
type Server struct {
	*httptest.Server
	opts Options
	key  []byte // signs SAS tokens and presigned URLs

	mu        sync.Mutex
	files     map[string]*File
	redirects map[string]string
	gets      map[string]int // GETs per path, for CutFirst
	log       []Request
	revoked   time.Time // SAS tokens issued before are refused
	items     []string  // the features of the API at /v1, as JSON

	// Requests counts file requests; TokenRequests counts SAS API ones.
	Requests, TokenRequests atomic.Int64
	// MaxInFlight is the most file requests the server answered at once.
	MaxInFlight atomic.Int64
	inFlight    atomic.Int64
	// Now is the server's clock, for expiry; tests may move it.
	Now func() time.Time
}

// modTime is the Last-Modified of every file.
var modTime = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

// New starts a Server; Close stops it.
func New(opts Options) *Server {
	s := &Server{opts: opts, key: []byte("assettest-signing-key"), files: map[string]*File{},
		redirects: map[string]string{}, gets: map[string]int{}, Now: time.Now}
	if s.opts.SASLifetime == 0 {
		s.opts.SASLifetime = time.Hour
	}
	h := http.HandlerFunc(s.serve)
	if opts.TLS {
		s.Server = httptest.NewTLSServer(h)
	} else {
		s.Server = httptest.NewServer(h)
	}
	return s
}

// Add serves f at path (which starts with /) and returns its URL.
func (s *Server) Add(path string, f File) string {
	if f.Data != nil {
		f.Size = int64(len(f.Data))
	}
	s.mu.Lock()
	s.files[path] = &f
	s.mu.Unlock()
	return s.URL + path
}

// Redirect answers path with a 302 to location and returns its URL.
func (s *Server) Redirect(path, location string) string {
	s.mu.Lock()
	s.redirects[path] = location
	s.mu.Unlock()
	return s.URL + path
}

// SetItems makes the server a STAC API at /v1 (landing page,
// conformance, GET and POST /v1/search) whose search answers with these
// features (JSON objects) in one page, behind the same Bearer as the
// files. It returns the API's URL.
func (s *Server) SetItems(features ...string) string {
	s.mu.Lock()
	s.items = features
	s.mu.Unlock()
	return s.URL + "/v1"
}

// serveAPI answers the STAC API paths; false for other paths.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) bool {
	s.mu.Lock()
	items := s.items
	s.mu.Unlock()
	if items == nil {
		return false
	}
	w.Header().Set("Content-Type", "application/json")
	switch r.URL.Path {
	case "/v1", "/v1/":
		fmt.Fprintf(w, `{"type":"Catalog","id":"assettest","description":"assets","stac_version":"1.0.0",`+
			`"conformsTo":["https://api.stacspec.org/v1.0.0/core","https://api.stacspec.org/v1.0.0/item-search"],`+
			`"links":[{"rel":"self","href":"%[1]s/v1"},{"rel":"search","href":"%[1]s/v1/search","method":"GET","type":"application/geo+json"},`+
			`{"rel":"search","href":"%[1]s/v1/search","method":"POST","type":"application/geo+json"},{"rel":"conformance","href":"%[1]s/v1/conformance"}]}`, s.URL)
	case "/v1/conformance":
		fmt.Fprint(w, `{"conformsTo":["https://api.stacspec.org/v1.0.0/core","https://api.stacspec.org/v1.0.0/item-search"]}`)
	case "/v1/search":
		w.Header().Set("Content-Type", "application/geo+json")
		fmt.Fprintf(w, `{"type":"FeatureCollection","features":[%s],"links":[]}`, strings.Join(items, ","))
	default:
		return false
	}
	return true
}

// Log returns the requests seen so far; Reset forgets them.
func (s *Server) Log() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.log...)
}

// Reset forgets the logged requests and the cut counts.
func (s *Server) Reset() {
	s.mu.Lock()
	s.log, s.gets = nil, map[string]int{}
	s.mu.Unlock()
	s.Requests.Store(0)
	s.TokenRequests.Store(0)
	s.MaxInFlight.Store(0)
}

// SASURL is the base of the server's SAS API, for PC_SDK_SAS_URL.
func (s *Server) SASURL() string { return s.URL + "/api/sas/v1/token" }

// RevokeSAS makes every SAS token issued so far refused (403), as a key
// rotation does before the tokens' stated expiry.
func (s *Server) RevokeSAS() {
	s.mu.Lock()
	s.revoked = s.Now()
	s.mu.Unlock()
}

// Presign returns a URL of path that grants access until ttl from the
// server's Now, signed in the query as S3's presigned URLs are.
func (s *Server) Presign(path string, ttl time.Duration) string {
	exp := strconv.FormatInt(s.Now().Add(ttl).Unix(), 10)
	return s.URL + path + "?X-Amz-Expires=" + exp + "&X-Amz-Signature=" + s.sign("presign", path, exp)
}

func (s *Server) sign(parts ...string) string {
	m := hmac.New(sha256.New, s.key)
	io.WriteString(m, strings.Join(parts, "\n"))
	return hex.EncodeToString(m.Sum(nil))[:32]
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/api/sas/v1/token/") {
		s.serveToken(w, r)
		return
	}
	s.Requests.Add(1)
	n := s.inFlight.Add(1)
	defer s.inFlight.Add(-1)
	for m := s.MaxInFlight.Load(); n > m && !s.MaxInFlight.CompareAndSwap(m, n); m = s.MaxInFlight.Load() {
	}
	if s.opts.Latency > 0 {
		time.Sleep(s.opts.Latency)
	}
	s.mu.Lock()
	s.log = append(s.log, Request{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery,
		Authorization: r.Header.Get("Authorization"), Range: r.Header.Get("Range"), IfRange: r.Header.Get("If-Range")})
	loc, redirect := s.redirects[r.URL.Path]
	f := s.files[r.URL.Path]
	s.mu.Unlock()

	if redirect {
		http.Redirect(w, r, loc, http.StatusFound)
		return
	}
	if s.opts.Bearer != "" && r.Header.Get("Authorization") != "Bearer "+s.opts.Bearer {
		w.Header().Set("WWW-Authenticate", "Bearer")
		http.Error(w, `{"message": "missing or wrong bearer token"}`, http.StatusUnauthorized)
		return
	}
	if s.serveAPI(w, r) {
		return
	}
	if s.opts.SAS {
		if msg := s.checkSAS(r); msg != "" {
			azureError(w, "AuthenticationFailed", msg)
			return
		}
	}
	if s.opts.Presigned {
		if msg := s.checkPresigned(r); msg != "" {
			s3Error(w, http.StatusForbidden, "AccessDenied", msg)
			return
		}
	}
	if f == nil {
		http.NotFound(w, r)
		return
	}
	if !f.NoValidator {
		w.Header().Set("ETag", `"`+s.sign("etag", r.URL.Path, strconv.FormatInt(f.Size, 10), f.Version)+`"`)
	}
	if s.opts.IgnoreRange {
		r.Header.Del("Range")
	}
	s.mu.Lock()
	s.gets[r.URL.Path]++
	cut := r.Method == http.MethodGet && s.gets[r.URL.Path] <= s.opts.CutFirst
	s.mu.Unlock()
	var out http.ResponseWriter = w
	if cut || s.opts.SlowBody > 0 {
		out = &faultWriter{ResponseWriter: w, cut: cut, slow: s.opts.SlowBody}
	}
	mod := modTime
	if f.NoValidator {
		mod = time.Time{}
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	http.ServeContent(out, r, "", mod, f.reader())
}

// faultWriter cuts a body halfway (dropping the connection) or slows it.
type faultWriter struct {
	http.ResponseWriter
	cut         bool
	slow        time.Duration
	left, total int64
	started     bool
}

// WriteHeader learns the body length to cut at half of it.
func (fw *faultWriter) WriteHeader(code int) {
	if n, err := strconv.ParseInt(fw.Header().Get("Content-Length"), 10, 64); err == nil {
		fw.total, fw.left = n, n/2
	}
	fw.started = true
	fw.ResponseWriter.WriteHeader(code)
}

// Write sends p in 32 KiB pieces, cutting or pausing as configured.
func (fw *faultWriter) Write(p []byte) (int, error) {
	if !fw.started {
		fw.WriteHeader(http.StatusOK)
	}
	written := 0
	for len(p) > 0 {
		n := min(len(p), 32<<10)
		if fw.cut && int64(n) > fw.left {
			fw.ResponseWriter.Write(p[:fw.left])
			if f, ok := fw.ResponseWriter.(http.Flusher); ok {
				f.Flush()
			}
			panic(http.ErrAbortHandler) // drop the connection mid-body
		}
		m, err := fw.ResponseWriter.Write(p[:n])
		written += m
		fw.left -= int64(m)
		if err != nil {
			return written, err
		}
		p = p[n:]
		if fw.slow > 0 {
			if f, ok := fw.ResponseWriter.(http.Flusher); ok {
				f.Flush()
			}
			time.Sleep(fw.slow)
		}
	}
	return written, nil
}

// reader returns the file's content as a ReadSeeker.
func (f *File) reader() io.ReadSeeker {
	if f.Data != nil {
		return bytes.NewReader(f.Data)
	}
	return io.NewSectionReader(pattern{}, 0, f.Size)
}

// pattern is an endless, position-dependent byte sequence: byte i is a
// function of i, so any range can be produced (and checked) alone. It
// repeats with a prime period, which no buffer size divides.
type pattern struct{}

const patternPeriod = 65521

var patternBlock = func() []byte {
	b := make([]byte, patternPeriod)
	for i := range b {
		b[i] = byte(i*31 + i>>9)
	}
	return b
}()

// ReadAt fills p with the pattern from off.
func (pattern) ReadAt(p []byte, off int64) (int, error) {
	n := 0
	for n < len(p) {
		i := (off + int64(n)) % patternPeriod
		n += copy(p[n:], patternBlock[i:])
	}
	return n, nil
}

// PatternByte is byte i of a generated file (File with Data nil).
func PatternByte(i int64) byte { return patternBlock[i%patternPeriod] }

// Pattern returns the first n bytes of a generated file.
func Pattern(n int64) []byte {
	b := make([]byte, n)
	pattern{}.ReadAt(b, 0)
	return b
}

// serveToken answers the SAS API: GET /api/sas/v1/token/{collection}.
func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	s.TokenRequests.Add(1)
	key := strings.TrimPrefix(r.URL.Path, "/api/sas/v1/token/")
	issued := s.Now()
	se := issued.Add(s.opts.SASLifetime).UTC().Format(time.RFC3339)
	st := issued.UTC().Format(time.RFC3339Nano)
	q := url.Values{"st": {st}, "se": {se}, "sp": {"rl"}, "sv": {"2021-06-08"}, "sr": {"c"}}
	q.Set("sig", s.sign("sas", st, se))
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"msft:expiry": %q, "token": %q, "collection": %q}`, se, q.Encode(), key)
}

// checkSAS returns why r's SAS token is refused, or "".
func (s *Server) checkSAS(r *http.Request) string {
	q := r.URL.Query()
	st, se, sig := q.Get("st"), q.Get("se"), q.Get("sig")
	if sig == "" {
		return "Server failed to authenticate the request: no signature (sig)."
	}
	if sig != s.sign("sas", st, se) {
		return "Signature did not match."
	}
	exp, err1 := time.Parse(time.RFC3339, se)
	start, err2 := time.Parse(time.RFC3339Nano, st)
	if err1 != nil || err2 != nil {
		return "Signature fields not well formed."
	}
	s.mu.Lock()
	revoked := s.revoked
	s.mu.Unlock()
	if !s.Now().Before(exp) || !start.After(revoked) && !revoked.IsZero() {
		return "Signature not valid in the specified time frame."
	}
	return ""
}

// checkPresigned returns why r's presigned URL is refused, or "".
func (s *Server) checkPresigned(r *http.Request) string {
	q := r.URL.Query()
	exp, sig := q.Get("X-Amz-Expires"), q.Get("X-Amz-Signature")
	if sig == "" {
		return "Request has no signature"
	}
	if sig != s.sign("presign", r.URL.Path, exp) {
		return "The request signature we calculated does not match the signature you provided."
	}
	if r.Header.Get("Authorization") != "" {
		return "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified"
	}
	n, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || !s.Now().Before(time.Unix(n, 0)) {
		return "Request has expired"
	}
	return ""
}

func azureError(w http.ResponseWriter, code, msg string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(http.StatusForbidden)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="utf-8"?><Error><Code>%s</Code><Message>%s</Message></Error>`, code, msg)
}

func s3Error(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>%s</Message></Error>`, code, msg)
}
