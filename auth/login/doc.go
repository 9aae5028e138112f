// Package login signs a user in to an OpenID Connect provider from a
// terminal and keeps the resulting session usable across commands.
//
// A login runs one of two flows, both started from provider discovery
// (ISSUER/.well-known/openid-configuration):
//
//   - the device authorization grant (RFC 8628): the user opens a URL on any
//     device and types a short code, while the program polls the token
//     endpoint ([Config.LoginDevice]);
//   - the authorization code grant with PKCE (RFC 7636) and a loopback
//     redirect (RFC 8252): the program opens the browser and waits for the
//     redirect on http://127.0.0.1:PORT/callback ([Config.LoginBrowser]).
//
// The session (refresh token, access token, ID token and the endpoints
// needed later) is saved per name in a [Store], one 0600 JSON file per
// session written atomically. A [TokenSource] then serves access tokens to
// every command, renewing them with the refresh token before they expire,
// saving rotated refresh tokens, and coalescing concurrent renewals. When
// the provider refuses the refresh token the error is a
// [*SessionExpiredError] that tells the user to log in again.
//
// The package speaks OAuth through golang.org/x/oauth2 and HTTP through the
// *http.Client the caller passes; it knows nothing about STAC.
package login
