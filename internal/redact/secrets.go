package redact

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/url"
	"slices"
	"strings"
	"sync"
)

// MinSecretLen is the shortest value Secrets accepts: shorter ones would
// mask ordinary words and are not secrets worth the name.
const MinSecretLen = 4

// Secrets is a set of credentials to mask wherever text is printed. Add
// records a credential in every encoding it may travel in (raw, URL query
// and path escaped, JSON string escaped, base64), so a server echoing a
// request in an error body, a log line or a trace is scrubbed whatever
// form it quotes. The zero value is empty and ready; a Secrets is safe for
// concurrent use.
type Secrets struct {
	mu   sync.RWMutex
	set  map[string]struct{}
	list []string // the set, longest first, so an encoding that contains another is masked whole
}

// Add records secret and its encodings. Values shorter than MinSecretLen
// are ignored.
func (s *Secrets) Add(secret string) {
	if len(secret) < MinSecretLen {
		return
	}
	s.add(encodings(secret)...)
}

// AddBasic records an HTTP Basic credential: the password and the
// base64 of "user:password" that the Authorization header carries. An API
// key sent as the Basic user name with an empty password is
// AddBasic(key, ""): the key and base64 of "key:".
func (s *Secrets) AddBasic(user, password string) {
	if len(user)+len(password) < MinSecretLen {
		return
	}
	if password != "" {
		s.Add(password)
	} else {
		s.Add(user)
	}
	// RFC 6749 2.3.1 clients form-encode both before joining (x/oauth2
	// does), plain HTTP Basic does not: record both blobs.
	for _, pair := range []string{user + ":" + password, url.QueryEscape(user) + ":" + url.QueryEscape(password)} {
		s.add(base64.StdEncoding.EncodeToString([]byte(pair)), base64.RawStdEncoding.EncodeToString([]byte(pair)))
	}
}

func (s *Secrets) add(vals ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.set == nil {
		s.set = map[string]struct{}{}
	}
	changed := false
	for _, v := range vals {
		if len(v) < MinSecretLen {
			continue
		}
		if _, ok := s.set[v]; !ok {
			s.set[v] = struct{}{}
			s.list = append(s.list, v)
			changed = true
		}
	}
	if changed {
		slices.SortFunc(s.list, func(a, b string) int { return len(b) - len(a) })
	}
}

// encodings are the forms a secret takes in a URL, a form body, a JSON
// document and base64.
func encodings(secret string) []string {
	out := []string{secret, url.QueryEscape(secret), url.PathEscape(secret)}
	if b, err := json.Marshal(secret); err == nil {
		out = append(out, string(b[1:len(b)-1]))
	}
	// Go's encoder leaves <, > and & alone with SetEscapeHTML(false) but
	// other encoders escape them, and some escape every non-ASCII rune.
	out = append(out, jsonASCII(secret))
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		out = append(out, enc.EncodeToString([]byte(secret)))
	}
	return out
}

// jsonASCII escapes s as a JSON string body with \uXXXX for everything
// outside printable ASCII and for <, >, &.
func jsonASCII(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r > 0x7e || r == '<' || r == '>' || r == '&':
			if r > 0xffff {
				r1, r2 := utf16Pair(r)
				writeU(&b, r1)
				writeU(&b, r2)
			} else {
				writeU(&b, r)
			}
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func utf16Pair(r rune) (rune, rune) {
	r -= 0x10000
	return 0xd800 + (r>>10)&0x3ff, 0xdc00 + r&0x3ff
}

func writeU(b *strings.Builder, r rune) {
	const hex = "0123456789abcdef"
	b.WriteString(`\u`)
	for shift := 12; shift >= 0; shift -= 4 {
		b.WriteByte(hex[(r>>shift)&0xf])
	}
}

// Len is the number of masked forms held.
func (s *Secrets) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.list)
}

// Scrub returns text with every recorded form of every secret replaced by
// Mask.
func (s *Secrets) Scrub(text string) string {
	if s == nil {
		return text
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, v := range s.list {
		if strings.Contains(text, v) {
			text = strings.ReplaceAll(text, v, Mask)
		}
	}
	return text
}

// Writer returns a writer that scrubs each write before passing it to w.
// A write is scrubbed whole, so a secret is masked as long as it is not
// split across two writes (fmt.Fprintf makes one write per call).
func (s *Secrets) Writer(w io.Writer) io.Writer {
	return &scrubWriter{s: s, w: w}
}

type scrubWriter struct {
	s *Secrets
	w io.Writer
}

func (sw *scrubWriter) Write(p []byte) (int, error) {
	out := sw.s.Scrub(string(p))
	if _, err := io.WriteString(sw.w, out); err != nil {
		return 0, err
	}
	return len(p), nil
}
