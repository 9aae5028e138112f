// Package stacparquet writes, reads and searches stac-geoparquet: STAC items
// as GeoParquet, one row per item, following the stac-geoparquet
// specification (radiantearth/stac-geoparquet-spec) and the layout of its
// reference writers (stac-utils/stac-geoparquet and rustac).
//
// An item is handled as its JSON text: Writer.Write takes one item object
// as bytes, Reader.Items yields items as compact JSON. The package does not
// depend on stacq's STAC types.
//
// # Layout
//
// The columns are, in this order: type, stac_version, stac_extensions
// (list of strings), id, geometry (WKB), bbox (a struct of double xmin,
// ymin, xmax, ymax, with zmin and zmax between them when some bbox has 6
// numbers), collection, links (a list of link structs), assets (a struct
// with one struct per asset key), then every property, pulled up to the top
// level, in the order first seen. The properties datetime, start_datetime,
// end_datetime, created, updated, expires, published and unpublished are
// TIMESTAMP(MICROS, UTC) columns (the set the reference writers convert);
// proj:geometry, as a property or in an asset, is WKB.
//
// The file metadata has "geo" (GeoParquet 1.1.0: the geometry column, WKB,
// its geometry_types, its bbox and the bbox covering; the CRS is left out,
// which GeoParquet reads as OGC:CRS84), "stac-geoparquet" ({"version":
// "1.0.0", "collections": {id: collection}}, with the collection JSON
// from WriterOptions.Collections) and "stacq" (whether some bbox crosses
// the antimeridian, which tells the reader whether the x statistics of the
// bbox columns can skip row groups).
//
// # Heterogeneous items
//
// Items are spooled to a temporary NDJSON file as they are written, while
// the schema is widened to hold each; Close writes the Parquet file in a
// second pass over the spool, so memory does not grow with the number of
// items. A Writer does not wait for Close to start that pass: after 2048
// items it encodes row groups in the background with the schema inferred
// so far (from the items' parsed form as they come, or from the spool),
// into a temporary file; when the schema changes, what was encoded is
// thrown away and encoding starts again (three times at most). At Close,
// if the final schema is the one used, only the end is left to encode;
// otherwise Close encodes everything. The file is the same, byte for
// byte, either way. A property may be absent, null or present from item to item; an
// integer column that meets a float becomes a double column; objects
// gather the fields of all their values, arrays the type of all their
// elements. Values whose types cannot share a Parquet type (a string and a
// number, an object and an array) make the column a JSON text column,
// which Stats.Warnings reports with the number of values it holds. Objects
// that never have a field, and values nested more than 32 deep, are JSON
// text too, without loss.
//
// WriterOptions.Concurrent moves the checking and spooling of each item to
// a goroutine, so that it overlaps the caller's work (fetching the next
// page); refused items are then counted in Stats rather than returned by
// Write.
//
// A PartitionedWriter writes a Hive-partitioned directory,
// DIR/collection=ID/year=YYYY/month=M/part-N.parquet, with one schema for
// all files (so DuckDB and Spark read them as one dataset without schema
// merging) and each file's own geo and stac-geoparquet metadata.
//
// # Reading and searching
//
// Open reads a file or a partitioned directory; Reader.Items yields the
// items matching a Filter (bbox, datetime interval, collections, ids,
// maximum count). Row groups whose column statistics (bbox, datetime,
// start_datetime, end_datetime, collection, id) exclude every match are
// not read, partition directories are pruned by their collection and
// year/month, and the rows of the row groups read are filtered exactly (a
// bbox matches the geometry, not only its bbox). Files written by other
// stac-geoparquet writers are read too (list-or-struct bbox, millisecond or
// nanosecond timestamps, two- and three-level lists, maps, decimals, files
// from before the stac-geoparquet metadata key); files that are not
// stac-geoparquet are refused with ErrNotSTACGeoParquet.
//
// # What does not round-trip exactly
//
// Writing items and reading them back gives the same items as JSON values,
// except that:
//
//   - numbers are written in the shortest form that reads back as the same
//     float64 (1.50 becomes 1.5, 1.0 becomes 1, 1E3 becomes 1000): Parquet
//     keeps numbers, not their text. Integers beyond int64 are doubles and
//     keep 15 to 17 significant digits. JSON text columns keep the text.
//   - timestamps are written in UTC, with at most 6 fractional digits and
//     no trailing zeros (2023-06-01T12:00:00.120+02:00 becomes
//     2023-06-01T10:00:00.12Z); digits below the microsecond are dropped
//     (Stats.TruncatedTimes counts them).
//   - an object member that is null reads back absent, since Parquet has a
//     single null for both; geometry and the datetime property, which STAC
//     requires, read back as null. Nulls in arrays stay.
//   - members come back in a fixed order: the STAC core members, then the
//     properties in column order.
//   - a geometry loses the members GeoJSON geometries may carry besides
//     type, coordinates and geometries (a bbox, a crs), and positions keep
//     3 numbers at most; an absent geometry reads back null.
//   - top-level members outside the STAC core (a server's "score") are
//     columns like properties and read back inside properties; properties
//     named like a core member (a property "id") are left out
//     (Stats.DroppedProperties, Stats.HoistedMembers).
//   - a nested object with a repeated member name keeps the first value.
//
// # The Parquet library
//
// The package uses github.com/parquet-go/parquet-go, not apache/arrow-go's
// pqarrow:
//
//   - Binary size and dependencies: a program that only opens a file with
//     pqarrow is 47 MB, because pqarrow imports arrow/flight and with it
//     gRPC and protobuf (18 modules in go.mod); the same with parquet-go is
//     17 MB, and a program using this package 19 MB (parquet-go adds
//     klauspost/compress, brotli, lz4, uuid, protobuf, go-geom and two
//     small parquet-go modules). The stacq binary is 13 MB without it.
//   - Dynamic schemas: parquet-go schemas are trees of Node values built at
//     run time, and rows are written as values with their repetition and
//     definition levels, which this package computes itself while it
//     walks an item's JSON once; nothing goes through Go structs or
//     reflection. pqarrow needs an Arrow record built column by column with
//     typed builders, one more copy of every value.
//   - Reading: parquet-go exposes the row groups' column statistics and
//     reads rows as levelled values that this package assembles back into
//     JSON, for files of any writer.
//   - Speed: each item's JSON is parsed once, when it is written, by a
//     validating scanner onto a tape of its values that the inference and
//     the shredding walk (items read back from the spool are parsed
//     again); row groups are shredded, encoded and zstd-compressed (at
//     its fastest level) by goroutines on every core, most of them while
//     items are still being written. For 100k synthetic Sentinel-2 items
//     of 4.8 KB (TestExportBenchmark, 2 cores shared with other work) the
//     file is 6.1% of the NDJSON, the peak RSS about 70 MB, and the
//     export takes 1.6 to 2 times as long as writing the NDJSON (2.4 to
//     2.9 s against 1.25 to 1.8 s). It needs 3 to 4 times the NDJSON's
//     CPU time (4.5 to 5.3 s), so when only one core is free it takes 3
//     to 4 times as long.
//   - Neither needs cgo.
package stacparquet
