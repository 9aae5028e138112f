package auth

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"
)

// The extension's own example collection, trimmed: an oauth2 scheme with
// an authorizationCode flow and a signedUrl scheme, referenced by assets.
const extensionCollection = `{
  "stac_version": "1.0.0", "type": "Collection", "id": "collection",
  "auth:schemes": {
    "oauth": {"type": "oauth2", "description": "requires a login and user token",
      "flows": {"authorizationCode": {"authorizationUrl": "https://example.com/oauth/authorize",
        "tokenUrl": "https://example.com/oauth/token",
        "scopes": {"read:example": "Read the example data", "write:example": "Write the example data"}}}},
    "signed_url_auth": {"type": "signedUrl", "description": "Requires an authentication API",
      "flows": {"auth": {"authorizationApi": "https://example.com/signed_url/authorize", "method": "POST",
        "parameters": {"bucket": {"in": "body", "required": true}}, "responseField": "signed_url"}}}
  },
  "assets": {"example": {"href": "https://example.com/examples/file.xyz", "auth:refs": ["signed_url_auth"]}},
  "links": [{"href": "https://example.com/examples/collection.json", "rel": "self"},
    {"href": "https://example.com/examples/item.json", "rel": "item", "auth:refs": ["oauth"]}]
}`

func TestParseAdvertised(t *testing.T) {
	a, err := ParseAdvertised([]byte(extensionCollection), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Schemes) != 2 || a.Schemes[0].Name != "oauth" || a.Schemes[1].Name != "signed_url_auth" {
		t.Fatalf("schemes %+v", a.Schemes)
	}
	f, ok := a.Schemes[0].Flow("authorizationCode")
	if !ok || f.TokenURL != "https://example.com/oauth/token" || fmt.Sprint(f.Scopes) != "[read:example write:example]" {
		t.Errorf("oauth flow %+v", f)
	}
	sf, _ := a.Schemes[1].Flow("auth")
	if sf.AuthorizationAPI != "https://example.com/signed_url/authorize" || sf.Method != "POST" || sf.ResponseField != "signed_url" {
		t.Errorf("signed URL flow %+v", sf)
	}
	if fmt.Sprint(a.Assets) != "map[example:[signed_url_auth]]" || len(a.Links) != 1 || a.Links[0].Rel != "item" {
		t.Errorf("refs: assets %v links %+v", a.Assets, a.Links)
	}
	// No link to the API itself names a scheme: all apply.
	if len(a.ForAPI()) != 2 {
		t.Errorf("ForAPI %v", a.ForAPI())
	}
	// With a bearer token the oauth2 scheme is satisfied; a client alone
	// is not (no clientCredentials flow); signed URLs are for assets.
	if c, ok := a.Choose(Have{Token: true}); !ok || c.Scheme.Name != "oauth" || c.Method != MethodToken {
		t.Errorf("Choose(token) = %+v, %v", c, ok)
	}
	if c, ok := a.Choose(Have{ClientCredentials: true, APIKey: true, Basic: true}); ok {
		t.Errorf("Choose(client) = %+v", c)
	}
	if n := a.Schemes[1].Needs(); !strings.Contains(n, "signed URLs are for assets") {
		t.Errorf("Needs = %q", n)
	}
}

// Landing pages as APIs that describe their own auth would serve them.
func TestChooseFromLandingPages(t *testing.T) {
	base, _ := url.Parse("https://api.example.com/stac/v1")
	for _, tt := range []struct {
		name, doc string
		have      Have
		want      string // "method scheme detail", "" for none
	}{
		{"client credentials, relative token URL",
			`{"auth:schemes":{"cc":{"type":"oauth2","flows":{"clientCredentials":{"tokenUrl":"../../oauth/token","scopes":{"stac:read":"r"}}}}},
			  "links":[{"rel":"search","href":"search","auth:refs":["cc"]}]}`,
			Have{ClientCredentials: true}, "client_credentials cc https://api.example.com/oauth/token [stac:read]"},
		{"API key in a query parameter",
			`{"auth:schemes":{"k":{"type":"apiKey","in":"query","name":"api_key"}}}`,
			Have{APIKey: true}, `apikey k query parameter "api_key"`},
		{"API key in a header",
			`{"auth:schemes":{"k":{"type":"apiKey","in":"header","name":"X-Api-Key"}}}`,
			Have{APIKey: true}, `apikey k header "X-Api-Key"`},
		{"API key in a cookie is not supported",
			`{"auth:schemes":{"k":{"type":"apiKey","in":"cookie","name":"session"}}}`,
			Have{APIKey: true}, ""},
		{"http basic", `{"auth:schemes":{"b":{"type":"http","scheme":"Basic"}}}`, Have{Basic: true}, "basic b"},
		{"http bearer", `{"auth:schemes":{"b":{"type":"http","scheme":"bearer"}}}`, Have{Token: true}, "token b"},
		{"first satisfiable in document order",
			`{"auth:schemes":{"b":{"type":"http","scheme":"basic"},"k":{"type":"apiKey","in":"query","name":"key"}}}`,
			Have{APIKey: true, Basic: true}, "basic b"},
		{"refs of the API's links restrict the schemes",
			`{"auth:schemes":{"b":{"type":"http","scheme":"basic"},"k":{"type":"apiKey","in":"query","name":"key"}},
			  "links":[{"rel":"search","href":"/search","auth:refs":["k"]},{"rel":"license","href":"/l","auth:refs":["b"]}]}`,
			Have{APIKey: true, Basic: true}, `apikey k query parameter "key"`},
		{"flat flows (the extension README's form)",
			`{"auth:schemes":{"o":{"type":"oauth2","flows":{"tokenUrl":"https://id.example.com/token","scopes":{}}}}}`,
			Have{ClientCredentials: true}, "client_credentials o https://id.example.com/token []"},
		{"nothing satisfiable", `{"auth:schemes":{"s":{"type":"s3"}}}`, Have{Token: true, APIKey: true}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a, err := ParseAdvertised([]byte(tt.doc), base)
			if err != nil {
				t.Fatal(err)
			}
			c, ok := a.Choose(tt.have)
			got := ""
			if ok {
				got = c.Method + " " + c.Scheme.Name
				switch c.Method {
				case MethodClientCredentials:
					got += fmt.Sprintf(" %s %v", c.TokenURL, c.Scopes)
				case MethodAPIKey:
					got += " " + c.APIKey.String()
				}
			}
			if got != tt.want {
				t.Errorf("Choose = %q, want %q (problems %q)", got, tt.want, a.Problems)
			}
		})
	}
}

// Members of the wrong shape are skipped and named; what is not a JSON
// object is an error.
func TestParseAdvertisedProblems(t *testing.T) {
	a, err := ParseAdvertised([]byte(`{"auth:schemes":{"bad":42,"notype":{"scheme":"basic"},"ok":{"type":"http","scheme":"basic"}},
		"auth:refs":"ok","links":[{"rel":"self","auth:refs":[1]}],"assets":[]}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Schemes) != 1 || a.Schemes[0].Name != "ok" {
		t.Errorf("schemes %+v", a.Schemes)
	}
	all := strings.Join(a.Problems, "\n")
	for _, want := range []string{`"bad": not a scheme object`, `"notype": no type`, "auth:refs is not a list of strings", `link "self": auth:refs`} {
		if !strings.Contains(all, want) {
			t.Errorf("problems %q lack %q", a.Problems, want)
		}
	}
	for _, doc := range []string{``, `[]`, `"x"`, `{"a":`, `{} trailing`} {
		if _, err := ParseAdvertised([]byte(doc), nil); err == nil && doc != `{} trailing` {
			t.Errorf("%q: no error", doc)
		}
	}
}

// Whatever a server puts in its landing page, ParseAdvertised neither
// panics nor keeps more than its bounds, and what Choose returns is
// usable: a client credentials choice has an absolute token URL, an API
// key choice a name.
func FuzzParseAdvertised(f *testing.F) {
	f.Add([]byte(extensionCollection))
	f.Add([]byte(`{"auth:schemes":{"cc":{"type":"oauth2","flows":{"clientCredentials":{"tokenUrl":"/token","scopes":{"a":"b"}}}}},"links":[{"rel":"search","href":"/s","auth:refs":["cc"]}]}`))
	f.Add([]byte(`{"auth:schemes":{"k":{"type":"apiKey","in":"query","name":"api_key"}},"auth:refs":["k"]}`))
	f.Add([]byte(`{"auth:schemes":{"o":{"type":"oauth2","flows":{"tokenUrl":"https://x/t","scopes":{}}}}}`))
	f.Add([]byte(`{"auth:schemes":{"a":{"type":"http","scheme":"basic"},"a":{"type":"apiKey"}}}`))
	f.Add([]byte(`{"auth:schemes":[],"links":{},"assets":{"x":{"auth:refs":"y"}}}`))
	f.Add([]byte("{\"auth:schemes\":{\"\xff\":{\"type\":\"\x1b]0;t\x07\"}}}"))
	base, _ := url.Parse("https://api.example.com/v1/")
	f.Fuzz(func(t *testing.T, doc []byte) {
		a, err := ParseAdvertised(doc, base)
		if err != nil {
			return
		}
		if len(a.Schemes) > maxSchemes || len(a.Links) > 256 || len(a.Assets) > 256 || len(a.Problems) > maxSchemes {
			t.Fatalf("unbounded: %d schemes, %d links, %d assets", len(a.Schemes), len(a.Links), len(a.Assets))
		}
		for _, s := range a.Schemes {
			_ = s.String()
			_ = s.Needs()
			if !utf8.ValidString(s.Name) && len(s.Name) > 200 {
				t.Fatalf("name of %d bytes", len(s.Name))
			}
		}
		for _, h := range []Have{{ClientCredentials: true}, {Token: true}, {APIKey: true}, {Basic: true}, {true, true, true, true}} {
			c, ok := a.Choose(h)
			if !ok {
				continue
			}
			switch c.Method {
			case MethodClientCredentials:
				if u, err := url.Parse(c.TokenURL); err != nil || !u.IsAbs() {
					t.Fatalf("token URL %q", c.TokenURL)
				}
			case MethodAPIKey:
				if c.APIKey.Name == "" {
					t.Fatalf("API key without a name: %+v", c)
				}
			}
		}
	})
}
