package cli

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/spf13/pflag"

	"github.com/stacq/stacq/auth"
	"github.com/stacq/stacq/internal/redact"
	"github.com/stacq/stacq/retry"
	"github.com/stacq/stacq/stac"
)

// clientFlags are the flags of every command that talks to an API.
type clientFlags struct {
	headers []string
	timeout time.Duration
	verbose bool
	quiet   bool
	auth    *authFlags
	retry   *retryFlags
	limits  *limitFlags
}

func addClientFlags(fs *pflag.FlagSet) *clientFlags {
	cf := &clientFlags{}
	fs.StringArrayVar(&cf.headers, "header", nil, `extra HTTP header "Name: value" or Name=value sent with every request to the API's own origins (repeatable)`)
	fs.StringArrayVar(&cf.headers, "headers", nil, `the same as --header (pystac-client's name)`)
	fs.DurationVar(&cf.timeout, "timeout", 2*time.Minute, "timeout of each HTTP request attempt, reading the response included (0 for none)")
	fs.BoolVarP(&cf.verbose, "verbose", "v", false, "print each request's method, URL, status and time on stderr")
	fs.BoolVarP(&cf.quiet, "quiet", "q", false, "no progress line")
	cf.auth = addAuthFlags(fs)
	cf.retry = addRetryFlags(fs)
	cf.limits = addLimitFlags(fs)
	return cf
}

// parseHeaders checks the --header values.
func (cf *clientFlags) parseHeaders() (http.Header, error) {
	h := http.Header{}
	for _, raw := range cf.headers {
		name, value, ok := strings.Cut(raw, ":")
		name = strings.TrimSpace(name)
		if n, v, isKV := strings.Cut(raw, "="); (!ok || !validHeaderName(name)) && isKV && validHeaderName(strings.TrimSpace(n)) {
			name, value, ok = strings.TrimSpace(n), v, true // pystac-client's "Name=value"
		}
		if !ok || !validHeaderName(name) {
			return nil, usagef(`--header: expected "Name: value" (or Name=value) with a name of letters, digits and !#$%%&'*+-.^_|~, got %q`, truncate(raw, 40))
		}
		value = strings.TrimSpace(value)
		if !validHeaderValue(value) {
			return nil, usagef(`--header %s: the value holds a control character (a line break?)`, name)
		}
		h.Add(name, value)
	}
	return h, nil
}

// validHeaderName says name is an HTTP field name (RFC 9110 token).
func validHeaderName(name string) bool { return auth.ValidHeaderName(name) }

// validHeaderValue says v holds no control characters but tabs, which
// would split the header (CR, LF) or be refused by the server.
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// httpClient builds the client every request of the command goes through:
// the wire, retries of transient failures over it, the -v trace (one line
// per request with its final status, each retry logged before it, token
// requests included), and authentication around all.
func (cf *clientFlags) httpClient(ctx context.Context, io IO, apiURL string) (*http.Client, error) {
	hc, _, err := cf.retryingClient(ctx, io, apiURL)
	return hc, err
}

// retryingClient is httpClient, with the retry policy its transport uses,
// for the stac client's own retries of pages cut short.
func (cf *clientFlags) retryingClient(ctx context.Context, io IO, apiURL string) (*http.Client, retry.Policy, error) {
	t := http.DefaultTransport.(*http.Transport).Clone()
	// Prefetch, --parallel and crawl workers hold several requests to one
	// host at once: keep all their connections alive for reuse (the
	// default keeps 2 and closes the rest after each response).
	t.MaxIdleConnsPerHost = 64
	var trace *traceTransport
	if cf.verbose {
		trace = &traceTransport{w: io.Stderr}
	}
	policy, err := cf.policy(trace)
	if err != nil {
		return nil, policy, err
	}
	// Retries sit under authentication, so token requests are retried
	// too and a 401 reaches the auth layer at once; the rate limiter sits
	// under retries, so every attempt waits its turn. --timeout bounds each
	// attempt (policy.AttemptTimeout), not the sum of them: no
	// http.Client.Timeout.
	var base http.RoundTripper = policy.Transport(cf.auth.limits().Transport(t))
	if trace != nil {
		trace.next = base
		base = trace
	}
	rt, err := cf.auth.transport(ctx, io, apiURL, &http.Client{Transport: base})
	if err != nil {
		return nil, policy, err
	}
	return &http.Client{Transport: rt}, policy, nil
}

// open opens the STAC API at rawURL with the command's flags, and extra
// options of the command.
func (cf *clientFlags) open(ctx context.Context, io IO, rawURL string, extra ...stac.Option) (*stac.Client, error) {
	c, _, err := cf.openClient(ctx, io, rawURL, extra...)
	return c, err
}

// openClient is open, also returning the HTTP client the STAC client
// sends its requests with (download fetches assets of the API's own
// hosts with it).
func (cf *clientFlags) openClient(ctx context.Context, io IO, rawURL string, extra ...stac.Option) (*stac.Client, *http.Client, error) {
	if err := checkAPIURL(rawURL); err != nil {
		return nil, nil, err
	}
	headers, err := cf.parseHeaders()
	if err != nil {
		return nil, nil, err
	}
	hc, policy, err := cf.retryingClient(ctx, io, rawURL)
	if err != nil {
		return nil, nil, err
	}
	opts := []stac.Option{stac.WithHTTPClient(hc), stac.WithRetry(policy), stac.WithUserAgent("stacq/" + Version())}
	opts = append(opts, cf.limits.stacOptions()...)
	for name, vals := range headers {
		for _, v := range vals {
			if credentialHeader(name) {
				io.addSecret(v) // never printed, in any encoding
			}
			opts = append(opts, stac.WithHeader(name, v))
		}
	}
	c, err := stac.Open(ctx, rawURL, append(opts, extra...)...)
	if err == nil && cf.verbose && c.ConformanceInferred() {
		fmt.Fprintf(io.Stderr, "the API advertises no conformance classes; inferred from its links: %s\n", strings.Join(shortClasses(c.Conformance()), ", "))
	}
	return c, hc, err
}

// traceTransport prints one line per HTTP exchange on stderr, with
// credentials removed from the URL.
type traceTransport struct {
	next http.RoundTripper
	mu   sync.Mutex
	w    io.Writer
}

func (t *traceTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := t.next.RoundTrip(req)
	elapsed := time.Since(start).Round(time.Millisecond)
	t.mu.Lock()
	defer t.mu.Unlock()
	if err != nil {
		fmt.Fprintf(t.w, "%s %s: %v (%s)\n", req.Method, redact.URL(req.URL.String()), redactErr(err), elapsed)
		return nil, err
	}
	fmt.Fprintf(t.w, "%s %s %d (%s)\n", req.Method, redact.URL(req.URL.String()), resp.StatusCode, elapsed)
	return resp, nil
}

// redactErr shortens transport errors, which quote the full request URL.
func redactErr(err error) string {
	s := err.Error()
	if i := strings.Index(s, "://"); i >= 0 {
		// url.Error formats as `Method "URL": cause`; keep the cause.
		if j := strings.LastIndex(s, "\": "); j > i {
			return s[j+3:]
		}
	}
	return s
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// shortClasses names conformance class URIs by their last path part.
func shortClasses(uris []string) []string {
	out := make([]string, len(uris))
	for i, u := range uris {
		out[i] = u[strings.LastIndex(u, "/")+1:]
	}
	return out
}
