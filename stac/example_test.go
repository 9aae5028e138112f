package stac_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strconv"

	"github.com/stacq/stacq/geo"
	"github.com/stacq/stacq/stac"
)

// exampleAPI is a minimal STAC API for the examples: a landing page and an
// item search of n items, one an hour from 2023-01-01, paged with next
// links that carry an offset.
func exampleAPI(n int) *httptest.Server {
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/":
			fmt.Fprintf(w, `{"type":"Catalog","stac_version":"1.0.0","id":"example","title":"An example API","description":"d",
				"conformsTo":["https://api.stacspec.org/v1.0.0/core","https://api.stacspec.org/v1.0.0/item-search"],
				"links":[{"rel":"search","href":"%s/search","method":"GET"}]}`, srv.URL)
		case "/search":
			limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
			offset, _ := strconv.Atoi(r.URL.Query().Get("offset"))
			fmt.Fprint(w, `{"type":"FeatureCollection","features":[`)
			end := min(offset+max(limit, 1), n)
			for i := offset; i < end; i++ {
				if i > offset {
					fmt.Fprint(w, ",")
				}
				fmt.Fprintf(w, `{"type":"Feature","stac_version":"1.0.0","id":"item-%02d","collection":"sentinel-2-l2a","geometry":null,`+
					`"properties":{"datetime":"2023-01-01T%02d:00:00Z","eo:cloud_cover":%d.50},"links":[],"assets":{}}`, i, i%24, i)
			}
			fmt.Fprintf(w, `],"numberMatched":%d,"links":[`, n)
			if end < n {
				q := r.URL.Query()
				q.Set("offset", strconv.Itoa(end))
				fmt.Fprintf(w, `{"rel":"next","href":"%s/search?%s"}`, srv.URL, q.Encode())
			}
			fmt.Fprint(w, "]}")
		default:
			http.NotFound(w, r)
		}
	}))
	return srv
}

func ExampleOpen() {
	// A local server stands in for, say, https://earth-search.aws.element84.com/v1.
	api := exampleAPI(10)
	defer api.Close()

	ctx := context.Background()
	// The *http.Client is where authentication and request tracing plug in.
	c, err := stac.Open(ctx, api.URL, stac.WithHTTPClient(api.Client()), stac.WithUserAgent("example/1.0"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(c.Landing().Title)
	fmt.Println("item search:", c.Conforms("item-search"))
	fmt.Println("filter:", c.Conforms("filter"))
	// What a search would send that the API does not advertise.
	fmt.Println(c.UnadvertisedSearch(stac.SearchParams{Filter: "eo:cloud_cover < 10"}))

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
	// An example API
	// item search: true
	// filter: false
	// [filter needs the item-search#filter conformance class, which the API does not advertise]
	// true an HTML page (text/html), not a STAC API landing page: "<html><body>Welcome</body></html>"
}

func ExampleClient_Search() {
	api := exampleAPI(100)
	defer api.Close()

	ctx := context.Background()
	c, err := stac.Open(ctx, api.URL, stac.WithHTTPClient(api.Client()))
	if err != nil {
		log.Fatal(err)
	}
	// Values are parsed once, where they enter, and travel typed.
	datetime, err := geo.ParseDatetime("2023-01-01")
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
		// Properties keep the numbers as the server wrote them.
		fmt.Println(item.ID, t.Format("15:04"), item.Properties["eo:cloud_cover"])
	}
	// Output:
	// matched: 100
	// item-00 00:00 0.50
	// item-01 01:00 1.50
	// item-02 02:00 2.50
	// item-03 03:00 3.50
	// item-04 04:00 4.50
	// item-05 05:00 5.50
}

// A listing's pages as the server sent them, items undecoded: what an
// export uses, at the speed of the network.
func ExampleClient_SearchRawPages() {
	api := exampleAPI(25)
	defer api.Close()

	ctx := context.Background()
	c, err := stac.Open(ctx, api.URL, stac.WithHTTPClient(api.Client()))
	if err != nil {
		log.Fatal(err)
	}
	for page, err := range c.SearchRawPages(ctx, stac.SearchParams{Limit: 10}) {
		if err != nil {
			log.Fatal(err)
		}
		matched, _ := page.Matched()
		fmt.Printf("%d items of %d, the first %s; next page: %v\n",
			len(page.Items), matched, page.Items[0].ID, stac.FindLink(page.Links, "next") != nil)
	}
	// Output:
	// 10 items of 25, the first item-00; next page: true
	// 10 items of 25, the first item-10; next page: true
	// 5 items of 25, the first item-20; next page: false
}
