package cli_test

import (
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stacq/stacq/internal/testing/hostile"
)

// buildStacq builds the stacq command into a temporary directory, without
// the race detector, whose shadow memory would hide what stacq holds.
func buildStacq(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "stacq")
	out, err := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-o", bin, "github.com/stacq/stacq/cmd/stacq").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// hostileServer serves a landing page at /v1 whose /v1/search answers body.
func hostileServer(t *testing.T, body http.Handler) string {
	mux := http.NewServeMux()
	var s *httptest.Server
	mux.HandleFunc("/v1", func(w http.ResponseWriter, r *http.Request) { hostile.Landing(s.URL+"/v1")(w, r) })
	mux.Handle("/v1/search", body)
	s = httptest.NewUnstartedServer(mux)
	s.Start()
	t.Cleanup(s.Close)
	return s.URL + "/v1"
}

