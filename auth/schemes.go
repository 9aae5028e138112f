package auth

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// Scheme types of the STAC authentication extension.
const (
	SchemeHTTP          = "http"
	SchemeOAuth2        = "oauth2"
	SchemeAPIKey        = "apiKey"
	SchemeOpenIDConnect = "openIdConnect"
	SchemeSignedURL     = "signedUrl"
	SchemeS3            = "s3"
)

// Scheme is one entry of a STAC document's auth:schemes (the
// authentication extension, https://github.com/stac-extensions/authentication),
// which follows OpenAPI's security scheme object.
type Scheme struct {
	Name        string // its key in auth:schemes
	Type        string // SchemeHTTP, SchemeOAuth2, SchemeAPIKey, ..., or a custom type
	Description string // instructions for users (CommonMark)
	// HTTPScheme is the Authorization scheme of an http scheme: "basic",
	// "bearer", ...
	HTTPScheme string
	// In and ParamName say where an apiKey goes: "header", "query" or
	// "cookie", and the header, parameter or cookie name.
	In, ParamName string
	// Flows of an oauth2 or signedUrl scheme, in document order.
	Flows []Flow
	// OpenIDConnectURL is an openIdConnect scheme's discovery URL.
	OpenIDConnectURL string
}

// Flow is an OAuth2 flow (clientCredentials, authorizationCode, password,
// implicit) or a signed URL flow of a Scheme. URLs are absolute, resolved
// against the document's URL.
type Flow struct {
	Name             string   // its key in flows: "clientCredentials", "authorizationCode", ...
	AuthorizationURL string   // where a user authorizes (authorizationCode, implicit)
	TokenURL         string   // the token endpoint (clientCredentials, password, authorizationCode)
	RefreshURL       string   // where tokens are refreshed, when not TokenURL
	Scopes           []string // the scope names, in document order
	AuthorizationAPI string   // signedUrl: the signing endpoint
	Method           string   // signedUrl: the signing endpoint's method
	ResponseField    string   // signedUrl: the answer's member holding the signed URL
}

// Flow returns the flow called name.
func (s Scheme) Flow(name string) (Flow, bool) {
	for _, f := range s.Flows {
		if strings.EqualFold(f.Name, name) {
			return f, true
		}
	}
	return Flow{}, false
}

// String describes s in a line, e.g.
// `oauth2 "oidc": clientCredentials at https://id.example.com/token (scopes stac:read)`.
func (s Scheme) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %q", s.Type, s.Name)
	switch strings.ToLower(s.Type) {
	case "http":
		fmt.Fprintf(&b, ": %s", s.HTTPScheme)
	case "apikey":
		fmt.Fprintf(&b, ": in %s %q", s.In, s.ParamName)
	case "openidconnect":
		fmt.Fprintf(&b, ": %s", s.OpenIDConnectURL)
	}
	for i, f := range s.Flows {
		sep := ", "
		if i == 0 {
			sep = ": "
		}
		b.WriteString(sep + f.Name)
		switch {
		case f.TokenURL != "":
			b.WriteString(" at " + f.TokenURL)
		case f.AuthorizationAPI != "":
			b.WriteString(" at " + f.AuthorizationAPI)
		case f.AuthorizationURL != "":
			b.WriteString(" at " + f.AuthorizationURL)
		}
		if len(f.Scopes) > 0 {
			b.WriteString(" (scopes " + strings.Join(f.Scopes, " ") + ")")
		}
	}
	return b.String()
}

// LinkRefs is a link that names the schemes it needs in auth:refs.
type LinkRefs struct {
	Rel  string   // the link's relation
	Href string   // its target, absolute when the document's URL was given
	Refs []string // the names of the schemes it needs
}

// Advertised is what a STAC document (a landing page, collection, item or
// link object) says about authentication.
type Advertised struct {
	// Schemes are its auth:schemes, in document order.
	Schemes []Scheme
	// Refs are its own auth:refs (a link or asset object's).
	Refs []string
	// Links are its links that carry auth:refs.
	Links []LinkRefs
	// Assets maps the key of each asset with auth:refs to them.
	Assets map[string][]string
	// Problems name the members that could not be read and were skipped.
	Problems []string
}

// maxSchemes bounds what is kept of a hostile document.
const maxSchemes = 64

// ParseAdvertised reads the authentication extension's members of doc, a
// JSON object. base, when set, resolves relative URLs (token URLs, link
// hrefs). Members of the wrong shape are skipped and named in Problems;
// the error is for input that is not a JSON object.
func ParseAdvertised(doc []byte, base *url.URL) (*Advertised, error) {
	members, err := objectMembers(doc)
	if err != nil {
		return nil, err
	}
	a := &Advertised{}
	for _, m := range members {
		switch m.name {
		case "auth:schemes":
			a.parseSchemes(m.value, base)
		case "auth:refs":
			if err := json.Unmarshal(m.value, &a.Refs); err != nil {
				a.Refs = nil
				a.problem("auth:refs is not a list of strings")
			}
		case "links":
			a.parseLinks(m.value, base)
		case "assets":
			a.parseAssets(m.value)
		}
	}
	return a, nil
}

func (a *Advertised) problem(format string, args ...any) {
	if len(a.Problems) < maxSchemes {
		a.Problems = append(a.Problems, fmt.Sprintf(format, args...))
	}
}

type member struct {
	name  string
	value jsontext.Value
}

// objectMembers splits a JSON object into its members, in order. Later
// duplicates are kept too; readers take the first.
func objectMembers(data []byte) ([]member, error) {
	dec := jsontext.NewDecoder(bytes.NewReader(data), jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true))
	tok, err := dec.ReadToken()
	if err != nil {
		return nil, fmt.Errorf("not JSON: %w", err)
	}
	if tok.Kind() != '{' {
		return nil, errors.New("not a JSON object")
	}
	var out []member
	for dec.PeekKind() != '}' {
		tok, err := dec.ReadToken()
		if err != nil {
			return nil, fmt.Errorf("not a JSON object: %w", err)
		}
		name := tok.String() // before the next read voids tok
		v, err := dec.ReadValue()
		if err != nil {
			return nil, fmt.Errorf("not a JSON object: %w", err)
		}
		out = append(out, member{name, v.Clone()})
	}
	if _, err := dec.ReadToken(); err != nil {
		return nil, fmt.Errorf("not a JSON object: %w", err)
	}
	return out, nil
}

func (a *Advertised) parseSchemes(v jsontext.Value, base *url.URL) {
	members, err := objectMembers(v)
	if err != nil {
		a.problem("auth:schemes is not an object")
		return
	}
	seen := map[string]bool{}
	for _, m := range members {
		if seen[m.name] {
			continue
		}
		seen[m.name] = true
		if len(a.Schemes) == maxSchemes {
			a.problem("auth:schemes: more than %d schemes; the rest skipped", maxSchemes)
			return
		}
		s, err := parseScheme(m.name, m.value, base)
		if err != nil {
			a.problem("auth:schemes %q: %v", clip(m.name, 64), err)
			continue
		}
		a.Schemes = append(a.Schemes, s)
	}
}

// wireScheme is a scheme object as written; flows are read separately
// (they come as a map of flows, or, in some documents, as one flow).
type wireScheme struct {
	Type             string         `json:"type"`
	Description      string         `json:"description"`
	Scheme           string         `json:"scheme"`
	In               string         `json:"in"`
	Name             string         `json:"name"`
	Flows            jsontext.Value `json:"flows"`
	OpenIDConnectURL string         `json:"openIdConnectUrl"`
}

type wireFlow struct {
	AuthorizationURL string         `json:"authorizationUrl"`
	TokenURL         string         `json:"tokenUrl"`
	RefreshURL       string         `json:"refreshUrl"`
	Scopes           jsontext.Value `json:"scopes"`
	AuthorizationAPI string         `json:"authorizationApi"`
	Method           string         `json:"method"`
	ResponseField    string         `json:"responseField"`
}

func parseScheme(name string, v jsontext.Value, base *url.URL) (Scheme, error) {
	var w wireScheme
	if err := json.Unmarshal(v, &w); err != nil {
		return Scheme{}, errors.New("not a scheme object")
	}
	if w.Type == "" {
		return Scheme{}, errors.New("no type")
	}
	s := Scheme{
		Name: clip(name, 128), Type: clip(w.Type, 64), Description: clip(w.Description, 500),
		HTTPScheme: strings.ToLower(clip(w.Scheme, 64)), In: strings.ToLower(clip(w.In, 16)), ParamName: clip(w.Name, 128),
		OpenIDConnectURL: resolveURL(base, w.OpenIDConnectURL),
	}
	if len(w.Flows) == 0 || w.Flows.Kind() != '{' {
		return s, nil
	}
	flows, err := objectMembers(w.Flows)
	if err != nil {
		return s, nil
	}
	// The flat form {"tokenUrl": ..., "scopes": ...} (as in the
	// extension's own README) is one flow without a name.
	flat := false
	for _, f := range flows {
		if f.value.Kind() != '{' || f.name == "scopes" {
			flat = true
		}
	}
	if flat {
		flows = []member{{"", w.Flows}}
	}
	for _, f := range flows {
		if len(s.Flows) == 16 {
			break
		}
		var wf wireFlow
		if err := json.Unmarshal(f.value, &wf); err != nil {
			continue
		}
		fl := Flow{
			Name: clip(f.name, 64), AuthorizationURL: resolveURL(base, wf.AuthorizationURL), TokenURL: resolveURL(base, wf.TokenURL),
			RefreshURL: resolveURL(base, wf.RefreshURL), AuthorizationAPI: resolveURL(base, wf.AuthorizationAPI),
			Method: clip(wf.Method, 16), ResponseField: clip(wf.ResponseField, 64),
		}
		if fl.Name == "" && fl.TokenURL != "" && fl.AuthorizationURL == "" {
			fl.Name = "clientCredentials" // a token URL alone serves no other flow
		}
		if scopes, err := objectMembers(wf.Scopes); err == nil {
			for _, sc := range scopes {
				if len(fl.Scopes) < 64 {
					fl.Scopes = append(fl.Scopes, clip(sc.name, 128))
				}
			}
		}
		s.Flows = append(s.Flows, fl)
	}
	return s, nil
}

// resolveURL makes ref absolute against base; what is not a URL is dropped.
func resolveURL(base *url.URL, ref string) string {
	if ref == "" || len(ref) > 4096 {
		return ""
	}
	u, err := url.Parse(strings.TrimSpace(ref))
	if err != nil {
		return ""
	}
	if base != nil {
		u = base.ResolveReference(u)
	}
	if !u.IsAbs() {
		return ""
	}
	return u.String()
}

func (a *Advertised) parseLinks(v jsontext.Value, base *url.URL) {
	var links []struct {
		Rel  string         `json:"rel"`
		Href string         `json:"href"`
		Refs jsontext.Value `json:"auth:refs"`
	}
	if err := json.Unmarshal(v, &links); err != nil {
		a.problem("links are not a list of link objects")
		return
	}
	for _, l := range links {
		if len(l.Refs) == 0 {
			continue
		}
		var refs []string
		if err := json.Unmarshal(l.Refs, &refs); err != nil {
			a.problem("link %q: auth:refs is not a list of strings", clip(l.Rel, 64))
			continue
		}
		if len(a.Links) < 256 {
			a.Links = append(a.Links, LinkRefs{Rel: clip(l.Rel, 64), Href: resolveURL(base, l.Href), Refs: refs})
		}
	}
}

func (a *Advertised) parseAssets(v jsontext.Value) {
	assets, err := objectMembers(v)
	if err != nil {
		return
	}
	for _, as := range assets {
		var refs struct {
			Refs []string `json:"auth:refs"`
		}
		if json.Unmarshal(as.value, &refs) != nil || len(refs.Refs) == 0 {
			continue
		}
		if a.Assets == nil {
			a.Assets = map[string][]string{}
		}
		if len(a.Assets) < 256 {
			a.Assets[clip(as.name, 128)] = refs.Refs
		}
	}
}

// Scheme returns the scheme called name.
func (a *Advertised) Scheme(name string) (Scheme, bool) {
	for _, s := range a.Schemes {
		if s.Name == name {
			return s, true
		}
	}
	return Scheme{}, false
}

// apiRels are the relations of links to the API itself, as opposed to
// assets or other services.
var apiRels = map[string]bool{
	"self": true, "root": true, "search": true, "data": true, "conformance": true,
	"items": true, "collection": true, "child": true, "next": true, "service-desc": true,
	"queryables": true, "http://www.opengis.net/def/rel/ogc/1.0/queryables": true,
}

// ForAPI returns the schemes the API's own requests need: those named by
// the auth:refs of the document's links to the API (self, root, search,
// data, ...), or of the document itself, or every scheme when none is
// named there.
func (a *Advertised) ForAPI() []Scheme {
	named := map[string]bool{}
	for _, r := range a.Refs {
		named[r] = true
	}
	for _, l := range a.Links {
		if apiRels[l.Rel] {
			for _, r := range l.Refs {
				named[r] = true
			}
		}
	}
	if len(named) == 0 {
		return a.Schemes
	}
	var out []Scheme
	for _, s := range a.Schemes {
		if named[s.Name] {
			out = append(out, s)
		}
	}
	return out
}

// Have says which credentials a caller holds, for Choose.
type Have struct {
	ClientCredentials bool // an OAuth2 client id and secret
	Token             bool // a bearer token
	APIKey            bool // an API key
	Basic             bool // a user name and password
}

// Choice is the scheme Choose picked and how to satisfy it.
type Choice struct {
	// Scheme is the advertised scheme chosen.
	Scheme Scheme
	// Method is MethodClientCredentials, MethodToken, MethodAPIKey or
	// MethodBasic.
	Method string
	// TokenURL and Scopes are the client credentials flow's.
	TokenURL string
	Scopes   []string // the flow's scope names
	// APIKey says where an API key goes.
	APIKey APIKeyPlacement
}

// Choose picks the first scheme, in document order among ForAPI's, that
// the credentials in h can satisfy: OAuth2 client credentials at the
// flow's token URL, a bearer token for an http bearer, oauth2 or
// openIdConnect scheme, an API key in a header or query parameter, a user
// and password for http basic. ok is false when none can be.
func (a *Advertised) Choose(h Have) (c Choice, ok bool) {
	for _, s := range a.ForAPI() {
		switch strings.ToLower(s.Type) {
		case "oauth2":
			if f, found := s.Flow("clientCredentials"); found && f.TokenURL != "" && h.ClientCredentials {
				return Choice{Scheme: s, Method: MethodClientCredentials, TokenURL: f.TokenURL, Scopes: f.Scopes}, true
			}
			if h.Token {
				return Choice{Scheme: s, Method: MethodToken}, true
			}
		case "openidconnect":
			if h.Token {
				return Choice{Scheme: s, Method: MethodToken}, true
			}
		case "http":
			switch {
			case s.HTTPScheme == "bearer" && h.Token:
				return Choice{Scheme: s, Method: MethodToken}, true
			case s.HTTPScheme == "basic" && h.Basic:
				return Choice{Scheme: s, Method: MethodBasic}, true
			}
		case "apikey":
			if !h.APIKey || s.ParamName == "" {
				continue
			}
			switch s.In {
			case "header":
				return Choice{Scheme: s, Method: MethodAPIKey, APIKey: APIKeyPlacement{In: APIKeyHeader, Name: s.ParamName}}, true
			case "query":
				return Choice{Scheme: s, Method: MethodAPIKey, APIKey: APIKeyPlacement{In: APIKeyQuery, Name: s.ParamName}}, true
			}
		}
	}
	return Choice{}, false
}

// Needs says what credentials s takes, in a few words ("a client id and
// secret", "an API key", ...), or why none will do for API requests.
func (s Scheme) Needs() string {
	switch strings.ToLower(s.Type) {
	case "oauth2":
		if f, ok := s.Flow("clientCredentials"); ok && f.TokenURL != "" {
			return "a client id and secret (or a bearer token)"
		}
		return "a bearer token"
	case "openidconnect":
		return "a bearer token (or a user login at " + s.OpenIDConnectURL + ")"
	case "http":
		switch s.HTTPScheme {
		case "bearer":
			return "a bearer token"
		case "basic":
			return "a user name and password"
		}
		return "unsupported HTTP scheme " + s.HTTPScheme
	case "apikey":
		if s.In == "header" || s.In == "query" {
			return "an API key"
		}
		return "unsupported API key location " + s.In
	case "signedurl":
		return "nothing for API requests: signed URLs are for assets"
	case "s3":
		return "nothing for API requests: S3 credentials are for assets"
	}
	return "unsupported scheme type " + s.Type
}
