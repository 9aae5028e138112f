// Package recorded loads the items of the recorded STAC API search pages
// (testdata/recorded at the repository root) for the stacparquet tests.
package recorded

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// Items returns the items (compact JSON) of every recorded search page in
// dir, keyed by file name. Files that are not search pages with features
// are left out.
func Items(dir string) (map[string][][]byte, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	out := map[string][][]byte{}
	for _, p := range paths {
		raw, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		var page struct {
			Features []jsontext.Value `json:"features"`
		}
		if json.Unmarshal(raw, &page) != nil || len(page.Features) == 0 {
			continue
		}
		for _, f := range page.Features {
			v := slices.Clone(f)
			if err := v.Compact(); err != nil {
				return nil, fmt.Errorf("%s: %w", p, err)
			}
			out[filepath.Base(p)] = append(out[filepath.Base(p)], v)
		}
	}
	if len(out) < 10 {
		return nil, fmt.Errorf("%s: only %d recorded search pages", dir, len(out))
	}
	return out, nil
}
