package stac

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestNewHTTPError(t *testing.T) {
	long := strings.Repeat("x", 500)
	tests := []struct {
		name, body            string
		status                int
		code, desc, snip, msg string
	}{
		{"STAC API", `{"code": "NotFound", "description": "Not Found"}`, 404,
			"NotFound", "Not Found", "", "GET https://api.example/v1/collections/foo: 404 Not Found: NotFound: Not Found"},
		{"numeric code", `{"code": 406, "description": "Not acceptable"}`, 406,
			"406", "Not acceptable", "", "GET https://api.example/v1/collections/foo: 406 Not Acceptable: 406: Not acceptable"},
		{"FastAPI detail", `{"detail": "Collection foo does not exist."}`, 404,
			"", "Collection foo does not exist.", "", "GET https://api.example/v1/collections/foo: 404 Not Found: Collection foo does not exist."},
		{"FastAPI validation list", `{"detail": [{"loc": ["query", "limit"], "msg": "must be positive"}]}`, 422,
			"", `[{"loc":["query","limit"],"msg":"must be positive"}]`, "", ""},
		{"message", `{"message": "Internal server error"}`, 500,
			"", "Internal server error", "", "GET https://api.example/v1/collections/foo: 500 Internal Server Error: Internal server error"},
		{"OAuth2", `{"error": "invalid_token", "error_description": "Token expired"}`, 401,
			"invalid_token", "Token expired", "", "GET https://api.example/v1/collections/foo: 401 Unauthorized: invalid_token: Token expired"},
		{"error string only", `{"error": "Forbidden"}`, 403, "Forbidden", "", "", "GET https://api.example/v1/collections/foo: 403 Forbidden: Forbidden"},
		{"HTML", "<html>\n<head><title>502 Bad Gateway</title></head>\n<body>\n<center><h1>502 Bad Gateway</h1></center>\n</body>\n</html>\n", 502,
			"", "", "<html> <head><title>502 Bad Gateway</title></head> <body> <center><h1>502 Bad Gateway</h1></center> </body> </html>", ""},
		{"long text", long, 500, "", "", strings.Repeat("x", snippetLen) + "…", ""},
		{"empty", "", 503, "", "", "", "GET https://api.example/v1/collections/foo: 503 Service Unavailable"},
		{"JSON without a message", `{"status": 500}`, 500, "", "", `{"status": 500}`, ""},
		{"escape sequences", `{"code": "\u001b]0;owned\u0007Bad", "description": "\u001b[1A\u001b[2Kall good\r\u009b2J\u202edone"}`, 400,
			"Bad", "all good done", "", "GET https://api.example/v1/collections/foo: 400 Bad Request: Bad: all good done"},
		{"escape sequences in a snippet", "<p>\x1b[31mred\x1b[0m\x07</p>", 500, "", "", "<p>red </p>", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newHTTPError("GET", "https://user:pw@api.example/v1/collections/foo", tt.status, []byte(tt.body))
			if e.Code != tt.code || e.Description != tt.desc || e.Snippet != tt.snip {
				t.Errorf("code %q description %q snippet %q; want %q %q %q", e.Code, e.Description, e.Snippet, tt.code, tt.desc, tt.snip)
			}
			if tt.msg != "" && e.Error() != tt.msg {
				t.Errorf("Error() = %q, want %q", e.Error(), tt.msg)
			}
			if strings.Contains(e.Error(), "pw") || strings.Contains(e.Error(), "\n") {
				t.Errorf("Error() = %q", e.Error())
			}
		})
	}
}

func TestHTTPErrorIs(t *testing.T) {
	for status, want := range map[int][2]bool{404: {true, false}, 410: {true, false}, 401: {false, true}, 403: {false, true}, 500: {false, false}} {
		var err error = &HTTPError{StatusCode: status}
		if errors.Is(err, ErrNotFound) != want[0] || errors.Is(err, ErrUnauthorized) != want[1] {
			t.Errorf("%d: Is(ErrNotFound) %v, Is(ErrUnauthorized) %v", status, errors.Is(err, ErrNotFound), errors.Is(err, ErrUnauthorized))
		}
	}
}

func TestSnippet(t *testing.T) {
	tests := []struct{ in, want string }{
		{"  hello \r\n\t world  ", "hello world"},
		{"a\x00b", "a b"},
		{"\xff\xfeok", "\uFFFD\uFFFDok"},
		{"\x1b]0;title\x07\x1b[2Kred \x1b[31malert\x1b[0m\u202e", "red alert"},
		{"over\rwritten\u009b1A", "over written"},
		{strings.Repeat("é", 300), strings.Repeat("é", 100) + "…"},
	}
	for _, tt := range tests {
		got := snippet([]byte(tt.in))
		if got != tt.want || !utf8.ValidString(got) {
			t.Errorf("snippet(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
