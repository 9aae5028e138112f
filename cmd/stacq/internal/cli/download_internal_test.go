package cli

import (
	"strings"
	"testing"
	"time"

	"github.com/stacq/stacq/download"
)

func TestParseNetrc(t *testing.T) {
	data := []byte(`# credentials
machine example.com login a password b
default login any password anything
machine identity.dataspace.copernicus.eu
	login me@example.com
	password "hunter2"
macdef init
	machine identity.dataspace.copernicus.eu login evil password evil

machine dataspace.copernicus.eu login other account acct password pw2
`)
	for _, tt := range []struct{ machine, login, password string }{
		{"example.com", "a", "b"},
		{"identity.dataspace.copernicus.eu", "me@example.com", `"hunter2"`},
		{"dataspace.copernicus.eu", "other", "pw2"},
	} {
		l, p, ok := parseNetrc(data, tt.machine)
		if !ok || l != tt.login || p != tt.password {
			t.Errorf("%s: %q %q %v", tt.machine, l, p, ok)
		}
	}
	// The default entry's password is for no host in particular: not sent.
	if _, _, ok := parseNetrc(data, "unknown.example"); ok {
		t.Error("an unknown machine matched")
	}
}

func FuzzParseNetrc(f *testing.F) {
	f.Add("machine a login b password c\n", "a")
	f.Add("machine a\nmacdef x\nmachine a login evil\n\nlogin", "a")
	f.Add("default login x password y machine", "machine")
	f.Fuzz(func(t *testing.T, data, machine string) {
		l, p, ok := parseNetrc([]byte(data), machine)
		if !ok && (l != "" || p != "") {
			t.Fatalf("credentials %q %q without a match", l, p)
		}
		if ok && !strings.Contains(data, machine) {
			t.Fatalf("machine %q matched in %q", machine, data)
		}
	})
}

// On a terminal the bars show the active files and a total with the rate;
// with -q or off a terminal nothing is drawn.
func TestDownloadProgress(t *testing.T) {
	var buf SyncBuffer
	dp := startDownloadProgress(IO{Stderr: &buf, StderrIsTerminal: true}, false)
	ev := func(kind download.EventKind, done, total int64) {
		dp.event(download.Event{Kind: kind, Item: "S2A_1", Asset: "B04", Path: "/d/B04.tif", Done: done, Total: total})
	}
	ev(download.FileStarted, 0, 4<<20)
	ev(download.FileProgress, 2<<20, 4<<20)
	time.Sleep(400 * time.Millisecond) // two refreshes
	mid := buf.String()
	ev(download.FileProgress, 4<<20, 4<<20)
	dp.event(download.Event{Kind: download.FileDone, Path: "/d/B04.tif", Result: &download.Result{Status: download.Downloaded}})
	dp.stop()
	for _, want := range []string{"S2A_1/B04", "total", "2.0 MiB / 4.0 MiB", "/s"} {
		if !strings.Contains(mid, want) {
			t.Errorf("progress while transferring lacks %q:\n%s", want, mid)
		}
	}
	if !strings.Contains(buf.String(), "4.0 MiB / 4.0 MiB") {
		t.Errorf("final progress:\n%s", buf.String())
	}

	var quiet SyncBuffer
	dq := startDownloadProgress(IO{Stderr: &quiet, StderrIsTerminal: true}, true)
	dq.event(download.Event{Kind: download.FileStarted, Path: "x", Total: 10})
	dq.stop()
	if quiet.String() != "" {
		t.Errorf("-q drew %q", quiet.String())
	}
}
