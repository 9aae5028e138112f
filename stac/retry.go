package stac

import (
	"context"

	"github.com/stacq/stacq/retry"
)

// WithRetry makes the Client retry each page of a listing (search, items,
// collections) as one unit: fetched and decoded again when its body is
// cut short, its connection drops mid-body or its JSON ends early. A
// page's items are handed on only once it decoded completely, so a retry
// neither loses nor repeats any; after the last attempt the listing ends
// with the error, after the items of the pages before.
//
// Retrying statuses (429, 503, ...) and connection failures is the job of
// the HTTP client's transport: give the Client one whose Transport is
// p.Transport (see WithHTTPClient). A Client given such a transport, also
// under layers that unwrap to it (retry.PolicyOf), such as the client of
// provider.Resolved with Settings.Retry, retries pages with its policy
// without WithRetry, which is then needed only for another policy or for
// an HTTP client that does not retry. Both layers draw on one budget
// per page, so a page is tried at most p.MaxAttempts times, and a page
// that fails after retries gives a *retry.Error (errors.As) with the
// attempt count, wrapping the usual *HTTPError or *DecodeError.
func WithRetry(p retry.Policy) Option {
	return func(c *Client) { c.retry = &p }
}

// retried returns fetch retried as a unit under the client's policy, or
// fetch itself without one.
func retried[P any](c *Client, fetch func(context.Context, *request) (P, error)) func(context.Context, *request) (P, error) {
	if c.retry == nil {
		return fetch
	}
	policy := *c.retry
	return func(ctx context.Context, r *request) (P, error) {
		var page P
		err := policy.Do(ctx, func(ctx context.Context, _ int) error {
			p, err := fetch(ctx, r)
			if err == nil {
				page = p
			}
			return err
		})
		return page, err
	}
}
