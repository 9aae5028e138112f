package login

import (
	"bytes"
	"encoding/json"
	"testing"
)

func FuzzDecodeIDTokenClaims(f *testing.F) {
	f.Add(jwt(`{"iss":"https://kc/realms/x","sub":"f81d4fae","exp":1767225600,"iat":1767222000,"email":"a@b.c","name":"A"}`))
	f.Add(jwt(`{"sub":"x","exp":1.5e9,"aud":["a","b"],"nonce":"n"}`))
	f.Add(jwt(`{"exp":-1}`))
	f.Add("a.b.c")
	f.Add("a.b.c.d.e")
	f.Add("")
	f.Fuzz(func(t *testing.T, token string) {
		c, err := DecodeIDTokenClaims(token)
		if err != nil {
			if c != nil {
				t.Fatal("claims with an error")
			}
			return
		}
		_ = c.Identity()
		if !c.Expiry.IsZero() && (c.Expiry.Year() < 1970 || c.Expiry.Year() > 5200) {
			t.Fatalf("expiry %v out of the accepted range", c.Expiry)
		}
	})
}

// FuzzLoadSession feeds session files to the decoder Store.Load uses: it
// must not panic, and what it accepts must survive a save/load cycle.
func FuzzLoadSession(f *testing.F) {
	good, _ := json.Marshal(sampleSession())
	f.Add(good)
	f.Add([]byte(`{"issuer":"https://x","client_id":"c","token_endpoint":"https://x/t","refresh_token":"r","expiry":"2026-01-01T00:00:00+01:00"}`))
	f.Add([]byte(`{"issuer":"https://x","client_id":"c","token_endpoint":"https://x/t","access_token":1}`))
	f.Add([]byte(`{"expiry":"not a time"}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{"issuer":"https://x","client_id":"c","token_endpoint":"https://x/t","access_tok`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := decodeSession(data)
		if err != nil {
			return
		}
		store := Store{Dir: t.TempDir()}
		if err := store.Save("fuzz", s); err != nil {
			t.Fatalf("accepted session does not save: %v", err)
		}
		back, err := store.Load("fuzz")
		if err != nil {
			t.Fatalf("saved session does not load: %v", err)
		}
		a, _ := json.Marshal(s)
		b, _ := json.Marshal(back)
		if !bytes.Equal(a, b) {
			t.Fatalf("save/load changed the session:\n%s\n%s", a, b)
		}
	})
}
