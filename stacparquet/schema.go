package stacparquet

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"
	"github.com/parquet-go/parquet-go/encoding"
)

// kind is the inferred type of a column or nested field.
type kind uint8

const (
	kNull   kind = iota // only nulls seen so far
	kBool               // BOOLEAN
	kInt                // INT64
	kFloat              // DOUBLE
	kString             // BYTE_ARRAY (STRING)
	kTime               // INT64 TIMESTAMP(MICROS, UTC), from RFC 3339 text
	kGeom               // BYTE_ARRAY, WKB, from a GeoJSON geometry
	kList               // LIST of elem
	kStruct             // group of fields
	kJSON               // BYTE_ARRAY (JSON): a value that fits no other type
)

var kindNames = [...]string{
	kNull: "null", kBool: "boolean", kInt: "integer", kFloat: "number", kString: "string",
	kTime: "timestamp", kGeom: "geometry", kList: "array", kStruct: "object", kJSON: "JSON",
}

func (k kind) String() string { return kindNames[k] }

// hint says what a value at some position is expected to be: a datetime
// property becomes a timestamp, a geometry property WKB.
type hint uint8

const (
	hintNone hint = iota
	hintTime
	hintGeom
)

// node is the inferred type of one value position, merged over every item.
type node struct {
	kind   kind
	hint   hint
	role   uint8             // roleNone, roleRoot, roleAssets or roleAsset
	seen   uint64            // the last item that had this root field as a property
	elem   *node             // kList
	fields []*field          // kStruct, in the order first seen
	index  map[string]int    // kStruct: name → position in fields
	mixed  map[kind]struct{} // kJSON: the kinds that met here (for the warning)

	// Set by layout, for shredding and assembly.
	leaf     int          // first leaf column index of this subtree
	leaves   int          // number of leaf columns in this subtree
	def      int          // definition level of a present (non-null) value here
	rep      int          // repetition level of this node's repeated group (kList)
	jsonVals atomic.Int64 // values stored as JSON text (shredders count them concurrently)
}

type field struct {
	name string
	n    *node
	core bool // named like a STAC core member
}

func newNode(k kind, h hint) *node {
	n := &node{kind: k, hint: h}
	if k == kStruct {
		n.index = map[string]int{}
	}
	return n
}

// child returns the field of a struct node, creating it (as null) when new.
func (n *node) child(name string, h hint) *node {
	if i, ok := n.index[name]; ok {
		return n.fields[i].n
	}
	c := newNode(kNull, h)
	name = strings.Clone(name) // name may share an item's text
	n.index[name] = len(n.fields)
	n.fields = append(n.fields, &field{name: name, n: c, core: isCore(name)})
	return c
}

func (n *node) lookup(name string) *node {
	if i, ok := n.index[name]; ok {
		return n.fields[i].n
	}
	return nil
}

// observe widens n so that it holds a value of kind k. Lists and structs
// are widened by their callers; this only changes n's own kind. It reports
// whether n stays structured (so the caller should descend).
func (n *node) observe(k kind) bool {
	switch {
	case k == kNull || n.kind == k:
	case n.kind == kJSON:
		n.mixed[k] = struct{}{}
	case k == kJSON:
		n.toJSON(kFloat)
	case n.kind == kNull:
		n.kind = k
		switch k {
		case kStruct:
			if n.index == nil {
				n.index = map[string]int{}
			}
		case kList:
			if n.elem == nil {
				n.elem = newNode(kNull, hintNone)
			}
		}
	case n.kind == kInt && k == kFloat, n.kind == kFloat && k == kInt:
		n.kind = kFloat
	case n.kind == kTime && k == kString, n.kind == kString && k == kTime:
		n.kind = kString
	default:
		n.toJSON(k)
	}
	return n.kind == k && (k == kStruct || k == kList)
}

// toJSON turns n into a JSON text column, dropping what it had inferred
// below.
func (n *node) toJSON(other kind) {
	mixed := map[kind]struct{}{n.kind: {}, other: {}}
	delete(mixed, kNull)
	n.kind = kJSON
	n.elem, n.fields, n.index = nil, nil, nil
	n.mixed = mixed
}

// merge widens n to hold everything o holds.
func (n *node) merge(o *node) {
	if o == nil || o.kind == kNull {
		return
	}
	if o.kind == kJSON {
		if n.kind != kJSON {
			n.toJSON(o.kind)
		}
		for k := range o.mixed {
			n.mixed[k] = struct{}{}
		}
		return
	}
	if !n.observe(o.kind) {
		return
	}
	switch o.kind {
	case kList:
		n.elem.merge(o.elem)
	case kStruct:
		for _, f := range o.fields {
			c := n.child(f.name, f.n.hint)
			c.role = f.n.role
			c.merge(f.n)
		}
	}
}

func (n *node) clone() *node {
	c := node{kind: n.kind, hint: n.hint, role: n.role, elem: n.elem, fields: n.fields, index: n.index, mixed: n.mixed}
	c.fields = nil
	c.index = nil
	if n.elem != nil {
		c.elem = n.elem.clone()
	}
	if n.kind == kStruct {
		c.index = make(map[string]int, len(n.fields))
		for _, f := range n.fields {
			c.index[f.name] = len(c.fields)
			c.fields = append(c.fields, &field{name: f.name, n: f.n.clone(), core: f.core})
		}
	}
	if n.mixed != nil {
		c.mixed = make(map[kind]struct{}, len(n.mixed))
		for k := range n.mixed {
			c.mixed[k] = struct{}{}
		}
	}
	return &c
}

// finalize makes n writable: fields that only ever held null are dropped
// (they read back absent either way), an array whose elements were never
// seen gets string elements, and an object left without fields is kept as
// JSON text (Parquet has no empty groups). keep reports whether n stays.
func (n *node) finalize() (keep bool) {
	switch n.kind {
	case kNull:
		switch n.hint {
		case hintTime:
			n.kind = kTime
			return true
		case hintGeom:
			n.kind = kGeom
			return true
		}
		return false
	case kList:
		if !n.elem.finalize() {
			n.elem = newNode(kString, hintNone)
		}
	case kStruct:
		kept := n.fields[:0]
		for _, f := range n.fields {
			if f.n.finalize() {
				kept = append(kept, f)
			}
		}
		clear(n.fields[len(kept):])
		n.fields = kept
		n.index = make(map[string]int, len(kept))
		for i, f := range kept {
			n.index[f.name] = i
		}
		if len(kept) == 0 {
			n.kind = kJSON
			n.mixed = map[kind]struct{}{kStruct: {}}
		}
	}
	return true
}

// layout numbers the leaf columns of n's subtree from leaf and sets the
// levels; def and rep are those of a present value of n's parent.
func (n *node) layout(leaf, def, rep int) int {
	n.leaf = leaf
	n.def = def + 1
	switch n.kind {
	case kList:
		n.rep = rep + 1
		// optional group (LIST) → repeated group list → optional element
		leaf = n.elem.layout(leaf, n.def+1, n.rep)
	case kStruct:
		for _, f := range n.fields {
			leaf = f.n.layout(leaf, n.def, rep)
		}
	default:
		leaf++
	}
	n.leaves = leaf - n.leaf
	return leaf
}

// parquetNode is the Parquet schema of n (always optional).
func (n *node) parquetNode() parquet.Node {
	var pn parquet.Node
	switch n.kind {
	case kBool:
		pn = parquet.Leaf(parquet.BooleanType)
	case kInt:
		pn = parquet.Int(64)
	case kFloat:
		pn = parquet.Leaf(parquet.DoubleType)
	case kString:
		pn = parquet.String()
	case kTime:
		pn = parquet.Timestamp(parquet.Microsecond)
	case kGeom:
		pn = parquet.Leaf(parquet.ByteArrayType)
	case kJSON:
		pn = parquet.JSON()
	case kList:
		pn = parquet.List(n.elem.parquetNode())
	case kStruct:
		pn = n.group()
	default:
		panic(fmt.Sprintf("stacparquet: no Parquet type for %v", n.kind))
	}
	return parquet.Optional(pn)
}

// group is the Parquet group of a struct node's fields.
func (n *node) group() orderedGroup {
	g := make(orderedGroup, len(n.fields))
	for i, f := range n.fields {
		g[i] = orderedField{Node: f.n.parquetNode(), name: f.name}
	}
	return g
}

// describe is a short text of the type, for messages and tests.
func (n *node) describe() string {
	switch n.kind {
	case kList:
		return "array<" + n.elem.describe() + ">"
	case kStruct:
		var b strings.Builder
		b.WriteString("object{")
		for i, f := range n.fields {
			if i > 0 {
				b.WriteString(",")
			}
			b.WriteString(f.name)
			b.WriteString(":")
			b.WriteString(f.n.describe())
		}
		b.WriteString("}")
		return b.String()
	}
	return n.kind.String()
}

// jsonColumns appends, for every column below n stored as JSON text
// because values of different types met there, its path and those types.
// (Objects without fields and values nested too deeply are JSON text too,
// but lose nothing.)
func (n *node) jsonColumns(path string, out []jsonColumn) []jsonColumn {
	switch n.kind {
	case kJSON:
		if len(n.mixed) < 2 {
			break
		}
		kinds := make([]string, 0, len(n.mixed))
		for k := range n.mixed {
			kinds = append(kinds, k.String())
		}
		slices.Sort(kinds)
		out = append(out, jsonColumn{path: path, kinds: kinds, node: n})
	case kList:
		out = n.elem.jsonColumns(path+"[]", out)
	case kStruct:
		for _, f := range n.fields {
			out = f.n.jsonColumns(path+"."+f.name, out)
		}
	}
	return out
}

type jsonColumn struct {
	path  string
	kinds []string
	node  *node
}

// orderedGroup is a Parquet group whose fields keep the order given
// (parquet.Group sorts them by name), so that the STAC core columns come
// first and properties in the order they were first seen.
type orderedGroup []orderedField

type orderedField struct {
	parquet.Node
	name string
}

func (f orderedField) Name() string { return f.name }

func (f orderedField) Value(base reflect.Value) reflect.Value {
	if base.Kind() == reflect.Map {
		return base.MapIndex(reflect.ValueOf(f.name))
	}
	return reflect.Value{}
}

func (g orderedGroup) ID() int                     { return 0 }
func (g orderedGroup) String() string              { return parquet.Group(g.asGroup()).String() }
func (g orderedGroup) Type() parquet.Type          { return parquet.Group{}.Type() }
func (g orderedGroup) Optional() bool              { return false }
func (g orderedGroup) Repeated() bool              { return false }
func (g orderedGroup) Required() bool              { return true }
func (g orderedGroup) Leaf() bool                  { return false }
func (g orderedGroup) Encoding() encoding.Encoding { return nil }
func (g orderedGroup) Compression() compress.Codec { return nil }
func (g orderedGroup) GoType() reflect.Type        { return reflect.TypeFor[map[string]any]() }

func (g orderedGroup) Fields() []parquet.Field {
	fields := make([]parquet.Field, len(g))
	for i := range g {
		fields[i] = g[i]
	}
	return fields
}

func (g orderedGroup) asGroup() parquet.Group {
	m := make(parquet.Group, len(g))
	for _, f := range g {
		m[f.name] = f.Node
	}
	return m
}
