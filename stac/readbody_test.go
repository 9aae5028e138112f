package stac

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"testing"
	"testing/iotest"
)

// readBody returns every body up to the cap exactly, whatever the size of
// the buffer given and of the reads, and refuses one byte more.
func TestReadBody(t *testing.T) {
	data := make([]byte, 3*bodyChunk+12345)
	rand.NewChaCha8([32]byte{}).Read(data)
	limit := int64(2*bodyChunk + 7)
	for _, size := range []int64{0, 1, 513, bodyChunk - 1, bodyChunk, bodyChunk + 1, limit, limit + 1, int64(len(data))} {
		for _, hint := range []int{0, bodyChunk + 10} {
			body := data[:size]
			var r io.Reader = bytes.NewReader(body)
			if size < bodyChunk {
				r = iotest.HalfReader(r) // reads of every size
			}
			resp := &http.Response{ContentLength: -1, Body: io.NopCloser(r)}
			got, err := readBody(resp, make([]byte, 0, hint), limit, "page")
			var te *TooLargeError
			switch {
			case size > limit:
				if !errors.As(err, &te) || te.Limit != limit {
					t.Errorf("size %d, hint %d: err %v, want a *TooLargeError", size, hint, err)
				}
			case err != nil || !bytes.Equal(got, body):
				t.Errorf("size %d, hint %d: %d bytes, err %v", size, hint, len(got), err)
			}
		}
	}
}

// A body cut short is an error, not a shorter body: in the buffer or in
// the chunks after it.
func TestReadBodyCutShort(t *testing.T) {
	for _, size := range []int64{100, 3 * bodyChunk / 2} {
		r := io.MultiReader(bytes.NewReader(make([]byte, size)), iotest.ErrReader(io.ErrUnexpectedEOF))
		_, err := readBody(&http.Response{ContentLength: -1, Body: io.NopCloser(r)}, nil, 1<<30, "page")
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("size %d: err %v, want io.ErrUnexpectedEOF", size, err)
		}
	}
}
