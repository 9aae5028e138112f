package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/stacq/stacq/stac"
)

// libraryRun is the program of a library case: the shortest Go program
// that takes every item of a search as a typed stac.Item. It returns how
// many items it saw.
func libraryRun(ctx context.Context, root string, page int, method string) (int, error) {
	hc := &http.Client{Transport: http.DefaultTransport}
	c, err := stac.Open(ctx, root, stac.WithHTTPClient(hc))
	if err != nil {
		return 0, err
	}
	n := 0
	for it, err := range c.Search(ctx, stac.SearchParams{Collections: []string{collection}, Limit: page, Method: method}) {
		if err != nil {
			return n, err
		}
		if it.ID != "" && len(it.Assets) > 0 {
			n++
		}
	}
	return n, nil
}

// stacqArgs is the stacq command of a case.
func stacqArgs(c benchCase, root string) []string {
	var args []string
	switch c.Cmd {
	case "items":
		args = []string{"items", root, collection, "--limit", strconv.Itoa(c.Page), "--format", c.Format, "--quiet"}
	case "crawl":
		args = []string{"crawl", root, "--limit", strconv.Itoa(c.Page), "--format", c.Format, "--quiet"}
		if c.Workers > 0 {
			args = append(args, "--concurrency", strconv.Itoa(c.Workers))
		}
		return args
	default:
		args = []string{"search", root, "-c", collection,
			"--limit", strconv.Itoa(c.Page), "--method", c.Method, "--format", c.Format, "--quiet"}
	}
	if c.Cmd == "export" {
		// A file, which parquet needs (its format is the file's
		// extension): the launcher's stdout gets nothing.
		args = []string{"search", root, "-c", collection, "--limit", strconv.Itoa(c.Page), "--method", c.Method, "-o", c.outFile, "--quiet"}
	}
	if c.Datetime != "" {
		args = append(args, "--datetime", c.Datetime)
	}
	switch c.Mode {
	case "no-prefetch":
		args = append(args, "--prefetch=false")
	case "parallel4":
		args = append(args, "--parallel", "4")
	}
	return args
}

// runStacq runs the stacq binary on a case, its output in a file, then
// checks the output. A library case runs this program in -library mode.
func runStacq(ctx context.Context, bin, dir string, s *server, c benchCase) (result, error) {
	out := filepath.Join(dir, "out."+c.Format)
	defer os.Remove(out)
	if c.Cmd == "export" {
		c.outFile = filepath.Join(dir, "items."+c.Format)
		defer os.Remove(c.outFile)
	}
	before, _ := s.stats()
	argv := append([]string{bin}, stacqArgs(c, s.RootURL())...)
	if c.Cmd == "library" {
		self, err := os.Executable()
		if err != nil {
			return result{}, err
		}
		argv = []string{self, "-library", s.RootURL(), "-page", strconv.Itoa(c.Page), "-method", c.Method}
	}
	res, err := runLaunched(ctx, out, c.Consumer, argv...)
	if err != nil {
		return result{}, err
	}
	if c.Cmd == "library" {
		b, err := os.ReadFile(out)
		if err != nil {
			return result{}, err
		}
		if got := strings.TrimSpace(string(b)); got != strconv.Itoa(s.Items) {
			return result{}, fmt.Errorf("the library program counted %s items, want %d", got, s.Items)
		}
		after, _ := s.stats()
		return result{Items: s.Items, Bytes: 0, Elapsed: time.Duration(res.ElapsedNS), MaxRSS: res.MaxRSSKB * 1024,
			Requests: after.Searches - before.Searches, Conns: after.Conns - before.Conns}, nil
	}
	after, _ := s.stats()
	if c.Cmd == "export" {
		out = c.outFile
	}
	st, err := os.Stat(out)
	if err != nil {
		return result{}, err
	}
	if err := checkOutput(out, c.Format, s.Items); err != nil {
		return result{}, fmt.Errorf("invalid output: %w", err)
	}
	return result{
		Items: s.Items, Bytes: st.Size(), Elapsed: time.Duration(res.ElapsedNS),
		MaxRSS: res.MaxRSSKB * 1024, Requests: after.Searches - before.Searches, Conns: after.Conns - before.Conns,
	}, nil
}
