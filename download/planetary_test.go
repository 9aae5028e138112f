package download_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stacq/stacq/download"
	"github.com/stacq/stacq/internal/testing/assettest"
	"github.com/stacq/stacq/stac"
)

// A blob host that refuses unsigned requests and tokens revoked before
// their expiry: one token per collection, a new one after a 403.
func TestPlanetaryComputerSigning(t *testing.T) {
	blob := assettest.New(assettest.Options{SAS: true})
	defer blob.Close()
	u, _ := url.Parse(blob.URL)
	var assets = map[string]*stac.Asset{}
	for i := range 6 {
		name := fmt.Sprintf("/container/B%02d.tif", i)
		data := []byte("band " + name)
		blob.Add(name, assettest.File{Data: data})
		assets[fmt.Sprintf("B%02d", i)] = asset(blob.URL+name, data)
	}
	it := newItem("i1", assets)
	pc, err := download.NewPlanetaryComputer(download.PlanetaryComputerConfig{
		SASURL: blob.SASURL(), SubscriptionKey: "sub-key", Hosts: []string{u.Host}})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()

	// Unsigned: refused, with a hint.
	sum, err := run(t, download.Options{Dir: dir}, it)
	if err == nil || !strings.Contains(result(t, sum, "B00").Err.Error(), "AuthenticationFailed") {
		t.Fatalf("unsigned: %v", err)
	}

	if _, err := run(t, download.Options{Dir: dir, Signer: pc}, it); err != nil {
		t.Fatal(err)
	}
	if n := blob.TokenRequests.Load(); n != 1 {
		t.Errorf("%d token requests for one collection, want 1", n)
	}

	// Tokens revoked before their expiry: the first 403 renews, once.
	blob.RevokeSAS()
	blob.Reset()
	sum, err = run(t, download.Options{Dir: dir, Signer: pc, Overwrite: true}, it)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Downloaded != 6 {
		t.Errorf("downloaded %d after the revocation", sum.Downloaded)
	}
	if n := blob.TokenRequests.Load(); n != 1 {
		t.Errorf("%d token requests after the revocation, want 1 shared renewal", n)
	}
	for _, req := range blob.Log() {
		if req.Authorization != "" {
			t.Errorf("a SAS-signed request carried Authorization %q", req.Authorization)
		}
	}
}

// SAS tokens are cached until msft:expiry less the margin, one per
// collection, one request for concurrent callers.
func TestPlanetaryComputerCache(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var requests atomic.Int64
		var keys []string
		sas := &http.Client{Transport: roundTripper(func(r *http.Request) (*http.Response, error) {
			requests.Add(1)
			keys = append(keys, r.URL.Path+" "+r.Header.Get("Ocp-Apim-Subscription-Key"))
			time.Sleep(10 * time.Millisecond) // concurrent callers wait for this one
			body := fmt.Sprintf(`{"msft:expiry": %q, "token": "se=x&sig=%d"}`, time.Now().Add(10*time.Minute).UTC().Format(time.RFC3339), requests.Load())
			return &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(body)), Request: r}, nil
		})}
		pc, err := download.NewPlanetaryComputer(download.PlanetaryComputerConfig{HTTPClient: sas, SubscriptionKey: "k"})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		it := &stac.Item{ID: "i", Collection: "sentinel-2-l2a"}
		href := "https://sentinel2l2a01.blob.core.windows.net/sentinel2-l2/a/B04.tif"
		done := make(chan string, 5)
		for range 5 {
			go func() {
				s, err := pc.Sign(ctx, it, href)
				if err != nil {
					t.Error(err)
				}
				done <- s
			}()
		}
		for range 5 {
			if s := <-done; s != href+"?se=x&sig=1" {
				t.Errorf("signed %q", s)
			}
		}
		if requests.Load() != 1 || keys[0] != "/api/sas/v1/token/sentinel-2-l2a k" {
			t.Fatalf("requests %d %q", requests.Load(), keys)
		}
		time.Sleep(7*time.Minute + 59*time.Second) // still 2 minutes of validity
		pc.Sign(ctx, it, href)
		if requests.Load() != 1 {
			t.Errorf("token replaced %v before its expiry less the margin", 2*time.Minute)
		}
		time.Sleep(2 * time.Second)
		if s, _ := pc.Sign(ctx, it, href); s != href+"?se=x&sig=2" || requests.Load() != 2 {
			t.Errorf("after the margin: %q, %d requests", s, requests.Load())
		}
		// Another collection has its own token; an item without one
		// gets the account/container's.
		pc.Sign(ctx, &stac.Item{Collection: "landsat-c2-l2"}, href)
		pc.Sign(ctx, &stac.Item{}, href)
		if len(keys) != 4 || !strings.HasSuffix(keys[2], "/landsat-c2-l2 k") || !strings.HasSuffix(keys[3], "/sentinel2l2a01/sentinel2-l2 k") {
			t.Errorf("token requests %q", keys)
		}
	})
}

func TestPlanetaryComputerWhatIsSigned(t *testing.T) {
	sas := &http.Client{Transport: roundTripper(func(r *http.Request) (*http.Response, error) {
		body := `{"msft:expiry": "2999-01-01T00:00:00Z", "token": "st=1&se=2&sig=T"}`
		return &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(body)), Request: r}, nil
	})}
	pc, _ := download.NewPlanetaryComputer(download.PlanetaryComputerConfig{HTTPClient: sas})
	it := &stac.Item{Collection: "c"}
	for href, want := range map[string]string{
		"https://acc.blob.core.windows.net/c/x.tif":                    "https://acc.blob.core.windows.net/c/x.tif?st=1&se=2&sig=T",
		"https://acc.blob.core.windows.net/c/x.tif?version=3":          "https://acc.blob.core.windows.net/c/x.tif?version=3&st=1&se=2&sig=T",
		"https://acc.blob.core.windows.net/c/x.tif?sv=1&se=2&sig=OLD":  "https://acc.blob.core.windows.net/c/x.tif?sv=1&se=2&sig=OLD",
		"https://ai4edatasetspublicassets.blob.core.windows.net/t.png": "https://ai4edatasetspublicassets.blob.core.windows.net/t.png",
		"https://example.com/x.tif":                                    "https://example.com/x.tif",
		"s3://bucket/x.tif":                                            "s3://bucket/x.tif",
	} {
		got, err := pc.Sign(context.Background(), it, href)
		if err != nil || got != want {
			t.Errorf("Sign(%s) = %q, %v; want %q", href, got, err, want)
		}
	}
	signed, _ := download.SignItem(context.Background(), pc, &stac.Item{Collection: "c", Assets: map[string]*stac.Asset{
		"a": {Href: "https://acc.blob.core.windows.net/c/a.tif"}, "b": {Href: "https://example.com/b"}}})
	if signed.Assets["a"].Href != "https://acc.blob.core.windows.net/c/a.tif?st=1&se=2&sig=T" || signed.Assets["b"].Href != "https://example.com/b" {
		t.Errorf("SignItem: %q %q", signed.Assets["a"].Href, signed.Assets["b"].Href)
	}
}

func TestPlanetaryComputerErrors(t *testing.T) {
	for status, hint := range map[int]string{401: "PC_SDK_SUBSCRIPTION_KEY", 429: "rate limited", 404: "no collection"} {
		sas := &http.Client{Transport: roundTripper(func(r *http.Request) (*http.Response, error) {
			return &http.Response{StatusCode: status, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(`{"message": "no"}`)), Request: r}, nil
		})}
		pc, _ := download.NewPlanetaryComputer(download.PlanetaryComputerConfig{HTTPClient: sas, SubscriptionKey: "very-secret-key"})
		_, err := pc.Sign(context.Background(), &stac.Item{Collection: "c"}, "https://a.blob.core.windows.net/c/x")
		var he *download.HTTPError
		if !errors.As(err, &he) || he.StatusCode != status || !strings.Contains(err.Error(), hint) {
			t.Errorf("%d: %v, want a hint %q", status, err, hint)
		}
		if err != nil && strings.Contains(err.Error(), "very-secret-key") {
			t.Errorf("the error shows the subscription key: %v", err)
		}
	}
	if _, err := download.NewPlanetaryComputer(download.PlanetaryComputerConfig{Hosts: []string{"[x"}}); err == nil {
		t.Error("a malformed host pattern was accepted")
	}
	env := map[string]string{"PC_SDK_SAS_URL": "http://mirror/token", "PC_SDK_SUBSCRIPTION_KEY": "k", "STACQ_SAS_HOSTS": "a.example, *.b.example"}
	cfg := download.PlanetaryComputerEnv(func(k string) string { return env[k] })
	if cfg.SASURL != "http://mirror/token" || cfg.SubscriptionKey != "k" || len(cfg.Hosts) != 2 || cfg.Hosts[1] != "*.b.example" {
		t.Errorf("from env: %+v", cfg)
	}
}
