package stac

// The reference decoder for FuzzTypedDecodeMatchesStdlib: the former
// map-splitting UnmarshalJSON methods, verbatim on shadow types (ref*),
// where every member is decoded by encoding/json.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
)

type refLink struct {
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

type refAsset struct {
	Href        string
	Title       string
	Description string
	Type        string
	Roles       []string
	Extra       map[string]json.RawMessage
}

type refItem struct {
	Type          string // "Feature"
	Version       string // stac_version
	Extensions    []string
	ID            string
	Geometry      json.RawMessage
	Bbox          []float64
	Properties    map[string]any
	Links         []*refLink
	Assets        map[string]*refAsset
	refCollection string
	Extra         map[string]json.RawMessage
}

type refProvider struct {
	Name        string
	Description string
	Roles       []string
	URL         string
	Extra       map[string]json.RawMessage
}

type refExtent struct {
	Spatial  refSpatialExtent
	Temporal refTemporalExtent
	Extra    map[string]json.RawMessage
}

type refSpatialExtent struct {
	Bbox  [][]float64
	Extra map[string]json.RawMessage
}

type refTemporalExtent struct {
	Interval [][]*string
	Extra    map[string]json.RawMessage
}

type refCollection struct {
	Type        string // "refCollection"
	Version     string
	Extensions  []string
	ID          string
	Title       string
	Description string
	Keywords    []string
	License     string
	Providers   []*refProvider
	refExtent   *refExtent
	Summaries   map[string]any
	Links       []*refLink
	Assets      map[string]*refAsset
	Extra       map[string]json.RawMessage
}

type refCatalog struct {
	Type        string // "refCatalog"
	Version     string
	Extensions  []string
	ID          string
	Title       string
	Description string
	ConformsTo  []string
	Links       []*refLink
	Extra       map[string]json.RawMessage
}

type refContext struct {
	Returned *int64
	Limit    *int64
	Matched  *int64
	Next     json.RawMessage
	Extra    map[string]json.RawMessage
}

type refItemCollection struct {
	Type           string // "FeatureCollection"
	Features       []*refItem
	Links          []*refLink
	NumberMatched  *int64
	NumberReturned *int64
	refContext     *refContext
	Extra          map[string]json.RawMessage
}

type refCollectionsPage struct {
	Collections    []*refCollection
	Links          []*refLink
	NumberMatched  *int64
	NumberReturned *int64
	refContext     *refContext
	Extra          map[string]json.RawMessage
}

func ref_splitObject(data []byte) (map[string]json.RawMessage, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, err
	}
	if m == nil {
		return nil, fmt.Errorf("expected a JSON object, got null")
	}
	return m, nil
}

func ref_take(m map[string]json.RawMessage, key string, dst any) error {
	raw, ok := m[key]
	if !ok {
		return nil
	}
	delete(m, key)
	if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return nil
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		return fmt.Errorf("field %q: %w", key, err)
	}
	return nil
}

func ref_takeNumbers(m map[string]json.RawMessage, key string, dst any) error {
	raw, ok := m[key]
	if !ok {
		return nil
	}
	delete(m, key)
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(dst); err != nil {
		return fmt.Errorf("field %q: %w", key, err)
	}
	return nil
}

func ref_takeAll(m map[string]json.RawMessage, fields map[string]any) error {
	for key, dst := range fields {
		if err := ref_take(m, key, dst); err != nil {
			return err
		}
	}
	return nil
}

func ref_extra(m map[string]json.RawMessage) map[string]json.RawMessage {
	if len(m) == 0 {
		return nil
	}
	return m
}

func (l *refLink) UnmarshalJSON(data []byte) error {
	m, err := ref_splitObject(data)
	if err != nil {
		return fmt.Errorf("link: %w", err)
	}
	*l = refLink{}
	var headers map[string]json.RawMessage
	if err := ref_takeAll(m, map[string]any{
		"href": &l.Href, "rel": &l.Rel, "type": &l.Type, "title": &l.Title,
		"method": &l.Method, "headers": &headers,
	}); err != nil {
		return fmt.Errorf("link: %w", err)
	}
	if raw, ok := m["merge"]; ok {
		if err := json.Unmarshal(raw, &l.Merge); err != nil {
			return fmt.Errorf("link: field \"merge\": %w", err)
		}
		if l.Merge {
			delete(m, "merge")
		}
	}
	if raw, ok := m["body"]; ok {
		delete(m, "body")
		if !bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
			l.Body = append(json.RawMessage(nil), raw...)
		}
	}
	if len(headers) > 0 {
		l.Headers = make(http.Header, len(headers))
		for name, raw := range headers {
			var one string
			if json.Unmarshal(raw, &one) == nil {
				l.Headers[name] = []string{one}
				continue
			}
			var many []string
			if err := json.Unmarshal(raw, &many); err != nil {
				return fmt.Errorf("link: header %q: expected a string or an array of strings", name)
			}
			l.Headers[name] = many
		}
	}
	l.Extra = ref_extra(m)
	return nil
}

func (a *refAsset) UnmarshalJSON(data []byte) error {
	m, err := ref_splitObject(data)
	if err != nil {
		return fmt.Errorf("asset: %w", err)
	}
	*a = refAsset{}
	if err := ref_takeAll(m, map[string]any{
		"href": &a.Href, "title": &a.Title, "description": &a.Description,
		"type": &a.Type, "roles": &a.Roles,
	}); err != nil {
		return fmt.Errorf("asset: %w", err)
	}
	a.Extra = ref_extra(m)
	return nil
}

func (it *refItem) UnmarshalJSON(data []byte) error {
	m, err := ref_splitObject(data)
	if err != nil {
		return fmt.Errorf("item: %w", err)
	}
	*it = refItem{}
	if err := ref_takeAll(m, map[string]any{
		"type": &it.Type, "stac_version": &it.Version, "stac_extensions": &it.Extensions,
		"id": &it.ID, "bbox": &it.Bbox, "links": &it.Links, "assets": &it.Assets,
		"collection": &it.refCollection,
	}); err != nil {
		return fmt.Errorf("item %q: %w", it.ID, err)
	}
	if raw, ok := m["geometry"]; ok {
		delete(m, "geometry")
		it.Geometry = append(json.RawMessage(nil), raw...)
	}
	if err := ref_takeNumbers(m, "properties", &it.Properties); err != nil {
		return fmt.Errorf("item %q: %w", it.ID, err)
	}
	it.Extra = ref_extra(m)
	return nil
}

func (p *refProvider) UnmarshalJSON(data []byte) error {
	m, err := ref_splitObject(data)
	if err != nil {
		return fmt.Errorf("provider: %w", err)
	}
	*p = refProvider{}
	if err := ref_takeAll(m, map[string]any{
		"name": &p.Name, "description": &p.Description, "roles": &p.Roles, "url": &p.URL,
	}); err != nil {
		return fmt.Errorf("provider: %w", err)
	}
	p.Extra = ref_extra(m)
	return nil
}

func (e *refExtent) UnmarshalJSON(data []byte) error {
	m, err := ref_splitObject(data)
	if err != nil {
		return fmt.Errorf("extent: %w", err)
	}
	*e = refExtent{}
	if err := ref_takeAll(m, map[string]any{"spatial": &e.Spatial, "temporal": &e.Temporal}); err != nil {
		return fmt.Errorf("extent: %w", err)
	}
	e.Extra = ref_extra(m)
	return nil
}

func (s *refSpatialExtent) UnmarshalJSON(data []byte) error {
	m, err := ref_splitObject(data)
	if err != nil {
		return fmt.Errorf("spatial extent: %w", err)
	}
	*s = refSpatialExtent{}
	if err := ref_take(m, "bbox", &s.Bbox); err != nil {
		return fmt.Errorf("spatial extent: %w", err)
	}
	s.Extra = ref_extra(m)
	return nil
}

func (t *refTemporalExtent) UnmarshalJSON(data []byte) error {
	m, err := ref_splitObject(data)
	if err != nil {
		return fmt.Errorf("temporal extent: %w", err)
	}
	*t = refTemporalExtent{}
	if err := ref_take(m, "interval", &t.Interval); err != nil {
		return fmt.Errorf("temporal extent: %w", err)
	}
	t.Extra = ref_extra(m)
	return nil
}

func (c *refCollection) UnmarshalJSON(data []byte) error {
	m, err := ref_splitObject(data)
	if err != nil {
		return fmt.Errorf("collection: %w", err)
	}
	*c = refCollection{}
	if err := ref_takeAll(m, map[string]any{
		"type": &c.Type, "stac_version": &c.Version, "stac_extensions": &c.Extensions,
		"id": &c.ID, "title": &c.Title, "description": &c.Description,
		"keywords": &c.Keywords, "license": &c.License, "providers": &c.Providers,
		"extent": &c.refExtent, "links": &c.Links, "assets": &c.Assets,
	}); err != nil {
		return fmt.Errorf("collection %q: %w", c.ID, err)
	}
	if err := ref_takeNumbers(m, "summaries", &c.Summaries); err != nil {
		return fmt.Errorf("collection %q: %w", c.ID, err)
	}
	c.Extra = ref_extra(m)
	return nil
}

func (c *refCatalog) UnmarshalJSON(data []byte) error {
	m, err := ref_splitObject(data)
	if err != nil {
		return fmt.Errorf("catalog: %w", err)
	}
	*c = refCatalog{}
	if err := ref_takeAll(m, map[string]any{
		"type": &c.Type, "stac_version": &c.Version, "stac_extensions": &c.Extensions,
		"id": &c.ID, "title": &c.Title, "description": &c.Description,
		"conformsTo": &c.ConformsTo, "links": &c.Links,
	}); err != nil {
		return fmt.Errorf("catalog %q: %w", c.ID, err)
	}
	c.Extra = ref_extra(m)
	return nil
}

func (c *refContext) UnmarshalJSON(data []byte) error {
	m, err := ref_splitObject(data)
	if err != nil {
		return fmt.Errorf("context: %w", err)
	}
	*c = refContext{}
	if err := ref_takeAll(m, map[string]any{
		"returned": &c.Returned, "limit": &c.Limit, "matched": &c.Matched,
	}); err != nil {
		return fmt.Errorf("context: %w", err)
	}
	if raw, ok := m["next"]; ok {
		delete(m, "next")
		if !bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
			c.Next = append(json.RawMessage(nil), raw...)
		}
	}
	c.Extra = ref_extra(m)
	return nil
}

func (ic *refItemCollection) UnmarshalJSON(data []byte) error {
	m, err := ref_splitObject(data)
	if err != nil {
		return fmt.Errorf("item collection: %w", err)
	}
	*ic = refItemCollection{}
	if err := ref_takeAll(m, map[string]any{
		"type": &ic.Type, "features": &ic.Features, "links": &ic.Links,
		"numberMatched": &ic.NumberMatched, "numberReturned": &ic.NumberReturned,
		"context": &ic.refContext,
	}); err != nil {
		return fmt.Errorf("item collection: %w", err)
	}
	ic.Extra = ref_extra(m)
	return nil
}

func (cp *refCollectionsPage) UnmarshalJSON(data []byte) error {
	m, err := ref_splitObject(data)
	if err != nil {
		return fmt.Errorf("collections page: %w", err)
	}
	*cp = refCollectionsPage{}
	if err := ref_takeAll(m, map[string]any{
		"collections": &cp.Collections, "links": &cp.Links,
		"numberMatched": &cp.NumberMatched, "numberReturned": &cp.NumberReturned,
		"context": &cp.refContext,
	}); err != nil {
		return fmt.Errorf("collections page: %w", err)
	}
	cp.Extra = ref_extra(m)
	return nil
}
