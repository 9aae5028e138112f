package cli_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stacq/stacq/internal/testing/hostile"
)

// A page of 2 GiB sent in chunks with no length, and a gzip bomb (1 MiB
// on the wire, 1 GiB inflated), each to a real stacq process: refused
// with an error that names the cap and the flag, nothing on stdout, and
// the process's peak memory (RSS) bounded: a little more than the cap.
func TestHostileBodiesBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("builds stacq and reads 128 MiB twice")
	}
	bin := buildStacq(t)
	const bound = 300 << 20
	for _, tc := range []struct {
		name     string
		body     *hostile.Body
		flags    []string
		cap      string
		capBytes int64
	}{
		{"2 GiB chunked", &hostile.Body{Prefix: hostile.PagePrefix, Size: 2 << 30}, nil, "128 MiB", 128 << 20},
		{"gzip bomb", &hostile.Body{Prefix: hostile.PagePrefix, Size: 1 << 30, Gzip: true}, nil, "128 MiB", 128 << 20},
		{"gzip bomb, lower cap", &hostile.Body{Prefix: hostile.PagePrefix, Size: 1 << 30, Gzip: true}, []string{"--max-page-size", "16MiB"}, "16 MiB", 16 << 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			api := hostileServer(t, tc.body)
			var stdout, stderr bytes.Buffer
			cmd := exec.Command(bin, append([]string{"search", api, "-q", "--retries", "0"}, tc.flags...)...)
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			// The peak RSS of the process as it runs (VmHWM), sampled
			// every millisecond until it exits: the rusage of a child
			// would count this test process too, whose memory a vfork'd
			// child shares until it execs.
			peak := make(chan int64)
			go func() {
				var max int64
				for {
					hwm, ok := highWaterRSS(cmd.Process.Pid)
					if !ok {
						peak <- max
						return
					}
					max = hwm
					time.Sleep(time.Millisecond)
				}
			}()
			rss := <-peak
			err := cmd.Wait()
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
			t.Logf("%s: peak RSS %d MiB; %d KiB on the wire", tc.name, rss>>20, tc.body.Sent.Load()>>10)
			if rss > bound {
				t.Errorf("peak RSS %d MiB, want under %d MiB", rss>>20, bound>>20)
			}
			if rss < tc.capBytes/2 {
				t.Errorf("peak RSS %d MiB, less than half the cap: the sampling missed the peak", rss>>20)
			}
			if tc.body.Gzip && tc.body.GzipAsk.Load() == 0 {
				t.Error("stacq did not ask for gzip")
			}
		})
	}
}

// highWaterRSS returns the peak resident set of process pid so far, in
// bytes; false once it has exited.
func highWaterRSS(pid int) (int64, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10, err == nil
		}
	}
	return 0, false // a zombie: its memory is gone
}
