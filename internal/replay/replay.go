// Package replay lets an http.RoundTripper send a request body more than
// once: the retry transport resends it after a transient failure, the
// auth transport after renewing a rejected token.
package replay

import (
	"bytes"
	"io"
	"net/http"
)

// MaxBody bounds a request body buffered for replay; a bigger body is sent
// once, without retries (STAC search bodies are a few kilobytes).
const MaxBody = 16 << 20

// Body returns the body for the first attempt and a function giving fresh
// copies for the next ones: req.GetBody when set, else a copy read into
// memory. Both are nil for a request without a body; getBody is nil for a
// body bigger than MaxBody, which is then streamed once as it is.
func Body(req *http.Request) (first io.ReadCloser, getBody func() (io.ReadCloser, error), err error) {
	if req.Body == nil || req.Body == http.NoBody {
		return nil, nil, nil
	}
	if req.GetBody != nil {
		return req.Body, req.GetBody, nil
	}
	data, err := io.ReadAll(io.LimitReader(req.Body, MaxBody+1))
	if err != nil {
		req.Body.Close()
		return nil, nil, err
	}
	if len(data) > MaxBody {
		return struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(data), req.Body), req.Body}, nil, nil
	}
	req.Body.Close()
	getBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
	first, _ = getBody()
	return first, getBody, nil
}
