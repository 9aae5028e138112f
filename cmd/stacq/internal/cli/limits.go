package cli

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/stacq/stacq/stac"
)

// byteSize is a flag value in bytes, written with an optional unit:
// 1048576, 512KiB, 256MiB, 1GiB, or the decimal kB, MB, GB.
type byteSize int64

var byteUnits = []struct {
	name string
	size int64
}{
	{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10},
	{"GB", 1e9}, {"MB", 1e6}, {"kB", 1e3}, {"KB", 1e3}, {"B", 1},
}

func parseByteSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range byteUnits {
		if len(t) > len(u.name) && strings.EqualFold(t[len(t)-len(u.name):], u.name) {
			t, mult = strings.TrimSpace(t[:len(t)-len(u.name)]), u.size
			break
		}
	}
	n, err := strconv.ParseFloat(t, 64)
	if bytes := n * float64(mult); err != nil || !(bytes >= 1 && bytes < 1<<62) { // NaN fails too
		return 0, fmt.Errorf("expected a size in bytes like 256MiB, 1GiB or 500MB, got %q", s)
	}
	return int64(n * float64(mult)), nil
}

func (b *byteSize) Set(s string) error {
	n, err := parseByteSize(s)
	if err != nil {
		return err
	}
	*b = byteSize(n)
	return nil
}

func (b *byteSize) String() string {
	n := int64(*b)
	for _, u := range byteUnits[:3] {
		if n >= u.size && n%u.size == 0 {
			return strconv.FormatInt(n/u.size, 10) + u.name
		}
	}
	return strconv.FormatInt(n, 10)
}

func (b *byteSize) Type() string { return "size" }

// limitFlags bound what a command buffers of a server's answers.
type limitFlags struct {
	maxPage byteSize
	fs      *pflag.FlagSet
}

func addLimitFlags(fs *pflag.FlagSet) *limitFlags {
	lf := &limitFlags{maxPage: stac.DefaultMaxPageSize, fs: fs}
	fs.Var(&lf.maxPage, "max-page-size", "refuse a response (a page, an item, a collection; for crawl a static catalog document too, 64MiB by default) larger than this once decompressed, instead of holding it in memory")
	return lf
}

// stacOptions are the stac client options of the flags.
func (lf *limitFlags) stacOptions() []stac.Option {
	return []stac.Option{stac.WithMaxPageSize(int64(lf.maxPage))}
}

// maxDocumentSize is the cap of one static catalog document for crawl:
// its own default unless --max-page-size is given.
func (lf *limitFlags) maxDocumentSize() int64 {
	if lf.fs != nil && lf.fs.Changed("max-page-size") {
		return int64(lf.maxPage)
	}
	return 0
}

// tooLargeHint says how to raise the cap a *stac.TooLargeError hit, or "".
func tooLargeHint(err error) string {
	var te *stac.TooLargeError
	if !errors.As(err, &te) {
		return ""
	}
	if te.What == "landing page" {
		return " (the landing page's cap is fixed: is this a STAC API?)"
	}
	return fmt.Sprintf(" (--max-page-size raises the cap, now %s)", (*byteSize)(&te.Limit))
}
