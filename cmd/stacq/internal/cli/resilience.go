package cli

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/stacq/stacq/internal/redact"
	"github.com/stacq/stacq/retry"
	"github.com/stacq/stacq/stac"
)

// retryFlags are the retry settings of every command that talks to an API.
type retryFlags struct {
	retries int
	// delay is the first backoff; hidden, for tests and impatient users.
	delay time.Duration
}

func addRetryFlags(fs *pflag.FlagSet) *retryFlags {
	rf := &retryFlags{}
	fs.IntVar(&rf.retries, "retries", retry.DefaultMaxAttempts-1,
		"retries of a request or page after a transient failure (connection error, timeout, 408, 429, 5xx, page cut short), with exponential backoff and Retry-After; 0 disables")
	fs.DurationVar(&rf.delay, "retry-delay", retry.DefaultBaseDelay, "first retry backoff (doubles each retry, up to 30s)")
	fs.MarkHidden("retry-delay")
	return rf
}

// policy is the retry policy of the command: --timeout bounds each
// attempt, and at -v each retry is logged through the trace's writer.
func (cf *clientFlags) policy(trace *traceTransport) (retry.Policy, error) {
	if cf.retry.retries < 0 {
		return retry.Policy{}, usagef("--retries: expected 0 or more, got %d", cf.retry.retries)
	}
	p := retry.Policy{
		MaxAttempts:    cf.retry.retries + 1,
		BaseDelay:      cf.retry.delay,
		AttemptTimeout: cf.timeout,
	}
	if trace != nil {
		p.OnRetry = func(i retry.Info) { trace.printf("%s\n", retryLine(i)) }
	}
	return p, nil
}

// retryLine describes a retry for -v:
// "retry 2/5 in 1.2s: POST https://host/search: 503 Service Unavailable".
func retryLine(i retry.Info) string {
	if i.URL == "" { // a page that failed after its response came: the error says which
		i.Method, i.URL = failedRequest(i.Err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "retry %d/%d in %s", i.Attempt+1, i.Max, i.Wait.Round(time.Millisecond))
	if i.RetryAfter {
		b.WriteString(" (Retry-After)")
	}
	if i.URL != "" {
		fmt.Fprintf(&b, ": %s %s", i.Method, i.URL) // already redacted
	}
	switch {
	case i.Err != nil:
		fmt.Fprintf(&b, ": %s", retryErr(i))
	case i.Status != 0:
		fmt.Fprintf(&b, ": %d %s", i.Status, http.StatusText(i.Status))
	}
	return b.String()
}

// retryErr is the short form of a retried error: without the request it
// names (the line says it already) and, for a page that did not decode,
// without the excerpt of the body.
func retryErr(i retry.Info) string {
	var de *stac.DecodeError
	if errors.As(i.Err, &de) {
		return "cannot decode the response: " + de.Err.Error()
	}
	msg := redactErr(i.Err)
	if i.URL != "" {
		msg = strings.TrimPrefix(msg, i.Method+" "+i.URL+": ")
	}
	return msg
}

// failedRequest returns the method and URL (redacted) an error of the
// stac client names, "" when it names none.
func failedRequest(err error) (method, rawURL string) {
	var de *stac.DecodeError
	var te *stac.TooLargeError
	var he *stac.HTTPError
	switch {
	case errors.As(err, &de):
		return de.Method, de.URL
	case errors.As(err, &te):
		return te.Method, te.URL
	case errors.As(err, &he):
		return he.Method, he.URL
	}
	return "", ""
}

// printf writes one line of the trace.
func (t *traceTransport) printf(format string, args ...any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	fmt.Fprintf(t.w, format, args...)
}

// resumeFlags are search's flags for failures and interruptions.
type resumeFlags struct {
	partial bool
	resume  string
}

func addResumeFlags(fs *pflag.FlagSet) *resumeFlags {
	rf := &resumeFlags{}
	fs.BoolVar(&rf.partial, "partial", false, "on a failure or interrupt, keep the items written so far in -o FILE (a valid, incomplete document) instead of leaving FILE untouched")
	fs.StringVar(&rf.resume, "resume", "", "continue a failed or interrupted search from the resume link it printed: the JSON inline, or a file holding it (its saved stderr will do)")
	return rf
}

// readResume reads a --resume value: a link as JSON, or a file holding
// one, alone or among other lines (a saved stderr): the last line that is
// a JSON object with an href wins.
func readResume(s string) (*stac.Link, error) {
	data := []byte(s)
	if !strings.HasPrefix(strings.TrimSpace(s), "{") {
		b, err := readFileLimited(s)
		if err != nil {
			return nil, fmt.Errorf("expected a resume link (JSON) or a file holding one: %w", err)
		}
		data = b
	}
	var found *stac.Link
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 || line[0] != '{' {
			continue
		}
		var l stac.Link
		if json.Unmarshal(line, &l) == nil && l.Href != "" {
			found = &l
		}
	}
	if found == nil {
		// A link spread over several lines (pretty-printed by hand).
		var l stac.Link
		if json.Unmarshal(data, &l) == nil && l.Href != "" {
			found = &l
		}
	}
	if found == nil {
		return nil, errors.New(`no resume link found: expected a JSON object like {"href": "...", "method": "POST", "body": {...}}`)
	}
	u, err := url.Parse(found.Href)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("resume link: href %q is not an http(s) URL", redact.URL(found.Href))
	}
	found.Headers = nil // never taken from a file: credentials come from the auth flags
	return found, nil
}

// resumeState follows a search as its pages are written, to say after a
// failure or interrupt where to continue.
type resumeState struct {
	c      *stac.Client
	params stac.SearchParams
	from   *stac.Link // the link the search was resumed from, if any
	// parallel marks a search in windows, which cannot be resumed.
	parallel bool
	next     *stac.Link // next link of the last page written in full
	pages    int        // pages written in full
}

// written records that every item of a page with links was written.
func (r *resumeState) written(links []*stac.Link) {
	if r == nil {
		return
	}
	r.pages++
	r.next = stac.FindLink(links, "next")
}

// finishOutput ends the output of a command: committed on success; after
// an error (or interrupt), left untouched (file) or closed as a valid
// document (stdout), or kept as a valid partial file with --partial. For
// a search (res not nil), it then says where to resume.
func finishOutput(io IO, name string, out *output, err error, res *resumeState, partial bool) error {
	if err == nil {
		err := out.Commit()
		if ps, ok := out.fw.(*parquetSink); ok && err == nil {
			ps.warnings(io, name)
		}
		return err
	}
	kept := out.tmp == nil // stdout always keeps what it was sent
	if out.tmp != nil && partial {
		if cerr := out.Commit(); cerr != nil {
			fmt.Fprintf(io.Stderr, "stacq %s: --partial: %v\n", name, cerr)
		} else {
			kept = true
			fmt.Fprintf(io.Stderr, "stacq %s: partial output: %d items written to %s; it is incomplete\n", name, out.count, out.path)
		}
	} else {
		out.Abort()
		if out.tmp != nil && out.count > 0 {
			fmt.Fprintf(io.Stderr, "stacq %s: %s left untouched: %d items fetched were discarded (--partial keeps them)\n", name, out.path, out.count)
		}
	}
	if res != nil && kept && res.pages > 0 && !errors.Is(err, syscall.EPIPE) {
		res.print(io, name, out.count)
	}
	return err
}

// print writes the resume link of the first page not written, as one JSON
// line, on stderr.
func (r *resumeState) print(io IO, name string, written int) {
	if r.next == nil {
		return // the last page was written: nothing left but what failed after it
	}
	l, err := r.c.ResumeLink(r.params, r.from, r.next)
	if r.parallel {
		err = errors.New("a parallel search cannot be resumed")
	}
	if err != nil {
		fmt.Fprintf(io.Stderr, "stacq %s: cannot resume: %v\n", name, err)
		return
	}
	// The link must work as is, so only user info is removed: credentials
	// are sent by the auth flags, never carried in the link.
	if u, err := url.Parse(l.Href); err == nil && u.User != nil {
		u.User = nil
		l.Href = u.String()
	}
	line, err := json.Marshal(l)
	if err != nil {
		return
	}
	fmt.Fprintf(io.Stderr, "stacq %s: %d items written; to continue, run again with --resume and this link (or a file holding it):\n%s\n", name, written, line)
	if secretQuery(l.Href) {
		fmt.Fprintf(io.Stderr, "stacq %s: warning: the resume link's URL has a query parameter that looks like a credential; do not share it\n", name)
	}
}

// secretQuery reports whether href has a query parameter that looks like a
// credential, paging tokens ("token", "next") apart.
func secretQuery(href string) bool {
	u, err := url.Parse(href)
	if err != nil || u.RawQuery == "" {
		return false
	}
	q := u.Query()
	q.Del("token")
	q.Del("next")
	u.RawQuery = q.Encode()
	return redact.URL(u.String()) != u.String()
}

// resumeConflict names a search flag given with --resume, which replaces
// them all: the resume link is the whole request. "" when there is none.
func (sf *searchFlags) resumeConflict() string {
	for _, f := range []struct {
		name string
		set  bool
	}{
		{"collections", len(sf.collections) > 0}, {"ids", len(sf.ids) > 0},
		{"bbox", sf.filters.bbox != ""}, {"datetime", sf.filters.datetime != ""}, {"limit", sf.filters.limit != 0},
		{"intersects", sf.intersects != ""}, {"query", len(sf.query) > 0}, {"filter", sf.filter != ""},
		{"filter-lang", sf.filterLang != ""}, {"sortby", sf.sortby != ""}, {"fields", sf.fields != ""},
		{"q", sf.q != ""}, {"method", sf.method != ""}, {"parallel", sf.parallel != 0}, {"matched", sf.matched},
	} {
		if f.set {
			return f.name
		}
	}
	return ""
}
