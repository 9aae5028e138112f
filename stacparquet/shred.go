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
	extras    []extra
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

// row appends the row of an item to dst.
func (sh *shredder) row(item []byte, dst parquet.Row) (parquet.Row, error) {
	for i := range sh.cols {
		sh.cols[i] = sh.cols[i][:0]
	}
	root := sh.s.root
	seen := sh.scratch(0, len(root.fields))
	sh.collection, sh.hasGeom, sh.crossing = "", false, false
	sh.extras = sh.extras[:0]
	dec := sh.dec
	resetDecoder(dec, item)
	bad := func(err error) (parquet.Row, error) {
		return dst, fmt.Errorf("%w: %w", ErrInvalidItem, err)
	}
	if _, err := dec.ReadToken(); err != nil {
		return bad(err)
	}
	for dec.PeekKind() != '}' {
		rawName, err := dec.ReadValue()
		if err != nil {
			return bad(err)
		}
		i := root.indexRaw(rawName)
		var n *node
		if i >= 0 {
			n = root.fields[i].n
		}
		switch {
		case n == sh.geom:
			val, err := dec.ReadValue()
			if err != nil {
				return bad(err)
			}
			seen[i] = true
			if isNull(val) {
				sh.null(n, 0, 0)
				break
			}
			if sh.g, err = parseGeometry(val); err != nil {
				return bad(err)
			}
			sh.hasGeom = true
			start := len(sh.arena)
			sh.arena = sh.g.appendWKB(sh.arena)
			sh.leaf(n, parquet.ByteArrayValue(sh.arena[start:len(sh.arena):len(sh.arena)]), 0)
		case n == sh.bboxN:
			val, err := dec.ReadValue()
			if err != nil {
				return bad(err)
			}
			seen[i] = true
			bbox, err := parseBBox(val, sh.bbox)
			if err != nil {
				return dst, err
			}
			sh.bbox = bbox
			if bbox == nil {
				sh.null(n, 0, 0)
				break
			}
			sh.crossing = (len(bbox) == 4 && bbox[0] > bbox[2]) || (len(bbox) == 6 && bbox[0] > bbox[3])
			sh.bboxValues(bbox)
		case bytes.Equal(rawName, []byte(`"properties"`)):
			if dec.PeekKind() != '{' {
				if err := dec.SkipValue(); err != nil {
					return bad(err)
				}
				break
			}
			if err := sh.properties(dec, seen); err != nil {
				return dst, err
			}
		case n != nil && isCore(root.fields[i].name):
			if root.fields[i].name == "collection" && dec.PeekKind() == '"' {
				val, err := dec.ReadValue()
				if err != nil {
					return bad(err)
				}
				sh.collection = unquote(val)
				if err := sh.scalar(n, val, 0); err != nil {
					return dst, err
				}
			} else if err := sh.walk(dec, n, 0, 1); err != nil {
				return dst, err
			}
			seen[i] = true
		default:
			// Outside the core: a property unless the item has one of that
			// name, which may come later.
			val, err := dec.ReadValue()
			if err != nil {
				return bad(err)
			}
			if n != nil {
				sh.extras = append(sh.extras, extra{i: i, raw: val})
			}
		}
	}
	for _, e := range sh.extras {
		if seen[e.i] {
			continue
		}
		seen[e.i] = true
		if err := sh.value(root.fields[e.i].n, e.raw, 0); err != nil {
			return dst, err
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

// extra is a top-level member outside the STAC core, shredded after the
// properties.
type extra struct {
	i   int // its root field
	raw []byte
}

// properties shreds an item's properties into the root's columns.
func (sh *shredder) properties(dec *jsontext.Decoder, seen []bool) error {
	root := sh.s.root
	dec.ReadToken()
	for dec.PeekKind() != '}' {
		rawName, err := dec.ReadValue()
		if err != nil {
			return fmt.Errorf("%w: %w", ErrInvalidItem, err)
		}
		i := root.indexRaw(rawName)
		if i < 0 || seen[i] || isCore(root.fields[i].name) {
			// Only ever null, or named like a core member: left out.
			if err := dec.SkipValue(); err != nil {
				return fmt.Errorf("%w: %w", ErrInvalidItem, err)
			}
			continue
		}
		seen[i] = true
		if err := sh.walk(dec, root.fields[i].n, 0, 1); err != nil {
			return err
		}
	}
	_, err := dec.ReadToken()
	return err
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
		var err error
		if sh.arena, err = appendJSONText(sh.arena, raw); err != nil {
			return err
		}
		v = parquet.ByteArrayValue(sh.arena[start:len(sh.arena):len(sh.arena)])
		n.jsonVals.Add(1)
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
