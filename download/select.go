package download

import (
	"fmt"
	"mime"
	"path"
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/stacq/stacq/stac"
)

// Selection says which assets of each item are downloaded, and from which
// href. The zero value selects every asset by its own href. The three
// filters combine with AND; the values of one filter with OR.
type Selection struct {
	// Keys are path.Match patterns on asset keys ("B0?", "*_10m",
	// "visual"); empty selects every key.
	Keys []string
	// Roles selects assets having any of these roles ("data", "overview").
	Roles []string
	// MediaTypes selects assets whose type matches any of these: a type
	// without parameters ("image/tiff", or a pattern like "image/*")
	// matches the asset type's base, parameters ignored; one with
	// parameters must equal the whole type (case and spacing aside).
	MediaTypes []string
	// Alternate names the alternate href to fetch instead of the asset's
	// own (the alternate-assets extension: "s3", "https"; an "alternate."
	// prefix is accepted). Assets without that alternate use their href.
	Alternate string
}

// SplitList splits repeated, comma-separated flag values ("B02,B03",
// "B04") into their elements, trimmed, without empty ones.
func SplitList(values ...string) []string {
	var out []string
	for _, v := range values {
		for e := range strings.SplitSeq(v, ",") {
			if e = strings.TrimSpace(e); e != "" {
				out = append(out, e)
			}
		}
	}
	return out
}

// Check reports the first malformed pattern or media type, naming it.
func (s Selection) Check() error {
	for _, p := range s.Keys {
		if _, err := path.Match(p, ""); err != nil {
			return fmt.Errorf("asset key pattern %q: %w", clip(p, 40), err)
		}
	}
	for _, t := range s.MediaTypes {
		if strings.Contains(t, ";") {
			if _, _, err := mime.ParseMediaType(t); err != nil {
				return fmt.Errorf("media type %q: %w", clip(t, 60), err)
			}
		} else if _, err := path.Match(strings.ToLower(t), ""); err != nil {
			return fmt.Errorf("media type pattern %q: %w", clip(t, 60), err)
		}
	}
	if strings.ContainsAny(s.alternate(), "\x00") {
		return fmt.Errorf("alternate name %q holds a NUL byte", clip(s.Alternate, 40))
	}
	return nil
}

func (s Selection) alternate() string {
	return strings.TrimPrefix(strings.TrimSpace(s.Alternate), "alternate.")
}

// Match reports whether the asset key of an item is selected. Patterns
// that Check refuses match nothing.
func (s Selection) Match(key string, a *stac.Asset) bool {
	if a == nil {
		return false
	}
	if len(s.Keys) > 0 && !anyMatch(s.Keys, key) {
		return false
	}
	if len(s.Roles) > 0 && !hasRole(a.Roles, s.Roles) {
		return false
	}
	if len(s.MediaTypes) > 0 && !typeMatches(s.MediaTypes, a.Type) {
		return false
	}
	return true
}

func anyMatch(patterns []string, key string) bool {
	for _, p := range patterns {
		if ok, _ := path.Match(p, key); ok {
			return true
		}
	}
	return false
}

func hasRole(roles, want []string) bool {
	for _, r := range roles {
		for _, w := range want {
			if strings.EqualFold(r, w) {
				return true
			}
		}
	}
	return false
}

func typeMatches(want []string, mediaType string) bool {
	base, params, err := mime.ParseMediaType(mediaType)
	if err != nil {
		return false
	}
	for _, w := range want {
		if !strings.Contains(w, ";") {
			if ok, _ := path.Match(strings.ToLower(strings.TrimSpace(w)), base); ok {
				return true
			}
			continue
		}
		wb, wp, err := mime.ParseMediaType(w)
		if err != nil || wb != base || len(wp) != len(params) {
			continue
		}
		same := true
		for k, v := range wp {
			if !strings.EqualFold(params[k], v) {
				same = false
				break
			}
		}
		if same {
			return true
		}
	}
	return false
}

// Href returns the href to fetch for asset a: its alternate named by
// s.Alternate when it has one, else its own. alternate reports which. A
// malformed "alternate" member is an error naming it.
func (s Selection) Href(a *stac.Asset) (href string, alternate bool, err error) {
	name := s.alternate()
	if name == "" {
		return a.Href, false, nil
	}
	alts, err := Alternates(a)
	if err != nil {
		return "", false, err
	}
	if h, ok := alts[name]; ok {
		return h, true, nil
	}
	return a.Href, false, nil
}

// Alternates returns the hrefs of an asset's "alternate" member (the
// alternate-assets extension) by name. An asset without one gives an
// empty map; a member that is not an object of objects with a string
// href is an error.
func Alternates(a *stac.Asset) (map[string]string, error) {
	raw, ok := a.Extra["alternate"]
	if !ok || raw.Kind() == 'n' {
		return map[string]string{}, nil
	}
	var alts map[string]struct {
		Href *string `json:"href"`
	}
	if err := json.Unmarshal(raw, &alts, jsontext.AllowDuplicateNames(true)); err != nil {
		return nil, fmt.Errorf(`the asset's "alternate" is not an object of {"href": …} objects: %w`, err)
	}
	out := make(map[string]string, len(alts))
	for name, alt := range alts {
		if alt.Href == nil || *alt.Href == "" {
			return nil, fmt.Errorf(`alternate %q has no href`, clip(name, 40))
		}
		out[name] = *alt.Href
	}
	return out, nil
}
