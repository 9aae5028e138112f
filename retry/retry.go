// Package retry retries the transient failures of HTTP requests to STAC
// APIs: refused or reset connections, timeouts, and the statuses 408, 429,
// 500, 502, 503 and 504. It waits with exponential backoff and full jitter,
// honours Retry-After up to a cap, and bounds both the number of attempts
// and the total time spent waiting.
//
// Two layers share one Policy:
//
//   - Policy.Transport wraps an http.RoundTripper and retries one request
//     until it gets a response worth handing back (POST bodies are
//     replayed: stacq's searches are reads).
//   - Policy.Do retries a whole unit of work, such as fetching and decoding
//     one search page, when the failure happens after the response started:
//     a body cut short, a connection reset mid-body, a truncated JSON page.
//
// When Do runs a function whose requests go through the Transport, both
// layers draw on one budget (attempts and waiting) carried by the context,
// so a page is tried at most MaxAttempts times whichever layer retries it.
//
// A 401 is never retried here: renewing credentials is the auth layer's job.
package retry

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"time"
)

// Defaults of a zero Policy.
const (
	DefaultMaxAttempts   = 5
	DefaultBaseDelay     = 500 * time.Millisecond
	DefaultMaxDelay      = 30 * time.Second
	DefaultMaxWait       = 2 * time.Minute
	DefaultMaxRetryAfter = 60 * time.Second
)

// Policy says which failures are retried, how often and how long to wait.
// The zero value uses the defaults above; a Policy is a value and safe to
// share between goroutines.
type Policy struct {
	// MaxAttempts bounds the tries of one request or unit of work, the
	// first included: 1 disables retries, 0 means DefaultMaxAttempts.
	MaxAttempts int
	// BaseDelay is the backoff before the first retry; it doubles with each
	// retry up to MaxDelay, and the wait is drawn uniformly between 0 and
	// that bound ("full jitter"), so clients that failed together do not
	// come back together.
	BaseDelay time.Duration
	MaxDelay  time.Duration // the largest backoff bound; see BaseDelay
	// MaxWait bounds the total time spent waiting between attempts of one
	// request or unit of work: a retry whose wait would cross it is not
	// made, and the last failure is returned instead.
	MaxWait time.Duration
	// MaxRetryAfter caps the Retry-After a server may ask for. A longer one
	// ends the retries at once: waiting a shorter time than asked would
	// only earn another refusal.
	MaxRetryAfter time.Duration
	// AttemptTimeout, when set, bounds each attempt of the Transport,
	// reading the response body included. A timed-out attempt is retried.
	// Use it instead of http.Client.Timeout, which would bound all the
	// attempts together.
	AttemptTimeout time.Duration
	// OnRetry, when set, is called before each wait, e.g. to log retries.
	// It must not block.
	OnRetry func(Info)

	// sleep is a test seam: waits d or until ctx ends.
	sleep func(ctx context.Context, d time.Duration) error
	// rand is a test seam: a number in [0, 1).
	rand func() float64
}

// Info describes one retry, for Policy.OnRetry.
type Info struct {
	// Attempt is the attempt that failed, from 1; Max is MaxAttempts.
	Attempt, Max int
	// Method and URL are those of the request that failed, the URL with
	// credentials removed (user info and credential query parameters
	// masked). Both are empty when Do's
	// function failed without a request through the Transport.
	Method, URL string
	// Status is the HTTP status that failed, 0 for an error.
	Status int
	// Err is the error that failed, nil for a status.
	Err error
	// Wait is how long until the next attempt; RetryAfter says it is what
	// the server asked for.
	Wait       time.Duration
	RetryAfter bool // Wait is the server's Retry-After
}

// orDefault is v, or def when v is zero or negative: a Policy field left
// unset takes its default.
func orDefault[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

func (p Policy) maxAttempts() int         { return orDefault(p.MaxAttempts, DefaultMaxAttempts) }
func (p Policy) baseDelay() time.Duration { return orDefault(p.BaseDelay, DefaultBaseDelay) }
func (p Policy) maxDelay() time.Duration  { return orDefault(p.MaxDelay, DefaultMaxDelay) }
func (p Policy) maxWait() time.Duration   { return orDefault(p.MaxWait, DefaultMaxWait) }
func (p Policy) maxRetryAfter() time.Duration {
	return orDefault(p.MaxRetryAfter, DefaultMaxRetryAfter)
}

// Backoff returns the bound of the wait before retry number n (from 1):
// BaseDelay·2^(n-1), at most MaxDelay. The wait itself is drawn between 0
// and this bound.
func (p Policy) Backoff(n int) time.Duration {
	d, limit := p.baseDelay(), p.maxDelay()
	for i := 1; i < n && d < limit; i++ {
		d *= 2
	}
	return min(d, limit)
}

// Budget returns the most time retries can add to one request or unit of
// work: MaxWait, or the sum of the backoff bounds when that is smaller.
// Attempt time (AttemptTimeout) comes on top.
func (p Policy) Budget() time.Duration {
	var sum time.Duration
	for n := 1; n < p.maxAttempts(); n++ {
		sum += p.Backoff(n)
	}
	return min(sum, p.maxWait())
}

func (p Policy) jitter(bound time.Duration) time.Duration {
	r := rand.Float64
	if p.rand != nil {
		r = p.rand
	}
	return time.Duration(r() * float64(bound))
}

func (p Policy) wait(ctx context.Context, d time.Duration) error {
	if p.sleep != nil {
		return p.sleep(ctx, d)
	}
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// budget is what one request or unit of work has used of its Policy. Do
// puts one in the context so that the Transport under it draws on the same.
type budget struct {
	mu         sync.Mutex
	retries    int           // retries made so far
	waited     time.Duration // sum of the waits
	lastStatus int
	lastErr    error
	method     string
	url        string // redacted
}

type budgetKey struct{}

func budgetFrom(ctx context.Context) *budget {
	b, _ := ctx.Value(budgetKey{}).(*budget)
	return b
}

// failure is one failed attempt, for next.
type failure struct {
	status     int
	err        error
	retryAfter time.Duration // from the server; -1 when absent
	method     string
	url        string
}

// decision is what next decided.
type decision struct {
	retry bool
	wait  time.Duration
	// why the retries stop, for Error.Reason; "" when retry.
	reason string
}

// next records failure f in b and decides whether to retry and after how
// long. The caller has already decided that f is retryable in kind.
func (p Policy) next(b *budget, f failure) (decision, Info) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.lastStatus, b.lastErr = f.status, f.err
	if f.url != "" {
		b.method, b.url = f.method, f.url
	}
	info := Info{Attempt: b.retries + 1, Max: p.maxAttempts(), Method: b.method, URL: b.url, Status: f.status, Err: f.err}
	if b.retries+1 >= p.maxAttempts() {
		return decision{reason: "attempts exhausted"}, info
	}
	var wait time.Duration
	if f.retryAfter >= 0 {
		if f.retryAfter > p.maxRetryAfter() {
			return decision{reason: "the server asked to wait " + f.retryAfter.String() +
				", more than the " + p.maxRetryAfter().String() + " cap"}, info
		}
		wait, info.RetryAfter = f.retryAfter, true
	} else {
		wait = p.jitter(p.Backoff(b.retries + 1))
	}
	if b.waited+wait > p.maxWait() {
		return decision{reason: "wait budget of " + p.maxWait().String() + " exhausted"}, info
	}
	b.retries++
	b.waited += wait
	info.Wait = wait
	return decision{retry: true, wait: wait}, info
}

// Do calls fn until it succeeds, fails in a way not worth retrying, or the
// policy's attempts or wait budget run out. fn gets a context carrying the
// budget, to pass to its requests: when they go through Policy.Transport,
// the retries of either layer count against the same attempts and waiting.
// attempt counts fn's calls from 1.
//
// Do retries the failures Retryable accepts, except an *Error (a Transport
// that already gave up). It returns nil, fn's error when nothing was
// retried, the context's error when ctx ends (waits are cut short), or an
// *Error wrapping the last failure after retries.
func (p Policy) Do(ctx context.Context, fn func(ctx context.Context, attempt int) error) error {
	b := budgetFrom(ctx)
	if b == nil {
		b = &budget{}
		ctx = context.WithValue(ctx, budgetKey{}, b)
	}
	for attempt := 1; ; attempt++ {
		err := fn(ctx, attempt)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return err
		}
		var given *Error
		if errors.As(err, &given) || !Retryable(err) {
			return p.final(b, err, "")
		}
		d, info := p.next(b, failure{err: err, retryAfter: -1})
		if !d.retry {
			return p.final(b, err, d.reason)
		}
		if p.OnRetry != nil {
			p.OnRetry(info)
		}
		if werr := p.wait(ctx, d.wait); werr != nil {
			return werr
		}
	}
}

// final wraps err in an *Error when retries were made, so that the count
// reaches the caller; err itself stays reachable through errors.As.
func (p Policy) final(b *budget, err error, reason string) error {
	var given *Error
	if errors.As(err, &given) {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.retries == 0 {
		return err
	}
	// The Transport records the status of its last answer, so a status
	// error built from it by the caller (stac's HTTPError) keeps its code.
	return &Error{Attempts: b.retries + 1, Waited: b.waited, LastStatus: b.lastStatus, Last: err, Reason: reason}
}
