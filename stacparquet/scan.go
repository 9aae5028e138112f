package stacparquet

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"
)

// An item's JSON is parsed once per pass into a tape: its values in
// document order, each with where it starts and ends in the text and where
// the next value after it (and everything it contains) is on the tape. The
// inference and the shredding walk the tape; skipping a value is one step,
// and reading a value's text is slicing. The parse validates the JSON as
// jsontext does (RFC 8259 grammar, UTF-8, escapes and surrogate pairs), so
// the items accepted are the same; duplicate names are allowed, as with
// decodeOpts.

// tok is one value on a tape, or an object member's name.
type tok struct {
	kind  byte   // '{', '[', '"', '0' (number), 't', 'f', 'n'
	flags byte   // tEscaped, tFrac, tLong
	start uint32 // offset of its first byte in the text
	end   uint32 // offset after its last byte
	next  uint32 // index of the tape entry after this value and what it holds
}

const (
	tEscaped = 1 << iota // a string with escape sequences
	tFrac                // a number with a fraction or an exponent
	tLong                // a number whose text may not fit an int64 or a finite float64 (see fits)
)

// maxNesting is the depth of nested arrays and objects the parser accepts,
// as jsontext's decoder.
const maxNesting = 10000

type tape struct {
	text  []byte
	t     []tok
	stack []uint32
}

// errJSON wraps the errors of parse.
var errJSON = errors.New("invalid JSON")

func jsonErr(b []byte, i int, what string) error {
	if i >= len(b) {
		return fmt.Errorf("%w: unexpected end of input", errJSON)
	}
	return fmt.Errorf("%w: %s at offset %d", errJSON, what, i)
}

const (
	stValue = iota // a value is next
	stAfter        // a value ended
	stName         // an object member's name is next
)

// parse reads b, one JSON value with optional surrounding white space,
// onto the tape.
func (tp *tape) parse(b []byte) error {
	tp.text = b
	t, stack, err := scanJSON(b, tp.t[:0], tp.stack[:0])
	tp.t, tp.stack = t, stack
	return err
}

// scanJSON appends the values of b to t (stack is scratch).
func scanJSON(b []byte, t []tok, stack []uint32) ([]tok, []uint32, error) {
	n := len(b)
	i := skipSpace(b, 0)
	state := stValue
	for {
		switch state {
		case stValue:
			if i >= n {
				return t, stack, jsonErr(b, i, "")
			}
			c := b[i]
			idx := uint32(len(t))
			switch c {
			case '{', '[':
				if len(stack) >= maxNesting {
					return t, stack, jsonErr(b, i, "nesting too deep")
				}
				t = append(t, tok{kind: c, start: uint32(i)})
				stack = append(stack, idx)
				i = skipSpace(b, i+1)
				if i < n && b[i] == c+2 { // '}' or ']'
					i++
					t[idx].end, t[idx].next = uint32(i), idx+1
					stack = stack[:len(stack)-1]
					state = stAfter
					continue
				}
				if c == '{' {
					state = stName
				}
				continue
			case '"':
				end, fl, err := scanString(b, i)
				if err != nil {
					return t, stack, err
				}
				t = append(t, tok{kind: '"', flags: fl, start: uint32(i), end: uint32(end), next: idx + 1})
				i = end
			case 't', 'f', 'n':
				lit := "null"
				switch c {
				case 't':
					lit = "true"
				case 'f':
					lit = "false"
				}
				if n-i < len(lit) || string(b[i:i+len(lit)]) != lit {
					return t, stack, jsonErr(b, i, "invalid literal")
				}
				t = append(t, tok{kind: c, start: uint32(i), end: uint32(i + len(lit)), next: idx + 1})
				i += len(lit)
			default:
				end, fl, err := scanNumber(b, i)
				if err != nil {
					return t, stack, err
				}
				t = append(t, tok{kind: '0', flags: fl, start: uint32(i), end: uint32(end), next: idx + 1})
				i = end
			}
			state = stAfter
		case stAfter:
			if len(stack) == 0 {
				if i = skipSpace(b, i); i != n {
					return t, stack, jsonErr(b, i, "more than one JSON value")
				}
				return t, stack, nil
			}
			i = skipSpace(b, i)
			if i >= n {
				return t, stack, jsonErr(b, i, "")
			}
			top := stack[len(stack)-1]
			open := t[top].kind
			switch c := b[i]; {
			case c == ',':
				i = skipSpace(b, i+1)
				if open == '{' {
					state = stName
				} else {
					state = stValue
				}
			case c == open+2:
				i++
				t[top].end, t[top].next = uint32(i), uint32(len(t))
				stack = stack[:len(stack)-1]
			default:
				return t, stack, jsonErr(b, i, "invalid character after a value")
			}
		case stName:
			if i >= n || b[i] != '"' {
				return t, stack, jsonErr(b, i, "invalid character where an object name is expected")
			}
			end, fl, err := scanString(b, i)
			if err != nil {
				return t, stack, err
			}
			idx := uint32(len(t))
			t = append(t, tok{kind: '"', flags: fl, start: uint32(i), end: uint32(end), next: idx + 1})
			i = skipSpace(b, end)
			if i >= n || b[i] != ':' {
				return t, stack, jsonErr(b, i, "invalid character after an object name")
			}
			i = skipSpace(b, i+1)
			state = stValue
		}
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// strPlain marks the bytes a string holds as they are: printable ASCII
// but '"' and '\'.
var strPlain = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

const (
	lo8 = 0x0101010101010101
	hi8 = 0x8080808080808080
)

// special reports whether one of the 8 bytes of x is not plain string
// text (a control character, '"', '\' or a non-ASCII byte).
func special(x uint64) bool {
	q := x ^ (lo8 * '"')
	bs := x ^ (lo8 * '\\')
	return ((x-lo8*0x20)&^x|(q-lo8)&^q|(bs-lo8)&^bs|x)&hi8 != 0
}

// scanString scans the string starting at b[i] (a '"'), returning the
// offset after it and its flags: tEscaped when it has escapes.
func scanString(b []byte, i int) (end int, flags byte, err error) {
	i++
	n := len(b)
	for {
		for i+8 <= n && !special(binary.LittleEndian.Uint64(b[i:])) {
			i += 8
		}
		for i < n && strPlain[b[i]] {
			i++
		}
		if i >= n {
			return 0, 0, jsonErr(b, n, "")
		}
		switch c := b[i]; {
		case c == '"':
			return i + 1, flags, nil
		case c == '\\':
			flags = tEscaped
			if i+1 >= n {
				return 0, 0, jsonErr(b, n, "")
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				v, ok := hex4(b, i+2)
				if !ok {
					return 0, 0, jsonErr(b, i, "invalid escape sequence in a string")
				}
				i += 6
				if utf16.IsSurrogate(rune(v)) {
					v2, ok := hex4(b, i+2)
					if !ok || b[i] != '\\' || b[i+1] != 'u' || utf16.DecodeRune(rune(v), rune(v2)) == utf8.RuneError {
						return 0, 0, jsonErr(b, i-6, "invalid surrogate pair in a string")
					}
					i += 6
				}
			default:
				return 0, 0, jsonErr(b, i, "invalid escape sequence in a string")
			}
		case c < 0x20:
			return 0, 0, jsonErr(b, i, "invalid control character in a string")
		default:
			r, size := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && size == 1 {
				return 0, 0, jsonErr(b, i, "invalid UTF-8 in a string")
			}
			i += size
		}
	}
}

func hex4(b []byte, i int) (uint16, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var v uint16
	for _, c := range b[i : i+4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		v = v<<4 | uint16(c)
	}
	return v, true
}

// scanNumber scans the number starting at b[i].
func scanNumber(b []byte, i int) (end int, flags byte, err error) {
	n := len(b)
	j := i
	if j < n && b[j] == '-' {
		j++
	}
	switch {
	case j < n && b[j] == '0':
		j++
	case j < n && '1' <= b[j] && b[j] <= '9':
		j = skipDigits(b, j+1)
	default:
		return 0, 0, jsonErr(b, j, "invalid character where a value is expected")
	}
	intDigits := j - i
	if j < n && b[j] == '.' {
		k := j + 1
		if j = skipDigits(b, k); j == k {
			return 0, 0, jsonErr(b, j, "invalid number")
		}
		flags |= tFrac
	}
	if j < n && (b[j] == 'e' || b[j] == 'E') {
		j++
		if j < n && (b[j] == '+' || b[j] == '-') {
			j++
		}
		k := j
		if j = skipDigits(b, k); j == k {
			return 0, 0, jsonErr(b, j, "invalid number")
		}
		flags |= tFrac | tLong
	}
	// 18 digits (with the sign) always fit an int64, and a number of
	// fewer than 300 integer digits without exponent a finite float64.
	if (flags&tFrac == 0 && intDigits > 18) || intDigits >= 300 {
		flags |= tLong
	}
	return j, flags, nil
}

// skipDigits returns the offset after the decimal digits from b[j] on.
func skipDigits(b []byte, j int) int {
	for j < len(b) && '0' <= b[j] && b[j] <= '9' {
		j++
	}
	return j
}

// raw is the text of tape entry i.
func (tp *tape) raw(i uint32) []byte {
	e := &tp.t[i]
	return tp.text[e.start:e.end:e.end]
}

// str is the text of string entry i without quotes, unescaped into buf
// when it has escapes (then the result is in buf).
func (tp *tape) str(i uint32, buf []byte) []byte {
	e := &tp.t[i]
	if e.flags&tEscaped == 0 {
		return tp.text[e.start+1 : e.end-1 : e.end-1]
	}
	out, err := jsontext.AppendUnquote(buf[:0], tp.text[e.start:e.end])
	if err != nil {
		return tp.text[e.start:e.end:e.end] // cannot happen: parse checked it
	}
	return out
}

// view is the text of string entry i; without escapes, it shares the
// tape's text (so it is valid only as long as the text is: it must be
// copied to be kept).
func (tp *tape) view(i uint32) string {
	e := &tp.t[i]
	if e.flags&tEscaped == 0 {
		return bstr(tp.text[e.start+1 : e.end-1])
	}
	return unquote(tp.text[e.start:e.end])
}

// isNull reports whether entry i is null.
func (tp *tape) isNull(i uint32) bool { return tp.t[i].kind == 'n' }

// numKind is the kind of number entry i: kInt when it fits an int64,
// kFloat when a finite float64 holds it, else kJSON (kept as its text).
func (tp *tape) numKind(i uint32) kind {
	e := &tp.t[i]
	if e.flags&tLong == 0 {
		if e.flags&tFrac == 0 {
			return kInt
		}
		return kFloat
	}
	raw := tp.text[e.start:e.end]
	if e.flags&tFrac == 0 {
		if _, ok := parseInt(raw); ok {
			return kInt
		}
	}
	if math.IsInf(parseFloat(raw), 0) {
		return kJSON
	}
	return kFloat
}

// finite reports whether number entry i is a finite float64.
func (tp *tape) finite(i uint32) bool {
	e := &tp.t[i]
	return e.flags&tLong == 0 || !math.IsInf(parseFloat(tp.text[e.start:e.end]), 0)
}

// float is number entry i as a float64, as strconv.ParseFloat reads it.
func (tp *tape) float(i uint32) float64 {
	e := &tp.t[i]
	raw := tp.text[e.start:e.end]
	if e.flags&tLong == 0 {
		if f, ok := exactFloat(raw); ok {
			return f
		}
	}
	f, _ := strconv.ParseFloat(bstr(raw), 64)
	return f
}

// pow10 are the powers of ten a float64 holds exactly.
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// exactFloat reads a JSON number without exponent whose digits, as an
// integer, are below 2^53 and that has at most 22 decimals: it is that
// integer divided by a power of ten, both exact float64s, so the division
// rounds correctly (the fast path of strconv.ParseFloat, without its
// general parsing).
func exactFloat(raw []byte) (float64, bool) {
	i, neg := 0, false
	if len(raw) > 0 && raw[0] == '-' {
		i, neg = 1, true
	}
	var m uint64
	digits, decimals := 0, 0
	for ; i < len(raw) && raw[i] >= '0' && raw[i] <= '9'; i++ {
		m = m*10 + uint64(raw[i]-'0')
		digits++
	}
	if i < len(raw) && raw[i] == '.' {
		for i++; i < len(raw) && raw[i] >= '0' && raw[i] <= '9'; i++ {
			m = m*10 + uint64(raw[i]-'0')
			digits++
			decimals++
		}
	}
	if i != len(raw) || digits > 19 || m >= 1<<53 || decimals >= len(pow10) {
		return 0, false
	}
	f := float64(m) / pow10[decimals]
	if neg {
		f = -f
	}
	return f, true
}

// int is number entry i (of kind kInt) as an int64.
func (tp *tape) int(i uint32) (int64, bool) {
	e := &tp.t[i]
	raw := tp.text[e.start:e.end]
	if e.flags&(tFrac|tLong) == 0 {
		return smallInt(raw)
	}
	return parseInt(raw)
}

// smallInt parses a JSON integer of at most 18 digits.
func smallInt(raw []byte) (int64, bool) {
	neg := false
	if len(raw) > 0 && raw[0] == '-' {
		neg, raw = true, raw[1:]
	}
	if len(raw) == 0 || len(raw) > 18 {
		return 0, false
	}
	var v int64
	for _, c := range raw {
		v = v*10 + int64(c-'0')
	}
	if neg {
		v = -v
	}
	return v, true
}

// kind is the inferred kind of the value at entry i.
func (tp *tape) kind(i uint32) kind {
	switch tp.t[i].kind {
	case 'n':
		return kNull
	case 't', 'f':
		return kBool
	case '"':
		return kString
	case '{':
		return kStruct
	case '[':
		return kList
	}
	return tp.numKind(i)
}
