package stac

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// A page is read in two stages, so that the next request can go out while
// a page's items are still being checked: scanPage finds, in the fetching
// goroutine, the array of items and reads the page's other members (its
// links say what to fetch next) without looking inside the items; split
// then checks and splits the items, in the caller's goroutine, while the
// next page is on its way. jsontext checks every byte it reads and has no
// way to skip a value without checking it, so the scan is the one piece of
// JSON reading stacq writes itself: it only matches brackets and quotes
// (see BenchmarkPageScan).

var errScan = errors.New("not a JSON page")

// scanPage reads the structure of a page: its array member (features or
// collections) found and its elements counted, its other members decoded
// (and checked) into PageInfo. The items are split by split. A body the
// scan cannot read is read by splitPage, for a precise error.
func scanPage(body []byte, array string) (*RawPage, error) {
	p, err := scanTop(body, array)
	if err != nil {
		if _, verr := splitPage(body, array, nil); verr != nil {
			return nil, verr
		}
		return nil, err
	}
	return p, nil
}

func scanTop(b []byte, array string) (*RawPage, error) {
	p := &RawPage{}
	i := skipSpace(b, 0)
	if i == len(b) || b[i] != '{' {
		return nil, errScan
	}
	rest := []byte{'{'} // the other members, for PageInfo
	for first := true; ; first = false {
		i = skipSpace(b, i+1)
		if i == len(b) {
			return nil, io.ErrUnexpectedEOF
		}
		if b[i] == '}' {
			break
		}
		if !first {
			if b[i] != ',' {
				return nil, errScan
			}
			i = skipSpace(b, i+1)
		}
		if i == len(b) || b[i] != '"' {
			return nil, errScan
		}
		end, err := skipString(b, i)
		if err != nil {
			return nil, err
		}
		key := b[i:end]
		i = skipSpace(b, end)
		if i == len(b) || b[i] != ':' {
			return nil, errScan
		}
		start := skipSpace(b, i+1)
		end, n, err := skipValue(b, start)
		if err != nil {
			return nil, err
		}
		if bytes.IndexByte(key, '\\') >= 0 {
			if k, err := jsontext.AppendUnquote(nil, key); err == nil {
				key = append(append([]byte{'"'}, k...), '"')
			}
		}
		switch {
		case len(key) == len(array)+2 && string(key[1:len(key)-1]) == array:
			switch b[start] {
			case '[':
				p.raw, p.count = b[start:end], n
			case 'n':
				if string(b[start:end]) != "null" {
					return nil, errScan
				}
			default:
				return nil, fmt.Errorf("field %q: expected an array", array)
			}
		default:
			if len(rest) > 1 {
				rest = append(rest, ',')
			}
			rest = append(append(append(rest, key...), ':'), b[start:end]...)
		}
		i = end - 1
	}
	if skipSpace(b, i+1) != len(b) {
		return nil, errScan
	}
	rest = append(rest, '}')
	err := json.Unmarshal(rest, &p.PageInfo, decodeOpts)
	if err != nil && !utf8Valid(rest) {
		fixed := bytes.ToValidUTF8(rest, []byte("\uFFFD"))
		if err = json.Unmarshal(fixed, &p.PageInfo, decodeOpts); err == nil {
			p.InvalidUTF8 = bytes.Count(fixed, []byte("\uFFFD")) - bytes.Count(rest, []byte("\uFFFD"))
		}
	}
	if err != nil {
		return nil, err
	}
	if delete(p.Extra, "type"); len(p.Extra) == 0 {
		p.Extra = nil
	}
	return p, nil
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\r' || b[i] == '\t') {
		i++
	}
	return i
}

// skipString returns the end of the string that starts at b[i].
func skipString(b []byte, i int) (int, error) {
	for j := i + 1; ; {
		k := bytes.IndexByte(b[j:], '"')
		if k < 0 {
			return 0, io.ErrUnexpectedEOF
		}
		j += k
		escapes := 0
		for e := j - 1; e > i && b[e] == '\\'; e-- {
			escapes++
		}
		if escapes%2 == 0 {
			return j + 1, nil
		}
		j++
	}
}

// skipValue returns the end of the value that starts at b[i] and, for an
// array, the number of its elements.
func skipValue(b []byte, i int) (end, n int, err error) {
	if i == len(b) {
		return 0, 0, io.ErrUnexpectedEOF
	}
	switch b[i] {
	case '"':
		end, err := skipString(b, i)
		return end, 0, err
	case '{', '[':
	default:
		j := i
		for j < len(b) && !bytes.ContainsRune([]byte(",}] \t\r\n"), rune(b[j])) {
			j++
		}
		if j == i {
			return 0, 0, errScan
		}
		return j, 0, nil
	}
	array := b[i] == '['
	if array && skipSpace(b, i+1) < len(b) && b[skipSpace(b, i+1)] != ']' {
		n = 1
	}
	depth := 0
	for j := i; j < len(b); j++ {
		switch b[j] {
		case '"':
			e, err := skipString(b, j)
			if err != nil {
				return 0, 0, err
			}
			j = e - 1
		case '{', '[':
			depth++
		case '}', ']':
			if depth--; depth == 0 {
				return j + 1, n, nil
			}
		case ',':
			if array && depth == 1 {
				n++
			}
		}
	}
	return 0, 0, io.ErrUnexpectedEOF
}

// split checks and splits the items the scan found into p.Items, appended
// to items[:0]; they are sub-slices of the page's body. Invalid UTF-8 is
// replaced by U+FFFD, in a copy of the array.
func (p *RawPage) split(array string, items []RawItem) error {
	p.Items = items[:0]
	if p.raw == nil {
		p.Items = nil
		return nil
	}
	err := p.splitArray(p.raw, array)
	if err != nil && !utf8Valid(p.raw) {
		fixed := bytes.ToValidUTF8(p.raw, []byte("\uFFFD"))
		p.Items = p.Items[:0]
		if err = p.splitArray(fixed, array); err == nil {
			p.InvalidUTF8 += bytes.Count(fixed, []byte("\uFFFD")) - bytes.Count(p.raw, []byte("\uFFFD"))
		}
	}
	if err != nil {
		return err
	}
	if len(p.Items) == 0 {
		p.Items = nil
	}
	return nil
}

func (p *RawPage) splitArray(arr []byte, array string) error {
	d := jsontext.NewDecoder(bytes.NewBuffer(arr), decodeOpts)
	if _, err := d.ReadToken(); err != nil {
		return err
	}
	for d.PeekKind() != ']' {
		it, err := splitItem(d, arr, p.Items)
		if err != nil {
			return fmt.Errorf("%s %d: %w", array, len(p.Items), err)
		}
		p.Items = append(p.Items, it)
	}
	_, err := d.ReadToken()
	return err
}
