package crawl_test

import (
	"context"
	"fmt"
	"log"

	"github.com/stacq/stacq/crawl"
	"github.com/stacq/stacq/geo"
)

// Crawl a static catalog on disk. The same call takes the URL of a
// catalog.json on a web server, or of a STAC API's landing page.
func ExampleCrawler_Crawl() {
	june, err := geo.ParseDatetime("2018-06")
	if err != nil {
		log.Fatal(err)
	}
	c := crawl.New(crawl.Options{
		// One worker yields resources in the order the walk finds them,
		// breadth first; more workers yield them as they arrive.
		Concurrency: 1,
		// Keep the items of June 2018 only. A STAC API filters on the
		// server; for a static catalog the crawler filters itself.
		Datetime: june,
	})
	for r, err := range c.Crawl(context.Background(), "../testdata/catalogs/pystac") {
		if err != nil {
			// A *crawl.ResourceError names one broken link or page;
			// the crawl goes on after it.
			log.Print(err)
			continue
		}
		fmt.Println(r.Kind, r.ID)
	}
	fmt.Printf("%+v\n", c.Stats())
	// Output:
	// catalog landsat-stac-collection-catalog
	// collection landsat-8-l1
	// item LC80140332018166LGN00
	// item LC80300332018166LGN00
	// {Catalogs:1 Collections:1 Items:2 Errors:0}
}
