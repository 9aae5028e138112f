// Package cli implements the stacq command line: one file per command, each
// a thin layer over the stac, geo and auth packages.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"sort"
	"strings"
	"syscall"

	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/stacq/stacq/internal/redact"
)

// Exit statuses.
const (
	exitOK          = 0
	exitError       = 1
	exitUsage       = 2
	exitInterrupted = 130 // 128 + SIGINT; other signals give 128 + their number
	exitBrokenPipe  = 141 // 128 + SIGPIPE
)

// IO is the process environment a command runs in. Tests pass in-memory
// streams and their own environment.
type IO struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// Getenv looks up environment variables; nil means os.Getenv.
	Getenv func(string) string
	// StderrIsTerminal turns on the progress line.
	StderrIsTerminal bool
	// Dir is the working directory for relative files (.env); "" is the process's.
	Dir string
	// temps are the temporary outputs of the running command, removed
	// when Run returns; set by Run.
	temps *tempFiles
	// ReadSecret, when set, asks the user for a secret that is configured
	// nowhere (a client secret), showing prompt and reading without echo.
	// Std sets it when stdin is a terminal; nil means never ask.
	ReadSecret func(ctx context.Context, prompt string) (string, error)

	secrets *redact.Secrets // credentials masked on Stderr (see withSecrets)
}

// Std returns the IO of the running process.
func Std() IO {
	return IO{
		Stdin:            os.Stdin,
		Stdout:           os.Stdout,
		Stderr:           os.Stderr,
		Getenv:           os.Getenv,
		StderrIsTerminal: term.IsTerminal(int(os.Stderr.Fd())),
		ReadSecret:       terminalSecret(int(os.Stdin.Fd()), os.Stderr),
	}
}

// terminalSecret returns a ReadSecret that reads from the terminal fd
// without echo, or nil when fd is not a terminal. A cancel (Ctrl-C) while
// it waits puts the terminal back as it was and returns at once.
func terminalSecret(fd int, prompt io.Writer) func(context.Context, string) (string, error) {
	if !term.IsTerminal(fd) {
		return nil
	}
	return func(ctx context.Context, p string) (string, error) {
		state, err := term.GetState(fd)
		if err != nil {
			return "", err
		}
		fmt.Fprint(prompt, p)
		type answer struct {
			b   []byte
			err error
		}
		ch := make(chan answer, 1)
		go func() {
			b, err := term.ReadPassword(fd)
			ch <- answer{b, err}
		}()
		select {
		case a := <-ch:
			fmt.Fprintln(prompt)
			return string(a.b), a.err
		case <-ctx.Done():
			term.Restore(fd, state) // echo back on: ReadPassword is left blocked
			fmt.Fprintln(prompt)
			return "", ctx.Err()
		}
	}
}

func (o IO) getenv(key string) string {
	if o.Getenv == nil {
		return os.Getenv(key)
	}
	return o.Getenv(key)
}

// command is one stacq subcommand.
type command struct {
	name     string
	args     string // usage after the name, e.g. "URL [flags]"
	summary  string
	examples string
	// flags registers the command's flags; run executes it with the
	// positional arguments.
	setup func(fs *pflag.FlagSet) func(ctx context.Context, io IO, args []string) error
}

func commands() []*command {
	cmds := []*command{
		searchCommand(),
		collectionsCommand(),
		collectionCommand(),
		itemsCommand(),
		itemCommand(),
		queryablesCommand(),
		conformanceCommand(),
		crawlCommand(),
		convertCommand(),
		downloadCommand(),
		authCommand(),
	}
	sort.Slice(cmds, func(i, j int) bool { return cmds[i].name < cmds[j].name })
	return cmds
}

func findCommand(name string) *command {
	for _, c := range commands() {
		if c.name == name {
			return c
		}
	}
	return nil
}

// usageError is bad input: exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{fmt.Sprintf(format, args...)}
}

// flagError names the flag a bad value was given to.
func flagError(flag string, err error) error {
	return &usageError{fmt.Sprintf("--%s: %v", flag, err)}
}

// Run runs stacq with the given arguments (without the program name) and
// returns the process exit status.
func Run(ctx context.Context, args []string, io IO) (code int) {
	// Servers' messages reach stderr (errors, traces): no terminal control
	// from them gets through, and no credential stacq sent (the secrets
	// are scrubbed first, from the text as it was written).
	io.Stderr = newStderr(io.Stderr)
	io = io.withSecrets()
	io.temps = &tempFiles{}
	defer io.temps.removeAll()
	defer func() {
		// A bug must not print a stack trace with request data in it.
		if r := recover(); r != nil {
			fmt.Fprintf(io.Stderr, "stacq: internal error: %v\n", r)
			code = exitError
		}
	}()
	if len(args) == 0 {
		printHelp(io.Stderr)
		return exitUsage
	}
	switch args[0] {
	case "-h", "--help", "help":
		if len(args) > 1 && args[0] == "help" {
			cmd := findCommand(args[1])
			if cmd == nil {
				fmt.Fprintf(io.Stderr, "stacq: unknown command %q; see 'stacq help'\n", args[1])
				return exitUsage
			}
			fs := newFlagSet(cmd)
			cmd.setup(fs)
			printCommandHelp(io.Stdout, cmd, fs)
			return exitOK
		}
		printHelp(io.Stdout)
		return exitOK
	case "--version", "version":
		bi, _ := debug.ReadBuildInfo()
		fmt.Fprintf(io.Stdout, "stacq %s\n", versionLine(bi))
		return exitOK
	}
	cmd := findCommand(args[0])
	if cmd == nil {
		fmt.Fprintf(io.Stderr, "stacq: unknown command %q; see 'stacq help'\n", args[0])
		return exitUsage
	}
	fs := newFlagSet(cmd)
	run := cmd.setup(fs)
	help := fs.BoolP("help", "h", false, "show this help")
	if err := fs.Parse(args[1:]); err != nil {
		fmt.Fprintf(io.Stderr, "stacq %s: %v\nRun 'stacq %s --help' for usage.\n", cmd.name, err, cmd.name)
		return exitUsage
	}
	if *help {
		printCommandHelp(io.Stdout, cmd, fs)
		return exitOK
	}
	err := run(ctx, io, fs.Args())
	return report(io.Stderr, cmd.name, ctx, err)
}

// report prints err and maps it to an exit status.
func report(stderr io.Writer, name string, ctx context.Context, err error) int {
	var ue *usageError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "stacq %s: %v\nRun 'stacq %s --help' for usage.\n", name, err, name)
		return exitUsage
	case ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, ctx.Err())):
		code, sig := interruptStatus(ctx)
		fmt.Fprintf(stderr, "stacq %s: interrupted (%s)\n", name, sig)
		return code
	case errors.Is(err, syscall.EPIPE):
		// The reader of stdout (or of a FIFO) went away, as with
		// `stacq search ... | head`: quiet, as the signal would be.
		return exitBrokenPipe
	default:
		fmt.Fprintf(stderr, "stacq %s: %v%s\n", name, err, tooLargeHint(err))
		return exitError
	}
}

func newFlagSet(cmd *command) *pflag.FlagSet {
	fs := pflag.NewFlagSet("stacq "+cmd.name, pflag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are printed by Run
	fs.SortFlags = false
	return fs
}

func printHelp(w io.Writer) {
	fmt.Fprint(w, `stacq searches STAC APIs (SpatioTemporal Asset Catalogs) behind whatever
authentication the data provider uses.

Usage:
  stacq <command> [arguments] [flags]

Commands:
`)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-12s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, `
Run 'stacq help <command>' or 'stacq <command> --help' for a command's flags
and examples. 'stacq --version' prints the version.

Exit status: 0 success, 1 runtime or API error, 2 usage error; interrupted by
a signal, 128 + its number: 130 Ctrl-C (SIGINT), 129 terminal closed (SIGHUP),
143 SIGTERM; 141 when the reader of the output went away (broken pipe).
`)
}

func printCommandHelp(w io.Writer, cmd *command, fs *pflag.FlagSet) {
	fmt.Fprintf(w, "%s\n\nUsage:\n  stacq %s %s\n\nFlags:\n%s", cmd.summary, cmd.name, cmd.args, fs.FlagUsages())
	if cmd.examples != "" {
		fmt.Fprintf(w, "\nExamples:\n%s\n", strings.TrimRight(cmd.examples, "\n"))
	}
}

// Version is the module version stacq was built from, "devel" for a
// build without one (go run, -buildvcs=false). It goes into the
// User-Agent; --version says more (versionLine).
func Version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}

// versionLine is what --version prints: the version, then the commit it
// was built from when the build recorded it (vcs.revision, vcs.time,
// vcs.modified), so that a build from a checkout says which.
func versionLine(bi *debug.BuildInfo) string {
	v := "devel"
	if bi == nil {
		return v
	}
	if bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		v = bi.Main.Version
	}
	var rev, at string
	modified := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if rev == "" {
		return v
	}
	details := []string{"commit " + rev[:min(len(rev), 12)]}
	if at != "" {
		details = append(details, at)
	}
	if modified {
		details = append(details, "with local changes")
	}
	return v + " (" + strings.Join(details, ", ") + ")"
}
