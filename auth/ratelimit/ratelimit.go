// Package ratelimit holds a client to a request rate per host, so that
// parallel searches and crawls stay under a server's limit instead of
// bouncing off it with 429 Too Many Requests.
//
// One Limiter is meant to be shared by every request of a process (API
// requests, token requests, every client): a host's budget is then spent
// once, whichever client spends it. Its Transport sits under retries, so
// that each attempt waits its turn:
//
//	retry.Policy.Transport(limiter.Transport(http.DefaultTransport))
package ratelimit

import (
	"context"
	"net"
	"net/http"
	"strings"
	"sync"

	"golang.org/x/time/rate"
)

// Limiter holds per-host request rates. The zero value limits nothing and
// is ready to use; a Limiter is safe for concurrent use.
type Limiter struct {
	mu    sync.Mutex
	hosts map[string]*rate.Limiter // "host" (every port) or "host:port"
	set   map[string]bool          // hosts whose rate was Set, not defaulted
}

// Set limits requests to host to perSecond (a fractional rate is fine:
// 0.5 is one request every 2 seconds), with bursts of burst requests (at
// least 1). host is a name ("api.planet.com": every port) or a host:port.
// perSecond 0 or below removes the limit. Set wins over SetDefault,
// whatever the order.
func (l *Limiter) Set(host string, perSecond float64, burst int) {
	l.put(host, perSecond, burst, true)
}

// SetDefault limits host like Set unless a rate was Set for it already:
// a provider's documented limit that the user may override.
func (l *Limiter) SetDefault(host string, perSecond float64, burst int) {
	l.put(host, perSecond, burst, false)
}

func (l *Limiter) put(host string, perSecond float64, burst int, explicit bool) {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.hosts == nil {
		l.hosts, l.set = map[string]*rate.Limiter{}, map[string]bool{}
	}
	if !explicit && l.set[host] {
		return
	}
	if explicit {
		l.set[host] = true
	}
	if perSecond <= 0 {
		if explicit {
			l.hosts[host] = nil // no limit, and no default either
		} else {
			delete(l.hosts, host)
		}
		return
	}
	l.hosts[host] = rate.NewLimiter(rate.Limit(perSecond), max(burst, 1))
}

// Rate returns the rate applying to host ("name" or "name:port"): 0 when
// none.
func (l *Limiter) Rate(host string) float64 {
	if rl := l.lookup(host); rl != nil {
		return float64(rl.Limit())
	}
	return 0
}

func (l *Limiter) lookup(hostport string) *rate.Limiter {
	hostport = strings.ToLower(hostport)
	l.mu.Lock()
	defer l.mu.Unlock()
	if rl, ok := l.hosts[hostport]; ok {
		return rl
	}
	name := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		name = h
	}
	return l.hosts[strings.TrimSuffix(name, ".")]
}

// Wait blocks until a request to host ("name:port", as in URL.Host) may
// be sent, or ctx ends.
func (l *Limiter) Wait(ctx context.Context, host string) error {
	rl := l.lookup(host)
	if rl == nil {
		return nil
	}
	return rl.Wait(ctx)
}

// Transport returns a RoundTripper that waits for each request's host
// before sending it through base (http.DefaultTransport when nil).
func (l *Limiter) Transport(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return &transport{l: l, base: base}
}

type transport struct {
	l    *Limiter
	base http.RoundTripper
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := t.l.Wait(req.Context(), req.URL.Host); err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, err
	}
	return t.base.RoundTrip(req)
}

// Unwrap returns the transport below the limiter.
func (t *transport) Unwrap() http.RoundTripper { return t.base }
