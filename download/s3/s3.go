// Package s3 fetches the s3:// hrefs of STAC assets for the download
// package, over the AWS SDK for Go v2: credentials from the standard AWS
// chain (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE with
// ~/.aws/config and ~/.aws/credentials, SSO, credential_process, the
// instance role), each bucket's own region, requester pays, and resumed
// ranges guarded by the object's ETag. AWS_ENDPOINT_URL_S3 or
// AWS_ENDPOINT_URL (the SDK's standard names) point it at another
// S3-compatible service, addressed path-style.
//
// With no credentials configured it tries anonymous requests, which
// public buckets answer; a refusal then says what to set.
package s3

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/stacq/stacq/download"
	"github.com/stacq/stacq/internal/httprange"
)

// Options configure a Getter.
type Options struct {
	// RequesterPays sends x-amz-request-payer: requester, which buckets
	// whose owner bills the downloader require (the transfer is charged
	// to the credentials' account).
	RequesterPays bool
	// Region is used for every bucket; "" asks each bucket for its own
	// (one HEAD request per bucket), unless AWS_REGION is set.
	Region string
	// Anonymous never signs requests, even when credentials are
	// configured.
	Anonymous bool
	// HTTPClient carries the requests; nil is the SDK's default, which
	// also honours AWS_CA_BUNDLE (a given client cannot).
	HTTPClient *http.Client
}

// Getter fetches S3 objects; it implements download.ObjectGetter and is
// safe for concurrent use. It loads the AWS configuration on its first
// object, so that a run without s3:// hrefs never depends on it.
type Getter struct {
	opts Options

	loadOnce sync.Once
	loadErr  error
	client   *awss3.Client
	region   string // from the AWS config (AWS_REGION, the profile)
	// anonymous says requests go unsigned; why tells the user when a
	// bucket then refuses them.
	anonymous bool
	why       string

	mu      sync.Mutex
	regions map[string]string // bucket → region
}

// New returns a Getter; nothing is read or requested yet.
func New(opts Options) *Getter {
	return &Getter{opts: opts, regions: map[string]string{}}
}

// load reads the AWS configuration and finds out, once, whether the
// chain yields credentials; without, requests go anonymous.
func (g *Getter) load(ctx context.Context) error {
	g.loadOnce.Do(func() {
		var load []func(*config.LoadOptions) error
		if g.opts.HTTPClient != nil {
			load = append(load, config.WithHTTPClient(g.opts.HTTPClient))
		}
		cfg, err := config.LoadDefaultConfig(ctx, load...)
		if err != nil {
			g.loadErr = fmt.Errorf("S3: loading the AWS configuration (AWS_PROFILE, AWS_CONFIG_FILE, ~/.aws/config): %w", err)
			return
		}
		g.region = cfg.Region
		g.client = awss3.NewFromConfig(cfg, func(o *awss3.Options) {
			// The downloader's retry policy retries (and resumes) instead.
			o.Retryer = aws.NopRetryer{}
			// An S3-compatible service is usually addressed by path.
			o.UsePathStyle = o.BaseEndpoint != nil
			// Ranged GETs carry no whole-object checksum: the SDK would
			// say so on stderr for each. file:checksum is verified instead.
			o.DisableLogOutputChecksumValidationSkipped = true
		})
		g.checkCredentials(ctx, cfg.Credentials)
	})
	return g.loadErr
}

// checkCredentials decides whether requests are signed.
func (g *Getter) checkCredentials(ctx context.Context, creds aws.CredentialsProvider) {
	switch {
	case g.opts.Anonymous:
		g.anonymous, g.why = true, "anonymous access was asked for"
	case creds == nil:
		g.anonymous, g.why = true, "no AWS credentials are configured"
	default:
		// Outside AWS the instance-role lookup at the end of the chain
		// waits for a metadata service that is not there: bound it.
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if _, err := creds.Retrieve(cctx); err != nil {
			g.anonymous, g.why = true, "no AWS credentials were found"
		}
	}
}

// regionOf returns the region to send bucket's requests to.
func (g *Getter) regionOf(ctx context.Context, bucket string) string {
	if g.opts.Region != "" {
		return g.opts.Region
	}
	if g.region != "" {
		return g.region
	}
	g.mu.Lock()
	r, ok := g.regions[bucket]
	g.mu.Unlock()
	if ok {
		return r
	}
	// S3 names a bucket's region in x-amz-bucket-region, on a 200 and on
	// the 301 and 403 it answers from elsewhere or to strangers alike.
	r = "us-east-1"
	out, err := g.client.HeadBucket(ctx, &awss3.HeadBucketInput{Bucket: aws.String(bucket)}, g.with("us-east-1"))
	var re *awshttp.ResponseError
	switch {
	case err == nil && out.BucketRegion != nil && *out.BucketRegion != "":
		r = *out.BucketRegion
	case errors.As(err, &re) && re.Response != nil && re.Response.Header.Get("X-Amz-Bucket-Region") != "":
		r = re.Response.Header.Get("X-Amz-Bucket-Region")
	case ctx.Err() != nil:
		return r // not remembered
	}
	g.mu.Lock()
	g.regions[bucket] = r
	g.mu.Unlock()
	return r
}

func (g *Getter) with(region string) func(*awss3.Options) {
	return func(o *awss3.Options) {
		o.Region = region
		if g.anonymous {
			o.Credentials = nil // unsigned, as the SDK makes of aws.AnonymousCredentials
		}
	}
}

// GetObject returns s3://bucket/key from offset; with validator (an ETag)
// set and no longer matching, the whole object comes instead.
func (g *Getter) GetObject(ctx context.Context, bucket, key string, offset int64, validator string) (*download.Object, error) {
	if err := g.load(ctx); err != nil {
		return nil, err
	}
	region := g.regionOf(ctx, bucket)
	in := &awss3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}
	if g.opts.RequesterPays {
		in.RequestPayer = types.RequestPayerRequester
	}
	if offset > 0 {
		in.Range = aws.String("bytes=" + strconv.FormatInt(offset, 10) + "-")
		if validator != "" {
			in.IfMatch = aws.String(validator)
		}
	}
	out, err := g.client.GetObject(ctx, in, g.with(region))
	if err != nil {
		switch statusOf(err) {
		case http.StatusPreconditionFailed: // the object changed: all of it
			return g.GetObject(ctx, bucket, key, 0, "")
		case http.StatusRequestedRangeNotSatisfiable:
			if head, herr := g.head(ctx, bucket, key, region); herr == nil && aws.ToInt64(head.ContentLength) == offset &&
				(validator == "" || aws.ToString(head.ETag) == validator) {
				return &download.Object{Body: http.NoBody, Offset: offset, Size: offset, Validator: validator}, nil
			}
			return g.GetObject(ctx, bucket, key, 0, "")
		}
		return nil, g.explain(err, bucket, key)
	}
	obj := &download.Object{Body: out.Body, Size: aws.ToInt64(out.ContentLength), Validator: aws.ToString(out.ETag)}
	if out.ContentLength == nil {
		obj.Size = -1
	}
	if cr := aws.ToString(out.ContentRange); cr != "" {
		start, _, total, ok := httprange.ParseContentRange(cr)
		if !ok {
			out.Body.Close()
			return nil, fmt.Errorf("GET s3://%s/%s: malformed Content-Range %q", bucket, key, cr)
		}
		obj.Offset, obj.Size = start, total
	}
	return obj, nil
}

func (g *Getter) head(ctx context.Context, bucket, key, region string) (*awss3.HeadObjectOutput, error) {
	in := &awss3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}
	if g.opts.RequesterPays {
		in.RequestPayer = types.RequestPayerRequester
	}
	return g.client.HeadObject(ctx, in, g.with(region))
}

// statusOf returns the HTTP status of an SDK error, 0 for none.
func statusOf(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) && re.Response != nil {
		return re.Response.StatusCode
	}
	return 0
}

// explain turns an S3 refusal into a *download.HTTPError saying what to
// do; transport errors are returned as they are (they may be retried).
func (g *Getter) explain(err error, bucket, key string) error {
	status := statusOf(err)
	if status == 0 {
		return fmt.Errorf("GET s3://%s/%s: %w", bucket, key, err)
	}
	e := &download.HTTPError{StatusCode: status, URL: "s3://" + bucket + "/" + key}
	var api smithy.APIError
	if errors.As(err, &api) {
		e.Message = api.ErrorCode()
		if m := api.ErrorMessage(); m != "" {
			e.Message += ": " + m
		}
	}
	switch {
	case status == http.StatusForbidden && g.anonymous:
		e.Hint = "S3 refused an anonymous request: " + g.why +
			"; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE for a profile in ~/.aws/config or ~/.aws/credentials"
	case status == http.StatusForbidden && !g.opts.RequesterPays:
		e.Hint = "S3 refused these AWS credentials; if the bucket is requester-pays, enable requester pays (--requester-pays)"
	case status == http.StatusForbidden:
		e.Hint = "S3 refused these AWS credentials"
	case status == http.StatusNotFound:
		e.Hint = "no such bucket or key"
	case status == http.StatusMovedPermanently:
		e.Hint = "the bucket is in another region: set AWS_REGION to it"
	}
	return e
}
