package stacparquet

import (
	"bytes"
	"fmt"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/parquet-go/parquet-go"
)

// shredder turns items into Parquet rows of a finalized schema: every leaf
// column gets, per item, the values with the repetition and definition
// levels of the Dremel encoding Parquet uses for nested data.
type shredder struct {
	s         *schema
	cols      [][]parquet.Value // per leaf column, for the current item
	arena     []byte            // bytes the current batch's values point into
	dec       *jsontext.Decoder
	sc        scanned
	bbox      []float64
	seen      [][]bool // scratch per nesting depth
	geom      *node
	bboxN     *node
	truncated int64 // timestamps with sub-microsecond digits

	// Of the last row made.
	g          geometry
	hasGeom    bool
	collection string
	crossing   bool // the bbox crosses the antimeridian
}

func newShredder(s *schema) *shredder {
	return &shredder{
		s:     s,
		cols:  make([][]parquet.Value, s.root.leaves),
		dec:   newDecoder(nil),
		geom:  s.root.lookup("geometry"),
		bboxN: s.root.lookup("bbox"),
	}
}

// reset forgets the values of the rows made since the last reset; call it
// only when those rows have been written.
func (sh *shredder) reset() { sh.arena = sh.arena[:0] }

// row appends the row of an item to dst.
func (sh *shredder) row(item []byte, dst parquet.Row) (parquet.Row, error) {
	for i := range sh.cols {
		sh.cols[i] = sh.cols[i][:0]
	}
	sc := &sh.sc
	if err := scanItem(sh.dec, item, sc); err != nil {
		return dst, err
	}
	root := sh.s.root
	seen := sh.scratch(0, len(root.fields))
	mark := func(name string) *node {
		i, ok := root.index[name]
		if !ok {
			return nil
		}
		seen[i] = true
		return root.fields[i].n
	}

	mark("id")
	idN := root.lookup("id")
	sh.leaf(idN, parquet.ByteArrayValue(sh.str(sc.id)), 0)

	// geometry and bbox
	sh.collection = ""
	for _, m := range sc.members {
		if m.name == "collection" && m.raw[0] == '"' {
			sh.collection = unquote(m.raw)
		}
	}
	var g geometry
	hasGeom := sc.geometry != nil && !isNull(sc.geometry)
	sh.hasGeom = hasGeom
	if hasGeom {
		var err error
		if g, err = parseGeometry(sc.geometry); err != nil {
			return dst, fmt.Errorf("%w: item %s: %w", ErrInvalidItem, sc.id, err)
		}
		start := len(sh.arena)
		sh.arena = g.appendWKB(sh.arena)
		sh.leaf(sh.geom, parquet.ByteArrayValue(sh.arena[start:len(sh.arena):len(sh.arena)]), 0)
		sh.g = g
	} else {
		sh.null(sh.geom, 0, 0)
	}
	mark("geometry")
	mark("bbox")
	bbox, err := parseBBox(sc.bbox, sh.bbox)
	if err != nil {
		return dst, err
	}
	sh.bbox = bbox
	sh.crossing = (len(bbox) == 4 && bbox[0] > bbox[2]) || (len(bbox) == 6 && bbox[0] > bbox[3])
	if bbox == nil {
		sh.null(sh.bboxN, 0, 0)
	} else {
		sh.bboxValues(bbox)
	}

	props := len(sc.props)
	for _, p := range sc.props {
		if isCore(p.name) {
			continue
		}
		if n := mark(p.name); n != nil {
			if err := sh.value(n, p.raw, 0); err != nil {
				return dst, err
			}
		}
	}
	for _, m := range sc.members {
		if !isCore(m.name) && props > 0 && hasProp(sc.props, m.name) {
			continue
		}
		if n := mark(m.name); n != nil {
			if err := sh.value(n, m.raw, 0); err != nil {
				return dst, err
			}
		}
	}
	for i, f := range root.fields {
		if !seen[i] {
			sh.null(f.n, 0, 0)
		}
	}
	for _, c := range sh.cols {
		dst = append(dst, c...)
	}
	return dst, nil
}

func hasProp(props []member, name string) bool {
	for _, p := range props {
		if p.name == name {
			return true
		}
	}
	return false
}

func (sh *shredder) bboxValues(bbox []float64) {
	n := sh.bboxN
	rep, def := 0, n.def
	put := func(name string, v float64) {
		if c := n.lookup(name); c != nil {
			sh.leaf(c, parquet.DoubleValue(v), rep)
		}
	}
	nullz := func(name string) {
		if c := n.lookup(name); c != nil {
			sh.null(c, rep, def)
		}
	}
	if len(bbox) == 6 {
		put("xmin", bbox[0])
		put("ymin", bbox[1])
		put("zmin", bbox[2])
		put("xmax", bbox[3])
		put("ymax", bbox[4])
		put("zmax", bbox[5])
		return
	}
	put("xmin", bbox[0])
	put("ymin", bbox[1])
	nullz("zmin")
	put("xmax", bbox[2])
	put("ymax", bbox[3])
	nullz("zmax")
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

// str copies the text of a JSON string into the arena.
func (sh *shredder) str(quoted []byte) []byte {
	start := len(sh.arena)
	if bytes.IndexByte(quoted, '\\') < 0 {
		sh.arena = append(sh.arena, quoted[1:len(quoted)-1]...)
	} else {
		var err error
		if sh.arena, err = jsontext.AppendUnquote(sh.arena, quoted); err != nil {
			sh.arena = append(sh.arena[:start], quoted...)
		}
	}
	return sh.arena[start:len(sh.arena):len(sh.arena)]
}

// value shreds one top-level value (a property or item member).
func (sh *shredder) value(n *node, raw []byte, rep int) error {
	if n.kind == kStruct || n.kind == kList {
		if isNull(raw) {
			sh.null(n, rep, n.def-1)
			return nil
		}
		resetDecoder(sh.dec, raw)
		return sh.walk(sh.dec, n, rep, 1)
	}
	return sh.scalar(n, raw, rep)
}

// walk shreds the value at the decoder into n's columns.
func (sh *shredder) walk(dec *jsontext.Decoder, n *node, rep, depth int) error {
	pk := dec.PeekKind()
	if pk == 'n' || (n.kind != kStruct && n.kind != kList) {
		raw, err := dec.ReadValue()
		if err != nil {
			return err
		}
		return sh.scalar(n, raw, rep)
	}
	if _, err := dec.ReadToken(); err != nil {
		return err
	}
	switch {
	case n.kind == kStruct && pk == '{':
		seen := sh.scratch(depth, len(n.fields))
		for dec.PeekKind() != '}' {
			name, err := dec.ReadValue()
			if err != nil {
				return err
			}
			i := n.indexRaw(name)
			if i < 0 || sh.seen[depth][i] { // a field that only ever held null, or a repeated name
				if err := dec.SkipValue(); err != nil {
					return err
				}
				continue
			}
			if err := sh.walk(dec, n.fields[i].n, rep, depth+1); err != nil {
				return err
			}
			sh.seen[depth][i] = true
		}
		seen = sh.seen[depth]
		for i, f := range n.fields {
			if !seen[i] {
				sh.null(f.n, rep, n.def)
			}
		}
	case n.kind == kList && pk == '[':
		i := 0
		for dec.PeekKind() != ']' {
			r := rep
			if i > 0 {
				r = n.rep
			}
			if err := sh.walk(dec, n.elem, r, depth+1); err != nil {
				return err
			}
			i++
		}
		if i == 0 {
			sh.null(n.elem, rep, n.def)
		}
	default:
		return fmt.Errorf("stacparquet: internal error: a %v value in a %v column", kindOf(pk), n.kind)
	}
	_, err := dec.ReadToken()
	return err
}

func kindOf(pk jsontext.Kind) kind {
	switch pk {
	case '{':
		return kStruct
	case '[':
		return kList
	case '"':
		return kString
	case 't', 'f':
		return kBool
	case 'n':
		return kNull
	}
	return kFloat
}

// scalar shreds a leaf value (or a null of any node).
func (sh *shredder) scalar(n *node, raw []byte, rep int) error {
	if isNull(raw) {
		sh.null(n, rep, n.def-1)
		return nil
	}
	var v parquet.Value
	switch n.kind {
	case kJSON:
		start := len(sh.arena)
		sh.arena = append(sh.arena, raw...)
		val := jsontext.Value(sh.arena[start:])
		if err := val.Compact(); err != nil {
			return err
		}
		sh.arena = sh.arena[:start+len(val)]
		v = parquet.ByteArrayValue(sh.arena[start:len(sh.arena):len(sh.arena)])
		n.jsonVals++
	case kBool:
		v = parquet.BooleanValue(raw[0] == 't')
	case kInt:
		i, ok := parseInt(raw)
		if !ok {
			return fmt.Errorf("stacparquet: internal error: %s in an integer column", raw)
		}
		v = parquet.Int64Value(i)
	case kFloat:
		v = parquet.DoubleValue(parseFloat(raw))
	case kString:
		if raw[0] != '"' {
			return fmt.Errorf("stacparquet: internal error: %s in a string column", raw)
		}
		v = parquet.ByteArrayValue(sh.str(raw))
	case kTime:
		t, err := parseTime(raw)
		if err != nil {
			return fmt.Errorf("stacparquet: internal error: %s in a timestamp column", raw)
		}
		if t.Nanosecond()%1000 != 0 {
			sh.truncated++
		}
		v = parquet.Int64Value(t.UnixMicro())
	case kGeom:
		g, err := parseGeometry(raw)
		if err != nil {
			return err
		}
		start := len(sh.arena)
		sh.arena = g.appendWKB(sh.arena)
		v = parquet.ByteArrayValue(sh.arena[start:len(sh.arena):len(sh.arena)])
	default:
		return fmt.Errorf("stacparquet: internal error: %s in a %v column", raw, n.kind)
	}
	sh.leaf(n, v, rep)
	return nil
}
