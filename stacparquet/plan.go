package stacparquet

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/deprecated"
	"github.com/parquet-go/parquet-go/format"
)

// rkind is the shape of a column of a file being read.
type rkind uint8

const (
	rLeaf rkind = iota
	rStruct
	rList
	rMap
)

// conv is how a leaf value becomes JSON.
type conv uint8

const (
	cNull conv = iota // Parquet's NULL/UNKNOWN type: always null
	cBool
	cInt32
	cUint32
	cInt64
	cUint64
	cFloat
	cDouble
	cString
	cJSON
	cBinary // base64 text
	cWKB    // GeoJSON geometry
	cTimeMilli
	cTimeMicro
	cTimeNano
	cInt96 // legacy timestamp
	cDate
	cDecimal
	cUUID
)

// rnode is how one column (or nested field) of a file is assembled back
// into JSON from the Dremel-encoded values of its leaves.
type rnode struct {
	name     string
	kind     rkind
	conv     conv
	scale    int32        // cDecimal
	pkind    parquet.Kind // rLeaf: physical type
	col      int          // rLeaf: leaf column index
	def      int          // definition level of a present value
	slotDef  int          // rList, rMap: definition level of an element's slot
	rep      int          // rList, rMap: repetition level of the elements
	children []*rnode
	elem     *rnode // rList; the key_value struct of an rMap
	key, val *rnode // rMap
	first    int    // first leaf column below
	leaves   int    // number of leaf columns below
}

func (n *rnode) child(name string) *rnode {
	for _, c := range n.children {
		if c.name == name {
			return c
		}
	}
	return nil
}

// plan builds the assembly of a file column. wkb says which leaf names are
// WKB geometries. asElement reads a repeated column as one element (the
// two-level list encoding).
func plan(c *parquet.Column, wkb func(c *parquet.Column) bool, asElement bool, depth int) (*rnode, error) {
	if depth > 64 {
		return nil, fmt.Errorf("column %s: nested more than 64 deep", strings.Join(c.Path(), "."))
	}
	n := &rnode{name: c.Name(), def: c.MaxDefinitionLevel()}
	if c.Repeated() && !asElement {
		// A repeated field outside a LIST annotation: a list of it.
		elem, err := plan(c, wkb, true, depth+1)
		if err != nil {
			return nil, err
		}
		n.kind, n.elem = rList, elem
		n.def = c.MaxDefinitionLevel() - 1
		n.slotDef, n.rep = c.MaxDefinitionLevel(), c.MaxRepetitionLevel()
		n.first, n.leaves = elem.first, elem.leaves
		return n, nil
	}
	if c.Leaf() {
		n.kind = rLeaf
		n.col = c.Index()
		n.pkind = c.Type().Kind()
		n.first, n.leaves = n.col, 1
		var err error
		if n.conv, n.scale, err = leafConv(c); err != nil {
			return nil, err
		}
		if n.conv == cBinary && wkb(c) {
			n.conv = cWKB
		}
		return n, nil
	}
	children := c.Columns()
	if len(children) == 0 {
		return nil, fmt.Errorf("column %s: a group without fields", strings.Join(c.Path(), "."))
	}
	switch groupAnnotation(c) {
	case "LIST":
		r := children[0]
		if len(children) != 1 || !r.Repeated() {
			return nil, fmt.Errorf("column %s: a LIST without one repeated field", strings.Join(c.Path(), "."))
		}
		var elem *rnode
		var err error
		if rc := r.Columns(); !r.Leaf() && len(rc) == 1 && r.Name() != "array" && r.Name() != c.Name()+"_tuple" {
			elem, err = plan(rc[0], wkb, false, depth+1) // three-level list
		} else {
			elem, err = plan(r, wkb, true, depth+1) // two-level list
		}
		if err != nil {
			return nil, err
		}
		n.kind, n.elem = rList, elem
		n.slotDef, n.rep = r.MaxDefinitionLevel(), r.MaxRepetitionLevel()
	case "MAP":
		r := children[0]
		if len(children) != 1 || !r.Repeated() || r.Leaf() {
			return nil, fmt.Errorf("column %s: a MAP without one repeated group", strings.Join(c.Path(), "."))
		}
		kv := r.Columns()
		if len(kv) < 1 || len(kv) > 2 {
			return nil, fmt.Errorf("column %s: a MAP entry of %d fields", strings.Join(c.Path(), "."), len(kv))
		}
		key, err := plan(kv[0], wkb, false, depth+1)
		if err != nil {
			return nil, err
		}
		if key.kind != rLeaf {
			return nil, fmt.Errorf("column %s: a MAP key that is not a primitive", strings.Join(c.Path(), "."))
		}
		n.kind, n.key = rMap, key
		if len(kv) == 2 {
			if n.val, err = plan(kv[1], wkb, false, depth+1); err != nil {
				return nil, err
			}
		}
		n.slotDef, n.rep = r.MaxDefinitionLevel(), r.MaxRepetitionLevel()
	default:
		n.kind = rStruct
		for _, cc := range children {
			child, err := plan(cc, wkb, false, depth+1)
			if err != nil {
				return nil, err
			}
			n.children = append(n.children, child)
		}
	}
	n.first, n.leaves = firstLeaf(c), leafCount(c)
	return n, nil
}

func firstLeaf(c *parquet.Column) int {
	for !c.Leaf() {
		c = c.Columns()[0]
	}
	return c.Index()
}

func leafCount(c *parquet.Column) int {
	if c.Leaf() {
		return 1
	}
	n := 0
	for _, cc := range c.Columns() {
		n += leafCount(cc)
	}
	return n
}

// groupAnnotation is "LIST", "MAP" or "" for a group column.
func groupAnnotation(c *parquet.Column) string {
	t := c.Type()
	if t == nil {
		return ""
	}
	if lt := t.LogicalType(); lt != nil {
		switch lt.Value.(type) {
		case *format.ListType:
			return "LIST"
		case *format.MapType:
			return "MAP"
		}
	}
	if ct := t.ConvertedType(); ct != nil {
		switch *ct {
		case deprecated.List:
			return "LIST"
		case deprecated.Map, deprecated.MapKeyValue:
			return "MAP"
		}
	}
	return ""
}

// leafConv chooses how a leaf column's values become JSON.
func leafConv(c *parquet.Column) (conv, int32, error) {
	t := c.Type()
	kind := t.Kind()
	if lt := t.LogicalType(); lt != nil && lt.Value != nil {
		switch v := lt.Value.(type) {
		case *format.StringType, *format.EnumType:
			return cString, 0, nil
		case *format.JsonType:
			return cJSON, 0, nil
		case *format.TimestampType:
			switch v.Unit.Value.(type) {
			case *format.MilliSeconds:
				return cTimeMilli, 0, nil
			case *format.MicroSeconds:
				return cTimeMicro, 0, nil
			case *format.NanoSeconds:
				return cTimeNano, 0, nil
			}
		case *format.DateType:
			return cDate, 0, nil
		case *format.DecimalType:
			return cDecimal, v.Scale, nil
		case *format.IntType:
			if !v.IsSigned {
				if kind == parquet.Int64 {
					return cUint64, 0, nil
				}
				return cUint32, 0, nil
			}
		case *format.UUIDType:
			return cUUID, 0, nil
		case *format.NullType:
			return cNull, 0, nil
		}
	}
	if ct := t.ConvertedType(); ct != nil {
		switch *ct {
		case deprecated.UTF8, deprecated.Enum:
			return cString, 0, nil
		case deprecated.Json:
			return cJSON, 0, nil
		case deprecated.TimestampMillis:
			return cTimeMilli, 0, nil
		case deprecated.TimestampMicros:
			return cTimeMicro, 0, nil
		case deprecated.Date:
			return cDate, 0, nil
		case deprecated.Uint8, deprecated.Uint16, deprecated.Uint32:
			return cUint32, 0, nil
		case deprecated.Uint64:
			return cUint64, 0, nil
		}
	}
	switch kind {
	case parquet.Boolean:
		return cBool, 0, nil
	case parquet.Int32:
		return cInt32, 0, nil
	case parquet.Int64:
		return cInt64, 0, nil
	case parquet.Int96:
		return cInt96, 0, nil
	case parquet.Float:
		return cFloat, 0, nil
	case parquet.Double:
		return cDouble, 0, nil
	case parquet.ByteArray, parquet.FixedLenByteArray:
		return cBinary, 0, nil
	}
	return 0, 0, fmt.Errorf("column %s: unsupported type %s", strings.Join(c.Path(), "."), t)
}

// assembler turns the values of one row into JSON.
type assembler struct {
	cols [][]parquet.Value // the row's values, per leaf column
	pos  []int             // next value of each column
	err  error
}

// load splits a row (values in column order) into columns.
func (a *assembler) load(row parquet.Row, ncols int) {
	if cap(a.cols) < ncols {
		a.cols = make([][]parquet.Value, ncols)
		a.pos = make([]int, ncols)
	}
	a.cols, a.pos = a.cols[:ncols], a.pos[:ncols]
	clear(a.pos)
	for i := range a.cols {
		a.cols[i] = nil
	}
	start := 0
	for i := 0; i <= len(row); i++ {
		if i == len(row) || (i > start && row[i].Column() != row[start].Column()) {
			if start < len(row) {
				if c := row[start].Column(); c >= 0 && c < ncols {
					a.cols[c] = row[start:i]
				}
			}
			start = i
		}
	}
	a.err = nil
}

// peek is the next value of column c (a null at level 0 when the row has
// no more: hostile files cannot make assembly read out of bounds).
func (a *assembler) peek(c int) parquet.Value {
	if p := a.pos[c]; p < len(a.cols[c]) {
		return a.cols[c][p]
	}
	if a.err == nil {
		a.err = fmt.Errorf("column %d has fewer values than its levels need", c)
	}
	return parquet.Value{}
}

// more reports whether column c has a value left in this row.
func (a *assembler) more(c int) bool { return a.pos[c] < len(a.cols[c]) }

// skip consumes the one value of each leaf below n that stands for a null
// or empty n.
func (a *assembler) skip(n *rnode) {
	for c := n.first; c < n.first+n.leaves; c++ {
		a.pos[c]++
	}
}

// present reports whether the next value of n is not null (n's subtree
// then has its values), consuming the null placeholders when it is.
func (a *assembler) present(n *rnode) bool {
	if a.peek(n.first).DefinitionLevel() < n.def {
		a.skip(n)
		return false
	}
	return true
}

// value appends the JSON of n's next value; ok is false (and nothing is
// appended) when it is null.
func (a *assembler) value(dst []byte, n *rnode) (out []byte, ok bool) {
	if a.err != nil || !a.present(n) {
		return dst, false
	}
	switch n.kind {
	case rLeaf:
		v := a.peek(n.col)
		a.pos[n.col]++
		return a.leaf(dst, n, v), true
	case rStruct:
		dst = append(dst, '{')
		first := true
		for _, c := range n.children {
			var ok bool
			if dst, ok = a.member(dst, c, first); ok {
				first = false
			}
		}
		return append(dst, '}'), true
	case rList:
		dst = append(dst, '[')
		if a.peek(n.first).DefinitionLevel() < n.slotDef {
			a.skip(n) // empty
			return append(dst, ']'), true
		}
		for i := 0; ; i++ {
			if i > 0 {
				dst = append(dst, ',')
			}
			var ok bool
			if dst, ok = a.value(dst, n.elem); !ok {
				dst = append(dst, "null"...)
			}
			if a.err != nil || !a.more(n.first) || a.peek(n.first).RepetitionLevel() != n.rep {
				break
			}
		}
		return append(dst, ']'), true
	case rMap:
		dst = append(dst, '{')
		if a.peek(n.first).DefinitionLevel() < n.slotDef {
			a.skip(n)
			return append(dst, '}'), true
		}
		first := true
		for {
			mark := len(dst)
			if !first {
				dst = append(dst, ',')
			}
			var key []byte
			var ok bool
			key, ok = a.value(nil, n.key)
			if ok {
				if key[0] != '"' {
					key = appendString(nil, string(key))
				}
				dst = append(dst, key...)
				dst = append(dst, ':')
				if n.val == nil {
					dst = append(dst, "null"...)
				} else if dst, ok = a.value(dst, n.val); !ok {
					dst = append(dst, "null"...)
				}
				first = false
			} else {
				dst = dst[:mark]
				if n.val != nil {
					a.value(nil, n.val)
				}
			}
			if a.err != nil || !a.more(n.first) || a.peek(n.first).RepetitionLevel() != n.rep {
				break
			}
		}
		return append(dst, '}'), true
	}
	return dst, false
}

// member appends "name":value for n (after a comma unless first); a null
// value appends nothing (a null member reads back absent) and ok is false.
func (a *assembler) member(dst []byte, n *rnode, first bool) (out []byte, ok bool) {
	mark := len(dst)
	if !first {
		dst = append(dst, ',')
	}
	dst = appendString(dst, n.name)
	dst = append(dst, ':')
	if dst, ok = a.value(dst, n); !ok {
		return dst[:mark], false
	}
	return dst, true
}

// leaf appends the JSON of one leaf value.
func (a *assembler) leaf(dst []byte, n *rnode, v parquet.Value) []byte {
	switch n.conv {
	case cNull:
		return append(dst, "null"...)
	case cBool:
		return strconv.AppendBool(dst, v.Boolean())
	case cInt32:
		return strconv.AppendInt(dst, int64(v.Int32()), 10)
	case cUint32:
		return strconv.AppendUint(dst, uint64(uint32(v.Int32())), 10)
	case cInt64:
		return strconv.AppendInt(dst, v.Int64(), 10)
	case cUint64:
		return strconv.AppendUint(dst, uint64(v.Int64()), 10)
	case cFloat:
		return appendFloat32(dst, v.Float())
	case cDouble:
		return appendFloat(dst, v.Double())
	case cString:
		return appendString(dst, string(v.ByteArray()))
	case cJSON:
		b := v.ByteArray()
		if jsontext.Value(b).IsValid() {
			val := jsontext.Value(append([]byte(nil), b...))
			if val.Compact() == nil {
				return append(dst, val...)
			}
		}
		return appendString(dst, string(b)) // not JSON after all: keep the text
	case cBinary:
		return appendString(dst, base64.StdEncoding.EncodeToString(v.ByteArray()))
	case cWKB:
		out, err := appendGeoJSON(dst, v.ByteArray())
		if err != nil {
			return appendString(dst, base64.StdEncoding.EncodeToString(v.ByteArray()))
		}
		return out
	case cTimeMilli:
		return appendTime(dst, time.UnixMilli(v.Int64()))
	case cTimeMicro:
		return appendTime(dst, time.UnixMicro(v.Int64()))
	case cTimeNano:
		return appendTime(dst, time.Unix(0, v.Int64()))
	case cInt96:
		return appendTime(dst, int96Time(v.Int96()))
	case cDate:
		return appendString(dst, time.Unix(int64(v.Int32())*86400, 0).UTC().Format(time.DateOnly))
	case cDecimal:
		return appendDecimal(dst, v, n.scale)
	case cUUID:
		b := v.ByteArray()
		if len(b) != 16 {
			return appendString(dst, base64.StdEncoding.EncodeToString(b))
		}
		return appendString(dst, fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]))
	}
	return append(dst, "null"...)
}

func int96Time(v deprecated.Int96) time.Time {
	nanos := int64(v[1])<<32 | int64(v[0])
	day := int64(v[2])
	// Julian day 2440588 is 1970-01-01.
	return time.Unix((day-2440588)*86400, nanos).UTC()
}

// appendTime writes an RFC 3339 UTC timestamp, with as many fractional
// digits as it needs.
func appendTime(dst []byte, t time.Time) []byte {
	dst = append(dst, '"')
	dst = t.UTC().AppendFormat(dst, time.RFC3339Nano)
	return append(dst, '"')
}

func appendFloat32(dst []byte, f float32) []byte {
	if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
		return append(dst, "null"...)
	}
	abs := math.Abs(float64(f))
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	return strconv.AppendFloat(dst, float64(f), format, -1, 32)
}

func appendDecimal(dst []byte, v parquet.Value, scale int32) []byte {
	var unscaled big.Int
	switch v.Kind() {
	case parquet.Int32:
		unscaled.SetInt64(int64(v.Int32()))
	case parquet.Int64:
		unscaled.SetInt64(v.Int64())
	default:
		b := v.ByteArray()
		if len(b) > 64 {
			return append(dst, "null"...)
		}
		unscaled.SetBytes(b)
		if len(b) > 0 && b[0]&0x80 != 0 { // two's complement negative
			unscaled.Sub(&unscaled, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
		}
	}
	if scale < 0 || scale > 76 {
		return append(dst, "null"...)
	}
	s := unscaled.String()
	if scale == 0 {
		return append(dst, s...)
	}
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	for len(s) <= int(scale) {
		s = "0" + s
	}
	if neg {
		dst = append(dst, '-')
	}
	dst = append(dst, s[:len(s)-int(scale)]...)
	dst = append(dst, '.')
	return append(dst, s[len(s)-int(scale):]...)
}

// appendString appends s as a JSON string (invalid UTF-8 replaced).
func appendString(dst []byte, s string) []byte {
	plain := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x80 || c == '"' || c == '\\' {
			plain = false
			break
		}
	}
	if plain { // most are: what AppendQuote would write
		dst = append(dst, '"')
		dst = append(dst, s...)
		return append(dst, '"')
	}
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	out, err := jsontext.AppendQuote(dst, s)
	if err != nil {
		return append(dst, `""`...)
	}
	return out
}

// leafDouble reads a numeric leaf value of n as a float64 (for filters
// and bboxes).
func leafDouble(n *rnode, v parquet.Value) (float64, bool) {
	if v.IsNull() {
		return 0, false
	}
	var f float64
	switch n.conv {
	case cDouble:
		f = v.Double()
	case cFloat:
		f = float64(v.Float())
	case cInt32:
		f = float64(v.Int32())
	case cUint32:
		f = float64(uint32(v.Int32()))
	case cInt64:
		f = float64(v.Int64())
	case cUint64:
		f = float64(uint64(v.Int64()))
	case cDecimal:
		var err error
		if f, err = strconv.ParseFloat(string(appendDecimal(nil, v, n.scale)), 64); err != nil {
			return 0, false
		}
	default:
		return 0, false
	}
	return f, true
}

// statDouble decodes a plain-encoded statistics value of a numeric column.
func statDouble(kind parquet.Kind, b []byte) (float64, bool) {
	switch {
	case kind == parquet.Double && len(b) == 8:
		return math.Float64frombits(binary.LittleEndian.Uint64(b)), true
	case kind == parquet.Float && len(b) == 4:
		return float64(math.Float32frombits(binary.LittleEndian.Uint32(b))), true
	case kind == parquet.Int32 && len(b) == 4:
		return float64(int32(binary.LittleEndian.Uint32(b))), true
	case kind == parquet.Int64 && len(b) == 8:
		return float64(int64(binary.LittleEndian.Uint64(b))), true
	}
	return 0, false
}
