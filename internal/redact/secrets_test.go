package redact

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// Every encoding a credential was sent in is masked: raw, URL-encoded,
// JSON-escaped, base64 alone and as HTTP Basic (id:secret, and the
// form-encoded pair x/oauth2 sends), and an API key's "key:" Basic form.
func TestSecretsScrubEveryEncoding(t *testing.T) {
	const id, secret, key, tok = "client-1", `Sup3r/S3cret+=&"<x>é`, "PLAKabcdef0123", "eyJhbGciOi.eyJzdWIi.sig-_"
	var s Secrets
	s.AddBasic(id, secret)
	s.AddBasic(key, "")
	s.Add(tok)
	jsonOf := func(v string) string { b, _ := json.Marshal(v); return string(b) }
	b64 := func(v string) string { return base64.StdEncoding.EncodeToString([]byte(v)) }
	for _, echoed := range []string{
		secret,
		url.QueryEscape(secret),
		"client_secret=" + url.QueryEscape(secret) + "&grant_type=client_credentials",
		jsonOf(secret),
		`{"error":"bad","echo":` + jsonOf("Basic "+b64(id+":"+secret)) + `}`,
		"Authorization: Basic " + b64(url.QueryEscape(id)+":"+url.QueryEscape(secret)),
		"Authorization: Basic " + b64(key+":"),
		"Authorization: Bearer " + tok,
		"got api_key=" + key,
		b64(tok),
		`"\u003cx\u003e"` + jsonASCII(secret),
	} {
		got := s.Scrub("server said: " + echoed + " (end)")
		for _, leak := range []string{secret, url.QueryEscape(secret), b64(id + ":" + secret), key, tok, "Sup3r", b64(key + ":")} {
			if strings.Contains(got, leak) {
				t.Errorf("Scrub(%q) = %q still holds %q", echoed, got, leak)
			}
		}
		if !strings.Contains(got, Mask) || !strings.HasSuffix(got, " (end)") {
			t.Errorf("Scrub(%q) = %q", echoed, got)
		}
	}
	if got := s.Scrub("nothing secret here"); got != "nothing secret here" {
		t.Errorf("Scrub changed plain text: %q", got)
	}
}

// Short values are not secrets: masking them would garble ordinary text.
func TestSecretsIgnoreShortValues(t *testing.T) {
	var s Secrets
	s.Add("abc")
	s.Add("")
	s.AddBasic("a", "")
	if s.Len() != 0 {
		t.Errorf("%d forms held", s.Len())
	}
	if got := s.Scrub("abc a abc"); got != "abc a abc" {
		t.Errorf("Scrub = %q", got)
	}
	var nilSet *Secrets
	if nilSet.Scrub("x") != "x" {
		t.Error("a nil Secrets changed text")
	}
}

// A longer encoding that contains a shorter secret is masked whole.
func TestSecretsLongestFirst(t *testing.T) {
	var s Secrets
	s.Add("abcd")
	s.Add("abcdefgh")
	if got := s.Scrub("xabcdefghx"); got != "x***x" {
		t.Errorf("Scrub = %q", got)
	}
}

func TestSecretsWriterConcurrent(t *testing.T) {
	var s Secrets
	var buf bytes.Buffer
	var mu sync.Mutex
	w := s.Writer(lockedWriter{&buf, &mu})
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sec := fmt.Sprintf("secret-%02d", i)
			s.Add(sec)
			fmt.Fprintf(w, "line with %s\n", sec)
		}()
	}
	wg.Wait()
	if strings.Contains(buf.String(), "secret-") || strings.Count(buf.String(), "line with ***\n") != 20 {
		t.Errorf("output:\n%s", buf.String())
	}
	n, err := w.Write([]byte("secret-01!"))
	if n != len("secret-01!") || err != nil {
		t.Errorf("Write = %d, %v", n, err)
	}
}

type lockedWriter struct {
	b  *bytes.Buffer
	mu *sync.Mutex
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// Whatever the secret, each of its encodings is gone after Scrub.
func FuzzSecrets(f *testing.F) {
	f.Add("cid", "Sup3r/S3cret+=")
	f.Add("PLAKkey0123", "")
	f.Add("user", "pässwörd\"\\<>")
	f.Fuzz(func(t *testing.T, user, secret string) {
		if len(secret) < MinSecretLen || strings.Contains(user, ":") {
			return
		}
		var s Secrets
		s.AddBasic(user, secret)
		for _, form := range encodings(secret) {
			if got := s.Scrub("[" + form + "]"); strings.Contains(got, form) && len(form) >= MinSecretLen {
				t.Fatalf("%q survives in %q", form, got)
			}
		}
		basic := base64.StdEncoding.EncodeToString([]byte(user + ":" + secret))
		if strings.Contains(s.Scrub("Basic "+basic), basic) {
			t.Fatalf("Basic blob survives")
		}
	})
}
