package auth_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/oauth2"

	"github.com/stacq/stacq/auth"
)

// server is an OAuth2 token endpoint (/token, client "my-client" with
// secret "my-secret") and an API (/api) that wants its tokens, counting
// the token requests.
func server() (*httptest.Server, *atomic.Int64) {
	var issued atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		if id, secret, ok := r.BasicAuth(); !ok || id != "my-client" || secret != "my-secret" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"error":"invalid_client"}`)
			return
		}
		n := issued.Add(1)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"access_token":"token-%d","token_type":"Bearer","expires_in":3600}`, n)
	})
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer token-") {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		fmt.Fprint(w, `{"type":"FeatureCollection","features":[]}`)
	})
	return httptest.NewServer(mux), &issued
}

// The layers of an authenticating client, each wrapping the next: the
// token endpoint, a token cache on disk, one token shared by every
// request, and a transport that adds it to the API's requests only.
func Example() {
	srv, issued := server()
	defer srv.Close()
	dir, _ := os.MkdirTemp("", "tokens")
	defer os.RemoveAll(dir)

	cc, err := auth.NewClientCredentialsSource(auth.ClientCredentials{
		TokenURL: srv.URL + "/token", ClientID: "my-client", ClientSecret: "my-secret",
		AuthStyle: auth.AuthStyleBasic,
	})
	if err != nil {
		log.Fatal(err)
	}
	cache := auth.NewDiskCache(cc, dir, cc.CacheKey(), nil)
	tokens := auth.NewReuseSource(cache, 0)
	client := &http.Client{Transport: &auth.Transport{
		Credentials: auth.NewBearer(tokens),
		Origins:     []string{srv.URL + "/api"},
	}}

	for range 3 {
		resp, err := client.Get(srv.URL + "/api/search")
		if err != nil {
			log.Fatal(err)
		}
		resp.Body.Close()
		fmt.Println(resp.Status)
	}
	fmt.Println("token requests:", issued.Load())
	// Output:
	// 200 OK
	// 200 OK
	// 200 OK
	// token requests: 1
}

// A client credentials source asks the token endpoint on every call; the
// layers above it reuse what it gets.
func ExampleNewClientCredentialsSource() {
	srv, _ := server()
	defer srv.Close()
	cc, err := auth.NewClientCredentialsSource(auth.ClientCredentials{
		TokenURL: srv.URL + "/token", ClientID: "my-client", ClientSecret: "my-secret",
	})
	if err != nil {
		log.Fatal(err)
	}
	tok, err := cc.Token(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(tok.AccessToken, tok.TokenType, tok.ExpiresIn, cc.LearnedStyle())

	_, err = auth.NewClientCredentialsSource(auth.ClientCredentials{
		TokenURL: "http://idp.example.com/token", ClientID: "my-client", ClientSecret: "my-secret",
	})
	fmt.Println(err)
	// Output:
	// token-1 Bearer 3600 basic
	// generic: token URL http://idp.example.com/token: refusing to send a client secret over plain http to a non-loopback host; use https
}

// Two runs of a program share the token kept on disk; a changed secret
// misses the cache.
func ExampleNewDiskCache() {
	srv, issued := server()
	defer srv.Close()
	dir, _ := os.MkdirTemp("", "tokens")
	defer os.RemoveAll(dir)

	run := func(secret string) {
		cc, _ := auth.NewClientCredentialsSource(auth.ClientCredentials{
			TokenURL: srv.URL + "/token", ClientID: "my-client", ClientSecret: secret,
		})
		tok, err := auth.NewDiskCache(cc, dir, cc.CacheKey(), nil).Token(context.Background())
		var te *auth.TokenError
		if errors.As(err, &te) {
			fmt.Println("error:", te.ErrorCode, te.StatusCode)
			return
		}
		fmt.Println(tok.AccessToken)
	}
	run("my-secret")
	run("my-secret")
	run("a-wrong-secret")
	fmt.Println("token requests:", issued.Load())
	// Output:
	// token-1
	// token-1
	// error: invalid_client 401
	// token requests: 1
}

// Concurrent requests share one token: one token request between them.
func ExampleNewReuseSource() {
	srv, issued := server()
	defer srv.Close()
	cc, _ := auth.NewClientCredentialsSource(auth.ClientCredentials{
		TokenURL: srv.URL + "/token", ClientID: "my-client", ClientSecret: "my-secret",
	})
	tokens := auth.NewReuseSource(cc, 0)
	var wg sync.WaitGroup
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tokens.Token(context.Background())
		}()
	}
	wg.Wait()
	fmt.Println("token requests:", issued.Load())
	// Output:
	// token requests: 1
}

// echo is an API that tells what authenticated the request.
func echo() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch user, pass, ok := r.BasicAuth(); {
		case ok:
			fmt.Fprintf(w, "Basic user %q, password of %d bytes", user, len(pass))
		case r.Header.Get("Authorization") != "":
			fmt.Fprintf(w, "Authorization scheme %q", strings.Fields(r.Header.Get("Authorization"))[0])
		case r.URL.Query().Has("api_key"):
			fmt.Fprint(w, "api_key in the query")
		default:
			fmt.Fprint(w, "nothing")
		}
	}))
}

func show(c *http.Client, u string) {
	resp, err := c.Get(u)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	fmt.Println(string(b))
}

// A static bearer token cannot be renewed: a 401 to it is final.
func ExampleNewStaticToken() {
	api := echo()
	defer api.Close()
	c := &http.Client{Transport: &auth.Transport{Credentials: auth.NewStaticToken("abc123"), Origins: []string{api.URL}}}
	show(c, api.URL+"/search")
	// Output:
	// Authorization scheme "Bearer"
}

// An API key in a query parameter, as an API's auth:schemes may ask
// (apiKey, in: query), and Planet's way: the HTTP Basic user name.
func ExampleNewAPIKey() {
	api := echo()
	defer api.Close()
	for _, p := range []auth.APIKeyPlacement{{In: auth.APIKeyQuery, Name: "api_key"}, {In: auth.APIKeyBasic}} {
		key, err := auth.NewAPIKey("PLAK0123", p)
		if err != nil {
			log.Fatal(err)
		}
		c := &http.Client{Transport: &auth.Transport{Credentials: key, Origins: []string{api.URL}}}
		show(c, api.URL+"/search")
	}
	// Output:
	// api_key in the query
	// Basic user "PLAK0123", password of 0 bytes
}

// HTTP Basic, as Hydrosat's tutorial sends to its STAC API.
func ExampleNewBasic() {
	api := echo()
	defer api.Close()
	c := &http.Client{Transport: &auth.Transport{Credentials: auth.NewBasic("alice", "s3cret"), Origins: []string{api.URL}}}
	show(c, api.URL+"/search")
	// Output:
	// Basic user "alice", password of 6 bytes
}

// A user session's token source (auth/login's, or any
// oauth2.TokenSource) behind the same transport.
func ExampleNewSessionSource() {
	api := echo()
	defer api.Close()
	session := oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "user-token", TokenType: "Bearer"})
	tokens := auth.NewReuseSource(auth.NewSessionSource(session), 0)
	c := &http.Client{Transport: &auth.Transport{Credentials: auth.NewBearer(tokens), Origins: []string{api.URL}}}
	show(c, api.URL+"/search")
	// Output:
	// Authorization scheme "Bearer"
}

// Credentials go to the allowed origins only: an asset on another host
// (or port, or over http where the API is https) gets none.
func ExampleTransport() {
	api, assets := echo(), echo()
	defer api.Close()
	defer assets.Close()
	c := &http.Client{Transport: &auth.Transport{Credentials: auth.NewStaticToken("abc123"), Origins: []string{api.URL}}}
	show(c, api.URL+"/collections")
	show(c, assets.URL+"/cog.tif")
	// Output:
	// Authorization scheme "Bearer"
	// nothing
}

// An API that describes its own auth: the landing page's auth:schemes,
// and the credentials at hand, pick the flow.
func ExampleParseAdvertised() {
	landing := []byte(`{
	  "type": "Catalog", "id": "example",
	  "auth:schemes": {
	    "oidc": {"type": "oauth2", "flows": {"clientCredentials": {
	      "tokenUrl": "https://id.example.com/token", "scopes": {"stac:read": "read"}}}},
	    "key": {"type": "apiKey", "in": "query", "name": "api_key"}
	  },
	  "links": [{"rel": "search", "href": "/search", "auth:refs": ["oidc", "key"]}]
	}`)
	adv, err := auth.ParseAdvertised(landing, nil)
	if err != nil {
		log.Fatal(err)
	}
	for _, s := range adv.ForAPI() {
		fmt.Printf("%s; needs %s\n", s, s.Needs())
	}
	c, _ := adv.Choose(auth.Have{APIKey: true})
	fmt.Println("with an API key:", c.Method, c.APIKey)
	c, _ = adv.Choose(auth.Have{ClientCredentials: true, APIKey: true})
	fmt.Println("with a client:", c.Method, c.TokenURL, c.Scopes)
	// Output:
	// oauth2 "oidc": clientCredentials at https://id.example.com/token (scopes stac:read); needs a client id and secret (or a bearer token)
	// apiKey "key": in query "api_key"; needs an API key
	// with an API key: apikey query parameter "api_key"
	// with a client: client_credentials https://id.example.com/token [stac:read]
}
