package auth_test

import (
	"fmt"

	"github.com/stacq/stacq/auth"
)

// Resolve picks the EarthDaily preset from its credentials in the
// environment (or an EDS.env file), and its STAC API as the default URL.
// The resolved method then hands out an authenticating *http.Client.
func ExampleResolve() {
	env := map[string]string{
		"EDS_CLIENT_ID": "my-client-id",
		"EDS_SECRET":    "my-client-secret",
	}
	r, err := auth.Resolve("", auth.Settings{
		Getenv:       func(k string) string { return env[k] },
		NoTokenCache: true,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("provider:", r.Provider)
	fmt.Println("method:  ", r.Method)
	fmt.Println("API:     ", r.APIURL)
	fmt.Println("token:   ", r.TokenURL, "("+r.AuthStyle+")")
	for _, s := range r.Sources {
		if s.Value != "" {
			fmt.Printf("%s = %s (%s)\n", s.What, s.Value, s.From)
		} else {
			fmt.Printf("%s from %s\n", s.What, s.From)
		}
	}
	client := r.Client(nil) // hand this to the STAC client
	_ = client
	// Output:
	// provider: earthdaily
	// method:   client_credentials
	// API:      https://api.earthdaily.com/platform/v1/stac
	// token:    https://auth.earthdaily.com/oauth2/token (basic)
	// provider = earthdaily (credentials present (env EDS_CLIENT_ID))
	// client id = my-client-id (env EDS_CLIENT_ID)
	// client secret from env EDS_SECRET
	// token URL = https://auth.earthdaily.com/oauth2/token (preset earthdaily)
	// auth style = basic (preset earthdaily)
}
