package cli

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/spf13/pflag"

	"github.com/stacq/stacq/auth/provider"
	"github.com/stacq/stacq/download"
	"github.com/stacq/stacq/download/s3"
	"github.com/stacq/stacq/stac"
)

// CDSE limits concurrent downloads per user to 4: the per-host cap when
// its credentials are in use and --per-host is not given.
const cdsePerHost = 4

type downloadFlags struct {
	search        *searchFlags
	client        *clientFlags
	assets        []string
	roles         []string
	mediaTypes    []string
	alternate     string
	layout        string
	itemsOut      string
	concurrency   int
	perHost       int
	overwrite     bool
	signer        string
	presign       bool
	requesterPays bool
	user          string
	timeoutSet    bool // --timeout was given
	fs            *pflag.FlagSet
}

func downloadCommand() *command {
	return &command{
		name:    "download",
		args:    "SOURCE DIR [flags]",
		summary: "Download the assets of items (an API search, a file, or stdin), verified and resumable",
		examples: `  # Search and download the red, green and blue bands of June's scenes
  stacq download https://earth-search.aws.element84.com/v1 ./data -c sentinel-2-l2a \
      --bbox 2.25,48.81,2.42,48.90 --datetime 2023-06 --assets red,green,blue

  # Items from a search saved before, or from stdin
  stacq download items.ndjson ./data --roles data --items-out data/items.ndjson
  stacq search URL -c naip --max-items 10 --format ndjson | stacq download - ./data

  # Planetary Computer (SAS tokens signed automatically), one folder per month
  stacq download https://planetarycomputer.microsoft.com/api/stac/v1 ./pc -c landsat-c2-l2 \
      --max-items 5 --assets red,nir08 --layout '{collection}/{datetime:%Y/%m}/{id}/{asset}{ext}'

  # s3:// hrefs (the AWS credential chain; requester-pays buckets)
  stacq download items.ndjson ./data --alternate s3 --requester-pays

  # Copernicus Data Space products with your account (password from CDSE_PASSWORD, ~/.netrc or a prompt)
  stacq download https://stac.dataspace.copernicus.eu/v1 ./cdse -c sentinel-2-l2a --max-items 2 --cdse-user me@example.com`,
		setup: func(fs *pflag.FlagSet) func(context.Context, IO, []string) error {
			df := &downloadFlags{}
			fs.StringArrayVar(&df.assets, "assets", nil, `asset keys to download: glob patterns ("B0?", "*_10m"), repeatable or comma-separated (default: all)`)
			fs.StringArrayVar(&df.roles, "roles", nil, `only assets with one of these roles ("data", "metadata"), repeatable or comma-separated`)
			fs.StringArrayVar(&df.mediaTypes, "media-type", nil, `only assets of these media types ("image/tiff", "image/*", or a full type with parameters), repeatable or comma-separated`)
			fs.StringVar(&df.alternate, "alternate", "", `download the alternate href NAME of each asset ("s3", "https"; the alternate-assets extension) where it has one`)
			fs.StringVar(&df.layout, "layout", download.DefaultLayout, "where files go under DIR: {collection} {id} {asset} {filename} {ext} {datetime} {datetime:%Y/%m}")
			fs.StringVar(&df.itemsOut, "items-out", "", "write the items to FILE with the hrefs of the files downloaded made relative to FILE's directory (.ndjson or .geojson)")
			fs.IntVar(&df.concurrency, "concurrency", download.DefaultConcurrency, "files transferred at once")
			fs.IntVar(&df.perHost, "per-host", 0, fmt.Sprintf("files transferred at once from one host (0: --concurrency; %d for Copernicus Data Space)", cdsePerHost))
			fs.BoolVar(&df.overwrite, "overwrite", false, "download every file again, even one already complete and verified in DIR")
			fs.StringVar(&df.signer, "signer", "auto", "sign hrefs: planetary-computer (SAS tokens for Azure blob hrefs), none, or auto (planetary-computer for its API and items)")
			fs.BoolVar(&df.presign, "presign", true, "ask the API for presigned asset hrefs (EarthDaily's X-Signed-Asset-Urls header); false keeps s3:// hrefs")
			fs.BoolVar(&df.requesterPays, "requester-pays", false, "pay for s3:// transfers from requester-pays buckets (x-amz-request-payer)")
			fs.StringVar(&df.user, "cdse-user", "", "Copernicus Data Space user name (env CDSE_USERNAME); the password comes from CDSE_PASSWORD, ~/.netrc or a prompt")
			df.search = addQueryFlags(fs)
			df.client = addClientFlags(fs)
			df.search.client = df.client
			df.fs = fs
			return df.run
		},
	}
}

// options checks the flags and turns them into download options, without
// access (routing, signing, S3) yet.
func (df *downloadFlags) options() (download.Options, error) {
	var o download.Options
	o.Select = download.Selection{
		Keys:       download.SplitList(df.assets...),
		Roles:      download.SplitList(df.roles...),
		MediaTypes: download.SplitList(df.mediaTypes...),
		Alternate:  df.alternate,
	}
	if err := (download.Selection{Keys: o.Select.Keys}).Check(); err != nil {
		return o, flagError("assets", err)
	}
	if err := (download.Selection{MediaTypes: o.Select.MediaTypes}).Check(); err != nil {
		return o, flagError("media-type", err)
	}
	if err := (download.Selection{Alternate: o.Select.Alternate}).Check(); err != nil {
		return o, flagError("alternate", err)
	}
	layout, err := download.ParseLayout(df.layout)
	if err != nil {
		return o, flagError("layout", err)
	}
	o.Layout = layout
	if df.concurrency < 1 {
		return o, usagef("--concurrency: expected 1 or more files at once, got %d", df.concurrency)
	}
	if df.perHost < 0 {
		return o, usagef("--per-host: expected 0 (no limit but --concurrency) or more, got %d", df.perHost)
	}
	o.Concurrency, o.PerHost, o.Overwrite = df.concurrency, df.perHost, df.overwrite
	switch df.signer {
	case "auto", "none", "planetary-computer":
	default:
		return o, usagef("--signer: expected planetary-computer, none or auto, got %q", df.signer)
	}
	o.UserAgent = "stacq/" + Version()
	return o, nil
}

func (df *downloadFlags) run(ctx context.Context, io IO, args []string) error {
	df.timeoutSet = df.fs.Changed("timeout")
	args = df.client.withDefaultURL(io, args, 1)
	if len(args) != 2 {
		return usagef("expected SOURCE (an API URL, a file of items, or - for stdin) and DIR, got %d arguments", len(args))
	}
	source, dir := args[0], args[1]
	opts, err := df.options()
	if err != nil {
		return err
	}
	opts.Dir = dir
	api := isHTTPURL(source)
	if !api && df.searchFlagsSet() != "" {
		return usagef("--%s applies to an API search; SOURCE %s is a file", df.searchFlagsSet(), source)
	}
	var params stac.SearchParams
	var listOpts []stac.ListOption
	if api {
		if params, listOpts, err = df.search.params(io); err != nil {
			return err
		}
	}
	if _, err := df.client.parseHeaders(); err != nil {
		return err
	}

	// Asset hosts get a client without the API's credentials; the
	// Router gives the API's client to its own hosts only.
	// A large file takes what it takes: the attempt timeout of API
	// requests does not bound asset transfers unless --timeout is given.
	assetFlags := *df.client
	if !df.timeoutSet {
		assetFlags.timeout = 0
	}
	plain, _, err := assetFlags.retryingClient(ctx, io, "")
	if err != nil {
		return err
	}
	router := download.NewRouter(plain)
	opts.Router = router
	var items iter.Seq2[*stac.Item, error]
	if api {
		var extra []stac.Option
		if df.presign {
			extra = append(extra, stac.WithHeader(download.SignedAssetURLsHeader, "True"))
		}
		c, hc, err := df.client.openClient(ctx, io, source, extra...)
		if err != nil {
			return err
		}
		if err := router.Route(hc, append([]string{source}, df.presetHosts(io, source)...)...); err != nil {
			return err
		}
		items = c.Search(ctx, params, listOpts...)
	} else if source != "-" && formatOfPath(source) == "parquet" {
		src, closeSrc, err := readItems(ctx, io, source, "parquet")
		if err != nil {
			return err
		}
		defer closeSrc()
		items = decodeItems(src.seq)
	} else {
		f, err := openItemsSource(io, source)
		if err != nil {
			return err
		}
		defer f.Close()
		if items, err = readItemsSource(f, source); err != nil {
			return err
		}
	}
	cdse, err := df.cdseClient(ctx, io, plain)
	if err != nil {
		return err
	}
	if cdse != nil {
		hosts := download.SplitList(io.getenv("STACQ_CDSE_HOSTS"))
		if len(hosts) == 0 {
			hosts = []string{download.CDSEDomain}
		}
		if err := router.Route(cdse, hosts...); err != nil {
			return fmt.Errorf("STACQ_CDSE_HOSTS: %w", err)
		}
		if opts.PerHost == 0 {
			opts.PerHost = min(cdsePerHost, opts.Concurrency)
		}
	}
	if opts.Signer, err = df.makeSigner(io, source, api, plain); err != nil {
		return err
	}
	opts.S3 = s3.New(s3.Options{RequesterPays: df.requesterPays})
	if opts.Retry, err = assetFlags.policy(nil); err != nil {
		return err
	}

	var out *output
	if df.itemsOut != "" {
		if df.itemsOut != "-" {
			// Often inside DIR, which may not exist yet.
			if err := os.MkdirAll(filepath.Dir(df.itemsOut), 0o777); err != nil {
				return fmt.Errorf("--items-out: %w", err)
			}
		}
		if out, err = openOutput(io, df.itemsOut, ""); err != nil {
			// openOutput speaks of -o, the flag of search.
			return usagef("--items-out: %s", strings.TrimPrefix(strings.TrimPrefix(err.Error(), "--output: "), "--format: "))
		}
		opts.ItemsOut = func(it *stac.Item) error { return out.Write(it) }
		opts.ItemsDir = "."
		if out.path != "" {
			opts.ItemsDir = filepath.Dir(out.path)
		}
	}
	bars := startDownloadProgress(io, df.client.quiet)
	opts.Progress = bars.event
	d, err := download.New(opts)
	if err != nil {
		bars.stop()
		if out != nil {
			out.Discard()
		}
		return err
	}
	sum, err := d.Run(ctx, items)
	bars.stop()
	if out != nil {
		if ctx.Err() != nil {
			out.Abort()
		} else if cerr := out.Commit(); cerr != nil && err == nil {
			err = cerr
		}
	}
	printDownloadSummary(io, sum, df.client.quiet)
	if ctx.Err() != nil && sum.Interrupted > 0 {
		fmt.Fprintf(io.Stderr, "stacq download: %d transfers interrupted; their .part files are kept: run the same command again to resume\n", sum.Interrupted)
	}
	return err
}

// searchFlagsSet returns the name of a search flag given, "" when none is.
func (df *downloadFlags) searchFlagsSet() string {
	sf := df.search
	for _, f := range []struct {
		name string
		set  bool
	}{
		{"collections", len(sf.collections) > 0}, {"ids", len(sf.ids) > 0}, {"bbox", sf.filters.bbox != ""},
		{"datetime", sf.filters.datetime != ""}, {"intersects", sf.intersects != ""}, {"query", len(sf.query) > 0},
		{"filter", sf.filter != ""}, {"sortby", sf.sortby != ""}, {"fields", sf.fields != ""}, {"q", sf.q != ""},
		{"max-items", sf.maxItems != 0}, {"limit", sf.filters.limit != 0}, {"method", sf.method != ""},
	} {
		if f.set {
			return f.name
		}
	}
	return ""
}

// presetHosts are the hosts the API's provider preset names for its
// credentials, besides the API URL's own origin.
func (df *downloadFlags) presetHosts(io IO, apiURL string) []string {
	name := df.client.auth.provider
	if name == "" {
		name = io.getenv("STACQ_PROVIDER")
	}
	p, ok := provider.Lookup(name)
	if !ok {
		p, ok = provider.ForURL(apiURL)
	}
	if !ok {
		return nil
	}
	return p.APIHosts
}

// makeSigner is the --signer's signer, nil for none.
func (df *downloadFlags) makeSigner(io IO, source string, api bool, hc *http.Client) (download.Signer, error) {
	if df.signer == "none" {
		return nil, nil
	}
	cfg := download.PlanetaryComputerEnv(io.getenv)
	cfg.HTTPClient = hc
	pc, err := download.NewPlanetaryComputer(cfg)
	if err != nil {
		return nil, err
	}
	switch {
	case df.signer == "planetary-computer":
		return pc, nil
	case api && isPlanetaryComputer(source):
		return pc, nil
	case api:
		return nil, nil
	}
	return pcItems{pc}, nil // items from a file: those from the Planetary Computer
}

func isPlanetaryComputer(rawURL string) bool {
	u, err := url.Parse(rawURL)
	if err != nil {
		return false
	}
	h := strings.ToLower(u.Hostname())
	return h == "planetarycomputer.microsoft.com" || strings.HasSuffix(h, ".planetarycomputer.microsoft.com")
}

// pcItems signs the hrefs of items that came from the Planetary
// Computer (their links say so), for --signer auto on a file.
type pcItems struct{ pc *download.PlanetaryComputer }

func (s pcItems) fromPC(item *stac.Item) bool {
	for _, l := range item.Links {
		if l != nil && isPlanetaryComputer(l.Href) {
			return true
		}
	}
	return false
}

func (s pcItems) Sign(ctx context.Context, item *stac.Item, href string) (string, error) {
	if !s.fromPC(item) {
		return href, nil
	}
	return s.pc.Sign(ctx, item, href)
}

func (s pcItems) Renew(ctx context.Context, item *stac.Item, href, refused string) (string, error) {
	if !s.fromPC(item) {
		return href, nil
	}
	return s.pc.Renew(ctx, item, href, refused)
}

// cdseClient returns a client with the user's Copernicus Data Space
// token, or nil when no CDSE user is configured: --cdse-user or CDSE_USERNAME,
// or a ~/.netrc entry for its identity server. The password comes from
// CDSE_PASSWORD, the .netrc entry, or a prompt. No token is requested
// until a CDSE host is.
func (df *downloadFlags) cdseClient(ctx context.Context, io IO, base *http.Client) (*http.Client, error) {
	user := df.user
	if user == "" {
		user = io.getenv("CDSE_USERNAME")
	}
	password := io.getenv("CDSE_PASSWORD")
	if password == "" || user == "" {
		if login, pw, ok := netrcCredentials(io, user); ok {
			user, password = login, pw
		}
	}
	if user == "" {
		return nil, nil
	}
	if password == "" {
		if io.ReadSecret == nil {
			return nil, usagef("--cdse-user %s: no password for Copernicus Data Space; set CDSE_PASSWORD, add it to ~/.netrc (machine %s), or run on a terminal to be asked", user, cdseNetrcMachines()[0])
		}
		pw, err := io.ReadSecret(ctx, "stacq: Copernicus Data Space password for "+user+": ")
		if err != nil {
			return nil, err
		}
		password = pw
	}
	tokenURL := io.getenv("STACQ_CDSE_TOKEN_URL")
	ts := download.CDSETokenSource(ctx, download.CDSEConfig{Username: user, Password: password, TokenURL: tokenURL, HTTPClient: base})
	return download.CDSEClient(ts, base), nil
}

// cdseNetrcMachines are the .netrc machine names CDSE tools use.
func cdseNetrcMachines() []string {
	return []string{"identity.dataspace.copernicus.eu", "dataspace.copernicus.eu"}
}

// netrcCredentials looks up the CDSE entry of $NETRC or ~/.netrc, for
// user when given.
func netrcCredentials(io IO, user string) (login, password string, ok bool) {
	path := io.getenv("NETRC")
	if path == "" {
		home := io.getenv("HOME")
		if home == "" {
			return "", "", false
		}
		path = filepath.Join(home, ".netrc")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return "", "", false
	}
	for _, m := range cdseNetrcMachines() {
		if l, p, found := parseNetrc(data, m); found && (user == "" || l == user) {
			return l, p, true
		}
	}
	return "", "", false
}

// parseNetrc returns the login and password of machine in a .netrc file
// (tokens separated by white space; "default" entries are not used: a
// password meant for any host is not sent to this one; macdef bodies
// are skipped).
func parseNetrc(data []byte, machine string) (login, password string, ok bool) {
	fields := netrcTokens(data)
	in := false
	for i := 0; i < len(fields); i++ {
		switch fields[i] {
		case "machine":
			if in {
				return login, password, true
			}
			if i+1 < len(fields) {
				i++
				in = fields[i] == machine
			}
		case "default":
			if in {
				return login, password, true
			}
			in = false
		case "login", "password", "account":
			if i+1 < len(fields) {
				i++
				if in && fields[i-1] == "login" {
					login = fields[i]
				} else if in && fields[i-1] == "password" {
					password = fields[i]
				}
			}
		}
	}
	return login, password, in
}

// netrcTokens splits a .netrc into its tokens, dropping macdef bodies
// (up to an empty line) and # comments.
func netrcTokens(data []byte) []string {
	var out []string
	macdef := false
	for line := range bytes.Lines(data) {
		trimmed := bytes.TrimSpace(line)
		if macdef {
			if len(trimmed) == 0 {
				macdef = false
			}
			continue
		}
		if bytes.HasPrefix(trimmed, []byte("#")) {
			continue
		}
		for _, f := range bytes.Fields(line) {
			if string(f) == "macdef" {
				macdef = true
				break
			}
			out = append(out, string(f))
		}
	}
	return out
}

// openItemsSource opens a file of items, or stdin for "-".
func openItemsSource(io IO, path string) (io.ReadCloser, error) {
	if path == "-" {
		return readNopCloser{io.Stdin}, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, usagef("SOURCE %s: expected an API URL, a file of items or - for stdin: %v", path, errors.Unwrap(err))
	}
	return f, nil
}

type readNopCloser struct{ io.Reader }

func (readNopCloser) Close() error { return nil }

// itemFormat is one kind of items file. read nil means stacq knows the
// format but cannot read it yet.
type itemFormat struct {
	name   string
	detect func(head []byte) bool
	read   func(io.Reader) iter.Seq2[*stac.Item, error]
}

// itemFormats are the streams of items download reads, the first
// detected wins. A stac-geoparquet file is read by name (see run); on
// stdin, which cannot be read out of order, it is refused.
func itemFormats() []itemFormat {
	return []itemFormat{
		{name: "stac-geoparquet on stdin (give its file name instead)", detect: func(head []byte) bool { return bytes.HasPrefix(head, []byte("PAR1")) }},
		{name: "GeoJSON (NDJSON, FeatureCollection or Feature)", detect: func([]byte) bool { return true }, read: download.ReadItems},
	}
}

// readItemsSource reads items from r in the format its first bytes show.
func readItemsSource(r io.Reader, name string) (iter.Seq2[*stac.Item, error], error) {
	br := bufio.NewReaderSize(r, 64<<10)
	head, _ := br.Peek(4)
	for _, f := range itemFormats() {
		if !f.detect(head) {
			continue
		}
		if f.read == nil {
			return nil, fmt.Errorf("SOURCE %s is %s", name, f.name)
		}
		return f.read(br), nil
	}
	return nil, fmt.Errorf("SOURCE %s: unknown format", name)
}

// printDownloadSummary says what a download did: one line, unless -q
// (failures are listed by the error the command returns).
func printDownloadSummary(io IO, s *download.Summary, quiet bool) {
	if s == nil || quiet {
		return
	}
	var parts []string
	if s.Downloaded > 0 {
		parts = append(parts, fmt.Sprintf("%d downloaded", s.Downloaded))
	}
	if s.Skipped > 0 {
		parts = append(parts, fmt.Sprintf("%d already there", s.Skipped))
	}
	if s.Failed > 0 {
		parts = append(parts, fmt.Sprintf("%d failed", s.Failed))
	}
	if s.Interrupted > 0 {
		parts = append(parts, fmt.Sprintf("%d interrupted", s.Interrupted))
	}
	if len(parts) == 0 {
		parts = append(parts, "no assets selected")
	}
	rate := ""
	if secs := s.Elapsed.Seconds(); s.Bytes > 0 && secs > 0 {
		rate = fmt.Sprintf(", %s/s", humanBytes(int64(float64(s.Bytes)/secs)))
	}
	items := "items"
	if s.Items == 1 {
		items = "item"
	}
	fmt.Fprintf(io.Stderr, "stacq download: %d %s, %s; %s in %s%s\n", s.Items, items, strings.Join(parts, ", "),
		humanBytes(s.Bytes), s.Elapsed.Round(10*time.Millisecond), rate)
}

// humanBytes formats n bytes in binary units.
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// decodeItems decodes a stream of items as JSON.
func decodeItems(raw iter.Seq2[jsontext.Value, error]) iter.Seq2[*stac.Item, error] {
	return func(yield func(*stac.Item, error) bool) {
		for v, err := range raw {
			var it *stac.Item
			if err == nil {
				it, err = stac.RawItem{JSON: v}.Decode()
			}
			if !yield(it, err) || err != nil {
				return
			}
		}
	}
}
