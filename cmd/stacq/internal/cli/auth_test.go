package cli_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stacq/stacq/cmd/stacq/internal/cli"
	"github.com/stacq/stacq/internal/testing/stactest"
)

// run runs stacq in-process with env as its whole environment.
func run(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errw bytes.Buffer
	io := cli.IO{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errw,
		Getenv: func(k string) string { return env[k] }, Dir: env["PWD"]}
	code = cli.Run(context.Background(), args, io)
	return code, out.String(), errw.String()
}

// checkRun checks a run's exit status and output against what a test
// wants: the status wantCode, stdout empty if wantStdout is "" and
// holding it if not, and stderr holding each of wantStderr.
func checkRun(t *testing.T, code int, stdout, stderr string, wantCode int, wantStdout string, wantStderr []string) {
	t.Helper()
	if code != wantCode {
		t.Errorf("exit status %d, want %d; stderr:\n%s", code, wantCode, stderr)
	}
	if wantStdout == "" && stdout != "" || !strings.Contains(stdout, wantStdout) {
		t.Errorf("stdout %q, want %q", stdout, wantStdout)
	}
	for _, want := range wantStderr {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
}

// TestAuthExitStatus checks the exit status and the messages of credential
// problems, and that no secret shows in any output.
func TestAuthExitStatus(t *testing.T) {
	const secret = "exit-test-secret"
	srv := stactest.New(stactest.Options{Items: 20, Auth: &stactest.Auth{ClientID: "exit-test", ClientSecret: secret, Style: "body"}})
	defer srv.Close()
	dir := t.TempDir()
	env := map[string]string{"STACQ_CACHE_DIR": dir, "STACQ_CONFIG_DIR": dir, "PWD": dir, "STACQ_CLIENT_ID": "exit-test"}
	if err := os.WriteFile(filepath.Join(dir, "secret"), []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "wrong"), []byte("wrong-"+secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name     string
		args     []string
		env      map[string]string
		code     int
		stdout   string // substring; "" means stdout must be empty
		stderr   []string
		requests int64 // token requests made by this run
	}{
		{name: "wrong secret", code: 1, requests: 1,
			args:   []string{"search", srv.RootURL(), "--token-url", srv.TokenURL(), "--auth-style", "body", "--client-secret-file", "wrong", "--matched"},
			stderr: []string{"stacq search: ", "generic: token request to " + srv.TokenURL() + " failed: invalid_client", "check the client id and client secret"}},
		{name: "wrong secret as a flag", code: 1, requests: 1,
			args:   []string{"search", srv.RootURL(), "--token-url", srv.TokenURL(), "--auth-style", "body", "--client-secret", "wrong-" + secret, "--matched"},
			stderr: []string{"warning: the client secret was given on the command line", "invalid_client"}},
		{name: "bad auth style", code: 1,
			args:   []string{"search", srv.RootURL(), "--token-url", srv.TokenURL(), "--auth-style", "nope", "--client-secret-file", "secret", "--matched"},
			stderr: []string{`auth style "nope" (from setting): want basic, body or auto`}},
		{name: "extra auth argument", code: 2,
			args:   []string{"auth", "status", srv.RootURL(), "extra"},
			stderr: []string{"expected at most one URL, got 2 arguments", "Run 'stacq auth --help'"}},
		{name: "no URL and no provider default", code: 2,
			args:   []string{"search", "-c", "x"},
			stderr: []string{"expected one URL, got 0 arguments"}},
		{name: "good secret", code: 0, requests: 1, stdout: "20\n",
			args: []string{"search", srv.RootURL(), "--token-url", srv.TokenURL(), "--auth-style", "body", "--client-secret-file", "secret", "--matched"}},
		{name: "status after", code: 0, stdout: "cached token:",
			args: []string{"auth", "status", srv.RootURL(), "--token-url", srv.TokenURL(), "--client-secret-file", "secret"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := srv.TokenRequests.Load()
			code, stdout, stderr := run(t, env, tt.args...)
			checkRun(t, code, stdout, stderr, tt.code, tt.stdout, tt.stderr)
			if strings.Contains(stdout+stderr, secret) {
				t.Errorf("a secret is in the output:\n%s\n%s", stdout, stderr)
			}
			if got := srv.TokenRequests.Load() - before; got != tt.requests {
				t.Errorf("%d token requests, want %d", got, tt.requests)
			}
		})
	}
}

// A client id with no secret anywhere: on a terminal stacq asks for the
// secret (without echo) and uses it; the answer never shows. Without a
// terminal, the error says what is missing and how to provide it.
func TestClientSecretPrompt(t *testing.T) {
	const secret = "prompted-secret"
	srv := stactest.New(stactest.Options{Items: 20, Auth: &stactest.Auth{ClientID: "prompt-test", ClientSecret: secret, Style: "body"}})
	defer srv.Close()
	dir := t.TempDir()
	env := map[string]string{"STACQ_CACHE_DIR": dir, "STACQ_CONFIG_DIR": dir, "STACQ_CLIENT_ID": "prompt-test", "STACQ_TOKEN_URL": srv.TokenURL(), "STACQ_AUTH_STYLE": "body"}
	args := []string{"search", srv.RootURL(), "--matched", "--no-token-cache"}

	var prompts []string
	var out, errw bytes.Buffer
	io := cli.IO{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errw, Getenv: func(k string) string { return env[k] }, Dir: dir,
		ReadSecret: func(ctx context.Context, prompt string) (string, error) {
			prompts = append(prompts, prompt)
			return secret, nil
		}}
	if code := cli.Run(context.Background(), args, io); code != 0 {
		t.Fatalf("exit status %d; stderr:\n%s", code, errw.String())
	}
	if want := []string{`stacq: client secret of "prompt-test" (generic): `}; !slices.Equal(prompts, want) {
		t.Errorf("prompts %q, want %q", prompts, want)
	}
	if out.String() != "20\n" || strings.Contains(out.String()+errw.String(), secret) {
		t.Errorf("stdout %q, stderr %q", out.String(), errw.String())
	}

	// Not a terminal: no prompt, a clear error.
	code, stdout, stderr := run(t, env, args...)
	if code != 1 || stdout != "" || !strings.Contains(stderr, "no client secret") {
		t.Errorf("without a terminal: exit status %d, stdout %q, stderr:\n%s", code, stdout, stderr)
	}
}
