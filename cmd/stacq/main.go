// Command stacq searches STAC APIs behind whatever authentication the data
// provider uses. See `stacq help`.
package main

import (
	"os"

	"github.com/stacq/stacq/cmd/stacq/internal/cli"
)

func main() {
	os.Exit(cli.Main())
}
