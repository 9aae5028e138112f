package download

import (
	"fmt"
	"mime"
	"net/url"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/stacq/stacq/stac"
)

// DefaultLayout puts each file under its collection and item, with the
// file name of its href: DIR/sentinel-2-l2a/S2A_.../B04.tif.
const DefaultLayout = "{collection}/{id}/{filename}"

// defaultDatetimeFormat is the format of a bare {datetime}.
const defaultDatetimeFormat = "%Y-%m-%d"

// Layout is a parsed layout template: where, relative to the download
// directory, each asset's file goes. Parse one with ParseLayout.
//
// Placeholders:
//
//	{collection}       the item's collection ("" drops the directory level)
//	{id}               the item's id
//	{asset}            the asset's key
//	{filename}         the last path segment of the href; when it has none
//	                   or is an OData "$value", {asset}{ext}
//	{ext}              the file name's extension with its dot (".tif"), else
//	                   one from the asset's media type, else ""
//	{datetime}         the item's datetime (else start_datetime), UTC, as %Y-%m-%d
//	{datetime:FORMAT}  the same with a strftime subset: %Y %y %m %d %H %M %S
//	                   %j (day of year) %F (%Y-%m-%d) %% (a percent sign)
//
// "{{" and "}}" stand for literal braces. A template is refused when it is
// absolute, holds a ".." segment or a NUL byte; a value (an id, an asset
// key, a file name from a server) is refused when it would climb out of
// the download directory the same way. Either is a *LayoutError.
type Layout struct {
	template string
	parts    []layoutPart
}

type layoutPart struct {
	literal string // when field is ""
	field   string // collection, id, asset, filename, ext, datetime
	format  string // for datetime
}

var layoutFields = map[string]bool{
	"collection": true, "id": true, "asset": true, "filename": true, "ext": true, "datetime": true,
}

// ParseLayout parses a layout template; "" is DefaultLayout.
func ParseLayout(template string) (*Layout, error) {
	if template == "" {
		template = DefaultLayout
	}
	bad := func(pos int, format string, args ...any) error {
		return &LayoutError{Template: template, Pos: pos, Reason: fmt.Sprintf(format, args...)}
	}
	if strings.IndexByte(template, 0) >= 0 {
		return nil, bad(strings.IndexByte(template, 0), "a NUL byte is not allowed")
	}
	l := &Layout{template: template}
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			l.parts = append(l.parts, layoutPart{literal: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(template); i++ {
		c := template[i]
		switch {
		case c == '{' && strings.HasPrefix(template[i:], "{{"):
			lit.WriteByte('{')
			i++
		case c == '}' && strings.HasPrefix(template[i:], "}}"):
			lit.WriteByte('}')
			i++
		case c == '}':
			return nil, bad(i, `unmatched "}" (write "}}" for a literal brace)`)
		case c == '{':
			end := strings.IndexByte(template[i:], '}')
			if end < 0 {
				return nil, bad(i, `unclosed "{"`)
			}
			spec := template[i+1 : i+end]
			name, format, hasFormat := strings.Cut(spec, ":")
			if !layoutFields[name] {
				return nil, bad(i, "unknown placeholder {%s}; expected {collection}, {id}, {asset}, {filename}, {ext}, {datetime} or {datetime:FORMAT}", clip(spec, 40))
			}
			if hasFormat && name != "datetime" {
				return nil, bad(i, "{%s} takes no format", name)
			}
			if name == "datetime" {
				if !hasFormat {
					format = defaultDatetimeFormat
				}
				if err := checkStrftime(format); err != nil {
					return nil, bad(i, "{datetime:%s}: %v", clip(format, 40), err)
				}
			}
			flush()
			l.parts = append(l.parts, layoutPart{field: name, format: format})
			i += end
		default:
			lit.WriteByte(c)
		}
	}
	flush()
	// The literal text alone must stay inside the directory, whatever the
	// values: no leading slash, no ".." segment in the template itself.
	var shape strings.Builder
	for _, p := range l.parts {
		if p.field != "" {
			shape.WriteString("x")
		} else {
			shape.WriteString(p.literal)
		}
	}
	s := shape.String()
	if path.IsAbs(s) || filepath.IsAbs(s) || strings.HasPrefix(s, `\`) {
		return nil, bad(0, "the layout must be relative to the download directory, not absolute")
	}
	for seg := range strings.FieldsFuncSeq(s, isSeparator) {
		if seg == ".." {
			return nil, bad(strings.Index(template, ".."), `a ".." segment would leave the download directory`)
		}
	}
	if strings.HasSuffix(s, "/") {
		return nil, bad(len(template)-1, "the layout must end with a file name, not a /")
	}
	return l, nil
}

// String returns the template.
func (l *Layout) String() string { return l.template }

// Path returns where the file of asset key of item goes, relative to the
// download directory, with / as separator. href is the URL the file is
// fetched from (its file name and extension). A value that would leave
// the directory, or an empty path, is a *LayoutError.
func (l *Layout) Path(item *stac.Item, key string, a *stac.Asset, href string) (string, error) {
	var b strings.Builder
	name, ext := fileName(href, key, a)
	for _, p := range l.parts {
		var v, field string
		switch p.field {
		case "":
			b.WriteString(p.literal)
			continue
		case "collection":
			v, field = item.Collection, "the collection"
		case "id":
			v, field = item.ID, "the item id"
		case "asset":
			v, field = key, "the asset key"
		case "filename":
			v, field = name, "the file name of the href"
		case "ext":
			v, field = ext, "the extension"
		case "datetime":
			t, ok := item.Datetime()
			if !ok {
				return "", &LayoutError{Template: l.template, Reason: fmt.Sprintf("item %s has no datetime or start_datetime for {datetime}", clip(item.ID, 80))}
			}
			b.WriteString(strftime(t.UTC(), p.format))
			continue
		}
		if err := checkValue(v); err != nil {
			return "", &LayoutError{Template: l.template, Value: clip(v, 80), Reason: fmt.Sprintf("%s %v", field, err)}
		}
		b.WriteString(v)
	}
	// An empty value leaves an empty segment ("/{id}" for no collection):
	// dropped, as are "." segments.
	var segs []string
	for seg := range strings.FieldsFuncSeq(b.String(), isSeparator) {
		if seg != "." {
			segs = append(segs, seg)
		}
	}
	rel := strings.Join(segs, "/")
	if rel == "" || !filepath.IsLocal(filepath.FromSlash(rel)) {
		return "", &LayoutError{Template: l.template, Value: clip(b.String(), 80), Reason: "the path is empty or not inside the download directory"}
	}
	return rel, nil
}

func isSeparator(r rune) bool { return r == '/' || r == '\\' && filepath.Separator == '\\' }

// checkValue refuses a value that would make the path leave the download
// directory: a NUL, a leading separator, a ".." segment.
func checkValue(v string) error {
	switch {
	case strings.IndexByte(v, 0) >= 0:
		return fmt.Errorf("holds a NUL byte")
	case strings.HasPrefix(v, "/"), strings.HasPrefix(v, `\`), filepath.IsAbs(v), filepath.VolumeName(v) != "":
		return fmt.Errorf("is an absolute path")
	}
	for _, seg := range strings.FieldsFunc(v, func(r rune) bool { return r == '/' || r == '\\' }) {
		if seg == ".." {
			return fmt.Errorf(`holds a ".." segment, which would leave the download directory`)
		}
	}
	return nil
}

// fileName returns the file name of href and its extension (with the
// dot). An href without a usable last segment (a directory, an OData
// "Products(…)/$value") is named after the asset key, with an extension
// from the media type.
func fileName(href, key string, a *stac.Asset) (name, ext string) {
	if u, err := url.Parse(href); err == nil {
		p := u.Path
		if u.Scheme == "" && u.Host == "" {
			p = href // a local path
		}
		name = path.Base(p)
	}
	switch name {
	case "", ".", "..", "/":
		name = ""
	}
	if strings.HasPrefix(name, "$") {
		name = ""
	}
	if name != "" {
		if ext = path.Ext(name); ext == name {
			ext = "" // ".hidden" has no extension
		}
	}
	if ext == "" && a != nil {
		ext = extForType(a.Type)
	}
	if name == "" {
		name = key + ext
	}
	return name, ext
}

// mediaExts are the extensions of the media types assets commonly have;
// mime's table (which depends on the system) is the fallback.
var mediaExts = map[string]string{
	"image/tiff":                           ".tif",
	"image/jp2":                            ".jp2",
	"image/png":                            ".png",
	"image/jpeg":                           ".jpg",
	"image/webp":                           ".webp",
	"application/json":                     ".json",
	"application/geo+json":                 ".geojson",
	"application/xml":                      ".xml",
	"text/xml":                             ".xml",
	"text/html":                            ".html",
	"text/plain":                           ".txt",
	"application/zip":                      ".zip",
	"application/x-netcdf":                 ".nc",
	"application/netcdf":                   ".nc",
	"application/x-hdf5":                   ".h5",
	"application/x-hdf":                    ".hdf",
	"application/vnd.apache.parquet":       ".parquet",
	"application/x-parquet":                ".parquet",
	"application/vnd.laszip":               ".laz",
	"application/vnd.google-earth.kml+xml": ".kml",
	"application/pdf":                      ".pdf",
	"application/gzip":                     ".gz",
	"application/x-tar":                    ".tar",
}

func extForType(mediaType string) string {
	base, _, err := mime.ParseMediaType(mediaType)
	if err != nil {
		return ""
	}
	if ext, ok := mediaExts[base]; ok {
		return ext
	}
	return ""
}

// checkStrftime checks a {datetime:FORMAT}.
func checkStrftime(f string) error {
	for i := 0; i < len(f); i++ {
		if f[i] != '%' {
			continue
		}
		if i+1 == len(f) {
			return fmt.Errorf("a lone %% at the end (write %%%% for a percent sign)")
		}
		i++
		if !strings.ContainsRune("YymdHMSjF%", rune(f[i])) {
			return fmt.Errorf("%%%c is not supported; use %%Y %%y %%m %%d %%H %%M %%S %%j %%F or %%%%", f[i])
		}
	}
	return nil
}

// strftime formats t with a format checked by checkStrftime.
func strftime(t time.Time, f string) string {
	var b strings.Builder
	for i := 0; i < len(f); i++ {
		if f[i] != '%' || i+1 == len(f) {
			b.WriteByte(f[i])
			continue
		}
		i++
		switch f[i] {
		case 'Y':
			fmt.Fprintf(&b, "%04d", t.Year())
		case 'y':
			fmt.Fprintf(&b, "%02d", t.Year()%100)
		case 'm':
			fmt.Fprintf(&b, "%02d", int(t.Month()))
		case 'd':
			fmt.Fprintf(&b, "%02d", t.Day())
		case 'H':
			fmt.Fprintf(&b, "%02d", t.Hour())
		case 'M':
			fmt.Fprintf(&b, "%02d", t.Minute())
		case 'S':
			fmt.Fprintf(&b, "%02d", t.Second())
		case 'j':
			fmt.Fprintf(&b, "%03d", t.YearDay())
		case 'F':
			fmt.Fprintf(&b, "%04d-%02d-%02d", t.Year(), int(t.Month()), t.Day())
		case '%':
			b.WriteByte('%')
		}
	}
	return b.String()
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
