package termsafe

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestString(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain text, naïve café ✓", "plain text, naïve café ✓"},
		{"tab\tand\nnewline", "tab\tand\nnewline"},
		{"\x1b[31mred\x1b[0m", "red"},
		{"\x1b[2J\x1b[Hcleared", "cleared"},
		{"\x1b[1;2;3 qcursor", "cursor"},
		{"\x1b]0;pwned title\x07after", "after"},
		{"\x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\", "link"},
		{"\x1bPdevice control\x1b\\x", "x"},
		{"\x1b]unterminated title", ""},
		{"\x1b(Bcharset", "charset"},
		{"\x1bcreset", "reset"},
		{"\x1b", ""},
		{"line\roverwritten", "lineoverwritten"},
		{"bell\x07 nul\x00 del\x7f bs\b", "bell nul del bs"},
		{"c1 \u009b31mcsi \u009d0;t\u009cend", "c1 csi end"},
		{"\u0085nel \u0080pad", "nel pad"},
		{"bidi \u202eevil\u202c \u2066iso\u2069 \u200fmark", "bidi evil iso mark"},
		{"bad \xff utf8 \xc2", "bad \uFFFD utf8 \uFFFD"},
		{"\x1b[31", ""},
		{"\x1b[\x01x", "x"},
	} {
		if got := String(tc.in); got != tc.want {
			t.Errorf("String(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestLine(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"one line", "one line"},
		{"two\nlines\tand\rcr", "two lines and cr"},
		{"\x1b[31mred\x1b[0m\u0085x\u202e", "red x"},
	} {
		if got := Line(tc.in); got != tc.want {
			t.Errorf("Line(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestStringKeepsCleanTextAsIs(t *testing.T) {
	s := strings.Repeat("GET https://example.com/search?a=1 503 Service Unavailable é ", 10)
	if got := String(s); got != s {
		t.Fatalf("changed clean text: %q", got)
	}
	if n := testing.AllocsPerRun(100, func() { String(s) }); n != 0 {
		t.Fatalf("%v allocations for clean text, want 0", n)
	}
}

// Whatever a server sends, what is printed has no control character but
// tab and line feed, no bidi control, is valid UTF-8, and printable text
// survives.
func FuzzString(f *testing.F) {
	for _, s := range []string{"", "ok", "\x1b[31mred", "\x1b]0;t\x07", "\u009b2J", "\u202e", "\xff", "\x1b]", "a\rb", "\x1bP\x1b\\", "\x1b[\u009b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := String(s)
		if !utf8.ValidString(got) {
			t.Fatalf("String(%q) = %q: invalid UTF-8", s, got)
		}
		for _, r := range got {
			if dropped(r) {
				t.Fatalf("String(%q) = %q keeps %U", s, got, r)
			}
		}
		if line := Line(s); strings.ContainsAny(line, "\t\n") || strings.ContainsFunc(line, dropped) {
			t.Fatalf("Line(%q) = %q is not one clean line", s, line)
		}
		if again := String(got); again != got {
			t.Fatalf("not idempotent: String(%q) = %q, then %q", s, got, again)
		}
		if len(got) > len(s)+2*strings.Count(got, "\uFFFD") {
			t.Fatalf("String(%q) = %q grew", s, got)
		}
		printable := true
		for _, r := range s {
			if r == utf8.RuneError || dropped(r) || r == 0x1b {
				printable = false
			}
		}
		if printable && got != s {
			t.Fatalf("String(%q) = %q changed printable text", s, got)
		}
	})
}
