// Package faults injects the failures of real STAC APIs into a local one,
// on a deterministic schedule, to test that stacq's retries deliver every
// item exactly once: 503s, 429s with Retry-After, connections dropped
// before an answer or in the middle of a page, pages cut short, pages
// slower than the client's timeout, access tokens revoked mid-search, and
// a token endpoint that answers 503 for a while.
//
// An Injector wraps any handler (Wrap), or plugs into stactest as its
// Intercept (Serve does both the server and the wiring).
package faults

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/stacq/stacq/internal/testing/stactest"
)

// Kind is a kind of fault.
type Kind int

// The faults an Injector knows.
const (
	// Unavailable answers 503 with a STAC error body.
	Unavailable Kind = iota + 1
	// RateLimited answers 429 with Rule.RetryAfter.
	RateLimited
	// Drop closes the connection before any answer.
	Drop
	// CutBody sends the page's headers, with the full Content-Length, and
	// half its body, then closes the connection.
	CutBody
	// Truncate answers 200 with the first half of the page as a complete
	// body: the HTTP exchange succeeds, the JSON is cut short.
	Truncate
	// Slow answers after Rule.Delay, longer than the client waits.
	Slow
	// RevokeToken revokes every access token before the request is
	// served, so it gets a 401 and the client must renew its token.
	RevokeToken
	// TokenUnavailable answers 503 from the token endpoint.
	TokenUnavailable
)

var kindNames = map[Kind]string{
	Unavailable: "503", RateLimited: "429", Drop: "drop", CutBody: "cut-body",
	Truncate: "truncated-json", Slow: "slow", RevokeToken: "revoke-token", TokenUnavailable: "token-503",
}

func (k Kind) String() string {
	if s, ok := kindNames[k]; ok {
		return s
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Kinds lists every Kind, in order.
func Kinds() []Kind {
	return []Kind{Unavailable, RateLimited, Drop, CutBody, Truncate, Slow, RevokeToken, TokenUnavailable}
}

// Rule schedules one kind of fault.
type Rule struct {
	Kind Kind
	// Every injects the fault into every Every-th request the rule
	// matches (3: the 3rd, 6th, ...); 1 or 0 means each one.
	Every int
	// Skip leaves the first Skip matching requests alone.
	Skip int
	// Limit stops the rule after that many injections; 0 means no limit.
	Limit int
	// Match picks the requests the rule counts. nil means the item pages
	// (paths ending in /search or /items) or, for TokenUnavailable, the
	// token endpoint (a path ending in /token).
	Match func(*http.Request) bool
	// RetryAfter is the Retry-After of RateLimited (default "1"), in
	// seconds or as an HTTP date.
	RetryAfter string
	// Delay is how late Slow answers (default 5s).
	Delay time.Duration
}

func (r *Rule) matches(req *http.Request) bool {
	if r.Match != nil {
		return r.Match(req)
	}
	if r.Kind == TokenUnavailable {
		return strings.HasSuffix(req.URL.Path, "/token")
	}
	return IsPage(req)
}

// IsPage reports whether req asks for a page of items.
func IsPage(req *http.Request) bool {
	p := strings.TrimSuffix(req.URL.Path, "/")
	return strings.HasSuffix(p, "/search") || strings.HasSuffix(p, "/items")
}

// Injector applies rules to the requests it sees. Its methods are safe
// for concurrent use.
type Injector struct {
	rules []Rule

	mu       sync.Mutex
	seen     []int // per rule: matching requests so far
	fired    []int // per rule: injections so far
	injected map[Kind]int
	requests int
	revoke   func()
}

// New returns an Injector applying rules; when several fire on one
// request, the first listed wins.
func New(rules ...Rule) *Injector {
	return &Injector{
		rules: rules, seen: make([]int, len(rules)), fired: make([]int, len(rules)),
		injected: map[Kind]int{},
	}
}

// Reset replaces the rules and clears the counters, so that one server
// can serve several schedules in turn.
func (in *Injector) Reset(rules ...Rule) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.rules = rules
	in.seen, in.fired = make([]int, len(rules)), make([]int, len(rules))
	in.injected = map[Kind]int{}
	in.requests = 0
}

// SetRevoke sets what RevokeToken calls (stactest's RevokeTokens).
func (in *Injector) SetRevoke(f func()) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.revoke = f
}

// Injected returns how many faults of kind k were injected.
func (in *Injector) Injected(k Kind) int {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.injected[k]
}

// Counts returns the faults injected so far by kind.
func (in *Injector) Counts() map[Kind]int {
	in.mu.Lock()
	defer in.mu.Unlock()
	out := make(map[Kind]int, len(in.injected))
	for k, n := range in.injected {
		out[k] = n
	}
	return out
}

// Total returns how many faults were injected.
func (in *Injector) Total() int {
	in.mu.Lock()
	defer in.mu.Unlock()
	n := 0
	for _, c := range in.injected {
		n += c
	}
	return n
}

// Requests returns how many requests the Injector has seen.
func (in *Injector) Requests() int {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.requests
}

// pick counts req against every rule and returns the rule that fires, if any.
func (in *Injector) pick(req *http.Request) (Rule, bool) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.requests++
	var fire *Rule
	for i := range in.rules {
		r := &in.rules[i]
		if !r.matches(req) {
			continue
		}
		in.seen[i]++
		every := max(r.Every, 1)
		n := in.seen[i] - r.Skip
		if fire != nil || n <= 0 || n%every != 0 || r.Limit > 0 && in.fired[i] >= r.Limit {
			continue
		}
		in.fired[i]++
		in.injected[r.Kind]++
		fire = r
	}
	if fire == nil {
		return Rule{}, false
	}
	return *fire, true
}

// Wrap returns a handler that injects faults in front of next.
func (in *Injector) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !in.inject(w, r, next) {
			next.ServeHTTP(w, r)
		}
	})
}

// bypassKey marks a request the Injector sends through the server itself
// (to get the page it then damages), so its Intercept lets it pass.
type bypassKey struct{}

// Intercept returns a function for stactest.Options.Intercept. handler
// gives the server's own handler; it is called late because the server
// does not exist yet when its options are built.
func (in *Injector) Intercept(handler func() http.Handler) func(http.ResponseWriter, *http.Request, int64) bool {
	return func(w http.ResponseWriter, r *http.Request, _ int64) bool {
		if r.Context().Value(bypassKey{}) != nil {
			return false
		}
		next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			handler().ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), bypassKey{}, true)))
		})
		return in.inject(w, r, next)
	}
}

// Serve starts a stactest server whose requests go through a new Injector
// of rules; RevokeToken revokes the server's tokens.
func Serve(opts stactest.Options, rules ...Rule) (*stactest.Server, *Injector) {
	in := New(rules...)
	var mu sync.Mutex
	var srv *stactest.Server
	opts.Intercept = in.Intercept(func() http.Handler {
		mu.Lock()
		defer mu.Unlock()
		return srv.Config.Handler
	})
	mu.Lock()
	srv = stactest.New(opts)
	mu.Unlock()
	in.SetRevoke(srv.RevokeTokens)
	return srv, in
}

// inject applies the fault that fires on r, if any, and reports whether it
// answered r itself.
func (in *Injector) inject(w http.ResponseWriter, r *http.Request, next http.Handler) bool {
	rule, ok := in.pick(r)
	if !ok {
		return false
	}
	switch rule.Kind {
	case Unavailable, TokenUnavailable:
		stacError(w, http.StatusServiceUnavailable, "ServiceUnavailable", "the service is temporarily unavailable (injected)")
	case RateLimited:
		ra := rule.RetryAfter
		if ra == "" {
			ra = "1"
		}
		w.Header().Set("Retry-After", ra)
		stacError(w, http.StatusTooManyRequests, "TooManyRequests", "rate limit exceeded (injected)")
	case Drop:
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			conn.Close()
		}
	case CutBody:
		rec := record(r, next)
		body := rec.Body.Bytes()
		conn, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return true
		}
		defer conn.Close()
		writeHead(buf, rec, len(body))
		buf.Write(body[:len(body)/2])
		buf.Flush()
	case Truncate:
		rec := record(r, next)
		body := rec.Body.Bytes()
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		half := body[:len(body)/2]
		w.Header().Set("Content-Length", strconv.Itoa(len(half)))
		w.WriteHeader(rec.Code)
		w.Write(half)
	case Slow:
		d := rule.Delay
		if d <= 0 {
			d = 5 * time.Second
		}
		// Read the request body first: until it is read, the server
		// cannot notice that the client hung up.
		if body, err := io.ReadAll(r.Body); err == nil {
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
			next.ServeHTTP(w, r)
		case <-r.Context().Done():
		}
	case RevokeToken:
		in.mu.Lock()
		revoke := in.revoke
		in.mu.Unlock()
		if revoke != nil {
			revoke()
		}
		return false
	default:
		return false
	}
	return true
}

// record serves r with next into memory.
func record(r *http.Request, next http.Handler) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	next.ServeHTTP(rec, r)
	return rec
}

// writeHead writes a raw HTTP/1.1 response head announcing n body bytes.
func writeHead(buf *bufio.ReadWriter, rec *httptest.ResponseRecorder, n int) {
	fmt.Fprintf(buf, "HTTP/1.1 %d %s\r\n", rec.Code, http.StatusText(rec.Code))
	h := rec.Header().Clone()
	h.Set("Content-Length", strconv.Itoa(n))
	h.Del("Transfer-Encoding")
	h.Write(buf)
	buf.WriteString("\r\n")
}

// stacError answers as stac-fastapi does.
func stacError(w http.ResponseWriter, status int, code, description string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, "{\"code\":%q,\"description\":%q}\n", code, description)
}
