package login

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Logout deletes session name and, when the provider has a revocation
// endpoint, revokes its refresh token (or, lacking one, its access token)
// there (RFC 7009). The local session is deleted even if revocation
// fails; that failure is then returned as a *RevokeError so the caller
// can warn without failing.
func Logout(ctx context.Context, store Store, name string, hc *http.Client) error {
	sess, err := store.Load(name)
	if errors.Is(err, ErrNotLoggedIn) {
		return err
	}
	if err != nil {
		// A damaged file cannot be revoked but can still be removed.
		if derr := store.Delete(name); derr != nil {
			return derr
		}
		return nil
	}
	if err := store.Delete(name); err != nil {
		return err
	}
	if sess.RevocationEndpoint == "" {
		return nil
	}
	token, hint := sess.RefreshToken, "refresh_token"
	if token == "" {
		token, hint = sess.AccessToken, "access_token"
	}
	return revoke(ctx, hc, sess.RevocationEndpoint, sess.ClientID, token, hint)
}

func revoke(ctx context.Context, hc *http.Client, endpoint, clientID, token, hint string) error {
	form := url.Values{"token": {token}, "token_type_hint": {hint}, "client_id": {clientID}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return &RevokeError{Err: err}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := httpClient(hc).Do(req)
	if err != nil {
		return &RevokeError{Err: err}
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxDocument))
	if resp.StatusCode == http.StatusOK {
		return nil // RFC 7009 §2.2: 200 also for tokens already invalid
	}
	rerr := &RevokeError{StatusCode: resp.StatusCode}
	var e struct {
		Code        string `json:"error"`
		Description string `json:"error_description"`
	}
	if json.Unmarshal(body, &e) == nil {
		rerr.Code, rerr.Description = e.Code, e.Description
	}
	return rerr
}
