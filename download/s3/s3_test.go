package s3_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stacq/stacq/download"
	"github.com/stacq/stacq/download/s3"
	"github.com/stacq/stacq/internal/testing/assettest"
	"github.com/stacq/stacq/stac"
)

func newFakeS3(t *testing.T, objects map[string][]byte) *assettest.S3 {
	t.Helper()
	srv, err := assettest.NewS3(objects)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv
}

// env points the AWS SDK at srv, with credentials or none at all.
func env(t *testing.T, endpoint string, credentials bool) {
	dir := t.TempDir()
	t.Setenv("AWS_ENDPOINT_URL_S3", endpoint)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	t.Setenv("AWS_SESSION_TOKEN", "")
	if credentials {
		t.Setenv("AWS_ACCESS_KEY_ID", "AKIDTEST")
		t.Setenv("AWS_SECRET_ACCESS_KEY", "test-secret-key")
	}
}

func getAll(t *testing.T, opts s3.Options, assets map[string]string) (*download.Summary, error, string) {
	t.Helper()
	g := s3.New(opts)
	item := &stac.Item{Type: "Feature", ID: "i1", Collection: "c", Assets: map[string]*stac.Asset{}}
	for k, href := range assets {
		item.Assets[k] = &stac.Asset{Href: href}
	}
	dir := t.TempDir()
	d, err := download.New(download.Options{Dir: dir, S3: g, Layout: mustLayout(t, "{asset}")})
	if err != nil {
		t.Fatal(err)
	}
	sum, err := d.Run(context.Background(), func(yield func(*stac.Item, error) bool) { yield(item, nil) })
	return sum, err, dir
}

func mustLayout(t *testing.T, s string) *download.Layout {
	l, err := download.ParseLayout(s)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func resultOf(sum *download.Summary, key string) *download.Result {
	for _, r := range sum.Results {
		if r.Asset == key {
			return r
		}
	}
	return nil
}

// Without credentials: public buckets work anonymously, private ones
// fail with an error naming S3 and what to set.
func TestAnonymous(t *testing.T) {
	srv := newFakeS3(t, map[string][]byte{"public/a.tif": []byte("public data"), "private/b.tif": []byte("private")})
	env(t, srv.URL, false)
	sum, err, _ := getAll(t, s3.Options{}, map[string]string{"pub": "s3://public/a.tif", "priv": "s3://private/b.tif"})
	if err == nil {
		t.Fatal("the private bucket answered an anonymous request")
	}
	if r := resultOf(sum, "pub"); r.Status != download.Downloaded {
		t.Errorf("public bucket: %v", r.Err)
	}
	r := resultOf(sum, "priv")
	var he *download.HTTPError
	if !errors.As(r.Err, &he) || he.StatusCode != 403 {
		t.Fatalf("private bucket: %v", r.Err)
	}
	for _, want := range []string{"S3", "anonymous", "AWS_ACCESS_KEY_ID", "AWS_PROFILE", "AccessDenied"} {
		if !strings.Contains(r.Err.Error(), want) {
			t.Errorf("error %q does not say %q", r.Err, want)
		}
	}
}

// With credentials: signed requests, in the region the bucket names;
// requester-pays buckets need the flag; a cut transfer resumes with a
// Range guarded by If-Match on the ETag.
func TestCredentialsRegionRequesterPaysResume(t *testing.T) {
	big := assettest.Pattern(2 << 20)
	srv := newFakeS3(t, map[string][]byte{"private/cut/big.bin": big, "payer/p.tif": []byte("paid")})
	env(t, srv.URL, true)
	sum, err, dir := getAll(t, s3.Options{}, map[string]string{"big": "s3://private/cut/big.bin", "paid": "s3://payer/p.tif"})
	var fe *download.FailedError
	if !errors.As(err, &fe) || len(fe.Failed) != 1 || fe.Failed[0].Asset != "paid" || !strings.Contains(fe.Failed[0].Err.Error(), "requester") {
		t.Fatalf("err = %v, want the requester-pays bucket to fail with a hint", err)
	}
	r := resultOf(sum, "big")
	if r.Status != download.Downloaded || !r.Resumed {
		t.Fatalf("big: %v resumed %v", r.Err, r.Resumed)
	}
	got, _ := os.ReadFile(filepath.Join(dir, "big"))
	if !bytes.Equal(got, big) {
		t.Fatal("resumed S3 object differs")
	}
	var gets []string
	for _, l := range srv.Log() {
		if strings.HasPrefix(l, "GET /private/cut/big.bin") {
			gets = append(gets, l)
		}
	}
	if len(gets) != 2 || !strings.Contains(gets[1], "bytes=") || !strings.Contains(gets[1], `"`) || !strings.HasSuffix(gets[1], assettest.S3Region) {
		t.Errorf("GETs %q, want a resumed Range with If-Match, signed for the bucket's region", gets)
	}

	sum, err, _ = getAll(t, s3.Options{RequesterPays: true}, map[string]string{"paid": "s3://payer/p.tif"})
	if err != nil || resultOf(sum, "paid").Status != download.Downloaded {
		t.Fatalf("requester pays: %v", err)
	}
}
