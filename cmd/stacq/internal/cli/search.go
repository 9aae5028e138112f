package cli

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/spf13/pflag"

	"github.com/stacq/stacq/geo"
	"github.com/stacq/stacq/stac"
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
	output string
	format string
}

func addOutputFlags(fs *pflag.FlagSet) *outputFlags {
	of := &outputFlags{}
	fs.StringVarP(&of.output, "output", "o", "", "write to FILE instead of stdout (written in full or not at all)")
	fs.StringVar(&of.format, "format", "", "geojson (FeatureCollection), ndjson (one feature per line) or json (indented); default from -o's extension, else geojson")
	return of
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
		text, err := readArg(sf.filter)
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
	args = sf.client.withDefaultURL(io, args, 0)
	if len(args) != 1 {
		return usagef("expected one URL, got %d arguments", len(args))
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
		n, err := c.Matched(ctx, params)
		if err != nil {
			return err
		}
		fmt.Fprintln(io.Stdout, n)
		return nil
	}
	out, err := openOutput(io, sf.out.output, sf.out.format)
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
	res := &resumeState{c: c, params: params, from: from, parallel: sf.parallel > 1}
	return writeRawPages(ctx, io, sf.client, out, c.SearchRawPages(ctx, params, opts...), res, sf.resume.partial)
}

// readArg returns s, or the contents of the file s names when it starts with '@'.
func readArg(s string) (string, error) {
	if name, ok := strings.CutPrefix(s, "@"); ok {
		b, err := os.ReadFile(name)
		if err != nil {
			return "", err
		}
		return string(b), nil
	}
	return s, nil
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
