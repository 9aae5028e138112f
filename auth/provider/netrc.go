package provider

import (
	"fmt"
	"strings"
)

// NetrcEntry is one machine (or the default) of a .netrc file.
type NetrcEntry struct {
	Machine  string // "" for the default entry
	Login    string // the user name
	Password string // the password
}

// String keeps fmt from printing the password.
func (e NetrcEntry) String() string {
	return fmt.Sprintf("provider.NetrcEntry{Machine:%q Login:%q Password:***}", e.Machine, e.Login)
}

// GoString is String, for %#v.
func (e NetrcEntry) GoString() string { return e.String() }

// Netrc is a parsed .netrc file: the convention of ftp, curl, wget,
// requests and pystac-client (NASA Earthdata relies on it) for HTTP Basic
// credentials per host.
type Netrc struct {
	Entries []NetrcEntry // in file order
}

// Lookup returns the login and password for host (a name without port):
// the first machine entry for it, else the default entry. An entry without
// a login or password does not match.
func (n *Netrc) Lookup(host string) (NetrcEntry, bool) {
	if n == nil {
		return NetrcEntry{}, false
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	for _, e := range n.Entries {
		if e.Machine != "" && strings.EqualFold(e.Machine, host) && e.Password != "" {
			return e, true
		}
	}
	for _, e := range n.Entries {
		if e.Machine == "" && e.Password != "" {
			return e, true
		}
	}
	return NetrcEntry{}, false
}

// maxNetrcEntries bounds what is kept of a file.
const maxNetrcEntries = 4096

// ParseNetrc parses a .netrc file: tokens separated by white space,
// "machine NAME" or "default" starting an entry, then "login", "password"
// and "account" with a value each; "macdef NAME" skips a macro up to the
// next empty line; '#' starts a comment at the start of a token (as curl
// reads it); a value may be double-quoted with \" and \\ escapes. Errors
// name the line but never quote it, since values are secrets.
func ParseNetrc(data []byte) (*Netrc, error) {
	sc := netrcScanner{s: string(data), line: 1}
	n := &Netrc{}
	var cur *NetrcEntry
	for {
		tok, line, err := sc.next()
		if err != nil {
			return nil, err
		}
		if tok == "" && sc.done() {
			return n, nil
		}
		switch tok {
		case "machine", "default":
			if len(n.Entries) == maxNetrcEntries {
				return nil, fmt.Errorf("line %d: more than %d entries", line, maxNetrcEntries)
			}
			n.Entries = append(n.Entries, NetrcEntry{})
			cur = &n.Entries[len(n.Entries)-1]
			if tok == "machine" {
				name, _, err := sc.value(line, "machine")
				if err != nil {
					return nil, err
				}
				cur.Machine = name
			}
		case "login", "password", "account":
			v, _, err := sc.value(line, tok)
			if err != nil {
				return nil, err
			}
			if cur == nil {
				return nil, fmt.Errorf("line %d: %s before any machine or default", line, tok)
			}
			switch tok {
			case "login":
				cur.Login = v
			case "password":
				cur.Password = v
			}
		case "macdef":
			if _, _, err := sc.value(line, "macdef"); err != nil {
				return nil, err
			}
			sc.skipMacro()
		default:
			return nil, fmt.Errorf("line %d: unknown keyword", line)
		}
	}
}

type netrcScanner struct {
	s    string
	i    int
	line int
}

func (sc *netrcScanner) done() bool { return sc.i >= len(sc.s) }

// next returns the next token and its line, skipping white space and
// comments. At the end it returns "".
func (sc *netrcScanner) next() (string, int, error) {
	for sc.i < len(sc.s) {
		c := sc.s[sc.i]
		switch {
		case c == '\n':
			sc.line++
			sc.i++
		case c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v':
			sc.i++
		case c == '#':
			for sc.i < len(sc.s) && sc.s[sc.i] != '\n' {
				sc.i++
			}
		case c == '"':
			line := sc.line
			v, err := sc.quoted()
			return v, line, err
		default:
			start := sc.i
			for sc.i < len(sc.s) && !isNetrcSpace(sc.s[sc.i]) {
				sc.i++
			}
			return sc.s[start:sc.i], sc.line, nil
		}
	}
	return "", sc.line, nil
}

func isNetrcSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

// quoted reads a double-quoted token.
func (sc *netrcScanner) quoted() (string, error) {
	line := sc.line
	sc.i++ // the opening quote
	var b strings.Builder
	for sc.i < len(sc.s) {
		c := sc.s[sc.i]
		sc.i++
		switch c {
		case '"':
			return b.String(), nil
		case '\\':
			if sc.i < len(sc.s) {
				b.WriteByte(sc.s[sc.i])
				sc.i++
			}
		case '\n':
			sc.line++
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	return "", fmt.Errorf("line %d: unterminated quote", line)
}

// value reads the value after keyword kw.
func (sc *netrcScanner) value(line int, kw string) (string, int, error) {
	v, vline, err := sc.next()
	if err != nil {
		return "", 0, err
	}
	if v == "" && sc.done() {
		return "", 0, fmt.Errorf("line %d: %s without a value", line, kw)
	}
	return v, vline, nil
}

// skipMacro skips a macro definition: the rest of the line and every line
// up to an empty one.
func (sc *netrcScanner) skipMacro() {
	rest := sc.s[sc.i:]
	if end := strings.Index(rest, "\n\n"); end >= 0 {
		sc.line += strings.Count(rest[:end+2], "\n")
		sc.i += end + 2
		return
	}
	sc.line += strings.Count(rest, "\n")
	sc.i = len(sc.s)
}
