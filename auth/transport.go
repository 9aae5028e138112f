package auth

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"

	"github.com/stacq/stacq/internal/replay"
)

// Transport returns a RoundTripper that adds the credentials to requests
// for the API's hosts only (never to asset hosts or a redirect elsewhere),
// and, when the API answers 401 to a token it renews, drops that token
// (memory and disk), gets a new one and retries the request once, body
// included. A second 401, or a 401 to a static token or API key, is an
// *AuthError. base nil means http.DefaultTransport.
func (r *Resolved) Transport(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	if r.Method == MethodNone {
		return base
	}
	return &transport{base: base, r: r}
}

type transport struct {
	base http.RoundTripper
	r    *Resolved
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !t.r.sendsTo(req.URL) || req.Header.Get("Authorization") != "" {
		return t.base.RoundTrip(req)
	}
	first, getBody, err := replay.Body(req)
	if err != nil {
		return nil, err
	}
	ctx := req.Context()

	var g *grant
	if t.r.src != nil {
		if g, err = t.r.src.fetch(ctx); err != nil {
			closeBody(req)
			return nil, err
		}
	}
	resp, err := t.base.RoundTrip(t.authorize(req, g, first, getBody))
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		return resp, err
	}
	msg := excerpt(resp)
	if !t.r.renewable || first != nil && getBody == nil {
		return nil, t.authError(req, resp.StatusCode, msg, false, g)
	}

	t.r.logf("auth: %s: %s answered 401; renewing the token", t.r.Provider, req.URL.Host)
	t.r.src.invalidate(g.AccessToken)
	if g, err = t.r.src.fetch(ctx); err != nil {
		return nil, err
	}
	if getBody != nil {
		if first, err = getBody(); err != nil {
			return nil, err
		}
	}
	resp, err = t.base.RoundTrip(t.authorize(req, g, first, getBody))
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		return resp, err
	}
	return nil, t.authError(req, resp.StatusCode, excerpt(resp), true, g)
}

// authorize clones req with the credentials and body.
func (t *transport) authorize(req *http.Request, g *grant, body io.ReadCloser, getBody func() (io.ReadCloser, error)) *http.Request {
	r2 := req.Clone(req.Context())
	if body != nil {
		r2.Body, r2.GetBody = body, getBody
	}
	switch {
	case t.r.apiKey != nil && t.r.apiKey.style == APIKeyHeader:
		r2.Header.Set("Authorization", "api-key "+t.r.apiKey.key())
	case t.r.apiKey != nil:
		r2.SetBasicAuth(t.r.apiKey.key(), "")
	case g != nil:
		g.SetAuthHeader(r2)
	}
	return r2
}

func (t *transport) authError(req *http.Request, status int, msg string, renewed bool, g *grant) *AuthError {
	// A server may quote what it refused.
	var secrets []string
	if t.r.apiKey != nil {
		secrets = append(secrets, t.r.apiKey.key())
	}
	if g != nil {
		secrets = append(secrets, g.AccessToken)
	}
	return &AuthError{
		Provider: t.r.Provider, Method: t.r.Method, Host: req.URL.Host, StatusCode: status,
		Renewed: renewed, Message: clip(scrub(msg, secrets), 200), Hint: t.r.hint,
	}
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}

// excerpt reads the start of a refusal's body for the error message: the
// "message", "detail", "error_description" or "error" member of a JSON
// answer, else the text. It closes the body.
func excerpt(resp *http.Response) string {
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // let the connection be reused
	var m map[string]any
	if json.Unmarshal(data, &m) == nil {
		for _, k := range []string{"message", "detail", "error_description", "description", "error"} {
			if s, ok := m[k].(string); ok && s != "" {
				return s
			}
		}
	}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || bytes.HasPrefix(bytes.TrimSpace(data), []byte("<")) {
		return ""
	}
	return string(data)
}
