package cli

import (
	"context"
	"fmt"
	"iter"

	"github.com/stacq/stacq/geo"
	"github.com/stacq/stacq/stac"
)

// writeRawPages is writePages for raw pages: each item is written as the
// server sent it (whitespace removed), without being decoded into a
// stac.Item and encoded again, which is most of the CPU time of an export.
// res follows the pages written, to print where to resume after a failure;
// partial keeps a file's items then (see finishOutput).
func writeRawPages(ctx context.Context, io IO, cf *clientFlags, out *output, pages iter.Seq2[*stac.RawPage, error], res *resumeState, partial bool, dedupe bool) error {
	prog := startProgress(io, cf.quiet)
	defer prog.stop()
	var err error
	duplicates := 0
	defer func() {
		if duplicates > 0 {
			prog.stop()
			what := "kept; --dedupe drops them"
			if dedupe {
				what = "dropped"
			}
			fmt.Fprintf(io.Stderr, "stacq: %s repeated from the page before (some servers repeat items at page boundaries): %s\n", plural(duplicates, "item"), what)
		}
	}()
	invalidUTF8 := 0
pages:
	for page, perr := range pages {
		if perr != nil {
			err = perr
			break
		}
		duplicates += page.Duplicates
		prog.page()
		invalidUTF8 += page.InvalidUTF8
		for i := range page.Items {
			// Pointers: a slice put in an interface is one allocation.
			var feature any = &page.Items[i].JSON
			if page.Items[i].Compact { // checked with its page: copied as is
				feature = (*geo.CompactJSON)(&page.Items[i].JSON)
			}
			if err = out.Write(feature); err != nil {
				break pages
			}
			prog.item()
		}
		res.written(page.Links)
	}
	if err == nil {
		err = ctx.Err()
	}
	if invalidUTF8 > 0 && cf.verbose {
		fmt.Fprintf(io.Stderr, "stacq search: %s of invalid UTF-8 in the server's items replaced by U+FFFD\n", plural(invalidUTF8, "sequence"))
	}
	return finishOutput(io, "search", out, err, res, partial)
}

// maxParallel caps --parallel: more windows than this mostly load the
// server.
const maxParallel = 32
