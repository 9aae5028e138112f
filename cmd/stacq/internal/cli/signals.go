package cli

import (
	"context"
	"errors"
	"os"
	"os/signal"
	"syscall"
)

// Main runs stacq as the process it is: its arguments and streams, and
// the signals that end it. SIGINT (Ctrl-C), SIGTERM and SIGHUP (the
// terminal closed) stop the command as an interrupt does: output cleaned
// up, the resume link printed, exit status 128 plus the signal's number.
// A second signal ends the process at once. SIGPIPE does not kill it: a
// closed stderr only loses the messages, a closed stdout ends the command
// quietly with status 141, as the signal would.
func Main() int {
	// Caught, not ignored: ignored signals stay ignored in child
	// processes (a browser for auth login).
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
	ctx, stop := signalContext(os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	return Run(ctx, os.Args[1:], Std())
}

// signalContext is signal.NotifyContext with the signal kept as the
// context's cause (an *interrupt), and the signals' default action
// restored once one arrived.
func signalContext(sigs ...os.Signal) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(context.Background())
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, sigs...)
	go func() {
		select {
		case s := <-ch:
			signal.Stop(ch)
			cancel(&interrupt{s})
		case <-ctx.Done():
		}
	}()
	return ctx, func() {
		signal.Stop(ch)
		cancel(context.Canceled)
	}
}

// interrupt is the cause of a context ended by a signal.
type interrupt struct{ sig os.Signal }

func (e *interrupt) Error() string { return e.sig.String() }

func (e *interrupt) Is(target error) bool { return target == context.Canceled }

// interruptStatus is the exit status of a command ended by ctx: 128 plus
// the number of the signal that ended it, 130 (SIGINT's) when none did.
func interruptStatus(ctx context.Context) (int, string) {
	var in *interrupt
	if errors.As(context.Cause(ctx), &in) {
		if s, ok := in.sig.(syscall.Signal); ok {
			return 128 + int(s), in.sig.String()
		}
	}
	return exitInterrupted, "interrupt"
}
