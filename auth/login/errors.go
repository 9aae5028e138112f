package login

import (
	"errors"
	"fmt"
)

// Sentinel errors of a login attempt; test with errors.Is. The returned
// errors also wrap the provider's *oauth2.RetrieveError when there is one.
var (
	// ErrAccessDenied: the user (or the provider's policy) refused the
	// sign-in request.
	ErrAccessDenied = errors.New("login: access denied")
	// ErrCodeExpired: the device code expired before the user finished
	// signing in.
	ErrCodeExpired = errors.New("login: the sign-in code expired before it was used")
	// ErrStateMismatch: the browser came back to the loopback callback with
	// a state that this login did not send (a stale tab or a forged
	// request); the code in it is not used.
	ErrStateMismatch = errors.New("login: the browser callback carried an unknown state")
	// ErrNotLoggedIn: there is no stored session of that name.
	ErrNotLoggedIn = errors.New("login: not logged in")
	// ErrUnsupported: the provider lacks what the chosen flow needs.
	ErrUnsupported = errors.New("login: not supported by the provider")
)

// AuthorizationError is an error the provider sent back to the loopback
// callback in place of a code (RFC 6749 §4.1.2.1).
type AuthorizationError struct {
	Code        string // e.g. "access_denied", "invalid_scope"
	Description string
}

// Error gives the server's error code and description.
func (e *AuthorizationError) Error() string {
	msg := "login: the provider refused the sign-in: " + e.Code
	if e.Description != "" {
		msg += ": " + e.Description
	}
	return msg
}

// Is makes an access_denied answer match ErrAccessDenied.
func (e *AuthorizationError) Is(target error) bool {
	return target == ErrAccessDenied && e.Code == "access_denied"
}

// SessionExpiredError reports that a stored session can no longer give
// access tokens: the provider refused the refresh token (revoked, expired,
// or rotated by another program: invalid_grant), or there is none and the
// access token has expired. The user has to log in again.
type SessionExpiredError struct {
	Name string // session name
	Err  error  // the provider's answer, usually an *oauth2.RetrieveError
}

// Error says that the login has expired and how to log in again.
func (e *SessionExpiredError) Error() string {
	msg := fmt.Sprintf("login session %q has expired or was revoked; run \"stacq auth login\" again", e.Name)
	if e.Err != nil {
		msg += " (" + e.Err.Error() + ")"
	}
	return msg
}

// Unwrap returns the refusal of the token endpoint.
func (e *SessionExpiredError) Unwrap() error { return e.Err }

// NotLoggedInError reports a missing session; it matches ErrNotLoggedIn.
type NotLoggedInError struct {
	Name string
}

// Error says that there is no login and how to make one.
func (e *NotLoggedInError) Error() string {
	return fmt.Sprintf("login: no login session %q; run \"stacq auth login\" first", e.Name)
}

// Is reports whether target is ErrNotLoggedIn.
func (e *NotLoggedInError) Is(target error) bool { return target == ErrNotLoggedIn }

// RevokeError reports that logout removed the local session but the
// provider's revocation endpoint did not confirm revoking the token.
type RevokeError struct {
	StatusCode  int
	Code        string // RFC 6749 error code, when the body had one
	Description string
	Err         error // transport error, when the request failed
}

// Error says what the revocation endpoint answered.
func (e *RevokeError) Error() string {
	msg := "login: logged out locally, but revoking the token at the provider failed"
	switch {
	case e.Err != nil:
		msg += ": " + e.Err.Error()
	case e.Code != "":
		msg += fmt.Sprintf(": HTTP %d %s", e.StatusCode, e.Code)
		if e.Description != "" {
			msg += ": " + e.Description
		}
	default:
		msg += fmt.Sprintf(": HTTP %d", e.StatusCode)
	}
	return msg
}

// Unwrap returns the failure of the revocation request.
func (e *RevokeError) Unwrap() error { return e.Err }
