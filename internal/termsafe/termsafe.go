// Package termsafe makes text from servers safe to print on a terminal:
// escape sequences that could retitle the window, move the cursor or
// overwrite the line above, and characters that reorder what is shown,
// are removed.
package termsafe

import (
	"strings"
	"unicode/utf8"
)

// String returns s without terminal control: ANSI escape sequences (CSI,
// OSC, DCS and the other string controls, as ESC sequences or C1
// characters) are removed whole, other C0 and C1 control characters and
// DEL are removed, bidirectional overrides and isolates (which make text
// read other than it is) are removed, and invalid UTF-8 becomes U+FFFD.
// Tabs and line feeds are kept; callers that want one line collapse them.
func String(s string) string { return strip(s, false) }

// Line is String for text shown on one line: tabs, line feeds and the
// other control characters become spaces instead.
func Line(s string) string { return strip(s, true) }

func strip(s string, line bool) string {
	if clean(s, line) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			b.WriteRune(utf8.RuneError)
		case r == 0x1b: // ESC
			i += escape(s[i+1:])
		case r == 0x9b: // CSI
			i += csi(s[i+size:])
		case r == 0x90 || r == 0x98 || r == 0x9d || r == 0x9e || r == 0x9f: // DCS, SOS, OSC, PM, APC
			i += controlString(s[i+size:])
		case line && (r == '\t' || r == '\n' || r < 0x20 || r >= 0x7f && r <= 0x9f):
			b.WriteByte(' ')
		case dropped(r):
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// clean reports whether s needs no change, the common case.
func clean(s string, line bool) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 && (line || c != '\t' && c != '\n') || c == 0x7f {
			return false
		}
		if c >= 0x80 {
			for _, r := range s[i:] {
				if r == utf8.RuneError || dropped(r) || r < 0x20 && r != '\t' && r != '\n' {
					return false
				}
			}
			return true
		}
	}
	return true
}

// dropped reports whether r is a control character (but tab and line
// feed) or a bidirectional formatting character.
func dropped(r rune) bool {
	switch {
	case r < 0x20:
		return r != '\t' && r != '\n'
	case r >= 0x7f && r <= 0x9f:
		return true
	case r == 0x061c, r == 0x200e, r == 0x200f: // ALM, LRM, RLM
		return true
	case r >= 0x202a && r <= 0x202e: // LRE, RLE, PDF, LRO, RLO
		return true
	case r >= 0x2066 && r <= 0x2069: // LRI, RLI, FSI, PDI
		return true
	}
	return false
}

// escape returns the length of the escape sequence after an ESC at the
// start of s.
func escape(s string) int {
	if s == "" {
		return 0
	}
	switch s[0] {
	case '[':
		return 1 + csi(s[1:])
	case ']', 'P', 'X', '^', '_':
		return 1 + controlString(s[1:])
	}
	// ESC, intermediate bytes, one final byte ("ESC ( B", "ESC c").
	n := 0
	for n < len(s) && s[n] >= 0x20 && s[n] <= 0x2f {
		n++
	}
	if n < len(s) && s[n] >= 0x30 && s[n] <= 0x7e {
		n++
	}
	return n
}

// csi returns the length of a control sequence's parameters, intermediate
// bytes and final byte at the start of s.
func csi(s string) int {
	for n := 0; n < len(s); n++ {
		switch c := s[n]; {
		case c >= 0x40 && c <= 0x7e:
			return n + 1
		case c < 0x20 || c > 0x3f:
			return n // not part of a sequence: stop before it
		}
	}
	return len(s)
}

// controlString returns the length of an OSC, DCS, SOS, PM or APC string
// with its terminator (BEL, ESC \ or ST) at the start of s. An
// unterminated string runs to the end: a terminal would swallow it all.
func controlString(s string) int {
	for n := 0; n < len(s); n++ {
		switch s[n] {
		case 0x07:
			return n + 1
		case 0x1b:
			if n+1 < len(s) && s[n+1] == '\\' {
				return n + 2
			}
			return n // a new sequence ends the string
		case 0xc2:
			if n+1 < len(s) && s[n+1] == 0x9c { // ST
				return n + 2
			}
		}
	}
	return len(s)
}
