// Package stac is a client for STAC APIs (SpatioTemporal Asset Catalogs):
// landing page and conformance, collections, items, item search with paging,
// and the STAC document types.
//
// The types keep every field the server sent. Core fields are typed; every
// other member (extension fields such as "eo:cloud_cover" inside properties,
// or foreign members at the top level) is kept in Extra or Properties, so a
// document decoded and encoded again carries the same members and values.
// Their shape follows github.com/planetlabs/go-stac so a switch stays easy.
//
// A Client (see Open) talks to one API. It does no authentication and no
// logging of its own: every request, paging included, goes through the
// *http.Client given with WithHTTPClient. Authentication is that client's
// Transport, and a per-request trace (method, URL, status, duration) is
// one more http.RoundTripper wrapped around it; print URLs through
// internal/redact. Errors are typed for errors.As (*HTTPError,
// *NotSTACError, *DecodeError), and errors.Is(err, ErrNotFound) tells a
// missing collection or item.
package stac

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"time"
)

// Link is a STAC link object. Method, Headers, Body and Merge carry the STAC
// API paging extension fields of "next" and "prev" links.
type Link struct {
	Href    string
	Rel     string
	Type    string
	Title   string
	Method  string
	Headers http.Header
	Body    json.RawMessage
	Merge   bool
	Extra   map[string]json.RawMessage
}

// Asset is a STAC asset object.
type Asset struct {
	Href        string
	Title       string
	Description string
	Type        string
	Roles       []string
	Extra       map[string]json.RawMessage
}

// Item is a STAC Item, a GeoJSON Feature.
type Item struct {
	Type       string // "Feature"
	Version    string // stac_version
	Extensions []string
	ID         string
	// Geometry is the GeoJSON geometry as sent: JSON null for a null
	// geometry, nil when the member was absent (excluded by "fields").
	Geometry json.RawMessage
	Bbox     []float64
	// Properties holds every property; numbers are json.Number so that
	// values are written back exactly as they were received.
	Properties map[string]any
	Links      []*Link
	Assets     map[string]*Asset
	Collection string
	Extra      map[string]json.RawMessage
}

// Datetime returns the item's "datetime" property, or its "start_datetime"
// when datetime is null. ok is false when neither parses as RFC 3339.
func (it *Item) Datetime() (t time.Time, ok bool) {
	for _, key := range []string{"datetime", "start_datetime"} {
		if s, isString := it.Properties[key].(string); isString {
			if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
				return t, true
			}
		}
	}
	return time.Time{}, false
}

// Provider is a collection's provider object.
type Provider struct {
	Name        string
	Description string
	Roles       []string
	URL         string
	Extra       map[string]json.RawMessage
}

// Extent is a collection's spatial and temporal extent.
type Extent struct {
	Spatial  SpatialExtent
	Temporal TemporalExtent
	Extra    map[string]json.RawMessage
}

// SpatialExtent holds the bounding boxes of a collection.
type SpatialExtent struct {
	Bbox  [][]float64
	Extra map[string]json.RawMessage
}

// TemporalExtent holds the intervals of a collection; a nil end is open.
type TemporalExtent struct {
	Interval [][]*string
	Extra    map[string]json.RawMessage
}

// Collection is a STAC Collection.
type Collection struct {
	Type        string // "Collection"
	Version     string
	Extensions  []string
	ID          string
	Title       string
	Description string
	Keywords    []string
	License     string
	Providers   []*Provider
	Extent      *Extent
	Summaries   map[string]any
	Links       []*Link
	Assets      map[string]*Asset
	Extra       map[string]json.RawMessage
}

// Catalog is a STAC Catalog; a STAC API landing page is a Catalog with
// conformsTo.
type Catalog struct {
	Type        string // "Catalog"
	Version     string
	Extensions  []string
	ID          string
	Title       string
	Description string
	ConformsTo  []string
	Links       []*Link
	Extra       map[string]json.RawMessage
}

// Context is the (deprecated but common) context extension object of a
// search response. Next is the Sentinel Hub Catalog API's paging token.
type Context struct {
	Returned *int64
	Limit    *int64
	Matched  *int64
	Next     json.RawMessage
	Extra    map[string]json.RawMessage
}

// ItemCollection is one page of items: a GeoJSON FeatureCollection as
// returned by /search and /collections/{id}/items.
type ItemCollection struct {
	Type           string // "FeatureCollection"
	Features       []*Item
	Links          []*Link
	NumberMatched  *int64
	NumberReturned *int64
	Context        *Context
	Extra          map[string]json.RawMessage
}

// Matched returns numberMatched, or context.matched, and whether either was present.
func (ic *ItemCollection) Matched() (int64, bool) {
	if ic.NumberMatched != nil {
		return *ic.NumberMatched, true
	}
	if ic.Context != nil && ic.Context.Matched != nil {
		return *ic.Context.Matched, true
	}
	return 0, false
}

// CollectionsPage is one page of /collections.
type CollectionsPage struct {
	Collections    []*Collection
	Links          []*Link
	NumberMatched  *int64
	NumberReturned *int64
	Context        *Context
	Extra          map[string]json.RawMessage
}

// FindLink returns the first link with the given rel, or nil.
func FindLink(links []*Link, rel string) *Link {
	for _, l := range links {
		if l != nil && l.Rel == rel {
			return l
		}
	}
	return nil
}

// ---- JSON encoding ----
//
// Every type is decoded in one pass over its members (see decode.go): the
// known ones go into typed fields, the rest is kept verbatim in Extra.
// Encoding writes the known members first, in the usual STAC order, then the
// Extra members in sorted order.

type member struct {
	key string
	val any // encoded with json.Marshal unless it is json.RawMessage
}

func writeObject(known []member, rest map[string]json.RawMessage) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte('{')
	writeKey := func(key string) {
		if buf.Len() > 1 {
			buf.WriteByte(',')
		}
		k, _ := json.Marshal(key)
		buf.Write(k)
		buf.WriteByte(':')
	}
	for _, mb := range known {
		v, ok := mb.val.(json.RawMessage)
		if !ok {
			var err error
			if v, err = json.Marshal(mb.val); err != nil {
				return nil, fmt.Errorf("field %q: %w", mb.key, err)
			}
		}
		writeKey(mb.key)
		buf.Write(v)
	}
	keys := make([]string, 0, len(rest))
	for k := range rest {
		// A typed field wins over a stray Extra entry of the same name.
		if !knownKey(known, k) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		writeKey(k)
		buf.Write(rest[k])
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

func knownKey(known []member, k string) bool {
	for _, mb := range known {
		if mb.key == k {
			return true
		}
	}
	return false
}

// builder collects members, skipping empty optional ones.
type builder []member

func (b *builder) add(key string, val any) { *b = append(*b, member{key, val}) }
func (b *builder) str(key, val string) {
	if val != "" {
		b.add(key, val)
	}
}
func (b *builder) raw(key string, val json.RawMessage) {
	if len(val) > 0 {
		b.add(key, val)
	}
}

// UnmarshalJSON implements json.Unmarshaler.
func (l *Link) UnmarshalJSON(data []byte) error {
	return decodeDocument(data, func(d *decoder) error { return d.link(l) })
}

// MarshalJSON implements json.Marshaler.
func (l Link) MarshalJSON() ([]byte, error) {
	var b builder
	b.str("rel", l.Rel)
	b.add("href", l.Href)
	b.str("type", l.Type)
	b.str("title", l.Title)
	b.str("method", l.Method)
	if len(l.Headers) > 0 {
		h := make(map[string]any, len(l.Headers))
		for k, v := range l.Headers {
			if len(v) == 1 {
				h[k] = v[0]
			} else {
				h[k] = v
			}
		}
		b.add("headers", h)
	}
	b.raw("body", l.Body)
	if l.Merge {
		b.add("merge", true)
	}
	return writeObject(b, l.Extra)
}

// UnmarshalJSON implements json.Unmarshaler.
func (a *Asset) UnmarshalJSON(data []byte) error {
	return decodeDocument(data, func(d *decoder) error { return d.asset(a) })
}

// MarshalJSON implements json.Marshaler.
func (a Asset) MarshalJSON() ([]byte, error) {
	var b builder
	b.add("href", a.Href)
	b.str("title", a.Title)
	b.str("description", a.Description)
	b.str("type", a.Type)
	if a.Roles != nil {
		b.add("roles", a.Roles)
	}
	return writeObject(b, a.Extra)
}

// UnmarshalJSON implements json.Unmarshaler.
func (it *Item) UnmarshalJSON(data []byte) error {
	return decodeDocument(data, func(d *decoder) error { return d.item(it) })
}

// MarshalJSON implements json.Marshaler.
func (it Item) MarshalJSON() ([]byte, error) {
	var b builder
	b.add("type", orDefault(it.Type, "Feature"))
	b.str("stac_version", it.Version)
	if it.Extensions != nil {
		b.add("stac_extensions", it.Extensions)
	}
	b.add("id", it.ID)
	b.raw("geometry", it.Geometry)
	if it.Bbox != nil {
		b.add("bbox", it.Bbox)
	}
	props := it.Properties
	if props == nil {
		props = map[string]any{}
	}
	b.add("properties", props)
	if it.Links != nil {
		b.add("links", it.Links)
	}
	if it.Assets != nil {
		b.add("assets", it.Assets)
	}
	b.str("collection", it.Collection)
	return writeObject(b, it.Extra)
}

// UnmarshalJSON implements json.Unmarshaler.
func (p *Provider) UnmarshalJSON(data []byte) error {
	return decodeDocument(data, func(d *decoder) error { return d.provider(p) })
}

// MarshalJSON implements json.Marshaler.
func (p Provider) MarshalJSON() ([]byte, error) {
	var b builder
	b.add("name", p.Name)
	b.str("description", p.Description)
	if p.Roles != nil {
		b.add("roles", p.Roles)
	}
	b.str("url", p.URL)
	return writeObject(b, p.Extra)
}

// UnmarshalJSON implements json.Unmarshaler.
func (e *Extent) UnmarshalJSON(data []byte) error {
	return decodeDocument(data, func(d *decoder) error { return d.extent(e) })
}

// MarshalJSON implements json.Marshaler.
func (e Extent) MarshalJSON() ([]byte, error) {
	return writeObject(builder{{"spatial", e.Spatial}, {"temporal", e.Temporal}}, e.Extra)
}

// UnmarshalJSON implements json.Unmarshaler.
func (s *SpatialExtent) UnmarshalJSON(data []byte) error {
	return decodeDocument(data, func(d *decoder) error { return d.spatial(s) })
}

// MarshalJSON implements json.Marshaler.
func (s SpatialExtent) MarshalJSON() ([]byte, error) {
	return writeObject(builder{{"bbox", s.Bbox}}, s.Extra)
}

// UnmarshalJSON implements json.Unmarshaler.
func (t *TemporalExtent) UnmarshalJSON(data []byte) error {
	return decodeDocument(data, func(d *decoder) error { return d.temporal(t) })
}

// MarshalJSON implements json.Marshaler.
func (t TemporalExtent) MarshalJSON() ([]byte, error) {
	return writeObject(builder{{"interval", t.Interval}}, t.Extra)
}

// UnmarshalJSON implements json.Unmarshaler.
func (c *Collection) UnmarshalJSON(data []byte) error {
	return decodeDocument(data, func(d *decoder) error { return d.collection(c) })
}

// MarshalJSON implements json.Marshaler.
func (c Collection) MarshalJSON() ([]byte, error) {
	var b builder
	b.add("type", orDefault(c.Type, "Collection"))
	b.str("stac_version", c.Version)
	if c.Extensions != nil {
		b.add("stac_extensions", c.Extensions)
	}
	b.add("id", c.ID)
	b.str("title", c.Title)
	b.add("description", c.Description)
	if c.Keywords != nil {
		b.add("keywords", c.Keywords)
	}
	b.str("license", c.License)
	if c.Providers != nil {
		b.add("providers", c.Providers)
	}
	if c.Extent != nil {
		b.add("extent", c.Extent)
	}
	if c.Summaries != nil {
		b.add("summaries", c.Summaries)
	}
	if c.Links != nil {
		b.add("links", c.Links)
	}
	if c.Assets != nil {
		b.add("assets", c.Assets)
	}
	return writeObject(b, c.Extra)
}

// UnmarshalJSON implements json.Unmarshaler.
func (c *Catalog) UnmarshalJSON(data []byte) error {
	return decodeDocument(data, func(d *decoder) error { return d.catalog(c) })
}

// MarshalJSON implements json.Marshaler.
func (c Catalog) MarshalJSON() ([]byte, error) {
	var b builder
	b.add("type", orDefault(c.Type, "Catalog"))
	b.str("stac_version", c.Version)
	if c.Extensions != nil {
		b.add("stac_extensions", c.Extensions)
	}
	b.add("id", c.ID)
	b.str("title", c.Title)
	b.add("description", c.Description)
	if c.ConformsTo != nil {
		b.add("conformsTo", c.ConformsTo)
	}
	if c.Links != nil {
		b.add("links", c.Links)
	}
	return writeObject(b, c.Extra)
}

// UnmarshalJSON implements json.Unmarshaler.
func (c *Context) UnmarshalJSON(data []byte) error {
	return decodeDocument(data, func(d *decoder) error { return d.context(c) })
}

// MarshalJSON implements json.Marshaler.
func (c Context) MarshalJSON() ([]byte, error) {
	var b builder
	if c.Returned != nil {
		b.add("returned", *c.Returned)
	}
	if c.Limit != nil {
		b.add("limit", *c.Limit)
	}
	if c.Matched != nil {
		b.add("matched", *c.Matched)
	}
	b.raw("next", c.Next)
	return writeObject(b, c.Extra)
}

// UnmarshalJSON implements json.Unmarshaler.
func (ic *ItemCollection) UnmarshalJSON(data []byte) error {
	return decodeDocument(data, func(d *decoder) error { return d.itemCollection(ic) })
}

// MarshalJSON implements json.Marshaler.
func (ic ItemCollection) MarshalJSON() ([]byte, error) {
	var b builder
	b.add("type", orDefault(ic.Type, "FeatureCollection"))
	features := ic.Features
	if features == nil {
		features = []*Item{}
	}
	b.add("features", features)
	if ic.Links != nil {
		b.add("links", ic.Links)
	}
	if ic.NumberMatched != nil {
		b.add("numberMatched", *ic.NumberMatched)
	}
	if ic.NumberReturned != nil {
		b.add("numberReturned", *ic.NumberReturned)
	}
	if ic.Context != nil {
		b.add("context", ic.Context)
	}
	return writeObject(b, ic.Extra)
}

// UnmarshalJSON implements json.Unmarshaler.
func (cp *CollectionsPage) UnmarshalJSON(data []byte) error {
	return decodeDocument(data, func(d *decoder) error { return d.collectionsPage(cp) })
}

// MarshalJSON implements json.Marshaler.
func (cp CollectionsPage) MarshalJSON() ([]byte, error) {
	var b builder
	cols := cp.Collections
	if cols == nil {
		cols = []*Collection{}
	}
	b.add("collections", cols)
	if cp.Links != nil {
		b.add("links", cp.Links)
	}
	if cp.NumberMatched != nil {
		b.add("numberMatched", *cp.NumberMatched)
	}
	if cp.NumberReturned != nil {
		b.add("numberReturned", *cp.NumberReturned)
	}
	if cp.Context != nil {
		b.add("context", cp.Context)
	}
	return writeObject(b, cp.Extra)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
