package cli

import (
	"context"

	"github.com/spf13/pflag"

	"github.com/stacq/stacq/stac"
)

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
			var dedupe bool
			addMaxItems(fs, &maxItems)
			addDedupeFlag(fs, &dedupe)
			of := addOutputFlags(fs)
			cf := addClientFlags(fs)
			return func(ctx context.Context, io IO, args []string) error {
				args, err := cf.positional(io, args, "URL", "COLLECTION")
				if err != nil {
					return err
				}
				var p stac.ItemsParams
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
				out, cols, err := of.openItems(ctx, io)
				if err != nil {
					return err
				}
				c, err := cf.open(ctx, io, args[0], stac.WithRawPageReuse(true))
				if err != nil {
					out.Discard()
					return err
				}
				cols.fromAPI(c)
				return writeRawPages(ctx, io, cf, out, c.ItemRawPages(ctx, args[1], p, itemsOptions(maxItems, dedupe)...), nil, false, dedupe)
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
				args, err := cf.positional(io, args, "URL", "COLLECTION", "ID")
				if err != nil {
					return err
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

func itemsOptions(maxItems int, dedupe bool) []stac.ListOption {
	opts := []stac.ListOption{stac.WithMaxItems(maxItems)}
	if dedupe {
		opts = append(opts, stac.WithDedupe())
	}
	return opts
}
