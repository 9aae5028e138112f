package ratelimit_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stacq/stacq/auth"
	"github.com/stacq/stacq/auth/ratelimit"
	"github.com/stacq/stacq/internal/testing/authtest"
	"github.com/stacq/stacq/retry"
)

// An API that answers 429 above 5 requests a second (as Copernicus Data
// Space does), searched by 8 parallel workers behind OAuth2: without a
// limiter the workers bounce off the limit and retry; with the limiter
// set to the API's rate, not one request is refused. Every page arrives
// either way, with one token request per run.
func TestLimiterKeepsUnderTheRate(t *testing.T) {
	const rate, workers, pages = 5, 8, 60
	type figures struct {
		tooMany, tokens, retries int64
		took                     time.Duration
	}
	run := func(t *testing.T, limit bool) (f figures) {
		p := authtest.New("both", "/oauth/token") // outside the bubble: it listens on a socket
		defer p.Close()
		p.RatePerSecond = rate
		synctest.Test(t, func(t *testing.T) {
			host := mustHost(p.APIURL())
			var lim ratelimit.Limiter
			if limit {
				lim.Set(host, rate, 1)
			}
			var mu sync.Mutex
			pol := retry.Policy{MaxAttempts: 100, MaxWait: time.Hour, OnRetry: func(retry.Info) { mu.Lock(); f.retries++; mu.Unlock() }}
			stack := pol.Transport(lim.Transport(authtest.HandlerTransport{H: p.Handler()}))
			cc, err := auth.NewClientCredentialsSource(auth.ClientCredentials{
				TokenURL: p.TokenURL(), ClientID: p.ClientID, ClientSecret: p.Secret,
				HTTPClient: &http.Client{Transport: stack},
			})
			if err != nil {
				t.Fatal(err)
			}
			c := &http.Client{Transport: &auth.Transport{
				Credentials: auth.NewBearer(auth.NewReuseSource(cc, 0)), Origins: []string{p.APIURL()}, Base: stack,
			}}
			start := time.Now()
			var wg sync.WaitGroup
			work := make(chan int)
			for range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for n := range work {
						resp, err := c.Get(fmt.Sprintf("%s/search?page=%d", p.APIURL(), n%5+1))
						if err != nil {
							t.Error(err)
							continue
						}
						io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						if resp.StatusCode != 200 {
							t.Errorf("page %d: %s", n, resp.Status)
						}
					}
				}()
			}
			for n := range pages {
				work <- n
			}
			close(work)
			wg.Wait()
			f.took = time.Since(start)
		})
		f.tooMany, f.tokens = p.TooMany.Load(), p.TokenReqs.Load()
		return f
	}
	without, with := run(t, false), run(t, true)
	t.Logf("%d pages, %d workers, API limit %d/s: without the limiter %d answers 429 (%d retries) in %v; with it %d answers 429 in %v; token requests per run %d and %d",
		pages, workers, rate, without.tooMany, without.retries, without.took, with.tooMany, with.took, without.tokens, with.tokens)
	if without.tooMany == 0 {
		t.Error("without the limiter no request was refused: the test API does not limit")
	}
	if with.tooMany != 0 || with.retries != 0 {
		t.Errorf("with the limiter: %d answers 429, %d retries; want none", with.tooMany, with.retries)
	}
	if with.tokens != 1 || without.tokens != 1 {
		t.Errorf("token requests %d and %d, want 1 per run", without.tokens, with.tokens)
	}
	// 60 requests at 5/s, the first at once: 11.8s.
	if want := time.Duration(pages-1) * time.Second / rate; with.took < want || with.took > want+time.Second {
		t.Errorf("with the limiter took %v, want about %v", with.took, want)
	}
}

func mustHost(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		panic(err)
	}
	return p.Host
}

// Set wins over SetDefault in either order; a name covers every port; 0
// removes a limit, and an explicit removal keeps a default away.
func TestSetAndDefault(t *testing.T) {
	var l ratelimit.Limiter
	l.SetDefault("api.example.com", 5, 1)
	if got := l.Rate("api.example.com:443"); got != 5 {
		t.Errorf("default: %v", got)
	}
	l.Set("api.example.com", 2, 1)
	l.SetDefault("api.example.com", 5, 1)
	if got := l.Rate("api.example.com:8443"); got != 2 {
		t.Errorf("Set then SetDefault: %v", got)
	}
	l.Set("127.0.0.1:9000", 1, 1)
	if l.Rate("127.0.0.1:9000") != 1 || l.Rate("127.0.0.1:9001") != 0 {
		t.Error("host:port limits that port only")
	}
	l.Set("stac.example.com", 0, 1)
	l.SetDefault("stac.example.com", 5, 1)
	if got := l.Rate("stac.example.com"); got != 0 {
		t.Errorf("removed, then defaulted: %v", got)
	}
	var zero ratelimit.Limiter
	if err := zero.Wait(context.Background(), "x:1"); err != nil || zero.Rate("x") != 0 {
		t.Error("the zero Limiter limits")
	}
}

// A request waiting for its turn gives up when its context ends.
func TestWaitCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var l ratelimit.Limiter
		l.Set("h", 0.1, 1) // one request every 10s
		if err := l.Wait(t.Context(), "h"); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		if err := l.Wait(ctx, "h"); err == nil {
			t.Error("waited past the deadline")
		}
	})
}
