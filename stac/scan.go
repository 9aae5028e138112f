package stac

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"unicode/utf8"
)

// A page is read in two stages, so that the next request goes out while
// a page's items are checked. In the fetching goroutine, framePage reads
// the page's members other than its array of items (features or
// collections): forward up to the array, backward from the end of the
// body after it, which takes microseconds since links and counts come
// after the items. The next request is sent; meanwhile, in the caller's
// goroutine, splitFramed checks the array in one pass and splits it into
// items. Where the frame cannot be read so (no array, an escaped name, a
// listing with an item cap, which must count the items before asking for
// more), scanPage checks and splits the page in the fetching goroutine.
//
// jsontext checks as well, but splitting with it took 1.4 times this
// scan's time (BenchmarkPageScan against BenchmarkPageDecodeRaw), so the
// scan is the one piece of JSON reading stacq writes itself. Whatever it
// does not accept (invalid UTF-8, escaped ids, any error) goes to
// jsontext instead, for the replacement of bad UTF-8 and for precise
// errors; FuzzScanPage checks that all these ways read every page alike.

var errScan = errors.New("not a JSON page")

// maxDepth is jsontext's limit of nesting, the page object counted.
const maxDepth = 10000

// scanPage reads a page: its array member checked and split into Items
// (appended to items[:0]), its other members decoded (and checked) into
// PageInfo. A body the scan does not accept is read by splitPage, which
// gives precise errors.
func scanPage(body []byte, array string, items []RawItem) (*RawPage, error) {
	if utf8.Valid(body) {
		if p, err := scanTop(body, array, items); err == nil {
			return p, nil
		}
	}
	return splitPage(body, array, items)
}

func scanTop(b []byte, array string, items []RawItem) (*RawPage, error) {
	p := &RawPage{Items: items[:0]}
	rest, _, end, ok := topMembers(b, array, p)
	if !ok || skipSpace(b, end) != len(b) {
		return nil, errScan
	}
	if err := p.decodeInfo(append(rest, '}')); err != nil {
		return nil, err
	}
	if len(p.Items) == 0 {
		p.Items = nil
	}
	return p, nil
}

// topMembers checks the members of the page object in b, forward, and
// returns the members other than the array (as "{" and the members) and
// the end of the object. The array is split into p's items; with p nil,
// the reading stops at the array instead, and lo is where it starts
// (framePage's front members: no array, no frame). ok is false for what
// the scan leaves to jsontext, such as an escaped name.
func topMembers(b []byte, array string, p *RawPage) (rest []byte, lo, end int, ok bool) {
	s := &scanner{b: b}
	i := skipSpace(b, 0)
	if i == len(b) || b[i] != '{' {
		return nil, 0, 0, false
	}
	rest = []byte{'{'}
	if i = skipSpace(b, i+1); i < len(b) && b[i] == '}' {
		return rest, 0, i + 1, p != nil
	}
	for {
		if i == len(b) || b[i] != '"' {
			return nil, 0, 0, false
		}
		kend, ok := s.str(i)
		if !ok || bytes.IndexByte(b[i:kend], '\\') >= 0 {
			return nil, 0, 0, false
		}
		isArray := string(b[i+1:kend-1]) == array
		j := skipSpace(b, kend)
		if j == len(b) || b[j] != ':' {
			return nil, 0, 0, false
		}
		vstart, vend := skipSpace(b, j+1), 0
		switch {
		case isArray && p == nil:
			return rest, vstart, 0, vstart < len(b) && b[vstart] == '['
		case isArray && vstart < len(b) && b[vstart] == '[':
			if vend, ok = s.items(p, vstart); !ok {
				return nil, 0, 0, false
			}
			p.raw = b[vstart:vend]
		default:
			if vend, ok = s.value(vstart, 2); !ok || isArray && string(b[vstart:vend]) != "null" {
				return nil, 0, 0, false // not an array: jsontext says what it expected
			}
			if !isArray {
				if len(rest) > 1 {
					rest = append(rest, ',')
				}
				rest = append(append(append(rest, b[i:kend]...), ':'), b[vstart:vend]...)
			}
		}
		var done bool
		if i, done, ok = after(b, vend, '}'); !ok || done {
			return rest, 0, i, ok && p != nil
		}
	}
}

// frameBudget bounds the backward reading of one member after the
// array: a value longer than this (an array or object) is taken for the
// array of items itself, which splitFramed then checks.
const frameBudget = 64 << 10

// framePage reads the frame of a page (see above): PageInfo from its other
// members, and p.raw, the array, left unchecked for splitFramed. ok is
// false when it cannot.
func framePage(body []byte, array string) (p *RawPage, ok bool) {
	rest, lo, _, ok := topMembers(body, array, nil)
	if !ok {
		return nil, false
	}
	back, hi, ok := backMembers(body, lo, array)
	if !ok {
		return nil, false
	}
	for k := len(back) - 1; k >= 0; k-- {
		if len(rest) > 1 {
			rest = append(rest, ',')
		}
		rest = append(rest, back[k]...)
	}
	p = &RawPage{raw: body[lo:hi], body: body, framed: true}
	if err := p.decodeInfo(append(rest, '}')); err != nil {
		return nil, false
	}
	p.frame = p.PageInfo
	return p, true
}

// backMembers reads the members of the page after its array, which starts
// at lo, from the end of b backward (they are checked when decoded), and
// returns them last first, and where the array ends.
func backMembers(b []byte, lo int, array string) (members [][]byte, hi int, ok bool) {
	j := skipBack(b, len(b))
	if j == 0 || b[j-1] != '}' {
		return nil, 0, false
	}
	j = skipBack(b, j-1)
	for {
		vend := j
		vstart, whole := valueBack(b, lo, j)
		switch {
		case vstart < 0:
			return nil, 0, false
		case !whole: // over the budget: the array, if anything
			if b[vend-1] != ']' {
				return nil, 0, false
			}
			return members, vend, true
		case vstart == lo: // the array, whose name topMembers read
			return members, vend, true
		}
		k := skipBack(b, vstart)
		if k <= lo || b[k-1] != ':' {
			return nil, 0, false
		}
		k = skipBack(b, k-1)
		kstart := stringBack(b, lo, k)
		if kstart < 0 || bytes.IndexByte(b[kstart:k], '\\') >= 0 {
			return nil, 0, false
		}
		if string(b[kstart+1:k-1]) == array {
			return nil, 0, false // a second array member
		}
		members = append(members, b[kstart:vend])
		j = skipBack(b, kstart)
		if j <= lo || b[j-1] != ',' {
			return nil, 0, false
		}
		j = skipBack(b, j-1)
	}
}

// skipBack returns the index after the last byte of b[:j] that is not
// whitespace.
func skipBack(b []byte, j int) int {
	for j > 0 && (b[j-1] == ' ' || b[j-1] == '\n' || b[j-1] == '\r' || b[j-1] == '\t') {
		j--
	}
	return j
}

// valueBack returns the start of the value that ends at b[j-1], no
// further back than lo; -1 when there is none. whole is false for an
// array or object longer than frameBudget, whose start it does not look
// for.
func valueBack(b []byte, lo, j int) (start int, whole bool) {
	if j <= lo {
		return -1, true
	}
	switch b[j-1] {
	case '"':
		return stringBack(b, lo, j), true
	case ']', '}':
		depth := 0
		for k := j - 1; k >= lo; k-- {
			if j-k > frameBudget {
				return 0, false
			}
			switch b[k] {
			case '"':
				if k = stringBack(b, lo, k+1); k < 0 {
					return -1, true
				}
			case ']', '}':
				depth++
			case '[', '{':
				if depth--; depth == 0 {
					return k, true
				}
			}
		}
		return -1, true
	}
	k := j
	for k > lo && (isDigit(b[k-1]) || 'a' <= b[k-1] && b[k-1] <= 'z' || b[k-1] == '.' || b[k-1] == '-' || b[k-1] == '+' || b[k-1] == 'E') {
		k--
	}
	if k == j {
		return -1, true
	}
	return k, true
}

// stringBack returns the start of the string whose closing quote is
// b[j-1]: the quote before it that no backslash escapes.
func stringBack(b []byte, lo, j int) int {
	if j <= lo || b[j-1] != '"' {
		return -1
	}
	for k := j - 2; k >= lo; k-- {
		k = bytes.LastIndexByte(b[lo:k+1], '"')
		if k < 0 {
			return -1
		}
		k += lo
		n := 0
		for m := k - 1; m >= lo && b[m] == '\\'; m-- {
			n++
		}
		if n%2 == 0 {
			return k
		}
	}
	return -1
}

// splitFramed checks the array of a page that framePage read and splits
// it into p.Items, appended to items[:0]. An array the scan does not take
// as it is goes with the whole page to scanPage, which must then read the
// same frame.
func (p *RawPage) splitFramed(array string, items []RawItem) error {
	p.Items = items[:0]
	if utf8.Valid(p.raw) {
		s := &scanner{b: p.raw}
		if end, ok := s.items(p, 0); ok && end == len(p.raw) {
			if len(p.Items) == 0 {
				p.Items = nil
			}
			p.framed = false
			return nil
		}
	}
	full, err := scanPage(p.body, array, items[:0])
	if err != nil {
		return err
	}
	if !reflect.DeepEqual(full.PageInfo, p.frame) {
		// An array or object of more than frameBudget after the array
		// was taken for it: the next request went out as the page says
		// if its next link and context are what the frame read.
		if !reflect.DeepEqual(FindLink(full.Links, "next"), FindLink(p.frame.Links, "next")) || !reflect.DeepEqual(full.Context, p.frame.Context) {
			return fmt.Errorf("%s: the page's links were misread (an array or object of more than %d KiB after the %s)", array, frameBudget>>10, array)
		}
		added := p.Links[len(p.frame.Links):] // by the paging (context.next)
		p.PageInfo = full.PageInfo
		p.Links = append(p.Links, added...)
	}
	p.Items, p.InvalidUTF8, p.framed = full.Items, full.InvalidUTF8, false
	return nil
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\r' || b[i] == '\t') {
		i++
	}
	return i
}

// scanner checks JSON values of b, which is valid UTF-8. Each method
// returns the end of the value at i and whether it is valid; the scan
// then leaves the page to jsontext.
type scanner struct{ b []byte }

// items splits the array at i into the page's items: objects, whose id
// and collection it reads.
func (s *scanner) items(p *RawPage, i int) (int, bool) {
	b := s.b
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		return i + 1, true
	}
	for {
		if i == len(b) || b[i] != '{' {
			return i, false
		}
		var it RawItem
		end, ok := s.object(i, 3, &it, p.Items) // in the page object and its array
		if !ok {
			return end, false
		}
		it.JSON = b[i:end]
		it.Compact = isCompact(it.JSON)
		p.Items = append(p.Items, it)
		var done bool
		if i, done, ok = after(b, end, ']'); !ok || done {
			return i, ok
		}
	}
}

func (s *scanner) value(i, depth int) (int, bool) {
	b := s.b
	if i == len(b) {
		return i, false
	}
	switch c := b[i]; {
	case c == '"':
		return s.str(i)
	case c == '{':
		return s.object(i, depth, nil, nil)
	case c == '[':
		return s.array(i, depth)
	case c == '-' || ('0' <= c && c <= '9'):
		return s.number(i)
	case literals[c] != "":
		end := i + len(literals[c])
		return end, end <= len(b) && string(b[i:end]) == literals[c]
	}
	return i, false
}

// literals are JSON's literal names, by their first byte.
var literals = [256]string{'t': "true", 'f': "false", 'n': "null"}

// object checks the object at i. With it set, its members id and
// collection are read into it (the collection shared with the item
// before when it is the same: a page's items mostly share one).
func (s *scanner) object(i, depth int, it *RawItem, before []RawItem) (int, bool) {
	if depth > maxDepth {
		return i, false
	}
	b := s.b
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return i + 1, true
	}
	for {
		if i == len(b) || b[i] != '"' {
			return i, false
		}
		kend, ok := s.str(i)
		if !ok {
			return kend, false
		}
		key := b[i+1 : kend-1]
		i = skipSpace(b, kend)
		if i == len(b) || b[i] != ':' {
			return i, false
		}
		i = skipSpace(b, i+1)
		vstart := i
		if i, ok = s.value(i, depth+1); !ok {
			return i, false
		}
		if it != nil && (string(key) == "id" || string(key) == "collection") {
			v := b[vstart:i]
			var str string
			switch {
			case v[0] == 'n':
			case v[0] != '"' || bytes.IndexByte(v, '\\') >= 0:
				return i, false // not a string, or escaped: jsontext reads it
			case key[0] == 'c' && len(before) > 0 && string(v[1:len(v)-1]) == before[len(before)-1].Collection:
				str = before[len(before)-1].Collection
			default:
				str = string(v[1 : len(v)-1])
			}
			if key[0] == 'i' {
				it.ID = str
			} else {
				it.Collection = str
			}
		}
		var done bool
		if i, done, ok = after(b, i, '}'); !ok || done {
			return i, ok
		}
	}
}

// after reads what follows a member or element that ends at i: a comma
// (i is then after it and its spaces) or the closing bracket (done, and i
// after it).
func after(b []byte, i int, closing byte) (next int, done, ok bool) {
	i = skipSpace(b, i)
	switch {
	case i == len(b):
		return i, false, false
	case b[i] == ',':
		return skipSpace(b, i+1), false, true
	case b[i] == closing:
		return i + 1, true, true
	}
	return i, false, false
}

func (s *scanner) array(i, depth int) (int, bool) {
	if depth > maxDepth {
		return i, false
	}
	b := s.b
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		return i + 1, true
	}
	for {
		var ok, done bool
		if i, ok = s.value(i, depth+1); !ok {
			return i, false
		}
		if i, done, ok = after(b, i, ']'); !ok || done {
			return i, ok
		}
	}
}

// plain marks the bytes that stand for themselves in a string: not the
// quote, the backslash or control characters (UTF-8 is checked before).
var plain = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// str checks the string at i, surrogate pairs of \u escapes included.
func (s *scanner) str(i int) (int, bool) {
	b := s.b
	for i++; ; {
		for i < len(b) && plain[b[i]] {
			i++
		}
		if i == len(b) {
			return i, false
		}
		switch b[i] {
		case '"':
			return i + 1, true
		case '\\':
			if i+1 == len(b) {
				return i, false
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				r, ok := hex4(b, i+2)
				switch {
				case !ok || 0xdc00 <= r && r <= 0xdfff:
					return i, false // a low surrogate alone
				case 0xd800 <= r && r <= 0xdbff: // a pair, or invalid
					if r2, ok := hex4(b, i+8); !ok || b[i+6] != '\\' || b[i+7] != 'u' || r2 < 0xdc00 || r2 > 0xdfff {
						return i, false
					}
					i += 12
				default:
					i += 6
				}
			default:
				return i, false
			}
		default:
			return i, false
		}
	}
}

// hex4 reads the four hexadecimal digits at b[i:].
func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case '0' <= c && c <= '9':
			r = r<<4 | rune(c-'0')
		case 'a' <= c && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case 'A' <= c && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// digits returns the end of the run of digits at b[i:].
func digits(b []byte, i int) int {
	for i < len(b) && isDigit(b[i]) {
		i++
	}
	return i
}

// number checks the number at i against JSON's grammar: an integer part
// without leading zeros, then a fraction and an exponent of one digit or
// more each.
func (s *scanner) number(i int) (int, bool) {
	b := s.b
	if b[i] == '-' {
		i++
	}
	j := digits(b, i)
	switch {
	case j == i:
		return i, false
	case b[i] == '0':
		j = i + 1 // "01" is "0" followed by what cannot follow a number
	}
	if i = j; i < len(b) && b[i] == '.' {
		if i = digits(b, i+1); b[i-1] == '.' {
			return i, false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if j = digits(b, i); j == i {
			return i, false
		}
		i = j
	}
	return i, true
}
