package stacparquet

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
)

// A Writer encodes row groups while items are still being written, with
// the schema inferred so far, betting that it will not change: items of
// one search mostly share their properties, so the schema is most often
// complete after a few thousand items. After specCheckItems items, the
// pipeline of Close is started in the background, writing into a
// temporary file: the row groups spooled so far are read back from the
// spool, and the items of the row group being written (the hot one) are
// handed, in batches with the tapes their inference parsed, to shredder
// goroutines and then, in order, to the row group's worker. The schema is
// compared with the one used at row group ends; if it changed, what was
// encoded is thrown away and encoding starts again with the new schema,
// at most maxSpeculations times. At Close, if the final schema is the one
// used, only what was not encoded yet is left to encode, and the
// temporary file is copied to the output; otherwise Close encodes
// everything from the spool. The file is the same, byte for byte, either
// way.
//
// This overlaps the encoding with whatever the caller does between Writes
// (fetching the next page, decoding it), puts the other cores to work
// while one goes through the items, and saves parsing the items twice. A
// PartitionedWriter does not speculate (its files are many, and opened in
// order).
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

	// The row group whose items are being written: they are handed, in
	// batches with their tapes (which saves parsing them again), to
	// shredders, and then to its worker.
	hot       *rgTask
	inHot     int64      // items of the hot row group so far
	batch     *itemBatch // the batch being filled
	batches   int        // batches made
	free      chan *itemBatch
	shredQ    chan *itemBatch
	shredders []*shredder
	shredding chan struct{} // closed when the shredders are done
}

// hotBatches is how many batches of items (of rowChunk items, their
// tapes and column values, 1 MB for Sentinel-2 items) there are at most;
// Write waits when they are all taken (a variable for tests).
var hotBatches = 16

// maxSpeculations is how many times encoding starts with a new schema.
const maxSpeculations = 3

// specCheckItems is how many items at least are written between two
// comparisons of the schema (a variable for tests).
var specCheckItems int64 = 2048

func (ds *dataset) speculates() bool { return len(ds.keys) == 0 && ds.maxRows == 0 }

// speculate is called when an item is spooled (at offset off, starting a
// row group when newMark).
func (ds *dataset) speculate(p *partition, newMark bool, item []byte, off int64) {
	if !ds.speculates() || ds.specFailed {
		return
	}
	k := len(p.marks) - 1
	sp := ds.spec
	if sp != nil && newMark {
		// The hot row group is complete. The schema is compared at
		// row groups at least specCheckItems items apart (comparing costs
		// a copy of it).
		sp.closeHot(off, p.count-1)
		check := p.count-1-ds.specChecked >= specCheckItems
		if sp.failed() || (check && !ds.schema.finalize().sameAs(sp.s)) {
			ds.stopSpeculation()
			sp = nil
		} else {
			if check {
				ds.specChecked = p.count - 1
			}
			sp.startHot(k, off, 0)
		}
	}
	if sp != nil {
		sp.add(item, &ds.inf.tp)
		return
	}
	// Start (again, right after a stop), after specCheckItems items.
	if ds.speculations == maxSpeculations {
		ds.specFailed = true
		return
	}
	if ds.speculations == 0 && p.count < specCheckItems {
		return
	}
	ds.speculations++
	ds.specChecked = p.count
	if err := ds.startSpeculation(p, k); err != nil {
		ds.specFailed = true
	}
}

// startSpeculation encodes the row groups before mark k of p, and what is
// spooled of the next one, from the spool, and the rest of that one from
// the items as they are written.
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
		free: make(chan *itemBatch, hotBatches), shredQ: make(chan *itemBatch, hotBatches),
		shredding: make(chan struct{}),
	}
	sp.fw.open = func(*partition) (io.Writer, error) { return tmp, nil }
	for i := range k {
		sp.q.push(ds.task(p, i))
	}
	sp.startHot(k, p.spool.size, p.count-p.marks[k].item)
	go func() {
		defer close(sp.done)
		sp.err = sp.fw.pipeline(ctx, sp.q)
		cancel() // so that nothing waits to hand it items
	}()
	var wg sync.WaitGroup
	for range len(sp.fw.workers) {
		sh := newShredder(s)
		sp.shredders = append(sp.shredders, sh)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case b, ok := <-sp.shredQ:
					if !ok {
						return
					}
					sh.shredBatch(b)
					close(b.done)
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	go func() {
		wg.Wait()
		close(sp.shredding)
	}()
	ds.spec = sp
	return nil
}

// startHot starts the row group of mark k, whose first n items, to
// prefixEnd, are spooled, and whose next ones are handed to it.
func (sp *speculation) startHot(k int, prefixEnd, n int64) {
	m := sp.p.marks[k]
	sp.hot = &rgTask{
		p: sp.p, first: m.item == 0, off: m.off, item: m.item, prefixEnd: prefixEnd,
		batches: make(chan *itemBatch, hotBatches), free: sp.free,
	}
	sp.inHot = n
	sp.q.push(sp.hot)
}

// add hands an item and its tape to the hot row group. Batches end at
// multiples of rowChunk items of the row group.
func (sp *speculation) add(item []byte, tp *tape) {
	if sp.hot == nil {
		return
	}
	if sp.batch == nil {
		select {
		case sp.batch = <-sp.free:
		default:
			if sp.batches < hotBatches {
				sp.batches++
				sp.batch = &itemBatch{}
				sp.batch.reset()
			} else {
				select {
				case sp.batch = <-sp.free:
				case <-sp.ctx.Done():
					return
				}
			}
		}
	}
	sp.batch.add(item, tp)
	sp.inHot++
	if sp.inHot%rowChunk == 0 {
		sp.send()
	}
}

// send hands the batch to the shredders and to the hot row group.
func (sp *speculation) send() {
	b := sp.batch
	sp.batch = nil
	select {
	case sp.hot.batches <- b:
	case <-sp.ctx.Done():
		return
	}
	select {
	case sp.shredQ <- b:
	case <-sp.ctx.Done():
	}
}

// closeHot ends the hot row group, whose items end at offset end of the
// spool, before item endItem.
func (sp *speculation) closeHot(end, endItem int64) {
	t := sp.hot
	if t == nil {
		return
	}
	if sp.batch != nil && len(sp.batch.ends) > 0 {
		sp.send()
	}
	sp.batch = nil
	t.end, t.rows = end, endItem-t.item
	close(t.batches)
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
	<-sp.shredding
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
	sp.closeHot(p.spool.size, p.count)
	sp.q.close()
	select {
	case <-sp.done:
	case <-ctx.Done():
		sp.cancel()
		<-sp.done
		<-sp.shredding
		return sp.fw, ctx.Err()
	}
	close(sp.shredQ)
	<-sp.shredding
	fw := sp.fw
	fw.shredders = sp.shredders
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
