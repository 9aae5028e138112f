package geo

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkt"
	"github.com/paulmach/orb/geojson"
)

// MaxGeometryBytes bounds what ReadGeometry reads from a file or stdin.
// A search geometry is sent in every request; anything larger is almost
// certainly the wrong file.
const MaxGeometryBytes = 16 << 20

// maxCollectionDepth bounds GeometryCollection nesting, which RFC 7946
// already advises against.
const maxCollectionDepth = 8

const expectedGeometry = "expected a GeoJSON geometry, Feature or FeatureCollection, or WKT"

// ReadGeometry reads a geometry argument as a command line takes it: "-" reads stdin,
// text starting with "{" is inline GeoJSON, the name of an existing file
// is read from that file, and anything else is tried as inline WKT.
// The result is parsed and checked by ParseGeometry.
func ReadGeometry(arg string, stdin io.Reader) (orb.Geometry, error) {
	t := strings.TrimSpace(arg)
	switch {
	case t == "":
		return nil, inputError(arg, expectedGeometry+", got nothing", nil)
	case t == "-":
		if stdin == nil {
			return nil, inputError(arg, "no standard input to read the geometry from", nil)
		}
		data, err := readLimited(stdin)
		if err != nil {
			return nil, inputError(arg, "reading the geometry from standard input", err)
		}
		return ParseGeometry(data)
	case t[0] == '{':
		return ParseGeometry([]byte(t))
	}
	if st, err := os.Stat(t); err == nil && !st.IsDir() {
		f, err := os.Open(t)
		if err != nil {
			return nil, inputError(arg, "reading the geometry", err)
		}
		defer f.Close()
		data, err := readLimited(f)
		if err != nil {
			return nil, inputError(arg, "reading the geometry from "+t, err)
		}
		g, err := ParseGeometry(data)
		var ie *InputError
		if errors.As(err, &ie) {
			// Name the file: the reason alone would point at its content.
			return nil, &InputError{Input: ie.Input, Reason: shorten(t) + ": " + ie.Reason, Err: ie.Err}
		}
		return g, err
	}
	if looksLikeWKT(t) {
		return ParseGeometry([]byte(t))
	}
	_, err := os.Stat(t)
	if err == nil {
		err = fmt.Errorf("%s is a directory", t)
	}
	return nil, inputError(arg, fmt.Sprintf("%q is neither a readable file nor inline GeoJSON or WKT", shorten(t)), err)
}

func readLimited(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxGeometryBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxGeometryBytes {
		return nil, fmt.Errorf("more than %d MiB; simplify the geometry", MaxGeometryBytes>>20)
	}
	return data, nil
}

var wktKeywords = []string{"POINT", "LINESTRING", "POLYGON", "MULTIPOINT", "MULTILINESTRING", "MULTIPOLYGON", "GEOMETRYCOLLECTION"}

// looksLikeWKT reports whether s starts with a WKT geometry keyword
// followed by something a WKT geometry has next, so a missing file named
// "polygon.geojson" is reported as a missing file.
func looksLikeWKT(s string) bool {
	for _, k := range wktKeywords {
		if len(s) < len(k) || !strings.EqualFold(s[:len(k)], k) {
			continue
		}
		rest := strings.ToUpper(strings.TrimLeft(s[len(k):], " \t\r\n"))
		if strings.HasPrefix(rest, "(") || strings.HasPrefix(rest, "EMPTY") ||
			strings.HasPrefix(rest, "Z") || strings.HasPrefix(rest, "M") {
			return true
		}
	}
	return false
}

// hasWKTDimension reports whether WKT s declares Z, M or ZM coordinates
// ("POINT Z (1 2 3)"), which orb's WKT decoder does not read.
func hasWKTDimension(s string) bool {
	i := strings.IndexAny(s, "( \t\r\n")
	if i < 0 {
		return false
	}
	rest := strings.ToUpper(strings.TrimLeft(s[i:], " \t\r\n"))
	for _, d := range []string{"ZM", "Z", "M"} {
		if r, ok := strings.CutPrefix(rest, d); ok && strings.HasPrefix(strings.TrimLeft(r, " \t\r\n"), "(") {
			return true
		}
	}
	return false
}

// ParseGeometry parses a GeoJSON geometry, a Feature (its geometry is
// used), a FeatureCollection of exactly one Feature, or WKT, and checks
// it: numeric, finite coordinates; longitudes in [-180, 180] and
// latitudes in [-90, 90]; positions of 2 or 3 numbers (a third, the
// elevation, is dropped, as orb geometries are 2D); at least 2 positions
// per LineString; polygon rings closed with at least 4 positions; no
// empty geometries.
func ParseGeometry(data []byte) (orb.Geometry, error) {
	t := bytes.TrimSpace(bytes.TrimPrefix(data, []byte("\uFEFF")))
	if len(t) == 0 {
		return nil, inputError("", expectedGeometry+", got nothing", nil)
	}
	if t[0] == '{' {
		return parseGeoJSON(t)
	}
	return parseWKT(string(t))
}

func parseWKT(s string) (orb.Geometry, error) {
	if !looksLikeWKT(s) {
		return nil, inputError(s, fmt.Sprintf("%s, got %q", expectedGeometry, shorten(s)), nil)
	}
	// orb's decoder recurses (and copies) per level: bound the nesting
	// before it sees the text.
	if depth := wktDepth(s); depth > maxWKTDepth {
		return nil, inputError(s, fmt.Sprintf("WKT nested %d parentheses deep, more than the %d a MULTIPOLYGON in GEOMETRYCOLLECTIONs nested %d deep needs", depth, maxWKTDepth, maxCollectionDepth), nil)
	}
	g, err := wkt.Unmarshal(s)
	if err != nil {
		if hasWKTDimension(s) {
			return nil, inputError(s, "WKT with Z or M coordinates is not supported; give 2D coordinates, e.g. POLYGON((lon lat, ...))", err)
		}
		return nil, inputError(s, "invalid WKT (2D, e.g. POLYGON((lon lat, ...)))", err)
	}
	if err := checkGeometry(g, ""); err != nil {
		return nil, inputError(s, err.Error(), nil)
	}
	return g, nil
}

// maxWKTDepth bounds the parentheses of WKT: GeometryCollections nested
// maxCollectionDepth deep, around a MULTIPOLYGON's three levels.
const maxWKTDepth = maxCollectionDepth + 3

// wktDepth returns the deepest nesting of parentheses in s.
func wktDepth(s string) int {
	depth, deepest := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '(':
			depth++
			deepest = max(deepest, depth)
		case ')':
			depth--
		}
	}
	return deepest
}

func parseGeoJSON(data []byte) (orb.Geometry, error) {
	in := string(data)
	obj, err := decodeObject(data, "")
	if err != nil {
		return nil, inputError(in, "invalid GeoJSON", err)
	}
	g, err := decodeTop(obj)
	if err != nil {
		return nil, inputError(in, err.Error(), nil)
	}
	return g, nil
}

// decodeTop unwraps a Feature or FeatureCollection down to its geometry.
func decodeTop(obj map[string]json.RawMessage) (orb.Geometry, error) {
	typ, err := typeOf(obj, "")
	if err != nil {
		return nil, err
	}
	switch typ {
	case "FeatureCollection":
		var features []json.RawMessage
		if err := json.Unmarshal(obj["features"], &features); err != nil || obj["features"] == nil {
			return nil, errors.New(`"features": expected an array of Features`)
		}
		if len(features) != 1 {
			return nil, fmt.Errorf("expected a FeatureCollection with exactly 1 feature, got %d", len(features))
		}
		f, err := decodeObject(features[0], "features[0]")
		if err != nil {
			return nil, err
		}
		if typ, err := typeOf(f, "features[0]."); err != nil {
			return nil, err
		} else if typ != "Feature" {
			return nil, fmt.Errorf(`features[0].type: expected "Feature", got %q`, shorten(typ))
		}
		return decodeFeatureGeometry(f, "features[0].")
	case "Feature":
		return decodeFeatureGeometry(obj, "")
	default:
		return decodeGeometry(obj, "", 0)
	}
}

func decodeFeatureGeometry(f map[string]json.RawMessage, prefix string) (orb.Geometry, error) {
	raw := f["geometry"]
	if raw == nil || string(raw) == "null" {
		return nil, fmt.Errorf("%sgeometry: the Feature has no geometry", prefix)
	}
	g, err := decodeObject(raw, prefix+"geometry")
	if err != nil {
		return nil, err
	}
	return decodeGeometry(g, prefix+"geometry.", 0)
}

// decodeObject decodes a JSON object, keeping members raw. Member names
// are matched exactly, unlike encoding/json's case-insensitive struct
// fields, so {"TYPE": ...} is not mistaken for GeoJSON.
func decodeObject(data []byte, path string) (map[string]json.RawMessage, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(data, &obj); err != nil {
		var ute *json.UnmarshalTypeError
		if errors.As(err, &ute) || string(bytes.TrimSpace(data)) == "null" {
			return nil, fmt.Errorf("%s: expected a JSON object", orRoot(path))
		}
		return nil, err
	}
	if obj == nil {
		return nil, fmt.Errorf("%s: expected a JSON object", orRoot(path))
	}
	return obj, nil
}

func orRoot(path string) string {
	if path == "" {
		return "GeoJSON"
	}
	return path
}

func typeOf(obj map[string]json.RawMessage, prefix string) (string, error) {
	var typ string
	if raw := obj["type"]; raw == nil || json.Unmarshal(raw, &typ) != nil {
		return "", fmt.Errorf(`%stype: expected a GeoJSON "type" string (Polygon, Feature, ...)`, prefix)
	}
	return typ, nil
}

func decodeGeometry(obj map[string]json.RawMessage, prefix string, depth int) (orb.Geometry, error) {
	typ, err := typeOf(obj, prefix)
	if err != nil {
		return nil, err
	}
	if typ == "GeometryCollection" {
		if depth >= maxCollectionDepth {
			return nil, fmt.Errorf("%sgeometries: GeometryCollections nested more than %d deep", prefix, maxCollectionDepth)
		}
		var members []json.RawMessage
		if err := json.Unmarshal(obj["geometries"], &members); err != nil || obj["geometries"] == nil {
			return nil, fmt.Errorf(`%sgeometries: expected an array of geometries`, prefix)
		}
		if len(members) == 0 {
			return nil, fmt.Errorf("%sgeometries: the GeometryCollection is empty", prefix)
		}
		c := make(orb.Collection, len(members))
		for i, m := range members {
			p := fmt.Sprintf("%sgeometries[%d]", prefix, i)
			o, err := decodeObject(m, p)
			if err != nil {
				return nil, err
			}
			if c[i], err = decodeGeometry(o, p+".", depth+1); err != nil {
				return nil, err
			}
		}
		return c, nil
	}

	path := prefix + "coordinates"
	raw := obj["coordinates"]
	if raw == nil {
		if _, ok := geometryTypes[typ]; !ok {
			return nil, fmt.Errorf(`%stype: unknown GeoJSON type %q; expected a geometry, Feature or FeatureCollection`, prefix, shorten(typ))
		}
		return nil, fmt.Errorf("%s: missing", path)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber() // to tell 1e400 (not finite) from a valid float
	var coords any
	if err := dec.Decode(&coords); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var g orb.Geometry
	switch typ {
	case "Point":
		g, err = position(coords, path)
	case "MultiPoint":
		var ps []orb.Point
		ps, err = array(coords, path, position)
		g = orb.MultiPoint(ps)
	case "LineString":
		var ps []orb.Point
		ps, err = array(coords, path, position)
		g = orb.LineString(ps)
	case "MultiLineString":
		var ls [][]orb.Point
		ls, err = array(coords, path, positions)
		mls := make(orb.MultiLineString, len(ls))
		for i, l := range ls {
			mls[i] = l
		}
		g = mls
	case "Polygon":
		g, err = polygon(coords, path)
	case "MultiPolygon":
		var ps []orb.Polygon
		ps, err = array(coords, path, polygon)
		g = orb.MultiPolygon(ps)
	default:
		return nil, fmt.Errorf(`%stype: unknown GeoJSON type %q; expected a geometry, Feature or FeatureCollection`, prefix, shorten(typ))
	}
	if err != nil {
		return nil, err
	}
	if err := checkGeometry(g, prefix); err != nil {
		return nil, err
	}
	return g, nil
}

var geometryTypes = map[string]struct{}{
	"Point": {}, "MultiPoint": {}, "LineString": {}, "MultiLineString": {},
	"Polygon": {}, "MultiPolygon": {}, "GeometryCollection": {},
}

// array decodes a JSON array whose elements elem decodes.
func array[T any](v any, path string, elem func(any, string) (T, error)) ([]T, error) {
	a, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("%s: expected an array, got %s", path, describe(v))
	}
	out := make([]T, len(a))
	for i, e := range a {
		var err error
		if out[i], err = elem(e, fmt.Sprintf("%s[%d]", path, i)); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func positions(v any, path string) ([]orb.Point, error) { return array(v, path, position) }

func polygon(v any, path string) (orb.Polygon, error) {
	rings, err := array(v, path, positions)
	if err != nil {
		return nil, err
	}
	p := make(orb.Polygon, len(rings))
	for i, r := range rings {
		p[i] = r
	}
	return p, nil
}

// position decodes [lon, lat] or [lon, lat, elevation].
func position(v any, path string) (orb.Point, error) {
	a, ok := v.([]any)
	if !ok {
		return orb.Point{}, fmt.Errorf("%s: expected a position [lon, lat], got %s", path, describe(v))
	}
	if len(a) != 2 && len(a) != 3 {
		return orb.Point{}, fmt.Errorf("%s: expected a position of 2 or 3 numbers, got %d values", path, len(a))
	}
	var p orb.Point
	for i, e := range a {
		n, ok := e.(json.Number)
		if !ok {
			return orb.Point{}, fmt.Errorf("%s[%d]: expected a number, got %s", path, i, describe(e))
		}
		f, err := strconv.ParseFloat(string(n), 64)
		if err != nil || math.IsInf(f, 0) {
			return orb.Point{}, fmt.Errorf("%s[%d]: %s is not a finite number", path, i, shorten(string(n)))
		}
		if i < 2 {
			p[i] = f
		}
	}
	return p, nil
}

// describe names a decoded JSON value for an error message.
func describe(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case string:
		return fmt.Sprintf("the string %q", shorten(v))
	case bool:
		return strconv.FormatBool(v)
	case json.Number:
		return "the number " + shorten(string(v))
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// checkGeometry validates a decoded geometry, from GeoJSON or WKT. prefix
// locates it in the input, coordinates paths follow GeoJSON nesting.
func checkGeometry(g orb.Geometry, prefix string) error {
	path := prefix + "coordinates"
	switch g := g.(type) {
	case orb.Point:
		return checkPoint(g, path)
	case orb.MultiPoint:
		if len(g) == 0 {
			return fmt.Errorf("%s: the MultiPoint is empty", path)
		}
		return checkPoints(g, path)
	case orb.LineString:
		return checkLineString(g, path)
	case orb.MultiLineString:
		return checkParts(g, "MultiLineString", path, checkLineString)
	case orb.Polygon:
		return checkPolygon(g, path)
	case orb.MultiPolygon:
		return checkParts(g, "MultiPolygon", path, checkPolygon)
	case orb.Collection:
		return checkParts(g, "GeometryCollection", prefix+"geometries", func(m orb.Geometry, at string) error {
			return checkGeometry(m, at+".")
		})
	default:
		return fmt.Errorf("unsupported geometry %T", g)
	}
}

// checkParts checks the parts of a multi geometry, which has at least one,
// each with check at path[i].
func checkParts[T any](parts []T, kind, path string, check func(T, string) error) error {
	if len(parts) == 0 {
		return fmt.Errorf("%s: the %s is empty", path, kind)
	}
	for i, p := range parts {
		if err := check(p, fmt.Sprintf("%s[%d]", path, i)); err != nil {
			return err
		}
	}
	return nil
}

func checkPoint(p orb.Point, path string) error {
	for i, v := range p {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("%s[%d]: %v is not a finite number", path, i, v)
		}
	}
	if err := checkLon(p[0]); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := checkLat(p[1]); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

func checkPoints(ps []orb.Point, path string) error {
	for i, p := range ps {
		if err := checkPoint(p, fmt.Sprintf("%s[%d]", path, i)); err != nil {
			return err
		}
	}
	return nil
}

func checkLineString(l orb.LineString, path string) error {
	if len(l) < 2 {
		return fmt.Errorf("%s: a LineString needs at least 2 positions, got %d", path, len(l))
	}
	return checkPoints(l, path)
}

func checkPolygon(p orb.Polygon, path string) error {
	if len(p) == 0 {
		return fmt.Errorf("%s: the Polygon has no rings", path)
	}
	for i, r := range p {
		rp := fmt.Sprintf("%s[%d]", path, i)
		if len(r) < 4 {
			return fmt.Errorf("%s: a polygon ring needs at least 4 positions, got %d", rp, len(r))
		}
		if err := checkPoints(r, rp); err != nil {
			return err
		}
		if first, last := r[0], r[len(r)-1]; first != last {
			return fmt.Errorf("%s: the polygon ring is not closed: first position [%s, %s] differs from last [%s, %s]",
				rp, fmtNum(first[0]), fmtNum(first[1]), fmtNum(last[0]), fmtNum(last[1]))
		}
	}
	return nil
}

// GeometryJSON encodes g as a GeoJSON geometry object, the form of the
// STAC API `intersects` parameter.
func GeometryJSON(g orb.Geometry) (json.RawMessage, error) {
	if g == nil {
		return nil, errors.New("geo: no geometry to encode")
	}
	return geojson.NewGeometry(g).MarshalJSON()
}
