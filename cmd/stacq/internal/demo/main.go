// Command demo runs stacq against a local STAC API that it starts itself, so
// `make demo` shows a real search with no network: the API requires OAuth2
// client credentials, serves 5,000 Sentinel-2-like items, and pages them.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/stacq/stacq/internal/testing/stactest"
)

func main() {
	bin := flag.String("stacq", "bin/stacq", "path of the stacq binary")
	outDir := flag.String("out", "demo-out", "directory for the demo's output files")
	flag.Parse()
	if err := run(*bin, *outDir); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run(bin, outDir string) error {
	srv := stactest.New(stactest.Options{
		Items:       5000,
		Collections: []string{"sentinel-2-l2a", "landsat-c2-l2"},
		DefaultPage: 100,
		Auth:        &stactest.Auth{ClientID: "demo-client", ClientSecret: "demo-secret-do-not-print", Style: "body"},
	})
	defer srv.Close()
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return err
	}
	cacheDir, err := os.MkdirTemp("", "stacq-demo-cache")
	if err != nil {
		return err
	}
	defer os.RemoveAll(cacheDir)
	secretFile := filepath.Join(cacheDir, "client-secret")
	if err := os.WriteFile(secretFile, []byte("demo-secret-do-not-print\n"), 0o600); err != nil {
		return err
	}
	// The client id and token endpoint come from the environment, the
	// secret from a 0600 file: nothing secret on the command lines below.
	env := append(os.Environ(),
		"STACQ_CLIENT_ID=demo-client",
		"STACQ_TOKEN_URL="+srv.TokenURL(),
		"STACQ_AUTH_STYLE=body",
		"STACQ_CACHE_DIR="+cacheDir,
	)
	api := srv.RootURL()
	authArgs := []string{"--client-secret-file", secretFile}
	out := filepath.Join(outDir, "sentinel-2.geojson")
	fmt.Printf("A local STAC API is running at %s (OAuth2 client credentials required, token URL %s).\n", api, srv.TokenURL())
	fmt.Printf("Environment: STACQ_CLIENT_ID=demo-client STACQ_TOKEN_URL=%s STACQ_AUTH_STYLE=body STACQ_CACHE_DIR=%s\n\n", srv.TokenURL(), cacheDir)

	steps := [][]string{
		append([]string{"conformance", api, "-v"}, authArgs...),
		append([]string{"collections", api, "--format", "ids"}, authArgs...),
		append([]string{"search", api, "-c", "sentinel-2-l2a", "--datetime", "2023-01/2023-03", "--matched"}, authArgs...),
		append([]string{"search", api, "-c", "sentinel-2-l2a", "--datetime", "2023-01/2023-03",
			"--limit", "100", "--max-items", "1000", "-o", out, "-v"}, authArgs...),
		append([]string{"auth", "status", api}, authArgs...),
	}
	var all bytes.Buffer // everything stacq printed, checked for secrets below
	for _, args := range steps {
		fmt.Printf("$ stacq %s\n", strings.Join(args, " "))
		before := srv.TokenRequests.Load()
		cmd := exec.Command(bin, args...)
		cmd.Env = env
		w := io.MultiWriter(os.Stdout, &all)
		cmd.Stdout, cmd.Stderr = w, w
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("stacq %s: %w", args[0], err)
		}
		fmt.Printf("[token requests in this run: %d]\n\n", srv.TokenRequests.Load()-before)
	}
	n, err := countFeatures(out)
	if err != nil {
		return err
	}
	fmt.Printf("%s holds a FeatureCollection of %d items.\n", out, n)
	tokens := srv.TokenRequests.Load()
	fmt.Printf("The server answered %d API requests and %d token request(s) in %d runs of stacq: the first run got a token,\n"+
		"the others read it from the token cache on disk.\n", srv.Requests.Load()-tokens, tokens, len(steps))
	if strings.Contains(all.String(), "demo-secret-do-not-print") {
		return fmt.Errorf("the client secret appeared in stacq's output")
	}
	if tokens != 1 {
		return fmt.Errorf("%d token requests, want 1", tokens)
	}
	return nil
}

func countFeatures(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var fc struct {
		Type     string            `json:"type"`
		Features []json.RawMessage `json:"features"`
	}
	if err := json.NewDecoder(bufio.NewReader(f)).Decode(&fc); err != nil {
		return 0, fmt.Errorf("%s is not valid JSON: %w", path, err)
	}
	if fc.Type != "FeatureCollection" {
		return 0, fmt.Errorf("%s: type %q, want FeatureCollection", path, fc.Type)
	}
	return len(fc.Features), nil
}
