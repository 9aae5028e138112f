package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"

	"github.com/stacq/stacq/cmd/stacq/internal/cli"
)

// countingWriter counts and discards.
type countingWriter struct{ n int64 }

func (w *countingWriter) Write(p []byte) (int, error) {
	w.n += int64(len(p))
	return len(p), nil
}

// measureAllocs runs the case's stacq command in this process (cli.Run,
// output discarded) and counts the heap allocations it makes per item.
// The server is a child process, so nothing else allocates here meanwhile.
// With profileDir set, a CPU profile and an allocation profile of the run
// are written there.
func measureAllocs(ctx context.Context, s *server, c benchCase, profileDir string) (allocs, bytesPerItem float64, err error) {
	var out countingWriter
	var stderr bytes.Buffer
	io := cli.IO{
		Stdin: strings.NewReader(""), Stdout: &out, Stderr: &stderr,
		Getenv: func(string) string { return "" },
	}
	if profileDir != "" {
		name := fmt.Sprintf("%s-%dk-%d-%s-%s.pprof", c.cmd(), c.Items/1000, c.Page, c.Method, c.Format)
		f, err := os.Create(filepath.Join(profileDir, name))
		if err != nil {
			return 0, 0, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return 0, 0, err
		}
		defer pprof.StopCPUProfile()
	}
	runtime.GC()
	if profileDir != "" {
		// The allocation profile counts from the program's start: this
		// one is the base to subtract (go tool pprof -diff_base).
		name := fmt.Sprintf("%s-%dk-%d-%s-%s.allocs-base.pprof", c.cmd(), c.Items/1000, c.Page, c.Method, c.Format)
		if err := writeProfile("allocs", filepath.Join(profileDir, name)); err != nil {
			return 0, 0, err
		}
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	var code int
	if c.Cmd == "library" {
		if _, err := libraryRun(ctx, s.RootURL(), c.Page, c.Method); err != nil {
			return 0, 0, err
		}
	} else {
		code = cli.Run(ctx, stacqArgs(c, s.RootURL()), io)
	}
	runtime.ReadMemStats(&after)
	if code != 0 {
		return 0, 0, fmt.Errorf("stacq (in process): exit status %d: %s", code, lastLines(stderr.String(), 3))
	}
	if profileDir != "" {
		runtime.GC() // the allocation profile is as of the last GC
		name := fmt.Sprintf("%s-%dk-%d-%s-%s.allocs.pprof", c.cmd(), c.Items/1000, c.Page, c.Method, c.Format)
		if err := writeProfile("allocs", filepath.Join(profileDir, name)); err != nil {
			return 0, 0, err
		}
	}
	n := float64(s.Items)
	return float64(after.Mallocs-before.Mallocs) / n, float64(after.TotalAlloc-before.TotalAlloc) / n, nil
}

func writeProfile(name, path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.Lookup(name).WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
