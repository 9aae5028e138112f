package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/pflag"

	"github.com/stacq/stacq/stac"
)

func collectionsCommand() *command {
	return &command{
		name:    "collections",
		args:    "URL [flags]",
		summary: "List a STAC API's collections (with collection search where the API offers it)",
		examples: `  stacq collections https://earth-search.aws.element84.com/v1 --format ids
  stacq collections https://earth-search.aws.element84.com/v1 --q sentinel --bbox 60,0,70,10
  stacq collections URL --datetime 2024-09-15/2024-09-16 --max-collections 10 --format ndjson`,
		setup: func(fs *pflag.FlagSet) func(context.Context, IO, []string) error {
			var (
				q, filter, sortby, format string
				maxCollections            int
			)
			ff := addFilterFlags(fs)
			fs.StringVar(&q, "q", "", "free-text collection search")
			fs.StringVar(&filter, "filter", "", "CQL2 filter on collections (text or JSON, or @FILE)")
			fs.StringVar(&sortby, "sortby", "", `sort fields, e.g. "-id"`)
			fs.IntVar(&maxCollections, "max-collections", 0, "stop after this many collections (0: all)")
			fs.StringVar(&format, "format", "json", "json (one document), ndjson (one collection per line) or ids (one id per line)")
			cf := addClientFlags(fs)
			return func(ctx context.Context, io IO, args []string) error {
				args = cf.withDefaultURL(io, args, 0)
				if len(args) != 1 {
					return usagef("expected one URL, got %d arguments", len(args))
				}
				var p stac.CollectionsParams
				var err error
				if p.BBox, p.Datetime, err = ff.parse(); err != nil {
					return err
				}
				p.Limit = ff.limit
				p.Q = q
				if filter != "" {
					if p.Filter, err = readFilter(filter, ""); err != nil {
						return flagError("filter", err)
					}
				}
				if sortby != "" {
					if p.SortBy, err = stac.ParseSortBy(sortby); err != nil {
						return flagError("sortby", err)
					}
				}
				if maxCollections < 0 {
					return usagef("--max-collections: expected a positive number, got %d", maxCollections)
				}
				if format != "json" && format != "ndjson" && format != "ids" {
					return usagef("--format: expected json, ndjson or ids, got %q", format)
				}
				c, err := cf.open(ctx, io, args[0])
				if err != nil {
					return err
				}
				return writeCollections(io.Stdout, format, c.Collections(ctx, p, stac.WithMaxItems(maxCollections)))
			}
		},
	}
}

// writeCollections writes the collections as they arrive; a listing
// that fails before its first collection writes nothing.
func writeCollections(w io.Writer, format string, cols func(func(*stac.Collection, error) bool)) error {
	n := 0
	var err error
	for col, cerr := range cols {
		if cerr != nil {
			err = cerr
			break
		}
		if format == "json" && n == 0 {
			fmt.Fprint(w, "{\"collections\": [")
		}
		switch format {
		case "ids":
			fmt.Fprintln(w, col.ID)
		case "ndjson":
			b, merr := json.Marshal(col)
			if merr != nil {
				err = merr
				break
			}
			fmt.Fprintf(w, "%s\n", b)
		default:
			b, merr := json.MarshalIndent(col, "  ", "  ")
			if merr != nil {
				err = merr
				break
			}
			if n > 0 {
				fmt.Fprint(w, ",")
			}
			fmt.Fprintf(w, "\n  %s", b)
		}
		n++
	}
	if format == "json" && (n > 0 || err == nil) {
		if n == 0 {
			fmt.Fprint(w, "{\"collections\": [")
		}
		fmt.Fprint(w, "\n]}\n")
	}
	return err
}

func collectionCommand() *command {
	return &command{
		name:     "collection",
		args:     "URL ID [flags]",
		summary:  "Print one collection as JSON",
		examples: `  stacq collection https://planetarycomputer.microsoft.com/api/stac/v1 sentinel-2-l2a`,
		setup: func(fs *pflag.FlagSet) func(context.Context, IO, []string) error {
			cf := addClientFlags(fs)
			return func(ctx context.Context, io IO, args []string) error {
				args = cf.withDefaultURL(io, args, 1)
				if len(args) != 2 {
					return usagef("expected URL and collection ID, got %d arguments", len(args))
				}
				c, err := cf.open(ctx, io, args[0])
				if err != nil {
					return err
				}
				col, err := c.Collection(ctx, args[1])
				if err != nil {
					return err
				}
				return writeIndented(io.Stdout, col)
			}
		},
	}
}

func itemCommand() *command {
	return &command{
		name:     "item",
		args:     "URL COLLECTION ID [flags]",
		summary:  "Print one item as a GeoJSON Feature",
		examples: `  stacq item https://planetarycomputer.microsoft.com/api/stac/v1 aster-l1t AST_L1T_00312272006020322_20150518201805`,
		setup: func(fs *pflag.FlagSet) func(context.Context, IO, []string) error {
			cf := addClientFlags(fs)
			return func(ctx context.Context, io IO, args []string) error {
				args = cf.withDefaultURL(io, args, 2)
				if len(args) != 3 {
					return usagef("expected URL, collection ID and item ID, got %d arguments", len(args))
				}
				c, err := cf.open(ctx, io, args[0])
				if err != nil {
					return err
				}
				it, err := c.Item(ctx, args[1], args[2])
				if err != nil {
					return err
				}
				return writeIndented(io.Stdout, it)
			}
		},
	}
}

func itemsCommand() *command {
	return &command{
		name:    "items",
		args:    "URL COLLECTION [flags]",
		summary: "List a collection's items (/collections/{id}/items) as GeoJSON",
		examples: `  stacq items https://planetarycomputer.microsoft.com/api/stac/v1 landsat-c2-l2 --max-items 100 -o landsat.geojson
  stacq items URL sentinel-2-l2a --bbox 2.25,48.81,2.42,48.90 --datetime 2023-06 --format ndjson`,
		setup: func(fs *pflag.FlagSet) func(context.Context, IO, []string) error {
			ff := addFilterFlags(fs)
			var maxItems int
			addMaxItems(fs, &maxItems)
			of := addOutputFlags(fs)
			cf := addClientFlags(fs)
			return func(ctx context.Context, io IO, args []string) error {
				args = cf.withDefaultURL(io, args, 1)
				if len(args) != 2 {
					return usagef("expected URL and collection ID, got %d arguments", len(args))
				}
				var p stac.ItemsParams
				var err error
				if p.BBox, p.Datetime, err = ff.parse(); err != nil {
					return err
				}
				p.Limit = ff.limit
				if err := checkMaxItems(maxItems); err != nil {
					return err
				}
				if _, err := cf.parseHeaders(); err != nil {
					return err
				}
				out, err := openOutput(io, of.output, of.format)
				if err != nil {
					return err
				}
				c, err := cf.open(ctx, io, args[0], stac.WithRawPageReuse(true))
				if err != nil {
					out.Discard()
					return err
				}
				return writeRawPages(ctx, io, cf, out, c.ItemRawPages(ctx, args[1], p, stac.WithMaxItems(maxItems)), nil, false)
			}
		},
	}
}

func queryablesCommand() *command {
	return &command{
		name:     "queryables",
		args:     "URL [COLLECTION] [flags]",
		summary:  "Print the queryables (JSON Schema) of an API or of one collection",
		examples: `  stacq queryables https://planetarycomputer.microsoft.com/api/stac/v1 landsat-c2-l2`,
		setup: func(fs *pflag.FlagSet) func(context.Context, IO, []string) error {
			cf := addClientFlags(fs)
			return func(ctx context.Context, io IO, args []string) error {
				args = cf.withDefaultURL(io, args, 0)
				if len(args) < 1 || len(args) > 2 {
					return usagef("expected URL and an optional collection ID, got %d arguments", len(args))
				}
				c, err := cf.open(ctx, io, args[0])
				if err != nil {
					return err
				}
				collection := ""
				if len(args) == 2 {
					collection = args[1]
				}
				q, err := c.Queryables(ctx, collection)
				if err != nil {
					return err
				}
				return writeIndented(io.Stdout, q)
			}
		},
	}
}

func conformanceCommand() *command {
	return &command{
		name:     "conformance",
		args:     "URL [flags]",
		summary:  "Print the conformance classes an API advertises, one per line",
		examples: `  stacq conformance https://earth-search.aws.element84.com/v1`,
		setup: func(fs *pflag.FlagSet) func(context.Context, IO, []string) error {
			cf := addClientFlags(fs)
			return func(ctx context.Context, io IO, args []string) error {
				args = cf.withDefaultURL(io, args, 0)
				if len(args) != 1 {
					return usagef("expected one URL, got %d arguments", len(args))
				}
				c, err := cf.open(ctx, io, args[0])
				if err != nil {
					return err
				}
				for _, class := range c.Conformance() {
					fmt.Fprintln(io.Stdout, class)
				}
				return nil
			}
		},
	}
}

func writeIndented(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}
