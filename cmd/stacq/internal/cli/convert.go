package cli

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/spf13/pflag"

	"github.com/stacq/stacq/geo"
	"github.com/stacq/stacq/stacparquet"
)

func convertCommand() *command {
	return &command{
		name:    "convert",
		args:    "IN OUT [flags]",
		summary: "Convert items between NDJSON, a GeoJSON FeatureCollection and stac-geoparquet",
		examples: `  stacq convert items.ndjson items.parquet
  stacq convert items.parquet items.ndjson
  stacq convert items.geojson dataset --partition-by collection,year   # a hive-partitioned directory
  stacq search URL -c sentinel-2-l2a --format ndjson | stacq convert - s2.parquet`,
		setup: func(fs *pflag.FlagSet) func(context.Context, IO, []string) error {
			var from string
			fs.StringVar(&from, "from", "", "the format of IN: ndjson, geojson or parquet (default: from its extension, or its content for -)")
			of := &outputFlags{}
			fs.StringVar(&of.format, "format", "", "the format of OUT: geojson, ndjson, json or parquet (default: from its extension)")
			addParquetFlags(fs, of)
			return func(ctx context.Context, io IO, args []string) error {
				if len(args) != 2 {
					return usagef("expected IN and OUT, got %s", plural(len(args), "argument"))
				}
				of.output = args[1]
				items, closeIn, err := readItems(ctx, io, args[0], from)
				if err != nil {
					return err
				}
				defer closeIn()
				var cols *collectionsJSON
				var out *output
				if out, cols, err = of.openItems(ctx, io); err != nil {
					return err
				}
				if cols != nil && items.collections != nil {
					cols.fetch = func(_ context.Context, id string) ([]byte, error) { return items.collections[id], nil }
				}
				var werr error
				for item, err := range items.seq {
					if err != nil {
						werr = err
						break
					}
					if items.compact {
						werr = out.Write((*geo.CompactJSON)(&item))
					} else {
						werr = out.Write(&item)
					}
					if werr != nil {
						break
					}
				}
				if werr == nil {
					werr = ctx.Err()
				}
				return finishOutput(io, "convert", out, werr, nil, false)
			}
		},
	}
}

// itemSource is a stream of items read from a file, with the collections
// a stac-geoparquet file carries in its metadata.
type itemSource struct {
	seq         iter.Seq2[jsontext.Value, error]
	collections map[string][]byte
	compact     bool // the items are compact, valid JSON already (a stac-geoparquet reader's)
}

// maxItemLine caps one item of an NDJSON input.
const maxItemLine = 64 << 20

// readItems opens a file of items ("-" for stdin): NDJSON, a GeoJSON
// FeatureCollection, or a stac-geoparquet file or directory, by format,
// else by extension, else by content.
func readItems(ctx context.Context, sio IO, path, format string) (itemSource, func(), error) {
	nop := func() {}
	format = strings.ToLower(format)
	if format == "" {
		format = formatOfPath(path)
	}
	switch format {
	case "parquet":
		r, err := stacparquet.Open(path)
		if err != nil {
			return itemSource{}, nop, fmt.Errorf("read %s: %w", path, err)
		}
		src := itemSource{collections: map[string][]byte{}, compact: true}
		for id, c := range r.Metadata().Collections {
			src.collections[id] = c
		}
		src.seq = func(yield func(jsontext.Value, error) bool) {
			for item, err := range r.Items(ctx, stacparquet.Filter{}) {
				if !yield(item, err) || err != nil {
					return
				}
			}
		}
		return src, func() { r.Close() }, nil
	case "", "ndjson", "geojson", "json":
		if format == "json" {
			format = "geojson"
		}
	default:
		return itemSource{}, nop, usagef("--from: expected ndjson, geojson or parquet, got %q", format)
	}
	var in io.Reader = sio.Stdin
	closer := nop
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return itemSource{}, nop, usagef("%v", err)
		}
		in, closer = f, func() { f.Close() }
	}
	br := bufio.NewReaderSize(in, 1<<20)
	if format == "" {
		format = sniffFormat(br)
	}
	if format == "ndjson" {
		return itemSource{seq: ndjsonItems(br)}, closer, nil
	}
	return itemSource{seq: featureCollectionItems(br)}, closer, nil
}

// formatOfPath is the format an input's name says: "" when it says none.
func formatOfPath(path string) string {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return "parquet" // a partitioned dataset
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".parquet", ".geoparquet":
		return "parquet"
	}
	if f, err := geo.FormatForPath(path); err == nil {
		if f == geo.FormatNDJSON {
			return "ndjson"
		}
		return "geojson"
	}
	return ""
}

// sniffFormat tells a FeatureCollection (its first object has "type":
// "FeatureCollection" or a "features" array) from NDJSON, from the start
// of the input.
func sniffFormat(br *bufio.Reader) string {
	head, _ := br.Peek(1 << 20)
	d := jsontext.NewDecoder(bytes.NewReader(head))
	if tok, err := d.ReadToken(); err != nil || tok.Kind() != '{' {
		return "ndjson"
	}
	for d.PeekKind() != '}' {
		name, err := d.ReadToken()
		if err != nil {
			return "ndjson"
		}
		key := name.String()
		v, err := d.ReadValue()
		if err != nil {
			// The first object does not fit in the peek: features are
			// the bulk of a FeatureCollection.
			if key == "features" {
				return "geojson"
			}
			return "ndjson"
		}
		switch {
		case key == "type":
			if string(v) == `"FeatureCollection"` {
				return "geojson"
			}
			return "ndjson"
		case key == "features" && v.Kind() == '[':
			return "geojson"
		}
	}
	return "ndjson"
}

// ndjsonItems yields the objects of an NDJSON stream, one per line.
func ndjsonItems(r io.Reader) iter.Seq2[jsontext.Value, error] {
	return func(yield func(jsontext.Value, error) bool) {
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 0, 1<<20), maxItemLine)
		line := 0
		for sc.Scan() {
			line++
			v := jsontext.Value(bytes.TrimSpace(sc.Bytes()))
			if len(v) == 0 {
				continue
			}
			if v.Kind() != '{' || !v.IsValid() {
				yield(nil, fmt.Errorf("line %d: expected a JSON object (an item)", line))
				return
			}
			if !yield(v, nil) {
				return
			}
		}
		if err := sc.Err(); err != nil {
			if errors.Is(err, bufio.ErrTooLong) {
				err = fmt.Errorf("line %d is longer than %d MiB", line+1, maxItemLine>>20)
			}
			yield(nil, err)
		}
	}
}

// featureCollectionItems yields the features of a FeatureCollection as it
// reads it, one at a time.
func featureCollectionItems(r io.Reader) iter.Seq2[jsontext.Value, error] {
	return func(yield func(jsontext.Value, error) bool) {
		d := jsontext.NewDecoder(r, jsontext.AllowDuplicateNames(true))
		if tok, err := d.ReadToken(); err != nil || tok.Kind() != '{' {
			yield(nil, errors.Join(errors.New("expected a GeoJSON FeatureCollection"), err))
			return
		}
		for d.PeekKind() != '}' {
			name, err := d.ReadToken()
			if err != nil {
				yield(nil, err)
				return
			}
			if name.String() != "features" || d.PeekKind() != '[' {
				if _, err := d.ReadValue(); err != nil {
					yield(nil, err)
					return
				}
				continue
			}
			d.ReadToken()
			for n := 0; d.PeekKind() != ']'; n++ {
				v, err := d.ReadValue()
				if err == nil && v.Kind() != '{' {
					err = fmt.Errorf("feature %d: expected an object", n)
				}
				if !yield(v, err) || err != nil {
					return
				}
			}
			if _, err := d.ReadToken(); err != nil {
				yield(nil, err)
				return
			}
		}
		if _, err := d.ReadToken(); err != nil {
			yield(nil, err)
		}
	}
}
