//go:build unix

package cli_test

import (
	"os"
	"path/filepath"
	"syscall"
)

// canMakeCharDevice reports whether a character device (a copy of
// /dev/null, same device number) can be made and written here: root with CAP_MKNOD, on a
// filesystem mounted without nodev.
func canMakeCharDevice() bool {
	dir, err := os.MkdirTemp("", "stacq-chardev")
	if err != nil {
		return false
	}
	defer os.RemoveAll(dir)
	st, err := os.Stat("/dev/null")
	if err != nil {
		return false
	}
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return false
	}
	null := filepath.Join(dir, "null")
	if syscall.Mknod(null, syscall.S_IFCHR|0o666, int(sys.Rdev)) != nil {
		return false
	}
	f, err := os.OpenFile(null, os.O_WRONLY, 0)
	if err != nil {
		return false
	}
	f.Close()
	return true
}
