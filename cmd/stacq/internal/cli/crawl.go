package cli

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"github.com/spf13/pflag"

	"github.com/stacq/stacq/crawl"
	"github.com/stacq/stacq/internal/redact"
	"github.com/stacq/stacq/stac"
)

func crawlCommand() *command {
	return &command{
		name:    "crawl",
		args:    "URL|PATH [flags]",
		summary: "Harvest every collection and item of a STAC API or static catalog",
		examples: `  # Every item of two collection families of an API, 8 collections at a time
  stacq crawl https://earth-search.aws.element84.com/v1 -o items.ndjson \
      --collections 'sentinel-2-*' --collections 'landsat-*' --exclude '*-l1c' --concurrency 8

  # A static catalog over HTTP or on disk, with the collections written too
  stacq crawl https://example.com/catalog.json -o items.ndjson --collections-output collections.ndjson
  stacq crawl ./my-catalog/ --datetime 2018 --bbox -80,30,-70,45 -o items.ndjson`,
		setup: func(fs *pflag.FlagSet) func(context.Context, IO, []string) error {
			var (
				include, exclude  []string
				concurrency       int
				maxItems, maxPer  int
				collectionsOutput string
				mode              string
			)
			fs.StringArrayVar(&include, "collections", nil, "collection id patterns to crawl, e.g. 'sentinel-2-*' (repeatable; default all)")
			fs.StringArrayVar(&exclude, "exclude", nil, "collection id patterns to leave out (repeatable)")
			ff := addFilterFlags(fs)
			fs.IntVar(&concurrency, "concurrency", crawl.DefaultConcurrency, "documents or item streams fetched at once")
			fs.IntVar(&maxItems, "max-items", 0, "stop after this many items in total (0: all)")
			fs.IntVar(&maxPer, "max-items-per-collection", 0, "at most this many items of each collection (0: all)")
			fs.StringVar(&collectionsOutput, "collections-output", "", "also write the collections (and catalogs) found, one JSON document per line, to FILE")
			fs.StringVar(&mode, "mode", "auto", "auto, api (STAC API) or static (static catalog)")
			of := addOutputFlags(fs)
			cf := addClientFlags(fs)
			return func(ctx context.Context, io IO, args []string) error {
				args = cf.withDefaultURL(io, args, 0)
				if len(args) != 1 {
					return usagef("expected one URL or path, got %d arguments", len(args))
				}
				opts := crawl.Options{Include: include, Exclude: exclude,
					MaxItems: maxItems, MaxItemsPerCollection: maxPer, Concurrency: concurrency}
				var err error
				if opts.BBox, opts.Datetime, err = ff.parse(); err != nil {
					return err
				}
				for _, p := range append(append([]string{}, include...), exclude...) {
					if _, err := filepath.Match(p, ""); err != nil {
						return usagef("--collections/--exclude: bad pattern %q: %v", p, err)
					}
				}
				if concurrency < 1 {
					return usagef("--concurrency: expected at least 1, got %d", concurrency)
				}
				if maxItems < 0 || maxPer < 0 {
					return usagef("--max-items: expected a positive number")
				}
				switch mode {
				case "auto":
				case "api":
					opts.Mode = crawl.ModeAPI
				case "static":
					opts.Mode = crawl.ModeStatic
				default:
					return usagef("--mode: expected auto, api or static, got %q", mode)
				}
				headers, err := cf.parseHeaders()
				if err != nil {
					return err
				}
				for name, vals := range headers {
					for _, v := range vals {
						opts.ClientOptions = append(opts.ClientOptions, stac.WithHeader(name, v))
					}
				}
				if opts.HTTPClient, err = cf.httpClient(ctx, io, args[0]); err != nil {
					return err
				}
				format := of.format
				if format == "" && of.output == "" {
					format = "ndjson"
				}
				out, err := openOutput(io, of.output, format)
				if err != nil {
					return err
				}
				var cols *output
				if collectionsOutput != "" {
					if cols, err = openOutput(io, collectionsOutput, "ndjson"); err != nil {
						out.Discard()
						return err
					}
				}
				return runCrawl(ctx, io, cf, args[0], opts, out, cols)
			}
		},
	}
}

func runCrawl(ctx context.Context, io IO, cf *clientFlags, root string, opts crawl.Options, out, cols *output) error {
	c := crawl.New(opts)
	prog := startCrawlProgress(io, cf.quiet, c)
	var failed []*crawl.ResourceError
	var fatal error
	for res, err := range c.Crawl(ctx, root) {
		if err != nil {
			var re *crawl.ResourceError
			if errors.As(err, &re) {
				failed = append(failed, re)
				if cf.verbose {
					fmt.Fprintf(io.Stderr, "\rfailed: %s: %v\n", redact.URL(re.URL), re.Err)
				}
				continue
			}
			fatal = err
			break
		}
		switch res.Kind {
		case crawl.KindItem:
			fatal = out.Write(res.Item)
		case crawl.KindCollection:
			if cols != nil {
				fatal = cols.Write(res.Collection)
			}
		case crawl.KindCatalog:
			if cols != nil {
				fatal = cols.Write(res.Catalog)
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
	if fatal != nil {
		out.Abort()
		if cols != nil {
			cols.Abort()
		}
		return fatal
	}
	if err := out.Commit(); err != nil {
		return err
	}
	if cols != nil {
		if err := cols.Commit(); err != nil {
			return err
		}
	}
	st := c.Stats()
	if !cf.quiet {
		fmt.Fprintf(io.Stderr, "crawled %d catalogs, %d collections, %d items in %s; %d failed\n",
			st.Catalogs, st.Collections, st.Items, time.Since(prog.start).Round(time.Millisecond), len(failed))
	}
	if len(failed) > 0 {
		fmt.Fprintln(io.Stderr, "failed:")
		for _, re := range failed {
			fmt.Fprintf(io.Stderr, "  %s %s: %v\n", re.Kind, redact.URL(re.URL), re.Err)
		}
		return fmt.Errorf("%d resources could not be crawled (the output holds everything else)", len(failed))
	}
	return nil
}

// crawlProgress prints collections, items, items/s and errors while a
// crawl runs on a terminal.
type crawlProgress struct {
	start time.Time
	done  chan struct{}
	wg    sync.WaitGroup
}

func startCrawlProgress(io IO, quiet bool, c *crawl.Crawler) *crawlProgress {
	p := &crawlProgress{start: time.Now(), done: make(chan struct{})}
	if quiet || !io.StderrIsTerminal {
		return p
	}
	print := func() {
		st := c.Stats()
		rate := float64(st.Items) / max(time.Since(p.start).Seconds(), 1e-9)
		fmt.Fprintf(io.Stderr, "\r\033[K%d collections, %d items, %.0f items/s, %d errors", st.Collections, st.Items, rate, st.Errors)
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-p.done:
				print()
				fmt.Fprintln(io.Stderr)
				return
			case <-t.C:
				print()
			}
		}
	}()
	return p
}

func (p *crawlProgress) stop() {
	select {
	case <-p.done:
	default:
		close(p.done)
	}
	p.wg.Wait()
}
