package crawl_test

import "github.com/stacq/stacq/geo"

// dt parses a datetime filter as the CLI does; it panics on a bad one.
func dt(s string) geo.Interval {
	iv, err := geo.ParseDatetime(s)
	if err != nil {
		panic(err)
	}
	return iv
}
