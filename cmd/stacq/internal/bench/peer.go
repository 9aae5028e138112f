package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// ensurePeer finds ogr2ogr, installing Debian's gdal-bin when it is absent
// and install is set.
func ensurePeer(install bool) (string, error) {
	if p, err := exec.LookPath("ogr2ogr"); err == nil {
		return p, nil
	}
	if !install {
		return "", fmt.Errorf("ogr2ogr not found (install gdal-bin, or run with -install-peer)")
	}
	fmt.Fprintln(os.Stderr, "bench: installing gdal-bin for ogr2ogr (apt-get install -y gdal-bin)...")
	var out bytes.Buffer
	cmd := exec.Command("apt-get", "install", "-y", "gdal-bin")
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("apt-get install gdal-bin: %w\n%s", err, lastLines(out.String(), 5))
	}
	return exec.LookPath("ogr2ogr")
}

// runPeer pulls every item of the collection with GDAL's OGC API Features
// driver, written as GeoJSONSeq (one feature per line), and counts them.
func runPeer(ctx context.Context, ogr2ogr, dir string, s *server, page int) (result, error) {
	out := filepath.Join(dir, "peer.geojsons")
	os.Remove(out)
	before, _ := s.stats()
	// ogr2ogr writes the file itself; its stdout is discarded.
	res, err := runLaunched(ctx, os.DevNull, throttle{}, ogr2ogr, "-f", "GeoJSONSeq", out,
		"OAPIF:"+s.RootURL(), collection, "-oo", fmt.Sprintf("PAGE_SIZE=%d", page))
	if err != nil {
		return result{}, err
	}
	elapsed := time.Duration(res.ElapsedNS)
	after, _ := s.stats()
	n, size, err := countLines(out)
	if err != nil {
		return result{}, err
	}
	os.Remove(out)
	if n != s.Items {
		return result{}, fmt.Errorf("ogr2ogr wrote %d features, want %d", n, s.Items)
	}
	return result{
		Items: n, Bytes: size, Elapsed: elapsed,
		MaxRSS:   res.MaxRSSKB * 1024,
		Requests: after.Searches - before.Searches,
		Conns:    after.Conns - before.Conns,
	}, nil
}

func countLines(path string) (n int, size int64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<20)
	buf := make([]byte, 1<<20)
	for {
		k, err := r.Read(buf)
		n += bytes.Count(buf[:k], []byte{'\n'})
		size += int64(k)
		if err != nil {
			break
		}
	}
	return n, size, nil
}

// maxRSS is a finished child's peak resident set size in bytes.
func maxRSS(ps *os.ProcessState) int64 {
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		return ru.Maxrss * 1024 // kilobytes on Linux
	}
	return 0
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
