package stacparquet

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/parquet-go/parquet-go"
)

// shredder turns items into the column values of Parquet rows of a
// finalized schema: every leaf column gets, per item, the values with the
// repetition and definition levels of the Dremel encoding Parquet uses for
// nested data. The values of the rows shredded since the last flush are
// kept per column, so that they are written column by column.
type shredder struct {
	s         *schema
	cols      [][]parquet.Value // per leaf column, the values of the rows since the last flush
	rows      int               // rows since the last flush
	arena     []byte            // bytes the values point into besides the items' text
	text      []byte            // the text of the items since the last flush
	tp        *tape             // the item's tape: own, or view
	own       tape              // what items are parsed onto
	view      tape              // an item parsed already (shredBatch)
	extras    []extra
	bbox      []float64
	seen      [][]bool // scratch per nesting depth
	geom      *node
	bboxN     *node
	bboxF     [6]*node // xmin, ymin, zmin, xmax, ymax, zmax (nil when absent)
	rootCore  []bool   // which root fields are STAC core members
	pg        geometry // scratch for geometry properties
	truncated int64    // timestamps with sub-microsecond digits

	// Of the last row made.
	g          geometry
	hasGeom    bool
	collection string
	crossing   bool // the bbox crosses the antimeridian
}

func newShredder(s *schema) *shredder {
	sh := &shredder{
		s:     s,
		cols:  make([][]parquet.Value, s.root.leaves),
		geom:  s.root.lookup("geometry"),
		bboxN: s.root.lookup("bbox"),
	}
	sh.tp = &sh.own
	for i, name := range bboxNames {
		sh.bboxF[i] = sh.bboxN.lookup(name)
	}
	for _, f := range s.root.fields {
		sh.rootCore = append(sh.rootCore, isCore(f.name))
	}
	return sh
}

// flush writes the values of the rows shredded so far to the columns, and
// empties them.
func (sh *shredder) flush(cws []*parquet.ColumnWriter) error {
	if sh.rows == 0 {
		return nil
	}
	for c, vals := range sh.cols {
		if len(vals) > 0 {
			if _, err := cws[c].WriteRowValues(vals); err != nil {
				return fmt.Errorf("stacparquet: writing rows: %w", err)
			}
		}
		sh.cols[c] = vals[:0]
	}
	sh.rows = 0
	sh.arena, sh.text = sh.arena[:0], sh.text[:0]
	return nil
}

// reset drops the rows shredded since the last flush.
func (sh *shredder) reset() {
	for c := range sh.cols {
		sh.cols[c] = sh.cols[c][:0]
	}
	sh.rows = 0
	sh.arena, sh.text = sh.arena[:0], sh.text[:0]
}

// row shreds one item (copied: its values point into the copy until the
// next flush).
func (sh *shredder) row(item []byte) error {
	start := len(sh.text)
	sh.text = append(sh.text, item...)
	sh.tp = &sh.own
	if err := sh.tp.parse(sh.text[start:]); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidItem, err)
	}
	return sh.shred()
}

// shredBatch shreds the items of a batch into its column values (which
// point into its text).
func (sh *shredder) shredBatch(b *itemBatch) {
	if len(b.cols) != len(sh.cols) {
		b.cols = make([][]parquet.Value, len(sh.cols))
	}
	sh.cols, b.cols = b.cols, sh.cols
	sh.arena, b.arena = b.arena[:0], sh.arena
	sh.rows = 0
	var start itemEnd
	for _, end := range b.ends {
		sh.view.text, sh.view.t = b.text[start.text:end.text], b.toks[start.toks:end.toks]
		sh.tp = &sh.view
		if err := sh.shred(); err != nil {
			b.err = err
			break
		}
		start = end
		b.note(sh)
	}
	sh.cols, b.cols = b.cols, sh.cols
	sh.arena, b.arena = b.arena, sh.arena
	sh.rows = 0
}

// shred shreds the item on sh.tp.
func (sh *shredder) shred() error {
	tp := sh.tp
	bad := func(err error) error { return fmt.Errorf("%w: %w", ErrInvalidItem, err) }
	if tp.t[0].kind != '{' {
		return bad(errors.New("not a JSON object"))
	}
	root := sh.s.root
	seen := sh.scratch(0, len(root.fields))
	sh.hasGeom, sh.crossing = false, false
	collection := ""
	sh.extras = sh.extras[:0]
	end := tp.t[0].next
	guess := 0
	for j := uint32(1); j < end; {
		nameTok, val := j, j+1
		j = tp.t[val].next
		i := root.fieldTok(tp, nameTok, guess)
		var n *node
		if i >= 0 {
			n = root.fields[i].n
			guess = i + 1
		}
		switch {
		case n != nil && n == sh.geom:
			seen[i] = true
			if tp.isNull(val) {
				sh.null(n, 0, 0)
				break
			}
			sh.g.reset()
			if err := sh.g.fromTape(tp, val, 0, true); err != nil {
				return bad(err)
			}
			sh.hasGeom = true
			start := len(sh.arena)
			sh.arena = sh.g.appendWKB(sh.arena)
			sh.leaf(n, parquet.ByteArrayValue(sh.arena[start:len(sh.arena):len(sh.arena)]), 0)
		case n != nil && n == sh.bboxN:
			seen[i] = true
			bbox, err := bboxFromTape(tp, val, sh.bbox)
			if err != nil {
				return err
			}
			sh.bbox = bbox
			if bbox == nil {
				sh.null(n, 0, 0)
				break
			}
			sh.crossing = (len(bbox) == 4 && bbox[0] > bbox[2]) || (len(bbox) == 6 && bbox[0] > bbox[3])
			sh.bboxValues(bbox)
		case tp.view(nameTok) == "properties":
			if tp.t[val].kind != '{' {
				break
			}
			if err := sh.properties(val, seen); err != nil {
				return err
			}
		case n != nil && sh.rootCore[i]:
			if root.fields[i].name == "collection" && tp.t[val].kind == '"' {
				collection = tp.view(val)
				if err := sh.scalar(n, val, 0); err != nil {
					return err
				}
			} else if err := sh.walk(n, val, 0, 1); err != nil {
				return err
			}
			seen[i] = true
		default:
			// Outside the core: a property unless the item has one of that
			// name, which may come later.
			if n != nil {
				sh.extras = append(sh.extras, extra{i: i, val: val})
			}
		}
	}
	for _, e := range sh.extras {
		if seen[e.i] {
			continue
		}
		seen[e.i] = true
		if err := sh.value(root.fields[e.i].n, e.val, 0); err != nil {
			return err
		}
	}
	for i, f := range root.fields {
		if !seen[i] {
			sh.null(f.n, 0, 0)
		}
	}
	if collection != sh.collection {
		sh.collection = strings.Clone(collection)
	}
	sh.rows++
	return nil
}

// extra is a top-level member outside the STAC core, shredded after the
// properties.
type extra struct {
	i   int    // its root field
	val uint32 // its value's tape entry
}

// properties shreds an item's properties (the object at tape entry obj)
// into the root's columns.
func (sh *shredder) properties(obj uint32, seen []bool) error {
	root := sh.s.root
	tp := sh.tp
	end := tp.t[obj].next
	guess := 0
	for j := obj + 1; j < end; {
		nameTok, val := j, j+1
		j = tp.t[val].next
		i := root.fieldTok(tp, nameTok, guess)
		if i < 0 || seen[i] || sh.rootCore[i] {
			// Only ever null, or named like a core member: left out.
			continue
		}
		guess = i + 1
		seen[i] = true
		if err := sh.walk(root.fields[i].n, val, 0, 1); err != nil {
			return err
		}
	}
	return nil
}

func (sh *shredder) bboxValues(bbox []float64) {
	rep, def := 0, sh.bboxN.def
	put := func(c *node, v float64) {
		if c != nil {
			sh.leaf(c, parquet.DoubleValue(v), rep)
		}
	}
	f := &sh.bboxF
	if len(bbox) == 6 {
		for i, v := range bbox {
			put(f[i], v)
		}
		return
	}
	put(f[0], bbox[0])
	put(f[1], bbox[1])
	if f[2] != nil {
		sh.null(f[2], rep, def)
	}
	put(f[3], bbox[2])
	put(f[4], bbox[3])
	if f[5] != nil {
		sh.null(f[5], rep, def)
	}
}

// scratch returns a cleared []bool of length n for nesting depth d.
func (sh *shredder) scratch(d, n int) []bool {
	for len(sh.seen) <= d {
		sh.seen = append(sh.seen, nil)
	}
	s := sh.seen[d]
	if cap(s) < n {
		s = make([]bool, n)
	}
	s = s[:n]
	clear(s)
	sh.seen[d] = s
	return s
}

// leaf appends a present value to a leaf column.
func (sh *shredder) leaf(n *node, v parquet.Value, rep int) {
	sh.cols[n.leaf] = append(sh.cols[n.leaf], v.Level(rep, n.def, n.leaf))
}

// null appends a null (at definition level def) to every leaf below n.
func (sh *shredder) null(n *node, rep, def int) {
	for c := n.leaf; c < n.leaf+n.leaves; c++ {
		sh.cols[c] = append(sh.cols[c], parquet.NullValue().Level(rep, def, c))
	}
}

// value shreds one top-level value (a property or item member).
func (sh *shredder) value(n *node, i uint32, rep int) error {
	if n.kind == kStruct || n.kind == kList {
		if sh.tp.isNull(i) {
			sh.null(n, rep, n.def-1)
			return nil
		}
		return sh.walk(n, i, rep, 1)
	}
	return sh.scalar(n, i, rep)
}

// walk shreds the value at tape entry i into n's columns.
func (sh *shredder) walk(n *node, i uint32, rep, depth int) error {
	tp := sh.tp
	e := tp.t[i]
	if e.kind == 'n' || (n.kind != kStruct && n.kind != kList) {
		return sh.scalar(n, i, rep)
	}
	switch {
	case n.kind == kStruct && e.kind == '{':
		sh.scratch(depth, len(n.fields))
		guess := 0
		for j := i + 1; j < e.next; {
			nameTok, val := j, j+1
			j = tp.t[val].next
			fi := n.fieldTok(tp, nameTok, guess)
			if fi < 0 || sh.seen[depth][fi] { // a field that only ever held null, or a repeated name
				continue
			}
			guess = fi + 1
			if err := sh.walk(n.fields[fi].n, val, rep, depth+1); err != nil {
				return err
			}
			sh.seen[depth][fi] = true
		}
		seen := sh.seen[depth]
		for fi, f := range n.fields {
			if !seen[fi] {
				sh.null(f.n, rep, n.def)
			}
		}
	case n.kind == kList && e.kind == '[':
		k := 0
		for j := i + 1; j < e.next; j = tp.t[j].next {
			r := rep
			if k > 0 {
				r = n.rep
			}
			if err := sh.walk(n.elem, j, r, depth+1); err != nil {
				return err
			}
			k++
		}
		if k == 0 {
			sh.null(n.elem, rep, n.def)
		}
	default:
		return fmt.Errorf("stacparquet: internal error: a %v value in a %v column", tp.kind(i), n.kind)
	}
	return nil
}

// scalar shreds a leaf value (or a null of any node) at tape entry i.
func (sh *shredder) scalar(n *node, i uint32, rep int) error {
	tp := sh.tp
	e := &tp.t[i]
	if e.kind == 'n' {
		sh.null(n, rep, n.def-1)
		return nil
	}
	var v parquet.Value
	switch n.kind {
	case kJSON:
		start := len(sh.arena)
		var err error
		if sh.arena, err = appendJSONText(sh.arena, tp.raw(i)); err != nil {
			return err
		}
		v = parquet.ByteArrayValue(sh.arena[start:len(sh.arena):len(sh.arena)])
		n.jsonVals.Add(1)
	case kBool:
		v = parquet.BooleanValue(e.kind == 't')
	case kInt:
		x, ok := tp.int(i)
		if e.kind != '0' || !ok {
			return fmt.Errorf("stacparquet: internal error: %s in an integer column", tp.raw(i))
		}
		v = parquet.Int64Value(x)
	case kFloat:
		if e.kind == '0' {
			v = parquet.DoubleValue(tp.float(i))
		} else {
			v = parquet.DoubleValue(parseFloat(tp.raw(i)))
		}
	case kString:
		if e.kind != '"' {
			return fmt.Errorf("stacparquet: internal error: %s in a string column", tp.raw(i))
		}
		if e.flags&tEscaped == 0 {
			v = parquet.ByteArrayValue(tp.text[e.start+1 : e.end-1 : e.end-1])
		} else {
			start := len(sh.arena)
			var err error
			if sh.arena, err = jsontext.AppendUnquote(sh.arena, tp.raw(i)); err != nil {
				sh.arena = append(sh.arena[:start], tp.raw(i)...)
			}
			v = parquet.ByteArrayValue(sh.arena[start:len(sh.arena):len(sh.arena)])
		}
	case kTime:
		if e.kind != '"' {
			return fmt.Errorf("stacparquet: internal error: %s in a timestamp column", tp.raw(i))
		}
		t, err := parseTime(tp.raw(i))
		if err != nil {
			return fmt.Errorf("stacparquet: internal error: %s in a timestamp column", tp.raw(i))
		}
		if t.Nanosecond()%1000 != 0 {
			sh.truncated++
		}
		v = parquet.Int64Value(t.UnixMicro())
	case kGeom:
		sh.pg.reset()
		if err := sh.pg.fromTape(tp, i, 0, true); err != nil {
			return err
		}
		start := len(sh.arena)
		sh.arena = sh.pg.appendWKB(sh.arena)
		v = parquet.ByteArrayValue(sh.arena[start:len(sh.arena):len(sh.arena)])
	default:
		return fmt.Errorf("stacparquet: internal error: %s in a %v column", tp.raw(i), n.kind)
	}
	sh.leaf(n, v, rep)
	return nil
}

// appendJSONText appends the compact form of a JSON value without its null
// object members (at any depth), so that a JSON text column reads back as
// the other columns do: a null member absent.
func appendJSONText(dst, raw []byte) ([]byte, error) {
	start := len(dst)
	if bytes.IndexByte(raw, 'n') < 0 || (raw[0] != '{' && raw[0] != '[') {
		dst = append(dst, raw...)
		v := jsontext.Value(dst[start:])
		if err := v.Compact(); err != nil {
			return dst[:start], err
		}
		return dst[:start+len(v)], nil
	}
	dec := newDecoder(raw)
	out := bytes.NewBuffer(dst)
	enc := jsontext.NewEncoder(out, jsontext.AllowDuplicateNames(true))
	for dec.PeekKind() != 0 {
		// An object name is next when the object has an even number of
		// tokens so far.
		if kind, n := dec.StackIndex(dec.StackDepth()); kind == '{' && n%2 == 0 && dec.PeekKind() == '"' {
			name, err := dec.ReadValue()
			if err != nil {
				return dst[:start], err
			}
			if dec.PeekKind() == 'n' {
				if err := dec.SkipValue(); err != nil {
					return dst[:start], err
				}
				continue
			}
			if err := enc.WriteValue(name); err != nil {
				return dst[:start], err
			}
			continue
		}
		tok, err := dec.ReadToken()
		if err != nil {
			return dst[:start], err
		}
		if err := enc.WriteToken(tok); err != nil {
			return dst[:start], err
		}
	}
	b := out.Bytes()
	return bytes.TrimSuffix(b, []byte("\n")), nil
}
