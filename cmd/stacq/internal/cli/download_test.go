package cli_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stacq/stacq/cmd/stacq/internal/cli"
	"github.com/stacq/stacq/internal/testing/assettest"
)

// Ctrl-C during a transfer: exit status 130 within a second, the .part
// file kept, and the next run finishes it from there.
func TestDownloadInterrupt(t *testing.T) {
	srv := assettest.New(assettest.Options{SlowBody: 20 * time.Millisecond})
	defer srv.Close()
	srv.Add("/big.bin", assettest.File{Size: 2 << 20})
	dir := t.TempDir()
	items := filepath.Join(dir, "items.ndjson")
	os.WriteFile(items, []byte(`{"type":"Feature","id":"i1","collection":"c","geometry":null,"properties":{},"assets":{"a":{"href":"`+srv.URL+`/big.bin"}}}`+"\n"), 0o644)
	env := func(k string) string {
		if k == "HOME" {
			return dir
		}
		return ""
	}
	var stderr cli.SyncBuffer
	io := cli.IO{Stdout: &cli.SyncBuffer{}, Stderr: &stderr, Getenv: env, Dir: dir}
	args := []string{"download", items, filepath.Join(dir, "data"), "--signer", "none"}
	part := filepath.Join(dir, "data", "c", "i1", "big.bin.part")
	interruptRun(t, args, io, func() { // faults_test.go
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			if st, err := os.Stat(part); err == nil && st.Size() > 128<<10 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("the transfer did not start; stderr:\n%s", stderr.Bytes())
			}
		}
	})
	st, err := os.Stat(part)
	if err != nil {
		t.Fatalf(".part after the interrupt: %v", err)
	}
	var stderr2 cli.SyncBuffer
	io2 := cli.IO{Stdout: &cli.SyncBuffer{}, Stderr: &stderr2, Getenv: env, Dir: dir}
	if code := cli.Run(context.Background(), args, io2); code != 0 {
		t.Fatalf("second run: exit %d\n%s", code, stderr2.Bytes())
	}
	log := srv.Log()
	last := log[len(log)-1]
	if !strings.HasPrefix(last.Range, "bytes=") || last.Range == "bytes=0-" || last.IfRange == "" {
		t.Errorf("second run asked %+v, want the rest after %d bytes", last, st.Size())
	}
	got, _ := os.ReadFile(filepath.Join(dir, "data", "c", "i1", "big.bin"))
	if want := assettest.Pattern(2 << 20); string(got) != string(want) {
		t.Errorf("the resumed file differs (%d bytes)", len(got))
	}
}
