package stacparquet

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"
	"github.com/parquet-go/parquet-go/compress/gzip"
	"github.com/parquet-go/parquet-go/compress/snappy"
	"github.com/parquet-go/parquet-go/compress/uncompressed"
	"github.com/parquet-go/parquet-go/compress/zstd"
)

// Compression is a Parquet compression codec.
type Compression string

// The codecs a Writer can use.
const (
	Zstd         Compression = "zstd" // the default
	Snappy       Compression = "snappy"
	Gzip         Compression = "gzip"
	Uncompressed Compression = "none"
)

// ParseCompression reads a codec name as a user types it (case does not
// matter; "" is the default, zstd; "uncompressed" is "none").
func ParseCompression(s string) (Compression, error) {
	switch c := Compression(strings.ToLower(s)); c {
	case "":
		return Zstd, nil
	case Zstd, Snappy, Gzip, Uncompressed:
		return c, nil
	case "uncompressed":
		return Uncompressed, nil
	}
	return "", fmt.Errorf("stacparquet: unknown compression %q (want zstd, snappy, gzip or none)", s)
}

func (c Compression) codec() (compress.Codec, error) {
	switch c {
	case "", Zstd:
		// The fastest level: 5% larger files than the default level
		// (about 6.4% of the NDJSON instead of 6.1% for Sentinel-2
		// items), and a fifth less time for the whole export.
		return newZstdCodec(zstd.SpeedFastest), nil
	case Snappy:
		return &snappy.Codec{}, nil
	case Gzip:
		return &gzip.Codec{Level: gzip.DefaultCompression}, nil
	case Uncompressed:
		return &uncompressed.Codec{}, nil
	}
	return nil, fmt.Errorf("stacparquet: unknown compression %q (want zstd, snappy, gzip or none)", string(c))
}

// DefaultRowGroupSize is the number of rows per row group when
// WriterOptions.RowGroupSize is 0: small enough that a search reading the
// row groups' statistics skips most of a file, large enough that the
// footer stays small and columns compress well.
const DefaultRowGroupSize = 10_000

// CollectionFunc returns the JSON of the STAC collection of that id, to
// store in the file's stac-geoparquet metadata. It is called once per
// distinct collection id of the items written. Returning nil JSON and a nil
// error leaves that collection out; an error fails Close.
type CollectionFunc func(ctx context.Context, id string) ([]byte, error)

// StaticCollections is a CollectionFunc over collections at hand, keyed by
// id; ids that are not in m are left out.
func StaticCollections(m map[string][]byte) CollectionFunc {
	return func(_ context.Context, id string) ([]byte, error) { return m[id], nil }
}

// WriterOptions configures a Writer or a PartitionedWriter. The zero value
// is usable.
type WriterOptions struct {
	// Compression is the codec of every column; zstd when empty.
	Compression Compression
	// RowGroupSize is the number of rows per row group;
	// DefaultRowGroupSize when 0.
	RowGroupSize int
	// TempDir is where items are spooled until Close (os.TempDir() when
	// empty). The spool is as large as the items' JSON.
	TempDir string
	// Collections, when set, supplies the collection JSON stored in the
	// stac-geoparquet metadata.
	Collections CollectionFunc
	// Concurrent makes Write hand each item (copied) to a goroutine that
	// checks it, widens the schema and spools it, so that this work
	// overlaps the caller's (fetching and decoding the next page). Write
	// then returns only the errors of the spool (from an earlier item); an
	// item that cannot be stored is left out and counted in Stats
	// (Rejected, RejectedErrors) instead of failing its Write.
	Concurrent bool
}

func (o WriterOptions) rowGroupSize() int {
	if o.RowGroupSize > 0 {
		return o.RowGroupSize
	}
	return DefaultRowGroupSize
}

// JSONColumn is a column (or nested field) whose values had types that no
// single Parquet type holds: it is stored as JSON text.
type JSONColumn struct {
	// Path is the column's name, with ".name" for nested fields and "[]"
	// for array elements, e.g. "assets.B01.eo:bands[].name".
	Path string
	// Kinds are the JSON types that met there ("integer", "string", ...).
	Kinds []string
	// Values is the number of values stored as JSON text.
	Values int64
}

// Stats reports what a writer did. Every field but Rejected is final only
// once Close has returned.
type Stats struct {
	Items    int64 // items written
	Rejected int64 // items refused (by Write, or left out by a Concurrent writer)
	// RejectedErrors are the errors of the first refused items (10 at
	// most), each wrapping ErrInvalidItem.
	RejectedErrors []error
	Files          int // Parquet files written

	// JSONColumns are the columns that fell back to JSON text.
	JSONColumns []JSONColumn
	// DroppedProperties counts properties left out because another
	// top-level column has their name (a property "id", or a property
	// that an item also has as a top-level member).
	DroppedProperties int64
	// HoistedMembers counts top-level item members outside the STAC core
	// (e.g. a server's "score"): they are columns, and read back as
	// properties.
	HoistedMembers int64
	// TruncatedTimes counts timestamps that had digits below the
	// microsecond, which Parquet's TIMESTAMP(MICROS) does not keep.
	TruncatedTimes int64
}

// Warnings describes, one sentence each, what the written files do not
// hold exactly as it was given. It is empty when everything round-trips.
func (s Stats) Warnings() []string {
	var w []string
	if s.Rejected > 0 {
		w = append(w, fmt.Sprintf("%d invalid items were left out", s.Rejected))
	}
	for _, c := range s.JSONColumns {
		w = append(w, fmt.Sprintf("column %q mixes %s: %d values stored as JSON text", c.Path, strings.Join(c.Kinds, ", "), c.Values))
	}
	if s.DroppedProperties > 0 {
		w = append(w, fmt.Sprintf("%d properties were left out: their names collide with top-level columns", s.DroppedProperties))
	}
	if s.HoistedMembers > 0 {
		w = append(w, fmt.Sprintf("%d top-level members outside the STAC core were stored as columns; they read back inside properties", s.HoistedMembers))
	}
	if s.TruncatedTimes > 0 {
		w = append(w, fmt.Sprintf("%d timestamps were truncated to microseconds", s.TruncatedTimes))
	}
	return w
}

// Writer writes items as one stac-geoparquet file. Items are spooled to a
// temporary NDJSON file as they come, and the schema is widened to hold
// each; Close writes the Parquet file in a second pass over the spool. So
// memory does not grow with the number of items, and items of different
// shapes (absent, null, extra or wider properties) share one schema.
// While items are written, row groups are already encoded with the schema
// inferred so far (see the package documentation); Close keeps them when
// the final schema is that one.
//
// A Writer is not safe for concurrent use.
type Writer struct {
	ds   *dataset
	out  io.Writer
	file *os.File // set by Create
	path string
}

// NewWriter returns a Writer that writes one stac-geoparquet file to w when
// closed.
func NewWriter(w io.Writer, opts WriterOptions) (*Writer, error) {
	ds, err := newDataset(opts, nil)
	if err != nil {
		return nil, err
	}
	return &Writer{ds: ds, out: w}, nil
}

// Create creates (or truncates) the file at path and returns a Writer that
// writes to it. If Close fails, the file is removed.
func Create(path string, opts WriterOptions) (*Writer, error) {
	ds, err := newDataset(opts, nil)
	if err != nil {
		return nil, err
	}
	f, err := os.Create(path)
	if err != nil {
		ds.abort()
		return nil, fmt.Errorf("stacparquet: %w", err)
	}
	return &Writer{ds: ds, out: f, file: f, path: path}, nil
}

// Write adds one item, given as the JSON text of a STAC item object. An
// item that cannot be stored is refused with an error wrapping
// ErrInvalidItem; the writer stays usable.
func (w *Writer) Write(item []byte) error { return w.ds.write(item) }

// Close writes the file; see CloseContext.
func (w *Writer) Close() error { return w.CloseContext(context.Background()) }

// CloseContext writes the Parquet file from the spooled items and removes
// the spool. When ctx is done it stops and returns ctx's error; the output
// is then incomplete (and removed, for a Writer from Create). Calling it
// again returns the first result.
func (w *Writer) CloseContext(ctx context.Context) error {
	err := w.ds.close(ctx, func(*partition) (io.Writer, string, error) { return w.out, w.path, nil })
	if w.file != nil {
		if cerr := w.file.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("stacparquet: %w", cerr)
		}
		w.file = nil
		if err != nil {
			os.Remove(w.path)
		}
	}
	return err
}

// Abort discards the items written and the spool; for a Writer from Create
// it removes the file.
func (w *Writer) Abort() error {
	w.ds.abort()
	if w.file != nil {
		w.file.Close()
		w.file = nil
		return os.Remove(w.path)
	}
	return nil
}

// Stats reports what the writer did (complete once Close returned).
func (w *Writer) Stats() Stats { return w.ds.snapshot() }

// PartitionKey is a value a PartitionedWriter splits items by.
type PartitionKey string

// The partition keys: the item's collection, and the year and month of
// its datetime (of start_datetime when datetime is null).
const (
	ByCollection PartitionKey = "collection"
	ByYear       PartitionKey = "year"
	ByMonth      PartitionKey = "month"
)

// ParsePartitionKeys reads a comma-separated list of partition keys
// ("collection,year,month"), in the order the directories nest.
func ParsePartitionKeys(s string) ([]PartitionKey, error) {
	var keys []PartitionKey
	for part := range strings.SplitSeq(s, ",") {
		k := PartitionKey(strings.TrimSpace(strings.ToLower(part)))
		switch k {
		case ByCollection, ByYear, ByMonth:
		default:
			return nil, fmt.Errorf("stacparquet: unknown partition key %q (want collection, year or month)", part)
		}
		if slices.Contains(keys, k) {
			return nil, fmt.Errorf("stacparquet: partition key %q given twice", k)
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// hiveNull is the directory value of a partition key an item has no value
// for, as Hive, Spark and DuckDB write and read it (as NULL).
const hiveNull = "__HIVE_DEFAULT_PARTITION__"

// PartitionedWriter writes items as a Hive-partitioned directory of
// stac-geoparquet files, DIR/collection=ID/year=YYYY/month=M/part-N.parquet
// (the levels those of Keys), which DuckDB (hive_partitioning) and Spark
// read as one dataset. Every file has the same schema, inferred over all
// items, and its own geo and stac-geoparquet metadata.
//
// A PartitionedWriter is not safe for concurrent use.
type PartitionedWriter struct {
	ds      *dataset
	dir     string
	written []string
}

// PartitionOptions configures a PartitionedWriter.
type PartitionOptions struct {
	WriterOptions
	// Keys are the partition levels, outermost first (at least one).
	Keys []PartitionKey
	// MaxRowsPerFile splits a partition into part-0, part-1, ... files of
	// at most that many rows (0: one file per partition).
	MaxRowsPerFile int64
}

// NewPartitionedWriter returns a writer of a partitioned dataset in dir,
// which must not exist or be empty.
func NewPartitionedWriter(dir string, opts PartitionOptions) (*PartitionedWriter, error) {
	if len(opts.Keys) == 0 {
		return nil, errors.New("stacparquet: a partitioned writer needs at least one partition key")
	}
	for i, k := range opts.Keys {
		if k != ByCollection && k != ByYear && k != ByMonth {
			return nil, fmt.Errorf("stacparquet: unknown partition key %q", k)
		}
		if slices.Contains(opts.Keys[:i], k) {
			return nil, fmt.Errorf("stacparquet: partition key %q given twice", k)
		}
	}
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("stacparquet: %w", err)
		}
	case err != nil:
		return nil, fmt.Errorf("stacparquet: %w", err)
	case len(entries) > 0:
		return nil, fmt.Errorf("stacparquet: %s is not empty: a partitioned dataset is written into a new directory", dir)
	}
	ds, err := newDataset(opts.WriterOptions, opts.Keys)
	if err != nil {
		return nil, err
	}
	ds.maxRows = opts.MaxRowsPerFile
	return &PartitionedWriter{ds: ds, dir: dir}, nil
}

// Write adds one item; see Writer.Write.
func (w *PartitionedWriter) Write(item []byte) error { return w.ds.write(item) }

// Close writes the dataset; see CloseContext.
func (w *PartitionedWriter) Close() error { return w.CloseContext(context.Background()) }

// CloseContext writes every partition's files from the spooled items and
// removes the spools. On error (or when ctx is done) the files it wrote are
// removed.
func (w *PartitionedWriter) CloseContext(ctx context.Context) error {
	var open *os.File
	err := w.ds.close(ctx, func(p *partition) (io.Writer, string, error) {
		if open != nil {
			if err := open.Close(); err != nil {
				return nil, "", fmt.Errorf("stacparquet: %w", err)
			}
			open = nil
		}
		dir := filepath.Join(w.dir, filepath.FromSlash(p.key))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, "", fmt.Errorf("stacparquet: %w", err)
		}
		path := filepath.Join(dir, fmt.Sprintf("part-%d.parquet", p.files))
		p.files++
		f, err := os.Create(path)
		if err != nil {
			return nil, "", fmt.Errorf("stacparquet: %w", err)
		}
		w.written = append(w.written, path)
		open = f
		return f, path, nil
	})
	if open != nil {
		if cerr := open.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("stacparquet: %w", cerr)
		}
	}
	if err != nil {
		w.removeWritten()
	}
	return err
}

func (w *PartitionedWriter) removeWritten() {
	for _, p := range w.written {
		os.Remove(p)
	}
	// Remove the partition directories left empty, deepest first.
	var dirs []string
	filepath.WalkDir(w.dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() && path != w.dir {
			dirs = append(dirs, path)
		}
		return nil
	})
	slices.SortFunc(dirs, func(a, b string) int { return cmp.Compare(len(b), len(a)) })
	for _, d := range dirs {
		os.Remove(d) // fails, as it should, when not empty
	}
	w.written = nil
}

// Abort discards the items written and the spools, and removes any file
// written.
func (w *PartitionedWriter) Abort() error {
	w.ds.abort()
	w.removeWritten()
	return nil
}

// Stats reports what the writer did (complete once Close returned).
func (w *PartitionedWriter) Stats() Stats { return w.ds.snapshot() }

// Files are the paths of the files written (complete once Close returned).
func (w *PartitionedWriter) Files() []string { return slices.Clone(w.written) }

// dataset is the state common to Writer and PartitionedWriter: the schema
// inferred so far and the spooled items of each partition.
type dataset struct {
	opts    WriterOptions
	codec   compress.Codec
	keys    []PartitionKey
	maxRows int64

	schema *schema
	inf    *inferrer
	parts  map[string]*partition
	spools *spoolSet
	stats  Stats

	closed   bool
	closeErr error

	spec         *speculation // row groups encoded while items are written
	speculations int          // how many were started
	specChecked  int64        // the item count when the schema was last compared
	specFailed   bool         // no more speculation
	promoted     bool         // Close used the speculative encoding

	// WriterOptions.Concurrent: the items gathered into chunks (cur)
	// queued for the goroutine that adds them, the chunks it is done
	// with, and the first error it met.
	queue    chan *itemChunk
	free     chan *itemChunk
	cur      *itemChunk
	drained  chan struct{}
	mu       sync.Mutex // guards stats and asyncErr while it runs
	asyncErr error
}

func (ds *dataset) snapshot() Stats {
	ds.mu.Lock()
	defer ds.mu.Unlock()
	s := ds.stats
	s.JSONColumns = slices.Clone(s.JSONColumns)
	s.RejectedErrors = slices.Clone(s.RejectedErrors)
	return s
}

// maxRejectedErrors is how many errors of refused items Stats keeps.
const maxRejectedErrors = 10

// partition is one output directory (the only one, "", for a Writer).
type partition struct {
	key   string
	spool *spool
	count int64
	files int
	marks []spoolMark // where each row group's items start
}

// spoolMark is where a row group's first item is in a spool.
type spoolMark struct {
	off  int64 // byte offset
	item int64 // index of the item in the partition
}

func newDataset(opts WriterOptions, keys []PartitionKey) (*dataset, error) {
	codec, err := opts.Compression.codec()
	if err != nil {
		return nil, err
	}
	dir := opts.TempDir
	if dir == "" {
		dir = os.TempDir()
	}
	tmp, err := os.MkdirTemp(dir, "stacparquet-spool-")
	if err != nil {
		return nil, fmt.Errorf("stacparquet: spool directory: %w", err)
	}
	return &dataset{
		opts:   opts,
		codec:  codec,
		keys:   keys,
		schema: newSchema(),
		inf:    newInferrer(),
		parts:  map[string]*partition{},
		spools: newSpoolSet(tmp),
	}, nil
}

func (ds *dataset) write(item []byte) error {
	if ds.closed {
		return errors.New("stacparquet: write after close")
	}
	if !ds.opts.Concurrent {
		return ds.add(item)
	}
	if ds.queue == nil {
		ds.queue, ds.free = make(chan *itemChunk, 2), make(chan *itemChunk, 4)
		ds.cur = &itemChunk{}
		ds.drained = make(chan struct{})
		go func() {
			defer close(ds.drained)
			for c := range ds.queue {
				start := 0
				for _, end := range c.ends {
					err := ds.add(c.text[start:end])
					if err != nil && !errors.Is(err, ErrInvalidItem) {
						ds.mu.Lock()
						if ds.asyncErr == nil {
							ds.asyncErr = err
						}
						ds.mu.Unlock()
					}
					start = end
				}
				c.text, c.ends = c.text[:0], c.ends[:0]
				select {
				case ds.free <- c:
				default:
				}
			}
		}()
	}
	c := ds.cur
	c.text = append(c.text, item...)
	c.ends = append(c.ends, len(c.text))
	if len(c.text) < chunkSize {
		return nil
	}
	ds.mu.Lock()
	err := ds.asyncErr
	ds.mu.Unlock()
	if err != nil {
		return err
	}
	ds.queue <- c
	select {
	case ds.cur = <-ds.free:
	default:
		ds.cur = &itemChunk{text: make([]byte, 0, 2*chunkSize)}
	}
	return nil
}

// itemChunk is items a concurrent writer queues together, one after the
// other in text: one copy and one channel operation per chunk of about
// chunkSize bytes, not per item.
type itemChunk struct {
	text []byte
	ends []int // where each item ends in text
}

const chunkSize = 256 << 10

// drain waits for the items queued by a concurrent writer.
func (ds *dataset) drain() error {
	if ds.queue == nil {
		return nil
	}
	if len(ds.cur.ends) > 0 {
		ds.queue <- ds.cur
	}
	ds.cur = nil
	close(ds.queue)
	<-ds.drained
	ds.queue = nil
	return ds.asyncErr
}

// add checks an item, widens the schema and spools it.
func (ds *dataset) add(item []byte) error {
	info, err := ds.inf.item(ds.schema, item)
	if err != nil {
		ds.mu.Lock()
		ds.stats.Rejected++
		if len(ds.stats.RejectedErrors) < maxRejectedErrors {
			ds.stats.RejectedErrors = append(ds.stats.RejectedErrors, err)
		}
		ds.mu.Unlock()
		return err
	}
	ds.mu.Lock()
	ds.stats.DroppedProperties += int64(info.dropped)
	ds.stats.HoistedMembers += int64(info.hoisted)
	ds.mu.Unlock()
	key := ds.partitionKey(&info)
	p := ds.parts[key]
	if p == nil {
		p = &partition{key: key, spool: ds.spools.add()}
		ds.parts[key] = p
	}
	line := item
	if bytes.IndexByte(item, '\n') >= 0 {
		v := jsontext.Value(bytes.Clone(item))
		if err := v.Compact(); err != nil {
			return fmt.Errorf("%w: %w", ErrInvalidItem, err)
		}
		line = v
	}
	off := p.spool.size
	if err := ds.spools.write(p.spool, line); err != nil {
		return err
	}
	inFile := p.count
	if ds.maxRows > 0 {
		inFile %= ds.maxRows
	}
	newMark := inFile%int64(ds.opts.rowGroupSize()) == 0
	if newMark {
		p.marks = append(p.marks, spoolMark{off: off, item: p.count})
	}
	p.count++
	ds.speculate(p, newMark, item, off)
	return nil
}

// partitionKey is the relative directory of an item's partition.
func (ds *dataset) partitionKey(info *itemInfo) string {
	if len(ds.keys) == 0 {
		return ""
	}
	var b strings.Builder
	for i, k := range ds.keys {
		if i > 0 {
			b.WriteByte('/')
		}
		b.WriteString(string(k))
		b.WriteByte('=')
		switch k {
		case ByCollection:
			if info.collection == "" {
				b.WriteString(hiveNull)
			} else {
				b.WriteString(escapePartitionValue(info.collection))
			}
		case ByYear:
			if !info.hasTime {
				b.WriteString(hiveNull)
			} else {
				fmt.Fprintf(&b, "%04d", info.datetime.UTC().Year())
			}
		case ByMonth:
			if !info.hasTime {
				b.WriteString(hiveNull)
			} else {
				fmt.Fprintf(&b, "%d", int(info.datetime.UTC().Month())) // unpadded: DuckDB reads "04" as text
			}
		}
	}
	return b.String()
}

// escapePartitionValue percent-encodes what cannot stand in a Hive
// partition directory name (the characters Hive escapes), as Spark and
// DuckDB decode them.
func escapePartitionValue(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == 0x7f || strings.IndexByte("\"#%'*/:=?\\{[]^", c) >= 0 {
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
			continue
		}
		b.WriteByte(c)
	}
	if b.Len() == 0 || s == "." || s == ".." {
		return hiveNull
	}
	return b.String()
}

func (ds *dataset) abort() {
	ds.drain()
	ds.stopSpeculation()
	ds.closed = true
	if ds.closeErr == nil {
		ds.closeErr = errors.New("stacparquet: writer aborted")
	}
	ds.spools.removeAll()
}

// close writes every partition, asking next for the output of each file.
func (ds *dataset) close(ctx context.Context, next func(*partition) (io.Writer, string, error)) error {
	if ds.closed {
		return ds.closeErr
	}
	ds.closed = true
	if err := ds.drain(); err != nil {
		ds.closeErr = err
		ds.stopSpeculation()
		ds.spools.removeAll()
		return err
	}
	ds.closeErr = ds.writeAll(ctx, next)
	ds.stopSpeculation()
	ds.spools.removeAll()
	return ds.closeErr
}

func (ds *dataset) writeAll(ctx context.Context, next func(*partition) (io.Writer, string, error)) error {
	if err := ds.spools.flush(); err != nil {
		return err
	}
	final := ds.schema.finalize()
	colls, err := ds.collections(ctx)
	if err != nil {
		return err
	}
	keys := slices.Sorted(maps.Keys(ds.parts))
	if len(keys) == 0 && len(ds.keys) == 0 {
		// An empty file, still valid stac-geoparquet.
		keys = []string{""}
		ds.parts[""] = &partition{spool: ds.spools.add()}
	}
	fw, err := ds.promote(ctx, final, colls, keys, next)
	if fw == nil && err == nil {
		fw = newFileWriter(ds, final, colls)
		err = fw.write(ctx, keys, next)
	}
	if fw != nil {
		ds.mu.Lock()
		ds.stats.Items, ds.stats.Files = fw.items, fw.files
		ds.stats.TruncatedTimes = 0
		for _, sh := range slices.Concat(fw.workers, fw.shredders) {
			ds.stats.TruncatedTimes += sh.truncated
		}
		ds.mu.Unlock()
	}
	if err != nil {
		return err
	}
	ds.mu.Lock()
	defer ds.mu.Unlock()
	for _, c := range fw.s.root.jsonColumns("", nil) {
		ds.stats.JSONColumns = append(ds.stats.JSONColumns, JSONColumn{
			Path: strings.TrimPrefix(c.path, "."), Kinds: c.kinds, Values: c.node.jsonVals.Load(),
		})
	}
	return nil
}

// collections fetches the JSON of every collection the items name.
func (ds *dataset) collections(ctx context.Context) (map[string][]byte, error) {
	out := map[string][]byte{}
	if ds.opts.Collections == nil {
		return out, nil
	}
	ids := ds.inf.collections
	for _, id := range slices.Sorted(maps.Keys(ids)) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		raw, err := ds.opts.Collections(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("stacparquet: collection %q: %w", id, err)
		}
		if raw == nil {
			continue
		}
		v, err := checkCollection(id, raw)
		if err != nil {
			return nil, err
		}
		out[id] = v
	}
	return out, nil
}

// checkCollection checks that raw is a JSON object whose "id" (if any) is
// id, and returns it compact.
func checkCollection(id string, raw []byte) ([]byte, error) {
	v := jsontext.Value(bytes.Clone(raw))
	if err := v.Compact(); err != nil {
		return nil, fmt.Errorf("stacparquet: collection %q: %w", id, err)
	}
	if v.Kind() != '{' {
		return nil, fmt.Errorf("stacparquet: collection %q: not a JSON object", id)
	}
	dec := jsontext.NewDecoder(bytes.NewBuffer(v))
	dec.ReadToken()
	for dec.PeekKind() != '}' {
		name, err := dec.ReadValue()
		if err != nil {
			return nil, fmt.Errorf("stacparquet: collection %q: %w", id, err)
		}
		key := unquote(name)
		val, err := dec.ReadValue()
		if err != nil {
			return nil, fmt.Errorf("stacparquet: collection %q: %w", id, err)
		}
		if key == "id" && (val.Kind() != '"' || unquote(val) != id) {
			return nil, fmt.Errorf("stacparquet: the collection returned for %q has id %s", id, val)
		}
	}
	return v, nil
}

// spool is one temporary NDJSON file.
type spool struct {
	path string
	f    *os.File
	w    *bufio.Writer
	used uint64 // for the least-recently-used closing of handles
	size int64  // bytes written
}

// maxOpenSpools bounds the spool files open at once (partitions can be
// many).
const maxOpenSpools = 32

// spoolSet is the spools of a dataset, in one temporary directory.
type spoolSet struct {
	dir   string
	all   []*spool
	open  []*spool
	clock uint64
}

func newSpoolSet(dir string) *spoolSet { return &spoolSet{dir: dir} }

func (s *spoolSet) add() *spool {
	sp := &spool{path: filepath.Join(s.dir, fmt.Sprintf("%d.ndjson", len(s.all)))}
	s.all = append(s.all, sp)
	return sp
}

func (s *spoolSet) write(sp *spool, line []byte) error {
	if sp.f == nil {
		if len(s.open) >= maxOpenSpools {
			i := 0
			for j, o := range s.open {
				if o.used < s.open[i].used {
					i = j
				}
			}
			if err := s.shut(s.open[i]); err != nil {
				return err
			}
			s.open = slices.Delete(s.open, i, i+1)
		}
		f, err := os.OpenFile(sp.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return fmt.Errorf("stacparquet: spool: %w", err)
		}
		sp.f, sp.w = f, bufio.NewWriterSize(f, 64<<10)
		s.open = append(s.open, sp)
	}
	s.clock++
	sp.used = s.clock
	if _, err := sp.w.Write(line); err != nil {
		return fmt.Errorf("stacparquet: spool: %w", err)
	}
	if err := sp.w.WriteByte('\n'); err != nil {
		return fmt.Errorf("stacparquet: spool: %w", err)
	}
	sp.size += int64(len(line)) + 1
	return nil
}

func (s *spoolSet) shut(sp *spool) error {
	err := sp.w.Flush()
	if cerr := sp.f.Close(); err == nil {
		err = cerr
	}
	sp.f, sp.w = nil, nil
	if err != nil {
		return fmt.Errorf("stacparquet: spool: %w", err)
	}
	return nil
}

// flush closes every open spool.
func (s *spoolSet) flush() error {
	var first error
	for _, sp := range s.open {
		if err := s.shut(sp); err != nil && first == nil {
			first = err
		}
	}
	s.open = nil
	return first
}

func (s *spoolSet) removeAll() {
	for _, sp := range s.open {
		sp.f.Close()
		sp.f, sp.w = nil, nil
	}
	s.open = nil
	os.RemoveAll(s.dir)
}

// fileWriter writes the Parquet files of a dataset. Each row group is a
// task: a worker reads the row group's items from the spool (they are one
// stretch of it, whose offset the spool recorded), shreds them and
// encodes and compresses their pages into a parquet-go
// ConcurrentRowGroupWriter, and the caller's goroutine commits the row
// groups to their files in order. So the encoding and compression use
// every core, while memory holds the pages of a few row groups.
type fileWriter struct {
	ds        *dataset
	s         *schema
	pq        *parquet.Schema
	colls     map[string][]byte
	workers   []*shredder
	shredders []*shredder // of the batches handed to a speculative encoding

	// Of the committer.
	open  func(*partition) (io.Writer, error) // the output of a partition's next file
	cur   *outFile                            // the file being written
	items int64                               // rows committed
	files int                                 // files finished
}

// rowChunk is how many rows are shredded before their values are written
// to the columns (parquet-go's Writer writes rows 64 at a time, so that
// pages do not grow much past their buffer size). The values of each 64
// rows of a row group, from its first, are written together whatever the
// rows came from: so the file is the same, byte for byte, however it was
// encoded.
const rowChunk = 64

func newFileWriter(ds *dataset, s *schema, colls map[string][]byte) *fileWriter {
	fw := &fileWriter{
		ds:    ds,
		s:     s,
		pq:    parquet.NewSchema("schema", s.root.group()),
		colls: colls,
	}
	for range min(max(runtime.GOMAXPROCS(0), 1), 4) {
		fw.workers = append(fw.workers, newShredder(s))
	}
	return fw
}

// outFile is a file being written and what its metadata will say.
type outFile struct {
	pw   *parquet.Writer
	out  *lazyWriter
	rows int64
	meta rowMeta

	mu   sync.Mutex
	idle []*parquet.ConcurrentRowGroupWriter // committed, to reuse
}

// rowGroup returns an empty row group writer of the file.
func (f *outFile) rowGroup() *parquet.ConcurrentRowGroupWriter {
	f.mu.Lock()
	defer f.mu.Unlock()
	if n := len(f.idle); n > 0 {
		rg := f.idle[n-1]
		f.idle = f.idle[:n-1]
		return rg
	}
	return f.pw.BeginRowGroup()
}

// lazyWriter is the output of a file's parquet.Writer, known only once the
// file is opened (its row groups are encoded before).
type lazyWriter struct{ w io.Writer }

func (l *lazyWriter) Write(p []byte) (int, error) {
	if l.w == nil {
		return 0, errors.New("stacparquet: internal error: a file written before it was opened")
	}
	return l.w.Write(p)
}

func (fw *fileWriter) newFile() *outFile {
	out := &lazyWriter{}
	f := &outFile{
		pw: parquet.NewWriter(out, fw.pq,
			parquet.Compression(fw.ds.codec),
			parquet.MaxRowsPerRowGroup(int64(fw.ds.opts.rowGroupSize())),
			parquet.PageBufferSize(64<<10),
			// The pages' min and max are in the column index (and the
			// row groups' statistics): not again in each page header.
			parquet.DataPageStatistics(false),
			parquet.CreatedBy("stacq", "", ""),
		),
		out: out,
	}
	f.meta.reset()
	return f
}

// rgTask is one row group to write: its items in the spool and, once
// done, its encoded columns and what it adds to its file's metadata.
type rgTask struct {
	seq      int
	p        *partition
	file     *outFile
	first    bool  // the first row group of its file (which is opened then)
	off, end int64 // its items' stretch of the spool
	item     int64 // the partition's item it starts with
	rows     int64
	// When set, the items from off to prefixEnd in the spool are
	// followed by items handed with their tapes; end and rows are set
	// when batches is closed.
	batches   chan *itemBatch
	free      chan *itemBatch // where the batches read go back
	prefixEnd int64

	rg *parquet.ConcurrentRowGroupWriter
	rowMeta
	err error
}

// task is the row group that starts at mark k of partition p; its items
// end at the next mark, or at the end of the spool (which must then be
// complete).
func (ds *dataset) task(p *partition, k int) *rgTask {
	m := p.marks[k]
	end, endItem := p.spool.size, p.count
	if k+1 < len(p.marks) {
		end, endItem = p.marks[k+1].off, p.marks[k+1].item
	}
	return &rgTask{
		p: p, first: m.item == 0 || (ds.maxRows > 0 && m.item%ds.maxRows == 0),
		off: m.off, end: end, item: m.item, rows: endItem - m.item,
	}
}

// tasks lists the row groups of the partitions, in the order of the files.
func (ds *dataset) tasks(keys []string) []*rgTask {
	var out []*rgTask
	for _, key := range keys {
		p := ds.parts[key]
		if len(p.marks) == 0 { // no items: an empty file
			out = append(out, &rgTask{p: p, first: true})
			continue
		}
		for k := range p.marks {
			out = append(out, ds.task(p, k))
		}
	}
	return out
}

// taskQueue is the row groups a pipeline encodes, in file order; tasks can
// be added while it runs.
type taskQueue struct {
	mu     sync.Mutex
	tasks  []*rgTask
	closed bool
	wake   chan struct{}
}

func newTaskQueue() *taskQueue { return &taskQueue{wake: make(chan struct{}, 1)} }

func (q *taskQueue) push(ts ...*rgTask) {
	q.mu.Lock()
	for _, t := range ts {
		t.seq = len(q.tasks)
		q.tasks = append(q.tasks, t)
	}
	q.mu.Unlock()
	q.signal()
}

// close says that no task will be added.
func (q *taskQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.signal()
}

func (q *taskQueue) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// get waits for task i; ok is false when there is none (the queue is
// closed with fewer tasks, or ctx is done).
func (q *taskQueue) get(ctx context.Context, i int) (t *rgTask, ok bool) {
	for {
		q.mu.Lock()
		if i < len(q.tasks) {
			t = q.tasks[i]
			q.mu.Unlock()
			return t, true
		}
		closed := q.closed
		q.mu.Unlock()
		if closed {
			return nil, false
		}
		select {
		case <-q.wake:
		case <-ctx.Done():
			return nil, false
		}
	}
}

// pipeline encodes the tasks of q with the workers and commits them in
// order, until q is closed and every task is committed, or an error.
func (fw *fileWriter) pipeline(ctx context.Context, q *taskQueue) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	nw := len(fw.workers)
	// At most nw+1 row groups are encoded or waiting to be committed.
	slots := make(chan struct{}, nw+1)
	todo := make(chan *rgTask)
	done := make(chan *rgTask, nw+1)

	go func() {
		defer close(todo)
		var f *outFile
		for i := 0; ; i++ {
			t, ok := q.get(ctx, i)
			if !ok {
				return
			}
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				return
			}
			if t.first {
				f = fw.newFile()
			}
			t.file = f
			select {
			case todo <- t:
			case <-ctx.Done():
				return
			}
		}
	}()
	var wg sync.WaitGroup
	for _, sh := range fw.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf []byte
			for t := range todo {
				t.err = fw.encode(ctx, sh, t, &buf)
				done <- t
			}
		}()
	}
	go func() {
		wg.Wait()
		close(done)
	}()

	pending := map[int]*rgTask{}
	want := 0
	var err error
	for t := range done {
		if err != nil {
			continue // draining
		}
		pending[t.seq] = t
		for {
			nt, ok := pending[want]
			if !ok {
				break
			}
			delete(pending, want)
			want++
			if err = fw.commit(nt); err != nil {
				cancel()
				break
			}
			<-slots
		}
	}
	if err == nil {
		err = ctx.Err()
	}
	return err
}

// write writes the files of the partitions of those keys, asking next for
// the output of each.
func (fw *fileWriter) write(ctx context.Context, keys []string, next func(*partition) (io.Writer, string, error)) error {
	fw.open = func(p *partition) (io.Writer, error) {
		w, _, err := next(p)
		return w, err
	}
	q := newTaskQueue()
	q.push(fw.ds.tasks(keys)...)
	q.close()
	err := fw.pipeline(ctx, q)
	if err != nil {
		if fw.cur != nil {
			fw.cur.pw.Close()
		}
		return err
	}
	if fw.cur != nil {
		return fw.finish(fw.cur)
	}
	return nil
}

// commit adds an encoded row group to its file, opening the file first
// when it is its first row group (and finishing the file before).
func (fw *fileWriter) commit(t *rgTask) error {
	if t.err != nil {
		return t.err
	}
	if t.first {
		if fw.cur != nil {
			f := fw.cur
			fw.cur = nil
			if err := fw.finish(f); err != nil {
				return err
			}
		}
		w, err := fw.open(t.p)
		if err != nil {
			return err
		}
		t.file.out.w = w
		fw.cur = t.file
	}
	f := fw.cur
	if t.rows > 0 {
		if _, err := t.rg.Commit(); err != nil {
			return fmt.Errorf("stacparquet: writing rows: %w", err)
		}
		f.mu.Lock()
		f.idle = append(f.idle, t.rg)
		f.mu.Unlock()
	}
	f.rows += t.rows
	fw.items += t.rows
	f.meta.merge(&t.rowMeta)
	// The queue keeps its tasks: a committed one lets go of its file,
	// whose writer holds column buffers (a partitioned dataset has many
	// files).
	t.rg, t.file = nil, nil
	return nil
}

// encode shreds and encodes the items of a row group.
func (fw *fileWriter) encode(ctx context.Context, sh *shredder, t *rgTask, buf *[]byte) error {
	if t.batches == nil && t.rows == 0 { // (rows is set later for batches)
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	t.rowMeta.reset()
	t.rg = t.file.rowGroup()
	cws := t.rg.ColumnWriters()
	sh.reset()
	var n int64
	if t.batches == nil {
		if err := fw.encodeSpool(ctx, sh, t, cws, buf, t.off, t.end, &n); err != nil {
			return err
		}
	} else {
		if err := fw.encodeSpool(ctx, sh, t, cws, buf, t.off, t.prefixEnd, &n); err != nil {
			return err
		}
		if err := fw.encodeBatches(ctx, sh, t, cws, &n); err != nil {
			return err
		}
	}
	if err := sh.flush(cws); err != nil {
		return err
	}
	if n != t.rows {
		return fmt.Errorf("stacparquet: spool: %d items where %d were written", n, t.rows)
	}
	return nil
}

// encodeSpool shreds and encodes the items of the spool from off to end,
// counting them in n.
func (fw *fileWriter) encodeSpool(ctx context.Context, sh *shredder, t *rgTask, cws []*parquet.ColumnWriter, buf *[]byte, off, end int64, n *int64) error {
	if end <= off {
		return nil
	}
	f, err := os.Open(t.p.spool.path)
	if err != nil {
		return fmt.Errorf("stacparquet: spool: %w", err)
	}
	defer f.Close()
	r := io.NewSectionReader(f, off, end-off)
	if cap(*buf) == 0 {
		*buf = make([]byte, 1<<20)
	}
	b := (*buf)[:cap(*buf)]
	pos, lim := 0, 0
	eof := false
	for {
		k := bytes.IndexByte(b[pos:lim], '\n')
		if k < 0 && !eof {
			if err := ctx.Err(); err != nil {
				return err
			}
			lim = copy(b, b[pos:lim])
			pos = 0
			if lim == len(b) {
				b = append(b, make([]byte, len(b))...)
				b = b[:cap(b)]
				*buf = b
			}
			m, err := r.Read(b[lim:])
			lim += m
			if err == io.EOF {
				eof = true
			} else if err != nil {
				return fmt.Errorf("stacparquet: spool: %w", err)
			}
			continue
		}
		var line []byte
		if k < 0 {
			line, pos = b[pos:lim], lim
		} else {
			line, pos = b[pos:pos+k], pos+k+1
		}
		if len(line) > 0 {
			if err := sh.row(line); err != nil {
				return fmt.Errorf("stacparquet: spooled item %d: %w", t.item+*n+1, err)
			}
			*n++
			t.note(sh)
			if sh.rows == rowChunk {
				if err := sh.flush(cws); err != nil {
					return err
				}
			}
		}
		if k < 0 {
			break
		}
	}
	return nil
}

// encodeBatches encodes the items handed with their tapes (shredded by
// other goroutines), counting them in n. The rows of the spool before them
// that are not written yet (fewer than rowChunk) are written with the
// first batch, which ends at the next multiple of rowChunk rows.
func (fw *fileWriter) encodeBatches(ctx context.Context, sh *shredder, t *rgTask, cws []*parquet.ColumnWriter, n *int64) error {
	for {
		var b *itemBatch
		var ok bool
		select {
		case b, ok = <-t.batches:
		case <-ctx.Done():
			return ctx.Err()
		}
		if !ok {
			return nil
		}
		select {
		case <-b.done:
		case <-ctx.Done():
			return ctx.Err()
		}
		if b.err != nil {
			return fmt.Errorf("stacparquet: item %d: %w", t.item+*n+1, b.err)
		}
		*n += int64(len(b.ends))
		t.merge(&b.meta)
		if sh.rows > 0 {
			for c := range sh.cols {
				sh.cols[c] = append(sh.cols[c], b.cols[c]...)
			}
			sh.rows += len(b.ends)
			err := sh.flush(cws)
			t.release(b)
			if err != nil {
				return err
			}
			continue
		}
		for c, vals := range b.cols {
			if _, err := cws[c].WriteRowValues(vals); err != nil {
				return fmt.Errorf("stacparquet: writing rows: %w", err)
			}
		}
		t.release(b)
	}
}

// release gives a batch back for reuse.
func (t *rgTask) release(b *itemBatch) {
	b.reset()
	select {
	case t.free <- b:
	default:
	}
}

// rowMeta is what rows add to their file's metadata: the geometry types
// and bounds, the collections, and whether some bbox crosses the
// antimeridian.
type rowMeta struct {
	types  map[string]struct{}
	bounds bounds
	colls  map[string]struct{}
	cross  bool
}

// note adds the last row shredded.
func (m *rowMeta) note(sh *shredder) {
	if sh.hasGeom {
		m.types[sh.g.typeName()] = struct{}{}
		sh.g.bounds(&m.bounds)
	}
	if sh.collection != "" {
		m.colls[sh.collection] = struct{}{}
	}
	m.cross = m.cross || sh.crossing
}

func (m *rowMeta) merge(o *rowMeta) {
	for k := range o.types {
		m.types[k] = struct{}{}
	}
	for c := range o.colls {
		m.colls[c] = struct{}{}
	}
	m.bounds.merge(&o.bounds)
	m.cross = m.cross || o.cross
}

func (m *rowMeta) reset() {
	if m.types == nil {
		m.types, m.colls = map[string]struct{}{}, map[string]struct{}{}
	}
	clear(m.types)
	clear(m.colls)
	m.bounds, m.cross = bounds{}, false
}

// itemBatch is items with their tapes, rowChunk at most, and once
// shredded (done is closed) their column values.
type itemBatch struct {
	text []byte
	toks []tok // the tapes, one after the other
	ends []itemEnd

	done  chan struct{}
	cols  [][]parquet.Value
	arena []byte
	meta  rowMeta
	err   error
}

// itemEnd is where an item ends in an itemBatch's text and tapes.
type itemEnd struct{ text, toks int }

func (b *itemBatch) reset() {
	b.text, b.toks, b.ends = b.text[:0], b.toks[:0], b.ends[:0]
	for c := range b.cols {
		b.cols[c] = b.cols[c][:0]
	}
	b.arena, b.err = b.arena[:0], nil
	b.meta.reset()
	b.done = make(chan struct{})
}

func (b *itemBatch) note(sh *shredder) { b.meta.note(sh) }

// add appends an item and its tape.
func (b *itemBatch) add(item []byte, tp *tape) {
	b.text = append(b.text, item...)
	b.toks = append(b.toks, tp.t...)
	b.ends = append(b.ends, itemEnd{len(b.text), len(b.toks)})
}

// finish writes the rest of a file and its metadata.
func (fw *fileWriter) finish(f *outFile) error {
	geo, err := geoMetadataJSON(fw.s, f)
	if err != nil {
		f.pw.Close()
		return err
	}
	f.pw.SetKeyValueMetadata(GeoMetadataKey, string(geo))
	f.pw.SetKeyValueMetadata(MetadataKey, string(stacMetadataJSON(fw.colls, f.meta.colls)))
	f.pw.SetKeyValueMetadata(stacqMetadataKey, fmt.Sprintf(`{"bbox_crosses_antimeridian":%t}`, f.meta.cross))
	if err := f.pw.Close(); err != nil {
		return fmt.Errorf("stacparquet: writing the file: %w", err)
	}
	fw.files++
	return nil
}
