package assettest

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// S3Region is the region the fake S3 names for every bucket.
const S3Region = "eu-test-1"

// S3 is an in-process S3 (gofakes3) behind the access rules of real
// buckets: "private" refuses unsigned requests, "payer" requests without
// x-amz-request-payer: requester, "public" takes anyone. HEAD on a bucket
// names its region (S3Region), and the first GET of each key under
// "cut/" is dropped halfway. Point the AWS SDK at it with
// AWS_ENDPOINT_URL_S3=URL.
type S3 struct {
	*httptest.Server
	mu   sync.Mutex
	log  []string // "METHOD path range if-match region"
	cuts map[string]bool
}

// NewS3 starts an S3 holding objects ("bucket/key" → content).
func NewS3(objects map[string][]byte) (*S3, error) {
	backend := s3mem.New()
	for _, b := range []string{"private", "payer", "public"} {
		if err := backend.CreateBucket(b); err != nil {
			return nil, err
		}
	}
	for path, data := range objects {
		bucket, key, _ := strings.Cut(path, "/")
		if _, err := backend.PutObject(bucket, key, map[string]string{}, bytes.NewReader(data), int64(len(data)), nil); err != nil {
			return nil, fmt.Errorf("put %s: %w", path, err)
		}
	}
	h := gofakes3.New(backend).Server()
	f := &S3{cuts: map[string]bool{}}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		bucket, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		auth := r.Header.Get("Authorization")
		region := ""
		if i := strings.Index(auth, "Credential="); i >= 0 {
			if parts := strings.Split(auth[i:], "/"); len(parts) > 2 {
				region = parts[2]
			}
		}
		f.mu.Lock()
		f.log = append(f.log, strings.Join([]string{r.Method, r.URL.Path, r.Header.Get("Range"), r.Header.Get("If-Match"), region}, " "))
		cut := r.Method == http.MethodGet && strings.HasPrefix(key, "cut/") && !f.cuts[key]
		f.mu.Unlock()
		if key == "" && r.Method == http.MethodHead {
			w.Header().Set("X-Amz-Bucket-Region", S3Region)
		}
		if bucket == "private" && !strings.HasPrefix(auth, "AWS4-HMAC-SHA256") ||
			bucket == "payer" && (auth == "" || r.Header.Get("X-Amz-Request-Payer") != "requester") {
			s3Error(w, http.StatusForbidden, "AccessDenied", "Access Denied")
			return
		}
		if cut {
			f.mu.Lock()
			f.cuts[key] = true
			f.mu.Unlock()
			w = &halfWriter{ResponseWriter: w}
		}
		h.ServeHTTP(w, r)
	}))
	return f, nil
}

// Log returns the requests seen: "METHOD /bucket/key RANGE IF-MATCH
// SIGNING-REGION".
func (f *S3) Log() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.log...)
}

// halfWriter drops the connection after half the body.
type halfWriter struct {
	http.ResponseWriter
	n, limit int
	started  bool
}

// WriteHeader learns the body length to cut at half of it.
func (c *halfWriter) WriteHeader(code int) {
	c.limit, c.started = 1<<62, true
	if n, err := strconv.Atoi(c.Header().Get("Content-Length")); err == nil {
		c.limit = n / 2
	}
	c.ResponseWriter.WriteHeader(code)
}

// Write passes p on until half the body, then drops the connection.
func (c *halfWriter) Write(p []byte) (int, error) {
	if !c.started {
		c.WriteHeader(http.StatusOK)
	}
	if c.n+len(p) > c.limit {
		c.ResponseWriter.Write(p[:c.limit-c.n])
		c.ResponseWriter.(http.Flusher).Flush()
		panic(http.ErrAbortHandler)
	}
	c.n += len(p)
	return c.ResponseWriter.Write(p)
}
