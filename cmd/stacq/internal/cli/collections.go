package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/spf13/pflag"

	"github.com/stacq/stacq/stac"
)

func collectionsCommand() *command {
	return &command{
		name:    "collections",
		args:    "URL [flags]",
		summary: "List a STAC API's collections (with collection search where the API offers it)",
		examples: `  stacq collections https://earth-search.aws.element84.com/v1 --format ids
  # Collection search; applied by stacq itself when the API does not offer it
  stacq collections https://earth-search.aws.element84.com/v1 --q sentinel --bbox 60,0,70,10
  stacq collections URL --q '"sentinel-2" -l1c, landsat'   # phrases, -excluded, "," for OR
  stacq collections URL --datetime 2024-09-15/2024-09-16 --max-collections 10 --format ndjson`,
		setup: func(fs *pflag.FlagSet) func(context.Context, IO, []string) error {
			var (
				q, filter, sortby, format string
				maxCollections            int
				strict                    bool
			)
			ff := addFilterFlags(fs)
			fs.StringVar(&q, "q", "", "free-text collection search")
			fs.StringVar(&filter, "filter", "", "CQL2 filter on collections (text or JSON, or @FILE)")
			fs.StringVar(&sortby, "sortby", "", `sort fields, e.g. "-id"`)
			fs.IntVar(&maxCollections, "max-collections", 0, "stop after this many collections (0: all)")
			fs.StringVar(&format, "format", "json", "json (one document), ndjson (one collection per line) or ids (one id per line)")
			addStrictFlag(fs, &strict)
			cf := addClientFlags(fs)
			return func(ctx context.Context, io IO, args []string) error {
				args, err := cf.positional(io, args, "URL")
				if err != nil {
					return err
				}
				var p stac.CollectionsParams
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
				if err := checkAdvertised(io, "collections", c.UnadvertisedCollections(p), strict); err != nil {
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
			b, merr := marshalIndent(col, "  ")
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
				args, err := cf.positional(io, args, "URL", "COLLECTION")
				if err != nil {
					return err
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

func writeIndented(w io.Writer, v any) error {
	b, err := marshalIndent(v, "")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// marshalIndent encodes v indented by two spaces, each line after the
// first starting with prefix.
func marshalIndent(v any, prefix string) ([]byte, error) {
	return json.Marshal(v, jsontext.Multiline(true), jsontext.WithIndent("  "), jsontext.WithIndentPrefix(prefix))
}
