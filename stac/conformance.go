package stac

import (
	"fmt"
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
// The URIs of the 1.0.0-beta releases ("http://stacspec.org/spec/api/1.0.0-beta.1/req/stac-search",
// ".../req/context") are mapped to the names that replaced them.
func stacClassPart(uri string) (string, bool) {
	u, err := url.Parse(strings.TrimSpace(uri))
	if err != nil {
		return "", false
	}
	path := strings.TrimSuffix(strings.TrimPrefix(u.Path, "/"), "/")
	switch {
	case u.Host == "api.stacspec.org":
	case u.Host == "stacspec.org" && strings.HasPrefix(path, "spec/api/"):
		path = strings.TrimPrefix(path, "spec/api/")
	default:
		return "", false
	}
	version, rest, ok := strings.Cut(path, "/")
	if !ok || version == "" || !(version[0] == 'v' || '0' <= version[0] && version[0] <= '9') {
		return "", false
	}
	if old, ok := betaClasses[rest]; ok {
		return old, true
	}
	if u.Fragment != "" {
		rest += "#" + u.Fragment
	}
	return rest, true
}

// betaClasses are the class paths of STAC API 1.0.0-beta.1 and -beta.2,
// by the names that replaced them.
var betaClasses = map[string]string{
	"req/core":              "core",
	"req/stac-search":       "item-search",
	"req/ogcapi-features":   "ogcapi-features",
	"req/collections":       "collections",
	"req/context":           "item-search#context",
	"req/fields":            "item-search#fields",
	"req/query":             "item-search#query",
	"req/sort":              "item-search#sort",
	"req/filter":            "item-search#filter",
	"req/cql":               "item-search#filter",
	"req/children":          "children",
	"req/browseable":        "browseable",
	"req/transaction":       "ogcapi-features/extensions/transaction",
	"req/collection-search": "collection-search",
}

// inferClasses guesses the classes of an API that advertises none (STAC
// API 0.9 and early 1.0.0-beta servers, OGC API gateways) from the links
// of its landing page: core always, item search for a search link,
// collections and features for a data link.
func (c *Client) inferClasses() {
	classes := []string{"https://api.stacspec.org/v1.0.0/core"}
	if c.searchGET != "" || c.searchPOST != "" {
		classes = append(classes, "https://api.stacspec.org/v1.0.0/item-search")
	}
	if c.collectionsURL != "" {
		classes = append(classes, "https://api.stacspec.org/v1.0.0/collections", "https://api.stacspec.org/v1.0.0/ogcapi-features")
	}
	c.conformance, c.inferred = classes, true
}

// ConformanceInferred reports that the API advertised no conformance
// classes (no conformsTo, and no /conformance, or one that failed), so
// that Conformance holds the classes its landing page's links imply.
func (c *Client) ConformanceInferred() bool { return c.inferred }

// Unadvertised is a parameter sent to an API that does not advertise the
// conformance class defining it: the server may ignore it, and answer as
// if it had not been sent.
type Unadvertised struct {
	Param string // the parameter: "filter", "sortby", ...
	Class string // the class it needs, e.g. "item-search#filter"
}

// String implements fmt.Stringer.
func (u Unadvertised) String() string {
	return fmt.Sprintf("%s needs the %s conformance class, which the API does not advertise", u.Param, u.Class)
}

// UnadvertisedSearch lists the parameters of p that the API does not
// advertise support for, as pystac-client's DoesNotConformTo does.
func (c *Client) UnadvertisedSearch(p SearchParams) []Unadvertised {
	var out []Unadvertised
	check := func(set bool, param, class, short string) {
		if set && !c.Conforms(short) {
			out = append(out, Unadvertised{param, class})
		}
	}
	check(true, "search", "item-search", "item-search")
	check(p.Filter != "", "filter", "item-search#filter", "filter")
	check(len(p.SortBy) > 0, "sortby", "item-search#sort", "sort")
	check(p.Fields != nil, "fields", "item-search#fields", "fields")
	check(p.Query != nil, "query", "item-search#query", "query")
	// Free text of item search only: "free-text" alone also matches
	// collection-search#free-text, which many APIs (eoAPI, FedEO)
	// advertise without item-search#free-text.
	if p.Q != "" && !c.Conforms("item-search#free-text") && !c.Conforms("item-search#advanced-free-text") {
		out = append(out, Unadvertised{"q", "item-search#free-text"})
	}
	return out
}

// UnadvertisedCollections lists the parameters of p that the API does not
// advertise support for. Without the collection-search class, bbox,
// datetime and q are applied by the client to the collections listed (see
// Collections); filter and sortby cannot be.
func (c *Client) UnadvertisedCollections(p CollectionsParams) []Unadvertised {
	if c.Conforms("collection-search") {
		var out []Unadvertised
		if p.Filter != "" && !c.Conforms("collection-search#filter") && !c.Conforms("filter") {
			out = append(out, Unadvertised{"filter", "collection-search#filter"})
		}
		if len(p.SortBy) > 0 && !c.Conforms("collection-search#sort") && !c.Conforms("sort") {
			out = append(out, Unadvertised{"sortby", "collection-search#sort"})
		}
		return out
	}
	var out []Unadvertised
	if p.Filter != "" {
		out = append(out, Unadvertised{"filter", "collection-search#filter"})
	}
	if len(p.SortBy) > 0 {
		out = append(out, Unadvertised{"sortby", "collection-search#sort"})
	}
	return out
}
