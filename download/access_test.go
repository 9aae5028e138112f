package download_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/stacq/stacq/download"
)

func TestRouter(t *testing.T) {
	plain := &http.Client{Transport: &http.Transport{}}
	api := &http.Client{Transport: &http.Transport{}}
	cdse := &http.Client{Transport: &http.Transport{}}
	r := download.NewRouter(plain)
	if err := r.Route(api, "https://api.example.com/v1", "http://127.0.0.1:8080", "assets.example.com"); err != nil {
		t.Fatal(err)
	}
	if err := r.Route(cdse, ".dataspace.copernicus.eu"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		url  string
		want *http.Client
	}{
		{"https://api.example.com/v1/collections/x/items/y/file.tif", api},
		{"https://API.example.com:443/file", api},
		{"http://api.example.com/file", plain},       // downgrade: another origin
		{"https://api.example.com:8443/file", plain}, // another port
		{"https://evil.example.com/file", plain},
		{"https://api.example.com.evil.net/file", plain},
		{"http://127.0.0.1:8080/file", api},
		{"http://127.0.0.1:8081/file", plain},
		{"https://assets.example.com/file", api},
		{"http://assets.example.com/file", plain}, // host names are https only
		{"https://zipper.dataspace.copernicus.eu/odata/v1/Products(x)/$value", cdse},
		{"https://dataspace.copernicus.eu.evil/x", plain},
		// Presigned: never an authenticating client.
		{"https://api.example.com/file?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=abc", plain},
		{"https://api.example.com/file?sv=2021&se=2024-01-01&sig=abc", plain},
		{"https://api.example.com/file?Expires=1700000000&Signature=abc&Key-Pair-Id=K", plain},
	}
	for _, tt := range tests {
		u, _ := url.Parse(tt.url)
		got, auth := r.Client(u)
		name := map[*http.Client]string{plain: "plain", api: "api", cdse: "cdse"}
		// Router returns copies that do not follow redirects: compare
		// the transports they share.
		if got.Transport != tt.want.Transport || (tt.want != plain) != auth {
			t.Errorf("%s: authenticated %v, want the %s client", tt.url, auth, name[tt.want])
		}
		if got.CheckRedirect == nil {
			t.Errorf("%s: the client follows redirects itself", tt.url)
		}
	}
	for _, bad := range []string{"", "ftp://x", "https://", "a/b", "*", "host:80"} {
		if err := download.NewRouter(nil).Route(api, bad); err == nil {
			t.Errorf("Route(%q) accepted", bad)
		}
	}
}

func TestIsPresigned(t *testing.T) {
	for raw, want := range map[string]bool{
		"https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=a&X-Amz-Signature=s": true,
		"https://storage.googleapis.com/b/k?X-Goog-Signature=s":                                              true,
		"https://a.blob.core.windows.net/c/b?sv=1&se=2&sp=r&sig=s":                                           true,
		"https://d.cloudfront.net/k?Expires=1&Signature=s&Key-Pair-Id=k":                                     true,
		"https://h/k?AWSAccessKeyId=a&Expires=1&Signature=s":                                                 true,
		"https://h/k":              false,
		"https://h/k?version=2":    false,
		"https://h/k?token=abc":    false,
		"https://h/k?format=image": false,
	} {
		u, _ := url.Parse(raw)
		if got := download.IsPresigned(u); got != want {
			t.Errorf("IsPresigned(%s) = %v, want %v", raw, got, want)
		}
	}
}
