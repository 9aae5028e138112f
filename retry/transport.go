package retry

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/stacq/stacq/internal/redact"
	"github.com/stacq/stacq/internal/replay"
)

// AttemptsHeader is set on a response the Transport hands back after
// retrying: the number of attempts made, for callers that only see the
// response. Attempts reads it.
const AttemptsHeader = "X-Stacq-Attempts"

// Transport returns a RoundTripper that sends each request through base
// (http.DefaultTransport when nil) and retries it on transient failures.
//
// When the retries end on an HTTP status (a 503 that did not go away), the
// last response itself is returned, with AttemptsHeader set, so the caller
// still reads the server's error message and builds its own typed error;
// under Do, the count also reaches Do's *Error. When they end on an error
// (connection refused), the error is an *Error wrapping the last one.
//
// Request bodies are replayed: from req.GetBody when set, else from a copy
// buffered on the first attempt. Every method is retried; stacq only
// reads, POST /search included.
func (p Policy) Transport(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return &transport{p: p, base: base}
}

type transport struct {
	p    Policy
	base http.RoundTripper
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	first, getBody, err := replay.Body(req)
	if err != nil {
		return nil, err
	}
	b := budgetFrom(ctx)
	if b == nil {
		b = &budget{}
	}
	method, rurl := req.Method, redact.URL(req.URL.String())
	for attempt := 1; ; attempt++ {
		body := first
		if attempt > 1 && getBody != nil {
			if body, err = getBody(); err != nil {
				return nil, err
			}
		}
		resp, cancel, err := t.attempt(ctx, req, body, getBody)
		if err != nil {
			if ctx.Err() != nil {
				return nil, err
			}
			if !Retryable(err) || body != nil && getBody == nil {
				// Not transient, or the body cannot be sent again.
				return nil, t.p.final(b, err, "")
			}
			d, info := t.p.next(b, failure{err: err, retryAfter: -1, method: method, url: rurl})
			if !d.retry {
				return nil, &Error{Attempts: info.Attempt, Waited: b.waited, Last: err, Reason: d.reason}
			}
			if err := t.retry(ctx, info, d.wait); err != nil {
				return nil, err
			}
			continue
		}
		status := resp.StatusCode
		var d decision
		var info Info
		if RetryableStatus(status) && (body == nil || getBody != nil) {
			ra := time.Duration(-1)
			if v := resp.Header.Get("Retry-After"); v != "" {
				if w, ok := ParseRetryAfter(v, time.Now()); ok {
					ra = w
				}
			}
			d, info = t.p.next(b, failure{status: status, retryAfter: ra, method: method, url: rurl})
		}
		if !d.retry {
			b.mu.Lock()
			b.lastStatus, b.lastErr = 0, nil
			if status >= 400 {
				b.lastStatus = status
			}
			if b.retries > 0 {
				resp.Header.Set(AttemptsHeader, strconv.Itoa(b.retries+1))
			}
			b.mu.Unlock()
			return resp, nil
		}
		drain(resp.Body)
		cancel()
		if err := t.retry(ctx, info, d.wait); err != nil {
			return nil, err
		}
	}
}

// attempt sends one copy of req with body, bounded by AttemptTimeout. The
// returned cancel releases the attempt's timer; on success it is also tied
// to the response body, so the timeout covers reading it.
func (t *transport) attempt(ctx context.Context, req *http.Request, body io.ReadCloser, getBody func() (io.ReadCloser, error)) (*http.Response, context.CancelFunc, error) {
	actx, cancel := ctx, context.CancelFunc(func() {})
	if t.p.AttemptTimeout > 0 {
		actx, cancel = context.WithTimeout(ctx, t.p.AttemptTimeout)
	}
	r2 := req.WithContext(actx)
	if body != nil {
		r2.Body, r2.GetBody = body, getBody
	}
	resp, err := t.base.RoundTrip(r2)
	if err != nil {
		// Only the attempt's own deadline makes a timeout; checked before
		// cancel, which would make every failure look like one.
		if ctx.Err() == nil && errors.Is(actx.Err(), context.DeadlineExceeded) {
			err = &timeoutError{d: t.p.AttemptTimeout}
		}
		cancel()
		return nil, cancel, err
	}
	// The caller sees its own request, not the attempt's copy: a decoder
	// that checks resp.Request.Context() to tell a cancellation from a bad
	// body must not take an attempt's timeout for the caller's cancel.
	resp.Request = req
	if t.p.AttemptTimeout > 0 {
		resp.Body = &timedBody{rc: resp.Body, cancel: cancel, parent: ctx, actx: actx, d: t.p.AttemptTimeout}
	}
	return resp, cancel, nil
}

// retry reports a retry and waits for it.
func (t *transport) retry(ctx context.Context, info Info, wait time.Duration) error {
	if t.p.OnRetry != nil {
		t.p.OnRetry(info)
	}
	return t.p.wait(ctx, wait)
}

// timedBody ends an attempt's timer when the body is closed, and reports a
// read cut by that timer as a timeout (retryable) rather than as the
// cancellation it is underneath.
type timedBody struct {
	rc     io.ReadCloser
	cancel context.CancelFunc
	parent context.Context
	actx   context.Context
	d      time.Duration
}

func (b *timedBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if err != nil && err != io.EOF && b.parent.Err() == nil && errors.Is(b.actx.Err(), context.DeadlineExceeded) {
		err = &timeoutError{d: b.d}
	}
	return n, err
}

func (b *timedBody) Close() error {
	err := b.rc.Close()
	b.cancel()
	return err
}

// drain reads a little of a body being discarded, so its connection can be
// reused, and closes it.
func drain(rc io.ReadCloser) {
	io.Copy(io.Discard, io.LimitReader(rc, 64<<10))
	rc.Close()
}

// Attempts returns how many attempts the Transport made for resp: the
// AttemptsHeader value, else 1.
func Attempts(resp *http.Response) int {
	if resp == nil {
		return 0
	}
	if n, err := strconv.Atoi(resp.Header.Get(AttemptsHeader)); err == nil && n > 0 {
		return n
	}
	return 1
}

// ParseRetryAfter reads a Retry-After value: delay seconds or an HTTP date
// (a date in the past is 0). ok is false for anything else.
func ParseRetryAfter(v string, now time.Time) (d time.Duration, ok bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if v[0] >= '0' && v[0] <= '9' {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			if errors.Is(err, strconv.ErrRange) {
				return time.Duration(1<<63 - 1), true
			}
			return 0, false
		}
		if n > int64((1<<63-1)/time.Second) {
			return time.Duration(1<<63 - 1), true
		}
		return time.Duration(n) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return max(t.Sub(now), 0), true
}

// PolicyOf returns the policy of the retrying layer in a chain of
// transports: rt itself when Policy.Transport made it, else the layers
// below it, found through their Unwrap() http.RoundTripper methods (the
// auth and rate-limit transports have one). ok is false when no layer
// retries. It lets a client that is handed an *http.Client retry whole
// pages with the same policy its transport retries requests with, so
// that one setting turns on both.
func PolicyOf(rt http.RoundTripper) (p Policy, ok bool) {
	for range 64 { // a bound, for a chain that wraps itself
		switch t := rt.(type) {
		case *transport:
			return t.p, true
		case interface{ Unwrap() http.RoundTripper }:
			rt = t.Unwrap()
		default:
			return Policy{}, false
		}
	}
	return Policy{}, false
}
