package geo

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/paulmach/orb"
)

// BBox is a bounding box in WGS84 degrees, as the STAC API `bbox`
// parameter carries it: 4 numbers (minx, miny, maxx, maxy) or 6
// (minx, miny, minz, maxx, maxy, maxz).
//
// A box whose minx is greater than its maxx crosses the antimeridian:
// 170,-10,-170,10 covers 20 degrees of longitude around 180.
type BBox []float64

// ParseBBox parses "minx,miny,maxx,maxy" or
// "minx,miny,minz,maxx,maxy,maxz". Spaces around the numbers and a
// surrounding pair of square brackets (a bbox pasted from JSON) are
// accepted. Longitudes must lie in [-180, 180], latitudes in [-90, 90],
// miny <= maxy and minz <= maxz; minx > maxx is an antimeridian-crossing
// box, not an error.
func ParseBBox(s string) (BBox, error) {
	t := strings.TrimSpace(s)
	if strings.HasPrefix(t, "[") && strings.HasSuffix(t, "]") {
		t = t[1 : len(t)-1]
	}
	if strings.TrimSpace(t) == "" {
		return nil, inputError(s, `expected 4 or 6 numbers "minx,miny,maxx,maxy", got nothing`, nil)
	}
	parts := strings.Split(t, ",")
	if len(parts) != 4 && len(parts) != 6 {
		return nil, inputError(s, fmt.Sprintf(`expected 4 or 6 numbers "minx,miny,maxx,maxy", got %d`, len(parts)), nil)
	}
	b := make(BBox, len(parts))
	names := bboxNames(len(parts))
	for i, p := range parts {
		v, err := parseNumber(strings.TrimSpace(p))
		if errors.Is(err, strconv.ErrRange) {
			return nil, inputError(s, fmt.Sprintf("%s %q is too large", names[i], shorten(strings.TrimSpace(p))), nil)
		}
		if err != nil {
			return nil, inputError(s, fmt.Sprintf("%s %q is not a number", names[i], shorten(strings.TrimSpace(p))), nil)
		}
		b[i] = v
	}
	if err := b.validate(); err != nil {
		return nil, inputError(s, err.Error(), nil)
	}
	return b, nil
}

func bboxNames(n int) []string {
	if n == 6 {
		return []string{"minx", "miny", "minz", "maxx", "maxy", "maxz"}
	}
	return []string{"minx", "miny", "maxx", "maxy"}
}

// parseNumber parses a plain decimal number. strconv.ParseFloat alone
// would also take "NaN", "Inf", hex floats and underscores, none of which
// a STAC API understands.
func parseNumber(s string) (float64, error) {
	if s == "" {
		return 0, strconv.ErrSyntax
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9', c == '.', c == '-', c == '+', c == 'e', c == 'E':
		default:
			return 0, strconv.ErrSyntax
		}
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, err
	}
	return v, nil
}

func (b BBox) validate() error {
	if len(b) != 4 && len(b) != 6 {
		return fmt.Errorf(`expected 4 or 6 numbers "minx,miny,maxx,maxy", got %d`, len(b))
	}
	names := bboxNames(len(b))
	for i, v := range b {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("%s %v is not a finite number", names[i], v)
		}
	}
	minx, miny, maxx, maxy := b.corners()
	for _, x := range []float64{minx, maxx} {
		if err := checkLon(x); err != nil {
			return err
		}
	}
	for _, y := range []float64{miny, maxy} {
		if err := checkLat(y); err != nil {
			return err
		}
	}
	if miny > maxy {
		return fmt.Errorf("miny %s is greater than maxy %s", fmtNum(miny), fmtNum(maxy))
	}
	if len(b) == 6 && b[2] > b[5] {
		return fmt.Errorf("minz %s is greater than maxz %s", fmtNum(b[2]), fmtNum(b[5]))
	}
	return nil
}

func checkLon(x float64) error {
	if x < -180 || x > 180 {
		return fmt.Errorf("longitude %s out of range [-180, 180]", fmtNum(x))
	}
	return nil
}

func checkLat(y float64) error {
	if y < -90 || y > 90 {
		return fmt.Errorf("latitude %s out of range [-90, 90]", fmtNum(y))
	}
	return nil
}

func fmtNum(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// corners returns the 2D corners whether b has 4 or 6 numbers.
func (b BBox) corners() (minx, miny, maxx, maxy float64) {
	if len(b) == 6 {
		return b[0], b[1], b[3], b[4]
	}
	return b[0], b[1], b[2], b[3]
}

// CrossesAntimeridian reports whether the box spans the 180th meridian,
// i.e. its minx is greater than its maxx.
func (b BBox) CrossesAntimeridian() bool {
	minx, _, maxx, _ := b.corners()
	return minx > maxx
}

// Bound returns the 2D extent of the box. For a box that crosses the
// antimeridian, which orb.Bound cannot express, it returns the enclosing
// full-longitude band from -180 to 180 between miny and maxy: a superset,
// safe for "might intersect" tests. Use Bounds for the exact parts.
func (b BBox) Bound() orb.Bound {
	minx, miny, maxx, maxy := b.corners()
	if minx > maxx {
		minx, maxx = -180, 180
	}
	return orb.Bound{Min: orb.Point{minx, miny}, Max: orb.Point{maxx, maxy}}
}

// Bounds returns the box as one orb.Bound, or as two (west of 180 and
// east of -180) when it crosses the antimeridian.
func (b BBox) Bounds() []orb.Bound {
	minx, miny, maxx, maxy := b.corners()
	if minx > maxx {
		return []orb.Bound{
			{Min: orb.Point{minx, miny}, Max: orb.Point{180, maxy}},
			{Min: orb.Point{-180, miny}, Max: orb.Point{maxx, maxy}},
		}
	}
	return []orb.Bound{{Min: orb.Point{minx, miny}, Max: orb.Point{maxx, maxy}}}
}

// Intersects reports whether the box and bound share at least one point,
// taking an antimeridian crossing into account. It lets a client filter
// items itself, as when crawling a static catalog.
func (b BBox) Intersects(bound orb.Bound) bool {
	for _, part := range b.Bounds() {
		if part.Intersects(bound) {
			return true
		}
	}
	return false
}

// String formats the box as the STAC API GET parameter:
// comma-separated numbers in the shortest form that parses back exactly.
func (b BBox) String() string {
	buf := make([]byte, 0, 16*len(b))
	for i, v := range b {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = strconv.AppendFloat(buf, v, 'f', -1, 64)
	}
	return string(buf)
}
