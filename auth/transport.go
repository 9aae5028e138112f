package auth

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/stacq/stacq/internal/redact"
	"github.com/stacq/stacq/internal/replay"
)

// DefaultRetryDelay is how long the Transport waits before sending a
// request one more time when the API refused a token issued a moment ago
// with 401: a new token may take a moment to reach every server of an API.
const DefaultRetryDelay = 500 * time.Millisecond

// forbiddenWindow is how long a token that drew a 403 right after it was
// issued is taken to lack permission, rather than to have expired: its
// 403s are then reported without asking for yet another token.
const forbiddenWindow = time.Minute

// Transport is an http.RoundTripper that adds Credentials to the requests
// for its allowed origins, and sends every other request on unchanged: an
// asset host, another port, http where the origin is https, or the target
// of a redirect to another origin never sees them. A request that already
// carries an Authorization header is passed on as it is; on a redirect to
// another origin (including https to http on the same host, where net/http
// keeps it) that header and cookies are removed.
//
// When an allowed origin refuses renewable credentials (a token source)
// with 401, or with 403 as EarthDaily answers an expired token, the
// Transport drops the token, gets a new one and sends the request again
// once, body included. A 401 to the new token gets one more try after
// RetryDelay; a 403 to it means the credentials lack permission. These,
// and a 401 to credentials that cannot be renewed, end as an *AuthError.
// A 403 to credentials that cannot be renewed is handed back as it is.
// Without Credentials, a 401 or 403 from an allowed origin is an
// *AuthError whose Hint says how to give them.
//
// Set the fields before the first request and do not change them after.
type Transport struct {
	// Credentials are added to the requests for the allowed origins; nil
	// adds none.
	Credentials Credentials
	// Origins are the URLs whose scheme, host and port get the credentials
	// ("https://api.example.com" stands for https://api.example.com:443).
	Origins []string
	// Hosts are host names that get the credentials over https on port 443
	// too: an exact name, or ".example.com" for every subdomain.
	Hosts []string
	// Base sends the requests; nil means http.DefaultTransport.
	Base http.RoundTripper
	// Provider and Method name what refused in an *AuthError; Hint is
	// appended to it (what to check, or how to give credentials).
	Provider, Method, Hint string
	// RetryDelay is the wait before the one more try after a 401 to a
	// renewed token; 0 means DefaultRetryDelay.
	RetryDelay time.Duration
	// Logf receives notes about renewals.
	Logf Logf
	// Redactor, when set, is told every credential the Transport adds to
	// a request, in the form it was sent.
	Redactor Redactor

	once    sync.Once
	origins map[string]bool
	secrets redact.Secrets // what was sent, scrubbed from the server text of errors
	now     func() time.Time

	mu         sync.Mutex
	registered map[string]bool      // values already given to the Redactor
	forbidden  map[string]time.Time // token → when a 403 to it proved it lacks permission
}

func (t *Transport) init() {
	t.once.Do(func() {
		t.origins = map[string]bool{}
		for _, o := range t.Origins {
			if u, err := url.Parse(o); err == nil && u.Host != "" {
				t.origins[Origin(u)] = true
			}
		}
		if t.now == nil {
			t.now = time.Now
		}
	})
}

func (t *Transport) base() http.RoundTripper {
	if t.Base == nil {
		return http.DefaultTransport
	}
	return t.Base
}

// Allowed reports whether the credentials may be added to a request for
// u: its origin is one of Origins, or it is https on port 443 to one of
// Hosts.
func (t *Transport) Allowed(u *url.URL) bool {
	t.init()
	if t.origins[Origin(u)] {
		return true
	}
	return u.Scheme == "https" && (u.Port() == "" || u.Port() == "443") && HostMatches(u.Hostname(), t.Hosts)
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	t.init()
	base := t.base()
	if req.Response != nil && req.Response.Request != nil && Origin(req.URL) != Origin(req.Response.Request.URL) &&
		(req.Header.Get("Authorization") != "" || req.Header.Get("Cookie") != "") {
		// A redirect to another origin: net/http keeps these on the same
		// host (https to http included); credentials do not follow.
		req = req.Clone(req.Context())
		req.Header.Del("Authorization")
		req.Header.Del("Cookie")
	}
	if !t.Allowed(req.URL) || req.Header.Get("Authorization") != "" {
		return base.RoundTrip(req)
	}
	if t.Credentials == nil {
		resp, err := base.RoundTrip(req)
		if err != nil || !refusal(resp.StatusCode) {
			return resp, err
		}
		return nil, t.authError(req, resp.StatusCode, t.excerpt(resp), false)
	}
	first, getBody, err := replay.Body(req)
	if err != nil {
		return nil, err
	}
	creds := t.Credentials
	r1, tok, err := t.authorize(req, first, getBody)
	if err != nil {
		if first != nil {
			first.Close()
		}
		return nil, err
	}
	resp, err := base.RoundTrip(r1)
	if err != nil || !refusal(resp.StatusCode) {
		return resp, err
	}
	status := resp.StatusCode
	if status == http.StatusForbidden && !creds.Renewable() {
		return resp, nil // a permission answer to credentials that cannot change
	}
	msg := t.excerpt(resp)
	if !creds.Renewable() || first != nil && getBody == nil {
		return nil, t.authError(req, status, msg, false)
	}
	if status == http.StatusForbidden && t.provenForbidden(tok) {
		return nil, t.authError(req, status, msg, true)
	}

	t.Logf.printf("auth: %s: %s answered %d; renewing the token", t.provider(), req.URL.Host, status)
	creds.Refused(tok)
	resend := func() (*http.Response, string, error) {
		var body io.ReadCloser
		if getBody != nil {
			if body, err = getBody(); err != nil {
				return nil, "", err
			}
		}
		r, tok, err := t.authorize(req, body, getBody)
		if err != nil {
			return nil, "", err
		}
		resp, err := base.RoundTrip(r)
		return resp, tok, err
	}
	resp, tok2, err := resend()
	if err != nil || !refusal(resp.StatusCode) {
		return resp, err
	}
	if tok2 == tok {
		return nil, t.authError(req, resp.StatusCode, t.excerpt(resp), false)
	}
	if resp.StatusCode == http.StatusUnauthorized {
		// A token issued a moment ago may not have reached every server
		// of the API yet: one more try after a short wait.
		t.excerpt(resp)
		if err := sleep(req.Context(), t.retryDelay()); err != nil {
			return nil, err
		}
		if resp, _, err = resend(); err != nil || !refusal(resp.StatusCode) {
			return resp, err
		}
	}
	if resp.StatusCode == http.StatusForbidden {
		t.markForbidden(tok2)
	}
	return nil, t.authError(req, resp.StatusCode, t.excerpt(resp), true)
}

func refusal(status int) bool {
	return status == http.StatusUnauthorized || status == http.StatusForbidden
}

func (t *Transport) provider() string {
	if t.Provider == "" {
		return "auth"
	}
	return t.Provider
}

func (t *Transport) retryDelay() time.Duration {
	if t.RetryDelay > 0 {
		return t.RetryDelay
	}
	return DefaultRetryDelay
}

// provenForbidden reports whether tok drew a 403 right after it was issued,
// lately.
func (t *Transport) provenForbidden(tok string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	at, ok := t.forbidden[tok]
	return ok && t.now().Sub(at) < forbiddenWindow
}

func (t *Transport) markForbidden(tok string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.forbidden == nil || len(t.forbidden) > 16 {
		t.forbidden = map[string]time.Time{}
	}
	t.forbidden[tok] = t.now()
}

// authorize clones req with the credentials and body, and records what the
// credentials added for redaction.
func (t *Transport) authorize(req *http.Request, body io.ReadCloser, getBody func() (io.ReadCloser, error)) (*http.Request, string, error) {
	r2 := req.Clone(req.Context())
	if body != nil {
		r2.Body, r2.GetBody = body, getBody
	}
	tok, err := t.Credentials.Authorize(req.Context(), r2)
	if err != nil {
		return nil, "", err
	}
	t.record(req, r2)
	return r2, tok, nil
}

// record registers the header and query values that the credentials
// added to r2 (a copy of req).
func (t *Transport) record(req, r2 *http.Request) {
	for name, vals := range r2.Header {
		for _, v := range vals {
			if !contains(req.Header.Values(name), v) {
				t.register(name, v)
			}
		}
	}
	if r2.URL.RawQuery != req.URL.RawQuery {
		old := req.URL.Query()
		for name, vals := range r2.URL.Query() {
			for _, v := range vals {
				if !contains(old[name], v) {
					t.register("", v)
				}
			}
		}
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// register records a credential value as sent: an Authorization header's
// credentials without the scheme, HTTP Basic as its user and password too.
func (t *Transport) register(header, value string) {
	t.mu.Lock()
	if t.registered[value] {
		t.mu.Unlock()
		return
	}
	if t.registered == nil || len(t.registered) > 64 {
		t.registered = map[string]bool{}
	}
	t.registered[value] = true
	t.mu.Unlock()

	sinks := []Redactor{&t.secrets}
	if t.Redactor != nil {
		sinks = append(sinks, t.Redactor)
	}
	if strings.EqualFold(header, "Authorization") {
		scheme, cred, ok := strings.Cut(value, " ")
		if ok && strings.EqualFold(scheme, "Basic") {
			if dec, err := base64.StdEncoding.DecodeString(cred); err == nil {
				user, pass, _ := strings.Cut(string(dec), ":")
				for _, s := range sinks {
					s.AddBasic(user, pass)
				}
			}
		}
		if ok {
			value = cred
		}
	}
	for _, s := range sinks {
		s.Add(value)
	}
}

func (t *Transport) authError(req *http.Request, status int, msg string, renewed bool) *AuthError {
	method := t.Method
	if t.Credentials == nil {
		method = MethodNone
	}
	return &AuthError{
		Provider: t.Provider, Method: method, Host: req.URL.Host, StatusCode: status,
		Renewed: renewed, Message: msg, Hint: t.Hint,
	}
}

// excerpt reads the start of a refusal's body for the error message: the
// "message", "detail", "error_description" or "error" member of a JSON
// answer, else the text; what was sent is masked in it, and terminal
// escapes removed. It closes the body.
func (t *Transport) excerpt(resp *http.Response) string {
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // let the connection be reused
	text := string(data)
	var m map[string]any
	if json.Unmarshal(data, &m) == nil {
		for _, k := range []string{"message", "detail", "error_description", "description", "error"} {
			if s, ok := m[k].(string); ok && s != "" {
				text = s
				break
			}
		}
	} else if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || bytes.HasPrefix(bytes.TrimSpace(data), []byte("<")) {
		text = ""
	}
	return serverText(text, &t.secrets, 200)
}

// Origin is the scheme://host:port of u, with the default port made
// explicit, in lower case: what credentials are scoped to.
func Origin(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = "443"
		if u.Scheme == "http" {
			port = "80"
		}
	}
	return strings.ToLower(u.Scheme + "://" + net.JoinHostPort(u.Hostname(), port))
}

// HostMatches reports whether host matches one of patterns: an exact name,
// or a ".suffix" matching every subdomain. Case and a trailing dot do not
// matter.
func HostMatches(host string, patterns []string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	for _, p := range patterns {
		p = strings.ToLower(p)
		if strings.HasPrefix(p, ".") {
			if strings.HasSuffix(host, p) {
				return true
			}
		} else if host == p {
			return true
		}
	}
	return false
}

// IsLoopback reports whether host (no port) is localhost or a loopback IP
// (127.0.0.0/8, ::1).
func IsLoopback(host string) bool {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Unwrap returns the transport below the auth layer (Base, or
// http.DefaultTransport when Base is nil), for code that looks for a
// layer of its own in the chain, such as retry.PolicyOf.
func (t *Transport) Unwrap() http.RoundTripper { return t.base() }
