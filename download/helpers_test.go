package download_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"iter"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/stacq/stacq/download"
	"github.com/stacq/stacq/stac"
)

// asset is an asset with href, and the file extension's fields when
// data is given.
func asset(href string, data []byte) *stac.Asset {
	a := &stac.Asset{Href: href, Type: "image/tiff; application=geotiff", Roles: []string{"data"}, Extra: stac.Members{}}
	if data != nil {
		sum := sha256.Sum256(data)
		a.Extra["file:checksum"] = jsontext.Value(`"1220` + hex.EncodeToString(sum[:]) + `"`)
		a.Extra["file:size"] = jsontext.Value(strconv.Itoa(len(data)))
	}
	return a
}

func newItem(id string, assets map[string]*stac.Asset) *stac.Item {
	return &stac.Item{Type: "Feature", Version: "1.0.0", ID: id, Collection: "col",
		Geometry:   jsontext.Value(`{"type":"Point","coordinates":[1,2]}`),
		Properties: stac.Properties{"datetime": jsontext.Value(`"2023-06-01T10:30:00Z"`)},
		Assets:     assets}
}

func seq(items ...*stac.Item) iter.Seq2[*stac.Item, error] {
	return func(yield func(*stac.Item, error) bool) {
		for _, it := range items {
			if !yield(it, nil) {
				return
			}
		}
	}
}

// run downloads items into a new directory with opts (Dir set).
func run(t *testing.T, opts download.Options, items ...*stac.Item) (*download.Summary, error) {
	t.Helper()
	if opts.Dir == "" {
		opts.Dir = t.TempDir()
	}
	d, err := download.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return d.Run(context.Background(), seq(items...))
}

// result returns the result of asset key.
func result(t *testing.T, s *download.Summary, key string) *download.Result {
	t.Helper()
	for _, r := range s.Results {
		if r.Asset == key {
			return r
		}
	}
	t.Fatalf("no result for asset %s in %d results", key, len(s.Results))
	return nil
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// bearerClient adds the token to every request, wherever it goes: the
// Router must keep it from hosts it does not belong to.
func bearerClient(base http.RoundTripper, token string) *http.Client {
	return &http.Client{Transport: roundTripper(func(r *http.Request) (*http.Response, error) {
		r = r.Clone(r.Context())
		r.Header.Set("Authorization", "Bearer "+token)
		return base.RoundTrip(r)
	})}
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func dest(dir string, parts ...string) string {
	return filepath.Join(append([]string{dir}, parts...)...)
}
