package replay

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
)

type closeCounter struct {
	io.Reader
	closed int
}

func (c *closeCounter) Close() error { c.closed++; return nil }

func TestBody(t *testing.T) {
	t.Run("no body", func(t *testing.T) {
		for _, body := range []io.ReadCloser{nil, http.NoBody} {
			req, _ := http.NewRequest(http.MethodGet, "http://x/", nil)
			req.Body = body
			first, getBody, err := Body(req)
			if first != nil || getBody != nil || err != nil {
				t.Errorf("body %v: got %v, %v, %v", body, first, getBody != nil, err)
			}
		}
	})
	t.Run("GetBody kept", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, "http://x/", strings.NewReader(`{"limit":10}`))
		first, getBody, err := Body(req)
		if err != nil || first != req.Body || getBody == nil {
			t.Fatalf("got %v, %v, %v", first, getBody != nil, err)
		}
	})
	t.Run("read once, replayed", func(t *testing.T) {
		src := &closeCounter{Reader: strings.NewReader(`{"token":"abc"}`)}
		req := &http.Request{Method: http.MethodPost, Body: src}
		first, getBody, err := Body(req)
		if err != nil || getBody == nil {
			t.Fatalf("got %v, %v", getBody != nil, err)
		}
		if src.closed != 1 {
			t.Errorf("source closed %d times, want 1", src.closed)
		}
		for i, r := range []io.ReadCloser{first, must(getBody()), must(getBody())} {
			if b, _ := io.ReadAll(r); string(b) != `{"token":"abc"}` {
				t.Errorf("copy %d: %q", i, b)
			}
		}
	})
	t.Run("too big to keep", func(t *testing.T) {
		big := bytes.Repeat([]byte("x"), MaxBody+10)
		src := &closeCounter{Reader: bytes.NewReader(big)}
		first, getBody, err := Body(&http.Request{Method: http.MethodPost, Body: src})
		if err != nil || getBody != nil {
			t.Fatalf("got %v, %v", getBody != nil, err)
		}
		if b, _ := io.ReadAll(first); !bytes.Equal(b, big) {
			t.Errorf("first attempt got %d bytes, want %d", len(b), len(big))
		}
		first.Close()
		if src.closed != 1 {
			t.Errorf("source closed %d times, want 1", src.closed)
		}
	})
	t.Run("read error", func(t *testing.T) {
		boom := errors.New("boom")
		src := &closeCounter{Reader: io.MultiReader(strings.NewReader("par"), errReader{boom})}
		if _, _, err := Body(&http.Request{Method: http.MethodPost, Body: src}); !errors.Is(err, boom) || src.closed != 1 {
			t.Errorf("err %v, closed %d", err, src.closed)
		}
	})
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

func must(r io.ReadCloser, err error) io.ReadCloser {
	if err != nil {
		panic(err)
	}
	return r
}
