package download

import (
	"errors"
	"fmt"
	"io"
	"iter"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/stacq/stacq/stac"
)

// ReadItems reads STAC items from r as they come: newline-delimited
// GeoJSON (one Feature per line, or any whitespace between them), a
// FeatureCollection (an ItemCollection page, whose features are read one
// at a time), a JSON array of Features, or a single Feature; several
// such values may follow one another. Members of a FeatureCollection
// other than "features" are skipped. The sequence ends at the first
// error, which names the value it happened in.
func ReadItems(r io.Reader) iter.Seq2[*stac.Item, error] {
	return func(yield func(*stac.Item, error) bool) {
		dec := jsontext.NewDecoder(r, jsontext.AllowDuplicateNames(true))
		for n := 1; ; n++ {
			err := readValue(dec, yield)
			switch {
			case err == io.EOF:
				return
			case errors.Is(err, errStop):
				return
			case err != nil:
				yield(nil, fmt.Errorf("items: value %d: %w", n, err))
				return
			}
		}
	}
}

// errStop ends reading when the consumer stops.
var errStop = errors.New("stop")

// readValue reads one top-level value and yields its items.
func readValue(dec *jsontext.Decoder, yield func(*stac.Item, error) bool) error {
	switch dec.PeekKind() {
	case 0:
		if _, err := dec.ReadToken(); err != nil {
			return err // io.EOF at the end, else the syntax error
		}
		return io.EOF
	case '[':
		if _, err := dec.ReadToken(); err != nil {
			return err
		}
		if err := readFeatures(dec, yield); err != nil {
			return err
		}
		_, err := dec.ReadToken()
		return err
	case '{':
	default:
		return fmt.Errorf("expected a Feature or FeatureCollection object, got %v", dec.PeekKind())
	}
	// An object: a FeatureCollection when it has "features" (streamed),
	// else a Feature (its members kept, then decoded).
	if _, err := dec.ReadToken(); err != nil {
		return err
	}
	var members []jsontext.Value // name, value, name, value, …
	collection := false
	for dec.PeekKind() != '}' {
		name, err := dec.ReadValue()
		if err != nil {
			return err
		}
		name = name.Clone() // the next read reuses the decoder's buffer
		if string(name) == `"features"` && dec.PeekKind() == '[' {
			collection = true
			if _, err := dec.ReadToken(); err != nil {
				return err
			}
			if err := readFeatures(dec, yield); err != nil {
				return err
			}
			if _, err := dec.ReadToken(); err != nil {
				return err
			}
			continue
		}
		val, err := dec.ReadValue()
		if err != nil {
			return err
		}
		if !collection {
			members = append(members, name, val.Clone())
		}
	}
	if _, err := dec.ReadToken(); err != nil {
		return err
	}
	if collection {
		return nil
	}
	item, err := decodeMembers(members)
	if err != nil {
		return err
	}
	if !yield(item, nil) {
		return errStop
	}
	return nil
}

// readFeatures yields each Feature of an array, up to its closing bracket.
func readFeatures(dec *jsontext.Decoder, yield func(*stac.Item, error) bool) error {
	for dec.PeekKind() != ']' {
		raw, err := dec.ReadValue()
		if err != nil {
			return err
		}
		item, err := decodeItem(raw)
		if err != nil {
			return err
		}
		if !yield(item, nil) {
			return errStop
		}
	}
	return nil
}

// decodeMembers decodes the members of an object read one by one.
func decodeMembers(members []jsontext.Value) (*stac.Item, error) {
	var buf []byte
	buf = append(buf, '{')
	for i := 0; i < len(members); i += 2 {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, members[i]...)
		buf = append(buf, ':')
		buf = append(buf, members[i+1]...)
	}
	buf = append(buf, '}')
	return decodeItem(buf)
}

func decodeItem(raw []byte) (*stac.Item, error) {
	item := new(stac.Item)
	if err := json.Unmarshal(raw, item, jsontext.AllowDuplicateNames(true)); err != nil {
		return nil, fmt.Errorf("feature: %w", err)
	}
	if item.Type != "Feature" {
		return nil, fmt.Errorf("expected a STAC Item (a Feature), got an object of type %q", clip(item.Type, 40))
	}
	return item, nil
}
