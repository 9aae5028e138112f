package stacparquet

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
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

// member is one top-level member of an item, or one property.
type member struct {
	name string
	raw  []byte
}

// itemInfo is what the writer keeps of an item besides its JSON: where it
// goes and what it adds to the file's geo metadata.
type itemInfo struct {
	id         string
	collection string // "" when absent or null
	datetime   time.Time
	start      time.Time // start_datetime, for partitioning items without datetime
	hasTime    bool
	geom       geometry
	hasGeom    bool
	dropped    int // properties dropped for colliding with a top-level member
	hoisted    int // top-level members other than STAC's, stored as properties
}

// parseBBox reads a bbox of 4 or 6 numbers (nil for null).
func parseBBox(raw []byte, dst []float64) ([]float64, error) {
	dst = dst[:0]
	if len(raw) == 0 || isNull(raw) {
		return nil, nil
	}
	if raw[0] != '[' {
		return nil, fmt.Errorf("%w: \"bbox\" is not an array", ErrInvalidItem)
	}
	dec := newDecoder(raw)
	if _, err := dec.ReadToken(); err != nil {
		return nil, fmt.Errorf("%w: bbox: %w", ErrInvalidItem, err)
	}
	for dec.PeekKind() != ']' {
		tok, err := dec.ReadToken()
		if err != nil {
			return nil, fmt.Errorf("%w: bbox: %w", ErrInvalidItem, err)
		}
		if tok.Kind() != '0' || len(dst) == 6 {
			return nil, fmt.Errorf("%w: \"bbox\" is not 4 or 6 numbers", ErrInvalidItem)
		}
		f, err := tok.Float()
		if err != nil || math.IsInf(f, 0) {
			return nil, fmt.Errorf("%w: a \"bbox\" number overflows a float64", ErrInvalidItem)
		}
		dst = append(dst, f)
	}
	if len(dst) != 4 && len(dst) != 6 {
		return nil, fmt.Errorf("%w: \"bbox\" has %d numbers, not 4 or 6", ErrInvalidItem, len(dst))
	}
	return dst, nil
}

// inferrer widens a schema with items.
type inferrer struct {
	dec         *jsontext.Decoder
	sub         *jsontext.Decoder // for values read whole
	bbox        []float64
	collections map[string]struct{} // the collection ids seen
	seq         uint64              // items inferred
	names       []string            // the item's member names
	extras      []member            // its top-level members outside the core
}

func newInferrer() *inferrer {
	return &inferrer{dec: newDecoder(nil), sub: newDecoder(nil), collections: map[string]struct{}{}}
}

// item checks an item and widens s to hold it, in one pass over its JSON.
// An item refused part way may have widened s already: s then holds more
// than the accepted items need, never less.
func (in *inferrer) item(s *schema, item []byte) (itemInfo, error) {
	var info itemInfo
	in.seq++
	dec := in.dec
	resetDecoder(dec, item)
	fail := func(format string, args ...any) (itemInfo, error) {
		return info, fmt.Errorf("%w: "+format, append([]any{ErrInvalidItem}, args...)...)
	}
	tok, err := dec.ReadToken()
	if err != nil {
		return fail("%w", err)
	}
	if tok.Kind() != '{' {
		return fail("not a JSON object")
	}
	root := s.root
	in.extras = in.extras[:0]
	in.names = in.names[:0]
	var bbox []float64
	for dec.PeekKind() != '}' {
		rawName, err := dec.ReadValue()
		if err != nil {
			return fail("%w", err)
		}
		name := unquote(rawName)
		if slices.Contains(in.names, name) {
			return fail("member %q appears twice", name)
		}
		in.names = append(in.names, name)
		switch name {
		case "id", "geometry", "bbox", "collection":
			val, err := dec.ReadValue()
			if err != nil {
				return fail("%w", err)
			}
			switch name {
			case "id":
				if val.Kind() != '"' {
					return fail("\"id\" is not a string")
				}
				info.id = unquote(val)
				root.lookup("id").observe(kString)
			case "geometry":
				if isNull(val) {
					break
				}
				g, err := parseGeometry(val)
				if err != nil {
					return fail("item %q: %w", info.id, err)
				}
				info.geom, info.hasGeom = g, true
				root.lookup("geometry").observe(kGeom)
			case "bbox":
				if bbox, err = parseBBox(val, in.bbox); err != nil {
					return info, fmt.Errorf("item %q: %w", info.id, err)
				}
				in.bbox = bbox
				if len(bbox) == 6 {
					s.bbox3D = true
				}
			case "collection":
				if val.Kind() == '"' {
					info.collection = unquote(val)
				}
				in.value(root.lookup("collection"), val, 0)
			}
		case "properties":
			switch dec.PeekKind() {
			case 'n':
				dec.SkipValue()
			case '{':
				if err := in.properties(dec, root, &info); err != nil {
					return info, err
				}
			default:
				return fail("item %q: \"properties\" is not an object", info.id)
			}
		default:
			if isCore(name) {
				in.walkValue(dec, root.lookup(name), 0)
				break
			}
			// Another top-level member: a property, unless the item also
			// has a property of that name (which may come later).
			val, err := dec.ReadValue()
			if err != nil {
				return fail("%w", err)
			}
			in.extras = append(in.extras, member{name: name, raw: slices.Clone(val)})
		}
	}
	if _, err := dec.ReadToken(); err != nil {
		return fail("%w", err)
	}
	if _, err := dec.ReadToken(); err != io.EOF {
		return fail("more than one JSON value")
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
		in.value(c, m.raw, 0)
	}
	if !info.hasTime && !info.start.IsZero() {
		info.datetime, info.hasTime = info.start, true
	}
	if info.collection != "" {
		in.collections[info.collection] = struct{}{}
	}
	return info, nil
}

// properties widens the root with an item's properties.
func (in *inferrer) properties(dec *jsontext.Decoder, root *node, info *itemInfo) error {
	dec.ReadToken()
	for dec.PeekKind() != '}' {
		rawName, err := dec.ReadValue()
		if err != nil {
			return fmt.Errorf("%w: %w", ErrInvalidItem, err)
		}
		c := root.lookupRaw(rawName)
		if c != nil && c.seen == in.seq {
			return fmt.Errorf("%w: item %q: property %s appears twice", ErrInvalidItem, info.id, rawName)
		}
		var name string
		if c != nil {
			name = root.fields[root.indexRaw(rawName)].name
		} else {
			name = unquote(rawName)
		}
		if isCore(name) {
			info.dropped++
			if err := dec.SkipValue(); err != nil {
				return fmt.Errorf("%w: %w", ErrInvalidItem, err)
			}
			continue
		}
		if c == nil {
			c = root.child(name, childHint(root, name))
		}
		c.seen = in.seq
		if c.hint == hintTime && dec.PeekKind() == '"' {
			val, err := dec.ReadValue()
			if err != nil {
				return fmt.Errorf("%w: %w", ErrInvalidItem, err)
			}
			if t, err := parseTime(val); err == nil {
				switch name {
				case "datetime":
					info.datetime, info.hasTime = t, true
				case "start_datetime":
					info.start = t
				}
			}
			in.value(c, val, 0)
			continue
		}
		in.walkValue(dec, c, 0)
	}
	dec.ReadToken()
	return nil
}

// value widens n to hold the JSON value raw.
func (in *inferrer) value(n *node, raw []byte, depth int) {
	k := rawKind(raw)
	switch {
	case n.kind == kJSON:
		n.observe(k)
		return
	case k == kStruct && n.hint == hintGeom:
		if _, err := parseGeometry(raw); err == nil {
			n.observe(kGeom)
		} else if n.kind != kJSON {
			n.toJSON(kStruct)
		}
		return
	case k == kString && n.hint == hintTime:
		if _, err := parseTime(raw); err == nil {
			k = kTime
		}
	case (k == kStruct || k == kList) && depth >= maxInferDepth:
		if n.kind != kJSON {
			n.toJSON(k)
		}
		return
	}
	if !n.observe(k) {
		return
	}
	dec := in.sub
	resetDecoder(dec, raw)
	in.walk(dec, n, depth)
}

// walk widens n (a struct or list node of the value's kind) with the value
// at the decoder.
func (in *inferrer) walk(dec *jsontext.Decoder, n *node, depth int) {
	if _, err := dec.ReadToken(); err != nil {
		return // the item was checked before: cannot happen
	}
	if n.kind == kStruct {
		for dec.PeekKind() != '}' {
			name, err := dec.ReadValue()
			if err != nil {
				return
			}
			c := n.lookupRaw(name)
			if c == nil {
				s := unquote(name)
				c = n.child(s, childHint(n, s))
				c.role = childRole(n)
			}
			in.walkValue(dec, c, depth+1)
		}
	} else {
		for dec.PeekKind() != ']' {
			in.walkValue(dec, n.elem, depth+1)
		}
	}
	dec.ReadToken()
}

func (in *inferrer) walkValue(dec *jsontext.Decoder, n *node, depth int) {
	pk := dec.PeekKind()
	if (pk == '{' || pk == '[') && n.kind != kJSON && n.hint != hintGeom && depth < maxInferDepth {
		k := kStruct
		if pk == '[' {
			k = kList
		}
		if n.observe(k) {
			in.walk(dec, n, depth)
			return
		}
		dec.SkipValue()
		return
	}
	raw, err := dec.ReadValue()
	if err != nil {
		return
	}
	k := rawKind(raw)
	switch {
	case n.kind == kJSON:
		n.observe(k)
	case k == kStruct && n.hint == hintGeom:
		if _, err := parseGeometry(raw); err == nil {
			n.observe(kGeom)
		} else {
			n.toJSON(kStruct)
		}
	case k == kStruct || k == kList: // too deep
		n.toJSON(k)
	case k == kString && n.hint == hintTime:
		if _, err := parseTime(raw); err == nil {
			k = kTime
		}
		n.observe(k)
	default:
		n.observe(k)
	}
}

// lookupRaw finds a struct field by its quoted JSON name without
// allocating when the name has no escapes.
func (n *node) lookupRaw(quoted []byte) *node {
	if i := n.indexRaw(quoted); i >= 0 {
		return n.fields[i].n
	}
	return nil
}

// indexRaw is the position of the field of that quoted name, or -1.
func (n *node) indexRaw(quoted []byte) int {
	var i int
	var ok bool
	if bytes.IndexByte(quoted, '\\') >= 0 {
		i, ok = n.index[unquote(quoted)]
	} else {
		i, ok = n.index[string(quoted[1:len(quoted)-1])]
	}
	if !ok {
		return -1
	}
	return i
}

// rawKind is the kind of a JSON value from its first bytes.
func rawKind(raw []byte) kind {
	switch raw[0] {
	case 'n':
		return kNull
	case 't', 'f':
		return kBool
	case '"':
		return kString
	case '{':
		return kStruct
	case '[':
		return kList
	}
	if isIntText(raw) {
		if _, ok := parseInt(raw); ok {
			return kInt
		}
	}
	if math.IsInf(parseFloat(raw), 0) {
		return kJSON // beyond float64: kept as its text
	}
	return kFloat
}

// isIntText reports whether a JSON number has neither fraction nor
// exponent.
func isIntText(raw []byte) bool {
	return bytes.IndexAny(raw, ".eE") < 0
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

// decodeOpts are the options of every decoder of item JSON. Duplicate
// object names are not checked by jsontext (that costs a third of the
// parsing): the members that matter are checked here (scanItem), and a
// repeated nested member keeps its first value.
var decodeOpts = jsontext.AllowDuplicateNames(true)

func newDecoder(b []byte) *jsontext.Decoder {
	return jsontext.NewDecoder(bytes.NewBuffer(b), decodeOpts)
}

func resetDecoder(d *jsontext.Decoder, b []byte) {
	d.Reset(bytes.NewBuffer(b), decodeOpts)
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
