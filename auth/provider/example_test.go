package provider_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/stacq/stacq/auth/provider"
	"github.com/stacq/stacq/crawl"
	"github.com/stacq/stacq/retry"
)

// Resolve picks the EarthDaily preset from its credentials in the
// environment (or an EDS.env file), and its STAC API as the default URL.
// The resolved method then hands out an authenticating *http.Client.
func ExampleResolve() {
	env := map[string]string{
		"EDS_CLIENT_ID": "my-client-id",
		"EDS_SECRET":    "my-client-secret",
	}
	r, err := provider.Resolve("", provider.Settings{
		Getenv: func(k string) string { return env[k] },
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("provider:", r.Provider)
	fmt.Println("method:  ", r.Method)
	fmt.Println("API:     ", r.APIURL)
	for _, s := range r.Sources {
		if s.Value != "" {
			fmt.Printf("%s = %s (%s)\n", s.What, s.Value, s.From)
		} else {
			fmt.Printf("%s from %s\n", s.What, s.From)
		}
	}
	client := r.Client() // hand this to the STAC client
	_ = client
	// Output:
	// provider: earthdaily
	// method:   client_credentials
	// API:      https://api.earthdaily.com/platform/v1/stac
	// provider = earthdaily (credentials present (env EDS_CLIENT_ID))
	// client id = my-client-id (env EDS_CLIENT_ID)
	// client secret from env EDS_SECRET
	// token URL = https://api.earthdaily.com/account_management/v1/authentication/api_tokens/exchange (preset earthdaily)
	// auth style = basic (preset earthdaily)
}

// Crawl EarthDaily's catalog with the credentials of the environment or
// an EDS.env file: retries on (token and API requests alike, and pages
// cut short), the token cached between runs.
func Example_crawlEarthDaily() {
	ctx := context.Background()
	cache, _, _ := provider.DefaultCacheDir(os.Getenv)
	r, err := provider.Resolve("", provider.Settings{Getenv: os.Getenv, Dir: ".", CacheDir: cache, Retry: &retry.Policy{}})
	if err != nil {
		log.Fatal(err)
	}
	opts := crawl.Options{HTTPClient: r.Client(), MaxItems: 100}
	for res, err := range crawl.Crawl(ctx, r.APIURL, opts) {
		if err != nil {
			log.Print(err)
			continue
		}
		fmt.Println(res.Kind, res.ID)
	}
}
