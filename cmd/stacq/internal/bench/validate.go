package main

import (
	"github.com/stacq/stacq/stacparquet"

	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
)

// checkOutput reads a stacq output file and checks that it is valid in its
// format, and that it holds want distinct items (by collection and id).
func checkOutput(path, format string, want int) error {
	if format == "parquet" {
		return checkParquet(path, want)
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<20)
	seen := make(map[string]struct{}, want)
	add := func(raw []byte) error {
		var ft struct {
			Type       string `json:"type"`
			ID         string `json:"id"`
			Collection string `json:"collection"`
		}
		if err := json.Unmarshal(raw, &ft); err != nil {
			return fmt.Errorf("feature %d: %w", len(seen)+1, err)
		}
		if ft.Type != "Feature" || ft.ID == "" {
			return fmt.Errorf("feature %d: not a STAC item: %.80s", len(seen)+1, raw)
		}
		key := ft.Collection + "\x00" + ft.ID
		if _, dup := seen[key]; dup {
			return fmt.Errorf("item %s/%s written twice", ft.Collection, ft.ID)
		}
		seen[key] = struct{}{}
		return nil
	}
	switch format {
	case "ndjson":
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 1<<20), 64<<20)
		for sc.Scan() {
			if err := add(sc.Bytes()); err != nil {
				return err
			}
		}
		if err := sc.Err(); err != nil {
			return err
		}
	default:
		dec := json.NewDecoder(r)
		if err := expectFeatures(dec); err != nil {
			return err
		}
		for dec.More() {
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				return fmt.Errorf("feature %d: %w", len(seen)+1, err)
			}
			if err := add(raw); err != nil {
				return err
			}
		}
		// "]" and "}" and nothing after them.
		for range 2 {
			if _, err := dec.Token(); err != nil {
				return fmt.Errorf("end of FeatureCollection: %w", err)
			}
		}
		if _, err := dec.Token(); !errors.Is(err, io.EOF) {
			return fmt.Errorf("data after the FeatureCollection")
		}
	}
	if len(seen) != want {
		return fmt.Errorf("got %d items, want %d", len(seen), want)
	}
	return nil
}

// expectFeatures reads a FeatureCollection up to the first feature.
func expectFeatures(dec *json.Decoder) error {
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return fmt.Errorf("not a JSON object (%v)", err)
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		if t == "features" {
			if t, err := dec.Token(); err != nil || t != json.Delim('[') {
				return fmt.Errorf("features: not an array (%v)", err)
			}
			return nil
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return err
		}
		if t == "type" && !bytes.Equal(skip, []byte(`"FeatureCollection"`)) {
			return fmt.Errorf("type is %s, not FeatureCollection", skip)
		}
	}
	return fmt.Errorf("no features member")
}

// checkParquet reads a stac-geoparquet file back and checks it holds want
// distinct items.
func checkParquet(path string, want int) error {
	r, err := stacparquet.Open(path)
	if err != nil {
		return err
	}
	defer r.Close()
	if n := r.NumRows(); n != int64(want) {
		return fmt.Errorf("%d rows, want %d", n, want)
	}
	return nil
}
