package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/spf13/pflag"

	"github.com/stacq/stacq/crawl"
	"github.com/stacq/stacq/geo"
	"github.com/stacq/stacq/internal/redact"
	"github.com/stacq/stacq/stac"
)

type crawlFlags struct {
	include, exclude  []string
	concurrency       int
	maxItems, maxPer  int
	collectionsOutput string
	mode              string
	state             string
	partial           bool
	filters           *filterFlags
	out               *outputFlags
	client            *clientFlags
}

func crawlCommand() *command {
	return &command{
		name:    "crawl",
		args:    "URL|PATH [flags]",
		summary: "Harvest every collection and item of a STAC API or static catalog",
		examples: `  # Every item of two collection families of an API, 8 collections at a time
  stacq crawl https://earth-search.aws.element84.com/v1 -o items.ndjson \
      -c 'sentinel-2-*,landsat-*' --exclude '*-l1c' --concurrency 8

  # A long crawl that can be stopped and continued: run the same command again
  stacq crawl https://earth-search.aws.element84.com/v1 -o all.ndjson --state all.state

  # A static catalog over HTTP or on disk, with the collections written too
  stacq crawl https://example.com/catalog.json -o items.ndjson --collections-output collections.ndjson
  stacq crawl ./my-catalog/ --datetime 2018 --bbox -80,30,-70,45 -o items.ndjson`,
		setup: func(fs *pflag.FlagSet) func(context.Context, IO, []string) error {
			cf := &crawlFlags{}
			fs.StringSliceVarP(&cf.include, "collections", "c", nil, "collection id patterns to crawl, e.g. 'sentinel-2-*' (repeatable or comma-separated; default all)")
			fs.StringSliceVar(&cf.exclude, "exclude", nil, "collection id patterns to leave out (repeatable or comma-separated)")
			cf.filters = addFilterFlags(fs)
			fs.IntVar(&cf.concurrency, "concurrency", crawl.DefaultConcurrency, "documents or item streams fetched at once")
			addMaxItems(fs, &cf.maxItems)
			fs.IntVar(&cf.maxPer, "max-items-per-collection", 0, "at most this many items of each collection (0: all)")
			fs.StringVar(&cf.collectionsOutput, "collections-output", "", "also write the collections (and catalogs) found, one JSON document per line, to FILE")
			fs.StringVar(&cf.mode, "mode", "auto", "auto, api (STAC API) or static (static catalog)")
			fs.BoolVar(&cf.partial, "partial", false, "on a failure or interrupt, keep the items written so far in -o FILE (a valid, incomplete document) instead of leaving FILE untouched")
			fs.StringVar(&cf.state, "state", "", "make an API crawl resumable: record in FILE, as the crawl goes, the collections finished and where each other one stands; run the same command again to continue, each item written once (needs -o with NDJSON; FILE is removed when the crawl completes)")
			cf.out = addOutputFlags(fs)
			cf.client = addClientFlags(fs)
			return cf.run
		},
	}
}

func (cf *crawlFlags) options() (crawl.Options, error) {
	opts := crawl.Options{Include: trimAll(cf.include), Exclude: trimAll(cf.exclude),
		MaxItems: cf.maxItems, MaxItemsPerCollection: cf.maxPer, Concurrency: cf.concurrency,
		PageSize: cf.filters.limit}
	var err error
	if opts.BBox, opts.Datetime, err = cf.filters.parse(); err != nil {
		return opts, err
	}
	for _, p := range append(append([]string{}, opts.Include...), opts.Exclude...) {
		if _, err := filepath.Match(p, ""); err != nil {
			return opts, usagef("--collections/--exclude: bad pattern %q: %v", p, err)
		}
	}
	if cf.concurrency < 1 {
		return opts, usagef("--concurrency: expected at least 1, got %d", cf.concurrency)
	}
	if err := checkMaxItems(cf.maxItems); err != nil {
		return opts, err
	}
	if cf.maxPer < 0 {
		return opts, usagef("--max-items-per-collection: expected 0 (all) or more, got %d", cf.maxPer)
	}
	switch cf.mode {
	case "auto":
	case "api":
		opts.Mode = crawl.ModeAPI
	case "static":
		opts.Mode = crawl.ModeStatic
	default:
		return opts, usagef("--mode: expected auto, api or static, got %q", cf.mode)
	}
	return opts, nil
}

func (cf *crawlFlags) run(ctx context.Context, io IO, args []string) error {
	args, err := cf.client.positional(io, args, "URL|PATH")
	if err != nil {
		return err
	}
	root := args[0]
	opts, err := cf.options()
	if err != nil {
		return err
	}
	headers, err := cf.client.parseHeaders()
	if err != nil {
		return err
	}
	for name, vals := range headers {
		for _, v := range vals {
			if credentialHeader(name) {
				io.addSecret(v)
			}
			opts.ClientOptions = append(opts.ClientOptions, stac.WithHeader(name, v))
		}
	}
	if cf.partial && (cf.out.output == "" || cf.out.output == "-") {
		fmt.Fprintln(io.Stderr, "stacq crawl: warning: --partial has no effect without -o FILE (stdout keeps what it was sent anyway)")
	}
	if cf.state != "" && cf.partial {
		return usagef("--state keeps -o as it is written already: --partial is not needed with it")
	}
	var st *crawlState
	if cf.state != "" {
		if st, err = openCrawlState(cf.state, root, cf.out); err != nil {
			return err
		}
		opts.PageEnds, opts.Resume = true, &st.Crawl
	}
	hc, policy, err := cf.client.retryingClient(ctx, io, root)
	if err != nil {
		return err
	}
	opts.HTTPClient, opts.Retry = hc, &policy
	// Every item is written (or, with --state, its page is) before the
	// loop moves on, as search's export does: pages can share memory.
	opts.ReusePageMemory = true
	opts.ClientOptions = append(opts.ClientOptions, stac.WithUserAgent("stacq/"+Version()))
	opts.ClientOptions, opts.MaxDocumentSize = append(opts.ClientOptions, cf.client.limits.stacOptions()...), cf.client.limits.maxDocumentSize()
	var out *output
	var pcols *collectionsJSON
	if st != nil {
		out, err = st.openOutput()
	} else {
		out, pcols, err = cf.out.openItems(ctx, io)
	}
	if err != nil {
		return err
	}
	var cols *output
	if cf.collectionsOutput != "" {
		if cols, err = openOutput(io, cf.collectionsOutput, "ndjson"); err != nil {
			out.Discard()
			return err
		}
	}
	return cf.crawl(ctx, io, root, opts, out, cols, st, pcols)
}

func (cf *crawlFlags) crawl(ctx context.Context, io IO, root string, opts crawl.Options, out, cols *output, st *crawlState, pcols *collectionsJSON) error {
	c := crawl.New(opts)
	collections := map[string][]byte{} // for a stac-geoparquet's metadata
	if pcols != nil {
		pcols.fetch = func(_ context.Context, id string) ([]byte, error) { return collections[id], nil }
	}
	prog := startCrawlProgress(io, cf.client.quiet, c)
	var failed []*crawl.ResourceError
	var fatal error
	pending := map[string][]jsontext.Value{} // with --state: items of each collection's current page
	for res, err := range c.Crawl(ctx, root) {
		if err != nil {
			var re *crawl.ResourceError
			if errors.As(err, &re) {
				failed = append(failed, re)
				if cf.client.verbose {
					fmt.Fprintf(io.Stderr, "\rfailed: %s: %v\n", redact.URL(re.URL), re.Err)
				}
				continue
			}
			fatal = err
			break
		}
		switch res.Kind {
		case crawl.KindItem:
			if st != nil { // API items: a state needs an API
				pending[res.CollectionID] = append(pending[res.CollectionID], res.JSON)
				continue
			}
			fatal = out.Write((*geo.CompactJSON)(&res.JSON))
		case crawl.KindPageEnd:
			// A page is written whole, then recorded: the output and the
			// state agree whenever the crawl stops.
			for i := range pending[res.CollectionID] {
				if fatal = out.Write((*geo.CompactJSON)(&pending[res.CollectionID][i])); fatal != nil {
					break
				}
			}
			delete(pending, res.CollectionID)
			if fatal == nil {
				st.Crawl.Record(res)
				fatal = st.checkpoint(out, false)
			}
		case crawl.KindCollection:
			if pcols != nil {
				collections[res.ID] = res.JSON
			}
			if cols != nil {
				fatal = cols.Write(&res.JSON)
			}
		case crawl.KindCatalog:
			if cols != nil {
				fatal = cols.Write(&res.JSON)
			}
		}
		if fatal != nil {
			break
		}
	}
	prog.stop()
	if fatal == nil {
		fatal = ctx.Err()
	}
	for _, p := range c.Unmatched() {
		fmt.Fprintf(io.Stderr, "stacq crawl: warning: --collections %q matched no collection\n", p)
	}
	if fatal != nil {
		if st != nil {
			if err := st.checkpoint(out, true); err != nil {
				fmt.Fprintf(io.Stderr, "stacq crawl: --state: %v\n", err)
			}
			out.Abort()
			fmt.Fprintf(io.Stderr, "stacq crawl: %d items written to %s; run the same command again to continue (--state %s)\n", out.count, out.path, cf.state)
		} else {
			finishOutput(io, "crawl", out, fatal, nil, cf.partial)
		}
		if cols != nil {
			finishOutput(io, "crawl", cols, fatal, nil, cf.partial)
		}
		return fatal
	}
	if st != nil && len(failed) > 0 {
		// The collections that failed are neither done nor begun, or
		// begun at their last page written: a rerun tries them again.
		if err := st.checkpoint(out, true); err != nil {
			return fmt.Errorf("--state: %w", err)
		}
	}
	if err := out.Commit(); err != nil {
		return err
	}
	if ps, ok := out.fw.(*parquetSink); ok {
		ps.warnings(io, "crawl")
	}
	if cols != nil {
		if err := cols.Commit(); err != nil {
			return err
		}
	}
	if st != nil && len(failed) == 0 {
		if err := os.Remove(st.path); err != nil && !errors.Is(err, os.ErrNotExist) {
			fmt.Fprintf(io.Stderr, "stacq crawl: --state: %v\n", err)
		}
	}
	s := c.Stats()
	if !cf.client.quiet {
		fmt.Fprintf(io.Stderr, "crawled %s, %s, %s in %s; %d failed\n", plural(s.Catalogs, "catalog"), plural(s.Collections, "collection"),
			plural(s.Items, "item"), time.Since(prog.start).Round(time.Millisecond), len(failed))
	}
	if len(failed) > 0 {
		fmt.Fprintln(io.Stderr, "failed:")
		for _, re := range failed {
			fmt.Fprintf(io.Stderr, "  %s %s: %v\n", re.Kind, redact.URL(re.URL), re.Err)
		}
		return fmt.Errorf("%s could not be crawled (the output holds everything else)", plural(len(failed), "resource"))
	}
	return nil
}

// plural formats n with noun, in the plural unless n is 1.
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// crawlState is the --state file of a resumable crawl: the crawl's State
// and how much of the output holds whole pages.
type crawlState struct {
	path    string
	written time.Time   // of the state file, to write it at most once a second
	Version int         `json:"version"`
	Root    string      `json:"root"`
	Output  string      `json:"output"`
	Bytes   int64       `json:"bytes"`
	Crawl   crawl.State `json:"crawl"`
}

// maxStateFile caps the size of a state file read back.
const maxStateFile = 64 << 20

func openCrawlState(path, root string, of *outputFlags) (*crawlState, error) {
	if of.output == "" || of.output == "-" {
		return nil, usagef("--state: needs -o FILE, to which the crawl appends when it continues")
	}
	if f, err := geo.FormatForPath(of.output); of.format != "" && of.format != "ndjson" || of.format == "" && (err != nil || f != geo.FormatNDJSON) {
		return nil, usagef("--state: -o must be NDJSON (.ndjson, .jsonl, .geojsonl or --format ndjson), so that a continued crawl can append to it")
	}
	abs, err := filepath.Abs(of.output)
	if err != nil {
		return nil, flagError("output", err)
	}
	st := &crawlState{path: path, Version: 1, Root: root, Output: abs}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		if _, err := os.Stat(abs); err == nil {
			return nil, usagef("--state: %s is new, but -o %s exists already: remove it, or give the state file of the crawl that wrote it", path, of.output)
		}
		return st, nil
	}
	if err != nil {
		return nil, flagError("state", err)
	}
	defer f.Close()
	saved := &crawlState{path: path}
	if err := json.UnmarshalRead(limitedReader(f, maxStateFile), saved); err != nil {
		return nil, flagError("state", fmt.Errorf("%s is not a crawl state file: %v", path, err))
	}
	switch {
	case saved.Version != 1:
		return nil, flagError("state", fmt.Errorf("%s: unknown version %d", path, saved.Version))
	case saved.Root != root:
		return nil, flagError("state", fmt.Errorf("%s is the state of a crawl of %s, not of %s", path, redact.URL(saved.Root), redact.URL(root)))
	case saved.Output != abs:
		return nil, flagError("state", fmt.Errorf("%s is the state of a crawl written to %s, not to %s", path, saved.Output, abs))
	}
	return saved, nil
}

// openOutput opens the output to continue it: whatever was written after
// the last checkpoint is cut off.
func (st *crawlState) openOutput() (*output, error) {
	return appendOutput(st.Output, st.Bytes)
}

// checkpoint saves the state with the output flushed, at most once a
// second unless now.
func (st *crawlState) checkpoint(out *output, now bool) error {
	if st == nil || !now && time.Since(st.written) < time.Second {
		return nil
	}
	n, err := out.flushed()
	if err != nil {
		return err
	}
	st.Bytes = n
	b, err := json.Marshal(st, json.Deterministic(true))
	if err != nil {
		return err
	}
	if err := writeFileAtomic(st.path, b, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", st.path, err)
	}
	st.written = time.Now()
	return nil
}

// startCrawlProgress shows collections, items, items/s and errors while
// a crawl runs on a terminal.
func startCrawlProgress(io IO, quiet bool, c *crawl.Crawler) *statusLine {
	return startStatus(io, quiet, func(elapsed time.Duration) string {
		st := c.Stats()
		return fmt.Sprintf("%s, %s, %.0f items/s, %s", plural(st.Collections, "collection"), plural(st.Items, "item"), rate(st.Items, elapsed), plural(st.Errors, "error"))
	})
}
