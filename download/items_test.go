package download_test

import (
	"strings"
	"testing"

	"github.com/go-json-experiment/json"

	"github.com/stacq/stacq/download"
)

const feature = `{"type":"Feature","id":"%s","geometry":null,"properties":{"datetime":"2023-01-01T00:00:00Z"},"assets":{"a":{"href":"https://h/a.tif"}}}`

func TestReadItems(t *testing.T) {
	f := func(id string) string { return strings.Replace(feature, "%s", id, 1) }
	tests := map[string]string{
		"ndjson":             f("1") + "\n" + f("2") + "\n" + f("3") + "\n",
		"feature collection": `{"type":"FeatureCollection","numberMatched":3,"features":[` + f("1") + "," + f("2") + "," + f("3") + `],"links":[]}`,
		"features last":      `{"links":[{"rel":"next","href":"x"}],"type":"FeatureCollection","features":[` + f("1") + "," + f("2") + "," + f("3") + `]}`,
		"array":              "[" + f("1") + "," + f("2") + "]\n" + f("3"),
		"collections in a row": `{"type":"FeatureCollection","features":[` + f("1") + `]}` + "\n" +
			`{"type":"FeatureCollection","features":[` + f("2") + "," + f("3") + `]}`,
	}
	for name, input := range tests {
		var ids []string
		for it, err := range download.ReadItems(strings.NewReader(input)) {
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			ids = append(ids, it.ID)
			if it.Assets["a"].Href != "https://h/a.tif" {
				t.Errorf("%s: asset %+v", name, it.Assets["a"])
			}
		}
		if strings.Join(ids, ",") != "1,2,3" {
			t.Errorf("%s: ids %q", name, ids)
		}
	}
	// A single Feature decodes to what json.Unmarshal makes of it.
	var want, got []byte
	for it, err := range download.ReadItems(strings.NewReader(f("x"))) {
		if err != nil {
			t.Fatal(err)
		}
		got, _ = json.Marshal(it)
	}
	for it := range download.ReadItems(strings.NewReader("[" + f("x") + "]")) {
		want, _ = json.Marshal(it)
	}
	if string(got) != string(want) {
		t.Errorf("a Feature read member by member:\n%s\nwant\n%s", got, want)
	}
	for _, bad := range []string{`{"type":"Catalog","id":"c"}`, `42`, f("1") + ` {"type":"Feature"`, `{"features":[1]}`} {
		var err error
		for _, e := range download.ReadItems(strings.NewReader(bad)) {
			if e != nil {
				err = e
			}
		}
		if err == nil {
			t.Errorf("ReadItems(%.40s) gave no error", bad)
		}
	}
	// Stopping early is fine.
	for range download.ReadItems(strings.NewReader(tests["ndjson"])) {
		break
	}
}

func FuzzReadItems(f *testing.F) {
	f.Add(strings.Replace(feature, "%s", "1", 1))
	f.Add(`{"type":"FeatureCollection","features":[` + strings.Replace(feature, "%s", "1", 1) + `]}`)
	f.Add(`[{"type":"Feature","id":"a","properties":{}}, {"type":"Feature","id":"b","properties":null}]`)
	f.Add(`{"features":{"a":1}}`)
	f.Fuzz(func(t *testing.T, input string) {
		n := 0
		for it, err := range download.ReadItems(strings.NewReader(input)) {
			if err != nil {
				return
			}
			if it == nil || it.Type != "Feature" {
				t.Fatalf("item %+v", it)
			}
			if n++; n > len(input) {
				t.Fatal("more items than bytes")
			}
		}
	})
}
