package cli

import (
	"bytes"
	"testing"
)

// On a terminal, a message (a -v trace line, a warning) clears the
// progress line before it, instead of being glued to its end; the last
// progress line stays on the screen.
func TestStderrClearsProgressLine(t *testing.T) {
	var buf bytes.Buffer
	s := newStderr(&buf)
	s.status("1 item, 1 page, 10 items/s")
	s.Write([]byte("GET http://api/search 200 (3ms)\n"))
	s.status("2 items, 2 pages, 20 items/s")
	s.status("3 items, 2 pages, 30 items/s")
	s.endStatus()
	s.Write([]byte("done\n"))
	want := "\r\033[K1 item, 1 page, 10 items/s" + "\r\033[K" + "GET http://api/search 200 (3ms)\n" +
		"\r\033[K2 items, 2 pages, 20 items/s" + "\r\033[K3 items, 2 pages, 30 items/s\n" + "done\n"
	if got := buf.String(); got != want {
		t.Fatalf("stderr\n%q\nwant\n%q", got, want)
	}
}

// Terminal control in what is written (a server's error message) does
// not reach the terminal.
func TestStderrStripsTerminalControl(t *testing.T) {
	var buf bytes.Buffer
	s := newStderr(&buf)
	s.Write([]byte("stacq search: 400 Bad Request: \x1b]0;owned\x07\x1b[2Ksee\u009b1A \u202eevil\n"))
	if got, want := buf.String(), "stacq search: 400 Bad Request: see evil\n"; got != want {
		t.Fatalf("stderr %q, want %q", got, want)
	}
	if newStderr(s) != s {
		t.Fatal("a wrapped stderr is wrapped again")
	}
}
