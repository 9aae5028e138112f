package retry_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"time"

	"github.com/stacq/stacq/retry"
)

// A client whose requests are retried on 503, with each retry logged, and
// a page fetch retried as a unit when its body is cut short.
func Example() {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch n.Add(1) {
		case 1:
			http.Error(w, `{"code":"ServiceUnavailable"}`, http.StatusServiceUnavailable)
		case 2:
			io.WriteString(w, `{"type":"FeatureCollection","features":[{"id":"S2A_1"`) // cut short
		default:
			io.WriteString(w, `{"type":"FeatureCollection","features":[{"id":"S2A_1"}]}`)
		}
	}))
	defer srv.Close()

	p := retry.Policy{
		BaseDelay: time.Millisecond, // the default is 500ms
		OnRetry: func(i retry.Info) {
			fmt.Printf("attempt %d/%d failed (status %d, err %v); retrying\n", i.Attempt, i.Max, i.Status, i.Err)
		},
	}
	client := &http.Client{Transport: p.Transport(nil)}

	var page struct{ Features []struct{ ID string } }
	err := p.Do(context.Background(), func(ctx context.Context, attempt int) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/v1/search", nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		return json.NewDecoder(resp.Body).Decode(&page)
	})
	fmt.Println(page.Features, err)
	// Output:
	// attempt 1/5 failed (status 503, err <nil>); retrying
	// attempt 2/5 failed (status 0, err unexpected EOF); retrying
	// [{S2A_1}] <nil>
}
