package cli_test

import (
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/rogpeppe/go-internal/testscript"

	"github.com/stacq/stacq/internal/testing/hostile"
	"github.com/stacq/stacq/internal/testing/stactest"
)

// buildStacq builds the stacq command into a temporary directory, without
// the race detector, whose shadow memory would hide what stacq holds.
func buildStacq(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "stacq")
	out, err := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-o", bin, "github.com/stacq/stacq/cmd/stacq").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// hostileServer serves a landing page at /v1 whose /v1/search answers
// body, and returns the landing page's URL.
func hostileServer(t *testing.T, body http.Handler) string {
	s := hostile.NewAPI(body)
	t.Cleanup(s.Close)
	return s.URL + "/v1"
}

// counted counts the requests h answers.
type counted struct {
	h http.Handler
	n atomic.Int64
}

func (c *counted) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.n.Add(1)
	c.h.ServeHTTP(w, r)
}

// runCLI runs stacq in-process with dir as its working, cache and home
// directory.
func runCLI(t *testing.T, dir string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	return run(t, map[string]string{"PWD": dir, "STACQ_CACHE_DIR": dir, "STACQ_CONFIG_DIR": dir, "HOME": dir, "XDG_CACHE_HOME": dir}, args...)
}

// escapes is an error description meant to retitle the terminal, clear
// the line above, and reverse the text after it.
const escapes = "\x1b]0;owned\x07\x1b[1A\x1b[2Kall good\r\u009b2J\u202eevil\x1b[0m"

// terminalControl reports the first terminal control character in s,
// newlines apart.
func terminalControl(s string) (rune, bool) {
	for _, r := range s {
		if r < 0x20 && r != '\n' && r != '\t' || r >= 0x7f && r <= 0x9f || r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069 {
			return r, true
		}
	}
	return 0, false
}

// Each case: the exit status, what stdout holds (nothing at all for a
// failure before the first item), what stderr says, and whether the API
// was asked anything.
func TestHostileInputs(t *testing.T) {
	dir := t.TempDir()
	api := stactest.New(stactest.Options{Items: 30, DefaultPage: 10})
	defer api.Close()
	status := func(code int, body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(code)
			w.Write([]byte(body))
		}
	}
	esc, _ := jsontext.AppendQuote(nil, escapes)
	escAPI := &counted{h: status(400, `{"code":"BadRequest`+string(esc[1:len(esc)-1])+`","description":`+string(esc)+`}`)}
	escURL := hostileServer(t, escAPI)
	failURL := hostileServer(t, status(500, `{"code":"InternalServerError","description":"database down"}`))
	bigURL := hostileServer(t, &hostile.Body{Prefix: hostile.PagePrefix, Size: 64 << 20})
	utf8URL := hostileServer(t, status(200, `{"type":"FeatureCollection","features":[{"type":"Feature","stac_version":"1.0.0","id":"a","geometry":null,"properties":{"title":"bad `+"\xff\xfe"+` here","datetime":"2024-01-01T00:00:00Z"},"links":[],"assets":{}}]}`))
	deep := strings.Repeat("GEOMETRYCOLLECTION(", 20000) + "POINT(1 2)" + strings.Repeat(")", 20000)
	out := filepath.Join(dir, "out.geojson")

	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stdout string // "" must be empty; else a substring
		stderr []string
		asked  bool // escAPI's search gets a request
	}{
		// 8: usage errors are 2, failures 1, and neither writes stdout.
		{"not a URL", []string{"search", "not-a-url"}, 2, "", []string{"expected the http(s) URL of a STAC API", "--help"}, false},
		{"bad filter JSON", []string{"search", escURL, "--filter", "{bad json"}, 2, "", []string{"--filter: expected CQL2-JSON"}, false},
		{"filter-lang cql2-json, not JSON", []string{"search", escURL, "--filter", "a = 1", "--filter-lang", "cql2-json"}, 2, "", []string{"--filter: expected CQL2-JSON"}, false},
		{"400 on the first page", []string{"search", escURL}, 1, "", []string{"400 Bad Request"}, true},
		{"500 on the first page", []string{"search", failURL, "--retries", "0"}, 1, "", []string{"500 Internal Server Error: InternalServerError: database down"}, false},
		{"items of a missing collection", []string{"items", api.RootURL(), "nope"}, 1, "", []string{"404 Not Found", "nope does not exist"}, false},
		{"collections of a failing API", []string{"collections", failURL, "--retries", "0"}, 1, "", []string{"404 Not Found"}, false},
		{"collection search filter JSON", []string{"collections", escURL, "--filter", "{"}, 2, "", []string{"--filter: expected CQL2-JSON"}, false},
		// 5: -o that cannot be written is refused before any request.
		{"-o a directory", []string{"search", escURL, "-o", dir}, 2, "", []string{"--output: " + dir + " is a directory"}, false},
		{"-o in a missing directory", []string{"items", escURL, "c", "-o", filepath.Join(dir, "nodir", "x.geojson")}, 2, "", []string{"--output: directory " + filepath.Join(dir, "nodir") + " does not exist"}, false},
		// 4: no terminal control from the server reaches stderr.
		{"escape sequences", []string{"search", escURL, "-v"}, 1, "", []string{"all good", "evil"}, true},
		// 1: a page over the cap names the cap and the flag.
		{"page over the cap", []string{"search", bigURL, "--max-page-size", "1MiB", "--retries", "0"}, 1, "", []string{"the page is larger than 1 MiB", "--max-page-size raises the cap, now 1MiB"}, false},
		{"bad --max-page-size", []string{"search", bigURL, "--max-page-size", "lots"}, 2, "", []string{`--max-page-size`, `expected a size in bytes like 256MiB`}, false},
		// 7: bounded local input, refused with 2 naming the flag.
		{"filter @/dev/zero", []string{"search", escURL, "--filter", "@/dev/zero"}, 2, "", []string{"--filter: /dev/zero: larger than 16MiB"}, false},
		{"resume /dev/zero", []string{"search", escURL, "--resume", "/dev/zero"}, 2, "", []string{"--resume:", "/dev/zero: larger than 16MiB"}, false},
		{"WKT 20,000 deep", []string{"search", escURL, "--intersects", deep}, 2, "", []string{"--intersects", "nested 20001 parentheses deep"}, false},
		// 9: options that would be ignored.
		{"matched with -o", []string{"search", escURL, "--matched", "-o", out}, 2, "", []string{"--matched prints only the number of matches"}, false},
		{"parallel with sortby", []string{"search", escURL, "--parallel", "2", "--datetime", "2020/2021", "--sortby", "-datetime"}, 2, "", []string{"--parallel", "--sortby"}, false},
		{"partial without -o", []string{"search", api.RootURL(), "--partial", "--max-items", "1"}, 0, `"FeatureCollection"`, []string{"warning: --partial has no effect without -o FILE"}, false},
		{"filter-lang without filter", []string{"search", api.RootURL(), "--filter-lang", "cql2-text", "--max-items", "1"}, 0, `"FeatureCollection"`, []string{"warning: --filter-lang has no effect without --filter"}, false},
		// 11: invalid UTF-8 replaced, and counted at -v.
		{"invalid UTF-8", []string{"search", utf8URL, "-v", "--format", "ndjson"}, 0, "bad \uFFFD here", []string{"1 sequence of invalid UTF-8 in the server's items replaced by U+FFFD"}, false},
		// A successful empty result is a whole document.
		{"empty result", []string{"search", api.RootURL(), "--ids", "none"}, 0, `{"type":"FeatureCollection","features":[]}`, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := escAPI.n.Load()
			code, stdout, stderr := runCLI(t, dir, tc.args...)
			checkRun(t, code, stdout, stderr, tc.code, tc.stdout, tc.stderr) // auth_test.go
			if r, ok := terminalControl(stderr); ok {
				t.Errorf("stderr holds %U:\n%q", r, stderr)
			}
			if asked := escAPI.n.Load() > before; asked != tc.asked {
				t.Errorf("the API was asked: %v, want %v", asked, tc.asked)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("%s was written", out)
			}
		})
	}
}

// A crawl whose collection answers with escape sequences: the failure is
// listed on stderr without them.
func TestCrawlErrorsStripped(t *testing.T) {
	api := stactest.New(stactest.Options{Items: 10, Collections: []string{"a", "b"}, Intercept: func(w http.ResponseWriter, r *http.Request, _ int64) bool {
		if !strings.Contains(r.URL.Path, "/collections/b/items") {
			return false
		}
		esc, _ := jsontext.AppendQuote(nil, escapes)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(400)
		w.Write([]byte(`{"code":"BadRequest","description":` + string(esc) + `}`))
		return true
	}})
	defer api.Close()
	dir := t.TempDir()
	code, _, stderr := runCLI(t, dir, "crawl", api.RootURL(), "-o", filepath.Join(dir, "items.ndjson"), "-v", "--retries", "0")
	if code != 1 || !strings.Contains(stderr, "all good") || !strings.Contains(stderr, "failed:") {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	if r, ok := terminalControl(stderr); ok {
		t.Errorf("stderr holds %U:\n%q", r, stderr)
	}
}

// --header values go to the API's origin only: not through a redirect to
// another host, and not to a next link elsewhere.
func TestHeaderNotForwardedByRedirect(t *testing.T) {
	var got atomic.Value
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Store(r.Header.Clone())
		w.Header().Set("Content-Type", "application/geo+json")
		w.Write([]byte(`{"type":"FeatureCollection","features":[]}`))
	}))
	defer other.Close()
	api := hostileServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Api-Key") != "KEY" {
			http.Error(w, "no key", http.StatusUnauthorized)
			return
		}
		http.Redirect(w, r, other.URL+"/elsewhere", http.StatusTemporaryRedirect)
	}))
	code, _, stderr := runCLI(t, t.TempDir(), "search", api, "--header", "X-Api-Key: KEY", "--header", "Authorization: Bearer TOKEN")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	h, _ := got.Load().(http.Header)
	if h == nil || h.Get("X-Api-Key") != "" || h.Get("Authorization") != "" || h.Get("Referer") != "" {
		t.Fatalf("the other host got %v", h)
	}
}

// TestHostileScripts runs the scripts of testdata/script-hostile: what -o
// writes into (symlinks, FIFOs, devices, /dev/stdout) and what it keeps.
// Each script gets $API, a STAC API of 50 items in pages of 10, and the
// conditions [chardev] (a character device can be made and opened here:
// root with mknod) and [root].
func TestHostileScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "../../../../testdata/script-hostile",
		Setup: func(env *testscript.Env) error {
			api := stactest.New(stactest.Options{Items: 50, DefaultPage: 10})
			env.Defer(api.Close)
			env.Setenv("API", api.RootURL())
			env.Values["API"] = api
			env.Setenv("STACQ_CACHE_DIR", env.WorkDir+"/cache")
			env.Setenv("HOME", env.WorkDir+"/home")
			return nil
		},
		Condition: func(cond string) (bool, error) {
			switch cond {
			case "root":
				return os.Geteuid() == 0, nil
			case "chardev":
				return canMakeCharDevice(), nil
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"features": cmdFeatures,
			"served":   cmdServed,
			"filemode": cmdFileMode,
			"filetype": cmdFileType,
		},
	})
}

// cmdFileMode checks the permissions of a file: `filemode FILE 0600`.
func cmdFileMode(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: filemode FILE PERM")
	}
	want, err := strconv.ParseUint(args[1], 8, 32)
	ts.Check(err)
	st, err := os.Stat(ts.MkAbs(args[0]))
	ts.Check(err)
	if (st.Mode().Perm() == fs.FileMode(want)) == neg {
		ts.Fatalf("%s: mode %v, want %s%v", args[0], st.Mode().Perm(), map[bool]string{true: "not ", false: ""}[neg], fs.FileMode(want))
	}
}

// cmdFileType checks what a path is, without following a symlink:
// `filetype PATH regular|symlink|fifo|chardev`.
func cmdFileType(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: filetype PATH regular|symlink|fifo|chardev")
	}
	st, err := os.Lstat(ts.MkAbs(args[0]))
	ts.Check(err)
	var got string
	switch m := st.Mode(); {
	case m.IsRegular():
		got = "regular"
	case m&fs.ModeSymlink != 0:
		got = "symlink"
	case m&fs.ModeNamedPipe != 0:
		got = "fifo"
	case m&fs.ModeCharDevice != 0:
		got = "chardev"
	default:
		got = m.Type().String()
	}
	if (got == args[1]) == neg {
		ts.Fatalf("%s is a %s", args[0], got)
	}
}
