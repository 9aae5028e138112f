package download_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/stacq/stacq/download"
	"github.com/stacq/stacq/internal/testing/assettest"
	"github.com/stacq/stacq/retry"
	"github.com/stacq/stacq/stac"
)

// fastRetry retries at once, so that tests of faults stay quick.
var fastRetry = retry.Policy{BaseDelay: time.Millisecond, MaxDelay: time.Millisecond}

// The API's bearer token goes to the API's origin only: not to a foreign
// host, not across a redirect to one, and an https→http redirect is not
// followed at all.
func TestCredentialsStayWithTheirOrigin(t *testing.T) {
	api := assettest.New(assettest.Options{TLS: true, Bearer: "api-token"})
	defer api.Close()
	foreign := assettest.New(assettest.Options{TLS: true})
	defer foreign.Close()
	plainHTTP := assettest.New(assettest.Options{})
	defer plainHTTP.Close()

	own := []byte("the API's own file")
	api.Add("/own.tif", assettest.File{Data: own})
	foreign.Add("/f.tif", assettest.File{Data: []byte("foreign")})
	foreign.Add("/r.tif", assettest.File{Data: []byte("redirected")})
	plainHTTP.Add("/d.tif", assettest.File{Data: []byte("downgraded")})
	api.Redirect("/to-foreign.tif", foreign.URL+"/r.tif")
	api.Redirect("/to-http.tif", plainHTTP.URL+"/d.tif")

	tr := api.Client().Transport // trusts the test certificate, which all TLS test servers share
	router := download.NewRouter(&http.Client{Transport: tr})
	if err := router.Route(bearerClient(tr, "api-token"), api.URL); err != nil {
		t.Fatal(err)
	}
	it := newItem("i1", map[string]*stac.Asset{
		"own":        asset(api.URL+"/own.tif", own),
		"foreign":    asset(foreign.URL+"/f.tif", nil),
		"redirected": asset(api.URL+"/to-foreign.tif", nil),
		"downgrade":  asset(api.URL+"/to-http.tif", nil),
	})
	dir := t.TempDir()
	sum, err := run(t, download.Options{Dir: dir, Router: router}, it)
	var fe *download.FailedError
	if !errors.As(err, &fe) || len(fe.Failed) != 1 || fe.Failed[0].Asset != "downgrade" {
		t.Fatalf("err = %v, want the downgrade alone to fail", err)
	}
	var re *download.RedirectError
	if !errors.As(fe.Failed[0].Err, &re) || !strings.Contains(re.Error(), "leaves https") {
		t.Errorf("downgrade: %v, want a RedirectError", fe.Failed[0].Err)
	}
	for _, key := range []string{"own", "foreign", "redirected"} {
		if r := result(t, sum, key); r.Status != download.Downloaded {
			t.Errorf("%s: %v %v", key, r.Status, r.Err)
		}
	}
	// The destination is named after the href, known before any request.
	if got := readFile(t, dest(dir, "col", "i1", "to-foreign.tif")); string(got) != "redirected" {
		t.Errorf("redirected file = %q", got)
	}
	if r := result(t, sum, "own"); r.Verified != "sha2-256" {
		t.Errorf("own file verified by %q, want sha2-256", r.Verified)
	}
	for _, req := range foreign.Log() {
		if req.Authorization != "" {
			t.Errorf("the foreign host got Authorization %q for %s", req.Authorization, req.Path)
		}
	}
	if n := plainHTTP.Requests.Load(); n != 0 {
		t.Errorf("the http host got %d requests after an https→http redirect", n)
	}
	for _, req := range api.Log() {
		if req.Authorization != "Bearer api-token" {
			t.Errorf("the API host got Authorization %q for %s", req.Authorization, req.Path)
		}
	}
}

// A presigned URL gets no Authorization header, even on a host the
// credentials are routed to; one that expired fails with a hint.
func TestPresignedURLs(t *testing.T) {
	srv := assettest.New(assettest.Options{Presigned: true})
	defer srv.Close()
	data := []byte("presigned content")
	srv.Add("/p.tif", assettest.File{Data: data})
	router := download.NewRouter(nil)
	if err := router.Route(bearerClient(http.DefaultTransport, "secret"), srv.URL); err != nil {
		t.Fatal(err)
	}
	it := newItem("i1", map[string]*stac.Asset{
		"valid":   asset(srv.Presign("/p.tif", time.Hour), data),
		"expired": asset(srv.Presign("/p.tif", -time.Second), data),
	})
	sum, err := run(t, download.Options{Router: router, Layout: mustLayout(t, "{asset}{ext}")}, it)
	if err == nil {
		t.Fatal("no error for an expired presigned URL")
	}
	if r := result(t, sum, "valid"); r.Status != download.Downloaded {
		t.Errorf("valid presigned URL: %v %v", r.Status, r.Err)
	}
	r := result(t, sum, "expired")
	var he *download.HTTPError
	if !errors.As(r.Err, &he) || he.StatusCode != 403 || !strings.Contains(he.Error(), "expired") {
		t.Errorf("expired presigned URL: %v, want a 403 with a hint", r.Err)
	}
	if strings.Contains(r.Err.Error(), "X-Amz-Signature=") && !strings.Contains(r.Err.Error(), "X-Amz-Signature=%2A%2A%2A") {
		t.Errorf("the error shows the signature: %v", r.Err)
	}
	for _, req := range srv.Log() {
		if req.Authorization != "" {
			t.Errorf("a presigned URL was sent with Authorization %q", req.Authorization)
		}
	}
}

func mustLayout(t *testing.T, tmpl string) *download.Layout {
	t.Helper()
	l, err := download.ParseLayout(tmpl)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// downloadOne downloads path on srv, whose content is data, as the asset
// "data" of an item into a new directory, with retries; it returns the
// directory and the asset's result.
func downloadOne(t *testing.T, srv *assettest.Server, path string, data []byte) (dir string, r *download.Result) {
	t.Helper()
	dir = t.TempDir()
	sum, err := run(t, download.Options{Dir: dir, Retry: fastRetry},
		newItem("i1", map[string]*stac.Asset{"data": asset(srv.URL+path, data)}))
	if err != nil {
		t.Fatal(err)
	}
	return dir, result(t, sum, "data")
}

// A transfer cut halfway is resumed with Range and If-Range carrying the
// ETag; the file is complete and verified.
func TestResumeCutTransfer(t *testing.T) {
	srv := assettest.New(assettest.Options{CutFirst: 1})
	defer srv.Close()
	data := assettest.Pattern(3 << 20)
	srv.Add("/big.bin", assettest.File{Size: int64(len(data))})
	dir, r := downloadOne(t, srv, "/big.bin", data)
	if !r.Resumed || r.Restarts != 0 || r.Verified != "sha2-256" {
		t.Errorf("resumed %v, restarts %d, verified %q", r.Resumed, r.Restarts, r.Verified)
	}
	if got := readFile(t, dest(dir, "col", "i1", "big.bin")); !bytes.Equal(got, data) {
		t.Fatalf("file differs: %d bytes", len(got))
	}
	log := srv.Log()
	if len(log) != 2 {
		t.Fatalf("%d requests, want 2: %+v", len(log), log)
	}
	if log[0].Range != "" || !strings.HasPrefix(log[1].Range, "bytes=") || log[1].Range == "bytes=0-" {
		t.Errorf("ranges %q then %q", log[0].Range, log[1].Range)
	}
	if !strings.HasPrefix(log[1].IfRange, `"`) {
		t.Errorf("If-Range %q, want the ETag", log[1].IfRange)
	}
	if exists(dest(dir, "col", "i1", "big.bin.part")) || exists(dest(dir, "col", "i1", "big.bin.part.meta")) {
		t.Error(".part or .part.meta left behind")
	}
}

// A server that ignores Range sends the whole file again: the .part file
// starts over, and the result is still right.
func TestServerIgnoringRangeRestarts(t *testing.T) {
	srv := assettest.New(assettest.Options{CutFirst: 1, IgnoreRange: true})
	defer srv.Close()
	data := assettest.Pattern(1 << 20)
	srv.Add("/f.bin", assettest.File{Size: int64(len(data))})
	dir, r := downloadOne(t, srv, "/f.bin", data)
	if r.Restarts != 1 || r.Resumed {
		t.Errorf("restarts %d, resumed %v; want one restart", r.Restarts, r.Resumed)
	}
	if got := readFile(t, dest(dir, "col", "i1", "f.bin")); !bytes.Equal(got, data) {
		t.Fatal("file differs")
	}
}

// A .part file of an older version of the file (its ETag changed since)
// is not continued: If-Range makes the server send the whole new file.
func TestChangedFileStartsOver(t *testing.T) {
	srv := assettest.New(assettest.Options{CutFirst: 1})
	defer srv.Close()
	data := assettest.Pattern(1 << 20)
	srv.Add("/f.bin", assettest.File{Size: int64(len(data))})
	dir := t.TempDir()
	it := newItem("i1", map[string]*stac.Asset{"data": asset(srv.URL+"/f.bin", nil)})
	// A first run, without retries, leaves half the file in .part.
	if _, err := run(t, download.Options{Dir: dir, Retry: retry.Policy{MaxAttempts: 1}}, it); err == nil {
		t.Fatal("a cut transfer without retries succeeded")
	}
	part := dest(dir, "col", "i1", "f.bin.part")
	if !exists(part) || !exists(part+".meta") {
		t.Fatal("no .part or .part.meta after a cut transfer")
	}
	srv.Add("/f.bin", assettest.File{Size: int64(len(data)), Version: "2"})
	srv.Reset()
	sum, err := run(t, download.Options{Dir: dir}, it)
	if err != nil {
		t.Fatal(err)
	}
	if r := result(t, sum, "data"); r.Restarts != 1 {
		t.Errorf("restarts %d, want 1", r.Restarts)
	}
	if got := readFile(t, dest(dir, "col", "i1", "f.bin")); !bytes.Equal(got, data) {
		t.Fatal("file differs")
	}
	// The old ETag went out with the Range; the server sent the new file
	// whole (cut again halfway), which was then resumed with its own ETag.
	log := srv.Log()
	if len(log) != 2 || log[0].Range == "" || log[0].IfRange == "" || log[1].IfRange == log[0].IfRange {
		t.Fatalf("requests %+v, want the old then the new ETag in If-Range", log)
	}
}

// Without a validator (no ETag, no Last-Modified) a .part file cannot be
// told apart from another version: the transfer starts again.
func TestNoValidatorNoResume(t *testing.T) {
	srv := assettest.New(assettest.Options{CutFirst: 1})
	defer srv.Close()
	data := assettest.Pattern(1 << 20)
	srv.Add("/f.bin", assettest.File{Size: int64(len(data)), NoValidator: true})
	if _, r := downloadOne(t, srv, "/f.bin", data); r.Resumed {
		t.Error("resumed without a validator")
	}
	for _, req := range srv.Log() {
		if req.Range != "" {
			t.Errorf("a Range request without a validator: %q", req.Range)
		}
	}
}

// A file that does not match its checksum fails, stays .part, and is not
// renamed into place; so does one of the wrong size.
func TestVerificationFailures(t *testing.T) {
	srv := assettest.New(assettest.Options{})
	defer srv.Close()
	srv.Add("/a.bin", assettest.File{Data: []byte("actual content")})
	srv.Add("/b.bin", assettest.File{Data: []byte("actual content")})
	dir := t.TempDir()
	bad := asset(srv.URL+"/a.bin", []byte("other content!")) // same length, other hash
	short := asset(srv.URL+"/b.bin", nil)
	short.Extra["file:size"] = jsontext.Value("99")
	sum, err := run(t, download.Options{Dir: dir, Retry: fastRetry}, newItem("i1", map[string]*stac.Asset{"bad": bad, "short": short}))
	var fe *download.FailedError
	if !errors.As(err, &fe) || len(fe.Failed) != 2 {
		t.Fatalf("err = %v, want 2 failed assets", err)
	}
	for key, what := range map[string]string{"bad": "file:checksum (sha2-256)", "short": "file:size"} {
		r := result(t, sum, key)
		var ve *download.VerifyError
		if !errors.As(r.Err, &ve) || ve.What != what {
			t.Errorf("%s: %v, want a %s mismatch", key, r.Err, what)
		}
	}
	if exists(dest(dir, "col", "i1", "a.bin")) {
		t.Error("a file with the wrong checksum was renamed into place")
	}
	if got := readFile(t, dest(dir, "col", "i1", "a.bin.part")); string(got) != "actual content" {
		t.Errorf(".part = %q", got)
	}
	if srv.Requests.Load() != 2 {
		t.Errorf("%d requests: verification failures are not retried", srv.Requests.Load())
	}
}

// A complete, verified file at its destination is not requested again;
// one that does not match is; Overwrite requests all.
func TestSkipExisting(t *testing.T) {
	srv := assettest.New(assettest.Options{})
	defer srv.Close()
	a, b, c := []byte("file a"), []byte("file b"), []byte("file c")
	srv.Add("/a.bin", assettest.File{Data: a})
	srv.Add("/b.bin", assettest.File{Data: b})
	srv.Add("/c.bin", assettest.File{Data: c})
	it := newItem("i1", map[string]*stac.Asset{
		"a": asset(srv.URL+"/a.bin", a), // checksum
		"b": asset(srv.URL+"/b.bin", nil),
		"c": asset(srv.URL+"/c.bin", nil),
	})
	it.Assets["c"].Extra["file:size"] = jsontext.Value("6") // size only
	dir := t.TempDir()
	if _, err := run(t, download.Options{Dir: dir}, it); err != nil {
		t.Fatal(err)
	}
	srv.Reset()
	sum, err := run(t, download.Options{Dir: dir}, it)
	if err != nil {
		t.Fatal(err)
	}
	if n := srv.Requests.Load(); n != 0 {
		t.Fatalf("%d requests for files already there", n)
	}
	if sum.Skipped != 3 {
		t.Errorf("skipped %d, want 3", sum.Skipped)
	}
	want := map[string]string{"a": "sha2-256", "b": "", "c": "file:size"}
	for key, v := range want {
		if r := result(t, sum, key); r.Status != download.Skipped || r.Verified != v {
			t.Errorf("%s: %v verified %q, want skipped, %q", key, r.Status, r.Verified, v)
		}
	}

	// A file on disk that does not match its checksum is fetched again.
	os.WriteFile(dest(dir, "col", "i1", "a.bin"), []byte("file X"), 0o644)
	srv.Reset()
	sum, err = run(t, download.Options{Dir: dir}, it)
	if err != nil || srv.Requests.Load() != 1 || result(t, sum, "a").Status != download.Downloaded {
		t.Fatalf("changed file: err %v, %d requests", err, srv.Requests.Load())
	}
	if got := readFile(t, dest(dir, "col", "i1", "a.bin")); !bytes.Equal(got, a) {
		t.Errorf("a.bin = %q", got)
	}

	srv.Reset()
	if _, err := run(t, download.Options{Dir: dir, Overwrite: true}, it); err != nil {
		t.Fatal(err)
	}
	if n := srv.Requests.Load(); n != 3 {
		t.Errorf("Overwrite made %d requests, want 3", n)
	}
}

// Cancelling the context stops transfers within a second; their .part
// files are kept, and the next run resumes them.
func TestInterruptKeepsPart(t *testing.T) {
	srv := assettest.New(assettest.Options{SlowBody: 20 * time.Millisecond})
	defer srv.Close()
	data := assettest.Pattern(4 << 20) // 128 chunks of 32 KiB: some 2.5 s
	srv.Add("/slow.bin", assettest.File{Size: int64(len(data))})
	dir := t.TempDir()
	it := newItem("i1", map[string]*stac.Asset{"data": asset(srv.URL+"/slow.bin", data)})
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan struct{})
	var once sync.Once
	d, err := download.New(download.Options{Dir: dir, Progress: func(e download.Event) {
		if e.Kind == download.FileProgress && e.Done > 256<<10 {
			once.Do(func() { close(started) })
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	var sum *download.Summary
	go func() {
		var err error
		sum, err = d.Run(ctx, seq(it))
		done <- err
	}()
	<-started
	cancel()
	t0 := time.Now()
	select {
	case err = <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("still running 5s after the cancel")
	}
	if el := time.Since(t0); el > time.Second {
		t.Errorf("stopped %v after the cancel", el)
	}
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if r := result(t, sum, "data"); r.Status != download.Interrupted {
		t.Errorf("status %v", r.Status)
	}
	part := dest(dir, "col", "i1", "slow.bin.part")
	st, err := os.Stat(part)
	if err != nil || st.Size() == 0 || st.Size() >= int64(len(data)) {
		t.Fatalf(".part after the interrupt: %v, %v", st, err)
	}
	srv.Reset()
	sum, err = run(t, download.Options{Dir: dir}, it)
	if err != nil {
		t.Fatal(err)
	}
	if r := result(t, sum, "data"); !r.Resumed || r.Bytes != int64(len(data))-st.Size() {
		t.Errorf("second run: resumed %v, %d bytes, want %d", r.Resumed, r.Bytes, int64(len(data))-st.Size())
	}
	if log := srv.Log(); len(log) != 1 || log[0].Range != "bytes="+itoa(st.Size())+"-" || log[0].IfRange == "" {
		t.Errorf("second run requests: %+v", log)
	}
}

// Concurrency bounds the transfers at once, PerHost those to one host.
func TestConcurrencyLimits(t *testing.T) {
	a := assettest.New(assettest.Options{Latency: 30 * time.Millisecond})
	defer a.Close()
	b := assettest.New(assettest.Options{Latency: 30 * time.Millisecond})
	defer b.Close()
	var items []*stac.Item
	for i := range 12 {
		name := "/f" + itoa(int64(i)) + ".bin"
		a.Add(name, assettest.File{Data: []byte(name)})
		b.Add(name, assettest.File{Data: []byte(name)})
		items = append(items, newItem("i"+itoa(int64(i)), map[string]*stac.Asset{
			"a": asset(a.URL+name, nil), "b": asset(b.URL+name, nil)}))
	}
	sum, err := run(t, download.Options{Concurrency: 3, PerHost: 2, Layout: mustLayout(t, "{id}/{asset}")}, items...)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Downloaded != 24 {
		t.Fatalf("downloaded %d", sum.Downloaded)
	}
	if ma, mb := a.MaxInFlight.Load(), b.MaxInFlight.Load(); ma > 2 || mb > 2 || ma+mb < 3 {
		t.Errorf("at most %d and %d requests at once per host, want 2 each (3 in all)", ma, mb)
	}
}

// ItemsOut gets each item with the hrefs of its files made relative to
// ItemsDir, everything else as decoded; failed and unselected assets keep
// their hrefs.
func TestItemsOut(t *testing.T) {
	srv := assettest.New(assettest.Options{})
	defer srv.Close()
	srv.Add("/b04.tif", assettest.File{Data: []byte("red")})
	raw := `{"type":"Feature","stac_version":"1.0.0","id":"S2A 1","collection":"s2","geometry":null,` +
		`"properties":{"datetime":"2023-06-01T10:30:00Z","eo:cloud_cover":1.50},"links":[],` +
		`"assets":{"red":{"href":"` + srv.URL + `/b04.tif","type":"image/tiff","roles":["data"],"gsd":10},` +
		`"missing":{"href":"` + srv.URL + `/none.tif","roles":["data"]},` +
		`"thumbnail":{"href":"` + srv.URL + `/t.jpg","roles":["thumbnail"]}},"foreign:member":{"a":[1,2]}}`
	var it stac.Item
	if err := json.Unmarshal([]byte(raw), &it); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var got []*stac.Item
	_, err := run(t, download.Options{Dir: dir + "/data", ItemsDir: dir, Select: download.Selection{Roles: []string{"data"}},
		ItemsOut: func(it *stac.Item) error { got = append(got, it); return nil }}, &it)
	var fe *download.FailedError
	if !errors.As(err, &fe) || len(fe.Failed) != 1 {
		t.Fatalf("err = %v, want the missing asset to fail", err)
	}
	if len(got) != 1 {
		t.Fatalf("%d items written", len(got))
	}
	if h := got[0].Assets["red"].Href; h != "data/s2/S2A%201/b04.tif" {
		t.Errorf("red href %q", h)
	}
	if it.Assets["red"].Href != srv.URL+"/b04.tif" {
		t.Error("the caller's item was changed")
	}
	// Apart from that href, the item encodes exactly as the one decoded.
	want := it
	want.Assets = map[string]*stac.Asset{}
	for k, a := range it.Assets {
		want.Assets[k] = a
	}
	red := *it.Assets["red"]
	red.Href = "data/s2/S2A%201/b04.tif"
	want.Assets["red"] = &red
	wb, _ := json.Marshal(&want)
	gb, _ := json.Marshal(got[0])
	if !bytes.Equal(wb, gb) {
		t.Errorf("written item:\n%s\nwant:\n%s", gb, wb)
	}
	if !bytes.Contains(gb, []byte(`"eo:cloud_cover":1.50`)) {
		t.Error("a number was rewritten")
	}
}

// Two assets with one destination: the same href is one download, another
// href is a conflict.
func TestDestinationConflicts(t *testing.T) {
	srv := assettest.New(assettest.Options{})
	defer srv.Close()
	srv.Add("/x/a.tif", assettest.File{Data: []byte("1")})
	srv.Add("/y/a.tif", assettest.File{Data: []byte("2")})
	it := newItem("i1", map[string]*stac.Asset{
		"one": asset(srv.URL+"/x/a.tif", nil), "same": asset(srv.URL+"/x/a.tif", nil), "other": asset(srv.URL+"/y/a.tif", nil),
	})
	sum, err := run(t, download.Options{}, it)
	if err == nil {
		t.Fatal("no error for a conflict")
	}
	var ce *download.ConflictError
	if r := result(t, sum, "other"); !errors.As(r.Err, &ce) {
		t.Errorf("other: %v", r.Err)
	}
	if r := result(t, sum, "same"); r.Status != download.Skipped || !strings.Contains(strings.Join(r.Notes, ";"), "same file") {
		t.Errorf("same: %v %v", r.Status, r.Notes)
	}
	if n := srv.Requests.Load(); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}

// Relative hrefs resolve against the item's self link; other schemes and
// unresolvable hrefs fail with a message naming them.
func TestHrefs(t *testing.T) {
	srv := assettest.New(assettest.Options{})
	defer srv.Close()
	srv.Add("/cat/items/b.tif", assettest.File{Data: []byte("b")})
	it := newItem("i1", map[string]*stac.Asset{
		"rel":  asset("./b.tif", nil),
		"file": asset("file:///etc/passwd", nil),
		"s3":   asset("s3://bucket/key.tif", nil),
	})
	it.Links = []*stac.Link{{Rel: "self", Href: srv.URL + "/cat/items/i1.json"}}
	sum, _ := run(t, download.Options{}, it)
	if r := result(t, sum, "rel"); r.Status != download.Downloaded {
		t.Errorf("relative href: %v", r.Err)
	}
	if r := result(t, sum, "file"); r.Status != download.Failed || !strings.Contains(r.Err.Error(), "only http, https and s3") {
		t.Errorf("file href: %v", r.Err)
	}
	if r := result(t, sum, "s3"); r.Status != download.Failed || !strings.Contains(r.Err.Error(), "S3 client") {
		t.Errorf("s3 href without S3: %v", r.Err)
	}
}

// The iterator's error ends the run after the items before it.
func TestReadErrorEndsRun(t *testing.T) {
	srv := assettest.New(assettest.Options{})
	defer srv.Close()
	srv.Add("/a", assettest.File{Data: []byte("a")})
	boom := errors.New("page 2: 502 Bad Gateway")
	items := func(yield func(*stac.Item, error) bool) {
		if yield(newItem("i1", map[string]*stac.Asset{"a": asset(srv.URL+"/a", nil)}), nil) {
			yield(nil, boom)
		}
	}
	d, _ := download.New(download.Options{Dir: t.TempDir()})
	sum, err := d.Run(context.Background(), items)
	if !errors.Is(err, boom) || sum.Downloaded != 1 {
		t.Fatalf("err = %v, downloaded %d", err, sum.Downloaded)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// An iterator blocked on its next item (a terminal on stdin) does not hold
// up a cancel.
func TestCancelWithBlockedReader(t *testing.T) {
	block := make(chan struct{})
	defer close(block)
	items := func(yield func(*stac.Item, error) bool) {
		<-block
	}
	d, _ := download.New(download.Options{Dir: t.TempDir()})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := d.Run(ctx, items)
		done <- err
	}()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v", err)
		}
	case <-time.After(time.Second):
		t.Fatal("Run waited for a blocked iterator after the cancel")
	}
}
