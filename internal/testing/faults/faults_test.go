package faults

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stacq/stacq/internal/testing/stactest"
	"github.com/stacq/stacq/retry"
)

func TestSchedule(t *testing.T) {
	in := New(
		Rule{Kind: Unavailable, Every: 3},
		Rule{Kind: Truncate, Every: 2, Skip: 1, Limit: 2},
	)
	var got []string
	for i := 1; i <= 12; i++ {
		rule, ok := in.pick(httptest.NewRequest("GET", "/v1/search", nil))
		if ok {
			got = append(got, fmt.Sprintf("%d:%s", i, rule.Kind))
		}
	}
	// Truncate counts requests 2.. and fires on its 2nd and 4th (3, 5),
	// but 3 is Unavailable's, listed first; its limit of 2 ends at 7.
	want := "3:503 5:truncated-json 6:503 7:truncated-json 9:503 12:503"
	if s := strings.Join(got, " "); s != want {
		t.Errorf("schedule %s, want %s", s, want)
	}
	if in.Injected(Unavailable) != 4 || in.Injected(Truncate) != 2 || in.Total() != 6 || in.Requests() != 12 {
		t.Errorf("counts %v, requests %d", in.Counts(), in.Requests())
	}
	// Only pages are counted by default; the token endpoint by its own rule.
	if _, ok := New(Rule{Kind: Unavailable}).pick(httptest.NewRequest("GET", "/v1/collections", nil)); ok {
		t.Error("a collections request was counted as a page")
	}
	if _, ok := New(Rule{Kind: TokenUnavailable}).pick(httptest.NewRequest("POST", "/oauth/token", nil)); !ok {
		t.Error("the token endpoint was not matched")
	}
}

// Each fault, seen from a plain HTTP client.
func TestFaultsOnTheWire(t *testing.T) {
	for _, tc := range []struct {
		kind  Kind
		check func(t *testing.T, resp *http.Response, err error)
	}{
		{Unavailable, func(t *testing.T, resp *http.Response, err error) {
			if err != nil || resp.StatusCode != 503 {
				t.Fatalf("%v %v", resp, err)
			}
		}},
		{RateLimited, func(t *testing.T, resp *http.Response, err error) {
			if err != nil || resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "1" {
				t.Fatalf("%v %v", resp, err)
			}
		}},
		{Drop, func(t *testing.T, resp *http.Response, err error) {
			if err == nil || !retry.Retryable(err) {
				t.Fatalf("err = %v, want a retryable error", err)
			}
		}},
		{CutBody, func(t *testing.T, resp *http.Response, err error) {
			if err != nil {
				t.Fatal(err)
			}
			_, err = io.ReadAll(resp.Body)
			if !errors.Is(err, io.ErrUnexpectedEOF) || !retry.BodyRetryable(err) {
				t.Fatalf("body read err = %v, want unexpected EOF", err)
			}
		}},
		{Truncate, func(t *testing.T, resp *http.Response, err error) {
			if err != nil {
				t.Fatal(err)
			}
			var v any
			err = json.NewDecoder(resp.Body).Decode(&v)
			if resp.StatusCode != 200 || !retry.BodyRetryable(err) {
				t.Fatalf("status %d, decode err = %v, want a retryable truncation", resp.StatusCode, err)
			}
		}},
	} {
		t.Run(tc.kind.String(), func(t *testing.T) {
			srv, in := Serve(stactest.Options{Items: 30}, Rule{Kind: tc.kind})
			defer srv.Close()
			tr := &http.Transport{DisableKeepAlives: true} // no transparent retry of reused connections
			defer tr.CloseIdleConnections()
			resp, err := (&http.Client{Transport: tr}).Get(srv.RootURL() + "/search?limit=10")
			if resp != nil {
				defer resp.Body.Close()
			}
			tc.check(t, resp, err)
			if in.Injected(tc.kind) != 1 {
				t.Errorf("injected %v", in.Counts())
			}
		})
	}
}
