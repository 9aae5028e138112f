// Command demo runs stacq against a local STAC API that it starts itself, so
// `make demo` shows a real search with no network: the API requires OAuth2
// client credentials, serves 5,000 Sentinel-2-like items, and pages them.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/stacq/stacq/internal/stactest"
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
	env := append(os.Environ(),
		"STACQ_CLIENT_ID=demo-client",
		"STACQ_CLIENT_SECRET=demo-secret-do-not-print",
		"STACQ_CACHE_DIR="+cacheDir,
	)
	api := srv.RootURL()
	authArgs := []string{"--token-url", srv.TokenURL()}
	out := filepath.Join(outDir, "sentinel-2.geojson")
	fmt.Printf("A local STAC API is running at %s (OAuth2 client credentials required, token URL %s).\n\n", api, srv.TokenURL())

	steps := [][]string{
		append([]string{"conformance", api}, authArgs...),
		append([]string{"collections", api, "--format", "ids"}, authArgs...),
		append([]string{"search", api, "-c", "sentinel-2-l2a", "--datetime", "2023-01/2023-03", "--matched"}, authArgs...),
		append([]string{"search", api, "-c", "sentinel-2-l2a", "--datetime", "2023-01/2023-03",
			"--limit", "100", "--max-items", "1000", "-o", out, "-v"}, authArgs...),
		append([]string{"auth", "status", api}, authArgs...),
	}
	for _, args := range steps {
		fmt.Printf("$ stacq %s\n", strings.Join(args, " "))
		cmd := exec.Command(bin, args...)
		cmd.Env = env
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stdout
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("stacq %s: %w", args[0], err)
		}
		fmt.Println()
	}
	n, err := countFeatures(out)
	if err != nil {
		return err
	}
	fmt.Printf("%s holds a FeatureCollection of %d items.\n", out, n)
	fmt.Printf("The server answered %d API requests and %d token requests (one token, reused by every run).\n",
		srv.Requests.Load()-srv.TokenRequests.Load(), srv.TokenRequests.Load())
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
