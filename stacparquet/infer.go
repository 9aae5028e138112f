package stacparquet

import (
	"bytes"
	"errors"
	"fmt"

	"slices"
	"strconv"
	"time"
	"unsafe"

	"github.com/go-json-experiment/json/jsontext"
)

// ErrInvalidItem is wrapped by the errors of Writer.Write for an item that
// cannot be stored (not a JSON object, no string id, a geometry or bbox
// that is not valid GeoJSON, properties that are not an object). The writer
// stays usable: the item is left out.
var ErrInvalidItem = errors.New("invalid STAC item")

// The STAC item members that are columns of their own; a property of one
// of these names cannot be pulled up to the top level beside them.
var coreColumns = [...]string{
	"type", "stac_version", "stac_extensions", "id", "geometry", "bbox", "collection", "links", "assets",
}

func isCore(name string) bool {
	for _, c := range coreColumns {
		if c == name {
			return true
		}
	}
	return false
}

// timeProperties are the properties stored as timestamps: the datetime
// fields of STAC common metadata and of the timestamps extension, the same
// set the stac-geoparquet and rustac writers convert.
var timeProperties = [...]string{
	"datetime", "start_datetime", "end_datetime", "created", "updated", "expires", "published", "unpublished",
}

func isTimeProperty(name string) bool {
	for _, c := range timeProperties {
		if c == name {
			return true
		}
	}
	return false
}

// geometryField is the name of the projection extension's geometry, stored
// as WKB both as a property and inside assets (as stac-geoparquet does).
const geometryField = "proj:geometry"

// maxInferDepth is how deeply nested arrays and objects become nested
// columns; anything deeper is kept as JSON text.
const maxInferDepth = 32

// node roles: what the children of a struct node are expected to be.
const (
	roleNone = iota
	roleRoot
	roleAssets
	roleAsset
)

// schema is the column layout inferred from the items written so far.
type schema struct {
	root   *node // the top-level columns: core members, then properties
	bbox3D bool  // some item has a 6-number bbox
}

func newSchema() *schema {
	root := newNode(kStruct, hintNone)
	for _, name := range coreColumns {
		h := hintNone
		if name == "geometry" {
			h = hintGeom
		}
		c := root.child(name, h)
		switch name {
		case "bbox":
			c.kind = kStruct
			c.index = map[string]int{}
		case "assets":
			c.role = roleAssets
		}
	}
	// datetime is required (null allowed) in every STAC item: its column
	// exists, the first of the properties, even when no item has one.
	root.child("datetime", hintTime)
	root.role = roleRoot
	return &schema{root: root}
}

func (s *schema) clone() *schema {
	c := &schema{root: s.root.clone(), bbox3D: s.bbox3D}
	return c
}

// finalize returns the writable form of s, its leaf columns numbered.
func (s *schema) finalize() *schema {
	c := s.clone()
	b := c.root.lookup("bbox")
	b.kind, b.fields, b.index = kStruct, nil, map[string]int{}
	names := []string{"xmin", "ymin", "xmax", "ymax"}
	if c.bbox3D {
		names = []string{"xmin", "ymin", "zmin", "xmax", "ymax", "zmax"}
	}
	for _, name := range names {
		b.child(name, hintNone).kind = kFloat
	}
	// The core string columns exist even when no item had them (a file of
	// no items still has its id column).
	for _, name := range []string{"type", "stac_version", "id", "collection"} {
		if n := c.root.lookup(name); n.kind == kNull {
			n.kind = kString
		}
	}
	if n := c.root.lookup("stac_extensions"); n.kind == kNull {
		n.observe(kList)
		n.elem.kind = kString
	}
	c.root.finalize()
	c.root.layout(0, -1, 0)
	return c
}

func (s *schema) merge(o *schema) {
	s.bbox3D = s.bbox3D || o.bbox3D
	s.root.merge(o.root)
}

// childHint is the hint for a new child of n named name.
func childHint(n *node, name string) hint {
	switch n.role {
	case roleRoot:
		if isTimeProperty(name) {
			return hintTime
		}
		if name == geometryField {
			return hintGeom
		}
	case roleAsset:
		if name == geometryField {
			return hintGeom
		}
	}
	return hintNone
}

func childRole(n *node) uint8 {
	if n.role == roleAssets {
		return roleAsset
	}
	return roleNone
}

// itemInfo is what the writer keeps of an item besides its JSON: where it
// goes and what it adds to the file's geo metadata.
type itemInfo struct {
	id         string
	collection string // "" when absent or null
	datetime   time.Time
	start      time.Time // start_datetime, for partitioning items without datetime
	hasTime    bool
	hasGeom    bool
	dropped    int // properties dropped for colliding with a top-level member
	hoisted    int // top-level members other than STAC's, stored as properties
}

// bboxFromTape reads the bbox at entry i of tp, 4 or 6 numbers (nil for
// null).
func bboxFromTape(tp *tape, i uint32, dst []float64) ([]float64, error) {
	dst = dst[:0]
	e := tp.t[i]
	switch e.kind {
	case 'n':
		return nil, nil
	case '[':
	default:
		return nil, fmt.Errorf("%w: \"bbox\" is not an array", ErrInvalidItem)
	}
	for j := i + 1; j < e.next; j = tp.t[j].next {
		if tp.t[j].kind != '0' || len(dst) == 6 {
			return nil, fmt.Errorf("%w: \"bbox\" is not 4 or 6 numbers", ErrInvalidItem)
		}
		if !tp.finite(j) {
			return nil, fmt.Errorf("%w: a \"bbox\" number overflows a float64", ErrInvalidItem)
		}
		dst = append(dst, tp.float(j))
	}
	if len(dst) != 4 && len(dst) != 6 {
		return nil, fmt.Errorf("%w: \"bbox\" has %d numbers, not 4 or 6", ErrInvalidItem, len(dst))
	}
	return dst, nil
}

// inferrer widens a schema with items.
type inferrer struct {
	tp          tape
	g           geometry // scratch, for checking geometries
	bbox        []float64
	collections map[string]struct{} // the collection ids seen
	seq         uint64              // items inferred
	names       []string            // the item's member names (views of its text)
	extras      []member            // its top-level members outside the core
}

// member is one top-level member of an item outside the STAC core: its
// name and its value's tape entry.
type member struct {
	name string
	val  uint32
}

func newInferrer() *inferrer {
	return &inferrer{collections: map[string]struct{}{}}
}

// isGeometry reports whether entry i is a valid GeoJSON geometry.
func (in *inferrer) isGeometry(i uint32) bool {
	in.g.reset()
	return in.g.fromTape(&in.tp, i, 0, false) == nil
}

// item checks an item and widens s to hold it. An item refused part way
// may have widened s already: s then holds more than the accepted items
// need, never less.
func (in *inferrer) item(s *schema, item []byte) (itemInfo, error) {
	var info itemInfo
	in.seq++
	fail := func(format string, args ...any) (itemInfo, error) {
		return info, fmt.Errorf("%w: "+format, append([]any{ErrInvalidItem}, args...)...)
	}
	tp := &in.tp
	if err := tp.parse(item); err != nil {
		return fail("%w", err)
	}
	if tp.t[0].kind != '{' {
		return fail("not a JSON object")
	}
	root := s.root
	in.extras = in.extras[:0]
	in.names = in.names[:0]
	end := tp.t[0].next
	for j := uint32(1); j < end; {
		nameTok, val := j, j+1
		j = tp.t[val].next
		name := tp.view(nameTok)
		if slices.Contains(in.names, name) {
			return fail("member %q appears twice", name)
		}
		in.names = append(in.names, name)
		switch name {
		case "id":
			if tp.t[val].kind != '"' {
				return fail("\"id\" is not a string")
			}
			info.id = string(tp.str(val, nil))
			root.lookup("id").observe(kString)
		case "geometry":
			if tp.isNull(val) {
				break
			}
			in.g.reset()
			if err := in.g.fromTape(tp, val, 0, false); err != nil {
				return fail("item %q: %w", info.id, err)
			}
			info.hasGeom = true
			root.lookup("geometry").observe(kGeom)
		case "bbox":
			bbox, err := bboxFromTape(tp, val, in.bbox)
			if err != nil {
				return info, fmt.Errorf("item %q: %w", info.id, err)
			}
			in.bbox = bbox
			if len(bbox) == 6 {
				s.bbox3D = true
			}
		case "collection":
			if tp.t[val].kind == '"' {
				info.collection = string(tp.str(val, nil))
			}
			in.value(root.lookup("collection"), val, 0)
		case "properties":
			switch tp.t[val].kind {
			case 'n':
			case '{':
				if err := in.properties(root, val, &info); err != nil {
					return info, err
				}
			default:
				return fail("item %q: \"properties\" is not an object", info.id)
			}
		default:
			if isCore(name) {
				in.walkValue(root.lookup(name), val, 0)
				break
			}
			// Another top-level member: a property, unless the item also
			// has a property of that name (which may come later).
			in.extras = append(in.extras, member{name: name, val: val})
		}
	}
	if info.id == "" && !slices.Contains(in.names, "id") {
		return fail("no string \"id\"")
	}
	for _, m := range in.extras {
		c := root.child(m.name, childHint(root, m.name))
		if c.seen == in.seq {
			info.dropped++
			continue
		}
		info.hoisted++
		in.value(c, m.val, 0)
	}
	if !info.hasTime && !info.start.IsZero() {
		info.datetime, info.hasTime = info.start, true
	}
	if info.collection != "" {
		in.collections[info.collection] = struct{}{}
	}
	return info, nil
}

// properties widens the root with an item's properties, the object at
// entry obj.
func (in *inferrer) properties(root *node, obj uint32, info *itemInfo) error {
	tp := &in.tp
	end := tp.t[obj].next
	guess := 0
	for j := obj + 1; j < end; {
		nameTok, val := j, j+1
		j = tp.t[val].next
		fi := root.fieldTok(tp, nameTok, guess)
		var c *node
		var name string
		var core bool
		if fi >= 0 {
			f := root.fields[fi]
			c, name, core = f.n, f.name, f.core
			guess = fi + 1
			if c.seen == in.seq {
				return fmt.Errorf("%w: item %q: property %s appears twice", ErrInvalidItem, info.id, tp.raw(nameTok))
			}
		} else {
			name = tp.view(nameTok)
			core = isCore(name)
		}
		if core {
			info.dropped++
			continue
		}
		if c == nil {
			c = root.child(name, childHint(root, name))
		}
		c.seen = in.seq
		if c.hint == hintTime && tp.t[val].kind == '"' {
			t, err := parseTime(tp.raw(val))
			if err == nil {
				switch name {
				case "datetime":
					info.datetime, info.hasTime = t, true
				case "start_datetime":
					info.start = t
				}
			}
			switch {
			case c.kind == kJSON, err != nil:
				c.observe(kString)
			default:
				c.observe(kTime)
			}
			continue
		}
		in.walkValue(c, val, 0)
	}
	return nil
}

// value widens n to hold the value at entry i (a top-level member's).
func (in *inferrer) value(n *node, i uint32, depth int) {
	tp := &in.tp
	k := tp.kind(i)
	switch {
	case n.kind == kJSON:
		n.observe(k)
		return
	case k == kStruct && n.hint == hintGeom:
		if in.isGeometry(i) {
			n.observe(kGeom)
		} else {
			n.toJSON(kStruct)
		}
		return
	case k == kString && n.hint == hintTime:
		if _, err := parseTime(tp.raw(i)); err == nil {
			k = kTime
		}
	case (k == kStruct || k == kList) && depth >= maxInferDepth:
		n.toJSON(k)
		return
	}
	if !n.observe(k) {
		return
	}
	in.walk(n, i, depth)
}

// walk widens n (a struct or list node of the value's kind) with the value
// at entry i.
func (in *inferrer) walk(n *node, i uint32, depth int) {
	tp := &in.tp
	end := tp.t[i].next
	if n.kind == kStruct {
		guess := 0
		for j := i + 1; j < end; {
			nameTok, val := j, j+1
			j = tp.t[val].next
			var c *node
			if fi := n.fieldTok(tp, nameTok, guess); fi >= 0 {
				c = n.fields[fi].n
				guess = fi + 1
			} else {
				s := tp.view(nameTok)
				c = n.child(s, childHint(n, s))
				c.role = childRole(n)
				guess = len(n.fields)
			}
			in.walkValue(c, val, depth+1)
		}
		return
	}
	for j := i + 1; j < end; j = tp.t[j].next {
		in.walkValue(n.elem, j, depth+1)
	}
}

// walkValue widens n with the value at entry i.
func (in *inferrer) walkValue(n *node, i uint32, depth int) {
	tp := &in.tp
	pk := tp.t[i].kind
	if (pk == '{' || pk == '[') && n.kind != kJSON && n.hint != hintGeom && depth < maxInferDepth {
		k := kStruct
		if pk == '[' {
			k = kList
		}
		if n.observe(k) {
			in.walk(n, i, depth)
		}
		return
	}
	k := tp.kind(i)
	switch {
	case n.kind == kJSON:
		n.observe(k)
	case k == kStruct && n.hint == hintGeom:
		if in.isGeometry(i) {
			n.observe(kGeom)
		} else {
			n.toJSON(kStruct)
		}
	case k == kStruct || k == kList: // too deep
		n.toJSON(k)
	case k == kString && n.hint == hintTime:
		if _, err := parseTime(tp.raw(i)); err == nil {
			k = kTime
		}
		n.observe(k)
	default:
		n.observe(k)
	}
}

// fieldTok is the position of the field named by string entry i of tp, or
// -1. It tries guess first: items list their members in much the same
// order, so the field after the previous one found is most often next.
func (n *node) fieldTok(tp *tape, i uint32, guess int) int {
	e := &tp.t[i]
	if e.flags&tEscaped == 0 {
		name := tp.text[e.start+1 : e.end-1]
		if guess < len(n.fields) && n.fields[guess].name == string(name) {
			return guess
		}
		if j, ok := n.index[string(name)]; ok {
			return j
		}
		return -1
	}
	if j, ok := n.index[unquote(tp.text[e.start:e.end])]; ok {
		return j
	}
	return -1
}

// parseInt parses a JSON integer that fits an int64.
func parseInt(raw []byte) (int64, bool) {
	v, err := strconv.ParseInt(bstr(raw), 10, 64)
	return v, err == nil
}

func parseFloat(raw []byte) float64 {
	f, _ := strconv.ParseFloat(bstr(raw), 64)
	return f
}

// parseTime parses a quoted RFC 3339 date-time.
func parseTime(quoted []byte) (time.Time, error) {
	s := quoted[1 : len(quoted)-1]
	if bytes.IndexByte(s, '\\') >= 0 {
		return time.Parse(time.RFC3339Nano, unquote(quoted))
	}
	t, err := time.Parse(time.RFC3339Nano, bstr(s))
	if err != nil {
		return time.Time{}, errors.New("not an RFC 3339 date-time") // err holds s
	}
	return t, nil
}

// decodeOpts are the options of the decoders of item JSON (in
// appendJSONText; items are parsed onto tapes, which allow duplicate names
// too): the members that matter are checked by the inferrer, and a
// repeated nested member keeps its first value.
var decodeOpts = jsontext.AllowDuplicateNames(true)

func newDecoder(b []byte) *jsontext.Decoder {
	return jsontext.NewDecoder(bytes.NewBuffer(b), decodeOpts)
}

// bstr views b as a string for a call that does not keep it.
func bstr(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

func isNull(raw []byte) bool { return len(raw) == 4 && string(raw) == "null" }

// unquote returns the text of a JSON string token.
func unquote(quoted []byte) string {
	if len(quoted) >= 2 && bytes.IndexByte(quoted, '\\') < 0 {
		return string(quoted[1 : len(quoted)-1])
	}
	b, err := jsontext.AppendUnquote(nil, quoted)
	if err != nil {
		return string(quoted)
	}
	return string(b)
}
