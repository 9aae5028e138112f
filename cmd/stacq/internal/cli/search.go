package cli

import (
	"context"
	"fmt"
	"iter"
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/spf13/pflag"

	"github.com/stacq/stacq/download"
	"github.com/stacq/stacq/geo"
	"github.com/stacq/stacq/stac"
	"github.com/stacq/stacq/stacparquet"
)

// filterFlags are the spatial and temporal filters shared by search, items
// and collections.
type filterFlags struct {
	bbox     string
	datetime string
	limit    int
}

func addFilterFlags(fs *pflag.FlagSet) *filterFlags {
	ff := &filterFlags{}
	fs.StringVar(&ff.bbox, "bbox", "", `bounding box "minx,miny,maxx,maxy" (or 6 numbers with z), WGS84 degrees`)
	fs.StringVar(&ff.datetime, "datetime", "", "instant or interval: 2023, 2023-06, 2023-06-01, 2023-01-01/2023-06-30, 2023-01-01/..")
	fs.IntVar(&ff.limit, "limit", 0, "page size asked of the server (0: the server's default)")
	return ff
}

func (ff *filterFlags) parse() (bbox geo.BBox, datetime geo.Interval, err error) {
	if ff.bbox != "" {
		if bbox, err = geo.ParseBBox(ff.bbox); err != nil {
			return nil, datetime, flagError("bbox", err)
		}
	}
	if ff.datetime != "" {
		if datetime, err = geo.ParseDatetime(ff.datetime); err != nil {
			return nil, datetime, flagError("datetime", err)
		}
	}
	if ff.limit < 0 {
		return nil, datetime, usagef("--limit: expected a positive page size, got %d", ff.limit)
	}
	return bbox, datetime, nil
}

// addMaxItems defines --max-items, which search, items and crawl share.
func addMaxItems(fs *pflag.FlagSet, max *int) {
	fs.IntVar(max, "max-items", 0, "stop after this many items (0: all)")
}

// checkMaxItems checks the value of --max-items.
func checkMaxItems(max int) error {
	if max < 0 {
		return usagef("--max-items: expected 0 (all) or more, got %d", max)
	}
	return nil
}

// outputFlags choose where and how features are written.
type outputFlags struct {
	output  string
	format  string
	parquet *parquetFlags
}

func addOutputFlags(fs *pflag.FlagSet) *outputFlags {
	of := &outputFlags{}
	fs.StringVarP(&of.output, "output", "o", "", "write to FILE instead of stdout: an ordinary file (or a symlink's target) in full or not at all, keeping its mode; a device, FIFO or /dev/fd/N as the items come (no atomicity is possible there)")
	fs.StringVar(&of.output, "save", "", "the same as -o (pystac-client's name)")
	fs.StringVar(&of.format, "format", "", "geojson (FeatureCollection), ndjson (one feature per line), json (indented) or parquet (stac-geoparquet, with -o); default from -o's extension (.parquet too), else geojson")
	addParquetFlags(fs, of)
	return of
}

// openItems opens the output of a command that writes items: GeoJSON or
// stac-geoparquet. For parquet, the collections' JSON of its metadata is
// fetched through the returned value once the API is open.
func (of *outputFlags) openItems(ctx context.Context, io IO) (*output, *collectionsJSON, error) {
	if of.wantsParquet() {
		cols := &collectionsJSON{}
		out, err := openParquetOutput(ctx, io, of, cols)
		return out, cols, err
	}
	if of.parquet != nil && (of.parquet.rowGroup != 0 || of.parquet.compression != "zstd") {
		return nil, nil, usagef("--row-group-size and --compression are for parquet output (-o FILE.parquet or --format parquet)")
	}
	out, err := openOutput(io, of.output, of.format)
	return out, nil, err
}

type searchFlags struct {
	client      *clientFlags
	filters     *filterFlags
	out         *outputFlags
	collections []string
	ids         []string
	intersects  string
	query       []string
	filter      string
	filterLang  string
	sortby      string
	fields      string
	q           string
	maxItems    int
	method      string
	matched     bool
	parallel    int
	prefetch    bool
	strict      bool
	dedupe      bool
	signer      string
	resume      *resumeFlags
}

func searchCommand() *command {
	return &command{
		name:    "search",
		args:    "URL [flags]",
		summary: "Search a STAC API's items (/search) and write them as GeoJSON",
		examples: `  # Sentinel-2 scenes over Paris in June 2023 with little cloud, as a FeatureCollection
  stacq search https://earth-search.aws.element84.com/v1 -c sentinel-2-l2a \
      --bbox 2.25,48.81,2.42,48.90 --datetime 2023-06 --query 'eo:cloud_cover<10' -o paris.geojson

  # How many items match, with one small request
  stacq search https://planetarycomputer.microsoft.com/api/stac/v1 -c landsat-c2-l2 --datetime 2020 --matched

  # One item per line, newest first, only ids and datetimes
  stacq search URL -c naip --max-items 500 --sortby -datetime --fields id,properties.datetime --format ndjson

  # CQL2 filter (text or JSON) and a geometry from a file
  stacq search URL --filter "eo:cloud_cover < 20 AND platform = 'sentinel-2a'" --intersects aoi.geojson`,
		setup: func(fs *pflag.FlagSet) func(context.Context, IO, []string) error {
			sf := addQueryFlags(fs)
			fs.BoolVar(&sf.matched, "matched", false, "print only the number of matching items")
			fs.IntVar(&sf.parallel, "parallel", 0, "split the search over its datetime range into N windows searched at once (output order not kept; needs a closed --datetime or collections with a temporal extent)")
			fs.BoolVar(&sf.prefetch, "prefetch", true, "request the next page while writing the current one")
			addDedupeFlag(fs, &sf.dedupe)
			addStrictFlag(fs, &sf.strict)
			fs.StringVar(&sf.signer, "signer", "none", "sign the asset hrefs written: planetary-computer (a SAS token per collection, as pystac-client's modifier), or none")
			sf.out = addOutputFlags(fs)
			sf.resume = addResumeFlags(fs)
			sf.client = addClientFlags(fs)
			return sf.run
		},
	}
}

// addQueryFlags defines the flags that say which items a search asks for
// (search and download share them).
func addQueryFlags(fs *pflag.FlagSet) *searchFlags {
	sf := &searchFlags{}
	fs.StringSliceVarP(&sf.collections, "collections", "c", nil, "collection ids (repeatable or comma-separated)")
	fs.StringSliceVar(&sf.ids, "ids", nil, "item ids (repeatable or comma-separated)")
	sf.filters = addFilterFlags(fs)
	fs.StringVar(&sf.intersects, "intersects", "", "GeoJSON geometry, Feature or FeatureCollection of one, or WKT: inline, a file path, or - for stdin")
	fs.StringArrayVar(&sf.query, "query", nil, `query extension: JSON object or shorthand like "eo:cloud_cover<10" (repeatable)`)
	fs.StringVar(&sf.filter, "filter", "", "CQL2 filter, text or JSON (or @FILE)")
	fs.StringVar(&sf.filterLang, "filter-lang", "", "cql2-text or cql2-json (default: from the filter)")
	fs.StringVar(&sf.sortby, "sortby", "", `sort fields, e.g. "-properties.datetime,+id" or "-datetime"`)
	fs.StringVar(&sf.fields, "fields", "", `fields to include/exclude, e.g. "id,properties.datetime,-assets"`)
	fs.StringVar(&sf.q, "q", "", "free-text search")
	addMaxItems(fs, &sf.maxItems)
	fs.StringVar(&sf.method, "method", "", "GET or POST (default: POST when the API offers it)")
	return sf
}

// params returns what the search sends, and how it is paged.
func (sf *searchFlags) params(io IO) (stac.SearchParams, []stac.ListOption, error) {
	p, err := sf.sent(io)
	if err != nil {
		return p, nil, err
	}
	if err := checkMaxItems(sf.maxItems); err != nil {
		return p, nil, err
	}
	opts := []stac.ListOption{stac.WithMaxItems(sf.maxItems)}
	if sf.dedupe {
		opts = append(opts, stac.WithDedupe())
	}
	if sf.parallel < 0 || sf.parallel > maxParallel {
		return p, nil, usagef("--parallel: expected 1 to %d windows, got %d", maxParallel, sf.parallel)
	}
	if sf.parallel > 1 {
		if len(p.Collections) == 0 && (p.Datetime.IsZero() || p.Datetime.OpenStart || p.Datetime.OpenEnd) {
			return p, nil, usagef("--parallel: splitting a search needs a closed --datetime range (start/end), or --collections whose temporal extents give one")
		}
		opts = append(opts, stac.WithParallel(sf.parallel))
	}
	return p, opts, nil
}

// sent returns the parameters the search sends.
func (sf *searchFlags) sent(io IO) (stac.SearchParams, error) {
	var p stac.SearchParams
	var err error
	if p.BBox, p.Datetime, err = sf.filters.parse(); err != nil {
		return p, err
	}
	p.Limit = sf.filters.limit
	p.Collections = trimAll(sf.collections)
	p.IDs = trimAll(sf.ids)
	if sf.intersects != "" {
		if sf.filters.bbox != "" {
			return p, usagef("--bbox and --intersects cannot be used together")
		}
		g, err := geo.ReadGeometry(sf.intersects, io.Stdin)
		if err != nil {
			return p, flagError("intersects", err)
		}
		gj, err := geo.GeometryJSON(g)
		if err != nil {
			return p, flagError("intersects", err)
		}
		p.Intersects = jsontext.Value(gj)
	}
	if len(sf.query) > 0 {
		if p.Query, err = stac.ParseQuery(sf.query); err != nil {
			return p, flagError("query", err)
		}
	}
	if sf.filter != "" {
		text, err := readFilter(sf.filter, sf.filterLang)
		if err != nil {
			return p, flagError("filter", err)
		}
		p.Filter = text
	}
	switch strings.ToLower(sf.filterLang) {
	case "", "cql2-text", "cql2-json":
		p.FilterLang = strings.ToLower(sf.filterLang)
	default:
		return p, usagef("--filter-lang: expected cql2-text or cql2-json, got %q", sf.filterLang)
	}
	if sf.sortby != "" {
		if p.SortBy, err = stac.ParseSortBy(sf.sortby); err != nil {
			return p, flagError("sortby", err)
		}
	}
	if sf.fields != "" {
		if p.Fields, err = stac.ParseFields(sf.fields); err != nil {
			return p, flagError("fields", err)
		}
	}
	p.Q = sf.q
	switch m := strings.ToUpper(sf.method); m {
	case "", "GET", "POST":
		p.Method = m
	default:
		return p, usagef("--method: expected GET or POST, got %q", sf.method)
	}
	return p, nil
}

func (sf *searchFlags) run(ctx context.Context, io IO, args []string) error {
	if len(args) > 1 {
		if hint := sf.valuesHint(args[1:]); hint != "" {
			return usagef("expected one URL, got %s: %s; did you mean %s? (a flag's several values are separated by commas)", plural(len(args), "argument"), strings.Join(quoteAll(args), " "), hint)
		}
	}
	args, err := sf.client.positional(io, args, "URL")
	if err != nil {
		return err
	}
	if !isHTTPURL(args[0]) && formatOfPath(args[0]) == "parquet" {
		return sf.searchParquet(ctx, io, args[0])
	}
	if err := sf.checkIgnored(io); err != nil {
		return err
	}
	params, opts, err := sf.params(io)
	if err != nil {
		return err
	}
	var from *stac.Link
	if sf.resume.resume != "" {
		if name := sf.resumeConflict(); name != "" {
			return usagef("--resume continues the saved request as it was: --%s cannot be changed with it", name)
		}
		if from, err = readResume(sf.resume.resume); err != nil {
			return flagError("resume", err)
		}
		opts = append(opts, stac.WithResume(from))
	}
	if _, err := sf.client.parseHeaders(); err != nil {
		return err
	}
	if sf.matched {
		c, err := sf.client.open(ctx, io, args[0])
		if err != nil {
			return err
		}
		if err := checkAdvertised(io, "search", c.UnadvertisedSearch(params), sf.strict); err != nil {
			return err
		}
		n, err := c.Matched(ctx, params)
		if err != nil {
			return err
		}
		fmt.Fprintln(io.Stdout, n)
		return nil
	}
	out, cols, err := sf.out.openItems(ctx, io)
	if err != nil {
		return err
	}
	// Each page is written before the next is asked for: the pages can
	// share their memory (flat memory and no GC work over a long export).
	c, err := sf.client.open(ctx, io, args[0], stac.WithPrefetch(sf.prefetch), stac.WithRawPageReuse(true))
	if err != nil {
		out.Discard()
		return err
	}
	if err := checkAdvertised(io, "search", c.UnadvertisedSearch(params), sf.strict); err != nil {
		out.Discard()
		return err
	}
	cols.fromAPI(c)
	res := &resumeState{c: c, params: params, from: from, parallel: sf.parallel > 1}
	pages := c.SearchRawPages(ctx, params, opts...)
	switch sf.signer {
	case "none", "planetary-computer":
	default:
		out.Discard()
		return usagef("--signer: expected planetary-computer or none, got %q", sf.signer)
	}
	if sf.signer == "planetary-computer" {
		cfg := download.PlanetaryComputerEnv(io.getenv)
		if cfg.HTTPClient, _, err = sf.client.retryingClient(ctx, io, ""); err != nil {
			out.Discard()
			return err
		}
		pc, err := download.NewPlanetaryComputer(cfg)
		if err != nil {
			out.Discard()
			return err
		}
		pages = signedPages(ctx, pc, pages)
	}
	return writeRawPages(ctx, io, sf.client, out, pages, res, sf.resume.partial, sf.dedupe)
}

// signedPages signs the asset hrefs of every item of pages: each item is
// decoded, signed and encoded again (the one case where a search's items
// are not written as the server sent them).
func signedPages(ctx context.Context, signer download.Signer, pages iter.Seq2[*stac.RawPage, error]) iter.Seq2[*stac.RawPage, error] {
	return func(yield func(*stac.RawPage, error) bool) {
		for page, err := range pages {
			if err == nil {
				for i := range page.Items {
					if err = signRaw(ctx, signer, &page.Items[i]); err != nil {
						break
					}
				}
			}
			if !yield(page, err) || err != nil {
				return
			}
		}
	}
}

func signRaw(ctx context.Context, signer download.Signer, r *stac.RawItem) error {
	it, err := r.Decode()
	if err != nil {
		return err
	}
	if it, err = download.SignItem(ctx, signer, it); err != nil {
		return fmt.Errorf("--signer: item %s: %w", r.ID, err)
	}
	b, err := json.Marshal(it)
	if err != nil {
		return err
	}
	r.JSON, r.Compact = b, true
	return nil
}

// valuesHint recognises arguments that belong to a flag given several
// values pystac-client's way (--bbox -10 35 5 45, -c a b): the flag
// written the stacq way, or "".
func (sf *searchFlags) valuesHint(extra []string) string {
	switch {
	case sf.filters.bbox != "" && !strings.Contains(sf.filters.bbox, ",") && allNumbers(extra):
		return "--bbox " + strings.Join(append([]string{sf.filters.bbox}, extra...), ",")
	case len(sf.collections) > 0 && !isHTTPURL(extra[0]):
		return "-c " + strings.Join(append(append([]string{}, sf.collections...), extra...), ",")
	case len(sf.ids) > 0 && !isHTTPURL(extra[0]):
		return "--ids " + strings.Join(append(append([]string{}, sf.ids...), extra...), ",")
	}
	return ""
}

// addDedupeFlag defines --dedupe, of search and items.
func addDedupeFlag(fs *pflag.FlagSet, dedupe *bool) {
	fs.BoolVar(dedupe, "dedupe", false, "drop the items a page repeats from the page before (some servers repeat items at page boundaries; they are counted either way)")
}

// checkIgnored refuses flags that would be silently ignored where that
// loses what the user asked for (a file not written, an order lost), and
// warns of those that merely have no effect.
func (sf *searchFlags) checkIgnored(io IO) error {
	toStdout := sf.out.output == "" || sf.out.output == "-"
	switch {
	case sf.matched && (!toStdout || sf.out.format != ""):
		return usagef("--matched prints only the number of matches, on stdout: -o and --format cannot be used with it")
	case sf.parallel > 1 && sf.sortby != "":
		return usagef("--parallel writes the items of its windows as they come, so the order --sortby asks for would be lost: use one or the other")
	}
	if sf.resume.partial && toStdout {
		fmt.Fprintln(io.Stderr, "stacq search: warning: --partial has no effect without -o FILE (stdout keeps what it was sent anyway)")
	}
	if sf.filterLang != "" && sf.filter == "" {
		fmt.Fprintln(io.Stderr, "stacq search: warning: --filter-lang has no effect without --filter")
	}
	return nil
}

func trimAll(vals []string) []string {
	var out []string
	for _, v := range vals {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// searchParquet searches a local stac-geoparquet file or partitioned
// directory: the row groups' statistics skip what cannot match, no server
// is involved. bbox, datetime, collections, ids and max-items apply.
func (sf *searchFlags) searchParquet(ctx context.Context, io IO, path string) error {
	for _, f := range []struct {
		name string
		set  bool
	}{
		{"intersects", sf.intersects != ""}, {"query", len(sf.query) > 0}, {"filter", sf.filter != ""},
		{"sortby", sf.sortby != ""}, {"fields", sf.fields != ""}, {"q", sf.q != ""}, {"method", sf.method != ""},
		{"matched", sf.matched}, {"parallel", sf.parallel != 0}, {"resume", sf.resume.resume != ""},
	} {
		if f.set {
			return usagef("--%s: not supported when searching a local stac-geoparquet (%s); --bbox, --datetime, -c, --ids and --max-items are", f.name, path)
		}
	}
	bbox, dt, err := sf.filters.parse()
	if err != nil {
		return err
	}
	if err := checkMaxItems(sf.maxItems); err != nil {
		return err
	}
	filter := stacparquet.Filter{BBox: bbox, Collections: trimAll(sf.collections), IDs: trimAll(sf.ids), MaxItems: sf.maxItems}
	if !dt.IsZero() {
		if !dt.OpenStart {
			filter.Start = dt.Start
		}
		if !dt.OpenEnd {
			filter.End = dt.End
		}
	}
	r, err := stacparquet.Open(path)
	if err != nil {
		return usagef("%s: %v", path, err)
	}
	defer r.Close()
	out, cols, err := sf.out.openItems(ctx, io)
	if err != nil {
		return err
	}
	if cols != nil {
		meta := r.Metadata().Collections
		cols.fetch = func(_ context.Context, id string) ([]byte, error) { return meta[id], nil }
	}
	prog := startProgress(io, sf.client.quiet)
	var werr error
	for item, err := range r.Items(ctx, filter) {
		if err != nil {
			werr = err
			break
		}
		// The reader's items are compact, valid JSON (FuzzReadFile):
		// written as they are, not checked again.
		v := geo.CompactJSON(item)
		if werr = out.Write(&v); werr != nil {
			break
		}
		prog.item()
	}
	prog.stop()
	if werr == nil {
		werr = ctx.Err()
	}
	return finishOutput(io, "search", out, werr, nil, sf.resume.partial)
}
