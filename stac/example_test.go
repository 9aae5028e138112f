package stac_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/stacq/stacq/geo"
	"github.com/stacq/stacq/internal/testing/stactest"
	"github.com/stacq/stacq/stac"
)

func ExampleOpen() {
	// A local STAC API stands in for, say, https://earth-search.aws.element84.com/v1.
	api := stactest.New(stactest.Options{})
	defer api.Close()

	ctx := context.Background()
	// The *http.Client is where authentication and request tracing plug in.
	c, err := stac.Open(ctx, api.RootURL(), stac.WithHTTPClient(api.Client()), stac.WithUserAgent("example/1.0"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(c.Landing().Title)
	fmt.Println("item search:", c.Conforms("item-search"))
	fmt.Println("filter:", c.Conforms("filter"))

	// A URL that is not a STAC API says what it is instead.
	page := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, "<html><body>Welcome</body></html>")
	}))
	defer page.Close()
	_, err = stac.Open(ctx, page.URL)
	var notSTAC *stac.NotSTACError
	fmt.Println(errors.As(err, &notSTAC), notSTAC.Reason)
	// Output:
	// stacq test API
	// item search: true
	// filter: false
	// true an HTML page (text/html), not a STAC API landing page: "<html><body>Welcome</body></html>"
}

func ExampleClient_Search() {
	api := stactest.New(stactest.Options{Items: 100, Collections: []string{"sentinel-2-l2a", "landsat-c2-l2"}})
	defer api.Close()

	ctx := context.Background()
	c, err := stac.Open(ctx, api.RootURL(), stac.WithHTTPClient(api.Client()))
	if err != nil {
		log.Fatal(err)
	}
	datetime, err := geo.ParseDatetime("2023-01-01/2023-01-02")
	if err != nil {
		log.Fatal(err)
	}
	params := stac.SearchParams{
		Collections: []string{"sentinel-2-l2a"},
		Datetime:    datetime,
		Limit:       4, // page size: the client follows the next links
	}
	n, err := c.Matched(ctx, params)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("matched:", n)
	// The client stops requesting pages once 6 items came.
	for item, err := range c.Search(ctx, params, stac.WithMaxItems(6)) {
		if err != nil {
			log.Fatal(err)
		}
		t, _ := item.Datetime()
		fmt.Println(item.ID[:9], item.Collection, t.Format("2006-01-02 15:04"))
	}
	// Output:
	// matched: 19
	// S2A_00000 sentinel-2-l2a 2023-01-01 10:30
	// S2A_00002 sentinel-2-l2a 2023-01-01 12:30
	// S2A_00004 sentinel-2-l2a 2023-01-01 14:30
	// S2A_00006 sentinel-2-l2a 2023-01-01 16:30
	// S2A_00008 sentinel-2-l2a 2023-01-01 18:30
	// S2A_00010 sentinel-2-l2a 2023-01-01 20:30
}
