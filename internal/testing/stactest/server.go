// Package stactest runs a local STAC API for tests, the demo and the
// benchmarks: a landing page, conformance, collections, items and item
// search with GET and POST paging as real servers do it (token links, POST
// body links with and without merge, the Sentinel Hub context.next style),
// an optional OAuth2 client-credentials token endpoint, a per-request
// latency, and counters of what was asked.
package stactest

import (
	"cmp"
	"compress/gzip"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Paging styles of the POST /search next link.
const (
	PostMerge = "merge" // next link body {"token": ...} with "merge": true (Planetary Computer)
	PostFull  = "full"  // next link body is the whole search with "next" (Earth Search v1)
)

// Options configure a Server. The zero value serves 100 items in one
// collection, without auth.
type Options struct {
	Items       int      // number of items (default 100)
	Collections []string // collection ids (default ["sentinel-2-l2a"])
	DefaultPage int      // page size when the request has no limit (default 10)
	MaxPage     int      // the server caps limit at this (default 10000)
	PostPaging  string   // PostMerge (default) or PostFull
	NoPost      bool     // advertise and accept only GET /search
	// SentinelHub serves the Sentinel Hub Catalog API flavour: no next
	// links anywhere, context.next paging (sent back as "next" in the POST
	// body, or as the "next" query parameter of GET /search and of
	// /collections/{id}/items), limit capped at 100, and a landing page
	// whose search link has no method.
	SentinelHub bool
	// ConformsTo, when set, replaces the conformance classes advertised.
	ConformsTo []string
	// NoConformance serves a landing page without conformsTo and without a
	// conformance link, and answers /conformance with 404, as STAC API 0.9
	// and early 1.0.0-beta servers do. Version is the landing page's
	// stac_version (default "1.0.0").
	NoConformance bool
	Version       string
	// Loop makes the next link of the third page of a search lead back to
	// the first page (A→B→C→A).
	Loop bool
	// RepeatAtBoundary starts every page after the first with the last
	// item of the page before, as some servers do.
	RepeatAtBoundary bool
	// RootPath is the landing page's path; default "/v1" (Sentinel Hub
	// flavour: "/api/v1/catalog/1.0.0"). Tests of provider presets set the
	// provider's own path, e.g. "/platform/v1/stac".
	RootPath string
	Latency  time.Duration // added to every API request
	Auth     *Auth         // require OAuth2 client credentials
	// TLS serves HTTPS with HTTP/2 offered (ALPN h2), as public APIs
	// behind CDNs do; clients trust Certificate().
	TLS bool
	// Gzip compresses responses for clients that accept gzip.
	Gzip bool
	// Intercept, when set, sees every request first; returning true means it
	// answered the request itself (fault injection). n counts requests from 1.
	Intercept func(w http.ResponseWriter, r *http.Request, n int64) bool
}

// Auth configures the token endpoint at /oauth/token.
type Auth struct {
	ClientID, ClientSecret string
	Lifetime               time.Duration // default 1h
	// Style is how the client must authenticate: "basic", "body" or "" for both.
	Style string
}

// Server is a running local STAC API.
type Server struct {
	*httptest.Server
	opts  Options
	items []*item
	// Requests counts API requests; Searches counts /search and /items
	// pages; TokenRequests counts token endpoint requests.
	Requests, Searches, TokenRequests atomic.Int64
	// HTTP2 counts requests that came over HTTP/2, Gzipped responses sent
	// compressed, Conns the connections clients opened.
	HTTP2, Gzipped, Conns atomic.Int64

	base   string // the server's URL, known before it starts
	mu     sync.Mutex
	tokens map[string]time.Time // valid access tokens and their expiry

	matches matchCache
}

// New starts a Server; Close stops it.
func New(opts Options) *Server {
	s := &Server{opts: opts, tokens: map[string]time.Time{}}
	if s.opts.Items == 0 {
		s.opts.Items = 100
	}
	if len(s.opts.Collections) == 0 {
		s.opts.Collections = []string{"sentinel-2-l2a"}
	}
	if s.opts.DefaultPage == 0 {
		s.opts.DefaultPage = 10
	}
	if s.opts.MaxPage == 0 {
		s.opts.MaxPage = 10000
	}
	if s.opts.SentinelHub {
		s.opts.MaxPage = 100
	}
	if s.opts.PostPaging == "" {
		s.opts.PostPaging = PostMerge
	}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	s.Config.ConnState = func(_ net.Conn, state http.ConnState) {
		if state == http.StateNew {
			s.Conns.Add(1)
		}
	}
	// The items carry absolute links, so they are made from the listener's
	// address before the server starts answering.
	scheme := "http://"
	if opts.TLS {
		scheme = "https://"
	}
	s.base = scheme + s.Listener.Addr().String()
	s.items = makeItems(s.opts.Items, s.opts.Collections, s.RootURL())
	if opts.TLS {
		s.EnableHTTP2 = true
		s.StartTLS()
	} else {
		s.Start()
	}
	return s
}

// RootURL is the landing page URL.
func (s *Server) RootURL() string {
	if s.opts.RootPath != "" {
		return s.base + s.opts.RootPath
	}
	if s.opts.SentinelHub {
		return s.base + "/api/v1/catalog/1.0.0"
	}
	return s.base + "/v1"
}

// TokenURL is the OAuth2 token endpoint.
func (s *Server) TokenURL() string { return s.base + "/oauth/token" }

// RevokeTokens invalidates every access token issued so far, as a provider
// does when it rotates keys: the next API request gets 401.
func (s *Server) RevokeTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.tokens)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	n := s.Requests.Add(1)
	if r.ProtoMajor == 2 {
		s.HTTP2.Add(1)
	}
	if s.opts.Intercept != nil && s.opts.Intercept(w, r, n) {
		return
	}
	if s.opts.Gzip && acceptsGzip(r) {
		s.Gzipped.Add(1)
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Add("Vary", "Accept-Encoding")
		gz := gzip.NewWriter(w)
		defer gz.Close()
		w = gzipWriter{w, gz}
	}
	if r.URL.Path == "/oauth/token" {
		s.serveToken(w, r)
		return
	}
	if s.opts.Latency > 0 {
		select {
		case <-time.After(s.opts.Latency):
		case <-r.Context().Done():
			return
		}
	}
	if s.opts.Auth != nil && !s.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		writeError(w, http.StatusUnauthorized, "Unauthorized", "missing, invalid or expired access token")
		return
	}
	root := strings.TrimPrefix(s.RootURL(), s.base)
	path, ok := strings.CutPrefix(r.URL.Path, root)
	if !ok {
		writeError(w, http.StatusNotFound, "NotFound", "no such path: "+r.URL.Path)
		return
	}
	path = strings.TrimSuffix(path, "/")
	parts := strings.Split(strings.TrimPrefix(path, "/"), "/")
	switch {
	case path == "":
		s.serveLanding(w)
	case path == "/conformance" && s.opts.NoConformance:
		writeError(w, http.StatusNotFound, "NotFound", "no such path: "+r.URL.Path)
	case path == "/conformance":
		writeJSON(w, "application/json", map[string]any{"conformsTo": s.conformance()})
	case path == "/queryables" || (len(parts) == 3 && parts[0] == "collections" && parts[2] == "queryables"):
		s.serveQueryables(w)
	case path == "/search":
		s.serveSearch(w, r, nil)
	case path == "/collections":
		s.serveCollections(w)
	case len(parts) == 2 && parts[0] == "collections":
		s.serveCollection(w, parts[1])
	case len(parts) == 3 && parts[0] == "collections" && parts[2] == "items" && r.Method == http.MethodGet:
		if !s.hasCollection(parts[1]) {
			writeError(w, http.StatusNotFound, "NotFoundError", fmt.Sprintf("Collection %s does not exist.", parts[1]))
			return
		}
		s.serveSearch(w, r, []string{parts[1]})
	case len(parts) == 4 && parts[0] == "collections" && parts[2] == "items":
		s.serveItem(w, parts[1], parts[3])
	default:
		writeError(w, http.StatusNotFound, "NotFoundError", "no such path: "+r.URL.Path)
	}
}

func (s *Server) conformance() []string {
	if s.opts.ConformsTo != nil {
		return s.opts.ConformsTo
	}
	return []string{
		"https://api.stacspec.org/v1.0.0/core",
		"https://api.stacspec.org/v1.0.0/item-search",
		"https://api.stacspec.org/v1.0.0/ogcapi-features",
		"https://api.stacspec.org/v1.0.0/collections",
		"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
		"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
	}
}

func (s *Server) serveLanding(w http.ResponseWriter) {
	root := s.RootURL()
	links := []map[string]any{
		{"rel": "self", "href": root, "type": "application/json"},
		{"rel": "root", "href": root, "type": "application/json"},
	}
	if !s.opts.NoConformance {
		links = append(links, map[string]any{"rel": "conformance", "href": root + "/conformance", "type": "application/json"})
	}
	links = append(links, map[string]any{"rel": "data", "href": root + "/collections", "type": "application/json"})
	switch {
	case s.opts.SentinelHub:
		links = append(links, map[string]any{"rel": "search", "href": root + "/search", "type": "application/geo+json"})
	default:
		links = append(links, map[string]any{"rel": "search", "href": root + "/search", "type": "application/geo+json", "method": "GET"})
		if !s.opts.NoPost {
			links = append(links, map[string]any{"rel": "search", "href": root + "/search", "type": "application/geo+json", "method": "POST"})
		}
	}
	landing := map[string]any{
		"type": "Catalog", "stac_version": cmp.Or(s.opts.Version, "1.0.0"), "id": "stactest",
		"title": "stacq test API", "description": "A local STAC API serving synthetic Sentinel-2-like items",
		"links": links,
	}
	if !s.opts.NoConformance {
		landing["conformsTo"] = s.conformance()
	}
	writeJSON(w, "application/json", landing)
}

func (s *Server) hasCollection(id string) bool {
	for _, c := range s.opts.Collections {
		if c == id {
			return true
		}
	}
	return false
}

func (s *Server) collectionDoc(id string) map[string]any {
	root := s.RootURL()
	return map[string]any{
		"type": "Collection", "stac_version": "1.0.0", "id": id,
		"title": "Synthetic " + id, "description": "Synthetic items for testing", "license": "CC-BY-4.0",
		"extent": map[string]any{
			"spatial":  map[string]any{"bbox": [][]float64{{-180, -90, 180, 90}}},
			"temporal": map[string]any{"interval": [][]any{{Epoch.Format(time.RFC3339), nil}}},
		},
		"links": []map[string]any{
			{"rel": "self", "href": root + "/collections/" + id},
			{"rel": "items", "href": root + "/collections/" + id + "/items", "type": "application/geo+json"},
			{"rel": "root", "href": root},
		},
	}
}

func (s *Server) serveCollections(w http.ResponseWriter) {
	cols := make([]any, 0, len(s.opts.Collections))
	for _, id := range s.opts.Collections {
		cols = append(cols, s.collectionDoc(id))
	}
	writeJSON(w, "application/json", map[string]any{
		"collections": cols,
		"links":       []map[string]any{{"rel": "self", "href": s.RootURL() + "/collections"}},
	})
}

func (s *Server) serveCollection(w http.ResponseWriter, id string) {
	if !s.hasCollection(id) {
		writeError(w, http.StatusNotFound, "NotFoundError", fmt.Sprintf("Collection %s does not exist.", id))
		return
	}
	writeJSON(w, "application/json", s.collectionDoc(id))
}

func (s *Server) serveItem(w http.ResponseWriter, collection, id string) {
	for _, it := range s.items {
		if it.collection == collection && it.id == id {
			w.Header().Set("Content-Type", "application/geo+json")
			w.Write(it.json)
			return
		}
	}
	writeError(w, http.StatusNotFound, "NotFoundError", fmt.Sprintf("Item %s in Collection %s does not exist.", id, collection))
}

func (s *Server) serveQueryables(w http.ResponseWriter) {
	writeJSON(w, "application/schema+json", map[string]any{
		"$schema": "https://json-schema.org/draft/2019-09/schema",
		"$id":     s.RootURL() + "/queryables",
		"type":    "object",
		"title":   "Queryables",
		"properties": map[string]any{
			"datetime":       map[string]any{"type": "string", "format": "date-time", "title": "Acquired"},
			"eo:cloud_cover": map[string]any{"type": "number", "minimum": 0, "maximum": 100},
			"platform":       map[string]any{"type": "string"},
		},
		"additionalProperties": true,
	})
}

// search is a parsed search request.
type search struct {
	Collections []string        `json:"collections,omitempty"`
	IDs         []string        `json:"ids,omitempty"`
	BBox        []float64       `json:"bbox,omitempty"`
	Datetime    string          `json:"datetime,omitempty"`
	Limit       int             `json:"limit,omitempty"`
	Token       string          `json:"token,omitempty"`
	Next        json.RawMessage `json:"next,omitempty"`
	Intersects  json.RawMessage `json:"intersects,omitempty"`
}

func (s *Server) serveSearch(w http.ResponseWriter, r *http.Request, collections []string) {
	s.Searches.Add(1)
	var q search
	switch r.Method {
	case http.MethodGet:
		v := r.URL.Query()
		q.Collections = splitComma(v.Get("collections"))
		q.IDs = splitComma(v.Get("ids"))
		if b := v.Get("bbox"); b != "" {
			for _, f := range strings.Split(b, ",") {
				x, err := strconv.ParseFloat(f, 64)
				if err != nil {
					writeError(w, http.StatusBadRequest, "InvalidParameterValue", "invalid bbox: "+b)
					return
				}
				q.BBox = append(q.BBox, x)
			}
		}
		q.Datetime = v.Get("datetime")
		if l := v.Get("limit"); l != "" {
			n, err := strconv.Atoi(l)
			if err != nil || n < 1 {
				writeError(w, http.StatusBadRequest, "InvalidParameterValue", "invalid limit: "+l)
				return
			}
			q.Limit = n
		}
		q.Token = v.Get("token")
		if s.opts.SentinelHub {
			q.Token = v.Get("next")
		}
	case http.MethodPost:
		if s.opts.NoPost {
			writeError(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "POST is not supported")
			return
		}
		dec := json.NewDecoder(r.Body)
		if err := dec.Decode(&q); err != nil {
			writeError(w, http.StatusBadRequest, "BadRequest", "invalid JSON body: "+err.Error())
			return
		}
		if len(q.Next) > 0 {
			var tok any
			json.Unmarshal(q.Next, &tok)
			q.Token = fmt.Sprint(tok)
		}
	default:
		writeError(w, http.StatusMethodNotAllowed, "MethodNotAllowed", r.Method+" is not supported")
		return
	}
	if collections != nil {
		q.Collections = collections
	}
	var start, end time.Time
	if q.Datetime != "" {
		var err error
		if start, end, err = parseInterval(q.Datetime); err != nil {
			writeError(w, http.StatusBadRequest, "InvalidParameterValue", err.Error())
			return
		}
	}
	offset := 0
	if q.Token != "" {
		n, err := strconv.Atoi(q.Token)
		if err != nil || n < 0 {
			writeError(w, http.StatusBadRequest, "InvalidParameterValue", "invalid paging token")
			return
		}
		offset = n
	}
	limit := q.Limit
	if limit == 0 {
		limit = s.opts.DefaultPage
	}
	limit = min(limit, s.opts.MaxPage)
	matched := s.match(&q, start, end)
	pageEnd := min(offset+limit, len(matched))
	if offset > len(matched) {
		offset = len(matched)
	}
	page := matched[offset:pageEnd]
	if s.opts.RepeatAtBoundary && offset > 0 {
		page = matched[offset-1 : pageEnd]
	}

	w.Header().Set("Content-Type", "application/geo+json")
	var b strings.Builder
	b.WriteString(`{"type":"FeatureCollection","features":[`)
	for i, it := range page {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(it.json)
	}
	b.WriteString(`]`)
	var links []map[string]any
	if pageEnd < len(matched) {
		next := strconv.Itoa(pageEnd)
		if s.opts.Loop && offset >= 2*limit {
			next = "0" // back to the first page
		}
		switch {
		case s.opts.SentinelHub:
		case r.Method == http.MethodGet:
			v := r.URL.Query()
			v.Set("token", next)
			links = append(links, map[string]any{"rel": "next", "href": s.URL + r.URL.Path + "?" + v.Encode(), "type": "application/geo+json", "method": "GET"})
		case s.opts.PostPaging == PostFull:
			body := q
			body.Token = ""
			body.Next = json.RawMessage(strconv.Quote(next))
			links = append(links, map[string]any{"rel": "next", "href": s.URL + r.URL.Path, "method": "POST", "merge": false, "body": body})
		default:
			links = append(links, map[string]any{"rel": "next", "href": s.URL + r.URL.Path, "method": "POST", "merge": true, "body": map[string]any{"token": next}})
		}
	}
	links = append(links, map[string]any{"rel": "root", "href": s.RootURL(), "type": "application/json"})
	lb, _ := json.Marshal(links)
	fmt.Fprintf(&b, `,"links":%s,"numberMatched":%d,"numberReturned":%d`, lb, len(matched), len(page))
	if s.opts.SentinelHub {
		fmt.Fprintf(&b, `,"context":{"limit":%d,"returned":%d`, limit, len(page))
		if pageEnd < len(matched) {
			fmt.Fprintf(&b, `,"next":%d`, pageEnd)
		}
		b.WriteString(`}`)
	}
	b.WriteString("}\n")
	w.Write([]byte(b.String()))
}

func (q *search) matches(it *item, start, end time.Time) bool {
	if len(q.Collections) > 0 && !contains(q.Collections, it.collection) {
		return false
	}
	if len(q.IDs) > 0 && !contains(q.IDs, it.id) {
		return false
	}
	if len(q.BBox) == 4 || len(q.BBox) == 6 {
		minx, miny, maxx, maxy := q.BBox[0], q.BBox[1], q.BBox[2], q.BBox[3]
		if len(q.BBox) == 6 {
			minx, miny, maxx, maxy = q.BBox[0], q.BBox[1], q.BBox[3], q.BBox[4]
		}
		if it.bbox[0] > maxx || it.bbox[2] < minx || it.bbox[1] > maxy || it.bbox[3] < miny {
			return false
		}
	}
	if !start.IsZero() && it.datetime.Before(start) {
		return false
	}
	if !end.IsZero() && it.datetime.After(end) {
		return false
	}
	return true
}

func parseInterval(s string) (start, end time.Time, err error) {
	a, b, isInterval := strings.Cut(s, "/")
	parse := func(v string) (time.Time, error) {
		if v == ".." || v == "" {
			return time.Time{}, nil
		}
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return t, fmt.Errorf("invalid datetime %q", v)
		}
		return t, nil
	}
	if start, err = parse(a); err != nil {
		return
	}
	if !isInterval {
		return start, start, nil
	}
	end, err = parse(b)
	return
}

func (s *Server) authorized(r *http.Request) bool {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.tokens[tok]
	return ok && time.Now().Before(exp)
}

func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	s.TokenRequests.Add(1)
	a := s.opts.Auth
	if a == nil || r.Method != http.MethodPost {
		writeError(w, http.StatusNotFound, "NotFound", "no token endpoint")
		return
	}
	if err := r.ParseForm(); err != nil {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "malformed form body")
		return
	}
	if r.PostForm.Get("grant_type") != "client_credentials" {
		writeOAuthError(w, http.StatusBadRequest, "unsupported_grant_type", "only client_credentials is supported")
		return
	}
	id, secret, basic := r.BasicAuth()
	if basic {
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
	} else {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	styleOK := a.Style == "" || (a.Style == "basic") == basic
	if !styleOK || id != a.ClientID || secret != a.ClientSecret {
		writeOAuthError(w, http.StatusUnauthorized, "invalid_client", "Client authentication failed (e.g., unknown client, no client authentication included, or unsupported authentication method).")
		return
	}
	lifetime := a.Lifetime
	if lifetime == 0 {
		lifetime = time.Hour
	}
	buf := make([]byte, 24)
	rand.Read(buf)
	tok := base64.RawURLEncoding.EncodeToString(buf)
	s.mu.Lock()
	s.tokens[tok] = time.Now().Add(lifetime)
	s.mu.Unlock()
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, "application/json", map[string]any{
		"access_token": tok, "token_type": "Bearer", "expires_in": int(lifetime.Seconds()), "scope": "",
	})
}

func writeJSON(w http.ResponseWriter, contentType string, v any) {
	w.Header().Set("Content-Type", contentType)
	json.NewEncoder(w).Encode(v)
}

// writeError answers as stac-fastapi does: {"code": ..., "description": ...}.
func writeError(w http.ResponseWriter, status int, code, description string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"code": code, "description": description})
}

func writeOAuthError(w http.ResponseWriter, status int, code, description string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": description})
}

func splitComma(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func acceptsGzip(r *http.Request) bool {
	for _, e := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		if name, _, _ := strings.Cut(strings.TrimSpace(e), ";"); name == "gzip" {
			return true
		}
	}
	return false
}

// gzipWriter sends what handlers write through gz.
type gzipWriter struct {
	http.ResponseWriter
	gz *gzip.Writer
}

func (w gzipWriter) Write(b []byte) (int, error) { return w.gz.Write(b) }
