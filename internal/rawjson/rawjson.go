// Package rawjson checks, compacts and splits JSON text without decoding
// it: the fast path for STAC items that are passed through as the server
// sent them. It accepts exactly what encoding/json accepts (json.Valid) and
// compacts exactly as json.Compact does, several times faster, because a
// page of items is scanned once per item on the way in and once on the way
// out.
package rawjson

import (
	"bytes"
	"encoding/json"
	"fmt"
	"unicode/utf8"
)

// maxDepth is encoding/json's nesting limit.
const maxDepth = 10000

// SyntaxError is invalid JSON; Offset is the byte at which it was found.
type SyntaxError struct {
	Msg    string
	Offset int
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("invalid JSON at offset %d: %s", e.Offset, e.Msg)
}

// Valid reports whether src is one valid JSON value, with optional
// whitespace around it.
func Valid(src []byte) bool {
	_, _, err := check(src)
	return err == nil
}

// AppendCompact checks that src is one valid JSON value and appends it to
// dst without insignificant whitespace; the bytes appended are those
// json.Compact writes. On error dst is returned unchanged.
func AppendCompact(dst, src []byte) ([]byte, error) {
	s := scanner{b: src}
	start, end, err := s.check()
	if err != nil {
		return dst, err
	}
	v := src[start:end]
	if !s.spaced {
		return append(dst, v...), nil // already compact: one copy
	}
	return appendCompact(dst, v), nil
}

// check validates src and returns the span of its value without the
// surrounding whitespace.
func check(src []byte) (start, end int, err error) {
	s := scanner{b: src}
	return s.check()
}

func (s *scanner) check() (start, end int, err error) {
	start = s.space(0)
	s.spaced = false // only whitespace inside the value counts
	end, err = s.value(start)
	if err != nil {
		return 0, 0, err
	}
	inner := s.spaced
	defer func() { s.spaced = inner }()
	if i := s.space(end); i != len(s.b) {
		return 0, 0, s.errAt(i, "after top-level value")
	}
	return start, end, nil
}

// appendCompact appends the valid JSON value v without whitespace outside
// strings. Most server output has none, so the common case is one copy.
func appendCompact(dst, v []byte) []byte {
	i := 0
	for i < len(v) {
		// Copy runs up to the next string or whitespace.
		j := i
		for j < len(v) && v[j] != '"' && !isSpace(v[j]) {
			j++
		}
		dst = append(dst, v[i:j]...)
		if j == len(v) {
			break
		}
		if v[j] != '"' {
			for j < len(v) && isSpace(v[j]) {
				j++
			}
			i = j
			continue
		}
		end := stringEnd(v, j+1)
		dst = append(dst, v[j:end]...)
		i = end
	}
	return dst
}

// stringEnd returns the index after the closing quote of the valid string
// whose contents start at i.
func stringEnd(v []byte, i int) int {
	for {
		switch v[i] {
		case '"':
			return i + 1
		case '\\':
			i += 2
		default:
			i++
		}
	}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

type scanner struct {
	b      []byte
	depth  int
	spaced bool // whitespace was skipped somewhere
	// hook, when set, sees each member of the objects at depth hookDepth
	// (Splitter.ElementMember).
	hookDepth int
	hook      func(key, value []byte)
}

func (s *scanner) space(i int) int {
	if i < len(s.b) && isSpace(s.b[i]) {
		s.spaced = true
		for i < len(s.b) && isSpace(s.b[i]) {
			i++
		}
	}
	return i
}

func (s *scanner) errAt(i int, context string) error {
	if i >= len(s.b) {
		return &SyntaxError{Msg: "unexpected end of JSON input", Offset: len(s.b)}
	}
	return &SyntaxError{Msg: fmt.Sprintf("invalid character %s %s", quoteChar(s.b[i]), context), Offset: i}
}

// quoteChar formats c as encoding/json does in its errors.
func quoteChar(c byte) string {
	if c == '\'' {
		return `'\''`
	}
	if c == '"' {
		return `'"'`
	}
	if c < utf8.RuneSelf {
		return fmt.Sprintf("%q", rune(c))
	}
	return fmt.Sprintf("0x%02x", c)
}

// value checks the value starting at i (no leading whitespace) and returns
// the index after it.
func (s *scanner) value(i int) (int, error) {
	if i >= len(s.b) {
		return i, s.errAt(i, "")
	}
	switch c := s.b[i]; {
	case c == '{':
		return s.object(i)
	case c == '[':
		return s.array(i)
	case c == '"':
		return s.str(i)
	case c == '-' || ('0' <= c && c <= '9'):
		return s.number(i)
	case c == 't':
		return s.literal(i, "true")
	case c == 'f':
		return s.literal(i, "false")
	case c == 'n':
		return s.literal(i, "null")
	default:
		return i, s.errAt(i, "looking for beginning of value")
	}
}

func (s *scanner) literal(i int, lit string) (int, error) {
	for k := 0; k < len(lit); k++ {
		if i+k >= len(s.b) || s.b[i+k] != lit[k] {
			return i + k, s.errAt(i+k, "in literal "+lit+" (expecting "+quoteChar(lit[k])+")")
		}
	}
	return i + len(lit), nil
}

func (s *scanner) object(i int) (int, error) {
	if s.depth++; s.depth > maxDepth {
		return i, &SyntaxError{Msg: "exceeded max depth", Offset: i}
	}
	i = s.space(i + 1)
	if i < len(s.b) && s.b[i] == '}' {
		s.depth--
		return i + 1, nil
	}
	for {
		if i >= len(s.b) || s.b[i] != '"' {
			return i, s.errAt(i, "looking for beginning of object key string")
		}
		kstart := i
		var err error
		if i, err = s.str(i); err != nil {
			return i, err
		}
		kend := i
		i = s.space(i)
		if i >= len(s.b) || s.b[i] != ':' {
			return i, s.errAt(i, "after object key")
		}
		i = s.space(i + 1)
		vstart := i
		if i, err = s.value(i); err != nil {
			return i, err
		}
		if s.depth == s.hookDepth {
			s.callHook(kstart, kend, vstart, i)
		}
		i = s.space(i)
		if i >= len(s.b) {
			return i, s.errAt(i, "")
		}
		switch s.b[i] {
		case ',':
			i = s.space(i + 1)
		case '}':
			s.depth--
			return i + 1, nil
		default:
			return i, s.errAt(i, "after object key:value pair")
		}
	}
}

// callHook hands a checked member to the hook, its key decoded.
func (s *scanner) callHook(kstart, kend, vstart, vend int) {
	key, err := Unquote(s.b[kstart:kend])
	if err != nil {
		return // cannot happen: the key was checked
	}
	s.hook(key, s.b[vstart:vend])
}

func (s *scanner) array(i int) (int, error) {
	if s.depth++; s.depth > maxDepth {
		return i, &SyntaxError{Msg: "exceeded max depth", Offset: i}
	}
	i = s.space(i + 1)
	if i < len(s.b) && s.b[i] == ']' {
		s.depth--
		return i + 1, nil
	}
	for {
		var err error
		if i, err = s.value(i); err != nil {
			return i, err
		}
		i = s.space(i)
		if i >= len(s.b) {
			return i, s.errAt(i, "")
		}
		switch s.b[i] {
		case ',':
			i = s.space(i + 1)
		case ']':
			s.depth--
			return i + 1, nil
		default:
			return i, s.errAt(i, "after array element")
		}
	}
}

// plain marks the bytes that may appear unescaped in a string: anything
// but control characters, the quote and the backslash. encoding/json does
// not check UTF-8 here either.
var plain = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

func (s *scanner) str(i int) (int, error) {
	b := s.b
	i++ // opening quote
	for {
		for i < len(b) && plain[b[i]] {
			i++
		}
		if i >= len(b) {
			return i, s.errAt(i, "")
		}
		switch b[i] {
		case '"':
			return i + 1, nil
		case '\\':
			i++
			if i >= len(b) {
				return i, s.errAt(i, "")
			}
			switch b[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i++
			case 'u':
				i++
				for k := 0; k < 4; k++ {
					if i >= len(b) || !isHex(b[i]) {
						return i, s.errAt(i, "in \\u hexadecimal character escape")
					}
					i++
				}
			default:
				return i, s.errAt(i, "in string escape code")
			}
		default:
			return i, s.errAt(i, "in string literal")
		}
	}
}

func isHex(c byte) bool {
	return ('0' <= c && c <= '9') || ('a' <= c && c <= 'f') || ('A' <= c && c <= 'F')
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func (s *scanner) number(i int) (int, error) {
	end, msg := ScanNumber(s.b, i)
	if msg != "" {
		return end, s.errAt(end, msg)
	}
	return end, nil
}

// ScanNumber checks the JSON number starting at b[i] and returns the index
// after it. On a malformed number it returns where the problem is and what
// it is, in encoding/json's words ("in numeric literal", "after decimal
// point in numeric literal", "in exponent of numeric literal"); msg is ""
// otherwise.
func ScanNumber(b []byte, i int) (end int, msg string) {
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && '1' <= b[i] && b[i] <= '9':
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	default:
		return i, "in numeric literal"
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || !isDigit(b[i]) {
			return i, "after decimal point in numeric literal"
		}
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || !isDigit(b[i]) {
			return i, "in exponent of numeric literal"
		}
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	}
	return i, ""
}

// Members calls fn with the key and the raw value (a sub-slice of src) of
// each member of the JSON object src, in order. The key is decoded; it
// shares src's memory unless it had escapes (compare it with
// string(key), which does not allocate). Each value is checked
// before fn sees it; a syntax error later in src is returned after fn has
// seen the members before it. It stops at fn's first error and returns it.
func Members(src []byte, fn func(key, value []byte) error) error {
	sp := Splitter{Member: fn}
	return sp.Split(src)
}

// Elements calls fn with each element (a sub-slice of src) of the JSON
// array src, in order. Each element is checked before fn sees it; a syntax
// error later in src is returned after fn has seen the elements before it.
// It stops at fn's first error and returns it.
func Elements(src []byte, fn func(value []byte) error) error {
	s := scanner{b: src}
	i := s.space(0)
	if i >= len(src) || src[i] != '[' {
		return s.kindError(i, "an array")
	}
	s.depth = 1
	i = s.space(i + 1)
	if i < len(src) && src[i] == ']' {
		return s.end(i + 1)
	}
	for {
		end, err := s.value(i)
		if err != nil {
			return err
		}
		if err := fn(src[i:end]); err != nil {
			return err
		}
		i = s.space(end)
		if i >= len(src) {
			return s.errAt(i, "")
		}
		switch src[i] {
		case ',':
			i = s.space(i + 1)
		case ']':
			return s.end(i + 1)
		default:
			return s.errAt(i, "after array element")
		}
	}
}

// kindError reports a value of the wrong kind at i, or the syntax error
// found first.
func (s *scanner) kindError(i int, want string) error {
	if _, _, err := check(s.b); err != nil {
		return err
	}
	got := map[byte]string{'{': "an object", '[': "an array", '"': "a string", 't': "a boolean", 'f': "a boolean", 'n': "null"}[s.b[i]]
	if got == "" {
		got = "a number"
	}
	return fmt.Errorf("expected %s, got %s", want, got)
}

// end checks that only whitespace follows the top-level value ending at i.
func (s *scanner) end(i int) error {
	if i = s.space(i); i != len(s.b) {
		return s.errAt(i, "after top-level value")
	}
	return nil
}

// Unquote decodes a valid JSON string token (quotes included); a string
// without escapes or non-ASCII bytes, such as every STAC key, is returned
// as a sub-slice of tok.
func Unquote(tok []byte) ([]byte, error) {
	if len(tok) < 2 || tok[0] != '"' || tok[len(tok)-1] != '"' {
		return nil, &SyntaxError{Msg: "not a JSON string", Offset: 0}
	}
	inner := tok[1 : len(tok)-1]
	for _, c := range inner {
		if c == '\\' || c >= utf8.RuneSelf {
			var s string
			err := json.Unmarshal(tok, &s)
			return []byte(s), err
		}
	}
	return inner, nil
}

// skipValue returns the index after the value starting at i of JSON text
// that is known to be valid: it only follows strings and brackets, which
// is several times faster than checking. On invalid text it returns some
// index in [i, len(b)] and never panics.
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return len(b)
	}
	switch b[i] {
	case '"':
		return skipString(b, i+1)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			case '"':
				i = skipString(b, i+1)
				continue
			}
			i++
		}
		return len(b)
	default: // number or literal: up to the next delimiter
		for i < len(b) && !isDelim[b[i]] {
			i++
		}
		return i
	}
}

var isDelim = func() (t [256]bool) {
	for _, c := range ",}] \t\r\n" {
		t[c] = true
	}
	return t
}()

// skipString returns the index after the closing quote of the string
// whose contents start at i.
func skipString(b []byte, i int) int {
	for {
		j := bytes.IndexByte(b[i:], '"')
		if j < 0 {
			return len(b)
		}
		end := i + j
		// An odd run of backslashes before the quote escapes it.
		k := end
		for k > i && b[k-1] == '\\' {
			k--
		}
		if (end-k)%2 == 0 {
			return end + 1
		}
		i = end + 1
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// CheckedElements is Elements for an array already known to be valid JSON
// (a value Members or Elements passed on, or text Valid accepted): it
// finds the elements without checking them again. On invalid text its
// results are unspecified, but it does not panic.
func CheckedElements(src []byte, fn func(value []byte) error) error {
	i := skipSpace(src, 0)
	if i >= len(src) || src[i] != '[' {
		return fmt.Errorf("expected an array")
	}
	i = skipSpace(src, i+1)
	for i < len(src) && src[i] != ']' {
		end := max(skipValue(src, i), i+1) // always move on, even on bad text
		if err := fn(src[i:end]); err != nil {
			return err
		}
		i = skipSpace(src, end)
		if i < len(src) && src[i] == ',' {
			i = skipSpace(src, i+1)
		}
	}
	return nil
}

// CheckedMembers is Members for an object already known to be valid JSON:
// it finds the members without checking them again. On invalid text its
// results are unspecified, but it does not panic.
func CheckedMembers(src []byte, fn func(key, value []byte) error) error {
	i := skipSpace(src, 0)
	if i >= len(src) || src[i] != '{' {
		return fmt.Errorf("expected an object")
	}
	i = skipSpace(src, i+1)
	for i < len(src) && src[i] == '"' {
		kend := skipString(src, i+1)
		key, err := Unquote(src[i:kend])
		if err != nil {
			return err
		}
		i = skipSpace(src, kend)
		if i < len(src) && src[i] == ':' {
			i = skipSpace(src, i+1)
		}
		end := max(skipValue(src, i), min(i+1, len(src)))
		if err := fn(key, src[i:end]); err != nil {
			return err
		}
		i = skipSpace(src, end)
		if i < len(src) && src[i] == ',' {
			i = skipSpace(src, i+1)
		}
	}
	return nil
}
