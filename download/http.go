package download

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/stacq/stacq/internal/httprange"
)

// maxRedirects bounds the redirects followed for one request.
const maxRedirects = 10

// get requests href from offset (with If-Range: validator), following
// redirects hop by hop, each through the client the Router picks for it.
func (d *Downloader) get(ctx context.Context, href string, offset int64, validator string) (*Object, error) {
	u, err := url.Parse(href)
	if err != nil {
		return nil, fmt.Errorf("href %s is not a URL", redactedHref(href))
	}
	for hop := 0; ; hop++ {
		hc, authenticated := d.router.Client(u)
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
		if err != nil {
			return nil, fmt.Errorf("GET %s: %w", redactedHref(u.String()), err)
		}
		// The bytes as stored: sizes, ranges and checksums are of those.
		req.Header.Set("Accept-Encoding", "identity")
		req.Header.Set("User-Agent", d.opts.UserAgent)
		if offset > 0 {
			req.Header.Set("Range", "bytes="+strconv.FormatInt(offset, 10)+"-")
			if validator != "" {
				req.Header.Set("If-Range", validator)
			}
		}
		resp, err := hc.Do(req)
		if err != nil {
			return nil, fmt.Errorf("GET %s: %w", redactedHref(u.String()), transportError(err))
		}
		switch resp.StatusCode {
		case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
			http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
			drain(resp.Body)
			next, err := redirect(u, resp.Header.Get("Location"), hop)
			if err != nil {
				return nil, err
			}
			u = next
			continue
		case http.StatusOK:
			return &Object{Body: resp.Body, Size: resp.ContentLength, Validator: validatorOf(resp.Header)}, nil
		case http.StatusPartialContent:
			start, _, total, ok := httprange.ParseContentRange(resp.Header.Get("Content-Range"))
			if !ok || start != offset {
				// Not the range asked for: ask for the whole file.
				drain(resp.Body)
				return d.get(ctx, href, 0, "")
			}
			v := validatorOf(resp.Header)
			if v == "" {
				v = validator
			}
			return &Object{Body: resp.Body, Offset: start, Size: total, Validator: v}, nil
		case http.StatusRequestedRangeNotSatisfiable:
			_, _, total, ok := httprange.ParseContentRange(resp.Header.Get("Content-Range"))
			drain(resp.Body)
			if ok && total == offset {
				// The .part file is complete already.
				return &Object{Body: http.NoBody, Offset: offset, Size: total, Validator: validator}, nil
			}
			return d.get(ctx, href, 0, "")
		}
		return nil, refusal(resp, u, authenticated)
	}
}

// redirect resolves a Location, refusing what stacq does not follow.
func redirect(from *url.URL, location string, hop int) (*url.URL, error) {
	f := redactedHref(from.String())
	if location == "" {
		return nil, &RedirectError{From: f, Reason: "a redirect without a Location"}
	}
	next, err := from.Parse(location)
	if err != nil {
		return nil, &RedirectError{From: f, Reason: "a redirect to a malformed Location"}
	}
	to := redactedHref(next.String())
	switch {
	case hop >= maxRedirects:
		return nil, &RedirectError{From: f, To: to, Reason: fmt.Sprintf("more than %d redirects", maxRedirects)}
	case from.Scheme == "https" && next.Scheme != "https":
		return nil, &RedirectError{From: f, To: to, Reason: "it leaves https for " + next.Scheme + ", where the file could be read and altered on the way"}
	case next.Scheme != "http" && next.Scheme != "https":
		return nil, &RedirectError{From: f, To: to, Reason: "not an http(s) URL"}
	}
	return next, nil
}

// refusal reads an error response into an *HTTPError, with a hint at
// what to do.
func refusal(resp *http.Response, u *url.URL, authenticated bool) error {
	defer drain(resp.Body)
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 16<<10))
	e := &HTTPError{StatusCode: resp.StatusCode, URL: redactedHref(u.String()), Message: errorExcerpt(resp.Header, body)}
	switch code := resp.StatusCode; {
	case (code == http.StatusForbidden || code == http.StatusBadRequest) && IsPresigned(u):
		e.Hint = "the signed URL was refused; it may have expired: search again for fresh hrefs"
	case (code == http.StatusUnauthorized || code == http.StatusForbidden) && authenticated:
		e.Hint = "the credentials were refused"
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		e.Hint = "sent without credentials: this host needs a signer (--signer) or credentials routed to it"
	}
	return e
}

// drain reads a little of a body being discarded, so that its connection
// can be reused, and closes it.
func drain(rc io.ReadCloser) {
	io.Copy(io.Discard, io.LimitReader(rc, 64<<10))
	rc.Close()
}

// validatorOf returns the strong ETag of a response, else its
// Last-Modified, for If-Range (weak ETags cannot be used there).
func validatorOf(h http.Header) string {
	if etag := strings.TrimSpace(h.Get("ETag")); etag != "" && !strings.HasPrefix(etag, "W/") {
		return etag
	}
	return strings.TrimSpace(h.Get("Last-Modified"))
}
