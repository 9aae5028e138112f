package geo_test

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/stacq/stacq/geo"
)

func ExampleParseDatetime() {
	for _, s := range []string{
		"2023",
		"2023-06",
		"2023/2024",
		"2023-06-01T10:00:00+02:00",
		"2023-01-01/..",
		"/2023-06-30",
	} {
		iv, err := geo.ParseDatetime(s)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println(iv)
	}
	_, err := geo.ParseDatetime("2023-02-29")
	fmt.Println(err)
	// Output:
	// 2023-01-01T00:00:00Z/2023-12-31T23:59:59Z
	// 2023-06-01T00:00:00Z/2023-06-30T23:59:59Z
	// 2023-01-01T00:00:00Z/2024-12-31T23:59:59Z
	// 2023-06-01T08:00:00Z
	// 2023-01-01T00:00:00Z/..
	// ../2023-06-30T23:59:59Z
	// day 29 out of range [1, 28] for February 2023 in "2023-02-29"
}

func ExampleParseBBox() {
	b, err := geo.ParseBBox("170, -10, -170, 10")
	if err != nil {
		panic(err)
	}
	fmt.Println(b, b.CrossesAntimeridian())
	fmt.Println(b.Bounds())

	_, err = geo.ParseBBox("-122.5,37.5,-122")
	fmt.Println(err)
	_, err = geo.ParseBBox("0,0,10,95")
	fmt.Println(err)
	// Output:
	// 170,-10,-170,10 true
	// [{[170 -10] [180 10]} {[-180 -10] [-170 10]}]
	// expected 4 or 6 numbers "minx,miny,maxx,maxy", got 3
	// latitude 95 out of range [-90, 90]
}

func ExampleReadGeometry() {
	g, err := geo.ReadGeometry("POLYGON((-73.21 43.99, -73.21 44.05, -73.12 44.05, -73.12 43.99, -73.21 43.99))", os.Stdin)
	if err != nil {
		panic(err)
	}
	intersects, _ := geo.GeometryJSON(g)
	fmt.Println(string(intersects))

	_, err = geo.ReadGeometry(`{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1]]]}`, os.Stdin)
	fmt.Println(err)
	// Output:
	// {"type":"Polygon","coordinates":[[[-73.21,43.99],[-73.21,44.05],[-73.12,44.05],[-73.12,43.99],[-73.21,43.99]]]}
	// coordinates[0]: the polygon ring is not closed: first position [0, 0] differs from last [0, 1]
}

func ExampleNewWriter() {
	features := []any{
		json.RawMessage(`{
			"type": "Feature",
			"id": "S2B_13TDE_20231008_0_L2A",
			"geometry": null,
			"properties": {"datetime": "2023-10-08T17:54:49Z"}
		}`),
		map[string]any{"type": "Feature", "id": "LC08_033032_20231008", "geometry": nil, "properties": map[string]any{}},
	}
	for _, f := range []geo.Format{geo.FormatNDJSON, geo.FormatFeatureCollection} {
		w := geo.NewWriter(os.Stdout, f)
		for _, feature := range features {
			if err := w.Write(feature); err != nil {
				panic(err)
			}
		}
		if err := w.Close(); err != nil {
			panic(err)
		}
	}
	// Output:
	// {"type":"Feature","id":"S2B_13TDE_20231008_0_L2A","geometry":null,"properties":{"datetime":"2023-10-08T17:54:49Z"}}
	// {"geometry":null,"id":"LC08_033032_20231008","properties":{},"type":"Feature"}
	// {"type":"FeatureCollection","features":[{"type":"Feature","id":"S2B_13TDE_20231008_0_L2A","geometry":null,"properties":{"datetime":"2023-10-08T17:54:49Z"}},{"geometry":null,"id":"LC08_033032_20231008","properties":{},"type":"Feature"}]}
}
