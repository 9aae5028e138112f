package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/spf13/pflag"

	"github.com/stacq/stacq/geo"
	"github.com/stacq/stacq/stac"
	"github.com/stacq/stacq/stacparquet"
)

// parquetFlags are the stac-geoparquet settings of -o FILE.parquet and
// --format parquet.
type parquetFlags struct {
	partitionBy string
	rowGroup    int
	compression string
}

func addParquetFlags(fs *pflag.FlagSet, of *outputFlags) {
	pf := &parquetFlags{}
	of.parquet = pf
	fs.StringVar(&pf.partitionBy, "partition-by", "", "with parquet: write a hive-partitioned directory -o DIR, by collection, year and/or month of datetime (e.g. collection,year)")
	fs.IntVar(&pf.rowGroup, "row-group-size", 0, "with parquet: items per row group (0: 10000)")
	fs.StringVar(&pf.compression, "compression", "zstd", "with parquet: zstd, snappy, gzip or none")
}

// wantsParquet reports whether the output is stac-geoparquet.
func (of *outputFlags) wantsParquet() bool {
	return strings.EqualFold(of.format, "parquet") || of.format == "" && strings.EqualFold(filepath.Ext(of.output), ".parquet") ||
		of.parquet != nil && of.parquet.partitionBy != ""
}

// collectionsJSON fetches collections for the stac-geoparquet metadata; it
// is set once the API is open.
type collectionsJSON struct {
	fetch func(ctx context.Context, id string) ([]byte, error)
}

func (c *collectionsJSON) get(ctx context.Context, id string) ([]byte, error) {
	if c == nil || c.fetch == nil {
		return nil, nil
	}
	b, err := c.fetch(ctx, id)
	if err != nil {
		// The metadata is a convenience: the items are what matter.
		return nil, nil
	}
	return b, nil
}

// fromAPI makes c fetch each collection from the API, once.
func (c *collectionsJSON) fromAPI(api *stac.Client) {
	if c == nil {
		return
	}
	c.fetch = func(ctx context.Context, id string) ([]byte, error) {
		col, err := api.Collection(ctx, id)
		if err != nil {
			return nil, err
		}
		return json.Marshal(col)
	}
}

// openParquetOutput opens a stac-geoparquet output: one file written
// beside its name and renamed into place, or with --partition-by a
// directory written beside its name and renamed into place.
func openParquetOutput(ctx context.Context, io IO, of *outputFlags, cols *collectionsJSON) (*output, error) {
	pf := of.parquet
	if pf == nil {
		pf = &parquetFlags{compression: "zstd"}
	}
	path := of.output
	if path == "" || path == "-" {
		return nil, usagef("--format parquet: needs -o FILE.parquet (or a directory with --partition-by)")
	}
	comp, err := stacparquet.ParseCompression(pf.compression)
	if err != nil {
		return nil, flagError("compression", err)
	}
	if pf.rowGroup < 0 {
		return nil, usagef("--row-group-size: expected 0 (the default) or more, got %d", pf.rowGroup)
	}
	opts := stacparquet.WriterOptions{Compression: comp, RowGroupSize: pf.rowGroup, Collections: cols.get, Concurrent: true}
	if pf.partitionBy == "" {
		o, err := openOutput(io, path, "ndjson") // the file, written atomically
		if err != nil {
			return nil, err
		}
		w, err := stacparquet.NewWriter(o.buf, opts)
		if err != nil {
			o.Discard()
			return nil, err
		}
		o.fw = &parquetSink{ctx: ctx, w: w}
		return o, nil
	}
	keys, err := stacparquet.ParsePartitionKeys(pf.partitionBy)
	if err != nil {
		return nil, flagError("partition-by", err)
	}
	if st, err := os.Stat(path); err == nil {
		if !st.IsDir() {
			return nil, usagef("--partition-by: -o %s exists and is not a directory", path)
		}
		if entries, _ := os.ReadDir(path); len(entries) > 0 {
			return nil, usagef("--partition-by: -o %s is a directory that is not empty; give a new one", path)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, flagError("output", err)
	}
	parent := filepath.Dir(filepath.Clean(path))
	if st, err := os.Stat(parent); err != nil || !st.IsDir() {
		return nil, flagError("output", fmt.Errorf("directory %s does not exist", parent))
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(filepath.Clean(path))+".*.partial")
	if err != nil {
		return nil, fmt.Errorf("create output: %w", err)
	}
	w, err := stacparquet.NewPartitionedWriter(tmp, stacparquet.PartitionOptions{WriterOptions: opts, Keys: keys})
	if err != nil {
		os.RemoveAll(tmp)
		return nil, err
	}
	io.temps.add(tmp)
	return &output{path: filepath.Clean(path), tmpDir: tmp, temps: io.temps, fw: &parquetSink{ctx: ctx, w: w}}, nil
}

// itemSink is what a stacparquet writer is to an output.
type itemSink interface {
	Write(item []byte) error
	CloseContext(ctx context.Context) error
	Abort() error
	Stats() stacparquet.Stats
}

// parquetSink writes the items given to an output to a stacparquet writer.
type parquetSink struct {
	ctx context.Context
	w   itemSink
}

// Write takes an item as an output has it: raw JSON.
func (p *parquetSink) Write(v any) error {
	var b []byte
	switch v := v.(type) {
	case *geo.CompactJSON:
		b = *v
	case *jsontext.Value:
		b = *v
	case jsontext.Value:
		b = v
	case []byte:
		b = v
	default:
		var err error
		if b, err = json.Marshal(v); err != nil {
			return err
		}
	}
	return p.w.Write(b)
}

// Close writes the Parquet file(s): the second pass over the spooled items.
func (p *parquetSink) Close() error { return p.w.CloseContext(p.ctx) }

// warnings prints what the writer reports: columns kept as JSON text,
// items refused.
func (p *parquetSink) warnings(io IO, name string) {
	for _, w := range p.w.Stats().Warnings() {
		fmt.Fprintf(io.Stderr, "stacq %s: warning: parquet: %s\n", name, w)
	}
}
