package geo

import "unicode/utf8"

// InputError reports user input that could not be parsed or failed
// validation. Its message says what was wrong or expected but not which
// flag or field the input came from: callers add that (a command line
// prints "--bbox: " + err.Error()).
type InputError struct {
	// Input is the offending input (or the offending part of it),
	// truncated so that a large geometry never floods a terminal or log.
	Input string
	// Reason says what is wrong or what was expected, e.g.
	// `latitude 95 out of range [-90, 90]`.
	Reason string
	// Err is the underlying cause, if any (a *json.SyntaxError, an
	// *fs.PathError, ...).
	Err error
}

// Error implements the error interface.
func (e *InputError) Error() string {
	if e.Err != nil {
		return e.Reason + ": " + e.Err.Error()
	}
	return e.Reason
}

// Unwrap returns the underlying error, for errors.Is and errors.As.
func (e *InputError) Unwrap() error { return e.Err }

// maxQuoted is how much of an input an error message quotes.
const maxQuoted = 60

// shorten truncates s to at most maxQuoted bytes on a rune boundary,
// marking the cut with "...".
func shorten(s string) string {
	if len(s) <= maxQuoted {
		return s
	}
	cut := maxQuoted - 3
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

func inputError(input, reason string, err error) *InputError {
	return &InputError{Input: shorten(input), Reason: reason, Err: err}
}
