// Command stacq searches STAC APIs behind whatever authentication the data
// provider uses. See `stacq help`.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/stacq/stacq/cmd/stacq/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args[1:], cli.Std())
	stop()
	os.Exit(code)
}
