package auth

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"golang.org/x/oauth2"
)

func FuzzParseJWTExpiry(f *testing.F) {
	f.Add(makeJWT(map[string]any{"exp": 1750000000, "sub": "x"}))
	f.Add(makeJWT(map[string]any{"exp": 1.75e9}))
	f.Add(makeJWT(map[string]any{"exp": "1750000000"}))
	f.Add(makeJWT(map[string]any{"exp": -1}))
	f.Add(makeJWT(map[string]any{"exp": 1e300}))
	f.Add("eyJhbGciOiJub25lIn0.eyJleHAiOjF9.")
	f.Add("a.b.c")
	f.Add("not-a-jwt")
	f.Add("..")
	f.Fuzz(func(t *testing.T, tok string) {
		exp, ok := ParseJWTExpiry(tok)
		if !ok {
			if !exp.IsZero() {
				t.Errorf("not ok but exp %v", exp)
			}
			return
		}
		if exp.Unix() <= 0 || exp.Unix() > maxExp {
			t.Errorf("exp %v out of range", exp)
		}
		// Renewal arithmetic must not overflow for any accepted exp.
		g := &grant{Token: &oauth2.Token{AccessToken: tok, Expiry: exp}, issued: time.Now()}
		_ = g.fresh(time.Now())
	})
}

func TestParseJWTExpiry(t *testing.T) {
	for _, tt := range []struct {
		tok  string
		want int64
		ok   bool
	}{
		{makeJWT(map[string]any{"exp": 1750000000}), 1750000000, true},
		{makeJWT(map[string]any{"exp": 1750000000.5}), 1750000000, true},
		{makeJWT(map[string]any{"exp": "1750000000"}), 0, true}, // a numeric string
		{makeJWT(map[string]any{"iat": 1}), 0, false},
		{makeJWT(map[string]any{"exp": 0}), 0, false},
		{makeJWT(map[string]any{"exp": 1e20}), 0, false},
		{"header.eyJleHAiOjE3NTAwMDAwMDB9.sig", 1750000000, true},
		{"header.eyJleHAiOjE3NTAwMDAwMDB9==.sig", 1750000000, true}, // padded
		{"header.!!!.sig", 0, false},
		{"opaque-token-value", 0, false},
	} {
		exp, ok := ParseJWTExpiry(tt.tok)
		if ok != tt.ok || (tt.want != 0 && exp.Unix() != tt.want) {
			t.Errorf("ParseJWTExpiry(%q) = %v, %v; want %d, %v", tt.tok, exp, ok, tt.want, tt.ok)
		}
	}
}

func FuzzParseCredentialsFile(f *testing.F) {
	f.Add([]byte(`{"client_id":"abc","client_secret":"def"}`))
	f.Add([]byte("\xef\xbb\xbf{\"client_id\":\" abc \",\"client_secret\":\"def\",\"extra\":1}"))
	f.Add([]byte(`{"client_id":1,"client_secret":"SECRETVALUE"}`))
	f.Add([]byte(`{"client_id":"abc"}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"client_secret":"SECRETVALUE"`))
	f.Add([]byte(`client_id=abc`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseCredentialsFile(data)
		if err != nil {
			// The error must not quote the file: find a 6+ byte run of the
			// input in the message that is not from our own wording.
			msg := err.Error()
			if sec := c.ClientSecret; sec != "" {
				t.Errorf("error with a result: %+v", c)
			}
			if i := bytes.Index(data, []byte(`"client_secret":"`)); i >= 0 {
				rest := data[i+len(`"client_secret":"`):]
				if j := bytes.IndexByte(rest, '"'); j >= 6 && !strings.Contains(`want a JSON object {"client_id": "...", "client_secret": "..."}`, string(rest[:j])) && strings.Contains(msg, string(rest[:j])) {
					t.Errorf("error quotes the secret: %s", msg)
				}
			}
			return
		}
		if c.ClientID == "" || c.ClientSecret == "" || strings.TrimSpace(c.ClientID) != c.ClientID {
			t.Errorf("accepted %+v", c)
		}
	})
}

func TestParseCredentialsFile(t *testing.T) {
	for _, tt := range []struct{ in, id, secret, err string }{
		{`{"client_id":"abc","client_secret":"def"}`, "abc", "def", ""},
		{"{\n  \"client_id\": \"abc\",\n  \"client_secret\": \"def\",\n  \"note\": \"x\"\n}\n", "abc", "def", ""},
		{`{"client_id":"abc"}`, "", "", `no "client_secret"`},
		{`{"client_secret":"TOPSECRET"}`, "", "", `no "client_id"`},
		{`{}`, "", "", `no "client_id" and "client_secret"`},
		{`{"client_id":"abc","client_secret":TOPSECRET}`, "", "", "not valid JSON (at byte"},
		{`{"client_id":"abc","client_secret":12345}`, "", "", `"client_secret" is not a string`},
		{`["TOPSECRET"]`, "", "", "want a JSON object"},
	} {
		c, err := ParseCredentialsFile([]byte(tt.in))
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) || strings.Contains(err.Error(), "TOPSECRET") {
				t.Errorf("%s: err = %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || c.ClientID != tt.id || c.ClientSecret != tt.secret {
			t.Errorf("%s: %+v, %v", tt.in, c, err)
		}
	}
}

func FuzzParseDotEnv(f *testing.F) {
	f.Add([]byte("EDS_CLIENT_ID=abc\nEDS_SECRET=def\n"))
	f.Add([]byte("# comment\r\nexport EDS_SECRET='a b # c'  # trailing\r\n\r\nEDS_API_URL=\"https://api.earthdaily.com\"\n"))
	f.Add([]byte("KEY=value # comment\nKEY2=\nKEY3==x\n"))
	f.Add([]byte("=novalue\n"))
	f.Add([]byte("KEY=\"unterminated SECRETSECRET\n"))
	f.Add([]byte("1KEY=x"))
	f.Add([]byte("\xef\xbb\xbfKEY=x"))
	f.Fuzz(func(t *testing.T, data []byte) {
		env, err := ParseDotEnv(data)
		if err != nil {
			msg := err.Error()
			if !strings.HasPrefix(msg, "line ") && !strings.HasPrefix(msg, "reading") {
				t.Errorf("error %q does not name a line", msg)
			}
			// Messages are fixed text plus a line number and a quote char.
			if len(msg) > 64 {
				t.Errorf("error %q may quote the input", msg)
			}
			return
		}
		for k, v := range env {
			if !validEnvKey(k) {
				t.Errorf("invalid key %q", k)
			}
			if strings.ContainsAny(v, "\n") {
				t.Errorf("value with a newline: %q", v)
			}
			if !bytes.Contains(data, []byte(k)) {
				t.Errorf("key %q not in input", k)
			}
		}
	})
}

func TestParseDotEnv(t *testing.T) {
	in := "# EarthDaily\n" +
		"EDS_AUTH_URL=https://auth.earthdaily.com/oauth2/token\r\n" +
		"export EDS_CLIENT_ID = abc123 \n" +
		"EDS_SECRET=\"s3cr#t with spaces\"  # quoted\n" +
		"EDS_API_URL='https://api.earthdaily.com'\n" +
		"EMPTY=\n" +
		"WITH_EQ=a=b\n" +
		"COMMENTED=value # note\n" +
		"EDS_SECRET_2=x#y\n"
	env, err := ParseDotEnv([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"EDS_AUTH_URL": "https://auth.earthdaily.com/oauth2/token", "EDS_CLIENT_ID": "abc123",
		"EDS_SECRET": "s3cr#t with spaces", "EDS_API_URL": "https://api.earthdaily.com",
		"EMPTY": "", "WITH_EQ": "a=b", "COMMENTED": "value", "EDS_SECRET_2": "x#y",
	}
	if fmt.Sprint(env) != fmt.Sprint(want) {
		t.Errorf("got %v\nwant %v", env, want)
	}
	for in, wantErr := range map[string]string{
		"A=1\nnot an assignment SECRET\n": "line 2: want KEY=VALUE",
		"A=\"SECRET":                      "line 1: unterminated \" quote",
		"A='SECRET' junk":                 "line 1: text after the closing quote",
		"MY-KEY=SECRET":                   "line 1: want KEY=VALUE",
	} {
		_, err := ParseDotEnv([]byte(in))
		if err == nil || err.Error() != wantErr {
			t.Errorf("%q: err = %v, want %q", in, err, wantErr)
		}
	}
}

func FuzzDecodeCacheFile(f *testing.F) {
	key := cacheKey{TokenURL: "https://idp.example/token", ClientID: "cid"}
	f.Add([]byte(`{"version":1,"token_url":"https://idp.example/token","client_id":"cid","access_token":"a","expiry":"2030-01-01T00:00:00Z","issued":"2029-12-31T23:00:00Z"}`))
	f.Add([]byte(`{"version":1,"token_url":"https://idp.example/token","client_id":"cid","access_token":"a","expiry":"0001-01-01T00:00:00Z"}`))
	f.Add([]byte(`{"version":1,"token_url":"https://idp.example/token","client_id":"cid","access_token":"a","expiry":"9999-12-31T23:59:59Z","issued":"-0001-01-01T00:00:00Z"}`))
	f.Add([]byte(`{"version":2}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		cf, err := decodeCacheFile(data, key)
		if err != nil {
			return
		}
		if cf.TokenURL != key.TokenURL || cf.ClientID != key.ClientID || cf.AccessToken == "" {
			t.Errorf("accepted a foreign file: %+v", cf)
		}
		g := cf.grant()
		_ = g.fresh(time.Now())
		_ = g.renewAt()
	})
}

// Whatever a token endpoint answers, the error never shows the secret,
// even if the server echoes the request.
func FuzzTokenErrorNoSecret(f *testing.F) {
	f.Add(401, `{"error":"invalid_client","error_description":"bad secret Sup3r-S3cret+/=x"}`, "application/json")
	f.Add(400, `error=invalid_request&error_description=client_secret%3DSup3r-S3cret%2B%2F%3Dx`, "application/x-www-form-urlencoded")
	f.Add(500, `<html>grant_type=client_credentials&client_secret=Sup3r-S3cret%2B%2F%3Dx</html>`, "text/html")
	f.Add(429, ``, "")
	f.Add(200, `{"error":"`+strings.Repeat("é", 200)+`"}`, "application/json")
	f.Fuzz(func(t *testing.T, status int, body, ctype string) {
		if status < 100 || status > 999 {
			return
		}
		re := &oauth2.RetrieveError{
			Response: &http.Response{StatusCode: status, Header: http.Header{"Content-Type": {ctype}}},
			Body:     []byte(body + " " + testSecret),
		}
		// Mirror x/oauth2's parsing of the error members loosely: put the
		// body in them too.
		re.ErrorCode, re.ErrorDescription = body, body+testSecret
		te := tokenError("p", "https://idp.example/token", re, testSecret)
		msg := te.Error()
		if strings.Contains(msg, testSecret) {
			t.Errorf("secret in %q", msg)
		}
		if !utf8.ValidString(msg) {
			t.Errorf("invalid UTF-8: %q", msg)
		}
		if len(msg) > 1200 {
			t.Errorf("message of %d bytes", len(msg))
		}
	})
}

func FuzzParseRetryAfter(f *testing.F) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Add("0")
	f.Add("1")
	f.Add("-5")
	f.Add("99999999999999999999")
	f.Add("Wed, 01 Jan 2025 00:00:10 GMT")
	f.Add("soon")
	f.Fuzz(func(t *testing.T, v string) {
		d := parseRetryAfter(v, now)
		if d < 0 || d > maxRateLimitWait+time.Second {
			t.Errorf("parseRetryAfter(%q) = %v", v, d)
		}
	})
}
