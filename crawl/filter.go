package crawl

import (
	"fmt"
	"path"
	"sync"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"github.com/stacq/stacq/geo"
	"github.com/stacq/stacq/stac"
)

// filter holds the parsed Options that decide what is crawled.
type filter struct {
	include, exclude []string
	bbox             geo.BBox // nil: no spatial filter
	interval         geo.Interval

	mu      sync.Mutex
	matched map[string]bool // include patterns that matched a collection
}

func newFilter(opts Options) (*filter, error) {
	f := &filter{include: opts.Include, exclude: opts.Exclude}
	for _, list := range [][]string{opts.Include, opts.Exclude} {
		for _, p := range list {
			// path.Match only reports a bad pattern when it reaches the
			// bad part, so check each pattern once against a name it
			// must read to the end.
			if _, err := path.Match(p, ""); err != nil {
				return nil, fmt.Errorf("crawl: collection pattern %q: %w", p, err)
			}
		}
	}
	if opts.BBox != nil {
		if n := len(opts.BBox); n != 4 && n != 6 {
			return nil, fmt.Errorf("crawl: bbox: expected 4 or 6 numbers, got %d", n)
		}
		f.bbox = opts.BBox
	}
	if iv := opts.Datetime; !iv.OpenStart && !iv.OpenEnd && iv.End.Before(iv.Start) {
		return nil, fmt.Errorf("crawl: datetime: the start %s is after the end %s", iv.Start.Format(time.RFC3339), iv.End.Format(time.RFC3339))
	}
	f.interval = opts.Datetime
	f.matched = map[string]bool{}
	if opts.MaxItems < 0 || opts.MaxItemsPerCollection < 0 || opts.Concurrency < 0 {
		return nil, fmt.Errorf("crawl: limits and concurrency must not be negative")
	}
	return f, nil
}

// collection reports whether the collection id passes Include and Exclude.
func (f *filter) collection(id string) bool {
	for _, p := range f.exclude {
		if ok, _ := path.Match(p, id); ok {
			return false
		}
	}
	if len(f.include) == 0 {
		return true
	}
	found := false
	for _, p := range f.include {
		if ok, _ := path.Match(p, id); ok {
			f.mu.Lock()
			f.matched[p] = true
			f.mu.Unlock()
			found = true
		}
	}
	return found
}

// unmatched returns the include patterns that matched no collection.
func (f *filter) unmatched() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, p := range f.include {
		if !f.matched[p] {
			out = append(out, p)
		}
	}
	return out
}

// item reports whether a static catalog's item passes the filters. inColl
// is true when the item was reached through a collection that passed the
// collection filter already.
func (f *filter) item(it *stac.Item, inColl bool) bool {
	if !inColl {
		if it.Collection == "" {
			if len(f.include) > 0 {
				return false
			}
		} else if !f.collection(it.Collection) {
			return false
		}
	}
	if f.bbox != nil {
		b, ok := itemBound(it)
		if !ok || !f.bbox.Intersects(b) {
			return false
		}
	}
	if !f.interval.IsZero() {
		start, end, ok := itemInterval(it)
		if !ok || !overlaps(f.interval, start, end) {
			return false
		}
	}
	return true
}

// itemBound returns the item's bbox, or the bounds of its geometry when it
// has no bbox.
func itemBound(it *stac.Item) (orb.Bound, bool) {
	switch b := it.BBox; len(b) {
	case 4:
		return orb.Bound{Min: orb.Point{b[0], b[1]}, Max: orb.Point{b[2], b[3]}}, true
	case 6:
		return orb.Bound{Min: orb.Point{b[0], b[1]}, Max: orb.Point{b[3], b[4]}}, true
	}
	if len(it.Geometry) == 0 {
		return orb.Bound{}, false
	}
	g, err := geojson.UnmarshalGeometry(it.Geometry)
	if err != nil || g == nil || g.Geometry() == nil {
		return orb.Bound{}, false
	}
	return g.Geometry().Bound(), true
}

// itemInterval returns the item's time span: [datetime, datetime], or
// [start_datetime, end_datetime] with a zero time for a missing end.
func itemInterval(it *stac.Item) (start, end time.Time, ok bool) {
	parse := it.Properties.Time
	if t, ok := parse("datetime"); ok {
		return t, t, true
	}
	start, okStart := parse("start_datetime")
	end, okEnd := parse("end_datetime")
	return start, end, okStart || okEnd
}

// overlaps reports whether [start, end] (a zero time is an open end) and iv
// share an instant.
func overlaps(iv geo.Interval, start, end time.Time) bool {
	if !iv.OpenEnd && !start.IsZero() && start.After(iv.End) {
		return false
	}
	if !iv.OpenStart && !end.IsZero() && end.Before(iv.Start) {
		return false
	}
	return true
}
