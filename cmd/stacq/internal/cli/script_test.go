package cli_test

import (
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/stacq/stacq/cmd/stacq/internal/cli"
	"github.com/stacq/stacq/internal/testing/stactest"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"stacq":    func() { os.Exit(cli.Main()) },
		"xdg-open": fakeBrowser, // the browser of `stacq auth login --browser` (DISPLAY must be set)
	})
}

// TestScripts runs the CLI as a user does, against local STAC APIs, from the
// scripts in testdata/script. Each script gets:
//
//	$API       a STAC API with 1,000 items in two collections (POST paging with merge)
//	$API_GET   the same data behind a GET-only API
//	$API_SH    a Sentinel Hub Catalog API flavour (context.next paging)
//	$API_AUTH  an API that requires OAuth2 client credentials at $TOKEN_URL
//	           (client "cli-test", secret "cli-test-secret", form-body auth)
//	$API_FAIL  an API whose /search fails with 502 from the 3rd page on
//	$API_SLOW  300 items, each request answered after 40 ms (to interrupt)
//	$API_TLS   300 items over HTTPS with HTTP/2 and gzip; its certificate is
//	           in $WORK/api_tls_ca.pem (for SSL_CERT_FILE)
//	$API_OLD   100 items behind a STAC API 0.9 landing page: no conformsTo,
//	           no conformance link, /conformance answers 404
//	$API_SH2   $API_SH's paging at another path (/catalog/v1)
//	$API_LOOP  100 items whose third page's next link leads back to the first
//	$API_DUPES 50 items, each page repeating the last item of the page before
//	$API_CRAWLFAIL 1,000 items in two collections whose 3rd and 4th item
//	           pages (of any collection) fail with 503, once; $API_CRAWLFAIL2
//	           is another such server
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "../../../../testdata/script",
		Setup: func(env *testscript.Env) error {
			servers := map[string]*stactest.Server{
				"API":     stactest.New(stactest.Options{Items: 1000, Collections: []string{"sentinel-2-l2a", "landsat-c2-l2"}, DefaultPage: 100}),
				"API_GET": stactest.New(stactest.Options{Items: 1000, Collections: []string{"sentinel-2-l2a", "landsat-c2-l2"}, DefaultPage: 100, NoPost: true}),
				"API_SH":  stactest.New(stactest.Options{Items: 250, SentinelHub: true}),
				"API_AUTH": stactest.New(stactest.Options{Items: 500, DefaultPage: 100,
					Auth: &stactest.Auth{ClientID: "cli-test", ClientSecret: "cli-test-secret", Style: "body"}}),
				"API_FAIL":  stactest.New(stactest.Options{Items: 1000, DefaultPage: 100, Intercept: failFromThirdPage()}),
				"API_SLOW":  stactest.New(stactest.Options{Items: 300, DefaultPage: 10, Latency: 40 * time.Millisecond}),
				"API_TLS":   stactest.New(stactest.Options{Items: 300, DefaultPage: 100, TLS: true, Gzip: true}),
				"API_OLD":   stactest.New(stactest.Options{Items: 100, NoConformance: true, Version: "0.9.0"}),
				"API_SH2":   stactest.New(stactest.Options{Items: 250, SentinelHub: true, RootPath: "/catalog/v1"}),
				"API_LOOP":  stactest.New(stactest.Options{Items: 100, Loop: true}),
				"API_DUPES": stactest.New(stactest.Options{Items: 50, RepeatAtBoundary: true}),
				"API_CRAWLFAIL": stactest.New(stactest.Options{Items: 1000, Collections: []string{"sentinel-2-l2a", "landsat-c2-l2"},
					Intercept: failItemPages(3, 4)}),
				"API_CRAWLFAIL2": stactest.New(stactest.Options{Items: 1000, Collections: []string{"sentinel-2-l2a", "landsat-c2-l2"},
					Intercept: failItemPages(3, 4)}),
			}
			for name, s := range servers {
				env.Setenv(name, s.RootURL())
				env.Defer(s.Close)
				env.Values[name] = s
				if name == "API_AUTH" {
					env.Setenv("TOKEN_URL", s.TokenURL())
					srv := s
					env.Values["authserver"] = srv
				}
			}
			ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: servers["API_TLS"].Certificate().Raw})
			if err := os.WriteFile(filepath.Join(env.WorkDir, "api_tls_ca.pem"), ca, 0o644); err != nil {
				return err
			}
			env.Setenv("STACQ_CACHE_DIR", env.WorkDir+"/cache")
			env.Setenv("XDG_CACHE_HOME", env.WorkDir+"/xdg-cache")
			env.Setenv("HOME", env.WorkDir+"/home")
			setupAuthServers(env) // $API_BASIC, $API_REVOKE, $API_LOGIN, $OIDC: see auth_script_test.go
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"features":      cmdFeatures,
			"tokenrequests": cmdTokenRequests,
			"servertokens":  cmdServerTokens,
			"revoketokens":  cmdRevokeTokens,
			"oidc":          cmdOIDC,
			"plainmode":     cmdPlainMode,
			"served":        cmdServed,
			"authserved":    cmdAuthServed,
		},
	})
}

// failItemPages answers the item page requests numbered from to to
// (1-based, of any collection) with 503, once each.
func failItemPages(from, to int) func(http.ResponseWriter, *http.Request, int64) bool {
	var mu sync.Mutex
	n := 0
	return func(w http.ResponseWriter, r *http.Request, _ int64) bool {
		if !strings.HasSuffix(r.URL.Path, "/items") {
			return false
		}
		mu.Lock()
		n++
		fail := n >= from && n <= to
		mu.Unlock()
		if fail {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprint(w, `{"code":"ServiceUnavailable","description":"try again later"}`)
		}
		return fail
	}
}

// failFromThirdPage answers /search with 502 Bad Gateway (an HTML page, as
// load balancers do) from the third search request on.
func failFromThirdPage() func(http.ResponseWriter, *http.Request, int64) bool {
	var searches int
	return func(w http.ResponseWriter, r *http.Request, n int64) bool {
		if !strings.HasSuffix(r.URL.Path, "/search") {
			return false
		}
		searches++
		if searches < 3 {
			return false
		}
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		fmt.Fprint(w, "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>")
		return true
	}
}

// cmdFeatures checks a GeoJSON output file: `features FILE N` asserts that
// FILE is a valid FeatureCollection (or, with -ndjson, one Feature per line)
// of exactly N features with N distinct ids; N "some" asserts at least one.
func cmdFeatures(ts *testscript.TestScript, neg bool, args []string) {
	ndjson := len(args) > 0 && args[0] == "-ndjson"
	if ndjson {
		args = args[1:]
	}
	if len(args) != 2 {
		ts.Fatalf("usage: features [-ndjson] FILE N")
	}
	// N "some": any number of whole features but none at all.
	some := args[1] == "some"
	want := 0
	if !some {
		var err error
		want, err = strconv.Atoi(args[1])
		ts.Check(err)
	}
	data := ts.ReadFile(args[0])
	var features []json.RawMessage
	if ndjson {
		for i, line := range strings.Split(strings.TrimSuffix(data, "\n"), "\n") {
			if line == "" && want == 0 {
				break
			}
			if !json.Valid([]byte(line)) {
				ts.Fatalf("line %d is not one JSON value", i+1)
			}
			features = append(features, json.RawMessage(line))
		}
	} else {
		var fc struct {
			Type     string            `json:"type"`
			Features []json.RawMessage `json:"features"`
		}
		if err := json.Unmarshal([]byte(data), &fc); err != nil {
			ts.Fatalf("%s is not valid JSON: %v", args[0], err)
		}
		if fc.Type != "FeatureCollection" {
			ts.Fatalf("%s: type %q, want FeatureCollection", args[0], fc.Type)
		}
		features = fc.Features
	}
	ids := map[string]bool{}
	for _, f := range features {
		var feat struct {
			Type string `json:"type"`
			ID   string `json:"id"`
		}
		ts.Check(json.Unmarshal(f, &feat))
		if feat.Type != "Feature" {
			ts.Fatalf("a feature has type %q", feat.Type)
		}
		if ids[feat.ID] {
			ts.Fatalf("feature %s appears twice", feat.ID)
		}
		ids[feat.ID] = true
	}
	if some {
		if (len(features) > 0) == neg {
			ts.Fatalf("%s has %d features", args[0], len(features))
		}
		return
	}
	if (len(features) == want) == neg {
		ts.Fatalf("%s has %d features, want %s%d", args[0], len(features), map[bool]string{true: "not ", false: ""}[neg], want)
	}
}

// cmdTokenRequests asserts how many token requests $API_AUTH's token
// endpoint has answered since the script started: `tokenrequests N`.
func cmdTokenRequests(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: tokenrequests N")
	}
	want, err := strconv.ParseInt(args[0], 10, 64)
	ts.Check(err)
	srv := ts.Value("authserver").(*stactest.Server)
	if got := srv.TokenRequests.Load(); (got == want) == neg {
		ts.Fatalf("token requests = %d, want %d", got, want)
	}
}

// cmdPlainMode checks that `plainmode FILE` has the mode os.Create gives a
// new file in the same directory (0666 less the umask).
func cmdPlainMode(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: plainmode FILE")
	}
	st, err := os.Stat(ts.MkAbs(args[0]))
	ts.Check(err)
	ref := ts.MkAbs(args[0] + ".moderef")
	f, err := os.Create(ref)
	ts.Check(err)
	f.Close()
	rst, err := os.Stat(ref)
	ts.Check(err)
	os.Remove(ref)
	if (st.Mode().Perm() == rst.Mode().Perm()) == neg {
		ts.Fatalf("%s: mode %v, a new file gets %v", args[0], st.Mode().Perm(), rst.Mode().Perm())
	}
}

// scriptValue returns what Setup stored under key, failing the script
// with "no WHAT KEY" unless it is a T.
func scriptValue[T any](ts *testscript.TestScript, key, what string) T {
	v, ok := ts.Value(key).(T)
	if !ok {
		ts.Fatalf("no %s %s", what, key)
	}
	return v
}

// cmdServed prints what the server NAME saw since the script began, one
// "what N" per line: requests, http1 (requests not over HTTP/2), plain
// (responses not compressed) and conns (connections opened).
func cmdServed(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 || neg {
		ts.Fatalf("usage: served NAME")
	}
	s := scriptValue[*stactest.Server](ts, args[0], "server")
	n := s.Requests.Load()
	fmt.Fprintf(ts.Stdout(), "requests %d\nhttp1 %d\nplain %d\nconns %d\n", n, n-s.HTTP2.Load(), n-s.Gzipped.Load(), s.Conns.Load())
}
