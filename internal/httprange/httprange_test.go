package httprange

import "testing"

func TestParseContentRange(t *testing.T) {
	tests := []struct {
		v                 string
		start, end, total int64
		ok                bool
	}{
		{"bytes 100-199/200", 100, 199, 200, true},
		{"bytes 0-0/1", 0, 0, 1, true},
		{"bytes 100-199/*", 100, 199, -1, true},
		{"bytes */500", -1, -1, 500, true},
		{"bytes 100-199/150", 0, 0, 0, false},
		{"bytes 200-100/300", 0, 0, 0, false},
		{"bytes */*", 0, 0, 0, false},
		{"items 0-1/2", 0, 0, 0, false},
		{"bytes -1-2/3", 0, 0, 0, false},
		{"", 0, 0, 0, false},
	}
	for _, tt := range tests {
		s, e, n, ok := ParseContentRange(tt.v)
		if ok != tt.ok || ok && (s != tt.start || e != tt.end || n != tt.total) {
			t.Errorf("ParseContentRange(%q) = %d %d %d %v", tt.v, s, e, n, ok)
		}
	}
}

func FuzzParseContentRange(f *testing.F) {
	for _, s := range []string{"bytes 0-99/100", "bytes */100", "bytes 5-9/*", "bytes 9223372036854775807-9223372036854775807/*"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		s, e, n, ok := ParseContentRange(v)
		if !ok {
			return
		}
		if s == -1 && (e != -1 || n < 0) || s >= 0 && (e < s || n >= 0 && e >= n) {
			t.Fatalf("%q: %d-%d/%d", v, s, e, n)
		}
	})
}
