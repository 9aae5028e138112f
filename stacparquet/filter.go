package stacparquet

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"time"
)

// Filter selects the items a Reader yields. The zero Filter selects all.
// Conditions combine with AND, the values within one condition with OR, as
// in a STAC API search.
type Filter struct {
	// BBox, when set, is [west, south, east, north] or [west, south,
	// minz, east, north, maxz] (WGS84 degrees; west > east crosses the
	// antimeridian): an item matches when its geometry intersects it (its
	// bbox, for items without a geometry or whose bbox crosses the
	// antimeridian).
	BBox []float64
	// Start and End bound the item's datetime, or its start_datetime and
	// end_datetime interval, inclusively; a zero time leaves that end open.
	Start, End time.Time
	// Collections, when not empty, are the collection ids an item must
	// have one of.
	Collections []string
	// IDs, when not empty, are the item ids to select.
	IDs []string
	// MaxItems, when > 0, stops after that many items.
	MaxItems int
}

// Validate checks that the filter can be applied.
func (f *Filter) Validate() error {
	switch len(f.BBox) {
	case 0, 4, 6:
	default:
		return fmt.Errorf("stacparquet: a bbox has 4 or 6 numbers, not %d", len(f.BBox))
	}
	for _, v := range f.BBox {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return errors.New("stacparquet: the bbox holds a number that is not finite")
		}
	}
	if r := f.rect(); r != nil && r.s > r.n {
		return errors.New("stacparquet: the bbox's south is above its north")
	}
	if !f.Start.IsZero() && !f.End.IsZero() && f.End.Before(f.Start) {
		return errors.New("stacparquet: the datetime interval ends before it starts")
	}
	if f.MaxItems < 0 {
		return errors.New("stacparquet: max items is negative")
	}
	return nil
}

// rect is the filter's bbox, nil when there is none.
type rect struct {
	w, s, e, n float64
	hasZ       bool
	zmin, zmax float64
}

func (f *Filter) rect() *rect {
	switch len(f.BBox) {
	case 4:
		return &rect{w: f.BBox[0], s: f.BBox[1], e: f.BBox[2], n: f.BBox[3]}
	case 6:
		return &rect{w: f.BBox[0], s: f.BBox[1], zmin: f.BBox[2], e: f.BBox[3], n: f.BBox[4], zmax: f.BBox[5], hasZ: true}
	}
	return nil
}

// crosses reports whether the rectangle crosses the antimeridian.
func (r *rect) crosses() bool { return r.w > r.e }

// xOverlap reports whether the longitude ranges [w1, e1] and [w2, e2]
// overlap, either of them crossing the antimeridian when its west is
// greater than its east.
func xOverlap(w1, e1, w2, e2 float64) bool {
	split := func(w, e float64) [][2]float64 {
		if w > e {
			return [][2]float64{{w, 180}, {-180, e}}
		}
		return [][2]float64{{w, e}}
	}
	for _, a := range split(w1, e1) {
		for _, b := range split(w2, e2) {
			if a[0] <= b[1] && b[0] <= a[1] {
				return true
			}
		}
	}
	return false
}

// matchBBox reports whether an item bbox (4 or 6 numbers) intersects r.
func (r *rect) matchBBox(b []float64) bool {
	var w, s, e, n float64
	if len(b) == 6 {
		w, s, e, n = b[0], b[1], b[3], b[4]
		if r.hasZ && (b[2] > r.zmax || b[5] < r.zmin) {
			return false
		}
	} else {
		w, s, e, n = b[0], b[1], b[2], b[3]
	}
	if s > r.n || n < r.s {
		return false
	}
	return xOverlap(w, e, r.w, r.e)
}

// parts are the rectangle's pieces on either side of the antimeridian.
func (r *rect) parts() []rect {
	if !r.crosses() {
		return []rect{*r}
	}
	a, b := *r, *r
	a.e, b.w = 180, -180
	return []rect{a, b}
}

func (r *rect) contains(x, y float64) bool {
	return x >= r.w && x <= r.e && y >= r.s && y <= r.n
}

// segmentHits reports whether the segment (x1,y1)-(x2,y2) meets r (r not
// crossing the antimeridian), by clipping it to r (Liang–Barsky).
func (r *rect) segmentHits(x1, y1, x2, y2 float64) bool {
	t0, t1 := 0.0, 1.0
	dx, dy := x2-x1, y2-y1
	clip := func(p, q float64) bool {
		if p == 0 {
			return q >= 0
		}
		t := q / p
		if p < 0 {
			if t > t1 {
				return false
			}
			t0 = max(t0, t)
		} else {
			if t < t0 {
				return false
			}
			t1 = min(t1, t)
		}
		return true
	}
	return clip(-dx, x1-r.w) && clip(dx, r.e-x1) && clip(-dy, y1-r.s) && clip(dy, r.n-y1) && t0 <= t1
}

// geometryHits reports whether a WKB geometry intersects r exactly (its
// points, lines and polygon areas, holes excluded); ok is false when the
// WKB cannot be read.
func (r *rect) geometryHits(wkb []byte) (hit, ok bool) {
	for _, p := range r.parts() {
		h, ok := p.geometryHitsPart(wkb)
		if !ok {
			return false, false
		}
		if h {
			return true, true
		}
	}
	return false, true
}

func (r *rect) geometryHitsPart(wkb []byte) (hit, ok bool) {
	// A corner of r, to test whether r lies inside a polygon.
	cx, cy := r.w, r.s
	inside := false    // the parity of the polygon being walked
	anyInside := false // some polygon contains the corner
	endPolygon := func() {
		if inside {
			anyInside = true
		}
		inside = false
	}
	rd := wkbReader{b: wkb}
	err := rd.walk(0,
		func(x, y float64) {
			if r.contains(x, y) {
				hit = true
			}
		},
		func(kind int, xy []float64) {
			if hit {
				return
			}
			for i := 0; i+3 < len(xy); i += 2 {
				if r.segmentHits(xy[i], xy[i+1], xy[i+2], xy[i+3]) {
					hit = true
					return
				}
			}
			if kind == seqOuter {
				endPolygon()
			}
			if kind == seqLine || len(xy) < 8 { // no area
				return
			}
			// Ray casting towards +x: each ring crossing flips the parity, so
			// a corner in a hole is outside.
			n := len(xy) / 2
			for i, j := 0, n-1; i < n; j, i = i, i+1 {
				xi, yi := xy[2*i], xy[2*i+1]
				xj, yj := xy[2*j], xy[2*j+1]
				if (yi > cy) != (yj > cy) && cx < (xj-xi)*(cy-yi)/(yj-yi)+xi {
					inside = !inside
				}
			}
		})
	if err != nil {
		return false, false
	}
	endPolygon()
	return hit || anyInside, true
}

// timeMatch reports whether an item's time, the instant dt or the interval
// [start, end] (zero when absent), meets the filter's interval.
func (f *Filter) timeMatch(dt, start, end time.Time) bool {
	lo, hi := dt, dt
	if dt.IsZero() {
		lo, hi = start, end
		if lo.IsZero() && hi.IsZero() {
			return false
		}
	}
	if !f.End.IsZero() && !lo.IsZero() && lo.After(f.End) {
		return false
	}
	if !f.Start.IsZero() && !hi.IsZero() && hi.Before(f.Start) {
		return false
	}
	return true
}

func (f *Filter) hasTime() bool { return !f.Start.IsZero() || !f.End.IsZero() }

// wantString reports whether s is one of want (an empty want wants all).
func wantString(want []string, s string, present bool) bool {
	if len(want) == 0 {
		return true
	}
	return present && slices.Contains(want, s)
}

// anyInRange reports whether some of want lies in [lo, hi] (byte order).
func anyInRange(want []string, lo, hi []byte) bool {
	for _, w := range want {
		if w >= string(lo) && w <= string(hi) {
			return true
		}
	}
	return false
}
