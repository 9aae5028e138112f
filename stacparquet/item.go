package stacparquet

import (
	"fmt"
	"math"
	"time"

	"github.com/parquet-go/parquet-go"
)

// flat is the value of a leaf that has one value per row (a top-level
// column, or a field of a top-level struct); ok is false when it is null.
func (a *assembler) flat(n *rnode) (parquet.Value, bool) {
	if n == nil || n.kind != rLeaf || n.col >= len(a.cols) || len(a.cols[n.col]) == 0 {
		return parquet.Value{}, false
	}
	v := a.cols[n.col][0]
	return v, v.DefinitionLevel() >= n.def && !v.IsNull()
}

// leafTime reads a timestamp (or RFC 3339 text) leaf value.
func leafTime(n *rnode, v parquet.Value) (time.Time, bool) {
	switch n.conv {
	case cTimeMilli:
		return time.UnixMilli(v.Int64()), true
	case cTimeMicro:
		return time.UnixMicro(v.Int64()), true
	case cTimeNano:
		return time.Unix(0, v.Int64()), true
	case cInt96:
		return int96Time(v.Int96()), true
	case cString:
		t, err := time.Parse(time.RFC3339Nano, string(v.ByteArray()))
		return t, err == nil
	}
	return time.Time{}, false
}

func (a *assembler) flatTime(n *rnode) time.Time {
	if v, ok := a.flat(n); ok {
		if t, ok := leafTime(n, v); ok {
			return t
		}
	}
	return time.Time{}
}

func (a *assembler) flatString(n *rnode) (string, bool) {
	v, ok := a.flat(n)
	if !ok || n.conv != cString {
		return "", false
	}
	return string(v.ByteArray()), true
}

// bboxNames are the fields of a bbox struct, in the order of a bbox array.
var bboxNames = [...]string{"xmin", "ymin", "zmin", "xmax", "ymax", "zmax"}

// itemBBox is the bbox of the row (4 or 6 numbers), from the bbox column
// (a struct, or a list in older files); ok is false when the row has none.
func (fl *file) itemBBox(a *assembler, dst []float64) ([]float64, bool) {
	b := fl.bbox
	dst = dst[:0]
	if b == nil {
		return nil, false
	}
	switch b.kind {
	case rStruct:
		var vals [6]float64
		var have [6]bool
		for i, name := range bboxNames {
			if c := b.child(name); c != nil {
				if v, ok := a.flat(c); ok {
					vals[i], have[i] = leafDouble(c, v)
				}
			}
		}
		if !have[0] || !have[1] || !have[3] || !have[4] {
			return nil, false
		}
		if have[2] && have[5] {
			return append(dst, vals[:]...), true
		}
		return append(dst, vals[0], vals[1], vals[3], vals[4]), true
	case rList:
		if b.elem.kind != rLeaf || b.elem.col >= len(a.cols) {
			return nil, false
		}
		for _, v := range a.cols[b.elem.col] {
			f, ok := leafDouble(b.elem, v)
			if !ok || v.DefinitionLevel() < b.elem.def {
				return nil, false
			}
			dst = append(dst, f)
		}
		if len(dst) != 4 && len(dst) != 6 {
			return nil, false
		}
		return dst, true
	}
	return nil, false
}

// rowMatches applies the filter to the loaded row.
func (fl *file) rowMatches(a *assembler, f *Filter, r *rect) bool {
	if len(f.IDs) > 0 {
		id, ok := a.flatString(fl.id)
		if !wantString(f.IDs, id, ok) {
			return false
		}
	}
	if len(f.Collections) > 0 {
		c, ok := a.flatString(fl.coll)
		if fl.coll == nil {
			c, ok = fl.hiveValue("collection")
		}
		if !wantString(f.Collections, c, ok) {
			return false
		}
	}
	if f.hasTime() && !f.timeMatch(a.flatTime(fl.dt), a.flatTime(fl.start), a.flatTime(fl.end)) {
		return false
	}
	if r == nil {
		return true
	}
	var buf [6]float64
	gv, hasGeom := a.flat(fl.geom)
	b, ok := fl.itemBBox(a, buf[:0])
	if !ok {
		if !hasGeom {
			return false
		}
		gb, ok := wkbBounds(gv.ByteArray())
		if !ok {
			return false
		}
		b = append(buf[:0], gb.minX, gb.minY, gb.maxX, gb.maxY)
	}
	if !r.matchBBox(b) {
		return false
	}
	crosses := (len(b) == 4 && b[0] > b[2]) || (len(b) == 6 && b[0] > b[3])
	if hasGeom && !crosses {
		if hit, ok := r.geometryHits(gv.ByteArray()); ok && !hit {
			return false
		}
	}
	return true
}

func (fl *file) hiveValue(key string) (string, bool) {
	for _, kv := range fl.hive {
		if kv[0] == key && kv[1] != hiveNull {
			return kv[1], true
		}
	}
	return "", false
}

// skipRowGroup reports whether the statistics of row group i show that
// none of its rows can match.
func (fl *file) skipRowGroup(i int, f *Filter, r *rect) bool {
	strings := func(n *rnode, want []string) bool {
		if len(want) == 0 || n == nil || n.conv != cString {
			return false
		}
		lo, hi, nulls, rows, ok := fl.stat(i, n.col)
		if nulls == rows && rows > 0 {
			return true // all null: nothing has one of the wanted values
		}
		return ok && !anyInRange(want, lo, hi)
	}
	if strings(fl.id, f.IDs) || strings(fl.coll, f.Collections) {
		return true
	}
	if f.hasTime() && fl.skipTime(i, f) {
		return true
	}
	if r != nil && fl.skipBBox(i, r) {
		return true
	}
	return false
}

// skipTime: every row's time (datetime, or the start_datetime to
// end_datetime interval) is outside the filter's.
func (fl *file) skipTime(i int, f *Filter) bool {
	var lo, hi time.Time
	any := false
	for _, n := range []*rnode{fl.dt, fl.start, fl.end} {
		if n == nil {
			continue
		}
		smin, smax, nulls, rows, ok := fl.stat(i, n.col)
		if nulls == rows {
			continue // no values: adds nothing to the range
		}
		if !ok || n.pkind != parquet.Int64 {
			return false
		}
		tmin, ok1 := statTime(n, smin)
		tmax, ok2 := statTime(n, smax)
		if !ok1 || !ok2 {
			return false
		}
		if !any || tmin.Before(lo) {
			lo = tmin
		}
		if !any || tmax.After(hi) {
			hi = tmax
		}
		any = true
	}
	if !any {
		// No row has a time: none matches a datetime filter.
		return fl.dt != nil || fl.start != nil || fl.end != nil
	}
	return (!f.End.IsZero() && lo.After(f.End)) || (!f.Start.IsZero() && hi.Before(f.Start))
}

func statTime(n *rnode, b []byte) (time.Time, bool) {
	if len(b) != 8 {
		return time.Time{}, false
	}
	v := int64(b[0]) | int64(b[1])<<8 | int64(b[2])<<16 | int64(b[3])<<24 | int64(b[4])<<32 | int64(b[5])<<40 | int64(b[6])<<48 | int64(b[7])<<56
	switch n.conv {
	case cTimeMilli:
		return time.UnixMilli(v), true
	case cTimeMicro:
		return time.UnixMicro(v), true
	case cTimeNano:
		return time.Unix(0, v), true
	}
	return time.Time{}, false
}

// skipBBox: no row's bbox can intersect r.
func (fl *file) skipBBox(i int, r *rect) bool {
	b := fl.bbox
	if b == nil || b.kind != rStruct {
		return false
	}
	type mm struct {
		lo, hi float64
		ok     bool
	}
	get := func(name string) mm {
		c := b.child(name)
		if c == nil || c.kind != rLeaf || (c.conv != cDouble && c.conv != cFloat) {
			return mm{}
		}
		lo, hi, nulls, _, ok := fl.stat(i, c.col)
		if !ok {
			return mm{}
		}
		if nulls > 0 {
			// Rows without a bbox are matched by their geometry's bounds,
			// which the statistics do not cover.
			if _, _, gnulls, _, _ := fl.stat(i, fl.geom.col); gnulls < nulls {
				return mm{}
			}
		}
		l, ok1 := statDouble(c.pkind, lo)
		h, ok2 := statDouble(c.pkind, hi)
		if !ok1 || !ok2 || math.IsNaN(l) || math.IsNaN(h) {
			return mm{}
		}
		return mm{l, h, true}
	}
	ymin, ymax := get("ymin"), get("ymax")
	if ymin.ok && ymin.lo > r.n {
		return true
	}
	if ymax.ok && ymax.hi < r.s {
		return true
	}
	xmin, xmax := get("xmin"), get("xmax")
	if !xmin.ok || !xmax.ok {
		return false
	}
	// A bbox crossing the antimeridian has xmin > xmax, which the x
	// statistics cannot tell apart: use them only when no row crosses.
	if !fl.noCrossing && xmin.hi > xmax.lo {
		return false
	}
	for _, p := range r.parts() {
		if !(xmin.lo > p.e || xmax.hi < p.w) {
			return false
		}
	}
	return true
}

// The top-level members of an item, in the order they are written back.
var itemOrder = [...]string{"type", "stac_version", "stac_extensions", "id", "geometry", "bbox"}
var itemTail = [...]string{"links", "assets", "collection"}

// appendItem appends the JSON of the loaded row.
func (fl *file) appendItem(dst []byte, a *assembler) ([]byte, error) {
	dst = append(dst, '{')
	first := true
	sep := func() {
		if !first {
			dst = append(dst, ',')
		}
		first = false
	}
	member := func(n *rnode) {
		if n == nil {
			return
		}
		var ok bool
		if dst, ok = a.member(dst, n, first); ok {
			first = false
		}
	}
	for _, name := range itemOrder {
		n := fl.byName[name]
		switch name {
		case "geometry":
			sep()
			dst = append(dst, `"geometry":`...)
			var ok bool
			if n := fl.geom; n != nil {
				dst, ok = a.value(dst, n)
			}
			if !ok {
				dst = append(dst, "null"...)
			}
		case "bbox":
			var buf [6]float64
			if b, ok := fl.itemBBox(a, buf[:0]); ok {
				sep()
				dst = append(dst, `"bbox":[`...)
				for i, v := range b {
					if i > 0 {
						dst = append(dst, ',')
					}
					dst = appendFloat(dst, v)
				}
				dst = append(dst, ']')
			}
		default:
			member(n)
		}
	}
	sep()
	dst = append(dst, `"properties":{`...)
	pfirst := true
	for _, n := range fl.root {
		if isCore(n.name) || n == fl.geom || n == fl.bbox {
			continue
		}
		var ok bool
		if dst, ok = a.member(dst, n, pfirst); !ok && n.name == "datetime" {
			// Required by STAC, null allowed.
			if !pfirst {
				dst = append(dst, ',')
			}
			dst = append(dst, `"datetime":null`...)
			ok = true
		}
		if ok {
			pfirst = false
		}
	}
	for _, kv := range fl.hive {
		if kv[0] == "collection" || kv[0] == "year" || kv[0] == "month" || fl.byName[kv[0]] != nil || kv[1] == hiveNull {
			continue
		}
		// A partition key the files do not hold as a column (as Spark
		// writes them): a property.
		if !pfirst {
			dst = append(dst, ',')
		}
		dst = appendString(dst, kv[0])
		dst = append(dst, ':')
		dst = appendString(dst, kv[1])
		pfirst = false
	}
	dst = append(dst, '}')
	for _, name := range itemTail {
		if name == "collection" && fl.byName[name] == nil {
			if c, ok := fl.hiveValue("collection"); ok {
				sep()
				dst = append(dst, `"collection":`...)
				dst = appendString(dst, c)
			}
			continue
		}
		member(fl.byName[name])
	}
	dst = append(dst, '}')
	if a.err != nil {
		return dst, fmt.Errorf("corrupt row: %w", a.err)
	}
	return dst, nil
}
