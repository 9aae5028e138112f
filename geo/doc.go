// Package geo turns the spatial and temporal filters a user types into
// checked values, and writes features out as GeoJSON.
//
// Parsers (ParseBBox, ParseGeometry, ReadGeometry, ParseDatetime) accept
// what people paste from other tools and reject, with an *InputError that
// says what was expected, anything a STAC API would refuse or
// misinterpret. Their results are plain data built on
// github.com/paulmach/orb.
//
// Writers (NewWriter) stream features as a GeoJSON FeatureCollection,
// newline-delimited GeoJSON or an indented FeatureCollection, one feature
// at a time, so a search of a million items never holds more than one in
// memory.
//
// The package knows nothing of HTTP or of STAC types: features are any
// value encoding/json can marshal into a JSON object.
package geo
