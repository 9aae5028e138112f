package duckdbtest

import (
	"context"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"
	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/stacq/stacq/stacparquet"
	recordeditems "github.com/stacq/stacq/stacparquet/internal/recorded"
)

func openDB(t testing.TB) *sql.DB {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// recorded returns the items of every recorded search page.
func recorded(t testing.TB) map[string][][]byte {
	t.Helper()
	items, err := recordeditems.Items("../../../testdata/recorded")
	if err != nil {
		t.Fatal(err)
	}
	return items
}

func write(t testing.TB, path string, items [][]byte, opts stacparquet.WriterOptions) stacparquet.Stats {
	t.Helper()
	opts.TempDir = t.TempDir()
	w, err := stacparquet.Create(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		if err := w.Write(it); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return w.Stats()
}

func writeNDJSON(t testing.TB, path string, items [][]byte) {
	t.Helper()
	var b []byte
	for _, it := range items {
		b = append(append(b, it...), '\n')
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func q(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// columns returns the file's column names and DuckDB types.
func columns(t testing.TB, db *sql.DB, from string) map[string]string {
	t.Helper()
	return pairs(t, db, "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM "+from+")")
}

// kv returns the file's key-value metadata as DuckDB reads it.
func kv(t testing.TB, db *sql.DB, path string) map[string]string {
	t.Helper()
	return pairs(t, db, "SELECT decode(key), decode(value) FROM parquet_kv_metadata("+q(path)+")")
}

// pairs runs a query of two string columns and maps the first to the
// second.
func pairs(t testing.TB, db *sql.DB, query string) map[string]string {
	t.Helper()
	rows, err := db.Query(query)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			t.Fatal(err)
		}
		out[k] = v
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestDuckDBReadsEveryRecordedPage: DuckDB reads each file stacparquet
// writes from a recorded page: the row count, the columns and their types,
// and the geo and stac-geoparquet metadata are what they should be.
func TestDuckDBReadsEveryRecordedPage(t *testing.T) {
	db := openDB(t)
	pages := recorded(t)
	names := make([]string, 0, len(pages))
	for n := range pages {
		names = append(names, n)
	}
	sort.Strings(names)
	var all [][]byte
	for _, n := range names {
		all = append(all, pages[n]...)
	}
	names = append(names, "all")
	pages["all"] = all
	for _, name := range names {
		items := pages[name]
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "x.parquet")
			collections := map[string][]byte{}
			for _, it := range items {
				var m struct {
					Collection string `json:"collection"`
				}
				json.Unmarshal(it, &m)
				if m.Collection != "" {
					collections[m.Collection] = []byte(fmt.Sprintf(`{"type":"Collection","id":%q,"description":"d"}`, m.Collection))
				}
			}
			write(t, path, items, stacparquet.WriterOptions{RowGroupSize: 50, Collections: stacparquet.StaticCollections(collections)})
			from := "read_parquet(" + q(path) + ")"

			var n int
			if err := db.QueryRow("SELECT count(*) FROM " + from).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != len(items) {
				t.Fatalf("DuckDB counts %d rows, %d written", n, len(items))
			}

			cols := columns(t, db, from)
			want := map[string]string{
				"type": "VARCHAR", "stac_version": "VARCHAR", "stac_extensions": "VARCHAR[]", "id": "VARCHAR",
				"geometry": "GEOMETRY('OGC:CRS84')", "bbox": "STRUCT(xmin DOUBLE, ymin DOUBLE, xmax DOUBLE, ymax DOUBLE)",
				"datetime": "TIMESTAMP WITH TIME ZONE",
			}
			for c, typ := range want {
				if cols[c] != typ {
					t.Errorf("column %s is %q, want %q", c, cols[c], typ)
				}
			}
			for _, c := range []string{"start_datetime", "end_datetime", "created", "updated"} {
				if typ, ok := cols[c]; ok && typ != "TIMESTAMP WITH TIME ZONE" {
					t.Errorf("column %s is %q", c, typ)
				}
			}
			if typ, ok := cols["links"]; ok && (!strings.HasPrefix(typ, "STRUCT(") || !strings.HasSuffix(typ, ")[]") || !strings.Contains(typ, "href VARCHAR")) {
				t.Errorf("links is %q", typ)
			}
			if typ, ok := cols["assets"]; ok && !strings.HasPrefix(typ, "STRUCT(") {
				t.Errorf("assets is %q", typ)
			}
			if _, ok := cols["properties"]; ok {
				t.Error("a properties column: properties are not pulled up")
			}

			md := kv(t, db, path)
			var geo struct {
				Version       string `json:"version"`
				PrimaryColumn string `json:"primary_column"`
				Columns       map[string]struct {
					Encoding      string         `json:"encoding"`
					GeometryTypes []string       `json:"geometry_types"`
					BBox          []float64      `json:"bbox"`
					Covering      map[string]any `json:"covering"`
					CRS           jsontext.Value `json:"crs"`
				} `json:"columns"`
			}
			if err := json.Unmarshal([]byte(md["geo"]), &geo); err != nil {
				t.Fatalf("geo metadata %q: %v", md["geo"], err)
			}
			g := geo.Columns["geometry"]
			if geo.Version != "1.1.0" || geo.PrimaryColumn != "geometry" || g.Encoding != "WKB" || g.Covering == nil || g.CRS != nil {
				t.Errorf("geo metadata %s", md["geo"])
			}
			var xmin, ymin, xmax, ymax sql.NullFloat64
			if err := db.QueryRow("SELECT min(bbox.xmin), min(bbox.ymin), max(bbox.xmax), max(bbox.ymax) FROM "+from+" WHERE geometry IS NOT NULL").Scan(&xmin, &ymin, &xmax, &ymax); err != nil {
				t.Fatal(err)
			}
			// The file bbox is the extent of the geometries, which lie in
			// their items' bboxes.
			const eps = 1e-5 // servers round bboxes
			if xmin.Valid && (len(g.BBox) != 4 || g.BBox[0] < xmin.Float64-eps || g.BBox[1] < ymin.Float64-eps || g.BBox[2] > xmax.Float64+eps || g.BBox[3] > ymax.Float64+eps) {
				t.Errorf("geo bbox %v, items' bboxes span %v %v %v %v", g.BBox, xmin, ymin, xmax, ymax)
			}
			if len(g.GeometryTypes) == 0 && xmin.Valid {
				t.Error("no geometry_types")
			}

			var sg stacparquet.Metadata
			if err := json.Unmarshal([]byte(md["stac-geoparquet"]), &sg); err != nil {
				t.Fatalf("stac-geoparquet metadata %q: %v", md["stac-geoparquet"], err)
			}
			if sg.Version != "1.0.0" || len(sg.Collections) != len(collections) {
				t.Errorf("stac-geoparquet metadata %s (collections %d)", md["stac-geoparquet"], len(collections))
			}
		})
	}
}

// TestDuckDBPropertiesMatchNDJSON: the same SQL over the parquet file and
// over the NDJSON of the same items gives the same answers.
func TestDuckDBPropertiesMatchNDJSON(t *testing.T) {
	db := openDB(t)
	pages := recorded(t)
	var items [][]byte
	for _, n := range []string{"planetarycomputer_post_search_1c4e10.json", "planetarycomputer_post_search_5f0b2c.json", "earth-search_post_search_a5a075.json"} {
		if pages[n] == nil {
			t.Fatalf("no recorded page %s", n)
		}
		items = append(items, pages[n]...)
	}
	dir := t.TempDir()
	pq := filepath.Join(dir, "x.parquet")
	nd := filepath.Join(dir, "x.ndjson")
	write(t, pq, items, stacparquet.WriterOptions{RowGroupSize: 100})
	writeNDJSON(t, nd, items)
	P := "read_parquet(" + q(pq) + ")"
	J := "read_json(" + q(nd) + ", format='newline_delimited', sample_size=-1)"
	queries := []struct{ parquet, ndjson string }{
		{
			"SELECT count(*), count(DISTINCT collection) FROM " + P,
			"SELECT count(*), count(DISTINCT collection) FROM " + J,
		},
		{
			`SELECT id, round("eo:cloud_cover", 9) FROM ` + P + ` WHERE "eo:cloud_cover" < 20 ORDER BY id`,
			`SELECT id, round(properties."eo:cloud_cover", 9) FROM ` + J + ` WHERE properties."eo:cloud_cover" < 20 ORDER BY id`,
		},
		{
			`SELECT id, strftime(datetime AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%f') FROM ` + P + ` ORDER BY id`,
			`SELECT id, strftime(properties.datetime::TIMESTAMPTZ AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%f') FROM ` + J + ` ORDER BY id`,
		},
		{
			`SELECT collection, platform, count(*) FROM ` + P + ` GROUP BY ALL ORDER BY ALL`,
			`SELECT collection, properties.platform, count(*) FROM ` + J + ` GROUP BY ALL ORDER BY ALL`,
		},
		{
			`SELECT id, bbox.xmin, bbox.ymin, bbox.xmax, bbox.ymax FROM ` + P + ` ORDER BY id`,
			`SELECT id, bbox[1], bbox[2], bbox[3], bbox[4] FROM ` + J + ` ORDER BY id`,
		},
		{
			`SELECT id, len(links), links[1].rel, links[1].href FROM ` + P + ` ORDER BY id`,
			`SELECT id, len(links), links[1].rel, links[1].href FROM ` + J + ` ORDER BY id`,
		},
		{
			`SELECT id, list_sort(stac_extensions)::VARCHAR FROM ` + P + ` ORDER BY id`,
			`SELECT id, list_sort(stac_extensions)::VARCHAR FROM ` + J + ` ORDER BY id`,
		},
	}
	for _, qq := range queries {
		a := rowsOf(t, db, qq.parquet)
		b := rowsOf(t, db, qq.ndjson)
		if len(a) == 0 {
			t.Errorf("no rows: %s", qq.parquet)
		}
		if !slices.Equal(a, b) {
			t.Errorf("%s\n%d rows: %.300v\n%s\n%d rows: %.300v", qq.parquet, len(a), a, qq.ndjson, len(b), b)
		}
	}
}

func rowsOf(t testing.TB, db *sql.DB, query string) []string {
	t.Helper()
	rows, err := db.Query(query)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for i, v := range vals {
			if i > 0 {
				b.WriteString("|")
			}
			fmt.Fprint(&b, v)
		}
		out = append(out, b.String())
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestDuckDBHivePartitioned: DuckDB reads a partitioned dataset as one,
// with the partition keys as columns.
func TestDuckDBHivePartitioned(t *testing.T) {
	db := openDB(t)
	pages := recorded(t)
	var items [][]byte
	for _, page := range pages {
		items = append(items, page...)
	}
	dir := filepath.Join(t.TempDir(), "ds")
	w, err := stacparquet.NewPartitionedWriter(dir, stacparquet.PartitionOptions{
		WriterOptions: stacparquet.WriterOptions{TempDir: t.TempDir()},
		Keys:          []stacparquet.PartitionKey{stacparquet.ByCollection, stacparquet.ByYear, stacparquet.ByMonth},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{}
	for _, it := range items {
		if err := w.Write(it); err != nil {
			t.Fatal(err)
		}
		var m struct {
			Collection string `json:"collection"`
			Properties struct {
				Datetime *time.Time `json:"datetime"`
			} `json:"properties"`
		}
		if err := json.Unmarshal(it, &m); err != nil {
			t.Fatal(err)
		}
		key := m.Collection + " <nil> <nil>"
		if m.Properties.Datetime != nil {
			d := m.Properties.Datetime.UTC()
			key = fmt.Sprintf("%s %d %d", m.Collection, d.Year(), d.Month())
		}
		want[key]++
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	from := "read_parquet(" + q(dir+"/**/*.parquet") + ", hive_partitioning=true)"
	got := map[string]int{}
	for _, row := range rowsOf(t, db, "SELECT collection || ' ' || coalesce(year::VARCHAR, '<nil>') || ' ' || coalesce(month::VARCHAR, '<nil>'), count(*) FROM "+from+" GROUP BY ALL") {
		k, count, _ := strings.Cut(row, "|")
		var n int
		fmt.Sscan(count, &n)
		got[k] = n
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("DuckDB partitions %v\nwant %v", got, want)
	}
	var n int
	if err := db.QueryRow("SELECT count(*) FROM " + from + " WHERE year = 2023 AND month = 10").Scan(&n); err != nil {
		t.Fatal(err)
	}
	wantN := 0
	for k, c := range want {
		if strings.HasSuffix(k, " 2023 10") {
			wantN += c
		}
	}
	if n != wantN || n == 0 {
		t.Errorf("year=2023 month=10: %d rows, want %d", n, wantN)
	}
}

// TestReadsDuckDBWrittenFile: a stac-geoparquet file written by another
// writer (DuckDB here, with the layout of the reference writers: WKB
// geometry, bbox struct, list of link structs, millisecond timestamps,
// metadata without collections) reads back as items.
func TestReadsDuckDBWrittenFile(t *testing.T) {
	db := openDB(t)
	path := filepath.Join(t.TempDir(), "duck.parquet")
	geo := `{"version":"1.1.0","primary_column":"geometry","columns":{"geometry":{"encoding":"WKB","geometry_types":["Polygon"],"covering":{"bbox":{"xmin":["bbox","xmin"],"ymin":["bbox","ymin"],"xmax":["bbox","xmax"],"ymax":["bbox","ymax"]}}}}}`
	_, err := db.Exec(`COPY (
		SELECT 'Feature' AS type, '1.1.0' AS stac_version, ['https://x/eo.json'] AS stac_extensions,
			'item-' || i AS id,
			from_hex('` + squareWKB() + `') AS geometry,
			{'xmin': 0.0, 'ymin': 0.0, 'xmax': 1.0, 'ymax': 1.0} AS bbox,
			'duck' AS collection,
			(TIMESTAMPTZ '2024-05-01 10:00:00+00' + INTERVAL (i) HOUR)::TIMESTAMP_MS AS datetime,
			i * 1.5 AS "eo:cloud_cover",
			CASE WHEN i % 2 = 0 THEN 'even' END AS parity,
			[{'rel': 'self', 'href': 'https://x/' || i}] AS links,
			{'data': {'href': 'https://x/' || i || '.tif', 'roles': ['data']}} AS assets
		FROM range(5) t(i)
	) TO ` + q(path) + ` (FORMAT parquet, KV_METADATA {geo: ` + q(geo) + `, 'stac-geoparquet': '{"version":"1.0.0"}'})`)
	if err != nil {
		t.Fatal(err)
	}
	r, err := stacparquet.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var got []string
	for it, err := range r.Items(context.Background(), stacparquet.Filter{BBox: []float64{0.5, 0.5, 2, 2}, Start: time.Date(2024, 5, 1, 11, 0, 0, 0, time.UTC)}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, string(it))
	}
	if len(got) != 4 {
		t.Fatalf("read %d items: %v", len(got), got)
	}
	want := `{"type":"Feature","stac_version":"1.1.0","stac_extensions":["https://x/eo.json"],"id":"item-1",` +
		`"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1],[0,0]]]},"bbox":[0,0,1,1],` +
		`"properties":{"datetime":"2024-05-01T11:00:00Z","eo:cloud_cover":1.5},` +
		`"links":[{"rel":"self","href":"https://x/1"}],"assets":{"data":{"href":"https://x/1.tif","roles":["data"]}},"collection":"duck"}`
	if got[0] != want {
		t.Errorf("read\n%s\nwant\n%s", got[0], want)
	}
}

// squareWKB is the hex of the WKB of the unit square polygon.
func squareWKB() string {
	b := []byte{1}
	b = binary.LittleEndian.AppendUint32(b, 3) // Polygon
	b = binary.LittleEndian.AppendUint32(b, 1) // rings
	b = binary.LittleEndian.AppendUint32(b, 5) // points
	for _, p := range [][2]float64{{0, 0}, {1, 0}, {1, 1}, {0, 1}, {0, 0}} {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(p[0]))
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(p[1]))
	}
	return hex.EncodeToString(b)
}

// TestRefusesPlainParquet: a Parquet file without GeoParquet and STAC
// metadata is refused with a clear error.
func TestRefusesPlainParquet(t *testing.T) {
	db := openDB(t)
	path := filepath.Join(t.TempDir(), "plain.parquet")
	if _, err := db.Exec(`COPY (SELECT 1 AS a, 'x' AS b) TO ` + q(path) + ` (FORMAT parquet)`); err != nil {
		t.Fatal(err)
	}
	_, err := stacparquet.Open(path)
	if err == nil || !strings.Contains(err.Error(), `no GeoParquet "geo" metadata`) {
		t.Fatalf("Open = %v", err)
	}
}
