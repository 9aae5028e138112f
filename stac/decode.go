package stac

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"unicode/utf8"

	"github.com/stacq/stacq/internal/rawjson"
)

// A one-pass decoder for the STAC document types.
//
// Every UnmarshalJSON copies its input once (encoding/json does not let an
// Unmarshaler keep the bytes it is given) and walks that copy once: known
// members are decoded straight into typed fields, the others are kept in
// Extra as sub-slices of the copy, capped so that appending to one never
// writes into its neighbour. Properties and summaries become the values
// encoding/json with UseNumber would give (json.Number, string, bool, nil,
// []any, map[string]any).
//
// The walk checks the syntax as it goes, so it rejects exactly what
// encoding/json rejects, and it keeps encoding/json's quirks of the former
// map-splitting decoder: a member whose value is null is absent, and of
// duplicate members the last one counts (also for whether it is an error).
//
// What the walk allocates is mostly the result: strings that repeat across
// a page (keys, media types, roles, short property values) are made once
// per document, and Items, Links and Assets come from small slabs.

// maxDepth is encoding/json's nesting limit.
const maxDepth = 10000

// internMax bounds the strings worth sharing and internLimit the number of
// them kept per document, so unique values do not grow the tables forever.
const (
	internMax   = 40
	internLimit = 4096
)

type decoder struct {
	buf   []byte // the document, owned by the decoded values
	pos   int
	depth int

	names map[string]string // interned keys and enum-like values
	boxes map[string]any    // interned string values of properties
	nums  map[string]any    // interned json.Number values of properties

	// Scratch stacks: a container's entries are gathered on top and moved
	// into a value of the exact size once its end is reached.
	raws     []rawMember
	pairs    []anyMember
	anys     []any
	strStack []string

	// Slabs of structs handed out by pointer: one allocation for many.
	itemSlab  []Item
	linkSlab  []Link
	assetSlab []Asset
	slab      int
}

type rawMember struct {
	key string
	val json.RawMessage
}

type anyMember struct {
	key string
	val any
}

// decodeDocument decodes data, one whole JSON document, with fn.
func decodeDocument(data []byte, fn func(d *decoder) error) error {
	d := &decoder{buf: append([]byte(nil), data...)}
	d.ws()
	if err := fn(d); err != nil {
		return err
	}
	d.ws()
	if d.pos < len(d.buf) {
		return d.syntaxErr("after top-level value")
	}
	return nil
}

// ---- errors ----

// syntaxError is invalid JSON; it ends a decode at once.
type syntaxError struct {
	msg    string
	Offset int64
}

func (e *syntaxError) Error() string { return e.msg }

func (d *decoder) syntaxErr(context string) error {
	if d.pos >= len(d.buf) {
		return &syntaxError{"unexpected end of JSON input", int64(d.pos)}
	}
	return &syntaxError{fmt.Sprintf("invalid character %s %s", quoteChar(d.buf[d.pos]), context), int64(d.pos)}
}

// quoteChar formats c as encoding/json does in its errors.
func quoteChar(c byte) string {
	switch {
	case c == '\'':
		return `'\''`
	case c == '"':
		return `'"'`
	case c < utf8.RuneSelf:
		return strconv.QuoteRune(rune(c))
	}
	return fmt.Sprintf("0x%02x", c)
}

func isSyntax(err error) bool {
	var se *syntaxError
	return errors.As(err, &se)
}

// typeError is valid JSON of the wrong kind for a field.
type typeError struct{ want, got string }

func (e *typeError) Error() string { return "expected " + e.want + ", got " + e.got }

// kindErr reports the value at d.pos as not of the wanted kind.
func (d *decoder) kindErr(want string) error {
	got := "a number"
	if d.pos < len(d.buf) {
		switch d.buf[d.pos] {
		case '{':
			got = "an object"
		case '[':
			got = "an array"
		case '"':
			got = "a string"
		case 't', 'f':
			got = "a boolean"
		case 'n':
			got = "null"
		}
	}
	return &typeError{want, got}
}

// ---- scanning ----

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func (d *decoder) ws() {
	for d.pos < len(d.buf) && isSpace(d.buf[d.pos]) {
		d.pos++
	}
}

// peek returns the byte at d.pos, or 0 at the end.
func (d *decoder) peek() byte {
	if d.pos < len(d.buf) {
		return d.buf[d.pos]
	}
	return 0
}

// skip checks the value at d.pos and moves past it.
func (d *decoder) skip() error {
	switch d.peek() {
	case '{':
		return d.skipContainer('}')
	case '[':
		return d.skipContainer(']')
	case '"':
		_, _, err := d.scanString()
		return err
	case 't':
		return d.literal("true")
	case 'f':
		return d.literal("false")
	case 'n':
		return d.literal("null")
	default:
		_, err := d.number()
		return err
	}
}

func (d *decoder) skipContainer(end byte) error {
	if err := d.enter(); err != nil {
		return err
	}
	d.ws()
	if d.peek() == end {
		d.pos++
		d.depth--
		return nil
	}
	for {
		if end == '}' {
			if _, err := d.key(); err != nil {
				return err
			}
		}
		if err := d.skip(); err != nil {
			return err
		}
		more, err := d.next(end)
		if err != nil || !more {
			return err
		}
	}
}

// enter moves past the '{' or '[' at d.pos.
func (d *decoder) enter() error {
	d.pos++
	if d.depth++; d.depth > maxDepth {
		return &syntaxError{"exceeded max depth", int64(d.pos)}
	}
	return nil
}

// next moves past the ',' (true) or the closing end (false) after a value.
func (d *decoder) next(end byte) (bool, error) {
	d.ws()
	switch d.peek() {
	case ',':
		d.pos++
		d.ws()
		return true, nil
	case end:
		d.pos++
		d.depth--
		return false, nil
	}
	if end == '}' {
		return false, d.syntaxErr("after object key:value pair")
	}
	return false, d.syntaxErr("after array element")
}

// open moves past the '{' or '[' at d.pos and reports whether the
// container has any entries.
func (d *decoder) open(end byte) (bool, error) {
	if err := d.enter(); err != nil {
		return false, err
	}
	d.ws()
	if d.peek() == end {
		d.pos++
		d.depth--
		return false, nil
	}
	return true, nil
}

func (d *decoder) literal(lit string) error {
	for k := 0; k < len(lit); k++ {
		if d.pos >= len(d.buf) || d.buf[d.pos] != lit[k] {
			return d.syntaxErr("in literal " + lit + " (expecting " + quoteChar(lit[k]) + ")")
		}
		d.pos++
	}
	return nil
}

// null moves past a null at d.pos and reports whether there was one.
func (d *decoder) null() (bool, error) {
	if d.peek() != 'n' {
		return false, nil
	}
	return true, d.literal("null")
}

// strClass marks the bytes of a string that need a closer look: the quote,
// the backslash, control characters (invalid) and non-ASCII bytes.
var strClass = func() (t [256]bool) {
	for c := 0; c < 256; c++ {
		t[c] = c < 0x20 || c == '"' || c == '\\' || c >= utf8.RuneSelf
	}
	return t
}()

// scanString checks the string at d.pos and moves past it. raw is its
// contents without the quotes; plain means they need no unquoting.
func (d *decoder) scanString() (raw []byte, plain bool, err error) {
	if d.peek() != '"' {
		return nil, false, d.syntaxErr("looking for beginning of value")
	}
	b := d.buf
	start := d.pos + 1
	i := start
	plain = true
	for {
		for i < len(b) && !strClass[b[i]] {
			i++
		}
		if i >= len(b) {
			d.pos = i
			return nil, false, d.syntaxErr("")
		}
		switch c := b[i]; {
		case c == '"':
			d.pos = i + 1
			if !plain && !hasEscape(b[start:i]) && utf8.Valid(b[start:i]) {
				plain = true // valid UTF-8 is taken as it is
			}
			return b[start:i], plain, nil
		case c == '\\':
			plain = false
			i++
			if i >= len(b) {
				d.pos = i
				return nil, false, d.syntaxErr("")
			}
			switch b[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i++
			case 'u':
				i++
				for k := 0; k < 4; k++ {
					if i >= len(b) || !isHex(b[i]) {
						d.pos = i
						return nil, false, d.syntaxErr("in \\u hexadecimal character escape")
					}
					i++
				}
			default:
				d.pos = i
				return nil, false, d.syntaxErr("in string escape code")
			}
		case c >= utf8.RuneSelf:
			plain = false
			i++
		default:
			d.pos = i
			return nil, false, d.syntaxErr("in string literal")
		}
	}
}

func hasEscape(b []byte) bool {
	for _, c := range b {
		if c == '\\' {
			return true
		}
	}
	return false
}

func isHex(c byte) bool {
	return ('0' <= c && c <= '9') || ('a' <= c && c <= 'f') || ('A' <= c && c <= 'F')
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// unquote decodes string contents that are not plain, as encoding/json
// does (invalid UTF-8 and lone surrogates become U+FFFD).
func unquote(raw []byte) string {
	tok := make([]byte, 0, len(raw)+2)
	tok = append(append(append(tok, '"'), raw...), '"')
	var s string
	if err := json.Unmarshal(tok, &s); err != nil {
		// Unreachable: raw was checked by scanString.
		return string(raw)
	}
	return s
}

// number checks the number at d.pos, moves past it and returns its text.
func (d *decoder) number() ([]byte, error) {
	start := d.pos
	end, msg := rawjson.ScanNumber(d.buf, start)
	d.pos = end
	if msg != "" {
		if end == start {
			return nil, d.syntaxErr("looking for beginning of value")
		}
		return nil, d.syntaxErr(msg)
	}
	return d.buf[start:end], nil
}

// key reads an object key and the colon after it, leaving d.pos at the
// value. A key without escapes shares d.buf.
func (d *decoder) key() ([]byte, error) {
	if d.peek() != '"' {
		return nil, d.syntaxErr("looking for beginning of object key string")
	}
	raw, plain, err := d.scanString()
	if err != nil {
		return nil, err
	}
	if !plain {
		raw = []byte(unquote(raw))
	}
	d.ws()
	if d.peek() != ':' {
		return nil, d.syntaxErr("after object key")
	}
	d.pos++
	d.ws()
	return raw, nil
}

// ---- strings ----

// name returns b as a string shared by every equal name in the document.
func (d *decoder) name(b []byte) string {
	if len(b) > internMax {
		return string(b)
	}
	if s, ok := d.names[string(b)]; ok {
		return s
	}
	s := string(b)
	if d.names == nil {
		d.names = make(map[string]string, 64)
	}
	if len(d.names) < internLimit {
		d.names[s] = s
	}
	return s
}

// stringValue reads the string at d.pos; intern shares repeated values.
func (d *decoder) stringValue(intern bool) (string, error) {
	raw, plain, err := d.scanString()
	if err != nil {
		return "", err
	}
	switch {
	case !plain:
		return unquote(raw), nil
	case intern:
		return d.name(raw), nil
	}
	return string(raw), nil
}

// ---- scratch stacks ----

type marks struct{ raws, pairs, anys, strs int }

func (d *decoder) marks() marks {
	return marks{len(d.raws), len(d.pairs), len(d.anys), len(d.strStack)}
}

// reset drops what was pushed since m. A stack may also have shrunk below
// its mark meanwhile (dropRaw removes an earlier member replaced by a later
// one of the same name); what was removed stays removed.
func (d *decoder) reset(m marks) {
	d.raws = truncate(d.raws, m.raws)
	d.pairs = truncate(d.pairs, m.pairs)
	d.anys = truncate(d.anys, m.anys)
	d.strStack = truncate(d.strStack, m.strs)
}

// truncate shortens s to n elements when it is longer, zeroing the rest
// so that the backing array keeps no references.
func truncate[T any](s []T, n int) []T {
	if n >= len(s) {
		return s
	}
	clear(s[n:])
	return s[:n]
}

// popRaws returns the members gathered since mark as a map, nil if none.
func (d *decoder) popRaws(mark int) map[string]json.RawMessage {
	top := d.raws[mark:]
	if len(top) == 0 {
		return nil
	}
	m := make(map[string]json.RawMessage, len(top))
	for _, r := range top {
		m[r.key] = r.val
	}
	clear(top)
	d.raws = d.raws[:mark]
	return m
}

// ---- objects ----

// held is a failed member, kept in case a later member of the same name
// replaces it (the former decoder split objects into maps: last one wins).
type held struct {
	key string
	err error
}

// members walks the object at d.pos, calling fn with d.pos at each value,
// which fn must consume. With hold, a member fn fails on with a type error
// is skipped and its error returned at the end, unless a later member of
// the same name succeeds; without it, the first error ends the walk.
func (d *decoder) members(hold bool, fn func(key []byte) error) error {
	if d.peek() != '{' {
		return d.kindErr("a JSON object")
	}
	more, err := d.open('}')
	if err != nil {
		return err
	}
	var failed []held
	for more {
		key, err := d.key()
		if err != nil {
			return err
		}
		start, depth, m := d.pos, d.depth, d.marks()
		if err := fn(key); err != nil {
			if !hold || isSyntax(err) {
				return err
			}
			d.reset(m)
			d.pos, d.depth = start, depth
			if err := d.skip(); err != nil {
				return err
			}
			failed = dropHeld(failed, key)
			failed = append(failed, held{string(key), fmt.Errorf("field %q: %w", key, err)})
		} else if len(failed) > 0 {
			failed = dropHeld(failed, key)
		}
		if more, err = d.next('}'); err != nil {
			return err
		}
	}
	if len(failed) > 0 {
		return failed[0].err
	}
	return nil
}

func dropHeld(hs []held, key []byte) []held {
	out := hs[:0]
	for _, h := range hs {
		if h.key != string(key) {
			out = append(out, h)
		}
	}
	return out
}

// object walks the object at d.pos as members(true, fn) does, where fn
// reads the members a type knows and passes the others to d.extra; they
// become *extra. Errors are prefixed with what.
func (d *decoder) object(what string, extra *map[string]json.RawMessage, fn func(key []byte) error) error {
	mark := len(d.raws)
	err := d.members(true, fn)
	*extra = d.popRaws(mark)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// rawValue reads the value at d.pos as a sub-slice of the document.
func (d *decoder) rawValue() (json.RawMessage, error) {
	start := d.pos
	if err := d.skip(); err != nil {
		return nil, err
	}
	return json.RawMessage(d.buf[start:d.pos:d.pos]), nil
}

// extra keeps the member at d.pos in the Extra gathered on d.raws.
func (d *decoder) extra(key []byte) error {
	v, err := d.rawValue()
	if err != nil {
		return err
	}
	d.raws = append(d.raws, rawMember{d.name(key), v})
	return nil
}

// ---- typed fields ----
//
// Each reads the value at d.pos into dst, first reset: a null member is
// treated as absent.

func (d *decoder) str(dst *string, intern bool) error {
	*dst = ""
	switch d.peek() {
	case '"':
		s, err := d.stringValue(intern)
		*dst = s
		return err
	case 'n':
		return d.literal("null")
	}
	return d.kindErr("a string")
}

func (d *decoder) strs(dst *[]string, intern bool) error {
	*dst = nil
	if ok, err := d.null(); ok || err != nil {
		return err
	}
	if d.peek() != '[' {
		return d.kindErr("an array of strings")
	}
	more, err := d.open(']')
	if err != nil {
		return err
	}
	mark := len(d.strStack)
	for more {
		var s string
		if err := d.str(&s, intern); err != nil {
			return err
		}
		d.strStack = append(d.strStack, s)
		if more, err = d.next(']'); err != nil {
			return err
		}
	}
	*dst = append(make([]string, 0, len(d.strStack)-mark), d.strStack[mark:]...)
	clear(d.strStack[mark:])
	d.strStack = d.strStack[:mark]
	return nil
}

func (d *decoder) float(dst *float64) error {
	*dst = 0
	if ok, err := d.null(); ok || err != nil {
		return err
	}
	if c := d.peek(); c != '-' && !isDigit(c) {
		return d.kindErr("a number")
	}
	num, err := d.number()
	if err != nil {
		return err
	}
	f, err := strconv.ParseFloat(string(num), 64)
	if err != nil {
		return fmt.Errorf("number %s out of range", num)
	}
	*dst = f
	return nil
}

func (d *decoder) floats(dst *[]float64) error {
	*dst = nil
	if ok, err := d.null(); ok || err != nil {
		return err
	}
	if d.peek() != '[' {
		return d.kindErr("an array of numbers")
	}
	more, err := d.open(']')
	if err != nil {
		return err
	}
	fs := make([]float64, 0, 4) // a bbox, or one of an extent
	for more {
		var f float64
		if err := d.float(&f); err != nil {
			return err
		}
		fs = append(fs, f)
		if more, err = d.next(']'); err != nil {
			return err
		}
	}
	*dst = fs
	return nil
}

func (d *decoder) floatss(dst *[][]float64) error {
	*dst = nil
	if ok, err := d.null(); ok || err != nil {
		return err
	}
	if d.peek() != '[' {
		return d.kindErr("an array of arrays of numbers")
	}
	more, err := d.open(']')
	if err != nil {
		return err
	}
	fss := [][]float64{}
	for more {
		var fs []float64
		if err := d.floats(&fs); err != nil {
			return err
		}
		fss = append(fss, fs)
		if more, err = d.next(']'); err != nil {
			return err
		}
	}
	*dst = fss
	return nil
}

func (d *decoder) intervals(dst *[][]*string) error {
	*dst = nil
	if ok, err := d.null(); ok || err != nil {
		return err
	}
	if d.peek() != '[' {
		return d.kindErr("an array of intervals")
	}
	more, err := d.open(']')
	if err != nil {
		return err
	}
	ivs := [][]*string{}
	for more {
		var iv []*string
		if ok, err := d.null(); err != nil {
			return err
		} else if !ok {
			if d.peek() != '[' {
				return d.kindErr("an interval array")
			}
			in, err := d.open(']')
			if err != nil {
				return err
			}
			iv = make([]*string, 0, 2)
			for in {
				var end *string
				if ok, err := d.null(); err != nil {
					return err
				} else if !ok {
					end = new(string)
					if err := d.str(end, false); err != nil {
						return err
					}
				}
				iv = append(iv, end)
				if in, err = d.next(']'); err != nil {
					return err
				}
			}
		}
		ivs = append(ivs, iv)
		if more, err = d.next(']'); err != nil {
			return err
		}
	}
	*dst = ivs
	return nil
}

func (d *decoder) int64p(dst **int64) error {
	*dst = nil
	if ok, err := d.null(); ok || err != nil {
		return err
	}
	if c := d.peek(); c != '-' && !isDigit(c) {
		return d.kindErr("an integer")
	}
	num, err := d.number()
	if err != nil {
		return err
	}
	n, err := strconv.ParseInt(string(num), 10, 64)
	if err != nil {
		return fmt.Errorf("number %s is not a 64-bit integer", num)
	}
	*dst = &n
	return nil
}

// rawOrNil reads a RawMessage that is nil for null.
func (d *decoder) rawOrNil(dst *json.RawMessage) error {
	*dst = nil
	if ok, err := d.null(); ok || err != nil {
		return err
	}
	v, err := d.rawValue()
	*dst = v
	return err
}

// ---- values of properties and summaries ----

// anyMap reads an object as encoding/json with UseNumber would.
func (d *decoder) anyMap(dst *map[string]any) error {
	*dst = nil
	if ok, err := d.null(); ok || err != nil {
		return err
	}
	if d.peek() != '{' {
		return d.kindErr("a JSON object")
	}
	m, err := d.anyObject()
	*dst = m
	return err
}

func (d *decoder) anyValue() (any, error) {
	switch c := d.peek(); c {
	case '{':
		return d.anyObject()
	case '[':
		return d.anyArray()
	case '"':
		raw, plain, err := d.scanString()
		if err != nil {
			return nil, err
		}
		if !plain {
			return unquote(raw), nil
		}
		return d.box(&d.boxes, raw, false), nil
	case 't':
		return true, d.literal("true")
	case 'f':
		return false, d.literal("false")
	case 'n':
		return nil, d.literal("null")
	default:
		num, err := d.number()
		if err != nil {
			return nil, err
		}
		return d.box(&d.nums, num, true), nil
	}
}

// box returns b as a string or json.Number in an interface, sharing short
// repeated values (an interface holding a string is immutable).
func (d *decoder) box(table *map[string]any, b []byte, number bool) any {
	if len(b) <= internMax {
		if v, ok := (*table)[string(b)]; ok {
			return v
		}
	}
	s := d.name(b)
	var v any = s
	if number {
		v = json.Number(s)
	}
	if len(b) <= internMax && len(*table) < internLimit {
		if *table == nil {
			*table = make(map[string]any, 64)
		}
		(*table)[s] = v
	}
	return v
}

func (d *decoder) anyObject() (map[string]any, error) {
	more, err := d.open('}')
	if err != nil {
		return nil, err
	}
	mark := len(d.pairs)
	for more {
		key, err := d.key()
		if err != nil {
			return nil, err
		}
		v, err := d.anyValue()
		if err != nil {
			return nil, err
		}
		d.pairs = append(d.pairs, anyMember{d.name(key), v})
		if more, err = d.next('}'); err != nil {
			return nil, err
		}
	}
	top := d.pairs[mark:]
	m := make(map[string]any, len(top))
	for _, p := range top {
		m[p.key] = p.val
	}
	clear(top)
	d.pairs = d.pairs[:mark]
	return m, nil
}

func (d *decoder) anyArray() ([]any, error) {
	more, err := d.open(']')
	if err != nil {
		return nil, err
	}
	mark := len(d.anys)
	for more {
		v, err := d.anyValue()
		if err != nil {
			return nil, err
		}
		d.anys = append(d.anys, v)
		if more, err = d.next(']'); err != nil {
			return nil, err
		}
	}
	a := append(make([]any, 0, len(d.anys)-mark), d.anys[mark:]...)
	clear(d.anys[mark:])
	d.anys = d.anys[:mark]
	return a, nil
}

// ---- slabs ----

// slabSize grows with the document: a landing page gets small slabs, a
// page of items larger ones.
func (d *decoder) slabSize() int {
	d.slab = min(max(4, 2*d.slab), 64)
	return d.slab
}

func (d *decoder) newItem() *Item {
	if len(d.itemSlab) == 0 {
		d.itemSlab = make([]Item, d.slabSize())
	}
	p := &d.itemSlab[0]
	d.itemSlab = d.itemSlab[1:]
	return p
}

func (d *decoder) newLink() *Link {
	if len(d.linkSlab) == 0 {
		d.linkSlab = make([]Link, d.slabSize())
	}
	p := &d.linkSlab[0]
	d.linkSlab = d.linkSlab[1:]
	return p
}

func (d *decoder) newAsset() *Asset {
	if len(d.assetSlab) == 0 {
		d.assetSlab = make([]Asset, d.slabSize())
	}
	p := &d.assetSlab[0]
	d.assetSlab = d.assetSlab[1:]
	return p
}

// list reads an array of pointers to STAC objects; null elements are nil.
func list[T any](d *decoder, dst *[]*T, alloc func() *T, decode func(*T) error) error {
	*dst = nil
	if ok, err := d.null(); ok || err != nil {
		return err
	}
	if d.peek() != '[' {
		return d.kindErr("an array")
	}
	more, err := d.open(']')
	if err != nil {
		return err
	}
	out := []*T{}
	for more {
		var p *T
		if ok, err := d.null(); err != nil {
			return err
		} else if !ok {
			p = alloc()
			if err := decode(p); err != nil {
				return err
			}
		}
		out = append(out, p)
		if more, err = d.next(']'); err != nil {
			return err
		}
	}
	*dst = out
	return nil
}

// ptr reads a pointer to a STAC object; null is nil.
func ptr[T any](d *decoder, dst **T, decode func(*T) error) error {
	*dst = nil
	if ok, err := d.null(); ok || err != nil {
		return err
	}
	p := new(T)
	if err := decode(p); err != nil {
		return err
	}
	*dst = p
	return nil
}

// ---- the STAC types ----

func (d *decoder) links(dst *[]*Link) error { return list(d, dst, d.newLink, d.link) }

func (d *decoder) link(l *Link) error {
	*l = Link{}
	mark := len(d.raws)
	err := d.members(true, func(key []byte) error {
		switch string(key) {
		case "href":
			return d.str(&l.Href, false)
		case "rel":
			return d.str(&l.Rel, true)
		case "type":
			return d.str(&l.Type, true)
		case "title":
			return d.str(&l.Title, false)
		case "method":
			return d.str(&l.Method, true)
		case "headers":
			return d.headers(&l.Headers)
		case "body":
			return d.rawOrNil(&l.Body)
		case "merge":
			// An explicit "merge": false (or null) stays in Extra, so it
			// is written back; of several, the last one counts.
			d.dropRaw(mark, key)
			l.Merge = false
			switch d.peek() {
			case 't':
				l.Merge = true
				return d.literal("true")
			case 'f', 'n':
				return d.extra(key)
			}
			return d.kindErr("a boolean")
		}
		return d.extra(key)
	})
	l.Extra = d.popRaws(mark)
	if err != nil {
		return fmt.Errorf("link: %w", err)
	}
	return nil
}

// dropRaw removes the Extra members named key gathered since mark.
func (d *decoder) dropRaw(mark int, key []byte) {
	top := d.raws[mark:]
	out := top[:0]
	for _, r := range top {
		if r.key != string(key) {
			out = append(out, r)
		}
	}
	clear(top[len(out):])
	d.raws = d.raws[:mark+len(out)]
}

// headers reads a link's headers: each a string or an array of strings.
func (d *decoder) headers(dst *http.Header) error {
	*dst = nil
	if ok, err := d.null(); ok || err != nil {
		return err
	}
	var h http.Header
	err := d.members(true, func(key []byte) error {
		var vals []string
		switch d.peek() {
		case '"', 'n':
			var one string
			if err := d.str(&one, false); err != nil {
				return err
			}
			vals = []string{one}
		case '[':
			if err := d.strs(&vals, false); err != nil {
				return err
			}
		default:
			return errors.New("expected a string or an array of strings")
		}
		if h == nil {
			h = make(http.Header)
		}
		h[string(key)] = vals
		return nil
	})
	if err != nil {
		return err
	}
	if len(h) > 0 {
		*dst = h
	}
	return nil
}

func (d *decoder) assetMap(dst *map[string]*Asset) error {
	*dst = nil
	if ok, err := d.null(); ok || err != nil {
		return err
	}
	if d.peek() != '{' {
		return d.kindErr("an object of assets")
	}
	more, err := d.open('}')
	if err != nil {
		return err
	}
	// Gathered first, for a map of the right size.
	var keys [32]string
	var vals [32]*Asset
	ks, vs := keys[:0], vals[:0]
	for more {
		key, err := d.key()
		if err != nil {
			return err
		}
		var a *Asset
		if ok, err := d.null(); err != nil {
			return err
		} else if !ok {
			a = d.newAsset()
			if err := d.asset(a); err != nil {
				return err
			}
		}
		ks, vs = append(ks, d.name(key)), append(vs, a)
		if more, err = d.next('}'); err != nil {
			return err
		}
	}
	m := make(map[string]*Asset, len(ks))
	for i, k := range ks {
		m[k] = vs[i]
	}
	*dst = m
	return nil
}

func (d *decoder) asset(a *Asset) error {
	*a = Asset{}
	return d.object("asset", &a.Extra, func(key []byte) error {
		switch string(key) {
		case "href":
			return d.str(&a.Href, false)
		case "title":
			return d.str(&a.Title, true)
		case "description":
			return d.str(&a.Description, true)
		case "type":
			return d.str(&a.Type, true)
		case "roles":
			return d.strs(&a.Roles, true)
		}
		return d.extra(key)
	})
}

func (d *decoder) item(it *Item) error {
	*it = Item{}
	mark, start := len(d.raws), d.pos
	err := d.members(true, func(key []byte) error {
		switch string(key) {
		case "type":
			return d.str(&it.Type, true)
		case "stac_version":
			return d.str(&it.Version, true)
		case "stac_extensions":
			return d.strs(&it.Extensions, true)
		case "id":
			return d.str(&it.ID, false)
		case "geometry":
			// Kept as sent, JSON null included.
			v, err := d.rawValue()
			it.Geometry = v
			return err
		case "bbox":
			return d.floats(&it.Bbox)
		case "properties":
			return d.anyMap(&it.Properties)
		case "links":
			return d.links(&it.Links)
		case "assets":
			return d.assetMap(&it.Assets)
		case "collection":
			return d.str(&it.Collection, true)
		}
		return d.extra(key)
	})
	it.Extra = d.popRaws(mark)
	if err != nil {
		return fmt.Errorf("item %q: %w", d.idAt(start, it.ID), err)
	}
	return nil
}

// idAt returns the "id" of the object at start for an error message, when
// the decode failed before reaching it.
func (d *decoder) idAt(start int, id string) string {
	if id != "" {
		return id
	}
	s := &decoder{buf: d.buf, pos: start}
	_ = s.members(false, func(key []byte) error {
		if string(key) == "id" && s.peek() == '"' {
			if v, err := s.stringValue(false); err == nil {
				id = v
				return errors.New("found")
			}
		}
		return s.skip()
	})
	return id
}

func (d *decoder) provider(p *Provider) error {
	*p = Provider{}
	return d.object("provider", &p.Extra, func(key []byte) error {
		switch string(key) {
		case "name":
			return d.str(&p.Name, true)
		case "description":
			return d.str(&p.Description, false)
		case "roles":
			return d.strs(&p.Roles, true)
		case "url":
			return d.str(&p.URL, false)
		}
		return d.extra(key)
	})
}

func (d *decoder) extent(e *Extent) error {
	*e = Extent{}
	return d.object("extent", &e.Extra, func(key []byte) error {
		switch string(key) {
		case "spatial":
			e.Spatial = SpatialExtent{}
			if ok, err := d.null(); ok || err != nil {
				return err
			}
			return d.spatial(&e.Spatial)
		case "temporal":
			e.Temporal = TemporalExtent{}
			if ok, err := d.null(); ok || err != nil {
				return err
			}
			return d.temporal(&e.Temporal)
		}
		return d.extra(key)
	})
}

func (d *decoder) spatial(s *SpatialExtent) error {
	*s = SpatialExtent{}
	return d.object("spatial extent", &s.Extra, func(key []byte) error {
		if string(key) == "bbox" {
			return d.floatss(&s.Bbox)
		}
		return d.extra(key)
	})
}

func (d *decoder) temporal(t *TemporalExtent) error {
	*t = TemporalExtent{}
	return d.object("temporal extent", &t.Extra, func(key []byte) error {
		if string(key) == "interval" {
			return d.intervals(&t.Interval)
		}
		return d.extra(key)
	})
}

func (d *decoder) collection(c *Collection) error {
	*c = Collection{}
	mark, start := len(d.raws), d.pos
	err := d.members(true, func(key []byte) error {
		switch string(key) {
		case "type":
			return d.str(&c.Type, true)
		case "stac_version":
			return d.str(&c.Version, true)
		case "stac_extensions":
			return d.strs(&c.Extensions, true)
		case "id":
			return d.str(&c.ID, false)
		case "title":
			return d.str(&c.Title, false)
		case "description":
			return d.str(&c.Description, false)
		case "keywords":
			return d.strs(&c.Keywords, true)
		case "license":
			return d.str(&c.License, true)
		case "providers":
			return list(d, &c.Providers, func() *Provider { return new(Provider) }, d.provider)
		case "extent":
			return ptr(d, &c.Extent, d.extent)
		case "summaries":
			return d.anyMap(&c.Summaries)
		case "links":
			return d.links(&c.Links)
		case "assets":
			return d.assetMap(&c.Assets)
		}
		return d.extra(key)
	})
	c.Extra = d.popRaws(mark)
	if err != nil {
		return fmt.Errorf("collection %q: %w", d.idAt(start, c.ID), err)
	}
	return nil
}

func (d *decoder) catalog(c *Catalog) error {
	*c = Catalog{}
	mark, start := len(d.raws), d.pos
	err := d.members(true, func(key []byte) error {
		switch string(key) {
		case "type":
			return d.str(&c.Type, true)
		case "stac_version":
			return d.str(&c.Version, true)
		case "stac_extensions":
			return d.strs(&c.Extensions, true)
		case "id":
			return d.str(&c.ID, false)
		case "title":
			return d.str(&c.Title, false)
		case "description":
			return d.str(&c.Description, false)
		case "conformsTo":
			return d.strs(&c.ConformsTo, true)
		case "links":
			return d.links(&c.Links)
		}
		return d.extra(key)
	})
	c.Extra = d.popRaws(mark)
	if err != nil {
		return fmt.Errorf("catalog %q: %w", d.idAt(start, c.ID), err)
	}
	return nil
}

func (d *decoder) context(c *Context) error {
	*c = Context{}
	return d.object("context", &c.Extra, func(key []byte) error {
		switch string(key) {
		case "returned":
			return d.int64p(&c.Returned)
		case "limit":
			return d.int64p(&c.Limit)
		case "matched":
			return d.int64p(&c.Matched)
		case "next":
			return d.rawOrNil(&c.Next)
		}
		return d.extra(key)
	})
}

func (d *decoder) itemCollection(ic *ItemCollection) error {
	*ic = ItemCollection{}
	return d.object("item collection", &ic.Extra, func(key []byte) error {
		switch string(key) {
		case "type":
			return d.str(&ic.Type, true)
		case "features":
			return list(d, &ic.Features, d.newItem, d.item)
		case "links":
			return d.links(&ic.Links)
		case "numberMatched":
			return d.int64p(&ic.NumberMatched)
		case "numberReturned":
			return d.int64p(&ic.NumberReturned)
		case "context":
			return ptr(d, &ic.Context, d.context)
		}
		return d.extra(key)
	})
}

func (d *decoder) collectionsPage(cp *CollectionsPage) error {
	*cp = CollectionsPage{}
	return d.object("collections page", &cp.Extra, func(key []byte) error {
		switch string(key) {
		case "collections":
			return list(d, &cp.Collections, func() *Collection { return new(Collection) }, d.collection)
		case "links":
			return d.links(&cp.Links)
		case "numberMatched":
			return d.int64p(&cp.NumberMatched)
		case "numberReturned":
			return d.int64p(&cp.NumberReturned)
		case "context":
			return ptr(d, &cp.Context, d.context)
		}
		return d.extra(key)
	})
}
