package cli_test

import (
	"bytes"
	"errors"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/stacq/stacq/internal/testing/hostile"
)

// A page of 2 GiB sent in chunks with no length, and a gzip bomb (1 MiB
// on the wire, 1 GiB inflated), each to a real stacq process: refused
// with an error that names the cap and the flag, nothing on stdout, and
// the process's peak memory (max RSS) bounded by about twice the cap.
func TestHostileBodiesBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("builds stacq and reads 128 MiB twice")
	}
	bin := buildStacq(t)
	const bound = 300 << 20
	for _, tc := range []struct {
		name  string
		body  *hostile.Body
		flags []string
		cap   string
	}{
		{"2 GiB chunked", &hostile.Body{Prefix: hostile.PagePrefix, Size: 2 << 30}, nil, "128 MiB"},
		{"gzip bomb", &hostile.Body{Prefix: hostile.PagePrefix, Size: 1 << 30, Gzip: true}, nil, "128 MiB"},
		{"gzip bomb, lower cap", &hostile.Body{Prefix: hostile.PagePrefix, Size: 1 << 30, Gzip: true}, []string{"--max-page-size", "16MiB"}, "16 MiB"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			api := hostileServer(t, tc.body)
			var stdout, stderr bytes.Buffer
			cmd := exec.Command(bin, append([]string{"search", api, "-q", "--retries", "0"}, tc.flags...)...)
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 1 {
				t.Fatalf("exit %v, want 1; stderr %s", err, stderr.Bytes())
			}
			msg := stderr.String()
			if !strings.Contains(msg, "the page is larger than "+tc.cap) || !strings.Contains(msg, "--max-page-size") {
				t.Errorf("stderr %q does not name the cap and the flag", msg)
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout %q, want nothing", stdout.Bytes())
			}
			rss := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss << 10 // KiB on Linux
			t.Logf("%s: max RSS %d MiB; %d KiB on the wire", tc.name, rss>>20, tc.body.Sent.Load()>>10)
			if rss > bound {
				t.Errorf("max RSS %d MiB, want under %d MiB", rss>>20, bound>>20)
			}
			if tc.body.Gzip && tc.body.GzipAsk.Load() == 0 {
				t.Error("stacq did not ask for gzip")
			}
		})
	}
}
