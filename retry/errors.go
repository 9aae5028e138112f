package retry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"time"
)

// Error is the failure of a request or unit of work that was retried: how
// many attempts were made and what the last one ended with. Last stays
// reachable with errors.As / errors.Is (a stac.HTTPError, a net.Error).
type Error struct {
	Attempts int           // attempts made, the first included
	Waited   time.Duration // total time spent waiting between them
	// LastStatus is the HTTP status of the last attempt when it failed
	// with one, else 0.
	LastStatus int
	Last       error // the last attempt's error
	// Reason says why retrying stopped when it was not the attempt count:
	// the wait budget, or a Retry-After over the cap. Empty otherwise.
	Reason string
}

// Error implements the error interface.
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "gave up after %d attempts", e.Attempts)
	if e.Waited > 0 {
		fmt.Fprintf(&b, " over %s", e.Waited.Round(time.Millisecond))
	}
	if e.Reason != "" && e.Reason != "attempts exhausted" {
		fmt.Fprintf(&b, " (%s)", e.Reason)
	}
	switch {
	case e.Last != nil:
		fmt.Fprintf(&b, ": %v", e.Last)
	case e.LastStatus != 0:
		fmt.Fprintf(&b, ": HTTP %d %s", e.LastStatus, http.StatusText(e.LastStatus))
	}
	return b.String()
}

// Unwrap returns the underlying error, for errors.Is and errors.As.
func (e *Error) Unwrap() error { return e.Last }

// RetryableStatus reports whether an HTTP status is transient: 408, 429,
// 500, 502, 503 and 504. 401 is not (the auth layer renews credentials),
// nor is any other 4xx: the same request would fail the same way.
func RetryableStatus(code int) bool {
	switch code {
	case http.StatusRequestTimeout, http.StatusTooManyRequests,
		http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// Retryable reports whether err is a transient failure worth another
// attempt: a refused, reset or dropped connection, a timeout, or a
// response body cut short (see BodyRetryable). A cancelled context is not;
// neither is an *Error (retries already ran out). An error in the chain
// with a method Retryable() bool decides for itself: that is how other
// layers (a token endpoint's 503 from the auth package) take part.
func Retryable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	var given *Error
	if errors.As(err, &given) {
		return false
	}
	var r interface{ Retryable() bool }
	if errors.As(err, &r) {
		return r.Retryable()
	}
	var te *timeoutError
	if errors.As(err, &te) {
		return true
	}
	// A deadline of the caller's context is not transient; an attempt's
	// own timeout is turned into a timeoutError before it gets here.
	if errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	if connectionFailure(err) {
		return true
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return dns.IsTimeout || dns.IsTemporary
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	return BodyRetryable(err)
}

// BodyRetryable reports whether err, met while reading or decoding a
// response body, means the body was cut short rather than wrong: an
// unexpected EOF (which is also how a decoder reports a document that ends
// before it is complete, the signature of a truncated page), a connection
// reset or timeout mid-body. A document that is complete but invalid is not
// retryable: the server would send it again.
func BodyRetryable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || connectionFailure(err) {
		return true
	}
	var te *timeoutError
	if errors.As(err, &te) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() && !errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	return false
}

// connectionFailure: the connection was refused, reset, aborted or closed
// before the exchange completed.
func connectionFailure(err error) bool {
	switch {
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.ECONNABORTED), errors.Is(err, syscall.EPIPE):
		return true
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed):
		// net/http reports a connection closed before any response as EOF.
		return true
	}
	// HTTP/2 failures have no exported types in net/http: a stream reset
	// by the server or a proxy, a GOAWAY, a lost connection.
	msg := err.Error()
	for _, s := range []string{"stream error: ", "server sent GOAWAY", "http2: client connection lost", "http2: client connection force closed"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// timeoutError is an attempt that ran past Policy.AttemptTimeout.
type timeoutError struct{ d time.Duration }

// Error implements the error interface.
func (e *timeoutError) Error() string {
	return fmt.Sprintf("attempt timed out after %s", e.d)
}
func (e *timeoutError) Timeout() bool   { return true }
func (e *timeoutError) Temporary() bool { return true }
