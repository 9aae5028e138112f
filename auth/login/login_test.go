package login

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

func TestMain(m *testing.M) {
	// The op logs every refused request (slow_down, access_denied) through
	// slog's default logger; the tests provoke those on purpose.
	slog.SetDefault(slog.New(slog.DiscardHandler))
	os.Exit(m.Run())
}

// testUnit is one "second" of RFC 8628 polling intervals in tests.
const testUnit = 10 * time.Millisecond

func testConfig(tp *testOP) Config {
	return Config{
		Issuer:     tp.Issuer,
		ClientID:   testClientID,
		HTTPClient: &http.Client{Timeout: 5 * time.Second},
		pollUnit:   testUnit,
	}
}

// deviceUser plays the user of the device flow: it reads the prompt the
// login prints, and answers at the verification URL it names.
type deviceUser struct {
	out  bytes.Buffer // everything the login printed
	done chan error   // result of the user's answer
	pw   *io.PipeWriter
	wg   sync.WaitGroup
}

var promptRE = regexp.MustCompile(`open (\S+) and enter the code: (\S+)`)

func newDeviceUser(t *testing.T, action string) *deviceUser {
	pr, pw := io.Pipe()
	u := &deviceUser{done: make(chan error, 1), pw: pw}
	u.wg.Add(1)
	go func() {
		defer u.wg.Done()
		sc := bufio.NewScanner(pr)
		answered := false
		for sc.Scan() {
			line := sc.Text()
			u.out.WriteString(line + "\n")
			m := promptRE.FindStringSubmatch(line)
			if m == nil || answered || action == "" {
				continue
			}
			answered = true
			resp, err := http.PostForm(m[1], url.Values{
				"user_code": {m[2]}, "username": {testUser}, "password": {testPassword}, "action": {action},
			})
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					err = errors.New("verification page: " + resp.Status)
				}
			}
			u.done <- err
		}
	}()
	t.Cleanup(func() { pw.Close(); u.wg.Wait() })
	return u
}

// output closes the prompt and returns what the login printed.
func (u *deviceUser) output() string {
	u.pw.Close()
	u.wg.Wait()
	return u.out.String()
}

func TestLoginDevice(t *testing.T) {
	tp := startOP(t, opOptions{})
	cfg := testConfig(tp)
	cfg.AuthParams = map[string]string{"audience": "https://api.example.com/"}
	user := newDeviceUser(t, "allow")
	cfg.Prompt = user.pw

	start := time.Now()
	sess, err := cfg.LoginDevice(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if err := <-user.done; err != nil {
		t.Fatal(err)
	}
	out := user.output()
	if !strings.Contains(out, tp.Issuer+"/device") || !strings.Contains(out, "user_code=") {
		t.Errorf("prompt does not show the verification URLs:\n%s", out)
	}
	if sess.AccessToken == "" || sess.RefreshToken == "" || sess.IDToken == "" {
		t.Fatalf("session lacks tokens: %v", sess)
	}
	if sess.Issuer != tp.Issuer || sess.ClientID != testClientID || sess.TokenEndpoint != tp.Issuer+"/oauth/token" ||
		sess.RevocationEndpoint != tp.Issuer+"/revoke" || sess.UserinfoEndpoint != tp.Issuer+"/userinfo" {
		t.Errorf("session endpoints: %+v", sess)
	}
	if !slices.Contains(sess.Scopes, "offline_access") || !slices.Contains(sess.Scopes, "openid") {
		t.Errorf("scopes %v: want openid and offline_access (advertised by the provider)", sess.Scopes)
	}
	if d := time.Until(sess.Expiry); d < 59*time.Minute || d > time.Hour {
		t.Errorf("access token expiry in %v, want ~1h", d)
	}
	if sess.LoggedIn.Before(start) {
		t.Errorf("LoggedIn %v before the login started", sess.LoggedIn)
	}
	claims, err := sess.Identity()
	if err != nil {
		t.Fatal(err)
	}
	if claims.Subject != testSubject || claims.Email != "alice@example.com" || claims.Identity() != "Alice Example <alice@example.com>" {
		t.Errorf("identity %+v", claims)
	}
	tp.mu.Lock()
	form := tp.devForms[0]
	tp.mu.Unlock()
	if form.Get("audience") != "https://api.example.com/" || form.Get("client_id") != testClientID {
		t.Errorf("device authorization request form %v: want audience and client_id", form)
	}
}

func TestLoginDeviceRefusals(t *testing.T) {
	for _, tc := range []struct {
		name    string
		opts    opOptions
		action  string
		want    error
		message string
	}{
		{"denied", opOptions{}, "deny", ErrAccessDenied, "refused"},
		{"expired", opOptions{expiredDevice: true}, "", ErrCodeExpired, "stacq auth login"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tp := startOP(t, tc.opts)
			cfg := testConfig(tp)
			user := newDeviceUser(t, tc.action)
			cfg.Prompt = user.pw
			_, err := cfg.LoginDevice(t.Context())
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			var re *oauth2.RetrieveError
			if !errors.As(err, &re) {
				t.Errorf("err %v does not wrap the provider's *oauth2.RetrieveError", err)
			}
			if !strings.Contains(err.Error(), tc.message) {
				t.Errorf("err %q does not say %q", err, tc.message)
			}
		})
	}
}

func TestLoginDeviceSlowDown(t *testing.T) {
	tp := startOP(t, opOptions{slowDownPolls: 2})
	cfg := testConfig(tp)
	user := newDeviceUser(t, "allow")
	cfg.Prompt = user.pw
	if _, err := cfg.LoginDevice(t.Context()); err != nil {
		t.Fatal(err)
	}
	polls := tp.st.pollTimes()
	if len(polls) < 3 {
		t.Fatalf("%d polls, want at least 3", len(polls))
	}
	// The op announced interval 1; each slow_down adds 5 (RFC 8628 §3.5):
	// the gaps after the first and second slow_down are 6 and 11 units.
	for i, want := range []time.Duration{6 * testUnit, 11 * testUnit} {
		if gap := polls[i+1].Sub(polls[i]); gap < want {
			t.Errorf("gap %d between polls = %v, want >= %v", i+1, gap, want)
		}
	}
}

func TestLoginDeviceCancel(t *testing.T) {
	tp := startOP(t, opOptions{})
	cfg := testConfig(tp)
	user := newDeviceUser(t, "") // reads the prompt, never approves
	cfg.Prompt = user.pw
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := cfg.LoginDevice(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("login took %v to notice the cancelled context", d)
	}
}

// browser plays the user's browser: it follows the authorization URL,
// signs in at the provider's login page, and follows the redirect to the
// loopback callback. It returns the callback page.
func browser(issuer, authURL string) (string, error) {
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(authURL)
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	id := resp.Request.URL.Query().Get("authRequestID")
	if id == "" {
		return "", errors.New("the provider did not show its login page: " + resp.Request.URL.String())
	}
	resp, err = c.PostForm(issuer+"/login", url.Values{"id": {id}, "username": {testUser}, "password": {testPassword}})
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return "", errors.New(resp.Status + ": " + string(body))
	}
	return string(body), nil
}

func TestLoginBrowser(t *testing.T) {
	tp := startOP(t, opOptions{})
	cfg := testConfig(tp)
	var prompt bytes.Buffer
	cfg.Prompt = &prompt
	cfg.Scopes = []string{"openid", "email", "stac:read"}
	page := make(chan string, 1)
	cfg.OpenBrowser = func(u string) error {
		go func() {
			p, err := browser(tp.Issuer, u)
			if err != nil {
				p = "browser: " + err.Error()
			}
			page <- p
		}()
		return nil
	}
	sess, err := cfg.LoginBrowser(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if p := <-page; !strings.Contains(p, "You are signed in") {
		t.Errorf("callback page: %s", p)
	}
	q := tp.lastAuthorize()
	if q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) != 43 {
		t.Errorf("authorization request without PKCE S256: %v", q)
	}
	if q.Get("state") == "" || q.Get("nonce") == "" {
		t.Errorf("authorization request without state or nonce: %v", q)
	}
	redirect, _ := url.Parse(q.Get("redirect_uri"))
	if redirect.Hostname() != "127.0.0.1" || redirect.Port() == "" || redirect.Path != "/callback" {
		t.Errorf("redirect_uri %s, want http://127.0.0.1:PORT/callback", redirect)
	}
	if got := strings.Fields(q.Get("scope")); !slices.Equal(got, []string{"openid", "email", "stac:read", "offline_access"}) {
		t.Errorf("scope = %v", got)
	}
	if sess.RefreshToken == "" || sess.AccessToken == "" {
		t.Fatalf("session lacks tokens: %v", sess)
	}
	claims, err := sess.Identity()
	if err != nil || claims.Nonce != q.Get("nonce") || claims.Email != "alice@example.com" {
		t.Errorf("ID token claims %+v (err %v), want the login's nonce and alice's email", claims, err)
	}
	if !strings.Contains(prompt.String(), tp.Issuer+"/authorize?") {
		t.Errorf("prompt does not show the authorization URL:\n%s", prompt.String())
	}
}

// TestLoginBrowserCallback drives the loopback callback directly with
// the answers a provider or an attacker may send.
func TestLoginBrowserCallback(t *testing.T) {
	for _, tc := range []struct {
		name  string
		query func(state string) string
		want  error
	}{
		{"wrong state", func(string) string { return "code=stolen&state=other" }, ErrStateMismatch},
		{"access denied", func(s string) string {
			return "error=access_denied&error_description=The+user+said+no&state=" + s
		}, ErrAccessDenied},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tp := startOP(t, opOptions{})
			cfg := testConfig(tp)
			var answer <-chan callbackAnswer
			cfg.OpenBrowser, answer = callBack(tc.query)
			_, err := cfg.LoginBrowser(t.Context())
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if s := (<-answer).status; s == 0 || (tc.want == ErrStateMismatch && s != http.StatusBadRequest) {
				t.Errorf("callback answered %d", s)
			}
			var ae *AuthorizationError
			if tc.want == ErrAccessDenied && (!errors.As(err, &ae) || ae.Description != "The user said no") {
				t.Errorf("err %v: want an *AuthorizationError with the description", err)
			}
		})
	}
}

func TestLoginBrowserNoBrowser(t *testing.T) {
	tp := startOP(t, opOptions{})
	cfg := testConfig(tp)
	var prompt bytes.Buffer
	cfg.Prompt = &prompt
	cfg.OpenBrowser = func(string) error { return ErrNoBrowser }
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	_, err := cfg.LoginBrowser(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want context.DeadlineExceeded", err)
	}
	if !strings.Contains(prompt.String(), "Open this URL in a browser") {
		t.Errorf("without a browser the URL must be printed for the user; got:\n%s", prompt.String())
	}
}

func TestLoginAuto(t *testing.T) {
	tp := startOP(t, opOptions{})
	cfg := testConfig(tp)
	opened := make(chan string, 1)
	cfg.OpenBrowser = func(u string) error {
		opened <- u
		go browser(tp.Issuer, u)
		return nil
	}
	if _, err := cfg.Login(t.Context(), FlowAuto); err != nil {
		t.Fatal(err)
	}
	select {
	case <-opened:
	default:
		t.Error("FlowAuto with a browser did not use the browser flow")
	}
}

func TestLoginThenStore(t *testing.T) {
	tp := startOP(t, opOptions{})
	store, sess := loggedIn(t, tp, nil)
	ts, err := NewTokenSource(t.Context(), store, "test", testConfig(tp).HTTPClient)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := ts.Token()
	if err != nil || tok.AccessToken != sess.AccessToken {
		t.Fatalf("Token() = %v, %v; want the stored access token", tok, err)
	}
	// The userinfo endpoint accepts the token: it is real.
	who, err := ts.UserInfo(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if who.Subject != testSubject || who.PreferredUsername != testUser {
		t.Errorf("userinfo %+v", who)
	}
	if _, err := os.Stat(store.Dir); err != nil {
		t.Fatal(err)
	}
}

// TestLoginBrowserBadCode: the provider refuses the code; the login fails
// with its answer and the browser page says so instead of "signed in".
func TestLoginBrowserBadCode(t *testing.T) {
	tp := startOP(t, opOptions{})
	cfg := testConfig(tp)
	var answer <-chan callbackAnswer
	cfg.OpenBrowser, answer = callBack(func(state string) string {
		return "code=forged&state=" + url.QueryEscape(state)
	})
	_, err := cfg.LoginBrowser(t.Context())
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
		t.Fatalf("err = %v, want the provider's invalid_grant", err)
	}
	if p := (<-answer).page; !strings.HasPrefix(p, "403") || !strings.Contains(p, "sign-in failed") {
		t.Errorf("callback page: %s", p)
	}
}

// callbackAnswer is what the login's loopback callback answered.
type callbackAnswer struct {
	status int    // 0 when the request failed
	page   string // the status line and the body, or the request's error
}

// callBack returns an OpenBrowser that skips the provider's sign-in: it
// calls the login's redirect_uri at once with the query that query makes
// of the login's state, and sends the callback's answer on the channel.
func callBack(query func(state string) string) (func(string) error, <-chan callbackAnswer) {
	answer := make(chan callbackAnswer, 1)
	open := func(u string) error {
		au, _ := url.Parse(u)
		q := au.Query()
		go func() {
			resp, err := http.Get(q.Get("redirect_uri") + "?" + query(q.Get("state")))
			if err != nil {
				answer <- callbackAnswer{page: err.Error()}
				return
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			answer <- callbackAnswer{status: resp.StatusCode, page: resp.Status + " " + string(b)}
		}()
		return nil
	}
	return open, answer
}

func TestOpenBrowserWithoutDisplay(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the display check is for X11/Wayland systems")
	}
	t.Setenv("DISPLAY", "")
	t.Setenv("WAYLAND_DISPLAY", "")
	if CanOpenBrowser() {
		t.Error("CanOpenBrowser without a display")
	}
	if err := OpenBrowser("https://example.com/"); !errors.Is(err, ErrNoBrowser) {
		t.Errorf("OpenBrowser = %v, want ErrNoBrowser", err)
	}
}
