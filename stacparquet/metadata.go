package stacparquet

import (
	"bytes"
	"maps"
	"slices"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// The Parquet key-value metadata keys, and the versions written.
const (
	// MetadataKey holds the stac-geoparquet metadata.
	MetadataKey = "stac-geoparquet"
	// Version is the stac-geoparquet metadata version written (the one the
	// specification's JSON schema accepts, and both reference writers
	// emit).
	Version = "1.0.0"
	// GeoMetadataKey holds the GeoParquet metadata.
	GeoMetadataKey = "geo"
	// GeoParquetVersion is the GeoParquet version written.
	GeoParquetVersion = "1.1.0"
)

// Metadata is the stac-geoparquet metadata of a file.
type Metadata struct {
	// Version is the stac-geoparquet version the file says it implements
	// ("" for files from before the key existed).
	Version string `json:"version"`
	// Collections maps collection ids to the JSON of the collections.
	Collections map[string]jsontext.Value `json:"collections,omitzero"`
	// Collection is the single collection of the deprecated "collection"
	// member (nil when absent).
	Collection jsontext.Value `json:"collection,omitzero"`
}

// GeoMetadata is the GeoParquet metadata of a file (the members stacq
// reads; others are ignored).
type GeoMetadata struct {
	// Version is the GeoParquet version ("1.1.0" for the files written
	// here; older files may have "1.0.0" or none).
	Version string `json:"version"`
	// PrimaryColumn names the geometry column ("geometry").
	PrimaryColumn string `json:"primary_column"`
	// Columns describes each geometry column by name.
	Columns map[string]GeoColumn `json:"columns"`
}

// GeoColumn is the GeoParquet metadata of one geometry column.
type GeoColumn struct {
	// Encoding is "WKB" (the only one read).
	Encoding string `json:"encoding"`
	// GeometryTypes are the types of the column's geometries ("Polygon",
	// "Point Z", ...), empty when unknown.
	GeometryTypes []string `json:"geometry_types"`
	// CRS is the PROJJSON of the column's CRS: absent means OGC:CRS84,
	// JSON null an unknown CRS.
	CRS jsontext.Value `json:"crs,omitzero"`
	// Edges is "planar" (when empty) or "spherical".
	Edges string `json:"edges,omitzero"`
	// BBox is the extent of the column's geometries, 4 or 6 numbers.
	BBox []float64 `json:"bbox,omitzero"`
	// Covering names the per-row bbox columns.
	Covering *Covering `json:"covering,omitzero"`
}

// Covering names the columns that cover each geometry.
type Covering struct {
	BBox BBoxCovering `json:"bbox"`
}

// BBoxCovering names the bounding box columns, each a path such as
// ["bbox", "xmin"].
type BBoxCovering struct {
	XMin []string `json:"xmin"`
	YMin []string `json:"ymin"`
	XMax []string `json:"xmax"`
	YMax []string `json:"ymax"`
}

// geoMetadataJSON is the "geo" metadata of a file written with schema s.
// The CRS is left out: GeoParquet reads that as OGC:CRS84, which is what
// GeoJSON and so STAC coordinates are.
func geoMetadataJSON(s *schema, f *outFile) ([]byte, error) {
	col := GeoColumn{
		Encoding:      "WKB",
		GeometryTypes: slices.Sorted(maps.Keys(f.meta.types)),
		Covering: &Covering{BBox: BBoxCovering{
			XMin: []string{"bbox", "xmin"},
			YMin: []string{"bbox", "ymin"},
			XMax: []string{"bbox", "xmax"},
			YMax: []string{"bbox", "ymax"},
		}},
	}
	if col.GeometryTypes == nil {
		col.GeometryTypes = []string{}
	}
	if b := f.meta.bounds; b.n > 0 {
		if b.nz == b.n {
			col.BBox = []float64{b.minX, b.minY, b.minZ, b.maxX, b.maxY, b.maxZ}
		} else {
			col.BBox = []float64{b.minX, b.minY, b.maxX, b.maxY}
		}
	}
	md := GeoMetadata{
		Version:       GeoParquetVersion,
		PrimaryColumn: "geometry",
		Columns:       map[string]GeoColumn{"geometry": col},
	}
	if n := s.root.lookup(geometryField); n != nil && n.kind == kGeom {
		// Projected geometries: each item has its own CRS, so the column's
		// is unknown (null), as stac-geoparquet writes it.
		md.Columns[geometryField] = GeoColumn{Encoding: "WKB", GeometryTypes: []string{}, CRS: jsontext.Value("null")}
	}
	return json.Marshal(md, json.Deterministic(true))
}

// stacMetadataJSON is the stac-geoparquet metadata of a file holding items
// of the collections ids; those of colls are included.
func stacMetadataJSON(colls map[string][]byte, ids map[string]struct{}) []byte {
	var b bytes.Buffer
	b.WriteString(`{"version":"` + Version + `","collections":{`)
	first := true
	for _, id := range slices.Sorted(maps.Keys(ids)) {
		raw, ok := colls[id]
		if !ok {
			continue
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		q, _ := jsontext.AppendQuote(nil, id)
		b.Write(q)
		b.WriteByte(':')
		b.Write(raw)
	}
	b.WriteString("}}")
	return b.Bytes()
}
