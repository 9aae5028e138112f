package faults

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stacq/stacq/auth"
	"github.com/stacq/stacq/internal/stactest"
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

// link is a next link as STAC APIs send it.
type link struct {
	Rel    string          `json:"rel"`
	Href   string          `json:"href"`
	Method string          `json:"method"`
	Body   json.RawMessage `json:"body"`
	Merge  bool            `json:"merge"`
}

// fetchAll pages through a search the simplest correct way: each page is
// fetched and decoded as one retried unit, and its items are kept only
// once it decoded completely. It stands in for the stac client here, so
// that these tests do not depend on it.
func fetchAll(ctx context.Context, c *http.Client, p retry.Policy, first link, onItems func([]string)) (pages int, err error) {
	var search map[string]any // the POST body, for merge links
	if first.Body != nil {
		json.Unmarshal(first.Body, &search)
	}
	next := &first
	for next != nil {
		var page struct {
			Features []struct {
				ID string `json:"id"`
			} `json:"features"`
			Links []link `json:"links"`
		}
		cur := *next
		err := p.Do(ctx, func(ctx context.Context, attempt int) error {
			page.Features, page.Links = nil, nil
			var body io.Reader
			if cur.Method == http.MethodPost {
				b, _ := json.Marshal(search)
				body = bytes.NewReader(b)
			}
			req, err := http.NewRequestWithContext(ctx, cmp.Or(cur.Method, http.MethodGet), cur.Href, body)
			if err != nil {
				return err
			}
			resp, err := c.Do(req)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				msg, _ := io.ReadAll(resp.Body)
				return fmt.Errorf("HTTP %d: %s", resp.StatusCode, bytes.TrimSpace(msg))
			}
			return json.NewDecoder(resp.Body).Decode(&page)
		})
		if err != nil {
			return pages, err
		}
		pages++
		ids := make([]string, len(page.Features))
		for i, f := range page.Features {
			ids[i] = f.ID
		}
		onItems(ids)
		next = nil
		for _, l := range page.Links {
			if l.Rel == "next" {
				l := l
				if l.Method == http.MethodPost {
					var b map[string]any
					json.Unmarshal(l.Body, &b)
					if !l.Merge {
						search = map[string]any{}
					}
					for k, v := range b {
						search[k] = v
					}
				}
				next = &l
			}
		}
	}
	return pages, nil
}

// A search through the faults delivers every item once, in order.
func TestPagingThroughFaults(t *testing.T) {
	const items, limit = 200, 10
	policy := retry.Policy{BaseDelay: time.Millisecond, MaxDelay: 8 * time.Millisecond, AttemptTimeout: 250 * time.Millisecond}
	// Alone, each fault hits every 3rd page request (slow pages, which
	// cost a timeout each, every 7th); together, on coprime periods, so
	// that no page fails five times running.
	alone := map[Kind]int{Slow: 7}
	mixed := []Rule{
		{Kind: Unavailable, Every: 7},
		{Kind: RateLimited, Every: 11, RetryAfter: "0"},
		{Kind: Drop, Every: 13},
		{Kind: CutBody, Every: 17},
		{Kind: Truncate, Every: 19},
		{Kind: Slow, Every: 23, Delay: 5 * time.Second},
		{Kind: RevokeToken, Every: 9},
		{Kind: TokenUnavailable, Every: 2, Limit: 3},
	}
	type scenario struct {
		name  string
		rules []Rule
	}
	var cases []scenario
	for _, r := range mixed {
		r.Every = cmp.Or(alone[r.Kind], 3)
		rules := []Rule{r}
		if r.Kind == TokenUnavailable {
			// Token requests happen after revocations.
			r.Every, r.Limit = 2, 3
			rules = []Rule{r, {Kind: RevokeToken, Every: 4}}
		}
		cases = append(cases, scenario{r.Kind.String(), rules})
	}
	cases = append(cases, scenario{"mixed", mixed})

	for _, tc := range cases {
		for _, method := range []string{"GET", "POST"} {
			t.Run(tc.name+"/"+method, func(t *testing.T) {
				t.Parallel()
				srv, in := Serve(stactest.Options{Items: items, Auth: &stactest.Auth{ClientID: "cid", ClientSecret: "secret"}}, tc.rules...)
				defer srv.Close()
				var retries, waited atomic.Int64
				p := policy
				p.OnRetry = func(i retry.Info) {
					retries.Add(1)
					waited.Add(int64(i.Wait))
					if testing.Verbose() {
						t.Logf("retry %d: %s %s: %d %v", i.Attempt, i.Method, i.URL, i.Status, i.Err)
					}
				}
				c := authClient(t, srv, p)

				first := link{Method: method, Href: srv.RootURL() + fmt.Sprintf("/search?limit=%d", limit)}
				if method == "POST" {
					first = link{Method: method, Href: srv.RootURL() + "/search", Body: json.RawMessage(fmt.Sprintf(`{"limit":%d}`, limit))}
				}
				var got []string
				start := time.Now()
				pages, err := fetchAll(context.Background(), c, p, first, func(ids []string) { got = append(got, ids...) })
				elapsed := time.Since(start)
				if err != nil {
					t.Fatalf("after %d pages: %v", pages, err)
				}
				checkExactlyOnce(t, got, items)
				injected := in.Total()
				if injected == 0 {
					t.Fatal("no fault injected")
				}
				// Every retry waits at most MaxDelay; a slow page costs an
				// attempt timeout; the rest is the fault-free run (generous:
				// -race on a busy machine).
				if w := time.Duration(waited.Load()); w > time.Duration(retries.Load())*p.MaxDelay {
					t.Errorf("waited %v in %d retries, over MaxDelay each", w, retries.Load())
				}
				budget := time.Duration(waited.Load()) + time.Duration(in.Injected(Slow))*p.AttemptTimeout + 5*time.Second
				if elapsed > budget {
					t.Errorf("took %v, over the budget of %v", elapsed, budget)
				}
				t.Logf("%d pages, %d items, faults %v, %d retries, %v", pages, len(got), in.Counts(), retries.Load(), elapsed.Round(time.Millisecond))
			})
		}
	}
}

// A server that never recovers: a clear error after the bounded attempts,
// and the pages before it delivered once.
func TestPagingNeverRecovers(t *testing.T) {
	for _, kind := range []Kind{Unavailable, Truncate, Drop} {
		t.Run(kind.String(), func(t *testing.T) {
			srv, in := Serve(stactest.Options{Items: 200}, Rule{Kind: kind, Skip: 4})
			defer srv.Close()
			p := retry.Policy{BaseDelay: time.Millisecond, MaxDelay: 4 * time.Millisecond}
			c := &http.Client{Transport: p.Transport(nil)}
			var got []string
			pages, err := fetchAll(context.Background(), c, p, link{Href: srv.RootURL() + "/search?limit=20"}, func(ids []string) { got = append(got, ids...) })
			var re *retry.Error
			if !errors.As(err, &re) || re.Attempts != 5 {
				t.Fatalf("err = %v, want a *retry.Error after 5 attempts", err)
			}
			if pages != 4 || in.Injected(kind) != 5 {
				t.Errorf("%d pages before the error, %d faults; want 4 and 5", pages, in.Injected(kind))
			}
			if kind == Unavailable && (re.LastStatus != 503 || !strings.Contains(err.Error(), "temporarily unavailable")) {
				t.Errorf("err %q, LastStatus %d", err, re.LastStatus)
			}
			checkExactlyOnce(t, got, 80)
		})
	}
}

// authClient is the client stacq's CLI builds: authentication over retries
// over the wire, and token requests retried too.
func authClient(t *testing.T, srv *stactest.Server, p retry.Policy) *http.Client {
	t.Helper()
	base := &http.Client{Transport: p.Transport(nil)}
	r, err := auth.Resolve(srv.RootURL(), auth.Settings{
		TokenURL: srv.TokenURL(), ClientID: "cid", ClientSecret: "secret",
		CacheDir: t.TempDir(), Getenv: func(string) string { return "" }, HTTPClient: base,
	})
	if err != nil {
		t.Fatal(err)
	}
	return r.Client(base)
}

// checkExactlyOnce checks that got holds the ids of the first n stactest
// items, in order, each once.
func checkExactlyOnce(t *testing.T, got []string, n int) {
	t.Helper()
	if len(got) != n {
		t.Errorf("%d items, want %d", len(got), n)
	}
	for i, id := range got {
		if want := fmt.Sprintf("S2A_%05d_", i); !strings.HasPrefix(id, want) {
			t.Fatalf("item %d is %s, want %s...: lost or duplicated", i, id, want)
		}
	}
}
