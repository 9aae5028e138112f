//go:build !unix

package cli_test

func canMakeCharDevice() bool { return false }
