package retry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// fast is a policy for tests: tiny real waits.
func fast() Policy {
	return Policy{BaseDelay: time.Millisecond, MaxDelay: 4 * time.Millisecond}
}

// recorded returns a policy whose waits are recorded instead of slept, so
// tests can check second-long waits without taking them.
func recorded() (Policy, *[]time.Duration) {
	var mu sync.Mutex
	waits := &[]time.Duration{}
	p := Policy{sleep: func(ctx context.Context, d time.Duration) error {
		mu.Lock()
		defer mu.Unlock()
		*waits = append(*waits, d)
		return ctx.Err()
	}}
	return p, waits
}

// stacError answers as stac-fastapi does.
func stacError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"code":"%s","description":%q}`, http.StatusText(status), msg)
}

// flaky answers the statuses in order, then 200 with a small page.
func flaky(t *testing.T, statuses ...int) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := int(n.Add(1)) - 1
		if i < len(statuses) {
			stacError(w, statuses[i], fmt.Sprintf("attempt %d refused", i+1))
			return
		}
		w.Header().Set("Content-Type", "application/geo+json")
		io.WriteString(w, `{"type":"FeatureCollection","features":[]}`)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func get(t *testing.T, rt http.RoundTripper, url string) (*http.Response, error) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return rt.RoundTrip(req)
}

func TestBackoff(t *testing.T) {
	var p Policy
	want := []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second,
		8 * time.Second, 16 * time.Second, 30 * time.Second, 30 * time.Second}
	for i, w := range want {
		if got := p.Backoff(i + 1); got != w {
			t.Errorf("Backoff(%d) = %v, want %v", i+1, got, w)
		}
	}
	if got, want := p.Budget(), 7500*time.Millisecond; got != want {
		t.Errorf("default Budget() = %v, want %v (0.5+1+2+4 s)", got, want)
	}
	long := Policy{MaxAttempts: 20}
	if got := long.Budget(); got != DefaultMaxWait {
		t.Errorf("Budget() of 20 attempts = %v, want the MaxWait %v", got, DefaultMaxWait)
	}
	// Full jitter: waits are drawn in [0, bound).
	p.rand = func() float64 { return 0.5 }
	if got := p.jitter(p.Backoff(3)); got != time.Second {
		t.Errorf("jitter(2s) at 0.5 = %v, want 1s", got)
	}
}

func TestTransportStatuses(t *testing.T) {
	for _, tc := range []struct {
		status   int
		requests int64 // the server answers status twice, then 200
		want     int
	}{
		{408, 3, 200}, {429, 3, 200}, {500, 3, 200}, {502, 3, 200}, {503, 3, 200}, {504, 3, 200},
		{400, 1, 400}, {401, 1, 401}, {403, 1, 403}, {404, 1, 404}, {405, 1, 405}, {422, 1, 422}, {501, 1, 501},
	} {
		t.Run(fmt.Sprint(tc.status), func(t *testing.T) {
			srv, n := flaky(t, tc.status, tc.status)
			var infos []Info
			p := fast()
			p.OnRetry = func(i Info) { infos = append(infos, i) }
			resp, err := get(t, p.Transport(nil), srv.URL+"/v1/search")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want || n.Load() != tc.requests {
				t.Fatalf("got %d after %d requests, want %d after %d", resp.StatusCode, n.Load(), tc.want, tc.requests)
			}
			if len(infos) != int(tc.requests)-1 {
				t.Fatalf("OnRetry called %d times, want %d", len(infos), tc.requests-1)
			}
			for i, info := range infos {
				if info.Attempt != i+1 || info.Status != tc.status || info.Max != DefaultMaxAttempts || info.Method != "GET" {
					t.Errorf("retry %d: %+v", i, info)
				}
			}
			if tc.requests > 1 && Attempts(resp) != 3 {
				t.Errorf("Attempts(resp) = %d, want 3", Attempts(resp))
			}
		})
	}
}

// When 503s do not go away, the caller gets the last response, with the
// server's message, and the attempt count.
func TestTransportGivesUpWithLastResponse(t *testing.T) {
	srv, n := flaky(t, 503, 503, 503, 503, 503, 503, 503)
	resp, err := get(t, fast().Transport(nil), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 503 || n.Load() != 5 || Attempts(resp) != 5 {
		t.Fatalf("status %d, %d requests, Attempts %d; want 503, 5, 5", resp.StatusCode, n.Load(), Attempts(resp))
	}
	if !strings.Contains(string(body), "attempt 5 refused") {
		t.Errorf("body %q is not the last answer's", body)
	}
}

func TestRetryAfter(t *testing.T) {
	date := time.Now().Add(20 * time.Second).UTC().Format(http.TimeFormat)
	for _, tc := range []struct {
		name       string
		retryAfter string
		policy     Policy
		refusals   int64
		requests   int64
		waits      []time.Duration // approximate for dates
	}{
		{"seconds", "7", Policy{}, 1, 2, []time.Duration{7 * time.Second}},
		{"zero", "0", Policy{}, 1, 2, []time.Duration{0}},
		{"date", date, Policy{}, 1, 2, []time.Duration{20 * time.Second}},
		{"over the cap", "61", Policy{}, 1, 1, nil},
		{"under a raised cap", "61", Policy{MaxRetryAfter: 2 * time.Minute}, 1, 2, []time.Duration{61 * time.Second}},
		// 2 waits of 50s fit the 2m budget, a third does not.
		{"budget", "50", Policy{MaxAttempts: 10}, 9, 3, []time.Duration{50 * time.Second, 50 * time.Second}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, waits := recorded()
			p.MaxAttempts, p.MaxRetryAfter = tc.policy.MaxAttempts, tc.policy.MaxRetryAfter
			var n atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if n.Add(1) <= tc.refusals {
					w.Header().Set("Retry-After", tc.retryAfter)
					stacError(w, 429, "slow down")
					return
				}
				io.WriteString(w, "{}")
			}))
			defer srv.Close()
			resp, err := get(t, p.Transport(nil), srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if n.Load() != tc.requests {
				t.Fatalf("%d requests, want %d (waits %v)", n.Load(), tc.requests, *waits)
			}
			if len(*waits) != len(tc.waits) {
				t.Fatalf("waits %v, want %v", *waits, tc.waits)
			}
			for i, w := range tc.waits {
				if d := (*waits)[i] - w; d > 0 || d < -2*time.Second {
					t.Errorf("wait %d = %v, want about %v", i, (*waits)[i], w)
				}
			}
		})
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"0", 0, true},
		{"120", 2 * time.Minute, true},
		{" 3 ", 3 * time.Second, true},
		{"Wed, 01 May 2024 12:00:30 GMT", 30 * time.Second, true},
		{"Wed, 01 May 2024 11:00:00 GMT", 0, true},
		{"99999999999999999999", 1<<63 - 1, true},
		{"-1", 0, false},
		{"1.5", 0, false},
		{"soon", 0, false},
		{"", 0, false},
	} {
		got, ok := ParseRetryAfter(tc.in, now)
		if got != tc.want || ok != tc.ok {
			t.Errorf("ParseRetryAfter(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

// A POST search is replayed with the same body, whether or not the request
// has GetBody.
func TestTransportReplaysPOST(t *testing.T) {
	const search = `{"collections":["sentinel-2-l2a"],"limit":100,"token":"next:abc"}`
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if r.Method != http.MethodPost || string(b) != search {
			t.Errorf("attempt %d: %s body %q", n.Load()+1, r.Method, b)
		}
		if n.Add(1) < 3 {
			stacError(w, 502, "bad gateway")
			return
		}
		io.WriteString(w, "{}")
	}))
	defer srv.Close()
	for _, name := range []string{"GetBody", "plain reader"} {
		n.Store(0)
		var body io.Reader = strings.NewReader(search)
		if name == "plain reader" {
			body = io.MultiReader(body) // no GetBody
		}
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/search", body)
		resp, err := fast().Transport(nil).RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || n.Load() != 3 {
			t.Errorf("%s: status %d after %d requests", name, resp.StatusCode, n.Load())
		}
	}
}

func TestTransportConnectionRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	var retries int
	p := fast()
	p.OnRetry = func(Info) { retries++ }
	_, err = get(t, p.Transport(nil), "http://"+addr+"/v1")
	var re *Error
	if !errors.As(err, &re) || re.Attempts != 5 || retries != 4 {
		t.Fatalf("err = %v (%T), retries %d; want *Error after 5 attempts", err, err, retries)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) || re.LastStatus != 0 {
		t.Errorf("err %v does not wrap ECONNREFUSED, or LastStatus %d", err, re.LastStatus)
	}
	if !strings.Contains(err.Error(), "gave up after 5 attempts") {
		t.Errorf("message %q", err)
	}
}

// A server that closes the connection before answering is retried.
func TestTransportDroppedConnection(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.Close()
			return
		}
		io.WriteString(w, "{}")
	}))
	defer srv.Close()
	resp, err := get(t, fast().Transport(nil), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if n.Load() != 2 {
		t.Errorf("%d requests, want 2", n.Load())
	}
}

func TestTransportCancelDuringWait(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "30")
		stacError(w, 503, "maintenance")
	}))
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	start := time.Now()
	_, err := Policy{}.Transport(nil).RoundTrip(req)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("returned %v after the cancel", d)
	}
}

func TestAttemptTimeout(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch n.Add(1) {
		case 1: // slow to answer
			select {
			case <-time.After(2 * time.Second):
			case <-r.Context().Done():
				return
			}
		case 2: // answers, then stalls mid-body
			w.Header().Set("Content-Length", "100")
			io.WriteString(w, `{"type":"FeatureCollection",`)
			w.(http.Flusher).Flush()
			select {
			case <-time.After(2 * time.Second):
			case <-r.Context().Done():
			}
			return
		}
		io.WriteString(w, "{}")
	}))
	defer srv.Close()
	p := fast()
	p.AttemptTimeout = 100 * time.Millisecond
	rt := p.Transport(nil)
	start := time.Now()
	err := p.Do(context.Background(), func(ctx context.Context, attempt int) error {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
		resp, err := rt.RoundTrip(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		var v any
		if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
			// As the stac client does: a cancelled request is not a bad body.
			if cerr := resp.Request.Context().Err(); cerr != nil {
				return cerr
			}
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n.Load() != 3 {
		t.Errorf("%d requests, want 3 (timeout before the answer, timeout mid-body, success)", n.Load())
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("took %v", d)
	}
}

func TestOnRetryRedactsURL(t *testing.T) {
	srv, _ := flaky(t, 503)
	var got Info
	p := fast()
	p.OnRetry = func(i Info) { got = i }
	resp, err := get(t, p.Transport(nil), strings.Replace(srv.URL, "://", "://user:pw@", 1)+"/search?api_key=s3cret&limit=10")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if strings.Contains(got.URL, "s3cret") || strings.Contains(got.URL, "pw") || !strings.Contains(got.URL, "limit=10") {
		t.Errorf("OnRetry URL %q", got.URL)
	}
}

// Do retries a page whose body is cut short; its requests share the
// budget with the Transport's own retries.
func TestDoSharesBudget(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch n.Add(1) {
		case 1, 3:
			stacError(w, 503, "busy")
		case 2, 4:
			io.WriteString(w, `{"type":"FeatureCollection","features":[{"id":`) // truncated
		default:
			io.WriteString(w, `{"type":"FeatureCollection","features":[]}`)
		}
	}))
	defer srv.Close()
	page := func(p Policy) (int, error) {
		rt := p.Transport(nil)
		calls := 0
		err := p.Do(context.Background(), func(ctx context.Context, attempt int) error {
			calls++
			if attempt != calls {
				t.Errorf("attempt %d on call %d", attempt, calls)
			}
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
			resp, err := rt.RoundTrip(req)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			if resp.StatusCode != 200 {
				return fmt.Errorf("HTTP %d", resp.StatusCode)
			}
			var v any
			return json.NewDecoder(resp.Body).Decode(&v)
		})
		return calls, err
	}
	calls, err := page(fast())
	if err != nil || n.Load() != 5 || calls != 3 {
		t.Fatalf("err %v, %d requests, %d calls; want success after 5 requests, 3 calls", err, n.Load(), calls)
	}

	// With 3 attempts in all, the third request (503) is the last: the
	// Transport hands it back, fn turns it into an error, Do counts.
	n.Store(0)
	p := fast()
	p.MaxAttempts = 3
	calls, err = page(p)
	var re *Error
	if !errors.As(err, &re) || re.Attempts != 3 || re.LastStatus != 503 || n.Load() != 3 || calls != 2 {
		t.Fatalf("err %v, %d requests, %d calls; want *Error{Attempts: 3, LastStatus: 503}", err, n.Load(), calls)
	}

	// With 4, the fourth (a truncated body) is the last.
	n.Store(0)
	p.MaxAttempts = 4
	calls, err = page(p)
	if !errors.As(err, &re) || re.Attempts != 4 || re.LastStatus != 0 || !errors.Is(err, io.ErrUnexpectedEOF) || n.Load() != 4 {
		t.Fatalf("err %v, %d requests; want *Error{Attempts: 4} wrapping unexpected EOF", err, n.Load())
	}
}

func TestDoErrors(t *testing.T) {
	permanent := errors.New("invalid character '<' looking for beginning of value")
	calls := 0
	err := fast().Do(context.Background(), func(context.Context, int) error { calls++; return permanent })
	if err != permanent || calls != 1 {
		t.Errorf("non-retryable: err %v after %d calls; want it unwrapped after 1", err, calls)
	}

	calls = 0
	err = fast().Do(context.Background(), func(context.Context, int) error { calls++; return io.ErrUnexpectedEOF })
	var re *Error
	if !errors.As(err, &re) || re.Attempts != 5 || calls != 5 || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("retryable: err %v after %d calls", err, calls)
	}

	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(30*time.Millisecond, cancel)
	start := time.Now()
	err = Policy{BaseDelay: time.Minute, MaxDelay: time.Minute}.Do(ctx, func(context.Context, int) error {
		return io.ErrUnexpectedEOF
	})
	if !errors.Is(err, context.Canceled) || time.Since(start) > time.Second {
		t.Errorf("cancel: err %v after %v", err, time.Since(start))
	}
}

// An error type of another layer says for itself whether it is transient.
type tokenErr struct{ server bool }

func (e tokenErr) Error() string   { return "token request failed" }
func (e tokenErr) Retryable() bool { return e.server }

func TestRetryable(t *testing.T) {
	// What a JSON decoder gives for a document that ends early, and for
	// one that is complete but wrong.
	jsonEnd := fmt.Errorf("jsontext: unexpected EOF after offset 20: %w", io.ErrUnexpectedEOF)
	jsonBad := errors.New("jsontext: invalid character '<' at start of value")
	for _, tc := range []struct {
		name      string
		err       error
		retry     bool
		bodyRetry bool
	}{
		{"unexpected EOF", fmt.Errorf("read page: %w", io.ErrUnexpectedEOF), true, true},
		{"reset", &net.OpError{Op: "read", Err: &net.OpError{Err: syscall.ECONNRESET}}, true, true},
		{"refused", &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}, true, true},
		{"truncated JSON", fmt.Errorf("decode: %w", jsonEnd), true, true},
		{"invalid JSON", jsonBad, false, false},
		{"attempt timeout", &timeoutError{time.Second}, true, true},
		{"caller's deadline", context.DeadlineExceeded, false, false},
		{"cancelled", fmt.Errorf("x: %w", context.Canceled), false, false},
		{"given up", &Error{Attempts: 5, Last: io.ErrUnexpectedEOF}, false, true},
		{"token 503", tokenErr{server: true}, true, false},
		{"token invalid_client", tokenErr{}, false, false},
		{"http2 stream reset", errors.New("stream error: stream ID 5; INTERNAL_ERROR; received from peer"), true, true},
		{"http2 goaway", fmt.Errorf("read page: %w", errors.New("http2: server sent GOAWAY and closed the connection; LastStreamID=3")), true, true},
		{"closed", fmt.Errorf("read: %w", net.ErrClosed), true, true},
		{"dns not found", &net.DNSError{Err: "no such host", IsNotFound: true}, false, false},
		{"dns timeout", &net.DNSError{Err: "timeout", IsTimeout: true}, true, true},
		{"nil", nil, false, false},
	} {
		if got := Retryable(tc.err); got != tc.retry {
			t.Errorf("%s: Retryable(%v) = %v", tc.name, tc.err, got)
		}
		if got := BodyRetryable(tc.err); got != tc.bodyRetry {
			t.Errorf("%s: BodyRetryable(%v) = %v", tc.name, tc.err, got)
		}
	}
}

func TestErrorMessage(t *testing.T) {
	for _, tc := range []struct {
		err  *Error
		want string
	}{
		{&Error{Attempts: 5, Waited: 7 * time.Second, Last: io.ErrUnexpectedEOF}, "gave up after 5 attempts over 7s: unexpected EOF"},
		{&Error{Attempts: 2, LastStatus: 429, Reason: "the server asked to wait 2m0s, more than the 1m0s cap"},
			"gave up after 2 attempts (the server asked to wait 2m0s, more than the 1m0s cap): HTTP 429 Too Many Requests"},
	} {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("got  %q\nwant %q", got, tc.want)
		}
	}
}

func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"0", "120", "Wed, 21 Oct 2015 07:28:00 GMT", "Sunday, 06-Nov-94 08:49:37 GMT",
		"Sun Nov  6 08:49:37 1994", "-5", "1e3", "99999999999999999999", " 7"} {
		f.Add(s)
	}
	now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, v string) {
		d, ok := ParseRetryAfter(v, now)
		if d < 0 || !ok && d != 0 {
			t.Fatalf("ParseRetryAfter(%q) = %v, %v", v, d, ok)
		}
	})
}

// With an attempt timeout set, a failure that is not one (a dropped
// connection) keeps its own error.
func TestAttemptTimeoutKeepsOtherErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, _, _ := w.(http.Hijacker).Hijack()
		conn.Close()
	}))
	defer srv.Close()
	p := fast()
	p.MaxAttempts = 2
	p.AttemptTimeout = time.Minute
	req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader("{}"))
	_, err := p.Transport(nil).RoundTrip(req)
	var te *timeoutError
	if err == nil || errors.As(err, &te) || !errors.Is(err, io.EOF) {
		t.Fatalf("err = %v, want the dropped connection's EOF", err)
	}
}
