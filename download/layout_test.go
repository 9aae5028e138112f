package download_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/stacq/stacq/download"
	"github.com/stacq/stacq/stac"
)

func TestLayoutPaths(t *testing.T) {
	it := newItem("S2A_T31UDQ", nil)
	it.Collection = "sentinel-2-l2a"
	tiff := &stac.Asset{Type: "image/tiff; application=geotiff"}
	zip := &stac.Asset{Type: "application/zip"}
	tests := []struct {
		template, key, href string
		a                   *stac.Asset
		want                string
	}{
		{"", "red", "https://h/x/B04.tif?sig=1", tiff, "sentinel-2-l2a/S2A_T31UDQ/B04.tif"},
		{"{id}/{asset}{ext}", "red", "https://h/x/B04.TIF", tiff, "S2A_T31UDQ/red.TIF"},
		{"{id}/{asset}{ext}", "red", "https://h/x/B04", tiff, "S2A_T31UDQ/red.tif"},
		{"{datetime:%Y/%m/%d}/{id}/{filename}", "red", "https://h/B04.tif", tiff, "2023/06/01/S2A_T31UDQ/B04.tif"},
		{"{datetime}/{filename}", "red", "https://h/B04.tif", tiff, "2023-06-01/B04.tif"},
		{"{datetime:%Y%j_%H%M%S_%y_%F_%%}/{filename}", "red", "https://h/B04.tif", tiff, "2023152_103000_23_2023-06-01_%/B04.tif"},
		{"{collection}/{filename}", "product", "https://zipper.example/odata/v1/Products(abc)/$value", zip, "sentinel-2-l2a/product.zip"},
		{"{collection}/{filename}", "dir", "https://h/a/b/", nil, "sentinel-2-l2a/b"},
		{"{{literal}}/{filename}", "k", "s3://bucket/key/f.nc", nil, "{literal}/f.nc"},
		{"./{id}//{filename}", "k", "https://h/f%20g.tif", nil, "S2A_T31UDQ/f g.tif"},
	}
	for _, tt := range tests {
		l, err := download.ParseLayout(tt.template)
		if err != nil {
			t.Errorf("ParseLayout(%q): %v", tt.template, err)
			continue
		}
		got, err := l.Path(it, tt.key, tt.a, tt.href)
		if err != nil || got != tt.want {
			t.Errorf("%q with %s: %q, %v; want %q", tt.template, tt.href, got, err, tt.want)
		}
	}
	// No collection: the level is dropped.
	it.Collection = ""
	l, _ := download.ParseLayout("")
	if got, err := l.Path(it, "k", nil, "https://h/a.tif"); got != "S2A_T31UDQ/a.tif" || err != nil {
		t.Errorf("no collection: %q, %v", got, err)
	}
}

func TestLayoutRefusals(t *testing.T) {
	for _, tmpl := range []string{
		"/abs/{id}", "../{id}", "{id}/../../x", "{id}/..", "{nope}", "{id", "id}", "{asset:%Y}",
		"{datetime:%Q}", "{datetime:%}", "{id}/", "a\x00b/{id}",
	} {
		_, err := download.ParseLayout(tmpl)
		var le *download.LayoutError
		if !errors.As(err, &le) {
			t.Errorf("ParseLayout(%q) = %v, want a LayoutError", tmpl, err)
		}
	}
	l, _ := download.ParseLayout("{collection}/{id}/{asset}")
	for _, bad := range []struct{ id, key string }{
		{"../../etc", "k"}, {"/etc", "k"}, {"a/../../b", "k"}, {"ok", ".."}, {"nul\x00", "k"}, {"ok", `..\x`},
	} {
		it := newItem(bad.id, nil)
		_, err := l.Path(it, bad.key, nil, "https://h/f")
		var le *download.LayoutError
		if !errors.As(err, &le) {
			t.Errorf("id %q key %q: %v, want a LayoutError", bad.id, bad.key, err)
		}
	}
	// A server's file name cannot climb out either.
	l2, _ := download.ParseLayout("{filename}")
	if p, err := l2.Path(newItem("i", nil), "k", nil, "https://h/a/%2e%2e"); err == nil && strings.Contains(p, "..") {
		t.Errorf("filename from %%2e%%2e: %q", p)
	}
	// An item without a datetime cannot fill {datetime}.
	it := newItem("i", nil)
	it.Properties = stac.Properties{"datetime": jsontext.Value("null")}
	l3, _ := download.ParseLayout("{datetime}/{filename}")
	if _, err := l3.Path(it, "k", nil, "https://h/f"); err == nil || !strings.Contains(err.Error(), "no datetime") {
		t.Errorf("no datetime: %v", err)
	}
}

func FuzzLayout(f *testing.F) {
	for _, s := range []string{"", "{collection}/{id}/{filename}", "{datetime:%Y/%m}/{id}{ext}", "{{x}}/{asset}", "../{id}", "/a"} {
		f.Add(s, "S2A_1", "B04", "https://h/a/B04.tif")
	}
	f.Add("{id}/{asset}", "../..", "..", "https://h/..")
	f.Add("{filename}", "i", "k", "https://h/%2e%2e/%00")
	f.Fuzz(func(t *testing.T, tmpl, id, key, href string) {
		l, err := download.ParseLayout(tmpl)
		if err != nil {
			return
		}
		it := newItem(id, nil)
		p, err := l.Path(it, key, &stac.Asset{Type: "image/tiff"}, href)
		if err != nil {
			return
		}
		if !filepath.IsLocal(filepath.FromSlash(p)) || strings.Contains(p, "\x00") {
			t.Fatalf("template %q, id %q, key %q, href %q: path %q escapes", tmpl, id, key, href, p)
		}
		for _, seg := range strings.Split(p, "/") {
			if seg == ".." || seg == "" {
				t.Fatalf("path %q has segment %q", p, seg)
			}
		}
	})
}
