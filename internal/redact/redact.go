// Package redact hides credentials in what stacq prints: URLs in errors and
// -v traces, HTTP headers, every encoding of the credentials stacq sent
// (Secrets, and a Writer that scrubs stderr). Terminal escapes in server
// text are internal/termsafe's.
package redact

import (
	"net/http"
	"net/url"
	"strings"
)

// Mask replaces every secret value.
const Mask = "***"

// secretParams are query parameters that carry credentials in the wild
// (API keys, OAuth tokens, signed-URL signatures).
var secretParams = map[string]bool{
	"api_key": true, "apikey": true, "api-key": true, "key": true,
	"token": true, "access_token": true, "id_token": true, "refresh_token": true,
	"client_secret": true, "password": true, "secret": true,
	"sig": true, "signature": true, "x-amz-signature": true, "x-amz-security-token": true,
	"x-goog-signature": true, "code": true,
}

// URL returns u without user info and with credential query parameters
// masked. A string that does not parse is returned with everything after
// '?' dropped, so nothing secret leaks from a malformed URL either.
func URL(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		if i := strings.IndexAny(u, "?#"); i >= 0 {
			u = u[:i]
		}
		if i := strings.Index(u, "@"); i >= 0 {
			if j := strings.Index(u, "://"); j >= 0 && j < i {
				u = u[:j+3] + u[i+1:]
			}
		}
		return u
	}
	if p.User != nil {
		p.User = nil
	}
	if p.RawQuery != "" {
		q := p.Query()
		changed := false
		for k := range q {
			if secretParams[strings.ToLower(k)] {
				q[k] = []string{Mask}
				changed = true
			}
		}
		if changed {
			p.RawQuery = q.Encode()
		}
	}
	return p.String()
}

// secretHeaders are request headers whose values are credentials.
var secretHeaders = map[string]bool{
	"Authorization": true, "Proxy-Authorization": true, "Cookie": true,
	"Set-Cookie": true, "X-Api-Key": true, "Api-Key": true,
}

// Header returns a copy of h with credential values masked. The scheme of
// an Authorization header is kept ("Bearer ***") since it helps debugging.
func Header(h http.Header) http.Header {
	out := h.Clone()
	for name, vals := range out {
		canon := http.CanonicalHeaderKey(name)
		if !secretHeaders[canon] && !strings.Contains(strings.ToLower(canon), "token") &&
			!strings.Contains(strings.ToLower(canon), "secret") {
			continue
		}
		for i, v := range vals {
			if scheme, _, ok := strings.Cut(v, " "); ok && canon == "Authorization" {
				vals[i] = scheme + " " + Mask
			} else {
				vals[i] = Mask
			}
		}
	}
	return out
}
