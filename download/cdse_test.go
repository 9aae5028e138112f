package download_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stacq/stacq/download"
)

// A Keycloak token endpoint as CDSE runs it: password grants for the
// public client, 10-minute access tokens, refresh tokens for an hour.
type keycloak struct {
	grants    []string // grant_type of each request
	issued    int
	refreshAt map[string]time.Time // refresh token → expiry
}

func (k *keycloak) RoundTrip(r *http.Request) (*http.Response, error) {
	body, _ := io.ReadAll(r.Body)
	form, _ := url.ParseQuery(string(body))
	k.grants = append(k.grants, form.Get("grant_type"))
	answer := func(status int, s string) (*http.Response, error) {
		return &http.Response{StatusCode: status, Header: http.Header{"Content-Type": {"application/json"}},
			Body: io.NopCloser(strings.NewReader(s)), Request: r}, nil
	}
	if form.Get("client_id") != "cdse-public" {
		return answer(401, `{"error":"invalid_client"}`)
	}
	switch form.Get("grant_type") {
	case "password":
		if form.Get("username") != "me@example.com" || form.Get("password") != "hunter2" {
			return answer(401, `{"error":"invalid_grant","error_description":"Invalid user credentials"}`)
		}
	case "refresh_token":
		exp, ok := k.refreshAt[form.Get("refresh_token")]
		if !ok || !time.Now().Before(exp) {
			return answer(400, `{"error":"invalid_grant","error_description":"Token is not active"}`)
		}
	default:
		return answer(400, `{"error":"unsupported_grant_type"}`)
	}
	k.issued++
	rt := fmt.Sprintf("refresh-%d", k.issued)
	k.refreshAt[rt] = time.Now().Add(time.Hour)
	return answer(200, fmt.Sprintf(`{"access_token":"access-%d","expires_in":600,"refresh_expires_in":3600,"refresh_token":%q,"token_type":"Bearer"}`, k.issued, rt))
}

func TestCDSETokenSource(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		k := &keycloak{refreshAt: map[string]time.Time{}}
		ts := download.CDSETokenSource(context.Background(), download.CDSEConfig{
			Username: "me@example.com", Password: "hunter2", TokenURL: "https://id.test/token", HTTPClient: &http.Client{Transport: k}})
		tok := func() string {
			t.Helper()
			tk, err := ts.Token()
			if err != nil {
				t.Fatal(err)
			}
			return tk.AccessToken
		}
		if got := tok(); got != "access-1" {
			t.Fatalf("first token %q", got)
		}
		time.Sleep(9 * time.Minute)
		if got := tok(); got != "access-1" || len(k.grants) != 1 {
			t.Fatalf("token %q after 9 minutes, grants %q: want the same one reused", got, k.grants)
		}
		time.Sleep(time.Minute + time.Second)
		if got := tok(); got != "access-2" || k.grants[1] != "refresh_token" {
			t.Fatalf("after 10 minutes: %q, grants %q; want a refresh", got, k.grants)
		}
		// The refresh token dies with the session: sign in again.
		k.refreshAt = map[string]time.Time{}
		time.Sleep(11 * time.Minute)
		if got := tok(); got != "access-3" || strings.Join(k.grants[2:], ",") != "refresh_token,password" {
			t.Fatalf("after the session: %q, grants %q", got, k.grants)
		}
	})
}

func TestCDSEWrongPassword(t *testing.T) {
	k := &keycloak{refreshAt: map[string]time.Time{}}
	ts := download.CDSETokenSource(context.Background(), download.CDSEConfig{
		Username: "me@example.com", Password: "wrong-secret-pw", TokenURL: "https://id.test/token", HTTPClient: &http.Client{Transport: k}})
	_, err := ts.Token()
	var ce *download.CDSEError
	if !errors.As(err, &ce) || ce.Code != "invalid_grant" || ce.StatusCode != 401 {
		t.Fatalf("err = %v, want a CDSEError invalid_grant", err)
	}
	if strings.Contains(err.Error(), "wrong-secret-pw") || !strings.Contains(err.Error(), "CDSE_PASSWORD") {
		t.Errorf("error %q: must not show the password, must say what to check", err)
	}
}

func TestCDSEClient(t *testing.T) {
	k := &keycloak{refreshAt: map[string]time.Time{}}
	ts := download.CDSETokenSource(context.Background(), download.CDSEConfig{
		Username: "me@example.com", Password: "hunter2", HTTPClient: &http.Client{Transport: k}})
	var auth string
	base := &http.Client{Transport: roundTripper(func(r *http.Request) (*http.Response, error) {
		auth = r.Header.Get("Authorization")
		return &http.Response{StatusCode: 200, Body: http.NoBody, Request: r}, nil
	})}
	hc := download.CDSEClient(ts, base)
	resp, err := hc.Get("https://zipper.dataspace.copernicus.eu/odata/v1/Products(x)/$value")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if auth != "Bearer access-1" {
		t.Errorf("Authorization %q", auth)
	}
}
