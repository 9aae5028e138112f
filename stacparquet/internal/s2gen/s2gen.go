// Package s2gen generates synthetic Sentinel-2-like STAC items, about
// 4.5 KB of JSON each, for the stacparquet benchmarks: the properties, assets
// and links of an Earth Search item, with values that vary from item to
// item as real ones do (ids, hrefs, angles, percentages, footprints).
package s2gen

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"time"
)

// Epoch is the datetime of item 0; item i is i×7 minutes later.
var Epoch = time.Date(2023, 1, 1, 10, 30, 0, 0, time.UTC)

var bands = []struct {
	name, common string
	gsd          int
}{
	{"B01", "coastal", 60}, {"B02", "blue", 10}, {"B03", "green", 10}, {"B04", "red", 10},
	{"B08", "nir", 10}, {"B11", "swir16", 20}, {"B12", "swir22", 20},
}

// Item returns item i (deterministic).
func Item(i int) []byte {
	r := rand.New(rand.NewPCG(uint64(i), 0x5eed))
	dt := Epoch.Add(time.Duration(i) * 7 * time.Minute)
	zone := 1 + i%60
	band := "CDEFGHJKLMNPQRSTUVWX"[i/60%20]
	square := fmt.Sprintf("%c%c", "ABCDEFGHJKLMNPQRSTUVWXYZ"[i/1200%24], "ABCDEFGHJKLMNPQRSTUV"[i/28800%20])
	tile := fmt.Sprintf("%02d%c%s", zone, band, square)
	sat := "S2A"
	if i%2 == 1 {
		sat = "S2B"
	}
	id := fmt.Sprintf("%s_%s_%s_0_L2A", sat, tile, dt.Format("20060102"))
	lon := -180 + float64(zone-1)*6 + r.Float64()*5
	lat := -80 + float64(i/60%20)*8 + r.Float64()*7
	w, h := 0.9+r.Float64()*0.5, 0.9+r.Float64()*0.1
	base := "https://sentinel-cogs.s3.us-west-2.amazonaws.com/sentinel-s2-l2a-cogs/" + strconv.Itoa(zone) + "/" + string(band) + "/" + square + "/" + dt.Format("2006/1") + "/" + id + "/"
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	pct := func() string { return strconv.FormatFloat(math.Round(r.Float64()*1e8)/1e6, 'f', -1, 64) }

	b := make([]byte, 0, 4500)
	b = fmt.Appendf(b, `{"type":"Feature","stac_version":"1.0.0","id":%q,"properties":{`, id)
	b = fmt.Appendf(b, `"created":%q,"platform":"sentinel-2%s","constellation":"sentinel-2","instruments":["msi"],`,
		dt.Add(3*time.Hour+time.Duration(r.IntN(3600))*time.Second).Format("2006-01-02T15:04:05.000Z"), map[bool]string{true: "a", false: "b"}[sat == "S2A"])
	b = fmt.Appendf(b, `"eo:cloud_cover":%s,"proj:epsg":%d,"mgrs:utm_zone":%d,"mgrs:latitude_band":"%c","mgrs:grid_square":%q,"grid:code":"MGRS-%s",`,
		pct(), 32600+zone, zone, band, square, tile)
	b = fmt.Appendf(b, `"view:sun_azimuth":%s,"view:sun_elevation":%s,"s2:degraded_msi_data_percentage":%s,"s2:nodata_pixel_percentage":%s,`,
		f(100+r.Float64()*100), f(10+r.Float64()*60), pct(), pct())
	b = fmt.Appendf(b, `"s2:saturated_defective_pixel_percentage":0,"s2:dark_features_percentage":%s,"s2:cloud_shadow_percentage":%s,"s2:vegetation_percentage":%s,`,
		pct(), pct(), pct())
	b = fmt.Appendf(b, `"s2:water_percentage":%s,"s2:snow_ice_percentage":%s,"s2:product_type":"S2MSI2A",`, pct(), pct())
	b = fmt.Appendf(b, `"s2:processing_baseline":"05.09","s2:product_uri":"%s_MSIL2A_%s_N0509_R%03d_T%s_%s.SAFE","s2:generation_time":%q,`,
		sat, dt.Format("20060102T150405"), 1+i%143, tile, dt.Add(5*time.Hour).Format("20060102T150405"), dt.Add(5*time.Hour).Format("2006-01-02T15:04:05.000000Z"))
	b = fmt.Appendf(b, `"s2:datatake_id":"G%s_%s_%06d_N05.09","s2:datatake_type":"INS-NOBS",`, sat, dt.Format("20060102T150405"), i%1000000)
	b = fmt.Appendf(b, `"earthsearch:boa_offset_applied":true,"processing:software":{"sentinel2-to-stac":"0.1.1"},`)
	b = fmt.Appendf(b, `"updated":%q,"datetime":%q},`, dt.Add(4*time.Hour).Format("2006-01-02T15:04:05.000Z"), dt.Format("2006-01-02T15:04:05.000000Z"))
	x0, y0, x1, y1 := lon, lat, lon+w, lat+h
	b = fmt.Appendf(b, `"geometry":{"type":"Polygon","coordinates":[[[%s,%s],[%s,%s],[%s,%s],[%s,%s],[%s,%s],[%s,%s]]]},`,
		f(x0+r.Float64()*0.01), f(y0), f(x1), f(y0+r.Float64()*0.01), f(x1-r.Float64()*0.01), f(y1), f(x0+w/2), f(y1+r.Float64()*0.01), f(x0), f(y1-r.Float64()*0.01), f(x0+r.Float64()*0.01), f(y0))
	b = fmt.Appendf(b, `"links":[{"rel":"self","type":"application/geo+json","href":"https://earth-search.aws.element84.com/v1/collections/sentinel-2-l2a/items/%s"},`, id)
	b = append(b, `{"rel":"parent","type":"application/json","href":"https://earth-search.aws.element84.com/v1/collections/sentinel-2-l2a"},{"rel":"collection","type":"application/json","href":"https://earth-search.aws.element84.com/v1/collections/sentinel-2-l2a"},{"rel":"root","type":"application/json","href":"https://earth-search.aws.element84.com/v1"}],"assets":{`...)
	for k, bd := range bands {
		if k > 0 {
			b = append(b, ',')
		}
		size := 10980 * 10 / bd.gsd
		b = fmt.Appendf(b, `%q:{"href":"%s%s.tif","type":"image/tiff; application=geotiff; profile=cloud-optimized","title":"%s (%s)","gsd":%d,"proj:shape":[%d,%d],"roles":["data"]}`,
			bd.common, base, bd.name, bd.common, bd.name, bd.gsd, size, size)
	}
	b = fmt.Appendf(b, `,"thumbnail":{"href":"%sthumbnail.jpg","type":"image/jpeg","title":"Thumbnail image","roles":["thumbnail"]},"scl":{"href":"%sSCL.tif","type":"image/tiff; application=geotiff; profile=cloud-optimized","title":"Scene classification map (SCL)","roles":["data"]}},`, base, base)
	b = fmt.Appendf(b, `"bbox":[%s,%s,%s,%s],"stac_extensions":["https://stac-extensions.github.io/eo/v1.1.0/schema.json","https://stac-extensions.github.io/projection/v1.1.0/schema.json","https://stac-extensions.github.io/raster/v1.1.0/schema.json","https://stac-extensions.github.io/view/v1.0.0/schema.json"],"collection":"sentinel-2-l2a"}`,
		f(x0), f(y0), f(x1), f(y1+0.01))
	return b
}
