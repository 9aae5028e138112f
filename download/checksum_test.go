package download_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/stacq/stacq/download"
)

// The examples of the file extension: checksums of an ASCII file "test".
func TestParseMultihashExamples(t *testing.T) {
	tests := []struct{ hex, name string }{
		{"1114a94a8fe5ccb19ba61c4c0873d391e987982fbbd3", "sha1"},
		{"12209f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "sha2-256"},
		// Truncated to 160 bits. (The extension's own example of this,
		// "12149f86…2b0b", holds 22 bytes where its length says 20, and is
		// refused below.)
		{"12149f86d081884c7d659a2feaa0c55ad015a3bf4f1b", "sha2-256"},
		{"90e4021044a8995dd50b6657a037a7839304535b", "blake2b-128"},
		{"d50110" + "098f6bcd4621d373cade4e832627b4f6", "md5"},
		{"1340ee26b0dd4af7e749aa1a8ee3c10ae9923f618980772e473f8819a5d4940e0db27ac185f8a0e1d5f84f88bc887fd67b143732c304cc5fa9ad8e6f57f50028a8ff", "sha2-512"},
		{"16" + "20" + "36f028580bb02cc8272a9a020f4200e346e276ae664e45ee80745574e2f5ab80", "sha3-256"},
	}
	for _, tt := range tests {
		c, err := download.ParseMultihash(tt.hex)
		if err != nil {
			t.Errorf("%s: %v", tt.hex, err)
			continue
		}
		if c.Name() != tt.name {
			t.Errorf("%s: %s, want %s", tt.hex, c.Name(), tt.name)
		}
		h := c.New()
		h.Write([]byte("test"))
		if !c.Matches(h.Sum(nil)) {
			t.Errorf("%s: does not match the hash of \"test\"", tt.name)
		}
		h.Reset()
		h.Write([]byte("tesT"))
		if c.Matches(h.Sum(nil)) {
			t.Errorf("%s: matches another content", tt.name)
		}
		if c.String() != tt.hex {
			t.Errorf("String() = %s, want %s", c.String(), tt.hex)
		}
	}
}

func TestParseMultihashRefusals(t *testing.T) {
	for _, s := range []string{
		"", "zz", "12", "1220", "1221" + strings.Repeat("00", 32), // length says 33, has 32
		"1241" + strings.Repeat("00", 65), // longer than sha2-256's 32 bytes
		"1200", "ff", "8000" + "00",       // truncated varint; non-minimal varint
		"12149f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b",
	} {
		if _, err := download.ParseMultihash(s); err == nil {
			t.Errorf("ParseMultihash(%q) accepted", s)
		}
	}
	// blake3 (0x1e) is a valid multihash stacq does not implement.
	_, err := download.ParseMultihash("1e20" + strings.Repeat("ab", 32))
	if !errors.Is(err, download.ErrUnsupportedHash) {
		t.Errorf("blake3: %v, want ErrUnsupportedHash", err)
	}
}

func FuzzParseMultihash(f *testing.F) {
	for _, s := range []string{
		"1114a94a8fe5ccb19ba61c4c0873d391e987982fbbd3",
		"12209f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
		"90e4021044a8995dd50b6657a037a7839304535b", "1e20" + strings.Repeat("ab", 32), "", "80808080808080808001", "d50100",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := download.ParseMultihash(s)
		if err != nil {
			return
		}
		h := c.New()
		if h == nil {
			t.Fatalf("%q parsed as %s without a hash", s, c.Name())
		}
		if len(c.Digest) == 0 || len(c.Digest) > h.Size() {
			t.Fatalf("%q: digest of %d bytes for %s (%d)", s, len(c.Digest), c.Name(), h.Size())
		}
		again, err := download.ParseMultihash(c.String())
		if err != nil || again.Code != c.Code || string(again.Digest) != string(c.Digest) {
			t.Fatalf("%q: String() %q does not parse back: %v", s, c.String(), err)
		}
	})
}
