//go:build unix

package cli_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stacq/stacq/internal/testing/stactest"
)

// stacqProcess is stacq as a real process (the test binary, installed in
// $PATH as stacq by testscript), with its own cache and home in dir.
func stacqProcess(t *testing.T, dir string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("stacq", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "HOME="+dir, "STACQ_CACHE_DIR="+dir, "XDG_CACHE_HOME="+dir)
	return cmd
}

// partials returns the temporary outputs in dir.
func partials(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, ".*.partial"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// waitFor polls cond until it holds, failing the test after 20 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func exitCode(t *testing.T, err error) int {
	t.Helper()
	var ee *exec.ExitError
	if err == nil {
		return 0
	}
	if !errors.As(err, &ee) {
		t.Fatalf("wait: %v", err)
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		t.Fatalf("stacq was killed by %v: it did not handle the signal", ws.Signal())
	}
	return ee.ExitCode()
}

// SIGINT, SIGTERM and SIGHUP (the terminal closed) in the middle of a
// search to -o FILE: the search stops with 128 plus the signal's number,
// says so, and leaves no temporary file; with --partial, FILE holds the
// pages written and stderr the link to resume from.
func TestSignalsCleanUp(t *testing.T) {
	api := stactest.New(stactest.Options{Items: 300, DefaultPage: 10, Latency: 40 * time.Millisecond})
	defer api.Close()
	for _, tc := range []struct {
		sig     syscall.Signal
		code    int
		partial bool
	}{
		{syscall.SIGHUP, 129, true},
		{syscall.SIGHUP, 129, false},
		{syscall.SIGTERM, 143, false},
		{syscall.SIGINT, 130, true},
	} {
		t.Run(fmt.Sprintf("%v partial=%v", tc.sig, tc.partial), func(t *testing.T) {
			dir := t.TempDir()
			args := []string{"search", api.RootURL(), "-v", "-o", "out.geojson"}
			if tc.partial {
				args = append(args, "--partial")
			}
			cmd := stacqProcess(t, dir, args...)
			stderr, err := cmd.StderrPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			// Signalled once three pages were asked for, so that at
			// least one was written.
			var log bytes.Buffer
			sc := bufio.NewScanner(stderr)
			for pages := 0; pages < 3 && sc.Scan(); {
				log.WriteString(sc.Text() + "\n")
				if strings.Contains(sc.Text(), "/search 200") {
					pages++
				}
			}
			if err := cmd.Process.Signal(tc.sig); err != nil {
				t.Fatal(err)
			}
			rest, _ := io.ReadAll(stderr)
			log.Write(rest)
			code := exitCode(t, cmd.Wait())
			msg := log.String()
			if code != tc.code {
				t.Errorf("exit status %d, want %d; stderr:\n%s", code, tc.code, msg)
			}
			if want := "interrupted (" + tc.sig.String() + ")"; !strings.Contains(msg, want) {
				t.Errorf("stderr lacks %q:\n%s", want, msg)
			}
			if p := partials(t, dir); len(p) > 0 {
				t.Errorf("temporary files left: %v", p)
			}
			_, err = os.Stat(filepath.Join(dir, "out.geojson"))
			switch {
			case tc.partial && (err != nil || !strings.Contains(msg, "partial output:") || !strings.Contains(msg, "--resume")):
				t.Errorf("--partial: %v; stderr:\n%s", err, msg)
			case !tc.partial && err == nil:
				t.Error("out.geojson written without --partial")
			}
		})
	}
}

// A run killed with SIGKILL cannot clean up: the next run with the same
// -o removes its temporary file and says so, but not one a live run
// holds (locked).
func TestStaleTemporaryRemoved(t *testing.T) {
	slow := stactest.New(stactest.Options{Items: 300, DefaultPage: 10, Latency: 40 * time.Millisecond})
	defer slow.Close()
	fast := stactest.New(stactest.Options{Items: 30, DefaultPage: 10})
	defer fast.Close()
	dir := t.TempDir()

	killed := stacqProcess(t, dir, "search", slow.RootURL(), "-q", "-o", "out.geojson")
	if err := killed.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the temporary output", func() bool { return len(partials(t, dir)) == 1 })
	stale := partials(t, dir)[0]
	killed.Process.Kill()
	killed.Wait()

	// One a live run holds: locked by this process.
	live := filepath.Join(dir, ".out.geojson.live0.partial")
	f, err := os.Create(live)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	os.Chtimes(live, old, old)
	// Not stacq's: another name.
	other := filepath.Join(dir, ".other.geojson.abc.partial")
	os.WriteFile(other, nil, 0o644)
	os.Chtimes(other, old, old)

	var stderr bytes.Buffer
	run := stacqProcess(t, dir, "search", fast.RootURL(), "-q", "-o", "out.geojson")
	run.Stderr = &stderr
	if code := exitCode(t, run.Run()); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.Bytes())
	}
	if want := "stacq: removed " + filepath.Base(stale) + ", left by an earlier run that was killed"; !strings.Contains(stderr.String(), want) {
		t.Errorf("stderr %q lacks %q", stderr.String(), want)
	}
	for path, kept := range map[string]bool{stale: false, live: true, other: true} {
		if _, err := os.Stat(path); (err == nil) != kept {
			t.Errorf("%s: kept %v, want %v", path, err == nil, kept)
		}
	}
}

// A closed stderr (the terminal went away, `2>&- | ...`): no SIGPIPE
// death; the messages are lost, the output is written.
func TestClosedStderr(t *testing.T) {
	api := stactest.New(stactest.Options{Items: 30, DefaultPage: 10})
	defer api.Close()
	dir := t.TempDir()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	defer w.Close()
	cmd := stacqProcess(t, dir, "search", api.RootURL(), "-v", "-o", "out.geojson")
	cmd.Stderr = w
	if code := exitCode(t, cmd.Run()); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if _, err := os.Stat(filepath.Join(dir, "out.geojson")); err != nil {
		t.Error(err)
	}
	if p := partials(t, dir); len(p) > 0 {
		t.Errorf("temporary files left: %v", p)
	}
}

// stdout's reader leaves (`stacq search ... | head -1`): stacq ends
// quietly with 141, as SIGPIPE would end it, without a resume hint.
func TestBrokenStdout(t *testing.T) {
	api := stactest.New(stactest.Options{Items: 1000, DefaultPage: 100})
	defer api.Close()
	cmd := stacqProcess(t, t.TempDir(), "search", api.RootURL(), "-q", "--format", "ndjson")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if _, err := bufio.NewReader(stdout).ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	stdout.Close()
	if code := exitCode(t, cmd.Wait()); code != 141 {
		t.Errorf("exit %d, want 141; stderr %s", code, stderr.Bytes())
	}
	if stderr.Len() > 0 {
		t.Errorf("stderr %q, want nothing", stderr.Bytes())
	}
}
