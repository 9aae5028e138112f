package stacparquet

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
)

// WKB geometry type codes (ISO 19125 / OGC simple features).
const (
	wkbPoint              = 1
	wkbLineString         = 2
	wkbPolygon            = 3
	wkbMultiPoint         = 4
	wkbMultiLineString    = 5
	wkbMultiPolygon       = 6
	wkbGeometryCollection = 7
)

// maxGeometryDepth bounds GeometryCollection nesting on the way in and the
// way out, so hostile input cannot recurse without limit.
const maxGeometryDepth = 16

// geoJSONTypes maps a GeoJSON "type" to its WKB code, and back.
var geoJSONTypes = [...]string{
	wkbPoint:              "Point",
	wkbLineString:         "LineString",
	wkbPolygon:            "Polygon",
	wkbMultiPoint:         "MultiPoint",
	wkbMultiLineString:    "MultiLineString",
	wkbMultiPolygon:       "MultiPolygon",
	wkbGeometryCollection: "GeometryCollection",
}

// coordDepth is how deeply the "coordinates" of each type nest arrays
// around a position (0: the position itself).
var coordDepth = [...]int{
	wkbPoint:           0,
	wkbLineString:      1,
	wkbPolygon:         2,
	wkbMultiPoint:      1,
	wkbMultiLineString: 2,
	wkbMultiPolygon:    3,
}

func geometryCode(name string) uint32 {
	for code, n := range geoJSONTypes {
		if n != "" && n == name {
			return uint32(code)
		}
	}
	return 0
}

// geometry is a parsed GeoJSON geometry: positions flat (dim numbers
// each) and, for the nested types, the array lengths in pre-order. A
// Polygon's counts are [rings, points of ring 1, points of ring 2, ...]; a
// MultiPolygon's [polygons, rings of 1, points of 1.1, ..., rings of 2, ...].
type geometry struct {
	code     uint32
	dim      int // 2 or 3; 0 while no position was seen
	pos      []float64
	counts   []int
	children []geometry // GeometryCollection
}

// typeName is the GeoParquet geometry_types name: the GeoJSON type, with
// " Z" appended when the coordinates are 3D.
func (g *geometry) typeName() string {
	name := geoJSONTypes[g.code]
	if g.dim == 3 {
		name += " Z"
	}
	return name
}

// errGeometry is wrapped by every error of parseGeometry.
var errGeometry = errors.New("invalid GeoJSON geometry")

// parseGeometry parses a GeoJSON geometry object. Members other than
// "type", "coordinates" and "geometries" are ignored (they have no place in
// WKB). Positions with more than 3 numbers keep the first 3; a geometry
// whose positions mix 2 and 3 numbers is refused.
func parseGeometry(raw []byte) (geometry, error) {
	var g geometry
	var tp tape
	if err := tp.parse(raw); err != nil {
		return g, fmt.Errorf("%w: %w", errGeometry, err)
	}
	err := g.fromTape(&tp, 0, 0, true)
	return g, err
}

// reset empties g for reuse, keeping its buffers.
func (g *geometry) reset() {
	g.code, g.dim = 0, 0
	g.pos, g.counts, g.children = g.pos[:0], g.counts[:0], g.children[:0]
}

// fromTape parses the geometry object at entry i of tp into g (empty).
// When values is false the coordinates are checked but not kept (g.pos
// stays empty): that is enough to know whether the object is a geometry.
func (g *geometry) fromTape(tp *tape, i uint32, depth int, values bool) error {
	if depth > maxGeometryDepth {
		return fmt.Errorf("%w: GeometryCollection nested more than %d deep", errGeometry, maxGeometryDepth)
	}
	e := tp.t[i]
	if e.kind != '{' {
		return fmt.Errorf("%w: not a JSON object", errGeometry)
	}
	const none = ^uint32(0)
	var typ []byte
	var buf [32]byte
	coords, geoms := none, none
	for j := i + 1; j < e.next; {
		name, v := j, j+1
		j = tp.t[v].next
		switch string(tp.str(name, buf[:0])) {
		case "type":
			if tp.t[v].kind != '"' {
				return fmt.Errorf("%w: \"type\" is not a string", errGeometry)
			}
			typ = tp.str(v, nil)
		case "coordinates":
			coords = v
		case "geometries":
			geoms = v
		}
	}
	g.code = geometryCode(string(typ))
	switch {
	case g.code == 0:
		return fmt.Errorf("%w: unknown type %q", errGeometry, typ)
	case g.code == wkbGeometryCollection:
		if geoms == none {
			return fmt.Errorf("%w: GeometryCollection without \"geometries\"", errGeometry)
		}
		if err := g.collectionFromTape(tp, geoms, depth, values); err != nil {
			return err
		}
	case coords == none:
		return fmt.Errorf("%w: %s without \"coordinates\"", errGeometry, typ)
	default:
		if err := g.coordsFromTape(tp, coords, coordDepth[g.code], values); err != nil {
			return err
		}
		if g.code == wkbPolygon || g.code == wkbMultiPolygon {
			if err := g.checkRings(); err != nil {
				return err
			}
		}
	}
	if g.dim == 0 {
		g.dim = 2 // no position at all
	}
	return nil
}

// addDim notes a position or child geometry of dim numbers and reports
// whether that agrees with those before.
func (g *geometry) addDim(dim int) bool {
	if g.dim == 0 {
		g.dim = dim
	}
	return g.dim == dim
}

func (g *geometry) collectionFromTape(tp *tape, i uint32, depth int, values bool) error {
	e := tp.t[i]
	if e.kind != '[' {
		return fmt.Errorf("%w: \"geometries\" is not an array", errGeometry)
	}
	for j := i + 1; j < e.next; j = tp.t[j].next {
		var child geometry
		if err := child.fromTape(tp, j, depth+1, values); err != nil {
			return err
		}
		if !g.addDim(child.dim) {
			return fmt.Errorf("%w: a GeometryCollection mixes 2D and 3D geometries", errGeometry)
		}
		g.children = append(g.children, child)
	}
	return nil
}

// coordsFromTape reads one nested coordinates array of the given depth.
func (g *geometry) coordsFromTape(tp *tape, i uint32, depth int, values bool) error {
	e := tp.t[i]
	if e.kind != '[' {
		return fmt.Errorf("%w: coordinates are not nested arrays of the type's depth", errGeometry)
	}
	if depth == 0 {
		n := 0
		for j := i + 1; j < e.next; j = tp.t[j].next {
			if tp.t[j].kind != '0' {
				return fmt.Errorf("%w: a position holds a non-number", errGeometry)
			}
			if n < 3 {
				if !tp.finite(j) {
					return fmt.Errorf("%w: a coordinate overflows a float64", errGeometry)
				}
				if values {
					g.pos = append(g.pos, tp.float(j))
				}
			}
			n++
		}
		if n == 0 && g.code == wkbPoint {
			return nil // an empty Point
		}
		if n < 2 {
			return fmt.Errorf("%w: a position has fewer than 2 numbers", errGeometry)
		}
		if !g.addDim(min(n, 3)) {
			return fmt.Errorf("%w: positions mix 2 and 3 dimensions", errGeometry)
		}
		return nil
	}
	at := len(g.counts)
	g.counts = append(g.counts, 0)
	n := 0
	for j := i + 1; j < e.next; j = tp.t[j].next {
		if err := g.coordsFromTape(tp, j, depth-1, values); err != nil {
			return err
		}
		n++
	}
	g.counts[at] = n
	return nil
}

// checkRings refuses a polygon ring of fewer than 4 positions (RFC 7946
// 3.1.6): WKB readers reject them.
func (g *geometry) checkRings() error {
	i := 0
	// each calls fn for every element of the next counted array.
	each := func(fn func() error) error {
		n := g.counts[i]
		i++
		for range n {
			if err := fn(); err != nil {
				return err
			}
		}
		return nil
	}
	ring := func() error {
		if g.counts[i] < 4 {
			return fmt.Errorf("%w: a polygon ring has %d positions (at least 4 are needed)", errGeometry, g.counts[i])
		}
		i++
		return nil
	}
	polygon := func() error { return each(ring) }
	if g.code == wkbPolygon {
		return polygon()
	}
	return each(polygon)
}

// bounds extends b with the geometry's coordinates.
func (g *geometry) bounds(b *bounds) {
	if g.code == wkbGeometryCollection {
		for i := range g.children {
			g.children[i].bounds(b)
		}
		return
	}
	for i := 0; i+g.dim <= len(g.pos); i += g.dim {
		b.add(g.pos[i:i+g.dim], g.dim)
	}
}

// appendWKB appends the geometry as little-endian ISO WKB.
func (g *geometry) appendWKB(b []byte) []byte {
	code := g.code
	if g.dim == 3 {
		code += 1000
	}
	b = append(b, 1)
	b = binary.LittleEndian.AppendUint32(b, code)
	if g.code == wkbGeometryCollection {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(g.children)))
		for i := range g.children {
			b = g.children[i].appendWKB(b)
		}
		return b
	}
	w := wkbWriter{b: b, g: g}
	switch g.code {
	case wkbPoint:
		if len(g.pos) == 0 {
			for range g.dim {
				w.b = binary.LittleEndian.AppendUint64(w.b, math.Float64bits(math.NaN()))
			}
		} else {
			w.points(1)
		}
	case wkbLineString:
		w.counted()
	case wkbPolygon:
		w.polygon()
	case wkbMultiPoint:
		n := w.count()
		for range n {
			w.header(wkbPoint)
			w.points(1)
		}
	case wkbMultiLineString:
		n := w.count()
		for range n {
			w.header(wkbLineString)
			w.counted()
		}
	case wkbMultiPolygon:
		n := w.count()
		for range n {
			w.header(wkbPolygon)
			w.polygon()
		}
	}
	return w.b
}

type wkbWriter struct {
	b   []byte
	g   *geometry
	ci  int
	pos int
}

func (w *wkbWriter) count() int {
	n := w.g.counts[w.ci]
	w.ci++
	w.b = binary.LittleEndian.AppendUint32(w.b, uint32(n))
	return n
}

func (w *wkbWriter) header(code uint32) {
	if w.g.dim == 3 {
		code += 1000
	}
	w.b = append(w.b, 1)
	w.b = binary.LittleEndian.AppendUint32(w.b, code)
}

func (w *wkbWriter) points(n int) {
	for range n * w.g.dim {
		w.b = binary.LittleEndian.AppendUint64(w.b, math.Float64bits(w.g.pos[w.pos]))
		w.pos++
	}
}

func (w *wkbWriter) counted() { w.points(w.count()) }

func (w *wkbWriter) polygon() {
	rings := w.count()
	for range rings {
		w.counted()
	}
}

// bounds is a running bounding box; z is tracked only over 3D positions.
type bounds struct {
	minX, minY, minZ, maxX, maxY, maxZ float64
	n, nz                              int
}

func (b *bounds) add(p []float64, dim int) {
	x, y := p[0], p[1]
	if b.n == 0 {
		b.minX, b.maxX, b.minY, b.maxY = x, x, y, y
	} else {
		b.minX, b.maxX = min(b.minX, x), max(b.maxX, x)
		b.minY, b.maxY = min(b.minY, y), max(b.maxY, y)
	}
	b.n++
	if dim == 3 && !math.IsNaN(p[2]) {
		z := p[2]
		if b.nz == 0 {
			b.minZ, b.maxZ = z, z
		} else {
			b.minZ, b.maxZ = min(b.minZ, z), max(b.maxZ, z)
		}
		b.nz++
	}
}

func (b *bounds) merge(o *bounds) {
	if o.n > 0 {
		b.add([]float64{o.minX, o.minY}, 2)
		b.add([]float64{o.maxX, o.maxY}, 2)
		b.n += o.n - 2
	}
	if o.nz > 0 {
		if b.nz == 0 {
			b.minZ, b.maxZ = o.minZ, o.maxZ
		} else {
			b.minZ, b.maxZ = min(b.minZ, o.minZ), max(b.maxZ, o.maxZ)
		}
		b.nz += o.nz
	}
}

// errWKB is wrapped by every error of decodeWKB.
var errWKB = errors.New("invalid WKB geometry")

// wkbReader decodes WKB (ISO and extended, either byte order, with Z
// and/or M) into GeoJSON text.
type wkbReader struct {
	b   []byte
	off int
}

// appendGeoJSON appends the GeoJSON form of a WKB geometry. Z is kept as a
// third number, M as a fourth (after a NaN z where the geometry has M but
// no Z); NaN coordinates are written as null, which GeoJSON readers treat as
// absent.
func appendGeoJSON(dst, wkb []byte) ([]byte, error) {
	r := wkbReader{b: wkb}
	out, err := r.geometry(dst, 0)
	if err != nil {
		return dst, err
	}
	if r.off != len(wkb) {
		return dst, fmt.Errorf("%w: %d bytes after the geometry", errWKB, len(wkb)-r.off)
	}
	return out, nil
}

type wkbHeader struct {
	order binary.ByteOrder
	code  uint32
	dim   int // numbers per position
}

func (r *wkbReader) header() (wkbHeader, error) {
	if r.off+5 > len(r.b) {
		return wkbHeader{}, fmt.Errorf("%w: truncated", errWKB)
	}
	var h wkbHeader
	switch r.b[r.off] {
	case 0:
		h.order = binary.BigEndian
	case 1:
		h.order = binary.LittleEndian
	default:
		return h, fmt.Errorf("%w: byte order %d", errWKB, r.b[r.off])
	}
	t := h.order.Uint32(r.b[r.off+1:])
	r.off += 5
	z := t&0x80000000 != 0
	m := t&0x40000000 != 0
	srid := t&0x20000000 != 0
	t &^= 0xE0000000
	switch t / 1000 {
	case 1:
		z = true
	case 2:
		m = true
	case 3:
		z, m = true, true
	}
	h.code = t % 1000
	if h.code < wkbPoint || h.code > wkbGeometryCollection || t >= 4000 {
		return h, fmt.Errorf("%w: geometry type %d", errWKB, t)
	}
	if srid {
		if r.off+4 > len(r.b) {
			return h, fmt.Errorf("%w: truncated", errWKB)
		}
		r.off += 4
	}
	h.dim = 2
	if z {
		h.dim++
	}
	if m {
		h.dim++
	}
	return h, nil
}

func (r *wkbReader) uint32(h wkbHeader) (int, error) {
	if r.off+4 > len(r.b) {
		return 0, fmt.Errorf("%w: truncated", errWKB)
	}
	n := h.order.Uint32(r.b[r.off:])
	r.off += 4
	return int(n), nil
}

func (r *wkbReader) count(h wkbHeader, each int) (int, error) {
	n, err := r.uint32(h)
	if err != nil {
		return 0, err
	}
	// Each element needs at least `each` more bytes: a hostile count cannot
	// make us loop (or allocate) beyond the input.
	if each > 0 && n > (len(r.b)-r.off)/each {
		return 0, fmt.Errorf("%w: count %d exceeds the data", errWKB, n)
	}
	return n, nil
}

func (r *wkbReader) geometry(dst []byte, depth int) ([]byte, error) {
	if depth > maxGeometryDepth {
		return dst, fmt.Errorf("%w: nested more than %d deep", errWKB, maxGeometryDepth)
	}
	h, err := r.header()
	if err != nil {
		return dst, err
	}
	dst = append(dst, `{"type":"`...)
	dst = append(dst, geoJSONTypes[h.code]...)
	if h.code == wkbGeometryCollection {
		dst = append(dst, `","geometries":[`...)
		n, err := r.count(h, 5)
		if err != nil {
			return dst, err
		}
		for i := range n {
			if i > 0 {
				dst = append(dst, ',')
			}
			if dst, err = r.geometry(dst, depth+1); err != nil {
				return dst, err
			}
		}
		return append(dst, "]}"...), nil
	}
	dst = append(dst, `","coordinates":`...)
	switch h.code {
	case wkbPoint:
		if dst, err = r.point(dst, h, true); err != nil {
			return dst, err
		}
	case wkbLineString:
		if dst, err = r.points(dst, h); err != nil {
			return dst, err
		}
	case wkbPolygon:
		if dst, err = r.rings(dst, h); err != nil {
			return dst, err
		}
	default: // the Multi* types: each part is a geometry with its own header
		part := h.code - 3
		n, err := r.count(h, 5)
		if err != nil {
			return dst, err
		}
		dst = append(dst, '[')
		for i := range n {
			if i > 0 {
				dst = append(dst, ',')
			}
			ph, err := r.header()
			if err != nil {
				return dst, err
			}
			if ph.code != part {
				return dst, fmt.Errorf("%w: a %s holds a %s", errWKB, geoJSONTypes[h.code], geoJSONTypes[ph.code])
			}
			switch part {
			case wkbPoint:
				dst, err = r.point(dst, ph, false)
			case wkbLineString:
				dst, err = r.points(dst, ph)
			case wkbPolygon:
				dst, err = r.rings(dst, ph)
			}
			if err != nil {
				return dst, err
			}
		}
		dst = append(dst, ']')
	}
	return append(dst, '}'), nil
}

// point appends one position. An all-NaN point is WKB's empty point: as a
// Point it is written as [] (GeoJSON's empty Point).
func (r *wkbReader) point(dst []byte, h wkbHeader, emptyOK bool) ([]byte, error) {
	if r.off+8*h.dim > len(r.b) {
		return dst, fmt.Errorf("%w: truncated", errWKB)
	}
	allNaN := true
	for i := range h.dim {
		if !math.IsNaN(math.Float64frombits(h.order.Uint64(r.b[r.off+8*i:]))) {
			allNaN = false
		}
	}
	if allNaN && emptyOK {
		r.off += 8 * h.dim
		return append(dst, "[]"...), nil
	}
	dst = append(dst, '[')
	for i := range h.dim {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendFloat(dst, math.Float64frombits(h.order.Uint64(r.b[r.off:])))
		r.off += 8
	}
	return append(dst, ']'), nil
}

func (r *wkbReader) points(dst []byte, h wkbHeader) ([]byte, error) {
	n, err := r.count(h, 8*h.dim)
	if err != nil {
		return dst, err
	}
	dst = append(dst, '[')
	for i := range n {
		if i > 0 {
			dst = append(dst, ',')
		}
		if dst, err = r.point(dst, h, false); err != nil {
			return dst, err
		}
	}
	return append(dst, ']'), nil
}

func (r *wkbReader) rings(dst []byte, h wkbHeader) ([]byte, error) {
	n, err := r.count(h, 4)
	if err != nil {
		return dst, err
	}
	dst = append(dst, '[')
	for i := range n {
		if i > 0 {
			dst = append(dst, ',')
		}
		if dst, err = r.points(dst, h); err != nil {
			return dst, err
		}
	}
	return append(dst, ']'), nil
}

// wkbBounds returns the 2D bounds of a WKB geometry (ok false when it has
// no position or cannot be read).
func wkbBounds(wkb []byte) (b bounds, ok bool) {
	r := wkbReader{b: wkb}
	if err := r.walk(0, func(x, y float64) { b.add([]float64{x, y}, 2) }, nil); err != nil {
		return bounds{}, false
	}
	return b, b.n > 0
}

// The kinds of point sequence walk reports.
const (
	seqLine  = iota // a LineString or a part of a MultiLineString
	seqOuter        // the first ring of a polygon
	seqInner        // a later ring (a hole)
)

// walk visits every position of a WKB geometry (fn, NaN positions left
// out) and, when seq is not nil, every line and polygon ring as flat x,y
// pairs.
func (r *wkbReader) walk(depth int, fn func(x, y float64), seq func(kind int, xy []float64)) error {
	if depth > maxGeometryDepth {
		return fmt.Errorf("%w: nested more than %d deep", errWKB, maxGeometryDepth)
	}
	h, err := r.header()
	if err != nil {
		return err
	}
	readPoint := func() (x, y float64, err error) {
		if r.off+8*h.dim > len(r.b) {
			return 0, 0, fmt.Errorf("%w: truncated", errWKB)
		}
		x = math.Float64frombits(h.order.Uint64(r.b[r.off:]))
		y = math.Float64frombits(h.order.Uint64(r.b[r.off+8:]))
		r.off += 8 * h.dim
		return x, y, nil
	}
	readSeq := func(kind int) error {
		n, err := r.count(h, 8*h.dim)
		if err != nil {
			return err
		}
		var xy []float64
		if seq != nil {
			xy = make([]float64, 0, 2*n)
		}
		for range n {
			x, y, err := readPoint()
			if err != nil {
				return err
			}
			if !math.IsNaN(x) && !math.IsNaN(y) {
				fn(x, y)
			}
			if seq != nil {
				xy = append(xy, x, y)
			}
		}
		if seq != nil {
			seq(kind, xy)
		}
		return nil
	}
	switch h.code {
	case wkbPoint:
		x, y, err := readPoint()
		if err != nil {
			return err
		}
		if !math.IsNaN(x) && !math.IsNaN(y) {
			fn(x, y)
		}
	case wkbLineString:
		return readSeq(seqLine)
	case wkbPolygon:
		n, err := r.count(h, 4)
		if err != nil {
			return err
		}
		for i := range n {
			kind := seqInner
			if i == 0 {
				kind = seqOuter
			}
			if err := readSeq(kind); err != nil {
				return err
			}
		}
	default:
		n, err := r.count(h, 5)
		if err != nil {
			return err
		}
		for range n {
			if err := r.walk(depth+1, fn, seq); err != nil {
				return err
			}
		}
	}
	return nil
}

// appendFloat formats a float64 as JSON: the shortest text that reads back
// as the same float64, in the ECMAScript style encoding/json uses (exponent
// only below 1e-6 or from 1e21). NaN and infinities, which JSON cannot
// hold, become null.
func appendFloat(b []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, "null"...)
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// e-07 → e-7, as ECMAScript writes it.
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}
