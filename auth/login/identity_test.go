package login

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"
)

// jwt builds an unsigned-looking JWT around payload (signatures are not
// checked by DecodeIDTokenClaims).
func jwt(payload string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"RS256","kid":"k1"}`)) + "." + enc([]byte(payload)) + ".c2ln"
}

func TestDecodeIDTokenClaims(t *testing.T) {
	for _, tc := range []struct {
		name     string
		token    string
		identity string
		expiry   time.Time
		err      string
	}{
		{"keycloak", jwt(`{"iss":"https://kc/realms/x","sub":"f81d4fae","exp":1767225600,"iat":1767222000,` +
			`"email":"alice@example.com","name":"Alice Doe","preferred_username":"alice","aud":["cli","account"]}`),
			"Alice Doe <alice@example.com>", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), ""},
		{"username only", jwt(`{"sub":"auth0|123","preferred_username":"alice","aud":"cli"}`), "alice", time.Time{}, ""},
		{"email only", jwt(`{"sub":"auth0|123","email":"a@b.c"}`), "a@b.c", time.Time{}, ""},
		{"subject only, fractional exp", jwt(`{"sub":"123","exp":1767225600.5}`), "123",
			time.Date(2026, 1, 1, 0, 0, 0, 5e8, time.UTC), ""},
		{"padded payload", strings.Replace(jwt(`{"sub":"x"}`), ".c2ln", "", 1) + "==.c2ln", "x", time.Time{}, ""},
		{"not a JWT", "opaque-token", "", time.Time{}, "not a JWT"},
		{"encrypted", "a.b.c.d.e", "", time.Time{}, "encrypted"},
		{"bad base64", "a.!!!.c", "", time.Time{}, "base64url"},
		{"payload not an object", jwt(`[1,2]`), "", time.Time{}, "not a JSON object"},
		{"sub not a string", jwt(`{"sub":12}`), "", time.Time{}, "not a JSON object"},
		{"exp a string", jwt(`{"exp":"tomorrow"}`), "", time.Time{}, "not a JSON object"},
		{"exp absurd", jwt(`{"exp":1e300}`), "", time.Time{}, "exp: not a date"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := DecodeIDTokenClaims(tc.token)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Identity() != tc.identity || !c.Expiry.Equal(tc.expiry) {
				t.Errorf("identity %q expiry %v, want %q %v", c.Identity(), c.Expiry, tc.identity, tc.expiry)
			}
		})
	}
}

func TestProvidersPlanet(t *testing.T) {
	p, ok := LookupProvider("Planet")
	if !ok {
		t.Fatal("no planet preset")
	}
	if p.Issuer != "https://login.planet.com/" || p.ClientID == "" || p.AuthParams["audience"] != "https://api.planet.com/" {
		t.Errorf("planet preset %+v", p)
	}
	if err := checkEndpoint("issuer", p.Issuer); err != nil {
		t.Error(err)
	}
	// Providers hands out copies.
	Providers()[0].Scopes[0] = "changed"
	p.Config().AuthParams["audience"] = "changed"
	again, _ := LookupProvider("planet")
	if again.Scopes[0] == "changed" || again.AuthParams["audience"] == "changed" {
		t.Error("a caller changed the preset table")
	}
	if _, ok := LookupProvider("nope"); ok {
		t.Error("unknown provider found")
	}
}

func TestFlowString(t *testing.T) {
	for f, want := range map[Flow]string{FlowAuto: "auto", FlowDevice: "device", FlowBrowser: "browser"} {
		if f.String() != want {
			t.Errorf("%d.String() = %q", f, f.String())
		}
	}
}
