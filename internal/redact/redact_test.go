package redact

import (
	"net/http"
	"strings"
	"testing"
)

func TestURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://example.com/v1/search?limit=10", "https://example.com/v1/search?limit=10"},
		{"https://user:pw@example.com/v1", "https://example.com/v1"},
		{"https://example.com/x?api_key=SECRET&limit=1", "https://example.com/x?api_key=%2A%2A%2A&limit=1"},
		{"https://example.com/x?token=SECRET", "https://example.com/x?token=%2A%2A%2A"},
		{"https://a.blob.core.windows.net/c/f.tif?sv=1&sig=SECRET", "https://a.blob.core.windows.net/c/f.tif?sig=%2A%2A%2A&sv=1"},
		{"http://u:SECRET@[bad/x?token=SECRET", "http://[bad/x"},
	}
	for _, tt := range tests {
		got := URL(tt.in)
		if got != tt.want {
			t.Errorf("URL(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if strings.Contains(got, "SECRET") || strings.Contains(got, "pw") {
			t.Errorf("URL(%q) leaks a secret: %q", tt.in, got)
		}
	}
}

func TestHeader(t *testing.T) {
	h := http.Header{}
	h.Set("Authorization", "Bearer SECRET")
	h.Set("X-Api-Key", "SECRET")
	h.Set("X-Auth-Token", "SECRET")
	h.Set("Accept", "application/json")
	got := Header(h)
	if got.Get("Authorization") != "Bearer ***" {
		t.Errorf("Authorization = %q", got.Get("Authorization"))
	}
	for _, name := range []string{"X-Api-Key", "X-Auth-Token"} {
		if got.Get(name) != Mask {
			t.Errorf("%s = %q", name, got.Get(name))
		}
	}
	if got.Get("Accept") != "application/json" {
		t.Errorf("Accept changed: %q", got.Get("Accept"))
	}
	if h.Get("Authorization") != "Bearer SECRET" {
		t.Error("Header modified its input")
	}
}
