package geo

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// Format is an output layout for features.
type Format int

const (
	// FormatFeatureCollection writes one compact GeoJSON
	// FeatureCollection: {"type":"FeatureCollection","features":[...]}.
	FormatFeatureCollection Format = iota
	// FormatNDJSON writes newline-delimited GeoJSON: one compact Feature
	// per line, without RFC 8142's record separator, as GDAL's GeoJSONSeq
	// driver, jq and most line-oriented tools expect.
	FormatNDJSON
	// FormatJSON writes a FeatureCollection indented by two spaces, for
	// people to read.
	FormatJSON
)

var formatNames = [...]string{
	FormatFeatureCollection: "geojson",
	FormatNDJSON:            "ndjson",
	FormatJSON:              "json",
}

// String returns the name ParseFormat accepts.
func (f Format) String() string {
	if f >= 0 && int(f) < len(formatNames) {
		return formatNames[f]
	}
	return fmt.Sprintf("Format(%d)", int(f))
}

// ParseFormat parses a format name: "geojson", "ndjson" or "json".
func ParseFormat(name string) (Format, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	for f, s := range formatNames {
		if n == s {
			return Format(f), nil
		}
	}
	return 0, inputError(name, fmt.Sprintf(`unknown format %q; expected "geojson" (FeatureCollection), "ndjson" (one feature per line) or "json" (indented FeatureCollection)`, shorten(name)), nil)
}

var extFormats = map[string]Format{
	".geojson":  FormatFeatureCollection,
	".json":     FormatFeatureCollection,
	".ndjson":   FormatNDJSON,
	".geojsonl": FormatNDJSON,
	".geojsons": FormatNDJSON,
	".jsonl":    FormatNDJSON,
}

// FormatForPath infers the format from an output file's extension:
// .geojson and .json give a FeatureCollection; .ndjson, .geojsonl,
// .geojsons and .jsonl give newline-delimited GeoJSON.
func FormatForPath(path string) (Format, error) {
	ext := strings.ToLower(filepath.Ext(path))
	if f, ok := extFormats[ext]; ok {
		return f, nil
	}
	got := fmt.Sprintf("extension %q", ext)
	if ext == "" {
		got = fmt.Sprintf("%q, which has no extension", shorten(filepath.Base(path)))
	}
	return 0, inputError(path, fmt.Sprintf("cannot tell the output format from %s; "+
		"expected .geojson or .json (FeatureCollection), or .ndjson, .geojsonl, .geojsons or .jsonl (one feature per line)",
		got), nil)
}

// FeatureWriter writes features one at a time.
type FeatureWriter interface {
	// Write writes one feature: any value encoding/json/v2 marshals to a
	// JSON object. A jsontext.Value (or json.RawMessage) is checked and
	// its insignificant whitespace removed (or re-indented for
	// FormatJSON), nothing else of it changes: strings and numbers stay as
	// written; a CompactJSON is copied as is. Pointers to either are taken
	// as they are, and spare the allocation of putting a slice in an
	// interface.
	Write(feature any) error
	// Close completes the document (for a FeatureCollection, its closing
	// brackets, so the output is valid even after zero features). It
	// does not close the underlying io.Writer.
	Close() error
}

// CompactJSON is a feature's JSON text that its producer has already
// checked to be one valid JSON object on one line (no line breaks or tabs
// between tokens), such as an item a client split from a page it
// validated. A FeatureWriter copies it as is instead of checking and
// compacting it again (FormatJSON still indents it). Text that is not
// valid and on one line makes invalid output: when in doubt, pass a
// jsontext.Value.
type CompactJSON []byte

// ErrClosed is returned by Write after Close.
var ErrClosed = errors.New("geo: write to a closed FeatureWriter")

// NewWriter returns a FeatureWriter that streams features to w in format
// f. Each Write makes one call to w.Write with the whole feature, so
// nothing is held back beyond the feature being written; callers who want
// fewer, larger writes wrap w in a bufio.Writer (and flush it after
// Close). The first error from w is returned by every later call. A
// FeatureWriter is not safe for concurrent use.
func NewWriter(w io.Writer, f Format) FeatureWriter {
	return &featureWriter{w: w, format: f}
}

type featureWriter struct {
	w      io.Writer
	format Format
	buf    bytes.Buffer // the bytes of one Write
	n      int          // features written
	closed bool
	err    error // sticky: once w fails the output is broken
}

const (
	fcOpen         = `{"type":"FeatureCollection","features":[`
	fcClose        = "]}\n"
	fcOpenIndent   = "{\n  \"type\": \"FeatureCollection\",\n  \"features\": ["
	fcCloseIndent  = "\n  ]\n}\n"
	fcEmptyIndent  = "{\n  \"type\": \"FeatureCollection\",\n  \"features\": []\n}\n"
	featureIndent  = "    "
	featureNewline = "\n" + featureIndent
)

func (fw *featureWriter) Write(feature any) error {
	if fw.err != nil {
		return fw.err
	}
	if fw.closed {
		return ErrClosed
	}
	if fw.format != FormatJSON {
		switch c := feature.(type) {
		case CompactJSON:
			return fw.writeCompact(c)
		case *CompactJSON:
			if c != nil {
				return fw.writeCompact(*c)
			}
		}
	}
	raw, err := fw.marshal(feature)
	if err != nil {
		return err
	}
	if len(raw) == 0 || raw[0] != '{' {
		return fmt.Errorf("geo: a feature must encode to a JSON object, got %s", shorten(string(raw)))
	}
	fw.buf.Reset()
	switch fw.format {
	case FormatNDJSON:
		err = fw.compact(raw)
		fw.buf.WriteByte('\n')
	case FormatJSON:
		if fw.n == 0 {
			fw.buf.WriteString(fcOpenIndent)
		} else {
			fw.buf.WriteByte(',')
		}
		fw.buf.WriteString(featureNewline)
		err = fw.format1(raw, jsontext.Multiline(true), jsontext.WithIndentPrefix(featureIndent), jsontext.WithIndent("  "))
	default:
		if fw.n == 0 {
			fw.buf.WriteString(fcOpen)
		} else {
			fw.buf.WriteByte(',')
		}
		err = fw.compact(raw)
	}
	if err != nil {
		return fmt.Errorf("geo: invalid feature JSON: %w", err)
	}
	if _, err := fw.w.Write(fw.buf.Bytes()); err != nil {
		fw.err = err
		return err
	}
	fw.n++
	return nil
}

// writeCompact writes a feature that needs no checking or compacting.
func (fw *featureWriter) writeCompact(raw CompactJSON) error {
	if len(raw) == 0 || raw[0] != '{' {
		return fmt.Errorf("geo: a feature must encode to a JSON object, got %s", shorten(string(raw)))
	}
	fw.buf.Reset()
	switch fw.format {
	case FormatNDJSON:
		fw.buf.Write(raw)
		fw.buf.WriteByte('\n')
	default:
		if fw.n == 0 {
			fw.buf.WriteString(fcOpen)
		} else {
			fw.buf.WriteByte(',')
		}
		fw.buf.Write(raw)
	}
	if _, err := fw.w.Write(fw.buf.Bytes()); err != nil {
		fw.err = err
		return err
	}
	fw.n++
	return nil
}

// compact appends raw to fw.buf without insignificant whitespace, after
// checking it.
func (fw *featureWriter) compact(raw []byte) error {
	return fw.format1(raw)
}

// format1 appends raw to fw.buf formatted with opts (compact by default),
// after checking it; strings and numbers are kept as written.
func (fw *featureWriter) format1(raw []byte, opts ...jsontext.Options) error {
	v := jsontext.Value(append(fw.buf.AvailableBuffer(), raw...))
	if err := v.Format(append([]jsontext.Options{jsontext.AllowDuplicateNames(true), jsontext.PreserveRawStrings(true)}, opts...)...); err != nil {
		return err
	}
	fw.buf.Write(v)
	return nil
}

// marshal encodes v; raw JSON is returned as is, to be checked and
// compacted by the caller in one pass.
func (fw *featureWriter) marshal(v any) ([]byte, error) {
	switch v := v.(type) {
	case CompactJSON: // FormatJSON: indented, which checks it
		return v, nil
	case *CompactJSON:
		if v != nil {
			return *v, nil
		}
	case jsontext.Value:
		return bytes.TrimSpace(v), nil
	case *jsontext.Value:
		if v != nil {
			return bytes.TrimSpace(*v), nil
		}
	case json.RawMessage:
		return bytes.TrimSpace(v), nil
	case *json.RawMessage:
		if v != nil {
			return bytes.TrimSpace(*v), nil
		}
	}
	// nil maps and slices as null, as encoding/json writes them.
	b, err := jsonv2.Marshal(v, jsonv2.Deterministic(true), jsonv2.FormatNilMapAsNull(true), jsonv2.FormatNilSliceAsNull(true))
	if err != nil {
		return nil, fmt.Errorf("geo: encode feature: %w", err)
	}
	return b, nil
}

func (fw *featureWriter) Close() error {
	if fw.err != nil {
		return fw.err
	}
	if fw.closed {
		return nil
	}
	fw.closed = true
	var tail string
	switch fw.format {
	case FormatNDJSON:
		return nil
	case FormatJSON:
		tail = fcCloseIndent
		if fw.n == 0 {
			tail = fcEmptyIndent
		}
	default:
		tail = fcClose
		if fw.n == 0 {
			tail = fcOpen + fcClose
		}
	}
	if _, err := io.WriteString(fw.w, tail); err != nil {
		fw.err = err
		return err
	}
	return nil
}
