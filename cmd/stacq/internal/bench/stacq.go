package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// stacqArgs is the search command of a case.
func stacqArgs(c benchCase, root string) []string {
	args := []string{"search", root, "-c", collection,
		"--limit", strconv.Itoa(c.Page), "--method", c.Method, "--format", c.Format, "--quiet"}
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
// checks the output.
func runStacq(ctx context.Context, bin, dir string, s *server, c benchCase) (result, error) {
	out := filepath.Join(dir, "out."+c.Format)
	defer os.Remove(out)
	before, _ := s.stats()
	res, err := runLaunched(ctx, out, c.Consumer, append([]string{bin}, stacqArgs(c, s.RootURL())...)...)
	if err != nil {
		return result{}, err
	}
	after, _ := s.stats()
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
