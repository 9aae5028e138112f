package download

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha3"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"golang.org/x/crypto/blake2b"

	"github.com/stacq/stacq/stac"
)

// Multihash codes of the hash functions stacq verifies (the multicodec
// table; the file extension's file:checksum is a hex-encoded multihash).
const (
	CodeSHA1         = 0x11
	CodeSHA2_256     = 0x12
	CodeSHA2_512     = 0x13
	CodeSHA3_512     = 0x14
	CodeSHA3_384     = 0x15
	CodeSHA3_256     = 0x16
	CodeSHA3_224     = 0x17
	CodeSHA2_384     = 0x20
	CodeMD5          = 0xd5
	CodeSHA2_224     = 0x1013
	CodeSHA2_512_224 = 0x1014
	CodeSHA2_512_256 = 0x1015
	// CodeBlake2b8 is blake2b-8; blake2b-N (N = 8, 16, …, 512 bits) is
	// CodeBlake2b8 + N/8 - 1, up to 0xb240 for blake2b-512.
	CodeBlake2b8   = 0xb201
	codeBlake2b512 = 0xb240
)

// Checksum is a parsed file:checksum: a hash function (by multihash code)
// and the expected digest, which may be a truncated one.
type Checksum struct {
	Code   uint64
	Digest []byte
}

// ErrUnsupportedHash is wrapped by ParseMultihash's error for a valid
// multihash of a hash function stacq does not implement (blake3,
// blake2s, …): such a file is downloaded unverified rather than refused.
var ErrUnsupportedHash = errors.New("unsupported hash function")

// ParseMultihash parses a hex-encoded multihash ("1220" + 64 hex digits
// for sha2-256). The digest may be shorter than the function's output
// (a truncated hash), never longer. A valid multihash of a function stacq
// does not know returns the Checksum and an error wrapping
// ErrUnsupportedHash.
func ParseMultihash(s string) (Checksum, error) {
	raw, err := hex.DecodeString(strings.TrimSpace(s))
	if err != nil {
		return Checksum{}, fmt.Errorf("file:checksum %q is not hexadecimal: %w", clip(s, 20), err)
	}
	code, n := uvarint(raw)
	if n <= 0 {
		return Checksum{}, fmt.Errorf("file:checksum %q: bad multihash code", clip(s, 20))
	}
	length, m := uvarint(raw[n:])
	if m <= 0 {
		return Checksum{}, fmt.Errorf("file:checksum %q: bad multihash length", clip(s, 20))
	}
	digest := raw[n+m:]
	if uint64(len(digest)) != length {
		return Checksum{}, fmt.Errorf("file:checksum %q: the multihash says %d digest bytes, it has %d", clip(s, 20), length, len(digest))
	}
	c := Checksum{Code: code, Digest: digest}
	size, ok := c.size()
	if !ok {
		return c, fmt.Errorf("file:checksum uses multihash function 0x%x: %w", code, ErrUnsupportedHash)
	}
	if len(digest) == 0 || len(digest) > size {
		return Checksum{}, fmt.Errorf("file:checksum %q: a %s digest has 1 to %d bytes, not %d", clip(s, 20), c.Name(), size, len(digest))
	}
	return c, nil
}

// uvarint reads an unsigned varint as multiformats define it: at most 9
// bytes, minimally encoded. n <= 0 means malformed.
func uvarint(b []byte) (v uint64, n int) {
	for i := 0; i < len(b) && i < 9; i++ {
		c := b[i]
		v |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			if c == 0 && i > 0 {
				return 0, -1 // not minimal
			}
			return v, i + 1
		}
	}
	return 0, -1
}

// Name returns the multihash name of the function ("sha2-256").
func (c Checksum) Name() string {
	switch c.Code {
	case CodeSHA1:
		return "sha1"
	case CodeSHA2_256:
		return "sha2-256"
	case CodeSHA2_512:
		return "sha2-512"
	case CodeSHA2_384:
		return "sha2-384"
	case CodeSHA2_224:
		return "sha2-224"
	case CodeSHA2_512_224:
		return "sha2-512-224"
	case CodeSHA2_512_256:
		return "sha2-512-256"
	case CodeSHA3_512:
		return "sha3-512"
	case CodeSHA3_384:
		return "sha3-384"
	case CodeSHA3_256:
		return "sha3-256"
	case CodeSHA3_224:
		return "sha3-224"
	case CodeMD5:
		return "md5"
	}
	if c.Code >= CodeBlake2b8 && c.Code <= codeBlake2b512 {
		return "blake2b-" + strconv.FormatUint((c.Code-CodeBlake2b8+1)*8, 10)
	}
	return "0x" + strconv.FormatUint(c.Code, 16)
}

// size returns the function's output size in bytes, and whether stacq
// implements it.
func (c Checksum) size() (int, bool) {
	switch c.Code {
	case CodeSHA1:
		return sha1.Size, true
	case CodeSHA2_256, CodeSHA3_256, CodeSHA2_512_256:
		return 32, true
	case CodeSHA2_512, CodeSHA3_512:
		return 64, true
	case CodeSHA2_384, CodeSHA3_384:
		return 48, true
	case CodeSHA2_224, CodeSHA3_224, CodeSHA2_512_224:
		return 28, true
	case CodeMD5:
		return md5.Size, true
	}
	if c.Code >= CodeBlake2b8 && c.Code <= codeBlake2b512 {
		return int(c.Code-CodeBlake2b8) + 1, true
	}
	return 0, false
}

// New returns a hash of the function, or nil when stacq does not
// implement it.
func (c Checksum) New() hash.Hash {
	switch c.Code {
	case CodeSHA1:
		return sha1.New()
	case CodeSHA2_256:
		return sha256.New()
	case CodeSHA2_224:
		return sha256.New224()
	case CodeSHA2_512:
		return sha512.New()
	case CodeSHA2_384:
		return sha512.New384()
	case CodeSHA2_512_224:
		return sha512.New512_224()
	case CodeSHA2_512_256:
		return sha512.New512_256()
	case CodeSHA3_512:
		return sha3.New512()
	case CodeSHA3_384:
		return sha3.New384()
	case CodeSHA3_256:
		return sha3.New256()
	case CodeSHA3_224:
		return sha3.New224()
	case CodeMD5:
		return md5.New()
	}
	if size, ok := c.size(); ok && c.Code >= CodeBlake2b8 {
		h, err := blake2b.New(size, nil)
		if err == nil {
			return h
		}
	}
	return nil
}

// Matches reports whether sum, a full digest of the function, matches
// the expected (possibly truncated) digest.
func (c Checksum) Matches(sum []byte) bool {
	return len(sum) >= len(c.Digest) && bytes.Equal(sum[:len(c.Digest)], c.Digest)
}

// String returns the checksum as a hex multihash.
func (c Checksum) String() string {
	b := appendUvarint(nil, c.Code)
	b = appendUvarint(b, uint64(len(c.Digest)))
	return hex.EncodeToString(append(b, c.Digest...))
}

func appendUvarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

// expected is what an asset says of its file: file:size and
// file:checksum, each when present and valid. Problems with either are
// notes, not failures: the file is still downloaded, unverified.
type expected struct {
	size     int64 // -1 unknown
	checksum *Checksum
	notes    []string
}

func expect(a *stac.Asset) expected {
	e := expected{size: -1}
	if raw, ok := a.Extra["file:size"]; ok {
		if n, err := parseSize(raw); err != nil {
			e.notes = append(e.notes, err.Error())
		} else {
			e.size = n
		}
	}
	if raw, ok := a.Extra["file:checksum"]; ok {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			e.notes = append(e.notes, "file:checksum is not a string; not verified")
		} else if c, err := ParseMultihash(s); err != nil {
			e.notes = append(e.notes, err.Error()+"; not verified")
		} else {
			e.checksum = &c
		}
	}
	return e
}

// parseSize reads file:size: a non-negative integer (written as JSON
// allows: 1200, 1.2e3).
func parseSize(raw jsontext.Value) (int64, error) {
	if raw.Kind() != '0' {
		return 0, fmt.Errorf("file:size is not a number; not verified")
	}
	s := string(bytes.TrimSpace(raw))
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n >= 0 {
		return n, nil
	}
	if v, err := strconv.ParseFloat(s, 64); err == nil && v >= 0 && v < 1<<62 && v == float64(int64(v)) {
		return int64(v), nil
	}
	return 0, fmt.Errorf("file:size %s is not a byte count; not verified", clip(s, 30))
}
