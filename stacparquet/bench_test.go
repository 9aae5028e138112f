package stacparquet

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/stacq/stacq/stacparquet/internal/s2gen"
)

// The export comparison runs when STACPARQUET_BENCH is a number of items:
//
//	STACPARQUET_BENCH=100000 go test -run TestExportBenchmark -v ./stacparquet
//
// It writes the synthetic items to an NDJSON input file, then, each in a
// process of its own (so that the peak RSS is that of the export alone),
// exports them as NDJSON (each item checked and compacted, as stacq's
// NDJSON output does) and as stac-geoparquet, and reports time, size and
// peak RSS.
const benchEnv = "STACPARQUET_BENCH"

// exportResult is what a child process reports.
type exportResult struct {
	Seconds float64 `json:"seconds"`
	Bytes   int64   `json:"bytes"`
	CPU     float64 `json:"cpu_seconds"` // user + system
	MaxRSS  int64   `json:"max_rss_kb"`
	Items   int     `json:"items"`
}

func TestExportBenchmark(t *testing.T) {
	if mode := os.Getenv("STACPARQUET_BENCH_MODE"); mode != "" {
		exportChild(t, mode)
		return
	}
	n, err := strconv.Atoi(os.Getenv(benchEnv))
	if err != nil || n <= 0 {
		t.Skip("set " + benchEnv + "=N to compare exports of N items")
	}
	dir := t.TempDir()
	input := filepath.Join(dir, "input.ndjson")
	f, err := os.Create(input)
	if err != nil {
		t.Fatal(err)
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	var total int64
	for i := range n {
		it := s2gen.Item(i)
		total += int64(len(it))
		bw.Write(it)
		bw.WriteByte('\n')
	}
	if err := bw.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	t.Logf("%d items, %.0f bytes each on average", n, float64(total)/float64(n))

	results := map[string]exportResult{}
	for _, mode := range []string{"ndjson", "parquet", "parquet-concurrent"} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestExportBenchmark$", "-test.v")
		cmd.Env = append(os.Environ(), "STACPARQUET_BENCH_MODE="+mode, "STACPARQUET_BENCH_INPUT="+input, "STACPARQUET_BENCH_DIR="+dir)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", mode, err, out)
		}
		_, js, ok := strings.Cut(string(out), "RESULT ")
		if !ok {
			t.Fatalf("%s: no result in\n%s", mode, out)
		}
		js, _, _ = strings.Cut(js, "\n")
		var r exportResult
		if err := json.Unmarshal([]byte(js), &r); err != nil {
			t.Fatal(err)
		}
		results[mode] = r
		t.Logf("%-8s %6.2f s (CPU %6.2f s)  %11d bytes  peak RSS %4d MB", mode, r.Seconds, r.CPU, r.Bytes, r.MaxRSS/1024)
	}
	nd := results["ndjson"]
	for _, mode := range []string{"parquet", "parquet-concurrent"} {
		pq := results[mode]
		t.Logf("%s/ndjson: size %.3f, time %.2f, CPU %.2f", mode, float64(pq.Bytes)/float64(nd.Bytes), pq.Seconds/nd.Seconds, pq.CPU/nd.CPU)
		if pq.Items != n {
			t.Errorf("%s export wrote %d items", mode, pq.Items)
		}
	}
}

// exportChild runs one export and prints its RESULT line.
func exportChild(t *testing.T, mode string) {
	input := os.Getenv("STACPARQUET_BENCH_INPUT")
	dir := os.Getenv("STACPARQUET_BENCH_DIR")
	in, err := os.Open(input)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	start := time.Now()
	var res exportResult
	switch mode {
	case "ndjson":
		out := filepath.Join(dir, "out.ndjson")
		f, err := os.Create(out)
		if err != nil {
			t.Fatal(err)
		}
		bw := bufio.NewWriterSize(f, 256<<10)
		var buf []byte
		for sc.Scan() {
			v := jsontext.Value(append(buf[:0], sc.Bytes()...))
			if err := v.Compact(); err != nil {
				t.Fatal(err)
			}
			buf = append(v, '\n')
			bw.Write(buf)
			res.Items++
		}
		if err := bw.Flush(); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		res.Bytes = size(t, out)
	case "parquet", "parquet-concurrent":
		out := filepath.Join(dir, mode+".parquet")
		w, err := Create(out, WriterOptions{TempDir: dir, Concurrent: mode == "parquet-concurrent"})
		if err != nil {
			t.Fatal(err)
		}
		for sc.Scan() {
			if err := w.Write(sc.Bytes()); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.CloseContext(context.Background()); err != nil {
			t.Fatal(err)
		}
		res.Items = int(w.Stats().Items)
		res.Bytes = size(t, out)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	res.Seconds = time.Since(start).Seconds()
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	res.MaxRSS = ru.Maxrss
	res.CPU = time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
	b, _ := json.Marshal(res)
	fmt.Printf("RESULT %s\n", b)
}

func size(t *testing.T, path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

// BenchmarkWrite measures the writer on synthetic Sentinel-2 items
// (spooling, inference, and the Parquet pass at Close).
func BenchmarkWrite(b *testing.B) {
	const n = 2000
	items := make([][]byte, n)
	var total int64
	for i := range items {
		items[i] = s2gen.Item(i)
		total += int64(len(items[i]))
	}
	b.SetBytes(total)
	dir := b.TempDir()
	for b.Loop() {
		w, err := NewWriter(io.Discard, WriterOptions{TempDir: dir})
		if err != nil {
			b.Fatal(err)
		}
		writeAndClose(b, w, items)
	}
}

// BenchmarkRead measures reading every item back as JSON.
func BenchmarkRead(b *testing.B) {
	const n = 2000
	items := make([][]byte, n)
	for i := range items {
		items[i] = s2gen.Item(i)
	}
	path, _ := writeFile(b, items, WriterOptions{})
	r, err := Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	for b.Loop() {
		for _, err := range r.Items(context.Background(), Filter{}) {
			if err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkParse measures the tokenizer on Sentinel-2 items.
func BenchmarkParse(b *testing.B) {
	items := s2Items(b, 1000)
	var tp tape
	for b.Loop() {
		for _, it := range items {
			if err := tp.parse(it); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkInfer measures parsing and inferring the schema of
// Sentinel-2 items.
func BenchmarkInfer(b *testing.B) {
	items := s2Items(b, 1000)
	in := newInferrer()
	s := newSchema()
	for b.Loop() {
		for _, it := range items {
			if _, err := in.item(s, it); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// s2Items makes n synthetic Sentinel-2 items and sets b's bytes per
// operation to their size.
func s2Items(b *testing.B, n int) [][]byte {
	items := make([][]byte, n)
	var total int64
	for i := range items {
		items[i] = s2gen.Item(i)
		total += int64(len(items[i]))
	}
	b.SetBytes(total)
	return items
}
