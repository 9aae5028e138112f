package faults_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stacq/stacq/auth/provider"
	"github.com/stacq/stacq/internal/testing/faults"
	"github.com/stacq/stacq/internal/testing/stactest"
	"github.com/stacq/stacq/retry"
	"github.com/stacq/stacq/stac"
)

// The fault-injection suite: the stac client, with retries, searches a
// local API of 3,000 items (GET and POST paging) that fails on a schedule:
// one kind of fault at a time over the first 500 items (25 pages), then
// all mixed over the 3,000 (150 pages). Each run must deliver every item
// exactly once, in order, within its backoff budget. go test -v prints the
// figures the README quotes.

const (
	suiteItems = 3000
	faultItems = 500 // items searched per single-fault scenario
	suiteLimit = 20
)

// suitePolicy is the default policy with small waits: the same attempts,
// 1ms-8ms backoff instead of 500ms-30s, and a 300ms attempt timeout so
// that slow pages cost little.
var suitePolicy = retry.Policy{BaseDelay: time.Millisecond, MaxDelay: 8 * time.Millisecond, AttemptTimeout: 300 * time.Millisecond}

// mixed is every fault at once, on periods chosen so that no page fails
// five times running.
var mixed = []faults.Rule{
	{Kind: faults.Unavailable, Every: 7},
	{Kind: faults.RateLimited, Every: 11, RetryAfter: "0"},
	{Kind: faults.Drop, Every: 13},
	{Kind: faults.CutBody, Every: 17},
	{Kind: faults.Truncate, Every: 19},
	{Kind: faults.Slow, Every: 23, Delay: 5 * time.Second},
	{Kind: faults.RevokeToken, Every: 9},
	{Kind: faults.TokenUnavailable, Every: 2, Limit: 3},
}

type scenario struct {
	name  string
	rules []faults.Rule
}

func scenarios() []scenario {
	var out []scenario
	for _, r := range mixed {
		// Alone, each fault hits every 3rd page request; slow pages (a
		// timeout each) every 7th; the token endpoint's 503s need token
		// requests, which revocations cause.
		r.Every = 3
		rules := []faults.Rule{r}
		switch r.Kind {
		case faults.Slow:
			r.Every = 7
			rules = []faults.Rule{r}
		case faults.TokenUnavailable:
			r.Every, r.Limit = 2, 3
			rules = []faults.Rule{r, {Kind: faults.RevokeToken, Every: 4}}
		}
		out = append(out, scenario{r.Kind.String(), rules})
	}
	return append(out, scenario{"mixed", mixed})
}

// figures collects what the runs measured, for the summary.
type figures struct {
	mu       sync.Mutex
	runs     int
	items    int
	injected map[faults.Kind]int
	retries  int
	lost     int
	dup      int
}

func (f *figures) add(items, lost, dup, retries int, counts map[faults.Kind]int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.runs++
	f.items += items
	f.lost += lost
	f.dup += dup
	f.retries += retries
	for k, n := range counts {
		f.injected[k] += n
	}
}

func TestSuite(t *testing.T) {
	fig := &figures{injected: map[faults.Kind]int{}}
	start := time.Now()
	t.Run("faults", func(t *testing.T) {
		for _, method := range []string{"GET", "POST"} {
			t.Run(method, func(t *testing.T) {
				t.Parallel()
				// One server per paging style, its schedule reset for
				// each scenario: building 3,000 items is the slow part.
				opts := stactest.Options{Items: suiteItems, Auth: &stactest.Auth{ClientID: "cid", ClientSecret: "secret"}, NoPost: method == "GET"}
				srv, in := faults.Serve(opts)
				defer srv.Close()
				for _, sc := range scenarios() {
					t.Run(sc.name, func(t *testing.T) {
						in.Reset(sc.rules...)
						n := faultItems
						if sc.name == "mixed" {
							n = suiteItems
						}
						runScenario(t, srv, in, n, fig)
					})
				}
			})
		}
	})
	total := 0
	var kinds []string
	for k, n := range fig.injected {
		total += n
		kinds = append(kinds, fmt.Sprintf("%s %d", k, n))
	}
	sort.Strings(kinds)
	t.Logf("SUMMARY: %d runs, %d items delivered, %d faults injected (%s), %d retries, lost %d, duplicated %d, %v",
		fig.runs, fig.items, total, strings.Join(kinds, ", "), fig.retries, fig.lost, fig.dup, time.Since(start).Round(time.Millisecond))
}

// runScenario searches the first n items of srv through its faults.
func runScenario(t *testing.T, srv *stactest.Server, in *faults.Injector, n int, fig *figures) {
	var retries, waited atomic.Int64
	p := suitePolicy
	p.OnRetry = func(i retry.Info) {
		retries.Add(1)
		waited.Add(int64(i.Wait))
	}
	ctx := context.Background()
	c := openClient(t, srv, p, true)
	start := time.Now()
	var ids []string
	for page, err := range c.SearchRawPages(ctx, stac.SearchParams{Limit: suiteLimit}, stac.WithMaxItems(n)) {
		if err != nil {
			t.Fatalf("after %d items: %v", len(ids), err)
		}
		for _, it := range page.Items {
			ids = append(ids, it.ID)
		}
	}
	elapsed := time.Since(start)
	lost, dup := tally(ids, n)
	fig.add(len(ids), lost, dup, int(retries.Load()), in.Counts())
	if lost != 0 || dup != 0 {
		t.Fatalf("%d items lost, %d duplicated", lost, dup)
	}
	if err := inOrder(ids); err != nil {
		t.Fatal(err)
	}
	if in.Total() == 0 {
		t.Fatal("no fault injected")
	}
	// The backoff budget: every wait is at most MaxDelay, and no page
	// waits more than the policy's Budget. The wall clock adds a slow
	// page's attempt timeout each, and the fault-free search itself,
	// loosely bounded: -race on a loaded machine is slow.
	w := time.Duration(waited.Load())
	if w > time.Duration(retries.Load())*p.MaxDelay {
		t.Errorf("waited %v over %d retries: more than MaxDelay each", w, retries.Load())
	}
	if pages := (n + suiteLimit - 1) / suiteLimit; w > time.Duration(pages)*p.Budget() {
		t.Errorf("waited %v over %d pages: more than the budget of %v a page", w, pages, p.Budget())
	}
	budget := w + time.Duration(in.Injected(faults.Slow))*p.AttemptTimeout + 30*time.Second
	if elapsed > budget {
		t.Errorf("took %v, over the budget of %v", elapsed, budget)
	}
	t.Logf("%d items, faults %v, %d retries, waited %v, %v",
		len(ids), in.Counts(), retries.Load(), time.Duration(waited.Load()).Round(time.Microsecond), elapsed.Round(time.Millisecond))
}

// openClient opens srv as stacq does: authentication over retries over
// the wire, token requests retried too, and pages retried as units.
func openClient(t *testing.T, srv *stactest.Server, p retry.Policy, withAuth bool) *stac.Client {
	t.Helper()
	base := &http.Client{Transport: p.Transport(nil)}
	hc := base
	if withAuth {
		r, err := provider.Resolve(srv.RootURL(), provider.Settings{
			TokenURL: srv.TokenURL(), ClientID: "cid", ClientSecret: "secret", HTTPClient: base,
		})
		if err != nil {
			t.Fatal(err)
		}
		hc = r.Client()
	}
	c, err := stac.Open(context.Background(), srv.RootURL(), stac.WithHTTPClient(hc), stac.WithRetry(p))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// tally counts the stactest items 0 to n-1 missing from ids, and the ids
// seen more than once.
func tally(ids []string, n int) (lost, dup int) {
	seen := map[string]int{}
	for _, id := range ids {
		// S2A_00042_20230102T163000: the number is the item's index.
		seen[strings.SplitN(id, "_", 3)[1]]++
	}
	for _, c := range seen {
		if c > 1 {
			dup += c - 1
		}
	}
	for i := range n {
		if seen[fmt.Sprintf("%05d", i)] == 0 {
			lost++
		}
	}
	return lost, dup
}

// inOrder checks that ids are stactest items 0, 1, 2... in order.
func inOrder(ids []string) error {
	for i, id := range ids {
		if want := fmt.Sprintf("S2A_%05d_", i); !strings.HasPrefix(id, want) {
			return fmt.Errorf("item %d is %s, want %s...", i, id, want)
		}
	}
	return nil
}

// A server that never recovers: after the items of the pages before it,
// a clear error naming the attempts and the last failure; nothing
// duplicated, nothing after the error.
func TestSuiteNeverRecovers(t *testing.T) {
	for _, tc := range []struct {
		kind faults.Kind
		want string
	}{
		{faults.Unavailable, "503 Service Unavailable"},
		{faults.RateLimited, "429 Too Many Requests"},
		{faults.Truncate, "unexpected EOF"},
		{faults.CutBody, "unexpected EOF"},
		{faults.Drop, "EOF"},
		{faults.Slow, "attempt timed out after 250ms"},
	} {
		t.Run(tc.kind.String(), func(t *testing.T) {
			t.Parallel()
			srv, in := faults.Serve(stactest.Options{Items: 300}, faults.Rule{Kind: tc.kind, Skip: 4, RetryAfter: "0", Delay: 5 * time.Second})
			defer srv.Close()
			p := suitePolicy
			p.AttemptTimeout = 250 * time.Millisecond
			c := openClient(t, srv, p, false)
			var ids []string
			var last error
			for page, err := range c.SearchRawPages(context.Background(), stac.SearchParams{Limit: suiteLimit}) {
				if err != nil {
					last = err
					continue
				}
				if last != nil {
					t.Fatal("a page after the error")
				}
				for _, it := range page.Items {
					ids = append(ids, it.ID)
				}
			}
			var re *retry.Error
			if !errors.As(last, &re) || re.Attempts != retry.DefaultMaxAttempts {
				t.Fatalf("err = %v, want a *retry.Error after %d attempts", last, retry.DefaultMaxAttempts)
			}
			if !strings.Contains(last.Error(), "gave up after 5 attempts") || !strings.Contains(last.Error(), tc.want) {
				t.Errorf("error %q does not say the attempts and %q", last, tc.want)
			}
			if err := inOrder(ids); err != nil || len(ids) != 4*suiteLimit {
				t.Errorf("%d items before the error (%v), want the %d of the 4 pages before", len(ids), err, 4*suiteLimit)
			}
			if got := in.Injected(tc.kind); got != retry.DefaultMaxAttempts {
				t.Errorf("%d faults injected, want %d (one per attempt)", got, retry.DefaultMaxAttempts)
			}
		})
	}
}
