// Command benchdl measures `stacq download` on loopback next to curl
// fetching the same files, for the targets of issue 17:
//
//   - one large file (1 GiB by default, served from memory): stacq's
//     throughput at least 90% of curl's;
//   - 200 small files behind 50 ms of latency each: --concurrency 8 at
//     least 6 times as fast as --concurrency 1.
//
// The asset host runs in a child process (this program with -serve), so
// that neither client shares a Go runtime with it; each client is a real
// process timed from start to exit, the best of -reps runs reported.
// Files go to a tmpfs (/dev/shm) unless -dir says otherwise, so that the
// disk does not decide. Run it with `make bench-download`; curl is
// installed with apt-get when absent. It is not part of `make test`.
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

func main() {
	serve := flag.Bool("serve", false, "internal: run the asset host (used by the driver)")
	large := flag.Int64("large", 1<<30, "bytes of the large file")
	small := flag.Int("small", 200, "number of small files")
	smallSize := flag.Int("small-size", 64<<10, "bytes of each small file")
	latency := flag.Duration("latency", 50*time.Millisecond, "latency of each small-file request")
	reps := flag.Int("reps", 3, "runs of each case; the fastest is reported")
	stacqBin := flag.String("stacq", "bin/stacq", "stacq binary to measure")
	dir := flag.String("dir", "", "where the files are written (default: a directory in /dev/shm, else the temp dir)")
	checksum := flag.Bool("checksum", true, "also time the large file with a sha2-256 file:checksum to verify (curl verifies nothing)")
	flag.Parse()
	if *serve {
		if err := serveAssets(*large, *small, *smallSize, *latency); err != nil {
			fmt.Fprintln(os.Stderr, "benchdl:", err)
			os.Exit(1)
		}
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	cfg := config{large: *large, small: *small, smallSize: *smallSize, latency: *latency, reps: max(*reps, 1),
		stacq: *stacqBin, dir: *dir, checksum: *checksum}
	ok, err := run(ctx, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchdl:", err)
		os.Exit(1)
	}
	if !ok {
		os.Exit(1)
	}
}

type config struct {
	large            int64
	small, smallSize int
	latency          time.Duration
	reps             int
	stacq, dir       string
	checksum         bool
}

func run(ctx context.Context, cfg config) (bool, error) {
	stacq, err := filepath.Abs(cfg.stacq)
	if err != nil {
		return false, err
	}
	if _, err := os.Stat(stacq); err != nil {
		return false, fmt.Errorf("stacq binary: %w (make build first)", err)
	}
	curl, err := findCurl(ctx)
	if err != nil {
		return false, err
	}
	work, err := workDir(cfg.dir)
	if err != nil {
		return false, err
	}
	defer os.RemoveAll(work)

	base, stopServer, err := startServer(ctx, cfg)
	if err != nil {
		return false, err
	}
	defer stopServer()

	// The items: the large file (with and without its checksum) and the
	// small files, one item each.
	largeItem := item("large", "large", map[string]string{"data": base + "/large.bin"}, "")
	sumItem := item("large-sum", "large", map[string]string{"data": base + "/large.bin"}, largeChecksum(cfg.large))
	var smallItems []string
	var curlConfig strings.Builder
	for i := range cfg.small {
		u := fmt.Sprintf("%s/small/%04d.bin", base, i)
		smallItems = append(smallItems, item(fmt.Sprintf("s%04d", i), "small", map[string]string{"data": u}, ""))
		fmt.Fprintf(&curlConfig, "url = %q\noutput = %q\n", u, fmt.Sprintf("%04d.bin", i))
	}
	files := map[string]string{
		"large.ndjson":     largeItem + "\n",
		"large-sum.ndjson": sumItem + "\n",
		"small.ndjson":     strings.Join(smallItems, "\n") + "\n",
		"curl-small.cfg":   curlConfig.String(),
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(work, name), []byte(content), 0o644); err != nil {
			return false, err
		}
	}
	out := filepath.Join(work, "out")
	stacqArgs := func(items string, extra ...string) []string {
		return append([]string{stacq, "download", filepath.Join(work, items), out, "-q", "--signer", "none"}, extra...)
	}
	type caseRun struct {
		name string
		argv []string
		dir  string
	}
	var results = map[string]time.Duration{}
	measure := func(c caseRun) error {
		best := time.Duration(0)
		for range cfg.reps {
			os.RemoveAll(out)
			if err := os.MkdirAll(out, 0o755); err != nil {
				return err
			}
			d, err := timeRun(ctx, c.argv, c.dir)
			if err != nil {
				return fmt.Errorf("%s: %w", c.name, err)
			}
			if best == 0 || d < best {
				best = d
			}
		}
		results[c.name] = best
		fmt.Fprintf(os.Stderr, "benchdl: %-34s best of %d: %v\n", c.name, cfg.reps, best.Round(time.Millisecond))
		return nil
	}
	cases := []caseRun{
		{"curl large", []string{curl, "-s", "-f", "-o", filepath.Join(out, "large.bin"), base + "/large.bin"}, out},
		{"stacq large", stacqArgs("large.ndjson"), out},
	}
	if cfg.checksum {
		cases = append(cases, caseRun{"stacq large + sha2-256", stacqArgs("large-sum.ndjson"), out})
	}
	cases = append(cases,
		caseRun{"curl small, one at a time", []string{curl, "-s", "-f", "-K", filepath.Join(work, "curl-small.cfg")}, out},
		caseRun{"curl small, --parallel-max 8", []string{curl, "-s", "-f", "-Z", "--parallel-max", "8", "-K", filepath.Join(work, "curl-small.cfg")}, out},
		caseRun{"stacq small, --concurrency 1", stacqArgs("small.ndjson", "--concurrency", "1"), out},
		caseRun{"stacq small, --concurrency 8", stacqArgs("small.ndjson", "--concurrency", "8"), out},
	)
	for _, c := range cases {
		if err := measure(c); err != nil {
			return false, err
		}
	}

	mb := func(d time.Duration) float64 { return float64(cfg.large) / d.Seconds() / (1 << 20) }
	ratio := mb(results["stacq large"]) / mb(results["curl large"])
	speedup := results["stacq small, --concurrency 1"].Seconds() / results["stacq small, --concurrency 8"].Seconds()
	fmt.Printf("\n| case | time | throughput |\n|---|---:|---:|\n")
	for _, c := range cases {
		d := results[c.name]
		tp := fmt.Sprintf("%.0f MiB/s", mb(d))
		if strings.Contains(c.name, "small") {
			tp = fmt.Sprintf("%.1f files/s", float64(cfg.small)/d.Seconds())
		}
		fmt.Printf("| %s | %v | %s |\n", c.name, d.Round(time.Millisecond), tp)
	}
	fmt.Printf("\nlarge file (%s): stacq %.0f MiB/s = %.1f%% of curl's %.0f MiB/s (target ≥ 90%%)\n",
		sizeName(cfg.large), mb(results["stacq large"]), 100*ratio, mb(results["curl large"]))
	fmt.Printf("%d small files at %v latency: --concurrency 8 is %.2f× --concurrency 1 (target ≥ 6×)\n", cfg.small, cfg.latency, speedup)
	ok := ratio >= 0.9 && speedup >= 6
	if ok {
		fmt.Println("targets met")
	} else {
		fmt.Println("TARGET MISSED")
	}
	return ok, nil
}

// timeRun runs argv in dir and returns its wall time.
func timeRun(ctx context.Context, argv []string, dir string) (time.Duration, error) {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	err := cmd.Run()
	d := time.Since(start)
	if err != nil {
		return 0, fmt.Errorf("%v: %s", err, strings.TrimSpace(stderr.String()))
	}
	return d, nil
}

func item(id, collection string, assets map[string]string, checksum string) string {
	var parts []string
	for k, href := range assets {
		extra := ""
		if checksum != "" {
			extra = `,"file:checksum":"` + checksum + `"`
		}
		parts = append(parts, fmt.Sprintf(`%q:{"href":%q,"roles":["data"]%s}`, k, href, extra))
	}
	return fmt.Sprintf(`{"type":"Feature","stac_version":"1.0.0","id":%q,"collection":%q,"geometry":null,"properties":{"datetime":"2024-01-01T00:00:00Z"},"assets":{%s}}`,
		id, collection, strings.Join(parts, ","))
}

func sizeName(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return strconv.FormatInt(n>>30, 10) + " GiB"
	case n >= 1<<20:
		return strconv.FormatInt(n>>20, 10) + " MiB"
	}
	return strconv.FormatInt(n, 10) + " B"
}

func workDir(dir string) (string, error) {
	if dir == "" {
		if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
			dir = "/dev/shm"
		}
	}
	return os.MkdirTemp(dir, "stacq-benchdl-")
}

// findCurl returns curl's path, installing it with apt-get when absent.
func findCurl(ctx context.Context) (string, error) {
	if p, err := exec.LookPath("curl"); err == nil {
		return p, nil
	}
	fmt.Fprintln(os.Stderr, "benchdl: curl not found; installing it with apt-get")
	for _, argv := range [][]string{{"apt-get", "update", "-qq"}, {"apt-get", "install", "-y", "-qq", "curl"}} {
		cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return "", fmt.Errorf("installing curl: %w", err)
		}
	}
	return exec.LookPath("curl")
}

// startServer starts this program with -serve and returns the URL it
// listens on.
func startServer(ctx context.Context, cfg config) (string, func(), error) {
	self, err := os.Executable()
	if err != nil {
		return "", nil, err
	}
	cmd := exec.CommandContext(ctx, self, "-serve", "-large", strconv.FormatInt(cfg.large, 10),
		"-small", strconv.Itoa(cfg.small), "-small-size", strconv.Itoa(cfg.smallSize), "-latency", cfg.latency.String())
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return "", nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	stop := func() { cmd.Process.Kill(); cmd.Wait() }
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		stop()
		return "", nil, errors.New("the asset host did not start")
	}
	return strings.TrimSpace(line), stop, nil
}

// serveAssets serves /large.bin (from memory) and /small/NNNN.bin (each
// answered after latency) on loopback, printing its URL.
func serveAssets(large int64, small, smallSize int, latency time.Duration) error {
	data := pattern(large)
	smallData := pattern(int64(smallSize))
	mod := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	mux := http.NewServeMux()
	mux.HandleFunc("/large.bin", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"large-1"`)
		http.ServeContent(w, r, "large.bin", mod, bytes.NewReader(data))
	})
	mux.HandleFunc("/small/", func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(latency)
		w.Header().Set("ETag", `"small-1"`)
		http.ServeContent(w, r, "small.bin", mod, bytes.NewReader(smallData))
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	fmt.Printf("http://%s\n", ln.Addr())
	return (&http.Server{Handler: mux}).Serve(ln)
}

// pattern is n bytes of a xorshift sequence: nothing repeats, so no
// compression or deduplication anywhere can shortcut them.
func pattern(n int64) []byte {
	var b bytes.Buffer
	b.Grow(int(n))
	writePattern(&b, n)
	return b.Bytes()
}

func writePattern(w io.Writer, n int64) {
	buf := make([]byte, 1<<20+8)
	x := uint64(0x9e3779b97f4a7c15)
	for n > 0 {
		m := min(int64(1<<20), n)
		for i := int64(0); i < m; i += 8 {
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
			binary.LittleEndian.PutUint64(buf[i:], x)
		}
		w.Write(buf[:m])
		n -= m
	}
}

// largeChecksum is the sha2-256 multihash of the large file, made the
// way the server makes its bytes.
func largeChecksum(n int64) string {
	h := sha256.New()
	writePattern(h, n)
	return "1220" + hex.EncodeToString(h.Sum(nil))
}
