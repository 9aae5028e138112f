package stac

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stacq/stacq/internal/testing/stactest"
)

func openTest(t *testing.T, s *stactest.Server, opts ...Option) *Client {
	t.Helper()
	c, err := Open(context.Background(), s.RootURL(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// While the caller holds page 1, the request for page 2 reaches the
// server; with prefetch off it does not.
func TestSearchPagesPrefetchesTheNextPage(t *testing.T) {
	for _, method := range []string{"GET", "POST"} {
		t.Run(method, func(t *testing.T) {
			s := stactest.New(stactest.Options{Items: 30})
			defer s.Close()
			c := openTest(t, s)
			pages := 0
			for _, err := range c.SearchPages(context.Background(), SearchParams{Limit: 10, Method: method}) {
				if err != nil {
					t.Fatal(err)
				}
				if pages++; pages == 1 {
					deadline := time.Now().Add(5 * time.Second)
					for s.Searches.Load() < 2 {
						if time.Now().After(deadline) {
							t.Fatal("page 2 was not requested while page 1 was handled")
						}
						time.Sleep(time.Millisecond)
					}
				}
			}
			if pages != 3 || s.Searches.Load() != 3 {
				t.Fatalf("%d pages, %d requests; want 3 and 3", pages, s.Searches.Load())
			}
		})
	}
	t.Run("off", func(t *testing.T) {
		s := stactest.New(stactest.Options{Items: 30})
		defer s.Close()
		c := openTest(t, s, WithPrefetch(false))
		pages := 0
		for _, err := range c.SearchPages(context.Background(), SearchParams{Limit: 10}) {
			if err != nil {
				t.Fatal(err)
			}
			pages++
			time.Sleep(20 * time.Millisecond)
			if n := s.Searches.Load(); n != int64(pages) {
				t.Fatalf("page %d: %d requests made without prefetch", pages, n)
			}
		}
	})
}

// Stopping after a page (max items reached in the caller, Ctrl-C) cancels
// the request already on its way for the next page, promptly.
func TestSearchPagesBreakCancelsThePrefetch(t *testing.T) {
	cancelled := make(chan struct{})
	s := stactest.New(stactest.Options{Items: 30, Intercept: func(w http.ResponseWriter, r *http.Request, _ int64) bool {
		if r.URL.Query().Get("token") == "" {
			return false
		}
		// The second page never comes: wait for the client to give up.
		<-r.Context().Done()
		close(cancelled)
		return true
	}})
	defer s.Close()
	c := openTest(t, s)
	start := time.Now()
	for _, err := range c.SearchPages(context.Background(), SearchParams{Limit: 10, Method: "GET"}) {
		if err != nil {
			t.Fatal(err)
		}
		// Landing page, page 1, then page 2 (Requests counts intercepted ones too).
		for s.Requests.Load() < 3 && time.Since(start) < 5*time.Second {
			time.Sleep(time.Millisecond)
		}
		break
	}
	select {
	case <-cancelled:
	case <-time.After(5 * time.Second):
		t.Fatal("the prefetched request was not cancelled")
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("stopping took %s", d)
	}
}

// Cancelling the context while the caller holds a page ends the search
// with the context's error, not with a silent end of results.
func TestSearchPagesCancelWhileHoldingAPage(t *testing.T) {
	s := stactest.New(stactest.Options{Items: 50})
	defer s.Close()
	c := openTest(t, s)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var gotErr error
	n := 0
	for _, err := range c.SearchPages(ctx, SearchParams{Limit: 10}) {
		if err != nil {
			gotErr = err
			break
		}
		if n++; n == 2 {
			cancel()
		}
	}
	if gotErr != context.Canceled {
		t.Fatalf("after cancel: %v (%d pages)", gotErr, n)
	}
}
