package stacparquet

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
)

// A Writer encodes row groups while items are still being written, with
// the schema inferred so far, betting that it will not change: items of
// one search mostly share their properties, so the schema is most often
// complete after the first row group. Each row group is encoded as soon as
// its items are spooled (by the pipeline of Close, in the background, into
// a temporary file), and at Close, if the final schema is the one the row
// groups were encoded with, only the last row group is left to encode and
// the temporary file is copied to the output. If the schema changed, what
// was encoded is thrown away and encoding starts again with the new
// schema, at most maxSpeculations times; Close then encodes what is left.
// The output is the same either way.
//
// This overlaps the encoding with whatever the caller does between Writes
// (fetching the next page, decoding it) and puts a second core to work
// while one goes through the items. A PartitionedWriter does not
// speculate (its files are many, and opened in order).
type speculation struct {
	s      *schema // the finalized schema the row groups are encoded with
	fw     *fileWriter
	q      *taskQueue
	p      *partition
	tmp    *os.File
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{} // closed when the pipeline returned
	err    error         // what it returned

	// The row group whose items are being written: they are handed to
	// its worker with their tapes, which saves parsing them again.
	hot   *rgTask
	rows  int64      // its items so far
	batch *itemBatch // the batch being filled
	free  chan *itemBatch
}

// hotBatches is how many batches of items wait for a worker at most (the
// writer waits when they are all taken).
const hotBatches = 8

// maxSpeculations is how many times encoding starts with a new schema.
const maxSpeculations = 3

// specCheckItems is how many items at least are written between two
// comparisons of the schema (a variable for tests).
var specCheckItems int64 = 2048

func (ds *dataset) speculates() bool { return len(ds.keys) == 0 && ds.maxRows == 0 }

// rowGroupSpooled is called when mark k of p is added: the row groups
// before it are spooled.
func (ds *dataset) rowGroupSpooled(p *partition, k int) {
	if !ds.speculates() || ds.specFailed {
		return
	}
	// The schema is compared at row groups at least specCheckItems items
	// apart (comparing costs a copy of it); speculation starts after that
	// many items too.
	check := p.count-ds.specChecked >= specCheckItems
	if sp := ds.spec; sp != nil {
		sp.closeHot()
		if !sp.failed() && (!check || ds.schema.finalize().sameAs(sp.s)) {
			if check {
				ds.specChecked = p.count
			}
			sp.startHot(k)
			return
		}
		ds.stopSpeculation()
	}
	if !check {
		return
	}
	ds.specChecked = p.count
	if ds.speculations == maxSpeculations {
		ds.specFailed = true
		return
	}
	ds.speculations++
	if err := ds.startSpeculation(p, k); err != nil {
		ds.specFailed = true
	}
}

// startSpeculation encodes the row groups before mark k of p from the
// spool, and the next one from the items as they are written.
func (ds *dataset) startSpeculation(p *partition, k int) error {
	if err := p.spool.flushBuffer(); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(ds.spools.dir, "speculative-*.parquet")
	if err != nil {
		return err
	}
	s := ds.schema.finalize()
	ctx, cancel := context.WithCancel(context.Background())
	sp := &speculation{
		s: s, fw: newFileWriter(ds, s, nil), q: newTaskQueue(), p: p,
		tmp: tmp, ctx: ctx, cancel: cancel, done: make(chan struct{}),
		free: make(chan *itemBatch, hotBatches+2),
	}
	sp.fw.open = func(*partition) (io.Writer, error) { return tmp, nil }
	for i := range k {
		sp.q.push(ds.task(p, i))
	}
	sp.startHot(k)
	go func() {
		defer close(sp.done)
		sp.err = sp.fw.pipeline(ctx, sp.q)
		cancel() // so that nothing waits to hand it items

	}()
	ds.spec = sp
	return nil
}

// startHot starts the row group of mark k, whose items are handed to it.
func (sp *speculation) startHot(k int) {
	m := sp.p.marks[k]
	sp.hot = &rgTask{
		p: sp.p, first: m.item == 0, off: m.off, item: m.item,
		batches: make(chan *itemBatch, hotBatches), free: sp.free,
	}
	sp.rows = 0
	sp.q.push(sp.hot)
}

// add hands an item, spooled, and its tape to the hot row group.
func (sp *speculation) add(item []byte, tp *tape) {
	if sp.hot == nil {
		return
	}
	if sp.batch == nil {
		select {
		case sp.batch = <-sp.free:
		default:
			sp.batch = &itemBatch{}
		}
	}
	sp.batch.add(item, tp)
	sp.rows++
	if len(sp.batch.ends) == rowChunk {
		sp.send()
	}
}

func (sp *speculation) send() {
	select {
	case sp.hot.batches <- sp.batch:
	case <-sp.ctx.Done():
	}
	sp.batch = nil
}

// closeHot ends the hot row group.
func (sp *speculation) closeHot() {
	if sp.hot == nil {
		return
	}
	if sp.batch != nil && len(sp.batch.ends) > 0 {
		sp.send()
	}
	sp.hot.rows = sp.rows
	close(sp.hot.batches)
	sp.hot = nil
}

// failed reports whether the pipeline stopped on an error.
func (sp *speculation) failed() bool {
	select {
	case <-sp.done:
		return sp.err != nil
	default:
		return false
	}
}

// stopSpeculation throws away what was encoded.
func (ds *dataset) stopSpeculation() {
	sp := ds.spec
	if sp == nil {
		return
	}
	ds.spec = nil
	sp.cancel()
	sp.q.close()
	<-sp.done
	sp.hot, sp.batch = nil, nil
	sp.tmp.Close()
	os.Remove(sp.tmp.Name())
}

// promote finishes the file from the speculative encoding when the final
// schema is the one it used: it encodes the rest and copies the encoded
// row groups to the output. It returns a nil fileWriter (and no error)
// when the Writer must encode everything itself.
func (ds *dataset) promote(ctx context.Context, final *schema, colls map[string][]byte, keys []string, next func(*partition) (io.Writer, string, error)) (*fileWriter, error) {
	sp := ds.spec
	if sp == nil {
		return nil, nil
	}
	if len(keys) != 1 || ds.parts[keys[0]] != sp.p || sp.failed() || !final.sameAs(sp.s) {
		ds.stopSpeculation()
		return nil, nil
	}
	ds.spec = nil
	if err := ctx.Err(); err != nil {
		ds.spec = sp
		ds.stopSpeculation()
		return nil, err
	}
	ds.promoted = true
	defer func() {
		sp.tmp.Close()
		os.Remove(sp.tmp.Name())
	}()
	p := sp.p
	sp.closeHot()
	sp.q.close()
	select {
	case <-sp.done:
	case <-ctx.Done():
		sp.cancel()
		<-sp.done
		return sp.fw, ctx.Err()
	}
	fw := sp.fw
	fw.colls = colls
	if sp.err != nil {
		return fw, sp.err
	}
	f := fw.cur
	if f == nil {
		return fw, errors.New("stacparquet: internal error: no speculative file")
	}
	w, _, err := next(p)
	if err != nil {
		return fw, err
	}
	// What the parquet.Writer wrote so far is in the temporary file; what
	// it still buffers, and the footer, go to the output.
	if _, err := sp.tmp.Seek(0, io.SeekStart); err != nil {
		return fw, fmt.Errorf("stacparquet: %w", err)
	}
	if _, err := io.Copy(w, sp.tmp); err != nil {
		return fw, fmt.Errorf("stacparquet: %w", err)
	}
	f.out.w = w
	return fw, fw.finish(f)
}

// sameAs reports whether two finalized schemas are the same: rows
// shredded with one are rows of the other.
func (s *schema) sameAs(o *schema) bool {
	return s.bbox3D == o.bbox3D && s.root.same(o.root)
}

func (n *node) same(o *node) bool {
	if n.kind != o.kind || n.hint != o.hint || n.role != o.role {
		return false
	}
	switch n.kind {
	case kList:
		return n.elem.same(o.elem)
	case kStruct:
		if len(n.fields) != len(o.fields) {
			return false
		}
		for i, f := range n.fields {
			if f.name != o.fields[i].name || !f.n.same(o.fields[i].n) {
				return false
			}
		}
	case kJSON:
		if len(n.mixed) != len(o.mixed) {
			return false
		}
		for k := range n.mixed {
			if _, ok := o.mixed[k]; !ok {
				return false
			}
		}
	}
	return true
}

// flushBuffer writes what the spool buffers to its file, so that it can be
// read.
func (sp *spool) flushBuffer() error {
	if sp.w == nil {
		return nil
	}
	if err := sp.w.Flush(); err != nil {
		return fmt.Errorf("stacparquet: spool: %w", err)
	}
	return nil
}
