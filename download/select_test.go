package download_test

import (
	"reflect"
	"testing"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/stacq/stacq/download"
	"github.com/stacq/stacq/stac"
)

func TestSplitList(t *testing.T) {
	got := download.SplitList("B02, B03", "", "B04,,", " visual ")
	if want := []string{"B02", "B03", "B04", "visual"}; !reflect.DeepEqual(got, want) {
		t.Errorf("SplitList = %q, want %q", got, want)
	}
}

func TestSelectionMatch(t *testing.T) {
	cog := &stac.Asset{Type: "image/tiff; application=geotiff; profile=cloud-optimized", Roles: []string{"data", "reflectance"}}
	jpg := &stac.Asset{Type: "image/jpeg", Roles: []string{"thumbnail"}}
	meta := &stac.Asset{Type: "application/xml", Roles: []string{"metadata"}}
	tests := []struct {
		sel  download.Selection
		key  string
		a    *stac.Asset
		want bool
	}{
		{download.Selection{}, "anything", meta, true},
		{download.Selection{Keys: []string{"B0?"}}, "B04", cog, true},
		{download.Selection{Keys: []string{"B0?"}}, "B11", cog, false},
		{download.Selection{Keys: []string{"B1*", "visual"}}, "visual", cog, true},
		{download.Selection{Roles: []string{"DATA"}}, "B04", cog, true},
		{download.Selection{Roles: []string{"data"}}, "thumb", jpg, false},
		{download.Selection{MediaTypes: []string{"image/tiff"}}, "B04", cog, true},
		{download.Selection{MediaTypes: []string{"image/*"}}, "thumb", jpg, true},
		{download.Selection{MediaTypes: []string{"image/tiff; application=geotiff"}}, "B04", cog, false},
		{download.Selection{MediaTypes: []string{"image/tiff; profile=cloud-optimized; application=geotiff"}}, "B04", cog, true},
		{download.Selection{Keys: []string{"B04"}, Roles: []string{"thumbnail"}}, "B04", cog, false},
		{download.Selection{}, "nil", nil, false},
	}
	for _, tt := range tests {
		if got := tt.sel.Match(tt.key, tt.a); got != tt.want {
			t.Errorf("%+v.Match(%s) = %v, want %v", tt.sel, tt.key, got, tt.want)
		}
	}
	if err := (download.Selection{Keys: []string{"[B"}}).Check(); err == nil {
		t.Error("a malformed pattern passed Check")
	}
	if err := (download.Selection{MediaTypes: []string{"image/tiff; =x"}}).Check(); err == nil {
		t.Error("a malformed media type passed Check")
	}
}

func TestSelectionHref(t *testing.T) {
	a := &stac.Asset{Href: "https://h/B04.tif", Extra: stac.Members{
		"alternate": jsontext.Value(`{"s3": {"href": "s3://bucket/B04.tif", "title": "S3"}, "https": {"href": "https://mirror/B04.tif"}}`),
	}}
	for _, tt := range []struct{ name, want string }{
		{"", "https://h/B04.tif"}, {"s3", "s3://bucket/B04.tif"}, {"alternate.https", "https://mirror/B04.tif"}, {"ftp", "https://h/B04.tif"},
	} {
		got, _, err := download.Selection{Alternate: tt.name}.Href(a)
		if err != nil || got != tt.want {
			t.Errorf("alternate %q: %q, %v; want %q", tt.name, got, err, tt.want)
		}
	}
	for _, bad := range []string{`[1]`, `{"s3": "s3://x"}`, `{"s3": {}}`, `{"s3": {"href": 3}}`} {
		b := &stac.Asset{Href: "h", Extra: stac.Members{"alternate": jsontext.Value(bad)}}
		if _, _, err := (download.Selection{Alternate: "s3"}).Href(b); err == nil {
			t.Errorf("alternate %s accepted", bad)
		}
	}
}

func FuzzAlternates(f *testing.F) {
	for _, s := range []string{`{"s3": {"href": "s3://b/k"}}`, `{}`, `null`, `{"a": {"href": ""}}`, `{"a": {"href": "x", "href": "y"}}`, `[`} {
		f.Add(s, "s3")
	}
	f.Fuzz(func(t *testing.T, raw, name string) {
		a := &stac.Asset{Href: "https://h/f", Extra: stac.Members{"alternate": jsontext.Value(raw)}}
		alts, err := download.Alternates(a)
		if err != nil {
			return
		}
		for n, h := range alts {
			if h == "" {
				t.Fatalf("alternate %q with an empty href accepted", n)
			}
		}
		href, alt, err := download.Selection{Alternate: name}.Href(a)
		if err != nil || href == "" || !alt && href != a.Href {
			t.Fatalf("Href: %q %v %v", href, alt, err)
		}
	})
}

func FuzzSelection(f *testing.F) {
	f.Add("B0?,visual", "data", "image/tiff", "B04", "image/tiff; application=geotiff")
	f.Add("[", "", "image/*", "x", "")
	f.Add("*", "", "image/tiff; a=b", "k", "image/tiff; A=B")
	f.Fuzz(func(t *testing.T, keys, roles, types, key, mediaType string) {
		s := download.Selection{Keys: download.SplitList(keys), Roles: download.SplitList(roles), MediaTypes: download.SplitList(types)}
		a := &stac.Asset{Href: "h", Type: mediaType, Roles: []string{"data"}}
		if s.Check() != nil {
			return
		}
		s.Match(key, a) // must not panic
	})
}
