package stactest

import (
	"encoding/json"
	"fmt"
	"time"
)

// item is a synthetic Sentinel-2-like item, kept as its JSON encoding plus
// the few fields the server filters on.
type item struct {
	id         string
	collection string
	datetime   time.Time
	bbox       [4]float64
	cloud      float64
	json       []byte
}

// Epoch is the datetime of the first synthetic item; item i is i hours later.
var Epoch = time.Date(2023, 1, 1, 10, 30, 0, 0, time.UTC)

// makeItems builds n items spread over the collections, one per hour from
// Epoch, on a grid of tiles around the globe, each about 3 KB of JSON with
// the eo, proj and view extension fields and a full set of assets.
func makeItems(n int, collections []string, baseURL string) []*item {
	items := make([]*item, n)
	for i := range n {
		col := collections[i%len(collections)]
		dt := Epoch.Add(time.Duration(i) * time.Hour)
		lon := float64(i%36)*10 - 180 + 1
		lat := float64((i/36)%17)*10 - 85 + 1
		it := &item{
			id:         fmt.Sprintf("S2A_%05d_%s", i, dt.Format("20060102T150405")),
			collection: col,
			datetime:   dt,
			bbox:       [4]float64{lon, lat, lon + 1, lat + 1},
			cloud:      float64((i * 37) % 100),
		}
		it.json = it.encode(baseURL)
		items[i] = it
	}
	return items
}

func (it *item) encode(baseURL string) []byte {
	lon, lat, lon2, lat2 := it.bbox[0], it.bbox[1], it.bbox[2], it.bbox[3]
	self := fmt.Sprintf("%s/collections/%s/items/%s", baseURL, it.collection, it.id)
	assets := map[string]any{}
	for _, band := range []struct{ name, common string }{
		{"B02", "blue"}, {"B03", "green"}, {"B04", "red"}, {"B08", "nir"}, {"B11", "swir16"}, {"B12", "swir22"},
	} {
		assets[band.common] = map[string]any{
			"href":         fmt.Sprintf("https://data.example.com/s2/%s/%s.tif", it.id, band.name),
			"type":         "image/tiff; application=geotiff; profile=cloud-optimized",
			"title":        band.name,
			"roles":        []string{"data", "reflectance"},
			"eo:bands":     []map[string]any{{"name": band.name, "common_name": band.common}},
			"gsd":          10,
			"proj:shape":   []int{10980, 10980},
			"raster:bands": []map[string]any{{"nodata": 0, "data_type": "uint16", "scale": 0.0001, "offset": -0.1}},
		}
	}
	assets["thumbnail"] = map[string]any{
		"href": fmt.Sprintf("https://data.example.com/s2/%s/preview.jpg", it.id), "type": "image/jpeg", "roles": []string{"thumbnail"},
	}
	doc := map[string]any{
		"type":         "Feature",
		"stac_version": "1.0.0",
		"stac_extensions": []string{
			"https://stac-extensions.github.io/eo/v1.1.0/schema.json",
			"https://stac-extensions.github.io/projection/v1.1.0/schema.json",
			"https://stac-extensions.github.io/view/v1.0.0/schema.json",
		},
		"id":         it.id,
		"collection": it.collection,
		"bbox":       []float64{lon, lat, lon2, lat2},
		"geometry": map[string]any{
			"type":        "Polygon",
			"coordinates": [][][2]float64{{{lon, lat}, {lon2, lat}, {lon2, lat2}, {lon, lat2}, {lon, lat}}},
		},
		"properties": map[string]any{
			"datetime":               it.datetime.Format(time.RFC3339),
			"platform":               "sentinel-2a",
			"constellation":          "sentinel-2",
			"instruments":            []string{"msi"},
			"eo:cloud_cover":         it.cloud,
			"proj:epsg":              32600 + int(lon+180)/6 + 1,
			"view:sun_azimuth":       150.25,
			"view:sun_elevation":     35.5,
			"s2:mgrs_tile":           fmt.Sprintf("%02dABC", int(lon+180)/6+1),
			"s2:processing_baseline": "05.09",
			"created":                "2023-06-01T00:00:00Z",
		},
		"links": []map[string]any{
			{"rel": "self", "href": self, "type": "application/geo+json"},
			{"rel": "collection", "href": baseURL + "/collections/" + it.collection, "type": "application/json"},
			{"rel": "parent", "href": baseURL + "/collections/" + it.collection, "type": "application/json"},
			{"rel": "root", "href": baseURL, "type": "application/json"},
		},
		"assets": assets,
	}
	b, err := json.Marshal(doc)
	if err != nil {
		panic(err) // static shapes: cannot fail
	}
	return b
}
