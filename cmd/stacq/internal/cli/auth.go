package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/pflag"

	"github.com/stacq/stacq/auth"
	"github.com/stacq/stacq/auth/login"
	"github.com/stacq/stacq/auth/provider"
	"github.com/stacq/stacq/internal/redact"
	"github.com/stacq/stacq/internal/termsafe"
)

// authCommand is the `stacq auth` group. Its subcommands have flag sets of
// their own, so the group's flag set stops at the subcommand's name.
func authCommand() *command {
	return &command{
		name:    "auth",
		args:    "providers|status|token|login|logout [URL] [flags]",
		summary: "Show which credentials apply, print a token, sign in and out",
		examples: `  stacq auth providers                  # the providers stacq knows and what each needs
  stacq auth status URL                 # provider, method, where each credential comes from, cached token
  stacq auth token URL                  # a valid access token, e.g. for curl -H "Authorization: Bearer $(stacq auth token URL)"
  stacq auth login --provider planet    # sign in as a user (device code or browser)
  stacq auth login --issuer https://id.example.com/realms/x --client-id stacq --browser
  stacq auth logout URL                 # forget cached tokens and the login session (revoking it)

Run 'stacq auth <subcommand> --help' for a subcommand's flags.`,
		setup: func(fs *pflag.FlagSet) func(context.Context, IO, []string) error {
			fs.SetInterspersed(false)
			return runAuth
		},
	}
}

func authSubcommands() []*command {
	return []*command{
		authProvidersCommand(),
		authStatusCommand(),
		authTokenCommand(),
		authLoginCommand(),
		authLogoutCommand(),
	}
}

func runAuth(ctx context.Context, io IO, args []string) error {
	if len(args) == 0 {
		return usagef("expected a subcommand: providers, status, token, login or logout")
	}
	var sub *command
	for _, c := range authSubcommands() {
		if c.name == "auth "+args[0] {
			sub = c
		}
	}
	if sub == nil {
		return usagef("unknown subcommand %q: expected providers, status, token, login or logout", args[0])
	}
	fs := newFlagSet(sub)
	run := sub.setup(fs)
	help := fs.BoolP("help", "h", false, "show this help")
	if err := fs.Parse(args[1:]); err != nil {
		return usagef("%s: %v", args[0], err)
	}
	if *help {
		printCommandHelp(io.Stdout, sub, fs)
		return nil
	}
	return run(ctx, io, fs.Args())
}

// baseClient is the client of the auth subcommands' own requests (token
// endpoint, OpenID provider), traced with -v like the API commands'.
func (cf *clientFlags) baseClient(io IO) *http.Client {
	var base http.RoundTripper = http.DefaultTransport.(*http.Transport).Clone()
	if cf.auth != nil {
		base = cf.auth.limits().Transport(base)
	}
	if cf.verbose {
		base = &traceTransport{next: base, w: io.Stderr}
	}
	return &http.Client{Transport: base, Timeout: cf.timeout}
}

// resolveArgs resolves the credentials for the optional URL argument.
func (cf *clientFlags) resolveArgs(ctx context.Context, io IO, args []string) (*provider.Resolved, error) {
	args = cf.withDefaultURL(io, args, 0)
	if len(args) > 1 {
		return nil, usagef("expected at most one URL, got %d arguments", len(args))
	}
	apiURL := ""
	if len(args) == 1 {
		apiURL = args[0]
		if !isHTTPURL(apiURL) {
			return nil, usagef("expected an http(s) URL, got %q", redact.URL(apiURL))
		}
	}
	return cf.auth.resolve(ctx, io, apiURL, cf.baseClient(io), cf.verbose)
}

func authProvidersCommand() *command {
	return &command{
		name:    "auth providers",
		args:    "[flags]",
		summary: "List the providers stacq knows: how each is detected and what credentials it needs",
		setup: func(fs *pflag.FlagSet) func(context.Context, IO, []string) error {
			return func(ctx context.Context, io IO, args []string) error {
				if len(args) != 0 {
					return usagef("expected no arguments, got %d", len(args))
				}
				printProviders(io.Stdout)
				return nil
			}
		},
	}
}

func printProviders(w io.Writer) {
	logins := map[string]login.Provider{}
	for _, p := range login.Providers() {
		logins[p.Name] = p
	}
	for _, p := range provider.Presets() {
		fmt.Fprintf(w, "%s\n  %s\n", p.Name, p.Description)
		var detect []string
		if len(p.APIHosts) > 0 {
			detect = append(detect, "API URL host "+strings.Join(p.APIHosts, ", "))
		}
		if len(p.PublicHosts) > 0 {
			detect = append(detect, "public API host "+strings.Join(p.PublicHosts, ", ")+" (no auth)")
		}
		if p.Env.APIURL != "" {
			detect = append(detect, "the host of $"+p.Env.APIURL)
		}
		if c := presetCredentialNames(p); c != "" {
			detect = append(detect, "with no URL: "+c+" present")
		}
		fmt.Fprintf(w, "  detected by:  %s\n", strings.Join(detect, "; "))
		var needs []string
		if p.Env.APIKey != "" {
			k := "API key in " + p.Env.APIKey
			if len(p.APIKeyHosts) > 0 {
				k += " (for " + strings.Join(p.APIKeyHosts, ", ") + ")"
			}
			needs = append(needs, k)
		}
		if p.Env.ClientID != "" {
			c := "client id and secret in " + p.Env.ClientID + " and " + p.Env.ClientSecret
			if len(p.DotEnvFiles) > 0 {
				c += " (environment or " + strings.Join(p.DotEnvFiles, " / ") + ")"
			}
			needs = append(needs, c)
		}
		if len(p.CredentialsFiles) > 0 {
			needs = append(needs, "credentials file "+strings.Join(p.CredentialsFiles, ", ")+" or --credentials-file")
		}
		if l, ok := logins[p.Name]; ok {
			needs = append(needs, "a user login: stacq auth login --provider "+l.Name)
		}
		needs = append(needs, "or --client-id with --client-secret-file, --credentials-file, --token")
		fmt.Fprintf(w, "  credentials:  %s\n", strings.Join(needs, "; "))
		if p.TokenURL != "" {
			tu := p.TokenURL
			if p.Env.TokenURL != "" {
				tu += " (override: $" + p.Env.TokenURL + " or --token-url)"
			} else {
				tu += " (override: --token-url)"
			}
			fmt.Fprintf(w, "  token URL:    %s, client auth %s\n", tu, p.AuthStyle)
			if p.TokenURLNote != "" {
				fmt.Fprintf(w, "                (%s)\n", p.TokenURLNote)
			}
		}
		if p.Rate > 0 {
			fmt.Fprintf(w, "  rate limit:   %g requests/s per host (%s; override: --rate)\n", p.Rate, strings.Join(p.RateHosts, ", "))
		}
		if p.DefaultAPIURL != "" || p.Env.APIURL != "" {
			d := p.DefaultAPIURL
			if p.Env.APIURL != "" {
				d += " ($" + p.Env.APIURL + p.APIPath + " when set)"
			}
			fmt.Fprintf(w, "  default API:  %s\n", strings.TrimSpace(d))
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "%s\n  any other server: --token-url, --client-id, --client-secret-file or --credentials-file,\n"+
		"  --token, --api-key, or --user with --password-file; env STACQ_CLIENT_ID, STACQ_CLIENT_SECRET, STACQ_TOKEN_URL,\n"+
		"  STACQ_TOKEN, STACQ_API_KEY, STACQ_PASSWORD; HTTP Basic from the host's entry in ~/.netrc (or $NETRC);\n"+
		"  an API whose landing page describes its auth (auth:schemes) needs only the credentials\n\n",
		provider.ProviderGeneric)
	fmt.Fprintf(w, "%s\n  send no credentials\n", provider.ProviderNone)
}

// presetCredentialNames names what makes p the provider when no URL is
// given.
func presetCredentialNames(p provider.Preset) string {
	var names []string
	for _, n := range []string{p.Env.ClientID, p.Env.APIKey} {
		if n != "" {
			names = append(names, "$"+n)
		}
	}
	names = append(names, p.DotEnvFiles...)
	names = append(names, p.CredentialsFiles...)
	return strings.Join(names, " or ")
}

func authStatusCommand() *command {
	return &command{
		name:    "auth status",
		args:    "[URL] [flags]",
		summary: "Show the provider and method used for URL, where each credential comes from, cached tokens and login sessions",
		setup: func(fs *pflag.FlagSet) func(context.Context, IO, []string) error {
			cf := addClientFlags(fs)
			return func(ctx context.Context, io IO, args []string) error {
				io.ReadSecret = nil // status reports a missing secret rather than asking
				r, err := cf.resolveArgs(ctx, io, args)
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(io.Stdout, 0, 0, 2, ' ', 0)
				printStatus(tw, io, cf.auth, r, time.Now())
				if err := tw.Flush(); err != nil {
					return err
				}
				return printSessions(io, time.Now())
			}
		},
	}
}

// printStatus writes what r will do. It shows where each secret comes
// from, never its value.
func printStatus(w io.Writer, io IO, a *authFlags, r *provider.Resolved, now time.Time) {
	if r.APIURL != "" {
		fmt.Fprintf(w, "API URL:\t%s\n", redact.URL(r.APIURL))
	} else {
		fmt.Fprintf(w, "API URL:\tnone given\n")
	}
	for _, s := range r.Sources {
		if s.What == "provider" {
			fmt.Fprintf(w, "provider:\t%s\t(%s)\n", r.Provider, sourceLabel(s))
		}
	}
	printAdvertised(w, r)
	fmt.Fprintf(w, "method:\t%s\n", methodDescription(r.Method))
	for _, s := range r.Sources {
		if s.What == "provider" || s.What == "token source" || s.What == "scheme" {
			continue
		}
		v := s.Value
		if v == "" {
			v = "(set, not shown)"
		}
		fmt.Fprintf(w, "  %s:\t%s\t(%s)\n", s.What, v, sourceLabel(s))
	}
	if r.Rate > 0 {
		fmt.Fprintf(w, "rate limit:\t%g requests/s per host\t(%s; %s)\n", r.Rate, sourceLabel(provider.Source{What: "rate", From: r.RateFrom}), strings.Join(r.RateHosts, ", "))
	}
	if r.Method == auth.MethodNone {
		return
	}
	if len(r.SendsTo) > 0 {
		fmt.Fprintf(w, "sent to:\t%s\n", strings.Join(r.SendsTo, ", "))
	}
	switch r.Method {
	case auth.MethodClientCredentials:
		tok, path, ok := r.CachedToken()
		switch {
		case r.CacheFile == "":
			fmt.Fprintf(w, "cached token:\tnone (token cache off)\n")
		case !ok:
			fmt.Fprintf(w, "cached token:\tnone yet (%s)\n", r.CacheFile)
		default:
			fmt.Fprintf(w, "cached token:\t%s\t(%s)\n", expiryText(tok.Expiry, now), path)
		}
	case auth.MethodLogin:
		name, _ := a.sessionName(io, r.APIURL)
		fmt.Fprintf(w, "  login session:\t%s\n", name)
	}
}

// sourceLabel says where a piece came from in the CLI's words: a value
// auth got as a setting came from a flag.
func sourceLabel(s provider.Source) string {
	if s.From != "setting" {
		return s.From
	}
	switch s.What {
	case "provider":
		return "flag --provider"
	case "token URL":
		return "flag --token-url"
	case "auth style":
		return "flag --auth-style"
	case "scopes":
		return "flag --scope"
	case "rate":
		return "flag --rate"
	case "user":
		return "flag --user"
	}
	return "flag"
}

// printAdvertised shows what the API said of its auth (auth:schemes) and
// which scheme was chosen.
func printAdvertised(w io.Writer, r *provider.Resolved) {
	if r.Advertised == nil || len(r.Advertised.Schemes) == 0 {
		return
	}
	api := r.Advertised.ForAPI()
	for i, s := range r.Advertised.Schemes {
		label := ""
		if i == 0 {
			label = "advertised:"
		}
		note := "needs " + s.Needs()
		if !slices.ContainsFunc(api, func(a auth.Scheme) bool { return a.Name == s.Name }) {
			note = "not for the API's own links"
		}
		fmt.Fprintf(w, "%s\t%s\t(%s)\n", label, termsafe.String(s.String()), termsafe.String(note))
	}
	switch {
	case r.Chosen != nil:
		fmt.Fprintf(w, "chosen:\t%s %q\t(the credentials at hand satisfy it)\n", r.Chosen.Type, termsafe.String(r.Chosen.Name))
	case r.Method == auth.MethodNone:
		fmt.Fprintf(w, "chosen:\tnone\t(no credentials at hand satisfy an advertised scheme)\n")
	default:
		fmt.Fprintf(w, "chosen:\tnone\t(the method does not come from auth:schemes)\n")
	}
}

func methodDescription(m string) string {
	switch m {
	case auth.MethodNone:
		return "none (no credentials are sent)"
	case auth.MethodToken:
		return "token (static bearer token)"
	case auth.MethodAPIKey:
		return "apikey (API key)"
	case auth.MethodBasic:
		return "basic (HTTP Basic user and password)"
	case auth.MethodClientCredentials:
		return "client_credentials (OAuth2 client credentials)"
	case auth.MethodLogin:
		return "login (user session from 'stacq auth login')"
	}
	return m
}

// expiryText says when a token expires, relative to now.
func expiryText(exp time.Time, now time.Time) string {
	switch {
	case exp.IsZero():
		return "no expiry given"
	case !now.Before(exp):
		return fmt.Sprintf("expired at %s (%s ago)", exp.Local().Format(time.RFC3339), now.Sub(exp).Round(time.Second))
	default:
		return fmt.Sprintf("valid until %s (%s left)", exp.Local().Format(time.RFC3339), exp.Sub(now).Round(time.Second))
	}
}

// printSessions lists the stored login sessions: who is signed in where,
// and until when.
func printSessions(io IO, now time.Time) error {
	store, err := sessionStore(io)
	if err != nil {
		return nil // no configuration directory: no sessions either
	}
	names, err := store.List()
	if err != nil || len(names) == 0 {
		return nil
	}
	tw := tabwriter.NewWriter(io.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "\nlogin sessions (%s):\n", store.Dir)
	for _, name := range names {
		sess, err := store.Load(name)
		if err != nil {
			fmt.Fprintf(tw, "  %s:\tunreadable: %v\n", name, err)
			continue
		}
		who := "unknown user (no ID token)"
		if c, err := sess.Identity(); err == nil && c != nil {
			who = c.Identity()
		}
		fmt.Fprintf(tw, "  %s:\t%s\n", name, who)
		fmt.Fprintf(tw, "    issuer:\t%s\n", redact.URL(sess.Issuer))
		if !sess.LoggedIn.IsZero() {
			fmt.Fprintf(tw, "    signed in:\t%s\n", sess.LoggedIn.Local().Format(time.RFC3339))
		}
		fmt.Fprintf(tw, "    access token:\t%s\n", expiryText(sess.Expiry, now))
		switch {
		case sess.RefreshToken == "":
			fmt.Fprintf(tw, "    refresh token:\tnone (sign in again when the access token expires)\n")
		case sess.RefreshExpiry.IsZero():
			fmt.Fprintf(tw, "    refresh token:\tyes (the provider gave no expiry)\n")
		default:
			fmt.Fprintf(tw, "    refresh token:\t%s\n", expiryText(sess.RefreshExpiry, now))
		}
	}
	return tw.Flush()
}

func authTokenCommand() *command {
	return &command{
		name:     "auth token",
		args:     "[URL] [flags]",
		summary:  "Print a valid access token for URL (fetched, cached or renewed as needed)",
		examples: `  curl -H "Authorization: Bearer $(stacq auth token URL)" URL/collections`,
		setup: func(fs *pflag.FlagSet) func(context.Context, IO, []string) error {
			cf := addClientFlags(fs)
			return func(ctx context.Context, io IO, args []string) error {
				r, err := cf.resolveArgs(ctx, io, args)
				if err != nil {
					return err
				}
				if r.Method == auth.MethodNone || r.Method == auth.MethodAPIKey {
					return fmt.Errorf("%s: the %s method has no access token; see 'stacq auth status'", r.Provider, r.Method)
				}
				tok, err := r.Token(ctx)
				if err != nil {
					return err
				}
				_, err = fmt.Fprintln(io.Stdout, tok.AccessToken)
				return err
			}
		},
	}
}

func authLogoutCommand() *command {
	return &command{
		name:    "auth logout",
		args:    "[URL] [flags]",
		summary: "Forget the cached token for URL and delete (and revoke) the login session",
		examples: `  stacq auth logout URL --client-id my-client
  stacq auth logout --provider planet
  stacq auth logout --all              # every cached token and every login session`,
		setup: func(fs *pflag.FlagSet) func(context.Context, IO, []string) error {
			cf := addClientFlags(fs)
			var all bool
			var issuer string
			fs.BoolVar(&all, "all", false, "forget every cached token and sign out of every login session")
			fs.StringVar(&issuer, "issuer", "", "sign out of the session of a login to this OpenID issuer")
			return func(ctx context.Context, io IO, args []string) error {
				if all {
					if len(args) > 0 {
						return usagef("--all takes no URL")
					}
					return logoutAll(ctx, io, cf)
				}
				hc := cf.baseClient(io)
				var did bool
				io.ReadSecret = nil // forgetting tokens needs no secret
				r, rerr := cf.resolveArgs(ctx, io, args)
				var ue *usageError
				if errors.As(rerr, &ue) {
					return rerr
				}
				if rerr == nil && r.Method == auth.MethodClientCredentials {
					if err := r.Logout(); err != nil {
						return err
					}
					fmt.Fprintf(io.Stderr, "Forgot the cached token of client %s (%s).\n", r.ClientID, r.CacheFile)
					did = true
				}
				name := ""
				if issuer != "" {
					name = login.SessionName(issuer)
				} else if len(args) > 0 || cf.auth.provider != "" || rerr == nil {
					apiURL := ""
					if r != nil {
						apiURL = r.APIURL
					}
					name, _ = cf.auth.sessionName(io, apiURL)
				}
				if name != "" {
					ok, err := logoutSession(ctx, io, name, hc)
					if err != nil {
						return err
					}
					did = did || ok
				}
				if !did && len(args) == 0 && cf.auth.provider == "" && issuer == "" {
					// A bare `stacq auth logout` signs out of the one
					// session there is, as gh auth logout does.
					ok, err := logoutOnlySession(ctx, io, hc)
					if err != nil {
						return err
					}
					did = ok
				}
				if !did {
					if rerr != nil {
						return rerr
					}
					fmt.Fprintf(io.Stderr, "Nothing to forget: %s uses %s.\n", r.Provider, methodDescription(r.Method))
				}
				return nil
			}
		},
	}
}

// logoutSession deletes session name and revokes its token. ok is false
// when there was no such session.
func logoutSession(ctx context.Context, io IO, name string, hc *http.Client) (ok bool, err error) {
	store, err := sessionStore(io)
	if err != nil {
		return false, err
	}
	err = login.Logout(ctx, store, name, hc)
	var re *login.RevokeError
	switch {
	case errors.Is(err, login.ErrNotLoggedIn):
		return false, nil
	case errors.As(err, &re):
		fmt.Fprintf(io.Stderr, "stacq: warning: the provider did not confirm revoking the session's token: %v\n", re)
	case err != nil:
		return false, err
	}
	fmt.Fprintf(io.Stderr, "Signed out of %s.\n", name)
	return true, nil
}

// logoutOnlySession signs out of the only stored session. With several,
// it asks which one.
func logoutOnlySession(ctx context.Context, io IO, hc *http.Client) (ok bool, err error) {
	store, err := sessionStore(io)
	if err != nil {
		return false, nil
	}
	names, err := store.List()
	switch {
	case err != nil:
		return false, err
	case len(names) == 0:
		return false, nil
	case len(names) > 1:
		return false, usagef("signed in to %d sessions (%s): name one with --provider NAME, or use --all",
			len(names), strings.Join(names, ", "))
	}
	return logoutSession(ctx, io, names[0], hc)
}

// logoutAll removes the token cache directory's files and every session.
func logoutAll(ctx context.Context, io IO, cf *clientFlags) error {
	dir := io.getenv("STACQ_CACHE_DIR")
	if dir == "" {
		ucd, err := os.UserCacheDir()
		if err != nil {
			return fmt.Errorf("finding the token cache: %w", err)
		}
		dir = filepath.Join(ucd, "stacq")
	}
	tokens := filepath.Join(dir, "tokens")
	entries, err := os.ReadDir(tokens)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("reading the token cache: %w", err)
	}
	n := 0
	for _, e := range entries {
		// Token files, and their lock files and the fingerprint key, which
		// are not counted.
		if e.Type().IsRegular() {
			if err := os.Remove(filepath.Join(tokens, e.Name())); err != nil {
				return fmt.Errorf("forgetting a cached token: %w", err)
			}
			if strings.HasSuffix(e.Name(), ".json") {
				n++
			}
		}
	}
	fmt.Fprintf(io.Stderr, "Forgot %d cached token(s) in %s.\n", n, tokens)
	store, err := sessionStore(io)
	if err != nil {
		return nil
	}
	names, err := store.List()
	if err != nil {
		return err
	}
	hc := cf.baseClient(io)
	for _, name := range names {
		if _, err := logoutSession(ctx, io, name, hc); err != nil {
			return err
		}
	}
	return nil
}

func authLoginCommand() *command {
	return &command{
		name:    "auth login",
		args:    "[--provider NAME | --issuer URL --client-id ID] [--device | --browser] [flags]",
		summary: "Sign in as a user (OpenID Connect device code or browser flow) and keep the session for later commands",
		examples: `  stacq auth login --provider planet
  stacq auth login --issuer https://id.example.com/realms/x --client-id stacq-cli --device
  stacq search URL --provider id.example.com ...   # then use the session (named after the issuer host)`,
		setup: func(fs *pflag.FlagSet) func(context.Context, IO, []string) error {
			var (
				provider, issuer, clientID string
				scopes                     []string
				device, browser, verbose   bool
				timeout                    time.Duration
			)
			fs.StringVar(&provider, "provider", "", "provider with a user login ("+loginProviderNames()+")")
			fs.StringVar(&issuer, "issuer", "", "OpenID Connect issuer URL (overrides the provider's)")
			fs.StringVar(&clientID, "client-id", "", "public client id registered for command-line login (overrides the provider's)")
			fs.StringArrayVar(&scopes, "scope", nil, "scope to request (repeatable; default: the provider's, or openid profile email)")
			fs.BoolVar(&device, "device", false, "sign in with a code on any device (device authorization grant)")
			fs.BoolVar(&browser, "browser", false, "sign in in this machine's browser (authorization code with PKCE)")
			fs.DurationVar(&timeout, "timeout", 2*time.Minute, "timeout of each HTTP request")
			fs.BoolVarP(&verbose, "verbose", "v", false, "print each request's method, URL, status and time on stderr")
			return func(ctx context.Context, io IO, args []string) error {
				if len(args) != 0 {
					return usagef("expected no arguments, got %d", len(args))
				}
				if device && browser {
					return usagef("--device and --browser cannot be used together")
				}
				var cfg login.Config
				flow, name := login.FlowAuto, ""
				if provider != "" {
					p, ok := login.LookupProvider(provider)
					if !ok && issuer == "" {
						return usagef("--provider: no user login is known for %q (known: %s); give --issuer and --client-id", provider, loginProviderNames())
					}
					cfg, flow, name = p.Config(), p.Flow, login.SessionName(strings.ToLower(provider))
				}
				if issuer != "" {
					cfg.Issuer = issuer
					if name == "" {
						name = login.SessionName(issuer)
					}
				}
				if clientID != "" {
					cfg.ClientID = clientID
				}
				if len(scopes) > 0 {
					cfg.Scopes = scopes
				}
				switch {
				case cfg.Issuer == "":
					return usagef("give --provider NAME, or --issuer URL and --client-id ID")
				case cfg.ClientID == "":
					return usagef("--client-id: the login to %s needs a public client id", redact.URL(cfg.Issuer))
				case device:
					flow = login.FlowDevice
				case browser:
					flow = login.FlowBrowser
				}
				cf := &clientFlags{timeout: timeout, verbose: verbose}
				cfg.HTTPClient = cf.baseClient(io)
				cfg.Prompt = io.Stderr
				store, err := sessionStore(io)
				if err != nil {
					return err
				}
				sess, err := cfg.Login(ctx, flow)
				if err != nil {
					return err
				}
				if err := store.Save(name, sess); err != nil {
					return fmt.Errorf("saving the session: %w", err)
				}
				who := "signed in"
				if c, err := sess.Identity(); err == nil && c != nil {
					who = "signed in as " + c.Identity()
				}
				fmt.Fprintf(io.Stderr, "%s%s at %s; session %q saved (access token %s).\n",
					strings.ToUpper(who[:1]), who[1:], redact.URL(cfg.Issuer), name, expiryText(sess.Expiry, time.Now()))
				return nil
			}
		},
	}
}

func loginProviderNames() string {
	var names []string
	for _, p := range login.Providers() {
		names = append(names, p.Name)
	}
	return strings.Join(names, ", ")
}
