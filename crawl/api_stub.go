//go:build !stacclient

package crawl

import (
	"context"
	"errors"
	"net/http"
)

// apiSource is the STAC API being crawled. (Temporary stub until stac.Open exists.)
type apiSource interface{}

var errNotSTAC = errors.New("not a STAC API")

func openAPI(ctx context.Context, root string, hc *http.Client, opts []any) (apiSource, error) {
	return nil, errNotSTAC
}

func isNotSTAC(err error) bool { return errors.Is(err, errNotSTAC) }

func (r *run) apiRoot(t task)  {}
func (r *run) apiItems(t task) {}
