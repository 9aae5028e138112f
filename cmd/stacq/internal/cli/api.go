package cli

import (
	"context"
	"fmt"

	"github.com/spf13/pflag"
)

func queryablesCommand() *command {
	return &command{
		name:     "queryables",
		args:     "URL [COLLECTION] [flags]",
		summary:  "Print the queryables (JSON Schema) of an API or of one collection",
		examples: `  stacq queryables https://planetarycomputer.microsoft.com/api/stac/v1 landsat-c2-l2`,
		setup: func(fs *pflag.FlagSet) func(context.Context, IO, []string) error {
			cf := addClientFlags(fs)
			return func(ctx context.Context, io IO, args []string) error {
				args, err := cf.positional(io, args, "URL", "COLLECTION?")
				if err != nil {
					return err
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
				args, err := cf.positional(io, args, "URL")
				if err != nil {
					return err
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
