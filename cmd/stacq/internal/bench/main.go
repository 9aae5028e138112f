// Command bench measures stacq's search throughput and memory against a
// local STAC API (internal/stactest in a child process), next to GDAL's
// ogr2ogr (OAPIF driver) as a peer and a raw fetch of the same pages as the
// transfer floor. Run it with `make bench`; it prints a Markdown table and
// checks the targets of issue 5.
//
// Each stacq run is the real binary in a child process, so peak RSS is the
// child's rusage Maxrss; allocations per item are measured by running the
// same command in this process (cli.Run) against the same server.
package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"time"
)

func main() {
	serveMode := flag.Bool("serve", false, "internal: run a benchmark server (used by the driver)")
	launchOut := flag.String("launch", "", "internal: run the command after -- with stdout to this file, report its peak RSS")
	var th throttle
	flag.IntVar(&th.Lines, "throttle-lines", 0, "internal (-launch): read the command's stdout as a slow consumer, pausing after every N lines")
	flag.DurationVar(&th.Pause, "throttle-pause", 0, "internal (-launch): the pause of -throttle-lines")
	reps := flag.Int("reps", 3, "runs of each 0 ms case of 100k items (floor and stacq; twice as many for 10k); the fastest is reported, and the highest peak RSS")
	items := flag.Int("items", 10000, "internal: items of the server")
	collections := flag.Int("collections", 1, "internal: collections of the server, the items spread evenly over them")
	library := flag.String("library", "", "internal: range over the typed items of a search of this API with the stac package, as a library program does (-page, -method)")
	libPage := flag.Int("page", 1000, "internal (-library): page size")
	libMethod := flag.String("method", "GET", "internal (-library): GET or POST")
	latency := flag.Duration("latency", 0, "internal: per-request latency of the server")
	stacqBin := flag.String("stacq", "", "stacq binary to measure (default: build ./cmd/stacq)")
	quick := flag.Bool("quick", false, "only the 10k-item cases (a smoke run)")
	only100k := flag.Bool("100k", false, "only the 100k-item cases at 0 ms (for profiling)")
	noPeer := flag.Bool("no-peer", false, "skip GDAL's ogr2ogr")
	installPeer := flag.Bool("install-peer", true, "apt-get install gdal-bin when ogr2ogr is absent")
	cpuProfile := flag.String("cpuprofile", "", "write CPU and allocation profiles of the in-process stacq runs (those that count allocations) into DIR")
	flag.Parse()
	if *launchOut != "" {
		if err := launch(*launchOut, th, flag.Args()); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
	if *library != "" {
		n, err := libraryRun(context.Background(), *library, *libPage, *libMethod)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		fmt.Println(n)
		return
	}
	if *serveMode {
		if err := serve(*items, *collections, *latency); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	cfg := config{stacq: *stacqBin, quick: *quick, only100k: *only100k, peer: !*noPeer, installPeer: *installPeer, cpuProfile: *cpuProfile, reps: max(*reps, 1)}
	if err := run(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

type config struct {
	stacq       string
	quick       bool
	only100k    bool
	peer        bool
	installPeer bool
	cpuProfile  string
	reps        int
}

// benchCase is one stacq run.
type benchCase struct {
	// Cmd is what is measured: "search" (the default), "items", "crawl",
	// or "library" (a Go program ranging over stac.Client.Search).
	Cmd string
	// Collections the server holds (0: 1); the items are spread over them.
	Collections int
	// Workers is crawl's --concurrency (0: its default).
	Workers int
	Items   int
	Page    int
	Format  string // "ndjson" or "geojson"
	Method  string // "GET" or "POST"
	Latency time.Duration
	// Mode is "" (defaults: prefetch on), "no-prefetch" or "parallel4".
	Mode string
	// Consumer, when set, reads stacq's stdout as a slow downstream
	// program would (ndjson only).
	Consumer throttle
	// Datetime, when set, is a closed interval covering every item (parallel
	// search needs one).
	Datetime string
	// outFile is where an export case writes (-o).
	outFile string
}

func (c benchCase) String() string {
	mode := c.Mode
	if mode == "" {
		mode = "default"
	}
	s := fmt.Sprintf("%s %dk items, page %d, %s, %s, %s latency, %s", c.cmd(), c.Items/1000, c.Page, c.Format, c.Method, c.Latency, mode)
	if c.Collections > 1 {
		s += fmt.Sprintf(", %d collections", c.Collections)
	}
	if c.Workers > 0 {
		s += fmt.Sprintf(", %d workers", c.Workers)
	}
	if c.Consumer.Lines > 0 {
		s += ", " + c.Consumer.String()
	}
	return s
}

// result is what one run measured.
type result struct {
	Items         int
	Bytes         int64 // output bytes (stacq, peer) or response bytes (floor)
	Elapsed       time.Duration
	MaxRSS        int64 // bytes
	Requests      int64 // search/items pages served
	Conns         int64 // connections the server accepted
	AllocsPerItem float64
	BytesPerItem  float64 // heap bytes allocated per item
}

func (c benchCase) cmd() string {
	if c.Cmd == "" {
		return "search"
	}
	return c.Cmd
}

func (r result) itemsPerSec() float64 { return float64(r.Items) / r.Elapsed.Seconds() }
func (r result) mbPerSec() float64    { return float64(r.Bytes) / 1e6 / r.Elapsed.Seconds() }

func run(ctx context.Context, cfg config) error {
	start := time.Now()
	dir, err := os.MkdirTemp("", "stacq-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if cfg.stacq == "" {
		cfg.stacq = filepath.Join(dir, "stacq")
		build := exec.CommandContext(ctx, "go", "build", "-o", cfg.stacq, "./cmd/stacq")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			return fmt.Errorf("build stacq: %w", err)
		}
	}
	var ogr2ogr string
	if cfg.peer {
		if ogr2ogr, err = ensurePeer(cfg.installPeer); err != nil {
			fmt.Fprintln(os.Stderr, "bench: peer skipped:", err)
		}
	}

	// 20k is the size of the first measurement; 10k and 100k
	// show whether memory stays flat.
	sizes := []int{10_000, 20_000, 100_000}
	if cfg.quick {
		sizes = sizes[:1]
	}
	if cfg.only100k {
		sizes = sizes[2:]
	}
	rep := &report{}
	if cfg.cpuProfile != "" {
		if err := os.MkdirAll(cfg.cpuProfile, 0o755); err != nil {
			return err
		}
	}
	hc := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}

	// Zero latency: every size, page size, format and method.
	for _, n := range sizes {
		s, err := startServer(n, 1, 0)
		if err != nil {
			return err
		}
		warmUp(ctx, hc, s)
		for _, page := range []int{100, 1000} {
			for _, method := range []string{"GET", "POST"} {
				if err := measureZeroLatency(ctx, cfg, rep, hc, dir, s, benchCase{Items: n, Page: page, Method: method}); err != nil {
					return err
				}
			}
			if page == 1000 {
				// The other paths a user takes: a collection's items,
				// a crawl, and a Go program ranging over typed items.
				for _, c := range []benchCase{
					{Cmd: "items", Items: n, Page: page, Method: "GET"},
					{Cmd: "crawl", Items: n, Page: page, Method: "GET"},
					{Cmd: "library", Items: n, Page: page, Method: "GET"},
					{Cmd: "library", Items: n, Page: page, Method: "POST"},
					{Cmd: "export", Items: n, Page: page, Method: "GET"},
				} {
					if err := measureZeroLatency(ctx, cfg, rep, hc, dir, s, c); err != nil {
						return err
					}
				}
			}
			// ogr2ogr at 100k items only where the target compares
			// (pages of 1000): its rate does not change with the count,
			// and each 100k run takes it 20 s.
			if ogr2ogr != "" && (n < 100_000 || page == 1000) {
				r, err := runPeer(ctx, ogr2ogr, dir, s, page)
				rep.peer(benchCase{Items: n, Page: page}, r, err)
			}
		}
		s.Close()
		if err := ctx.Err(); err != nil {
			return err
		}
	}

	if !cfg.quick {
		// A crawl of 20 collections of 5,000 items each.
		s, err := startServer(100_000, 20, 0)
		if err != nil {
			return err
		}
		warmUp(ctx, hc, s)
		err = measureZeroLatency(ctx, cfg, rep, hc, dir, s, benchCase{Cmd: "crawl", Collections: 20, Items: 100_000, Page: 1000, Method: "GET"})
		s.Close()
		if err != nil {
			return err
		}
	}
	if cfg.only100k {
		rep.print(os.Stdout)
		return nil
	}

	// 50 ms per request, pages of 100: what prefetch and parallel search buy.
	const lat = 50 * time.Millisecond
	n := 10_000
	s, err := startServer(n, 1, lat)
	if err != nil {
		return err
	}
	warmUp(ctx, hc, s)
	dt := fullRange(n)
	for _, method := range []string{"GET", "POST"} {
		c := benchCase{Items: n, Page: 100, Method: method, Latency: lat, Datetime: dt}
		r, err := measureFloor(ctx, hc, s, c)
		rep.floor(c, r, err)
		c.Format = "ndjson"
		for _, mode := range []string{"no-prefetch", "", "parallel4"} {
			c.Mode = mode
			r, err := runStacq(ctx, cfg.stacq, dir, s, c)
			rep.stacq(c, r, err)
		}
	}
	// What prefetch is for: a downstream program that takes its time
	// with each page (here 50 ms per 100 items, as much as a request)
	// while the next request is on its way.
	for _, mode := range []string{"no-prefetch", ""} {
		c := benchCase{Items: n, Page: 100, Method: "GET", Latency: lat, Format: "ndjson", Mode: mode,
			Consumer: throttle{Lines: 100, Pause: lat}}
		r, err := runStacq(ctx, cfg.stacq, dir, s, c)
		rep.stacq(c, r, err)
	}
	if ogr2ogr != "" {
		r, err := runPeer(ctx, ogr2ogr, dir, s, 100)
		rep.peer(benchCase{Items: n, Page: 100, Latency: lat}, r, err)
	}
	s.Close()

	// A crawl of 20 collections at 50 ms per request: what workers buy.
	s, err = startServer(n, 20, lat)
	if err != nil {
		return err
	}
	for _, workers := range []int{1, 4} {
		c := benchCase{Cmd: "crawl", Collections: 20, Workers: workers, Items: n, Page: 100, Method: "GET", Latency: lat, Format: "ndjson"}
		r, err := runStacq(ctx, cfg.stacq, dir, s, c)
		rep.stacq(c, r, err)
	}
	s.Close()

	rep.print(os.Stdout)
	fmt.Printf("\nbench: done in %s\n", time.Since(start).Round(time.Second))
	return nil
}

// warmUp fetches every page once, unmeasured, so that the first measured
// run does not pay for the server's first requests.
func warmUp(ctx context.Context, hc *http.Client, s *server) {
	fetchAll(ctx, hc, benchCase{Items: s.Items, Page: 1000, Method: "GET", Collections: s.Collections}, s.RootURL())
}

// fullRange is a closed datetime interval holding the n items of a
// stactest server (item i is stactest.Epoch plus i hours).
func fullRange(n int) string {
	return "2023-01-01T00:00:00Z/" + time.Date(2023, 1, 1, 10, 30, 0, 0, time.UTC).Add(time.Duration(n)*time.Hour).Format(time.RFC3339)
}

func measureFloor(ctx context.Context, hc *http.Client, s *server, c benchCase) (result, error) {
	// A new connection, as each stacq run (a new process) has to open:
	// a warm one kept from the run before would spare the floor the TCP
	// start, which a 3.5 MB page feels.
	hc.CloseIdleConnections()
	before, _ := s.stats()
	start := time.Now()
	pages, n, err := fetchAll(ctx, hc, c, s.RootURL())
	elapsed := time.Since(start)
	if err != nil {
		return result{}, err
	}
	_ = pages
	after, _ := s.stats()
	return result{Items: s.Items, Bytes: n, Elapsed: elapsed, Requests: after.Searches - before.Searches, Conns: after.Conns - before.Conns}, nil
}

// measureZeroLatency measures the floor and stacq in both formats on one
// case, cfg.reps times in turn (so that a burst of load elsewhere on the
// machine hits all of them alike; twice as often for 10k items, whose runs
// are short and noisy), and reports the fastest run of each, with the
// highest peak RSS of stacq's runs.
func measureZeroLatency(ctx context.Context, cfg config, rep *report, hc *http.Client, dir string, s *server, c benchCase) error {
	formats := []string{"ndjson", "geojson"}
	switch c.Cmd {
	case "crawl":
		formats = formats[:1]
	case "library":
		formats = []string{"items"} // counted, nothing written
	case "export":
		// stacq search -o FILE.parquet, and the same command with
		// FILE.ndjson, in turn: the NDJSON export that the parquet one is
		// compared with, written the same way (a temporary file synced and
		// renamed into place).
		formats = []string{"parquet", "ndjson"}
	}
	var floor result
	var floorErr error
	best := make([]result, len(formats))
	errs := make([]error, len(formats))
	reps := cfg.reps
	if c.Items <= 20_000 {
		reps *= 2
	}
	for i := range reps {
		r, err := measureFloor(ctx, hc, s, c)
		if err != nil {
			floorErr = err
		} else if i == 0 || r.Elapsed < floor.Elapsed {
			floor = r
		}
		for k, format := range formats {
			fc := c
			fc.Format = format
			r, err := runStacq(ctx, cfg.stacq, dir, s, fc)
			switch {
			case err != nil:
				errs[k] = err
			case best[k].Elapsed == 0 || r.Elapsed < best[k].Elapsed:
				r.MaxRSS = max(r.MaxRSS, best[k].MaxRSS)
				best[k] = r
			default:
				best[k].MaxRSS = max(best[k].MaxRSS, r.MaxRSS)
			}
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	rep.floor(c, floor, floorErr)
	for k, format := range formats {
		fc := c
		fc.Format = format
		r, err := best[k], errs[k]
		if err == nil && c.Cmd != "crawl" && c.Cmd != "export" {
			r.AllocsPerItem, r.BytesPerItem, err = measureAllocs(ctx, s, fc, cfg.cpuProfile)
		}
		rep.stacq(fc, r, err)
	}
	return nil
}
