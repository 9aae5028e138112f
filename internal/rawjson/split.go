package rawjson

// Splitter splits a JSON object holding an array of objects, such as a
// GeoJSON FeatureCollection, in one checking pass: every byte of the text
// is checked once, each element of the array named Array is handed on
// with the top-level members of that element found along the way, and
// the object's other members are handed on whole. A search page is split
// this way without scanning its items a second time to find them, and a
// third to read their ids.
type Splitter struct {
	// Array names the member whose elements go to Element; when its value
	// is not an array it goes to Member like any other. Empty: none.
	Array string
	// Member sees each other member of the top-level object: the key
	// (decoded, sharing the text's memory unless it had escapes) and the
	// raw, checked value.
	Member func(key, value []byte) error
	// ElementMember, when set, sees each member of an element of Array
	// that is an object, as it is checked, before Element sees the
	// element; it cannot fail (record a problem and report it from
	// Element).
	ElementMember func(key, value []byte)
	// Element sees each element of Array once it is checked; compact is
	// true when the element has no insignificant whitespace, so it is
	// already what AppendCompact would write.
	Element func(value []byte, compact bool) error
}

// Split checks src and calls the Splitter's functions in the order of the
// text; a syntax error is returned after the functions have seen what
// came before it. It stops at a function's first error and returns it.
func (sp *Splitter) Split(src []byte) error {
	s := scanner{b: src}
	i := s.space(0)
	if i >= len(src) || src[i] != '{' {
		return s.kindError(i, "an object")
	}
	s.depth = 1
	i = s.space(i + 1)
	if i < len(src) && src[i] == '}' {
		return s.end(i + 1)
	}
	for {
		if i >= len(src) || src[i] != '"' {
			return s.errAt(i, "looking for beginning of object key string")
		}
		kend, err := s.str(i)
		if err != nil {
			return err
		}
		key, err := Unquote(src[i:kend])
		if err != nil {
			return err
		}
		i = s.space(kend)
		if i >= len(src) || src[i] != ':' {
			return s.errAt(i, "after object key")
		}
		i = s.space(i + 1)
		var vend int
		if sp.Array != "" && string(key) == sp.Array && i < len(src) && src[i] == '[' {
			vend, err = sp.elements(&s, i)
		} else {
			if vend, err = s.value(i); err == nil && sp.Member != nil {
				err = sp.Member(key, src[i:vend])
			}
		}
		if err != nil {
			return err
		}
		i = s.space(vend)
		if i >= len(src) {
			return s.errAt(i, "")
		}
		switch src[i] {
		case ',':
			i = s.space(i + 1)
		case '}':
			return s.end(i + 1)
		default:
			return s.errAt(i, "after object key:value pair")
		}
	}
}

// elements checks the array starting at i (depth 1: a member of the
// top-level object), handing each element on, and returns the index after
// it.
func (sp *Splitter) elements(s *scanner, i int) (int, error) {
	src := s.b
	s.depth = 2
	if sp.ElementMember != nil {
		s.hookDepth, s.hook = 3, sp.ElementMember
		defer func() { s.hookDepth, s.hook = 0, nil }()
	}
	i = s.space(i + 1)
	if i < len(src) && src[i] == ']' {
		s.depth = 1
		return i + 1, nil
	}
	for {
		s.spaced = false
		end, err := s.value(i)
		if err != nil {
			return end, err
		}
		if sp.Element != nil {
			if err := sp.Element(src[i:end], !s.spaced); err != nil {
				return end, err
			}
		}
		i = s.space(end)
		if i >= len(src) {
			return i, s.errAt(i, "")
		}
		switch src[i] {
		case ',':
			i = s.space(i + 1)
		case ']':
			s.depth = 1
			return i + 1, nil
		default:
			return i, s.errAt(i, "after array element")
		}
	}
}
