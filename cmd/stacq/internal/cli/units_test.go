package cli

import (
	"errors"
	"runtime/debug"
	"testing"
	"time"

	"github.com/stacq/stacq/retry"
	"github.com/stacq/stacq/stac"
)

func TestVersionLine(t *testing.T) {
	settings := func(kv ...string) []debug.BuildSetting {
		var s []debug.BuildSetting
		for i := 0; i < len(kv); i += 2 {
			s = append(s, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return s
	}
	for _, tc := range []struct {
		bi   *debug.BuildInfo
		want string
	}{
		{nil, "devel"},
		{&debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "devel"},
		{&debug.BuildInfo{Main: debug.Module{Version: "v1.2.0"}}, "v1.2.0"},
		{&debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: settings("vcs", "git", "vcs.revision", "9ad3cf67cc753469da0c9b388a2c5f73c7497c80", "vcs.time", "2026-12-01T22:28:30Z", "vcs.modified", "true")},
			"devel (commit 9ad3cf67cc75, 2026-12-01T22:28:30Z, with local changes)"},
		{&debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261201222830-9ad3cf67cc75"}, Settings: settings("vcs.revision", "9ad3cf67cc753469da0c9b388a2c5f73c7497c80", "vcs.modified", "false")},
			"v0.0.0-20261201222830-9ad3cf67cc75 (commit 9ad3cf67cc75)"},
	} {
		if got := versionLine(tc.bi); got != tc.want {
			t.Errorf("versionLine = %q, want %q", got, tc.want)
		}
	}
}

// A page that fails after its response came (cut short, not JSON) has no
// request in retry.Info: the line takes it from the error.
func TestRetryLineNamesTheRequest(t *testing.T) {
	de := &stac.DecodeError{Method: "POST", URL: "https://api.example/v1/search", Err: errors.New("unexpected EOF")}
	got := retryLine(retry.Info{Attempt: 1, Max: 5, Wait: 1500 * time.Millisecond, Err: de})
	if want := "retry 2/5 in 1.5s: POST https://api.example/v1/search: cannot decode the response: unexpected EOF"; got != want {
		t.Errorf("retryLine = %q, want %q", got, want)
	}
	got = retryLine(retry.Info{Attempt: 2, Max: 5, Method: "GET", URL: "https://api.example/v1/search?page=2", Status: 503})
	if want := "retry 3/5 in 0s: GET https://api.example/v1/search?page=2: 503 Service Unavailable"; got != want {
		t.Errorf("retryLine = %q, want %q", got, want)
	}
}

func TestParseByteSize(t *testing.T) {
	for in, want := range map[string]int64{"1048576": 1 << 20, "256MiB": 256 << 20, "1GiB": 1 << 30, "1 gib": 1 << 30, "64KiB": 64 << 10,
		"500MB": 500e6, "2kB": 2000, "1.5MiB": 3 << 19, "100B": 100} {
		got, err := parseByteSize(in)
		if err != nil || got != want {
			t.Errorf("parseByteSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0", "-1MiB", "lots", "MiB", "1e30GiB", "NaN", "Inf"} {
		if _, err := parseByteSize(in); err == nil {
			t.Errorf("parseByteSize(%q): no error", in)
		}
	}
	for n, want := range map[int64]string{128 << 20: "128MiB", 1 << 30: "1GiB", 1000: "1000", 3 << 10: "3KiB"} {
		if got := (*byteSize)(&n).String(); got != want {
			t.Errorf("byteSize(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestFDPath(t *testing.T) {
	for path, want := range map[string]int{"/dev/stdout": 1, "/dev/stderr": 2, "/dev/fd/1": 1, "/dev/fd/3": 3, "/proc/self/fd/4": 4, "/dev//stdout": 1} {
		if fd, ok := fdPath(path); !ok || fd != want {
			t.Errorf("fdPath(%q) = %d, %v; want %d", path, fd, ok, want)
		}
	}
	for _, path := range []string{"/dev/null", "out.geojson", "/dev/fd/x", "/dev/fd/-1", "dev/stdout"} {
		if fd, ok := fdPath(path); ok {
			t.Errorf("fdPath(%q) = %d", path, fd)
		}
	}
}
