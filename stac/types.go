// Package stac is a client for STAC APIs (SpatioTemporal Asset Catalogs):
// landing page and conformance, collections, items, item search with paging,
// and the STAC document types.
//
// The types are plain structs for encoding/json/v2
// (github.com/go-json-experiment/json). Core fields are typed; every other
// member (extension fields such as "eo:cloud_cover" inside properties, or
// foreign members at the top level) is kept as the JSON text the server
// sent, in Properties or Extra, so a document decoded and encoded again
// carries the same members with the same values: numbers as written ("1.50"
// stays "1.50"), nothing dropped. Their shape follows
// github.com/planetlabs/go-stac so a switch stays easy. The types also
// implement the encoding/json (v1) interfaces, so json.Unmarshal of either
// version gives the same result.
//
// A Client (see Open) talks to one API. It does no authentication and no
// logging of its own: every request, paging included, goes through the
// *http.Client given with WithHTTPClient. Authentication is that client's
// Transport, and a per-request trace is one more http.RoundTripper wrapped
// around it. Errors are typed for errors.As (*HTTPError, *NotSTACError,
// *DecodeError, *LoopError, *TooLargeError), and errors.Is(err, ErrNotFound)
// tells a missing collection or item.
package stac

import (
	"fmt"
	"net/http"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// Members holds JSON object members as the JSON text of their values:
// unknown members of a STAC object, or an item's properties.
type Members = map[string]jsontext.Value

// Link is a STAC link object. Method, Headers, Body and Merge carry the STAC
// API paging extension fields of "next" and "prev" links.
type Link struct {
	Rel     string         `json:"rel,omitzero"`
	Href    string         `json:"href,omitzero"`
	Type    string         `json:"type,omitzero"`
	Title   string         `json:"title,omitzero"`
	Method  string         `json:"method,omitzero"`
	Headers LinkHeaders    `json:"headers,omitzero"`
	Body    jsontext.Value `json:"body,omitzero"`
	// Merge is "merge": true. An explicit false stays in Extra, to be
	// written back as it was.
	Merge bool    `json:"-"`
	Extra Members `json:",embed"`
}

// LinkHeaders are the headers of a paging link: each a string or an array
// of strings in JSON.
type LinkHeaders http.Header

// Asset is a STAC asset object.
type Asset struct {
	// Href is required by the spec; an asset without one stays without.
	Href        string   `json:"href,omitzero"`
	Title       string   `json:"title,omitzero"`
	Description string   `json:"description,omitzero"`
	Type        string   `json:"type,omitzero"`
	Roles       []string `json:"roles,omitzero"`
	Extra       Members  `json:",embed"`
}

// Item is a STAC Item, a GeoJSON Feature.
type Item struct {
	Type       string   `json:"type"` // "Feature"
	Version    string   `json:"stac_version,omitzero"`
	Extensions []string `json:"stac_extensions,omitzero"`
	ID         string   `json:"id"`
	// Geometry is the GeoJSON geometry as sent: JSON null for a null
	// geometry, nil when the member was absent (excluded by "fields").
	Geometry jsontext.Value `json:"geometry,omitzero"`
	BBox     []float64      `json:"bbox,omitzero"`
	// Properties holds every property as the JSON the server sent; see
	// Properties' methods to read them as Go values.
	Properties Properties        `json:"properties"`
	Links      []*Link           `json:"links,omitzero"`
	Assets     map[string]*Asset `json:"assets,omitzero"`
	Collection string            `json:"collection,omitzero"`
	Extra      Members           `json:",embed"`
}

// Properties are an item's properties, each the JSON text of its value.
type Properties Members

// Decode decodes the property key into v (a pointer). It reports false,
// and leaves v alone, when the property is absent or JSON null.
func (p Properties) Decode(key string, v any) (bool, error) {
	raw, ok := p[key]
	if !ok || raw.Kind() == 'n' {
		return false, nil
	}
	return true, json.Unmarshal(raw, v)
}

// String returns a string property; "" when it is absent or not a string.
func (p Properties) String(key string) string {
	var s string
	if ok, err := p.Decode(key, &s); !ok || err != nil {
		return ""
	}
	return s
}

// Float returns a number property, and whether it is one.
func (p Properties) Float(key string) (float64, bool) {
	var f float64
	ok, err := p.Decode(key, &f)
	return f, ok && err == nil
}

// Time returns a property holding an RFC 3339 date-time, and whether it
// parses as one.
func (p Properties) Time(key string) (time.Time, bool) {
	t, err := time.Parse(time.RFC3339Nano, p.String(key))
	return t, err == nil
}

// Set sets the property key to the JSON encoding of v.
func (p Properties) Set(key string, v any) error {
	b, err := json.Marshal(v)
	if err == nil {
		p[key] = b
	}
	return err
}

// Datetime returns the item's "datetime" property, or its "start_datetime"
// when datetime is null. ok is false when neither parses as RFC 3339.
func (it *Item) Datetime() (t time.Time, ok bool) {
	if t, ok := it.Properties.Time("datetime"); ok {
		return t, true
	}
	return it.Properties.Time("start_datetime")
}

// Provider is a collection's provider object.
type Provider struct {
	Name        string   `json:"name"`
	Description string   `json:"description,omitzero"`
	Roles       []string `json:"roles,omitzero"`
	URL         string   `json:"url,omitzero"`
	Extra       Members  `json:",embed"`
}

// Extent is a collection's spatial and temporal extent.
type Extent struct {
	Spatial  SpatialExtent  `json:"spatial"`
	Temporal TemporalExtent `json:"temporal"`
	Extra    Members        `json:",embed"`
}

// SpatialExtent holds the bounding boxes of a collection.
type SpatialExtent struct {
	BBox  [][]float64 `json:"bbox"`
	Extra Members     `json:",embed"`
}

// TemporalExtent holds the intervals of a collection; a nil end is open.
type TemporalExtent struct {
	Interval [][]*string `json:"interval"`
	Extra    Members     `json:",embed"`
}

// Collection is a STAC Collection.
type Collection struct {
	Type        string            `json:"type"` // "Collection"
	Version     string            `json:"stac_version,omitzero"`
	Extensions  []string          `json:"stac_extensions,omitzero"`
	ID          string            `json:"id"`
	Title       string            `json:"title,omitzero"`
	Description string            `json:"description"`
	Keywords    []string          `json:"keywords,omitzero"`
	License     string            `json:"license,omitzero"`
	Providers   []*Provider       `json:"providers,omitzero"`
	Extent      *Extent           `json:"extent,omitzero"`
	Summaries   Members           `json:"summaries,omitzero"`
	Links       []*Link           `json:"links,omitzero"`
	Assets      map[string]*Asset `json:"assets,omitzero"`
	Extra       Members           `json:",embed"`
}

// Catalog is a STAC Catalog; a STAC API landing page is a Catalog with
// conformsTo.
type Catalog struct {
	Type        string   `json:"type"` // "Catalog"
	Version     string   `json:"stac_version,omitzero"`
	Extensions  []string `json:"stac_extensions,omitzero"`
	ID          string   `json:"id"`
	Title       string   `json:"title,omitzero"`
	Description string   `json:"description"`
	ConformsTo  []string `json:"conformsTo,omitzero"`
	Links       []*Link  `json:"links,omitzero"`
	Extra       Members  `json:",embed"`
}

// Context is the (deprecated but common) context extension object of a
// search response. Next is the Sentinel Hub Catalog API's paging token.
type Context struct {
	Returned *int64         `json:"returned,omitzero"`
	Limit    *int64         `json:"limit,omitzero"`
	Matched  *int64         `json:"matched,omitzero"`
	Next     jsontext.Value `json:"next,omitzero"`
	Extra    Members        `json:",embed"`
}

// PageInfo is what a page of a listing says besides its items or
// collections: links, counts, context and foreign members.
type PageInfo struct {
	Links          []*Link  `json:"links,omitzero"`
	NumberMatched  *int64   `json:"numberMatched,omitzero"`
	NumberReturned *int64   `json:"numberReturned,omitzero"`
	Context        *Context `json:"context,omitzero"`
	Extra          Members  `json:",embed"`
}

// Matched returns numberMatched, or context.matched, and whether either was present.
func (p *PageInfo) Matched() (int64, bool) {
	switch {
	case p.NumberMatched != nil:
		return *p.NumberMatched, true
	case p.Context != nil && p.Context.Matched != nil:
		return *p.Context.Matched, true
	}
	return 0, false
}

// ItemCollection is one page of items: a GeoJSON FeatureCollection as
// returned by /search and /collections/{id}/items.
type ItemCollection struct {
	Type     string  `json:"type"` // "FeatureCollection"
	Features []*Item `json:"features"`
	PageInfo
}

// CollectionsPage is one page of /collections.
type CollectionsPage struct {
	Collections []*Collection `json:"collections"`
	PageInfo
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

// ---- JSON ----
//
// The types decode and encode with encoding/json/v2 from their struct
// tags alone. The methods below make encoding/json (v1), which knows
// neither "omitzero" on every version nor ",embed", go through v2 as well,
// and make every encoding deterministic (Extra and Properties members in
// sorted order, after the typed fields).

// Types without methods, to encode the fields of the types with them.
type (
	linkFields            Link
	assetFields           Asset
	itemFields            Item
	collectionFields      Collection
	catalogFields         Catalog
	itemCollectionFields  ItemCollection
	collectionsPageFields CollectionsPage
)

// decodeOpts are the options of every decoding: servers repeat names now
// and then (the last value wins), which v2 refuses by default.
var decodeOpts = jsontext.AllowDuplicateNames(true)

// encodeOpts make encodings deterministic and keep strings as the server
// escaped them (v2 does not escape "&" of signed URLs either).
var encodeOpts = json.JoinOptions(json.Deterministic(true), jsontext.PreserveRawStrings(true))

// unmarshalV1 and marshalV1 are the encoding/json methods: v2 then calls
// the type's v2 method.
func unmarshalV1(b []byte, v any) error { return json.Unmarshal(b, v, decodeOpts) }
func marshalV1(v any) ([]byte, error)   { return json.Marshal(v, encodeOpts) }

// UnmarshalJSON implements encoding/json's Unmarshaler.
func (l *Link) UnmarshalJSON(b []byte) error { return unmarshalV1(b, l) }

// MarshalJSON implements encoding/json's Marshaler.
func (l Link) MarshalJSON() ([]byte, error) { return marshalV1(l) }

// UnmarshalJSONFrom implements encoding/json/v2's UnmarshalerFrom.
func (l *Link) UnmarshalJSONFrom(d *jsontext.Decoder) error {
	if err := json.UnmarshalDecode(d, (*linkFields)(l)); err != nil {
		return err
	}
	if l.Merge = string(l.Extra["merge"]) == "true"; l.Merge {
		delete(l.Extra, "merge")
	}
	return nil
}

// MarshalJSONTo implements encoding/json/v2's MarshalerTo.
func (l Link) MarshalJSONTo(e *jsontext.Encoder) error {
	if l.Merge {
		extra := make(Members, len(l.Extra)+1)
		for k, v := range l.Extra {
			extra[k] = v
		}
		extra["merge"] = jsontext.Value("true")
		l.Extra = extra
	}
	return json.MarshalEncode(e, linkFields(l), encodeOpts)
}

// UnmarshalJSON implements encoding/json's Unmarshaler.
func (a *Asset) UnmarshalJSON(b []byte) error { return unmarshalV1(b, a) }

// MarshalJSON implements encoding/json's Marshaler.
func (a Asset) MarshalJSON() ([]byte, error) { return marshalV1(a) }

// UnmarshalJSONFrom implements encoding/json/v2's UnmarshalerFrom.
func (a *Asset) UnmarshalJSONFrom(d *jsontext.Decoder) error {
	return json.UnmarshalDecode(d, (*assetFields)(a))
}

// MarshalJSONTo implements encoding/json/v2's MarshalerTo.
func (a Asset) MarshalJSONTo(e *jsontext.Encoder) error {
	return json.MarshalEncode(e, assetFields(a), encodeOpts)
}

// UnmarshalJSON implements encoding/json's Unmarshaler.
func (it *Item) UnmarshalJSON(b []byte) error { return unmarshalV1(b, it) }

// MarshalJSON implements encoding/json's Marshaler. An empty Type is
// written as "Feature".
func (it Item) MarshalJSON() ([]byte, error) { return marshalV1(it) }

// UnmarshalJSONFrom implements encoding/json/v2's UnmarshalerFrom.
func (it *Item) UnmarshalJSONFrom(d *jsontext.Decoder) error {
	return json.UnmarshalDecode(d, (*itemFields)(it))
}

// MarshalJSONTo implements encoding/json/v2's MarshalerTo.
func (it Item) MarshalJSONTo(e *jsontext.Encoder) error {
	return json.MarshalEncode(e, it.fields(), encodeOpts)
}

func (it Item) fields() itemFields {
	it.Type = orDefault(it.Type, "Feature")
	if it.Properties == nil {
		it.Properties = Properties{} // required, even when empty
	}
	return itemFields(it)
}

// UnmarshalJSON implements encoding/json's Unmarshaler.
func (c *Collection) UnmarshalJSON(b []byte) error { return unmarshalV1(b, c) }

// MarshalJSON implements encoding/json's Marshaler. An empty Type is
// written as "Collection".
func (c Collection) MarshalJSON() ([]byte, error) { return marshalV1(c) }

// UnmarshalJSONFrom implements encoding/json/v2's UnmarshalerFrom.
func (c *Collection) UnmarshalJSONFrom(d *jsontext.Decoder) error {
	return json.UnmarshalDecode(d, (*collectionFields)(c))
}

// MarshalJSONTo implements encoding/json/v2's MarshalerTo.
func (c Collection) MarshalJSONTo(e *jsontext.Encoder) error {
	return json.MarshalEncode(e, c.fields(), encodeOpts)
}

func (c Collection) fields() collectionFields {
	c.Type = orDefault(c.Type, "Collection")
	return collectionFields(c)
}

// UnmarshalJSON implements encoding/json's Unmarshaler.
func (c *Catalog) UnmarshalJSON(b []byte) error { return unmarshalV1(b, c) }

// MarshalJSON implements encoding/json's Marshaler. An empty Type is
// written as "Catalog".
func (c Catalog) MarshalJSON() ([]byte, error) { return marshalV1(c) }

// UnmarshalJSONFrom implements encoding/json/v2's UnmarshalerFrom.
func (c *Catalog) UnmarshalJSONFrom(d *jsontext.Decoder) error {
	return json.UnmarshalDecode(d, (*catalogFields)(c))
}

// MarshalJSONTo implements encoding/json/v2's MarshalerTo.
func (c Catalog) MarshalJSONTo(e *jsontext.Encoder) error {
	return json.MarshalEncode(e, c.fields(), encodeOpts)
}

func (c Catalog) fields() catalogFields {
	c.Type = orDefault(c.Type, "Catalog")
	return catalogFields(c)
}

// UnmarshalJSON implements encoding/json's Unmarshaler.
func (ic *ItemCollection) UnmarshalJSON(b []byte) error {
	return unmarshalV1(b, ic)
}

// MarshalJSON implements encoding/json's Marshaler.
func (ic ItemCollection) MarshalJSON() ([]byte, error) { return marshalV1(ic) }

// UnmarshalJSONFrom implements encoding/json/v2's UnmarshalerFrom.
func (ic *ItemCollection) UnmarshalJSONFrom(d *jsontext.Decoder) error {
	return json.UnmarshalDecode(d, (*itemCollectionFields)(ic))
}

// MarshalJSONTo implements encoding/json/v2's MarshalerTo.
func (ic ItemCollection) MarshalJSONTo(e *jsontext.Encoder) error {
	return json.MarshalEncode(e, ic.fields(), encodeOpts)
}

func (ic ItemCollection) fields() itemCollectionFields {
	ic.Type = orDefault(ic.Type, "FeatureCollection")
	if ic.Features == nil {
		ic.Features = []*Item{}
	}
	return itemCollectionFields(ic)
}

// UnmarshalJSON implements encoding/json's Unmarshaler.
func (cp *CollectionsPage) UnmarshalJSON(b []byte) error {
	return unmarshalV1(b, cp)
}

// MarshalJSON implements encoding/json's Marshaler.
func (cp CollectionsPage) MarshalJSON() ([]byte, error) { return marshalV1(cp) }

// UnmarshalJSONFrom implements encoding/json/v2's UnmarshalerFrom.
func (cp *CollectionsPage) UnmarshalJSONFrom(d *jsontext.Decoder) error {
	return json.UnmarshalDecode(d, (*collectionsPageFields)(cp))
}

// MarshalJSONTo implements encoding/json/v2's MarshalerTo.
func (cp CollectionsPage) MarshalJSONTo(e *jsontext.Encoder) error {
	return json.MarshalEncode(e, cp.fields(), encodeOpts)
}

func (cp CollectionsPage) fields() collectionsPageFields {
	if cp.Collections == nil {
		cp.Collections = []*Collection{}
	}
	return collectionsPageFields(cp)
}

// UnmarshalJSONFrom reads each header as a string or an array of strings.
func (h *LinkHeaders) UnmarshalJSONFrom(d *jsontext.Decoder) error {
	var m map[string]jsontext.Value
	if err := json.UnmarshalDecode(d, &m); err != nil {
		return err
	}
	*h = nil
	for name, raw := range m {
		var vals []string
		if raw.Kind() == '"' {
			vals = []string{""}
			if err := json.Unmarshal(raw, &vals[0]); err != nil {
				return err
			}
		} else if err := json.Unmarshal(raw, &vals); err != nil {
			return fmt.Errorf("header %q: expected a string or an array of strings", name)
		}
		if *h == nil {
			*h = LinkHeaders{}
		}
		(*h)[name] = vals
	}
	return nil
}

// MarshalJSONTo writes a header of one value as a string.
func (h LinkHeaders) MarshalJSONTo(e *jsontext.Encoder) error {
	m := make(map[string]any, len(h))
	for name, vals := range h {
		if len(vals) == 1 {
			m[name] = vals[0]
		} else {
			m[name] = vals
		}
	}
	return json.MarshalEncode(e, m, encodeOpts)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
