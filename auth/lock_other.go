//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package auth

import (
	"context"
	"errors"
	"io/fs"
)

// lockFile is not available here: concurrent processes may each ask the
// endpoint once.
func lockFile(ctx context.Context, path string) (func(), error) {
	return nil, errors.New("file locks are not supported on this system")
}

// checkOwned cannot tell owners apart here.
func checkOwned(fi fs.FileInfo, dir bool) error {
	if dir && !fi.IsDir() {
		return errors.New("not a directory")
	}
	return nil
}
