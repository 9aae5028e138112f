package stac_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"

	"github.com/stacq/stacq/internal/testing/hostile"
	"github.com/stacq/stacq/stac"
)

// hostileAPI serves a landing page at /v1 and body at /v1/search.
func hostileAPI(t *testing.T, body http.Handler) *httptest.Server {
	s := hostile.NewAPI(body)
	t.Cleanup(s.Close)
	return s
}

// searchErr runs a search and returns its error, with the bytes the
// process allocated meanwhile.
func searchErr(t *testing.T, s *httptest.Server, opts ...stac.Option) (error, uint64) {
	t.Helper()
	c, err := stac.Open(context.Background(), s.URL+"/v1", opts...)
	if err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for _, err := range c.SearchRawPages(context.Background(), stac.SearchParams{}) {
		if err != nil {
			runtime.ReadMemStats(&after)
			return err, after.TotalAlloc - before.TotalAlloc
		}
	}
	t.Fatal("the search succeeded")
	return nil, 0
}

func wantTooLarge(t *testing.T, err error, what string, limit int64) {
	t.Helper()
	var te *stac.TooLargeError
	if !errors.As(err, &te) || te.What != what || te.Limit != limit || te.Method == "" || !strings.Contains(te.URL, "/v1/search") {
		t.Fatalf("err = %v (%T), want a *TooLargeError for the %s at %d bytes", err, err, what, limit)
	}
}

// A page of 2 GiB, chunked with no length: the read stops at the cap,
// allocating about twice the cap in all (buffers doubling up to it), not
// the body.
func TestPageOverCapChunked(t *testing.T) {
	const limit = 8 << 20
	body := &hostile.Body{Prefix: hostile.PagePrefix, Size: 2 << 30}
	err, alloc := searchErr(t, hostileAPI(t, body), stac.WithMaxPageSize(limit))
	wantTooLarge(t, err, "page", limit)
	if msg := err.Error(); !strings.Contains(msg, "larger than 8 MiB") {
		t.Errorf("message %q does not name the cap", msg)
	}
	if alloc > 5*limit/2 {
		t.Errorf("allocated %d MiB reading a page over an 8 MiB cap", alloc>>20)
	}
	if body.Served.Load() != 1 {
		t.Errorf("the page was requested %d times: a page over the cap is not retried", body.Served.Load())
	}
	if sent := body.Sent.Load(); sent > 1<<30 {
		t.Errorf("the server sent %d MiB: the client kept reading", sent>>20)
	}
}

// A gzip bomb: 1 MiB on the wire that inflates to 1 GiB. Go's transport
// asks for gzip and inflates it; the cap counts inflated bytes.
func TestPageOverCapGzipBomb(t *testing.T) {
	const limit = 8 << 20
	body := &hostile.Body{Prefix: hostile.PagePrefix, Size: 1 << 30, Gzip: true}
	if wire := hostile.GzipWireSize(body.Prefix, body.Size); wire > 2<<20 {
		t.Fatalf("the bomb is %d bytes on the wire", wire)
	}
	err, alloc := searchErr(t, hostileAPI(t, body), stac.WithMaxPageSize(limit))
	wantTooLarge(t, err, "page", limit)
	if body.GzipAsk.Load() != 1 {
		t.Fatalf("the client did not ask for gzip: the test does not test inflation")
	}
	if alloc > 5*limit/2 {
		t.Errorf("allocated %d MiB inflating a bomb over an 8 MiB cap", alloc>>20)
	}
	if sent := body.Sent.Load(); sent >= limit {
		t.Errorf("%d bytes on the wire: the cap counted compressed bytes", sent)
	}
}

// A Content-Length over the cap is refused before the body is read.
func TestPageOverCapDeclared(t *testing.T) {
	const limit = 1 << 20
	s := hostileAPI(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "2147483648")
		w.WriteHeader(200)
		w.Write([]byte(hostile.PagePrefix))
	}))
	err, _ := searchErr(t, s, stac.WithMaxPageSize(limit))
	wantTooLarge(t, err, "page", limit)
}

// An error body without end: only its start is read, and the error says
// the status.
func TestEndlessErrorBody(t *testing.T) {
	body := &hostile.Body{Status: http.StatusInternalServerError, Prefix: `<html>`, Size: 2 << 30}
	err, alloc := searchErr(t, hostileAPI(t, body), stac.WithMaxPageSize(8<<20))
	var he *stac.HTTPError
	if !errors.As(err, &he) || he.StatusCode != 500 || len(he.Snippet) > 1024 {
		t.Fatalf("err = %v", err)
	}
	if alloc > 8<<20 {
		t.Errorf("allocated %d MiB for an error message", alloc>>20)
	}
}

// The landing page has a cap of its own.
func TestLandingPageOverCap(t *testing.T) {
	body := &hostile.Body{Prefix: `{"type":"Catalog","links":[`, Size: 1 << 30}
	s := httptest.NewServer(body)
	defer s.Close()
	_, err := stac.Open(context.Background(), s.URL)
	var te *stac.TooLargeError
	if !errors.As(err, &te) || te.What != "landing page" || te.Limit != 32<<20 {
		t.Fatalf("err = %v, want a *TooLargeError for the landing page", err)
	}
}
