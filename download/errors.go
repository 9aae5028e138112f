package download

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/go-json-experiment/json"

	"github.com/stacq/stacq/retry"
)

// HTTPError is an asset server's (or the SAS API's) refusal. The URL has
// its credentials masked.
type HTTPError struct {
	StatusCode int
	URL        string
	// Message is the server's explanation, clipped: an S3 or Azure error
	// code and message, a JSON "message", or a short text body.
	Message string
	// Hint says what to do, when stacq can tell.
	Hint string
}

// Error formats the refusal: method, URL, status, message and hint.
func (e *HTTPError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "GET %s: %d %s", e.URL, e.StatusCode, http.StatusText(e.StatusCode))
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	if e.Hint != "" {
		fmt.Fprintf(&b, " (%s)", e.Hint)
	}
	return b.String()
}

// Retryable reports whether the status is a transient one (retry.Policy
// retries it).
func (e *HTTPError) Retryable() bool { return retry.RetryableStatus(e.StatusCode) }

// VerifyError is a downloaded file that does not match what its item says
// of it: its file:size or its file:checksum. The file is left as Path
// (the .part file), never renamed into place; Path is "" when the server
// announced another size and nothing was downloaded.
type VerifyError struct {
	Path      string
	What      string // "file:size" or "file:checksum (sha2-256)"
	Want, Got string
}

// Error says what did not match, and where the download is kept.
func (e *VerifyError) Error() string {
	msg := fmt.Sprintf("%s mismatch: expected %s, got %s", e.What, e.Want, e.Got)
	if e.Path != "" {
		msg += "; the download is kept as " + e.Path
	}
	return msg
}

// LayoutError is a layout template, or a value put into it, that would
// not give a path inside the download directory.
type LayoutError struct {
	Template string
	Pos      int    // byte offset in Template of a template error
	Value    string // the offending value, for a value error
	Reason   string
}

// Error names the template, and the offending value or position.
func (e *LayoutError) Error() string {
	if e.Value != "" {
		return fmt.Sprintf("layout %q: %s (%q)", e.Template, e.Reason, e.Value)
	}
	if e.Pos > 0 {
		return fmt.Sprintf("layout %q at byte %d: %s", e.Template, e.Pos, e.Reason)
	}
	return fmt.Sprintf("layout %q: %s", e.Template, e.Reason)
}

// RedirectError is a redirect the downloader does not follow: from https
// to http, without a Location, or one too many.
type RedirectError struct {
	From, To string // redacted
	Reason   string
}

// Error names the redirect and why it is not followed.
func (e *RedirectError) Error() string {
	if e.To == "" {
		return fmt.Sprintf("GET %s: %s", e.From, e.Reason)
	}
	return fmt.Sprintf("GET %s: redirect to %s refused: %s", e.From, e.To, e.Reason)
}

// ConflictError is an asset whose destination is already that of another
// asset with a different href.
type ConflictError struct {
	Path  string
	Other string // "item/asset" that has it
}

// Error names both assets and what to change.
func (e *ConflictError) Error() string {
	return fmt.Sprintf("%s is also the destination of %s, from another href; add {asset} or {id} to the layout", e.Path, e.Other)
}

// FailedError is Run's error when assets failed: each with its error.
type FailedError struct {
	Failed []*Result
}

// Error lists each failed asset, one per line.
func (e *FailedError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d asset", len(e.Failed))
	if len(e.Failed) != 1 {
		b.WriteString("s")
	}
	b.WriteString(" failed:")
	for _, r := range e.Failed {
		fmt.Fprintf(&b, "\n  %s/%s: %v", r.Item, r.Asset, r.Err)
	}
	return b.String()
}

// transportError removes the URL a *url.Error quotes (it may hold a
// signature), keeping what went wrong; errors.Is/As still see the cause.
func transportError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// errorExcerpt extracts a server's explanation from an error body: the
// Code and Message of an S3 or Azure XML error, a JSON message, or a
// short text; "" for HTML pages.
func errorExcerpt(h http.Header, body []byte) string {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return ""
	}
	if bytes.HasPrefix(body, []byte("<?xml")) || bytes.HasPrefix(body, []byte("<Error")) {
		code, msg := xmlText(body, "Code"), xmlText(body, "Message")
		switch {
		case code != "" && msg != "":
			return clip(code+": "+msg, 200)
		case code != "":
			return code
		}
		return ""
	}
	if body[0] == '{' {
		var m map[string]any
		if json.Unmarshal(body, &m) == nil {
			for _, k := range []string{"message", "detail", "error_description", "description", "error"} {
				if s, ok := m[k].(string); ok && s != "" {
					return clip(s, 200)
				}
			}
		}
		return ""
	}
	if strings.HasPrefix(h.Get("Content-Type"), "text/html") || body[0] == '<' {
		return ""
	}
	return clip(strings.ToValidUTF8(string(body), "?"), 200)
}

// xmlText returns the text of the first <tag> element, for error bodies.
func xmlText(body []byte, tag string) string {
	open, end := []byte("<"+tag+">"), []byte("</"+tag+">")
	i := bytes.Index(body, open)
	if i < 0 {
		return ""
	}
	rest := body[i+len(open):]
	j := bytes.Index(rest, end)
	if j < 0 {
		return ""
	}
	return strings.TrimSpace(string(rest[:j]))
}
