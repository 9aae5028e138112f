package stac

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/stacq/stacq/internal/redact"
	"github.com/stacq/stacq/internal/termsafe"
)

// Sentinel errors matched with errors.Is.
var (
	// ErrNotFound matches an *HTTPError with status 404 or 410.
	ErrNotFound = errors.New("not found")
	// ErrUnauthorized matches an *HTTPError with status 401 or 403: the
	// credentials are missing, wrong or not allowed to see the resource.
	ErrUnauthorized = errors.New("unauthorized")
	// ErrNoCount is returned by Matched when the server reports neither
	// numberMatched nor context.matched.
	ErrNoCount = errors.New("the server does not report numberMatched or context.matched")
)

// HTTPError is a response with a status other than 2xx. STAC APIs answer
// errors with {"code": ..., "description": ...}; other shapes ({"detail"},
// {"message"}, OAuth2's {"error", "error_description"}) fill the same
// fields. A body that is none of these is summarised in Snippet.
type HTTPError struct {
	Method      string
	URL         string // credentials removed
	StatusCode  int
	Code        string // the server's error code, when it sent one
	Description string // the server's message, when it sent one
	// Snippet is the start of a body that is not a known JSON error shape
	// (an HTML error page, say), on one line.
	Snippet string
}

// Error implements the error interface.
func (e *HTTPError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: %d %s", e.Method, e.URL, e.StatusCode, http.StatusText(e.StatusCode))
	switch {
	case e.Code != "" && e.Description != "":
		fmt.Fprintf(&b, ": %s: %s", e.Code, e.Description)
	case e.Code != "" || e.Description != "":
		fmt.Fprintf(&b, ": %s%s", e.Code, e.Description)
	case e.Snippet != "":
		fmt.Fprintf(&b, ": %q", e.Snippet)
	}
	return b.String()
}

// Is reports whether the status matches ErrNotFound or ErrUnauthorized.
func (e *HTTPError) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound || e.StatusCode == http.StatusGone
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized || e.StatusCode == http.StatusForbidden
	}
	return false
}

// NotSTACError says that a URL given as a STAC API root is not one: an HTML
// page, a 404, a static catalog, a lone collection or item, or JSON that is
// not STAC at all. Err, when set, is the underlying error (an *HTTPError
// for a 404).
type NotSTACError struct {
	URL    string // credentials removed
	Reason string
	Err    error
}

// Error implements the error interface.
func (e *NotSTACError) Error() string { return e.URL + ": " + e.Reason }

// Unwrap returns the underlying error, for errors.Is and errors.As.
func (e *NotSTACError) Unwrap() error { return e.Err }

// DecodeError is a 2xx response whose body could not be decoded as the
// expected document.
type DecodeError struct {
	Method      string
	URL         string // credentials removed
	ContentType string
	Snippet     string // the start of the body, on one line
	Err         error
}

// Error implements the error interface.
func (e *DecodeError) Error() string {
	ct := e.ContentType
	if ct == "" {
		ct = "no content type"
	}
	return fmt.Sprintf("%s %s: cannot decode the response (%s, starting %q): %v", e.Method, e.URL, ct, e.Snippet, e.Err)
}

// Unwrap returns the underlying error, for errors.Is and errors.As.
func (e *DecodeError) Unwrap() error { return e.Err }

// TooLargeError is a response body over the cap the client reads (see
// WithMaxPageSize), counted after decompression.
type TooLargeError struct {
	Method string
	URL    string // credentials removed
	What   string // "page", "landing page", "response", "static document"
	Limit  int64  // bytes
}

// Error implements the error interface.
func (e *TooLargeError) Error() string {
	where := e.URL
	if e.Method != "" {
		where = e.Method + " " + e.URL
	}
	return fmt.Sprintf("%s: the %s is larger than %s, the most this client reads", where, e.What, byteSize(e.Limit))
}

// byteSize formats n bytes in the largest binary unit that divides it.
func byteSize(n int64) string {
	for _, u := range []struct {
		size int64
		name string
	}{{1 << 30, "GiB"}, {1 << 20, "MiB"}, {1 << 10, "KiB"}} {
		if n >= u.size && n%u.size == 0 {
			return fmt.Sprintf("%d %s", n/u.size, u.name)
		}
	}
	return fmt.Sprintf("%d bytes", n)
}

// snippetLen is how much of an unexpected body an error shows;
// snippetScan how much of the body is looked at for it (escape sequences
// removed may be long).
const (
	snippetLen  = 200
	snippetScan = 16 << 10
)

// snippet returns the start of body on one line, safe to print: terminal
// escape sequences are removed (termsafe), runs of white space and
// control characters become one space, and the cut falls on a rune.
func snippet(body []byte) string {
	body = bytes.TrimSpace(body)
	rest := len(body) > snippetScan
	if rest {
		body = body[:snippetScan]
	}
	body = []byte(termsafe.Line(string(body)))
	var b strings.Builder
	space := false
	for len(body) > 0 && b.Len() < snippetLen {
		r, size := utf8.DecodeRune(body)
		body = body[size:]
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	if len(body) > 0 || rest {
		b.WriteString("…")
	}
	return b.String()
}

// newHTTPError builds the error of a non-2xx response from its method, URL
// and the start of its body.
func newHTTPError(method, rawURL string, status int, body []byte) *HTTPError {
	e := &HTTPError{Method: method, URL: redact.URL(rawURL), StatusCode: status}
	var shape struct {
		Code             jsontext.Value `json:"code"`
		Description      jsontext.Value `json:"description"`
		Detail           jsontext.Value `json:"detail"`
		Message          jsontext.Value `json:"message"`
		Error            jsontext.Value `json:"error"`
		ErrorDescription jsontext.Value `json:"error_description"`
		Title            jsontext.Value `json:"title"`
	}
	if json.Unmarshal(body, &shape, decodeOpts) == nil {
		e.Code = firstText(shape.Code, shape.Error, shape.Title)
		e.Description = firstText(shape.Description, shape.Detail, shape.Message, shape.ErrorDescription)
		if e.Code == e.Description {
			e.Code = ""
		}
	}
	if e.Code == "" && e.Description == "" {
		e.Snippet = snippet(body)
	}
	return e
}

// firstText returns the first of vals that is a non-empty JSON string, or
// else the compact JSON of the first other non-null value (FastAPI's
// validation errors put a list in "detail").
func firstText(vals ...jsontext.Value) string {
	for _, v := range vals {
		var s string
		if json.Unmarshal(v, &s) == nil && s != "" {
			return oneLine(s)
		}
	}
	for _, v := range vals {
		if len(v) == 0 || string(v) == "null" || string(v) == `""` {
			continue
		}
		if c, err := compactJSON(v, "message"); err == nil {
			return snippet(c)
		}
	}
	return ""
}

// oneLine keeps a server message on one line, bounded in length and
// without terminal escape sequences.
func oneLine(s string) string {
	if len(s) <= 2*snippetLen && !strings.ContainsAny(s, "\r\n\t") {
		return termsafe.Line(s)
	}
	return snippet([]byte(s))
}
