package stacparquet

import (
	"maps"
	"slices"
	"testing"
)

// TestRoundTripRecorded writes the items of every recorded search page to
// stac-geoparquet and reads them back: each must come back as the package
// documentation says (semantically equal, up to the listed exceptions).
func TestRoundTripRecorded(t *testing.T) {
	pages := recordedItems(t)
	for _, name := range slices.Sorted(maps.Keys(pages)) {
		items := pages[name]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			path, _ := writeFile(t, items, WriterOptions{RowGroupSize: 7})
			checkRoundTrip(t, items, readAll(t, path, Filter{}))
		})
	}
}

// TestRoundTripAllRecordedInOneFile writes every recorded item, of many
// collections and property sets, into one file: one schema must hold them
// all.
func TestRoundTripAllRecordedInOneFile(t *testing.T) {
	pages := recordedItems(t)
	var items [][]byte
	for _, name := range slices.Sorted(maps.Keys(pages)) {
		items = append(items, pages[name]...)
	}
	path, stats := writeFile(t, items, WriterOptions{})
	for _, w := range stats.Warnings() {
		t.Log("warning:", w)
	}
	checkRoundTrip(t, items, readAll(t, path, Filter{}))
}
