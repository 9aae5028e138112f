package login

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"html"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"time"

	"golang.org/x/oauth2"
)

// callbackPath is where the provider sends the browser back. Providers
// that follow RFC 8252 §7.3 accept any port on a registered loopback
// redirect URI.
const callbackPath = "/callback"

type callbackResult struct {
	code  string
	err   error
	reply chan<- error // the login's outcome, shown on the callback page
}

func (c *Config) loginBrowser(ctx context.Context, m *Metadata) (*Session, error) {
	if m.AuthorizationEndpoint == "" {
		return nil, fmt.Errorf("%w: %s has no authorization_endpoint; use the device login (--device)",
			ErrUnsupported, m.Issuer)
	}
	addr := c.ListenAddr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("login: listening for the browser redirect: %w", err)
	}
	defer ln.Close()
	if host, _, _ := net.SplitHostPort(ln.Addr().String()); !isLoopback(host) {
		return nil, fmt.Errorf("login: redirect listener %s is not a loopback address", ln.Addr())
	}

	scopes := c.scopes(m)
	oc := oauthConfig(m, c.ClientID, scopes)
	oc.RedirectURL = "http://" + ln.Addr().String() + callbackPath
	state := randomString(32)
	nonce := randomString(16)
	verifier := oauth2.GenerateVerifier()
	opts := append(c.authParams(),
		oauth2.S256ChallengeOption(verifier),
		oauth2.SetAuthURLParam("nonce", nonce))
	authURL := oc.AuthCodeURL(state, opts...)

	results := make(chan callbackResult, 1)
	done := make(chan struct{}) // closed when the login returns
	srv := &http.Server{
		Handler:           callbackHandler(state, results, done),
		ReadHeaderTimeout: 10 * time.Second,
	}
	go srv.Serve(ln)
	defer func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	defer close(done) // runs before Shutdown: frees a handler waiting for the outcome

	w := c.prompt()
	open := c.OpenBrowser
	if open == nil {
		open = OpenBrowser
	}
	if err := open(authURL); err != nil {
		fmt.Fprintf(w, "Open this URL in a browser to sign in:\n\n  %s\n\n", authURL)
	} else {
		fmt.Fprintf(w, "Your browser has been opened to sign in. If it did not open, visit:\n\n  %s\n\n", authURL)
	}
	fmt.Fprintln(w, "Waiting for the sign-in to complete in the browser...")

	var res callbackResult
	select {
	case <-ctx.Done():
		return nil, fmt.Errorf("login: waiting for the browser sign-in: %w", ctx.Err())
	case res = <-results:
	}
	if res.err != nil {
		res.reply <- res.err
		return nil, res.err
	}
	sess, err := c.redeem(ctx, m, oc, res.code, verifier, nonce, scopes)
	res.reply <- err
	return sess, err
}

// redeem exchanges the authorization code for tokens.
func (c *Config) redeem(ctx context.Context, m *Metadata, oc *oauth2.Config, code, verifier, nonce string, scopes []string) (*Session, error) {
	tok, err := oc.Exchange(withClient(ctx, c.HTTPClient), code, oauth2.VerifierOption(verifier))
	if err != nil {
		return nil, fmt.Errorf("login: exchanging the authorization code: %w", err)
	}
	if id := extraString(tok, "id_token"); id != "" {
		claims, err := DecodeIDTokenClaims(id)
		if err != nil {
			return nil, fmt.Errorf("login: the provider's ID token: %w", err)
		}
		if claims.Nonce != "" && claims.Nonce != nonce {
			return nil, errors.New("login: the ID token's nonce does not match this login; try again")
		}
	}
	return newSession(m, c.ClientID, scopes, tok, c.clock()), nil
}

// callbackHandler answers the browser's redirect: it hands the first
// outcome to results and shows the user how the login ended. A wrong
// state ends the login: the code in such a request was not asked for by
// us and must not be redeemed.
func callbackHandler(state string, results chan<- callbackResult, done <-chan struct{}) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+callbackPath, func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		reply := make(chan error, 1)
		res := callbackResult{reply: reply}
		status := http.StatusOK
		switch {
		case subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(state)) != 1:
			res.err = ErrStateMismatch
			status = http.StatusBadRequest
		case q.Get("error") != "":
			res.err = &AuthorizationError{Code: q.Get("error"), Description: q.Get("error_description")}
		case q.Get("code") == "":
			res.err = errors.New("login: the browser callback carried neither a code nor an error")
			status = http.StatusBadRequest
		default:
			res.code = q.Get("code")
		}
		var outcome error
		select {
		case results <- res:
			// Wait for the token exchange, so the page tells the truth.
			select {
			case outcome = <-reply:
			case <-done: // the login gave up (its context ended)
				outcome = errors.New("the login was cancelled")
			case <-r.Context().Done():
				return
			}
		default: // a login already ended; this is a late or repeated request
			outcome = errors.New("this sign-in has already completed")
			status = http.StatusConflict
		}
		if outcome != nil && status == http.StatusOK {
			status = http.StatusForbidden
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(status)
		msg := "You are signed in to stacq. You can close this window."
		if outcome != nil {
			msg = "stacq sign-in failed: " + outcome.Error()
		}
		fmt.Fprintf(w, "<!doctype html><title>stacq login</title><p>%s</p>\n", html.EscapeString(msg))
	})
	return mux
}

// ErrNoBrowser is returned by OpenBrowser when there is no browser to
// open (no display on Linux, no opener command).
var ErrNoBrowser = errors.New("login: no browser available")

// CanOpenBrowser reports whether OpenBrowser is likely to work here.
func CanOpenBrowser() bool {
	_, err := browserCommand("")
	return err == nil
}

// OpenBrowser opens url in the user's browser without waiting for it:
// open on macOS, rundll32 on Windows, xdg-open elsewhere when a display
// is set. The URL is passed as one argument, never through a shell.
func OpenBrowser(url string) error {
	cmd, err := browserCommand(url)
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("%w: %w", ErrNoBrowser, err)
	}
	go cmd.Wait() // reap the opener; its exit status tells us nothing useful
	return nil
}

func browserCommand(url string) (*exec.Cmd, error) {
	var name string
	var args []string
	switch runtime.GOOS {
	case "darwin":
		name, args = "open", []string{url}
	case "windows":
		name, args = "rundll32", []string{"url.dll,FileProtocolHandler", url}
	default:
		if os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
			return nil, ErrNoBrowser
		}
		name, args = "xdg-open", []string{url}
	}
	path, err := exec.LookPath(name)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNoBrowser, err)
	}
	return exec.Command(path, args...), nil
}
