package stacparquet

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/parquet-go/parquet-go"
)

// ErrNotSTACGeoParquet is wrapped by the errors of Open and OpenReader for
// a file that is not stac-geoparquet (not Parquet, no GeoParquet metadata,
// or no STAC item columns).
var ErrNotSTACGeoParquet = errors.New("not a stac-geoparquet file")

// Reader reads the items of a stac-geoparquet file or of a Hive-partitioned
// directory of them. Its methods may be called concurrently; each Items
// iteration reads on its own.
type Reader struct {
	files   []*file
	closers []io.Closer
	meta    Metadata

	groupsRead atomic.Int64 // row groups read, for tests
}

// file is one opened Parquet file and how to read items from it.
type file struct {
	path   string
	pf     *parquet.File
	ncols  int
	root   []*rnode
	byName map[string]*rnode
	geo    GeoMetadata
	meta   Metadata
	hive   [][2]string // partition key and value, from the directory names
	// noCrossing is true when the writer recorded that no bbox crosses
	// the antimeridian, which makes the bbox xmin/xmax statistics usable.
	noCrossing bool

	bbox, geom, dt, start, end, coll, id *rnode
}

// stacqMetadataKey holds what stacq records for its own reading: whether
// some bbox crosses the antimeridian.
const stacqMetadataKey = "stacq"

type stacqMetadata struct {
	BBoxCrossesAntimeridian bool `json:"bbox_crosses_antimeridian"`
}

// Open opens a stac-geoparquet file, or a directory whose *.parquet files
// (found recursively, names starting with "." or "_" skipped) form one
// Hive-partitioned dataset.
func Open(path string) (*Reader, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("stacparquet: %w", err)
	}
	r := &Reader{}
	if !st.IsDir() {
		if err := r.open(path, nil); err != nil {
			r.Close()
			return nil, err
		}
		r.merge()
		return r, nil
	}
	var paths []string
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if p != path && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.IsDir() && strings.HasSuffix(name, ".parquet") {
			paths = append(paths, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("stacparquet: %w", err)
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("stacparquet: %s: no .parquet files in the directory: %w", path, ErrNotSTACGeoParquet)
	}
	slices.Sort(paths)
	for _, p := range paths {
		rel, err := filepath.Rel(path, filepath.Dir(p))
		if err != nil {
			return nil, fmt.Errorf("stacparquet: %w", err)
		}
		if err := r.open(p, hivePartitions(rel)); err != nil {
			r.Close()
			return nil, err
		}
	}
	r.merge()
	return r, nil
}

// hivePartitions reads key=value directory names.
func hivePartitions(rel string) [][2]string {
	var out [][2]string
	if rel == "." {
		return nil
	}
	for seg := range strings.SplitSeq(filepath.ToSlash(rel), "/") {
		k, v, ok := strings.Cut(seg, "=")
		if !ok || k == "" {
			continue
		}
		if u, err := url.PathUnescape(v); err == nil {
			v = u
		}
		out = append(out, [2]string{k, v})
	}
	return out
}

func (r *Reader) open(path string, hive [][2]string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("stacparquet: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("stacparquet: %w", err)
	}
	fl, err := openFile(f, st.Size(), path)
	if err != nil {
		f.Close()
		return err
	}
	fl.hive = hive
	r.files = append(r.files, fl)
	r.closers = append(r.closers, f)
	return nil
}

// OpenReader reads a stac-geoparquet file from ra (of size bytes); name is
// used in messages.
func OpenReader(ra io.ReaderAt, size int64, name string) (*Reader, error) {
	fl, err := openFile(ra, size, name)
	if err != nil {
		return nil, err
	}
	r := &Reader{files: []*file{fl}}
	r.merge()
	return r, nil
}

// merge gathers the files' stac-geoparquet metadata.
func (r *Reader) merge() {
	for _, f := range r.files {
		if r.meta.Version == "" {
			r.meta.Version = f.meta.Version
		}
		for id, c := range f.meta.Collections {
			if r.meta.Collections == nil {
				r.meta.Collections = map[string]jsontext.Value{}
			}
			if _, ok := r.meta.Collections[id]; !ok {
				r.meta.Collections[id] = c
			}
		}
		if r.meta.Collection == nil && f.meta.Collection != nil {
			r.meta.Collection = f.meta.Collection
		}
	}
}

// Close closes the files.
func (r *Reader) Close() error {
	var first error
	for _, c := range r.closers {
		if err := c.Close(); err != nil && first == nil {
			first = fmt.Errorf("stacparquet: %w", err)
		}
	}
	r.closers = nil
	return first
}

// Metadata is the stac-geoparquet metadata, merged over the files: each
// collection as the first file holding it has it.
func (r *Reader) Metadata() Metadata { return r.meta }

// GeoMetadata is the GeoParquet metadata of each file, in the order of
// Files.
func (r *Reader) GeoMetadata() []GeoMetadata {
	out := make([]GeoMetadata, len(r.files))
	for i, f := range r.files {
		out[i] = f.geo
	}
	return out
}

// Files are the paths of the Parquet files read.
func (r *Reader) Files() []string {
	out := make([]string, len(r.files))
	for i, f := range r.files {
		out[i] = f.path
	}
	return out
}

// NumRows is the number of items in all the files.
func (r *Reader) NumRows() int64 {
	var n int64
	for _, f := range r.files {
		n += f.pf.NumRows()
	}
	return n
}

// openFile checks that a Parquet file is stac-geoparquet and plans how to
// read it.
func openFile(ra io.ReaderAt, size int64, name string) (fl *file, err error) {
	defer func() {
		if p := recover(); p != nil {
			fl, err = nil, fmt.Errorf("stacparquet: %s: unreadable Parquet (%v): %w", name, p, ErrNotSTACGeoParquet)
		}
	}()
	pf, err := parquet.OpenFile(ra, size, parquet.SkipBloomFilters(true))
	if err != nil {
		return nil, fmt.Errorf("stacparquet: %s: not a Parquet file (%v): %w", name, err, ErrNotSTACGeoParquet)
	}
	fl = &file{path: name, pf: pf, byName: map[string]*rnode{}}
	geo, ok := pf.Lookup(GeoMetadataKey)
	if !ok {
		return nil, fmt.Errorf("stacparquet: %s: no GeoParquet %q metadata: %w", name, GeoMetadataKey, ErrNotSTACGeoParquet)
	}
	if err := json.Unmarshal([]byte(geo), &fl.geo); err != nil {
		return nil, fmt.Errorf("stacparquet: %s: the %q metadata is not GeoParquet (%v): %w", name, GeoMetadataKey, err, ErrNotSTACGeoParquet)
	}
	if raw, ok := pf.Lookup(MetadataKey); ok {
		if err := json.Unmarshal([]byte(raw), &fl.meta); err != nil {
			return nil, fmt.Errorf("stacparquet: %s: the %q metadata is not valid (%v): %w", name, MetadataKey, err, ErrNotSTACGeoParquet)
		}
		if major, _, _ := strings.Cut(fl.meta.Version, "."); major != "1" && fl.meta.Version != "" {
			return nil, fmt.Errorf("stacparquet: %s: stac-geoparquet version %q is not supported (1.x is)", name, fl.meta.Version)
		}
	}
	if raw, ok := pf.Lookup(stacqMetadataKey); ok {
		var m stacqMetadata
		if json.Unmarshal([]byte(raw), &m) == nil {
			fl.noCrossing = !m.BBoxCrossesAntimeridian
		}
	}
	primary := fl.geo.PrimaryColumn
	if primary == "" {
		primary = "geometry"
	}
	gc, ok := fl.geo.Columns[primary]
	if !ok {
		return nil, fmt.Errorf("stacparquet: %s: the GeoParquet metadata does not describe its primary column %q: %w", name, primary, ErrNotSTACGeoParquet)
	}
	if !strings.EqualFold(gc.Encoding, "WKB") {
		return nil, fmt.Errorf("stacparquet: %s: geometry encoding %q is not supported (WKB is)", name, gc.Encoding)
	}
	isWKB := func(c *parquet.Column) bool {
		path := c.Path()
		if len(path) == 1 {
			if g, ok := fl.geo.Columns[path[0]]; ok && strings.EqualFold(g.Encoding, "WKB") {
				return true
			}
		}
		return c.Name() == geometryField
	}
	root := pf.Root()
	fl.ncols = len(pf.Schema().Columns())
	for _, c := range root.Columns() {
		n, err := plan(c, isWKB, false, 0)
		if err != nil {
			return nil, fmt.Errorf("stacparquet: %s: %w", name, err)
		}
		fl.root = append(fl.root, n)
		fl.byName[n.name] = n
	}
	if fl.meta.Version == "" {
		// Files from before the stac-geoparquet key: accept those that have
		// the columns of STAC items.
		if fl.byName["id"] == nil || (fl.byName["stac_version"] == nil && fl.byName["assets"] == nil && fl.byName["links"] == nil) {
			return nil, fmt.Errorf("stacparquet: %s: no %q metadata and no STAC item columns: %w", name, MetadataKey, ErrNotSTACGeoParquet)
		}
	}
	if fl.byName["id"] == nil {
		return nil, fmt.Errorf("stacparquet: %s: no \"id\" column: %w", name, ErrNotSTACGeoParquet)
	}
	fl.geom = fl.byName[primary]
	if fl.geom == nil || fl.geom.kind != rLeaf {
		return nil, fmt.Errorf("stacparquet: %s: no geometry column %q: %w", name, primary, ErrNotSTACGeoParquet)
	}
	fl.geom.conv = cWKB
	fl.bbox = fl.byName["bbox"]
	if gc.Covering != nil && len(gc.Covering.BBox.XMin) == 2 {
		if b := fl.byName[gc.Covering.BBox.XMin[0]]; b != nil && b.kind == rStruct {
			fl.bbox = b
		}
	}
	// The filter columns: top-level leaves (one value per row).
	flat := func(n *rnode) *rnode {
		if n == nil || n.kind != rLeaf {
			return nil
		}
		return n
	}
	fl.dt = flat(fl.byName["datetime"])
	fl.start = flat(fl.byName["start_datetime"])
	fl.end = flat(fl.byName["end_datetime"])
	fl.coll = flat(fl.byName["collection"])
	fl.id = flat(fl.byName["id"])
	return fl, nil
}

// Items yields the items that match f, each as compact JSON in a slice of
// its own that is never reused, file by file and row by row. Row groups
// whose statistics show that none of their rows can match are not read.
// With more than one CPU, the row groups are read and their items made by
// up to maxReadWorkers goroutines at once, and yielded in order; a search
// whose f.MaxItems the first row group may hold reads one row group at a
// time. The iteration stops at the first error, which it yields, and when
// ctx is done (yielding ctx's error).
func (r *Reader) Items(ctx context.Context, f Filter) iter.Seq2[[]byte, error] {
	return func(yield func([]byte, error) bool) {
		if err := f.Validate(); err != nil {
			yield(nil, err)
			return
		}
		rc := f.rect()
		var groups []groupRef
		for _, fl := range r.files {
			if !fl.mayMatch(&f) {
				continue
			}
			for i := range fl.pf.RowGroups() {
				if !fl.skipRowGroup(i, &f, rc) {
					groups = append(groups, groupRef{fl: fl, i: i})
				}
			}
		}
		workers := min(runtime.GOMAXPROCS(0), maxReadWorkers, len(groups))
		if workers > 1 && f.MaxItems > 0 && int64(f.MaxItems) <= groups[0].fl.pf.RowGroups()[groups[0].i].NumRows() {
			workers = 1
		}
		if workers > 1 {
			var parts []groupRef
			for _, g := range groups {
				parts = g.fl.split(parts, g.i, &f, rc)
			}
			r.readParallel(ctx, &f, rc, parts, workers, yield)
			return
		}
		s := &scan{r: r, ctx: ctx, f: &f, rect: rc, yield: func(item []byte, err error) bool {
			return yield(slices.Clone(item), err)
		}}
		for _, g := range groups {
			if err := ctx.Err(); err != nil {
				s.fail(err)
				return
			}
			if !s.rowGroup(g) {
				return
			}
		}
	}
}

// groupRef is a row group to read, or part of one: rows from to to.
type groupRef struct {
	fl       *file
	i        int
	part     bool
	from, to int64
}

// readPartRows is how many rows of a row group a worker reads at a time
// (row groups are split so that the workers share one: a whole one would
// be far ahead of what the caller takes).
const readPartRows = 2048

// split appends row group i to parts, split in parts of readPartRows rows
// when that is cheap: when the filter reads no columns first (which it
// does for the whole row group) and every column has an offset index, so
// that seeking to a row skips the pages before it.
func (fl *file) split(parts []groupRef, i int, f *Filter, rc *rect) []groupRef {
	rg := fl.pf.RowGroups()[i]
	n := rg.NumRows()
	whole := groupRef{fl: fl, i: i}
	if n <= readPartRows || fl.filterColumns(f, rc) != nil {
		return append(parts, whole)
	}
	for _, c := range rg.ColumnChunks() {
		if _, err := c.OffsetIndex(); err != nil {
			return append(parts, whole)
		}
	}
	for from := int64(0); from < n; from += readPartRows {
		parts = append(parts, groupRef{fl: fl, i: i, part: true, from: from, to: min(from+readPartRows, n)})
	}
	return parts
}

// maxReadWorkers is how many row groups Items reads at once at most.
const maxReadWorkers = 4

// readChunk is items of one row group, one after the other in text, and
// the error that ended the row group.
type readChunk struct {
	text []byte
	ends []int // where each item ends in text
	err  error
}

// readChunkSize is about how many bytes of items a readChunk holds.
const readChunkSize = 256 << 10

// readAhead is how many chunks a worker sends ahead of the caller for one
// part of a row group: 8 MiB, the readPartRows items of 4 KB each. A
// worker with more waits for the caller to get to them.
const readAhead = 32

// readParallel reads groups with workers goroutines, each taking the next
// row group to read and sending its items in chunks on the row group's
// channel, which the caller's goroutine drains in order. A worker is at
// most a few chunks ahead of the caller.
func (r *Reader) readParallel(ctx context.Context, f *Filter, rc *rect, groups []groupRef, workers int, yield func([]byte, error) bool) {
	wctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
	}()
	outs := make([]chan *readChunk, len(groups))
	for k := range outs {
		outs[k] = make(chan *readChunk, readAhead)
	}
	// A worker takes a part only with a slot, which the caller gives back
	// once it has yielded the part's items: so at most workers+1 parts are
	// held, however slow the caller.
	slots := make(chan struct{}, workers+1)
	var next atomic.Int64
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := &scan{r: r, ctx: wctx, f: f, rect: rc}
			for {
				select {
				case slots <- struct{}{}:
				case <-wctx.Done():
					return
				}
				k := int(next.Add(1) - 1)
				if k >= len(groups) {
					return
				}
				s.readGroup(groups[k], outs[k])
			}
		}()
	}
	n := 0
	for k := range groups {
		for c := range outs[k] {
			start := 0
			for _, end := range c.ends {
				if !yield(c.text[start:end:end], nil) {
					return
				}
				start = end
				if n++; f.MaxItems > 0 && n >= f.MaxItems {
					return
				}
			}
			if c.err != nil && ctx.Err() == nil {
				yield(nil, c.err)
				return
			}
		}
		// wctx is done only when ctx is: the row group may be cut short.
		if err := ctx.Err(); err != nil {
			yield(nil, err)
			return
		}
		<-slots
	}
}

// readGroup reads a row group, sending its items in chunks on out, which
// it closes. It stops when s.ctx is done.
func (s *scan) readGroup(g groupRef, out chan<- *readChunk) {
	defer close(out)
	cur := &readChunk{}
	send := func() bool {
		select {
		case out <- cur:
			cur = &readChunk{}
			return true
		case <-s.ctx.Done():
			return false
		}
	}
	failed := false
	s.n = 0 // f.MaxItems counts per row group here: the caller counts them all
	s.yield = func(item []byte, err error) bool {
		if err != nil {
			cur.err, failed = err, true
			send()
			return false
		}
		if cur.text == nil {
			cur.text = make([]byte, 0, readChunkSize+len(item))
		}
		cur.text = append(cur.text, item...)
		cur.ends = append(cur.ends, len(cur.text))
		return len(cur.text) < readChunkSize || send()
	}
	s.rowGroup(g)
	if !failed && len(cur.ends) > 0 {
		send()
	}
}

// scan is one iteration of Items, or one worker's part of it.
type scan struct {
	r     *Reader
	ctx   context.Context
	f     *Filter
	rect  *rect
	yield func([]byte, error) bool // the item is only valid during the call
	n     int
	a     assembler
	pre   assembler // for the filter columns alone
	buf   []byte
	rows  []parquet.Row
}

// fail yields err and ends the scan.
func (s *scan) fail(err error) bool {
	s.yield(nil, err)
	return false
}

// readRows reads rows, turning a panic of the Parquet decoder on a
// corrupt file into an error.
func readRows(rows parquet.Rows, buf []parquet.Row) (n int, err error) {
	defer func() {
		if p := recover(); p != nil {
			n, err = 0, fmt.Errorf("corrupt Parquet data (%v)", p)
		}
	}()
	return rows.ReadRows(buf)
}

// rowGroup reads a row group, or the part of one g says; false ends the
// scan.
func (s *scan) rowGroup(g groupRef) bool {
	fl, i := g.fl, g.i
	rg := fl.pf.RowGroups()[i]
	if g.part {
		return s.rowRange(g, rg)
	}
	s.r.groupsRead.Add(1)
	var match []int64 // the rows that can match, from the filter columns alone
	if cols := fl.filterColumns(s.f, s.rect); cols != nil {
		m, err := s.prefilter(fl, rg, cols)
		if err != nil {
			return s.fail(fmt.Errorf("stacparquet: %s: row group %d: %w", fl.path, i, err))
		}
		if len(m) == 0 {
			return true
		}
		if int64(len(m)) < rg.NumRows()/4 {
			match = m
		}
	}
	rows := rg.Rows()
	defer rows.Close()
	if match != nil {
		return s.seekRows(fl, i, rows, match)
	}
	if s.rows == nil {
		s.rows = make([]parquet.Row, 64)
	}
	for {
		if err := s.ctx.Err(); err != nil {
			return s.fail(err)
		}
		n, err := readRows(rows, s.rows)
		for _, row := range s.rows[:n] {
			if !s.emit(fl, i, row) {
				return false
			}
		}
		if errors.Is(err, io.EOF) {
			return true
		}
		if err != nil {
			return s.fail(fmt.Errorf("stacparquet: %s: row group %d: %w", fl.path, i, err))
		}
		if n == 0 {
			return true
		}
	}
}

// rowRange reads the rows of part g of row group rg (which the filter
// does not prefilter).
func (s *scan) rowRange(g groupRef, rg parquet.RowGroup) bool {
	if g.from == 0 {
		s.r.groupsRead.Add(1)
	}
	fail := func(err error) bool {
		return s.fail(fmt.Errorf("stacparquet: %s: row group %d: %w", g.fl.path, g.i, err))
	}
	rows := rg.Rows()
	defer rows.Close()
	if g.from > 0 {
		if err := seekRow(rows, g.from); err != nil {
			return fail(err)
		}
	}
	if s.rows == nil {
		s.rows = make([]parquet.Row, 64)
	}
	for at := g.from; at < g.to; {
		if err := s.ctx.Err(); err != nil {
			return s.fail(err)
		}
		n, err := readRows(rows, s.rows[:min(int64(len(s.rows)), g.to-at)])
		for _, row := range s.rows[:n] {
			if !s.emit(g.fl, g.i, row) {
				return false
			}
		}
		at += int64(n)
		switch {
		case err != nil && !errors.Is(err, io.EOF):
			return fail(err)
		case at < g.to && (n == 0 || err != nil):
			return fail(fmt.Errorf("rows %d to %d are missing", at, g.to))
		}
	}
	return true
}

// filterColumns are the leaf columns the filter reads, when all of them
// have one value per row (nil otherwise, or when the filter reads none).
func (fl *file) filterColumns(f *Filter, r *rect) []*rnode {
	var cols []*rnode
	add := func(n *rnode) bool {
		if n == nil {
			return true
		}
		if n.kind != rLeaf || fl.pf.Schema().Columns() == nil || fl.repeated(n.col) {
			return false
		}
		cols = append(cols, n)
		return true
	}
	ok := true
	if len(f.IDs) > 0 {
		ok = ok && add(fl.id)
	}
	if len(f.Collections) > 0 {
		ok = ok && add(fl.coll)
	}
	if f.hasTime() {
		ok = ok && add(fl.dt) && add(fl.start) && add(fl.end)
	}
	if r != nil {
		if fl.bbox != nil && fl.bbox.kind != rStruct {
			return nil
		}
		if fl.bbox != nil {
			for _, c := range fl.bbox.children {
				ok = ok && add(c)
			}
		}
		ok = ok && add(fl.geom)
	}
	if !ok || len(cols) == 0 {
		return nil
	}
	return cols
}

// repeated reports whether a leaf column may have several values per row.
func (fl *file) repeated(col int) bool {
	var found *parquet.Column
	var walk func(c *parquet.Column)
	walk = func(c *parquet.Column) {
		if c.Leaf() {
			if c.Index() == col {
				found = c
			}
			return
		}
		for _, cc := range c.Columns() {
			walk(cc)
		}
	}
	walk(fl.pf.Root())
	return found == nil || found.MaxRepetitionLevel() > 0
}

// prefilter reads only the filter columns of a row group and returns the
// rows that match on them.
func (s *scan) prefilter(fl *file, rg parquet.RowGroup, cols []*rnode) (match []int64, err error) {
	defer func() {
		if p := recover(); p != nil {
			match, err = nil, fmt.Errorf("corrupt Parquet data (%v)", p)
		}
	}()
	n := rg.NumRows()
	vals := make(map[int][]parquet.Value, len(cols))
	chunks := rg.ColumnChunks()
	for _, c := range cols {
		if c.col >= len(chunks) {
			return nil, fmt.Errorf("no column chunk %d", c.col)
		}
		v, err := readColumn(s.ctx, chunks[c.col], n)
		if err != nil {
			return nil, err
		}
		vals[c.col] = v
	}
	a := &s.pre
	if cap(a.cols) < fl.ncols {
		a.cols, a.pos = make([][]parquet.Value, fl.ncols), make([]int, fl.ncols)
	}
	a.cols, a.pos = a.cols[:fl.ncols], a.pos[:fl.ncols]
	for i := range a.cols {
		a.cols[i] = nil
	}
	for row := range n {
		if row%4096 == 0 {
			if err := s.ctx.Err(); err != nil {
				return nil, err
			}
		}
		for col, v := range vals {
			a.cols[col] = v[row : row+1]
		}
		if fl.rowMatches(a, s.f, s.rect) {
			match = append(match, row)
		}
	}
	return match, nil
}

// readColumn reads every value of a column chunk that has one per row.
func readColumn(ctx context.Context, chunk parquet.ColumnChunk, rows int64) ([]parquet.Value, error) {
	pages := chunk.Pages()
	defer pages.Close()
	out := make([]parquet.Value, 0, rows)
	buf := make([]parquet.Value, 1024)
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		p, err := pages.ReadPage()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		r := p.Values()
		for {
			k, err := r.ReadValues(buf)
			for _, v := range buf[:k] {
				out = append(out, v.Clone())
			}
			if errors.Is(err, io.EOF) || (err == nil && k == 0) {
				break
			}
			if err != nil {
				parquet.Release(p)
				return nil, err
			}
		}
		parquet.Release(p)
		if int64(len(out)) > rows {
			return nil, errors.New("a column has more values than rows")
		}
	}
	if int64(len(out)) != rows {
		return nil, fmt.Errorf("a column has %d values for %d rows", len(out), rows)
	}
	return out, nil
}

// seekRows reads the rows at the given indexes (ascending) of a row group.
func (s *scan) seekRows(fl *file, i int, rows parquet.Rows, match []int64) bool {
	if s.rows == nil {
		s.rows = make([]parquet.Row, 64)
	}
	next := int64(-1) // the row the reader is at
	for _, m := range match {
		if err := s.ctx.Err(); err != nil {
			return s.fail(err)
		}
		if m != next {
			if err := seekRow(rows, m); err != nil {
				return s.fail(fmt.Errorf("stacparquet: %s: row group %d: %w", fl.path, i, err))
			}
		}
		n, err := readRows(rows, s.rows[:1])
		if n == 0 {
			if err == nil || errors.Is(err, io.EOF) {
				err = fmt.Errorf("row %d is missing", m)
			}
			return s.fail(fmt.Errorf("stacparquet: %s: row group %d: %w", fl.path, i, err))
		}
		next = m + 1
		if !s.emit(fl, i, s.rows[0]) {
			return false
		}
	}
	return true
}

func seekRow(rows parquet.Rows, m int64) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("corrupt Parquet data (%v)", p)
		}
	}()
	return rows.SeekToRow(m)
}

// emit filters a row exactly and yields its item; false ends the scan.
func (s *scan) emit(fl *file, i int, row parquet.Row) bool {
	s.a.load(row, fl.ncols)
	if !fl.rowMatches(&s.a, s.f, s.rect) {
		return true
	}
	out, err := fl.appendItem(s.buf[:0], &s.a)
	if err != nil {
		return s.fail(fmt.Errorf("stacparquet: %s: row group %d: %w", fl.path, i, err))
	}
	s.buf = out
	if !s.yield(out, nil) {
		return false
	}
	s.n++
	return s.f.MaxItems <= 0 || s.n < s.f.MaxItems
}

// mayMatch prunes a file by its partition directories.
func (fl *file) mayMatch(f *Filter) bool {
	var year, month int
	for _, kv := range fl.hive {
		switch kv[0] {
		case "collection":
			if kv[1] != hiveNull && len(f.Collections) > 0 && !slices.Contains(f.Collections, kv[1]) {
				return false
			}
		case "year":
			year, _ = strconv.Atoi(kv[1])
		case "month":
			month, _ = strconv.Atoi(kv[1])
		}
	}
	// Items are filed under the year (and month) of their datetime, or of
	// their start_datetime: none starts before the partition does.
	if year > 0 && !f.End.IsZero() {
		start := time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC)
		if month >= 1 && month <= 12 {
			start = time.Date(year, time.Month(month), 1, 0, 0, 0, 0, time.UTC)
		}
		if start.After(f.End) {
			return false
		}
	}
	return true
}

// stat returns the min and max statistics of a leaf column in a row group.
func (fl *file) stat(rg, col int) (lo, hi []byte, nulls, rows int64, ok bool) {
	md := fl.pf.Metadata()
	if rg >= len(md.RowGroups) || col >= len(md.RowGroups[rg].Columns) {
		return nil, nil, 0, 0, false
	}
	g := md.RowGroups[rg]
	st := g.Columns[col].MetaData.Statistics
	lo, hi = st.MinValue, st.MaxValue
	if lo == nil && hi == nil {
		lo, hi = st.Min, st.Max // the deprecated fields: right for numbers
	}
	return lo, hi, st.NullCount, g.NumRows, lo != nil && hi != nil
}
