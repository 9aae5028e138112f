package geo

import (
	"errors"
	"testing"
)

// requireInputError fails t unless err is an *InputError whose Input is
// cut to maxQuoted bytes: what every parser returns for bad input.
func requireInputError(t *testing.T, err error) {
	t.Helper()
	var ie *InputError
	if !errors.As(err, &ie) {
		t.Fatalf("error %T is not *InputError: %v", err, err)
	}
	if len(ie.Input) > maxQuoted {
		t.Fatalf("Input not truncated: %d bytes", len(ie.Input))
	}
}
