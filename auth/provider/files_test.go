package provider

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

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
