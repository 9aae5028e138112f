package cli_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/stacq/stacq/cmd/stacq/internal/cli"
	"github.com/stacq/stacq/internal/testing/faults"
	"github.com/stacq/stacq/internal/testing/stactest"
)

// TestResilienceScripts runs the scripts of testdata/script-faults: the
// CLI against APIs that fail on a schedule. Each script gets:
//
//	$API_FLAKY   1,000 items; page requests fail every few (503, 429,
//	             truncated JSON, connection cut mid-body, dropped)
//	$API_OUTAGE  1,000 items; page requests 4 to 6 answer 503, then it
//	             recovers: a run with --retries 2 fails on page 4
//	$API_AUTH    1,000 items behind OAuth2 client credentials (client
//	             "cli-test", secret "cli-test-secret") at $TOKEN_URL; tokens
//	             revoked every 3rd page, the token endpoint answers 503 to
//	             every other request at first
func TestResilienceScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "../../../../testdata/script-faults",
		Setup: func(env *testscript.Env) error {
			opts := stactest.Options{Items: 1000, DefaultPage: 100}
			flaky, flakyFaults := faults.Serve(opts,
				// Periods chosen so that no page fails 5 times running
				// in the first 150 requests.
				faults.Rule{Kind: faults.Unavailable, Every: 4},
				faults.Rule{Kind: faults.RateLimited, Every: 7, RetryAfter: "0"},
				faults.Rule{Kind: faults.Truncate, Every: 9},
				faults.Rule{Kind: faults.CutBody, Every: 11},
				faults.Rule{Kind: faults.Drop, Every: 13},
			)
			outage, outageFaults := faults.Serve(opts, faults.Rule{Kind: faults.Unavailable, Skip: 3, Limit: 3})
			authOpts := opts
			authOpts.Auth = &stactest.Auth{ClientID: "cli-test", ClientSecret: "cli-test-secret"}
			authSrv, authFaults := faults.Serve(authOpts,
				faults.Rule{Kind: faults.RevokeToken, Every: 3},
				faults.Rule{Kind: faults.TokenUnavailable, Every: 2, Limit: 3},
			)
			for name, s := range map[string]*stactest.Server{"API_FLAKY": flaky, "API_OUTAGE": outage, "API_AUTH": authSrv} {
				env.Setenv(name, s.RootURL())
				env.Defer(s.Close)
			}
			env.Values["faults"] = map[string]*faults.Injector{"API_FLAKY": flakyFaults, "API_OUTAGE": outageFaults, "API_AUTH": authFaults}
			env.Setenv("TOKEN_URL", authSrv.TokenURL())
			env.Setenv("STACQ_CACHE_DIR", env.WorkDir+"/cache")
			env.Setenv("XDG_CACHE_HOME", env.WorkDir+"/xdg-cache")
			env.Setenv("HOME", env.WorkDir+"/home")
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"sequence": cmdSequence,
			"injected": cmdInjected,
		},
	})
}

// cmdSequence checks that files, read in order, hold stactest items 0 to
// N-1 exactly once each and in order: `sequence FILE... N`. Files are
// FeatureCollections or NDJSON (by extension).
func cmdSequence(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 || neg {
		ts.Fatalf("usage: sequence FILE... N")
	}
	want, err := strconv.Atoi(args[len(args)-1])
	ts.Check(err)
	var ids []string
	for _, name := range args[:len(args)-1] {
		got, err := featureIDs([]byte(ts.ReadFile(name)), strings.HasSuffix(name, ".ndjson"))
		if err != nil {
			ts.Fatalf("%s: %v", name, err)
		}
		ids = append(ids, got...)
	}
	if err := checkSequence(ids, want); err != nil {
		ts.Fatalf("%v", err)
	}
}

// cmdInjected checks the faults an API injected so far:
// `injected API_NAME KIND N` (KIND as faults.Kind prints it, e.g. 503,
// revoke-token); with !, that the count is not N.
func cmdInjected(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 3 {
		ts.Fatalf("usage: injected API_NAME KIND N")
	}
	in := ts.Value("faults").(map[string]*faults.Injector)[args[0]]
	if in == nil {
		ts.Fatalf("no API %s", args[0])
	}
	want, err := strconv.Atoi(args[2])
	ts.Check(err)
	for _, k := range faults.Kinds() {
		if k.String() == args[1] {
			if got := in.Injected(k); (got == want) == neg {
				ts.Fatalf("%s injected %d %s faults, want %s%d", args[0], got, k, map[bool]string{true: "not ", false: ""}[neg], want)
			}
			return
		}
	}
	ts.Fatalf("no fault kind %q", args[1])
}

// featureIDs reads the ids of a FeatureCollection or of NDJSON features,
// failing on anything that is not complete.
func featureIDs(data []byte, ndjson bool) ([]string, error) {
	type feature struct {
		Type string `json:"type"`
		ID   string `json:"id"`
	}
	var features []feature
	if ndjson {
		if len(data) > 0 && data[len(data)-1] != '\n' {
			return nil, fmt.Errorf("the last line is incomplete")
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var f feature
			if err := json.Unmarshal(sc.Bytes(), &f); err != nil {
				return nil, fmt.Errorf("line %d: %v", len(features)+1, err)
			}
			features = append(features, f)
		}
	} else {
		var fc struct {
			Type     string    `json:"type"`
			Features []feature `json:"features"`
		}
		if err := json.Unmarshal(data, &fc); err != nil {
			return nil, fmt.Errorf("not a valid document: %v", err)
		}
		if fc.Type != "FeatureCollection" {
			return nil, fmt.Errorf("type %q, want FeatureCollection", fc.Type)
		}
		features = fc.Features
	}
	ids := make([]string, len(features))
	for i, f := range features {
		if f.Type != "Feature" {
			return nil, fmt.Errorf("feature %d has type %q", i, f.Type)
		}
		ids[i] = f.ID
	}
	return ids, nil
}

// checkSequence checks that ids are those of stactest items 0 to n-1, in
// order: nothing lost, nothing duplicated.
func checkSequence(ids []string, n int) error {
	for i, id := range ids {
		if want := fmt.Sprintf("S2A_%05d_", i); !strings.HasPrefix(id, want) {
			return fmt.Errorf("item %d is %s, want %s...: lost or duplicated items", i, id, want)
		}
	}
	if len(ids) != n {
		return fmt.Errorf("%d items, want %d", len(ids), n)
	}
	return nil
}

// interruptRun runs stacq with args and io, interrupts it (cancels its
// context) once ready returns, and checks that it then ends within a
// second, with status 130.
func interruptRun(t *testing.T, args []string, io cli.IO, ready func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int, 1)
	go func() { done <- cli.Run(ctx, args, io) }()
	ready()
	cancel()
	start := time.Now()
	var code int
	select {
	case code = <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("still running 5s after the interrupt")
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("stopped %v after the interrupt, want under 1s", d)
	}
	if code != 130 {
		t.Fatalf("exit status %d, want 130; stderr:\n%s", code, io.Stderr)
	}
}

// Ctrl-C in the middle of a slow search: the run ends within a second
// with status 130, the output on stdout is a valid document of the pages
// written in full, and the resume link printed continues the search with
// exactly the items that were missing.
func TestInterruptAndResume(t *testing.T) {
	for _, format := range []string{"geojson", "ndjson"} {
		t.Run(format, func(t *testing.T) {
			srv := stactest.New(stactest.Options{Items: 300, Latency: 40 * time.Millisecond})
			defer srv.Close()
			env := func(string) string { return "" }
			var stdout, stderr cli.SyncBuffer
			io := cli.IO{Stdout: &stdout, Stderr: &stderr, Getenv: env, Dir: t.TempDir()}
			args := []string{"search", srv.RootURL(), "--limit", "10", "--format", format, "--provider", "none"}
			interruptRun(t, args, io, func() {
				time.Sleep(300 * time.Millisecond) // a few pages in
			})
			first, err := featureIDs(stdout.Bytes(), format == "ndjson")
			if err != nil {
				t.Fatalf("stdout after the interrupt: %v", err)
			}
			if len(first) == 0 || len(first) >= 300 || len(first)%10 != 0 {
				t.Fatalf("%d items before the interrupt, want whole pages of 10", len(first))
			}
			if !strings.Contains(stderr.String(), "interrupted") || !strings.Contains(stderr.String(), "--resume") {
				t.Fatalf("stderr:\n%s", stderr.String())
			}
			// The saved stderr is a valid --resume argument.
			saved := filepath.Join(t.TempDir(), "stderr.txt")
			if err := os.WriteFile(saved, stderr.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			var out2, err2 cli.SyncBuffer
			io2 := cli.IO{Stdout: &out2, Stderr: &err2, Getenv: env, Dir: t.TempDir()}
			if code := cli.Run(context.Background(), []string{"search", srv.RootURL(), "--resume", saved, "--format", format, "--provider", "none"}, io2); code != 0 {
				t.Fatalf("resume: exit status %d; stderr:\n%s", code, err2.String())
			}
			rest, err := featureIDs(out2.Bytes(), format == "ndjson")
			if err != nil {
				t.Fatalf("resumed output: %v", err)
			}
			if err := checkSequence(append(first, rest...), 300); err != nil {
				t.Fatalf("%d + %d items: %v", len(first), len(rest), err)
			}
		})
	}
}
