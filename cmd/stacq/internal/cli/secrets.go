package cli

import (
	"strings"

	"github.com/stacq/stacq/internal/redact"
)

// withSecrets gives io a set of the credentials this run sends, and wraps
// Stderr so that none of them is ever printed there, in any encoding it
// was sent in (raw, URL, JSON, base64, HTTP Basic), whoever prints it:
// errors, -v traces, server error bodies quoted in messages. The auth
// layers add what they send; addSecret adds more (a --header value).
func (o IO) withSecrets() IO {
	if o.secrets != nil {
		return o
	}
	o.secrets = &redact.Secrets{}
	if o.Stderr != nil {
		o.Stderr = o.secrets.Writer(o.Stderr)
	}
	return o
}

// addSecret masks value on Stderr from now on.
func (o IO) addSecret(value string) {
	if o.secrets != nil {
		o.secrets.Add(value)
	}
}

// credentialHeader reports whether a --header's name says its value is a
// credential (Authorization, X-Api-Key, Ocp-Apim-Subscription-Key, a
// cookie or token): such values are masked on stderr.
func credentialHeader(name string) bool {
	n := strings.ToLower(name)
	for _, w := range []string{"auth", "key", "token", "secret", "cookie", "session", "signature", "password", "credential"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}
