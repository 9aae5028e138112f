package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/stacq/stacq/internal/testing/stactest"
)

// collection is the one collection the benchmark servers hold.
const collection = "sentinel-2-l2a"

// serve runs a stactest server in this process until stdin closes: the
// driver starts one child process per server, so the server's allocations
// and CPU time do not show in the figures measured in the driver itself.
// The first line on stdout is the server's base URL.
func serve(items, collections int, latency time.Duration) error {
	ids := []string{collection}
	for i := 1; i < collections; i++ {
		ids = append(ids, fmt.Sprintf("%s-%02d", collection, i))
	}
	var srv *stactest.Server
	srv = stactest.New(stactest.Options{
		Items:       items,
		Collections: ids,
		Latency:     latency,
		// A page of 1000 items must not be capped.
		MaxPage: 10000,
		Intercept: func(w http.ResponseWriter, r *http.Request, _ int64) bool {
			if r.URL.Path != "/_stats" {
				return false
			}
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(serverStats{
				Requests: srv.Requests.Load(),
				Searches: srv.Searches.Load(),
				Conns:    srv.Conns.Load(),
			})
			return true
		},
	})
	defer srv.Close()
	fmt.Println(srv.URL)
	// Block until the driver closes our stdin (or dies).
	bufio.NewReader(os.Stdin).ReadString('\n')
	return nil
}

type serverStats struct {
	Requests, Searches, Conns int64
}

// server is a running child-process STAC API.
type server struct {
	URL         string // scheme://host:port
	Items       int
	Collections int
	Latency     time.Duration
	cmd         *exec.Cmd
	stdin       interface{ Close() error }
}

// RootURL is the STAC API landing page.
func (s *server) RootURL() string { return s.URL + "/v1" }

// startServer re-executes this program in server mode.
func startServer(items, collections int, latency time.Duration) (*server, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self, "-serve", "-items", fmt.Sprint(items), "-collections", fmt.Sprint(collections), "-latency", latency.String())
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		return nil, fmt.Errorf("start server: %w", err)
	}
	return &server{URL: strings.TrimSpace(line), Items: items, Collections: collections, Latency: latency, cmd: cmd, stdin: in}, nil
}

func (s *server) stats() (serverStats, error) {
	var st serverStats
	resp, err := http.Get(s.URL + "/_stats")
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	err = json.NewDecoder(resp.Body).Decode(&st)
	return st, err
}

func (s *server) Close() {
	s.stdin.Close()
	done := make(chan struct{})
	go func() { s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		s.cmd.Process.Kill()
		<-done
	}
}
