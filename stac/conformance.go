package stac

import (
	"net/url"
	"strings"
)

// Conforms reports whether the API advertises the conformance class. class
// is a full URI ("https://api.stacspec.org/v1.0.0/item-search"), or a short
// form that matches every version of the STAC API spec:
//
//	core, item-search, collections, features (or ogcapi-features),
//	collection-search, children, browseable, transaction
//	filter, query, sort, fields, free-text, context   (an extension of any of the above)
//
// or a part such as "item-search#filter" for one extension of one class.
func (c *Client) Conforms(class string) bool {
	return conforms(c.conformance, class)
}

// extensionShorts are short forms that name an extension (the "#fragment"
// of a class URI) of whatever class it extends.
var extensionShorts = map[string]bool{
	"filter": true, "query": true, "sort": true, "fields": true,
	"free-text": true, "context": true, "advanced-free-text": true,
}

func conforms(classes []string, class string) bool {
	class = strings.TrimSpace(class)
	if class == "" {
		return false
	}
	if class == "features" {
		class = "ogcapi-features"
	}
	full := strings.Contains(class, "://")
	for _, have := range classes {
		if full {
			if strings.TrimSuffix(have, "/") == strings.TrimSuffix(class, "/") {
				return true
			}
			continue
		}
		part, ok := stacClassPart(have)
		if !ok {
			if class == "filter" && strings.HasSuffix(have, "/ogcapi-features-3/1.0/conf/filter") {
				return true // OGC API - Features - Part 3, which STAC filter builds on
			}
			continue
		}
		if part == class {
			return true
		}
		if extensionShorts[class] {
			if _, frag, ok := strings.Cut(part, "#"); ok && frag == class {
				return true
			}
		}
	}
	return false
}

// stacClassPart returns what follows the version of a STAC API class URI:
// "item-search#sort" for "https://api.stacspec.org/v1.0.0-rc.1/item-search#sort".
func stacClassPart(uri string) (string, bool) {
	u, err := url.Parse(strings.TrimSpace(uri))
	if err != nil || u.Host != "api.stacspec.org" {
		return "", false
	}
	version, rest, ok := strings.Cut(strings.TrimPrefix(u.Path, "/"), "/")
	if !ok || !strings.HasPrefix(version, "v") {
		return "", false
	}
	rest = strings.TrimSuffix(rest, "/")
	if u.Fragment != "" {
		rest += "#" + u.Fragment
	}
	return rest, true
}
