package stac_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stacq/stacq/internal/testing/stactest"
	"github.com/stacq/stacq/stac"
)

// The client against the project's local STAC API, in each of its paging
// styles: every item arrives once, in order, whatever the page size.
func TestSearchLocalAPI(t *testing.T) {
	styles := []struct {
		name   string
		opts   stactest.Options
		method string
	}{
		{"GET token links", stactest.Options{Items: 23, NoPost: true}, ""},
		{"POST merge links", stactest.Options{Items: 23}, ""},
		{"POST full-body links", stactest.Options{Items: 23, PostPaging: stactest.PostFull}, ""},
		{"forced GET", stactest.Options{Items: 23}, "GET"},
		{"Sentinel Hub context.next", stactest.Options{Items: 130, SentinelHub: true}, ""},
	}
	for _, st := range styles {
		for _, limit := range []int{0, 7, 23, 500} {
			t.Run(fmt.Sprintf("%s/limit %d", st.name, limit), func(t *testing.T) {
				s := stactest.New(st.opts)
				defer s.Close()
				c, err := stac.Open(context.Background(), s.RootURL(), stac.WithHTTPClient(s.Client()))
				if err != nil {
					t.Fatal(err)
				}
				n := 0
				for it, err := range c.Search(context.Background(), stac.SearchParams{Limit: limit, Method: st.method}) {
					if err != nil {
						t.Fatalf("after %d items: %v", n, err)
					}
					if want := fmt.Sprintf("S2A_%05d_", n); !strings.HasPrefix(it.ID, want) {
						t.Fatalf("item %d has id %q", n, it.ID)
					}
					n++
				}
				want := st.opts.Items
				if n != want {
					t.Errorf("got %d items, want %d", n, want)
				}
				pageSize := limit
				if pageSize == 0 {
					pageSize = 10
				}
				if st.opts.SentinelHub {
					pageSize = min(pageSize, 100)
				}
				wantPages := (want + pageSize - 1) / pageSize
				if got := s.Searches.Load(); got != int64(wantPages) {
					t.Errorf("%d search requests, want %d", got, wantPages)
				}
			})
		}
	}
}
