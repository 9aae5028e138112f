package cli

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/stacq/stacq/stac"
)

// positional applies the default API URL (a provider's, from its
// credentials) and checks the positional arguments against names ("URL",
// "COLLECTION"; a name ending in "?" is optional). Extra arguments get a
// message naming them, with a hint when they look like the values of a
// flag given pystac-client's way (--bbox 1 2 3 4).
func (cf *clientFlags) positional(io IO, args []string, names ...string) ([]string, error) {
	required := 0
	for _, n := range names {
		if !strings.HasSuffix(n, "?") {
			required++
		}
	}
	args = cf.withDefaultURL(io, args, required-1)
	if len(args) >= required && len(args) <= len(names) {
		return args, nil
	}
	want := strings.ReplaceAll(strings.Join(names, " "), "?", " (optional)")
	if len(names) == 1 {
		want = "one " + want
	}
	if len(args) < required {
		return nil, usagef("expected %s, got %s", want, plural(len(args), "argument"))
	}
	extra := args[len(names):]
	msg := fmt.Sprintf("expected %s, got %s: %s", want, plural(len(args), "argument"), strings.Join(quoteAll(args), " "))
	switch {
	case allNumbers(extra):
		nums := extra
		if len(nums) < 4 {
			nums = append([]string{"…"}, nums...)
		}
		msg += fmt.Sprintf("; did you mean --bbox %s? (a flag's several values are separated by commas)", strings.Join(nums, ","))
	default:
		msg += fmt.Sprintf("; did you mean %s? (a flag's several values are separated by commas, e.g. -c %s)", strings.Join(extra, ","), strings.Join(extra, ","))
	}
	return nil, usagef("%s", msg)
}

func allNumbers(args []string) bool {
	for _, a := range args {
		if _, err := strconv.ParseFloat(a, 64); err != nil {
			return false
		}
	}
	return len(args) > 0
}

func quoteAll(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if strings.ContainsAny(a, " \t'\"") {
			a = strconv.Quote(a)
		}
		out[i] = a
	}
	return out
}

// strictFlag is --strict, shared by the commands that send parameters an
// API may not advertise.
func addStrictFlag(fs *pflag.FlagSet, strict *bool) {
	fs.BoolVar(strict, "strict", false, "fail (exit status 2) instead of warning when a parameter needs a conformance class the API does not advertise")
}

// checkAdvertised warns about, or with strict refuses, parameters the API
// does not advertise.
func checkAdvertised(io IO, name string, unadvertised []stac.Unadvertised, strict bool) error {
	for _, u := range unadvertised {
		if strict {
			return usagef("--%s: the API does not advertise the %s conformance class, so the server may ignore it (--strict)", u.Param, u.Class)
		}
		fmt.Fprintf(io.Stderr, "stacq %s: warning: --%s: the API does not advertise the %s conformance class; the server may ignore it and answer as if it had not been given (--strict makes this an error)\n", name, u.Param, u.Class)
	}
	return nil
}
