package cli

import (
	"net/http"

	"github.com/spf13/pflag"
)

// authFlags are the authentication flags shared by every command.
// TODO(auth issue): wire auth.Resolve here.
type authFlags struct{}

func addAuthFlags(fs *pflag.FlagSet) *authFlags { return &authFlags{} }

// transport returns the round tripper that authenticates requests to
// apiURL; base is the client for token requests and the API.
func (a *authFlags) transport(io IO, apiURL string, base *http.Client) (http.RoundTripper, error) {
	return base.Transport, nil
}
