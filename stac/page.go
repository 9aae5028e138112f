package stac

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// splitPage checks a page body once and splits it into the members of its
// array member (features or collections), without decoding them: they are
// sub-slices of body, appended to items[:0]. The other members are decoded
// into the page's PageInfo. A body with invalid UTF-8 is checked again
// with each bad sequence replaced by U+FFFD.
func splitPage(body []byte, array string, items []RawItem) (*RawPage, error) {
	p, err := splitValid(body, array, items)
	if err != nil && !utf8.Valid(body) {
		fixed := bytes.ToValidUTF8(body, []byte("\uFFFD"))
		if p, err = splitValid(fixed, array, items); err == nil {
			p.InvalidUTF8 = bytes.Count(fixed, []byte("\uFFFD")) - bytes.Count(body, []byte("\uFFFD"))
		}
	}
	return p, err
}

func splitValid(body []byte, array string, items []RawItem) (*RawPage, error) {
	d := jsontext.NewDecoder(bytes.NewBuffer(body), decodeOpts)
	if tok, err := d.ReadToken(); err != nil || tok.Kind() != '{' {
		return nil, orErr(err, "expected a JSON object")
	}
	p := &RawPage{Items: items[:0]}
	rest := []byte{'{'} // the other members, for PageInfo
	for d.PeekKind() != '}' {
		tok, err := d.ReadToken()
		if err != nil {
			return nil, err
		}
		if name := tok.String(); name != array {
			v, err := d.ReadValue()
			if err != nil {
				return nil, err
			}
			if len(rest) > 1 {
				rest = append(rest, ',')
			}
			rest, _ = jsontext.AppendQuote(rest, name)
			rest = append(append(rest, ':'), v...)
			continue
		}
		switch d.PeekKind() {
		case 'n':
			d.ReadToken()
			continue
		case '[':
			d.ReadToken()
		default:
			return nil, fmt.Errorf("field %q: expected an array", array)
		}
		start := d.InputOffset() - 1
		for d.PeekKind() != ']' {
			it, err := splitItem(d, body, p.Items)
			if err != nil {
				return nil, fmt.Errorf("%s %d: %w", array, len(p.Items), err)
			}
			p.Items = append(p.Items, it)
		}
		if _, err := d.ReadToken(); err != nil {
			return nil, err
		}
		p.raw = body[start:d.InputOffset()]
	}
	if _, err := d.ReadToken(); err != nil { // the closing brace
		return nil, err
	}
	if _, err := d.ReadToken(); err == nil {
		return nil, errors.New("expected one JSON object, got more after it")
	} else if !errors.Is(err, io.EOF) {
		return nil, err
	}
	if err := p.decodeInfo(append(rest, '}')); err != nil {
		return nil, err
	}
	if len(p.Items) == 0 {
		p.Items = nil
	}
	return p, nil
}

// splitItem reads one element of the array: an object, whose id and
// collection it reads (the collection shared with the item before when it
// is the same: a page's items mostly share one).
func splitItem(d *jsontext.Decoder, body []byte, before []RawItem) (RawItem, error) {
	kind := d.PeekKind()
	v, err := d.ReadValue()
	if err != nil || kind != '{' {
		return RawItem{}, orErr(err, "expected an object")
	}
	end := int(d.InputOffset())
	it := RawItem{JSON: body[end-len(v) : end], Compact: isCompact(v)}
	var refs struct {
		ID         jsontext.Value `json:"id"`
		Collection jsontext.Value `json:"collection"`
	}
	if err := json.Unmarshal(v, &refs, decodeOpts); err != nil {
		return it, err
	}
	for _, f := range []struct {
		name string
		raw  jsontext.Value
		dst  *string
	}{{"id", refs.ID, &it.ID}, {"collection", refs.Collection, &it.Collection}} {
		if k := f.raw.Kind(); k != 0 && k != 'n' && (k != '"' || json.Unmarshal(f.raw, f.dst) != nil) {
			return it, fmt.Errorf("field %q: expected a string", f.name)
		}
	}
	if len(before) > 0 && it.Collection == before[len(before)-1].Collection {
		it.Collection = before[len(before)-1].Collection
	}
	return it, nil
}

// isCompact reports whether a JSON value holds no line break or tab.
func isCompact(v []byte) bool {
	return bytes.IndexByte(v, '\n') < 0 && bytes.IndexByte(v, '\r') < 0 && bytes.IndexByte(v, '\t') < 0
}

func orErr(err error, msg string) error {
	if err != nil {
		return err
	}
	return errors.New(msg)
}

// decodeInfo decodes obj, the members of a page other than its array as
// one object, into p.PageInfo, its "type" dropped.
func (p *RawPage) decodeInfo(obj []byte) error {
	if err := json.Unmarshal(obj, &p.PageInfo, decodeOpts); err != nil {
		return err
	}
	if delete(p.Extra, "type"); len(p.Extra) == 0 {
		p.Extra = nil
	}
	return nil
}
